"""Count model (barometre.countmodel): calibration on clustered synthetic communes, accuracy
against raw rates and the class-wide moment prior, inactive villages, reproducible joint draws,
exact maths.

The simulation is not the model's own: communes with the French size shape
(:func:`barometre.robustness.synthetic.synthetic_populations`), topped up with communes drawn
log-uniformly in each town band so that every population class has ~1 500 units; a true rate of
volunteer matches per inhabitant that depends on log population, the class and the département
(sd 0.3), times a **log-normal** latent commune effect (sd 0.5, the model assumes a gamma); matches
arrive in missions: a Poisson number of missions per commune, each with a geometric number of
matches whose mean (~13) varies between communes (log sd 0.3). Measured figures are printed
(``pytest -s``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.discrete.discrete_model import NegativeBinomial

from barometre.countmodel import (
    INTERCEPT,
    CountModelFit,
    CountModelWarning,
    IndicatorSpec,
    commune_design,
    design_effects,
    fit_count_model,
    fit_indicator_models,
)
from barometre.countmodel_validation import calibration, simulate_communes
from barometre.smallarea import posterior_rates, shrink_rates

SEED = 20240615


@pytest.fixture(scope="module")
def communes() -> pd.DataFrame:
    return simulate_communes(np.random.default_rng(SEED))


@pytest.fixture(scope="module")
def fitted(communes: pd.DataFrame) -> CountModelFit:
    return fit_count_model(
        communes["matches"],
        communes["population"],
        commune_design(communes),
        clusters=communes["missions"],
        cluster_sumsq=communes["matches_sumsq"],
        groups=communes["code_departement"],
        design_groups=communes["population_class"],
    )


@pytest.fixture(scope="module")
def moments(communes: pd.DataFrame) -> pd.DataFrame:
    return shrink_rates(
        communes["matches"],
        communes["population"],
        groups=communes["population_class"],
        method="moments",
    )


# --------------------------------------------------------------------------------------------
# Calibration and accuracy on the simulation
# --------------------------------------------------------------------------------------------


def test_ninety_percent_intervals_cover_overall_and_in_every_band(communes, fitted):
    summary = fitted.summary(credible=0.90)
    truth = communes["true_rate"].to_numpy() * 1000
    covered = (summary["lower"] <= truth) & (truth <= summary["upper"])
    by_band = {
        label: float(covered[(communes["band"] == band).to_numpy()].mean())
        for band, label in enumerate(["<5k", "5k-20k", "20k-50k", "50k-200k", ">200k"])
    }
    counts = communes["band"].value_counts().sort_index().tolist()
    print(
        f"\ncoverage of 90% intervals: overall {covered.mean():.3f}; by band {by_band}; n {counts}"
    )
    assert min(counts) >= 1_000
    assert abs(covered.mean() - 0.90) <= 0.03
    for label, value in by_band.items():
        assert abs(value - 0.90) <= 0.03, (label, value)


def test_posterior_mean_beats_raw_rates_and_the_class_moment_prior(communes, fitted, moments):
    truth = communes["true_rate"].to_numpy() * 1000
    raw = (communes["matches"] / communes["population"]).to_numpy() * 1000
    mse = {
        "raw": float(np.mean((raw - truth) ** 2)),
        "class moments": float(np.mean((moments["posterior_mean"].to_numpy() - truth) ** 2)),
        "count model": float(np.mean((fitted.summary()["posterior_mean"].to_numpy() - truth) ** 2)),
    }
    print(f"\nMSE of the rate per 1 000 inhabitants: {mse}")
    assert mse["count model"] < 0.5 * mse["class moments"]
    assert mse["count model"] < 0.5 * mse["raw"]
    # also within every band, where the class prior is the fairest competitor
    model = fitted.summary()["posterior_mean"].to_numpy()
    for band in range(5):
        rows = (communes["band"] == band).to_numpy()
        ours = np.mean((model[rows] - truth[rows]) ** 2)
        theirs = np.mean((moments["posterior_mean"].to_numpy()[rows] - truth[rows]) ** 2)
        assert ours < theirs, band


def test_inactive_villages_are_not_ordered_by_population_alone(communes, fitted, moments):
    """Among y = 0 units the class prior gives a/(b + E): a pure function of population.

    The count model still ranks bigger inactive communes a little lower, and rightly so (zero
    events over a larger exposure is stronger evidence of a low rate), but its prior mean moves
    with the département and the size within the class, which the truth does too.
    """
    zero = (communes["matches"] == 0).to_numpy()
    population = communes["population"].to_numpy()[zero]
    truth = communes["true_rate"].to_numpy()[zero]
    ours = fitted.summary()["posterior_mean"].to_numpy()[zero]
    theirs = moments["posterior_mean"].to_numpy()[zero]
    rho = {
        "class moments vs population": stats.spearmanr(theirs, population)[0],
        "count model vs population": stats.spearmanr(ours, population)[0],
        "truth vs population": stats.spearmanr(truth, population)[0],
        "class moments vs truth": stats.spearmanr(theirs, truth)[0],
        "count model vs truth": stats.spearmanr(ours, truth)[0],
    }
    print(f"\nSpearman among {zero.sum()} inactive communes: {rho}")
    assert rho["class moments vs population"] < -0.95
    assert rho["count model vs population"] > -0.8
    assert rho["count model vs truth"] > rho["class moments vs truth"] + 0.15


def test_one_big_mission_in_a_tiny_village_is_not_a_laureate(communes):
    """The motivating case: 46 matches from one mission in a village of 85 inhabitants."""
    table = communes.copy()
    table.loc[0, ["population", "matches", "missions", "matches_sumsq"]] = [85, 46, 1, 46**2]
    table.loc[0, "population_class"] = "Village"
    fit = fit_count_model(
        table["matches"],
        table["population"],
        commune_design(table),
        clusters=table["missions"],
        cluster_sumsq=table["matches_sumsq"],
        groups=table["code_departement"],
    )
    village = (table["population_class"] == "Village").to_numpy()
    ours = fit.summary()["posterior_mean"].to_numpy()
    theirs = shrink_rates(table["matches"], table["population"], groups=table["population_class"])[
        "posterior_mean"
    ].to_numpy()
    rank_ours = int((ours[village] > ours[0]).sum()) + 1
    rank_theirs = int((theirs[village] > theirs[0]).sum()) + 1
    print(
        f"\nvillage 85 inh., 46 matches in 1 mission: design effect {fit.design_effect[0]:.1f}, "
        f"effective count {fit.effective_counts[0]:.2f}; rank among {village.sum()} villages: "
        f"count model {rank_ours}, class moments {rank_theirs}"
    )
    assert rank_theirs <= 4
    assert rank_ours > 50
    assert 1.0 < fit.effective_counts[0] < 3.0


def test_department_effects_and_dispersion_are_recovered(communes, fitted):
    groups = fitted.group_table().set_index("group")
    truth = communes.groupby("code_departement")["true_department_effect"].first()
    corr = np.corrcoef(groups["estimate"], truth.loc[groups.index])[0, 1]
    table = fitted.params_table().set_index("term")
    print(f"\n{fitted.params_table().to_string()}\ncorrelation of département effects {corr:.3f}")
    assert 0.2 < fitted.group_sd < 0.4
    assert corr > 0.8
    assert fitted.converged
    assert table.loc["log_population", "estimate"] == pytest.approx(-0.12, abs=0.08)
    assert table.loc["dispersion α", "se"] > 0
    assert table.loc["mean design effect", "estimate"] > 10


# --------------------------------------------------------------------------------------------
# Draws
# --------------------------------------------------------------------------------------------


def test_draws_are_reproducible_one_by_one_and_in_batches(fitted):
    batch = fitted.draws_for([5, 9], seed=11)
    assert batch.shape == (2, fitted.n_units)
    assert batch[0].tobytes() == fitted.draw(5, seed=11).tobytes()
    assert batch[1].tobytes() == fitted.draw(9, seed=11).tobytes()
    assert fitted.draws_for([9, 5], seed=11)[0].tobytes() == batch[1].tobytes()
    again = fitted.draws(10, 11)
    assert again.tobytes() == fitted.draws_for(range(10), 11).tobytes()
    assert again[5].tobytes() == batch[0].tobytes()
    assert not np.array_equal(fitted.draw(5, seed=12), batch[0])
    assert not np.array_equal(fitted.draw(6, seed=11), batch[0])
    generator_draws = fitted.draws(3, np.random.default_rng(1))
    assert generator_draws.tobytes() == fitted.draws(3, np.random.default_rng(1)).tobytes()


def test_draws_are_joint_across_units_and_centred_on_the_posterior(fitted):
    joint = fitted.draws_for(range(300), seed=3)
    plug_in = fitted.draws_for(range(300), seed=3, hyperparameters=False)
    level_joint = joint.mean(axis=1)
    level_plug_in = plug_in.mean(axis=1)
    ratio = level_joint.var() / level_plug_in.var()
    print(f"\nvariance of the national mean rate across draws: joint/plug-in = {ratio:.1f}")
    assert ratio > 3.0
    summary = fitted.summary(scale=1.0)
    mean = summary["posterior_mean"].to_numpy()
    sd = summary["posterior_sd"].to_numpy()
    # plug-in draws are the conjugate gamma posteriors: standardised errors of the MC means
    z = (plug_in.mean(axis=0) - mean) / (sd / math.sqrt(plug_in.shape[0]))
    assert abs(np.mean(z)) < 0.05 and np.std(z) == pytest.approx(1.0, abs=0.1)
    assert np.std(plug_in, axis=0, ddof=1) / sd == pytest.approx(np.ones(len(sd)), rel=0.35)
    # hyperparameter draws only widen the posterior
    assert np.median(joint.std(axis=0) / plug_in.std(axis=0)) >= 1.0


def test_draw_based_summary_integrates_hyperparameter_uncertainty(communes, fitted):
    draws = fitted.summary_from_draws(n_draws=400, seed=5)
    plug_in = fitted.summary()
    truth = communes["true_rate"].to_numpy() * 1000
    covered = (draws["lower"] <= truth) & (truth <= draws["upper"])
    print(f"\ncoverage of draw-based 90% intervals (400 draws): {covered.mean():.3f}")
    assert abs(covered.mean() - 0.90) <= 0.03
    width_draws = (draws["upper"] - draws["lower"]).median()
    width_plug_in = (plug_in["upper"] - plug_in["lower"]).median()
    assert width_draws >= 0.97 * width_plug_in


# --------------------------------------------------------------------------------------------
# Exact maths
# --------------------------------------------------------------------------------------------


def _poisson_gamma(rng: np.random.Generator, n: int = 3000):
    population = np.round(np.exp(rng.normal(6.5, 1.3, n))).clip(20, None)
    log_pop = np.log(population / 1000)
    rate = 2e-3 * np.exp(0.2 * log_pop) * rng.gamma(2.0, 0.5, n)
    return rng.poisson(population * rate).astype(float), population, log_pop


def test_unclustered_fit_is_the_statsmodels_nb2_maximum_likelihood():
    counts, population, log_pop = _poisson_gamma(np.random.default_rng(SEED))
    fit = fit_count_model(counts, population, pd.DataFrame({"log_population": log_pop}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = NegativeBinomial(
            counts, np.column_stack([np.ones(len(counts)), log_pop]), exposure=population
        ).fit(disp=0, maxiter=500)
    table = fit.params_table().set_index("term")
    assert fit.loglike >= reference.llf - 1e-6
    np.testing.assert_allclose(fit.beta, reference.params[:2], rtol=1e-4)
    assert fit.alpha == pytest.approx(reference.params[2], rel=1e-4)
    np.testing.assert_allclose(
        table.loc[[INTERCEPT, "log_population"], "se"], reference.bse[:2], rtol=1e-3
    )
    assert table.loc["dispersion α", "se"] == pytest.approx(reference.bse[2], rel=1e-3)
    assert np.all(fit.design_effect == 1.0)


def test_conjugate_posterior_equals_the_hand_formula_at_a_fixed_alpha():
    counts, population, _ = _poisson_gamma(np.random.default_rng(1))
    alpha = 0.4
    fit = fit_count_model(counts, population, alpha=alpha, scale=1.0)
    mu = math.exp(fit.beta[0])
    summary = fit.summary()
    shape, rate = 1 / alpha + counts, 1 / (alpha * mu) + population
    np.testing.assert_allclose(summary["posterior_mean"], shape / rate, rtol=1e-12)
    np.testing.assert_allclose(summary["posterior_sd"], np.sqrt(shape) / rate, rtol=1e-12)
    weight = alpha * mu * population / (1 + alpha * mu * population)
    np.testing.assert_allclose(summary["data_weight"], weight, rtol=1e-12)
    np.testing.assert_allclose(
        summary["posterior_mean"], weight * counts / population + (1 - weight) * mu, rtol=1e-10
    )
    # the same gamma posterior as smallarea's Clayton-Kaldor code with that prior
    reference = posterior_rates(counts, population, 1 / alpha, 1 / (alpha * mu), scale=1.0)
    for column in ["posterior_mean", "lower", "upper", "shrinkage_weight"]:
        np.testing.assert_allclose(summary[column], reference[column], rtol=1e-10)
    # with a fixed alpha, the intercept solves the NB2 score equation Σ (y − Eμ)/(1 + αEμ) = 0
    expected = population * mu
    assert np.sum((counts - expected) / (1 + alpha * expected)) == pytest.approx(0.0, abs=1e-6)
    assert fit.params_table().set_index("term").loc["dispersion α", "estimate"] == alpha


def test_clusters_of_size_one_reduce_to_the_plain_model():
    counts, population, log_pop = _poisson_gamma(np.random.default_rng(2))
    design = pd.DataFrame({"log_population": log_pop})
    plain = fit_count_model(counts, population, design)
    singletons = fit_count_model(counts, population, design, clusters=counts, cluster_sumsq=counts)
    np.testing.assert_allclose(singletons.design_effect, 1.0)
    np.testing.assert_allclose(singletons.beta, plain.beta, rtol=1e-10)
    assert singletons.alpha == pytest.approx(plain.alpha, rel=1e-8)
    pd.testing.assert_frame_equal(
        singletons.summary().drop(columns="clusters"), plain.summary().drop(columns="clusters")
    )


def test_design_effects_by_hand():
    counts = np.array([46.0, 13.0, 0.0, 20.0, 1.0])
    clusters = np.array([1.0, 1.0, 0.0, 4.0, 1.0])
    sumsq = np.array([46.0**2, 169.0, 0.0, 4 * 25.0, 1.0])
    m, m2 = counts.sum() / clusters.sum(), sumsq.sum() / clusters.sum()
    pooled = design_effects(counts, clusters, sumsq)
    np.testing.assert_allclose(pooled.design_effect, m2 / m)
    assert pooled.pooled_design_effect == pytest.approx(sumsq.sum() / counts.sum())
    assert pooled.mean_cluster_size == pytest.approx(m)
    own = design_effects(counts, clusters, sumsq, prior_clusters=0.0)
    # Kish: d = Σz²/Σz, the unit's own; a unit without any event gets the pooled value
    np.testing.assert_allclose(own.design_effect, [46.0, 13.0, m2 / m, 5.0, 1.0])
    np.testing.assert_allclose((counts / own.design_effect)[[0, 1, 3]], [1.0, 1.0, 4.0])
    smoothed = design_effects(counts, clusters, sumsq, prior_clusters=1.0)
    np.testing.assert_allclose(smoothed.design_effect, (sumsq + m2) / (counts + m))
    with pytest.raises(ValueError, match="below"):
        design_effects([10.0], [1.0], [50.0])
    with pytest.raises(ValueError, match="no cluster"):
        design_effects([3.0], [0.0], [9.0])
    with pytest.raises(ValueError, match="zero count"):
        design_effects([0.0], [1.0], [4.0])


# --------------------------------------------------------------------------------------------
# Missing values, inputs, commune tables
# --------------------------------------------------------------------------------------------


def test_missing_units_get_nan_everywhere_and_do_not_move_the_fit():
    rng = np.random.default_rng(3)
    counts, population, log_pop = _poisson_gamma(rng, 1000)
    index = pd.Index([f"C{i:04d}" for i in range(1000)], name="code_commune")
    y = pd.Series(counts, index=index)
    e = pd.Series(population, index=index)
    design = pd.DataFrame({"log_population": log_pop}, index=index)
    groups = pd.Series(rng.choice(["01", "02", "03"], 1000), index=index)
    clusters, sumsq = y.copy(), y.copy()
    reference = fit_count_model(y, e, design, clusters, sumsq, groups)
    y2, e2, design2 = y.copy(), e.copy(), design.copy()
    y2.iloc[0] = np.nan
    e2.iloc[1] = 0.0
    e2.iloc[2] = np.nan
    design2.iloc[3, 0] = np.nan
    y3 = pd.concat([y2, pd.Series([5.0, np.nan], index=["X1", "X2"])])
    e3 = pd.concat([e2, pd.Series([np.nan, 100.0], index=["X1", "X2"])])
    d3 = pd.concat([design2, pd.DataFrame({"log_population": [0.0, 0.0]}, index=["X1", "X2"])])
    g3 = pd.concat([groups, pd.Series(["01", "02"], index=["X1", "X2"])])
    fit = fit_count_model(y3, e3, d3, y3, y3, g3)
    summary = fit.summary()
    assert len(summary) == 1002 and summary.index.equals(y3.index)
    bad = ["C0000", "C0001", "C0002", "C0003", "X1", "X2"]
    derived = summary.drop(columns=["count", "exposure", "clusters", "group"])
    assert derived.loc[bad].isna().all().all()
    assert derived.drop(index=bad).notna().all().all()
    draws = fit.draws_for([0, 1], seed=1)
    positions = summary.index.get_indexer(bad)
    assert np.isnan(draws[:, positions]).all()
    assert np.isfinite(np.delete(draws, positions, axis=1)).all()
    # the fit equals a fit on the usable units alone
    keep = ~y3.index.isin(bad)
    alone = fit_count_model(y3[keep], e3[keep], d3[keep], y3[keep], y3[keep], g3[keep])
    np.testing.assert_allclose(fit.beta, alone.beta, rtol=1e-10)
    assert fit.alpha == pytest.approx(alone.alpha, rel=1e-10)
    assert reference.n_fitted == 1000 and fit.n_fitted == 996


def test_invalid_inputs_are_refused():
    y = pd.Series([1.0, 2.0, 0.0, 4.0])
    e = pd.Series([100.0, 200.0, 50.0, 300.0])
    with pytest.raises(ValueError, match="both"):
        fit_count_model(y, e, clusters=y)
    with pytest.raises(ValueError, match="non-negative"):
        fit_count_model(-y, e)
    with pytest.raises(ValueError, match="indexes"):
        fit_count_model(y, e.set_axis([5, 6, 7, 8]))
    with pytest.raises(ValueError, match="no event"):
        fit_count_model(y * 0, e)
    with pytest.raises(ValueError, match="collinear"):
        fit_count_model(y, e, pd.DataFrame({"a": [1.0, 1.0, 1.0, 1.0]}))
    with pytest.raises(ValueError, match="intercept"):
        fit_count_model(y, e, pd.DataFrame({INTERCEPT: [1.0, 2.0, 3.0, 4.0]}))


def test_fit_indicator_models_on_a_commune_table(communes):
    table = communes.iloc[::4].reset_index(drop=True).copy()
    rng = np.random.default_rng(4)
    table["creations"] = rng.poisson(table["population"] * 1e-3).astype(float)
    specs = [
        IndicatorSpec(
            "jva_matches",
            "matches",
            clusters="missions",
            cluster_sumsq="matches_sumsq",
            design_groups="population_class",
        ),
        IndicatorSpec("rna_creations", "creations"),
    ]
    with pytest.warns(CountModelWarning, match="rna_creations.*no overdispersion"):
        # the synthetic creations are plain Poisson: α goes to its lower bound, as it should
        fits = fit_indicator_models(table, specs)
    assert set(fits) == {"jva_matches", "rna_creations"}
    matches, creations = fits["jva_matches"], fits["rna_creations"]
    assert list(matches.summary().index) == list(table["code_commune"])
    terms = matches.params_table()["term"].tolist()
    assert terms[:2] == [INTERCEPT, "log_population"]
    # « Village » is the reference class
    assert [t for t in terms if t.startswith("population_class=")] == [
        "population_class=Petite ville",
        "population_class=Ville moyenne",
        "population_class=Grande ville",
        "population_class=Métropole",
    ]
    assert {"dispersion α", "mean design effect", "département sd (τ)"} <= set(terms)
    assert matches.params_table().columns.tolist() == ["term", "estimate", "se"]
    assert np.all(creations.design_effect == 1.0)
    assert matches.design_effect.min() > 5
    assert len(matches.group_labels) == table["code_departement"].nunique()


def test_fixed_department_sd_is_used():
    rng = np.random.default_rng(5)
    counts, population, _ = _poisson_gamma(rng, 2000)
    groups = rng.choice([f"{d:02d}" for d in range(20)], 2000)
    loose = fit_count_model(counts, population, groups=groups, group_sd=1.0)
    tight = fit_count_model(counts, population, groups=groups, group_sd=0.01)
    assert loose.group_sd == 1.0 and tight.group_sd == 0.01
    assert np.abs(tight.group_effects).max() < np.abs(loose.group_effects).max() / 5


def test_poisson_limit_warns_and_keeps_draws_sane():
    """No overdispersion: α goes towards 0 (or its lower bound), where log α has little or no
    curvature; α is drawn on its natural scale, so the draws stay within the posterior."""
    rng = np.random.default_rng(0)
    population = np.round(np.exp(rng.normal(6.5, 1.3, 3000)))
    counts = rng.poisson(population * 1e-3).astype(float)
    groups = rng.choice([f"{d:02d}" for d in range(10)], 3000)
    with pytest.warns(CountModelWarning, match="no overdispersion"):
        fit = fit_count_model(counts, population, groups=groups, scale=1.0)
    assert np.sqrt(fit.covariance[-1, -1]) > 10  # se(log α): no curvature at the bound
    draws = fit.draws_for(range(200), seed=2)
    upper = fit.summary(credible=0.999)["upper"].to_numpy()
    assert np.all(np.isfinite(draws))
    assert np.quantile(draws.max(axis=0) / upper, 0.99) < 2.0
    assert draws.mean() == pytest.approx(1e-3, rel=0.1)


def test_calibration_table_of_the_annex_reproduces_the_tests():
    table = calibration(np.random.default_rng(SEED)).set_index("population_class")
    assert table.loc["Ensemble", "communes"] == table["communes"].iloc[:-1].sum()
    assert abs(table.loc["Ensemble", "coverage"] - 0.90) <= 0.03
    assert (table["mse_count_model"] < table["mse_class_moments"]).all()
    assert (table["mse_count_model"] < table["mse_raw"]).all()


def test_without_group_credit_ignores_the_departement_in_each_posterior(communes, fitted):
    plain = fitted.without_group_credit()
    tau2 = fitted.group_sd**2
    assert plain.alpha == pytest.approx((1 + fitted.alpha) * math.exp(tau2) - 1)
    # the prior mean is the national level for the covariates, whatever the département
    expected = np.exp(fitted.x @ fitted.beta + tau2 / 2)
    usable = fitted.usable
    np.testing.assert_allclose(plain.prior_mean[usable], expected[usable], rtol=1e-12)
    # two inactive units with the same covariates and exposure but different départements get
    # different posteriors under the fitted prior and the same one without the credit
    summary = plain.summary()
    zero = communes.index[(communes["matches"] == 0).to_numpy() & usable]
    frame = communes.loc[zero].assign(
        mean=summary.loc[zero, "posterior_mean"].to_numpy(),
        fitted_mean=fitted.summary().loc[zero, "posterior_mean"].to_numpy(),
    )
    by_size = frame.groupby(["population", "population_class"])
    spread = by_size["mean"].agg(lambda v: v.max() - v.min())
    fitted_spread = by_size["fitted_mean"].agg(lambda v: v.max() - v.min())
    multi = by_size.size() > 1
    assert multi.any()
    assert (spread[multi] < 1e-12).all() and (fitted_spread[multi] > 1e-6).any()
    # draws stay reproducible and finite
    draws = plain.draws_for([0, 1], 7)
    assert np.isfinite(draws[:, usable]).all()


def test_fitted_groups_renumber_the_groups_with_fitted_units_only() -> None:
    from barometre.countmodel.fit import _fitted_groups

    codes = np.array([2, -1, 0, 2, 1], dtype=np.int64)
    usable = np.array([True, True, True, True, False])
    new_codes, labels = _fitted_groups(codes, ["a", "b", "c"], usable)
    # group "b" has no fitted unit: its unit falls back to the national level (−1)
    assert new_codes.tolist() == [1, -1, 0, 1, -1]
    assert labels == ["a", "c"]
