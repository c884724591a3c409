"""A fitted count model: conjugate posteriors, censored counts, annex tables and joint draws."""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from barometre.countmodel.inputs import ALPHA_BOUNDS, INTERCEPT


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
