"""Variance-based sensitivity analysis (Sobol' indices) of the ranks, with SALib.

First-order index S_i: share of the output variance explained by assumption i alone; total
index ST_i: share involving i, interactions included (Sobol' 2001; estimators of Saltelli et
al. 2010 as implemented by ``SALib.analyze.sobol``). Confidence intervals are SALib's bootstrap
ones: ``S ± z·sd`` of ``num_resamples`` resamples of the base points, at ``conf_level``.

Design: Saltelli's scheme from a scrambled Sobol' sequence (``SALib.sample.sobol``), without
second-order terms, so ``N·(G + 2)`` runs for ``N`` base samples and ``G`` groups of factors
(one group per assumption: all weights of one level form one group). Coordinates are uniform on
[0, 1] and mapped to the assumptions exactly as in the uncertainty analysis
(:meth:`AssumptionSpace.design`).

Outputs analysed: per class, the mean absolute rank shift from the nominal ranks; the number of
nominal laureates that leave the top (in total and per class); and the rank of each nominal
laureate (an unranked run counts as the class size + 1), whose largest index names the
assumption that moves it most.

SALib seeds its bootstrap only ``if seed:``: the seed drawn from the generator is therefore
never 0.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import sobol as sobol_sample

from barometre.robustness.model import RobustnessModel
from barometre.robustness.uncertainty import laureates_changed


def sobol_problem(names: Sequence[str], groups: Sequence[str] | None = None) -> dict[str, object]:
    """SALib problem of ``names`` uniform on [0, 1], optionally grouped."""
    problem: dict[str, object] = {
        "num_vars": len(names),
        "names": list(names),
        "bounds": [[0.0, 1.0]] * len(names),
    }
    if groups is not None:
        if len(groups) != len(names):
            raise ValueError("one group per factor")
        problem["groups"] = list(groups)
    return problem


def factor_names(problem: dict[str, object]) -> list[str]:
    """Names the indices refer to: the groups (first-appearance order) or the factors."""
    groups = problem.get("groups")
    names = groups if groups is not None else problem["names"]
    return list(dict.fromkeys(names))  # type: ignore[arg-type]


def saltelli_points(
    problem: dict[str, object], n_base: int, rng: np.random.Generator
) -> np.ndarray:
    """Saltelli design (``n_base·(G + 2)`` × factors) from a Sobol' sequence scrambled by ``rng``."""
    with warnings.catch_warnings():
        # SALib warns when n_base is not a power of 2; the caller chose it
        warnings.filterwarnings("ignore", message=".*power of 2.*")
        return sobol_sample.sample(
            problem, n_base, calc_second_order=False, scramble=True, seed=rng
        )


def _bootstrap_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(1, 2**31 - 1))  # never 0: SALib tests ``if seed:``


