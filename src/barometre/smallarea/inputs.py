"""Input checks shared by the small-area estimators (and the count model): float arrays,
aligned pandas indexes, non-negative finite values, usable units."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


class SmallAreaWarning(UserWarning):
    """A statistical fallback happened (e.g. no between-unit variance detected): look at it."""


# --------------------------------------------------------------------------------------------
# Input helpers
# --------------------------------------------------------------------------------------------


def _as_float(values: Any, name: str) -> np.ndarray:
    """A 1-D float array; pandas NA and None become NaN."""
    array = np.asarray(pd.Series(values, copy=False).astype("float64"), dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def _common_index(n: int, *objects: Any) -> pd.Index:
    """Index of the pandas inputs (they must agree), else a RangeIndex of length n."""
    index: pd.Index | None = None
    for obj in objects:
        if isinstance(obj, pd.Series | pd.DataFrame):
            if index is None:
                index = obj.index
            elif not obj.index.equals(index):
                # Silent positional pairing of misaligned tables would mix communes up.
                raise ValueError("pandas inputs have different indexes: align them first")
    return index if index is not None else pd.RangeIndex(n)


def _check_lengths(**arrays: np.ndarray) -> int:
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"inputs have different lengths: {lengths}")
    return next(iter(lengths.values()))


def _check_non_negative(array: np.ndarray, name: str) -> None:
    if np.any(array[np.isfinite(array)] < 0):
        raise ValueError(f"{name} must be non-negative")
    if np.any(np.isinf(array)):
        raise ValueError(f"{name} must be finite (or missing)")


def _usable(counts: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """Units that carry information: a known count and a positive known exposure."""
    return np.isfinite(counts) & np.isfinite(exposure) & (exposure > 0)
