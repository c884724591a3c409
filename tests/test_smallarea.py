"""Small-area statistics: shrinkage recovers known rates, funnel limits are exact Poisson quantiles,
eligibility counts reconcile, structural gaps are missing (never zero).

The shrinkage tests simulate the model the method assumes, with a known truth: rates drawn from a
gamma distribution, Poisson counts, and skewed populations with many small communes (lognormal,
median ~400 inhabitants, as French communes). Measured figures are printed (``pytest -s``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from pydantic import ValidationError

from barometre.smallarea import (
    ALSACE_MOSELLE_DEPARTMENTS,
    POOLED,
    ActivityRule,
    CoverageRule,
    EligibilityRules,
    GammaPrior,
    SmallAreaWarning,
    StructuralGap,
    alsace_moselle_gap,
    apply_eligibility,
    apply_structural_gaps,
    department_of,
    exposure_grid,
    fit_gamma_prior,
    funnel_flags,
    funnel_limits,
    group_priors,
    level_tag,
    plot_funnel,
    posterior_rates,
    shrink_rates,
    shrink_ratio,
)

SEED = 20240615
TRUE_SHAPE = 3.0
TRUE_MEAN = 0.006  # 6 events per 1 000 inhabitants


def simulate(
    rng: np.random.Generator, n: int = 3000, shape: float = TRUE_SHAPE, mean: float = TRUE_MEAN
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(counts, population, true rate per inhabitant) under the Poisson–Gamma model."""
    population = np.round(np.exp(rng.normal(6.0, 1.4, n))).clip(20, None)
    true_rate = rng.gamma(shape, mean / shape, n)
    counts = rng.poisson(true_rate * population)
    return counts, population, true_rate


def mse(estimate: pd.Series | np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean((np.asarray(estimate) - truth) ** 2))


def coverage(result: pd.DataFrame, truth: np.ndarray) -> float:
    return float(
        np.mean((result["lower"].to_numpy() <= truth) & (truth <= result["upper"].to_numpy()))
    )


# ------------------------------------------------------------------------------------------
# Shrinkage on simulated data with a known truth
# ------------------------------------------------------------------------------------------


def test_simulated_population_is_mostly_small() -> None:
    """Guard on the simulation itself: the case the method is for (many tiny communes)."""
    _, population, _ = simulate(np.random.default_rng(SEED))
    assert np.mean(population < 200) > 0.25
    assert np.median(population) < 1000
    assert population.max() > 20_000


@pytest.mark.parametrize("method", ["moments", "negbin"])
def test_shrinkage_beats_raw_rates_and_intervals_cover(method: str) -> None:
    counts, population, true_rate = simulate(np.random.default_rng(SEED))
    truth = true_rate * 1000
    result = shrink_rates(counts, population, method=method, credible=0.90)

    mse_raw = mse(result["raw_rate"], truth)
    mse_shrunk = mse(result["posterior_mean"], truth)
    ratio = mse_shrunk / mse_raw
    cover = coverage(result, truth)
    small = population < 500
    ratio_small = mse(result["posterior_mean"][small], truth[small]) / mse(
        result["raw_rate"][small], truth[small]
    )
    print(
        f"\n[{method}] MSE raw {mse_raw:.3f}, shrunk {mse_shrunk:.3f}, ratio {ratio:.3f} "
        f"(communes < 500 inh.: {ratio_small:.3f}); 90% interval coverage {cover:.3f}"
    )
    assert mse_shrunk < mse_raw
    # Under the true model the gain is large (measured ≈ 0.17–0.23 over seeds 0–4).
    assert ratio < 0.5
    assert 0.85 <= cover <= 0.95


@pytest.mark.parametrize("method", ["moments", "negbin"])
def test_prior_recovers_the_generating_gamma(method: str) -> None:
    counts, population, _ = simulate(np.random.default_rng(SEED), n=5000)
    prior = fit_gamma_prior(counts, population, method=method)
    assert prior.method == method
    assert prior.n_units == 5000
    assert not prior.variance_floored
    assert prior.alpha == pytest.approx(TRUE_SHAPE, rel=0.2)
    assert prior.mean == pytest.approx(TRUE_MEAN, rel=0.08)
    assert prior.variance == pytest.approx(TRUE_MEAN**2 / TRUE_SHAPE, rel=0.3)


