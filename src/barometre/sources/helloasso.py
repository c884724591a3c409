"""HelloAsso extracts (organisations, forms = campaigns, participations = items): first version.

Layouts (``data/README.md``), derived from the platform's API v5 data model:

* ``helloasso/organizations.csv`` — one row per organisation, located by ``postal_code`` +
  ``city`` like the platform (no INSEE code), optional coordinates and RNA number;
* ``helloasso/forms.csv`` — one row per form (campaign) with its ``form_type`` and ``state``;
* ``helloasso/participations.parquet`` — one row per item (membership, ticket, donation,
  product, payment line) with its ``state``; no personal column is ever read from it.

Participations can run to tens of millions of rows: they are aggregated by organisation with
DuckDB straight from the Parquet file (projection of the needed columns, 2 threads, bounded
memory), never loaded whole into pandas.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from barometre.sources import (
    DATETIME_PATTERN,
    SourceError,
    check_pattern,
    parse_ids,
    read_source_csv,
)

ORGANIZATIONS_FILE = "organizations.csv"
FORMS_FILE = "forms.csv"
PARTICIPATIONS_FILE = "participations.parquet"

ORGANIZATION_COLUMNS = ("id", "type", "postal_code", "city", "created_at")
ORGANIZATION_OPTIONAL = ("name", "rna_number", "category", "latitude", "longitude")
FORM_COLUMNS = ("form_id", "organization_id", "form_type", "state", "created_at")
FORM_OPTIONAL = ("title", "start_date", "end_date")
PARTICIPATION_COLUMNS = ("id", "form_id", "organization_id", "date", "state")
PARTICIPATION_OPTIONAL = ("amount_cents", "item_type")

FORM_TYPES = ("Membership", "Event", "Donation", "CrowdFunding", "Shop", "PaymentForm", "Checkout")
FORM_STATES = ("Public", "Private", "Draft", "Deleted", "Disabled")
ITEM_STATES = (
    "Waiting",
    "Processed",
    "Registered",
    "Deleted",
    "Unknown",
    "Canceled",
    "Refused",
    "Abandoned",
)
ASSOCIATION_TYPES = (
    "Association1901", "Association1901Rig", "Association1901Rup", "Association1905",
    "Association1905Rup", "Association1908", "Association1908Rig", "Association1908Rup",
    "AssociationMilitaire", "AssociationProprietaire",
)  # fmt: skip
"""Organisation types counted as associations (HelloAsso ``OrganizationType`` values whose name
starts with ``Association``; 1908 = associations of local law in Alsace-Moselle)."""

DEFAULT_FORM_STATES = ("Public", "Private", "Disabled")
"""A campaign counts once published (public or private link), even if closed since; drafts and
deleted forms do not."""
DEFAULT_ITEM_STATES = ("Processed", "Registered")
"""A participant counts when the item is paid (Processed) or a free registration (Registered)."""


def read_organizations(path: Path) -> pd.DataFrame:
    """Organisations: ``id`` (int64, unique) and text columns; dates checked (ISO 8601)."""
    frame = read_source_csv(path, ORGANIZATION_COLUMNS, ORGANIZATION_OPTIONAL, sep=",")
    check_pattern(frame, "created_at", DATETIME_PATTERN, path, "ISO 8601 date")
    frame["id"] = parse_ids(frame, "id", path)
    return frame


def read_forms(path: Path) -> pd.DataFrame:
    """Forms (campaigns): ``form_id`` (int64, unique), ``organization_id`` (int64), text columns."""
    frame = read_source_csv(path, FORM_COLUMNS, FORM_OPTIONAL, sep=",")
    check_pattern(frame, "created_at", DATETIME_PATTERN, path, "ISO 8601 date")
    frame["form_id"] = parse_ids(frame, "form_id", path)
    frame["organization_id"] = parse_ids(frame, "organization_id", path, unique=False)
    unknown = ~frame["form_type"].isin(FORM_TYPES)
    if unknown.any():
        row = int(unknown.to_numpy().argmax())
        raise SourceError(
            f"unknown form type (expected one of {list(FORM_TYPES)})",
            file=path, row=row + 1, column="form_type", value=frame["form_type"].iloc[row],
        )  # fmt: skip
    return frame


def participations_by_organization(
    path: Path, data_year: int, states: Sequence[str], memory_limit: str = "1GB"
) -> tuple[pd.DataFrame, int]:
    """Participations aggregated by organisation, streamed from Parquet with DuckDB.

    Returns (``organization_id``, ``rows``: all rows of the organisation, ``in_scope``: rows
    dated in ``data_year`` whose state is in ``states``) and the number of rows read. The date
    may be a timestamp or an ISO 8601 string; a value that is not a date raises
    :class:`SourceError` naming its row.
    """
    path = Path(path)
    if not path.is_file():
        raise SourceError("file not found", file=path)
    try:
        schema = pq.read_schema(path)
    except (OSError, ValueError, pa.ArrowException) as err:  # not a Parquet file
        raise SourceError(f"unreadable Parquet file: {err}", file=path) from None
    missing = [c for c in PARTICIPATION_COLUMNS if c not in schema.names]
    if missing:
        raise SourceError(f"missing column (found: {schema.names})", file=path, column=missing[0])
    con = duckdb.connect(":memory:")
    try:
        con.execute(
            f"SET threads = 2; SET memory_limit = '{memory_limit}'; SET preserve_insertion_order = false"
        )
        source = "read_parquet(?, file_row_number = true)"
        bad = con.execute(
            f"""SELECT file_row_number, CAST("date" AS VARCHAR) FROM {source}
                WHERE "date" IS NULL OR TRY_CAST("date" AS DATE) IS NULL
                   OR organization_id IS NULL LIMIT 1""",
            [str(path)],
        ).fetchone()
        if bad is not None:
            raise SourceError(
                "missing or invalid date or organization_id",
                file=path,
                row=int(bad[0]) + 1,
                column="date",
                value=bad[1],
            )
        start, end = f"{data_year:04d}-01-01", f"{data_year + 1:04d}-01-01"
        per_org = con.execute(
            f"""SELECT CAST(organization_id AS BIGINT) AS organization_id,
                       count(*) AS rows,
                       count(*) FILTER (WHERE CAST("date" AS DATE) >= CAST(? AS DATE)
                                          AND CAST("date" AS DATE) < CAST(? AS DATE)
                                          AND list_contains(?, CAST(state AS VARCHAR))) AS in_scope
                FROM {source} GROUP BY 1 ORDER BY 1""",
            [start, end, list(states), str(path)],
        ).df()
    except duckdb.Error as err:
        raise SourceError(f"cannot aggregate participations: {err}", file=path) from None
    finally:
        con.close()
    per_org = per_org.astype({"organization_id": "int64", "rows": "int64", "in_scope": "int64"})
    return per_org, int(per_org["rows"].sum())
