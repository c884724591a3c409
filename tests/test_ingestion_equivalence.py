"""The streamed participations path (SQL compiled from the contract, run by DuckDB over the
file) reaches the verdicts of the pandera path (the contract's pandera schema over the text
values read in memory), row for row: same rows read and quarantined, same quarantine file
(data row, reasons, values as read), same reasons with their examples, same counts by
organisation and by campaign, or the same hard error. Property tests generate malformed
extracts (wrong types, out-of-range dates, missing values, Excel-protected codes, white space,
non-ASCII text, repeated ids, records with too few or too many fields, Windows-1252 files) as
CSV and as typed Parquet; the malformed corpus is checked the same way."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from barometre.sources import SourceError, helloasso
from barometre.sources.contracts import text_schema

CORPUS = Path(__file__).resolve().parent / "fixtures" / "malformed"
CONTRACT = helloasso.PARTICIPATIONS_CONTRACT
YEAR = 2023
STATES = helloasso.DEFAULT_ITEM_STATES
QUARANTINE_SHARE = 1.0  # every file usable unless no row passes: the verdicts are compared

# Values of each column: valid ones, and the malformed forms extracts come with.
IDS = ["1", "2", "3", "17", "0", "123456789012345678"]
BAD_IDS = ["", "-4", "1.5", "abc", '="01001"', "1234567890123456789", "٣", "1e3"]
DATES = ["2023-05-01", "2023-12-31T23:59:59", "2022-06-30 10:00", "2023-01-01T00:00:00+01:00",
         "2024-02-29", "2008-01-01"]  # fmt: skip
BAD_DATES = ["", "2001-05-01", "2203-05-01", "2023-02-30", "2023-13-01", "31/12/2023",
             "2023-05-01T25:00:00", "0000-01-01", '="2023-05-01"']  # fmt: skip
BAD_STATES = ["", "processed", "Validée", '="Processed"', "Processed ", "\u00a0Registered", "\tWaiting"]  # fmt: skip
AMOUNTS = ["", "0", "1500", "999999999999999"]
BAD_AMOUNTS = ["-1500", "12,50", "1e3", "-", "9999999999999999", '="100"']
ITEM_TYPES = ["", "Donation", "Membership", "Product"]
BAD_ITEM_TYPES = ["donation", "Don", '="Donation"', "Dönation"]


def column_values(good: list[str], bad: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(good), st.sampled_from(bad))


ROW = st.fixed_dictionaries(
    {
        "id": st.one_of(st.sampled_from(IDS), st.sampled_from(BAD_IDS), st.integers(1, 40).map(str)),
        "form_id": column_values(IDS, BAD_IDS),
        "organization_id": column_values(["100", "200", "300"], BAD_IDS),
        "date": column_values(DATES, BAD_DATES),
        "state": column_values(list(helloasso.ITEM_STATES), BAD_STATES),
        "amount_cents": column_values(AMOUNTS, BAD_AMOUNTS),
        "item_type": column_values(ITEM_TYPES, BAD_ITEM_TYPES),
    }
)  # fmt: skip


def pandera_outcome(path: Path) -> dict:
    """What the pandera path concludes: read in memory, the contract's pandera schema, then
    the counts from the accepted rows as text."""
    try:
        checked = helloasso.read_checked(path, CONTRACT, max_quarantine_share=QUARANTINE_SHARE)
    except SourceError as err:
        return {"error": str(err)}
    accepted = checked.accepted
    in_scope = (accepted["date"].str[:4] == str(YEAR)) & accepted["state"].isin(STATES)
    counts = accepted.assign(
        organization_id=accepted["organization_id"].astype("int64"),
        form_id=accepted["form_id"].astype("int64"),
        in_scope=in_scope.astype("int64"),
    )
    per_org = (
        counts.groupby("organization_id")
        .agg(rows=("id", "size"), in_scope=("in_scope", "sum"))
        .reset_index()
        .astype("int64")
    )
    per_form = counts.groupby(["organization_id", "form_id"])["in_scope"].sum().reset_index()
    per_form = per_form[per_form["in_scope"] > 0].astype("int64").reset_index(drop=True)
    quarantine = checked.quarantine.astype(str).reset_index(drop=True)
    return {
        "rows": (checked.rows_read, checked.quarantined),
        "quarantine": quarantine,
        "reasons": checked.reasons(),
        "per_org": per_org,
        "per_form": per_form,
    }


def duckdb_outcome(path: Path, tmp: Path) -> dict:
    """What the streamed DuckDB path concludes on the same file."""
    out = tmp / f"{path.stem}_quarantine.csv"
    out.unlink(missing_ok=True)
    try:
        summary = helloasso.participations_by_organization(
            path, YEAR, STATES, max_quarantine_share=QUARANTINE_SHARE, quarantine_path=out,
            memory_limit="256MB", threads=2,
        )  # fmt: skip
    except SourceError as err:
        return {"error": str(err)}
    columns = ["file", "data_row", "reason", *CONTRACT.columns]
    quarantine = (
        pd.read_csv(out, dtype=str, keep_default_na=False)
        if out.exists()
        else pd.DataFrame(columns=columns)
    )
    return {
        "rows": (summary.rows_read, summary.quarantined),
        "quarantine": quarantine.astype(str).reset_index(drop=True),
        "reasons": summary.reasons,
        "per_org": summary.per_org,
        "per_form": summary.per_form,
    }


def assert_same(ours: dict, theirs: dict) -> None:
    assert ours.keys() == theirs.keys()
    if "error" in ours:
        assert ours["error"] == theirs["error"]
        return
    assert ours["rows"] == theirs["rows"]
    present = [c for c in theirs["quarantine"].columns]
    pd.testing.assert_frame_equal(ours["quarantine"][present], theirs["quarantine"])
    pd.testing.assert_frame_equal(
        ours["reasons"].reset_index(drop=True), theirs["reasons"].reset_index(drop=True), check_dtype=False
    )  # fmt: skip
    pd.testing.assert_frame_equal(ours["per_org"], theirs["per_org"])
    pd.testing.assert_frame_equal(ours["per_form"], theirs["per_form"])


def write_csv(rows: list[dict[str, str]], path: Path, *, encoding: str, broken: list[int]) -> None:
    """The rows as a CSV extract; rows of ``broken`` lose or gain a field (malformed)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CONTRACT.columns)
    for i, row in enumerate(rows):
        fields = [row[c] for c in CONTRACT.columns]
        if i in broken:
            fields = fields[:-2] if i % 2 else [*fields, "extra"]
        writer.writerow(fields)
    path.write_bytes(buffer.getvalue().encode(encoding))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    rows=st.lists(ROW, min_size=1, max_size=30),
    broken=st.lists(st.integers(0, 29), max_size=3),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
)
def test_csv_extracts_get_the_pandera_verdicts(
    rows: list[dict[str, str]], broken: list[int], encoding: str, tmp_path: Path
) -> None:
    text = "".join(v for row in rows for v in row.values())
    if encoding == "cp1252" and any(
        ch not in "".join(chr(i) for i in range(256)) or ch == "٣" for ch in text
    ):
        encoding = "utf-8"  # a character Windows-1252 cannot hold
    path = tmp_path / "participations.csv"
    try:
        write_csv(rows, path, encoding=encoding, broken=broken)
    except UnicodeEncodeError:
        write_csv(rows, path, encoding="utf-8", broken=broken)
    assert_same(duckdb_outcome(path, tmp_path), pandera_outcome(path))


