"""Helpers shared by the command lines (``barometre.cli_common``, ``cli_edition``, ``cli_ranks``):
the one-line error exit, ``--departments`` parsing, the manifest's demo flag and the checks of
the rank table's numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st

from barometre.cli_common import fail, parse_departments
from barometre.cli_edition import built_on_demo
from barometre.cli_ranks import finite_column, read_estimates


def test_fail_prints_one_error_line_and_exits(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit) as exited:
        fail("bad option", code=3)
    assert exited.value.exit_code == 3
    assert capsys.readouterr().err == "error: bad option\n"


def test_barometre_cli_keeps_fail() -> None:
    from barometre import cli

    assert cli.fail is fail


@pytest.mark.parametrize(
    ("option", "codes"),
    [(None, None), ("", None), ("59,62", ["59", "62"]), (" 59 , ,2A,", ["59", "2A"])],
)
def test_parse_departments(option: str | None, codes: list[str] | None) -> None:
    assert parse_departments(option) == codes


@given(st.lists(st.from_regex(r"[0-9]{2,3}|2[AB]", fullmatch=True), min_size=1, max_size=8))
def test_parse_departments_reads_back_what_is_joined(codes: list[str]) -> None:
    assert parse_departments(" , ".join(codes)) == codes


def test_built_on_demo(tmp_path: Path) -> None:
    assert built_on_demo(tmp_path) is None
    (tmp_path / "manifest.json").write_text(json.dumps({"config": {"demo": False}}))
    assert built_on_demo(tmp_path) is False
    (tmp_path / "manifest.json").write_text(json.dumps({"config": {"demo": True}}))
    assert built_on_demo(tmp_path) is True
    (tmp_path / "manifest.json").write_text(json.dumps({"steps": []}))
    assert built_on_demo(tmp_path) is None


def test_finite_column_reads_numbers() -> None:
    values = finite_column(pd.Series(["1.5", "-2", "3e2"]), "score", "x.csv")
    np.testing.assert_array_equal(values, [1.5, -2.0, 300.0])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (["1", None, "3"], "error: x.csv: column 'score' on line 3: missing\n"),
        (
            ["1", "2", "abc"],
            "error: x.csv: column 'score' on line 4: not a finite number ('abc')\n",
        ),
        ([1.0, np.inf], "error: x.csv: column 'score' on line 3: not a finite number (inf)\n"),
    ],
)
def test_finite_column_names_the_first_bad_line(
    raw: list[object], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(typer.Exit):
        finite_column(pd.Series(raw, dtype=object), "score", "x.csv")
    assert capsys.readouterr().err == message


def test_read_estimates(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text("code,est,se,other\n007,1.5,0.25,x\n12,-1,0,y\n")
    estimates, se = read_estimates(path, "code", "est", "se")
    assert estimates.index.tolist() == ["007", "12"] and estimates.index.name == "id"
    np.testing.assert_array_equal(estimates.to_numpy(), [1.5, -1.0])
    np.testing.assert_array_equal(se, [0.25, 0.0])
