"""Uncertainty analysis: the distribution of every unit's rank under alternative assumptions.

The JRC's audits of composite indices (Saisana, Saltelli & Tarantola 2005; COINr's
``get_sensitivity(SA_type = "UA")``) report, for each unit, its nominal rank, its median rank
and the interval between the 5th and 95th percentiles of its rank over the runs. Here the runs
are the points of a scrambled Sobol' sequence (:meth:`AssumptionSpace.sample`), evaluated with
the vectorised fast path (:class:`RobustnessModel`), ranks within classes.

Conventions:

- quantiles are R's type 7 (NumPy's default, linear interpolation, COINr's ``quantile``) over
  the runs in which the unit is ranked (a unit can be unranked in a run, e.g. when excluding an
  indicator leaves it below the minimum data share);
- P(top k) is the share of all runs with rank in 1..k (an unranked run counts as outside);
- laureate stability is P(top k) of a nominal laureate;
- the mean absolute rank shift of a class in a run averages |rank − nominal rank| over its
  units ranked in both; the share within ±k ranks pools all (unit, run) pairs of the class.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from barometre.robustness.design import CHOICES, RunDesign
from barometre.robustness.model import RobustnessModel, RunOutputs

QUANTILES = (0.05, 0.5, 0.95)


def rank_quantiles(
    ranks: np.ndarray, probabilities: Sequence[float] = QUANTILES, chunk: int = 1024
) -> np.ndarray:
    """Type-7 quantiles (units × probabilities) of each column of ``ranks`` (runs × units).

    Zeros (unranked runs) are left out; a unit never ranked gets NaN. Columns are sorted in
    chunks (a radix sort for uint16), so memory stays at one chunk beside the rank matrix.
    """
    n_runs, n_units = ranks.shape
    out = np.full((n_units, len(probabilities)), np.nan)
    p = np.asarray(probabilities, dtype=float)
    for a in range(0, n_units, chunk):
        block = np.ascontiguousarray(ranks[:, a : a + chunk].T)
        block.sort(axis=1, kind="stable")
        zeros = (block == 0).sum(axis=1)
        n_ok = n_runs - zeros
        h = zeros[:, None] + (np.maximum(n_ok, 1)[:, None] - 1) * p[None, :]
        lo = np.minimum(np.floor(h).astype(np.int64), n_runs - 1)  # never-ranked units: NaN below
        hi = np.minimum(lo + 1, n_runs - 1)
        low = np.take_along_axis(block, lo, axis=1).astype(float)
        high = np.take_along_axis(block, hi, axis=1).astype(float)
        values = low + (h - lo) * (high - low)
        values[n_ok == 0] = np.nan
        out[a : a + chunk] = values
    return out


@dataclass
class UncertaintyResult:
    """Tables of an uncertainty analysis (see the module docstring for the conventions).

    ``communes``: one row per unit (code, class, nominal score and rank, median, P5, P95, P(top),
    share of runs ranked). ``laureates``: nominal laureates with their stability. ``classes``:
    per class, mean absolute rank shift, laureates changed per run, share of runs keeping the
    whole palmarès, shares within ±k ranks. ``runs``: per run, its settings and outputs.
    """

    communes: pd.DataFrame
    laureates: pd.DataFrame
    classes: pd.DataFrame
    runs: pd.DataFrame
    n_runs: int
    seconds: float


def laureates_changed(model: RobustnessModel, laureate_ranks: np.ndarray) -> np.ndarray:
    """Per run and class (runs × classes): nominal laureates out of the top (or unranked)."""
    top = model.assumptions.top
    out_of_top = (laureate_ranks == 0) | (laureate_ranks > top)
    counts = np.zeros((laureate_ranks.shape[0], len(model.class_labels)), dtype=np.int64)
    for c in range(len(model.class_labels)):
        counts[:, c] = out_of_top[:, model.laureate_class == c].sum(axis=1)
    return counts


def run_table(model: RobustnessModel, design: RunDesign, outputs: RunOutputs) -> pd.DataFrame:
    """One row per run: the label of every discrete choice, then the scalar outputs."""
    table = pd.DataFrame({"run": np.arange(len(design))})
    for name in CHOICES:
        labels = np.array(model.space.discrete[name].labels, dtype=object)
        table[name] = labels[design.choices[name]]
    changed = laureates_changed(model, outputs.laureate_ranks)
    for c, label in enumerate(model.class_labels):
        table[f"mean_abs_shift:{label}"] = outputs.abs_shift[:, c]
        table[f"laureates_changed:{label}"] = changed[:, c]
    table["laureates_changed"] = changed.sum(axis=1)
    return table


def summarise(
    model: RobustnessModel, design: RunDesign, outputs: RunOutputs, seconds: float
) -> UncertaintyResult:
    """Build the result tables from the outputs of :meth:`RobustnessModel.evaluate`."""
    if outputs.ranks is None:
        raise ValueError("the uncertainty summary needs the rank matrix (store_ranks=True)")
    n_runs = len(design)
    top = model.assumptions.top
    quantiles = rank_quantiles(outputs.ranks)
    build = model.nominal_build
    name_column = model.spec.units.name
    codes = pd.Index(model.unit_codes)
    communes = pd.DataFrame(
        {
            "code": model.unit_codes,
            "class": model.unit_classes,
            "nominal_score": model.nominal_scores,
            "nominal_rank": np.where(model.nominal_ranks > 0, model.nominal_ranks, np.nan),
            "median_rank": quantiles[:, 1],
            "rank_p05": quantiles[:, 0],
            "rank_p95": quantiles[:, 2],
            f"p_top{top}": outputs.top_count / n_runs,
            "share_ranked": outputs.ranked_count / n_runs,
        }
    )
    for column, counts in outputs.group_top_count.items():
        communes[f"p_top{model.assumptions.group_top[column]}_{column}"] = counts / n_runs
    if name_column:
        communes.insert(1, "name", build.units.loc[codes, name_column].to_numpy())
    communes["nominal_in_interval"] = (communes["nominal_rank"] >= communes["rank_p05"]) & (
        communes["nominal_rank"] <= communes["rank_p95"]
    )
    class_sizes = {
        label: b - a for label, (a, b) in zip(model.class_labels, model.class_slices, strict=True)
    }
    communes["class_size"] = communes["class"].map(class_sizes)
    laureates = communes.iloc[model.laureates].copy()
    laureates = laureates.rename(columns={f"p_top{top}": "stability"})
    laureates["class_order"] = model.laureate_class
    laureates = laureates.sort_values(["class_order", "nominal_rank", "code"], kind="mergesort")
    laureates = laureates.drop(columns=["class_order", "nominal_in_interval"]).reset_index(
        drop=True
    )
    runs = run_table(model, design, outputs)
    changed = laureates_changed(model, outputs.laureate_ranks)
    rows = []
    for c, label in enumerate(model.class_labels):
        shift = outputs.abs_shift[:, c]
        in_class = model.laureate_class == c
        row = {
            "class": label,
            "n_units": class_sizes[label],
            "n_laureates": int(in_class.sum()),
            "mean_abs_shift": float(np.nanmean(shift)) if np.isfinite(shift).any() else np.nan,
            "abs_shift_p95": float(np.nanquantile(shift, 0.95))
            if np.isfinite(shift).any()
            else np.nan,
            "laureates_changed_mean": float(changed[:, c].mean()),
            "share_runs_same_laureates": float((changed[:, c] == 0).mean()),
            "laureate_stability_mean": float(
                outputs.top_count[model.laureates[in_class]].mean() / n_runs
            )
            if in_class.any()
            else np.nan,
            "share_nominal_in_interval": float(
                communes["nominal_in_interval"].to_numpy()[slice(*model.class_slices[c])].mean()
            ),
        }
        for j, k in enumerate(model.assumptions.within_ranks):
            row[f"share_within_{k}"] = (
                float(outputs.within[c, j] / outputs.pairs[c]) if outputs.pairs[c] else np.nan
            )
        rows.append(row)
    return UncertaintyResult(communes, laureates, pd.DataFrame(rows), runs, n_runs, seconds)


def run_uncertainty(
    model: RobustnessModel,
    rng: np.random.Generator,
    n_runs: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> UncertaintyResult:
    """Sample ``n_runs`` (default: the assumptions' ``n_runs``) Sobol' points from ``rng``,
    evaluate them with the fast path and summarise."""
    n = model.assumptions.n_runs if n_runs is None else int(n_runs)
    start = time.perf_counter()
    design = model.space.sample(n, rng)
    outputs = model.evaluate(design, store_ranks=True, progress=progress)
    return summarise(model, design, outputs, time.perf_counter() - start)
