"""Shared fixtures of the test suite."""

from __future__ import annotations

import pytest
from external_tools import require_tool


@pytest.fixture
def pdftotext() -> str:
    """The ``pdftotext`` program (skips without it; fails in CI: see external_tools)."""
    return require_tool("pdftotext")
