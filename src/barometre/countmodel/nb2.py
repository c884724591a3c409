"""Penalised NB2 regression with shrunk group effects: Fisher scoring, α search, τ² update."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from barometre.countmodel.inputs import ALPHA_BOUNDS, GROUP_SD_BOUNDS


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
