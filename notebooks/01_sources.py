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
# # 1. Sources → table communale harmonisée
#
# Lit les extractions brutes des trois sources (RNA, HelloAsso, JeVeuxAider), les rattache aux communes du COG de l'édition et compte, par commune, les créations, inscriptions, campagnes, participations et mises en relation de l'année. Les mises en relation JeVeuxAider sont comptées selon la définition de l'édition (`definitions.jva_matches` : stock cumulé depuis le lancement, ou mises en relation créées dans l'année). Le rapport de rattachement réconcilie les lignes lues, rattachées et écartées.

# %% tags=["parameters"]
# Parameters (injected by papermill: the step of src/barometre/edition.py declares the same
# names). Relative paths are from the project root; the defaults read the build of `make report`.
build_dir = "build/2024"
edition_config = "config/editions/2024.yml"
departments = None
demo = True
raw_dir = "raw"

# %%
from pathlib import Path

from barometre import catalogue, geography
from barometre.config import load_edition, project_path
from barometre.sources.counts import COUNT_COLUMNS, commune_counts

build = project_path(build_dir)
config = load_edition(project_path(edition_config))
raw = Path(raw_dir) if Path(raw_dir).is_absolute() else build / raw_dir
communes = geography.load_communes(config.cog_year, departments=departments)
links = geography.load_commune_links(config.cog_year)
quarantine = catalogue.path(build, "work.quarantine")  # rejected records, with their reason (confidential)
quarantine.mkdir(parents=True, exist_ok=True)
counts, match_report = commune_counts(
    raw, communes, config.data_year, config.counted_states or None,
    jva_cumulative=config.definitions.jva_cumulative,  # definitions.jva_matches: stock or flow
    code_links=dict(zip(links["code"], links["code_commune_parent"])),
    cog_year=config.cog_year, quarantine_dir=quarantine,
)
# exact counts and their cluster statistics: confidential
catalogue.save(counts, build, "work.commune_counts")
catalogue.save(match_report, build, "tables.match_report", sort=False)
print(f"{len(communes)} communes (COG {config.cog_year}), {len(counts)} with counts")

# %% [markdown]
# ## Rattachement des enregistrements aux communes

# %%
match_report

# %% [markdown]
# ## Totaux par source

# %%
counts[list(COUNT_COLUMNS)].sum().to_frame('total')  # cluster statistics stay in work/
