"""SQL backend (DuckDB) of the row checks, for the tables aggregated while streaming:
values as the pandas backend reads them (:func:`sql_text`), the checks type-aware
(:func:`sql_checks`) and the reasons joined as :func:`~barometre.sources.contracts.quarantine.describe_reason`
writes them (:func:`sql_reason`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from barometre.sources.contracts.checks import _quote, field_checks, sql_in
from barometre.sources.contracts.model import MAX_ID, Contract, Field


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
