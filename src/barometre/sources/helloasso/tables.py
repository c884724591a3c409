"""HelloAsso layouts: the API v5 vocabularies, the contracts of the three tables and the readers
of the two small ones (organisations, forms), checked in memory."""

from __future__ import annotations

from pathlib import Path

from barometre.sources.common import SourceError
from barometre.sources.contracts import (
    DEFAULT_MAX_QUARANTINE_SHARE,
    PLATFORM_MAX_DATE,
    Checked,
    Contract,
    Field,
    apply_contract,
)
from barometre.sources.reading import read_table

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
