"""Robustness analysis: assumptions, design, batched ranks, the fast path against the engine,
uncertainty tables, and the ASEM reference case under COINr's sensitivity-vignette assumptions.

The key test is :func:`test_fast_path_equals_engine_rebuild`: for a sample of runs covering every
kind of assumption (weights, treatment, normalisation, arithmetic and geometric means with
zeros, excluded indicators, alternative input tables, missing values and minimum data shares),
the vectorised ranks equal, unit by unit, those of a full :func:`build_index` rebuild.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.stats import rankdata

from barometre.composite import build_index, load_data, load_spec, spec_from_dict
from barometre.composite.steps import TIE_DECIMALS
from barometre.config import load_edition
from barometre.robustness import (
    AssumptionsError,
    RobustnessError,
    RobustnessModel,
    assumptions_from_config,
    discrete_index,
    naive_ranks,
    parse_assumptions,
    prune_spec,
    rank_desc_min,
    rank_quantiles,
    run_uncertainty,
)
from barometre.robustness.annex import edition_assumptions, edition_seed
from barometre.robustness.design import AssumptionSpace
from barometre.robustness.synthetic import synthetic_communes

ROOT = Path(__file__).resolve().parents[1]
BAROMETRE_SPEC = ROOT / "config" / "index" / "barometre.yml"
ASEM_SPEC = ROOT / "examples" / "asem" / "spec.yml"
ASEM_CASE = ROOT / "tests" / "fixtures" / "asem"  # COINr's ASEM data, vendored (MIT)
CLASSES = ["Village", "Petite ville", "Ville moyenne", "Grande ville", "Métropole"]

needs_asem = pytest.mark.skipif(not ASEM_CASE.is_dir(), reason="tests/fixtures/asem absent")


def small_communes(seed: int = 5, villages: int = 240) -> pd.DataFrame:
    """Synthetic communes in the five classes, with missing values sprinkled in."""
    rng = np.random.default_rng(seed)
    population = np.concatenate(
        [
            rng.integers(50, 5_000, villages),
            rng.integers(5_000, 20_000, 40),
            rng.integers(20_000, 50_000, 20),
            rng.integers(50_000, 200_000, 12),
            rng.integers(200_000, 900_000, 6),
        ]
    )
    table = synthetic_communes(population.size, rng, population=population)
    table.loc[::17, "jva_matches"] = np.nan
    table.loc[::13, "rna_creations"] = np.nan
    return table


@pytest.fixture(scope="module")
def barometre_spec():
    return load_spec(BAROMETRE_SPEC)


@pytest.fixture(scope="module")
def asem():
    spec = load_spec(ASEM_SPEC)
    return spec, load_data(spec, ASEM_CASE)


def coinr_vignette_assumptions(**extra) -> dict:
    """COINr's sensitivity vignette: winmax 1–5; min-max [1, 100] vs z-score(10, 2); pillar and
    sub-index weights × (1 + 0.25·U(−1, 1)); arithmetic vs geometric means."""
    return {
        "class_column": None,
        "weights": {"distribution": "uniform", "amplitude": 0.25, "levels": [2, 3]},
        "treatment": [{"method": "coinr_default", "winmax": w} for w in range(1, 6)],
        "normalisation": [
            {"method": "minmax", "low": 1, "high": 100},
            {"method": "zscore", "mean": 10, "sd": 2},
        ],
        "aggregation": ["arithmetic", "geometric"],
        "exclusion": None,
        **extra,
    }


# --- assumptions ---------------------------------------------------------------------------------
def test_default_assumptions_are_the_barometre_ones():
    a = parse_assumptions(None)
    assert a.n_runs == 10_000 and a.top == 4 and a.class_column == "population_class"
    assert (
        a.weights.distribution == "uniform"
        and a.weights.amplitude == 0.25
        and a.weights.levels == [1, 2]
    )
    assert [t.method for t in a.treatment.options] == ["coinr_default", "none", "log"]
    assert [o.step.method for o in a.normalisation.options] == [
        "minmax",
        "zscore",
        "percentile_rank",
    ]
    assert a.normalisation.options[0].for_aggregation("geometric").low == 1
    assert a.aggregation.options == ["arithmetic", "geometric"]
    assert a.exclusion.p_none == 0.5


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"n_run": 10}, "n_run: unknown key"),
        ({"weights": {"distribution": "gaussian"}}, "weights.distribution"),
        ({"weights": {"amplitude": 1.2}}, "weights.amplitude"),
        ({"treatment": [{"method": "winsor"}]}, "treatment.options.0.method"),
        ({"normalisation": [{"method": "minmax", "low": 5, "high": 1}]}, "normalisation"),
        (
            {"aggregation": {"options": ["arithmetic", "geometric"], "probabilities": [0.5, 0.6]}},
            "sum to 1",
        ),
        ({"exclusion": {"p_none": 2}}, "exclusion.p_none"),
    ],
)
def test_bad_assumptions_are_refused_with_the_key(raw, message):
    with pytest.raises(AssumptionsError, match=message.replace(".", r"\.")):
        parse_assumptions(raw)


def test_assumptions_from_edition_config():
    config = load_edition(ROOT / "config" / "editions" / "2024.yml")
    assert assumptions_from_config({}).n_runs == 10_000
    custom = assumptions_from_config({"robustness": {"n_runs": 500, "exclusion": None}})
    assert custom.n_runs == 500 and custom.exclusion is None
    a = edition_assumptions(config, {"seed": 3}, n_runs=100)
    assert a.n_runs == 100 and a.top == config.palmares_size
    assert edition_seed(config, a) == 3 and edition_seed(config, a, 9) == 9
    assert edition_seed(config, edition_assumptions(config)) == config.seed


# --- design --------------------------------------------------------------------------------------
@given(k=st.integers(1, 9), m=st.integers(1, 40))
def test_discrete_choices_have_no_rounding_bias(k, m):
    # stratified coordinates: every option must get exactly its share
    u = (np.arange(k * m) + 0.5) / (k * m)
    counts = np.bincount(discrete_index(u, k), minlength=k)
    assert counts.tolist() == [m] * k
    # rounding u·(k − 1) would give the end options half shares; floor(u·k) does not
    assert discrete_index(np.array([0.0, 1 - 1e-12, 1.0]), k).tolist() == [0, k - 1, k - 1]


def test_discrete_choices_with_probabilities():
    p = [0.5, 0.0, 0.25, 0.25]
    u = (np.arange(1000) + 0.5) / 1000
    counts = np.bincount(discrete_index(u, 4, p), minlength=4)
    assert counts.tolist() == [500, 0, 250, 250]


def test_uniform_weights_stay_within_the_amplitude(barometre_spec):
    a = parse_assumptions({"weights": {"amplitude": 0.25, "levels": [1, 2]}})
    space = AssumptionSpace(barometre_spec, a)
    design = space.sample(512, np.random.default_rng(0))
    names = [f.name for f in space.factors]
    # the only child jva_matches has nothing to perturb; six other weights vary
    assert names[:8] == [
        "weight:rna_creations",
        "weight:ha_new_organizations",
        "weight:ha_campaigns",
        "weight:ha_participants",
        "weight:ha_participants_per_campaign",
        "weight:associations",
        "weight:dynamisme",
        "weight:engagement",
    ]
    assert names[8:] == ["treatment", "normalisation", "aggregation", "exclusion"]
    ratio = design.node_weights / space.nominal_weights
    perturbed = [space.nodes.index(n.split(":", 1)[1]) for n in names[:8]]
    assert np.all(ratio[:, perturbed] >= 0.75) and np.all(ratio[:, perturbed] <= 1.25)
    assert ratio[:, perturbed].min() < 0.76 and ratio[:, perturbed].max() > 1.24
    fixed = [i for i in range(len(space.nodes)) if i not in perturbed]
    assert np.all(ratio[:, fixed] == 1.0)
    # exclusion: p_none = 1/2, then 1/12 for each of the six indicators
    share_none = np.mean(design.choices["exclusion"] == 0)
    assert share_none == pytest.approx(0.5, abs=0.01)


def test_dirichlet_weights_are_centred_on_the_nominal_shares(barometre_spec):
    a = parse_assumptions(
        {"weights": {"distribution": "dirichlet", "concentration": 40, "levels": [2]}}
    )
    space = AssumptionSpace(barometre_spec, a, weight_set="indicators_equal")
    design = space.sample(4096, np.random.default_rng(1))
    idx = [space.nodes.index(c) for c in ("associations", "dynamisme", "engagement")]
    shares = design.node_weights[:, idx]
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    np.testing.assert_allclose(shares.mean(axis=0), [2 / 6, 3 / 6, 1 / 6], atol=0.005)
    # Dirichlet variance p(1 − p)/(α + 1)
    np.testing.assert_allclose(
        shares.var(axis=0), [p * (1 - p) / 41 for p in (2 / 6, 3 / 6, 1 / 6)], rtol=0.1
    )


def test_design_is_reproducible_from_the_seed(barometre_spec):
    space = AssumptionSpace(barometre_spec, parse_assumptions(None))
    a = space.sample(64, np.random.default_rng(42))
    b = space.sample(64, np.random.default_rng(42))
    c = space.sample(64, np.random.default_rng(43))
    np.testing.assert_array_equal(a.points, b.points)
    assert not np.array_equal(a.points, c.points)


# --- batched ranks -------------------------------------------------------------------------------
def reference_ranks(row: np.ndarray, counts: np.ndarray) -> np.ndarray:
    # the engine's rule: scores compared after rounding to TIE_DECIMALS decimals
    full = np.repeat(np.round(row, TIE_DECIMALS), counts)
    scored = ~np.isnan(full)
    ranks = np.zeros(full.size, dtype=np.int64)
    ranks[scored] = rankdata(-full[scored], method="min")
    return ranks[np.r_[0, np.cumsum(counts)[:-1]]]


@settings(max_examples=150, deadline=None)
@given(
    scores=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=30),
        elements=st.sampled_from([np.nan, -3.5, -0.0, 0.0, 1.0, 1.0 + 2**-50, 2.0, 7.25, 1e300]),
    ),
    data=st.data(),
)
def test_batched_ranks_follow_the_engine_tie_rule(scores, data):
    counts = np.asarray(
        data.draw(st.lists(st.integers(1, 4), min_size=scores.shape[1], max_size=scores.shape[1]))
    )
    ranks = rank_desc_min(scores, counts)
    for run in range(scores.shape[0]):
        np.testing.assert_array_equal(ranks[run], reference_ranks(scores[run], counts))


def test_batched_ranks_resolve_truncation_clashes_exactly():
    # 40 000 entries use 16 index bits: scores 1e-12 apart share their truncated key but are
    # different after rounding to TIE_DECIMALS only when they straddle a rounding step
    rng = np.random.default_rng(3)
    scores = np.round(rng.random((4, 40_000)) * 100, 6)
    scores[1, 10] = scores[1, 11] + 2e-9  # distinct after rounding to 9 decimals
    scores[2, 20] = scores[2, 21]  # a true tie
    scores[3, 30] = np.nextafter(scores[3, 31], np.inf)  # 1 ulp apart: floating-point noise
    ranks = rank_desc_min(scores)
    for run in range(4):
        expected = rankdata(-np.round(scores[run], TIE_DECIMALS), method="min").astype(np.int64)
        np.testing.assert_array_equal(ranks[run], expected)
    assert ranks[1, 10] == ranks[1, 11] - 1 and ranks[2, 20] == ranks[2, 21]
    assert ranks[3, 30] == ranks[3, 31]  # the near-tie of the 2024 benchmark: a tie


def test_rank_quantiles_are_type_7_over_ranked_runs():
    rng = np.random.default_rng(0)
    ranks = rng.integers(0, 50, (301, 7)).astype(np.uint16)
    ranks[:, 3] = 0  # never ranked
    out = rank_quantiles(ranks, (0.05, 0.5, 0.95), chunk=3)
    for j in range(7):
        kept = ranks[:, j][ranks[:, j] > 0].astype(float)
        if kept.size:
            np.testing.assert_allclose(out[j], np.quantile(kept, [0.05, 0.5, 0.95]))
        else:
            assert np.isnan(out[j]).all()


# --- specs of single runs ------------------------------------------------------------------------
def test_excluding_the_only_indicator_removes_its_criterion(barometre_spec):
    pruned = prune_spec(barometre_spec, "jva_matches")
    assert "jva_matches" not in pruned.indicator_codes
    assert [a.code for a in pruned.aggregates] == ["associations", "dynamisme", "score"]
    assert "engagement" not in pruned.weight_sets["indicators_equal"]
    assert prune_spec(barometre_spec, "none") is barometre_spec
    with pytest.raises(RobustnessError, match="unknown indicator"):
        prune_spec(barometre_spec, "nothing")


# --- the fast path against the engine ------------------------------------------------------------
def test_fast_path_equals_engine_rebuild(barometre_spec):
    table = small_communes()
    shrunk = table.copy()  # stands for shrunk rates: different values, same units
    shrunk["ha_campaigns"] = shrunk["ha_campaigns"] * 0.5 + 1.0
    assumptions = parse_assumptions(
        {
            "normalisation": [
                # min-max onto [0, 100] in geometric runs too: zeros make geometric means 0
                {"method": "minmax"},
                {"method": "zscore", "mean": 10, "sd": 2},
                {"method": "percentile_rank"},
            ],
            "exclusion": {},  # none + each indicator, equiprobable
            "rates": {"options": ["raw", "shrunk"]},
            "threads": 2,
        }
    )
    model = RobustnessModel(
        barometre_spec, {"raw": table, "shrunk": shrunk}, assumptions, class_order=CLASSES
    )
    design = model.space.sample(256, np.random.default_rng(11))
    fast = model.evaluate(design, store_ranks=True)
    runs = list(range(0, 256, 4))
    covered = {name: set(design.choices[name][runs]) for name in design.choices}
    assert covered["exclusion"] == set(range(7)) and covered["aggregation"] == {0, 1}
    assert (
        covered["rates"] == {0, 1}
        and len(covered["normalisation"]) == 3
        and len(covered["treatment"]) == 3
    )
    expected = naive_ranks(model, design, runs)
    np.testing.assert_array_equal(fast.ranks[runs].astype(np.int64), expected)
    # the comparison is not vacuous: ties, unranked units and rank changes all occur
    assert (expected == 0).any() and (expected != model.nominal_ranks).any()
    village = slice(*model.class_slices[0])
    assert any(
        len(np.unique(r[village][r[village] > 0])) < (r[village] > 0).sum() for r in expected
    )


def test_fast_path_equals_engine_with_a_zero_weight(barometre_spec):
    # a weight set giving 0 to one indicator: it still counts for the minimum data share
    raw = barometre_spec.model_dump()
    raw["weight_sets"]["zero"] = {"ha_new_organizations": 0.0}
    spec = spec_from_dict(raw)
    assumptions = parse_assumptions({"aggregation": ["arithmetic"], "exclusion": {}})
    model = RobustnessModel(
        spec, small_communes(), assumptions, weight_set="zero", class_order=CLASSES
    )
    assert "weight:ha_new_organizations" not in [f.name for f in model.space.factors]
    design = model.space.sample(64, np.random.default_rng(1))
    fast = model.evaluate(design, store_ranks=True)
    runs = list(range(0, 64, 4))
    np.testing.assert_array_equal(
        fast.ranks[runs].astype(np.int64), naive_ranks(model, design, runs)
    )


def test_nominal_settings_reproduce_the_engine_ranks(barometre_spec):
    table = small_communes(seed=8)
    assumptions = parse_assumptions(
        {
            "weights": {"distribution": "none"},
            "treatment": None,
            "normalisation": None,
            "aggregation": None,
            "exclusion": None,
        }
    )
    model = RobustnessModel(barometre_spec, table, assumptions, class_order=CLASSES)
    assert model.space.dimension == 0
    outputs = model.evaluate(model.space.nominal_design(), store_ranks=True)
    np.testing.assert_array_equal(outputs.ranks[0].astype(np.int64), model.nominal_ranks)
    build = build_index(barometre_spec, table)
    engine = build.group_ranks["population_class"]["score"].reindex(model.unit_codes).fillna(0)
    np.testing.assert_array_equal(model.nominal_ranks, engine.to_numpy(dtype=np.int64))
    assert np.all(outputs.abs_shift[0] == 0)


def test_geometric_means_need_positive_normalised_values(barometre_spec):
    assumptions = parse_assumptions(
        {"normalisation": [{"method": "zscore"}], "aggregation": ["geometric"]}
    )
    model = RobustnessModel(barometre_spec, small_communes(), assumptions, class_order=CLASSES)
    with pytest.raises(RobustnessError, match="negative values"):
        model.evaluate(model.space.sample(4, np.random.default_rng(0)))


@needs_asem
def test_fast_path_equals_engine_rebuild_on_asem(asem):
    spec, data = asem
    # screening at 90 % data, group imputation, three aggregation levels, Dirichlet weights
    assumptions = parse_assumptions(
        {
            "class_column": "EurAsia_group",
            "weights": {"distribution": "dirichlet", "concentration": 20, "levels": [1, 2, 3]},
            "normalisation": [
                {"method": "minmax", "low": 1, "high": 100},
                {"method": "percentile_rank"},
            ],
            "exclusion": {},
        }
    )
    model = RobustnessModel(spec, data, assumptions)
    design = model.space.sample(128, np.random.default_rng(5))
    fast = model.evaluate(design, store_ranks=True)
    runs = list(range(0, 128, 8))
    np.testing.assert_array_equal(
        fast.ranks[runs].astype(np.int64), naive_ranks(model, design, runs)
    )


# --- uncertainty analysis ------------------------------------------------------------------------
def test_uncertainty_tables_are_consistent(barometre_spec):
    model = RobustnessModel(
        barometre_spec, small_communes(), parse_assumptions({"n_runs": 300}), class_order=CLASSES
    )
    result = run_uncertainty(model, np.random.default_rng(2))
    communes, laureates, classes = result.communes, result.laureates, result.classes
    assert len(communes) == model.n_units and communes["code"].is_unique
    assert classes["class"].tolist() == CLASSES
    assert len(laureates) == 20 and laureates.groupby("class").size().eq(4).all()
    assert laureates["class"].tolist() == [c for c in CLASSES for _ in range(4)]
    ranked = communes.dropna(subset=["median_rank"])
    assert (ranked["rank_p05"] <= ranked["median_rank"]).all() and (
        ranked["median_rank"] <= ranked["rank_p95"]
    ).all()
    assert communes["p_top4"].between(0, 1).all()
    # P(top 4) sums to at most 4 per class and run (ties could add more, unranked remove)
    assert communes.groupby("class")["p_top4"].sum().le(4 + 1e-9).all()
    # stability of a laureate is its P(top 4)
    stab = laureates.set_index("code")["stability"]
    np.testing.assert_allclose(stab, communes.set_index("code").loc[stab.index, "p_top4"])
    # class summary: mean number of laureates changed = 4 − Σ stability of the class
    for label, group in laureates.groupby("class"):
        row = classes.set_index("class").loc[label]
        assert row["laureates_changed_mean"] == pytest.approx(4 - group["stability"].sum())
        shares = [row[f"share_within_{k}"] for k in (1, 3, 10)]
        assert shares == sorted(shares) and 0 <= shares[0] and shares[-1] <= 1
    assert result.runs.shape[0] == 300
    assert set(result.runs["exclusion"]) <= {"none", *model.spec.indicator_codes}


def test_uncertainty_is_reproducible(barometre_spec):
    model = RobustnessModel(
        barometre_spec, small_communes(), parse_assumptions({"n_runs": 64}), class_order=CLASSES
    )
    a = run_uncertainty(model, np.random.default_rng(9))
    b = run_uncertainty(model, np.random.default_rng(9))
    pd.testing.assert_frame_equal(a.communes, b.communes)
    pd.testing.assert_frame_equal(a.classes, b.classes)


@needs_asem
def test_asem_uncertainty_keeps_every_nominal_rank_in_its_interval(asem):
    """COINr's vignette assumptions on ASEM, 1 024 seeded runs: all 51 nominal ranks (build A:
    min-max [0, 100], arithmetic, winmax 5) lie inside [P5, P95] of their rank (as for seeds 1, 2
    and 3 too); medians stay within 6 ranks of the nominal ranks (5.5 at most with this seed) and
    no interval is wider than 24 ranks."""
    spec, data = asem
    model = RobustnessModel(spec, data, parse_assumptions(coinr_vignette_assumptions(n_runs=1024)))
    result = run_uncertainty(model, np.random.default_rng(20240615))
    communes = result.communes
    assert len(communes) == 51
    assert communes["nominal_in_interval"].all()
    assert (communes["median_rank"] - communes["nominal_rank"]).abs().max() <= 6
    assert (communes["share_ranked"] == 1).all()
    widths = communes["rank_p95"] - communes["rank_p05"]
    assert widths.min() >= 0 and widths.max() <= 24
    assert result.classes.loc[0, "share_nominal_in_interval"] == 1.0


# --- annex files and notebook --------------------------------------------------------------------
def test_annex_tables_and_figures_are_written_identically(barometre_spec, tmp_path):
    from barometre.robustness.annex import analyse, write_figures, write_tables

    assumptions = parse_assumptions({"n_runs": 64, "sobol_base_samples": 16})
    paths = {}
    for name in ("a", "b"):
        analysis = analyse(
            barometre_spec, small_communes(), assumptions, seed=4, class_order=CLASSES
        )
        build = tmp_path / name
        written = write_tables(build, analysis) + write_figures(build, analysis)
        paths[name] = [p.relative_to(build) for p in written]
        for path in written:
            assert path.stat().st_size > 0
    assert paths["a"] == paths["b"]
    names = {p.as_posix() for p in paths["a"]}
    assert {
        f"tables/robustness/{t}.csv"
        for t in ("commune_ranks", "laureate_stability", "sobol", "class_summary")
    } <= names
    assert {"figures/robustness_ptop4.png", "figures/robustness_sobol.png"} <= names
    assert "figures/robustness_intervals_petite-ville.png" in names
    for relative in paths["a"]:
        assert (tmp_path / "a" / relative).read_bytes() == (
            tmp_path / "b" / relative
        ).read_bytes(), relative
    laureates = pd.read_csv(tmp_path / "a" / "tables" / "robustness" / "laureate_stability.csv")
    assert len(laureates) == 20 and laureates["stability"].between(0, 1).all()
    assert set(laureates["driver_label"].dropna()) <= {
        "Poids des indicateurs",
        "Poids des critères",
        "Valeurs extrêmes",
        "Normalisation",
        "Agrégation",
        "Exclusion d'un indicateur",
    }


def test_robustness_notebook_is_thin_and_parameterised():
    import json

    notebook = json.loads((ROOT / "notebooks" / "04_robustness.ipynb").read_text(encoding="utf-8"))
    cells = notebook["cells"]
    assert [c["id"] for c in cells] == [f"cell-{n:02d}" for n in range(len(cells))]
    tagged = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1
    source = "".join(tagged[0]["source"])
    names = [line.split("=")[0].strip() for line in source.splitlines() if "=" in line]
    assert names == [
        "build_dir",
        "edition_config",
        "n_runs",
        "seed",
        "assumptions",
        "departments",
        "demo",
    ]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code)
    assert "barometre.robustness.annex" in "".join("".join(c["source"]) for c in code)
