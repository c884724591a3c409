"""Benchmark of the confidence sets for ranks at the size of the largest class (printed, never asserted).

A synthetic class of 30 000 communes shaped like the Village class: populations log-normal
(median ~500 inhabitants), a score per commune with a standard error shrinking like
1/sqrt(population), so precision varies tenfold and more across the class. Measures:

- the tau-best set (tau = 10) of the whole class: all 900 million ordered pairs, Bonferroni-Holm
  counted without draws (the ``auto`` method at this size);
- simultaneous sets for the top 15 of the class against all 30 000 (the ~900 000 pairs involving
  them), with the ``auto`` method (Bonferroni-Holm at n_boot = 100 000) and with the parametric
  bootstrap at ``--subset-boot`` draws;
- marginal sets for every commune (one family of 60 000 hypotheses per commune).

Usage: ``python benchmarks/bench_rankcs.py [--units 30000] [--tau 10] [--subset 15] [--subset-boot 1000]``
"""

from __future__ import annotations

import argparse
import resource
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from barometre.rankcs import rank_confidence_sets, tau_best_set


def peak_gb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def synthetic_class(units: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    population = np.exp(rng.normal(np.log(500), 1.0, size=units)).clip(20, 5000)
    se = 0.5 / np.sqrt(population / 20)
    theta = rng.normal(0.0, 1.0, size=units)
    return theta + se * rng.standard_normal(units), se


def timed(label: str, fn: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    started, cpu = time.perf_counter(), time.process_time()
    out = fn()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    widths = (out["upper"] - out["lower"] + 1).to_numpy()
    print(
        f"{label}: {wall:.2f} s wall ({cpu:.2f} s CPU), method {out.attrs['method']}, "
        f"{out.attrs['hypotheses']:,} hypotheses, {out.attrs['steps']} steps, "
        f"first critical value {out.attrs['critical_value']:.3f}, median set width {np.median(widths):.0f}"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=30_000)
    parser.add_argument("--tau", type=int, default=10)
    parser.add_argument("--subset", type=int, default=15)
    parser.add_argument("--subset-boot", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--skip-marginal", action="store_true")
    args = parser.parse_args()

    x, se = synthetic_class(args.units, args.seed)
    print(f"{args.units} units, se from {se.min():.3f} to {se.max():.3f}")
    best = timed(
        f"tau-best set (tau = {args.tau})",
        lambda: tau_best_set(x, se, tau=args.tau, rng=np.random.default_rng(1)),
    )
    print(f"  {int(best['in_tau_best'].sum())} units in the {args.tau}-best set")
    top = np.argsort(-x, kind="stable")[: args.subset]
    sub = timed(
        f"simultaneous sets for the top {args.subset} (auto)",
        lambda: rank_confidence_sets(
            x, se, simultaneous=True, indices=top, rng=np.random.default_rng(1)
        ),
    )
    boot = timed(
        f"simultaneous sets for the top {args.subset} (bootstrap, {args.subset_boot} draws)",
        lambda: rank_confidence_sets(
            x,
            se,
            simultaneous=True,
            indices=top,
            n_boot=args.subset_boot,
            method="bootstrap",
            rng=np.random.default_rng(1),
        ),
    )
    print(
        "  top sets (auto | bootstrap):",
        ", ".join(
            f"[{a}, {b}] | [{c}, {d}]"
            for a, b, c, d in zip(
                sub["lower"], sub["upper"], boot["lower"], boot["upper"], strict=True
            )
        ),
    )
    if not args.skip_marginal:
        timed(
            "marginal sets for every unit",
            lambda: rank_confidence_sets(x, se, rng=np.random.default_rng(1)),
        )
    print(f"peak memory {peak_gb():.2f} GB")


if __name__ == "__main__":
    main()
