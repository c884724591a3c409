"""Shared pieces of the batch steps: accepted methods, chunks of rows, groups of rows with the
same observed positions, compaction and its inverse."""

from __future__ import annotations

import numpy as np

TREAT_METHODS = ("none", "coinr_default", "log", "winsorise_quantiles")
NORMALISE_METHODS = (
    "none",
    "minmax",
    "zscore",
    "percentile_rank",
    "rank",
    "goalposts",
    "distance_to_max",
)
DEFAULT_CHUNK_ELEMENTS = 1 << 17  # ~1 MiB a float temporary: fastest here (cache)


# --- helpers ---------------------------------------------------------------------------------
def _as_matrix(x: np.ndarray) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 2:
        raise ValueError(f"expected a (runs x units) matrix, got shape {a.shape}")
    return a


def _chunks(n_rows: int, n_cols: int, chunk_elements: int) -> list[slice]:
    step = max(1, int(chunk_elements) // max(1, n_cols))
    return [slice(i, min(i + step, n_rows)) for i in range(0, n_rows, step)]


def _groups(block: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Rows of ``block`` grouped for compaction: (row indices, column indices).

    Column indices are 1-D (shared by every row of the group) or (rows × count), the observed
    positions of each row in their original order.
    """
    observed = ~np.isnan(block)
    rows = np.arange(block.shape[0])
    if (observed == observed[0]).all():
        return [(rows, np.flatnonzero(observed[0]))]
    counts = observed.sum(axis=1)
    # Stable sort of "missing" flags: observed positions first, in their original order.
    order = np.argsort(~observed, axis=1, kind="stable")
    out = []
    for count in np.unique(counts):
        members = rows[counts == count]
        out.append((members, order[members, :count]))
    return out


def _gather(block: np.ndarray, members: np.ndarray, cols: np.ndarray) -> np.ndarray:
    if cols.ndim == 1:
        return np.ascontiguousarray(block[np.ix_(members, cols)])
    return np.ascontiguousarray(np.take_along_axis(block[members], cols, axis=1))


def _scatter(out: np.ndarray, members: np.ndarray, cols: np.ndarray, values: np.ndarray) -> None:
    if cols.ndim == 1:
        out[np.ix_(members, cols)] = values
    else:
        out[members[:, None], cols] = values


def _scalar_pow(a: np.ndarray, p: float) -> np.ndarray:
    """``a[i] ** p`` with the C library's ``pow``, as the engine's scalar ``m2 ** p`` is."""
    return np.fromiter((v**p for v in a.tolist()), dtype=float, count=a.size)
