"""Confidence sets for ranks and for the tau-best units.

Implements, from the paper's definitions, the confidence sets of

    Mogstad, M., Romano, J. P., Shaikh, A. M. and Wilhelm, D. (2024), "Inference for Ranks with
    Applications to Mobility across Neighbourhoods and Academic Achievement across Countries",
    Review of Economic Studies 91(1), 476-518, doi:10.1093/restud/rdad006.

Setting: ``p`` units with unknown values ``theta`` and estimates ``x`` approximately normal
``N(theta, Sigma)`` with ``Sigma`` known (independent estimates: ``Sigma = diag(se**2)``).
The rank of unit ``i`` is ``1 + #{j : theta_j > theta_i}`` (rank 1 = largest). For every
ordered pair ``(j, k)`` the one-sided hypothesis ``H_jk: theta_j <= theta_k`` is tested with
``T_jk = (x_j - x_k) / sigma_jk``, ``sigma_jk**2 = Sigma_jj + Sigma_kk - 2 Sigma_jk``;
rejecting ``H_jk`` means "j is significantly better than k". For unit ``i``::

    lower_i = 1 + #{j : H_ji rejected}       upper_i = p - #{k : H_ik rejected}

and the set ``[lower_i, upper_i]`` contains the true rank whenever no true hypothesis of the
family is rejected. The family is every ordered pair involving the requested units: the pairs
of unit ``i`` alone for a marginal set, the pairs of all requested units at once for
simultaneous sets. All hypotheses of the family are tested jointly with the critical value
``c`` = the ``coverage`` quantile of the maximum of the standardised differences over the
family (a two-sided set uses one family of one-sided tests, so the level is ``coverage``, not
``(1 + coverage) / 2``); with ``stepdown`` the rejected hypotheses are removed and ``c`` is
re-estimated on the surviving ones until no new rejection (Romano and Wolf 2005), which keeps
the familywise error at most ``1 - coverage``.

Two ways to get ``c`` (``method=``):

``"bootstrap"``
    the paper's parametric bootstrap: ``n_boot`` draws ``Z ~ N(0, Sigma)`` and the empirical
    ``coverage`` quantile (linear interpolation) of ``max_{(j,k) alive} (Z_j - Z_k) / sigma_jk``.
    Asymptotically exact. Its cost is ``n_boot x (requested units) x p`` per step, computed in
    memory-bounded blocks of ``p x draws`` per requested unit (the draws are kept, or
    regenerated from one seed at every step when they do not fit in 200 MB).
``"bonferroni"``
    ``c = Phi^-1(1 - alpha / m)`` with ``alpha = 1 - coverage`` and ``m`` the number of
    hypotheses still alive (Holm's 1979 step-down of the Bonferroni test). Each ``T_jk`` of a
    true hypothesis exceeds ``c`` with probability at most ``alpha / m``; the union bound gives a
    familywise error at most ``alpha`` whatever the dependence between the estimates, and
    Holm's step-down (a closed test of Bonferroni tests) keeps that guarantee. The sets are
    therefore valid (coverage >= nominal) and only mildly conservative: the maximum over a
    family of ``m`` pairwise differences is driven by its extremes, so the Bonferroni value is
    close to the bootstrap one for simultaneous families (e.g. 4.41 vs 4.30 for all pairs
    of 100 equally precise units at 95 %). It needs no draws: the rejections are counted, for
    independent estimates, on the units sorted by estimate and stratified by variance, with
    only the pairs near the rejection boundary computed explicitly, so all the ``p(p-1)``
    pairs of 30 000 units are handled in seconds in O(block) memory.
``"auto"`` (default)
    the bootstrap when ``n_boot x (requested units) x (p - 1)`` is at most ``max_boot_work``
    (5e8 by default: all the units of a class of up to 71 with 100 000 draws, or 15 units
    among 30 000 with 1 000 draws), the Bonferroni-Holm value above.

The tau-best set (``tau_best_set``) is the projection set of the paper: the units whose
simultaneous one-sided lower bound is at most ``tau``. Lower bounds for every unit test the
hypotheses ``theta_j <= theta_i`` for all ordered pairs, the same family as the two-sided
simultaneous sets of all units; if none of them is wrongly rejected, every true tau-best unit
has ``lower <= true rank <= tau``, so the set contains all of them with probability at least
``coverage``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import ndtri

__all__ = [
    "DEFAULT_MAX_BOOT_WORK",
    "DEFAULT_N_BOOT",
    "Method",
    "estimate_ranks",
    "rank_confidence_sets",
    "tau_best_set",
]

Method = Literal["auto", "bootstrap", "bonferroni"]

DEFAULT_N_BOOT = 100_000
"""Bootstrap draws by default (the reference computations of csranks use 100 000)."""

DEFAULT_MAX_BOOT_WORK = 500_000_000
"""Above ``n_boot x pairs`` the ``auto`` method uses the Bonferroni-Holm critical value."""

_CACHE_ELEMS = 25_000_000  # floats kept across step-down steps (200 MB)
_BLOCK_ELEMS = 4_000_000  # floats of one working block (32 MB)
_ROW_CHUNK = 64  # rows of one block of the pair counting
_REL_MARGIN = 1e-9  # safety margin of the "certainly rejected / certainly not" regions


# --------------------------------------------------------------------------------------------
# inputs


@dataclass(frozen=True)
class _Model:
    """Estimates with their covariance: ``cov is None`` means independent estimates."""

    x: np.ndarray
    var: np.ndarray
    cov: np.ndarray | None

    @property
    def p(self) -> int:
        return int(self.x.size)

    def pair_sd(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Standard deviation of ``x_a - x_b`` for paired index arrays."""
        v = self.var[a] + self.var[b]
        if self.cov is not None:
            v = v - 2.0 * self.cov[a, b]
        return np.sqrt(np.maximum(v, 0.0))


