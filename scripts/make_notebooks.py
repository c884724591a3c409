#!/usr/bin/env python3
"""Regenerates the thin pipeline notebooks (notebooks/*.ipynb) from this one source, without outputs.

Run from the project root: `python scripts/make_notebooks.py`. The notebooks are committed; this
script keeps their cells reviewable as Python text."""
import nbformat as nbf
from pathlib import Path

def nb(cells):
    n = nbf.v4.new_notebook()
    n.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                  "language_info": {"name": "python"}}
    out = []
    for kind, src, *tags in cells:
        c = nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src)
        if tags:
            c.metadata["tags"] = tags[0]
        out.append(c)
    n.cells = out
    for i, c in enumerate(n.cells):
        c["id"] = f"cell-{i:02d}"
    return n

PARAMS = '''# Parameters (injected by papermill; see src/barometre/edition.py for the declared step)
build_dir = "build/2024"
edition_config = "config/editions/2024.yml"
departments = None
demo = True'''

nbs = {}
nbs["01_sources.ipynb"] = nb([
 ("md", "# 1. Sources → table communale harmonisée\n\nLit les extractions brutes des trois sources (RNA, HelloAsso, JeVeuxAider), les rattache aux communes du COG de l'édition et compte, par commune, les créations, inscriptions, campagnes, participations et mises en relation de l'année. Les mises en relation JeVeuxAider sont comptées selon la définition de l'édition (`definitions.jva_matches` : stock cumulé depuis le lancement, ou mises en relation créées dans l'année). Le rapport de rattachement réconcilie les lignes lues, rattachées et écartées."),
 ("code", PARAMS + '\nraw_dir = "raw"', ["parameters"]),
 ("code", '''from pathlib import Path

from barometre import geography
from barometre.config import load_edition
from barometre.sources.counts import COUNT_COLUMNS, commune_counts
from barometre.tables import save_table

build = Path(build_dir)
config = load_edition(Path(edition_config))
raw = Path(raw_dir) if Path(raw_dir).is_absolute() else build / raw_dir
communes = geography.load_communes(config.cog_year, departments=departments)
links = geography.load_commune_links(config.cog_year)
quarantine = build / "work" / "quarantine"  # rejected records, with their reason (confidential)
quarantine.mkdir(parents=True, exist_ok=True)
counts, match_report = commune_counts(
    raw, communes, config.data_year, config.counted_states or None,
    jva_cumulative=config.definitions.jva_cumulative,  # definitions.jva_matches: stock or flow
    code_links=dict(zip(links["code"], links["code_commune_parent"])),
    cog_year=config.cog_year, quarantine_dir=quarantine,
)
# exact counts and their cluster statistics: confidential
save_table(counts, build / "work" / "commune_counts.csv", key=["code_commune"])
save_table(match_report, build / "tables" / "match_report.csv", key=["source"], sort=False)
print(f"{len(communes)} communes (COG {config.cog_year}), {len(counts)} with counts")'''),
 ("md", "## Rattachement des enregistrements aux communes"),
 ("code", "match_report"),
 ("md", "## Totaux par source"),
 ("code", "counts[list(COUNT_COLUMNS)].sum().to_frame('total')  # cluster statistics stay in work/"),
])

