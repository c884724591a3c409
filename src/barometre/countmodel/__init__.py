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

Modules: :mod:`.inputs` (constants, warning, covariate design, group codes), :mod:`.design`
(design effects), :mod:`.nb2` (the penalised NB2 fit), :mod:`.posterior` (:class:`CountModelFit`:
posteriors, censored counts, tables, joint draws), :mod:`.fit` (:func:`fit_count_model` and the
commune-table entry points); every public name is re-exported here.
"""

from __future__ import annotations

from barometre.countmodel.design import DesignEffects, design_effects
from barometre.countmodel.fit import (
    IndicatorSpec,
    commune_design,
    fit_count_model,
    fit_indicator_models,
)
from barometre.countmodel.inputs import (
    ALPHA_BOUNDS,
    DEFAULT_DESIGN_PRIOR_CLUSTERS,
    DEFAULT_MIN_DESIGN_CLUSTERS,
    GROUP_SD_BOUNDS,
    INTERCEPT,
    CountModelWarning,
)
from barometre.countmodel.posterior import CountModelFit

__all__ = [
    "ALPHA_BOUNDS",
    "DEFAULT_DESIGN_PRIOR_CLUSTERS",
    "DEFAULT_MIN_DESIGN_CLUSTERS",
    "GROUP_SD_BOUNDS",
    "INTERCEPT",
    "CountModelFit",
    "CountModelWarning",
    "DesignEffects",
    "IndicatorSpec",
    "commune_design",
    "design_effects",
    "fit_count_model",
    "fit_indicator_models",
]