def test_moment_estimator_matches_marshall_formula_by_hand() -> None:
    """Four units, Marshall's (1991) estimator written out step by step."""
    counts = np.array([2.0, 0.0, 9.0, 30.0])
    exposure = np.array([100.0, 300.0, 1000.0, 2000.0])
    m = 41.0 / 3400.0
    s2 = (
        100 * (0.02 - m) ** 2
        + 300 * (0.0 - m) ** 2
        + 1000 * (0.009 - m) ** 2
        + 2000 * (0.015 - m) ** 2
    ) / 3400.0
    v = s2 - m / 850.0
    assert v > 0
    prior = fit_gamma_prior(counts, exposure, method="moments")
    assert prior.alpha == pytest.approx(m**2 / v, rel=1e-12)
    assert prior.beta == pytest.approx(m / v, rel=1e-12)


def test_no_extra_variance_floors_the_prior_with_a_warning() -> None:
    """Every unit exactly at the mean: the between-unit variance estimate is negative."""
    counts = np.full(50, 5.0)
    exposure = np.full(50, 1000.0)
    with pytest.warns(SmallAreaWarning, match="capped"):
        prior = fit_gamma_prior(counts, exposure, max_alpha=1e4)
    assert prior.variance_floored
    assert prior.alpha == 1e4
    assert prior.mean == pytest.approx(0.005)
    with pytest.warns(SmallAreaWarning):
        result = shrink_rates(counts, exposure)
    assert np.allclose(result["posterior_mean"], 5.0)


def test_grouped_priors_use_each_group_and_pool_small_groups() -> None:
    rng = np.random.default_rng(SEED + 1)
    counts_a, pop_a, rate_a = simulate(rng, n=1500, mean=0.004)
    counts_b, pop_b, rate_b = simulate(rng, n=1500, mean=0.012)
    counts_c, pop_c, rate_c = simulate(rng, n=10, mean=0.008)
    counts = np.concatenate([counts_a, counts_b, counts_c])
    population = np.concatenate([pop_a, pop_b, pop_c])
    truth = np.concatenate([rate_a, rate_b, rate_c]) * 1000
    groups = pd.Series(["A"] * 1500 + ["B"] * 1500 + ["C"] * 10)

    grouped = shrink_rates(counts, population, groups=groups, min_group_size=30)
    pooled = shrink_rates(counts, population)
    print(
        f"\n[groups] MSE raw {mse(grouped['raw_rate'], truth):.3f}, pooled prior "
        f"{mse(pooled['posterior_mean'], truth):.3f}, group priors {mse(grouped['posterior_mean'], truth):.3f}"
    )
    assert mse(grouped["posterior_mean"], truth) < mse(pooled["posterior_mean"], truth)
    assert grouped["prior_mean"][:1500].iloc[0] == pytest.approx(4.0, rel=0.1)
    assert grouped["prior_mean"][1500:3000].iloc[0] == pytest.approx(12.0, rel=0.1)
    # Group C (10 units) falls back to the pooled prior.
    small = grouped.iloc[3000:]
    assert small["prior_pooled"].all()
    assert (small["prior_group"] == POOLED).all()
    assert np.allclose(small["prior_alpha"], pooled["prior_alpha"].iloc[0])
    assert set(grouped["prior_group"][:3000]) == {"A", "B"}

    table = group_priors(counts, population, groups, min_group_size=30)
    assert list(table["group"]) == [POOLED, "A", "B", "C"]
    assert list(table["pooled"]) == [True, False, False, True]
    assert table.loc[3, "reason"] == "fewer than 30 units"


