"""Benchmark: national synthetic demo inputs (generation + writing) and first-version loading.

Prints timings, rows per file, national totals, match rates and peak memory; asserts nothing
(figures are reported, not tested). Usage::

    python benchmarks/bench_demo.py [--cog 2022] [--scale 1.0] [--participations-scale 1.0]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from barometre import demo, geography
from barometre.sources.counts import COUNT_COLUMNS, commune_counts


def peak_gb() -> float:
    """Peak resident memory of this process (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cog", type=int, default=2022)
    parser.add_argument("--data-year", type=int, default=2023)
    parser.add_argument("--seed", type=int, default=20240615)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--participations-scale", type=float, default=1.0)
    args = parser.parse_args()

    communes = geography.load_communes(args.cog)
    print(
        f"communes: {len(communes)} (COG {args.cog}), population {communes['population'].sum():,}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "raw"
        started = time.perf_counter()
        data = demo.synthesize_demo(
            communes,
            args.data_year,
            np.random.default_rng(args.seed),
            scale=args.scale,
            participations_scale=args.participations_scale,
        )
        drawn = time.perf_counter() - started
        demo.write_demo_inputs(data, out, {"seed": args.seed, "scale": args.scale})
        generated = time.perf_counter() - started
        print(
            f"generation: draw {drawn:.1f} s, draw + write {generated:.1f} s, peak {peak_gb():.2f} GB"
        )
        for path in sorted(p for p in out.rglob("*") if p.is_file()):
            print(f"  {path.relative_to(out)}: {path.stat().st_size / 1e6:.1f} MB")
        print(
            f"rows: rna {len(data.rna):,}; helloasso organisations {len(data.ha_organizations):,}, forms {len(data.ha_forms):,}, participations {data.ha_participations.num_rows:,}; "
            f"jeveuxaider missions {len(data.jva_missions):,}, matches {len(data.jva_participations):,}"
        )  # fmt: skip
        started = time.perf_counter()
        counts, report = commune_counts(out, communes, args.data_year)
        loaded = time.perf_counter() - started
        print(f"loading + matching + counting: {loaded:.1f} s, peak {peak_gb():.2f} GB")
        truth = data.truth.set_index("code_commune")
        exact = (
            counts.set_index("code_commune")[list(COUNT_COLUMNS)] == truth[list(COUNT_COLUMNS)]
        ).all()
        for column in COUNT_COLUMNS:
            print(
                f"  {column}: {counts[column].sum():,} (truth {truth[column].sum():,}; per commune equal: {bool(exact[column])})"
            )
        for row in report.itertuples(index=False):
            print(
                f"  {row.source}: read {row.rows_read:,}, in scope {row.in_scope:,}, matched {row.matched:,} "
                f"(exact {row.matched_exact:,}, rule {row.matched_rule:,}), unmatched {row.unmatched:,}, "
                f"rate {row.match_rate:.4f}"
            )
    print(
        f"demo: {len(communes)} communes generated in {generated:.1f} s, loaded in {loaded:.1f} s"
    )


if __name__ == "__main__":
    main()
