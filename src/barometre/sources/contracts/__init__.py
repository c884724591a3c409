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

The package, by concern: :mod:`~barometre.sources.contracts.model` (:class:`Field`,
:class:`Contract`), :mod:`~barometre.sources.contracts.checks` (row checks, pandera schema),
:mod:`~barometre.sources.contracts.quarantine` (applying a contract, quarantine, tolerance,
typed records), :mod:`~barometre.sources.contracts.sql` (the same checks in SQL) and
:mod:`~barometre.sources.contracts.frames` (frame contracts of the boundaries). The contracts
of each source live with its loader (:mod:`~barometre.sources.rna`, …).
"""

from __future__ import annotations

from barometre.sources.contracts.checks import (
    RowCheck,
    contract_checks,
    field_checks,
    sql_in,
    text_schema,
)
from barometre.sources.contracts.frames import (
    COMMUNE_CODE,
    COMMUNE_TABLE_SCHEMA,
    check_commune_table,
    counts_schema,
    first_line,
)
from barometre.sources.contracts.model import (
    DEFAULT_MAX_QUARANTINE_SHARE,
    MAX_ID,
    PLATFORM_MAX_DATE,
    TEXT_DTYPE,
    Contract,
    Field,
    Kind,
)
from barometre.sources.contracts.quarantine import (
    FAILURE_COLUMNS,
    Checked,
    accepted_schema,
    apply_contract,
    check_table,
    describe_reason,
    enforce_tolerance,
    quarantine_rows,
    summarise_failures,
    typed_records,
    unread_column_notes,
)
from barometre.sources.contracts.sql import (
    WHITESPACE,
    SqlCheck,
    sql_checks,
    sql_reason,
    sql_text,
    sql_value,
)

__all__ = [
    "COMMUNE_CODE",
    "COMMUNE_TABLE_SCHEMA",
    "DEFAULT_MAX_QUARANTINE_SHARE",
    "FAILURE_COLUMNS",
    "MAX_ID",
    "PLATFORM_MAX_DATE",
    "TEXT_DTYPE",
    "WHITESPACE",
    "Checked",
    "Contract",
    "Field",
    "Kind",
    "RowCheck",
    "SqlCheck",
    "accepted_schema",
    "apply_contract",
    "check_commune_table",
    "check_table",
    "contract_checks",
    "counts_schema",
    "describe_reason",
    "enforce_tolerance",
    "field_checks",
    "first_line",
    "quarantine_rows",
    "sql_checks",
    "sql_in",
    "sql_reason",
    "sql_text",
    "sql_value",
    "summarise_failures",
    "text_schema",
    "typed_records",
    "unread_column_notes",
]
