"""Attack 1: products and ratios of the published columns of one row.

A raw rate × population / 1 000, a ratio indicator × its denominator, that ratio's rate, the
value a palmarès card quotes and the eligibility rule each bound a suppressed count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from barometre.disclosure_attacks.feasible import (
    candidates_matching,
    mask_to_interval,
    parse_number,
    printed_tolerance,
)


def ratio_links(meta_ratios: Mapping[str, tuple[str, str]], count: str) -> list[tuple[str, str]]:
    """The ratio indicators whose numerator is ``count``: (ratio code, its denominator)."""
    return [(code, den) for code, (num, den) in meta_ratios.items() if num == count]


RATIOS: dict[str, tuple[str, str]] = {
    "ha_participants_per_campaign": ("ha_participants", "ha_campaigns")
}
"""Ratio indicators of the baromètre: code → (person-count numerator, published denominator)."""


def product_attack(
    row: Mapping[str, str], count: str, candidates: np.ndarray
) -> tuple[float, float] | None:
    """Counts consistent with the columns of one published row that are products or ratios of
    ``count``: its raw rate (× population / 1 000), a ratio indicator (× its denominator) and
    that ratio's rate (both readings: per 1 000 inhabitants, or per unit of its denominator)."""
    population = parse_number(row.get("population"))
    mask = np.ones(len(candidates), dtype=bool)
    used = False

    def check(column: str, predictions: Iterable[np.ndarray]) -> None:
        nonlocal mask, used
        text = row.get(column)
        value = parse_number(text)
        if value is None:
            return
        tolerance = printed_tolerance(str(text).strip())
        hits = np.zeros(len(candidates), dtype=bool)
        for prediction in predictions:
            hits |= candidates_matching(prediction, value, tolerance)
        mask &= hits
        used = True

    if population:
        check(f"{count}_per_1000", [candidates / population * 1000.0])
    for code, denominator in ratio_links(RATIOS, count):
        den = parse_number(row.get(denominator))
        if not den:
            continue
        check(code, [candidates / den])
        readings = [candidates / den]
        if population:
            readings.append(candidates / den / population * 1000.0)
        check(f"{code}_per_1000", readings)
    if not used:
        return None
    return mask_to_interval(candidates, mask) or (math.nan, math.nan)


def distinguishing_attack(
    row: Mapping[str, str], count: str, candidates: np.ndarray
) -> tuple[float, float] | None:
    """A palmarès card quotes the value of the commune's distinguishing indicator
    (``distinguishing_value``): the count itself, or a ratio of it (× its denominator)."""
    indicator = str(row.get("distinguishing_indicator", ""))
    text = row.get("distinguishing_value")
    value = parse_number(text)
    if value is None:
        return None
    if indicator == count:
        half = printed_tolerance(str(text))
        return value - half, value + half
    if indicator in RATIOS and RATIOS[indicator][0] == count:
        return product_attack(
            {**row, indicator: str(text), f"{indicator}_per_1000": ""}, count, candidates
        )
    return None


def eligibility_attack(
    row: Mapping[str, str], count: str, rule: Mapping[str, Any] | None
) -> tuple[float, float] | None:
    """A ranked commune has at least ``minimum`` distinct sources of information (annex): the
    associations created and joining HelloAsso (published), the organisations running
    campaigns (at most the published campaigns) and the missions with matches (at most the
    matches). So matches ≥ minimum − the others' upper bounds."""
    if (
        count != "jva_matches"
        or not rule
        or str(row.get("eligible", "")).lower() not in {"true", "oui"}
    ):
        return None
    if rule.get("suppressed_counts_as_one"):
        return None  # the annex says a suppressed count is one source: nothing to bound
    upper = {
        "rna_creations": "rna_creations",
        "ha_new_organizations": "ha_new_organizations",
        "ha_campaigns_clusters": "ha_campaigns",
    }
    columns = list(rule.get("columns", []))
    if "jva_matches_clusters" not in columns:
        return None
    others = 0.0
    for column in columns:
        if column == "jva_matches_clusters":
            continue
        value = parse_number(row.get(upper.get(column, column)))
        if value is None:
            return None
        others += value
    return float(rule.get("minimum", 0)) - others, math.inf
