"""Count model for commune indicators: clusters, covariates, département effects, joint draws.

Each indicator is a count ``y_i`` per commune (associations created, campaigns, participants,
volunteer matches …) with an exposure ``E_i`` (the population; or the number of campaigns for
« participants per campaign »). :func:`barometre.smallarea.shrink_rates` fits one gamma prior per
population class by moments. That has three known defects on the baromètre's data:

1. it reads **clustering** as true differences: person counts are sums over clusters (matches
   over missions, participants over campaigns, campaigns over organisations), so one mission
   with 46 matches in a village of 85 inhabitants looks like 46 independent events and the
   village becomes a laureate;
2. the prior of a class ignores what is known about a commune (its size within the class, its
   département), so it shrinks least exactly where the noise is largest;
3. inactive communes (``y = 0``) all get ``a/(b + E_i)``: they are ordered by population alone.

This module replaces it with an empirical Bayes **negative binomial (NB2) regression** on
**design-effect-deflated counts** with **shrunk département effects**, and gives joint posterior
draws that carry the uncertainty of the fitted hyperparameters.

Model
-----

*Clusters (design effect).* The caller gives per commune the number of clusters ``c_i`` and the
sum of squared cluster sizes ``S_i = Σ_j z_ij²`` (``y_i = Σ_j z_ij``). If clusters arrive as a
Poisson process and sizes are independent with moments ``m = E z`` and ``m₂ = E z²``, then
``Var(y_i) = E(y_i) · m₂/m``: the count is over-dispersed by the Kish-type design effect
``d = m₂/m = Σz²/Σz`` (Kish 1965; for a compound Poisson, Cameron & Trivedi 2013 §4.9). Following
Rao & Scott (1992), counts and exposures are divided by it, ``y*_i = y_i/d_i``,
``E*_i = E_i/d_i``: the rate ``y*/E* = y/E`` is unchanged but its information is that of
``y*`` independent events, so one mission with 46 matches weighs like ~1–2 events, not 46. A
commune's own ratio ``S_i/y_i`` is a noisy estimate of ``d`` (one cluster: it is just that
cluster's size, which under-states ``m₂/m`` on average), so it is smoothed towards the pooled
ratio with ``κ`` pseudo-clusters of the pooled size distribution (a credibility estimator)::

    d_i = (S_i + κ m̂₂) / (y_i + κ m̂),    m̂ = Σy/Σc,  m̂₂ = ΣS/Σc   (pooled, or per design group)

so a commune without clusters (``y = 0``) gets the pooled ``d̂ = ΣS/Σy`` and a commune with many
clusters its own ratio. Counts given without cluster information have ``d_i = 1``.

*Prior (regression with département effects).* Given the rate ``θ_i`` per unit of exposure,
``y*_i ~ Poisson(E*_i θ_i)`` and ``θ_i ~ Gamma(shape = 1/α, mean = μ_i)``, with
``log μ_i = x_i'β + u_{g(i)}``: covariates ``x_i`` chosen by the caller (log population,
population-class dummies …) and a département effect ``u_g ~ N(0, τ²)``. Marginally
``y*_i`` is NB2 with mean ``E*_i μ_i`` and variance ``E*_i μ_i (1 + α E*_i μ_i)`` (Cameron &
Trivedi 2013 §3.3; the Poisson regression « interactive multilevel model » of Christiansen &
Morris 1997 has the same structure). ``(β, u, log α)`` maximise the penalised NB2 likelihood
``ℓ(β, u, α) − Σ_g u_g²/(2τ²)`` by Fisher scoring (``β, u``) alternated with a bounded 1-D search
on ``log α``; ``τ²`` is the fixed point ``τ² = Σ û_g² / (G − tr(V_uu)/τ²)`` (MacKay 1992;
the penalised-quasi-likelihood estimate of Breslow & Clayton 1993 with Schall's 1991 update),
``V`` the inverse of the penalised information. The solver exploits that the département block
of the information matrix is diagonal: 35 000 communes × 100 départements fit in well under a
second. With no département and no penalty, it is the maximum likelihood of
``statsmodels.discrete.discrete_model.NegativeBinomial`` (NB2), which the tests check.

*Posterior (conjugate).* ``θ_i | y ~ Gamma(1/α + y*_i, 1/(α μ_i) + E*_i)`` (Clayton & Kaldor
1987): posterior mean ``w_i · y_i/E_i + (1 − w_i) · μ_i`` with data weight
``w_i = α μ_i E*_i / (1 + α μ_i E*_i)``, posterior sd, equal-tailed credible intervals.

*Joint draws.* One draw first draws the hyperparameters ``(β, u, α)`` from a normal
approximation of their posterior: ``V`` the inverse penalised observed information of
``(β, u, log α)``, ``α`` drawn on its natural scale with the delta-method covariance
(``se(α) = α · se(log α)``, as in :meth:`CountModelFit.params_table`; a draw below the lower
bound of ``α`` is reflected above it, which keeps the Poisson limit ``α → 0`` well behaved where
``log α`` has no curvature), then every commune's
rate from its conjugate posterior given those hyperparameters. The communes of one draw share the
hyperparameters, so draws are joint (a national level that is uncertain moves every commune
together), not independent marginals. Draw number ``d`` of seed ``s`` uses its own generator
``Generator(PCG64(SeedSequence(s, spawn_key=(d,))))``, so it can be reproduced on its own: a
caller can generate 10 000 draws chunk by chunk and never hold them all.

Conventions (as :mod:`barometre.smallarea`): a unit with a missing count, a zero or missing
exposure or a missing covariate gets NaN in every derived column and in every draw (it is kept,
never dropped, and does not enter the fit); a unit without département gets ``u = 0`` (the
national level). Rates in :meth:`CountModelFit.summary` are per ``scale`` units of exposure
(1 000 inhabitants by default); draws are per unit of exposure unless a ``scale`` is given.

References:

* Breslow, N. E. & Clayton, D. G. (1993). Approximate inference in generalized linear mixed
  models. *JASA*, 88(421), 9–25.
* Cameron, A. C. & Trivedi, P. K. (2013). *Regression Analysis of Count Data*, 2nd ed. (§3.3:
  NB2 as a Poisson–Gamma mixture; §4.9: compound Poisson counts).
* Christiansen, C. L. & Morris, C. N. (1997). Hierarchical Poisson regression modeling. *JASA*,
  92(438), 618–632.
* Clayton, D. & Kaldor, J. (1987). Empirical Bayes estimates of age-standardized relative risks
  for use in disease mapping. *Biometrics*, 43(3), 671–681.
* Kish, L. (1965). *Survey Sampling*. Wiley (design effect of cluster samples).
* MacKay, D. J. C. (1992). Bayesian interpolation. *Neural Computation*, 4(3), 415–447.
* Rao, J. N. K. & Scott, A. J. (1992). A simple method for the analysis of clustered binary
  data. *Biometrics*, 48(2), 577–585 (dividing counts and sizes by the design effect).
* Schall, R. (1991). Estimation in generalized linear models with random effects.
  *Biometrika*, 78(4), 719–727.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from barometre.geography import DEFAULT_CLASS_LABELS
from barometre.smallarea.inputs import _as_float as _smallarea_float
from barometre.smallarea.inputs import _check_non_negative, _common_index

#: Name of the intercept in :meth:`CountModelFit.params_table`.
INTERCEPT = "(intercept)"
#: Default number of pseudo-clusters of the pooled size distribution in a design effect.
DEFAULT_DESIGN_PRIOR_CLUSTERS = math.inf
#: A design group needs at least this many clusters for its own pooled cluster-size moments.
DEFAULT_MIN_DESIGN_CLUSTERS = 30
#: Bounds of the NB2 dispersion α (α → 0 is the Poisson limit: no latent commune variation).
ALPHA_BOUNDS = (1e-6, 1e3)
#: Bounds of the département standard deviation τ (log-rate scale).
GROUP_SD_BOUNDS = (1e-3, 5.0)


class CountModelWarning(UserWarning):
    """A fit reached a bound or a fallback (no overdispersion, no département variance …)."""


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def _as_float(values: Any, name: str, n: int | None = None) -> np.ndarray:
    """:func:`barometre.smallarea._as_float`, plus the length, finiteness and sign checks."""
    array = _smallarea_float(values, name)
    if n is not None and len(array) != n:
        raise ValueError(f"{name} has {len(array)} values, expected {n}")
    _check_non_negative(array, name)
    return array


def _design(covariates: Any, n: int) -> tuple[np.ndarray, list[str]]:
    """Intercept + the caller's covariates; categorical/text columns become dummies."""
    if covariates is None:
        return np.ones((n, 1)), [INTERCEPT]
    frame = (
        covariates.copy()
        if isinstance(covariates, pd.DataFrame)
        else pd.DataFrame(np.asarray(covariates, dtype=float))
    )
    if len(frame) != n:
        raise ValueError(f"covariates have {len(frame)} rows, expected {n}")
    frame.columns = [str(c) for c in frame.columns]
    if INTERCEPT in frame.columns:
        raise ValueError(f"the intercept is added automatically: drop the column {INTERCEPT!r}")
    parts: list[pd.DataFrame] = []
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            parts.append(values.astype("float64").to_frame(column))
            continue
        dummies = pd.get_dummies(values, prefix=column, prefix_sep="=", drop_first=True)
        dummies = dummies.astype(float)
        dummies.loc[values.isna().to_numpy()] = np.nan
        parts.append(dummies)
    design = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=frame.index)
    matrix = np.column_stack([np.ones(n), design.to_numpy(dtype=float)])
    return matrix, [INTERCEPT, *map(str, design.columns)]


