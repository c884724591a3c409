"""The batch steps (:mod:`barometre.robustness.batch`) agree row for row with the engine.

Every row of a (runs × units) matrix is compared with the engine's
:func:`~barometre.composite.steps.treat_indicator` / :func:`~barometre.composite.steps.normalise_column`
applied to that row alone: identical NaN masks, values equal within 1e-12 relative (the batch
functions are in fact bit-identical), identical rank orders of the outputs. The data cover what
the outlier rule branches on: rows that pass the check, that are winsorised (ties at the extreme,
points replaced twice) and then pass, that fall back to the log transform with either skew sign,
count-like rows with ~60 % zeros, missing values (shared by all rows or not), constant rows,
tiny rows (n < 4) and rows whose skewness lies on the threshold up to the last bit.
"""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from barometre.composite import steps
from barometre.composite.steps import StepError
from barometre.robustness.batch import normalise_batch, treat_batch, type2_moments

RTOL = 1e-12
TREAT_METHODS = ["none", "coinr_default", "log", "winsorise_quantiles"]
NORMALISE_METHODS = ["none", "minmax", "zscore", "percentile_rank", "rank", "goalposts"]
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


# --- reference and comparison ----------------------------------------------------------------
def engine_treat(x: np.ndarray, method: str, **params) -> tuple[np.ndarray, list]:
    rows, records = [], []
    for row in x:
        with warnings.catch_warnings():  # an all-missing row warns in np.nanquantile
            warnings.simplefilter("ignore", RuntimeWarning)
            treated, record = steps.treat_indicator(pd.Series(row), method, **params)
        rows.append(treated.to_numpy())
        records.append(record)
    return np.array(rows).reshape(x.shape), records


def engine_normalise(x: np.ndarray, method: str, **params) -> np.ndarray:
    rows = [steps.normalise_column(pd.Series(row), method, **params).to_numpy() for row in x]
    return np.array(rows).reshape(x.shape)


def assert_rows_match(batch: np.ndarray, expected: np.ndarray) -> None:
    assert batch.shape == expected.shape
    nan_b, nan_e = np.isnan(batch), np.isnan(expected)
    assert np.array_equal(nan_b, nan_e), (
        f"NaN masks differ in rows {np.flatnonzero((nan_b != nan_e).any(axis=1))}"
    )
    b, e = batch[~nan_b], expected[~nan_e]
    bad = np.abs(b - e) > RTOL * np.maximum(np.abs(b), np.abs(e))
    assert not bad.any(), f"{bad.sum()} values differ, e.g. {b[bad][:3]} vs {e[bad][:3]}"
    # Identical rank orders, ties included.
    ranks_b = pd.DataFrame(batch).rank(axis=1, method="min")
    ranks_e = pd.DataFrame(expected).rank(axis=1, method="min")
    pd.testing.assert_frame_equal(ranks_b, ranks_e)


# --- data ------------------------------------------------------------------------------------
def count_like(rng: np.random.Generator, runs: int, units: int) -> np.ndarray:
    """Poisson counts on a gamma mixture with ~60 % structural zeros (raw counts and rates)."""
    lam = rng.gamma(0.6, 3.0, size=(runs, units))
    counts = rng.poisson(lam) * (rng.random((runs, units)) > 0.6)
    return counts.astype(float)


