"""Outlier treatment and normalisation of many datasets of one indicator at once.

The uncertainty analysis evaluates thousands of runs, each on its own posterior draw of the
data. :func:`treat_batch` and :func:`normalise_batch` take a (runs × units) matrix whose rows are
independent datasets of ONE indicator (NaN = missing) and return, row for row, what the engine's
:func:`~barometre.composite.steps.treat_indicator` and
:func:`~barometre.composite.steps.normalise_column` return for that row alone, vectorised across
rows.

Exactness. The outlier rule takes discrete decisions (pass the skew/kurtosis check or not, which
end to winsorise) on floating-point statistics that can sit exactly on a threshold: four values
``[0, 0, 0, 3.7]`` have a type-2 skewness of exactly 2.0 (fails), ``[0, 0, 0, 1]`` of
2 − 2⁻⁵² (passes). The outputs depend on the statistics only through these decisions (the
winsorised values and the log transform do not), so the batch functions make every decision
exactly as the engine does, and compute the values with the engine's own operations:

- each row is *compacted* (its observed values, in their original order, side by side), so that
  the row-wise ``np.sum(…, axis=1)`` of a C-contiguous block runs numpy's pairwise summation over
  exactly the array the engine sums — same blocks, same rounding;
- the engine's ``d**3`` and ``d**4`` go through ``pow`` (~60 ns a value, 95 % of the engine's
  time in the outlier rule). The batch takes them as products (``d²·d``, ``d²·d²``), ~30 times
  faster, with a rigorous bound on the difference of the resulting statistics; the few rows
  whose fast statistics lie within that bound of a threshold (or of zero, for the skew sign) are
  re-evaluated exactly (:func:`type2_moments`, the engine's operations, ``d**3`` included), see
  :func:`_check`. In the tests and the benchmark no random row needed it; rows built to
  straddle a threshold to the last bit do, and get the engine's decision;
- the engine raises the SCALAR ``m2`` to the powers 1.5 and 2 (``m2**1.5``, ``m2**2`` on a numpy
  scalar, i.e. the C library's ``pow``); the vectorised ``np.power`` differs from it in the
  last bit for ~5 % of inputs on this machine (SIMD code), so these two powers are taken per row
  with Python floats (same ``pow``): a comprehension over one scalar per row, negligible next to
  the (rows × units) work;
- ``np.log``, ``np.quantile`` (type 7, on the compacted rows, as ``np.nanquantile`` does) and
  ``np.clip`` are the engine's own; the normalisations follow pandas' reductions
  (``Series.mean``/``std`` sum the row with zeros in place of the missing values, ``std`` is the
  two-pass ``nanvar``; ranks are averaged the way ``Series.rank(method="average")`` averages
  them, to the same exact half-integers).

The results are in fact bit-identical to the engine's (``tests/test_batch_steps.py`` checks them
at 1e-12 relative with equal NaN masks; ``benchmarks/bench_batch_steps.py`` prints the largest
relative difference).

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


# --- moments ---------------------------------------------------------------------------------
_U = 2.0**-53  # unit roundoff of float64


def _finish(n: int, m2: np.ndarray, s3: np.ndarray, s4: np.ndarray | None) -> tuple:
    """The engine's last scalar steps, from m2 = Σd², s3 = Σd³, s4 = Σd⁴ (m2 > 0)."""
    with np.errstate(all="ignore"):  # tiny (underflowing) spreads give 0/0 = NaN, as in the engine
        g1 = np.sqrt(n) * s3 / _scalar_pow(m2, 1.5)
        skew = g1 * np.sqrt(n * (n - 1)) / (n - 2)
        kurt = np.full(m2.shape, np.nan)
        if s4 is not None:
            r = n * s4 / _scalar_pow(m2, 2)
            kurt = ((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3))
    return skew, kurt


