"""What a contract is: the :class:`Field` s of one input table and the :class:`Contract` that
lists them, with the bounds shared by every source (see :mod:`barometre.sources.contracts`)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import pandas as pd

Kind = Literal["text", "id", "code", "date", "datetime", "enum", "count", "latitude", "longitude"]

DEFAULT_MAX_QUARANTINE_SHARE = 0.10
"""Above this share of quarantined rows a file is unusable (it is probably misread)."""
MAX_ID = 999_999_999_999_999_999
"""Largest identifier accepted (18 digits: fits an int64 with room to spare)."""
PLATFORM_MAX_DATE = "2099-12-31"
TEXT_DTYPE = pd.StringDtype("pyarrow")
"""Dtype of the text columns handed over by the reader."""

_ID_PATTERN = r"[0-9]{1,18}"
_INTEGER_PATTERN = r"-?[0-9]{1,15}"
_DECIMAL_PATTERN = r"-?[0-9]{1,3}(?:[.,][0-9]+)?"


@dataclass(frozen=True)
class Field:
    """One column of a contract (see the module docstring); values are compared as text."""

    name: str
    kind: Kind = "text"
    required: bool = True
    """The column must be in the file (else a hard error); optional columns are read when present."""
    nullable: bool = False
    """An empty value is allowed."""
    values: tuple[str, ...] = ()
    """Allowed values (kind ``enum``)."""
    pattern: str | None = None
    """Full-match regular expression (kind ``code``)."""
    pattern_label: str = "a valid code"
    min_date: str | None = None
    max_date: str | None = None
    min_date_label: str = ""
    description: str = ""


@dataclass(frozen=True)
class Contract:
    """An input table: its fields, its key (unique identifier) and its CSV separator."""

    name: str
    fields: tuple[Field, ...]
    key: str | None = None
    sep: str = ","

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields if f.required]

    @property
    def optional(self) -> list[str]:
        return [f.name for f in self.fields if not f.required]

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def with_date_bounds(
        self, min_date: str | None = None, max_date: str | None = None
    ) -> Contract:
        """The contract with the date bounds of its date and date-time fields replaced where
        given (e.g. the RNA's upper bound is its extract's date)."""
        fields = tuple(
            replace(
                f,
                min_date=min_date if min_date is not None else f.min_date,
                max_date=max_date if max_date is not None else f.max_date,
            )
            if f.kind in ("date", "datetime")
            else f
            for f in self.fields
        )
        return replace(self, fields=fields)
