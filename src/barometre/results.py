"""The composite stage of an edition: engine run, per-commune results, palmarès, audit tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from barometre.composite import IndexBuild, build_index, load_spec
from barometre.composite.audit import audit_tables
from barometre.config import EditionConfig
from barometre.palmares import class_ranks, palmares_table
from barometre.publish.fmt import fr_number
from barometre.tables import read_table, save_table


@dataclass
class CompositeOutcome:
    build: IndexBuild
    communes: pd.DataFrame
    palmares: pd.DataFrame
    audit: dict[str, pd.DataFrame]


def commune_results(build: IndexBuild, engine_table: pd.DataFrame, meta: Mapping[str, Any]) -> pd.DataFrame:
    """Per commune: identity, counts, rates per 1 000, normalised values, scores and ranks."""
    spec = build.spec
    ranks = class_ranks(build)
    base = engine_table.set_index("code_commune")
    codes = [i["code"] for i in meta["indicators"]]
    rates = base[codes].div(base["population"], axis=0) * 1000
    rates.columns = [f"{c}_per_1000" for c in codes]
    normalised = build.normalised[codes].add_suffix("_normalised")
    scores = ranks[[*build.scores.columns, f"rank_{spec.root}", "rank_in_class", "class_size"]].rename(
        columns={f"rank_{spec.root}": "rank_national"}
    )
    table = base[["nom", "population", "population_class", "code_departement", "code_region", *codes]]
    table = table.join(rates).join(normalised).join(scores)
    table.index.name = "code_commune"
    return table.reset_index()


def run_composite(build_dir: Path, config: EditionConfig, meta: Mapping[str, Any]) -> CompositeOutcome:
    """Build the index on ``tables/indicators_input.csv`` and write every result table."""
    spec = load_spec(config.path(config.index_spec))
    engine_table = read_table(build_dir / "tables" / "indicators_input.csv")
    build = build_index(spec, engine_table, weight_set=config.weights)
    stages = build_dir / "tables" / "stages"
    for name in ("denominated", "imputed", "screened", "treated", "normalised", "aggregated", "results"):
        save_table(getattr(build, name), stages / f"{name}.csv", key=["code_commune"])
    save_table(build.treatment_details, stages / "treatment_details.csv", key=["indicator"])
    for group, table in build.group_ranks.items():
        save_table(table, stages / f"group_ranks_{group}.csv", key=["code_commune"])
    communes = commune_results(build, engine_table, meta)
    save_table(communes, build_dir / "tables" / "communes.csv", key=["code_commune"])
    palmares = palmares_table(
        build, engine_table, meta, config.classes.labels, config.palmares_size, config.data_year, fr_number
    )
    save_table(palmares, build_dir / "tables" / "palmares.csv", key=["population_class", "rank_in_class", "code_commune"], sort=False)
    audit = audit_tables(build)
    for name, table in audit.items():
        save_table(table, build_dir / "tables" / "audit" / f"{name}.csv")
    return CompositeOutcome(build, communes, palmares, audit)