def _group_codes(groups: Any, n: int) -> tuple[np.ndarray, list[str]]:
    """Integer code per unit (−1: no group) and the group labels."""
    if groups is None:
        return np.full(n, -1, dtype=np.int64), []
    series = pd.Series(np.asarray(groups, dtype=object))
    if len(series) != n:
        raise ValueError(f"groups has {len(series)} values, expected {n}")
    missing = series.isna().to_numpy()
    codes, uniques = pd.factorize(series.astype(str).where(~missing), sort=True)
    return np.where(missing, -1, codes).astype(np.int64), [str(u) for u in uniques]


# --------------------------------------------------------------------------------------------
# Design effects
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Penalised NB2 regression
# --------------------------------------------------------------------------------------------


def _nb2_loglike(y: np.ndarray, mu: np.ndarray, alpha: float) -> float:
    r = 1.0 / alpha
    return float(
        np.sum(
            special.gammaln(y + r)
            - special.gammaln(r)
            - special.gammaln(y + 1.0)
            + r * np.log(r / (r + mu))
            + special.xlogy(y, mu / (r + mu))
        )
    )


@dataclass
class _Problem:
    y: np.ndarray  # effective counts of the fitted units
    log_offset: np.ndarray  # log effective exposure
    x: np.ndarray  # covariates with intercept
    g: np.ndarray  # group code, -1 none
    n_groups: int

    def eta(self, beta: np.ndarray, u: np.ndarray) -> np.ndarray:
        eta = self.log_offset + self.x @ beta
        if self.n_groups:
            has = self.g >= 0
            eta[has] += u[self.g[has]]
        return eta

    def group_sum(self, values: np.ndarray) -> np.ndarray:
        has = self.g >= 0
        return np.bincount(self.g[has], weights=values[has], minlength=self.n_groups)

    def info(self, weights: np.ndarray, precision: float) -> np.ndarray:
        """Penalised information of (β, u) for working weights (dense, p+G square)."""
        p, k = self.x.shape[1], self.n_groups
        out = np.empty((p + k, p + k))
        out[:p, :p] = self.x.T @ (self.x * weights[:, None])
        if k:
            cross = np.column_stack([self.group_sum(weights * self.x[:, j]) for j in range(p)])
            out[p:, :p] = cross
            out[:p, p:] = cross.T
            out[p:, p:] = np.diag(self.group_sum(weights) + precision)
        return out

    def gradient(self, resid: np.ndarray, u: np.ndarray, precision: float) -> np.ndarray:
        grad = self.x.T @ resid
        if self.n_groups:
            grad = np.concatenate([grad, self.group_sum(resid) - precision * u])
        return grad


