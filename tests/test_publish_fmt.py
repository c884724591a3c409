"""French formatting: exact strings (with their no-break spaces) and round-trip properties."""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from barometre.publish.fmt import (
    dataframe_to_markdown,
    escape_markdown,
    fr_count,
    fr_date,
    fr_list,
    fr_number,
    fr_ordinal,
    fr_percent,
    fr_quote,
    fr_range,
    fr_rank,
    fr_share,
    is_missing,
)

NNBSP = "\u202f"
NBSP = "\u00a0"
MINUS = "\u2212"


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (30101, 0, "30\u202f101"),
        (2145906, 0, "2\u202f145\u202f906"),
        (1093, 0, "1\u202f093"),
        (999, 0, "999"),
        (0, 0, "0"),
        (12.5, 1, "12,5"),
        (12.5, 0, "13"),  # half away from zero, not half-to-even
        (0.5, 0, "1"),
        (2.675, 2, "2,68"),  # binary 2.67499… but written 2.675: rounds as read
        (1234.5678, 2, "1\u202f234,57"),
        (-1234.5, 1, "\u22121\u202f234,5"),
        (-0.04, 1, "0,0"),  # no "−0,0"
        (np.int64(30101), 0, "30\u202f101"),
        (np.float32(0.25), 2, "0,25"),
        (Decimal("1000.05"), 1, "1\u202f000,1"),
        (1e6, 0, "1\u202f000\u202f000"),
    ],
)
def test_fr_number_exact(value: object, decimals: int, expected: str) -> None:
    assert fr_number(value, decimals) == expected


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan, pd.NA, pd.NaT, math.inf, -np.inf])
def test_missing_values_are_nd(missing: object) -> None:
    assert is_missing(missing)
    assert fr_number(missing) == "n.d."
    assert fr_percent(missing) == "n.d."
    assert fr_share(missing) == "n.d."
    assert fr_rank(missing) == "n.d."
    assert fr_range(missing, 3) == "n.d."


def test_fr_number_signed_and_errors() -> None:
    assert fr_number(3.21, 1, signed=True) == "+3,2"
    assert fr_number(-3.21, 1, signed=True) == MINUS + "3,2"
    assert fr_number(0.01, 1, signed=True) == "0,0"
    with pytest.raises(TypeError):
        fr_number(True)
    with pytest.raises(TypeError):
        fr_number("12")
    with pytest.raises(ValueError):
        fr_number(1, -1)


def test_percentages() -> None:
    assert fr_percent(12.5) == "12,5" + NBSP + "%"
    assert fr_percent(12.25) == "12,3" + NBSP + "%"
    assert fr_percent(100, 0) == "100" + NBSP + "%"
    assert fr_percent(1.5, 1, signed=True) == "+1,5" + NBSP + "%"
    assert fr_share(0.125) == "12,5" + NBSP + "%"
    assert fr_share(0.874, 0) == "87" + NBSP + "%"


def test_quote_rank_ordinal() -> None:
    assert fr_quote("Métropole") == "«" + NBSP + "Métropole" + NBSP + "»"
    assert fr_rank(1) == "1er"
    assert fr_rank(1, feminine=True) == "1re"
    assert fr_rank(2) == "2e"
    assert fr_rank(3.0) == "3e"
    assert fr_rank(21) == "21e"
    assert fr_rank(1000) == "1" + NNBSP + "000e"
    assert fr_rank(1, superscript=True) == "1^er^"
    assert fr_rank(4, superscript=True) == "4^e^"
    for bad in (0, -2, 2.5):
        with pytest.raises(ValueError):
            fr_rank(bad)
    assert fr_ordinal(1) == "premier"
    assert fr_ordinal(1, feminine=True) == "première"
    assert fr_ordinal(2) == "deuxième"
    assert fr_ordinal(10) == "dixième"
    assert fr_ordinal(11) == "11e"


def test_dates() -> None:
    assert fr_date(dt.date(2024, 11, 1)) == "1er novembre 2024"
    assert fr_date(dt.datetime(2024, 2, 23, 15, 0)) == "23 février 2024"
    assert fr_date("2023-08-15") == "15 août 2023"
    assert fr_date(dt.date(2024, 12, 3), with_day=False) == "décembre 2024"
    assert fr_date(pd.NaT) == "n.d."


