"""What the command lines share: the one-line error exit and the options several commands take.

Used by :mod:`barometre.cli` and :mod:`barometre.consultation.cli`. Errors a user can fix are
printed as one line ``error: …`` and exit with status 2 (3 for an unexpected failure), never a
traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

MaxQuarantineShareOption = Annotated[
    float,
    typer.Option(
        "--max-quarantine-share",
        help="Share of quarantined rows above which the file is unusable.",
    ),
]
"""``--max-quarantine-share``: how many rows a contract check may set aside (default 0.10)."""

QuarantineOption = Annotated[
    Path | None,
    typer.Option(
        "--quarantine",
        help="Write the quarantined rows (CSV, with their reasons) to this path.",
    ),
]
"""``--quarantine``: where to write the rows a contract check set aside."""


def fail(message: str, code: int = 2) -> None:
    """Print a user-facing error and exit without a traceback."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def parse_departments(departments: str | None) -> list[str] | None:
    """The département codes of a ``--departments 59,62`` option (``None`` when not given);
    blanks between commas are dropped."""
    return [d.strip() for d in departments.split(",") if d.strip()] if departments else None