def _penalised(problem: _Problem, beta, u, alpha, precision) -> float:
    mu = np.exp(problem.eta(beta, u))
    return _nb2_loglike(problem.y, mu, alpha) - 0.5 * precision * float(u @ u)


def _fit_mean(problem: _Problem, beta, u, alpha, precision, max_iter=100, tol=1e-10):
    """Fisher scoring with step halving for (β, u) at fixed α and precision 1/τ²."""
    p = problem.x.shape[1]
    current = _penalised(problem, beta, u, alpha, precision)
    for _ in range(max_iter):
        mu = np.exp(problem.eta(beta, u))
        weights = mu / (1.0 + alpha * mu)
        resid = (problem.y - mu) / (1.0 + alpha * mu)
        grad = problem.gradient(resid, u, precision)
        step = np.linalg.solve(problem.info(weights, precision), grad)
        size = 1.0
        for _ in range(40):
            new_beta, new_u = beta + size * step[:p], u + size * step[p:]
            value = _penalised(problem, new_beta, new_u, alpha, precision)
            if np.isfinite(value) and value >= current - 1e-12 * abs(current):
                break
            size /= 2.0
        else:
            break
        beta, u = new_beta, new_u
        gain, current = value - current, value
        if np.max(np.abs(size * step)) < tol or abs(gain) < 1e-14 * (1.0 + abs(current)):
            break
    return beta, u, current


def _fit_alpha(problem: _Problem, beta, u) -> float:
    mu = np.exp(problem.eta(beta, u))
    lo, hi = np.log(ALPHA_BOUNDS[0]), np.log(ALPHA_BOUNDS[1])
    result = optimize.minimize_scalar(
        lambda w: -_nb2_loglike(problem.y, mu, math.exp(w)),
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": 1e-7},
    )
    return float(math.exp(result.x))


def _observed_information(problem: _Problem, beta, u, alpha, precision) -> np.ndarray:
    """Negative Hessian of the penalised log-likelihood in (β, u, ω = log α)."""
    y = problem.y
    mu = np.exp(problem.eta(beta, u))
    r = 1.0 / alpha
    w_eta = mu * (1.0 + alpha * y) / (1.0 + alpha * mu) ** 2
    info_mean = problem.info(w_eta, precision)
    # d²ℓ/dω dη = −r (y − μ) μ / (r + μ)² ; d²ℓ/dω² = r² ℓ_rr + r ℓ_r
    h_cross = -r * (y - mu) * mu / (r + mu) ** 2
    cross = problem.x.T @ h_cross
    if problem.n_groups:
        cross = np.concatenate([cross, problem.group_sum(h_cross)])
    l_r = special.digamma(y + r) - special.digamma(r) + np.log(r / (r + mu)) + (mu - y) / (r + mu)
    l_rr = (
        special.polygamma(1, y + r)
        - special.polygamma(1, r)
        + 1.0 / r
        - 1.0 / (r + mu)
        - (mu - y) / (r + mu) ** 2
    )
    h_ww = float(np.sum(r**2 * l_rr + r * l_r))
    k = info_mean.shape[0]
    out = np.empty((k + 1, k + 1))
    out[:k, :k] = info_mean
    out[:k, k] = -cross
    out[k, :k] = -cross
    out[k, k] = -h_ww
    return out


