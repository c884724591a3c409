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
from barometre import catalogue, geography
from barometre.config import load_edition, load_indicator_meta, project_path
from barometre.indicators import indicator_tables, rates_per_1000

build = project_path(build_dir)  # paths by key: config/artefacts.yml (work.*: confidential)
config = load_edition(project_path(edition_config))
meta = load_indicator_meta(config)
communes = geography.load_communes(config.cog_year, departments=departments)
counts = catalogue.read(build, "work.commune_counts")
result = indicator_tables(counts, communes, meta, config)
catalogue.save(result.raw, build, "work.indicators_input_raw")
catalogue.save(result.shrunk, build, "work.indicators_input_shrunk")
catalogue.save(result.chosen(config.rates), build, "work.indicators_input")
catalogue.save(result.shrinkage, build, "work.shrinkage")
catalogue.save(result.model_input, build, "work.count_model_input")
catalogue.save(result.communes, build, "work.eligibility_communes")
catalogue.save(result.model_params, build, "tables.count_model", sort=False)
catalogue.save(result.eligibility, build, "tables.eligibility", sort=False)
catalogue.save(result.gaps, build, "tables.structural_gaps")
rates = rates_per_1000(result.chosen(config.rates), meta)
catalogue.save(rates, build, "work.indicators")
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