def crafted_rows(rng: np.random.Generator, units: int) -> dict[str, np.ndarray]:
    """One row per case the outlier rule branches on, each of length ``units``."""
    base = rng.normal(10.0, 1.0, units)
    rows = {}
    rows["pass"] = base.copy()
    high = base.copy()
    high[:3] = 40.0  # three tied maxima: one step replaces all three
    rows["winsorise_high_ties"] = high
    low = base.copy()
    low[:2] = -25.0
    low[2] = -24.0  # two tied minima, then a third point
    rows["winsorise_low"] = low
    twice = base.copy()
    twice[0], twice[1] = 60.0, 45.0  # the maximum is replaced at two steps, counted once
    rows["winsorise_twice"] = twice
    zipf = (1.0 / np.arange(1, units + 1)) ** 3  # too heavy a tail for 5 winsorised points
    rows["log_positive"] = rng.permutation(zipf)
    rows["log_negative"] = -rng.permutation(zipf) * 3.0
    rows["lognormal"] = rng.lognormal(0.0, 1.5, units)
    rates = count_like(rng, 1, units)[0] / rng.uniform(100, 10_000, units) * 1000
    rows["count_rates"] = rates
    rows["count_raw"] = count_like(rng, 1, units)[0]
    rows["constant"] = np.full(units, 3.0)
    rows["constant_inexact"] = np.full(units, 0.1)  # its mean is not exactly 0.1
    rows["all_zero_but_one"] = np.where(np.arange(units) == 5, 7.0, 0.0)
    tiny = np.full(units, np.nan)
    tiny[[1, 4, 7]] = [1.0, 50.0, 1.0]
    rows["tiny_3"] = tiny
    tiny4 = np.full(units, np.nan)
    tiny4[[0, 2, 3, 9]] = [0.0, 0.0, 0.0, 3.7]  # skewness exactly 2.0: fails the check
    rows["threshold_fail"] = tiny4
    tiny4b = np.full(units, np.nan)
    tiny4b[[0, 2, 3, 9]] = [0.0, 0.0, 0.0, 1.0]  # skewness 2 - 2^-52: passes
    rows["threshold_pass"] = tiny4b
    rows["all_missing"] = np.full(units, np.nan)
    return rows


def matrix_of(rows: dict[str, np.ndarray]) -> np.ndarray:
    return np.vstack(list(rows.values()))


# --- outlier treatment -----------------------------------------------------------------------
def test_crafted_rows_cover_every_branch_and_match_the_engine():
    rng = np.random.default_rng(20240611)
    rows = crafted_rows(rng, 60)
    x = matrix_of(rows)
    expected, records = engine_treat(x, "coinr_default")
    applied = dict(zip(rows, (r.applied for r in records), strict=True))
    # The data must exercise every branch, else the comparison proves little.
    assert applied["pass"] == "none"
    assert applied["winsorise_high_ties"] == "winsorised"
    assert applied["winsorise_low"] == "winsorised"
    assert applied["winsorise_twice"] == "winsorised"
    assert applied["log_positive"] == "log" and applied["log_negative"] == "log"
    by_name = dict(zip(rows, records, strict=True))
    # Skewness 2.0 (fails, one point winsorised) and 2 - 2^-52 (passes): the last bit decides.
    assert by_name["threshold_fail"].skew_before == 2.0
    assert applied["threshold_fail"] == "winsorised" and applied["threshold_pass"] == "none"
    assert by_name["winsorise_high_ties"].n_winsorised == 3
    assert by_name["winsorise_low"].winsorised_low and by_name["log_negative"].skew_before < 0
    assert by_name["winsorise_twice"].n_winsorised == 2
    assert_rows_match(treat_batch(x, "coinr_default"), expected)


@pytest.mark.parametrize("method", TREAT_METHODS)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_count_like_matrices_match_the_engine(method, seed):
    rng = np.random.default_rng(seed)
    runs, units = 12, 400
    x = count_like(rng, runs, units) / rng.uniform(100, 10_000, units) * 1000
    x[:, rng.choice(units, 30, replace=False)] = np.nan  # missing in every run
    x[3] = -x[3]  # negative skew
    x[4, rng.choice(units, 5, replace=False)] = np.nan  # a different NaN pattern
    x[5] = matrix_of(crafted_rows(rng, units))[1]
    x[6] = 0.0
    for winmax in (0, 1, 5, 50):
        expected, _ = engine_treat(x, method, winmax=winmax)
        assert_rows_match(treat_batch(x, method, winmax=winmax), expected)


@pytest.mark.parametrize("method", TREAT_METHODS)
def test_mixed_matrix_every_crafted_row_and_small_chunks(method):
    rng = np.random.default_rng(7)
    x = matrix_of(crafted_rows(rng, 80))
    expected, _ = engine_treat(x, method)
    assert_rows_match(treat_batch(x, method), expected)
    # Chunks of one or two rows, and rows grouped by their number of observed values.
    assert_rows_match(treat_batch(x, method, chunk_elements=1), expected)
    assert_rows_match(treat_batch(x, method, chunk_elements=170), expected)


