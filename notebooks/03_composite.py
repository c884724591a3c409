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
# # 3. Score composite, rangs et palmarès
#
# Applique la spécification de l'indice (`config/index/barometre.yml`) avec le moteur composite : dénominateur, traitement des valeurs extrêmes, normalisation, agrégation pondérée, rangs nationaux et par classe de population. Chaque étape intermédiaire est écrite pour l'audit, ainsi que les tableaux de cohérence et le palmarès.

# %% tags=["parameters"]
# Parameters (injected by papermill: the step of src/barometre/edition.py declares the same
# names). Relative paths are from the project root; the defaults read the build of `make report`.
build_dir = "build/2024"
edition_config = "config/editions/2024.yml"
departments = None
demo = True

# %%
from barometre.config import load_edition, load_indicator_meta, project_path
from barometre.results import run_composite

build = project_path(build_dir)
config = load_edition(project_path(edition_config))
meta = load_indicator_meta(config)
outcome = run_composite(build, config, meta)
outcome.palmares[["population_class", "rank_in_class", "nom", "code_departement", "population", "score", "sentence"]]

# %% [markdown]
# ## Traitement des valeurs extrêmes

# %%
outcome.build.treatment_details[['indicator', 'skew_before', 'kurt_before', 'applied', 'n_winsorised', 'skew_final']]

# %% [markdown]
# ## Cohérence : corrélations avec le critère et le score

# %%
outcome.audit['audit_correlations_pearson']
