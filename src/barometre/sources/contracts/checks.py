"""Row checks: one definition per field kind, two backends (pandas/pandera and SQL).

:func:`field_checks` gives the checks of one :class:`~barometre.sources.contracts.model.Field`
in the order their messages are reported; :func:`text_schema` runs them as a pandera schema
over text values; their ``sql`` side is compiled by :mod:`barometre.sources.contracts.sql`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

from barometre.sources.common import DATE_PATTERN, DATETIME_PATTERN
from barometre.sources.contracts.model import (
    _DECIMAL_PATTERN,
    _ID_PATTERN,
    _INTEGER_PATTERN,
    Contract,
    Field,
)


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


_Check = tuple[str, Callable[[pd.Series], pd.Series], Callable[[str], str]]
"""(message, pandas test, SQL condition) of one check, before the empty-value guard."""


def _regex_sql(pattern: str) -> Callable[[str], str]:
    """SQL condition "the text fully matches ``pattern``"."""
    return lambda v: f"regexp_full_match({v}, {_quote(pattern)})"


def _id_checks(spec: Field) -> list[_Check]:
    return [(
        "not a non-negative integer identifier (at most 18 digits)",
        lambda s: _fullmatch(s, _ID_PATTERN),
        _regex_sql(_ID_PATTERN),
    )]  # fmt: skip


def _code_checks(spec: Field) -> list[_Check]:
    pattern = spec.pattern or r".+"
    return [(f"not {spec.pattern_label}", lambda s: _fullmatch(s, pattern), _regex_sql(pattern))]


def _enum_checks(spec: Field) -> list[_Check]:
    allowed = list(spec.values)
    shown = ", ".join(allowed) if len(allowed) <= 8 else "see data/README.md"
    return [(
        f"not an allowed value ({shown})",
        lambda s: s.isin(allowed),
        lambda v: sql_in(v, allowed),
    )]  # fmt: skip


def _count_checks(spec: Field) -> list[_Check]:
    return [
        ("not an integer", lambda s: _fullmatch(s, _INTEGER_PATTERN), _regex_sql(_INTEGER_PATTERN)),
        (
            "negative count",
            lambda s: ~_fullmatch(s, _INTEGER_PATTERN) | ~s.str.startswith("-"),
            lambda v: f"NOT regexp_full_match({v}, {_quote(_INTEGER_PATTERN)}) OR NOT starts_with({v}, '-')",
        ),
    ]  # fmt: skip


def _coordinate_checks(spec: Field) -> list[_Check]:
    bound = 90 if spec.kind == "latitude" else 180
    return [
        ("not a decimal number", lambda s: _fullmatch(s, _DECIMAL_PATTERN), _regex_sql(_DECIMAL_PATTERN)),
        (
            f"out of range [-{bound}, {bound}]",
            lambda s: ~_fullmatch(s, _DECIMAL_PATTERN)
            | pd.to_numeric(s.str.replace(",", ".", regex=False), errors="coerce").abs().le(bound),
            lambda v: f"NOT regexp_full_match({v}, {_quote(_DECIMAL_PATTERN)}) OR abs(TRY_CAST(replace({v}, ',', '.') AS DOUBLE)) <= {bound}",
        ),
    ]  # fmt: skip


def _date_checks(spec: Field) -> list[_Check]:
    """Format, calendar day, then the bounds (compared on the day, the first 10 characters)."""
    pattern = DATE_PATTERN if spec.kind == "date" else DATETIME_PATTERN
    label = "a date (YYYY-MM-DD)" if spec.kind == "date" else "an ISO 8601 date or date-time"
    checks: list[_Check] = [
        (f"not {label}", lambda s: _fullmatch(s, pattern), _regex_sql(pattern)),
        (
            "not a calendar date",
            lambda s: ~_fullmatch(s, pattern) | _calendar_ok(s),
            lambda v: f"NOT regexp_full_match({v}, {_quote(pattern)}) OR (substr({v}, 1, 4) <> '0000' AND TRY_CAST(substr({v}, 1, 10) AS DATE) IS NOT NULL)",
        ),
    ]  # fmt: skip
    if spec.min_date:
        low = spec.min_date
        why = f" ({spec.min_date_label})" if spec.min_date_label else ""
        checks.append((
            f"before {low}{why}",
            lambda s: ~_fullmatch(s, pattern) | (s.str[:10] >= low),
            lambda v: f"NOT regexp_full_match({v}, {_quote(pattern)}) OR substr({v}, 1, 10) >= {_quote(low)}",
        ))  # fmt: skip
    if spec.max_date:
        high = spec.max_date
        checks.append((
            f"after {high}",
            lambda s: ~_fullmatch(s, pattern) | (s.str[:10] <= high),
            lambda v: f"NOT regexp_full_match({v}, {_quote(pattern)}) OR substr({v}, 1, 10) <= {_quote(high)}",
        ))  # fmt: skip
    return checks


_KIND_CHECKS: dict[str, Callable[[Field], list[_Check]]] = {
    "id": _id_checks,
    "code": _code_checks,
    "enum": _enum_checks,
    "count": _count_checks,
    "latitude": _coordinate_checks,
    "longitude": _coordinate_checks,
    "date": _date_checks,
    "datetime": _date_checks,
}
"""The checks of each kind of field beyond "missing value" (``text``: none)."""


def _guarded(column: str, message: str, ok: Callable[[pd.Series], pd.Series], sql: Callable[[str], str]) -> RowCheck:  # fmt: skip
    """The check where empty values pass (they fail "missing value" only)."""
    return RowCheck(column, message, lambda s: (s == "") | ok(s), lambda v: f"({v} = '' OR ({sql(v)}))")  # fmt: skip


def field_checks(spec: Field) -> list[RowCheck]:
    """The checks of one field, in the order their messages are reported."""
    checks: list[RowCheck] = []
    if not spec.nullable:
        checks.append(RowCheck(spec.name, "missing value", lambda s: s != "", lambda v: f"{v} <> ''"))  # fmt: skip
    by_kind = _KIND_CHECKS.get(spec.kind)
    if by_kind is not None:
        checks.extend(_guarded(spec.name, *check) for check in by_kind(spec))
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
