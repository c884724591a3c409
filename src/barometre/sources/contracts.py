"""Data contracts of the sources (pandera), row-level checks and the quarantine they feed.

A :class:`Contract` lists the :class:`Field` s of one input table: name, kind (identifier,
code, date, date-time, enumeration, count, coordinate, free text), whether the column must be
present and whether a value may be empty. From it come, with one meaning:

* a **pandera** schema over the text values (:func:`text_schema`), run lazily on every table
  read in memory: each failing value becomes a reason ``column 'value': message`` attached to
  its data row;
* the same checks compiled to **SQL** (:func:`sql_checks`) for the tables aggregated with
  DuckDB while streaming (HelloAsso participations), type-aware so that typed Parquet columns
  are checked without converting 20 million values to text; ``tests/test_ingestion_equivalence``
  proves on generated malformed extracts (CSV and typed Parquet) that both backends give the
  same verdicts, quarantine and counts;
* a pandera schema of the **accepted** records once typed (:func:`accepted_schema`: integer
  identifiers, unique key), checked before they leave the loader.

Rows that fail a check, that could not be split into fields, or that repeat the key of an
earlier row (the first occurrence is kept) are **quarantined** with their reasons:
``rows_read = accepted + quarantined``. A file is unusable (:class:`SourceError`) when no row
is accepted or when more than ``max_quarantine_share`` of its rows are quarantined (a whole
column in another format means the file is misread, not that its rows are bad).

Frame-level contracts of the stage's boundaries are here too: the commune table given to
the loaders (:data:`COMMUNE_TABLE_SCHEMA`) and the counts they return (:func:`counts_schema`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from barometre.sources.common import DATE_PATTERN, DATETIME_PATTERN, SourceError
from barometre.sources.reading import RawTable

Kind = Literal["text", "id", "code", "date", "datetime", "enum", "count", "latitude", "longitude"]

DEFAULT_MAX_QUARANTINE_SHARE = 0.10
"""Above this share of quarantined rows a file is unusable (it is probably misread)."""
MAX_ID = 999_999_999_999_999_999
"""Largest identifier accepted (18 digits: fits an int64 with room to spare)."""
PLATFORM_MAX_DATE = "2099-12-31"
TEXT_DTYPE = pd.StringDtype("pyarrow")
"""Dtype of the text columns handed over by the reader."""

_ID_PATTERN = r"[0-9]{1,18}"
_INTEGER_PATTERN = r"-?[0-9]{1,15}"
_DECIMAL_PATTERN = r"-?[0-9]{1,3}(?:[.,][0-9]+)?"


@dataclass(frozen=True)
class Field:
    """One column of a contract (see the module docstring); values are compared as text."""

    name: str
    kind: Kind = "text"
    required: bool = True
    """The column must be in the file (else a hard error); optional columns are read when present."""
    nullable: bool = False
    """An empty value is allowed."""
    values: tuple[str, ...] = ()
    """Allowed values (kind ``enum``)."""
    pattern: str | None = None
    """Full-match regular expression (kind ``code``)."""
    pattern_label: str = "a valid code"
    min_date: str | None = None
    max_date: str | None = None
    min_date_label: str = ""
    description: str = ""


@dataclass(frozen=True)
class Contract:
    """An input table: its fields, its key (unique identifier) and its CSV separator."""

    name: str
    fields: tuple[Field, ...]
    key: str | None = None
    sep: str = ","

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    @property
    def optional(self) -> list[str]:
        return [f.name for f in self.fields if not f.required]

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def with_date_bounds(
        self, min_date: str | None = None, max_date: str | None = None
    ) -> Contract:
        """The contract with the date bounds of its date and date-time fields replaced where
        given (e.g. the RNA's upper bound is its extract's date)."""
        fields = tuple(
            replace(
                f,
                min_date=min_date if min_date is not None else f.min_date,
                max_date=max_date if max_date is not None else f.max_date,
            )
            if f.kind in ("date", "datetime")
            else f
            for f in self.fields
        )
        return replace(self, fields=fields)


# --------------------------------------------------------------------------------------------
# Row checks: one definition, two backends (pandas/pandera and SQL)


@dataclass(frozen=True)
class RowCheck:
    """One check of one column: ``ok`` (pandas) and ``sql`` give True where the value passes
    or the check does not apply (e.g. an empty optional value, or a later check on a value
    that already failed its format)."""

    column: str
    message: str
    ok: Callable[[pd.Series], pd.Series]
    sql: Callable[[str], str]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sql_in(value: str, allowed: Sequence[str]) -> str:
    """SQL condition "``value`` is one of ``allowed``" (exact, case-sensitive), as a cast to an
    ENUM type: DuckDB plans ``x IN (a, b, c, …)`` as a join against the list, evaluated for
    every row even in a branch of ``CASE`` that few rows take, where the cast costs a lookup."""
    distinct = list(dict.fromkeys(allowed))
    if not distinct:
        return "FALSE"
    return f"(TRY_CAST({value} AS ENUM({', '.join(_quote(a) for a in distinct)})) IS NOT NULL)"


def _fullmatch(values: pd.Series, pattern: str) -> pd.Series:
    return values.str.fullmatch(pattern).astype("boolean").fillna(False).astype(bool)


def _calendar_ok(dates: pd.Series) -> pd.Series:
    """True where ``YYYY-MM-DD`` (first 10 characters) is a day of the Gregorian calendar with
    a year ≥ 1; computed once per distinct date."""
    head = dates.str[:10]
    distinct = pd.Series(head.unique())
    parts = distinct.str.extract(r"^(\d{4})-(\d{2})-(\d{2})$")
    year = pd.to_numeric(parts[0], errors="coerce").to_numpy()
    month = pd.to_numeric(parts[1], errors="coerce").to_numpy()
    day = pd.to_numeric(parts[2], errors="coerce").to_numpy()
    with np.errstate(invalid="ignore"):
        leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
        month_ok = (month >= 1) & (month <= 12)
        lengths = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
        last = np.where(
            month_ok, lengths[np.clip(np.nan_to_num(month, nan=1).astype(int) - 1, 0, 11)], 0
        )
        last = last + ((month == 2) & leap)
        ok = (year >= 1) & month_ok & (day >= 1) & (day <= last)
    valid = distinct[ok].tolist()
    return head.isin(valid).astype(bool)


def field_checks(spec: Field) -> list[RowCheck]:
    """The checks of one field, in the order their messages are reported."""
    name = spec.name
    checks: list[RowCheck] = []
    if not spec.nullable:
        checks.append(RowCheck(name, "missing value", lambda s: s != "", lambda v: f"{v} <> ''"))

    def guarded(
        message: str, ok: Callable[[pd.Series], pd.Series], sql: Callable[[str], str]
    ) -> RowCheck:
        # Empty values pass every check but "missing value".
        return RowCheck(
            name,
            message,
            lambda s: (s == "") | ok(s),
            lambda v: f"({v} = '' OR ({sql(v)}))",
        )

    if spec.kind == "id":
        checks.append(guarded(
            "not a non-negative integer identifier (at most 18 digits)",
            lambda s: _fullmatch(s, _ID_PATTERN),
            lambda v: f"regexp_full_match({v}, {_quote(_ID_PATTERN)})",
        ))  # fmt: skip
    elif spec.kind == "code":
        pattern = spec.pattern or r".+"
        checks.append(guarded(
            f"not {spec.pattern_label}",
            lambda s: _fullmatch(s, pattern),
            lambda v: f"regexp_full_match({v}, {_quote(pattern)})",
        ))  # fmt: skip
    elif spec.kind == "enum":
        allowed = list(spec.values)
        shown = ", ".join(allowed) if len(allowed) <= 8 else "see data/README.md"
        checks.append(guarded(
            f"not an allowed value ({shown})",
            lambda s: s.isin(allowed),
            lambda v: sql_in(v, allowed),
        ))  # fmt: skip
    elif spec.kind == "count":
        checks.append(guarded(
            "not an integer",
            lambda s: _fullmatch(s, _INTEGER_PATTERN),
            lambda v: f"regexp_full_match({v}, {_quote(_INTEGER_PATTERN)})",
        ))  # fmt: skip
        checks.append(guarded(
            "negative count",
            lambda s: ~_fullmatch(s, _INTEGER_PATTERN) | ~s.str.startswith("-"),
            lambda v: f"NOT regexp_full_match({v}, {_quote(_INTEGER_PATTERN)}) OR NOT starts_with({v}, '-')",
        ))  # fmt: skip
    elif spec.kind in ("latitude", "longitude"):
        bound = 90 if spec.kind == "latitude" else 180
        checks.append(guarded(
            "not a decimal number",
            lambda s: _fullmatch(s, _DECIMAL_PATTERN),
            lambda v: f"regexp_full_match({v}, {_quote(_DECIMAL_PATTERN)})",
        ))  # fmt: skip
        checks.append(guarded(
            f"out of range [-{bound}, {bound}]",
            lambda s: ~_fullmatch(s, _DECIMAL_PATTERN)
            | pd.to_numeric(s.str.replace(",", ".", regex=False), errors="coerce").abs().le(bound),
            lambda v: f"NOT regexp_full_match({v}, {_quote(_DECIMAL_PATTERN)}) OR abs(TRY_CAST(replace({v}, ',', '.') AS DOUBLE)) <= {bound}",
        ))  # fmt: skip
    elif spec.kind in ("date", "datetime"):
        pattern = DATE_PATTERN if spec.kind == "date" else DATETIME_PATTERN
        label = "a date (YYYY-MM-DD)" if spec.kind == "date" else "an ISO 8601 date or date-time"
        checks.append(guarded(
            f"not {label}",
            lambda s: _fullmatch(s, pattern),
            lambda v: f"regexp_full_match({v}, {_quote(pattern)})",
        ))  # fmt: skip
        checks.append(guarded(
            "not a calendar date",
            lambda s: ~_fullmatch(s, pattern) | _calendar_ok(s),
            lambda v: f"NOT regexp_full_match({v}, {_quote(pattern)}) OR (substr({v}, 1, 4) <> '0000' AND TRY_CAST(substr({v}, 1, 10) AS DATE) IS NOT NULL)",
        ))  # fmt: skip
        if spec.min_date:
            low = spec.min_date
            why = f" ({spec.min_date_label})" if spec.min_date_label else ""
            checks.append(guarded(
                f"before {low}{why}",
                lambda s: ~_fullmatch(s, pattern) | (s.str[:10] >= low),
                lambda v: f"NOT regexp_full_match({v}, {_quote(pattern)}) OR substr({v}, 1, 10) >= {_quote(low)}",
            ))  # fmt: skip
        if spec.max_date:
            high = spec.max_date
            checks.append(guarded(
                f"after {high}",
                lambda s: ~_fullmatch(s, pattern) | (s.str[:10] <= high),
                lambda v: f"NOT regexp_full_match({v}, {_quote(pattern)}) OR substr({v}, 1, 10) <= {_quote(high)}",
            ))  # fmt: skip
    return checks


def contract_checks(contract: Contract, columns: Sequence[str] | None = None) -> list[RowCheck]:
    """The row checks of the contract's fields present in ``columns`` (all by default)."""
    present = set(columns) if columns is not None else set(contract.columns)
    return [c for f in contract.fields if f.name in present for c in field_checks(f)]


