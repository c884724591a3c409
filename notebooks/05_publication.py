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
# # 5. Variables, tableaux et figures des publications
#
# Écrit tout ce que les pages du baromètre et de l'annexe méthodologique lisent : `report/_variables.yml` (chiffres du texte, mis en forme à la française), les tableaux en Markdown et les figures. Les pages ne calculent rien.

# %% tags=["parameters"]
# Parameters (injected by papermill: the step of src/barometre/edition.py declares the same
# names). Relative paths are from the project root; the defaults read the build of `make report`.
build_dir = "build/2024"
edition_config = "config/editions/2024.yml"
departments = None
demo = True

# %%
from barometre.config import load_edition, load_indicator_meta, project_path
from barometre.publish.artefacts import write_report_artefacts

build = project_path(build_dir)
config = load_edition(project_path(edition_config))
meta = load_indicator_meta(config)
written = write_report_artefacts(build, config, meta, demo=demo)
sorted(str(p.relative_to(build)) for p in written)