# Random instants stop at the end of 2037: pandas and Arrow convert with the tz database's
# explicit transitions, which end in 2037 (a summer instant of 2038 comes out one hour behind),
# while DuckDB (ICU) and Python's zoneinfo go on applying the rule. The year of an item is
# unaffected (New Year is in winter time either way), which the far winter boundaries check.
TYPED_DATES = st.one_of(
    st.none(),
    st.datetimes(min_value=pd.Timestamp("1990-01-01").to_pydatetime(), max_value=pd.Timestamp("2037-12-31").to_pydatetime()),
    st.sampled_from([pd.Timestamp("2007-12-31 23:59:59.999").to_pydatetime(), pd.Timestamp("2008-01-01").to_pydatetime(),
                     pd.Timestamp("2099-12-31 23:59:59").to_pydatetime(), pd.Timestamp("2100-01-01").to_pydatetime(),
                     pd.Timestamp("2023-12-31 23:30:00").to_pydatetime()]),
)  # fmt: skip
TYPED_ROW = st.fixed_dictionaries(
    {
        "id": st.one_of(st.none(), st.integers(-3, 40)),
        "form_id": st.one_of(st.none(), st.integers(0, 5)),
        "organization_id": st.one_of(st.none(), st.sampled_from([100, 200, 300, -1])),
        "date": TYPED_DATES,
        "state": st.one_of(st.none(), st.sampled_from(list(helloasso.ITEM_STATES)), st.sampled_from(BAD_STATES)),
        "amount_cents": st.one_of(st.none(), st.integers(-2_000, 2_000), st.just(10**16)),
        "item_type": st.one_of(st.none(), st.sampled_from(ITEM_TYPES + BAD_ITEM_TYPES)),
    }
)  # fmt: skip