def text_schema(contract: Contract, columns: Sequence[str] | None = None) -> pa.DataFrameSchema:
    """The pandera schema of the contract over text values ("" for empty)."""
    present = set(columns) if columns is not None else set(contract.columns)
    schema_columns = {}
    for spec in contract.fields:
        if spec.name not in present:
            continue
        checks = [pa.Check(c.ok, error=c.message, name=c.message) for c in field_checks(spec)]
        # No dtype check: the reader hands over text only (a dtype check would cost a pass).
        schema_columns[spec.name] = pa.Column(
            None,
            checks=checks,
            nullable=False,
            required=spec.required,
            description=spec.description,
        )
    return pa.DataFrameSchema(schema_columns, name=contract.name, strict=False, coerce=False)


# --------------------------------------------------------------------------------------------
# Applying a contract to a table read in memory


@dataclass
class Checked:
    """A table after its contract: accepted rows, quarantined rows and why."""

    contract: Contract
    files: list[str]
    rows_read: int
    accepted: pd.DataFrame
    """Accepted rows (text columns; ``file`` column when several files), indexed by data row."""
    quarantine: pd.DataFrame
    """One row per quarantined data row: ``file``, ``data_row``, ``reason`` and the contract's
    columns as read ("" for a malformed row, whose fields could not be told apart)."""
    failures: pd.DataFrame
    """One row per failing value: ``file``, ``data_row``, ``column``, ``message``, ``value``."""
    notes: list[str] = field(default_factory=list)
    layouts: list[str] = field(default_factory=list)
    encodings: list[str] = field(default_factory=list)

    @property
    def quarantined(self) -> int:
        return len(self.quarantine)

    def reasons(self, examples: int = 1) -> pd.DataFrame:
        """Failures grouped by (column, message): ``rows`` (data rows concerned) and the first
        ``example`` (file, data row, value), most frequent first."""
        return summarise_failures(self.failures, examples)


