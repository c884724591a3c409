"""Benchmark: ingestion of HelloAsso participations at platform scale (20 million rows).

Generates the national demo inputs with enough participations (``generate_demo_inputs(...,
participations_scale=...)``), then measures, each in its own subprocess so that peak resident
memory is the path's own:

* **ingestion**: :func:`barometre.sources.helloasso.participations_by_organization` — the
  contract checked on every row (SQL compiled from the pandera contract), repeated ids found,
  rows counted by organisation (all, and dated in the year in a counted state), streaming from
  the Parquet file with DuckDB (2 threads, 1 GB memory limit);
* **pandas baseline**: ``pd.read_parquet`` of the same columns, then the same filter and
  ``groupby`` — no contract, whole table in memory.

Both results are compared (they must be equal). Figures are printed, never asserted; the CPU
time of each child (all threads, interpreter start-up and imports included) is printed before
the last line, which reads ``ingestion: N rows in T s, peak P GB; pandas baseline T2 s, peak P2 GB``. Usage::

    python benchmarks/bench_ingestion.py [--rows 20000000] [--cog 2022] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA_YEAR = 2023
ROWS_PER_UNIT_SCALE = 1_627_229
"""Participation rows of the national demo (COG 2022) at ``participations_scale=1``."""


def peak_gb() -> float:
    """Peak resident memory of this process in GB (1024³ bytes).

    Read from ``VmHWM`` of ``/proc/self/status``: unlike ``getrusage``'s ``ru_maxrss``, which
    Linux carries over an ``exec`` (a child would report its parent's peak), it belongs to the
    process image that runs the measured path.
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024**2
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def cpu_seconds() -> float:
    """User + system CPU time of this process, all its threads (a fairer measure than wall
    time on a shared machine; printed beside it, never instead of it)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_ingestion(path: Path, out: Path) -> dict:
    from barometre.sources import helloasso

    started = time.perf_counter()
    summary = helloasso.participations_by_organization(
        path, DATA_YEAR, helloasso.DEFAULT_ITEM_STATES, memory_limit="1GB", threads=2
    )
    seconds = time.perf_counter() - started
    summary.per_org.to_parquet(out)
    return {"rows": summary.rows_read, "quarantined": summary.quarantined, "seconds": seconds, "cpu": cpu_seconds(), "peak_gb": peak_gb()}  # fmt: skip


def run_pandas(path: Path, out: Path) -> dict:
    import pandas as pd

    from barometre.sources import helloasso

    started = time.perf_counter()
    frame = pd.read_parquet(path, columns=["id", "organization_id", "date", "state"])
    counted = (frame["date"].dt.year == DATA_YEAR) & frame["state"].isin(
        helloasso.DEFAULT_ITEM_STATES
    )
    per_org = (
        frame.assign(in_scope=counted)
        .groupby("organization_id", sort=True)
        .agg(rows=("id", "size"), in_scope=("in_scope", "sum"))
        .reset_index()
        .astype("int64")
    )
    seconds = time.perf_counter() - started
    per_org.to_parquet(out)
    return {"rows": len(frame), "seconds": seconds, "cpu": cpu_seconds(), "peak_gb": peak_gb()}


def child(kind: str, path: Path, out: Path) -> dict:
    """Run one path in a fresh interpreter; returns its measures."""
    completed = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000, help="participation rows wanted")
    parser.add_argument("--cog", type=int, default=2022)
    parser.add_argument("--seed", type=int, default=20240615)
    parser.add_argument("--keep", type=Path, default=None, help="write (or reuse) the data here")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "PATH", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path, out = args.child
        run = run_ingestion if kind == "ingestion" else run_pandas
        print(json.dumps(run(Path(path), Path(out))))
        return

    import numpy as np
    import pandas as pd

    from barometre import demo, geography

    with tempfile.TemporaryDirectory(prefix="bench-ingestion-") as tmp:
        folder = args.keep or Path(tmp) / "raw"
        path = folder / "helloasso" / "participations.parquet"
        if not path.is_file():
            communes = geography.load_communes(args.cog)
            scale = args.rows / ROWS_PER_UNIT_SCALE
            started = time.perf_counter()
            demo.generate_demo_inputs(
                communes, DATA_YEAR, folder, np.random.default_rng(args.seed), seed=args.seed,
                participations_scale=scale,
            )  # fmt: skip
            print(f"generation (national demo, participations_scale {scale:.2f}): "
                  f"{time.perf_counter() - started:.1f} s, peak {peak_gb():.2f} GB")  # fmt: skip
        print(f"participations: {path.stat().st_size / 1e6:.0f} MB of Parquet")
        ours = child("ingestion", path, Path(tmp) / "ours.parquet")
        baseline = child("pandas", path, Path(tmp) / "pandas.parquet")
        same = pd.read_parquet(Path(tmp) / "ours.parquet").equals(pd.read_parquet(Path(tmp) / "pandas.parquet"))  # fmt: skip
        print(f"contract: {ours['quarantined']} rows quarantined; per-organisation counts equal "
              f"to the pandas baseline: {same}")  # fmt: skip
        print(f"cpu (user + system, whole child process): ingestion {ours['cpu']:.1f} s, "
              f"pandas baseline {baseline['cpu']:.1f} s")  # fmt: skip
        print(f"ingestion: {ours['rows']} rows in {ours['seconds']:.1f} s, peak {ours['peak_gb']:.2f} GB; "
              f"pandas baseline {baseline['seconds']:.1f} s, peak {baseline['peak_gb']:.2f} GB")  # fmt: skip


if __name__ == "__main__":
    main()