def test_range_count_list() -> None:
    assert fr_range(3, 7) == "3\u20137"
    assert fr_range(4, 4) == "4"
    assert fr_range(12.5, 13.14, 1) == "12,5\u201313,1"
    assert fr_count(0, "association") == "0" + NBSP + "association"
    assert fr_count(1, "bénévole") == "1" + NBSP + "bénévole"
    assert fr_count(268, "association") == "268" + NBSP + "associations"
    assert fr_count(30101, "adhérent") == "30" + NNBSP + "101" + NBSP + "adhérents"
    assert fr_count(2, "journal", "journaux") == "2" + NBSP + "journaux"
    assert fr_list([]) == ""
    assert fr_list(["Lasalle"]) == "Lasalle"
    assert fr_list(["RNA", "HelloAsso"]) == "RNA et HelloAsso"
    assert fr_list(["RNA", "HelloAsso", "JeVeuxAider"]) == "RNA, HelloAsso et JeVeuxAider"


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_integers_round_trip(n: int) -> None:
    text = fr_number(n)
    assert text.replace(NNBSP, "").replace(MINUS, "-") == str(n)
    # Groups of exactly three digits after the first.
    groups = text.lstrip(MINUS).split(NNBSP)
    assert 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])


@given(
    st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False),
    st.integers(min_value=0, max_value=4),
)
def test_floats_round_half_up_on_decimal_repr(x: float, decimals: int) -> None:
    text = fr_number(x, decimals)
    parsed = Decimal(text.replace(NNBSP, "").replace(MINUS, "-").replace(",", "."))
    expected = Decimal(repr(x)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    assert parsed == expected
    assert "nan" not in text and "." not in text
    if decimals:
        assert len(text.split(",")[1]) == decimals


# --------------------------------------------------------------------------- tables


def test_dataframe_to_markdown_exact() -> None:
    df = pd.DataFrame(
        {
            "commune": ["Lasalle", "Paris"],
            "population": [1093, 2145906],
            "score": [12.5, np.nan],
            "laureat": [True, False],
        }
    )
    md = dataframe_to_markdown(
        df,
        formats={"score": lambda v: fr_number(v, 1)},
        columns={"commune": "Commune", "population": "Population", "score": "Score"},
        caption="Deux communes",
    )
    expected = (
        "| Commune | Population | Score | laureat |\n"
        "| :------ | ---------: | ----: | :------ |\n"
        "| Lasalle | 1\u202f093      | 12,5  | oui     |\n"
        "| Paris   | 2\u202f145\u202f906  | n.d.  | non     |\n"
        "\n: Deux communes\n"
    )
    assert md == expected


def test_dataframe_to_markdown_escapes_and_validates() -> None:
    df = pd.DataFrame({"nom": ["A|B", "x*y_z", None], "n": [1, 2, 3]})
    md = dataframe_to_markdown(df, align={"n": "center"})
    assert "A\\|B" in md and "x\\*y\\_z" in md and "n.d." in md
    assert md.splitlines()[1].endswith("| :-: |")
    assert escape_markdown("$5 <b>") == "\\$5 \\<b\\>"
    # A formatter that returns a pipe cannot break the row.
    md2 = dataframe_to_markdown(df, formats={"nom": lambda v: "a|b"})
    assert all(line.count(" | ") == 1 for line in md2.splitlines()[2:])
    with pytest.raises(ValueError, match="decimals"):
        dataframe_to_markdown(pd.DataFrame({"x": [1.25]}))
    with pytest.raises(KeyError):
        dataframe_to_markdown(df, formats={"absent": str})
    with pytest.raises(ValueError):
        dataframe_to_markdown(df, align={"n": "middle"})
    # Whole floats (integers with NaN after a merge) print as integers.
    assert "30\u202f101" in dataframe_to_markdown(pd.DataFrame({"x": [30101.0, np.nan]}))


def test_dataframe_to_markdown_is_a_pandoc_table() -> None:
    from barometre.publish.render import _pandoc

    df = pd.DataFrame({"commune": ["Lasalle"], "rang": [1], "part": [0.4567]})
    md = dataframe_to_markdown(df, formats={"rang": fr_rank, "part": fr_share})
    html = _pandoc(["--from", "markdown", "--to", "html"], stdin=md)
    assert "<table>" in html
    assert "1er" in html and "45,7\u00a0%" in html
    assert 'style="text-align: right;"' in html
