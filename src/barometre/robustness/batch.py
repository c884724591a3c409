"""Outlier treatment and normalisation of many datasets of one indicator at once.

The uncertainty analysis evaluates thousands of runs, each on its own posterior draw of the
data. :func:`treat_batch` and :func:`normalise_batch` take a (runs × units) matrix whose rows are
independent datasets of ONE indicator (NaN = missing) and return, row for row, what the engine's
:func:`~barometre.composite.steps.treat_indicator` and
:func:`~barometre.composite.steps.normalise_column` return for that row alone, vectorised across
rows.

Exactness. The outlier rule takes discrete decisions (pass the skew/kurtosis check or not, which
end to winsorise) on floating-point statistics that can sit exactly on a threshold: four values
``[0, 0, 0, 1]`` have a type-2 skewness of 2 up to rounding, the default threshold. The batch
functions therefore reproduce the engine's arithmetic operation for operation rather than
approximate it:

- each row is *compacted* (its observed values, in their original order, side by side), so that
  the row-wise ``np.sum(…, axis=1)`` of a C-contiguous block runs numpy's pairwise summation over
  exactly the array the engine sums — same blocks, same rounding;
- ``d**2``, ``d**3``, ``d**4``, ``np.log`` are the same array ufuncs as in the engine (on this
  machine ``np.power`` of an array goes through SIMD code that differs from the C library's
  ``pow`` in the last bit for ~5 % of inputs, and the engine raises arrays to powers too);
- the engine raises the SCALAR ``m2`` to the powers 1.5 and 2 (``m2**1.5``, ``m2**2`` on a numpy
  scalar, i.e. the C library's ``pow``), which the vectorised ``np.power`` would not reproduce
  bit for bit; these two powers are taken per row with Python floats (same ``pow``): a
  comprehension over one scalar per row, negligible next to the (rows × units) work;
- the normalisations follow pandas' reductions (``Series.mean``/``std`` sum the row with zeros
  in place of the missing values, ``std`` is the two-pass ``nanvar``; ranks are averaged the way
  ``Series.rank(method="average")`` averages them).

The results are in fact bit-identical to the engine's (``tests/test_batch_steps.py`` checks them
at 1e-12 relative, and equal NaN masks).

Vectorisation. Rows are processed in chunks of about ``chunk_elements`` values (temporaries are
a few times that many floats, whatever the number of runs). Within a chunk, rows whose observed
positions are the same (the common case: the NaN pattern of an indicator does not depend on the
draw) are handled as one block; otherwise rows are grouped by their NUMBER of observed values
(compaction makes rows with the same count the same shape). The only per-row Python loop is
therefore this fallback: a chunk whose rows all have different numbers of observed values is
processed group by group, i.e. row by row — correct, just not vectorised. The stepwise
winsorisation iterates over steps, not rows: each step works on the block of rows still failing
the check, with row-wise masked reductions for the current extreme and the next distinct value.

Not covered: Box–Cox (``NotImplementedError``), ``distance_to_reference`` (needs a reference
unit, ``NotImplementedError``); infinite values are not supported (the engine's statistics are
not meaningful with them either).
"""

from __future__ import annotations

import numpy as np

from barometre.composite.steps import StepError

__all__ = ["normalise_batch", "treat_batch", "type2_moments"]

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
DEFAULT_CHUNK_ELEMENTS = 1 << 20


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


