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
from barometre.disclosure import protect_table
from barometre.palmares import class_ranks, palmares_table
from barometre.publish.fmt import fr_number
from barometre.tables import read_table, save_table


@dataclass
class CompositeOutcome:
    build: IndexBuild
    communes: pd.DataFrame
    palmares: pd.DataFrame
    audit: dict[str, pd.DataFrame]
    rates_effect: pd.DataFrame


def rates_effect(
    nominal: IndexBuild,
    alternative: IndexBuild,
    labels: list[str],
    size: int,
    nominal_name: str,
    alternative_name: str,
) -> pd.DataFrame:
    """How the palmarès changes between two rate variants (raw vs shrunk), class by class.

    Per class: communes ranked in both, Spearman correlation of their scores, laureates kept,
    laureates entering and leaving (names) when the alternative replaces the nominal rates.
    """
    root = nominal.spec.root
    rows = []
    nom_ranks, alt_ranks = class_ranks(nominal), class_ranks(alternative)
    for label in labels:
        a = nom_ranks[nom_ranks.population_class == label]
        b = alt_ranks[alt_ranks.population_class == label]
        both = a.index.intersection(b.index)
        rho = a.loc[both, root].corr(b.loc[both, root], method="spearman") if len(both) > 2 else float("nan")
        top_a = set(a.index[a.rank_in_class.astype("Float64") <= size])
        top_b = set(b.index[b.rank_in_class.astype("Float64") <= size])
        names = nominal.units["nom"]
        rows.append(
            {
                "population_class": label,
                "communes": len(both),
                "spearman": rho,
                "laureates_kept": len(top_a & top_b),
                "laureates_changed": len(top_a - top_b),
                f"laureates_only_{nominal_name}": " ; ".join(sorted(names[c] for c in top_a - top_b)),
                f"laureates_only_{alternative_name}": " ; ".join(sorted(names.get(c, c) for c in top_b - top_a)),
            }
        )
    return pd.DataFrame(rows)


def commune_results(
    build: IndexBuild, raw_table: pd.DataFrame, ranked_table: pd.DataFrame, meta: Mapping[str, Any]
) -> pd.DataFrame:
    """Per commune: identity, observed counts, raw rates and ranked (raw or shrunk) rates per
    1 000 inhabitants, normalised values, scores and ranks."""
    spec = build.spec
    ranks = class_ranks(build)
    raw = raw_table.set_index("code_commune")
    ranked = ranked_table.set_index("code_commune")
    codes = [i["code"] for i in meta["indicators"]]
    rates = raw[codes].div(raw["population"], axis=0) * 1000
    rates.columns = [f"{c}_per_1000" for c in codes]
    ranked_rates = ranked[codes].div(ranked["population"], axis=0) * 1000
    ranked_rates.columns = [f"{c}_ranked_per_1000" for c in codes]
    normalised = build.normalised[codes].add_suffix("_normalised")
    scores = ranks[[*build.scores.columns, f"rank_{spec.root}", "rank_in_class", "class_size"]].rename(
        columns={f"rank_{spec.root}": "rank_national"}
    )
    table = raw[["nom", "population", "population_class", "code_departement", "code_region", *codes]]
    table = table.join(rates).join(ranked_rates).join(normalised).join(scores)
    table.index.name = "code_commune"
    return table.reset_index()


def run_composite(build_dir: Path, config: EditionConfig, meta: Mapping[str, Any]) -> CompositeOutcome:
    """Build the index on ``work/indicators_input.csv`` and write every result table.

    Exact values stay under ``work/`` (confidential); ``tables/`` gets the published versions,
    with small person counts suppressed (:mod:`barometre.disclosure`)."""
    spec = load_spec(config.path(config.index_spec))
    engine_table = read_table(build_dir / "work" / "indicators_input.csv")
    # observed counts (never shrunk) for the figures quoted in the publications
    raw_table = read_table(build_dir / "work" / "indicators_input_raw.csv")
    build = build_index(spec, engine_table, weight_set=config.weights)
    stages = build_dir / "work" / "stages"
    for name in ("denominated", "imputed", "screened", "treated", "normalised", "aggregated", "results"):
        save_table(getattr(build, name), stages / f"{name}.csv", key=["code_commune"])
    save_table(build.treatment_details, stages / "treatment_details.csv", key=["indicator"])
    for group, table in build.group_ranks.items():
        save_table(table, stages / f"group_ranks_{group}.csv", key=["code_commune"])
    communes = commune_results(build, raw_table, engine_table, meta)
    save_table(communes, build_dir / "work" / "communes.csv", key=["code_commune"])
    # the published per-commune table: small person counts (and their raw rates) suppressed
    save_table(protect_table(communes), build_dir / "tables" / "communes.csv", key=["code_commune"])
    palmares = palmares_table(
        build, raw_table, meta, config.classes.labels, config.palmares_size, config.data_year, fr_number
    )
    save_table(protect_table(palmares, totals_published=False), build_dir / "tables" / "palmares.csv", key=["population_class", "rank_in_class", "code_commune"], sort=False)
    audit = audit_tables(build)
    for name, table in audit.items():
        save_table(table, build_dir / "tables" / "audit" / f"{name}.csv")
    alternative_name = "raw" if config.rates == "shrunk" else "shrunk"
    alternative_table = read_table(build_dir / "work" / f"indicators_input_{alternative_name}.csv")
    alternative = build_index(spec, alternative_table, weight_set=config.weights)
    effect = rates_effect(
        build, alternative, list(config.classes.labels), config.palmares_size, config.rates, alternative_name
    )
    save_table(effect, build_dir / "tables" / "rates_effect.csv", key=["population_class"], sort=False)
    alt_palmares = palmares_table(
        alternative, raw_table, meta, config.classes.labels, config.palmares_size, config.data_year, fr_number
    )
    save_table(protect_table(alt_palmares, totals_published=False), build_dir / "tables" / f"palmares_{alternative_name}.csv",
               key=["population_class", "rank_in_class", "code_commune"], sort=False)
    return CompositeOutcome(build, communes, palmares, audit, effect)