def test_thresholds_and_quantiles_are_passed_through():
    rng = np.random.default_rng(11)
    x = np.vstack([rng.lognormal(0, s, 200) for s in (0.3, 0.6, 0.9, 1.2)])
    for params in (
        {"skew_threshold": 0.5, "kurt_threshold": 0.5, "winmax": 20},
        {"skew_threshold": 1.0, "kurt_threshold": 10.0},
        {"quantiles": (0.2, 0.7)},
        {"quantiles": (0.0, 1.0)},
    ):
        for method in ("coinr_default", "log", "winsorise_quantiles"):
            expected, _ = engine_treat(x, method, **params)
            assert_rows_match(treat_batch(x, method, **params), expected)


def straddling_pair(base: np.ndarray, stat, target: float) -> np.ndarray:
    """Two rows differing in their last value by one ulp, whose engine statistic lies below
    ``target`` for the first and at or above it for the second (bisection on that value)."""
    lo, hi = 0.0, 1e3
    row = base.copy()

    def value(t: float) -> float:
        row[-1] = t
        return stat(row)

    assert value(lo) < target <= value(hi)
    while (mid := (lo + hi) / 2) not in (lo, hi):
        lo, hi = (mid, hi) if value(mid) < target else (lo, mid)
    pair = np.vstack([base, base])
    pair[:, -1] = lo, hi
    return pair


@pytest.mark.parametrize(
    ("stat", "target", "params"),
    [
        (steps.skewness, 2.0, {}),
        (steps.kurtosis, 3.5, {"skew_threshold": 0.1, "kurt_threshold": 3.5}),
    ],
)
def test_decisions_on_the_threshold_at_large_n(stat, target, params):
    """At n = 2 000 the fast moments of the batch differ from the engine's in the last bits;
    rows within their error bound of a threshold must be decided exactly as the engine does."""
    pairs = [
        straddling_pair(np.random.default_rng(seed).normal(size=2_000), stat, target)
        for seed in range(40)
    ]
    x = np.vstack(pairs)
    expected, records = engine_treat(x, "coinr_default", **params)
    decided = [r.pass_before for r in records]
    assert all(a and not b for a, b in zip(decided[0::2], decided[1::2], strict=True))
    assert_rows_match(treat_batch(x, "coinr_default", **params), expected)


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False)
tie_prone = st.sampled_from([0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 10.0, 100.0, -7.0])
cell = st.one_of(tie_prone, finite, st.just(np.nan))


@st.composite
def matrices(draw, elements=cell):
    runs = draw(st.integers(1, 5))
    units = draw(st.integers(1, 30))  # the engine itself needs one unit
    x = draw(
        hnp.arrays(float, (runs, units), elements=draw(st.sampled_from([tie_prone, elements])))
    )
    if draw(st.booleans()):  # the same NaN pattern in every row, as in practice
        shared = np.isnan(x[0])
        x = np.where(np.isnan(x), 0.0, x)
        x[:, shared] = np.nan
    return x