# --- moments ---------------------------------------------------------------------------------
def type2_moments(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Type-2 skewness and excess kurtosis of each row of a compact (rows × n) block.

    ``c`` holds observed values only (no NaN), every row with the same count ``n``; the results
    equal :func:`~barometre.composite.steps.skewness` and
    :func:`~barometre.composite.steps.kurtosis` of each row bit for bit (NaN for n < 3 resp.
    n < 4, or zero spread).
    """
    c = np.ascontiguousarray(c, dtype=float)
    k, n = c.shape
    skew = np.full(k, np.nan)
    kurt = np.full(k, np.nan)
    if n < 3 or k == 0:
        return skew, kurt
    mean = c.sum(axis=1) / n
    d = c - mean[:, None]
    m2 = np.sum(d**2, axis=1)
    ok = m2 != 0
    if not ok.any():
        return skew, kurt
    if not ok.all():
        d, m2 = d[ok], m2[ok]
    # Quiet, not different: tiny (underflowing) spreads give 0/0 = NaN as in the engine.
    with np.errstate(all="ignore"):
        s3 = np.sum(d**3, axis=1)
        g1 = np.sqrt(n) * s3 / _scalar_pow(m2, 1.5)
        skew[ok] = g1 * np.sqrt(n * (n - 1)) / (n - 2)
        if n >= 4:
            s4 = np.sum(d**4, axis=1)
            r = n * s4 / _scalar_pow(m2, 2)
            kurt[ok] = ((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3))
    return skew, kurt


def _passes(
    skew: np.ndarray, kurt: np.ndarray, skew_threshold: float, kurt_threshold: float
) -> np.ndarray:
    """Vectorised :func:`~barometre.composite.steps.passes_skew_kurt`."""
    undefined = np.isnan(skew) | np.isnan(kurt)
    with np.errstate(invalid="ignore"):
        return undefined | (np.abs(skew) < skew_threshold) | (kurt < kurt_threshold)


# --- outlier treatment -----------------------------------------------------------------------
def _log_transform(c: np.ndarray, skew: np.ndarray) -> np.ndarray:
    """Row-wise :func:`~barometre.composite.steps.log_transform` of a compact block."""
    lo, hi = c.min(axis=1), c.max(axis=1)
    offset = 0.01 * (hi - lo)
    out = c.copy()
    mirrored = (skew < 0) & (offset != 0)
    plain = ~(skew < 0) & (offset != 0)
    if mirrored.any():
        m = mirrored
        out[m] = -np.log(hi[m, None] - c[m] + offset[m, None])
    if plain.any():
        p = plain
        out[p] = np.log(c[p] - lo[p, None] + offset[p, None])
    return out


def _winsorise(
    c: np.ndarray,
    skew: np.ndarray,
    kurt: np.ndarray,
    winmax: int,
    skew_threshold: float,
    kurt_threshold: float,
) -> np.ndarray:
    """Row-wise :func:`~barometre.composite.steps.winsorise_coinr` of a compact block, in place.

    ``skew``/``kurt`` are the statistics of the rows as given. Returns, per row, whether the
    winsorised row passes the check (the engine's ``pass_after_winsorisation``).
    """
    k = c.shape[0]
    touched = np.zeros(c.shape, dtype=bool)
    n_win = np.zeros(k, dtype=np.int64)
    passed = np.zeros(k, dtype=bool)
    active = np.arange(k)
    while active.size:
        ok = _passes(skew, kurt, skew_threshold, kurt_threshold)
        passed[active[ok]] = True
        go = ~ok & (n_win[active] < winmax)
        active, skew = active[go], skew[go]
        if not active.size:
            break
        # Winsorise the high end of rows with skew >= 0 and the low end of the others; the low
        # end is handled as the high end of the negated values (negation is exact).
        sign = np.where(skew >= 0, 1.0, -1.0)[:, None]
        w = c[active] * sign
        extreme = w.max(axis=1)
        below = w < extreme[:, None]
        has_rest = below.any(axis=1)
        following = np.where(below, w, -np.inf).max(axis=1)
        hit = (w == extreme[:, None]) & has_rest[:, None]
        c[active] = np.where(hit, following[:, None], w) * sign
        touched[active] |= hit
        n_win[active] = touched[active].sum(axis=1)
        # A row with nothing left to winsorise stops (the engine's break); it is constant only if
        # it already passed, so it stays failing.
        active = active[has_rest]
        if active.size:
            skew, kurt = type2_moments(c[active])
    return passed


def _treat_block(
    c: np.ndarray,
    method: str,
    winmax: int,
    skew_threshold: float,
    kurt_threshold: float,
    quantiles: tuple[float, float],
) -> np.ndarray:
    """Treat a compact block (rows × n observed values); returns the treated block."""
    if method == "winsorise_quantiles":
        if c.shape[1] == 0:
            return c
        lo, hi = np.quantile(c, quantiles, axis=1)
        return np.clip(c, lo[:, None], hi[:, None])
    skew0, kurt0 = type2_moments(c)
    failing = np.flatnonzero(~_passes(skew0, kurt0, skew_threshold, kurt_threshold))
    if not failing.size:
        return c
    out = c.copy()
    original = c[failing]
    if method == "log":
        out[failing] = _log_transform(original, skew0[failing])
        return out
    wins = original.copy()
    passed = _winsorise(
        wins, skew0[failing], kurt0[failing], winmax, skew_threshold, kurt_threshold
    )
    out[failing[passed]] = wins[passed]
    if (~passed).any():
        out[failing[~passed]] = _log_transform(original[~passed], skew0[failing[~passed]])
    return out


def treat_batch(
    x: np.ndarray,
    method: str,
    *,
    winmax: int = 5,
    skew_threshold: float = 2.0,
    kurt_threshold: float = 3.5,
    quantiles: tuple[float, float] = (0.05, 0.95),
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
) -> np.ndarray:
    """Outlier treatment of every row of ``x`` (runs × units), as the engine treats one indicator.

    Row ``i`` of the result equals ``steps.treat_indicator(pd.Series(x[i]), method, ...)[0]``
    for ``method`` in ``none``, ``coinr_default``, ``log`` and ``winsorise_quantiles`` (see
    :func:`~barometre.composite.steps.treat_indicator`); NaNs stay where they are. ``x`` is not
    modified. ``chunk_elements`` bounds the size of a block of rows processed at once.
    """
    a = _as_matrix(x)
    if method == "boxcox":
        raise NotImplementedError(
            "treat_batch: Box-Cox is not vectorised (its lambda is a per-row maximum-likelihood "
            "fit); use steps.treat_indicator row by row"
        )
    if method not in TREAT_METHODS:
        raise StepError(f"unknown outlier treatment {method!r}")
    out = a.copy()
    if method == "none" or a.size == 0:
        return out
    for rows in _chunks(a.shape[0], a.shape[1], chunk_elements):
        block = np.ascontiguousarray(a[rows])
        block_out = out[rows]
        for members, cols in _groups(block):
            c = _gather(block, members, cols)
            treated = _treat_block(c, method, winmax, skew_threshold, kurt_threshold, quantiles)
            if treated is not c:
                _scatter(block_out, members, cols, treated)
    return out


# --- normalise -------------------------------------------------------------------------------
def _average_ranks(v: np.ndarray) -> np.ndarray:
    """Ascending ranks of each row, ties averaged, NaN kept (``Series.rank(method="average")``)."""
    k, m = v.shape
    order = np.argsort(v, axis=1)  # NaN sorts last
    s = np.take_along_axis(v, order, axis=1)
    pos = np.broadcast_to(np.arange(m), (k, m))
    new = np.ones((k, m), dtype=bool)
    new[:, 1:] = s[:, 1:] != s[:, :-1]
    first = np.maximum.accumulate(np.where(new, pos, 0), axis=1)
    end = np.ones((k, m), dtype=bool)
    end[:, :-1] = new[:, 1:]
    last = np.minimum.accumulate(np.where(end, pos, m - 1)[:, ::-1], axis=1)[:, ::-1]
    ranks_sorted = (first + last + 2) / 2.0
    ranks_sorted[np.isnan(s)] = np.nan
    ranks = np.empty((k, m))
    np.put_along_axis(ranks, order, ranks_sorted, axis=1)
    return ranks


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