def test_crossed_group_columns_and_missing_labels() -> None:
    rng = np.random.default_rng(SEED + 2)
    counts, population, _ = simulate(rng, n=400)
    groups = pd.DataFrame(
        {"population_class": ["Village"] * 400, "code_departement": ["01"] * 200 + ["02"] * 200}
    )
    groups.loc[0, "code_departement"] = None
    result = shrink_rates(counts, population, groups=groups, min_group_size=30)
    assert set(result["prior_group"][1:]) == {"Village | 01", "Village | 02"}
    assert result["prior_group"].iloc[0] == POOLED


def test_zero_exposure_and_missing_counts_give_nan_without_crash() -> None:
    counts, population, _ = simulate(np.random.default_rng(SEED), n=200)
    counts = counts.astype(float)
    population = population.copy()
    population[:3] = 0.0
    population[3] = np.nan
    counts[4] = np.nan
    index = pd.Index([f"{i:05d}" for i in range(200)], name="code_commune")
    result = shrink_rates(pd.Series(counts, index=index), pd.Series(population, index=index))
    assert result.index.equals(index)
    derived = ["raw_rate", "posterior_mean", "lower", "upper", "shrinkage_weight"]
    assert result[derived].iloc[:5].isna().all().all()
    assert result[derived].iloc[5:].notna().all().all()
    # The unusable units do not enter the prior fit.
    prior = fit_gamma_prior(counts[5:], population[5:])
    assert result["prior_alpha"].iloc[10] == pytest.approx(prior.alpha)
    # All-zero exposure: still no crash in the posterior step.
    empty = posterior_rates([0, 3], [0, 0], 2.0, 400.0)
    assert empty["posterior_mean"].isna().all()


def test_invalid_inputs_fail_loudly() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        fit_gamma_prior([1, -2, 3], [10, 10, 10])
    with pytest.raises(ValueError, match="no event"):
        fit_gamma_prior([0, 0, 0], [10, 10, 10])
    with pytest.raises(ValueError, match="unknown prior method"):
        fit_gamma_prior([1, 2, 3], [10, 10, 10], method="bayes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="different indexes"):
        shrink_rates(pd.Series([1, 2], index=["a", "b"]), pd.Series([10, 10], index=["b", "a"]))


def test_posterior_by_hand() -> None:
    """Gamma(2, 400) prior, 3 events among 200 inhabitants → Gamma(5, 600)."""
    result = posterior_rates([3], [200], 2.0, 400.0, credible=0.9, scale=1000.0).iloc[0]
    assert result["raw_rate"] == pytest.approx(15.0)
    assert result["prior_mean"] == pytest.approx(5.0)
    assert result["posterior_mean"] == pytest.approx(5 / 600 * 1000)
    assert result["shrinkage_weight"] == pytest.approx(400 / 600)
    # Gamma(5, rate 600) quantiles: chi-square(10) quantiles / (2 · 600); chi2_10 5 % = 3.94030,
    # 95 % = 18.30704 (standard tables).
    assert result["lower"] == pytest.approx(3.94030 / 1200 * 1000, rel=1e-5)
    assert result["upper"] == pytest.approx(18.30704 / 1200 * 1000, rel=1e-5)


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.integers(0, 200), st.floats(1.0, 1e5, allow_nan=False)),
        min_size=3,
        max_size=40,
    ).filter(lambda rows: sum(count for count, _ in rows) > 0),
)
def test_posterior_mean_lies_between_raw_rate_and_prior_mean(data: list[tuple[int, float]]) -> None:
    counts = np.array([count for count, _ in data], dtype=float)
    exposure = np.array([exp for _, exp in data])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallAreaWarning)
        result = shrink_rates(counts, exposure)
    low = np.minimum(result["raw_rate"], result["prior_mean"])
    high = np.maximum(result["raw_rate"], result["prior_mean"])
    tolerance = 1e-9 * np.maximum(high, 1.0)
    assert (result["posterior_mean"] >= low - tolerance).all()
    assert (result["posterior_mean"] <= high + tolerance).all()
    assert ((result["shrinkage_weight"] > 0) & (result["shrinkage_weight"] < 1)).all()
    assert (result["lower"] <= result["upper"]).all()
    assert (result["lower"] >= 0).all()


