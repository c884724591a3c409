"""From harmonised per-commune counts to the engine's input table and the published indicators.

Counts stay counts until this step (DESIGN.md). Here they are joined to the commune reference
(population, department, region), given their population class, and turned into the engine's
unit table (one row per commune; the engine divides by the population and scales per 1 000).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from barometre.geography import population_class

COUNT_COLUMNS = (
    "rna_creations",
    "ha_new_organizations",
    "ha_campaigns",
    "ha_participants",
    "jva_matches",
)


def ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, missing (not infinite, not zero) where the denominator is 0."""
    den = denominator.astype(float)
    return numerator.astype(float) / den.where(den > 0)


def engine_input(
    counts: pd.DataFrame,
    communes: pd.DataFrame,
    meta: Mapping[str, Any],
    bounds: Sequence[int],
    labels: Sequence[str],
    min_population: int = 1,
) -> pd.DataFrame:
    """The unit table the index spec reads: one row per commune with population >= the minimum.

    Columns: ``code_commune``, ``nom``, ``population``, ``population_class``,
    ``code_departement``, ``code_region`` and one column per indicator of ``meta`` (a count, or a
    ratio of two counts for ratio indicators). A commune absent from ``counts`` has zero counts;
    a count that is missing in ``counts`` (e.g. a structural gap) stays missing.
    """
    base = communes[["code_commune", "nom", "population", "code_departement", "code_region"]]
    base = base[base["population"] >= min_population]
    table = base.merge(counts, on="code_commune", how="left", validate="one_to_one")
    present = table["code_commune"].isin(counts["code_commune"])
    for column in COUNT_COLUMNS:
        if column not in table.columns:
            raise KeyError(f"count column {column!r} missing from the commune counts")
        table.loc[~present, column] = 0
    out = table[["code_commune", "nom", "population", "code_departement", "code_region"]].copy()
    out.insert(3, "population_class", population_class(out["population"], bounds, labels).astype(str))
    for ind in meta["indicators"]:
        if "count" in ind:
            out[ind["code"]] = table[ind["count"]].astype(float)
        else:
            out[ind["code"]] = ratio(table[ind["numerator"]], table[ind["denominator_count"]])
    return out.sort_values("code_commune").reset_index(drop=True)


def rates_per_1000(engine_table: pd.DataFrame, meta: Mapping[str, Any]) -> pd.DataFrame:
    """Published indicator values: each indicator per 1 000 inhabitants (as the spec denominates)."""
    out = engine_table[["code_commune"]].copy()
    for ind in meta["indicators"]:
        out[ind["code"]] = engine_table[ind["code"]] / engine_table["population"] * 1000
    return out