def type2_moments(c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Type-2 skewness and excess kurtosis of each row of a compact (rows × n) block.

    ``c`` holds observed values only (no NaN), every row with the same count ``n``; the results
    equal :func:`~barometre.composite.steps.skewness` and
    :func:`~barometre.composite.steps.kurtosis` of each row bit for bit (NaN for n < 3 resp.
    n < 4, or zero spread). This is the exact (slow) evaluation: ``d**3`` and ``d**4`` go
    through ``pow`` as in the engine, ~60 ns a value.
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
    with np.errstate(all="ignore"):
        s3 = np.sum(d**3, axis=1)
        s4 = np.sum(d**4, axis=1) if n >= 4 else None
    skew[ok], kurt[ok] = _finish(n, m2, s3, s4)
    return skew, kurt


def _passes(
    skew: np.ndarray, kurt: np.ndarray, skew_threshold: float, kurt_threshold: float
) -> np.ndarray:
    """Vectorised :func:`~barometre.composite.steps.passes_skew_kurt`."""
    undefined = np.isnan(skew) | np.isnan(kurt)
    with np.errstate(invalid="ignore"):
        return undefined | (np.abs(skew) < skew_threshold) | (kurt < kurt_threshold)


def _check(
    c: np.ndarray, skew_threshold: float, kurt_threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """The engine's decisions on each row of a compact block: (passes the check, skew >= 0).

    Fast path: Σd³ and Σd⁴ from products (d²·d, d²·d²) instead of ``pow``, ~30 times faster,
    then the engine's own scalar steps. Both sums differ from the engine's by at most
    (2n + 8)·u times Σ|d|³ resp. Σd⁴ (u = 2⁻⁵³: 2 u per term for either way of cubing, γₙ for
    either summation order); with Σ|d|³ <= √(Σd²·Σd⁴) this bounds how far the fast skewness and
    kurtosis can be from the engine's. A row whose fast statistics lie within that margin (times
    1.1, plus 1e-13 relative for the last scalar roundings) of a threshold, of zero (the
    skew sign), or whose spread is extreme (under/overflow) is re-evaluated exactly with
    :func:`type2_moments`; every other decision is provably the engine's.
    """
    c = np.ascontiguousarray(c, dtype=float)
    k, n = c.shape
    passes = np.ones(k, dtype=bool)
    positive = np.ones(k, dtype=bool)
    if n < 4 or k == 0:  # kurtosis undefined: every row passes
        return passes, positive
    mean = c.sum(axis=1) / n
    d = c - mean[:, None]
    d2 = d * d  # bitwise d**2 (numpy squares for the power 2)
    m2 = d2.sum(axis=1)
    d2 *= d
    s3 = d2.sum(axis=1)
    np.multiply(d, d, out=d2)
    np.multiply(d2, d2, out=d2)
    s4 = d2.sum(axis=1)
    defined = m2 != 0
    skew = np.full(k, np.nan)
    kurt = np.full(k, np.nan)
    if defined.any():
        skew[defined], kurt[defined] = _finish(n, m2[defined], s3[defined], s4[defined])
    with np.errstate(all="ignore"):
        g = (2 * n + 8) * _U * 1.01
        a4 = s4 * (1 + g)
        a3 = np.sqrt(m2 * (1 + g) * a4)
        spread = m2 * np.sqrt(m2)
        gain_s = np.sqrt(n) * np.sqrt(n * (n - 1)) / ((n - 2) * spread)
        margin_s = 1.1 * gain_s * g * a3 + 1e-13 * np.abs(skew)
        gain_k = (n + 1) * (n - 1) / ((n - 2) * (n - 3))
        r = n * s4 / (m2 * m2)
        margin_k = 1.1 * gain_k * g * r * 1.1 + 1e-13 * (gain_k * (r + 3) + np.abs(kurt) + 1)
        safe = (m2 > n * 1e-140) & (m2 < 1e140) & np.isfinite(skew) & np.isfinite(kurt)
        unsure = defined & (
            ~safe
            | ~(np.abs(np.abs(skew) - skew_threshold) > margin_s)
            | ~(np.abs(kurt - kurt_threshold) > margin_k)
            | ~(np.abs(skew) > margin_s)
        )
    if unsure.any():
        skew[unsure], kurt[unsure] = type2_moments(c[unsure])
    passes = _passes(skew, kurt, skew_threshold, kurt_threshold)
    positive = ~(skew < 0)
    return passes, positive


# --- outlier treatment -----------------------------------------------------------------------
def _log_transform(c: np.ndarray, mirrored: np.ndarray) -> np.ndarray:
    """Row-wise :func:`~barometre.composite.steps.log_transform` of a compact block.

    ``mirrored`` marks the rows of negative skewness (the engine's mirrored form).
    """
    lo, hi = c.min(axis=1), c.max(axis=1)
    offset = 0.01 * (hi - lo)
    out = c.copy()
    m = mirrored & (offset != 0)
    p = ~mirrored & (offset != 0)
    if m.any():
        out[m] = -np.log(hi[m, None] - c[m] + offset[m, None])
    if p.any():
        out[p] = np.log(c[p] - lo[p, None] + offset[p, None])
    return out


def _winsorise(
    c: np.ndarray,
    positive: np.ndarray,
    winmax: int,
    skew_threshold: float,
    kurt_threshold: float,
) -> np.ndarray:
    """Row-wise :func:`~barometre.composite.steps.winsorise_coinr` of a compact block, in place.

    Every row of ``c`` fails the check as given; ``positive`` is its skew sign (skew >= 0).
    Returns, per row, whether the winsorised row passes the check (the engine's
    ``pass_after_winsorisation``). Each step works on the block of rows still failing.
    """
    k = c.shape[0]
    touched = np.zeros(c.shape, dtype=bool)
    n_win = np.zeros(k, dtype=np.int64)
    passed = np.zeros(k, dtype=bool)
    active = np.arange(k)
    ok = np.zeros(k, dtype=bool)
    while active.size:
        passed[active[ok]] = True
        go = ~ok & (n_win[active] < winmax)
        active, positive = active[go], positive[go]
        if not active.size:
            break
        # Winsorise the high end of rows with skew >= 0 and the low end of the others; the low
        # end is handled as the high end of the negated values (negation is exact).
        sign = np.where(positive, 1.0, -1.0)[:, None]
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
            ok, positive = _check(c[active], skew_threshold, kurt_threshold)
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
    pass0, positive0 = _check(c, skew_threshold, kurt_threshold)
    failing = np.flatnonzero(~pass0)
    if not failing.size:
        return c
    out = c.copy()
    original = c[failing]
    mirrored = ~positive0[failing]
    if method == "log":
        out[failing] = _log_transform(original, mirrored)
        return out
    wins = original.copy()
    passed = _winsorise(wins, positive0[failing], winmax, skew_threshold, kurt_threshold)
    out[failing[passed]] = wins[passed]
    if (~passed).any():
        out[failing[~passed]] = _log_transform(original[~passed], mirrored[~passed])
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
