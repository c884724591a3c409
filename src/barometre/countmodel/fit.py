"""Fit the count model on arrays (:func:`fit_count_model`) or on a commune table by spec."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from barometre.countmodel.design import DesignEffects, design_effects
from barometre.countmodel.inputs import (
    ALPHA_BOUNDS,
    DEFAULT_DESIGN_PRIOR_CLUSTERS,
    CountModelWarning,
    _as_float,
    _design,
    _group_codes,
)
from barometre.countmodel.nb2 import _Estimate, _estimate, _Problem
from barometre.countmodel.posterior import CountModelFit
from barometre.geography import DEFAULT_CLASS_LABELS
from barometre.smallarea.inputs import _common_index


def _cluster_effects(
    y: np.ndarray,
    clusters: Any,
    cluster_sumsq: Any,
    usable: np.ndarray,
    design_groups: Any,
    prior_clusters: float,
) -> tuple[np.ndarray, DesignEffects]:
    """Clusters per unit (NaN when not given) and the design effects (1 without clusters)."""
    n = len(y)
    if (clusters is None) != (cluster_sumsq is None):
        raise ValueError("give both clusters and cluster_sumsq, or neither")
    if clusters is None:
        return np.full(n, np.nan), DesignEffects(np.ones(n), math.nan, 1.0, 0.0)
    c = _as_float(clusters, "clusters", n)
    effects = design_effects(
        y,
        c,
        cluster_sumsq,
        usable=usable,
        design_groups=design_groups,
        prior_clusters=prior_clusters,
    )
    return c, effects


def _check_fit_inputs(
    y: np.ndarray, usable: np.ndarray, alpha: float | None, group_sd: float | None
) -> None:
    """Raise ``ValueError`` when the data cannot be fitted or a fixed hyperparameter is not > 0."""
    if int(usable.sum()) < 2:
        raise ValueError("at least two units with a count and a positive exposure are needed")
    if not y[usable].sum() > 0:
        raise ValueError("no event in the data: the prior mean would be zero")
    if alpha is not None and not alpha > 0:
        raise ValueError("alpha must be positive")
    if group_sd is not None and not group_sd > 0:
        raise ValueError("group_sd must be positive")


def _fitted_groups(
    codes: np.ndarray, labels: list[str], usable: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """Group codes renumbered over the groups that have fitted units, and their labels.

    Only those groups get an effect; a unit of any other group gets the code −1 (``u = 0``,
    the national level)."""
    fitted_codes = codes[usable]
    present = np.unique(fitted_codes[fitted_codes >= 0])
    remap = np.full(len(labels) + 1, -1, dtype=np.int64)
    remap[present] = np.arange(len(present))
    return np.where(codes >= 0, remap[codes], -1), [labels[i] for i in present]


def _warn_fit(estimate: _Estimate, name: str, *, alpha_fixed: bool) -> None:
    """Warn (:class:`CountModelWarning`, at the caller of :func:`fit_count_model`) when the fit
    did not converge or α reached its lower bound."""
    if not estimate.converged:
        warnings.warn(
            f"count model {name!r}: the alternating fit did not converge",
            CountModelWarning,
            stacklevel=3,
        )
    if not alpha_fixed and estimate.alpha <= ALPHA_BOUNDS[0] * 1.1:
        warnings.warn(
            f"count model {name!r}: no overdispersion beyond the design effect (α at its lower "
            "bound): the posteriors sit at the regression prediction",
            CountModelWarning,
            stacklevel=3,
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
    c, effects = _cluster_effects(
        y, clusters, cluster_sumsq, usable, design_groups, design_prior_clusters
    )
    _check_fit_inputs(y, usable, alpha, group_sd)
    d = np.where(usable, effects.design_effect, np.nan)
    y_eff, e_eff = y / d, e / d
    codes, labels = _fitted_groups(codes, labels, usable)
    problem = _Problem(y_eff[usable], np.log(e_eff[usable]), x[usable], codes[usable], len(labels))
    estimate = _estimate(problem, alpha=alpha, group_sd=group_sd)
    _warn_fit(estimate, name, alpha_fixed=alpha is not None)
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