@st.composite
def heavy_tailed_matrices(draw):
    """Longer rows from a seeded generator: zero-inflated heavy tails of either sign, tied
    extremes and missing values, so that every branch of the rule (log included) is drawn."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    runs, units = draw(st.integers(1, 6)), draw(st.integers(4, 200))
    tail = draw(st.sampled_from([0.3, 1.0, 2.0, 4.0]))
    x = rng.pareto(tail, (runs, units)) * (
        rng.random((runs, units)) > draw(st.sampled_from([0, 0.6, 0.9]))
    )
    x *= np.where(rng.random((runs, 1)) < 0.5, -1.0, 1.0)  # either skew sign, row by row
    ties = draw(st.integers(0, 4))
    if ties:
        x[:, :ties] = x.max(axis=1, keepdims=True)
    missing = rng.random(units) < draw(st.sampled_from([0, 0.1, 0.5]))
    x[:, missing] = np.nan
    if draw(st.booleans()):
        x[rng.random((runs, units)) < 0.05] = np.nan  # NaN patterns that differ between rows
    return x


@PROPERTY_SETTINGS
@given(
    x=st.one_of(matrices(), heavy_tailed_matrices()),
    method=st.sampled_from(TREAT_METHODS),
    winmax=st.integers(0, 6),
)
def test_treat_batch_matches_engine_on_random_matrices(x, method, winmax):
    expected, _ = engine_treat(x, method, winmax=winmax)
    assert_rows_match(treat_batch(x, method, winmax=winmax), expected)


@PROPERTY_SETTINGS
@given(x=matrices())
def test_type2_moments_are_the_engines(x):
    for row in x:
        c = row[~np.isnan(row)][None, :]
        skew, kurt = type2_moments(c)
        with np.errstate(all="ignore"):  # underflowing spreads: 0/0 in the engine too
            wanted = (steps.skewness(row), steps.kurtosis(row))
        for got, want in zip((skew[0], kurt[0]), wanted, strict=True):
            assert (np.isnan(got) and np.isnan(want)) or got == want


def test_input_is_not_modified_and_errors():
    rng = np.random.default_rng(3)
    x = count_like(rng, 3, 50)
    copy = x.copy()
    treat_batch(x, "coinr_default")
    normalise_batch(x, "percentile_rank")
    assert np.array_equal(x, copy)
    with pytest.raises(NotImplementedError, match="Box-Cox"):
        treat_batch(x, "boxcox")
    with pytest.raises(StepError):
        treat_batch(x, "nope")
    with pytest.raises(StepError):
        normalise_batch(x, "nope")
    with pytest.raises(ValueError):
        treat_batch(x[0], "none")
    with pytest.raises(StepError, match="cannot divide"):
        normalise_batch(np.zeros((2, 5)), "distance_to_max")


def test_memory_is_bounded_by_the_chunk():
    rng = np.random.default_rng(5)
    x = count_like(rng, 100, 5_000)
    chunk = 1 << 15
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        treat_batch(x, "coinr_default", chunk_elements=chunk)
        normalise_batch(x, "percentile_rank", chunk_elements=chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The output and a copy of the input, plus temporaries of a few chunks' size.
    assert peak < 2 * x.nbytes + 40 * chunk * 8


# --- normalisation ---------------------------------------------------------------------------
def normalise_params(method: str, direction: int) -> dict:
    params: dict = {"direction": direction}
    if method == "goalposts":
        params["goalposts"] = (-3.0, 40.0)
    if method == "minmax":
        params.update(low=1.0, high=10.0)
    if method == "zscore":
        params.update(mean=100.0, sd=15.0)
    if method == "percentile_rank":
        params["scale"] = 1.0
    return params


@pytest.mark.parametrize("method", NORMALISE_METHODS + ["distance_to_max"])
@pytest.mark.parametrize("direction", [1, -1])
def test_normalise_crafted_and_count_like_rows(method, direction):
    rng = np.random.default_rng(17)
    rows = crafted_rows(rng, 70)
    x = np.vstack([matrix_of(rows), count_like(rng, 10, 70)])
    x[-3:, :4] = np.nan
    if method == "distance_to_max":  # the reference must exist and be non-zero
        x = np.abs(x[~np.isnan(x).all(axis=1)]) + 0.5
        if direction == 1:  # a zero that is not the reference (direction -1 divides by x)
            x[-1, 3] = 0.0
    params = normalise_params(method, direction)
    expected = engine_normalise(x, method, **params)
    assert_rows_match(normalise_batch(x, method, **params), expected)
    assert_rows_match(normalise_batch(x, method, chunk_elements=1, **params), expected)


@PROPERTY_SETTINGS
@given(
    x=matrices(),
    method=st.sampled_from(NORMALISE_METHODS),
    direction=st.sampled_from([1, -1]),
)
def test_normalise_batch_matches_engine_on_random_matrices(x, method, direction):
    params = normalise_params(method, direction)
    assert_rows_match(normalise_batch(x, method, **params), engine_normalise(x, method, **params))


def test_percentile_ranks_average_ties():
    x = np.array([[3.0, 1.0, 3.0, np.nan, 2.0, 3.0]])
    out = normalise_batch(x, "percentile_rank", scale=1.0)
    np.testing.assert_array_equal(np.isnan(out), np.isnan(x))
    # ranks 4, 1, 4, -, 2, 4 over n = 5
    np.testing.assert_allclose(out[0, [0, 1, 2, 4, 5]], np.array([3.5, 0.5, 3.5, 1.5, 3.5]) / 5)