def _as_model(
    estimates: pd.Series | Sequence[float] | np.ndarray,
    se: pd.Series | Sequence[float] | np.ndarray | None,
    cov: pd.DataFrame | np.ndarray | None,
) -> tuple[_Model, pd.Index | None]:
    ids = estimates.index if isinstance(estimates, pd.Series) else None
    x = np.asarray(estimates, dtype=float).reshape(-1)
    if x.size == 0:
        raise ValueError("no estimates")
    if not np.all(np.isfinite(x)):
        raise ValueError("estimates must be finite numbers (no missing values)")
    if (se is None) == (cov is None):
        raise ValueError("give exactly one of se= (independent estimates) or cov=")
    if se is not None:
        if isinstance(se, pd.Series) and ids is not None and not se.index.equals(ids):
            se = se.reindex(ids)
        s = np.asarray(se, dtype=float).reshape(-1)
        if s.size != x.size:
            raise ValueError(f"se has {s.size} values for {x.size} estimates")
        if not np.all(np.isfinite(s)):
            raise ValueError("standard errors must be finite numbers (no missing values)")
        if np.any(s < 0):
            raise ValueError("standard errors must be non-negative")
        return _Model(x=x, var=s * s, cov=None), ids
    c = np.asarray(cov, dtype=float)
    if c.shape != (x.size, x.size):
        raise ValueError(f"cov must be {x.size} x {x.size}, got {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError("cov must be finite")
    if not np.allclose(c, c.T, rtol=1e-10, atol=1e-12 * float(np.abs(c).max() or 1.0)):
        raise ValueError("cov must be symmetric")
    var = np.diag(c).copy()
    if np.any(var < 0):
        raise ValueError("the variances (diagonal of cov) must be non-negative")
    return _Model(x=x, var=var, cov=c), ids


def _resolve_indices(
    indices: Sequence[object] | np.ndarray | None, p: int, ids: pd.Index | None
) -> np.ndarray:
    if indices is None:
        return np.arange(p)
    wanted = list(indices)
    if ids is not None:
        if not ids.is_unique:
            raise ValueError("indices= needs unique labels in the index of the estimates")
        pos = ids.get_indexer(pd.Index(wanted))
        missing = [w for w, q in zip(wanted, pos, strict=True) if q < 0]
        if missing:
            raise ValueError(f"indices not found among the estimates: {missing[:5]}")
    else:
        pos = np.asarray(wanted, dtype=np.int64).reshape(-1)
        if pos.size and (pos.min() < 0 or pos.max() >= p):
            raise ValueError(f"indices must be positions in 0..{p - 1}")
    pos = np.asarray(pos, dtype=np.int64)
    if pos.size == 0:
        raise ValueError("indices= is empty")
    if np.unique(pos).size != pos.size:
        raise ValueError("indices= has duplicates")
    return pos


def _check_coverage(coverage: float) -> float:
    cov = float(coverage)
    if not 0.0 < cov < 1.0:
        raise ValueError(f"coverage must be in (0, 1), got {coverage}")
    return cov


def _generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def estimate_ranks(estimates: Sequence[float] | np.ndarray | pd.Series) -> np.ndarray:
    """Ranks of the estimates, 1 = largest: ``rank_i = 1 + #{j : x_j > x_i}`` (ties share the best)."""
    x = np.asarray(estimates, dtype=float).reshape(-1)
    ordered = np.sort(x)
    return (1 + x.size - np.searchsorted(ordered, x, side="right")).astype(np.int64)


def _bonferroni_value(alpha: float, m: int | np.ndarray) -> np.ndarray:
    """``Phi^-1(1 - alpha / m)`` computed in the lower tail (accurate for tiny ``alpha / m``)."""
    m_arr = np.maximum(np.asarray(m, dtype=float), 1.0)
    return -ndtri(alpha / m_arr)


# --------------------------------------------------------------------------------------------
# bootstrap critical values


class _Draws:
    """``n`` centred draws ``N(0, Sigma)``, identical at each pass, in memory-bounded chunks."""

    def __init__(self, model: _Model, n: int, seed: int) -> None:
        self.n = int(n)
        self.p = model.p
        self.seed = seed
        self.chunk = max(1, min(self.n, _BLOCK_ELEMS // max(self.p, 1)))
        if model.cov is None:
            self._scale: np.ndarray | None = np.sqrt(model.var)
            self._factor: np.ndarray | None = None
        else:
            w, q = np.linalg.eigh(model.cov)
            self._scale = None
            self._factor = (q * np.sqrt(np.clip(w, 0.0, None))).T  # Z = factor.T @ E
        self._cache = list(self._generate()) if self.n * self.p <= _CACHE_ELEMS else None

    def _generate(self) -> Iterator[np.ndarray]:
        """Chunks of shape ``(p, b)``: one row per unit, so pair gathers copy contiguous rows."""
        gen = np.random.default_rng(self.seed)
        done = 0
        while done < self.n:
            b = min(self.chunk, self.n - done)
            e = gen.standard_normal((self.p, b))
            yield e * self._scale[:, None] if self._scale is not None else self._factor.T @ e
            done += b

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter(self._cache) if self._cache is not None else self._generate()


def _standardise(d: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """``d / sd`` (``sd`` broadcast) with ``+-inf`` for a known difference (sd 0) and 0 for 0 / 0."""
    if np.all(sd > 0):
        d /= sd
        return d
    with np.errstate(divide="ignore", invalid="ignore"):
        t = d / sd
    return np.where(np.isnan(t), 0.0, t)


def _unit_row(model: _Model, i: int) -> tuple[np.ndarray, np.ndarray]:
    """``T_ik`` for every ``k`` and ``1 / sigma_ik`` (0 where ``sigma_ik = 0``, e.g. ``k = i``)."""
    sd = model.pair_sd(i, np.arange(model.p))
    t = _standardise(model.x[i] - model.x, sd)
    with np.errstate(divide="ignore"):
        inv = np.where(sd > 0, 1.0 / sd, 0.0)
    return t, inv


def _row_maxima(
    model: _Model, draws: _Draws, units: np.ndarray, rej_pos: np.ndarray, rej_neg: np.ndarray
) -> np.ndarray:
    """Per requested unit ``i`` and draw: the maximum of the statistics of its alive hypotheses.

    Row ``u`` (unit ``i``) covers ``H_ik`` (alive unless ``rej_pos[u, k]``; statistic
    ``(Z_i - Z_k) / sigma_ik``) and ``H_ki`` (alive unless ``rej_neg[u, k]``; statistic
    ``(Z_k - Z_i) / sigma_ik``) for every ``k``. A rejected hypothesis (and ``k = i``) enters
    as a statistic 0 instead of being dropped: the critical value is ``max(quantile, 0)`` and
    while a pair has both hypotheses alive the maximum is >= 0 anyway, so this changes nothing
    and keeps the computation a contiguous ``(p, draws)`` block per unit, in bounded memory.
    """
    p = model.p
    out = np.empty((units.size, draws.n))
    weights = []
    for u, i in enumerate(units):
        _, inv = _unit_row(model, int(i))
        both = not (rej_pos[u].any() or rej_neg[u].any())
        w_pos = np.where(rej_pos[u], 0.0, inv)[:, None]
        w_neg = w_pos if both else np.where(rej_neg[u], 0.0, inv)[:, None]
        weights.append((w_pos, w_neg, both))
    width = max(1, min(draws.chunk, _BLOCK_ELEMS // p))
    diff = np.empty((p, width))
    scaled = np.empty((p, width))
    col = 0
    for z in draws:
        for c0 in range(0, z.shape[1], width):
            zz = z[:, c0 : c0 + width]
            bb = zz.shape[1]
            d, e = diff[:, :bb], scaled[:, :bb]
            for u, i in enumerate(units):
                w_pos, w_neg, both = weights[u]
                np.subtract(zz[i], zz, out=d)
                np.multiply(d, w_pos, out=e)
                hi = e.max(axis=0)
                if not both:
                    np.multiply(d, w_neg, out=e)
                lo = e.min(axis=0)
                np.maximum(hi, -lo, out=out[u, col : col + bb])
            col += bb
    return out


def _bootstrap_bounds(
    model: _Model,
    units: np.ndarray,
    draws: _Draws,
    coverage: float,
    stepdown: bool,
    simultaneous: bool,
) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Bootstrap step-down over the family (or families) of ``units``: (lower, upper, c, steps).

    ``rej_pos[u, k]``: unit ``units[u]`` significantly better than ``k``; ``rej_neg[u, k]``:
    ``k`` significantly better than it. Simultaneous: one critical value from the maximum over
    all rows; marginal: one per row, each row stepping down on its own.
    """
    p, k = model.p, units.size
    rej_pos = np.zeros((k, p), dtype=bool)
    rej_neg = np.zeros((k, p), dtype=bool)
    active = np.arange(k)
    first_c = 0.0
    steps = 0
    while active.size:
        steps += 1
        maxima = _row_maxima(model, draws, units[active], rej_pos[active], rej_neg[active])
        if simultaneous:
            c = np.full(active.size, max(float(np.quantile(maxima.max(axis=0), coverage)), 0.0))
        else:
            c = np.maximum(np.quantile(maxima, coverage, axis=1), 0.0)
        if steps == 1:
            first_c = float(c.max())
        changed = np.zeros(active.size, dtype=bool)
        for n, u in enumerate(active):
            t, _ = _unit_row(model, int(units[u]))
            new_pos = ~rej_pos[u] & (t > c[n])
            new_neg = ~rej_neg[u] & (-t > c[n])
            rej_pos[u] |= new_pos
            rej_neg[u] |= new_neg
            changed[n] = new_pos.any() or new_neg.any()
        if not stepdown:
            break
        if simultaneous:
            active = active if changed.any() else active[:0]
        else:
            active = active[changed]
    lower = 1 + rej_neg.sum(axis=1)
    upper = p - rej_pos.sum(axis=1)
    return lower.astype(np.int64), upper.astype(np.int64), first_c, steps


# --------------------------------------------------------------------------------------------
# Bonferroni-Holm: counting rejections over large families without storing pairs


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


# --------------------------------------------------------------------------------------------
# public API


def _choose(method: Method, work: int, max_boot_work: int) -> Literal["bootstrap", "bonferroni"]:
    if method == "auto":
        return "bootstrap" if work <= max_boot_work else "bonferroni"
    if method in ("bootstrap", "bonferroni"):
        return method
    raise ValueError(f"method must be 'auto', 'bootstrap' or 'bonferroni', got {method!r}")


def _bounds(
    model: _Model,
    units: np.ndarray,
    *,
    coverage: float,
    simultaneous: bool,
    stepdown: bool,
    n_boot: int,
    rng: np.random.Generator,
    method: Method,
    max_boot_work: int,
) -> tuple[np.ndarray, np.ndarray, dict[str, object]]:
    p = model.p
    k = units.size
    alpha = 1.0 - coverage
    if int(n_boot) < 1:
        raise ValueError("n_boot must be at least 1")
    n_pairs = (k * (p - 1) - k * (k - 1) // 2) if simultaneous else k * (p - 1)
    chosen = _choose(method, int(n_boot) * k * (p - 1), max_boot_work)
    info: dict[str, object] = {
        "method": chosen,
        "coverage": coverage,
        "simultaneous": simultaneous,
        "stepdown": stepdown,
        "n_boot": int(n_boot) if chosen == "bootstrap" else 0,
        "hypotheses": 2 * n_pairs,
    }
    if p == 1:
        one = np.ones(k, dtype=np.int64)
        info.update(critical_value=float("nan"), steps=0)
        return one, one.copy(), info
    if chosen == "bonferroni":
        if simultaneous:
            better, worse, crits, _ = _holm_simultaneous(model, units, alpha, stepdown)
            info.update(critical_value=crits[0], steps=len(crits))
        else:
            better, worse, c_max, steps = _holm_marginal(model, units, alpha, stepdown)
            info.update(critical_value=c_max, steps=steps)
        return 1 + better, p - worse, info

    if k * p > 100_000_000:  # rejection flags alone would take gigabytes, and hours of draws
        raise ValueError(
            f"bootstrap family too large ({k} units x {p}): use method='bonferroni' or 'auto'"
        )
    seed = int(rng.integers(0, 2**63 - 1))
    draws = _Draws(model, int(n_boot), seed)
    lower, upper, c_first, steps = _bootstrap_bounds(
        model, units, draws, coverage, stepdown, simultaneous
    )
    info.update(critical_value=c_first, steps=steps)
    return lower, upper, info


def _frame(
    model: _Model, ids: pd.Index | None, units: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> pd.DataFrame:
    index = ids[units] if ids is not None else pd.Index(units)
    return pd.DataFrame(
        {
            "estimate": model.x[units],
            "rank": estimate_ranks(model.x)[units],
            "lower": np.asarray(lower, dtype=np.int64),
            "upper": np.asarray(upper, dtype=np.int64),
        },
        index=index,
    )


def rank_confidence_sets(
    estimates: pd.Series | Sequence[float] | np.ndarray,
    se: pd.Series | Sequence[float] | np.ndarray | None = None,
    cov: pd.DataFrame | np.ndarray | None = None,
    *,
    coverage: float = 0.95,
    simultaneous: bool = False,
    indices: Sequence[object] | np.ndarray | None = None,
    stepdown: bool = True,
    n_boot: int = DEFAULT_N_BOOT,
    rng: np.random.Generator | int | None = None,
    method: Method = "auto",
    max_boot_work: int = DEFAULT_MAX_BOOT_WORK,
) -> pd.DataFrame:
    """Two-sided marginal or simultaneous confidence sets for ranks (Mogstad et al. 2024).

    Parameters
    ----------
    estimates
        Estimated values, larger is better (rank 1 = largest). A Series keeps its index as ids.
    se, cov
        Exactly one: standard errors of independent estimates, or their covariance matrix.
    coverage
        Nominal coverage, per unit (marginal) or jointly for the requested units (simultaneous).
    simultaneous
        ``False``: for each requested unit its own family (the ``2(p-1)`` hypotheses comparing
        it with every other unit). ``True``: one family, every ordered pair involving at least
        one requested unit, so the sets of all requested units hold jointly.
    indices
        Units to compute sets for: labels of the Series' index, positions otherwise. Default:
        all. The family only involves the pairs of these units (e.g. the top 15 of a class
        of 30 000: about 900 000 hypotheses, not 900 million).
    stepdown
        Re-estimate the critical value on the hypotheses not yet rejected until no new
        rejection (default), or stop after the first step.
    n_boot
        Bootstrap draws of the critical value.
    rng
        A ``numpy.random.Generator`` (or a seed for one); one integer is drawn from it to seed
        the bootstrap, the global NumPy state is never touched.
    method
        ``"auto"``, ``"bootstrap"`` or ``"bonferroni"``: see the module docstring. ``auto``
        uses the bootstrap while ``n_boot x units x (p - 1) <= max_boot_work`` and the valid,
        conservative Bonferroni-Holm critical value for larger families.

    Returns
    -------
    DataFrame indexed by the ids (or positions) of the requested units, in the requested order,
    with ``estimate``, ``rank`` (``1 + #{j: x_j > x_i}``), ``lower`` and ``upper``. ``attrs``
    records the method, the number of hypotheses, the critical value (the first step's; the
    largest over units for marginal sets) and the number of steps.

    With ``coverage > 0.5`` (any sensible use) ``1 <= lower <= rank <= upper <= p``.
    """
    coverage = _check_coverage(coverage)
    model, ids = _as_model(estimates, se, cov)
    units = _resolve_indices(indices, model.p, ids)
    lower, upper, info = _bounds(
        model,
        units,
        coverage=coverage,
        simultaneous=simultaneous,
        stepdown=stepdown,
        n_boot=n_boot,
        rng=_generator(rng),
        method=method,
        max_boot_work=max_boot_work,
    )
    out = _frame(model, ids, units, lower, upper)
    out.attrs.update(info)
    return out


def tau_best_set(
    estimates: pd.Series | Sequence[float] | np.ndarray,
    se: pd.Series | Sequence[float] | np.ndarray | None = None,
    cov: pd.DataFrame | np.ndarray | None = None,
    *,
    tau: int,
    coverage: float = 0.95,
    stepdown: bool = True,
    n_boot: int = DEFAULT_N_BOOT,
    rng: np.random.Generator | int | None = None,
    method: Method = "auto",
    max_boot_work: int = DEFAULT_MAX_BOOT_WORK,
) -> pd.DataFrame:
    """Confidence set for the identities of the tau best units (Mogstad et al. 2024, projection set).

    ``in_tau_best`` flags the units whose simultaneous one-sided lower bound on the rank is at
    most ``tau``: with probability at least ``coverage`` (asymptotically with the bootstrap,
    in finite samples with Bonferroni-Holm) every unit whose true rank is at most ``tau`` is
    flagged. The lower bounds come from the family of every ordered pair (see the module
    docstring); ``upper`` is ``p`` (one-sided sets ``[lower, p]``), as in csranks' cstaubest.

    Parameters are those of :func:`rank_confidence_sets` (all units, simultaneous) plus ``tau``
    (an integer >= 1). Returns ``estimate, rank, lower, upper, in_tau_best`` for every unit.
    For 30 000 units the ``auto`` method uses Bonferroni-Holm: seconds, no draws.
    """
    if isinstance(tau, bool) or int(tau) != tau or tau < 1:
        raise ValueError(f"tau must be an integer >= 1, got {tau}")
    coverage = _check_coverage(coverage)
    model, ids = _as_model(estimates, se, cov)
    units = np.arange(model.p)
    lower, _, info = _bounds(
        model,
        units,
        coverage=coverage,
        simultaneous=True,
        stepdown=stepdown,
        n_boot=n_boot,
        rng=_generator(rng),
        method=method,
        max_boot_work=max_boot_work,
    )
    out = _frame(model, ids, units, lower, np.full(model.p, model.p))
    out["in_tau_best"] = out["lower"] <= int(tau)
    out.attrs.update(info, tau=int(tau))
    return out
