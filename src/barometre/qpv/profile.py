"""Engagement profile of the communes holding a quartier prioritaire (computation only).

Conventions:

- a commune is « avec QPV » when at least one QPV of the list touches it (an intercommunal QPV
  counts for each of its communes); every commune of the territory in the build's commune table
  (eligible to the palmarès or not: the profile reads counts, not scores) is either with or
  without, and :func:`reconciliation` checks ``with + without = all`` class by class;
- the **comparison** of a class is the communes of the same population class, in the
  territory's region(s), without QPV. Its rate is *standardised* on the QPV communes: the
  comparison rate of each class weighted by the QPV communes' population in that class, so both
  groups have the same mix of sizes (classes without any comparison commune are left out of
  both, and named);
- a group's rate is Σ count / Σ population × 1 000 (participants: Σ participants / Σ population
  × 1 000); its 90 % interval and the ratio's come from the joint posterior draws of the
  palmarès' count models (:mod:`barometre.countmodel`: one draw of every commune's rate at once,
  the group's rate being the population-weighted mean of its communes' drawn rates);
- person counts (participations, mises en relation) follow :mod:`barometre.disclosure`: a
  group's rate is withheld with its interval when the group's count is small, when the group's
  count minus the cells the per-commune tables publish would narrow a cell they hide (a
  « < 11 » or an ineligible commune's unpublished count), or when the complementary group (the
  other side of the same territory total) is withheld.

The profile is split by concern: :mod:`barometre.qpv.groups` (the measures, the communes with
and without QPV, the comparison pool, the groups' weights, the disclosure rule), this module (the
engagement rates and their intervals), :mod:`barometre.qpv.associations` (associations by field
of action, creations of the year) and :mod:`barometre.qpv.contracts` (the contrats de ville
table); this module re-exports their public names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from barometre.countmodel import CountModelFit
from barometre.disclosure import DEFAULT_THRESHOLD, PERSON_COUNTS, is_small
from barometre.qpv.associations import creations_list, field_of, fields_table
from barometre.qpv.contracts import contracts_table
from barometre.qpv.groups import (
    COMPARISON,
    MIN_COMPARISON,
    WITH,
    WITHOUT,
    Measure,
    comparison_communes,
    flag_communes,
    group_weights,
    measures_from_meta,
    reconciliation,
    withhold,
)

__all__ = [
    "COMPARISON",
    "MIN_COMPARISON",
    "WITH",
    "WITHOUT",
    "Measure",
    "class_rates",
    "comparison_communes",
    "contracts_table",
    "creations_list",
    "drawn_rates",
    "engagement_table",
    "field_of",
    "fields_table",
    "flag_communes",
    "group_weights",
    "measures_from_meta",
    "observed_rate",
    "reconciliation",
    "withhold",
]


# --------------------------------------------------------------------------- engagement


def observed_rate(table: pd.DataFrame, weights: pd.Series, measure: Measure) -> float:
    """The group's rate per 1 000 inhabitants from the exact counts: Σ_i w_i count_i / pop_i
    (= Σ count / Σ population for a group weighted by population)."""
    frame = table.set_index("code_commune").reindex(weights.index)
    rate = frame[measure.count] / frame["population"].where(frame["population"] > 0)
    return float((weights * rate).sum() * 1000.0)


def drawn_rates(
    fits: Mapping[str, CountModelFit],
    table: pd.DataFrame,
    measure: Measure,
    weights: Mapping[str, pd.Series],
    n_draws: int,
    seed: int,
    chunk: int = 100,
) -> pd.DataFrame:
    """Posterior draws of each group's rate per 1 000 inhabitants (one column per group).

    Draw ``d`` is draw ``d`` of ``seed`` of the fit (:meth:`CountModelFit.draws_for`), so the
    groups' rates of one row come from one joint draw of every commune's rate, and their ratio
    carries the correlation. A ratio model's drawn rate (per unit of its exposure) is multiplied
    by the observed exposure (campaigns) and divided by the population."""
    fit = fits[measure.model]
    codes = pd.Index(fit.index.astype(str))
    frame = table.set_index("code_commune").reindex(codes)
    if measure.per is None:
        multiplier = np.ones(len(codes))
    else:
        multiplier = (
            frame[measure.per] / frame["population"].where(frame["population"] > 0)
        ).to_numpy(dtype=float)
    matrix = np.column_stack(
        [weights[g].reindex(codes).fillna(0.0).to_numpy() * multiplier for g in weights]
    )
    out = []
    for start in range(0, n_draws, chunk):
        draws = fit.draws_for(range(start, min(start + chunk, n_draws)), seed, scale=1000.0)
        # renormalise over usable communes (an unusable commune has no drawn rate)
        usable = np.isfinite(draws)
        values = np.where(usable, draws, 0.0) @ matrix
        mass = usable.astype(float) @ np.column_stack(
            [weights[g].reindex(codes).fillna(0.0).to_numpy() for g in weights]
        )
        out.append(values / np.where(mass > 0, mass, np.nan))
    return pd.DataFrame(np.vstack(out), columns=list(weights))


def engagement_table(
    table: pd.DataFrame,
    territory: pd.DataFrame,
    comparison_pool: pd.DataFrame,
    fits: Mapping[str, CountModelFit],
    measures: Sequence[Measure],
    labels: Sequence[str],
    *,
    n_draws: int = 1000,
    seed: int = 0,
    credible: float = 0.90,
    suppressed: pd.DataFrame | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    minimum: int = MIN_COMPARISON,
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """One row per measure: ``measure``, ``label``, the observed rates ``observed_with`` (QPV
    communes), ``observed_comparison`` (class-standardised comparison) and ``observed_ratio``;
    the model's posterior medians ``rate_with``, ``rate_comparison`` and ``ratio`` (QPV
    communes / comparison) with their credible bounds ``lower_*``/``upper_*`` and
    ``ratio_lower``/``ratio_upper``; ``rate_without`` (observed, the territory's communes
    without QPV); ``p_higher`` (posterior probability that the QPV
    communes' rate exceeds the comparison's), ``withheld`` (disclosure; the rates and intervals
    of a withheld row are NaN).

    ``table`` holds the exact counts and populations of every commune of the build (the count
    models' input); ``suppressed`` is the boolean mask of the person-count cells the per-commune
    export hides (indexed by ``code_commune``), used for the residual rule (module docstring).
    A class with fewer than ``minimum`` comparison communes is left out of both groups.
    Returns (table, classes compared, classes left out).
    """
    weights, compared, left_out = group_weights(territory, comparison_pool, labels, minimum)
    rows = []
    for measure in measures:
        if weights[WITH].empty or weights[COMPARISON].empty:
            break
        observed = {group: observed_rate(table, w, measure) for group, w in weights.items()}
        draws = drawn_rates(fits, table, measure, weights, n_draws, seed)
        withheld = _engagement_withheld(
            table, measure, weights, comparison_pool, compared, suppressed, threshold
        )
        rows.append(_engagement_row(measure, observed, draws, withheld, credible))
    return pd.DataFrame(rows), compared, left_out


def _engagement_withheld(
    table: pd.DataFrame,
    measure: Measure,
    weights: Mapping[str, pd.Series],
    comparison_pool: pd.DataFrame,
    compared: Sequence[str],
    suppressed: pd.DataFrame | None,
    threshold: int,
) -> bool:
    """Whether the engagement row of a person-count measure is withheld: the QPV communes' or
    the other communes' count must be withheld (:func:`withhold`), or a compared class's count
    in the comparison pool is small (a class total small is a count that can be recovered)."""
    withheld = False
    if measure.count in PERSON_COUNTS:
        for group in (WITH, WITHOUT):
            withheld |= withhold(table, weights[group].index, measure.count, suppressed, threshold)
        # the comparison's classes: a class total small is a count that can be recovered
        pool = comparison_pool[
            ~comparison_pool["has_qpv"] & comparison_pool["population_class"].isin(compared)
        ]
        pool_counts = (
            table.set_index("code_commune")[measure.count].reindex(pool["code_commune"]).to_numpy()
        )
        by_class = (
            pd.Series(pool_counts, index=pool["population_class"].to_numpy()).groupby(level=0).sum()
        )
        withheld |= any(is_small(v, threshold) for v in by_class)
    return withheld


def _engagement_row(
    measure: Measure,
    observed: Mapping[str, float],
    draws: pd.DataFrame,
    withheld: bool,
    credible: float,
) -> dict[str, object]:
    """One row of :func:`engagement_table` from the observed rates and the drawn rates of the
    three groups (columns in the order of :func:`group_weights`); a withheld row keeps only
    ``measure``, ``label`` and ``withheld``."""
    tail = (1.0 - credible) / 2.0
    ratio_draws = draws[WITH] / draws[COMPARISON]
    lower, upper = draws.quantile([tail, 1 - tail]).to_numpy()
    median = draws.median().to_numpy()
    row = {
        "measure": measure.code,
        "label": measure.label,
        "observed_with": observed[WITH],
        "observed_comparison": observed[COMPARISON],
        "observed_ratio": observed[WITH] / observed[COMPARISON]
        if observed[COMPARISON] > 0
        else np.nan,
        "rate_with": median[0],
        "lower_with": lower[0],
        "upper_with": upper[0],
        "rate_without": observed[WITHOUT],
        "rate_comparison": median[2],
        "lower_comparison": lower[2],
        "upper_comparison": upper[2],
        "ratio": float(ratio_draws.median()),
        "ratio_lower": float(ratio_draws.quantile(tail)),
        "ratio_upper": float(ratio_draws.quantile(1 - tail)),
        "p_higher": float((ratio_draws > 1).mean()),
        "withheld": withheld,
    }
    if withheld:
        for key in row:
            if key not in ("measure", "label", "withheld"):
                row[key] = np.nan
    return row


def class_rates(
    table: pd.DataFrame,
    territory: pd.DataFrame,
    measures: Sequence[Measure],
    labels: Sequence[str],
    threshold: int = DEFAULT_THRESHOLD,
    suppressed: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Observed rates per 1 000 inhabitants by class and group (``population_class``,
    ``group``, ``communes``, ``population``, one column per measure code); a person-count rate
    whose class-and-group count is small (or hides a small part, :func:`withhold`) is NaN, and so
    is the other group of its class (the pair sums to the class total)."""
    counts = table.set_index("code_commune")
    rows = []
    for label in labels:
        in_class = territory[territory["population_class"] == label]
        if not in_class["has_qpv"].any():
            continue
        pair = []
        for group, flag in ((WITH, True), (WITHOUT, False)):
            members = in_class[in_class["has_qpv"] == flag]
            if members.empty:
                continue
            sub = counts.reindex(members["code_commune"])
            row: dict[str, object] = {
                "population_class": label,
                "group": group,
                "communes": len(members),
                "population": int(members["population"].sum()),
            }
            for m in measures:
                total = float(sub[m.count].sum())
                row[m.code] = (
                    total / float(sub["population"].sum()) * 1000.0
                    if sub["population"].sum() > 0
                    else np.nan
                )
                row[f"_small_{m.code}"] = withhold(
                    table, list(members["code_commune"]), m.count, suppressed, threshold
                )
            pair.append(row)
        for m in measures:
            if any(r[f"_small_{m.code}"] for r in pair):
                for r in pair:
                    r[m.code] = np.nan
        rows += pair
    frame = pd.DataFrame(rows)
    return frame.drop(columns=[c for c in frame.columns if c.startswith("_small_")])
