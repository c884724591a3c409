"""Shared fixtures of the test suite: external tools, and demo builds made once per session."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from external_tools import require_tool

ROOT = Path(__file__).resolve().parents[1]
BARO = Path(sys.executable).parent / "barometre"
#: Nord: every population class, and the 2025 edition's territorial report (Hauts-de-France).
ATTACK_DEPARTMENTS = "59"


@pytest.fixture
def pdftotext() -> str:
    """The ``pdftotext`` program (skips without it; fails in CI: see external_tools)."""
    return require_tool("pdftotext")


@pytest.fixture(scope="session")
def demo_builds(tmp_path_factory) -> dict[str, Path]:
    """The 2024 and 2025 demo editions of one département (2025 builds 2024 first, as its
    previous edition), offline renderer, 300 uncertainty runs: edition → build folder."""
    root = tmp_path_factory.mktemp("demo_builds")
    command = [
        str(BARO),
        "build",
        "--edition",
        "2025",
        "--demo",
        "--departments",
        ATTACK_DEPARTMENTS,
        "--runs",
        "300",
        "--renderer",
        "offline",
        "--build-root",
        str(root),
    ]
    done = subprocess.run(command, check=False, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    return {edition: root / f"{edition}-dep-{ATTACK_DEPARTMENTS}" for edition in ("2024", "2025")}
