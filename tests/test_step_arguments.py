"""One definition of the step arguments, shared by the engine and the robustness fast path.

:class:`~barometre.composite.arguments.StepArguments` is the only reader of a spec's step
options; the engine (:func:`build_index`), the fast path (:class:`RobustnessModel`) and the
joint runs apply it. The property test draws random valid step options (treatment,
normalisation, directions, mean, minimum data share, weight perturbations, excluded indicator)
and checks that the fast path gives the engine's root scores and ranks, unit by unit.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from barometre.composite import StepArguments, build_index, load_spec, spec_from_dict
from barometre.composite.spec import NormaliseStep, TreatStep
from barometre.robustness import RobustnessModel, naive_ranks, parse_assumptions
from barometre.robustness.model import RUN_WEIGHT_SET
from barometre.robustness.synthetic import synthetic_communes

ROOT = Path(__file__).resolve().parents[1]
BAROMETRE_SPEC = ROOT / "config" / "index" / "barometre.yml"
CLASSES = ["Village", "Petite ville", "Ville moyenne", "Grande ville", "Métropole"]
DISCRETE = ("rates", "treatment", "normalisation", "aggregation", "exclusion")


@pytest.fixture(scope="module")
def barometre_spec():
    return load_spec(BAROMETRE_SPEC)


def test_arguments_are_read_from_the_spec(barometre_spec):
    args = StepArguments.from_spec(barometre_spec)
    codes = barometre_spec.indicator_codes
    assert args.denominate.enabled and args.denominate.factor == 1000.0
    assert dict(args.denominate.denominators) == dict.fromkeys(codes, "population")
    assert args.treat.method == "coinr_default" and args.treat.winmax == 5
    assert args.treat.params() == {
        "winmax": 5,
        "skew_threshold": 2.0,
        "kurt_threshold": 3.5,
        "quantiles": (0.05, 0.95),
        "boxcox_lambda": None,
    }
    assert args.normalise.method == "minmax" and (args.normalise.low, args.normalise.high) == (
        0.0,
        100.0,
    )
    assert dict(args.normalise.directions) == dict.fromkeys(codes, 1)
    assert args.aggregate.order == ("associations", "dynamisme", "engagement", "score")
    assert args.aggregate.children["dynamisme"] == (
        "ha_campaigns",
        "ha_participants",
        "ha_participants_per_campaign",
    )
    assert dict(args.aggregate.min_share) == {1: 0.5, 2: 0.5, 3: 0.5}


def test_overrides_replace_one_step_and_keep_the_others(barometre_spec):
    args = StepArguments.from_spec(
        barometre_spec,
        treat=TreatStep(method="log", per_indicator={"jva_matches": {"method": "none"}}),
        normalise=NormaliseStep(method="zscore", mean=10, sd=2),
        aggregation="geometric",
    )
    assert args.treat.method_for("jva_matches") == "none"
    assert args.treat.method_for("ha_campaigns") == "log"
    assert args.normalise.column_options("ha_campaigns") == {
        "direction": 1,
        "goalposts": None,
        "low": 0.0,
        "high": 100.0,
        "mean": 10.0,
        "sd": 2.0,
        "scale": 100.0,
    }
    assert args.aggregate.method == "geometric" and args.aggregate.min_share_at(2) == 0.5
    assert args.denominate == StepArguments.from_spec(barometre_spec).denominate


def test_arguments_are_frozen(barometre_spec):
    args = StepArguments.from_spec(barometre_spec)
    with pytest.raises(dataclasses.FrozenInstanceError):
        args.treat.method = "none"  # type: ignore[misc]
    with pytest.raises(TypeError):
        args.normalise.directions["rna_creations"] = -1  # type: ignore[index]


def test_disabled_denomination_leaves_values_as_they_are(barometre_spec):
    raw = barometre_spec.model_dump()
    raw["steps"]["denominate"]["enabled"] = False
    args = StepArguments.from_spec(spec_from_dict(raw))
    assert args.denominate.factor == 1.0 and args.denominate.denominator("jva_matches") is None
    table = pd.DataFrame({"jva_matches": [3.0, 0.0]})
    pd.testing.assert_frame_equal(args.denominate.apply(table, table), table)


# --- the property: the fast path equals the engine for any valid step arguments --------------
TREATMENTS = st.one_of(
    st.just({"method": "none"}),
    st.just({"method": "log"}),
    st.builds(
        lambda w, s, k: {
            "method": "coinr_default",
            "winmax": w,
            "skew_threshold": s,
            "kurt_threshold": k,
        },
        st.integers(0, 6),
        st.sampled_from([0.5, 1.0, 2.0, 3.0]),
        st.sampled_from([1.0, 3.5, 6.0]),
    ),
    st.builds(
        lambda lo, hi: {"method": "winsorise_quantiles", "quantiles": (lo, hi)},
        st.sampled_from([0.0, 0.01, 0.05, 0.1]),
        st.sampled_from([0.9, 0.95, 0.99, 1.0]),
    ),
)
NORMALISATIONS = st.one_of(
    st.builds(
        lambda low, span: {"method": "minmax", "low": low, "high": low + span},
        st.sampled_from([-5.0, 0.0, 1.0, 10.0]),
        st.sampled_from([1.0, 50.0, 100.0]),
    ),
    st.builds(
        lambda m, s: {"method": "zscore", "mean": m, "sd": s},
        st.sampled_from([0.0, 10.0, 50.0]),
        st.sampled_from([0.5, 2.0, 10.0]),
    ),
    st.builds(lambda s: {"method": "percentile_rank", "scale": s}, st.sampled_from([1.0, 100.0])),
    st.just({"method": "rank"}),
    st.just({"method": "distance_to_max"}),
)
GEOMETRIC_STEP = st.builds(
    lambda low, span: {"method": "minmax", "low": low, "high": low + span},
    st.sampled_from([0.0, 1.0, 10.0]),
    st.sampled_from([1.0, 99.0]),
)


def _spec_with(spec: Any, directions: list[int], min_share: float) -> Any:
    raw = spec.model_dump()
    for indicator, direction in zip(raw["indicators"], directions, strict=True):
        indicator["direction"] = direction
    raw["steps"]["aggregate"]["min_share"] = min_share
    return spec_from_dict(raw, source="drawn spec")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**16),
    treatment=TREATMENTS,
    normalisation=NORMALISATIONS,
    geometric_step=GEOMETRIC_STEP,
    aggregation=st.sampled_from(["arithmetic", "geometric"]),
    directions=st.lists(st.sampled_from([1, -1]), min_size=6, max_size=6),
    min_share=st.sampled_from([0.0, 0.3, 0.5, 1.0]),
    amplitude=st.sampled_from([0.0, 0.25, 0.9]),
    exclusion=st.booleans(),
)
def test_fast_path_equals_engine_for_random_step_arguments(
    barometre_spec,
    seed,
    treatment,
    normalisation,
    geometric_step,
    aggregation,
    directions,
    min_share,
    amplitude,
    exclusion,
):
    # distance to the maximum divides by min(x) when the direction is −1: counts have zeros
    assume(normalisation["method"] != "distance_to_max" or all(d == 1 for d in directions))
    rng = np.random.default_rng(seed)
    population = np.concatenate([rng.integers(50, 5_000, 40), rng.integers(5_000, 900_000, 12)])
    table = synthetic_communes(population.size, rng, population=population)
    table.loc[rng.random(len(table)) < 0.1, "jva_matches"] = np.nan
    table.loc[rng.random(len(table)) < 0.1, "rna_creations"] = np.nan
    spec = _spec_with(barometre_spec, directions, min_share)
    assumptions = parse_assumptions(
        {
            "weights": {"distribution": "uniform", "amplitude": amplitude, "levels": [1, 2]},
            "treatment": [treatment],
            "normalisation": [{"step": normalisation, "geometric": geometric_step}],
            "aggregation": [aggregation],
            "exclusion": {} if exclusion else None,
            "threads": 1,
        }
    )
    model = RobustnessModel(spec, table, assumptions, class_order=CLASSES)
    design = model.space.sample(6, np.random.default_rng(seed))
    fast = model.evaluate(design, store_ranks=True)
    runs = list(range(len(design)))
    np.testing.assert_array_equal(fast.ranks.astype(np.int64), naive_ranks(model, design, runs))
    for run in runs:
        key = tuple(int(design.choices[name][run]) for name in DISCRETE)
        scores = model.variant_scores(key, design.node_weights[[run]])[0]  # type: ignore[arg-type]
        run_spec, label = model.run_spec_of(design, run)
        build = build_index(run_spec, model.tables[label], weight_set=RUN_WEIGHT_SET)
        engine = build.aggregated[run_spec.root].reindex(model.unit_codes).to_numpy()
        np.testing.assert_array_equal(np.isnan(scores), np.isnan(engine))
        np.testing.assert_allclose(scores, engine, rtol=1e-9, atol=1e-9)
