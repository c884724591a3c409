"""What every source module shares: the one exception of unusable inputs and the text conventions.

* :class:`SourceError` — a *hard* error: the input cannot be used as it is (file missing, empty,
  undecodable, wrong separator, missing column, truncated, too many rejected rows). Its message
  names the file, the data row (1-based, header excluded), the column and the value, so that
  a user can fix the file without reading a traceback. Row-level defects are not hard errors:
  such rows go to quarantine with their reason (:mod:`barometre.sources.contracts`).
* Patterns of the text values read from the extracts (every value is read as text).
"""

from __future__ import annotations

import re
from pathlib import Path

ENCODINGS = ("utf-8", "cp1252")
"""Encodings accepted, detected in this order: UTF-8 (with or without BOM), then Windows-1252
(older RNA dumps). ISO-8859-1 files are read as Windows-1252, its superset for printable text."""

PERSONAL_COLUMN_PATTERN = re.compile(
    r"(e-?mail|phone|mobile|telephone|first_?name|last_?name|prenom|birth|anniversaire|"
    r"payer|benevole|declarant|profile_id)",
    re.IGNORECASE,
)
"""Column names treated as personal data: never read, never written (issue 8's rule)."""

DATE_PATTERN = r"\d{4}-\d{2}-\d{2}"
"""ISO 8601 calendar date as written in the extracts (``YYYY-MM-DD``)."""
DATETIME_PATTERN = (
    r"\d{4}-\d{2}-\d{2}(?:[ T](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?)?"
    r"(?:Z|[+-]\d{2}(?::?\d{2})?)?"
)
"""ISO 8601 date or date-time: ``T`` or a space before the time, optional seconds, fractions and
UTC offset (``Z``, ``+01:00``, ``+0100``, ``+01``). The year is read from the date as written."""
NO_DATE = "0001-01-01"
"""The RNA's sentinel for "no date" (e.g. the dissolution date of a living association)."""

# Paris, Lyon and Marseille arrondissements municipaux → their commune (INSEE codes).
PLM_ARRONDISSEMENTS: dict[str, str] = {
    **{f"751{n:02d}": "75056" for n in range(1, 21)},
    **{f"6938{n}": "69123" for n in range(1, 10)},
    **{f"132{n:02d}": "13055" for n in range(1, 17)},
}


class SourceError(ValueError):
    """An input that cannot be used as it is; the message says where and why.

    ``row`` is the 1-based data row (the header is not counted; blank lines are skipped, so
    data row 1 is the first record after the header).
    """

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        self.value = value
        self.reason = message
        where = []
        if file is not None:
            where.append(f"file {Path(file).name}")
        if row is not None:
            where.append(f"data row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        if value is not None:
            where.append(f"value {value!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
