"""External programs some tests need (Debian packages, not Python ones): a test that needs a
missing one is skipped on a developer's machine, with the reason, but FAILS in CI (``CI`` set
to true, as .ci/run runs), so that a missing tool never hides the checks behind it."""

from __future__ import annotations

import os
import shutil

import pytest


def in_ci() -> bool:
    """Whether the tests run in CI (the ``CI`` environment variable, as CI services set it)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require_tool(name: str, package: str = "poppler-utils") -> str:
    """The path of the program ``name``; skip the test without it, or fail it in CI."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} (Debian {package}) is not installed"
        if in_ci():
            pytest.fail(f"{message}: CI must have it (.ci/run installs {package})", pytrace=False)
        pytest.skip(message)
    return path


def has_tool(name: str, package: str = "poppler-utils") -> bool:
    """For an optional check inside a test: True when ``name`` is there; in CI a missing one
    fails the test instead of dropping the check."""
    return require_tool(name, package) is not None if in_ci() else shutil.which(name) is not None