def _safe_inverse(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric information matrix, eigenvalues floored if not positive definite."""
    sym = 0.5 * (matrix + matrix.T)
    try:
        np.linalg.cholesky(sym)
        return np.linalg.inv(sym)
    except np.linalg.LinAlgError:
        values, vectors = np.linalg.eigh(sym)
        floor = max(values.max(), 1.0) * 1e-10
        return (vectors / np.maximum(values, floor)) @ vectors.T


@dataclass(frozen=True)
class _Estimate:
    beta: np.ndarray
    u: np.ndarray
    alpha: float
    group_sd: float
    covariance: np.ndarray  # (β, u, log α)
    loglike: float
    n_outer: int
    converged: bool


def _estimate(
    problem: _Problem,
    *,
    alpha: float | None,
    group_sd: float | None,
    max_outer: int = 200,
) -> _Estimate:
    p, k = problem.x.shape[1], problem.n_groups
    rank = np.linalg.matrix_rank(problem.x)
    if rank < p:
        raise ValueError(
            f"the covariates are collinear (rank {rank} < {p} columns with the intercept)"
        )
    beta = np.zeros(p)
    beta[0] = math.log(problem.y.sum() / np.exp(problem.log_offset).sum())
    u = np.zeros(k)
    a = 1.0 if alpha is None else float(alpha)
    estimate_tau = k > 0 and group_sd is None
    tau = 0.3 if group_sd is None else float(group_sd)
    precision = 1.0 / tau**2 if k else 0.0
    previous = -np.inf
    converged = False
    outer = 0
    for outer in range(1, max_outer + 1):
        beta, u, value = _fit_mean(problem, beta, u, a, precision)
        if alpha is None:
            a = _fit_alpha(problem, beta, u)
            beta, u, value = _fit_mean(problem, beta, u, a, precision)
        new_tau = tau
        if estimate_tau:
            info = _observed_information(problem, beta, u, a, precision)
            cov = _safe_inverse(info)
            trace = float(np.trace(cov[p : p + k, p : p + k]))
            effective = max(k - trace * precision, 1e-6)
            new_tau = float(np.clip(math.sqrt(float(u @ u) / effective), *GROUP_SD_BOUNDS))
        done = (
            abs(value - previous) < 1e-8 * (1.0 + abs(value))
            and abs(math.log(new_tau / tau)) < 1e-4
        )
        tau, previous = new_tau, value
        precision = 1.0 / tau**2 if k else 0.0
        if done:
            converged = True
            break
    beta, u, value = _fit_mean(problem, beta, u, a, precision)
    info = _observed_information(problem, beta, u, a, precision)
    if alpha is not None:
        info[-1, :] = 0.0
        info[:, -1] = 0.0
        info[-1, -1] = 1.0
    cov = _safe_inverse(info)
    if alpha is not None:
        cov[-1, :] = 0.0
        cov[:, -1] = 0.0
    return _Estimate(beta, u, a, tau if k else math.nan, cov, value, outer, converged)


# --------------------------------------------------------------------------------------------
# Fit
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountModelFit:
    """A fitted count model: hyperparameters, per-unit posteriors, joint draws.

    Arrays are per unit, in input order; unusable units have NaN in every derived array.
    ``covariance`` is the approximate posterior covariance of ``(β, u, log α)`` (inverse of the
    penalised observed information), the basis of the hyperparameter part of the draws.
    """

    name: str
    index: pd.Index
    counts: np.ndarray
    exposure: np.ndarray
    clusters: np.ndarray
    usable: np.ndarray
    design_effect: np.ndarray
    effective_counts: np.ndarray
    effective_exposure: np.ndarray
    terms: list[str]
    x: np.ndarray
    group_codes: np.ndarray
    group_labels: list[str]
    beta: np.ndarray
    group_effects: np.ndarray
    alpha: float
    group_sd: float
    covariance: np.ndarray
    loglike: float
    converged: bool
    mean_cluster_size: float
    pooled_design_effect: float
    alpha_fixed: bool
    group_sd_fixed: bool
    credible: float = 0.90
    scale: float = 1000.0

    # -- point posterior -------------------------------------------------------------------

    @property
    def n_units(self) -> int:
        return len(self.counts)

    @property
    def n_fitted(self) -> int:
        return int(self.usable.sum())

    def _eta(self, beta: np.ndarray, u: np.ndarray) -> np.ndarray:
        eta = np.full(self.n_units, np.nan)
        rows = self.usable
        eta[rows] = self.x[rows] @ beta
        g = self.group_codes[rows]
        if len(u):
            eta_rows = eta[rows]
            has = g >= 0
            eta_rows[has] += u[g[has]]
            eta[rows] = eta_rows
        return eta

    @property
    def prior_mean(self) -> np.ndarray:
        """μ_i = exp(x_i'β + u_g), the prior mean rate per unit of exposure."""
        return np.exp(self._eta(self.beta, self.group_effects))

    @property
    def posterior_shape(self) -> np.ndarray:
        return 1.0 / self.alpha + self.effective_counts

    @property
    def posterior_rate(self) -> np.ndarray:
        return 1.0 / (self.alpha * self.prior_mean) + self.effective_exposure

    @property
    def data_weight(self) -> np.ndarray:
        """Share of the posterior mean that comes from the unit's own rate, α μ E*/(1 + α μ E*)."""
        q = self.alpha * self.prior_mean * self.effective_exposure
        return q / (1.0 + q)

    def summary(self, credible: float | None = None, scale: float | None = None) -> pd.DataFrame:
        """One row per unit (input index), rates per ``scale`` units of exposure.

        Columns: ``count``, ``exposure``, ``clusters``, ``design_effect``, ``effective_count``
        (``y/d``), ``effective_exposure`` (``E/d``), ``raw_rate`` (``y/E``), ``prior_mean``
        (``μ_i``), ``posterior_mean``, ``posterior_sd``, ``lower``/``upper`` (equal-tailed
        ``credible`` interval of the gamma posterior), ``data_weight`` (share of the posterior
        mean from the unit's own rate), ``shrinkage_weight`` (``1 − data_weight``, the weight of
        the prior mean, as in :func:`barometre.smallarea.posterior_rates`), ``group`` and
        ``group_effect`` (``u_g`` on the log scale). These are plug-in (empirical Bayes)
        posteriors given the fitted hyperparameters; :meth:`summary_from_draws` integrates
        their uncertainty too.
        """
        level = self.credible if credible is None else credible
        if not 0 < level < 1:
            raise ValueError(f"credible must be in (0, 1), got {level}")
        factor = self.scale if scale is None else scale
        shape, rate = self.posterior_shape, self.posterior_rate
        tail = (1.0 - level) / 2.0
        with np.errstate(invalid="ignore", divide="ignore"):
            raw = np.where(self.usable, self.counts / self.exposure, np.nan)
            lower = stats.gamma.ppf(tail, shape, scale=1.0 / rate)
            upper = stats.gamma.ppf(1.0 - tail, shape, scale=1.0 / rate)
        weight = self.data_weight
        labels = np.array([*self.group_labels, None], dtype=object)[self.group_codes]
        u = np.append(self.group_effects, np.nan)[self.group_codes]
        return pd.DataFrame(
            {
                "count": self.counts,
                "exposure": self.exposure,
                "clusters": self.clusters,
                "design_effect": self.design_effect,
                "effective_count": self.effective_counts,
                "effective_exposure": self.effective_exposure,
                "raw_rate": raw * factor,
                "prior_mean": self.prior_mean * factor,
                "posterior_mean": shape / rate * factor,
                "posterior_sd": np.sqrt(shape) / rate * factor,
                "lower": lower * factor,
                "upper": upper * factor,
                "data_weight": weight,
                "shrinkage_weight": 1.0 - weight,
                "group": labels,
                "group_effect": np.where(self.usable, u, np.nan),
            },
            index=self.index,
        )

    def without_group_credit(self) -> CountModelFit:
        """The same fit, with each unit's posterior taken under a prior that ignores its group.

        The département effects are estimated (they keep β and α free of confounding), but a
        commune is not credited with its département's level: its prior is the national
        distribution for its covariates, the mixture over ``u ~ N(0, τ²)`` of the gamma prior,
        matched in mean and variance by a gamma (mean ``exp(x'β + τ²/2)``, squared coefficient
        of variation ``α' = (1 + α)·exp(τ²) − 1``). So an inactive village of an active
        département is not ranked above an active village elsewhere. Draws keep the uncertainty
        of β and α; the intercept and α of :meth:`params_table` are then these adjusted values.
        """
        if not len(self.group_effects) or not np.any(self.group_codes >= 0):
            return self
        tau2 = float(self.group_sd) ** 2
        beta = self.beta.copy()
        if INTERCEPT in self.terms:
            beta[self.terms.index(INTERCEPT)] += tau2 / 2.0
        return dataclasses.replace(
            self,
            beta=beta,
            alpha=(1.0 + self.alpha) * math.exp(tau2) - 1.0,
            group_codes=np.full_like(self.group_codes, -1),
        )

    def censored_expectation(self, lower: int, upper: int) -> np.ndarray:
        """Per unit, ``E[y | lower ≤ y ≤ upper]`` under the unit's prior predictive.

        The predictive of the deflated count ``y* = y/d`` is NB2 with mean ``E*μ`` and
        dispersion ``α`` (module docstring); each integer ``y`` of the range is weighted by
        that kernel at ``y/d``, ``Γ(y* + 1/α)/Γ(y* + 1) · (αE*μ/(1 + αE*μ))^y*``. NaN for
        unusable units."""
        if lower < 0 or upper < lower:
            raise ValueError(f"need 0 <= lower <= upper, got {lower}, {upper}")
        values = np.arange(lower, upper + 1, dtype=float)
        d = self.design_effect[:, None]
        mean = (self.effective_exposure * self.prior_mean)[:, None]
        size = 1.0 / self.alpha
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: unusable units
            y_star = values[None, :] / d
            log_kernel = (
                special.gammaln(y_star + size)
                - special.gammaln(y_star + 1.0)
                + y_star * np.log(self.alpha * mean / (1.0 + self.alpha * mean))
            )
            log_kernel -= np.nanmax(log_kernel, axis=1, keepdims=True)
            weights = np.exp(log_kernel)
            expectation = (weights * values[None, :]).sum(axis=1) / weights.sum(axis=1)
        return np.where(self.usable, expectation, np.nan)

    def with_censored_counts(self, censored: Any, lower: int, upper: int) -> CountModelFit:
        """The same fit, in which each ``censored`` unit is known only to have a count in
        ``[lower, upper]`` (a count published as « < 11 » for disclosure control).

        The posterior given that interval is the mixture over the range of the conjugate
        posteriors; its mean is the conjugate posterior mean at the censored expectation
        :meth:`censored_expectation` (the posterior mean is linear in ``y*``), so the count of
        a censored unit is replaced by that expectation, which depends only on the unit's
        exposure, covariates and the hyperparameters. Posterior means, intervals and draws of
        the returned fit then reveal nothing of a censored count beyond its range; the
        hyperparameters stay those fitted on the exact counts. Draws use the same substitution
        (they omit the spread of the count within its range)."""
        mask = np.asarray(censored, dtype=bool) & self.usable
        if mask.shape != self.counts.shape:
            raise ValueError("censored must have one flag per unit")
        if not mask.any():
            return self
        expected = self.censored_expectation(lower, upper)
        counts = self.counts.astype(float).copy()
        counts[mask] = expected[mask]
        effective = self.effective_counts.astype(float).copy()
        effective[mask] = expected[mask] / self.design_effect[mask]
        return dataclasses.replace(self, counts=counts, effective_counts=effective)

    # -- tables ----------------------------------------------------------------------------

    def params_table(self) -> pd.DataFrame:
        """Hyperparameters for a methodology annex: ``term``, ``estimate``, ``se``.

        Rows: the regression coefficients (log-rate scale, intercept = log rate per unit of
        exposure at zero covariates), ``département sd (τ)`` (se not estimated),
        ``dispersion α`` (se by the delta method from ``log α``), ``mean design effect`` (over
        fitted units), ``pooled design effect`` and ``mean cluster size`` (NaN without clusters),
        ``units fitted`` and ``groups``.
        """
        se = np.sqrt(np.clip(np.diag(self.covariance), 0.0, None))
        p = len(self.beta)
        rows: list[tuple[str, float, float]] = [
            (term, float(b), float(s)) for term, b, s in zip(self.terms, self.beta, se[:p])
        ]
        rows.append(("département sd (τ)", self.group_sd, math.nan))
        rows.append(
            ("dispersion α", self.alpha, math.nan if self.alpha_fixed else self.alpha * se[-1])
        )
        rows.append(
            ("mean design effect", float(np.mean(self.design_effect[self.usable])), math.nan)
        )
        rows.append(("pooled design effect", self.pooled_design_effect, math.nan))
        rows.append(("mean cluster size", self.mean_cluster_size, math.nan))
        rows.append(("units fitted", float(self.n_fitted), math.nan))
        rows.append(("groups", float(len(self.group_labels)), math.nan))
        return pd.DataFrame(rows, columns=["term", "estimate", "se"])

    def group_table(self) -> pd.DataFrame:
        """Département effects ``u_g`` (log scale) with their se and number of fitted units."""
        p = len(self.beta)
        se = np.sqrt(np.clip(np.diag(self.covariance), 0.0, None))[p : p + len(self.group_labels)]
        fitted = self.group_codes[self.usable]
        n = np.bincount(fitted[fitted >= 0], minlength=len(self.group_labels))
        return pd.DataFrame(
            {"group": self.group_labels, "n_units": n, "estimate": self.group_effects, "se": se}
        )

    # -- draws -----------------------------------------------------------------------------

    @functools.cached_property
    def _hyper_factor_cached(self) -> np.ndarray:
        # computed once per fit (an eigendecomposition per call of draws_for was the slowest
        # part of small batches); cached_property writes the instance dict, which a frozen
        # dataclass allows
        cov = 0.5 * (self.covariance + self.covariance.T)
        values, vectors = np.linalg.eigh(cov)
        return vectors * np.sqrt(np.clip(values, 0.0, None))

    def _hyper_factor(self) -> np.ndarray:
        return self._hyper_factor_cached

    def _one_draw(
        self, rng: np.random.Generator, factor: np.ndarray | None, out: np.ndarray
    ) -> None:
        k = self.covariance.shape[0]
        p, g = len(self.beta), len(self.group_effects)
        if factor is None:
            beta, u, alpha = self.beta, self.group_effects, self.alpha
        else:
            shift = factor @ rng.standard_normal(k)
            beta = self.beta + shift[:p]
            u = self.group_effects + shift[p : p + g]
            alpha = self.alpha * (1.0 + shift[-1])  # delta method: dα = α d(log α)
            if alpha < ALPHA_BOUNDS[0]:
                alpha = 2.0 * ALPHA_BOUNDS[0] - alpha  # reflected at the lower bound
        rows = self.usable
        mu = np.exp(self._eta(beta, u)[rows])
        shape = 1.0 / alpha + self.effective_counts[rows]
        rate = 1.0 / (alpha * mu) + self.effective_exposure[rows]
        out[:] = np.nan
        out[rows] = rng.standard_gamma(shape) / rate

    def draws_for(
        self,
        draw_ids: Iterable[int],
        seed: int,
        *,
        hyperparameters: bool = True,
        scale: float = 1.0,
        dtype: Any = np.float64,
    ) -> np.ndarray:
        """Joint posterior draws number ``draw_ids`` of ``seed``: array (len(draw_ids), n_units).

        Row ``j`` is draw ``draw_ids[j]``, generated by its own
        ``Generator(PCG64(SeedSequence(seed, spawn_key=(draw_ids[j],))))``: identical, byte for
        byte, whatever the other ids of the batch. ``hyperparameters=False`` keeps
        ``(β, u, α)`` at their estimates (plug-in draws, independent across units). Rates per
        unit of exposure times ``scale``; unusable units are NaN.
        """
        ids = [int(d) for d in draw_ids]
        if any(d < 0 for d in ids):
            raise ValueError("draw ids must be non-negative integers")
        factor = self._hyper_factor() if hyperparameters else None
        out = np.empty((len(ids), self.n_units), dtype=dtype)
        row = np.empty(self.n_units)
        for j, d in enumerate(ids):
            rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(d,))))
            self._one_draw(rng, factor, row)
            out[j] = row * scale
        return out

    def draw(self, draw_id: int, seed: int, **kwargs: Any) -> np.ndarray:
        """Draw number ``draw_id`` of ``seed`` alone (one row of :meth:`draws_for`)."""
        return self.draws_for([draw_id], seed, **kwargs)[0]

    def draws(self, n_draws: int, rng: np.random.Generator | int, **kwargs: Any) -> np.ndarray:
        """``n_draws`` joint draws (n_draws, n_units): draws ``0 … n_draws−1`` of a seed.

        ``rng`` is the seed itself (an int) or a generator from which one seed is taken, so the
        result equals ``draws_for(range(n_draws), seed)``.
        """
        seed = int(rng.integers(2**63)) if isinstance(rng, np.random.Generator) else int(rng)
        return self.draws_for(range(n_draws), seed, **kwargs)

    def summary_from_draws(
        self,
        n_draws: int = 2000,
        seed: int = 0,
        credible: float | None = None,
        scale: float | None = None,
        chunk: int = 250,
    ) -> pd.DataFrame:
        """Monte-Carlo posterior summaries that integrate the hyperparameter uncertainty.

        Columns ``posterior_mean``, ``posterior_sd``, ``lower``, ``upper`` (per ``scale``),
        computed chunk by chunk from :meth:`draws_for` (``range(n_draws)`` of ``seed``); the
        quantiles need all draws of a unit, so memory is ``n_draws × n_units`` floats.
        """
        level = self.credible if credible is None else credible
        factor = self.scale if scale is None else scale
        parts = [
            self.draws_for(range(start, min(start + chunk, n_draws)), seed, scale=factor)
            for start in range(0, n_draws, chunk)
        ]
        sample = np.concatenate(parts, axis=0)
        tail = (1.0 - level) / 2.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            lower, upper = np.nanquantile(sample, [tail, 1.0 - tail], axis=0)
            return pd.DataFrame(
                {
                    "posterior_mean": sample.mean(axis=0),
                    "posterior_sd": sample.std(axis=0, ddof=1),
                    "lower": lower,
                    "upper": upper,
                },
                index=self.index,
            )


