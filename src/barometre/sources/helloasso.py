"""HelloAsso extracts: organisations, forms (campaigns) and participations (items).

Layouts (``data/README.md``), derived from the platform's API v5 data model (summary in
``../shared/data/helloasso/HELLOASSO_SCHEMA.md``); each table may come as CSV (``,``, UTF-8 or
Windows-1252) or Parquet:

* ``helloasso/organizations.{csv,parquet}`` — one row per organisation, located by
  ``postal_code`` + ``city`` as on the platform (no INSEE code), optional RNA number and
  coordinates;
* ``helloasso/forms.{csv,parquet}`` — one row per form (campaign) with type, state and date;
* ``helloasso/participations.{parquet,csv}`` — one row per item (membership, ticket,
  donation, product or payment line) with its state; no payer or beneficiary column is read.

Participations run to tens of millions of rows: :func:`participations_by_organization`
checks their contract and aggregates them by organisation with DuckDB, streaming from the
file (projection of the contract's columns, 2 threads, a memory limit, spilling to a private
temporary folder), never loading them whole. A CSV file is first copied, streaming, to a
temporary Parquet file that keeps each record's data row.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from barometre.sources.common import SourceError
from barometre.sources.contracts import (
    DEFAULT_MAX_QUARANTINE_SHARE,
    PLATFORM_MAX_DATE,
    Checked,
    Contract,
    Field,
    SqlCheck,
    apply_contract,
    enforce_tolerance,
    sql_checks,
    sql_in,
    sql_reason,
    sql_value,
)
from barometre.sources.reading import (
    check_header,
    classify_columns,
    malformed_frame,
    parquet_schema,
    read_table,
    stream_csv_to_parquet,
)

ORGANIZATIONS = "organizations"
FORMS = "forms"
PARTICIPATIONS = "participations"

ORGANIZATION_TYPES = (
    "Association1901Rig", "Association1901Rup", "Association1901", "FondationRup",
    "FondDotation", "FondationSousEgide", "FondationScientifique", "FondationPartenariale",
    "FondationUniversitaire", "FondationHospitaliere", "Association1905", "Association1905Rup",
    "Entreprise", "Cooperative", "Etablissement", "Association1908", "Association1908Rig",
    "Association1908Rup", "AssociationMilitaire", "AssociationProprietaire", "Collectivités",
    "ComiteEntreprise", "CSE", "FabriqueEglise", "FondsPerenite", "GIE", "GIP", "MenseCuriale",
    "SCIC", "SCOP", "Autres",
)  # fmt: skip
"""``OrganizationType`` values of the API v5."""
ASSOCIATION_TYPES = tuple(t for t in ORGANIZATION_TYPES if t.startswith("Association"))
"""Organisation types counted as associations by default (1908 = local law of Alsace-Moselle)."""
FORM_TYPES = ("Membership", "Event", "Donation", "CrowdFunding", "Shop", "PaymentForm", "Checkout")
FORM_STATES = ("Public", "Private", "Draft", "Deleted", "Disabled")
ITEM_STATES = ("Waiting", "Processed", "Registered", "Deleted", "Unknown", "Canceled", "Refused", "Abandoned")  # fmt: skip
TIER_TYPES = (
    "Donation", "Payment", "Registration", "Membership", "MonthlyDonation", "MonthlyPayment",
    "OfflineDonation", "Contribution", "Bonus", "Product",
)  # fmt: skip

DEFAULT_FORM_STATES = ("Public", "Private", "Disabled")
"""A campaign counts once published (public or private link), even if closed since; drafts and
deleted forms do not."""
DEFAULT_ITEM_STATES = ("Processed", "Registered")
"""A participant counts when the item is paid (Processed) or a free registration (Registered)."""

MIN_DATE = "2008-01-01"
_DATES = {"min_date": MIN_DATE, "max_date": PLATFORM_MAX_DATE, "min_date_label": "before HelloAsso existed"}  # fmt: skip

ORGANIZATIONS_CONTRACT = Contract(
    name="helloasso_organizations",
    key="id",
    fields=(
        Field("id", "id", description="organisation id (join key of forms and participations)"),
        Field("type", "enum", values=ORGANIZATION_TYPES, description="OrganizationType"),
        Field("postal_code", nullable=True, description="postcode as typed on the platform"),
        Field("city", nullable=True, description="city as typed on the platform"),
        Field("created_at", "datetime", description="account creation", **_DATES),
        Field("name", required=False, nullable=True),
        Field("rna_number", required=False, nullable=True, description="RNA number when known"),
        Field("category", required=False, nullable=True, description="JO category"),
        Field("latitude", "latitude", required=False, nullable=True),
        Field("longitude", "longitude", required=False, nullable=True),
    ),
)
FORMS_CONTRACT = Contract(
    name="helloasso_forms",
    key="form_id",
    fields=(
        Field("form_id", "id"),
        Field("organization_id", "id", description="owner (organizations.id)"),
        Field("form_type", "enum", values=FORM_TYPES),
        Field("state", "enum", values=FORM_STATES),
        Field("created_at", "datetime", description="creation of the form", **_DATES),
        Field("title", required=False, nullable=True),
        Field("start_date", "datetime", required=False, nullable=True, max_date=PLATFORM_MAX_DATE),
        Field("end_date", "datetime", required=False, nullable=True, max_date=PLATFORM_MAX_DATE),
    ),
)
PARTICIPATIONS_CONTRACT = Contract(
    name="helloasso_participations",
    key="id",
    fields=(
        Field("id", "id", description="item id"),
        Field("form_id", "id", description="form (forms.form_id)"),
        Field("organization_id", "id", description="organisation (organizations.id)"),
        Field("date", "datetime", description="date of the order", **_DATES),
        Field("state", "enum", values=ITEM_STATES, description="ItemState"),
        Field(
            "amount_cents", "count", required=False, nullable=True, description="amount in cents"
        ),
        Field(
            "item_type",
            "enum",
            values=TIER_TYPES,
            required=False,
            nullable=True,
            description="TierType",
        ),
    ),
)


def table_path(folder: Path, stem: str) -> Path:
    """``<folder>/<stem>.parquet`` or ``<stem>.csv``: exactly one of them must exist."""
    candidates = [p for p in (folder / f"{stem}.parquet", folder / f"{stem}.csv") if p.is_file()]
    if not candidates:
        raise SourceError(
            f"file not found (expected {stem}.csv or {stem}.parquet)", file=folder / f"{stem}.csv"
        )
    if len(candidates) > 1:
        raise SourceError(f"both {stem}.csv and {stem}.parquet are present: keep one", file=folder)
    return candidates[0]


def read_checked(
    path: Path, contract: Contract, max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE
) -> Checked:
    """Read one table (CSV or Parquet) and apply its contract."""
    raw = read_table(path, contract.required, contract.optional, sep=contract.sep)
    return apply_contract(
        [(raw, Path(path).name)], contract, max_quarantine_share=max_quarantine_share
    )


def read_organizations(
    path: Path, max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE
) -> Checked:
    """Organisations, checked (:data:`ORGANIZATIONS_CONTRACT`)."""
    return read_checked(path, ORGANIZATIONS_CONTRACT, max_quarantine_share)


def read_forms(path: Path, max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE) -> Checked:
    """Forms (campaigns), checked (:data:`FORMS_CONTRACT`)."""
    return read_checked(path, FORMS_CONTRACT, max_quarantine_share)


# --------------------------------------------------------------------------------------------
# Participations: streamed contract checks and aggregation with DuckDB


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


def _ident(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


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
    if not re.fullmatch(r"\d+(?:\.\d+)?\s*(?:[KMGT]i?B)", memory_limit):
        raise ValueError(f"memory_limit must look like '1GB' or '512MiB', got {memory_limit!r}")
    if int(threads) < 1:
        raise ValueError("threads must be at least 1")
    contract = PARTICIPATIONS_CONTRACT
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="barometre-participations-") as tmp:
        if path.suffix.lower() == ".parquet":
            schema = parquet_schema(path)
            units = {f.name: f.type.unit for f in schema if pa.types.is_timestamp(f.type)}
            check_header(path, schema.names, contract.required, ",")
            ignored, personal = classify_columns(schema.names, contract.columns)
            source = f"read_parquet({_quote_path(path)}, file_row_number = true)"
            data_row = "file_row_number + 1"
            malformed = malformed_frame([], [])
            encoding = "parquet"
            if personal:
                notes.append(f"personal columns not read: {', '.join(personal)}")
            if ignored:
                notes.append(f"columns outside the contract, ignored: {', '.join(ignored)}")
        else:
            streamed = stream_csv_to_parquet(
                path, Path(tmp) / "participations.parquet", contract.required, contract.optional, sep=contract.sep
            )  # fmt: skip
            units = {}
            source = f"read_parquet({_quote_path(streamed.parquet)})"
            data_row = "_data_row"
            malformed = streamed.malformed
            encoding = streamed.encoding
            if streamed.personal_columns:
                notes.append(f"personal columns not read: {', '.join(streamed.personal_columns)}")
            if streamed.ignored_columns:
                notes.append(
                    f"columns outside the contract, ignored: {', '.join(streamed.ignored_columns)}"
                )
        con = duckdb.connect(":memory:")
        try:
            spill = Path(tmp) / "spill"
            con.execute(f"SET threads = {int(threads)}")
            con.execute(f"SET memory_limit = '{memory_limit}'")
            con.execute("SET preserve_insertion_order = false")
            con.execute(f"SET temp_directory = {_quote_path(spill)}")
            described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
            types = {name: kind for name, kind, *_ in described if name in contract.columns}
            summary = _aggregate(
                con, source, data_row, types, contract, data_year, states, path.name,
                quarantine_path, malformed, stripped=path.suffix.lower() != ".parquet",
                units=units,
            )  # fmt: skip
        except duckdb.Error as err:
            raise SourceError(f"cannot aggregate participations: {err}", file=path) from None
        finally:
            con.close()
    summary.notes = notes
    summary.encoding = encoding
    try:
        enforce_tolerance(
            path, summary.rows_read, summary.quarantined, summary.reasons, max_quarantine_share
        )
    except SourceError:
        if quarantine_path is not None:
            Path(quarantine_path).unlink(missing_ok=True)
        raise
    return summary


def _quote_path(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


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
    base, checks, flags = _base_query(
        source, data_row, types, contract, stripped=stripped, units=units or {}
    )
    valid = " AND ".join(flags) if flags else "TRUE"
    columns = [c for c in contract.columns if c in types]
    scope = f"item_year = {int(data_year)} AND {sql_in('state_text', states)}"
    # The one pass over the file: the row checks and the counts, grouped by (organisation,
    # form); the per-organisation table sums it. Which check failed, and where, is asked only
    # when a row failed one.
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
    rows_in_file = int(per_org["n_rows"].sum())
    failing_rows = rows_in_file - int(per_org["accepted"].sum())
    # Repeated item ids among valid rows: the first occurrence is kept.
    has_repeats = _find_repeated_ids(con, base, valid, filtered=bool(failing_rows))
    later = (
        f"FROM ({base}) b JOIN repeated r USING (id_key) WHERE {valid} AND b.data_row > r.first_row"
    )
    repeats = con.execute(
        f"SELECT org_key, form_key, count(*) AS n, count(*) FILTER (WHERE {scope}) AS n_scope "
        f"{later} GROUP BY org_key, form_key"
    ).df() if has_repeats else pd.DataFrame(columns=["org_key", "form_key", "n", "n_scope"])  # fmt: skip
    n_repeats = int(repeats["n"].sum())
    reasons: list[tuple[str, str, int, str]] = []
    if failing_rows or n_repeats:
        # The quarantined rows are copied aside (a few at most, else the file is refused):
        # their values as text, which check failed and why are computed on them only.
        raw = ", ".join(f"b.{_ident(c)}" for c in columns)
        parts = [f"SELECT {raw}, b.data_row FROM ({base}) b WHERE NOT ({valid})"] if failing_rows else []  # fmt: skip
        parts += [f"SELECT {raw}, b.data_row {later}"] if n_repeats else []
        con.execute(f"CREATE TEMP TABLE quarantined AS {' UNION ALL '.join(parts)}")
        base, _, _ = _base_query(
            "quarantined", "data_row", types, contract, stripped=stripped, units=units or {}
        )
        later = f"FROM ({base}) b JOIN repeated r USING (id_key) WHERE {valid} AND b.data_row > r.first_row"  # fmt: skip
    if failing_rows:
        reasons = _check_reasons(con, base, checks, flags, file_name)
    if n_repeats:
        row, value = con.execute(
            f"SELECT b.data_row, CAST(b.id_key AS VARCHAR) {later} ORDER BY b.data_row LIMIT 1"
        ).fetchall()[0]
        example = f"data row {row} of {file_name} ({value!r})"
        reasons.append(("id", "duplicated identifier", n_repeats, example))
    for message, group in malformed.groupby("reason", sort=False):
        example = f"data row {int(group['data_row'].iloc[0])} of {file_name}"
        reasons.append(("", str(message), len(group), example))
    reason_frame = pd.DataFrame(reasons, columns=["column", "message", "rows", "examples"])
    reason_frame = reason_frame.sort_values(
        ["rows", "column", "message"], ascending=[False, True, True], kind="mergesort"
    ).reset_index(drop=True)
    quarantined = failing_rows + n_repeats + len(malformed)
    if quarantine_path is not None and quarantined:
        _write_quarantine(
            con, base, checks, flags, valid, file_name, quarantine_path, malformed, columns,
            repeats=bool(n_repeats),
        )  # fmt: skip
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
    if n_repeats:
        repeats = repeats.astype({"org_key": "int64", "form_key": "int64"})
        by_org = repeats.groupby("org_key")[["n", "n_scope"]].sum()
        result["rows"] -= by_org["n"].reindex(result.index, fill_value=0)
        result["in_scope"] -= by_org["n_scope"].reindex(result.index, fill_value=0)
        by_form = repeats.set_index(["org_key", "form_key"])["n_scope"]
        by_form.index = by_form.index.set_names(["organization_id", "form_id"])
        forms["in_scope"] -= by_form.reindex(forms.index, fill_value=0)
    result = result.astype("int64").sort_index().reset_index()
    forms = forms[forms["in_scope"] > 0].astype("int64").sort_index().reset_index()
    return ParticipationSummary(
        file=file_name,
        per_org=result,
        rows_read=rows_in_file + len(malformed),
        quarantined=quarantined,
        reasons=reason_frame,
        per_form=forms,
    )


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
        con.execute(f"SET threads = {int(threads)}")
        con.execute(f"SET memory_limit = '{memory_limit}'")
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
