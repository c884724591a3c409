"""Bootstrap critical values of the rank confidence sets (memory-bounded draws, step-down)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from barometre.rankcs.inputs import _BLOCK_ELEMS, _CACHE_ELEMS, _Model


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
