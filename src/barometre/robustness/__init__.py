"""Robustness of the ranking: uncertainty analysis (rank intervals, P(top k)) and Sobol'
sensitivity analysis over alternative weights, treatments, normalisations, aggregations and
indicator sets, evaluated for every unit by a vectorised fast path (no rebuild per run).

Modules: :mod:`.assumptions` (what varies, declared as data), :mod:`.design` (the assumption
space and its quasi-random designs), :mod:`.model` (precomputed variants, fast evaluation, the
naive engine rebuild it is tested against), :mod:`.ranking` (batched ranks, ties 'min'),
:mod:`.uncertainty`, :mod:`.sensitivity` (SALib), :mod:`.figures`, :mod:`.annex` (the edition's
tables and figures), :mod:`.synthetic` (seeded test inputs).
"""

from barometre.robustness.assumptions import (
    AssumptionsError,
    RobustnessAssumptions,
    assumptions_from_config,
    parse_assumptions,
)
from barometre.robustness.design import AssumptionSpace, RunDesign, discrete_index
from barometre.robustness.model import (
    RobustnessError,
    RobustnessModel,
    naive_ranks,
    prune_spec,
    run_spec,
)
from barometre.robustness.ranking import rank_desc_min
from barometre.robustness.sensitivity import (
    SensitivityResult,
    run_sensitivity,
    sobol_analyse,
    sobol_indices,
    sobol_problem,
)
from barometre.robustness.uncertainty import UncertaintyResult, rank_quantiles, run_uncertainty

__all__ = [
    "AssumptionSpace",
    "AssumptionsError",
    "RobustnessAssumptions",
    "RobustnessError",
    "RobustnessModel",
    "RunDesign",
    "SensitivityResult",
    "UncertaintyResult",
    "assumptions_from_config",
    "discrete_index",
    "naive_ranks",
    "parse_assumptions",
    "prune_spec",
    "rank_desc_min",
    "rank_quantiles",
    "run_sensitivity",
    "run_spec",
    "run_uncertainty",
    "sobol_analyse",
    "sobol_indices",
    "sobol_problem",
]
