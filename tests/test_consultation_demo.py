"""The synthetic « Mieux vivre en ville » consultation (issue 15): seeded, realistic magnitudes,
both layouts read back with exactly the planted defects in quarantine, synthetic authors never
leaving the reader."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from barometre.consultation.demo import DEMO_MARK, FIRST_NAMES, generate, write_demo_consultation
from barometre.consultation.readers import COUNT_COLUMNS, read_counts, read_opendata, vote_column


@pytest.fixture(scope="module")
def national() -> pd.DataFrame:
    return generate()


def test_magnitudes(national: pd.DataFrame) -> None:
    assert len(national) == 10_000 and national["id"].is_unique
    sequence = national[[vote_column("sequence", v) for v in ("agree", "disagree", "neutral")]].sum(
        axis=1
    )
    assert 4.0e6 < sequence.sum() < 5.0e6  # ~300 000 participants × ~15 votes
    assert sequence.max() > 20 * sequence.median()  # skewed exposure
    assert (sequence < 30).sum() > 10
    assert national["content"].str.startswith("Il faut ").all()
    assert national["content"].str.len().max() <= 140 and national["content"].is_unique
    assert 0.35 < (national["author_department"] != "").mean() < 0.45
    assert 0.55 < (national["keywords"] != "").mean() < 0.65
    for vote in ("agree", "disagree", "neutral"):
        for counter in ("verified", "sequence"):
            total = national[vote_column(counter, vote)]
            quals = [c for c in COUNT_COLUMNS if c.startswith(vote_column(counter, vote) + "_")]
            assert (national[quals].le(total, axis=0)).all().all()


def test_seeded() -> None:
    a, b, c = generate(300, seed=5), generate(300, seed=5), generate(300, seed=6)
    pd.testing.assert_frame_equal(a, b)
    assert not a["id"].equals(c["id"])


def test_counts_layout_round_trip(tmp_path: Path) -> None:
    demo = write_demo_consultation(tmp_path, n_proposals=400, seed=9)
    consultation = read_counts(demo.path)
    assert (consultation.rows_read, consultation.accepted, consultation.quarantined) == (
        401,
        399,
        2,
    )
    reasons = consultation.quarantine["reason"].tolist()
    assert "more qualified votes than vote_verified_agree" in reasons[0]
    assert "duplicated identifier (first at data row 201" in reasons[1]
    provenance = json.loads(demo.provenance.read_text())
    assert (
        provenance["mark"] == DEMO_MARK
        and provenance["seed"] == 9
        and len(provenance["planted_defects"]) == 2
    )
    assert DEMO_MARK in (tmp_path / "README_DEMO.txt").read_text()


def test_opendata_layout_round_trip(tmp_path: Path) -> None:
    demo = write_demo_consultation(tmp_path, layout="opendata", n_proposals=500, seed=9)
    raw = pd.read_csv(demo.path, dtype=str, keep_default_na=False)
    assert list(raw.columns) == [
        "proposition",
        "auteur",
        "age",
        "votes",
        "adhesion",
        "engagement",
        "score",
    ]
    consultation = read_opendata(demo.path)
    assert (consultation.rows_read, consultation.accepted, consultation.quarantined) == (
        500,
        498,
        2,
    )
    text = (
        consultation.proposals.to_csv()
        + consultation.quarantine.to_csv()
        + "\n".join(consultation.lines())
    )
    assert not any(name in text for name in FIRST_NAMES)
    assert np.all(consultation.proposals["adhesion"].between(0, 1))
