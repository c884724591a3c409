"""The groups of the QPV profile: which communes hold a QPV, the comparison pool, the groups'
population weights, and when a group's person count must be withheld (conventions in
:mod:`barometre.qpv.profile`, which re-exports every name of this module)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from barometre.disclosure import (
    DEFAULT_THRESHOLD,
    PERSON_COUNTS,
    UNPUBLISHED,
    hidden_remainder_is_safe,
    is_small,
)

WITH, WITHOUT, COMPARISON = (
    "Communes avec QPV",
    "Communes sans QPV",
    "Comparaison (même classe, sans QPV)",
)
#: Fewest comparison communes of a class: below it in the region, the class is compared with
#: France (the whole build); below it there too, the class is left out.
MIN_COMPARISON = 5


@dataclass(frozen=True)
class Measure:
    """One engagement measure of the profile: ``code`` (indicator), ``count`` column, French
    ``label`` and ``model``: the count model's name; ``per`` the count column the model's rate
    multiplies (``None``: the population — a ratio model such as participants per campaign
    multiplies the observed campaigns)."""

    code: str
    count: str
    label: str
    model: str
    per: str | None = None
    short: str = ""


def measures_from_meta(meta: Mapping[str, object], columns: Sequence[str]) -> list[Measure]:
    """Per-inhabitant measures of the indicators of ``meta`` whose counts are in ``columns``:
    count indicators as they are, ratio indicators through their numerator (participants per
    1 000 inhabitants = participants per campaign × campaigns) unless a count indicator already
    measures that count per inhabitant (one measure per count)."""
    out: dict[str, Measure] = {}
    for indicator in meta["indicators"]:  # type: ignore[index]
        if "count" in indicator:
            count, per = indicator["count"], None
        else:
            count, per = indicator["numerator"], indicator["denominator_count"]
        if (
            count in columns
            and (per is None or per in columns)
            and (count not in out or per is None)
        ):
            short = str(indicator["short"])
            out[count] = Measure(
                indicator["code"],
                count,
                short[:1].upper() + short[1:],
                indicator["code"],
                per,
                short,
            )
    return list(out.values())


# --------------------------------------------------------------------------- communes


def flag_communes(communes: pd.DataFrame, by_commune: pd.DataFrame) -> pd.DataFrame:
    """``communes`` with ``n_qpv`` (0 without), ``has_qpv``, ``qpv_codes``, ``qpv_names``
    (empty without) from :func:`barometre.qpv.reader.qpv_by_commune`."""
    out = communes.drop(
        columns=[c for c in ("n_qpv", "has_qpv", "qpv_codes", "qpv_names") if c in communes.columns]
    )
    out = out.merge(by_commune, on="code_commune", how="left")
    out["n_qpv"] = out["n_qpv"].fillna(0).astype(int)
    out["has_qpv"] = out["n_qpv"] > 0
    out[["qpv_codes", "qpv_names"]] = out[["qpv_codes", "qpv_names"]].fillna("")
    return out


def reconciliation(territory: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """Communes and population of the territory by class: ``communes``, ``with_qpv``,
    ``without_qpv``, ``population``, ``population_with_qpv``, ``share_population_with_qpv``
    (%), then « Ensemble ». Raises ``AssertionError`` if with + without ≠ all."""
    rows = []
    for label in [*labels, "Ensemble"]:
        members = (
            territory if label == "Ensemble" else territory[territory["population_class"] == label]
        )
        if members.empty:
            continue
        with_qpv = members[members["has_qpv"]]
        row = {
            "population_class": label,
            "communes": len(members),
            "with_qpv": len(with_qpv),
            "without_qpv": int((~members["has_qpv"]).sum()),
            "population": int(members["population"].sum()),
            "population_with_qpv": int(with_qpv["population"].sum()),
        }
        if row["with_qpv"] + row["without_qpv"] != row["communes"]:
            raise AssertionError(
                f"{label}: {row['with_qpv']} with QPV + {row['without_qpv']} without ≠ {row['communes']}"
            )
        row["share_population_with_qpv"] = (
            100.0 * row["population_with_qpv"] / row["population"] if row["population"] else np.nan
        )
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- groups


def comparison_communes(
    everywhere: pd.DataFrame,
    regions: Sequence[str],
    labels: Sequence[str],
    minimum: int = MIN_COMPARISON,
) -> tuple[pd.DataFrame, list[str]]:
    """The comparison pool: for each class, the communes without QPV of the ``regions``, or of
    the whole build (France in a national build) when the regions have fewer than ``minimum``
    of them. Returns (pool, classes compared at national level)."""
    without = everywhere[~everywhere["has_qpv"]]
    parts, national = [], []
    for label in labels:
        in_class = without[without["population_class"] == label]
        local = in_class[in_class["code_region"].isin(list(regions))]
        if len(local) >= minimum or len(in_class) == len(local):
            parts.append(local)
        else:
            parts.append(in_class)
            national.append(label)
    return pd.concat(parts, ignore_index=True), national


def group_weights(
    territory: pd.DataFrame, comparison_pool: pd.DataFrame, labels: Sequence[str], minimum: int = 1
) -> tuple[dict[str, pd.Series], list[str], list[str]]:
    """Population weights of the three groups, indexed by ``code_commune`` (summing to 1 within
    a group): the territory's communes with QPV, without QPV, and the class-standardised
    comparison (communes of ``comparison_pool`` without QPV, each class weighted by the QPV
    communes' population of that class; a class with fewer than ``minimum`` comparison communes
    is left out of both). Returns (weights, classes compared, classes left out)."""
    with_qpv = territory[territory["has_qpv"]]
    pool = comparison_pool[~comparison_pool["has_qpv"]]
    present = [label for label in labels if (with_qpv["population_class"] == label).any()]
    compared = [
        label
        for label in present
        if int((pool["population_class"] == label).sum()) >= max(minimum, 1)
    ]
    left_out = [label for label in present if label not in compared]
    kept = with_qpv[with_qpv["population_class"].isin(compared)]
    class_share = (
        kept.groupby("population_class", observed=True)["population"].sum()
        / kept["population"].sum()
    )
    parts = []
    for label in compared:
        members = pool[pool["population_class"] == label]
        parts.append(members["population"] / members["population"].sum() * class_share[label])
    standardised = pd.concat(parts) if parts else pd.Series(dtype=float)
    without = territory[~territory["has_qpv"]]

    def own(frame: pd.DataFrame) -> pd.Series:
        return (frame["population"] / frame["population"].sum()).set_axis(frame["code_commune"])

    weights = {
        WITH: own(kept),
        WITHOUT: own(without),
        COMPARISON: standardised.set_axis(pool.loc[standardised.index, "code_commune"])
        if len(standardised)
        else standardised,
    }
    return weights, compared, left_out


def withhold(
    table: pd.DataFrame,
    codes: Sequence[str],
    count: str,
    suppressed: pd.DataFrame | None,
    threshold: int = DEFAULT_THRESHOLD,
) -> bool:
    """Whether a group's person count (and any rate giving it back) must be withheld: its total
    is small, or the total minus the cells the commune tables publish would narrow a hidden
    cell (:func:`barometre.disclosure.hidden_remainder_is_safe`). ``suppressed`` says, by
    ``code_commune``, which cells the tables hide: :func:`barometre.disclosure.hidden_cells`
    codes (1: « < 11 », 2: blank, the commune's counts are not published) or booleans (« < 11 »).
    Never for a count that is not of people."""
    if count not in PERSON_COUNTS:
        return False
    values = table.set_index("code_commune")[count].reindex(list(codes))
    if is_small(float(values.sum()), threshold):
        return True
    if suppressed is None or count not in suppressed.columns:
        return False
    codes_of = suppressed[count].reindex(list(codes)).fillna(0).astype(int).to_numpy()
    hidden = codes_of > 0
    return not hidden_remainder_is_safe(
        values.to_numpy()[hidden], codes_of[hidden] == UNPUBLISHED, threshold
    )
