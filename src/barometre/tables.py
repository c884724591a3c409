"""Saving and reading the build's tables: declared keys checked unique, atomic, deterministic.

Every table written into a build folder goes through :func:`save_table` (owid/etl's rule: a
table refuses duplicate keys when saved). Floats are written with their shortest round-trip
representation and rows in key order, so that two builds give byte-identical files.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from barometre.io import atomic_write_text


class TableError(ValueError):
    """A table that breaks its declared contract (duplicate or missing keys)."""


def save_table(
    table: pd.DataFrame, path: Path, key: Sequence[str] | None = None, sort: bool = True
) -> Path:
    """Write ``table`` as CSV at ``path`` after checking that ``key`` is unique and complete."""
    frame = table.reset_index() if table.index.name is not None else table
    if key:
        missing = [k for k in key if k not in frame.columns]
        if missing:
            raise TableError(f"{path.name}: key columns {missing} absent")
        if frame[list(key)].isna().any().any():
            raise TableError(f"{path.name}: empty key values")
        duplicated = frame.duplicated(list(key), keep=False)
        if duplicated.any():
            # native Python values: the message reads {'year': 2023}, not np.int64(2023)
            example = frame.loc[duplicated, list(key)].head(1).to_dict("records")[0]
            raise TableError(f"{path.name}: duplicated key {example}")
        if sort:
            frame = frame.sort_values(list(key), kind="mergesort")
    atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"))
    return path


def read_table(
    path: Path, text_columns: Sequence[str] = ("code_commune", "code_departement", "code_region")
) -> pd.DataFrame:
    """Read a build table; commune, department and region codes stay text (``2A004``, ``01``)."""
    header = pd.read_csv(path, nrows=0).columns
    dtype = {c: str for c in text_columns if c in header}
    return pd.read_csv(path, dtype=dtype, keep_default_na=False, na_values=[""])
