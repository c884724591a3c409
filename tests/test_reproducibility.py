"""Reproducible editions: a build killed half-way and resumed equals a clean build, byte for byte.

Two builds of the same edition subset go to two different folders: one runs cleanly; the other
is killed (SIGKILL, the whole process group, kernels included) while a later step runs, then
resumed. Every table, report artefact and PDF must be identical, and the resumed build must not
have rerun the steps that had completed before the kill.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BARO = Path(sys.executable).parent / "barometre"
DEPARTMENTS = "48"  # Lozère: small, quick

pytestmark = pytest.mark.slow


def build_cmd(root: Path) -> list[str]:
    return [
        str(BARO),
        "build",
        "--edition",
        "2024",
        "--demo",
        "--departments",
        DEPARTMENTS,
        "--build-root",
        str(root),
        "--runs",
        "500",
    ]


def compared_files(build_dir: Path) -> dict[str, bytes]:
    out = {}
    for folder in ("tables", "work", "report/tables", "report/figures", "publications"):
        for path in sorted((build_dir / folder).rglob("*")):
            if path.is_file() and path.suffix in {".csv", ".md", ".png", ".pdf", ".html", ".yml"}:
                out[str(path.relative_to(build_dir))] = path.read_bytes()
    variables = (build_dir / "report" / "_variables.yml").read_bytes()
    out["report/_variables.yml"] = variables
    return out


@pytest.fixture(scope="module")
def clean_and_resumed(tmp_path_factory):
    clean_root = tmp_path_factory.mktemp("clean")
    done = subprocess.run(
        build_cmd(clean_root), check=False, capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr

    killed_root = tmp_path_factory.mktemp("killed")
    build_dir = killed_root / f"2024-dep-{DEPARTMENTS}"
    process = subprocess.Popen(
        build_cmd(killed_root),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    # kill as soon as the sources step has completed (the next steps are then running)
    while not (build_dir / ".state" / "sources.json").exists():
        assert process.poll() is None, "build ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    completed_before = {p.stem for p in (build_dir / ".state").glob("*.json")}
    resumed = subprocess.run(
        build_cmd(killed_root), check=False, capture_output=True, text=True, cwd=ROOT
    )
    assert resumed.returncode == 0, resumed.stderr
    return clean_root / f"2024-dep-{DEPARTMENTS}", build_dir, completed_before


def test_killed_then_resumed_build_equals_clean_build(clean_and_resumed):
    clean, resumed, _ = clean_and_resumed
    a, b = compared_files(clean), compared_files(resumed)
    assert a.keys() == b.keys()
    different = [name for name in a if a[name] != b[name]]
    assert not different, f"files differ between a clean and a resumed build: {different}"
    assert any(name.endswith(".pdf") for name in a)


def test_resume_skips_the_steps_completed_before_the_kill(clean_and_resumed):
    _, resumed, completed_before = clean_and_resumed
    manifest = json.loads((resumed / "manifest.json").read_text())
    status = {s["name"]: s["status"] for s in manifest["steps"]}
    assert completed_before, "the kill came before any step completed"
    for name in completed_before:
        assert status[name] == "skipped", (name, status, sorted(completed_before))
    assert any(s == "ran" for s in status.values())


def test_no_temporary_or_partial_files_left(clean_and_resumed):
    _, resumed, _ = clean_and_resumed
    leftovers = [p for p in resumed.rglob("*") if p.name.endswith(".tmp")]
    assert not leftovers