@settings(max_examples=60, deadline=None)
@given(
    count=st.integers(0, 500),
    exposure=st.floats(0.5, 1e6, allow_nan=False),
    alpha=st.floats(0.05, 1e3),
    beta=st.floats(1.0, 1e6),
)
def test_posterior_mean_is_the_weighted_compromise(
    count: int, exposure: float, alpha: float, beta: float
) -> None:
    row = posterior_rates([count], [exposure], alpha, beta, scale=1.0).iloc[0]
    weight = row["shrinkage_weight"]
    compromise = (1 - weight) * count / exposure + weight * alpha / beta
    assert row["posterior_mean"] == pytest.approx(compromise, rel=1e-9)
    assert min(row["raw_rate"], row["prior_mean"]) * (1 - 1e-12) <= row["posterior_mean"]
    assert row["posterior_mean"] <= max(row["raw_rate"], row["prior_mean"]) * (1 + 1e-12)


def test_gamma_prior_properties() -> None:
    prior = GammaPrior(alpha=4.0, beta=800.0)
    assert prior.mean == 0.005
    assert prior.variance == pytest.approx(4.0 / 640_000)


# ------------------------------------------------------------------------------------------
# Ratio indicator: participants per campaign
# ------------------------------------------------------------------------------------------


def test_shrink_ratio_recovers_audience_per_campaign() -> None:
    rng = np.random.default_rng(SEED + 3)
    n = 2000
    campaigns = rng.poisson(np.exp(rng.normal(0.5, 1.2, n)))
    audience = rng.gamma(2.0, 15.0 / 2.0, n)  # true mean participants per campaign
    participants = rng.poisson(campaigns * audience)
    result = shrink_ratio(participants, campaigns)
    has = campaigns > 0
    assert result.loc[~has, ["raw_rate", "posterior_mean", "lower", "upper"]].isna().all().all()
    mse_raw = mse(result["raw_rate"][has], audience[has])
    mse_shrunk = mse(result["posterior_mean"][has], audience[has])
    cover = coverage(result[has], audience[has])
    print(
        f"\n[ratio] {has.sum()} communes with campaigns: MSE raw {mse_raw:.2f}, shrunk "
        f"{mse_shrunk:.2f}, ratio {mse_shrunk / mse_raw:.3f}; coverage {cover:.3f}"
    )
    assert mse_shrunk < mse_raw
    assert 0.85 <= cover <= 0.95
    # scale=1: participants per campaign, the prior mean near the true mean audience of 15.
    assert result["prior_mean"].iloc[0] == pytest.approx(15.0, rel=0.1)


# ------------------------------------------------------------------------------------------
# Funnel limits
# ------------------------------------------------------------------------------------------


def poisson_cdf(k: int, mu: float) -> float:
    """Poisson CDF from its definition (independent of scipy)."""
    return sum(math.exp(-mu) * mu**i / math.factorial(i) for i in range(k + 1)) if k >= 0 else 0.0


