"""Benchmark of the robustness analysis at national size (printed, never asserted in tests).

Input, in order of preference: ``--input`` (an engine input table, e.g. the national demo
edition's ``indicators_input.csv`` in the build's confidential ``work`` folder), else that file if a build exists, else
every commune of the edition's COG vintage (``barometre.geography``) with seeded synthetic counts
(:mod:`barometre.robustness.synthetic`), else synthetic communes altogether.

Measures, side by side in one run: the uncertainty analysis (10 000 runs by default, every
commune, ranks within the five population classes, per-commune quantiles included), its peak
memory (``ru_maxrss`` of the process), the naive rebuild with :func:`build_index` of a subsample
of the same runs (ranks compared: they must be identical) scaled to the same number of runs,
and the Sobol' analysis with N = 1 024 base samples. The last line reads
``uncertainty: N runs x M communes in T s (R runs/s), peak P GB, X times faster than per-run rebuild``.

Usage: ``python benchmarks/bench_uncertainty.py [--runs 10000] [--naive-runs 8] [--sobol-base 1024]``
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from barometre.composite import load_spec
from barometre.config import PROJECT_ROOT, load_edition
from barometre.robustness import RobustnessModel, naive_ranks, run_sensitivity
from barometre.robustness.annex import edition_assumptions
from barometre.robustness.synthetic import synthetic_communes
from barometre.robustness.uncertainty import summarise
from barometre.tables import read_table


def peak_gb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def unit_table(input_path: Path | None, cog_year: int, seed: int) -> tuple[pd.DataFrame, str]:
    default = PROJECT_ROOT / "build" / "2024" / "work" / "indicators_input.csv"
    for path in (input_path, default):
        if path is not None and Path(path).is_file():
            return read_table(Path(path)), f"engine input {path}"
    rng = np.random.default_rng(seed)
    try:
        from barometre import geography

        communes = geography.load_communes(cog_year)
    except (ImportError, FileNotFoundError):
        return synthetic_communes(35_000, rng), "35 000 synthetic communes (synthetic populations)"
    table = synthetic_communes(
        len(communes),
        rng,
        population=communes["population"].to_numpy(),
        codes=communes["code_commune"].to_numpy(),
        departments=communes["code_departement"].to_numpy(),
    )
    return table, f"communes of COG {cog_year} with seeded synthetic counts"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--naive-runs", type=int, default=8, help="runs rebuilt with the engine")
    parser.add_argument("--sobol-base", type=int, default=1024)
    parser.add_argument("--input", type=Path, default=None)
    parser.add_argument("--edition", default="2024")
    args = parser.parse_args(argv)

    config = load_edition(args.edition)
    spec = load_spec(config.path(config.index_spec))
    table, source = unit_table(args.input, config.cog_year, config.seed)
    assumptions = edition_assumptions(config, n_runs=args.runs)
    if assumptions.rates is not None:
        # the raw/shrunk assumption needs both engine inputs, beside the given one
        folder = Path(args.input).parent if args.input else PROJECT_ROOT / "build" / "2024" / "work"
        paths = {
            label: folder / f"indicators_input_{label}.csv" for label in assumptions.rates.options
        }
        if all(p.is_file() for p in paths.values()):
            from barometre.tables import read_table

            table = {label: read_table(p) for label, p in paths.items()}
            source += f" (+ {', '.join(paths)} rate variants)"
        else:
            assumptions = assumptions.model_copy(update={"rates": None})
            source += " (rates assumption dropped: a single input table)"
    if assumptions.sampling is not None or assumptions.group_top:
        # this benchmark measures the method-only fast path; the joint runs (posterior draws ×
        # method scenarios) are measured by bench_joint_uncertainty.py
        assumptions = assumptions.model_copy(update={"sampling": None, "group_top": {}})
        source += " (sampling assumption dropped: method-only runs)"
    print(f"input: {source}")
    print(f"machine: {len(__import__('os').sched_getaffinity(0))} cores, numpy {np.__version__}")

    start = time.perf_counter()
    model = RobustnessModel(
        spec, table, assumptions, weight_set=config.weights, class_order=config.classes.labels
    )
    setup = time.perf_counter() - start
    sizes = ", ".join(
        f"{c} {b - a}" for c, (a, b) in zip(model.class_labels, model.class_slices, strict=True)
    )
    print(
        f"model: {model.n_units} communes ({sizes}); {model.space.dimension} factors "
        f"{[f.name for f in model.space.factors]}; nominal build + setup {setup:.2f} s"
    )

    rng = np.random.default_rng(config.seed)
    start = time.perf_counter()
    design = model.space.sample(args.runs, rng)
    outputs = model.evaluate(design, store_ranks=True)
    evaluated = time.perf_counter() - start
    result = summarise(model, design, outputs, evaluated)
    fast_seconds = time.perf_counter() - start
    peak = peak_gb()
    rate = args.runs / fast_seconds
    print(
        f"fast path: {args.runs} runs evaluated in {evaluated:.2f} s, with per-commune quantiles "
        f"{fast_seconds:.2f} s -> {rate:.0f} runs/s; peak memory {peak:.2f} GB "
        f"(rank matrix {outputs.ranks.nbytes / 1024**3:.2f} GB)"
    )

    sample = np.linspace(0, args.runs - 1, args.naive_runs).round().astype(int)
    start = time.perf_counter()
    rebuilt = naive_ranks(model, design, sample)
    naive_seconds = time.perf_counter() - start
    per_run = naive_seconds / len(sample)
    identical = bool(np.array_equal(rebuilt, outputs.ranks[sample].astype(np.int64)))
    naive_total = per_run * args.runs
    speedup = naive_total / fast_seconds
    print(
        f"naive rebuild: {len(sample)} runs in {naive_seconds:.2f} s ({per_run * 1000:.0f} ms/run, "
        f"{1 / per_run:.2f} runs/s) -> {args.runs} runs would take {naive_total:.0f} s; "
        f"identical ranks on the subsample: {'yes' if identical else 'NO'}"
    )

    top = model.assumptions.top
    stability = result.laureates.groupby("class", sort=False)["stability"].mean()
    print(
        f"laureate stability (mean P(top {top}) of the nominal laureates): "
        + ", ".join(f"{c} {v:.2f}" for c, v in stability.items())
    )

    start = time.perf_counter()
    sensitivity = run_sensitivity(model, rng, n_base=args.sobol_base)
    sobol_seconds = time.perf_counter() - start
    changed = sensitivity.indices[sensitivity.indices["output"] == "laureates_changed"]
    print(
        f"sobol: N = {args.sobol_base} base samples, {sensitivity.n_runs} runs, "
        f"{len(sensitivity.outputs.columns)} outputs in {sobol_seconds:.2f} s; laureates changed ST: "
        + ", ".join(f"{r.factor} {r.ST:.2f}" for r in changed.itertuples())
    )
    print(
        f"targets: 10 000 runs <= 30 s: {fast_seconds <= 30 if args.runs == 10_000 else 'n/a'}; "
        f"<= 4 GB: {peak <= 4}; Sobol N=1024 <= 60 s: {sobol_seconds <= 60 if args.sobol_base == 1024 else 'n/a'}; "
        f">= 50x: {speedup >= 50}"
    )
    print(
        f"uncertainty: {args.runs} runs x {model.n_units} communes in {fast_seconds:.1f} s "
        f"({rate:.0f} runs/s), peak {peak:.2f} GB, {speedup:.0f} times faster than per-run rebuild"
    )
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
