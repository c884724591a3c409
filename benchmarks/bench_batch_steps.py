"""Benchmark of the batch outlier treatment and normalisation (printed, never asserted in tests).

Data: ``--runs`` posterior-draw-like rows (100 by default) of one count-like indicator over
``--units`` communes (35 000): Poisson counts on a gamma mixture of commune rates times a
gamma-distributed draw factor (~60 % zeros), divided by seeded populations (a rate per 1 000),
2 % of the communes missing in every row.

Times, for the same matrix: :func:`barometre.robustness.batch.treat_batch` (``coinr_default``)
and :func:`~barometre.robustness.batch.normalise_batch` (``minmax``, ``zscore``,
``percentile_rank``) against one call per row of the engine's ``steps.treat_indicator`` and
``steps.normalise_column``; checks that the results agree (largest relative difference, NaN
masks) and measures the peak memory of the batch calls with ``tracemalloc`` (a separate run).

Usage: ``python benchmarks/bench_batch_steps.py [--runs 100] [--units 35000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import pandas as pd

from barometre.composite import steps
from barometre.robustness.batch import DEFAULT_CHUNK_ELEMENTS, normalise_batch, treat_batch

NORMALISATIONS = ("minmax", "zscore", "percentile_rank")


def count_like(runs: int, units: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    population = np.round(rng.lognormal(6.0, 1.3, units)) + 10
    expected = rng.gamma(0.6, 3.0, units) * population / population.mean()
    counts = rng.poisson(expected * rng.gamma(20.0, 1 / 20.0, (runs, units)))  # ~60 % zeros
    x = counts / population * 1000
    x[:, rng.random(units) < 0.02] = np.nan
    return x


def best_of(repeat: int, func):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result


def max_rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        return float("inf")
    m = ~np.isnan(a)
    scale = np.maximum(np.abs(a[m]), np.abs(b[m]))
    diff = np.abs(a[m] - b[m])
    return float(np.max(np.where(scale > 0, diff / np.where(scale > 0, scale, 1), diff), initial=0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--units", type=int, default=35_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--engine-repeat", type=int, default=1)
    parser.add_argument("--chunk-elements", type=int, default=DEFAULT_CHUNK_ELEMENTS)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    x = count_like(args.runs, args.units, args.seed)
    chunk = args.chunk_elements
    print(
        f"data: {args.runs} rows x {args.units} units, {np.mean(x == 0):.0%} zeros, "
        f"{np.mean(np.isnan(x)):.1%} missing; chunks of {chunk} values"
    )

    t_treat, treated = best_of(
        args.repeat, lambda: treat_batch(x, "coinr_default", chunk_elements=chunk)
    )
    applied = {}

    def engine_treat() -> np.ndarray:
        rows = []
        for i, row in enumerate(x):
            out, record = steps.treat_indicator(pd.Series(row), "coinr_default")
            applied[i] = record.applied
            rows.append(out.to_numpy())
        return np.array(rows)

    e_treat, treated_ref = best_of(args.engine_repeat, engine_treat)
    counts = pd.Series(applied).value_counts().to_dict()
    print(
        f"treat coinr_default       batch {t_treat * 1e3:8.1f} ms   engine {e_treat * 1e3:8.1f} ms   "
        f"x{e_treat / t_treat:5.1f}   max rel diff {max_rel_diff(treated, treated_ref):.1e}   "
        f"(engine applied: {counts})"
    )
    total_b, total_e = t_treat, e_treat
    for method in NORMALISATIONS:
        t_b, out = best_of(
            args.repeat, lambda m=method: normalise_batch(treated, m, chunk_elements=chunk)
        )
        t_e, ref = best_of(
            args.engine_repeat,
            lambda m=method: np.array(
                [steps.normalise_column(pd.Series(r), m).to_numpy() for r in treated]
            ),
        )
        total_b, total_e = total_b + t_b, total_e + t_e
        print(
            f"normalise {method:<16s}batch {t_b * 1e3:8.1f} ms   engine {t_e * 1e3:8.1f} ms   "
            f"x{t_e / t_b:5.1f}   max rel diff {max_rel_diff(out, ref):.1e}"
        )

    tracemalloc.start()
    treat_batch(x, "coinr_default", chunk_elements=chunk)
    _, peak_treat = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    normalise_batch(treated, "percentile_rank", chunk_elements=chunk)
    _, peak_norm = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"peak allocation: treat {peak_treat / 2**20:.0f} MiB, percentile_rank "
        f"{peak_norm / 2**20:.0f} MiB (input {x.nbytes / 2**20:.0f} MiB)"
    )
    print(
        f"batch steps: {args.runs} rows x {args.units} units in {total_b:.2f} s "
        f"({total_b / args.runs * 1e3:.1f} ms per row), engine {total_e:.2f} s, "
        f"{total_e / total_b:.1f} times faster"
    )


if __name__ == "__main__":
    main()