def sobol_analyse(
    problem: dict[str, object],
    outputs: pd.DataFrame,
    rng: np.random.Generator,
    num_resamples: int = 100,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """First and total Sobol' indices of every column of ``outputs`` (rows: the Saltelli runs).

    Returns one row per (output, factor): ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (half-widths
    of the bootstrap intervals) and ``constant`` (an output that never varies has no index: NaN).
    """
    factors = factor_names(problem)
    rows = []
    for column in outputs.columns:
        y = outputs[column].to_numpy(dtype=float)
        seed = _bootstrap_seed(rng)
        if not np.all(np.isfinite(y)):
            raise ValueError(f"output {column!r} has missing or infinite values")
        if np.ptp(y) == 0:
            for factor in factors:
                rows.append(
                    {
                        "output": column,
                        "factor": factor,
                        "S1": np.nan,
                        "S1_conf": np.nan,
                        "ST": np.nan,
                        "ST_conf": np.nan,
                        "constant": True,
                    }
                )
            continue
        with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
            # integer outputs (laureates changed, ranks) can be constant within a bootstrap
            # resample of a small design; SALib warns, and the interval simply reflects it
            warnings.filterwarnings("ignore", message="Constant values encountered")
            result = sobol_analyze.analyze(
                problem,
                y,
                calc_second_order=False,
                num_resamples=num_resamples,
                conf_level=conf_level,
                seed=seed,
            )
        for j, factor in enumerate(factors):
            rows.append(
                {
                    "output": column,
                    "factor": factor,
                    "S1": float(result["S1"][j]),
                    "S1_conf": float(result["S1_conf"][j]),
                    "ST": float(result["ST"][j]),
                    "ST_conf": float(result["ST_conf"][j]),
                    "constant": False,
                }
            )
    return pd.DataFrame(rows)


def sobol_indices(
    problem: dict[str, object],
    evaluate: Callable[[np.ndarray], np.ndarray],
    n_base: int,
    rng: np.random.Generator,
    output_names: Sequence[str] | None = None,
    num_resamples: int = 100,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Sample, evaluate (points → outputs, one column per output) and analyse, seeded by ``rng``."""
    points = saltelli_points(problem, n_base, rng)
    values = np.asarray(evaluate(points), dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    names = (
        list(output_names)
        if output_names is not None
        else [f"y{j}" for j in range(values.shape[1])]
    )
    return sobol_analyse(
        problem, pd.DataFrame(values, columns=names), rng, num_resamples, conf_level
    )


@dataclass
class SensitivityResult:
    """Sobol' indices of the robustness outputs.

    ``indices``: one row per (output, assumption) with S1, ST and their interval half-widths.
    ``laureates``: per nominal laureate, the assumption with the largest total index of its rank
    (``driver``) and the one with the largest first-order index. ``outputs``: the outputs of
    every Saltelli run.
    """

    indices: pd.DataFrame
    laureates: pd.DataFrame
    outputs: pd.DataFrame
    n_base: int
    n_runs: int
    seconds: float


def model_outputs(model: RobustnessModel, points: np.ndarray) -> pd.DataFrame:
    """The scalar outputs of every run of ``points`` (design coordinates), by the fast path."""
    design = model.space.design(points)
    out = model.evaluate(design, store_ranks=False)
    changed = laureates_changed(model, out.laureate_ranks)
    columns: dict[str, np.ndarray] = {}
    for c, label in enumerate(model.class_labels):
        shift = out.abs_shift[:, c]
        if np.isfinite(shift).all():
            columns[f"mean_abs_shift:{label}"] = shift
    columns["laureates_changed"] = changed.sum(axis=1)
    for c, label in enumerate(model.class_labels):
        if (model.laureate_class == c).any():
            columns[f"laureates_changed:{label}"] = changed[:, c]
    sizes = np.array([b - a for a, b in model.class_slices])
    for j, unit in enumerate(model.laureates):
        ranks = out.laureate_ranks[:, j].astype(float)
        worst = sizes[model.laureate_class[j]] + 1
        columns[f"rank:{model.unit_codes[unit]}"] = np.where(ranks > 0, ranks, worst)
    return pd.DataFrame(columns)


def run_sensitivity(
    model: RobustnessModel, rng: np.random.Generator, n_base: int | None = None
) -> SensitivityResult:
    """Sobol' indices of the model's outputs with ``n_base`` base samples (default: the
    assumptions' ``sobol_base_samples``)."""
    a = model.assumptions
    n = a.sobol_base_samples if n_base is None else int(n_base)
    start = time.perf_counter()
    problem = model.space.salib_problem()
    if model.space.dimension == 0:
        raise ValueError("no uncertain assumption: nothing to analyse")
    points = saltelli_points(problem, n, rng)
    outputs = model_outputs(model, points)
    indices = sobol_analyse(problem, outputs, rng, a.sobol_resamples, a.conf_level)
    laureates = laureate_drivers(model, indices)
    return SensitivityResult(
        indices, laureates, outputs, n, len(points), time.perf_counter() - start
    )


def laureate_drivers(model: RobustnessModel, indices: pd.DataFrame) -> pd.DataFrame:
    """Per nominal laureate: the assumption that moves its rank most (largest ST and S1)."""
    rows = []
    for j, unit in enumerate(model.laureates):
        code = model.unit_codes[unit]
        sub = indices[indices["output"] == f"rank:{code}"]
        row: dict[str, object] = {
            "code": code,
            "class": model.class_labels[model.laureate_class[j]],
            "nominal_rank": int(model.nominal_ranks[unit]),
        }
        if sub.empty or bool(sub["constant"].all()):
            row.update(
                {
                    "driver": None,
                    "driver_ST": np.nan,
                    "driver_S1": np.nan,
                    "first_order_driver": None,
                    "first_order_S1": np.nan,
                }
            )
        else:
            by_total = sub.loc[sub["ST"].idxmax()]
            by_first = sub.loc[sub["S1"].idxmax()]
            row.update(
                {
                    "driver": by_total["factor"],
                    "driver_ST": float(by_total["ST"]),
                    "driver_S1": float(by_total["S1"]),
                    "first_order_driver": by_first["factor"],
                    "first_order_S1": float(by_first["S1"]),
                }
            )
        rows.append(row)
    columns = [
        "code",
        "class",
        "nominal_rank",
        "driver",
        "driver_ST",
        "driver_S1",
        "first_order_driver",
        "first_order_S1",
    ]
    return pd.DataFrame(rows, columns=columns)
