"""Benchmark of the joint uncertainty runs (posterior draw × method scenario), printed, never
asserted in tests.

Input: an edition build folder (default ``build/2024``; ``make report`` makes it) — its
confidential ``work/commune_counts.csv`` and the edition config. The benchmark rebuilds the
indicator tables twice: with the edition's eligibility rules (the communes the palmarès ranks)
and with every commune of at least one inhabitant (``--all-communes``, the default for the last
line: the target is « 10 000 runs × all communes ≤ 30 s and ≤ 4 GB »). It then

1. fits the count models and evaluates ``--runs`` joint runs (one posterior draw of every
   indicator of every commune paired with one method scenario) with the fast path, ranks stored;
2. rebuilds ``--naive-runs`` of them one by one with the engine on their drawn tables and checks
   that the ranks are identical (they must be: the tie rule makes floating-point noise a tie);
3. prints ``joint uncertainty: N runs x M communes in T s (R runs/s), peak P GB`` last.

Usage: ``python benchmarks/bench_joint_uncertainty.py [--build build/2024] [--runs 10000]
[--naive-runs 8] [--eligible-only]``
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

from barometre import geography
from barometre.composite import load_spec
from barometre.config import PROJECT_ROOT, load_edition, load_indicator_meta
from barometre.indicators import fit_models, indicator_tables, is_ratio, ranking_fits
from barometre.robustness import RobustnessModel
from barometre.robustness.annex import edition_assumptions
from barometre.robustness.joint import joint_naive_ranks
from barometre.robustness.sampling import CountModelSampler
from barometre.smallarea import EligibilityRules
from barometre.tables import read_table


def peak_gb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=Path, default=PROJECT_ROOT / "build" / "2024")
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--naive-runs", type=int, default=8)
    parser.add_argument(
        "--eligible-only", action="store_true", help="rank the eligible communes only"
    )
    args = parser.parse_args(argv)

    manifest_edition = args.build.name.split("-")[0]
    config = load_edition(manifest_edition)
    if not args.eligible_only:
        config = config.model_copy(update={"eligibility": EligibilityRules(min_population=1)})
    meta = load_indicator_meta(config)
    spec = load_spec(config.path(config.index_spec))
    counts = read_table(args.build / "work" / "commune_counts.csv")
    communes = geography.load_communes(config.cog_year)
    start = time.perf_counter()
    tables = indicator_tables(counts, communes, meta, config)
    fits = ranking_fits(
        fit_models(tables.model_input, meta, config.shrinkage.credible),
        config.shrinkage.credit_departement,
    )
    fitted = time.perf_counter() - start
    ratio = frozenset(i["code"] for i in meta["indicators"] if is_ratio(i))
    sampler = CountModelSampler(
        list(spec.indicator_codes),
        fits,
        ratio,
        tables.model_input.set_index("code_commune")["population"],
        config.seed,
    )
    assumptions = edition_assumptions(config, n_runs=args.runs)
    if assumptions.sampling is None:
        print("the edition declares no 'sampling' assumption: nothing to measure")
        return 1
    model = RobustnessModel(
        spec,
        tables.shrunk,
        assumptions,
        weight_set=config.weights,
        class_order=config.classes.labels,
        sampler=sampler,
    )
    sizes = ", ".join(
        f"{c} {b - a}" for c, (a, b) in zip(model.class_labels, model.class_slices, strict=True)
    )
    print(
        f"input: {args.build} ({'eligible communes' if args.eligible_only else 'every commune of 1 inhabitant or more'})"
    )
    print(
        f"model: {model.n_units} communes ({sizes}); count models fitted in {fitted:.1f} s "
        f"(with the indicator tables); {assumptions.sampling.n_draws} posterior draws; "
        f"{model.space.dimension} factors {[f.name for f in model.space.factors]}"
    )

    rng = np.random.default_rng(config.seed)
    design = model.space.sample(args.runs, rng)
    start = time.perf_counter()
    outputs = model.evaluate(design, store_ranks=True)
    seconds = time.perf_counter() - start
    peak = peak_gb()
    rate = args.runs / seconds

    sample = np.linspace(0, args.runs - 1, args.naive_runs).round().astype(int)
    start = time.perf_counter()
    rebuilt = joint_naive_ranks(model, design, sampler, list(sample))
    naive_seconds = time.perf_counter() - start
    identical = bool(np.array_equal(rebuilt, outputs.ranks[sample].astype(np.int64)))
    print(
        f"naive rebuild: {len(sample)} runs in {naive_seconds:.1f} s "
        f"({naive_seconds / len(sample):.2f} s/run -> {args.runs} runs would take "
        f"{naive_seconds / len(sample) * args.runs:.0f} s); identical ranks: {'yes' if identical else 'NO'}"
    )
    print(
        f"targets: 10 000 runs <= 30 s: {seconds <= 30 if args.runs == 10_000 else 'n/a'}; <= 4 GB: {peak <= 4}"
    )
    print(
        f"joint uncertainty: {args.runs} runs x {model.n_units} communes in {seconds:.1f} s "
        f"({rate:.0f} runs/s), peak {peak:.2f} GB"
    )
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