def fit_count_model(
    counts: Any,
    exposure: Any,
    covariates: pd.DataFrame | None = None,
    clusters: Any = None,
    cluster_sumsq: Any = None,
    groups: Any = None,
    *,
    design_groups: Any = None,
    design_prior_clusters: float = DEFAULT_DESIGN_PRIOR_CLUSTERS,
    alpha: float | None = None,
    group_sd: float | None = None,
    credible: float = 0.90,
    scale: float = 1000.0,
    name: str = "",
) -> CountModelFit:
    """Fit the clustered NB2 regression with département effects (see the module docstring).

    * ``counts``, ``exposure``: per unit; ``clusters``/``cluster_sumsq``: number of clusters and
      sum of squared cluster sizes per unit (both or neither; ``None``: not clustered, ``d = 1``);
    * ``covariates``: a DataFrame (or array) of per-unit covariates, aligned with the counts; an
      intercept is added; categorical/text columns become dummies (first level as reference);
    * ``groups``: département (or other) labels, shrunk random effects ``u_g ~ N(0, τ²)``;
      ``group_sd`` fixes ``τ`` instead of estimating it;
    * ``design_groups``: labels within which the pooled cluster-size moments are computed;
      ``design_prior_clusters``: ``κ`` of :func:`design_effects`;
    * ``alpha``: fixes the NB2 dispersion instead of estimating it (no hyperparameter draw for it).

    Raises ``ValueError`` for negative or infinite inputs, misaligned pandas inputs, collinear
    covariates, fewer than two usable units or no event.
    """
    y = _as_float(counts, "counts")
    n = len(y)
    e = _as_float(exposure, "exposure", n)
    index = _common_index(n, counts, exposure, covariates, clusters, cluster_sumsq, groups)
    x, terms = _design(covariates, n)
    codes, labels = _group_codes(groups, n)
    usable = np.isfinite(y) & np.isfinite(e) & (e > 0) & np.all(np.isfinite(x), axis=1)
    if (clusters is None) != (cluster_sumsq is None):
        raise ValueError("give both clusters and cluster_sumsq, or neither")
    if clusters is None:
        c = np.full(n, np.nan)
        effects = DesignEffects(np.ones(n), math.nan, 1.0, 0.0)
    else:
        c = _as_float(clusters, "clusters", n)
        effects = design_effects(
            y,
            c,
            cluster_sumsq,
            usable=usable,
            design_groups=design_groups,
            prior_clusters=design_prior_clusters,
        )
    if int(usable.sum()) < 2:
        raise ValueError("at least two units with a count and a positive exposure are needed")
    if not y[usable].sum() > 0:
        raise ValueError("no event in the data: the prior mean would be zero")
    if alpha is not None and not alpha > 0:
        raise ValueError("alpha must be positive")
    if group_sd is not None and not group_sd > 0:
        raise ValueError("group_sd must be positive")
    d = np.where(usable, effects.design_effect, np.nan)
    y_eff, e_eff = y / d, e / d
    # only groups with fitted units get an effect; others keep u = 0 (national level)
    fitted_codes = codes[usable]
    present = np.unique(fitted_codes[fitted_codes >= 0])
    remap = np.full(len(labels) + 1, -1, dtype=np.int64)
    remap[present] = np.arange(len(present))
    codes = np.where(codes >= 0, remap[codes], -1)
    labels = [labels[i] for i in present]
    problem = _Problem(y_eff[usable], np.log(e_eff[usable]), x[usable], codes[usable], len(labels))
    estimate = _estimate(problem, alpha=alpha, group_sd=group_sd)
    if not estimate.converged:
        warnings.warn(
            f"count model {name!r}: the alternating fit did not converge",
            CountModelWarning,
            stacklevel=2,
        )
    if alpha is None and estimate.alpha <= ALPHA_BOUNDS[0] * 1.1:
        warnings.warn(
            f"count model {name!r}: no overdispersion beyond the design effect (α at its lower "
            "bound): the posteriors sit at the regression prediction",
            CountModelWarning,
            stacklevel=2,
        )
    return CountModelFit(
        name=name,
        index=index,
        counts=y,
        exposure=e,
        clusters=c,
        usable=usable,
        design_effect=d,
        effective_counts=np.where(usable, y_eff, np.nan),
        effective_exposure=np.where(usable, e_eff, np.nan),
        terms=terms,
        x=x,
        group_codes=codes,
        group_labels=labels,
        beta=estimate.beta,
        group_effects=estimate.u,
        alpha=estimate.alpha,
        group_sd=estimate.group_sd,
        covariance=estimate.covariance,
        loglike=estimate.loglike,
        converged=estimate.converged,
        mean_cluster_size=effects.mean_cluster_size,
        pooled_design_effect=effects.pooled_design_effect,
        alpha_fixed=alpha is not None,
        group_sd_fixed=group_sd is not None,
        credible=credible,
        scale=scale,
    )


