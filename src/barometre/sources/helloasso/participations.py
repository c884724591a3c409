"""Participations: contract checks and aggregation by organisation and form with DuckDB,
streaming from the file, never loading it whole (see :mod:`barometre.sources.helloasso`)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from barometre.sources.common import SourceError
from barometre.sources.contracts import (
    DEFAULT_MAX_QUARANTINE_SHARE,
    Contract,
    enforce_tolerance,
    sql_in,
    unread_column_notes,
)
from barometre.sources.helloasso.queries import (
    _base_query,
    _check_reasons,
    _find_repeated_ids,
    _ident,
    _later_rows,
    _quote_path,
    _write_quarantine,
)
from barometre.sources.helloasso.tables import PARTICIPATIONS_CONTRACT
from barometre.sources.reading import (
    StreamedCsv,
    check_header,
    classify_columns,
    malformed_frame,
    parquet_schema,
    stream_csv_to_parquet,
)


@dataclass
class ParticipationSummary:
    """Participations aggregated by organisation, with what was quarantined and why.

    ``per_org``: ``organization_id`` (int64), ``rows`` (accepted rows), ``in_scope`` (accepted
    rows dated in the data year in a counted state). ``per_form``: the same ``in_scope`` rows
    split by campaign, ``organization_id``, ``form_id``, ``in_scope`` (int64, only pairs with
    ``in_scope > 0``; it sums to ``per_org.in_scope`` organisation by organisation: the
    clusters of the participants count). ``reasons``: failures grouped by (column, message)
    with ``rows`` and ``examples``, as :meth:`Checked.reasons`.
    """

    file: str
    per_org: pd.DataFrame
    rows_read: int
    quarantined: int
    reasons: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    encoding: str = "parquet"
    per_form: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {c: pd.Series([], dtype="int64") for c in ("organization_id", "form_id", "in_scope")}
        )
    )

    @property
    def accepted(self) -> int:
        return self.rows_read - self.quarantined


_MEMORY_LIMIT = r"\d+(?:\.\d+)?\s*(?:[KMGT]i?B)"


@dataclass(frozen=True)
class _Source:
    """The participations as DuckDB reads them: ``query`` (a table function), the SQL of each
    record's ``data_row``, the records not split into fields, how the file was read, the unit
    of its timestamp columns, whether its text columns come stripped, and notes."""

    query: str
    data_row: str
    malformed: pd.DataFrame
    encoding: str
    units: dict[str, str]
    stripped: bool
    notes: list[str]


def _parquet_source(path: Path, contract: Contract) -> _Source:
    """A Parquet file read in place (its row number gives the data row)."""
    schema = parquet_schema(path)
    check_header(path, schema.names, contract.required, ",")
    ignored, personal = classify_columns(schema.names, contract.columns)
    return _Source(
        query=f"read_parquet({_quote_path(path)}, file_row_number = true)",
        data_row="file_row_number + 1",
        malformed=malformed_frame([], []),
        encoding="parquet",
        units={f.name: f.type.unit for f in schema if pa.types.is_timestamp(f.type)},
        stripped=False,
        notes=unread_column_notes(personal, ignored),
    )


def _csv_source(path: Path, folder: Path, contract: Contract) -> _Source:
    """A CSV file copied, streaming, to a Parquet file of ``folder`` (text columns, stripped,
    and each record's data row)."""
    streamed: StreamedCsv = stream_csv_to_parquet(
        path, folder / "participations.parquet", contract.required, contract.optional, sep=contract.sep
    )  # fmt: skip
    return _Source(
        query=f"read_parquet({_quote_path(streamed.parquet)})",
        data_row="_data_row",
        malformed=streamed.malformed,
        encoding=streamed.encoding,
        units={},
        stripped=True,
        notes=unread_column_notes(streamed.personal_columns, streamed.ignored_columns),
    )


def _configure(con: duckdb.DuckDBPyConnection, threads: int, memory_limit: str) -> None:
    """Give the DuckDB connection ``threads`` threads and a ``memory_limit``."""
    con.execute(f"SET threads = {int(threads)}")
    con.execute(f"SET memory_limit = '{memory_limit}'")


def participations_by_organization(
    path: Path,
    data_year: int,
    states: Sequence[str],
    *,
    max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE,
    quarantine_path: Path | None = None,
    memory_limit: str = "1GB",
    threads: int = 2,
) -> ParticipationSummary:
    """Check the participations' contract and count them by organisation, streaming.

    One pass over the file checks every row (SQL compiled from the contract) and counts, per
    organisation and form, the rows, the accepted ones and those in scope (dated in
    ``data_year`` — the year as written, or in French local time for time-zone-aware
    timestamps — and in a counted ``state``); the item ids alone are then read to find repeats
    (the first occurrence is kept). Only when rows fail are they copied aside, and their
    reasons, examples and values as text computed on them. The result is given per
    organisation (``per_org``) and, for the rows in scope, per (organisation, form)
    (``per_form``). Quarantined rows are written to ``quarantine_path`` (CSV) when given and
    there are any. Raises :class:`SourceError` for an
    unusable file (missing column, unreadable, empty, too many quarantined rows).
    """
    path = Path(path)
    if not re.fullmatch(_MEMORY_LIMIT, memory_limit):
        raise ValueError(f"memory_limit must look like '1GB' or '512MiB', got {memory_limit!r}")
    if int(threads) < 1:
        raise ValueError("threads must be at least 1")
    contract = PARTICIPATIONS_CONTRACT
    with tempfile.TemporaryDirectory(prefix="barometre-participations-") as tmp:
        if path.suffix.lower() == ".parquet":
            source = _parquet_source(path, contract)
        else:
            source = _csv_source(path, Path(tmp), contract)
        con = duckdb.connect(":memory:")
        try:
            _configure(con, threads, memory_limit)
            con.execute("SET preserve_insertion_order = false")
            con.execute(f"SET temp_directory = {_quote_path(Path(tmp) / 'spill')}")
            described = con.execute(f"DESCRIBE SELECT * FROM {source.query}").fetchall()
            types = {name: kind for name, kind, *_ in described if name in contract.columns}
            summary = _aggregate(
                con, source.query, source.data_row, types, contract, data_year, states,
                path.name, quarantine_path, source.malformed, stripped=source.stripped,
                units=source.units,
            )  # fmt: skip
        except duckdb.Error as err:
            raise SourceError(f"cannot aggregate participations: {err}", file=path) from None
        finally:
            con.close()
    summary.notes = source.notes
    summary.encoding = source.encoding
    try:
        enforce_tolerance(
            path, summary.rows_read, summary.quarantined, summary.reasons, max_quarantine_share
        )
    except SourceError:
        if quarantine_path is not None:
            Path(quarantine_path).unlink(missing_ok=True)
        raise
    return summary


def _count_in_one_pass(
    con: duckdb.DuckDBPyConnection, base: str, valid: str, scope: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The one pass over the file: the row checks and the counts, grouped by (organisation,
    form) in the table ``per_org_form``; returns its sums per organisation (``org_key``,
    ``n_rows``, ``accepted``, ``in_scope``) and its pairs with rows in scope (``org_key``,
    ``form_key``, ``in_scope``)."""
    con.execute(
        f"""CREATE TEMP TABLE per_org_form AS
            SELECT org_key, form_key, count(*) AS n_rows,
                   count(*) FILTER (WHERE {valid}) AS accepted,
                   count(*) FILTER (WHERE {valid} AND {scope}) AS in_scope
            FROM ({base}) GROUP BY org_key, form_key"""
    )
    per_org = con.execute(
        """SELECT org_key, CAST(sum(n_rows) AS BIGINT) AS n_rows,
                  CAST(sum(accepted) AS BIGINT) AS accepted,
                  CAST(sum(in_scope) AS BIGINT) AS in_scope
           FROM per_org_form GROUP BY org_key"""
    ).df()
    per_form = con.execute(
        "SELECT org_key, form_key, in_scope FROM per_org_form "
        "WHERE in_scope > 0 AND org_key IS NOT NULL AND form_key IS NOT NULL"
    ).df()
    return per_org, per_form


def _repeated_rows(
    con: duckdb.DuckDBPyConnection, base: str, valid: str, scope: str, *, filtered: bool
) -> pd.DataFrame:
    """Valid rows that repeat an earlier valid row's item id (the first occurrence is kept),
    counted by (``org_key``, ``form_key``): ``n`` and ``n_scope`` (those in scope)."""
    if not _find_repeated_ids(con, base, valid, filtered=filtered):
        return pd.DataFrame(columns=["org_key", "form_key", "n", "n_scope"])
    return con.execute(
        f"SELECT org_key, form_key, count(*) AS n, count(*) FILTER (WHERE {scope}) AS n_scope "
        f"{_later_rows(base, valid)} GROUP BY org_key, form_key"
    ).df()


def _copy_quarantined(
    con: duckdb.DuckDBPyConnection,
    base: str,
    valid: str,
    columns: Sequence[str],
    *,
    failing: bool,
    repeats: bool,
) -> None:
    """Copy the quarantined rows aside (table ``quarantined``: a few at most, else the file is
    refused), so that their values as text and which check failed are computed on them only."""
    raw = ", ".join(f"b.{_ident(c)}" for c in columns)
    parts = [f"SELECT {raw}, b.data_row FROM ({base}) b WHERE NOT ({valid})"] if failing else []
    parts += [f"SELECT {raw}, b.data_row {_later_rows(base, valid)}"] if repeats else []
    con.execute(f"CREATE TEMP TABLE quarantined AS {' UNION ALL '.join(parts)}")


def _reason_frame(
    con: duckdb.DuckDBPyConnection,
    base: str,
    valid: str,
    checks: Sequence,
    flags: Sequence[str],
    file_name: str,
    malformed: pd.DataFrame,
    *,
    failing: bool,
    n_repeats: int,
) -> pd.DataFrame:
    """Failures grouped by (column, message) with ``rows`` and the first example, most
    frequent first, as :meth:`~barometre.sources.contracts.Checked.reasons`."""
    reasons: list[tuple[str, str, int, str]] = []
    if failing:
        reasons = _check_reasons(con, base, checks, flags, file_name)
    if n_repeats:
        row, value = con.execute(
            f"SELECT b.data_row, CAST(b.id_key AS VARCHAR) {_later_rows(base, valid)} "
            "ORDER BY b.data_row LIMIT 1"
        ).fetchall()[0]
        example = f"data row {row} of {file_name} ({value!r})"
        reasons.append(("id", "duplicated identifier", n_repeats, example))
    for message, group in malformed.groupby("reason", sort=False):
        example = f"data row {int(group['data_row'].iloc[0])} of {file_name}"
        reasons.append(("", str(message), len(group), example))
    reason_frame = pd.DataFrame(reasons, columns=["column", "message", "rows", "examples"])
    return reason_frame.sort_values(
        ["rows", "column", "message"], ascending=[False, True, True], kind="mergesort"
    ).reset_index(drop=True)


def _net_of_repeats(
    per_org: pd.DataFrame, per_form: pd.DataFrame, repeats: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``per_org`` (``organization_id``, ``rows``, ``in_scope``) and ``per_form``
    (``organization_id``, ``form_id``, ``in_scope`` > 0) of the accepted rows: the counts of
    the one pass less the ``repeats`` (None when no id repeats)."""
    per_org = per_org[per_org["org_key"].notna() & (per_org["accepted"] > 0)]
    result = (
        per_org.rename(columns={"org_key": "organization_id", "accepted": "rows"})
        .astype({"organization_id": "int64"})
        .set_index("organization_id")[["rows", "in_scope"]]
    )
    forms = (
        per_form.rename(columns={"org_key": "organization_id", "form_key": "form_id"})
        .astype("int64")
        .set_index(["organization_id", "form_id"])
    )
    if repeats is not None:
        repeats = repeats.astype({"org_key": "int64", "form_key": "int64"})
        by_org = repeats.groupby("org_key")[["n", "n_scope"]].sum()
        result["rows"] -= by_org["n"].reindex(result.index, fill_value=0)
        result["in_scope"] -= by_org["n_scope"].reindex(result.index, fill_value=0)
        by_form = repeats.set_index(["org_key", "form_key"])["n_scope"]
        by_form.index = by_form.index.set_names(["organization_id", "form_id"])
        forms["in_scope"] -= by_form.reindex(forms.index, fill_value=0)
    result = result.astype("int64").sort_index().reset_index()
    forms = forms[forms["in_scope"] > 0].astype("int64").sort_index().reset_index()
    return result, forms


def _aggregate(
    con: duckdb.DuckDBPyConnection,
    source: str,
    data_row: str,
    types: dict[str, str],
    contract: Contract,
    data_year: int,
    states: Sequence[str],
    file_name: str,
    quarantine_path: Path | None,
    malformed: pd.DataFrame,
    *,
    stripped: bool = False,
    units: dict[str, str] | None = None,
) -> ParticipationSummary:
    """The counts, the reasons and the quarantine file of the participations of ``source``
    (columns of DuckDB ``types``), on the open connection ``con``."""
    base, checks, flags = _base_query(
        source, data_row, types, contract, stripped=stripped, units=units or {}
    )
    valid = " AND ".join(flags) if flags else "TRUE"
    columns = [c for c in contract.columns if c in types]
    scope = f"item_year = {int(data_year)} AND {sql_in('state_text', states)}"
    per_org, per_form = _count_in_one_pass(con, base, valid, scope)
    rows_in_file = int(per_org["n_rows"].sum())
    failing_rows = rows_in_file - int(per_org["accepted"].sum())
    repeats = _repeated_rows(con, base, valid, scope, filtered=bool(failing_rows))
    n_repeats = int(repeats["n"].sum())
    if failing_rows or n_repeats:
        _copy_quarantined(
            con, base, valid, columns, failing=bool(failing_rows), repeats=bool(n_repeats)
        )
        base, _, _ = _base_query(
            "quarantined", "data_row", types, contract, stripped=stripped, units=units or {}
        )
    reasons = _reason_frame(
        con, base, valid, checks, flags, file_name, malformed,
        failing=bool(failing_rows), n_repeats=n_repeats,
    )  # fmt: skip
    quarantined = failing_rows + n_repeats + len(malformed)
    if quarantine_path is not None and quarantined:
        _write_quarantine(
            con, base, checks, flags, valid, file_name, quarantine_path, malformed, columns,
            repeats=bool(n_repeats),
        )  # fmt: skip
    result, forms = _net_of_repeats(per_org, per_form, repeats if n_repeats else None)
    return ParticipationSummary(
        file=file_name,
        per_org=result,
        rows_read=rows_in_file + len(malformed),
        quarantined=quarantined,
        reasons=reasons,
        per_form=forms,
    )


DONATION_FORM_TYPES: tuple[str, ...] = ("Donation", "CrowdFunding")
"""Form types whose participations are donations (financial-generosity indicator, 2025 on)."""


def participations_by_form(
    path: Path,
    data_year: int,
    states: Sequence[str],
    *,
    memory_limit: str = "1GB",
    threads: int = 2,
) -> pd.DataFrame:
    """Participations dated in ``data_year`` in a counted state, per form (``form_id``, ``n``).

    A second streaming pass over the participations (DuckDB), for the counts that depend on the
    form (donations): distinct item ids only, so a repeated row (quarantined by
    :func:`participations_by_organization`) is not counted twice; rows whose date or state do
    not parse are not counted (they are the quarantined ones of that function).
    """
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        source = f"read_parquet({_quote_path(path)})"
    else:
        source = f"read_csv({_quote_path(path)}, all_varchar = true, header = true)"
    quoted_states = ", ".join("'" + str(s).replace("'", "''") + "'" for s in states) or "NULL"
    con = duckdb.connect(":memory:")
    try:
        _configure(con, threads, memory_limit)
        frame = con.execute(
            f"""
            SELECT CAST(form_id AS VARCHAR) AS form_id, count(DISTINCT CAST(id AS VARCHAR)) AS n
            FROM {source}
            WHERE TRY_CAST(substr(CAST("date" AS VARCHAR), 1, 4) AS INTEGER) = {int(data_year)}
              AND CAST(state AS VARCHAR) IN ({quoted_states})
            GROUP BY 1
            ORDER BY 1
            """
        ).df()
    except duckdb.Error as err:
        raise SourceError(f"cannot count participations per form: {err}", file=path) from None
    finally:
        con.close()
    return frame
