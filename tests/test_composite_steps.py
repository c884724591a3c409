"""Exact, hand-computed small cases for every step and every method of the composite engine.

Each expected value is worked out by hand in the test (or in its comment) rather than copied from
the engine's output, so that a change of convention makes a test fail.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from barometre.composite import steps
from barometre.composite.steps import (
    StepError,
    denominate,
    impute,
    kurtosis,
    log_transform,
    normalise,
    normalise_column,
    passes_skew_kurt,
    rank_desc,
    rank_within,
    screen,
    skewness,
    treat,
    treat_indicator,
    weighted_mean,
    winsorise_coinr,
)

NAN = float("nan")
# The COINr documentation example: 1..10 with two outliers.
X_OUTLIERS = np.array([*range(1, 11), 30, 100], dtype=float)


def assert_series(actual: pd.Series, expected: list[float], index: list[str] | None = None) -> None:
    assert_allclose(
        actual.to_numpy(dtype=float), np.array(expected, dtype=float), rtol=0, atol=1e-12
    )
    if index is not None:
        assert list(actual.index) == index


# --- denominate -------------------------------------------------------------------------------
def test_denominate_with_scale_and_zero_or_missing_denominator() -> None:
    units = ["a", "b", "c", "d"]
    data = pd.DataFrame(
        {"assoc": [10.0, 20.0, 30.0, 5.0], "score": [1.0, 2.0, 3.0, 4.0]}, index=units
    )
    population = pd.DataFrame({"pop": [2000.0, 0.0, NAN, 500.0]}, index=units)
    out = denominate(data, {"assoc": "pop", "score": None}, population, scale=1000)
    # 10/2000*1000 = 5; zero and missing denominators give NaN (never inf); 5/500*1000 = 10.
    assert_series(out["assoc"], [5.0, NAN, NAN, 10.0], units)
    assert_series(out["score"], [1.0, 2.0, 3.0, 4.0])
    assert not np.isinf(out.to_numpy()).any()
    # pure function: the input is untouched
    assert data["assoc"].tolist() == [10.0, 20.0, 30.0, 5.0]


def test_denominate_default_scale_is_one() -> None:
    data = pd.DataFrame({"x": [3.0, 9.0]})
    out = denominate(data, {"x": "n"}, pd.DataFrame({"n": [4.0, 3.0]}))
    assert_series(out["x"], [0.75, 3.0])


def test_denominate_unknown_denominator_column() -> None:
    data = pd.DataFrame({"x": [1.0]})
    with pytest.raises(StepError, match="indicator 'x': denominator column 'pop'"):
        denominate(data, {"x": "pop"}, pd.DataFrame({"other": [1.0]}))


# --- impute ----------------------------------------------------------------------------------
UNITS8 = [f"u{n}" for n in range(8)]
GROUPS8 = pd.Series(["x", "x", "x", "x", "y", "z", "z", "z"], index=UNITS8)


def impute_frame() -> pd.DataFrame:
    # Group x observes 1, 3, 8 (mean 4, median 3); y observes nothing; z observes 10, 60
    # (mean 35, median 35). Column b is complete.
    return pd.DataFrame(
        {
            "a": [1.0, 3.0, 8.0, NAN, NAN, 10.0, NAN, 60.0],
            "b": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        },
        index=UNITS8,
    )


def test_impute_none_returns_a_copy() -> None:
    data = impute_frame()
    out = impute(data, "none")
    pd.testing.assert_frame_equal(out, data)
    assert out is not data


def test_impute_mean() -> None:
    data = impute_frame()
    out = impute(data, "mean")
    # mean of 1, 3, 8, 10, 60 = 82/5 = 16.4
    assert_series(out["a"], [1, 3, 8, 16.4, 16.4, 10, 16.4, 60])
    assert_series(out["b"], list(range(1, 9)))
    assert data["a"].isna().sum() == 3  # input untouched


def test_impute_median() -> None:
    out = impute(impute_frame(), "median")
    assert_series(out["a"], [1, 3, 8, 8, 8, 10, 8, 60])


def test_impute_group_mean_group_without_observation_stays_missing() -> None:
    out = impute(impute_frame(), "group_mean", GROUPS8)
    # x -> (1 + 3 + 8)/3 = 4; y has no observed value -> NaN; z -> (10 + 60)/2 = 35
    assert_series(out["a"], [1, 3, 8, 4, NAN, 10, 35, 60])
    assert_series(out["b"], list(range(1, 9)))


def test_impute_group_median() -> None:
    out = impute(impute_frame(), "group_median", GROUPS8)
    # x -> median(1, 3, 8) = 3 (the mean would be 4); z -> median(10, 60) = 35
    assert_series(out["a"], [1, 3, 8, 3, NAN, 10, 35, 60])


def test_impute_group_median_differs_from_group_mean() -> None:
    data = pd.DataFrame({"a": [1.0, 2.0, 9.0, NAN]}, index=list("abcd"))
    groups = pd.Series(["g"] * 4, index=list("abcd"))
    assert impute(data, "group_median", groups).at["d", "a"] == 2.0
    assert impute(data, "group_mean", groups).at["d", "a"] == 4.0


def test_impute_group_method_needs_groups() -> None:
    with pytest.raises(StepError, match="needs a group column"):
        impute(impute_frame(), "group_mean", None)


# --- screen ----------------------------------------------------------------------------------
def screen_frame() -> pd.DataFrame:
    # data shares: A 1.0, B 0.75, C 0.5, D 0.25
    return pd.DataFrame(
        {
            "i1": [1.0, 1.0, 1.0, 1.0],
            "i2": [1.0, 1.0, 1.0, NAN],
            "i3": [1.0, 1.0, NAN, NAN],
            "i4": [1.0, NAN, NAN, NAN],
        },
        index=list("ABCD"),
    )


def test_screen_threshold() -> None:
    data = screen_frame()
    kept, report = screen(data, data, 0.6)
    assert list(kept.index) == ["A", "B"]
    assert report["data_share"].tolist() == [1.0, 0.75, 0.5, 0.25]
    assert report["kept"].tolist() == [True, True, False, False]
    assert report.loc["C", "reason"] == "data share below threshold"


def test_screen_threshold_is_inclusive() -> None:
    data = screen_frame()
    kept, _ = screen(data, data, 0.5)
    assert list(kept.index) == ["A", "B", "C"]


def test_screen_force_in_and_out() -> None:
    data = screen_frame()
    kept, report = screen(data, data, 0.6, force_include=["D"], force_exclude=["A"])
    assert list(kept.index) == ["B", "D"]
    assert report.loc["D", "reason"] == "forced in"
    assert report.loc["A", "reason"] == "forced out"
    assert report["kept"].tolist() == [False, True, False, True]


def test_screen_force_out_beats_force_in() -> None:
    data = screen_frame()
    kept, report = screen(data, data, 0.0, force_include=["B"], force_exclude=["B"])
    assert list(kept.index) == ["A", "C", "D"]
    assert report.loc["B", "reason"] == "forced out"


def test_screen_uses_availability_not_data() -> None:
    # Imputed data is complete, but availability (the raw data) decides.
    data = screen_frame().fillna(0.0)
    kept, _ = screen(data, screen_frame(), 0.6)
    assert list(kept.index) == ["A", "B"]
    assert kept.notna().all().all()


# --- skewness and kurtosis -------------------------------------------------------------------
def test_skewness_kurtosis_on_coinr_example() -> None:
    assert skewness(X_OUTLIERS) == pytest.approx(3.0632410342394985, rel=1e-13)
    assert kurtosis(X_OUTLIERS) == pytest.approx(9.741390834569144, rel=1e-13)


def test_skewness_kurtosis_hand_worked() -> None:
    # x = 1, 2, 3, 4, 10: mean 4, d = -3, -2, -1, 0, 6; Σd² = 50, Σd³ = 180, Σd⁴ = 1394, n = 5.
    # g1 = √5·180/50^1.5 = 3.6/√10; G1 = g1·√(5·4)/3 = 1.2·√2.
    # r = 5·1394/50² = 2.788; G2 = ((6)(r − 3) + 6)·4/(3·2) = 4.728·2/3 = 3.152.
    x = np.array([1, 2, 3, 4, 10], dtype=float)
    assert skewness(x) == pytest.approx(1.2 * math.sqrt(2), rel=1e-14)
    assert kurtosis(x) == pytest.approx(3.152, rel=1e-14)
    # the same as scipy's bias-corrected statistics
    assert skewness(x) == pytest.approx(stats.skew(x, bias=False), rel=1e-12)
    assert kurtosis(x) == pytest.approx(stats.kurtosis(x, bias=False), rel=1e-12)


def test_skewness_kurtosis_ignore_nan_and_sign() -> None:
    x = np.array([1, NAN, 2, 3, 4, 10], dtype=float)
    assert skewness(x) == pytest.approx(1.2 * math.sqrt(2), rel=1e-14)
    assert skewness(-x) == pytest.approx(-1.2 * math.sqrt(2), rel=1e-14)
    assert kurtosis(-x) == pytest.approx(3.152, rel=1e-14)


def test_skewness_kurtosis_undefined_cases() -> None:
    assert math.isnan(skewness(np.array([1.0, 2.0])))
    assert math.isnan(kurtosis(np.array([1.0, 2.0, 3.0])))
    assert math.isnan(skewness(np.array([5.0, 5.0, 5.0, 5.0])))
    assert math.isnan(kurtosis(np.array([5.0, 5.0, 5.0, 5.0])))


def test_passes_skew_kurt_rule() -> None:
    # acceptable if |skew| < 2 OR kurtosis < 3.5
    assert passes_skew_kurt(1.9, 10.0, 2.0, 3.5)
    assert passes_skew_kurt(-5.0, 3.4, 2.0, 3.5)
    assert not passes_skew_kurt(2.0, 3.5, 2.0, 3.5)
    assert not passes_skew_kurt(-2.5, 4.0, 2.0, 3.5)
    assert passes_skew_kurt(NAN, 10.0, 2.0, 3.5)


# --- winsorisation (COINr default rule) ------------------------------------------------------
def test_winsorise_coinr_one_point() -> None:
    wins, n_win, high, low = winsorise_coinr(
        X_OUTLIERS, winmax=2, skew_threshold=2.0, kurt_threshold=3.5
    )
    # 100 -> 30 (the largest remaining value); then the check passes, so one point only.
    assert_allclose(wins, [*range(1, 11), 30, 30])
    assert n_win == 1
    assert high.tolist() == [False] * 11 + [True]
    assert not low.any()
    assert not passes_skew_kurt(skewness(X_OUTLIERS), kurtosis(X_OUTLIERS), 2.0, 3.5)
    assert passes_skew_kurt(skewness(wins), kurtosis(wins), 2.0, 3.5)
    # input untouched
    assert X_OUTLIERS[-1] == 100


def test_winsorise_coinr_point_replaced_twice_counts_once() -> None:
    x = np.array([1.0] * 10 + [2.0, 3.0, 50.0, 100.0])
    # step 1: 100 -> 50, still failing (skew 2.29, kurtosis 3.78); step 2: both 50s -> 3.
    one_step, n1, _, _ = winsorise_coinr(x, winmax=1, skew_threshold=2.0, kurt_threshold=3.5)
    assert_allclose(one_step, [1.0] * 10 + [2.0, 3.0, 50.0, 50.0])
    assert n1 == 1
    assert not passes_skew_kurt(skewness(one_step), kurtosis(one_step), 2.0, 3.5)
    wins, n_win, high, _ = winsorise_coinr(x, winmax=5, skew_threshold=2.0, kurt_threshold=3.5)
    assert_allclose(wins, [1.0] * 10 + [2.0, 3.0, 3.0, 3.0])
    # the last point was replaced at both steps: two distinct points, not three replacements
    assert n_win == 2
    assert np.flatnonzero(high).tolist() == [12, 13]


def test_winsorise_coinr_ties_are_all_replaced_and_counted() -> None:
    x = np.array([1.0] * 10 + [2.0, 3.0, 100.0, 100.0])
    wins, n_win, high, _ = winsorise_coinr(x, winmax=5, skew_threshold=2.0, kurt_threshold=3.5)
    assert_allclose(wins, [1.0] * 10 + [2.0, 3.0, 3.0, 3.0])
    assert n_win == 2
    assert high.sum() == 2


def test_winsorise_coinr_negative_skew_works_on_the_low_end() -> None:
    wins, n_win, high, low = winsorise_coinr(
        -X_OUTLIERS, winmax=2, skew_threshold=2.0, kurt_threshold=3.5
    )
    assert_allclose(wins, [-v for v in [*range(1, 11), 30, 30]])
    assert n_win == 1
    assert low.tolist() == [False] * 11 + [True]
    assert not high.any()


def test_winsorise_coinr_passing_indicator_is_untouched() -> None:
    x = np.arange(1.0, 11.0)
    wins, n_win, high, low = winsorise_coinr(x, winmax=5, skew_threshold=2.0, kurt_threshold=3.5)
    assert_allclose(wins, x)
    assert n_win == 0 and not high.any() and not low.any()


def test_winsorise_coinr_keeps_nan() -> None:
    x = np.array([*range(1, 11), NAN, 30, 100], dtype=float)
    wins, n_win, _, _ = winsorise_coinr(x, winmax=2, skew_threshold=2.0, kurt_threshold=3.5)
    assert math.isnan(wins[10])
    assert wins[-1] == 30 and n_win == 1


# --- outlier treatment of one indicator ------------------------------------------------------
def test_treat_coinr_default_winsorises() -> None:
    x = pd.Series(X_OUTLIERS, index=[f"u{n}" for n in range(12)], name="x")
    out, record = treat_indicator(x, "coinr_default", winmax=5)
    assert_series(out, [*range(1, 11), 30, 30])
    assert out.name == "x" and list(out.index) == list(x.index)
    assert record.applied == "winsorised"
    assert record.n_winsorised == 1
    assert record.winsorised_high == ("u11",)
    assert record.winsorised_low == ()
    assert record.pass_before is False and record.pass_final is True
    assert record.skew_before == pytest.approx(3.0632410342394985, rel=1e-13)
    assert record.kurt_before == pytest.approx(9.741390834569144, rel=1e-13)


def test_treat_coinr_default_log_fallback() -> None:
    values = np.array([1.0] * 10 + [2.0, 3.0, 50.0, 100.0])
    x = pd.Series(values, name="x")
    out, record = treat_indicator(x, "coinr_default", winmax=1)
    # one winsorised point is not enough: the winsorisation is dropped and the ORIGINAL values
    # are log-transformed, log(x − min + 0.01·(max − min)) = log(x − 1 + 0.99) = log(x − 0.01)
    assert_series(out, list(np.log(values - 0.01)))
    assert record.applied == "log"
    assert record.n_winsorised == 1
    assert record.pass_after_winsorisation is False


def test_treat_coinr_default_passing_indicator_unchanged() -> None:
    x = pd.Series(np.arange(1.0, 11.0), name="x")
    out, record = treat_indicator(x, "coinr_default")
    assert_series(out, list(range(1, 11)))
    assert record.applied == "none" and record.pass_before is True
    assert record.n_winsorised is None


def test_log_transform_formula_and_mirror() -> None:
    x = np.array([1.0, 2.0, 5.0, 11.0])
    # offset = 0.01·(11 − 1) = 0.1
    assert_allclose(log_transform(x), np.log(np.array([0.1, 1.1, 4.1, 10.1])), rtol=1e-15)
    # negative skew: −log(max − x + offset) keeps the order of units
    assert_allclose(
        log_transform(x, skew=-1.0), -np.log(np.array([10.1, 9.1, 6.1, 0.1])), rtol=1e-15
    )
    assert np.all(np.diff(log_transform(x, skew=-1.0)) > 0)
    # constant: unchanged
    assert_allclose(log_transform(np.array([3.0, 3.0])), [3.0, 3.0])


def test_treat_log_only_when_check_fails() -> None:
    x = pd.Series(X_OUTLIERS, name="x")
    out, record = treat_indicator(x, "log")
    assert_series(out, list(np.log(X_OUTLIERS - 1 + 0.99)))
    assert record.applied == "log"
    calm = pd.Series(np.arange(1.0, 11.0), name="calm")
    out_calm, record_calm = treat_indicator(calm, "log")
    assert_series(out_calm, list(range(1, 11)))
    assert record_calm.applied == "none"


def test_treat_negative_skew_log_preserves_order() -> None:
    x = pd.Series(-X_OUTLIERS, name="x")
    out, record = treat_indicator(x, "log")
    # max = −1, min = −100, offset 0.99: −log(−1 − x + 0.99)
    assert_series(out, list(-np.log(-1 - (-X_OUTLIERS) + 0.99)))
    assert record.applied == "log"
    assert (out.rank().to_numpy() == x.rank().to_numpy()).all()


def test_treat_winsorise_quantiles() -> None:
    x = pd.Series([1.0, 2.0, 3.0, 4.0, 100.0], index=list("abcde"), name="x")
    out, record = treat_indicator(x, "winsorise_quantiles", quantiles=(0.05, 0.95))
    # type-7 quantiles: position 0.05·4 = 0.2 -> 1.2; position 0.95·4 = 3.8 -> 4 + 0.8·96 = 80.8
    assert_series(out, [1.2, 2.0, 3.0, 4.0, 80.8])
    assert record.n_winsorised == 2
    assert record.winsorised_low == ("a",)
    assert record.winsorised_high == ("e",)


def test_treat_winsorise_quantiles_keeps_nan() -> None:
    x = pd.Series([0.0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 100, NAN], name="x")
    out, _ = treat_indicator(x, "winsorise_quantiles", quantiles=(0.1, 0.9))
    # 11 observed values: positions 1 and 9 -> 1 and 9
    assert_series(out, [1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, NAN])


def test_treat_boxcox_given_lambda_matches_scipy_and_formula() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    x = pd.Series(values, name="x")
    out, record = treat_indicator(x, "boxcox", boxcox_lambda=0.5)
    # (x^λ − 1)/λ with λ = 1/2: 2(√x − 1)
    assert_series(out, list(2 * (np.sqrt(values) - 1)))
    assert_allclose(out.to_numpy(), stats.boxcox(values, lmbda=0.5), rtol=1e-15)
    assert record.applied == "boxcox"


def test_treat_boxcox_shifts_non_positive_values() -> None:
    values = np.array([0.0, 1.0, 2.0, 3.0, 100.0, NAN])
    x = pd.Series(values, name="x")
    out, _ = treat_indicator(x, "boxcox", boxcox_lambda=0.0)
    # shifted as for the log: x − 0 + 0.01·100 = x + 1; λ = 0 is the log
    assert_series(out, [0.0, math.log(2), math.log(3), math.log(4), math.log(101), NAN])


def test_treat_boxcox_estimated_lambda_is_scipy_mle() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    out, _ = treat_indicator(pd.Series(values, name="x"), "boxcox")
    expected, _ = stats.boxcox(values)
    assert_allclose(out.to_numpy(), expected, rtol=1e-12)


def test_treat_none_keeps_values_and_records_statistics() -> None:
    x = pd.Series(X_OUTLIERS, name="x")
    out, record = treat_indicator(x, "none")
    assert_series(out, list(X_OUTLIERS))
    assert record.applied == "none"
    assert record.pass_before is False


def test_treat_unknown_method() -> None:
    with pytest.raises(StepError, match="unknown outlier treatment 'trim'"):
        treat_indicator(pd.Series([1.0, 2.0], name="x"), "trim")


def test_treat_frame_per_indicator_and_details() -> None:
    data = pd.DataFrame({"a": X_OUTLIERS, "b": X_OUTLIERS}, index=[f"u{n}" for n in range(12)])
    treated, details, records = treat(data, "coinr_default", per_indicator={"b": "none"}, winmax=5)
    assert treated["a"].iloc[-1] == 30.0 and treated["b"].iloc[-1] == 100.0
    assert details["indicator"].tolist() == ["a", "b"]
    assert details["method"].tolist() == ["coinr_default", "none"]
    assert details["applied"].tolist() == ["winsorised", "none"]
    assert details.loc[0, "winsorised_high"] == "u11"
    assert len(records) == 2
    assert data["a"].iloc[-1] == 100.0


# --- normalise -------------------------------------------------------------------------------
def col(values: list[float], name: str = "x") -> pd.Series:
    return pd.Series(values, index=[f"u{n}" for n in range(len(values))], name=name, dtype=float)


def test_minmax_onto_interval() -> None:
    x = col([2, 4, 6, 10, NAN])
    # (x − 2)/8·(5 − 1) + 1
    assert_series(normalise_column(x, "minmax", low=1, high=5), [1, 2, 3, 5, NAN])
    assert_series(normalise_column(x, "minmax", direction=-1, low=1, high=5), [5, 4, 3, 1, NAN])
    assert_series(normalise_column(x, "minmax"), [0, 25, 50, 100, NAN])


def test_minmax_constant_column_maps_to_midpoint() -> None:
    x = col([7, 7, NAN, 7])
    assert_series(normalise_column(x, "minmax", low=0, high=100), [50, 50, NAN, 50])
    assert_series(normalise_column(x, "minmax", direction=-1, low=1, high=2), [1.5, 1.5, NAN, 1.5])


def test_zscore_with_mean_and_sd() -> None:
    x = col([1, 2, 3, 4, 5])
    # mean 3, sample sd √2.5; target mean 100, sd 10
    expected = [(v - 3) / math.sqrt(2.5) * 10 + 100 for v in [1, 2, 3, 4, 5]]
    assert_series(normalise_column(x, "zscore", mean=100, sd=10), expected)
    assert_series(normalise_column(x, "zscore", direction=-1, mean=100, sd=10), expected[::-1])
    assert_series(
        normalise_column(x, "zscore"), [(v - 3) / math.sqrt(2.5) for v in [1, 2, 3, 4, 5]]
    )


def test_zscore_constant_column_maps_to_mean() -> None:
    assert_series(normalise_column(col([4, 4, NAN]), "zscore", mean=10, sd=2), [10, 10, NAN])


def test_percentile_rank() -> None:
    x = col([10, 20, 20, 40, NAN])
    # average ranks 1, 2.5, 2.5, 4 over n = 4 observed: (r − 0.5)/4·100
    assert_series(normalise_column(x, "percentile_rank"), [12.5, 50, 50, 87.5, NAN])
    assert_series(normalise_column(x, "percentile_rank", direction=-1), [87.5, 50, 50, 12.5, NAN])
    assert_series(normalise_column(x, "percentile_rank", scale=1), [0.125, 0.5, 0.5, 0.875, NAN])


def test_rank_normalisation() -> None:
    x = col([10, 20, 20, 40, NAN])
    assert_series(normalise_column(x, "rank"), [1, 2.5, 2.5, 4, NAN])
    assert_series(normalise_column(x, "rank", direction=-1), [4, 2.5, 2.5, 1, NAN])


def test_distance_to_max() -> None:
    x = col([2, 4, 5, NAN])
    assert_series(normalise_column(x, "distance_to_max"), [40, 80, 100, NAN])
    # direction −1: min/x
    assert_series(normalise_column(x, "distance_to_max", direction=-1), [100, 50, 40, NAN])
    assert_series(normalise_column(x, "distance_to_max", scale=1), [0.4, 0.8, 1.0, NAN])


def test_distance_to_max_zero_reference_is_an_error() -> None:
    with pytest.raises(StepError, match="'x'"):
        normalise_column(col([0, 1, 2]), "distance_to_max", direction=-1)


def test_distance_to_reference() -> None:
    data = pd.DataFrame({"x": [2.0, 4.0, 8.0], "y": [1.0, 5.0, 10.0]}, index=["a", "ref", "c"])
    out = normalise(
        data, "distance_to_reference", {"x": 1, "y": -1}, reference_unit="ref", scale=100
    )
    assert_series(out["x"], [50, 100, 200], ["a", "ref", "c"])
    # direction −1: x_ref/x
    assert_series(out["y"], [500, 100, 50])


def test_distance_to_reference_unknown_unit() -> None:
    data = pd.DataFrame({"x": [1.0, 2.0]}, index=["a", "b"])
    with pytest.raises(StepError, match="reference unit 'zz'"):
        normalise(data, "distance_to_reference", {"x": 1}, reference_unit="zz")


def test_goalposts_with_clipping() -> None:
    x = col([-5, 0, 5, 10, 15, NAN])
    assert_series(normalise_column(x, "goalposts", goalposts=(0, 10)), [0, 0, 50, 100, 100, NAN])
    # direction −1: (hi − x)/(hi − lo)
    assert_series(
        normalise_column(x, "goalposts", direction=-1, goalposts=(0, 10)), [100, 100, 50, 0, 0, NAN]
    )
    assert_series(normalise_column(col([2.5]), "goalposts", goalposts=(0, 10), scale=1), [0.25])


def test_goalposts_missing() -> None:
    with pytest.raises(StepError, match="needs goalposts"):
        normalise_column(col([1, 2]), "goalposts")


def test_normalise_none_applies_direction() -> None:
    assert_series(normalise_column(col([1, -2, 3]), "none"), [1, -2, 3])
    assert_series(normalise_column(col([1, -2, 3]), "none", direction=-1), [-1, 2, -3])


def test_normalise_unknown_method() -> None:
    with pytest.raises(StepError, match="unknown normalisation method 'softmax'"):
        normalise_column(col([1, 2]), "softmax")


def test_normalise_frame_uses_each_direction_and_goalposts() -> None:
    data = pd.DataFrame({"p": [0.0, 5.0, 10.0], "n": [0.0, 5.0, 10.0]}, index=list("abc"))
    out = normalise(data, "minmax", {"p": 1, "n": -1}, low=0, high=10)
    assert_series(out["p"], [0, 5, 10], ["a", "b", "c"])
    assert_series(out["n"], [10, 5, 0])
    gp = normalise(data, "goalposts", {"p": 1, "n": 1}, goalposts={"p": (0, 20), "n": (5, 10)})
    assert_series(gp["p"], [0, 25, 50])
    assert_series(gp["n"], [0, 0, 100])


# --- aggregate -------------------------------------------------------------------------------
def test_weighted_arithmetic_mean_with_missing_children_renormalised() -> None:
    values = np.array([[1.0, 2.0, 3.0], [NAN, 2.0, 4.0], [NAN, NAN, NAN]])
    out = weighted_mean(values, np.array([1.0, 1.0, 2.0]))
    # (1 + 2 + 6)/4; missing first child: weights 1, 2 re-normalised -> (2 + 8)/3; none -> NaN
    assert_allclose(out, [2.25, 10 / 3, NAN], rtol=1e-15)


def test_weighted_mean_min_share() -> None:
    values = np.array([[1.0, 2.0, 3.0], [NAN, 2.0, 4.0], [NAN, NAN, 5.0]])
    weights = np.array([1.0, 1.0, 2.0])
    # shares 1, 2/3, 1/3
    assert_allclose(weighted_mean(values, weights, min_share=0.5), [2.25, 10 / 3, NAN], rtol=1e-15)
    assert_allclose(weighted_mean(values, weights, min_share=0.7), [2.25, NAN, NAN], rtol=1e-15)
    assert_allclose(
        weighted_mean(values, weights, min_share=2 / 3), [2.25, 10 / 3, NAN], rtol=1e-15
    )


def test_weighted_mean_zero_total_weight_is_missing() -> None:
    values = np.array([[NAN, 3.0]])
    assert np.isnan(weighted_mean(values, np.array([1.0, 0.0]))[0])


def test_weighted_geometric_mean() -> None:
    values = np.array([[1.0, 4.0], [2.0, 8.0], [NAN, 9.0], [0.0, 5.0]])
    out = weighted_mean(values, np.array([1.0, 3.0]), method="geometric")
    # 1^¼·4^¾ = 2√2; 2^¼·8^¾ = 2^(¼ + 9/4) = 2^2.5; missing child -> 9; a zero gives 0
    assert_allclose(out, [2 * math.sqrt(2), 2**2.5, 9.0, 0.0], rtol=1e-14)
    equal = weighted_mean(values[:2], np.array([1.0, 1.0]), method="geometric")
    assert_allclose(equal, [2.0, 4.0], rtol=1e-14)


def test_weighted_geometric_mean_ignores_zero_weight_child_with_zero_value() -> None:
    out = weighted_mean(np.array([[0.0, 4.0]]), np.array([0.0, 1.0]), method="geometric")
    assert_allclose(out, [4.0])


def test_weighted_harmonic_mean() -> None:
    values = np.array([[1.0, 4.0], [NAN, 5.0]])
    out = weighted_mean(values, np.array([1.0, 1.0]), method="harmonic")
    # 1/(½·1 + ½·¼) = 1.6
    assert_allclose(out, [1.6, 5.0], rtol=1e-15)
    weighted = weighted_mean(values[:1], np.array([3.0, 1.0]), method="harmonic")
    # 1/(¾ + ¼·¼) = 16/13
    assert_allclose(weighted, [16 / 13], rtol=1e-15)


def test_weighted_generalised_mean() -> None:
    values = np.array([[1.0, 4.0], [NAN, 3.0]])
    weights = np.array([1.0, 1.0])
    # p = 2: √(½ + 8) = √8.5; p = 1 is the arithmetic mean; missing child dropped
    assert_allclose(
        weighted_mean(values, weights, "generalised", p=2), [math.sqrt(8.5), 3.0], rtol=1e-15
    )
    assert_allclose(weighted_mean(values, weights, "generalised", p=1), [2.5, 3.0], rtol=1e-15)
    # p = −1 is the harmonic mean: 1/(½·1 + ½·¼) = 1.6
    assert_allclose(weighted_mean(values[:1], weights, "generalised", p=-1), [1.6], rtol=1e-14)
    # weights 1, 3 and p = 3: (¼ + ¾·64)^(1/3) = 48.25^(1/3)
    assert_allclose(
        weighted_mean(values[:1], np.array([1.0, 3.0]), "generalised", p=3),
        [48.25 ** (1 / 3)],
        rtol=1e-14,
    )


def test_weighted_generalised_mean_negative_p_drops_missing_child() -> None:
    values = np.array([[NAN, 3.0], [1.0, 4.0]])
    out = weighted_mean(values, np.array([1.0, 1.0]), "generalised", p=-1)
    assert_allclose(out, [3.0, 1.6], rtol=1e-14)


@pytest.mark.parametrize(
    "method, values, p, message",
    [
        ("geometric", [[-1.0, 2.0]], None, "non-negative"),
        ("harmonic", [[0.0, 2.0]], None, "positive"),
        ("harmonic", [[-1.0, 2.0]], None, "positive"),
        ("generalised", [[1.0, 2.0]], None, "non-zero exponent"),
        ("generalised", [[1.0, 2.0]], 0.0, "non-zero exponent"),
        ("generalised", [[-1.0, 2.0]], 2.0, "non-negative"),
        ("median", [[1.0, 2.0]], None, "unknown aggregation method 'median'"),
    ],
)
def test_weighted_mean_errors(
    method: str, values: list[list[float]], p: float | None, message: str
) -> None:
    with pytest.raises(StepError, match=message):
        weighted_mean(np.array(values), np.array([1.0, 1.0]), method=method, p=p)


def test_geometric_negative_value_on_missing_cell_is_not_checked() -> None:
    values = np.array([[NAN, 2.0], [4.0, 1.0]])
    assert_allclose(
        weighted_mean(values, np.array([1.0, 1.0]), "geometric"), [2.0, 2.0], rtol=1e-15
    )


def test_aggregate_levels_and_min_share_per_level() -> None:
    normalised = pd.DataFrame(
        {"i1": [10.0, NAN], "i2": [30.0, 40.0], "i3": [50.0, NAN]}, index=["a", "b"]
    )
    children = {"c1": ["i1", "i2"], "c2": ["i3"], "idx": ["c1", "c2"]}
    weights = {"i1": 1.0, "i2": 3.0, "i3": 1.0, "c1": 1.0, "c2": 1.0}
    levels = {"c1": 2, "c2": 2, "idx": 3}
    out = steps.aggregate(normalised, ["c1", "c2", "idx"], children, weights, levels)
    # a: c1 = (10 + 90)/4 = 25, c2 = 50, idx = 37.5; b: c1 = 40, c2 = NaN, idx = 40
    assert_series(out["c1"], [25, 40])
    assert_series(out["c2"], [50, NAN])
    assert_series(out["idx"], [37.5, 40])
    assert list(out.columns) == ["i1", "i2", "i3", "c1", "c2", "idx"]
    strict = steps.aggregate(
        normalised, ["c1", "c2", "idx"], children, weights, levels, min_share={2: 0.0, 3: 0.75}
    )
    assert_series(strict["idx"], [37.5, NAN])
    assert_series(strict["c1"], [25, 40])


# --- rank ------------------------------------------------------------------------------------
def test_rank_desc_ties_share_lowest_rank() -> None:
    ranks = rank_desc(pd.Series([10.0, 20.0, 20.0, 5.0]))
    assert ranks.tolist() == [3, 1, 1, 4]
    assert str(ranks.dtype) == "Int64"


def test_rank_desc_missing_stays_missing() -> None:
    ranks = rank_desc(pd.Series([10.0, NAN, 20.0, 20.0, 5.0]))
    assert ranks.isna().tolist() == [False, True, False, False, False]
    assert ranks.dropna().tolist() == [3, 1, 1, 4]


def test_rank_desc_on_frame_is_columnwise() -> None:
    ranks = rank_desc(pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [3.0, 3.0, 1.0]}))
    assert ranks["a"].tolist() == [3, 2, 1]
    assert ranks["b"].tolist() == [1, 1, 3]


def test_rank_within_groups() -> None:
    units = list("abcdef")
    scores = pd.DataFrame(
        {"idx": [50.0, 70.0, 70.0, 10.0, NAN, 30.0], "c1": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]},
        index=units,
    )
    groups = pd.Series(["V", "V", "V", "M", "M", "M"], index=units)
    ranks = rank_within(scores, groups)
    assert ranks["idx"].tolist()[:4] == [3, 1, 1, 2]
    assert pd.isna(ranks.loc["e", "idx"])
    assert ranks.loc["f", "idx"] == 1
    assert ranks["c1"].tolist() == [3, 2, 1, 3, 2, 1]


def test_rank_within_unit_without_group_is_missing() -> None:
    scores = pd.DataFrame({"idx": [1.0, 2.0, 3.0]}, index=list("abc"))
    groups = pd.Series(["g", None, "g"], index=list("abc"))
    ranks = rank_within(scores, groups)
    assert ranks.loc["a", "idx"] == 2 and ranks.loc["c", "idx"] == 1
    assert pd.isna(ranks.loc["b", "idx"])