# --------------------------------------------------------------------------------------------
# Commune tables
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorSpec:
    """Columns of one indicator in a commune table (see :func:`fit_indicator_models`).

    ``clusters``/``cluster_sumsq``: column names, or ``None`` for a count that is not clustered;
    ``covariates``: extra table columns added to :func:`commune_design`; ``groups``: the column
    of the shrunk effects (``None``: none); ``design_groups``: the column within which the pooled
    cluster sizes are computed (``None``: national).
    """

    name: str
    count: str
    exposure: str = "population"
    clusters: str | None = None
    cluster_sumsq: str | None = None
    covariates: Sequence[str] = ()
    groups: str | None = "code_departement"
    design_groups: str | None = None


def commune_design(table: pd.DataFrame) -> pd.DataFrame:
    """Default covariates of a commune: ``log_population`` (``log(population/1000)``) and the
    ``population_class`` dummies, same index as ``table``. The first class is the reference:
    the first category of a categorical column, else « Village » for the baromètre's labels
    (:data:`barometre.geography.DEFAULT_CLASS_LABELS`), else the first label in sorted order."""
    population = pd.to_numeric(table["population"], errors="coerce").astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_pop = np.log(population.where(population > 0) / 1000.0)
    design = pd.DataFrame({"log_population": log_pop}, index=table.index)
    classes = table["population_class"]
    if not isinstance(classes.dtype, pd.CategoricalDtype):
        known = set(classes.dropna().astype(str)) <= set(DEFAULT_CLASS_LABELS)
        order = list(DEFAULT_CLASS_LABELS) if known else sorted(set(classes.dropna().astype(str)))
        classes = pd.Categorical(classes.astype("string"), categories=order)
        classes = pd.Series(classes, index=table.index)
    classes = classes.cat.remove_unused_categories()
    design["population_class"] = classes
    return design


def fit_indicator_models(
    table: pd.DataFrame, specs: Sequence[IndicatorSpec], **kwargs: Any
) -> dict[str, CountModelFit]:
    """Fit :func:`fit_count_model` for each spec on a commune table.

    ``table`` has ``code_commune``, ``population``, ``population_class``, ``code_departement``
    and the columns the specs name; the fits are indexed by ``code_commune``. ``kwargs`` go to
    :func:`fit_count_model` (e.g. ``credible``, ``scale``).
    """
    frame = table.set_index("code_commune", drop=False)
    base = commune_design(frame)
    fits: dict[str, CountModelFit] = {}
    for spec in specs:
        covariates = pd.concat([base, frame[list(spec.covariates)]], axis=1)
        fits[spec.name] = fit_count_model(
            frame[spec.count],
            frame[spec.exposure],
            covariates,
            clusters=None if spec.clusters is None else frame[spec.clusters],
            cluster_sumsq=None if spec.cluster_sumsq is None else frame[spec.cluster_sumsq],
            groups=None if spec.groups is None else frame[spec.groups],
            design_groups=None if spec.design_groups is None else frame[spec.design_groups],
            name=spec.name,
            **kwargs,
        )
    return fits
