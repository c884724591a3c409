# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2. Indicateurs par commune
#
# Joint les comptes à la population légale de l'édition, attribue la classe de population, déclare manquantes (et non nulles) les valeurs des lacunes structurelles (droit local d'Alsace-Moselle), ajuste un modèle de comptage par indicateur (binomiale négative sur les comptes corrigés de l'effet de grappe — missions, campagnes, associations —, avec la taille de la commune et un effet département) puis applique les règles d'éligibilité fixées avant tout classement (population, sources d'information distinctes, fiabilité du score). Produit les tables d'entrée du moteur composite en taux bruts et lissés ; l'édition choisit lesquels sont classés. Les définitions viennent des métadonnées (`config/indicators.yml`).

# %% tags=["parameters"]
# Parameters (injected by papermill: the step of src/barometre/edition.py declares the same
# names). Relative paths are from the project root; the defaults read the build of `make report`.
build_dir = "build/2024"
edition_config = "config/editions/2024.yml"
departments = None
demo = True

# %%
from barometre import geography
from barometre.config import load_edition, load_indicator_meta, project_path
from barometre.indicators import indicator_tables, rates_per_1000
from barometre.tables import read_table, save_table

build = project_path(build_dir)
tables, work = build / "tables", build / "work"  # work/: confidential exact values
config = load_edition(project_path(edition_config))
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
result.eligibility

# %% [markdown]
# ## Lacunes structurelles

# %%
result.gaps

# %% [markdown]
# ## Modèle de comptage : paramètres par indicateur

# %%
result.model_params

# %% [markdown]
# ## Effet du lissage : poids de la moyenne a priori par indicateur

# %%
result.shrinkage.groupby('indicator')['shrinkage_weight'].describe()

# %% [markdown]
# ## Distribution des indicateurs classés (pour 1 000 habitants)

# %%
rates.drop(columns=['code_commune']).describe().T
