"""Smoothed Kish design effects of clustered counts (see :mod:`barometre.countmodel`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from barometre.countmodel.inputs import (
    DEFAULT_DESIGN_PRIOR_CLUSTERS,
    DEFAULT_MIN_DESIGN_CLUSTERS,
    _as_float,
    _group_codes,
)


@dataclass(frozen=True)
class DesignEffects:
    """Per-unit design effects and the pooled cluster-size moments they were smoothed towards."""

    design_effect: np.ndarray
    mean_cluster_size: float
    pooled_design_effect: float
    n_clusters: float
    group_design_effect: dict[str, float] = field(default_factory=dict)


def design_effects(
    counts: Any,
    clusters: Any,
    cluster_sumsq: Any,
    *,
    usable: np.ndarray | None = None,
    design_groups: Any = None,
    prior_clusters: float = DEFAULT_DESIGN_PRIOR_CLUSTERS,
    min_group_clusters: int = DEFAULT_MIN_DESIGN_CLUSTERS,
) -> DesignEffects:
    """Smoothed Kish design effects ``d_i = (S_i + κ m̂₂)/(y_i + κ m̂)`` (see the module docstring).

    ``clusters`` (``c_i``) and ``cluster_sumsq`` (``S_i = Σ z²``) are per unit; the pooled moments
    ``m̂ = Σy/Σc`` and ``m̂₂ = ΣS/Σc`` are computed over the ``usable`` units with known cluster
    data, within each ``design_groups`` label that has at least ``min_group_clusters`` clusters
    (the national pool otherwise). ``κ = prior_clusters``; ``κ = inf`` uses the pooled ``m̂₂/m̂``
    for every unit, ``κ = 0`` each unit's own ``S_i/y_i`` (pooled when ``y_i = 0``). Units with
    missing cluster data get the pooled value. Raises ``ValueError`` on impossible inputs
    (``y > 0`` without clusters, ``S < y²/c`` which no set of cluster sizes gives, or ``S > 0``
    with ``y = 0``).
    """
    y = _as_float(counts, "counts")
    n = len(y)
    c = _as_float(clusters, "clusters", n)
    s = _as_float(cluster_sumsq, "cluster_sumsq", n)
    if not prior_clusters >= 0:
        raise ValueError("prior_clusters must be non-negative (inf: pooled design effect)")
    use = np.isfinite(y) if usable is None else np.asarray(usable, dtype=bool) & np.isfinite(y)
    known = use & np.isfinite(c) & np.isfinite(s)
    tol = 1e-9
    if np.any(known & (y > 0) & (c <= 0)):
        raise ValueError("a unit has a positive count but no cluster")
    bound = np.divide(y**2, c, out=np.zeros(n), where=known & (c > 0))
    if np.any(known & (s < bound * (1 - tol) - tol)):
        raise ValueError("cluster_sumsq below count²/clusters: no cluster sizes give these sums")
    if np.any(known & (y == 0) & (s > 0)):
        raise ValueError("a unit has a positive cluster_sumsq but a zero count")
    total_y, total_c, total_s = y[known].sum(), c[known].sum(), s[known].sum()
    if not (total_y > 0 and total_c > 0):
        # no clustered event at all: nothing to deflate
        return DesignEffects(np.ones(n), math.nan, 1.0, float(total_c))
    pooled_m, pooled_m2 = total_y / total_c, total_s / total_c
    m = np.full(n, pooled_m)
    m2 = np.full(n, pooled_m2)
    by_group: dict[str, float] = {}
    if design_groups is not None:
        codes, labels = _group_codes(design_groups, n)
        for code, label in enumerate(labels):
            member = known & (codes == code)
            gc, gy = c[member].sum(), y[member].sum()
            if gc >= min_group_clusters and gy > 0:
                m[codes == code] = gy / gc
                m2[codes == code] = s[member].sum() / gc
                by_group[label] = float(s[member].sum() / gy)
    if math.isinf(prior_clusters):
        d = m2 / m
    else:
        num = np.where(known, s, 0.0) + prior_clusters * m2
        den = np.where(known, y, 0.0) + prior_clusters * m
        d = np.divide(num, den, out=m2 / m, where=den > 0)
    return DesignEffects(d, float(pooled_m), float(pooled_m2 / pooled_m), float(total_c), by_group)
