"""Gamma prior of the Poisson–Gamma model, estimated by moments (Marshall, 1991) or by the
negative binomial marginal likelihood; see :mod:`barometre.smallarea`."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from barometre.smallarea.inputs import (
    SmallAreaWarning,
    _as_float,
    _check_lengths,
    _check_non_negative,
    _usable,
)

PriorMethod = Literal["moments", "negbin"]

#: Label of the pooled prior in ``prior_group`` columns.
POOLED = "(pooled)"
#: Default cap on the prior shape: a prior coefficient of variation of 1 % (see fit_gamma_prior).
DEFAULT_MAX_ALPHA = 1e4
#: Default minimum number of usable units for a group to get its own prior.
DEFAULT_MIN_GROUP_SIZE = 30


# --------------------------------------------------------------------------------------------
# Gamma prior
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GammaPrior:
    """Gamma(shape=alpha, rate=beta) prior on the rate per unit of exposure.

    ``method`` is the estimator actually used (``"moments"``, ``"negbin"``, or
    ``"moments (negbin failed)"``); ``n_units`` the number of usable units it was fitted on;
    ``variance_floored`` is true when the data showed no between-unit variance beyond Poisson
    noise and ``alpha`` was capped (near-complete pooling towards the mean).
    """

    alpha: float
    beta: float
    method: str = "moments"
    n_units: int = 0
    variance_floored: bool = False

    @property
    def mean(self) -> float:
        """Prior mean rate per unit of exposure, alpha / beta."""
        return self.alpha / self.beta

    @property
    def variance(self) -> float:
        """Prior variance of the rate per unit of exposure, alpha / beta**2."""
        return self.alpha / self.beta**2


def _moments_prior(
    counts: np.ndarray, exposure: np.ndarray, max_alpha: float, n_units: int
) -> GammaPrior:
    """Marshall's (1991) global moment estimator of the gamma prior.

    With ``m = Σy / ΣE`` and ``s² = Σ E_i (y_i/E_i − m)² / ΣE``, the between-unit variance of the
    rates is ``v = s² − m / Ē`` (``Ē`` the mean exposure): the observed weighted variance minus
    the expected Poisson part. Then ``α = m² / v`` and ``β = m / v``.
    """
    mean_rate = counts.sum() / exposure.sum()
    raw = counts / exposure
    weighted_variance = np.sum(exposure * (raw - mean_rate) ** 2) / exposure.sum()
    between_variance = weighted_variance - mean_rate / exposure.mean()
    # Guard (Marshall 1991, and spdep::EBest, set v to 0 when negative): a non-positive or tiny
    # v means the spread of the rates is no larger than Poisson noise. v = 0 would be an infinite
    # shape; cap the shape instead, i.e. floor v at mean² / max_alpha.
    floor = mean_rate**2 / max_alpha
    if not between_variance > floor:
        return GammaPrior(max_alpha, max_alpha / mean_rate, "moments", n_units, True)
    alpha = mean_rate**2 / between_variance
    return GammaPrior(float(alpha), float(alpha / mean_rate), "moments", n_units, False)


def _negbin_prior(
    counts: np.ndarray, exposure: np.ndarray, max_alpha: float, n_units: int
) -> GammaPrior:
    """Gamma prior from an intercept-only NB2 regression with log(exposure) offset.

    If ``y | θ ~ Poisson(E θ)`` and ``θ ~ Gamma(α, β)``, then marginally ``y`` is negative
    binomial with mean ``μ = E α/β`` and variance ``μ + μ²/α`` (NB2, Cameron & Trivedi §3.3).
    statsmodels' dispersion parameter is therefore ``1/α`` and its intercept is ``log(α/β)``.
    """
    import statsmodels.api as sm  # local import: statsmodels is slow to import

    moments = _moments_prior(counts, exposure, max_alpha, n_units)
    start = np.array([np.log(moments.mean), max(1.0 / moments.alpha, 1e-3)])
    model = sm.NegativeBinomial(
        counts, np.ones((len(counts), 1)), exposure=exposure, loglike_method="nb2"
    )
    with warnings.catch_warnings():
        # Convergence trouble is detected below and handled by a declared fallback.
        warnings.simplefilter("ignore")
        try:
            result = model.fit(start_params=start, disp=0, maxiter=500)
            params = np.asarray(result.params, dtype=float)
            converged = bool(result.mle_retvals.get("converged", False))
        except (np.linalg.LinAlgError, ValueError, OverflowError):
            params, converged = np.array([np.nan, np.nan]), False
    if not converged or not np.all(np.isfinite(params)):
        warnings.warn(
            "negative binomial fit did not converge; using the moment estimator instead",
            SmallAreaWarning,
            stacklevel=3,
        )
        return GammaPrior(
            moments.alpha,
            moments.beta,
            "moments (negbin failed)",
            n_units,
            moments.variance_floored,
        )
    mean_rate = float(np.exp(params[0]))
    dispersion = float(params[1])
    if not dispersion > 1.0 / max_alpha:
        return GammaPrior(max_alpha, max_alpha / mean_rate, "negbin", n_units, True)
    alpha = 1.0 / dispersion
    return GammaPrior(alpha, alpha / mean_rate, "negbin", n_units, False)


def fit_gamma_prior(
    counts: Any,
    exposure: Any,
    method: PriorMethod = "moments",
    *,
    max_alpha: float = DEFAULT_MAX_ALPHA,
) -> GammaPrior:
    """Estimate the Gamma(alpha, beta) prior of the per-exposure rates of a set of units.

    Only usable units (known count, known positive exposure) enter the fit.

    * ``method="moments"``: Marshall's (1991) closed-form global estimator for the Poisson–Gamma
      model of Clayton & Kaldor (1987) (see ``_moments_prior``).
    * ``method="negbin"``: maximum likelihood of the marginal negative binomial (NB2) with
      ``log(exposure)`` offset, fitted with ``statsmodels.discrete.NegativeBinomial``; its
      dispersion ``a`` gives ``alpha = 1/a`` and its intercept ``b0`` gives
      ``beta = alpha / exp(b0)``. If the fit fails, the moment estimator is used and a
      :class:`SmallAreaWarning` is emitted.

    Guard: when the between-unit variance is estimated non-positive (or so small that
    ``alpha > max_alpha``), ``alpha`` is capped at ``max_alpha`` (prior coefficient of variation
    ``1/sqrt(max_alpha)``, 1 % by default), the prior mean is kept, ``variance_floored`` is set and
    a :class:`SmallAreaWarning` is emitted: the posterior means then sit close to the common mean.

    Raises ``ValueError`` for negative counts or exposures, fewer than two usable units, or no
    event at all (a gamma prior with mean zero does not exist).
    """
    y = _as_float(counts, "counts")
    e = _as_float(exposure, "exposure")
    _check_lengths(counts=y, exposure=e)
    _check_non_negative(y, "counts")
    _check_non_negative(e, "exposure")
    if not max_alpha > 0:
        raise ValueError("max_alpha must be positive")
    usable = _usable(y, e)
    n_units = int(usable.sum())
    if n_units < 2:
        raise ValueError(
            f"at least two units with a count and a positive exposure are needed, got {n_units}"
        )
    y, e = y[usable], e[usable]
    if not y.sum() > 0:
        raise ValueError("no event in the data: the gamma prior's mean would be zero")
    if method == "moments":
        prior = _moments_prior(y, e, max_alpha, n_units)
    elif method == "negbin":
        prior = _negbin_prior(y, e, max_alpha, n_units)
    else:
        raise ValueError(f"unknown prior method {method!r}; expected 'moments' or 'negbin'")
    if prior.variance_floored:
        warnings.warn(
            f"no between-unit variance beyond Poisson noise among {n_units} units "
            f"(method {prior.method}): prior shape capped at {max_alpha:g}",
            SmallAreaWarning,
            stacklevel=2,
        )
    return prior
