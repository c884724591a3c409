"""Ranking proposals with confidence sets for ranks (rankcs applied to proposals) and the
open-data layout's agreement-only scores (issue 15)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from barometre.consultation.ranking import agree_share, rank_proposals
from barometre.consultation.readers import COUNT_COLUMNS
from barometre.consultation.scoring import opendata_scores


def counts(rows: list[tuple[int, int, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(0, index=range(len(rows)), columns=COUNT_COLUMNS)
    for i, (a, d, n) in enumerate(rows):
        frame.loc[i, ["vote_sequence_agree", "vote_sequence_disagree", "vote_sequence_neutral"]] = [
            a,
            d,
            n,
        ]
    frame.insert(0, "id", [f"p{i}" for i in range(len(rows))])
    return frame


def test_agree_share_by_hand() -> None:
    estimate, se = agree_share(counts([(9, 1, 0), (0, 0, 0)]))
    assert estimate["p0"] == pytest.approx((9 + 1 / 3) / 11)
    assert se["p0"] == pytest.approx(np.sqrt(estimate["p0"] * (1 - estimate["p0"]) / 12))
    assert estimate["p1"] == pytest.approx(1 / 3)
    opendata = pd.DataFrame({"id": ["a"], "votes": [10], "agree": [9]})
    assert agree_share(opendata)[0]["a"] == pytest.approx(estimate["p0"])


def test_clear_leader_and_ties() -> None:
    rows = [(9000, 500, 500)] + [(5000 + 10 * i, 4000, 1000) for i in range(30)] + [(40, 30, 30)]
    ranking = rank_proposals(counts(rows), top=5, tau=1, seed=1)
    first = ranking.table.iloc[0]
    assert first["id"] == "p0" and first["rank"] == 1 and first["rank_upper"] == 1
    assert ranking.tau_best_size == 1 and bool(first["in_tau_best"])
    # Near-equal proposals: the sets of ranks 2.. overlap widely.
    second = ranking.table.iloc[1]
    assert second["rank_lower"] <= 3 and second["rank_upper"] >= 10
    assert ranking.proposals == 32 and ranking.coverage == 0.95


def test_opendata_scores_by_hand() -> None:
    proposals = pd.DataFrame({"id": ["a", "b"], "votes": [100, 0], "agree": [70, 0],
                              "score": [0.5, np.nan], "engagement": [0.2, np.nan]})  # fmt: skip
    out = opendata_scores(proposals).set_index("id")
    a, b = 70 + 1 / 3, 30 + 2 / 3
    assert out.loc["a", "adhesion"] == pytest.approx(a / (a + b))
    assert out.loc["a", "adhesion_low"] == pytest.approx(stats.beta.ppf(0.025, a, b))
    assert out.loc["a", "p_agree_60"] == pytest.approx(stats.beta.sf(0.6, a, b))
    assert out.loc["a", "p_agree_below_40"] == pytest.approx(stats.beta.cdf(0.4, a, b))
    assert out.loc["b", "adhesion"] == pytest.approx(1 / 3)  # no vote: the prior
    assert out.loc["a", "published_score"] == 0.5
