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
# # 6. Analyse territoriale
#
# Situe les communes d'un territoire (région, département, intercommunalité ou liste de communes) dans le baromètre de l'édition : rangs et positions dans leur classe de population, indicateurs comparés aux communes de même classe en France, carte, communes les mieux classées, lecture « communes avec et sans quartier prioritaire » quand une liste QPV est fournie. Écrit sous `territories/<territoire>/` les variables, tableaux et figures du rapport `report/territoire.qmd`, et les exports CSV et XLSX (avec dictionnaire des données) ; l'étape de rendu de la construction en tire le rapport (PDF, HTML), avec les autres publications. La logique est dans `barometre.territory` ; ce carnet l'appelle et montre le résultat.

# %% tags=["parameters"]
# Parameters (injected by papermill: the step of src/barometre/edition.py declares the same
# names). Relative paths are from the project root; the defaults read the build of `make report`.
build_dir = "build/2024"
edition_config = "config/editions/2024.yml"
departments = None
demo = True
territory = "region:32"  # region:32, departement:59, epci:200093201 or communes:59350,59512
qpv_file = None  # optional: the official 2024 QPV list (ANCT CSV layout)
raw_dir = "raw"  # the raw extracts the build read (relative: to the build folder)

# %%
from pathlib import Path

from IPython.display import Image, Markdown, display

from barometre.config import load_edition, project_path
from barometre.territory import build_territory_report

build = project_path(build_dir)
config = load_edition(project_path(edition_config))
raw = Path(raw_dir) if Path(raw_dir).is_absolute() else build / raw_dir
outputs = build_territory_report(
    build, config, territory, demo=demo, qpv_file=project_path(qpv_file) if qpv_file else None,
    raw_dir=raw if raw.is_dir() else None,
    render=False,  # the build's render step renders it, with the publications' renderer
)
folder = outputs["dir"]
{role: str(path.relative_to(build)) for role, path in outputs.items()}

# %% [markdown]
# ## Indicateurs du territoire et de la France

# %%
display(Markdown((folder / "tables" / "rates.md").read_text(encoding="utf-8")))

# %% [markdown]
# ## Les communes face à leur classe

# %%
display(Markdown((folder / "tables" / "classes.md").read_text(encoding="utf-8")))
display(Image(filename=str(folder / "figures" / "scores_by_class.png")))

# %%
display(Markdown((folder / "tables" / "positions.md").read_text(encoding="utf-8")))
display(Image(filename=str(folder / "figures" / "positions.png")))

# %% [markdown]
# ## Carte

# %%
display(Image(filename=str(folder / "figures" / "map.png")))

# %% [markdown]
# ## Communes les mieux classées et quartiers prioritaires

# %%
display(Markdown((folder / "tables" / "top.md").read_text(encoding="utf-8")))
display(Markdown((folder / "tables" / "qpv.md").read_text(encoding="utf-8")))
