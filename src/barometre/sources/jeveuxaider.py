"""JeVeuxAider.gouv.fr extracts (missions and "mises en relation"): first-version loader.

Layouts (``data/README.md``), derived from the platform's data model (tables ``missions`` and
``participations``, a "mise en relation" being one row of ``participations``):

* ``jeveuxaider/missions.csv`` — one row per mission, located by ``postal_code`` + ``city``
  (+ ``department``, coordinates); remote missions ("Mission à distance") may have no place;
* ``jeveuxaider/participations.csv`` — one row per mise en relation: ``id``, ``mission_id``,
  ``state``, ``created_at``. Volunteers' profiles (names, e-mails, phones, birth dates,
  postcodes) are never read, even if an export carries them.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from barometre.sources import (
    DATETIME_PATTERN,
    SourceError,
    check_pattern,
    parse_ids,
    read_source_csv,
)

MISSIONS_FILE = "missions.csv"
PARTICIPATIONS_FILE = "participations.csv"

MISSION_COLUMNS = ("id", "postal_code", "city", "state", "created_at")
MISSION_OPTIONAL = (
    "structure_id", "structure_name", "name", "type", "department", "latitude", "longitude",
    "participations_max", "start_date", "end_date",
)  # fmt: skip
PARTICIPATION_COLUMNS = ("id", "mission_id", "state", "created_at")
PARTICIPATION_OPTIONAL = ("updated_at",)

MISSION_STATES = (
    "Brouillon", "En attente de validation", "En cours de traitement", "Validée", "Terminée",
    "Annulée", "Signalée",
)  # fmt: skip
PARTICIPATION_STATES = (
    "En attente de validation", "En cours de traitement", "Validée", "Refusée", "Annulée",
)  # fmt: skip
DEFAULT_PARTICIPATION_STATES = PARTICIPATION_STATES
"""Every mise en relation counts by default, as in the platform's public statistics
("participations" = all rows created in the period); an edition may narrow it (e.g. to
``Validée``) in its ``counted_states``."""


def read_missions(path: Path) -> pd.DataFrame:
    """Missions: ``id`` (int64, unique) and text columns; ``created_at`` checked (ISO 8601)."""
    frame = read_source_csv(path, MISSION_COLUMNS, MISSION_OPTIONAL, sep=",")
    check_pattern(frame, "created_at", DATETIME_PATTERN, path, "ISO 8601 date")
    frame["id"] = parse_ids(frame, "id", path)
    return frame


def read_participations(path: Path) -> pd.DataFrame:
    """Mises en relation: ``id`` (int64, unique), ``mission_id`` (int64), ``state``,
    ``created_at`` (checked ISO 8601, required)."""
    frame = read_source_csv(path, PARTICIPATION_COLUMNS, PARTICIPATION_OPTIONAL, sep=",")
    empty = frame["created_at"] == ""
    if empty.any():
        row = int(empty.to_numpy().argmax()) + 1
        raise SourceError(
            "missing creation date", file=path, row=row, column="created_at", value=""
        )
    check_pattern(frame, "created_at", DATETIME_PATTERN, path, "ISO 8601 date")
    frame["id"] = parse_ids(frame, "id", path)
    frame["mission_id"] = parse_ids(frame, "mission_id", path, unique=False)
    return frame