FAILURE_COLUMNS = ("file", "data_row", "column", "message", "value", "detail")


def summarise_failures(failures: pd.DataFrame, examples: int = 1) -> pd.DataFrame:
    """Failures grouped by (column, message), most frequent first, with examples."""
    if failures.empty:
        return pd.DataFrame(columns=["column", "message", "rows", "examples"])
    ordered = failures.sort_values(["file", "data_row"], kind="mergesort")
    groups = ordered.groupby(["column", "message"], sort=False)
    rows = groups["data_row"].size().rename("rows")

    def sample(group: pd.DataFrame) -> str:
        return ", ".join(
            f"data row {r}" + (f" of {f}" if f else "") + (f" ({v!r})" if c else "")
            for f, r, v, c in zip(group["file"], group["data_row"], group["value"], group["column"], strict=True)
        )  # fmt: skip

    shown = groups.head(examples).groupby(["column", "message"], sort=False)[list(ordered.columns)]
    example = shown.apply(sample).rename("examples")
    summary = pd.concat([rows, example], axis=1).reset_index()
    return summary.sort_values(["rows", "column", "message"], ascending=[False, True, True], kind="mergesort").reset_index(drop=True)  # fmt: skip


def describe_reason(column: str, message: str, value: str, detail: str = "") -> str:
    """``column 'value': message`` (or the message alone for a row that was not split)."""
    where = f"{column} {value!r}: " if column else ""
    return f"{where}{message}{detail}"


