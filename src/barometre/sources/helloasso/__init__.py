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

The package: :mod:`~barometre.sources.helloasso.tables` (vocabularies, contracts, readers of
organisations and forms), :mod:`~barometre.sources.helloasso.participations` (the streamed
participations) and :mod:`~barometre.sources.helloasso.queries` (their DuckDB queries).
"""

from __future__ import annotations

from barometre.sources.helloasso.participations import (
    DONATION_FORM_TYPES,
    ParticipationSummary,
    participations_by_form,
    participations_by_organization,
)
from barometre.sources.helloasso.tables import (
    ASSOCIATION_TYPES,
    DEFAULT_FORM_STATES,
    DEFAULT_ITEM_STATES,
    FORM_STATES,
    FORM_TYPES,
    FORMS,
    FORMS_CONTRACT,
    ITEM_STATES,
    MIN_DATE,
    ORGANIZATION_TYPES,
    ORGANIZATIONS,
    ORGANIZATIONS_CONTRACT,
    PARTICIPATIONS,
    PARTICIPATIONS_CONTRACT,
    TIER_TYPES,
    read_checked,
    read_forms,
    read_organizations,
    table_path,
)

__all__ = [
    "ASSOCIATION_TYPES",
    "DEFAULT_FORM_STATES",
    "DEFAULT_ITEM_STATES",
    "DONATION_FORM_TYPES",
    "FORMS",
    "FORMS_CONTRACT",
    "FORM_STATES",
    "FORM_TYPES",
    "ITEM_STATES",
    "MIN_DATE",
    "ORGANIZATIONS",
    "ORGANIZATIONS_CONTRACT",
    "ORGANIZATION_TYPES",
    "PARTICIPATIONS",
    "PARTICIPATIONS_CONTRACT",
    "TIER_TYPES",
    "ParticipationSummary",
    "participations_by_form",
    "participations_by_organization",
    "read_checked",
    "read_forms",
    "read_organizations",
    "table_path",
]
