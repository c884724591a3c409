"""Batch normalisation of many rows at once (see :mod:`barometre.robustness.batch`)."""

from __future__ import annotations

import numpy as np

from barometre.composite.steps import StepError
from barometre.robustness.batch.common import (
    DEFAULT_CHUNK_ELEMENTS,
    NORMALISE_METHODS,
    _as_matrix,
    _chunks,
)


# --- normalise -------------------------------------------------------------------------------
def _average_ranks(v: np.ndarray) -> np.ndarray:
    """Ascending ranks of each row, ties averaged, NaN kept (``Series.rank(method="average")``).

    One ``argsort`` per row (NaN sorts last); tie groups are runs of equal sorted values, found
    on the flattened block (every row starts a group); a group starting at position ``f`` of
    its row with ``l`` members gets the rank f + (l + 1)/2, the exact half-integer pandas gets
    from the sum of the members' ranks over ``l``.
    """
    k, m = v.shape
    order = np.argsort(v, axis=1)
    s = np.take_along_axis(v, order, axis=1)
    new = np.empty((k, m), dtype=bool)
    new[:, 0] = True
    np.not_equal(s[:, 1:], s[:, :-1], out=new[:, 1:])
    starts = np.flatnonzero(new)
    lengths = np.diff(starts, append=k * m)
    ranks_sorted = np.repeat(starts % m + (lengths + 1) / 2.0, lengths)
    ranks_sorted[np.isnan(s).ravel()] = np.nan
    order += (np.arange(k) * m)[:, None]
    ranks = np.empty(k * m)
    ranks[order.ravel()] = ranks_sorted
    return ranks.reshape(k, m)


def _normalise_block(
    v: np.ndarray,
    method: str,
    direction: int,
    low: float,
    high: float,
    mean: float,
    sd: float,
    scale: float,
    goalposts: tuple[float, float] | None,
    first_row: int,
) -> np.ndarray:
    if method == "distance_to_max":
        if direction == 1:
            ref = np.where(np.isnan(v), -np.inf, v).max(axis=1)
        elif direction == -1:
            ref = np.where(np.isnan(v), np.inf, v).min(axis=1)
        else:
            raise StepError(f"distance_to_max: direction {direction} is neither 1 nor -1")
        bad = np.isinf(ref) | (ref == 0)
        if bad.any():
            raise StepError(
                f"rows {(np.flatnonzero(bad) + first_row).tolist()[:10]}: reference value "
                f"{ref[bad][0]} cannot divide"
            )
        if direction == 1:
            return v / ref[:, None] * scale
        with np.errstate(divide="ignore"):
            return ref[:, None] / np.where(v != 0, v, np.nan) * scale
    if method == "goalposts":
        if goalposts is None:
            raise StepError("goalpost normalisation needs goalposts")
        lo, hi = goalposts
        frac = (v - lo) / (hi - lo) if direction == 1 else (hi - v) / (hi - lo)
        return np.clip(frac, 0, 1) * scale
    v = v * direction
    if method == "none":
        return v
    missing = np.isnan(v)
    if method == "minmax":
        with np.errstate(invalid="ignore"):
            vmin = np.where(missing, np.inf, v).min(axis=1)
            vmax = np.where(missing, -np.inf, v).max(axis=1)
            empty = missing.all(axis=1)
            vmin[empty] = np.nan
            vmax[empty] = np.nan
            constant = vmax == vmin
            span = np.where(constant, 1.0, vmax - vmin)
            out = (v - vmin[:, None]) / span[:, None] * (high - low) + low
        out[constant] = np.where(missing[constant], np.nan, (low + high) / 2)
        return out
    if method == "zscore":
        # pandas' Series.mean and Series.std(ddof=1) (nanops.nanmean, two-pass nanops.nanvar).
        filled = np.where(missing, 0.0, v)
        count = (~missing).sum(axis=1).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            avg = filled.sum(axis=1) / count
            sqr = (avg[:, None] - filled) ** 2
            sqr[missing] = 0.0
            d = np.where(count <= 1, np.nan, count - 1.0)
            spread = np.sqrt(sqr.sum(axis=1) / d)
            flat = ~(spread > 0)
            safe = np.where(flat, 1.0, spread)
            out = (v - avg[:, None]) / safe[:, None] * sd + mean
        out[flat] = np.where(missing[flat], np.nan, mean)
        return out
    if method in {"percentile_rank", "rank"}:
        ranks = _average_ranks(v)
        if method == "rank":
            return ranks
        n = (~missing).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (ranks - 0.5) / n[:, None] * scale
    raise StepError(f"unknown normalisation method {method!r}")


def normalise_batch(
    x: np.ndarray,
    method: str,
    *,
    direction: int = 1,
    low: float = 0.0,
    high: float = 100.0,
    mean: float = 0.0,
    sd: float = 1.0,
    scale: float = 100.0,
    goalposts: tuple[float, float] | None = None,
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
) -> np.ndarray:
    """Normalise every row of ``x`` (runs × units) as the engine normalises one indicator.

    Row ``i`` of the result equals ``steps.normalise_column(pd.Series(x[i]), method, ...)`` for
    ``method`` in ``none``, ``minmax``, ``zscore``, ``percentile_rank``, ``rank``, ``goalposts``
    and ``distance_to_max`` (see :func:`~barometre.composite.steps.normalise_column`). A row whose
    ``distance_to_max`` reference is missing or zero raises :class:`StepError`, as the engine does.
    """
    a = _as_matrix(x)
    if method == "distance_to_reference":
        raise NotImplementedError("normalise_batch: distance_to_reference is not vectorised")
    if method not in NORMALISE_METHODS:
        raise StepError(f"unknown normalisation method {method!r}")
    out = np.empty_like(a)
    if a.size == 0:
        return out
    for rows in _chunks(a.shape[0], a.shape[1], chunk_elements):
        block = np.ascontiguousarray(a[rows])
        out[rows] = _normalise_block(
            block, method, direction, low, high, mean, sd, scale, goalposts, rows.start
        )
    return out
