"""From harmonised per-commune counts to the engine's input table and the published indicators.

Counts stay counts until this step (DESIGN.md). Here they are joined to the commune reference
(population, department, region), given their population class, and turned into the engine's
unit table (one row per commune; the engine divides by the population and scales per 1 000).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from barometre.config import EditionConfig
from barometre.geography import population_class
from barometre.smallarea import (
    SmallAreaWarning,
    apply_eligibility,
    apply_structural_gaps,
    shrink_rates,
    shrink_ratio,
)



def count_columns(meta: Mapping[str, Any]) -> list[str]:
    """The count columns the indicators of ``meta`` need (counts, numerators, denominators)."""
    needed: list[str] = []
    for ind in meta["indicators"]:
        for key in ("count", "numerator", "denominator_count"):
            if key in ind and ind[key] not in needed:
                needed.append(ind[key])
    return needed


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
    for column in count_columns(meta):
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


@dataclass
class IndicatorTables:
    """The engine inputs of an edition and the reports of the small-communes treatment."""

    raw: pd.DataFrame
    shrunk: pd.DataFrame
    shrinkage: pd.DataFrame
    eligibility: pd.DataFrame
    gaps: pd.DataFrame

    def chosen(self, rates: str) -> pd.DataFrame:
        return self.shrunk if rates == "shrunk" else self.raw


def indicator_tables(
    counts: pd.DataFrame,
    communes: pd.DataFrame,
    meta: Mapping[str, Any],
    config: EditionConfig,
) -> IndicatorTables:
    """Engine inputs with raw and with shrunk rates, after structural gaps and eligibility.

    1. Structural gaps (e.g. RNA creations in Alsace-Moselle) become missing, never zero.
    2. Eligibility rules remove communes (reported per class and rule, counts reconcile).
    3. Each count indicator is shrunk towards the mean of comparable communes (Poisson–Gamma
       empirical Bayes, Clayton & Kaldor 1987, prior fitted on the eligible communes); the
       shrunk table carries the posterior expected count (posterior rate × population / 1 000),
       so the engine's per-capita denominator gives back the shrunk rate. The ratio indicator
       (participants per campaign) is shrunk with campaigns as exposure
       (:func:`barometre.smallarea.shrink_ratio`).
    """
    labels = config.classes.labels
    table = engine_input(counts, communes, meta, config.classes.bounds, labels, min_population=1)
    gap_result = apply_structural_gaps(table, config.structural_gaps)
    table = gap_result.table
    # a ratio whose numerator or denominator fell in a gap is unknown too
    for ind in meta["indicators"]:
        if "numerator" in ind:
            unknown = table[ind["numerator"]].isna() | table[ind["denominator_count"]].isna()
            table.loc[unknown, ind["code"]] = np.nan
    eligibility = apply_eligibility(
        table, config.eligibility, class_column="population_class", class_order=labels
    )
    raw = table[eligibility.eligible.to_numpy()].reset_index(drop=True)
    shrunk = raw.copy()
    groups = raw[config.shrinkage.groups] if config.shrinkage.groups else None
    options = {
        "method": config.shrinkage.method,
        "credible": config.shrinkage.credible,
        "min_group_size": config.shrinkage.min_group_size,
    }
    long = []
    for ind in meta["indicators"]:
        code = ind["code"]
        if "count" in ind:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SmallAreaWarning)
                post = shrink_rates(raw[code], raw["population"], groups, scale=1000.0, **options)
            shrunk[code] = post["posterior_mean"] * raw["population"] / 1000.0
            rate_scale = 1.0
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SmallAreaWarning)
                post = shrink_ratio(raw[ind["numerator"]], raw[ind["denominator_count"]], groups, scale=1.0, **options)
            shrunk[code] = post["posterior_mean"]
            rate_scale = 1000.0 / raw["population"]  # published per 1 000 inhabitants
        shrunk.loc[raw[code].isna(), code] = np.nan
        long.append(
            pd.DataFrame(
                {
                    "code_commune": raw["code_commune"],
                    "indicator": code,
                    "raw_rate": post["raw_rate"] * rate_scale,
                    "posterior_mean": post["posterior_mean"] * rate_scale,
                    "lower": post["lower"] * rate_scale,
                    "upper": post["upper"] * rate_scale,
                    "shrinkage_weight": post["shrinkage_weight"],
                    "prior_group": post["prior_group"],
                }
            )
        )
    shrinkage = pd.concat(long, ignore_index=True)
    report = eligibility.report.reset_index()
    report = report.rename(columns={report.columns[0]: "population_class"})
    return IndicatorTables(raw, shrunk, shrinkage, report, gap_result.report)
