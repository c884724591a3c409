"""`barometre index build`: stage files keyed by the unit code, clear errors without tracebacks.

Runs in-process with typer's CliRunner, plus one real subprocess through the virtualenv's
``barometre`` script (skipped when the script is not installed next to the interpreter).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from barometre.cli import app

runner = CliRunner()

STAGES = [
    "denominated.csv",
    "imputed.csv",
    "screened.csv",
    "treated.csv",
    "treatment_details.csv",
    "normalised.csv",
    "aggregated.csv",
    "results.csv",
    "group_ranks_size.csv",
    "group_ranks_region.csv",
]

# Codes with leading zeros: they must survive as text, never become integers.
DATA_CSV = """commune,label,size,region,pop,assoc,events,volunteers
01001,Alpha,small,north,1000,12,3,
01002,Beta,small,south,2000,10,8,4
02010,Gamma,large,north,50000,400,90,30
02011,Delta,large,south,80000,500,70,55
03000,Epsilon,small,north,4000,20,,9
"""


def tiny_spec() -> dict[str, Any]:
    return {
        "name": "tiny CLI index",
        "units": {"code": "commune", "name": "label", "groups": ["size", "region"]},
        "data": {"file": "tiny.csv"},
        "indicators": [
            {"code": "assoc", "parent": "supply", "denominator": "pop"},
            {"code": "events", "parent": "supply"},
            {"code": "volunteers", "parent": "people", "denominator": "pop"},
        ],
        "aggregates": [
            {"code": "index"},
            {"code": "supply", "parent": "index"},
            {"code": "people", "parent": "index", "weight": 2},
        ],
        "steps": {
            "denominate": {"scale": 1000},
            "impute": {"method": "group_mean", "group": "size"},
            "screen": {"min_data_share": 0.5, "on": "raw"},
            "treat": {"method": "coinr_default"},
            "rank": {"groups": ["size", "region"]},
        },
    }


def write_case(
    tmp_path: Path, spec: dict[str, Any] | None = None, data: str = DATA_CSV
) -> tuple[Path, Path]:
    spec_path = tmp_path / "spec.yml"
    spec_path.write_text(yaml.safe_dump(spec or tiny_spec(), sort_keys=False), encoding="utf-8")
    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)
    (data_dir / "tiny.csv").write_text(data, encoding="utf-8")
    return spec_path, data_dir


def invoke(*args: str):
    return runner.invoke(app, ["index", "build", *args])


def read_stage(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / name, dtype={"commune": str})


def test_index_build_writes_every_stage_keyed_by_unit_code(tmp_path: Path) -> None:
    spec_path, data_dir = write_case(tmp_path)
    out = tmp_path / "out"
    result = invoke(str(spec_path), "--data-dir", str(data_dir), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "tiny CLI index: 5 units" in result.output
    for name in STAGES:
        assert (out / name).is_file(), name
    codes = {"01001", "01002", "02010", "02011", "03000"}
    for name in [s for s in STAGES if s != "treatment_details.csv"]:
        table = read_stage(out, name)
        assert table.columns[0] == "commune", name
        assert set(table["commune"]) == codes, name
        assert table["commune"].is_unique, name
    details = pd.read_csv(out / "treatment_details.csv")
    assert details["indicator"].tolist() == ["assoc", "events", "volunteers"]


def test_index_build_stage_contents(tmp_path: Path) -> None:
    spec_path, data_dir = write_case(tmp_path)
    out = tmp_path / "out"
    assert invoke(str(spec_path), "--data-dir", str(data_dir), "--out", str(out)).exit_code == 0
    denominated = read_stage(out, "denominated.csv").set_index("commune")
    # 12 associations for 1 000 inhabitants, per 1 000: 12; events has no denominator
    assert denominated.loc["01001", "assoc"] == pytest.approx(12.0)
    assert denominated.loc["02011", "assoc"] == pytest.approx(6.25)
    assert denominated.loc["01002", "events"] == 8
    imputed = read_stage(out, "imputed.csv").set_index("commune")
    # 03000 (small) gets the mean of small units' events: (3 + 8)/2
    assert imputed.loc["03000", "events"] == pytest.approx(5.5)
    # 01001's volunteers: mean of the other small units' rates, 2 and 2.25
    assert imputed.loc["01001", "volunteers"] == pytest.approx(2.125)
    normalised = read_stage(out, "normalised.csv").set_index("commune")
    assert normalised.min().min() == pytest.approx(0.0) and normalised.max().max() == pytest.approx(
        100.0
    )
    results = read_stage(out, "results.csv")
    for column in [
        "label",
        "size",
        "region",
        "index",
        "supply",
        "people",
        "rank_index",
        "rank_supply",
        "rank_people",
    ]:
        assert column in results.columns
    assert results["rank_index"].tolist() == sorted(results["rank_index"].tolist())
    by_size = read_stage(out, "group_ranks_size.csv")
    assert set(by_size.columns) >= {"commune", "size", "index", "supply", "people"}
    assert sorted(by_size.loc[by_size["size"] == "large", "index"]) == [1, 2]
    assert sorted(by_size.loc[by_size["size"] == "small", "index"]) == [1, 2, 3]


def test_index_build_writes_audit_tables_unless_disabled(tmp_path: Path) -> None:
    spec_path, data_dir = write_case(tmp_path)
    out = tmp_path / "with"
    assert invoke(str(spec_path), "--data-dir", str(data_dir), "--out", str(out)).exit_code == 0
    assert (out / "audit_effective_weights.csv").is_file()
    bare = tmp_path / "without"
    result = invoke(str(spec_path), "--data-dir", str(data_dir), "--out", str(bare), "--no-audit")
    assert result.exit_code == 0, result.output
    assert not list(bare.glob("audit_*.csv"))
    assert (bare / "results.csv").is_file()


def test_index_build_with_named_weight_set(tmp_path: Path) -> None:
    spec = tiny_spec()
    spec["weight_sets"] = {"people_only": {"supply": 0.0}}
    spec_path, data_dir = write_case(tmp_path, spec)
    out = tmp_path / "out"
    result = invoke(
        str(spec_path), "--data-dir", str(data_dir), "--out", str(out), "--weights", "people_only"
    )
    assert result.exit_code == 0, result.output
    results = read_stage(out, "results.csv")
    assert results["index"].to_numpy() == pytest.approx(results["people"].to_numpy())


def assert_clean_failure(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    for fragment in fragments:
        assert fragment in result.output, (fragment, result.output)


def test_bad_spec_unknown_key_exit_2_names_key(tmp_path: Path) -> None:
    spec = tiny_spec()
    spec["indicators"][1]["polarity"] = -1
    spec_path, data_dir = write_case(tmp_path, spec)
    result = invoke(str(spec_path), "--data-dir", str(data_dir), "--out", str(tmp_path / "out"))
    assert_clean_failure(result, "indicators.1.polarity", "unknown key", "spec.yml")
    assert not (tmp_path / "out").exists()


def test_non_numeric_value_exit_2_names_file_row_column_value(tmp_path: Path) -> None:
    data = DATA_CSV.replace(
        "02010,Gamma,large,north,50000,400,", "02010,Gamma,large,north,50000,4OO,"
    )
    spec_path, data_dir = write_case(tmp_path, data=data)
    result = invoke(str(spec_path), "--data-dir", str(data_dir), "--out", str(tmp_path / "out"))
    # header is row 1, so the third data line is row 4
    assert_clean_failure(result, "tiny.csv", "row 4", "'assoc'", "'4OO'")


def test_missing_data_file_exit_2(tmp_path: Path) -> None:
    spec_path, _ = write_case(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke(str(spec_path), "--data-dir", str(empty), "--out", str(tmp_path / "out"))
    assert_clean_failure(result, "data file not found", "tiny.csv")


def test_missing_spec_file_exit_2(tmp_path: Path) -> None:
    result = invoke(
        str(tmp_path / "nope.yml"), "--data-dir", str(tmp_path), "--out", str(tmp_path / "out")
    )
    assert_clean_failure(result, "spec file not found")


def test_missing_column_exit_2(tmp_path: Path) -> None:
    data = DATA_CSV.replace(",volunteers", ",helpers")
    spec_path, data_dir = write_case(tmp_path, data=data)
    result = invoke(str(spec_path), "--data-dir", str(data_dir), "--out", str(tmp_path / "out"))
    assert_clean_failure(result, "missing columns", "volunteers")


def test_unknown_weight_set_exit_2(tmp_path: Path) -> None:
    spec_path, data_dir = write_case(tmp_path)
    result = invoke(
        str(spec_path),
        "--data-dir",
        str(data_dir),
        "--out",
        str(tmp_path / "o"),
        "--weights",
        "nope",
    )
    assert_clean_failure(result, "unknown weight set 'nope'")


def test_index_build_help() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for fragment in ["SPEC", "--data-dir", "--out", "--weights", "results.csv", "group_ranks_"]:
        assert fragment in result.output
    top = runner.invoke(app, ["index", "--help"])
    assert top.exit_code == 0 and "build" in top.output


BAROMETRE = Path(sys.executable).parent / "barometre"


@pytest.mark.skipif(
    not BAROMETRE.is_file(), reason="barometre console script not installed in the venv"
)
def test_console_script_help_and_clean_error(tmp_path: Path) -> None:
    help_run = subprocess.run(
        [str(BAROMETRE), "index", "build", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert help_run.returncode == 0, help_run.stderr
    assert "--data-dir" in help_run.stdout
    spec = tiny_spec()
    spec["steps"]["normalise"] = {"method": "minmax", "highest": 10}
    spec_path, data_dir = write_case(tmp_path, spec)
    bad = subprocess.run(
        [
            str(BAROMETRE),
            "index",
            "build",
            str(spec_path),
            "--data-dir",
            str(data_dir),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert "steps.normalise.highest: unknown key" in bad.stderr
    assert "Traceback" not in bad.stdout + bad.stderr
