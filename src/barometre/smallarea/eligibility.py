"""Eligibility rules applied in a declared order, with a per-class account of removals; see
:mod:`barometre.smallarea`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from barometre.config_models import EligibilityRules, RuleName

# --------------------------------------------------------------------------------------------
# Eligibility
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EligibilityResult:
    """Outcome of :func:`apply_eligibility`.

    ``eligible``: boolean Series on the table's index. ``removed_by``: the first rule (in order)
    each unit fails, ``None`` for eligible units. ``report``: one row per class plus ``"Total"``,
    columns ``total``, ``removed_<rule>`` for each active rule in order, ``eligible``; in every row
    ``total == eligible + Σ removed_<rule>``.
    """

    eligible: pd.Series
    removed_by: pd.Series
    report: pd.DataFrame


def _numeric_column(table: pd.DataFrame, column: str, rule: str) -> np.ndarray:
    """Column ``column`` of ``table`` as floats (NaN kept); ``KeyError`` naming the ``rule``
    when the table lacks it, ``ValueError`` when a value is not numeric."""
    if column not in table.columns:
        raise KeyError(f"{rule} column {column!r} not in the table")
    return pd.to_numeric(table[column], errors="raise").to_numpy(dtype=float)


def _passes(
    table: pd.DataFrame, rules: EligibilityRules, rule: RuleName, population_column: str
) -> np.ndarray:
    if rule == "population":
        population = pd.to_numeric(table[population_column], errors="raise").to_numpy(dtype=float)
        # A missing population fails: no per-capita rate can be computed.
        return np.nan_to_num(population, nan=-np.inf) >= rules.min_population
    if rule == "activity":
        spec = rules.min_activity
        assert spec is not None
        activity = _numeric_column(table, spec.column, "activity")
        return np.where(np.isnan(activity), spec.missing_passes, activity >= spec.minimum)
    if rule == "information":
        info = rules.min_information
        assert info is not None
        absent = [column for column in info.columns if column not in table.columns]
        if absent:
            raise KeyError(f"information columns not in the table: {absent}")
        sources = table[info.columns].apply(pd.to_numeric, errors="raise").fillna(0).sum(axis=1)
        return sources.to_numpy(dtype=float) >= info.minimum
    if rule == "reliability":
        rel = rules.min_reliability
        assert rel is not None
        values = _numeric_column(table, rel.column, "reliability")
        return np.nan_to_num(values, nan=-np.inf) >= rel.minimum
    coverage = rules.min_coverage
    assert coverage is not None
    absent = [column for column in coverage.indicators if column not in table.columns]
    if absent:
        raise KeyError(f"coverage indicators not in the table: {absent}")
    share = table[coverage.indicators].notna().mean(axis=1).to_numpy()
    # Tolerance: 2 of 3 indicators gives 0.666…, which must pass a declared 2/3 threshold.
    return share >= coverage.minimum_share - 1e-12


def apply_eligibility(
    table: pd.DataFrame,
    rules: EligibilityRules,
    *,
    class_column: str = "population_class",
    population_column: str = "population",
    class_order: Sequence[str] | None = None,
) -> EligibilityResult:
    """Apply the eligibility rules in their declared order and count removals per class.

    Rules: ``population`` (``population >= min_population``; missing fails), ``activity``
    (``column >= minimum``; missing fails unless ``missing_passes``), ``coverage`` (share of
    non-missing values among ``indicators`` ``>= minimum_share``). Each unit is attributed to the
    first rule it fails, so the report reconciles exactly: ``total = eligible + removed by each
    rule in order``. Classes appear in ``class_order`` if given, else in the categorical order of
    ``class_column``, else sorted; a missing class is reported as ``"(missing)"``.
    """
    if class_column not in table.columns:
        raise KeyError(f"class column {class_column!r} not in the table")
    active = rules.active_rules()
    if "population" in active and population_column not in table.columns:
        raise KeyError(f"population column {population_column!r} not in the table")
    still_in = np.ones(len(table), dtype=bool)
    removed_by = np.full(len(table), None, dtype=object)
    for rule in active:
        fails = still_in & ~_passes(table, rules, rule, population_column)
        removed_by[fails] = rule
        still_in &= ~fails

    classes = table[class_column].astype(object).where(table[class_column].notna(), "(missing)")
    if class_order is not None:
        order = list(class_order)
    elif isinstance(table[class_column].dtype, pd.CategoricalDtype):
        order = [str(c) for c in table[class_column].cat.categories]
    else:
        order = sorted({str(c) for c in classes if c != "(missing)"})
    classes = classes.astype(str)
    extra = [c for c in pd.unique(classes) if c not in order]
    if extra and class_order is not None and extra != ["(missing)"]:
        raise ValueError(f"classes absent from class_order: {extra}")
    order += sorted(extra)

    frame = pd.DataFrame(
        {"cls": classes.to_numpy(), "removed_by": removed_by, "eligible": still_in}
    )
    columns = ["total", *[f"removed_{rule}" for rule in active], "eligible"]
    rows = {}
    for label in order:
        members = frame[frame["cls"] == label]
        row = {"total": len(members)}
        for rule in active:
            row[f"removed_{rule}"] = int((members["removed_by"] == rule).sum())
        row["eligible"] = int(members["eligible"].sum())
        rows[label] = row
    report = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    report.loc["Total"] = report.sum(axis=0)
    report = report.astype(int)
    report.index.name = class_column
    return EligibilityResult(
        eligible=pd.Series(still_in, index=table.index, name="eligible"),
        removed_by=pd.Series(removed_by, index=table.index, name="removed_by"),
        report=report,
    )
