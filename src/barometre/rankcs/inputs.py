"""Rank confidence sets: the estimates' model, input checks, point ranks, Bonferroni values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.special import ndtri

Method = Literal["auto", "bootstrap", "bonferroni"]

DEFAULT_N_BOOT = 100_000
"""Bootstrap draws by default (the reference computations of csranks use 100 000)."""

DEFAULT_MAX_BOOT_WORK = 500_000_000
"""Above ``n_boot x pairs`` the ``auto`` method uses the Bonferroni-Holm critical value."""

_CACHE_ELEMS = 25_000_000  # floats kept across step-down steps (200 MB)
_BLOCK_ELEMS = 4_000_000  # floats of one working block (32 MB)
_ROW_CHUNK = 64  # rows of one block of the pair counting
_REL_MARGIN = 1e-9  # safety margin of the "certainly rejected / certainly not" regions


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
