"""Property tests (hypothesis) of whole index builds: the invariants a composite index must keep.

- monotonicity: raising a positive-direction indicator never lowers the unit's scores
  (min-max normalisation, arithmetic aggregation);
- ranks are invariant to a positive affine rescaling of an indicator under min-max;
- scores are invariant to the scale of sibling weights;
- a missing child is dropped and the remaining weights are re-normalised to sum to one;
- min-max [0, 100] arithmetic scores lie in [0, 100].

Data are integers (with missing cells) and rescaling factors are k·2^−e so that the rescaled
values are exact in floating point: the tests then check the method, not rounding noise, and
rank comparisons are exact (no tie broken by a last-bit difference).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from barometre.composite import build_index, spec_from_dict
from barometre.composite.spec import IndexSpec
from barometre.composite.steps import weighted_mean

INDICATORS = ["i1", "i2", "i3", "i4", "i5"]
DIRECTIONS = {"i1": 1, "i2": -1, "i3": 1, "i4": 1, "i5": -1}
POSITIVE = [c for c in INDICATORS if DIRECTIONS[c] == 1]
PARENTS = {"i1": "c1", "i2": "c1", "i3": "c2", "i4": "c2", "i5": "c2"}
AGGREGATES = ["c1", "c2", "idx"]

PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def make_spec(weights: dict[str, float] | None = None, **steps: dict[str, Any]) -> IndexSpec:
    """Three-level spec (5 indicators -> 2 criteria -> index), min-max [0, 100], arithmetic."""
    weights = weights or {}
    raw = {
        "name": "property",
        "units": {"code": "code"},
        "indicators": [
            {
                "code": c,
                "parent": PARENTS[c],
                "direction": DIRECTIONS[c],
                "weight": weights.get(c, 1.0),
            }
            for c in INDICATORS
        ],
        "aggregates": [
            {"code": "idx"},
            {"code": "c1", "parent": "idx", "weight": weights.get("c1", 1.0)},
            {"code": "c2", "parent": "idx", "weight": weights.get("c2", 1.0)},
        ],
        "steps": {
            "impute": {"method": "none"},
            "treat": {"method": "none"},
            "normalise": {"method": "minmax", "low": 0, "high": 100},
            "aggregate": {"method": "arithmetic"},
            **steps,
        },
    }
    return spec_from_dict(raw)


cell = st.one_of(st.integers(-1000, 1000).map(float), st.just(float("nan")))


@st.composite
def unit_tables(draw: st.DrawFn, min_units: int = 3, max_units: int = 8) -> pd.DataFrame:
    """A unit x indicator table of integers with some missing cells; codes u0, u1, ..."""
    n = draw(st.integers(min_units, max_units))
    columns = {c: draw(st.lists(cell, min_size=n, max_size=n)) for c in INDICATORS}
    table = pd.DataFrame(columns)
    table.insert(0, "code", [f"u{k}" for k in range(n)])
    return table


node_weights = st.fixed_dictionaries(
    {code: st.integers(1, 5).map(float) for code in [*INDICATORS, "c1", "c2"]}
)
# exact positive factors k·2^−e (k <= 1000, e <= 10)
exact_factor = st.builds(lambda k, e: k * 2.0**-e, st.integers(1, 1000), st.integers(0, 10))


# --- monotonicity ----------------------------------------------------------------------------
@PROPERTY_SETTINGS
@given(
    table=unit_tables(),
    weights=node_weights,
    data=st.data(),
    increase=st.one_of(st.integers(1, 2000).map(float), st.floats(1e-6, 1e4)),
)
def test_raising_a_positive_indicator_never_lowers_scores(
    table: pd.DataFrame, weights: dict[str, float], data: st.DataObject, increase: float
) -> None:
    spec = make_spec(weights)
    unit = data.draw(st.integers(0, len(table) - 1), label="unit")
    indicator = data.draw(st.sampled_from(POSITIVE), label="indicator")
    if np.isnan(table.at[unit, indicator]):
        table.at[unit, indicator] = 0.0
    raised = table.copy()
    raised.at[unit, indicator] += increase
    before = build_index(spec, table).aggregated.iloc[unit]
    after = build_index(spec, raised).aggregated.iloc[unit]
    for code in [indicator, PARENTS[indicator], "idx"]:
        assert not np.isnan(after[code])
        assert after[code] >= before[code], (code, before[code], after[code])


# --- invariance to rescaling ------------------------------------------------------------------
@PROPERTY_SETTINGS
@given(
    table=unit_tables(),
    weights=node_weights,
    indicator=st.sampled_from(INDICATORS),
    factor=exact_factor,
    shift=st.integers(-(10**6), 10**6).map(float),
)
def test_ranks_invariant_to_positive_affine_rescaling_under_minmax(
    table: pd.DataFrame, weights: dict[str, float], indicator: str, factor: float, shift: float
) -> None:
    spec = make_spec(weights)
    rescaled = table.copy()
    rescaled[indicator] = table[indicator] * factor + shift
    base, other = build_index(spec, table), build_index(spec, rescaled)
    pd.testing.assert_frame_equal(base.normalised, other.normalised)
    rank_columns = [f"rank_{c}" for c in AGGREGATES]
    pd.testing.assert_frame_equal(
        base.results[rank_columns].sort_index(), other.results[rank_columns].sort_index()
    )


@PROPERTY_SETTINGS
@given(
    table=unit_tables(),
    indicator=st.sampled_from(INDICATORS),
    factor=st.floats(1e-3, 1e3),
    shift=st.floats(-1e3, 1e3),
)
def test_minmax_normalised_values_invariant_to_any_affine_rescaling(
    table: pd.DataFrame, indicator: str, factor: float, shift: float
) -> None:
    spec = make_spec()
    rescaled = table.copy()
    rescaled[indicator] = table[indicator] * factor + shift
    base, other = build_index(spec, table), build_index(spec, rescaled)
    # inexact factors: equal up to rounding (cancellation when |shift| >> factor·range)
    assert_allclose(other.normalised.to_numpy(), base.normalised.to_numpy(), rtol=0, atol=1e-6)


@PROPERTY_SETTINGS
@given(
    table=unit_tables(),
    weights=node_weights,
    parent=st.sampled_from(AGGREGATES),
    factor=exact_factor,
)
def test_scores_and_ranks_invariant_to_the_scale_of_sibling_weights(
    table: pd.DataFrame, weights: dict[str, float], parent: str, factor: float
) -> None:
    children = [
        c for c in [*INDICATORS, "c1", "c2"] if {**PARENTS, "c1": "idx", "c2": "idx"}[c] == parent
    ]
    scaled = {**weights, **{c: weights[c] * factor for c in children}}
    base = build_index(make_spec(weights), table)
    other = build_index(make_spec(scaled), table)
    pd.testing.assert_frame_equal(base.aggregated, other.aggregated)
    pd.testing.assert_frame_equal(base.results, other.results)


@PROPERTY_SETTINGS
@given(table=unit_tables(), weights=node_weights, factor=st.floats(1e-3, 1e3))
def test_scores_invariant_to_any_weight_scale_through_a_weight_set(
    table: pd.DataFrame, weights: dict[str, float], factor: float
) -> None:
    spec = make_spec(weights)
    spec.weight_sets["scaled"] = {code: w * factor for code, w in weights.items()}
    base = build_index(spec, table)
    other = build_index(spec, table, weight_set="scaled")
    scores = AGGREGATES
    assert_allclose(
        other.aggregated[scores].to_numpy(),
        base.aggregated[scores].to_numpy(),
        rtol=1e-12,
        atol=1e-10,
    )


# --- re-normalisation of weights ---------------------------------------------------------------
@PROPERTY_SETTINGS
@given(table=unit_tables(), weights=node_weights)
def test_missing_children_dropped_and_weights_renormalised(
    table: pd.DataFrame, weights: dict[str, float]
) -> None:
    spec = make_spec(weights)
    build = build_index(spec, table)
    aggregated = build.aggregated
    for parent in AGGREGATES:
        kids = spec.children(parent)
        for unit in aggregated.index:
            present = [k for k in kids if not np.isnan(aggregated.at[unit, k])]
            if not present:
                assert np.isnan(aggregated.at[unit, parent])
                continue
            total = sum(weights[k] for k in present)
            share = {k: weights[k] / total for k in present}
            assert sum(share.values()) == pytest.approx(1.0, abs=1e-15)
            expected = sum(share[k] * aggregated.at[unit, k] for k in present)
            assert aggregated.at[unit, parent] == pytest.approx(expected, rel=1e-12, abs=1e-12)


matrix_rows = st.integers(1, 6)
positive_value = st.floats(0.01, 1000.0)


@PROPERTY_SETTINGS
@given(
    data=st.data(),
    n_children=st.integers(2, 5),
    method_p=st.sampled_from(
        [
            ("arithmetic", None),
            ("geometric", None),
            ("harmonic", None),
            ("generalised", 2.0),
            ("generalised", 0.5),
        ]
    ),
)
def test_a_missing_child_weighs_like_an_absent_child(
    data: st.DataObject, n_children: int, method_p: tuple[str, float | None]
) -> None:
    """For every mean, a NaN child gives the same score as removing that child altogether."""
    method, p = method_p
    n_rows = data.draw(matrix_rows, label="rows")
    values = np.array(
        data.draw(
            st.lists(
                st.lists(positive_value, min_size=n_children, max_size=n_children),
                min_size=n_rows,
                max_size=n_rows,
            ),
            label="values",
        )
    )
    weights = np.array(
        data.draw(st.lists(st.floats(0.1, 10.0), min_size=n_children, max_size=n_children))
    )
    missing = data.draw(st.integers(0, n_children - 1), label="missing child")
    with_nan = values.copy()
    with_nan[:, missing] = np.nan
    keep = [k for k in range(n_children) if k != missing]
    assert_allclose(
        weighted_mean(with_nan, weights, method, p),
        weighted_mean(values[:, keep], weights[keep], method, p),
        rtol=1e-12,
    )


# --- bounds ----------------------------------------------------------------------------------
@PROPERTY_SETTINGS
@given(
    table=unit_tables(),
    weights=st.fixed_dictionaries(
        {code: st.integers(0, 5).map(float) for code in [*INDICATORS, "c1", "c2"]}
    ),
)
def test_minmax_0_100_arithmetic_scores_lie_in_0_100(
    table: pd.DataFrame, weights: dict[str, float]
) -> None:
    build = build_index(make_spec(weights), table)
    values = build.aggregated.to_numpy(dtype=float)
    observed = values[~np.isnan(values)]
    # Strict bounds: with integer weights w·100 and Σw·100 are exact and rounding is monotone,
    # so Σwx/Σw cannot exceed 100 at any level (it could with the former Σ(w/Σw)x).
    assert np.all(observed >= 0.0)
    assert np.all(observed <= 100.0)
    # a score exists exactly where a rank exists, and ranks run from 1 to the number of scores
    for code in AGGREGATES:
        scores, ranks = build.results[code], build.results[f"rank_{code}"]
        assert (scores.isna() == ranks.isna()).all()
        if scores.notna().any():
            assert ranks.min() == 1 and ranks.max() <= scores.notna().sum()


def test_weighted_mean_of_equal_values_stays_within_range() -> None:
    """Regression: Σ(w/Σw)x gave 100.00000000000001 for weights (1, 7, 1); Σwx/Σw gives 100."""
    out = weighted_mean(np.array([[100.0, 100.0, 100.0]]), np.array([1.0, 7.0, 1.0]))
    assert out[0] <= 100.0
