"""Readers of the consultation layouts (issue 15): contracts, quarantine with reasons, counts that
reconcile, hard errors, optional columns and their aliases, and personal data (authors' first
names and ages) that never leave the reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from barometre.consultation.readers import (
    AGE_UNKNOWN,
    COUNT_COLUMNS,
    QUALIFICATIONS,
    VOTES,
    age_band,
    detect_layout,
    protected_band_counts,
    read_consultation,
    read_counts,
    read_opendata,
    vote_column,
)
from barometre.sources import SourceError

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference-cases" / "makeorg-scorer"


def counts_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """A valid counts-layout table of ``n`` proposals (qualifications within their votes)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "id": [f"p{i:04d}" for i in range(n)],
        "date_created": [f"2025-0{1 + i % 9}-1{i % 10}" for i in range(n)],
        "keywords": ["logement|mobilite" if i % 3 else "" for i in range(n)],
    })  # fmt: skip
    for counter in ("verified", "sequence"):
        for vote in VOTES:
            total = rng.integers(0, 200, n)
            frame[vote_column(counter, vote)] = total
            for q in QUALIFICATIONS[vote]:
                frame[vote_column(counter, vote, q)] = rng.integers(0, total + 1)
    return frame


def write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False, lineterminator="\n")
    return path


def test_reference_fixture_reads() -> None:
    if not REFERENCE.is_dir():
        pytest.skip("../shared is absent")
    consultation = read_counts(REFERENCE / "proposals.csv")
    assert (consultation.rows_read, consultation.accepted, consultation.quarantined) == (1, 1, 0)
    row = consultation.proposals.iloc[0]
    assert row["id"] == "fixture-1" and row["keywords"] == "environnement|mobilite"
    assert row["vote_verified_agree"] == 85 and row["vote_sequence_agree_doable"] == 28
    assert consultation.proposals[COUNT_COLUMNS].dtypes.eq("int64").all()
    assert detect_layout(REFERENCE / "proposals.csv") == "counts"


def test_counts_quarantine_with_reasons(tmp_path: Path) -> None:
    frame = counts_frame(80).astype(str)
    frame.loc[3, "vote_verified_agree"] = "-4"  # data row 4
    frame.loc[9, "vote_sequence_neutral"] = "12,5"  # data row 10
    frame.loc[14, "date_created"] = "2025-02-30"  # data row 15
    frame.loc[19, "date_created"] = "2012-05-01"  # data row 20: before Make.org
    frame.loc[24, "id"] = "p0002"  # data row 25: repeats data row 3
    frame.loc[29, "vote_verified_agree_like"] = str(int(frame.loc[29, "vote_verified_agree"]) + 1)
    frame.loc[34, "id"] = ""  # data row 35
    path = write(frame, tmp_path / "proposals.csv")
    text = path.read_text().splitlines()
    text[40] = ",".join(text[40].split(",")[:-2])  # data row 40: two fields short
    path.write_text("\n".join(text) + "\n")

    consultation = read_counts(path)
    assert consultation.rows_read == 80
    assert (consultation.accepted, consultation.quarantined) == (72, 8)
    assert consultation.rows_read == consultation.accepted + consultation.quarantined
    reasons = dict(zip(consultation.quarantine["data_row"], consultation.quarantine["reason"], strict=True))  # fmt: skip
    like = int(frame.loc[29, "vote_verified_agree_like"])
    assert reasons == {
        4: "vote_verified_agree '-4': negative count",
        10: "vote_sequence_neutral '12,5': not an integer",
        15: "date_created '2025-02-30': not a calendar date",
        20: "date_created '2012-05-01': before 2016-01-01 (before Make.org existed)",
        25: "id 'p0002': duplicated identifier (first at data row 3 of proposals.csv)",
        30: f"vote_verified_agree_like '{like}': more qualified votes than vote_verified_agree ({like - 1})",
        35: "id '': missing value",
        40: "25 fields instead of 27 (row not split into columns)",
    }
    # The malformed row's values are never copied (they may be personal); the others are.
    q = consultation.quarantine.set_index("data_row")
    assert q.loc[40, "id"] == "" and q.loc[4, "vote_verified_agree"] == "-4"
    assert consultation.proposals["id"].is_unique
    assert set(consultation.proposals["data_row"]).isdisjoint(reasons)
    summary = consultation.reasons()
    assert summary["rows"].sum() == 8


