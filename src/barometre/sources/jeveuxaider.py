"""JeVeuxAider.gouv.fr extracts: missions and participations ("mises en relation").

Layouts (``data/README.md``), derived from the platform's data model (tables ``missions`` and
``participations``, summary in ``../shared/data/jeveuxaider/JEVEUXAIDER_DATA_MODEL.md``); each
table may come as CSV (``,``) or Parquet:

* ``jeveuxaider/missions.{csv,parquet}`` — one row per mission, located by ``postal_code`` +
  ``city`` (+ ``department``, coordinates); remote missions ("Mission à distance") may have no
  place and cannot be placed;
* ``jeveuxaider/participations.{csv,parquet}`` — one row per mise en relation: ``id``,
  ``mission_id``, ``state``, ``created_at``. Volunteers' profiles (names, e-mails, phones,
  birth dates, postcodes) are never read, even when a back-office export carries them.
"""

from __future__ import annotations

from pathlib import Path

from barometre.sources.contracts import (
    DEFAULT_MAX_QUARANTINE_SHARE,
    PLATFORM_MAX_DATE,
    Checked,
    Contract,
    Field,
)
from barometre.sources.helloasso import read_checked

MISSIONS = "missions"
PARTICIPATIONS = "participations"

MISSION_STATES = (
    "Brouillon", "En attente de validation", "En cours de traitement", "Validée", "Terminée",
    "Annulée", "Signalée",
)  # fmt: skip
MISSION_TYPES = ("Mission en présentiel", "Mission à distance")
PARTICIPATION_STATES = (
    "En attente de validation", "En cours de traitement", "Validée", "Refusée", "Annulée",
)  # fmt: skip
DEFAULT_PARTICIPATION_STATES = PARTICIPATION_STATES
"""Every mise en relation counts by default, as in the platform's public statistics
("participations" = all rows created in the period); an edition may narrow it (e.g. to
``Validée``) in its ``counted_states``."""

MIN_DATE = "2016-01-01"
"""JeVeuxAider opened in March 2020 on the base of the Réserve civique platform (2017): older
dates are out of range."""
_DATES = {"min_date": MIN_DATE, "max_date": PLATFORM_MAX_DATE, "min_date_label": "before the platform existed"}  # fmt: skip

MISSIONS_CONTRACT = Contract(
    name="jeveuxaider_missions",
    key="id",
    fields=(
        Field("id", "id", description="mission id"),
        Field("postal_code", nullable=True, description="mission's postcode (empty when remote)"),
        Field("city", nullable=True, description="mission's city"),
        Field("state", "enum", values=MISSION_STATES),
        Field("created_at", "datetime", description="creation", **_DATES),
        Field("structure_id", "id", required=False, nullable=True),
        Field("structure_name", required=False, nullable=True),
        Field("name", required=False, nullable=True),
        Field("type", "enum", values=MISSION_TYPES, required=False, nullable=True),
        Field("department", required=False, nullable=True),
        Field("latitude", "latitude", required=False, nullable=True),
        Field("longitude", "longitude", required=False, nullable=True),
        Field("participations_max", "count", required=False, nullable=True, description="places offered"),
        Field("start_date", "datetime", required=False, nullable=True, max_date=PLATFORM_MAX_DATE),
        Field("end_date", "datetime", required=False, nullable=True, max_date=PLATFORM_MAX_DATE),
    ),
)  # fmt: skip
PARTICIPATIONS_CONTRACT = Contract(
    name="jeveuxaider_participations",
    key="id",
    fields=(
        Field("id", "id", description="mise en relation id"),
        Field("mission_id", "id", description="mission (missions.id)"),
        Field("state", "enum", values=PARTICIPATION_STATES),
        Field("created_at", "datetime", description="application date", **_DATES),
        Field("updated_at", "datetime", required=False, nullable=True, **_DATES),
    ),
)


def read_missions(
    path: Path, max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE
) -> Checked:
    """Missions, checked (:data:`MISSIONS_CONTRACT`)."""
    return read_checked(path, MISSIONS_CONTRACT, max_quarantine_share)


def read_participations(
    path: Path, max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE
) -> Checked:
    """Mises en relation, checked (:data:`PARTICIPATIONS_CONTRACT`)."""
    return read_checked(path, PARTICIPATIONS_CONTRACT, max_quarantine_share)