def check_table(
    raw: RawTable,
    contract: Contract,
    *,
    file_label: str = "",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the contract's pandera schema on one raw table: returns (``rows``, ``failures``)
    where ``rows`` is the raw text frame and ``failures`` one row per failing value or
    malformed record (:data:`FAILURE_COLUMNS`)."""
    frame = raw.frame
    schema = text_schema(contract, frame.columns)
    records = []
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as err:
        cases = err.failure_cases
        cases = cases[cases["index"].notna()]
        # A row's reasons in the contract's order of checks (pandera lists them as it goes).
        rank = {(c.column, c.message): i for i, c in enumerate(contract_checks(contract))}
        order = [rank.get((c, m), len(rank)) for c, m in zip(cases["column"].astype(str), cases["check"].astype(str), strict=True)]  # fmt: skip
        cases = cases.assign(
            _row=cases["index"].astype("int64").to_numpy(), _rank=order
        ).sort_values(["_row", "_rank"], kind="mergesort")
        records.append(
            pd.DataFrame(
                {
                    "file": file_label,
                    "data_row": cases["index"].astype("int64").to_numpy(),
                    "column": cases["column"].astype(str).to_numpy(),
                    "message": cases["check"].astype(str).to_numpy(),
                    "value": cases["failure_case"].astype(str).to_numpy(),
                    "detail": "",
                }
            )
        )
    if len(raw.malformed):
        records.append(
            pd.DataFrame(
                {
                    "file": file_label,
                    "data_row": raw.malformed["data_row"].to_numpy(),
                    "column": "",
                    "message": raw.malformed["reason"].to_numpy(),
                    "value": "",
                    "detail": "",
                }
            )
        )
    failures = (
        pd.concat(records, ignore_index=True)
        if records
        else pd.DataFrame({c: pd.Series([], dtype="int64" if c == "data_row" else object) for c in FAILURE_COLUMNS})
    )  # fmt: skip
    return frame, failures


def apply_contract(
    tables: Sequence[tuple[RawTable, str]],
    contract: Contract,
    *,
    max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE,
    layouts: Sequence[str] = (),
) -> Checked:
    """Check one or several raw tables of the same contract (e.g. RNA department files):
    quarantine failing rows and later repeats of the key, enforce the tolerance.

    ``tables``: (raw table, file label) pairs; the label ("" for a single file) is recorded
    with each row. Raises :class:`SourceError` when the result is unusable (see the module
    docstring).
    """
    frames, failures = [], []
    for raw, label in tables:
        frame, failed = check_table(raw, contract, file_label=label)
        frames.append(frame.assign(file=label))
        failures.append(failed)
    rows = pd.concat(frames) if len(frames) > 1 else frames[0]
    failed = pd.concat(failures, ignore_index=True)
    rows_read = sum(raw.rows_read for raw, _ in tables)
    bad = pd.MultiIndex.from_frame(failed[["file", "data_row"]]) if len(failed) else pd.MultiIndex.from_tuples([], names=["file", "data_row"])  # fmt: skip
    position = pd.MultiIndex.from_arrays([rows["file"].to_numpy(), rows.index.to_numpy()], names=["file", "data_row"])  # fmt: skip
    ok = ~position.isin(bad)
    if contract.key is not None and contract.key in rows.columns:
        # Only rows that passed their checks compete for the key; among them the first wins.
        passing = np.flatnonzero(ok)
        keys = rows[contract.key].to_numpy()[passing]
        later = pd.Series(keys).duplicated(keep="first").to_numpy()
        if later.any():
            files = rows["file"].to_numpy()[passing]
            data_rows = rows.index.to_numpy()[passing]
            first_at = {
                k: (f, r)
                for k, f, r in zip(keys[~later], files[~later], data_rows[~later], strict=True)
            }
            details = [
                f" (first at data row {first_at[k][1]}"
                + (f" of {first_at[k][0]}" if first_at[k][0] else "")
                + ")"
                for k in keys[later]
            ]
            duplicates = pd.DataFrame(
                {
                    "file": files[later],
                    "data_row": data_rows[later],
                    "column": contract.key,
                    "message": "duplicated identifier",
                    "value": keys[later],
                    "detail": details,
                }
            )
            failed = pd.concat([failed, duplicates], ignore_index=True)
            ok[passing[later]] = False
    failed = failed.sort_values(["file", "data_row"], kind="mergesort").reset_index(drop=True)
    accepted = rows[ok]
    if len(tables) == 1:
        accepted = accepted.drop(columns="file")
    quarantine = quarantine_rows(failed, rows, contract)
    checked = Checked(
        contract=contract,
        files=[raw.path.name for raw, _ in tables],
        rows_read=rows_read,
        accepted=accepted,
        quarantine=quarantine,
        failures=failed,
        layouts=list(layouts),
        encodings=[raw.encoding or raw.file_format for raw, _ in tables],
    )
    for raw, label in tables:
        where = f" ({label})" if label else ""
        if raw.personal_columns:
            checked.notes.append(
                f"personal columns not read{where}: {', '.join(raw.personal_columns)}"
            )
        if raw.ignored_columns:
            checked.notes.append(
                f"columns outside the contract, ignored{where}: {', '.join(raw.ignored_columns)}"
            )
    enforce_tolerance(
        tables[0][0].path if len(tables) == 1 else tables[0][0].path.parent,
        rows_read,
        len(quarantine),
        checked.reasons(),
        max_quarantine_share,
    )
    return checked


def quarantine_rows(failed: pd.DataFrame, rows: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """One row per quarantined data row, with its reasons joined and its values as read."""
    columns = ["file", "data_row", "reason", *[c for c in contract.columns if c in rows.columns]]
    if failed.empty:
        return pd.DataFrame(
            {c: pd.Series([], dtype="int64" if c == "data_row" else object) for c in columns}
        )
    text = [
        describe_reason(c, m, v, d)
        for c, m, v, d in zip(failed["column"], failed["message"], failed["value"], failed["detail"], strict=True)
    ]  # fmt: skip
    reasons = (
        failed.assign(text=text)
        .groupby(["file", "data_row"], sort=True)["text"]
        .agg("; ".join)
        .rename("reason")
        .reset_index()
    )
    values = rows.reset_index().drop_duplicates(["file", "data_row"])
    out = reasons.merge(values, on=["file", "data_row"], how="left").fillna("")
    return out[columns]


def enforce_tolerance(
    path: object,
    rows_read: int,
    quarantined: int,
    reasons: pd.DataFrame,
    max_quarantine_share: float,
) -> None:
    """Raise :class:`SourceError` when no row is accepted or too many are quarantined."""
    if not 0 <= max_quarantine_share <= 1:
        raise ValueError("max_quarantine_share must be between 0 and 1")
    top = "; ".join(
        f"{r.rows} × {r.column + ': ' if r.column else ''}{r.message} (e.g. {r.examples})"
        for r in reasons.head(3).itertuples(index=False)
    )
    if rows_read and quarantined == rows_read:
        raise SourceError(
            f"no data row passes the contract ({rows_read} quarantined): {top}", file=str(path)
        )
    if rows_read and quarantined / rows_read > max_quarantine_share:
        raise SourceError(
            f"{quarantined} of {rows_read} data rows ({quarantined / rows_read:.1%}) break the "
            f"contract, more than the {max_quarantine_share:.0%} tolerated — the file is "
            f"probably misread or mis-exported: {top}",
            file=str(path),
        )


# --------------------------------------------------------------------------------------------
# Accepted records, typed


def accepted_schema(contract: Contract, columns: Sequence[str]) -> pa.DataFrameSchema:
    """Pandera schema of accepted records once typed: identifiers int64 (the key unique),
    everything else text."""
    schema_columns = {}
    for spec in contract.fields:
        if spec.name not in columns:
            continue
        if spec.kind == "id":
            nullable = spec.nullable
            schema_columns[spec.name] = pa.Column(
                "Int64" if nullable else "int64",
                pa.Check.in_range(0, MAX_ID),
                nullable=nullable,
                unique=spec.name == contract.key,
            )
        else:
            schema_columns[spec.name] = pa.Column(TEXT_DTYPE, unique=spec.name == contract.key)
    return pa.DataFrameSchema(schema_columns, name=f"{contract.name} (accepted)", strict=False)


def typed_records(checked: Checked) -> pd.DataFrame:
    """The accepted records with identifiers as integers, checked by :func:`accepted_schema`."""
    frame = checked.accepted.copy()
    for spec in checked.contract.fields:
        if spec.kind == "id" and spec.name in frame.columns:
            values = frame[spec.name]
            if spec.nullable:
                frame[spec.name] = pd.array(values.where(values != "", None), dtype="Int64")
            else:
                frame[spec.name] = values.astype("int64")
    try:
        return accepted_schema(checked.contract, frame.columns).validate(frame)
    except (SchemaError, SchemaErrors) as err:  # a bug of the checks, not of the data
        raise AssertionError(
            f"accepted {checked.contract.name} records break their schema: {err}"
        ) from None


# --------------------------------------------------------------------------------------------
# SQL backend (DuckDB) of the same checks


@dataclass(frozen=True)
class SqlCheck:
    """One compiled check: ``ok`` is a boolean SQL expression, ``value`` the value as text."""

    column: str
    message: str
    ok: str
    value: str


_INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "HUGEINT")  # fmt: skip


WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
"""The characters stripped around every value: Unicode white space, as ``str.strip`` and
Arrow's ``utf8_trim_whitespace`` (the readers) strip them (DuckDB's ``trim`` strips spaces only)."""


_UNITS = {"TIMESTAMP_S": "s", "TIMESTAMP_MS": "ms", "TIMESTAMP_NS": "ns"}
_FRACTION_DIGITS = {"s": 0, "ms": 3, "us": 6, "ns": 9}


def _timestamp_text(expr: str, unit: str) -> str:
    """A timestamp's text as Arrow writes it (the pandas backend's reader): the fraction of a
    second with as many digits as the unit has (DuckDB drops its trailing zeros)."""
    digits = _FRACTION_DIGITS.get(unit, 6)
    text = f"CAST({expr} AS VARCHAR)"
    if not digits:
        return text
    return (
        f"CASE WHEN contains({text}, '.') THEN rpad({text}, {20 + digits}, '0') "
        f"ELSE {text} || '.{'0' * digits}' END"
    )


def sql_text(
    column: str, duckdb_type: str, *, stripped: bool = False, unit: str | None = None
) -> str:
    """SQL expression of a column as stripped text ("" for NULL), as the pandas backend reads
    it: integral floats as integers, timestamps with the fraction digits of their ``unit``
    (``s``, ``ms``, ``us``, ``ns``: of the file, since DuckDB may widen it; by default that of
    the type), time-zone-aware timestamps in French local time.

    ``stripped``: text values are already stripped (a CSV copied by
    :func:`~barometre.sources.reading.stream_csv_to_parquet`). Otherwise white space is
    stripped only from the values that start or end with some (stripping every value with a
    set of characters costs a microsecond a value)."""
    ident = '"' + column.replace('"', '""') + '"'
    kind = duckdb_type.upper()
    if kind in ("FLOAT", "DOUBLE", "REAL") or kind.startswith("DECIMAL"):
        expr = (
            f"CASE WHEN {ident} = trunc({ident}) AND abs({ident}) < 1e18 "
            f"THEN CAST(CAST({ident} AS BIGINT) AS VARCHAR) ELSE CAST({ident} AS VARCHAR) END"
        )
    elif kind.startswith("TIMESTAMP WITH TIME ZONE") or kind == "TIMESTAMPTZ":
        local = f"timezone('Europe/Paris', {ident})"
        return f"coalesce({_timestamp_text(local, unit or 'us')}, '')"
    elif kind.startswith("TIMESTAMP"):
        return f"coalesce({_timestamp_text(ident, unit or _UNITS.get(kind, 'us'))}, '')"
    elif _is_text(kind):
        if stripped:
            return f"coalesce({ident}, '')"
        expr = ident
    else:
        return f"coalesce(CAST({ident} AS VARCHAR), '')"  # numbers, dates: no white space
    # Every white space character is ≤ U+0020 or ≥ U+0085: a cheap test of both ends that
    # lets the other values through untouched (trim is exact for the few it lets in).
    return (
        f"coalesce(CASE WHEN ord({expr}) <= 32 OR ord({expr}) >= 133 "
        f"OR ord(right({expr}, 1)) <= 32 OR ord(right({expr}, 1)) >= 133 "
        f"THEN trim({expr}, {_quote(WHITESPACE)}) ELSE {expr} END, '')"
    )


def _is_text(duckdb_type: str) -> bool:
    return duckdb_type.upper() in ("VARCHAR", "STRING", "TEXT")


def _enum_known(spec: Field, duckdb_type: str) -> str | None:
    """For an enumeration held as text, the SQL condition "the value as stored is one of the
    allowed values": such a value passes every check of its field, whitespace or not, so the
    stripped text need only be computed for the other values (a few, or none)."""
    if spec.kind != "enum" or not _is_text(duckdb_type) or not spec.values:
        return None
    if any(v != v.strip() or v == "" for v in spec.values):
        return None
    ident = '"' + spec.name.replace('"', '""') + '"'
    return sql_in(ident, spec.values)


def sql_value(
    column: str,
    duckdb_type: str,
    spec: Field | None = None,
    *,
    stripped: bool = False,
    unit: str | None = None,
) -> str:
    """:func:`sql_text`, short-cut for the allowed values of an enumeration held as text."""
    text = sql_text(column, duckdb_type, stripped=stripped, unit=unit)
    known = _enum_known(spec, duckdb_type) if spec is not None else None
    if known is None:
        return text
    ident = '"' + column.replace('"', '""') + '"'
    return f"(CASE WHEN {known} THEN {ident} ELSE {text} END)"


def sql_checks(
    contract: Contract,
    types: dict[str, str],
    texts: dict[str, str] | None = None,
    *,
    stripped: bool = False,
) -> list[SqlCheck]:
    """The contract's checks as SQL for the columns of ``types`` ({column: DuckDB type}).

    Integer columns of identifiers and counts, and date/timestamp columns of dates, are
    checked on their typed values (no text conversion of millions of values); any other
    column through its text, exactly as the pandas backend does. ``texts``: {column: SQL
    expression} of the text of a column when a query computes it once (e.g. a column
    ``v_state`` of a subquery computed with :func:`sql_value`), else :func:`sql_text`
    (``stripped``: see there)."""
    out = []
    for spec in contract.fields:
        if spec.name not in types:
            continue
        kind = types[spec.name].upper()
        ident = '"' + spec.name.replace('"', '""') + '"'
        text = (texts or {}).get(spec.name) or sql_text(spec.name, kind, stripped=stripped)
        typed_int = kind in _INTEGER_TYPES and spec.kind in ("id", "count")
        typed_time = (kind in ("DATE", "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S") or kind.startswith("TIMESTAMP")) and spec.kind in ("date", "datetime")  # fmt: skip
        for check in field_checks(spec):
            if typed_int:
                if check.message == "missing value":
                    ok = f"{ident} IS NOT NULL"
                elif spec.kind == "id":
                    ok = f"({ident} IS NULL OR {ident} BETWEEN 0 AND {MAX_ID})"
                elif check.message == "negative count":
                    ok = f"({ident} IS NULL OR {ident} >= 0)"
                else:
                    ok = f"({ident} IS NULL OR abs({ident}) < 1000000000000000)"
            elif typed_time:
                local = (
                    f"timezone('Europe/Paris', {ident})"
                    if "TIME ZONE" in kind or kind == "TIMESTAMPTZ"
                    else ident
                )
                if check.message == "missing value":
                    ok = f"{ident} IS NOT NULL"
                elif check.message.startswith("before "):
                    ok = f"({ident} IS NULL OR {local} >= {_day_start(spec.min_date or '', kind)})"
                elif check.message.startswith("after "):
                    ok = (
                        f"({ident} IS NULL OR {local} < {_day_start(spec.max_date or '', kind, 1)})"
                    )
                else:
                    ok = "TRUE"
            else:
                ok = check.sql(text)
            out.append(SqlCheck(spec.name, check.message, ok, text))
    return out


def _day_start(day: str, duckdb_type: str, later: int = 0) -> str:
    """SQL literal of the first instant of ``day`` (+ ``later`` days), of the column's type, so
    that bounds on the day are compared on the stored values (no cast of each value): a value
    is on or after ``day`` when ≥ its start, on or before it when < the next day's start."""
    start = (date.fromisoformat(day) + timedelta(days=later)).isoformat()
    kind = duckdb_type.upper()
    if kind == "DATE":
        return f"DATE {_quote(start)}"
    if "TIME ZONE" in kind or kind == "TIMESTAMPTZ":
        return f"TIMESTAMP {_quote(start)}"  # compared with the local time (a TIMESTAMP)
    return f"CAST({_quote(start)} AS {kind})"