def test_duplicate_only_among_passing_rows(tmp_path: Path) -> None:
    """A row that fails a check does not take the identifier from a later valid row."""
    frame = counts_frame(30).astype(str)
    frame.loc[2, "vote_verified_agree"] = "x"
    frame.loc[5, "id"] = frame.loc[2, "id"]
    consultation = read_counts(write(frame, tmp_path / "p.csv"))
    assert consultation.quarantine["data_row"].tolist() == [3]
    assert frame.loc[2, "id"] in set(consultation.proposals["id"])


def test_too_many_quarantined_is_an_error(tmp_path: Path) -> None:
    frame = counts_frame(20).astype(str)
    frame.loc[:2, "vote_sequence_agree"] = "beaucoup"
    path = write(frame, tmp_path / "p.csv")
    with pytest.raises(SourceError) as err:
        read_counts(path)
    assert "3 of 20 data rows (15.0%) break the contract" in str(err.value)
    assert read_counts(path, max_quarantine_share=0.2).quarantined == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("id,date_created,keywords\n", "missing column"),
        (",".join(["id", "date_created", "keywords", *COUNT_COLUMNS]) + "\n", "no data row"),
        (";".join(["id", "date_created", "keywords", *COUNT_COLUMNS]) + "\n1;;;" + ";".join("0" * 24) + "\n", "not a consultation export"),
    ],
)  # fmt: skip
def test_hard_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "proposals.csv"
    path.write_text(content)
    with pytest.raises(SourceError) as err:
        read_consultation(path)
    assert message in str(err.value)


def test_counts_wrong_separator(tmp_path: Path) -> None:
    path = tmp_path / "proposals.csv"
    counts_frame(5).to_csv(path, sep=";", index=False)
    with pytest.raises(SourceError, match="wrong separator"):
        read_counts(path)


def test_optional_columns_and_aliases(tmp_path: Path) -> None:
    frame = counts_frame(12)
    frame["proposition"] = "Il faut plus de pistes cyclables"
    frame["departement"] = ["59", "62", ""] * 4
    frame["segment"] = "grand public"
    frame["email"] = "someone@example.org"
    consultation = read_counts(write(frame, tmp_path / "p.csv"))
    proposals = consultation.proposals
    assert {"content", "author_department", "segment"} <= set(proposals.columns)
    assert "email" not in proposals.columns and "proposition" not in proposals.columns
    assert proposals["author_department"].tolist()[:3] == ["59", "62", ""]
    assert any("proposition → content" in n for n in consultation.notes)
    assert any("personal columns not read" in n and "email" in n for n in consultation.notes)
    assert "example.org" not in proposals.to_csv()


def test_parquet_reads_like_csv(tmp_path: Path) -> None:
    frame = counts_frame(25, seed=3)
    csv = read_counts(write(frame, tmp_path / "p.csv")).proposals
    frame.to_parquet(tmp_path / "p.parquet", index=False)
    parquet = read_counts(tmp_path / "p.parquet").proposals
    pd.testing.assert_frame_equal(csv[COUNT_COLUMNS], parquet[COUNT_COLUMNS])
    assert csv["id"].tolist() == parquet["id"].tolist()


# --- open-data layout ------------------------------------------------------------------------

FIRST_NAMES = ["Camille", "Dominique", "Yasmine", "Gwenaëlle", "Théo", "Aïcha", "Ludovic"]


