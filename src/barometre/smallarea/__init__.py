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

The package is split by concern: :mod:`~barometre.smallarea.inputs` (input checks shared with the
count model), :mod:`~barometre.smallarea.priors`, :mod:`~barometre.smallarea.shrinkage`,
:mod:`~barometre.smallarea.funnels`, :mod:`~barometre.smallarea.eligibility` and
:mod:`~barometre.smallarea.gaps`; this module re-exports their public names. The pydantic models
of the eligibility rules and structural gaps are configuration: they live in
:mod:`barometre.config_models` and are re-exported here.

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

# The rule and gap models are configuration: defined in barometre.config_models, re-exported here.
from barometre.config_models import (
    ActivityRule,
    CoverageRule,
    EligibilityRules,
    InformationRule,
    ReliabilityRule,
    RuleName,
    StructuralGap,
)
from barometre.smallarea.eligibility import (
    EligibilityResult,
    apply_eligibility,
)
from barometre.smallarea.funnels import (
    FunnelMethod,
    Overdispersion,
    estimate_overdispersion,
    exposure_grid,
    funnel_flags,
    funnel_limits,
    funnel_limits_random_effects,
    level_tag,
    plot_funnel,
)
from barometre.smallarea.gaps import (
    ALSACE_MOSELLE_DEPARTMENTS,
    StructuralGapResult,
    alsace_moselle_gap,
    apply_structural_gaps,
    department_of,
)
from barometre.smallarea.inputs import (
    SmallAreaWarning,
)
from barometre.smallarea.priors import (
    DEFAULT_MAX_ALPHA,
    DEFAULT_MIN_GROUP_SIZE,
    POOLED,
    GammaPrior,
    PriorMethod,
    fit_gamma_prior,
)
from barometre.smallarea.shrinkage import (
    group_priors,
    posterior_rates,
    shrink_rates,
    shrink_ratio,
)

__all__ = [
    "ALSACE_MOSELLE_DEPARTMENTS",
    "DEFAULT_MAX_ALPHA",
    "DEFAULT_MIN_GROUP_SIZE",
    "POOLED",
    "ActivityRule",
    "CoverageRule",
    "EligibilityResult",
    "EligibilityRules",
    "FunnelMethod",
    "GammaPrior",
    "InformationRule",
    "Overdispersion",
    "PriorMethod",
    "ReliabilityRule",
    "RuleName",
    "SmallAreaWarning",
    "StructuralGap",
    "StructuralGapResult",
    "alsace_moselle_gap",
    "apply_eligibility",
    "apply_structural_gaps",
    "department_of",
    "estimate_overdispersion",
    "exposure_grid",
    "fit_gamma_prior",
    "funnel_flags",
    "funnel_limits",
    "funnel_limits_random_effects",
    "group_priors",
    "level_tag",
    "plot_funnel",
    "posterior_rates",
    "shrink_rates",
    "shrink_ratio",
]