def rows_of(rows: list[dict], column: str) -> list:
    return [row[column] for row in rows]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    rows=st.lists(TYPED_ROW, min_size=1, max_size=30),
    unit=st.sampled_from(["s", "ms", "us"]),
    zone=st.sampled_from([None, "UTC"]),
    float_ids=st.booleans(),
    dictionary=st.booleans(),
)
def test_typed_parquet_extracts_get_the_pandera_verdicts(
    rows: list[dict], unit: str, zone: str | None, float_ids: bool, dictionary: bool, tmp_path: Path
) -> None:
    """Typed Parquet (integers, or floats as pandas writes an integer column with gaps;
    timestamps of any unit, naive or instants (read in French local time); strings, dictionary-encoded or not) is checked on its typed
    values by the SQL, on its text by pandera: same verdicts, same text in the quarantine."""
    frame = pd.DataFrame(rows, columns=CONTRACT.columns)
    arrays = {}
    for column in ("id", "form_id", "organization_id", "amount_cents"):
        values = pd.array(frame[column], dtype="Int64")
        kind = pa.float64() if float_ids and column != "amount_cents" else pa.int64()
        arrays[column] = pa.array(
            values.astype("Float64" if kind == pa.float64() else "Int64"), kind
        )
    arrays["date"] = pa.array([d if isinstance(d, datetime) else None for d in rows_of(rows, "date")], pa.timestamp(unit, tz=zone))  # fmt: skip
    for column in ("state", "item_type"):
        values = pa.array(rows_of(rows, column), pa.string())
        arrays[column] = values.dictionary_encode() if dictionary else values
    path = tmp_path / "participations.parquet"
    pq.write_table(pa.table(arrays), path)
    assert_same(duckdb_outcome(path, tmp_path), pandera_outcome(path))


@pytest.mark.parametrize(
    "name",
    ["negative_counts/participations.csv", "truncated_last_line/participations.csv"],
)
def test_malformed_corpus_gets_the_same_verdicts(name: str, tmp_path: Path) -> None:
    """The corpus files read as participations: quarantined rows, or the same hard error."""
    path = CORPUS / name
    assert_same(duckdb_outcome(path, tmp_path), pandera_outcome(path))


def test_the_sql_checks_are_those_of_the_pandera_schema() -> None:
    """Single source of truth: the compiled SQL checks are the pandera schema's checks, in
    its order and with its messages, for any storage of the columns."""
    schema = text_schema(CONTRACT)
    declared = [(name, check.error) for name, column in schema.columns.items() for check in column.checks]  # fmt: skip
    from barometre.sources.contracts import sql_checks

    for types in (
        dict.fromkeys(CONTRACT.columns, "VARCHAR"),
        {"id": "BIGINT", "form_id": "DOUBLE", "organization_id": "INTEGER", "date": "TIMESTAMP_MS",
         "state": "VARCHAR", "amount_cents": "BIGINT", "item_type": "VARCHAR"},
        {"id": "BIGINT", "form_id": "BIGINT", "organization_id": "BIGINT", "date": "TIMESTAMP WITH TIME ZONE",
         "state": "VARCHAR", "amount_cents": "BIGINT", "item_type": "VARCHAR"},
    ):  # fmt: skip
        compiled = [(c.column, c.message) for c in sql_checks(CONTRACT, types)]
        assert compiled == declared
