"""Pieces of the consultation build (``barometre.consultation.agenda``, ``stages``, ``build``)
tested on their own: the proposal tables of the agenda, its date, the agenda's lists and the
stage timer. The whole build is tested end to end in ``test_consultation_build.py``."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from barometre.consultation.agenda import _proposal_table, _report_day
from barometre.consultation.build import _names, _timed
from barometre.consultation.stages import CONFIDENCE, _lists_counts


def test_proposal_table_masks_small_votes_and_formats_shares() -> None:
    frame = pd.DataFrame({
        "content": ["Il faut *planter* des arbres", ""],
        "n_votes": [5, 1234],
        "agree": [0.456, 0.9],
        "p_consensus": [0.95, 1.0],
    })  # fmt: skip
    table = _proposal_table(frame, {"Pour": "agree", "P(consensus)": "p_consensus"})
    assert table.columns.tolist() == ["Proposition", "Votes", "Pour", "P(consensus)"]
    assert table.to_dict("list") == {
        "Proposition": ["Il faut \\*planter\\* des arbres", "(texte non fourni)"],
        "Votes": ["< 11", "1\u202f234"],
        "Pour": ["46\xa0%", "90\xa0%"],
        "P(consensus)": ["95\xa0%", "100\xa0%"],
    }


def test_report_day() -> None:
    dates = pd.Series(pd.to_datetime(["2025-03-01", None, "2025-05-17"]))
    assert _report_day(dates, demo=False) == dt.date(2025, 5, 17)
    empty = pd.Series(dtype="datetime64[ns]")
    assert _report_day(empty, demo=True) == dt.date(2025, 6, 30)
    assert _report_day(empty, demo=False) == dt.date.today()


def test_lists_keep_established_proposals_by_lower_bound() -> None:
    scored = pd.DataFrame({
        "id": ["a", "b", "c", "d"],
        "n_votes": [10, 500, 800, 900],
        "p_consensus": [0.99, 0.95, CONFIDENCE, 0.5],
        "top_score": [0.75, 0.875, 0.625, 0.95],
        "top_score_ci": [0.25, 0.0625, 0.125, 0.01],
        "p_controversy": [0.0] * 4, "controversy": [0.0] * 4, "controversy_ci": [0.0] * 4,
        "p_rejection": [0.0] * 4, "rejection": [0.0] * 4, "rejection_ci": [0.0] * 4,
    })  # fmt: skip
    lists = _lists_counts(scored, top=2)
    # lower bounds (exact in binary): a 0.5, b 0.8125, c 0.5, d not established; ties by votes
    assert lists["consensus"]["id"].tolist() == ["b", "c"]
    assert "_low" not in lists["consensus"]
    assert lists["controversies"].empty and lists["rejections"].empty


def test_timed_records_each_stage() -> None:
    timings: dict[str, float] = {}
    assert _timed(timings, "score", lambda: 42) == 42
    assert list(timings) == ["score"] and timings["score"] >= 0.0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((None, None, True, None, None), ("counts", "demo-mieux-vivre-en-ville")),
        ((None, "opendata", True, None, None), ("opendata", "demo-mieux-vivre-en-ville-opendata")),
        (("exports/Ma Consultation.csv", None, False, None, None), (None, "ma-consultation")),
        (("exports/x.csv", "counts", False, "mine", "T"), ("counts", "mine")),
    ],
)
def test_names(args: tuple, expected: tuple[str | None, str]) -> None:
    layout, name, title = _names(*args)
    assert (layout, name) == expected
    assert title  # the demo's title, the given one, or the file's stem
