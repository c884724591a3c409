"""Gamma posterior and empirical Bayes shrinkage of per-capita rates (Clayton & Kaldor, 1987),
with one prior per group of comparable units; see :mod:`barometre.smallarea`."""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from barometre.smallarea.inputs import (
    _as_float,
    _check_lengths,
    _check_non_negative,
    _common_index,
    _usable,
)
from barometre.smallarea.priors import (
    DEFAULT_MAX_ALPHA,
    DEFAULT_MIN_GROUP_SIZE,
    POOLED,
    GammaPrior,
    PriorMethod,
    fit_gamma_prior,
)

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