def test_funnel_limits_are_exact_poisson_quantiles_hand_checked() -> None:
    """Target 5 per 1 000, population 2 000 → expected count 10.

    Poisson(10): F(1)=0.000499, F(2)=0.002769, F(3)=0.010336, F(4)=0.029253, F(16)=0.972958,
    F(17)=0.985722, F(19)=0.996546, F(20)=0.998412, F(21)=0.999300. Quantiles: 0.1 % → 2,
    2.5 % → 4, 97.5 % → 17, 99.9 % → 21.
    """
    exact = funnel_limits(5.0, [2000.0], levels=(0.95, 0.998), scale=1000.0, method="exact").iloc[0]
    assert exact["expected"] == 10.0
    assert exact["lower_count_95"] == 4
    assert exact["upper_count_95"] == 17
    assert exact["lower_count_99.8"] == 2
    assert exact["upper_count_99.8"] == 21
    assert exact["lower_95"] == pytest.approx(4 / 2000 * 1000)
    assert exact["upper_95"] == pytest.approx(17 / 2000 * 1000)
    assert exact["lower_99.8"] == pytest.approx(2 / 2000 * 1000)
    assert exact["upper_99.8"] == pytest.approx(21 / 2000 * 1000)

    # Spiegelhalter's interpolation: limit = (r_p − α) / E, α = (F(r_p) − p) / (F(r_p) − F(r_p − 1)).
    smooth = funnel_limits(5.0, [2000.0], method="interpolated").iloc[0]
    for column, r_p, p in [
        ("lower_95", 4, 0.025),
        ("upper_95", 17, 0.975),
        ("lower_99.8", 2, 0.001),
        ("upper_99.8", 21, 0.999),
    ]:
        alpha = (poisson_cdf(r_p, 10) - p) / (poisson_cdf(r_p, 10) - poisson_cdf(r_p - 1, 10))
        assert smooth[column] == pytest.approx((r_p - alpha) / 2000 * 1000, rel=1e-10)
    # Rounded by hand: upper 95 % ≈ (17 − 0.8403) / 2 = 8.080, lower 99.8 % ≈ (2 − 0.7793) / 2 = 0.610.
    assert smooth["upper_95"] == pytest.approx(8.080, abs=1e-3)
    assert smooth["lower_99.8"] == pytest.approx(0.610, abs=1e-3)


def test_funnel_limits_on_a_grid_narrow_with_exposure() -> None:
    grid = exposure_grid(50, 500_000, 100)
    limits = funnel_limits(6.0, grid)
    width = (limits["upper_95"] - limits["lower_95"]).to_numpy()
    assert width[0] > 10 * width[-1]
    assert (limits["lower_99.8"] <= limits["lower_95"] + 1e-12).all()
    assert (limits["upper_99.8"] >= limits["upper_95"] - 1e-12).all()
    assert (limits["lower_95"] >= 0).all()
    assert (limits["lower_95"] <= 6.0).all() and (limits["upper_95"] >= 6.0).all()
    assert funnel_limits(6.0, [0.0, np.nan])[["lower_95", "upper_95"]].isna().all().all()
    assert level_tag(0.998) == "99.8" and level_tag(0.95) == "95"


def test_funnel_flags_hand_checked() -> None:
    """Same case (μ = 10 at 2 000 inh.): the plotted limits on the count scale are
    lower 99.8 % 1.221, lower 95 % 3.775, upper 95 % 16.160, upper 99.8 % 20.269."""
    counts = [25, 18, 10, 3, 1, 4]
    flags = funnel_flags(counts, [2000.0] * 6, 5.0)
    assert flags["above_99.8"].tolist() == [True, False, False, False, False, False]
    assert flags["above_95"].tolist() == [True, True, False, False, False, False]
    assert flags["below_95"].tolist() == [False, False, False, True, True, False]
    assert flags["below_99.8"].tolist() == [False, False, False, False, True, False]
    assert flags["p_high"].iloc[0] == pytest.approx(1 - poisson_cdf(24, 10.0), rel=1e-9)
    assert flags["p_low"].iloc[4] == pytest.approx(poisson_cdf(1, 10.0), rel=1e-9)
    undefined = funnel_flags([3, np.nan], [0.0, 100.0], 5.0)
    assert undefined["above_95"].isna().all()


def test_plot_funnel_highlights_laureates() -> None:
    counts, population, _ = simulate(np.random.default_rng(SEED), n=300)
    laureates = np.zeros(300, dtype=bool)
    laureates[:4] = True
    # A bare Figure (no pyplot, no GUI backend): nothing global to clean up.
    ax = Figure().add_subplot()
    returned = plot_funnel(ax, counts, population, 6.0, highlight=laureates)
    assert returned is ax
    assert ax.get_xscale() == "log"
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "Lauréats" in labels and "Limites à 99,8 %" in labels
    highlighted = [c for c in ax.collections if c.get_label() == "Lauréats"]
    assert len(highlighted) == 1 and len(highlighted[0].get_offsets()) == 4
    assert len(ax.get_lines()) == 2 * 2 + 1  # two pairs of limits + the target