def opendata_frame(n: int, seed: int = 0, percent: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    adhesion = rng.uniform(0.2, 0.9, n)
    return pd.DataFrame({
        "proposition": [f"Il faut une mesure numéro {i} pour mieux vivre en ville" for i in range(n)],
        "auteur": [FIRST_NAMES[i % len(FIRST_NAMES)] for i in range(n)],
        "age": [str(17 + (i * 7) % 60) for i in range(n)],
        "votes": rng.integers(0, 3000, n),
        "adhesion": [f"{100 * a:.1f}" for a in adhesion] if percent else [f"{a:.3f}" for a in adhesion],
        "engagement": [f"{x:.1f}" for x in rng.uniform(0, 40, n)],
        "score": [f"{x:.2f}" for x in rng.normal(0.5, 0.3, n)],
    })  # fmt: skip


def test_opendata_reads_without_personal_data(tmp_path: Path) -> None:
    frame = opendata_frame(200).astype(str)
    frame.loc[5, "votes"] = "-3"  # data row 6
    frame.loc[7, "adhesion"] = "140"  # data row 8: above 100 %
    frame.loc[9, "age"] = "quarante"  # not a band: « non renseigné », never quarantined
    path = write(frame, tmp_path / "makeorg_opendata.csv")
    assert detect_layout(path) == "opendata"
    consultation = read_opendata(path)
    assert (consultation.rows_read, consultation.accepted, consultation.quarantined) == (
        200,
        198,
        2,
    )
    assert consultation.quarantine["reason"].tolist() == [
        "votes '-3': negative count",
        "adhesion '140': a share above 1 (100 %)",
    ]
    proposals = consultation.proposals
    assert proposals["adhesion"].between(0, 1).all()
    np.testing.assert_allclose(proposals["adhesion"].iloc[0], float(frame.loc[0, "adhesion"]) / 100)
    assert (proposals["agree"] <= proposals["votes"]).all()
    assert proposals["id"].iloc[0] == "row-1"
    # No first name, no age anywhere: proposals, quarantine, notes, reasons, band table.
    outputs = [
        proposals.to_csv(), consultation.quarantine.to_csv(), "\n".join(consultation.notes),
        consultation.reasons().to_csv(), "\n".join(consultation.lines()),
    ]  # fmt: skip
    for text in outputs:
        for name in FIRST_NAMES:
            assert name not in text
        assert "quarante" not in text
    assert not {"auteur", "age"} & (set(proposals.columns) | set(consultation.quarantine.columns))
    assert (
        consultation.notes[0]
        == "personal columns (auteur, age): read only to count the authors per age band, then dropped"
    )
    bands = consultation.age_bands
    assert list(bands.columns) == ["age_band", "authors", "proposals"]
    assert all(a.startswith("< ") or int(a) >= 11 for a in bands["authors"])
    # 7 first names × ages 17..76 cycling every 60 rows: distinct (name, age) pairs per band.
    ages = frame.loc[consultation.proposals["data_row"] - 1, "age"]
    names = frame.loc[consultation.proposals["data_row"] - 1, "auteur"]
    pairs = (
        pd.DataFrame({"band": age_band(ages), "pair": names + ages})
        .groupby("band")["pair"]
        .nunique()
    )
    shown = bands.set_index("age_band")["authors"]
    for band, count in pairs.items():
        assert shown[band] == (str(count) if count >= 11 else "< 11")


def test_opendata_fraction_scale(tmp_path: Path) -> None:
    frame = opendata_frame(50, percent=False).drop(columns=["auteur", "age"])
    consultation = read_opendata(write(frame, tmp_path / "o.csv"))
    np.testing.assert_allclose(consultation.proposals["adhesion"], frame["adhesion"].astype(float))
    assert consultation.age_bands is None


def test_age_bands_and_suppression() -> None:
    ages = pd.Series(["17", "18", "24", "25", "49", "64", "65", "120", "121", "", "33.5", "x"])
    assert age_band(ages).tolist() == [
        "moins de 18 ans", "18-24 ans", "18-24 ans", "25-34 ans", "35-49 ans", "50-64 ans",
        "65 ans et plus", "65 ans et plus", AGE_UNKNOWN, AGE_UNKNOWN, AGE_UNKNOWN, AGE_UNKNOWN,
    ]  # fmt: skip
    bands = pd.Series(
        ["18-24 ans"] * 30 + ["25-34 ans"] * 12 + ["65 ans et plus"] * 4 + ["35-49 ans"] * 40
    )
    table = protected_band_counts(bands)
    # 4 authors: suppressed; the smallest other band (12) too, or the total would give it back.
    assert dict(zip(table["age_band"], table["proposals"], strict=True)) == {
        "18-24 ans": "30", "25-34 ans": "< 11", "35-49 ans": "40", "65 ans et plus": "< 11",
    }  # fmt: skip
    assert set(table["authors"]) == {"n.d.", "< 11"}
    # With authors: 30 proposals by 5 authors is a band of fewer than 11 authors.
    authors = pd.Series(
        ["a", "b", "c", "d", "e"] * 6
        + [f"x{i}" for i in range(12)]
        + ["y"] * 4
        + [f"z{i}" for i in range(40)]
    )
    table = protected_band_counts(bands, authors).set_index("age_band")
    assert table.loc["18-24 ans"].tolist() == ["< 11", "< 11"]
    assert table.loc["25-34 ans"].tolist() == ["12", "12"] and table.loc["35-49 ans"].tolist() == [
        "40",
        "40",
    ]
    assert table.loc["65 ans et plus"].tolist() == ["< 11", "< 11"]
