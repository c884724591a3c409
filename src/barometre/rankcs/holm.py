"""Bonferroni-Holm: counting rejections over large families of pairs without storing them."""

from __future__ import annotations

import itertools

import numpy as np

from barometre.rankcs.inputs import (
    _BLOCK_ELEMS,
    _REL_MARGIN,
    _ROW_CHUNK,
    _bonferroni_value,
    _Model,
)


def _variance_strata(var: np.ndarray, units: np.ndarray, n_strata: int = 16) -> list[np.ndarray]:
    """Split ``units`` into strata of similar standard error.

    Boundaries: the union of equal-count quantiles and of equal-width bins of the standard
    error, so that a long tail of imprecise units gets narrow strata of its own.
    """
    n = units.size
    g = int(np.clip(n // 1024, 1, n_strata))
    ordered = units[np.argsort(var[units], kind="stable")]
    if g == 1:
        return [ordered]
    se = np.sqrt(var[ordered])
    cuts = set(np.linspace(0, n, g + 1).astype(int)[1:-1].tolist())
    edges = np.linspace(se[0], se[-1], g + 1)[1:-1]
    cuts |= set(np.searchsorted(se, edges, side="left").tolist())
    bounds = [0, *sorted(c for c in cuts if 0 < c < n), n]
    return [ordered[lo:hi] for lo, hi in itertools.pairwise(bounds) if hi > lo]


class _Columns:
    """Columns of the pair counting: sorted by estimate within strata of variance."""

    def __init__(self, model: _Model, cols: np.ndarray) -> None:
        self.cols = cols
        self.n = int(cols.size)
        self.strata: list[tuple[np.ndarray, np.ndarray, float, float]] = []
        if model.cov is not None:
            return
        for part in _variance_strata(model.var, cols):
            part = part[np.argsort(model.x[part], kind="stable")]
            v = model.var[part]
            self.strata.append((model.x[part], v, float(v.min()), float(v.max())))


def _count_significant(
    model: _Model, rows: np.ndarray, c_rows: np.ndarray, columns: _Columns
) -> tuple[np.ndarray, np.ndarray]:
    """For each row ``i``: ``#{k: x_i - x_k > c_i sigma_ik}`` (worse) and ``#{k: x_k - x_i > c_i sigma_ik}`` (better).

    ``k`` runs over ``columns`` (a row's own column never counts: its difference is 0).
    Independent estimates: rows and columns are stratified by variance and sorted by estimate
    within strata; rows are processed in blocks of consecutive estimates of one stratum. Against
    each column stratum, the columns far enough below (above) every row of the block are
    certainly rejected and those close to every row certainly not (bounds computed with the
    stratum's smallest and largest variance and a relative safety margin), so only the band in
    between is computed explicitly, with the same formula as a dense computation.
    """
    worse = np.zeros(rows.size, dtype=np.int64)
    better = np.zeros(rows.size, dtype=np.int64)
    if model.cov is not None:
        order = np.argsort(model.x[rows], kind="stable")
        cols = columns.cols
        xc, vc = model.x[cols], model.var[cols]
        chunk = max(1, _BLOCK_ELEMS // max(cols.size, 1))
        for r0 in range(0, rows.size, chunk):
            sel = order[r0 : r0 + chunk]
            r = rows[sel]
            s = model.var[r][:, None] + vc[None, :] - 2.0 * model.cov[np.ix_(r, cols)]
            thr = c_rows[sel][:, None] * np.sqrt(np.maximum(s, 0.0))
            d = model.x[r][:, None] - xc[None, :]
            worse[sel] = np.count_nonzero(d > thr, axis=1)
            better[sel] = np.count_nonzero(-d > thr, axis=1)
        return worse, better

    scale = float(np.abs(model.x).max())
    blocks: list[np.ndarray] = []  # positions in ``rows``
    for part in _variance_strata(model.var[rows], np.arange(rows.size)):
        part = part[np.argsort(model.x[rows[part]], kind="stable")]
        blocks.extend(part[r0 : r0 + _ROW_CHUNK] for r0 in range(0, part.size, _ROW_CHUNK))
    for sel in blocks:
        r = rows[sel]
        xr = model.x[r]
        vr = model.var[r]
        cr = c_rows[sel]
        w = np.zeros(sel.size, dtype=np.int64)
        bt = np.zeros(sel.size, dtype=np.int64)
        for xs, vs, vmin, vmax in columns.strata:
            n = xs.size
            far = cr * np.sqrt(vr + vmax)
            near = cr * np.sqrt(vr + vmin)
            tiny = 1e-12 * (scale + float(far.max()))
            far = far * (1 + _REL_MARGIN) + tiny
            near = near * (1 - _REL_MARGIN) - tiny
            a_lo = int(np.searchsorted(xs, float((xr - far).min()), side="left"))
            a_hi = int(np.searchsorted(xs, float((xr - near).max()), side="left"))
            b_lo = int(np.searchsorted(xs, float((xr + near).min()), side="right"))
            b_hi = int(np.searchsorted(xs, float((xr + far).max()), side="right"))
            # below a_lo: certainly worse; from a_hi: certainly not worse; up to b_lo: certainly
            # not better; from b_hi: certainly better. Explicit: [a_lo, a_hi) and [b_lo, b_hi).
            if a_hi <= b_lo:
                bands = ((a_lo, a_hi, True, False), (b_lo, b_hi, False, True))
            else:
                bands = ((min(a_lo, b_lo), max(a_hi, b_hi), True, True),)
            w += min(a_lo, b_lo)
            bt += n - max(a_hi, b_hi)
            for lo, hi, count_worse, count_better in bands:
                if hi <= lo:
                    continue
                d = xr[:, None] - xs[None, lo:hi]
                thr = cr[:, None] * np.sqrt(vr[:, None] + vs[None, lo:hi])
                if count_worse:
                    w += np.count_nonzero(d > thr, axis=1)
                if count_better:
                    bt += np.count_nonzero(-d > thr, axis=1)
        worse[sel] = w
        better[sel] = bt
    return worse, better


def _holm_simultaneous(
    model: _Model, units: np.ndarray, alpha: float, stepdown: bool
) -> tuple[np.ndarray, np.ndarray, list[float], int]:
    """Bonferroni-Holm over every ordered pair involving ``units``: (better, worse, c's, m)."""
    p = model.p
    k = units.size
    m = 2 * (k * (p - 1) - k * (k - 1) // 2)
    all_cols = _Columns(model, np.arange(p))
    sub_cols = None if k == p else _Columns(model, units)
    crits: list[float] = []
    rejected = 0
    while True:
        c = float(_bonferroni_value(alpha, m - rejected))
        crits.append(c)
        cv = np.full(k, c)
        worse, better = _count_significant(model, units, cv, all_cols)
        total = int(worse.sum() + better.sum())
        if sub_cols is None:
            now = total // 2
        else:
            w_in, b_in = _count_significant(model, units, cv, sub_cols)
            now = total - int(w_in.sum() + b_in.sum()) // 2
        done = not stepdown or now == rejected
        rejected = now
        if done:
            return better, worse, crits, m


def _holm_marginal(
    model: _Model, units: np.ndarray, alpha: float, stepdown: bool
) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Bonferroni-Holm per unit over its own ``2(p-1)`` hypotheses: (better, worse, max c, steps)."""
    p = model.p
    m = 2 * (p - 1)
    cols = _Columns(model, np.arange(p))
    rejected = np.zeros(units.size, dtype=np.int64)
    better = np.zeros(units.size, dtype=np.int64)
    worse = np.zeros(units.size, dtype=np.int64)
    todo = np.arange(units.size)
    steps = 0
    c_max = float(_bonferroni_value(alpha, m))
    while todo.size:
        steps += 1
        c = _bonferroni_value(alpha, m - rejected[todo])
        w, b = _count_significant(model, units[todo], c, cols)
        now = w + b
        worse[todo], better[todo] = w, b
        changed = now != rejected[todo]
        rejected[todo] = now
        todo = todo[changed] if stepdown else todo[:0]
    return better, worse, c_max, steps
