"""Confidence sets for ranks (barometre.rankcs): hand-computed cases, the csranks PISA reference,
seeded coverage simulations, properties, the pair counting against brute force, and the CLI.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm
from typer.testing import CliRunner

from barometre.cli import app
from barometre.rankcs import (
    _Columns,
    _count_significant,
    _Model,
    estimate_ranks,
    rank_confidence_sets,
    tau_best_set,
)

PISA = Path(__file__).resolve().parents[1] / ".." / "shared" / "reference-cases" / "csranks-pisa"
METHODS = ["bootstrap", "bonferroni"]


def sets(frame: pd.DataFrame) -> list[tuple[int, int]]:
    return list(zip(frame["lower"].tolist(), frame["upper"].tolist(), strict=True))


# ---------------------------------------------------------------------------------------------
# exact small cases


def test_rank_rule_ties_share_the_best_rank() -> None:
    assert estimate_ranks([3.0, 1.0, 3.0, 2.0]).tolist() == [1, 4, 1, 3]
    out = rank_confidence_sets(
        [3.0, 1.0, 3.0, 2.0], se=[1, 1, 1, 1], rng=np.random.default_rng(0), n_boot=2000
    )
    assert out["rank"].tolist() == [1, 4, 1, 3]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("simultaneous", [False, True])
def test_huge_separation_gives_singletons(method: str, simultaneous: bool) -> None:
    out = rank_confidence_sets(
        pd.Series([0.0, 100.0, -100.0], index=["b", "a", "c"]),
        se=[1.0, 1.0, 1.0],
        simultaneous=simultaneous,
        method=method,
        n_boot=5000,
        rng=np.random.default_rng(1),
    )
    assert list(out.index) == ["b", "a", "c"]
    assert out["rank"].tolist() == [2, 1, 3]
    assert sets(out) == [(2, 2), (1, 1), (3, 3)]
    best = tau_best_set(
        [0.0, 100.0, -100.0],
        se=[1.0, 1.0, 1.0],
        tau=1,
        method=method,
        n_boot=5000,
        rng=np.random.default_rng(1),
    )
    assert best["in_tau_best"].tolist() == [False, True, False]
    assert best["upper"].tolist() == [3, 3, 3]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("simultaneous", [False, True])
def test_identical_estimates_give_full_sets(method: str, simultaneous: bool) -> None:
    out = rank_confidence_sets(
        np.full(4, 5.0),
        se=np.ones(4),
        simultaneous=simultaneous,
        method=method,
        n_boot=5000,
        rng=np.random.default_rng(2),
    )
    assert out["rank"].tolist() == [1, 1, 1, 1]
    assert sets(out) == [(1, 4)] * 4
    best = tau_best_set(
        np.full(4, 5.0),
        se=np.ones(4),
        tau=1,
        method=method,
        n_boot=5000,
        rng=np.random.default_rng(2),
    )
    assert best["in_tau_best"].all()


@pytest.mark.parametrize("method", METHODS)
def test_two_units_at_the_two_sided_normal_value(method: str) -> None:
    # p = 2: one pair, T = 3 / sqrt(2) = 2.12. The family {H_12, H_21} has max(S, -S) = |S|,
    # S ~ N(0, 1): c = 1.96 at 95 % (both methods), 2.58 at 99 %.
    x, se = [0.0, 3.0], [1.0, 1.0]
    at95 = rank_confidence_sets(
        x, se=se, coverage=0.95, method=method, rng=np.random.default_rng(3)
    )
    at99 = rank_confidence_sets(
        x, se=se, coverage=0.99, method=method, rng=np.random.default_rng(3)
    )
    assert sets(at95) == [(2, 2), (1, 1)]
    assert sets(at99) == [(1, 2), (1, 2)]
    assert at95.attrs["critical_value"] == pytest.approx(norm.ppf(0.975), abs=0.02)


def test_stepdown_by_hand_with_bonferroni_holm() -> None:
    # sigma_jk = 1 for every pair; differences 2.35 (neighbours) and 4.70. All 6 ordered pairs:
    # step 1, c = Phi^-1(1 - 0.05 / 6) = 2.394 rejects only "top better than bottom"; step 2,
    # 5 hypotheses alive, c = Phi^-1(1 - 0.01) = 2.326 < 2.35 rejects the neighbours too.
    x, se = [0.0, 2.35, 4.70], np.full(3, np.sqrt(0.5))
    single = rank_confidence_sets(x, se=se, simultaneous=True, stepdown=False, method="bonferroni")
    assert single.attrs["critical_value"] == pytest.approx(norm.isf(0.05 / 6))
    assert sets(single) == [(2, 3), (1, 3), (1, 2)]
    step = rank_confidence_sets(x, se=se, simultaneous=True, stepdown=True, method="bonferroni")
    assert sets(step) == [(3, 3), (2, 2), (1, 1)]
    assert step.attrs["steps"] == 3  # the last step finds nothing new
    best = tau_best_set(x, se=se, tau=1, stepdown=False, method="bonferroni")
    assert best["in_tau_best"].tolist() == [False, True, True]
    best = tau_best_set(x, se=se, tau=1, method="bonferroni")
    assert best["in_tau_best"].tolist() == [False, False, True]


def test_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        rank_confidence_sets([1.0, 2.0])
    with pytest.raises(ValueError, match="non-negative"):
        rank_confidence_sets([1.0, 2.0], se=[1.0, -1.0])
    with pytest.raises(ValueError, match="finite"):
        rank_confidence_sets([1.0, np.nan], se=[1.0, 1.0])
    with pytest.raises(ValueError, match="coverage"):
        rank_confidence_sets([1.0, 2.0], se=[1.0, 1.0], coverage=1.0)
    with pytest.raises(ValueError, match="tau"):
        tau_best_set([1.0, 2.0], se=[1.0, 1.0], tau=0)
    with pytest.raises(ValueError, match="not found"):
        rank_confidence_sets(pd.Series([1.0, 2.0], index=["a", "b"]), se=[1.0, 1.0], indices=["z"])


def test_one_unit() -> None:
    out = rank_confidence_sets([4.0], se=[1.0], rng=np.random.default_rng(0))
    assert sets(out) == [(1, 1)] and out["rank"].tolist() == [1]


def test_covariance_input_matches_standard_errors() -> None:
    rng = np.random.default_rng(4)
    x, se = rng.normal(size=40) * 3, rng.uniform(0.5, 2, 40)
    for simultaneous in (False, True):
        by_se = rank_confidence_sets(x, se=se, simultaneous=simultaneous, method="bonferroni")
        by_cov = rank_confidence_sets(
            x, cov=np.diag(se**2), simultaneous=simultaneous, method="bonferroni"
        )
        pd.testing.assert_frame_equal(by_se, by_cov)
    # Positively correlated estimates: differences are more precise, sets are narrower.
    cov = 0.8 * np.outer(se, se) + 0.2 * np.diag(se**2)
    corr = rank_confidence_sets(x, cov=cov, n_boot=4000, rng=np.random.default_rng(5))
    indep = rank_confidence_sets(x, se=se, n_boot=4000, rng=np.random.default_rng(5))
    assert (corr["upper"] - corr["lower"]).sum() < (indep["upper"] - indep["lower"]).sum()


# ---------------------------------------------------------------------------------------------
# large families: exact counting and Holm against brute force


def test_pair_counting_is_exact_against_brute_force() -> None:
    rng = np.random.default_rng(6)
    for trial in range(8):
        p = int(rng.integers(20, 2500))
        x = rng.normal(size=p) * [1.0, 10.0, 1e4][trial % 3]
        if trial % 2:
            x = np.round(x, 1)  # many ties
        se = rng.lognormal(-2.0, [0.1, 1.0, 2.0][trial % 3], size=p)
        if trial == 7:
            se[:25] = 0.0
        model = _Model(x=x, var=se**2, cov=None)
        rows = rng.choice(p, size=min(p, 300), replace=False)
        c = rng.uniform(0.0, 7.0, size=rows.size)
        d = x[rows][:, None] - x[None, :]
        thr = c[:, None] * np.sqrt(se[rows][:, None] ** 2 + se[None, :] ** 2)
        worse, better = _count_significant(model, rows, c, _Columns(model, np.arange(p)))
        assert worse.tolist() == (d > thr).sum(axis=1).tolist()
        assert better.tolist() == (-d > thr).sum(axis=1).tolist()
        cols = rng.choice(p, size=p // 3, replace=False)
        worse, better = _count_significant(model, rows, c, _Columns(model, cols))
        assert worse.tolist() == (d[:, cols] > thr[:, cols]).sum(axis=1).tolist()
        assert better.tolist() == (-d[:, cols] > thr[:, cols]).sum(axis=1).tolist()


def holm_brute_force(t: np.ndarray, units: np.ndarray, coverage: float) -> list[tuple[int, int]]:
    """Holm over the ordered pairs involving ``units``, from the dense matrix ``t`` of statistics."""
    p = t.shape[0]
    family = np.zeros((p, p), dtype=bool)
    family[units, :] = True
    family[:, units] = True
    np.fill_diagonal(family, False)
    stats = np.sort(t[family])[::-1]
    m = stats.size
    # classic Holm: reject the k largest while T_(k+1) > Phi^-1(1 - alpha / (m - k))
    fails = stats <= norm.isf((1 - coverage) / (m - np.arange(m)))
    k = int(fails.argmax()) if fails.any() else m
    c = norm.isf((1 - coverage) / (m - k + 1)) if k else np.inf
    rejected = family & (t > c) if k else np.zeros_like(family)
    return [(1 + int(rejected[:, i].sum()), p - int(rejected[i, :].sum())) for i in units]


def test_bonferroni_holm_matches_classic_holm() -> None:
    rng = np.random.default_rng(7)
    p = 600
    x, se = rng.normal(size=p), rng.lognormal(-2.5, 0.7, size=p)
    t = (x[:, None] - x[None, :]) / np.sqrt(se[:, None] ** 2 + se[None, :] ** 2)
    everyone = np.arange(p)
    simul = rank_confidence_sets(x, se=se, simultaneous=True, method="bonferroni")
    assert sets(simul) == holm_brute_force(t, everyone, 0.95)
    best = tau_best_set(x, se=se, tau=20, method="bonferroni")
    assert best["lower"].tolist() == simul["lower"].tolist()
    top = np.argsort(-x)[:15]
    subset = rank_confidence_sets(x, se=se, simultaneous=True, indices=top, method="bonferroni")
    assert list(subset.index) == top.tolist()
    assert sets(subset) == holm_brute_force(t, top, 0.95)
    some = rng.choice(p, size=40, replace=False)
    marginal = rank_confidence_sets(x, se=se, indices=some, method="bonferroni")
    assert sets(marginal) == [holm_brute_force(t, np.array([i]), 0.95)[0] for i in some]


def test_auto_switches_to_bonferroni_above_the_work_threshold() -> None:
    rng = np.random.default_rng(8)
    x, se = rng.normal(size=200), np.full(200, 0.1)
    small = rank_confidence_sets(x, se=se, simultaneous=True, n_boot=1000, rng=rng)
    big = rank_confidence_sets(x, se=se, simultaneous=True, n_boot=100_000, rng=rng)
    assert small.attrs["method"] == "bootstrap" and big.attrs["method"] == "bonferroni"
    # Bonferroni-Holm is valid and only a little conservative for simultaneous families.
    assert big.attrs["critical_value"] >= small.attrs["critical_value"]
    assert big.attrs["critical_value"] - small.attrs["critical_value"] < 0.3


# ---------------------------------------------------------------------------------------------
# the csranks reference (PISA 2018 mathematics)


def pisa() -> tuple[pd.Series, pd.Series]:
    if not PISA.is_dir():
        pytest.skip(f"reference case not found: {PISA}")
    data = pd.read_csv(PISA / "pisa2018_math.csv", index_col="jurisdiction")
    return data["math_score"], data["math_se"]


def compare(ours: pd.DataFrame, expected_file: str) -> dict[int, int]:
    expected = pd.read_csv(PISA / expected_file, index_col="jurisdiction")
    assert list(ours.index) == list(expected.index)
    assert ours["rank"].tolist() == expected["rank"].tolist()
    gaps = pd.concat([(ours["lower"] - expected["L"]).abs(), (ours["upper"] - expected["U"]).abs()])
    assert gaps.max() <= 2, gaps[gaps > 2]
    assert (gaps == 0).mean() >= 0.8
    return gaps.value_counts().to_dict()


@pytest.mark.parametrize(
    ("simultaneous", "expected_file"),
    [
        (False, "expected_math_marginal_cov0.95.csv"),
        (True, "expected_math_simultaneous_cov0.95.csv"),
    ],
)
def test_pisa_reference(simultaneous: bool, expected_file: str) -> None:
    x, se = pisa()
    ours = rank_confidence_sets(
        x,
        se,
        coverage=0.95,
        simultaneous=simultaneous,
        n_boot=100_000,
        rng=np.random.default_rng(1),
    )
    assert ours.attrs["method"] == "bootstrap"
    compare(ours, expected_file)
    # Bonferroni-Holm is conservative: its sets contain the bootstrap ones.
    bonf = rank_confidence_sets(
        x, se, coverage=0.95, simultaneous=simultaneous, method="bonferroni"
    )
    assert (bonf["lower"] <= ours["lower"]).all() and (bonf["upper"] >= ours["upper"]).all()


def test_pisa_tau_best_reference() -> None:
    x, se = pisa()
    ours = tau_best_set(x, se, tau=10, coverage=0.95, n_boot=10_000, rng=np.random.default_rng(1))
    expected = pd.read_csv(PISA / "expected_math_taubest10_cov0.95.csv", index_col="jurisdiction")
    assert ours["in_tau_best"].tolist() == expected["in_set"].tolist()
    assert ours["upper"].tolist() == expected["U"].tolist()
    assert (ours["lower"] - expected["L"]).abs().max() <= 2
    assert ((ours["lower"] - expected["L"]) == 0).mean() >= 0.8


# ---------------------------------------------------------------------------------------------
# seeded coverage simulations


def true_ranks(theta: np.ndarray) -> np.ndarray:
    return estimate_ranks(theta)


# A heterogeneous design (a tie, close and distant units, unequal precision) and the least
# favourable one (all values equal: every true rank is 1, and the simultaneous sets and the
# tau-best set cover exactly when no hypothesis is rejected, probability 1 - alpha at the first
# step of the bootstrap).
DESIGNS = {
    "mixed": (
        np.array([0.0, 0.4, 0.8, 1.2, 1.2, 2.0, 3.0, 5.0]),
        np.array([0.5, 0.5, 1.0, 0.5, 0.7, 1.0, 0.5, 0.8]),
    ),
    "all_equal": (np.zeros(6), np.array([0.5, 1.0, 1.5, 0.5, 1.0, 1.5])),
}


def simulate(
    design: str, method: str, reps: int, seed: int, tau: int = 3
) -> dict[str, np.ndarray | float]:
    rng = np.random.default_rng(seed)
    theta, se = DESIGNS[design]
    rank = true_ranks(theta)
    top = rank <= tau
    marginal_hits = np.zeros(theta.size)
    joint_hits = best_hits = 0
    for _ in range(reps):
        x = theta + se * rng.standard_normal(theta.size)
        kw = {"se": se, "method": method, "n_boot": 2000, "rng": rng}
        marg = rank_confidence_sets(x, **kw)
        sim = rank_confidence_sets(x, simultaneous=True, **kw)
        best = tau_best_set(x, tau=tau, **kw)
        marginal_hits += (marg["lower"].to_numpy() <= rank) & (rank <= marg["upper"].to_numpy())
        joint_hits += bool(
            np.all((sim["lower"].to_numpy() <= rank) & (rank <= sim["upper"].to_numpy()))
        )
        best_hits += bool(best["in_tau_best"].to_numpy()[top].all())
    return {
        "marginal": marginal_hits / reps,
        "simultaneous": joint_hits / reps,
        "tau_best": best_hits / reps,
    }


@pytest.mark.parametrize("design", list(DESIGNS))
@pytest.mark.parametrize("method", METHODS)
def test_coverage_is_at_least_nominal(design: str, method: str) -> None:
    reps = 400
    cover = simulate(design, method, reps, seed=20240 + len(method) + len(design))
    tol = 3.5 * np.sqrt(0.95 * 0.05 / reps)  # Monte-Carlo tolerance (0.038)
    assert np.min(cover["marginal"]) >= 0.95 - tol, cover
    assert cover["simultaneous"] >= 0.95 - tol, cover
    assert cover["tau_best"] >= 0.95 - tol, cover
    if (
        design == "all_equal" and method == "bootstrap"
    ):  # the bootstrap is exact there, not conservative
        assert cover["simultaneous"] <= 0.95 + tol, cover


def test_coverage_of_a_large_class_with_bonferroni_holm() -> None:
    # 1 500 units, 2.2 million hypotheses per family: the counted (no draws) path.
    rng = np.random.default_rng(9)
    p, reps, tau = 1500, 40, 15
    theta = np.sort(rng.normal(size=p))[::-1]
    se = rng.lognormal(-2.0, 0.5, size=p)
    rank = true_ranks(theta)
    joint = best = 0
    for _ in range(reps):
        x = theta + se * rng.standard_normal(p)
        sim = rank_confidence_sets(x, se=se, simultaneous=True)
        assert sim.attrs["method"] == "bonferroni"
        joint += bool(np.all((sim["lower"].to_numpy() <= rank) & (rank <= sim["upper"].to_numpy())))
        best += bool(tau_best_set(x, se=se, tau=tau)["in_tau_best"].to_numpy()[:tau].all())
    # Bonferroni-Holm is valid in finite samples; with 40 replications, at most 6 misses.
    assert joint >= reps - 6 and best >= reps - 6


# ---------------------------------------------------------------------------------------------
# properties


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.tuples(st.integers(-6, 6), st.floats(0.2, 3.0)), min_size=2, max_size=7),
    method=st.sampled_from(METHODS),
    seed=st.integers(0, 2**32 - 1),
)
def test_properties(values: list[tuple[int, float]], method: str, seed: int) -> None:
    x = np.array([v for v, _ in values], dtype=float)
    se = np.array([s for _, s in values])
    p = x.size
    frames = {}
    for coverage in (0.8, 0.95):
        for simultaneous in (False, True):
            frames[coverage, simultaneous] = out = rank_confidence_sets(
                x,
                se=se,
                coverage=coverage,
                simultaneous=simultaneous,
                method=method,
                n_boot=500,
                rng=np.random.default_rng(seed),
            )
            assert (1 <= out["lower"]).all() and (out["lower"] <= out["rank"]).all()
            assert (out["rank"] <= out["upper"]).all() and (out["upper"] <= p).all()
    for simultaneous in (False, True):  # monotone widening with coverage
        narrow, wide = frames[0.8, simultaneous], frames[0.95, simultaneous]
        assert (wide["lower"] <= narrow["lower"]).all() and (wide["upper"] >= narrow["upper"]).all()
    for coverage in (0.8, 0.95):  # simultaneous sets contain the marginal ones
        marg, sim = frames[coverage, False], frames[coverage, True]
        assert (sim["lower"] <= marg["lower"]).all() and (sim["upper"] >= marg["upper"]).all()
    best = tau_best_set(x, se=se, tau=1, method=method, n_boot=500, rng=np.random.default_rng(seed))
    assert best["in_tau_best"].to_numpy()[np.argmax(x)]  # the estimated best is always in
    assert best["lower"].tolist() == frames[0.95, True]["lower"].tolist()


# ---------------------------------------------------------------------------------------------
# command line

runner = CliRunner()

UNITS_CSV = """code,score,se,label
01001,12.0,1.0,a
01002,3.5,0.5,b
02010,25.0,2.0,c
02011,3.4,0.5,d
"""


def run_cs(tmp_path: Path, *extra: str, csv: str = UNITS_CSV) -> tuple[int, str, Path]:
    src = tmp_path / "units.csv"
    src.write_text(csv, encoding="utf-8")
    out = tmp_path / "out" / "cs.csv"
    result = runner.invoke(
        app,
        [
            "ranks",
            "cs",
            str(src),
            "--id",
            "code",
            "--estimate",
            "score",
            "--se",
            "se",
            "--out",
            str(out),
            "--seed",
            "3",
            "--n-boot",
            "2000",
            *extra,
        ],
    )
    return result.exit_code, result.output, out


def test_cli_writes_the_sets(tmp_path: Path) -> None:
    code, output, out = run_cs(tmp_path)
    assert code == 0, output
    assert "wrote 4 rows" in output
    table = pd.read_csv(out, dtype={"id": str})
    assert list(table.columns) == ["id", "estimate", "rank", "lower", "upper"]
    assert table["id"].tolist() == ["01001", "01002", "02010", "02011"]
    assert table["rank"].tolist() == [2, 3, 1, 4]
    assert ((table["lower"] <= table["rank"]) & (table["rank"] <= table["upper"])).all()
    code, output, _ = run_cs(tmp_path, "--simultaneous", "--coverage", "0.9")
    assert code == 0 and "simultaneous" in output


def test_cli_tau_best(tmp_path: Path) -> None:
    code, output, out = run_cs(tmp_path, "--tau-best", "2")
    assert code == 0, output
    table = pd.read_csv(out, dtype={"id": str})
    assert list(table.columns) == ["id", "estimate", "rank", "lower", "upper", "in_tau_best"]
    assert table["upper"].tolist() == [4, 4, 4, 4]
    assert table.loc[table["rank"] <= 2, "in_tau_best"].all()


@pytest.mark.parametrize(
    ("extra", "csv", "message"),
    [
        (["--se", "nope"], UNITS_CSV, "no column 'nope'"),
        ([], UNITS_CSV.replace("3.5,0.5", "abc,0.5"), "not a finite number"),
        ([], UNITS_CSV.replace("3.5,0.5", "3.5,-0.5"), "negative standard error"),
        ([], UNITS_CSV.replace("3.5,0.5", "3.5,"), "missing"),
        (["--tau-best", "0"], UNITS_CSV, "--tau-best"),
        (["--coverage", "1.5"], UNITS_CSV, "--coverage"),
    ],
)
def test_cli_errors_are_one_line(tmp_path: Path, extra: list[str], csv: str, message: str) -> None:
    code, output, out = run_cs(tmp_path, *extra, csv=csv)
    assert code == 2
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], output
    assert "Traceback" not in output and not out.exists()


def test_cli_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "ranks",
            "cs",
            str(tmp_path / "absent.csv"),
            "--id",
            "a",
            "--estimate",
            "b",
            "--se",
            "c",
            "--out",
            str(tmp_path / "o.csv"),
        ],
    )
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: ") and "no such file" in result.output
