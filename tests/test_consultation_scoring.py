"""Scoring of a consultation (issue 15): Make-compatible scores exact on the upstream fixture,
hand-computed cases, zone boundaries, honest zone probabilities (Dirichlet posterior) against
a deterministic quadrature, and the ``barometre consultation score`` contract."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from barometre.cli import app
from barometre.consultation.readers import COUNT_COLUMNS, read_counts
from barometre.consultation.scoring import (
    CONSENSUS,
    CONTROVERSY,
    HONEST_COLUMNS,
    LIMBO,
    MAKE_COLUMNS,
    REJECTION,
    ZONES,
    make_scores,
    score_consultation,
    zone_probabilities,
    zone_probabilities_quadrature,
    zone_rule,
)

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference-cases" / "makeorg-scorer"
runner = CliRunner()


def reference() -> Path:
    if not (REFERENCE / "expected.csv").is_file():
        pytest.skip("../shared is absent")
    return REFERENCE


def proposals_of(rows: list[dict[str, int]]) -> pd.DataFrame:
    """Counts-layout proposals from {column: count} (missing columns are 0)."""
    frame = pd.DataFrame([{c: row.get(c, 0) for c in COUNT_COLUMNS} for row in rows])
    frame.insert(0, "id", [f"p{i}" for i in range(len(rows))])
    return frame


def same_counters(agree: int, disagree: int, neutral: int, **qualifications: int) -> dict[str, int]:
    """The same votes on both counters (so that the weight does not matter)."""
    row = {}
    for c in ("verified", "sequence"):
        row.update({f"vote_{c}_agree": agree, f"vote_{c}_disagree": disagree, f"vote_{c}_neutral": neutral})  # fmt: skip
        row.update({f"vote_{c}_{k}": v for k, v in qualifications.items()})
    return row


# --- Make-compatible -----------------------------------------------------------------------


def test_reference_fixture_exact() -> None:
    folder = reference()
    expected = pd.read_csv(folder / "expected.csv")
    scored = make_scores(read_counts(folder / "proposals.csv").proposals).set_index("id")
    for row in expected.itertuples(index=False):
        assert abs(scored.loc[row.id, row.quantity] - row.value) <= row.tolerance, row.quantity
    assert scored.loc["fixture-1", "zone"] == "consensus"
    assert scored.loc["fixture-1", "n_votes"] == 115


def test_no_votes_by_hand() -> None:
    scored = make_scores(proposals_of([{}])).iloc[0]
    # Every vote key 0.33, every qualification 0.01, half-width 2·sqrt(0.25/4) = 0.5.
    assert scored["agree"] == scored["disagree"] == scored["neutral"] == pytest.approx(0.33)
    assert scored["top_score"] == pytest.approx(0.33 + 0.01 + 0.01 - 0.01 - 0.01 - 0.02)
    assert scored["rejection"] == pytest.approx(0.33 + 0.01 + 0.01 - 0.01 - 0.01 - 0.02)
    assert scored["controversy"] == pytest.approx(0.33 + 0.01)
    assert scored["neutral_ci"] == pytest.approx(0.5)
    assert scored["top_score_ci"] == pytest.approx(0.5 * math.sqrt(7))
    assert scored["controversy_ci"] == pytest.approx(0.5 * math.sqrt(2))
    # a = d = n = 0.33: neither branch of consensus nor rejection, n < 0.4: controversy.
    assert scored["zone"] == "controversy" and scored["n_votes"] == 0


def test_small_case_by_hand() -> None:
    row = same_counters(9, 0, 0, agree_like=3)
    scored = make_scores(proposals_of([row])).iloc[0]
    agree, like = 9.33 / 10, 3.01 / 10
    assert scored["agree"] == pytest.approx(agree, abs=1e-15)
    assert scored["neutral"] == pytest.approx(0.033, abs=1e-15)

    def half(p: float) -> float:
        q = (9 * p + 2) / 13
        return 2 * math.sqrt(q * (1 - q) / 13)

    small = 0.01 / 10
    top = agree + like + small - small - small - 2 * small
    top_ci = math.sqrt(half(agree) ** 2 + half(like) ** 2 + 5 * half(small) ** 2)
    assert scored["top_score"] == pytest.approx(top, abs=1e-15)
    assert scored["top_score_ci"] == pytest.approx(top_ci, abs=1e-15)
    # min(agree, disagree) = disagree (0.033) with agree's larger half-width.
    assert scored["controversy"] == pytest.approx(0.033 + small, abs=1e-15)
    assert scored["controversy_ci"] == pytest.approx(math.hypot(half(agree), half(like)), abs=1e-15)
    assert scored["zone"] == "consensus"


def test_weight_selects_the_counters() -> None:
    row = {"vote_verified_agree": 10, "vote_sequence_disagree": 10}
    proposals = proposals_of([row])
    verified_only = make_scores(proposals, weight=1.0).iloc[0]
    sequence_only = make_scores(proposals, weight=0.0).iloc[0]
    assert (
        verified_only["agree"] == pytest.approx(10.33 / 11) and verified_only["zone"] == "consensus"
    )
    assert (
        sequence_only["disagree"] == pytest.approx(10.33 / 11)
        and sequence_only["zone"] == "rejection"
    )
    half = make_scores(proposals).iloc[0]
    assert half["agree"] == pytest.approx((10.33 / 11 + 0.33 / 11) / 2)
    # The half-widths read the sequence counter only: the same whatever the weight.
    assert verified_only["neutral_ci"] == sequence_only["neutral_ci"] == half["neutral_ci"]
    with pytest.raises(ValueError, match="weight"):
        make_scores(proposals, weight=1.5)


@pytest.mark.parametrize(
    ("a", "d", "n", "zone"),
    [
        (0.6, 0.0, 0.4, CONSENSUS),  # a ≥ 0.6 wins over n ≥ 0.4
        (0.5999, 0.0, 0.4001, LIMBO),
        (0.46, 0.1499, 0.3901, CONSENSUS),  # n < 0.4 and d < 0.15
        (0.45, 0.15, 0.39, CONTROVERSY),  # d = 0.15 is not < 0.15
        (0.2, 0.41, 0.39, CONTROVERSY),
        (0.2, 0.4, 0.4, LIMBO),  # n = 0.4 is limbo
        (0.0, 0.6, 0.4, REJECTION),  # d ≥ 0.6 wins over limbo
        (0.1499, 0.4602, 0.3899, REJECTION),  # n < 0.4 and a < 0.15
        (0.15, 0.46, 0.39, CONTROVERSY),  # a = 0.15 is not < 0.15
        (0.1, 0.05, 0.85, LIMBO),
        (0.1, 0.1, 0.39, CONSENSUS),  # the consensus branch is tested before rejection
        (0.33, 0.33, 0.33, CONTROVERSY),  # a proposal without votes
    ],
)
def test_zone_boundaries(a: float, d: float, n: float, zone: int) -> None:
    assert zone_rule(np.array([a]), np.array([d]), np.array([n]))[0] == zone


@st.composite
def vote_triples(draw) -> tuple[int, int, int]:
    counts = draw(st.tuples(*[st.integers(0, 60)] * 3).filter(lambda t: sum(t) > 0))
    return counts


@settings(max_examples=150, deadline=None)
@given(vote_triples(), st.integers(1, 400))
def test_zone_of_shares_invariant_under_scaling(counts: tuple[int, int, int], k: int) -> None:
    """The zone of the raw shares does not change when every count is multiplied by k; Make's
    smoothed scores are within 1/(N + 1) of the raw shares, so its zone is that zone as soon as
    no share lies within 1/(N + 1) of a threshold it is compared with."""
    total = sum(counts)
    shares = np.array(counts) / total
    raw_zone = zone_rule(*shares[:, None])[0]
    scaled = np.array(counts) * k
    assert zone_rule(*(scaled / scaled.sum())[:, None])[0] == raw_zone
    margin = 1.0 / (total * k + 1)
    if min(abs(s - t) for s in shares for t in (0.15, 0.4, 0.6)) > margin:
        row = same_counters(*map(int, scaled))
        assert make_scores(proposals_of([row]))["zone"].iloc[0] == ZONES[raw_zone]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 500)] * 3), min_size=1, max_size=6), st.floats(0, 1))
def test_make_scores_properties(rows: list[tuple[int, int, int]], weight: float) -> None:
    scored = make_scores(proposals_of([same_counters(*r) for r in rows]), weight=weight)
    for column in ("agree", "disagree", "neutral"):
        assert scored[column].between(0, 1).all()
    assert (scored[[c for c in MAKE_COLUMNS if c.endswith("_ci")]] >= 0).all().all()
    assert scored["n_votes"].tolist() == [sum(r) for r in rows]
    assert set(scored["zone"]) <= set(ZONES)


# --- honest: Dirichlet posterior ------------------------------------------------------------

CASES = np.array([
    [0, 0, 0], [1, 0, 0], [0, 1, 2], [5, 3, 2], [60, 10, 30], [6, 1, 3], [45, 12, 43],
    [500, 100, 400], [13, 2, 5], [2, 40, 3], [30, 30, 40], [300, 50, 10],
])  # fmt: skip


def test_simulation_agrees_with_quadrature() -> None:
    draws = 20_000
    simulated = zone_probabilities(CASES, draws=draws, seed=7)
    exact = zone_probabilities_quadrature(CASES, nodes=96)
    se = np.sqrt(exact * (1 - exact) / draws)
    assert np.all(np.abs(simulated - exact) <= 4.5 * se + 1e-12)
    np.testing.assert_allclose(exact.sum(axis=1), 1.0, atol=1e-12)


def test_quadrature_converges() -> None:
    coarse = zone_probabilities_quadrature(CASES, nodes=48)
    fine = zone_probabilities_quadrature(CASES, nodes=200)
    assert np.abs(coarse - fine).max() < 1e-4


def test_simulation_is_seeded_and_chunk_free() -> None:
    first = zone_probabilities(CASES, draws=500, seed=3, chunk=5)
    again = zone_probabilities(CASES, draws=500, seed=3, chunk=64)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, zone_probabilities(CASES, draws=500, seed=4))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 2000)] * 3), min_size=1, max_size=5),
       st.floats(0.05, 2.0))  # fmt: skip
def test_probabilities_sum_to_one(rows: list[tuple[int, int, int]], prior: float) -> None:
    counts = np.array(rows)
    for probs in (
        zone_probabilities(counts, prior=prior, draws=200, seed=1),
        zone_probabilities_quadrature(counts, prior=prior, nodes=24),
    ):
        assert np.all(probs >= 0) and np.all(probs <= 1 + 1e-12)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-9)


@pytest.mark.parametrize(
    ("shares", "zone"),
    [((0.7, 0.1, 0.2), CONSENSUS), ((0.1, 0.7, 0.2), REJECTION), ((0.3, 0.2, 0.5), LIMBO),
     ((0.35, 0.35, 0.3), CONTROVERSY)],
)  # fmt: skip
def test_posterior_concentrates_on_the_zone_of_the_shares(shares: tuple, zone: int) -> None:
    """Scaling the counts leaves the zone of the shares unchanged and concentrates the
    posterior on it: its probability grows towards 1."""
    probs = [
        zone_probabilities_quadrature(np.array([shares]) * n)[0, zone] for n in (20, 200, 2000)
    ]
    assert probs[0] < probs[1] < probs[2] and probs[2] > 0.999


def test_no_votes_gives_the_prior_and_few_votes_are_uncertain() -> None:
    scored = score_consultation(proposals_of([{}, same_counters(3, 0, 0), same_counters(3000, 0, 0)]), method="quadrature")  # fmt: skip
    assert scored["zone"].tolist() == ["controversy", "consensus", "consensus"]
    prior = zone_probabilities_quadrature(np.zeros((1, 3)))[0]
    np.testing.assert_allclose(scored.loc[0, [f"p_{z}" for z in ZONES]].to_numpy(float), prior)
    # Three « pour » votes: Make says consensus as firmly as for 3 000; the posterior does not.
    assert 0.5 < scored.loc[1, "p_consensus"] < 0.95
    assert scored.loc[2, "p_consensus"] > 0.999999


# --- the command ----------------------------------------------------------------------------


def test_cli_score_reference(tmp_path: Path) -> None:
    folder = reference()
    out = tmp_path / "scores" / "out.csv"
    result = runner.invoke(app, ["consultation", "score", str(folder / "proposals.csv"), "--out", str(out), "--weight", "0.5"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "scored 1 proposals" in result.output
    table = pd.read_csv(out)
    assert list(table.columns) == [*MAKE_COLUMNS, *HONEST_COLUMNS]
    expected = pd.read_csv(folder / "expected.csv")
    for row in expected.itertuples(index=False):
        assert abs(table.loc[0, row.quantity] - row.value) <= row.tolerance
    assert table.loc[0, "zone"] == "consensus"
    np.testing.assert_allclose(table.loc[0, [f"p_{z}" for z in ZONES]].sum(), 1.0)
    # Same seed, same file.
    again = tmp_path / "again.csv"
    runner.invoke(
        app, ["consultation", "score", str(folder / "proposals.csv"), "--out", str(again)]
    )
    assert again.read_bytes() == out.read_bytes()


def _counts_csv(path: Path, rows: list[dict[str, int]]) -> Path:
    frame = proposals_of(rows)
    frame.insert(1, "date_created", "2025-05-01")
    frame.insert(2, "keywords", "")
    frame.to_csv(path, index=False)
    return path


def test_cli_score_quarantine(tmp_path: Path) -> None:
    rows = [same_counters(10 + i, i, 3) for i in range(20)]
    path = _counts_csv(tmp_path / "in.csv", rows)
    lines = path.read_text().splitlines()
    assert lines[5].startswith("p4,2025-05-01,,14,4,3,")
    lines[5] = lines[5].replace(",14,4,3,", ",14,-4,3,", 1)  # data row 5: a negative count
    path.write_text("\n".join(lines) + "\n")
    out, quarantine = tmp_path / "out.csv", tmp_path / "q.csv"
    result = runner.invoke(app, ["consultation", "score", str(path), "--out", str(out), "--quarantine", str(quarantine), "--method", "quadrature"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "rows read    20" in result.output and "quarantined  1" in result.output
    assert len(pd.read_csv(out)) == 19 and "p4" not in set(pd.read_csv(out)["id"])
    assert pd.read_csv(quarantine)["reason"].tolist() == [
        "vote_verified_disagree '-4': negative count"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--weight", "1.5"], "error: --weight must be between 0 and 1"),
        (["--counter", "all"], "error: --counter must be sequence or verified"),
        (["--method", "exact"], "error: --method must be mc or quadrature"),
        (["--draws", "0"], "error: --draws must be at least 1"),
    ],
)
def test_cli_score_bad_options(tmp_path: Path, args: list[str], message: str) -> None:
    path = _counts_csv(tmp_path / "in.csv", [same_counters(1, 2, 3)])
    result = runner.invoke(app, ["consultation", "score", str(path), "--out", str(tmp_path / "o.csv"), *args])  # fmt: skip
    assert result.exit_code == 2
    assert result.output.strip().startswith(message) and "Traceback" not in result.output
    assert not (tmp_path / "o.csv").exists()


def test_cli_score_bad_inputs(tmp_path: Path) -> None:
    out = str(tmp_path / "o.csv")
    missing = runner.invoke(
        app, ["consultation", "score", str(tmp_path / "none.csv"), "--out", out]
    )
    assert missing.exit_code == 2 and missing.output.strip() == "error: consultation: file none.csv: file not found"  # fmt: skip
    opendata = tmp_path / "open.csv"
    opendata.write_text(
        "proposition,auteur,age,votes,adhesion,engagement,score\nIl faut,Léa,31,10,70,5,0.4\n"
    )
    result = runner.invoke(app, ["consultation", "score", str(opendata), "--out", out])
    assert (
        result.exit_code == 2 and "open-data layout" in result.output and "Léa" not in result.output
    )
    bad = _counts_csv(tmp_path / "bad.csv", [same_counters(1, 1, 1)] * 4)
    bad.write_text(bad.read_text().replace(",1,1,1,", ",1,x,1,"))
    result = runner.invoke(app, ["consultation", "score", str(bad), "--out", out])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "no data row passes the contract" in result.output and "Traceback" not in result.output
    assert not Path(out).exists()