def sql_reason(checks: Sequence[SqlCheck], flags: Sequence[str]) -> str:
    """SQL expression joining the reasons of the failed checks (``flags``: the boolean column
    of each check), as :func:`describe_reason` writes them."""
    parts = [
        f"CASE WHEN NOT {flag} THEN {_quote(c.column + ' ')} || '''' || replace({c.value}, '''', '''''') || ''': ' || {_quote(c.message)} END"
        for c, flag in zip(checks, flags, strict=True)
    ]  # fmt: skip
    return f"concat_ws('; ', {', '.join(parts)})" if parts else "''"


# --------------------------------------------------------------------------------------------
# Frame-level contracts of the stage's boundaries

COMMUNE_CODE = r"^(?:\d{5}|2[AB]\d{3})$"

COMMUNE_TABLE_SCHEMA = pa.DataFrameSchema(
    {
        "code_commune": pa.Column(str, pa.Check.str_matches(COMMUNE_CODE, error="not a commune code (5 characters)"), unique=True),
        "nom": pa.Column(str, pa.Check(lambda s: s.str.strip() != "", error="empty commune name")),
        "population": pa.Column(int, pa.Check.ge(0, error="negative population"), coerce=True),
        "code_departement": pa.Column(str),
        "codes_postaux": pa.Column(str, nullable=True),
    },
    name="commune table",
    strict=False,
)  # fmt: skip
"""The commune table given to the loaders (the universe of the build). A population of zero
is valid (the six 'villages morts pour la France' of the Meuse): records placed there are
counted and flagged in the report, since a rate per inhabitant is undefined there."""


