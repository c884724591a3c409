"""The DuckDB queries of the streamed participations: one row per record with its checks
(:func:`_base_query`), the reasons of the failed checks, the repeated item ids and the
quarantine file. Private to :mod:`barometre.sources.helloasso.participations`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from barometre.sources.contracts import Contract, SqlCheck, sql_checks, sql_reason, sql_value


def _ident(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _quote_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _later_rows(base: str, valid: str) -> str:
    """SQL ``FROM … WHERE`` of the valid rows of ``base`` that repeat the item id of an earlier
    valid row (needs the table ``repeated`` of :func:`_find_repeated_ids`)."""
    return f"FROM ({base}) b JOIN repeated r USING (id_key) WHERE {valid} AND b.data_row > r.first_row"  # fmt: skip


def _base_query(
    source: str,
    data_row: str,
    types: dict[str, str],
    contract: Contract,
    *,
    stripped: bool,
    units: dict[str, str],
) -> tuple[str, list[SqlCheck], list[str]]:
    """(query, checks, flags): one row per record with its data row, integer keys, year,
    state, the values as stored and as text (``v_*``, each computed once) and the verdict of each check
    (``ok_*``). Projections a query does not use are pruned by DuckDB: the text values cost
    nothing to the counts. ``stripped``: text columns come stripped (a copied CSV); ``units``:
    the unit of the file's timestamp columns (their text has its fraction digits)."""
    columns = [c for c in contract.columns if c in types]
    texts = {c: _ident("v_" + c) for c in columns}
    checks = sql_checks(contract, types, texts)
    flags = [f"ok_{i}" for i in range(len(checks))]

    def key(column: str) -> str:
        kind = types[column].upper()
        if kind in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"):  # fmt: skip
            return f"CAST({_ident(column)} AS BIGINT)"
        return f"TRY_CAST({texts[column]} AS BIGINT)"

    date_kind = types["date"].upper()
    if "TIME ZONE" in date_kind or date_kind == "TIMESTAMPTZ":
        year = "year(timezone('Europe/Paris', \"date\"))"
    elif date_kind.startswith("TIMESTAMP") or date_kind == "DATE":
        year = 'year("date")'
    else:
        year = f"TRY_CAST(substr({texts['date']}, 1, 4) AS INTEGER)"
    values = ", ".join(
        f"{sql_value(c, types[c], contract.field(c), stripped=stripped, unit=units.get(c))} AS {texts[c]}"
        for c in columns
    )  # fmt: skip
    query = (
        f"SELECT data_row, {key('organization_id')} AS org_key, "
        f"{key('form_id')} AS form_key, {key('id')} AS id_key, {year} AS item_year, "
        f"{texts['state']} AS state_text, "
        + "".join(f"{_ident(c)}, " for c in columns)
        + "".join(f"{texts[c]}, " for c in columns)
        + ", ".join(f"{c.ok} AS {f}" for c, f in zip(checks, flags, strict=True))
        + f" FROM (SELECT {', '.join(_ident(c) for c in columns)}, {data_row} AS data_row, "
        f"{values} FROM {source})"
    )
    return query, checks, flags


def _check_reasons(
    con: duckdb.DuckDBPyConnection,
    base: str,
    checks: Sequence[SqlCheck],
    flags: Sequence[str],
    file_name: str,
) -> list[tuple[str, str, int, str]]:
    """(column, message, rows, first example) of each check that some row fails."""
    found = con.execute(
        "SELECT "
        + ", ".join(
            f"count(*) FILTER (WHERE NOT {f}), min(data_row) FILTER (WHERE NOT {f}), "
            f"arg_min({_ident('v_' + c.column)}, data_row) FILTER (WHERE NOT {f})"
            for c, f in zip(checks, flags, strict=True)
        )
        + f" FROM ({base})"
    ).fetchall()[0]
    reasons = []
    for i, check in enumerate(checks):
        rows, row, value = found[3 * i : 3 * i + 3]
        if rows:
            reasons.append(
                (
                    check.column,
                    check.message,
                    int(rows),
                    f"data row {row} of {file_name} ({value!r})",
                )
            )
    return reasons


def _find_repeated_ids(
    con: duckdb.DuckDBPyConnection, base: str, valid: str, *, filtered: bool
) -> bool:
    """Whether an item id of a valid row repeats; if so, creates the temporary table
    ``repeated`` (``id_key``, ``first_row``: data row of its first valid occurrence).

    The ids are fetched in file order as one integer array (8 bytes a row): increasing ids
    (the usual order of an extract) have no repeat; otherwise a sort finds the repeated values
    and only their rows are looked up again. ``filtered``: some rows fail their checks (they do
    not compete for the id), else every id is valid and the checks are not evaluated again.
    """
    where = f" WHERE {valid}" if filtered else ""
    con.execute("SET preserve_insertion_order = true")
    try:
        ids = con.execute(f"SELECT id_key FROM ({base}){where}").fetchnumpy()["id_key"]
    finally:
        con.execute("SET preserve_insertion_order = false")
    ids = np.asarray(ids, dtype=np.int64)
    if len(ids) < 2 or bool((ids[1:] > ids[:-1]).all()):
        return False
    ordered = np.sort(ids)
    repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    if not len(repeated):
        return False
    con.register("repeated_ids", pd.DataFrame({"id_key": repeated}))
    con.execute(
        f"""CREATE TEMP TABLE repeated AS
            SELECT id_key, min(data_row) AS first_row FROM ({base})
            WHERE {valid} AND id_key IN (SELECT id_key FROM repeated_ids) GROUP BY id_key"""
    )
    con.unregister("repeated_ids")
    return True


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _write_quarantine(
    con: duckdb.DuckDBPyConnection,
    base: str,
    checks: list,
    flags: list[str],
    valid: str,
    file_name: str,
    path: Path,
    malformed: pd.DataFrame,
    columns: list[str],
    *,
    repeats: bool,
) -> None:
    """COPY the quarantined rows (file, data_row, reason, the contract's columns as text)."""
    reason = sql_reason([replace(c, value=_ident("v_" + c.column)) for c in checks], flags)
    if repeats:
        join = "LEFT JOIN repeated r USING (id_key)"
        repeated = f"(r.first_row IS NOT NULL AND b.data_row > r.first_row AND {valid})"
        repeat_reason = (
            f"CASE WHEN {repeated} THEN 'id ' || quote_text || "
            f"': duplicated identifier (first at data row ' || CAST(r.first_row AS VARCHAR) "
            f"|| ' of ' || {_quote(file_name)} || ')' END"
        ).replace("quote_text", "'''' || CAST(b.id_key AS VARCHAR) || ''''")
    else:
        join, repeated, repeat_reason = "", "FALSE", "NULL"
    con.register("malformed_rows", malformed)
    selected = ", ".join(f"b.{_ident('v_' + c)} AS {_ident(c)}" for c in columns)
    empty = ", ".join(f"'' AS {_ident(c)}" for c in columns)
    query = f"""
        SELECT {_quote(file_name)} AS file, b.data_row,
               concat_ws('; ', NULLIF({reason}, ''), {repeat_reason}) AS reason, {selected}
        FROM ({base}) b {join}
        WHERE NOT ({valid}) OR {repeated}
        UNION ALL
        SELECT {_quote(file_name)} AS file, CAST(data_row AS BIGINT), reason, {empty}
        FROM malformed_rows
        ORDER BY data_row"""
    con.execute(f"COPY ({query}) TO {_quote_path(path)} (FORMAT CSV, HEADER)")