nbs["02_indicators.ipynb"] = nb([
 ("md", "# 2. Indicateurs par commune\n\nJoint les comptes à la population légale de l'édition, attribue la classe de population, déclare manquantes (et non nulles) les valeurs des lacunes structurelles (droit local d'Alsace-Moselle), ajuste un modèle de comptage par indicateur (binomiale négative sur les comptes corrigés de l'effet de grappe — missions, campagnes, associations —, avec la taille de la commune et un effet département) puis applique les règles d'éligibilité fixées avant tout classement (population, sources d'information distinctes, fiabilité du score). Produit les tables d'entrée du moteur composite en taux bruts et lissés ; l'édition choisit lesquels sont classés. Les définitions viennent des métadonnées (`config/indicators.yml`)."),
 ("code", PARAMS, ["parameters"]),
 ("code", '''from pathlib import Path

from barometre import geography
from barometre.config import load_edition, load_indicator_meta
from barometre.indicators import indicator_tables, rates_per_1000
from barometre.tables import read_table, save_table

build = Path(build_dir)
tables, work = build / "tables", build / "work"  # work/: confidential exact values
config = load_edition(Path(edition_config))
meta = load_indicator_meta(config)
communes = geography.load_communes(config.cog_year, departments=departments)
counts = read_table(work / "commune_counts.csv")
result = indicator_tables(counts, communes, meta, config)
save_table(result.raw, work / "indicators_input_raw.csv", key=["code_commune"])
save_table(result.shrunk, work / "indicators_input_shrunk.csv", key=["code_commune"])
save_table(result.chosen(config.rates), work / "indicators_input.csv", key=["code_commune"])
save_table(result.shrinkage, work / "shrinkage.csv", key=["code_commune", "indicator"])
save_table(result.model_input, work / "count_model_input.csv", key=["code_commune"])
save_table(result.communes, work / "eligibility_communes.csv", key=["code_commune"])
save_table(result.model_params, tables / "count_model.csv", key=["indicator", "term"], sort=False)
save_table(result.eligibility, tables / "eligibility.csv", key=["population_class"], sort=False)
save_table(result.gaps, tables / "structural_gaps.csv")
rates = rates_per_1000(result.chosen(config.rates), meta)
save_table(rates, work / "indicators.csv", key=["code_commune"])
print(f"rates ranked: {config.rates}")
result.eligibility'''),
 ("md", "## Lacunes structurelles"),
 ("code", "result.gaps"),
 ("md", "## Modèle de comptage : paramètres par indicateur"),
 ("code", "result.model_params"),
 ("md", "## Effet du lissage : poids de la moyenne a priori par indicateur"),
 ("code", "result.shrinkage.groupby('indicator')['shrinkage_weight'].describe()"),
 ("md", "## Distribution des indicateurs classés (pour 1 000 habitants)"),
 ("code", "rates.drop(columns=['code_commune']).describe().T"),
])

nbs["03_composite.ipynb"] = nb([
 ("md", "# 3. Score composite, rangs et palmarès\n\nApplique la spécification de l'indice (`config/index/barometre.yml`) avec le moteur composite : dénominateur, traitement des valeurs extrêmes, normalisation, agrégation pondérée, rangs nationaux et par classe de population. Chaque étape intermédiaire est écrite pour l'audit, ainsi que les tableaux de cohérence et le palmarès."),
 ("code", PARAMS, ["parameters"]),
 ("code", '''from pathlib import Path

from barometre.config import load_edition, load_indicator_meta
from barometre.results import run_composite

build = Path(build_dir)
config = load_edition(Path(edition_config))
meta = load_indicator_meta(config)
outcome = run_composite(build, config, meta)
outcome.palmares[["population_class", "rank_in_class", "nom", "code_departement", "population", "score", "sentence"]]'''),
 ("md", "## Traitement des valeurs extrêmes"),
 ("code", "outcome.build.treatment_details[['indicator', 'skew_before', 'kurt_before', 'applied', 'n_winsorised', 'skew_final']]"),
 ("md", "## Cohérence : corrélations avec le critère et le score"),
 ("code", "outcome.audit['audit_correlations_pearson']"),
])

nbs["04_publication.ipynb"] = nb([
 ("md", "# 4. Variables, tableaux et figures des publications\n\nÉcrit tout ce que les pages du baromètre et de l'annexe méthodologique lisent : `report/_variables.yml` (chiffres du texte, mis en forme à la française), les tableaux en Markdown et les figures. Les pages ne calculent rien."),
 ("code", PARAMS, ["parameters"]),
 ("code", '''from pathlib import Path

from barometre.config import load_edition, load_indicator_meta
from barometre.publish.artefacts import write_report_artefacts

build = Path(build_dir)
config = load_edition(Path(edition_config))
meta = load_indicator_meta(config)
written = write_report_artefacts(build, config, meta, demo=demo)
sorted(str(p.relative_to(build)) for p in written)'''),
])

for name, n in nbs.items():
    nbf.write(n, Path("notebooks") / name)
print("ok")