def check_commune_table(communes: pd.DataFrame) -> pd.DataFrame:
    """Validate the commune table (:data:`COMMUNE_TABLE_SCHEMA`); raises :class:`SourceError`
    naming the first failing commune, column and value."""
    try:
        return COMMUNE_TABLE_SCHEMA.validate(communes, lazy=True)
    except SchemaErrors as err:
        case = err.failure_cases.iloc[0]
        index = case["index"]
        value = case["failure_case"]
        value = value.item() if hasattr(value, "item") else value
        code = (
            communes["code_commune"].iloc[int(index)]
            if pd.notna(index) and "code_commune" in communes
            else None
        )
        where = f" (commune {code})" if code is not None else ""
        raise SourceError(
            f"the commune table breaks its contract{where}: {case['check']}",
            column=str(case["column"]),
            value=value,
        ) from None


def counts_schema(
    count_columns: Sequence[str], clustered: Sequence[str] = ()
) -> pa.DataFrameSchema:
    """The counts leaving the loaders: one row per commune (unique code), non-negative int64.

    For each count of ``clustered``, after the counts, its cluster statistics
    ``<count>_clusters``, ``<count>_cluster_sumsq``, ``<count>_cluster_max`` (and
    ``ha_participants_organizations`` when ``ha_participants`` is clustered), with the
    identities of cluster sizes s ≥ 1 summing to the count n: all zero where n = 0; clusters ≤
    n; max ≤ n ≤ clusters × max; n ≤ Σs² ≤ max × n; Σs² × clusters ≥ n² (Cauchy–Schwarz).
    """
    columns = {c: pa.Column("int64", pa.Check.ge(0)) for c in count_columns}
    checks = []
    for count in clustered:
        k, q, m = (f"{count}_clusters", f"{count}_cluster_sumsq", f"{count}_cluster_max")
        columns.update({c: pa.Column("int64", pa.Check.ge(0)) for c in (k, q, m)})

        def identities(frame: pd.DataFrame, n=count, k=k, q=q, m=m) -> pd.Series:
            n_, k_, q_, m_ = (frame[c].astype("float64") for c in (n, k, q, m))
            zero = (n_ == 0) & (k_ == 0) & (q_ == 0) & (m_ == 0)
            positive = (
                (n_ > 0) & (k_ >= 1) & (k_ <= n_) & (m_ >= 1) & (m_ <= n_) & (k_ * m_ >= n_)
                & (q_ >= n_) & (q_ <= m_ * n_) & (q_ * k_ >= n_ * n_)
            )  # fmt: skip
            return zero | positive

        checks.append(
            pa.Check(identities, error=f"cluster statistics of {count} consistent with the count")
        )
    if "ha_participants" in clustered:
        columns["ha_participants_organizations"] = pa.Column("int64", pa.Check.ge(0))
        checks.append(
            pa.Check(
                lambda f: (
                    (f["ha_participants_organizations"] <= f["ha_participants_clusters"])
                    & ((f["ha_participants_organizations"] == 0) == (f["ha_participants"] == 0))
                ),
                error="organisations behind ha_participants: ≤ its clusters, zero iff it is zero",
            )
        )
    return pa.DataFrameSchema(
        {
            "code_commune": pa.Column(str, pa.Check.str_matches(COMMUNE_CODE), unique=True),
            **columns,
        },
        checks=checks,
        name="commune counts",
        strict=True,
        ordered=True,
    )


def first_line(text: str) -> str:
    """First line of an error message (pandera messages run over several lines)."""
    return re.split(r"\n", str(text), maxsplit=1)[0]
