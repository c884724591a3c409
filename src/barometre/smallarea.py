"""Small-area statistics for per-capita rates of communes: empirical Bayes shrinkage, funnel-plot
control limits, eligibility rules and structural data gaps.

Most French communes are small, so a raw rate (count / population) is dominated by Poisson noise
there, and a ranking of raw rates rewards the luckiest villages. This module gives the
statistically honest alternatives used by public-health league tables:

* **Empirical Bayes Poisson–Gamma shrinkage** (Clayton & Kaldor, 1987): the count ``y_i`` of a
  unit with exposure ``E_i`` (its population) is ``Poisson(E_i · θ_i)`` and the unit's underlying
  rate ``θ_i`` is drawn from a ``Gamma(shape=α, rate=β)`` prior common to comparable units. The
  prior is estimated from the data (method of moments of Marshall, 1991, or the negative binomial
  marginal likelihood), and each unit gets the gamma posterior ``Gamma(α + y_i, β + E_i)``: a
  posterior mean that is a compromise between its raw rate and the prior mean, and an
  equal-tailed credible interval.
* **Funnel plots** (Spiegelhalter, 2005): control limits around a target rate that widen as the
  exposure shrinks, from exact Poisson quantiles (optionally with Spiegelhalter's interpolation
  between the discrete quantiles), and the flags of units outside them.
* **Eligibility rules**: minimum population, minimum activity, minimum data coverage, applied in a
  declared order, with a per-class account of how many units each rule removes.
* **Structural gaps**: indicator cells that are *missing* (not zero) for known reasons, e.g. RNA
  association creations in Moselle, Bas-Rhin and Haut-Rhin, where associations are registered
  under local law at the courts and not in the RNA.

Conventions:

* counts are non-negative numbers (normally integers); exposures are non-negative numbers
  (inhabitants, or campaigns for the participants-per-campaign ratio);
* the gamma prior parameters ``alpha`` (shape) and ``beta`` (rate) describe the rate **per unit of
  exposure** (per inhabitant); every rate column of the outputs is expressed **per ``scale`` units
  of exposure** (``scale=1000``: per 1 000 inhabitants, the contract of DESIGN.md);
* a unit with zero or missing exposure, or a missing count, gets ``NaN`` in every derived column
  (it is never dropped, never turned into zero, never an error);
* outputs keep the index of the first pandas object passed in (or a ``RangeIndex``).

References:

* Clayton, D. & Kaldor, J. (1987). Empirical Bayes estimates of age-standardized relative risks
  for use in disease mapping. *Biometrics*, 43(3), 671–681.
* Marshall, R. J. (1991). Mapping disease and mortality rates using empirical Bayes estimators.
  *Journal of the Royal Statistical Society, Series C*, 40(2), 283–294.
* Spiegelhalter, D. J. (2005). Funnel plots for comparing institutional performance.
  *Statistics in Medicine*, 24(8), 1185–1202.
* Cameron, A. C. & Trivedi, P. K. (2013). *Regression Analysis of Count Data*, 2nd ed., §3.3
  (the negative binomial as a Poisson–Gamma mixture, NB2 parametrisation).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from scipy import stats

if TYPE_CHECKING:
    from matplotlib.axes import Axes

PriorMethod = Literal["moments", "negbin"]
FunnelMethod = Literal["interpolated", "exact"]
RuleName = Literal["population", "activity", "coverage", "information", "reliability"]

#: Label of the pooled prior in ``prior_group`` columns.
POOLED = "(pooled)"
#: Default cap on the prior shape: a prior coefficient of variation of 1 % (see fit_gamma_prior).
DEFAULT_MAX_ALPHA = 1e4
#: Default minimum number of usable units for a group to get its own prior.
DEFAULT_MIN_GROUP_SIZE = 30

_DEPARTMENT_PATTERN = re.compile(r"^(?:\d{2}|2[AB]|97[1-6])$")
_COMMUNE_PATTERN = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")


class SmallAreaWarning(UserWarning):
    """A statistical fallback happened (e.g. no between-unit variance detected): look at it."""


# --------------------------------------------------------------------------------------------
# Input helpers
# --------------------------------------------------------------------------------------------


def _as_float(values: Any, name: str) -> np.ndarray:
    """A 1-D float array; pandas NA and None become NaN."""
    array = np.asarray(pd.Series(values, copy=False).astype("float64"), dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    return array


def _common_index(n: int, *objects: Any) -> pd.Index:
    """Index of the pandas inputs (they must agree), else a RangeIndex of length n."""
    index: pd.Index | None = None
    for obj in objects:
        if isinstance(obj, pd.Series | pd.DataFrame):
            if index is None:
                index = obj.index
            elif not obj.index.equals(index):
                # Silent positional pairing of misaligned tables would mix communes up.
                raise ValueError("pandas inputs have different indexes: align them first")
    return index if index is not None else pd.RangeIndex(n)


def _check_lengths(**arrays: np.ndarray) -> int:
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"inputs have different lengths: {lengths}")
    return next(iter(lengths.values()))


def _check_non_negative(array: np.ndarray, name: str) -> None:
    if np.any(array[np.isfinite(array)] < 0):
        raise ValueError(f"{name} must be non-negative")
    if np.any(np.isinf(array)):
        raise ValueError(f"{name} must be finite (or missing)")


def _usable(counts: np.ndarray, exposure: np.ndarray) -> np.ndarray:
    """Units that carry information: a known count and a positive known exposure."""
    return np.isfinite(counts) & np.isfinite(exposure) & (exposure > 0)


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


# --------------------------------------------------------------------------------------------
# Posterior and shrinkage
# --------------------------------------------------------------------------------------------


def posterior_rates(
    counts: Any,
    exposure: Any,
    alpha: Any,
    beta: Any,
    *,
    credible: float = 0.90,
    scale: float = 1000.0,
) -> pd.DataFrame:
    """Gamma posterior of each unit's rate given a prior (scalar or one per unit).

    The posterior of ``θ_i`` is ``Gamma(alpha_i + y_i, beta_i + E_i)`` (Clayton & Kaldor, 1987),
    whose mean is ``w_i · y_i/E_i + (1 − w_i) · alpha_i/beta_i`` with
    ``w_i = E_i / (E_i + beta_i)``.

    Columns (rates per ``scale`` units of exposure):

    * ``count``, ``exposure``: the inputs;
    * ``raw_rate``: ``y/E · scale``;
    * ``prior_mean``: ``alpha/beta · scale``;
    * ``posterior_mean``: ``(alpha + y)/(beta + E) · scale``;
    * ``lower``, ``upper``: equal-tailed ``credible`` interval, gamma quantiles
      ``(1 ∓ credible)/2`` of the posterior (``scipy.stats.gamma.ppf``);
    * ``shrinkage_weight``: ``beta/(beta + E)``, the weight of the prior mean in the posterior
      mean (0: raw rate kept, 1: fully pulled to the prior mean);
    * ``prior_alpha``, ``prior_beta``: the prior used (per unit of exposure).

    Units with zero or missing exposure or a missing count get NaN in every derived column.
    """
    if not 0 < credible < 1:
        raise ValueError(f"credible must be in (0, 1), got {credible}")
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    y = _as_float(counts, "counts")
    e = _as_float(exposure, "exposure")
    n = _check_lengths(counts=y, exposure=e)
    _check_non_negative(y, "counts")
    _check_non_negative(e, "exposure")
    a = np.broadcast_to(np.asarray(alpha, dtype=float), (n,)).copy()
    b = np.broadcast_to(np.asarray(beta, dtype=float), (n,)).copy()
    if np.any(~(a > 0) & np.isfinite(a)) or np.any(~(b > 0) & np.isfinite(b)):
        raise ValueError("prior alpha and beta must be positive")
    index = _common_index(n, counts, exposure)

    usable = _usable(y, e) & np.isfinite(a) & np.isfinite(b)
    nan = np.full(n, np.nan)
    raw, post_mean, lower, upper, weight = (
        nan.copy(),
        nan.copy(),
        nan.copy(),
        nan.copy(),
        nan.copy(),
    )
    prior_mean = np.where(np.isfinite(a) & np.isfinite(b), a / np.where(b > 0, b, np.nan), np.nan)

    yu, eu, au, bu = y[usable], e[usable], a[usable], b[usable]
    shape, rate = au + yu, bu + eu
    tail = (1.0 - credible) / 2.0
    raw[usable] = yu / eu * scale
    post_mean[usable] = shape / rate * scale
    lower[usable] = stats.gamma.ppf(tail, shape, scale=1.0 / rate) * scale
    upper[usable] = stats.gamma.ppf(1.0 - tail, shape, scale=1.0 / rate) * scale
    weight[usable] = bu / (bu + eu)
    # The prior of an unusable unit is still reported (it is a property of its group), but
    # nothing derived from its data is.
    return pd.DataFrame(
        {
            "count": y,
            "exposure": e,
            "raw_rate": raw,
            "prior_mean": prior_mean * scale,
            "posterior_mean": post_mean,
            "lower": lower,
            "upper": upper,
            "shrinkage_weight": weight,
            "prior_alpha": a,
            "prior_beta": b,
        },
        index=index,
    )


def _group_keys(groups: Any, n: int) -> list[Hashable]:
    """One hashable key per unit (a tuple for several group columns); None when unknown."""
    if isinstance(groups, pd.DataFrame):
        frame = groups
    else:
        frame = pd.DataFrame({"group": pd.Series(groups, copy=False).to_numpy()})
    if len(frame) != n:
        raise ValueError(f"groups has {len(frame)} rows, expected {n}")
    missing = frame.isna().any(axis=1).to_numpy()
    keys: list[Hashable] = []
    for row, is_missing in zip(frame.itertuples(index=False, name=None), missing, strict=True):
        keys.append(None if is_missing else (row[0] if len(row) == 1 else tuple(row)))
    return keys


def _group_label(key: Hashable) -> str:
    if isinstance(key, tuple):
        return " | ".join(str(part) for part in key)
    return str(key)


def _fit_group_priors(
    y: np.ndarray,
    e: np.ndarray,
    keys: list[Hashable] | None,
    method: PriorMethod,
    min_group_size: int,
    max_alpha: float,
) -> tuple[GammaPrior, dict[Hashable, tuple[GammaPrior, int, bool, str]]]:
    """The pooled prior and, per group key, (prior used, usable units, pooled?, reason)."""
    usable = _usable(y, e)
    pooled = fit_gamma_prior(y, e, method, max_alpha=max_alpha)
    fitted: dict[Hashable, tuple[GammaPrior, int, bool, str]] = {}
    if keys is None:
        return pooled, fitted
    members_of: dict[Hashable, list[int]] = {}
    for position, key in enumerate(keys):
        if key is not None:
            members_of.setdefault(key, []).append(position)
    for key, positions in members_of.items():
        members = np.asarray(positions)
        mask = usable[members]
        n_usable = int(mask.sum())
        if n_usable < min_group_size:
            fitted[key] = (pooled, n_usable, True, f"fewer than {min_group_size} units")
            continue
        if not float(np.sum(y[members][mask])) > 0:
            fitted[key] = (pooled, n_usable, True, "no event in the group")
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            prior = fit_gamma_prior(y[members], e[members], method, max_alpha=max_alpha)
        for warning in caught:
            # Re-emit, naming the group: a floored variance in one class is worth knowing.
            warnings.warn(
                f"group {_group_label(key)!r}: {warning.message}", warning.category, stacklevel=3
            )
        fitted[key] = (prior, n_usable, False, "own prior")
    return pooled, fitted


def group_priors(
    counts: Any,
    exposure: Any,
    groups: Any = None,
    method: PriorMethod = "moments",
    *,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    max_alpha: float = DEFAULT_MAX_ALPHA,
    scale: float = 1000.0,
) -> pd.DataFrame:
    """The prior of every group, and whether it is the group's own or the pooled one.

    ``groups`` is ``None`` (one pooled prior), an array/Series of labels, or a DataFrame whose
    columns are crossed (e.g. ``population_class`` × ``code_departement``).

    A group gets its own prior when it has at least ``min_group_size`` usable units and at least
    one event; otherwise (too few units to estimate a between-unit variance, or no event) it
    falls back to the prior fitted on all usable units ("pooled"). Units with a missing group
    label use the pooled prior. One row for the pooled prior (``group == "(pooled)"``) then one
    per group; columns: ``group``, ``n_units`` (usable units), ``alpha``, ``beta`` (per unit of
    exposure), ``prior_mean`` (per ``scale``), ``method``, ``variance_floored``, ``pooled`` (the
    group uses the pooled prior), ``reason``.
    """
    y = _as_float(counts, "counts")
    e = _as_float(exposure, "exposure")
    n = _check_lengths(counts=y, exposure=e)
    keys = None if groups is None else _group_keys(groups, n)
    pooled, fitted = _fit_group_priors(y, e, keys, method, min_group_size, max_alpha)
    rows = [_prior_row(POOLED, pooled, pooled.n_units, True, "all units", scale)]
    for key, (prior, n_usable, is_pooled, reason) in fitted.items():
        rows.append(_prior_row(_group_label(key), prior, n_usable, is_pooled, reason, scale))
    return pd.DataFrame(rows)


def _prior_row(
    label: str, prior: GammaPrior, n_units: int, pooled: bool, reason: str, scale: float
) -> dict[str, Any]:
    return {
        "group": label,
        "n_units": n_units,
        "alpha": prior.alpha,
        "beta": prior.beta,
        "prior_mean": prior.mean * scale,
        "method": prior.method,
        "variance_floored": prior.variance_floored,
        "pooled": pooled,
        "reason": reason,
    }


def shrink_rates(
    counts: Any,
    exposure: Any,
    groups: Any = None,
    method: PriorMethod = "moments",
    credible: float = 0.90,
    scale: float = 1000.0,
    *,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    max_alpha: float = DEFAULT_MAX_ALPHA,
) -> pd.DataFrame:
    """Empirical Bayes (Poisson–Gamma) shrunk rates per ``scale`` units of exposure.

    The prior is fitted within each group of comparable units (``groups``: labels, or a DataFrame
    of group columns that are crossed) by :func:`fit_gamma_prior`; groups with fewer than
    ``min_group_size`` usable units or without any event use the pooled prior (see
    :func:`group_priors`). Each unit then gets its gamma posterior (:func:`posterior_rates`).

    Returns the columns of :func:`posterior_rates` plus ``prior_group`` (label of the prior used,
    ``"(pooled)"`` when the pooled prior is used) and ``prior_pooled`` (bool). Index: the index
    of ``counts``/``exposure`` when they are pandas objects. Units with zero or missing exposure
    or a missing count get NaN in every derived column and do not enter any prior fit.

    Reference: Clayton & Kaldor (1987); Marshall (1991).
    """
    y = _as_float(counts, "counts")
    e = _as_float(exposure, "exposure")
    n = _check_lengths(counts=y, exposure=e)
    index = _common_index(n, counts, exposure, groups)
    keys = None if groups is None else _group_keys(groups, n)
    pooled, fitted = _fit_group_priors(y, e, keys, method, min_group_size, max_alpha)
    alpha = np.full(n, pooled.alpha)
    beta = np.full(n, pooled.beta)
    label = np.full(n, POOLED, dtype=object)
    is_pooled = np.ones(n, dtype=bool)
    for position, key in enumerate(keys or []):
        if key is None:
            continue
        prior, _, group_pooled, _ = fitted[key]
        if not group_pooled:
            alpha[position], beta[position] = prior.alpha, prior.beta
            label[position], is_pooled[position] = _group_label(key), False
    result = posterior_rates(y, e, alpha, beta, credible=credible, scale=scale)
    result.index = index
    result["prior_group"] = label
    result["prior_pooled"] = is_pooled
    return result


def shrink_ratio(
    numerator: Any,
    denominator: Any,
    groups: Any = None,
    method: PriorMethod = "moments",
    credible: float = 0.90,
    scale: float = 1.0,
    *,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    max_alpha: float = DEFAULT_MAX_ALPHA,
) -> pd.DataFrame:
    """Shrunk ratio of two counts (participants per campaign): Gamma–Poisson with exposure = denominator.

    Treatment chosen for the participants-per-campaign indicator: conditionally on the number of
    campaigns ``C_i``, the participants ``P_i`` are modelled as ``Poisson(C_i · λ_i)``, ``λ_i``
    the commune's mean audience per campaign, with a Gamma prior on ``λ_i`` estimated within
    comparable communes. This is exactly :func:`shrink_rates` with the campaigns as exposure and
    ``scale=1`` (participants per campaign), so a commune with one campaign is pulled strongly
    towards its group's mean audience, a commune with 200 campaigns hardly at all.

    Why not the alternatives: a beta-binomial needs a bounded numerator (participants are not a
    subset of campaigns); shrinking numerator and denominator separately and dividing ignores that
    the denominator is observed, and the ratio of two posterior means is not the posterior mean of
    the ratio. Conditioning on the observed denominator is the usual ratio-estimator argument.

    Conventions and limits:

    * a unit with zero campaigns has no defined ratio: NaN (as ``indicators.ratio``);
    * participants cluster within campaigns (one gala sells 300 tickets), so the within-commune
      variance exceeds Poisson's: the posterior intervals are too narrow and the shrinkage of
      communes with few campaigns is, if anything, too weak; campaign-level data would be needed
      to estimate that extra dispersion;
    * the published 2024 indicator divides this ratio by the population (per 1 000 inhabitants):
      divide ``posterior_mean``/``lower``/``upper`` by ``population / 1000`` afterwards (the
      population is known exactly, so this adds no uncertainty).
    """
    return shrink_rates(
        numerator,
        denominator,
        groups,
        method,
        credible,
        scale,
        min_group_size=min_group_size,
        max_alpha=max_alpha,
    )


# --------------------------------------------------------------------------------------------
# Funnel plots
# --------------------------------------------------------------------------------------------


def level_tag(level: float) -> str:
    """Column suffix of a control level: 0.95 → ``"95"``, 0.998 → ``"99.8"``."""
    return f"{round(level * 100, 6):g}"


def exposure_grid(min_exposure: float, max_exposure: float, n: int = 200) -> np.ndarray:
    """Geometric grid of exposures for drawing funnel limits (populations span 5 decades)."""
    if not 0 < min_exposure < max_exposure:
        raise ValueError("need 0 < min_exposure < max_exposure")
    return np.geomspace(min_exposure, max_exposure, n)


def _poisson_limit_counts(
    expected: np.ndarray, probability: float, method: FunnelMethod
) -> tuple[np.ndarray, np.ndarray]:
    """(exact quantile r_p, plotted limit on the count scale) for a tail probability p.

    ``r_p`` is the smallest integer with ``P(Y ≤ r_p) ≥ p`` (``scipy.stats.poisson.ppf``).
    Interpolated (Spiegelhalter 2005, appendix A.1.1): ``α = (F(r_p) − p) / (F(r_p) − F(r_p − 1))``
    and the limit is ``r_p − α``, which turns the step function into a smooth curve.
    """
    quantile = stats.poisson.ppf(probability, expected)
    if method == "exact":
        return quantile, quantile.copy()
    if method != "interpolated":
        raise ValueError(f"unknown funnel method {method!r}; expected 'interpolated' or 'exact'")
    cdf_at = stats.poisson.cdf(quantile, expected)
    cdf_below = stats.poisson.cdf(quantile - 1, expected)
    step = cdf_at - cdf_below
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where(step > 0, (cdf_at - probability) / step, 0.0)
    return quantile, quantile - fraction


def funnel_limits(
    target_rate: Any,
    exposure: Any,
    levels: Sequence[float] = (0.95, 0.998),
    scale: float = 1000.0,
    method: FunnelMethod = "interpolated",
) -> pd.DataFrame:
    """Poisson funnel-plot control limits around ``target_rate`` (per ``scale``) at given exposures.

    For an exposure ``E`` the expected count is ``μ = target_rate / scale · E``. For each level
    ``L`` (two-sided), the lower and upper limits use the exact Poisson quantiles at ``(1 − L)/2``
    and ``(1 + L)/2`` (Spiegelhalter, 2005, §3 and appendix). ``method="interpolated"`` (default)
    applies Spiegelhalter's interpolation between discrete quantiles (``r_p − α``) so that the
    limits are smooth in ``E``; ``method="exact"`` plots the quantiles themselves (a step function).

    ``exposure`` is any array (e.g. :func:`exposure_grid`, or the units' own populations);
    ``target_rate`` a scalar or one value per exposure (e.g. the rate of each unit's class).
    Columns: ``exposure``, ``expected``, ``target_rate``, and for each level tag (``"95"``,
    ``"99.8"``): ``lower_count_<tag>`` / ``upper_count_<tag>`` (exact quantiles ``r_p``),
    ``lower_<tag>`` / ``upper_<tag>`` (limits on the rate scale, per ``scale``). Limits are clipped
    at zero (a rate cannot be negative; at a zero lower limit no unit can be flagged low). Rows
    with zero or missing exposure are NaN.
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    e = _as_float(exposure, "exposure")
    _check_non_negative(e, "exposure")
    target = np.broadcast_to(np.asarray(target_rate, dtype=float), e.shape).copy()
    if np.any(~(target >= 0)):
        raise ValueError("target_rate must be non-negative and known")
    index = _common_index(len(e), exposure)
    valid = np.isfinite(e) & (e > 0)
    expected = np.where(valid, target / scale * np.where(valid, e, 0.0), np.nan)
    out = pd.DataFrame({"exposure": e, "expected": expected, "target_rate": target}, index=index)
    for level in levels:
        if not 0 < level < 1:
            raise ValueError(f"levels must be in (0, 1), got {level}")
        tag = level_tag(level)
        for side, probability in (("lower", (1 - level) / 2), ("upper", (1 + level) / 2)):
            quantile = np.full(len(e), np.nan)
            limit = np.full(len(e), np.nan)
            quantile[valid], limit_count = _poisson_limit_counts(
                expected[valid], probability, method
            )
            limit[valid] = np.clip(limit_count, 0.0, None) / e[valid] * scale
            out[f"{side}_count_{tag}"] = quantile
            out[f"{side}_{tag}"] = limit
    return out


@dataclass(frozen=True)
class Overdispersion:
    """Between-unit heterogeneity of rates around a funnel plot's target (Spiegelhalter, 2005).

    ``phi``: multiplicative overdispersion factor (mean squared winsorised z-score; 1 under
    pure Poisson variation); ``tau2``: additive random-effects variance of the rate (per
    ``scale``, squared), by the method of moments (DerSimonian–Laird form); ``n``: units used.
    """

    phi: float
    tau2: float
    n: int


def estimate_overdispersion(
    counts: Any,
    exposure: Any,
    target_rate: float,
    scale: float = 1000.0,
    winsor: float = 0.1,
) -> Overdispersion:
    """Estimate the overdispersion of the units' rates around ``target_rate`` (per ``scale``).

    Spiegelhalter (2005, « Handling over-dispersion of performance indicators », §3–4): with the
    Poisson standard error of a unit's rate ``s_i = sqrt(target · scale / E_i)``, the z-scores
    ``z_i = (r_i − target) / s_i`` are winsorised at the ``winsor`` and ``1 − winsor`` quantiles
    (so that the outliers being looked for do not inflate the estimate);
    ``φ = Σ z_i² / n``; the additive variance is ``τ² = max(0, (n φ − (n − 1)) / (Σ w_i − Σ w_i²
    / Σ w_i))`` with ``w_i = 1 / s_i²`` (0 when ``n φ ≤ n − 1``: no evidence of overdispersion).
    Units with a missing count or a non-positive exposure are left out.
    """
    y = _as_float(counts, "counts")
    e = _as_float(exposure, "exposure")
    _check_lengths(counts=y, exposure=e)
    if not target_rate > 0:
        raise ValueError(f"target_rate must be positive, got {target_rate}")
    if not 0 <= winsor < 0.5:
        raise ValueError(f"winsor must be in [0, 0.5), got {winsor}")
    usable = _usable(y, e)
    n = int(usable.sum())
    if n < 2:
        raise ValueError("need at least two units with a count and a positive exposure")
    rate = y[usable] / e[usable] * scale
    variance = target_rate * scale / e[usable]
    z = (rate - target_rate) / np.sqrt(variance)
    if winsor > 0:
        low, high = np.quantile(z, [winsor, 1 - winsor])
        z = np.clip(z, low, high)
    phi = float(np.mean(z**2))
    weights = 1.0 / variance
    denominator = weights.sum() - (weights**2).sum() / weights.sum()
    tau2 = max(0.0, (n * phi - (n - 1)) / denominator) if denominator > 0 else 0.0
    return Overdispersion(phi=phi, tau2=float(tau2), n=n)


def funnel_limits_random_effects(
    target_rate: float,
    exposure: Any,
    tau2: float,
    levels: Sequence[float] = (0.95, 0.998),
    scale: float = 1000.0,
) -> pd.DataFrame:
    """Overdispersion-adjusted funnel limits: ``target ± z_p · sqrt(target · scale / E + τ²)``.

    Spiegelhalter's (2005) additive random-effects limits, on the rate scale (per ``scale``),
    with ``τ²`` from :func:`estimate_overdispersion`; with ``τ² = 0`` they are the normal
    approximation of the Poisson limits. Lower limits are clipped at zero. Columns as
    :func:`funnel_limits`: ``exposure``, ``target_rate``, ``lower_<tag>``, ``upper_<tag>``.
    """
    if not tau2 >= 0:
        raise ValueError(f"tau2 must be non-negative, got {tau2}")
    e = _as_float(exposure, "exposure")
    _check_non_negative(e, "exposure")
    valid = np.isfinite(e) & (e > 0)
    sd = np.full(len(e), np.nan)
    sd[valid] = np.sqrt(target_rate * scale / e[valid] + tau2)
    out = pd.DataFrame(
        {"exposure": e, "target_rate": np.full(len(e), float(target_rate))},
        index=_common_index(len(e), exposure),
    )
    for level in levels:
        if not 0 < level < 1:
            raise ValueError(f"levels must be in (0, 1), got {level}")
        tag = level_tag(level)
        z = stats.norm.ppf((1 + level) / 2)
        out[f"lower_{tag}"] = np.clip(target_rate - z * sd, 0.0, None)
        out[f"upper_{tag}"] = target_rate + z * sd
    return out


def funnel_flags(
    counts: Any,
    exposure: Any,
    target_rate: Any,
    levels: Sequence[float] = (0.95, 0.998),
    scale: float = 1000.0,
    method: FunnelMethod = "interpolated",
) -> pd.DataFrame:
    """Which units lie above or below the funnel limits of :func:`funnel_limits`.

    A unit is ``above_<tag>`` when its rate is strictly greater than the plotted upper limit and
    ``below_<tag>`` when strictly smaller than the plotted lower limit: what a reader sees on the
    plot. Columns: ``count``, ``exposure``, ``rate`` (per ``scale``), ``expected``, ``p_high``
    (``P(Y ≥ y)`` under the target), ``p_low`` (``P(Y ≤ y)``), and the nullable boolean flags
    ``above_<tag>``, ``below_<tag>`` (NA where the count or a positive exposure is missing).

    These limits assume pure Poisson variation around the target; real between-commune
    heterogeneity (overdispersion) makes many large communes fall outside them (Spiegelhalter,
    2005, §5), which is a finding about heterogeneity, not a list of outliers.
    """
    y = _as_float(counts, "counts")
    e = _as_float(exposure, "exposure")
    n = _check_lengths(counts=y, exposure=e)
    _check_non_negative(y, "counts")
    index = _common_index(n, counts, exposure)
    limits = funnel_limits(target_rate, e, levels, scale, method)
    usable = _usable(y, e)
    rate = np.where(usable, y / np.where(usable, e, 1.0) * scale, np.nan)
    expected = limits["expected"].to_numpy()
    p_high = np.full(n, np.nan)
    p_low = np.full(n, np.nan)
    p_high[usable] = stats.poisson.sf(y[usable] - 1, expected[usable])
    p_low[usable] = stats.poisson.cdf(y[usable], expected[usable])
    out = pd.DataFrame(
        {
            "count": y,
            "exposure": e,
            "rate": rate,
            "expected": expected,
            "p_high": p_high,
            "p_low": p_low,
        },
        index=index,
    )
    for level in levels:
        tag = level_tag(level)
        above = pd.array(rate > limits[f"upper_{tag}"].to_numpy(), dtype="boolean")
        below = pd.array(rate < limits[f"lower_{tag}"].to_numpy(), dtype="boolean")
        above[~usable] = pd.NA
        below[~usable] = pd.NA
        out[f"above_{tag}"] = above
        out[f"below_{tag}"] = below
    return out


def plot_funnel(
    ax: Axes,
    counts: Any,
    exposure: Any,
    target_rate: float,
    *,
    levels: Sequence[float] = (0.95, 0.998),
    scale: float = 1000.0,
    highlight: Any = None,
    method: FunnelMethod = "interpolated",
    log_x: bool = True,
    n_grid: int = 300,
    highlight_label: str = "Lauréats",
    xlabel: str = "Population (habitants)",
    ylabel: str | None = None,
    tau2: float | None = None,
) -> Axes:
    """Draw a funnel plot (rate against exposure with Poisson control limits) on ``ax``.

    Points are the units' raw rates per ``scale``; the horizontal line is ``target_rate``; each
    level gets a pair of limit curves from :func:`funnel_limits` on a geometric grid spanning the
    units' exposures; units where the boolean mask ``highlight`` is true (the laureates) are
    drawn on top in a distinct colour. Units with zero or missing exposure or count are skipped.
    Labels are in French (the methodology annex's language). With ``tau2`` (from
    :func:`estimate_overdispersion`), the limits are the overdispersion-adjusted ones of
    :func:`funnel_limits_random_effects` instead of the pure Poisson ones. Returns ``ax``.
    """
    y = _as_float(counts, "counts")
    e = _as_float(exposure, "exposure")
    n = _check_lengths(counts=y, exposure=e)
    usable = _usable(y, e)
    if not usable.any():
        raise ValueError("no unit with a count and a positive exposure to plot")
    mask = np.zeros(n, dtype=bool)
    if highlight is not None:
        mask = pd.Series(highlight, copy=False).astype("boolean").fillna(False).to_numpy(bool)
        if len(mask) != n:
            raise ValueError(f"highlight has {len(mask)} values, expected {n}")
    rate = np.where(usable, y / np.where(usable, e, 1.0) * scale, np.nan)
    low, high = e[usable].min(), e[usable].max()
    grid = exposure_grid(low * 0.9, high * 1.1 if high > low else low * 2, n_grid)
    if tau2 is None:
        limits = funnel_limits(target_rate, grid, levels, scale, method)
    else:
        limits = funnel_limits_random_effects(target_rate, grid, tau2, levels, scale)

    ordinary = usable & ~mask
    ax.scatter(
        e[ordinary], rate[ordinary], s=6, color="0.55", alpha=0.5, linewidths=0, label="Communes"
    )
    styles = ["--", ":", "-."]
    for i, level in enumerate(levels):
        tag = level_tag(level)
        label = f"Limites à {tag.replace('.', ',')} %"
        style = styles[i % len(styles)]
        ax.plot(grid, limits[f"upper_{tag}"], color="C0", linestyle=style, linewidth=1, label=label)
        ax.plot(grid, limits[f"lower_{tag}"], color="C0", linestyle=style, linewidth=1)
    ax.axhline(target_rate, color="C0", linewidth=1.2, label="Taux de référence")
    special = usable & mask
    if special.any():
        ax.scatter(
            e[special],
            rate[special],
            s=28,
            color="C3",
            edgecolors="black",
            linewidths=0.5,
            zorder=3,
            label=highlight_label,
        )
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(
        ylabel if ylabel is not None else f"Taux pour {scale:,.0f} habitants".replace(",", "\u202f")
    )
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper right", fontsize="small", frameon=False)
    return ax


# --------------------------------------------------------------------------------------------
# Eligibility
# --------------------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ActivityRule(_Strict):
    """At least ``minimum`` in ``column`` (e.g. associations present on the platform)."""

    column: str
    minimum: float = Field(ge=0)
    missing_passes: bool = Field(
        default=False,
        description="Whether a missing value passes (default: it does not, nothing shows activity).",
    )


class CoverageRule(_Strict):
    """At least ``minimum_share`` of the listed indicators must be non-missing."""

    indicators: list[str] = Field(min_length=1)
    minimum_share: float = Field(gt=0, le=1)


class InformationRule(_Strict):
    """At least ``minimum`` distinct sources of information behind a commune's figures: the sum
    of ``columns`` (e.g. associations created, missions with matches, campaigns, organisations
    with campaigns), missing values counting as none. One mission with 46 matches is one
    source, not 46: a commune whose score rests on one or two clusters is not ranked."""

    columns: list[str] = Field(min_length=1)
    minimum: float = Field(gt=0)


class ReliabilityRule(_Strict):
    """At least ``minimum`` score reliability in ``column`` (share of the score's variance
    across communes that is signal, not sampling noise; computed by the indicators step)."""

    column: str = "score_reliability"
    minimum: float = Field(gt=0, lt=1)


class EligibilityRules(_Strict):
    """Eligibility rules of an edition; ``None`` disables a rule.

    ``order`` is the order in which rules are applied and reported: a unit failing several rules
    is counted once, under the first of them. Every active rule must appear in ``order``.
    """

    min_population: int | None = Field(default=None, ge=0)
    min_activity: ActivityRule | None = None
    min_coverage: CoverageRule | None = None
    min_information: InformationRule | None = None
    min_reliability: ReliabilityRule | None = None
    order: tuple[RuleName, ...] = (
        "population",
        "activity",
        "coverage",
        "information",
        "reliability",
    )

    @field_validator("order")
    @classmethod
    def _distinct(cls, value: tuple[RuleName, ...]) -> tuple[RuleName, ...]:
        if len(set(value)) != len(value):
            raise ValueError(f"order lists a rule twice: {value}")
        return value

    @model_validator(mode="after")
    def _active_rules_ordered(self) -> EligibilityRules:
        missing = [name for name, on in self._switches().items() if on and name not in self.order]
        if missing:
            raise ValueError(f"active rules missing from order: {missing}")
        return self

    def _switches(self) -> dict[RuleName, bool]:
        return {
            "population": self.min_population is not None,
            "activity": self.min_activity is not None,
            "coverage": self.min_coverage is not None,
            "information": self.min_information is not None,
            "reliability": self.min_reliability is not None,
        }

    def active_rules(self) -> list[RuleName]:
        """The active rules, in application order."""
        switches = self._switches()
        return [name for name in self.order if switches[name]]


@dataclass(frozen=True)
class EligibilityResult:
    """Outcome of :func:`apply_eligibility`.

    ``eligible``: boolean Series on the table's index. ``removed_by``: the first rule (in order)
    each unit fails, ``None`` for eligible units. ``report``: one row per class plus ``"Total"``,
    columns ``total``, ``removed_<rule>`` for each active rule in order, ``eligible``; in every row
    ``total == eligible + Σ removed_<rule>``.
    """

    eligible: pd.Series
    removed_by: pd.Series
    report: pd.DataFrame


def _passes(
    table: pd.DataFrame, rules: EligibilityRules, rule: RuleName, population_column: str
) -> np.ndarray:
    if rule == "population":
        population = pd.to_numeric(table[population_column], errors="raise").to_numpy(dtype=float)
        # A missing population fails: no per-capita rate can be computed.
        return np.nan_to_num(population, nan=-np.inf) >= rules.min_population
    if rule == "activity":
        spec = rules.min_activity
        assert spec is not None
        if spec.column not in table.columns:
            raise KeyError(f"activity column {spec.column!r} not in the table")
        activity = pd.to_numeric(table[spec.column], errors="raise").to_numpy(dtype=float)
        return np.where(np.isnan(activity), spec.missing_passes, activity >= spec.minimum)
    if rule == "information":
        info = rules.min_information
        assert info is not None
        absent = [column for column in info.columns if column not in table.columns]
        if absent:
            raise KeyError(f"information columns not in the table: {absent}")
        sources = table[info.columns].apply(pd.to_numeric, errors="raise").fillna(0).sum(axis=1)
        return sources.to_numpy(dtype=float) >= info.minimum
    if rule == "reliability":
        rel = rules.min_reliability
        assert rel is not None
        if rel.column not in table.columns:
            raise KeyError(f"reliability column {rel.column!r} not in the table")
        values = pd.to_numeric(table[rel.column], errors="raise").to_numpy(dtype=float)
        return np.nan_to_num(values, nan=-np.inf) >= rel.minimum
    coverage = rules.min_coverage
    assert coverage is not None
    absent = [column for column in coverage.indicators if column not in table.columns]
    if absent:
        raise KeyError(f"coverage indicators not in the table: {absent}")
    share = table[coverage.indicators].notna().mean(axis=1).to_numpy()
    # Tolerance: 2 of 3 indicators gives 0.666…, which must pass a declared 2/3 threshold.
    return share >= coverage.minimum_share - 1e-12


def apply_eligibility(
    table: pd.DataFrame,
    rules: EligibilityRules,
    *,
    class_column: str = "population_class",
    population_column: str = "population",
    class_order: Sequence[str] | None = None,
) -> EligibilityResult:
    """Apply the eligibility rules in their declared order and count removals per class.

    Rules: ``population`` (``population >= min_population``; missing fails), ``activity``
    (``column >= minimum``; missing fails unless ``missing_passes``), ``coverage`` (share of
    non-missing values among ``indicators`` ``>= minimum_share``). Each unit is attributed to the
    first rule it fails, so the report reconciles exactly: ``total = eligible + removed by each
    rule in order``. Classes appear in ``class_order`` if given, else in the categorical order of
    ``class_column``, else sorted; a missing class is reported as ``"(missing)"``.
    """
    if class_column not in table.columns:
        raise KeyError(f"class column {class_column!r} not in the table")
    active = rules.active_rules()
    if "population" in active and population_column not in table.columns:
        raise KeyError(f"population column {population_column!r} not in the table")
    still_in = np.ones(len(table), dtype=bool)
    removed_by = np.full(len(table), None, dtype=object)
    for rule in active:
        fails = still_in & ~_passes(table, rules, rule, population_column)
        removed_by[fails] = rule
        still_in &= ~fails

    classes = table[class_column].astype(object).where(table[class_column].notna(), "(missing)")
    if class_order is not None:
        order = list(class_order)
    elif isinstance(table[class_column].dtype, pd.CategoricalDtype):
        order = [str(c) for c in table[class_column].cat.categories]
    else:
        order = sorted({str(c) for c in classes if c != "(missing)"})
    classes = classes.astype(str)
    extra = [c for c in pd.unique(classes) if c not in order]
    if extra and class_order is not None and extra != ["(missing)"]:
        raise ValueError(f"classes absent from class_order: {extra}")
    order += sorted(extra)

    frame = pd.DataFrame(
        {"cls": classes.to_numpy(), "removed_by": removed_by, "eligible": still_in}
    )
    columns = ["total", *[f"removed_{rule}" for rule in active], "eligible"]
    rows = {}
    for label in order:
        members = frame[frame["cls"] == label]
        row = {"total": len(members)}
        for rule in active:
            row[f"removed_{rule}"] = int((members["removed_by"] == rule).sum())
        row["eligible"] = int(members["eligible"].sum())
        rows[label] = row
    report = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    report.loc["Total"] = report.sum(axis=0)
    report = report.astype(int)
    report.index.name = class_column
    return EligibilityResult(
        eligible=pd.Series(still_in, index=table.index, name="eligible"),
        removed_by=pd.Series(removed_by, index=table.index, name="removed_by"),
        report=report,
    )


# --------------------------------------------------------------------------------------------
# Structural gaps
# --------------------------------------------------------------------------------------------

#: Moselle, Bas-Rhin, Haut-Rhin: associations registered under local law (droit local
#: alsacien-mosellan) at the courts' registers, not in the RNA.
ALSACE_MOSELLE_DEPARTMENTS: tuple[str, ...] = ("57", "67", "68")


class StructuralGap(_Strict):
    """Cells known to be missing (not zero): ``columns`` for the communes of ``departments`` or
    listed in ``communes``, for a stated ``reason`` (shown in the methodology annex).

    Codes are strings: departments ``"01"``, ``"2A"``, ``"971"``; communes ``"57463"``,
    ``"2A004"`` (an integer code in YAML is rejected rather than silently mismatched).
    """

    name: str
    reason: str
    columns: list[str] = Field(min_length=1)
    departments: list[str] = Field(default_factory=list)
    communes: list[str] = Field(default_factory=list)

    @field_validator("departments")
    @classmethod
    def _department_codes(cls, value: list[str]) -> list[str]:
        bad = [code for code in value if not _DEPARTMENT_PATTERN.match(code)]
        if bad:
            raise ValueError(f"invalid department codes {bad} (expected '01', '2A', '971' …)")
        return value

    @field_validator("communes")
    @classmethod
    def _commune_codes(cls, value: list[str]) -> list[str]:
        bad = [code for code in value if not _COMMUNE_PATTERN.match(code)]
        if bad:
            raise ValueError(f"invalid commune codes {bad} (expected 5 characters, e.g. '2A004')")
        return value

    @model_validator(mode="after")
    def _some_scope(self) -> StructuralGap:
        if not self.departments and not self.communes:
            raise ValueError(f"structural gap {self.name!r} names no department and no commune")
        return self


def alsace_moselle_gap(columns: Sequence[str] = ("rna_creations",)) -> StructuralGap:
    """The Alsace-Moselle gap of the RNA: creations are missing (not zero) in 57, 67 and 68."""
    return StructuralGap(
        name="alsace_moselle_rna",
        reason=(
            "En Moselle, dans le Bas-Rhin et dans le Haut-Rhin, les associations relèvent du droit "
            "local et sont inscrites au registre des associations du tribunal judiciaire, non au "
            "Répertoire national des associations : leurs créations sont inconnues, pas nulles."
        ),
        columns=list(columns),
        departments=list(ALSACE_MOSELLE_DEPARTMENTS),
    )


class StructuralGapResult(NamedTuple):
    """``table``: the counts with the gap cells set to NaN; ``report``: one row per gap × column
    with ``units_matched``, ``cells_blanked`` (known before, missing now) and
    ``cells_already_missing``."""

    table: pd.DataFrame
    report: pd.DataFrame


def department_of(code_commune: pd.Series) -> pd.Series:
    """Department code of COG commune codes: 3 characters overseas (``97x``), else 2 (``2A``)."""
    codes = code_commune.astype(str)
    return codes.str[:2].where(~codes.str.startswith("97"), codes.str[:3])


def apply_structural_gaps(
    counts: pd.DataFrame,
    gaps: Sequence[StructuralGap],
    *,
    commune_column: str = "code_commune",
    department_column: str = "code_departement",
) -> StructuralGapResult:
    """Set the cells of declared structural gaps to missing (NaN), never to zero.

    Communes are matched by ``department_column`` when the table has it, else by the department
    derived from ``commune_column`` (:func:`department_of`), and by their code for gaps that list
    communes. Integer count columns touched by a gap become float64 (NumPy integers cannot hold
    NaN). A gap naming a column absent from the table raises ``KeyError``; commune codes must be
    strings (``TypeError`` otherwise). The input table is not modified.

    Returns a :class:`StructuralGapResult` ``(table, report)``; unpack it as
    ``table, report = apply_structural_gaps(...)``.
    """
    if commune_column not in counts.columns:
        raise KeyError(f"commune column {commune_column!r} not in the table")
    codes = counts[commune_column]
    if not codes.map(lambda code: isinstance(code, str)).all():
        raise TypeError(f"{commune_column!r} must hold commune codes as strings ('01001', '2A004')")
    departments = (
        counts[department_column].astype(str)
        if department_column in counts.columns
        else department_of(codes)
    )
    table = counts.copy()
    records = []
    for gap in gaps:
        absent = [column for column in gap.columns if column not in table.columns]
        if absent:
            raise KeyError(f"structural gap {gap.name!r}: columns not in the table: {absent}")
        rows = (departments.isin(gap.departments) | codes.isin(gap.communes)).to_numpy()
        for column in gap.columns:
            if pd.api.types.is_integer_dtype(table[column].dtype) and not isinstance(
                table[column].dtype, pd.api.extensions.ExtensionDtype
            ):
                table[column] = table[column].astype("float64")
            already = table[column].isna().to_numpy()
            table.loc[rows, column] = np.nan
            records.append(
                {
                    "gap": gap.name,
                    "column": column,
                    "units_matched": int(rows.sum()),
                    "cells_blanked": int((rows & ~already).sum()),
                    "cells_already_missing": int((rows & already).sum()),
                }
            )
    report = pd.DataFrame(
        records,
        columns=["gap", "column", "units_matched", "cells_blanked", "cells_already_missing"],
    )
    return StructuralGapResult(table=table, report=report)