# ------------------------------------------------------------------------------------------
# Eligibility
# ------------------------------------------------------------------------------------------


def eligibility_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code_commune": [
                "01001",
                "01002",
                "01003",
                "01004",
                "01005",
                "01006",
                "01007",
                "01008",
            ],
            "population_class": pd.Categorical(
                ["Village"] * 5 + ["Petite ville"] * 3, categories=["Village", "Petite ville"]
            ),
            "population": [40, 150, 300, 800, np.nan, 6000, 9000, 12000],
            "ha_organizations": [0, 0, 2, 5, 3, 0, 4, np.nan],
            "i1": [1.0, 1.0, np.nan, 1.0, 1.0, 1.0, np.nan, 1.0],
            "i2": [1.0, 1.0, np.nan, 1.0, 1.0, 1.0, np.nan, 1.0],
            "i3": [1.0, 1.0, 1.0, np.nan, 1.0, 1.0, np.nan, 1.0],
        }
    )


def test_eligibility_counts_reconcile_by_hand() -> None:
    rules = EligibilityRules(
        min_population=100,
        min_activity=ActivityRule(column="ha_organizations", minimum=1),
        min_coverage=CoverageRule(indicators=["i1", "i2", "i3"], minimum_share=2 / 3),
    )
    result = apply_eligibility(eligibility_table(), rules)
    # 01001 (40 inh.) and 01005 (missing population) fail population; 01002 and 01006 have no
    # platform association and 01008's activity is missing (fails); 01003 covers 1/3 and 01007
    # covers 0/3 of the indicators while passing the two earlier rules.
    assert result.eligible.tolist() == [False, False, False, True, False, False, False, False]
    assert result.removed_by.tolist() == [
        "population",
        "activity",
        "coverage",
        None,
        "population",
        "activity",
        "coverage",
        "activity",
    ]
    report = result.report
    assert list(report.columns) == [
        "total",
        "removed_population",
        "removed_activity",
        "removed_coverage",
        "eligible",
    ]
    assert list(report.index) == ["Village", "Petite ville", "Total"]
    assert report.loc["Village"].tolist() == [5, 2, 1, 1, 1]
    assert report.loc["Petite ville"].tolist() == [3, 0, 2, 1, 0]
    assert report.loc["Total"].tolist() == [8, 2, 3, 2, 1]
    removed = report.drop(columns=["total", "eligible"]).sum(axis=1)
    assert (report["total"] == report["eligible"] + removed).all()


def test_eligibility_order_changes_attribution_not_the_outcome() -> None:
    table = eligibility_table()
    base = EligibilityRules(
        min_population=100,
        min_activity=ActivityRule(column="ha_organizations", minimum=1),
        min_coverage=CoverageRule(indicators=["i1", "i2", "i3"], minimum_share=2 / 3),
    )
    reordered = base.model_copy(update={"order": ("coverage", "activity", "population")})
    first, second = apply_eligibility(table, base), apply_eligibility(table, reordered)
    assert first.eligible.equals(second.eligible)
    # Coverage first: 01003, 01007; then activity: 01001, 01002, 01006, 01008; then population:
    # only 01005 is left to remove (01001 was already counted under activity).
    assert second.report.loc["Total"].tolist() == [8, 2, 4, 1, 1]
    assert list(second.report.columns) == [
        "total",
        "removed_coverage",
        "removed_activity",
        "removed_population",
        "eligible",
    ]
    assert second.removed_by.tolist() == [
        "activity",
        "activity",
        "coverage",
        None,
        "population",
        "activity",
        "coverage",
        "activity",
    ]
    for result in (first, second):
        removed = result.report.drop(columns=["total", "eligible"]).sum(axis=1)
        assert (result.report["total"] == result.report["eligible"] + removed).all()


