"""Joint uncertainty runs (posterior draw × method scenario): the fast path against the engine,
the count-model sampler, the sampling moments, and the assumptions that declare them.

The key test is :func:`test_joint_fast_path_equals_engine_rebuild`: for runs covering every
method option (weights, treatment, normalisation, arithmetic and geometric means, exclusions)
each paired with its own posterior draw of the counts, the vectorised ranks equal, unit by
unit, those of a full :func:`build_index` rebuild on the run's drawn table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from barometre.composite import build_index, load_spec
from barometre.countmodel import IndicatorSpec, fit_indicator_models
from barometre.robustness import RobustnessError, RobustnessModel, parse_assumptions
from barometre.robustness.joint import JointEvaluator, drawn_table, joint_naive_ranks
from barometre.robustness.sampling import CountModelSampler, indicator_seed
from barometre.robustness.synthetic import synthetic_communes

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "config" / "index" / "barometre.yml"
CLASSES = ["Village", "Petite ville", "Ville moyenne", "Grande ville", "Métropole"]
COUNTS = ["rna_creations", "ha_new_organizations", "ha_campaigns", "ha_participants", "jva_matches"]
RATIO = "ha_participants_per_campaign"


def communes(seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    population = np.concatenate(
        [
            rng.integers(200, 5_000, 160),
            rng.integers(5_000, 20_000, 30),
            rng.integers(20_000, 50_000, 14),
            rng.integers(50_000, 200_000, 8),
            rng.integers(200_000, 900_000, 5),
        ]
    )
    table = synthetic_communes(population.size, rng, population=population)
    for column in COUNTS:
        table[column] = np.round(table[column])
    table[RATIO] = table["ha_participants"] / table["ha_campaigns"].where(table["ha_campaigns"] > 0)
    table.loc[::11, "rna_creations"] = np.nan  # a structural gap: stays missing in every draw
    table.loc[table["rna_creations"].isna(), RATIO] = table[RATIO]  # (the ratio is unaffected)
    return table


def sampler_for(table: pd.DataFrame, seed: int = 11) -> CountModelSampler:
    frame = table.copy()
    frame["population_class"] = pd.Categorical(frame["population_class"], categories=CLASSES)
    specs = [IndicatorSpec(name=c, count=c, groups="code_departement") for c in COUNTS]
    specs.append(
        IndicatorSpec(
            name=RATIO, count="ha_participants", exposure="ha_campaigns", groups="code_departement"
        )
    )
    fits = fit_indicator_models(frame, specs)
    spec = load_spec(SPEC)
    return CountModelSampler(
        list(spec.indicator_codes),
        fits,
        frozenset({RATIO}),
        frame.set_index("code_commune")["population"],
        seed,
    )


def posterior_mean_table(table: pd.DataFrame, sampler: CountModelSampler) -> pd.DataFrame:
    out = table.copy()
    for code, fit in sampler.fits.items():
        mean = fit.summary(scale=1.0)["posterior_mean"].to_numpy()
        out[code] = mean if code in sampler.ratio else mean * table["population"].to_numpy()
        out.loc[table[code].isna(), code] = np.nan
    return out


@pytest.fixture(scope="module")
def joint_model():
    table = communes()
    sampler = sampler_for(table)
    assumptions = parse_assumptions(
        {
            "n_runs": 40,
            "sampling": {"n_draws": 50},
            "threads": 2,
            "top": 4,
            "exclusion": {"p_none": 0.5},
            "normalisation": {
                "options": [
                    {
                        "step": {"method": "minmax", "low": 0, "high": 100},
                        "geometric": {"method": "minmax", "low": 1, "high": 100},
                    },
                    {
                        "step": {"method": "zscore", "mean": 10, "sd": 2},
                        "geometric": {"method": "minmax", "low": 1, "high": 100},
                    },
                    {"step": {"method": "percentile_rank"}},
                ]
            },
        }
    )
    model = RobustnessModel(
        load_spec(SPEC),
        posterior_mean_table(table, sampler),
        assumptions,
        class_order=CLASSES,
        sampler=sampler,
    )
    return model, sampler


def test_joint_fast_path_equals_engine_rebuild(joint_model):
    model, sampler = joint_model
    design = model.space.sample(40, np.random.default_rng(2))
    # every option of every discrete assumption appears among the runs compared
    for name in ("treatment", "normalisation", "aggregation", "exclusion"):
        assert len(np.unique(design.choices[name])) == len(model.space.discrete[name].labels)
    out = model.evaluate(design, store_ranks=True)
    runs = list(range(40))
    naive = joint_naive_ranks(model, design, sampler, runs)
    np.testing.assert_array_equal(out.ranks[runs].astype(np.int64), naive)
    # statistics streamed from the same ranks
    ranked = naive > 0
    np.testing.assert_array_equal(out.top_count, (ranked & (naive <= 4)).sum(axis=0))
    np.testing.assert_array_equal(out.ranked_count, ranked.sum(axis=0))


def test_runs_of_one_draw_differ_only_by_their_method(joint_model):
    model, sampler = joint_model
    design = model.space.sample(8, np.random.default_rng(4))
    design.choices["sampling"][:] = 7
    table = drawn_table(model, sampler, 7)
    # a run with the nominal method on draw 7 is the engine's nominal build of that table
    design.choices.update(
        {
            k: np.zeros(8, dtype=np.int64)
            for k in ("treatment", "normalisation", "aggregation", "exclusion")
        }
    )
    design.node_weights[:] = model.space.nominal_weights
    evaluator = JointEvaluator(model, sampler)
    ranks = evaluator.block_ranks(design, np.arange(8))
    build = build_index(model.spec, table)
    # the drawn values enter exactly as the engine denominates them (not only in the same order)
    engine_values = build.denominated[model.spec.indicator_codes].loc[model.unit_codes].to_numpy()
    np.testing.assert_array_equal(evaluator.denominated(np.array([7]))[0], engine_values)
    engine = (
        build.group_ranks["population_class"]["score"]
        .reindex(model.unit_codes)
        .fillna(0)
        .to_numpy()
    )
    for row in ranks:
        np.testing.assert_array_equal(row, engine)


def test_nominal_score_moments_are_the_sd_over_draws(joint_model):
    model, sampler = joint_model
    moments = JointEvaluator(model, sampler).nominal_score_moments(12)
    scores = []
    for d in range(12):
        build = build_index(model.spec, drawn_table(model, sampler, d))
        scores.append(build.aggregated["score"].reindex(model.unit_codes).to_numpy())
    scores = np.array(scores)
    np.testing.assert_allclose(moments["score_draw_mean"], scores.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(moments["score_se"], scores.std(axis=0, ddof=1), rtol=1e-8)
    assert (moments["score_se"] > 0).all()


def test_sampler_draws_are_reproducible_order_free_and_keep_gaps(joint_model):
    model, sampler = joint_model
    codes = model.unit_codes
    a = sampler.values(np.array([3, 9]), codes)
    b = sampler.values(np.array([9]), codes[::-1])
    np.testing.assert_array_equal(a[1], b[0][::-1])
    c = sampler.values(np.array([3]), codes)
    np.testing.assert_array_equal(a[0], c[0])
    gaps = np.isnan(
        model.tables["raw"].set_index("code_commune").loc[codes, "rna_creations"].to_numpy()
    )
    assert np.isnan(a[:, gaps, 0]).all() and not np.isnan(a[:, ~gaps, 0]).any()
    # distinct streams per indicator: the same draw id never reuses the same uniforms
    assert len({indicator_seed(11, k) for k in range(6)}) == 6


def test_sampling_and_the_raw_shrunk_switch_exclude_each_other():
    with pytest.raises(Exception, match="sampling"):
        parse_assumptions({"sampling": {"n_draws": 10}, "rates": {"options": ["shrunk", "raw"]}})


def test_a_sampling_assumption_needs_a_sampler():
    table = communes()
    assumptions = parse_assumptions({"n_runs": 4, "sampling": {"n_draws": 10}})
    with pytest.raises(RobustnessError, match="sampler"):
        RobustnessModel(load_spec(SPEC), table, assumptions, class_order=CLASSES)
