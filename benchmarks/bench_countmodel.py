"""Benchmark of the count model (:mod:`barometre.countmodel`) at national size (printed only).

Synthetic communes with the French size shape (35 000 by default,
:func:`barometre.robustness.synthetic.synthetic_populations`) in ~100 départements, and one
clustered indicator: volunteer matches arriving in missions (Poisson number of missions,
geometric number of matches per mission, mean ~13). Measures:

* the fit of one indicator (covariates ``log_population`` + population-class dummies, shrunk
  département effects, design effects pooled by class), best and median of ``--repeats``;
* ``--draws`` joint posterior draws of every commune, generated ``--chunk`` draws at a time
  (:meth:`CountModelFit.draws_for`), as a caller of the uncertainty analysis would.

Usage: ``python benchmarks/bench_countmodel.py [--communes 35000] [--departments 100]
[--draws 1000] [--chunk 250] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from barometre.countmodel import commune_design, fit_count_model
from barometre.geography import population_class
from barometre.robustness.synthetic import synthetic_populations


def synthetic_matches(n: int, n_departments: int, rng: np.random.Generator) -> pd.DataFrame:
    population = synthetic_populations(n, rng).astype(float)
    departments = np.array([f"D{d:03d}" for d in rng.integers(0, n_departments, n)])
    _, dept_index = np.unique(departments, return_inverse=True)
    rate = (
        0.7e-3
        * np.exp(rng.normal(0.0, 0.3, n_departments)[dept_index])
        * np.exp(rng.normal(-0.125, 0.5, n))
    )
    missions = rng.poisson(population * rate / 13.0)
    owner = np.repeat(np.arange(n), missions)
    sizes = rng.geometric(1 / 13.0, owner.size).astype(float)
    return pd.DataFrame(
        {
            "population": population,
            "population_class": population_class(pd.Series(population)).astype(str),
            "code_departement": departments,
            "matches": np.bincount(owner, weights=sizes, minlength=n),
            "missions": missions.astype(float),
            "matches_sumsq": np.bincount(owner, weights=sizes**2, minlength=n),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communes", type=int, default=35_000)
    parser.add_argument("--departments", type=int, default=100)
    parser.add_argument("--draws", type=int, default=1_000)
    parser.add_argument("--chunk", type=int, default=250)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20240615)
    args = parser.parse_args()

    table = synthetic_matches(args.communes, args.departments, np.random.default_rng(args.seed))
    design = commune_design(table)
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        fit = fit_count_model(
            table["matches"],
            table["population"],
            design,
            clusters=table["missions"],
            cluster_sumsq=table["matches_sumsq"],
            groups=table["code_departement"],
            design_groups=table["population_class"],
        )
        times.append(time.perf_counter() - start)
    print(fit.params_table().to_string(index=False))
    print(
        f"fit: {args.communes} communes x 1 indicator, {len(fit.group_labels)} départements, "
        f"{len(fit.terms)} coefficients: best {min(times):.2f} s, "
        f"median {statistics.median(times):.2f} s over {args.repeats} runs"
    )

    start = time.perf_counter()
    fit.summary()
    print(f"summary (posterior means, sd, 90% intervals): {time.perf_counter() - start:.2f} s")

    start = time.perf_counter()
    checksum = 0.0
    for first in range(0, args.draws, args.chunk):
        block = fit.draws_for(range(first, min(first + args.chunk, args.draws)), seed=args.seed)
        checksum += float(block.sum())
    elapsed = time.perf_counter() - start
    print(
        f"draws: {args.draws} joint draws x {args.communes} communes in {elapsed:.2f} s "
        f"({args.draws / elapsed:.0f} draws/s, chunks of {args.chunk}, "
        f"{args.chunk * args.communes * 8 / 1e6:.0f} MB per chunk; checksum {checksum:.6g})"
    )


if __name__ == "__main__":
    main()
