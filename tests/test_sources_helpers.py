"""Exact results of the helpers the sources' loaders are built from (issue 14's split of the
long functions): key repeats, notes on unread columns, malformed records, the counts of the
streamed participations net of repeats, and the checks of each kind of field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from barometre.sources import SourceError
from barometre.sources.contracts import Field, field_checks, unread_column_notes
from barometre.sources.contracts.quarantine import _repeated_keys
from barometre.sources.helloasso.participations import _net_of_repeats
from barometre.sources.reading import _layout, _malformed_records


def test_repeated_keys_keep_the_first_passing_row() -> None:
    rows = pd.DataFrame(
        {"id": ["1", "2", "1", "1", "2"], "file": ["a.csv", "a.csv", "a.csv", "b.csv", "b.csv"]},
        index=pd.Index([1, 2, 3, 1, 2], name="data_row"),
    )
    ok = np.array([False, True, True, True, True])  # the first "1" failed a check
    failures = _repeated_keys(rows, ok, "id")
    assert ok.tolist() == [False, True, True, False, False]
    assert failures is not None
    assert failures.to_dict("list") == {
        "file": ["b.csv", "b.csv"],
        "data_row": [1, 2],
        "column": ["id", "id"],
        "message": ["duplicated identifier", "duplicated identifier"],
        "value": ["1", "2"],
        "detail": [" (first at data row 3 of a.csv)", " (first at data row 2 of a.csv)"],
    }
    assert _repeated_keys(rows.iloc[:2], np.array([True, True]), "id") is None


def test_unread_column_notes() -> None:
    assert unread_column_notes([], []) == []
    assert unread_column_notes(["email", "tel"], ["x"], "75.csv") == [
        "personal columns not read (75.csv): email, tel",
        "columns outside the contract, ignored (75.csv): x",
    ]
    assert unread_column_notes([], ["x", "y"]) == ["columns outside the contract, ignored: x, y"]


def test_layout_defaults_to_the_contract_columns() -> None:
    assert _layout(None, ["a", "b"], ["c"]) == ["a", "b", "c"]
    assert _layout(["z"], ["a"], ["c"]) == ["z"]


def test_malformed_records(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2\n1\n1,2,3\n1,2\n")
    frame = _malformed_records(path, [(3, 2, 1, "1"), (4, 2, 3, "1,2,3")], 4)
    assert frame.to_dict("list") == {
        "data_row": [2, 3],
        "reason": [
            "1 fields instead of 2 (row not split into columns)",
            "3 fields instead of 2 (row not split into columns)",
        ],
    }
    assert str(frame["data_row"].dtype) == "int64"
    with pytest.raises(SourceError, match="a quote is left open"):
        _malformed_records(path, [(3, 2, 1, '"1\n2,3')], 4)
    with pytest.raises(SourceError, match="header only"):
        _malformed_records(path, [], 0)
    cut = tmp_path / "cut.csv"
    cut.write_text("a,b\n1,2\n1")
    with pytest.raises(SourceError, match="truncated last line"):
        _malformed_records(cut, [(3, 2, 1, "1")], 2)


def test_net_of_repeats() -> None:
    per_org = pd.DataFrame(
        {
            "org_key": [20.0, 10.0, np.nan, 30.0],
            "n_rows": [5, 4, 1, 2],
            "accepted": [5, 3, 1, 0],
            "in_scope": [4, 2, 1, 0],
        }
    )
    per_form = pd.DataFrame({"org_key": [20, 20, 10], "form_key": [1, 2, 3], "in_scope": [3, 1, 2]})
    repeats = pd.DataFrame({"org_key": [20], "form_key": [2], "n": [2], "n_scope": [1]})
    orgs, forms = _net_of_repeats(per_org, per_form, repeats)
    assert orgs.to_dict("list") == {
        "organization_id": [10, 20],
        "rows": [3, 3],
        "in_scope": [2, 3],
    }
    assert forms.to_dict("list") == {
        "organization_id": [10, 20],
        "form_id": [3, 1],
        "in_scope": [2, 3],
    }
    orgs, forms = _net_of_repeats(per_org, per_form, None)
    assert orgs["rows"].tolist() == [3, 5]
    assert forms["in_scope"].tolist() == [2, 3, 1]


@pytest.mark.parametrize(
    ("spec", "messages"),
    [
        (Field("t"), ["missing value"]),
        (Field("t", nullable=True), []),
        (Field("i", "id"), ["missing value", "not a non-negative integer identifier (at most 18 digits)"]),
        (Field("c", "code", pattern=r"\d{2}", pattern_label="a department"), ["missing value", "not a department"]),
        (Field("e", "enum", values=("A", "B"), nullable=True), ["not an allowed value (A, B)"]),
        (Field("n", "count"), ["missing value", "not an integer", "negative count"]),
        (Field("y", "latitude", nullable=True), ["not a decimal number", "out of range [-90, 90]"]),
        (Field("x", "longitude", nullable=True), ["not a decimal number", "out of range [-180, 180]"]),
        (
            Field("d", "date", min_date="2008-01-01", max_date="2099-12-31", min_date_label="too early"),
            ["missing value", "not a date (YYYY-MM-DD)", "not a calendar date", "before 2008-01-01 (too early)", "after 2099-12-31"],
        ),
        (Field("d", "datetime", nullable=True), ["not an ISO 8601 date or date-time", "not a calendar date"]),
    ],
)  # fmt: skip
def test_field_checks_by_kind(spec: Field, messages: list[str]) -> None:
    checks = field_checks(spec)
    assert [c.message for c in checks] == messages
    assert all(c.column == spec.name for c in checks)


def test_field_checks_let_empty_values_pass_but_missing_value() -> None:
    values = pd.Series(["", "12", "-3", "x"], dtype=pd.StringDtype("pyarrow"))
    checks = field_checks(Field("n", "count"))
    verdicts = {c.message: c.ok(values).tolist() for c in checks}
    assert verdicts == {
        "missing value": [False, True, True, True],
        "not an integer": [True, True, True, False],
        "negative count": [True, True, False, True],
    }
    assert checks[1].sql('"v"') == "(\"v\" = '' OR (regexp_full_match(\"v\", '-?[0-9]{1,15}')))"
