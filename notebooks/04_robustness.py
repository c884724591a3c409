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
# # 4. Robustesse du classement : incertitude et sensibilité
#
# Le classement publié repose sur des données de petits effectifs, groupés (missions, campagnes, associations), et sur des choix de méthode (poids des indicateurs et des critères, traitement des valeurs extrêmes, normalisation, agrégation, liste des indicateurs). Chaque scénario associe un tirage a posteriori conjoint des comptes de toutes les communes (modèle de comptage de l'étape 2) à un jeu d'hypothèses de méthode (déclarées dans `extra.robustness`) : pour chaque commune, rang médian et intervalle 5 %–95 % de son rang dans sa classe, probabilité d'être dans le top 4 ; les indices de Sobol séparent la part de l'aléa d'échantillonnage de celle des choix de méthode. Calcul vectorisé (`barometre.robustness`), égal rang pour rang à la reconstruction de l'indice par le moteur.

# %% tags=["parameters"]
# Parameters (injected by papermill: the step of src/barometre/edition.py declares the same
# names). Relative paths are from the project root; the defaults read the build of `make report`.
build_dir = "build/2024"
edition_config = "config/editions/2024.yml"
n_runs = None  # None: the edition's assumptions (10 000 runs by default)
seed = None  # None: the assumptions' seed, else the edition's seed
assumptions = None  # mapping overriding extra.robustness, e.g. {"exclusion": None}
departments = None  # subset builds: the input table is already restricted
demo = True

# %%
from barometre import catalogue
from barometre.composite import load_spec
from barometre.config import load_edition, load_indicator_meta, project_path
from barometre.robustness.annex import (
    analyse,
    edition_assumptions,
    edition_sampler,
    edition_seed,
    laureate_stability,
    write_figures,
    write_sampling_table,
    write_tables,
)

build = project_path(build_dir)
config = load_edition(project_path(edition_config))
meta = load_indicator_meta(config)
spec = load_spec(config.path(config.index_spec))
hypotheses = edition_assumptions(config, assumptions, n_runs)
run_seed = edition_seed(config, hypotheses, seed)
# with a "rates" assumption, both engine inputs are given (raw and shrunk rates); with
# "sampling", every run takes a joint posterior draw of the count models
if hypotheses.rates is not None:
    table = {label: catalogue.read(build, f"work.indicators_input_{label}") for label in hypotheses.rates.options}
else:
    table = catalogue.read(build, "work.indicators_input")
sampler = edition_sampler(build, config, meta, spec, run_seed) if hypotheses.sampling is not None else None
analysis = analyse(spec, table, hypotheses, run_seed, config.weights, config.classes.labels, sampler=sampler)
written = write_tables(build, analysis) + write_figures(build, analysis)
if sampler is not None:
    written.append(write_sampling_table(build, analysis, hypotheses.sampling.n_draws))
[str(path.relative_to(build)) for path in written]

# %% [markdown]
# ## Stabilité des lauréats

# %%
laureate_stability(analysis)[
    [
        "class",
        "nominal_rank",
        "name",
        "stability",
        "median_rank",
        "rank_p05",
        "rank_p95",
        "driver_label",
    ]
]

# %% [markdown]
# ## Synthèse par classe de population

# %%
analysis.uncertainty.classes

# %% [markdown]
# ## Indices de Sobol (premier ordre et total, intervalles bootstrap)

# %%
indices = analysis.sensitivity.indices
summary_outputs = [o for o in indices["output"].unique() if not o.startswith("rank:")]
indices[indices["output"].isin(summary_outputs)].pivot(
    index="output", columns="factor", values="ST"
).round(2)

# %% [markdown]
# ## Durées

# %%
print(
    f"{analysis.uncertainty.n_runs} scénarios x {analysis.model.n_units} communes : "
    f"{analysis.uncertainty.seconds:.1f} s ; Sobol ({analysis.sensitivity.n_runs} scénarios) : "
    f"{analysis.sensitivity.seconds:.1f} s"
)