def test_eligibility_rules_validation() -> None:
    with pytest.raises(ValidationError, match="extra"):
        EligibilityRules.model_validate({"min_population": 100, "min_pop": 5})
    with pytest.raises(ValidationError, match="twice"):
        EligibilityRules(order=("population", "population"))
    with pytest.raises(ValidationError, match="missing from order"):
        EligibilityRules(min_population=10, order=("activity",))
    with pytest.raises(ValidationError):
        ActivityRule(column="x", minimum=-1)
    only_population = apply_eligibility(eligibility_table(), EligibilityRules(min_population=100))
    assert list(only_population.report.columns) == ["total", "removed_population", "eligible"]


# ------------------------------------------------------------------------------------------
# Structural gaps
# ------------------------------------------------------------------------------------------


def gap_counts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code_commune": ["57463", "67482", "68224", "75056", "2A004", "97101"],
            "rna_creations": np.array([0, 0, 2, 812, 30, 12], dtype="int64"),
            "ha_campaigns": np.array([40, 95, 22, 3100, 18, 9], dtype="int64"),
            "population": [117_492, 284_677, 108_038, 2_145_906, 71_361, 53_514],
        }
    )


def test_alsace_moselle_rna_creations_are_missing_not_zero() -> None:
    counts = gap_counts()
    gap = alsace_moselle_gap()
    assert gap.departments == list(ALSACE_MOSELLE_DEPARTMENTS) == ["57", "67", "68"]
    table, report = apply_structural_gaps(counts, [gap])
    assert table["rna_creations"].iloc[:3].isna().all()
    assert not (table["rna_creations"].iloc[:3] == 0).any()
    assert table["rna_creations"].iloc[3:].tolist() == [812.0, 30.0, 12.0]
    assert table["ha_campaigns"].equals(counts["ha_campaigns"])  # other sources untouched
    assert counts["rna_creations"].iloc[0] == 0  # input not modified
    assert report.to_dict("records") == [
        {
            "gap": "alsace_moselle_rna",
            "column": "rna_creations",
            "units_matched": 3,
            "cells_blanked": 3,
            "cells_already_missing": 0,
        }
    ]
    # Downstream, the shrunk rate of those communes is missing too, never a shrunk zero.
    shrunk = shrink_rates(table["rna_creations"], table["population"], min_group_size=2)
    assert shrunk["posterior_mean"].iloc[:3].isna().all()
    assert shrunk["posterior_mean"].iloc[3:].notna().all()


def test_structural_gap_by_department_column_and_commune_list() -> None:
    counts = gap_counts().assign(code_departement=["57", "67", "68", "75", "2A", "971"])
    outage = StructuralGap(
        name="helloasso_outage",
        reason="Panne déclarée.",
        columns=["ha_campaigns"],
        communes=["2A004"],
        departments=["971"],
    )
    table, report = apply_structural_gaps(counts, [alsace_moselle_gap(), outage])
    assert table["ha_campaigns"].isna().tolist() == [False, False, False, False, True, True]
    assert report["cells_blanked"].tolist() == [3, 2]
    _, report_again = apply_structural_gaps(table, [outage])
    assert report_again["cells_already_missing"].tolist() == [2]
    assert report_again["cells_blanked"].tolist() == [0]
    assert department_of(pd.Series(["2A004", "97101", "01001"])).tolist() == ["2A", "971", "01"]


def test_structural_gap_validation() -> None:
    with pytest.raises(ValidationError, match="no department and no commune"):
        StructuralGap(name="x", reason="y", columns=["rna_creations"])
    with pytest.raises(ValidationError):
        StructuralGap(name="x", reason="y", columns=["rna_creations"], departments=[57])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="invalid commune"):
        StructuralGap(name="x", reason="y", columns=["c"], communes=["1001"])
    with pytest.raises(ValidationError, match="extra"):
        StructuralGap.model_validate(
            {"name": "x", "reason": "y", "columns": ["c"], "departments": ["57"], "year": 1}
        )
    with pytest.raises(KeyError, match="not in the table"):
        apply_structural_gaps(gap_counts(), [alsace_moselle_gap(columns=["rna_created"])])
    with pytest.raises(TypeError, match="strings"):
        apply_structural_gaps(
            gap_counts().assign(code_commune=[57463, 67482, 68224, 75056, 1, 97101]), []
        )
