"""The dependency truth is pyproject.toml; the lock file and environment.yml must agree with it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
# Declared in environment.yml but not installable from PyPI here: the external renderer.
CONDA_ONLY = {"python", "pip", "quarto"}


def pyproject_requirements() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + [d for ds in project["optional-dependencies"].values() for d in ds]
    return {canonicalize_name(r.name): r for r in map(Requirement, deps)}


def locked_versions() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def test_every_dependency_is_pinned_within_its_range():
    pins = locked_versions()
    for name, req in pyproject_requirements().items():
        assert name in pins, f"{name} is not pinned in requirements.lock (run `make lock`)"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"{name}=={pins[name]} in requirements.lock violates {req.specifier} of pyproject.toml"
        )


def test_environment_yml_mirrors_pyproject():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = {}, {}
    for item in env["dependencies"]:
        if isinstance(item, dict):
            for entry in item["pip"]:
                if not entry.startswith("-"):
                    req = Requirement(entry)
                    pip[canonicalize_name(req.name)] = req
        else:
            req = Requirement(item.split("=")[0] if "=" in item and not re.search("[<>]=", item) else item)
            conda[canonicalize_name(req.name)] = req
    declared = {**conda, **pip}
    wanted = pyproject_requirements()
    assert set(declared) - set(wanted) <= CONDA_ONLY, f"extra in environment.yml: {set(declared) - set(wanted) - CONDA_ONLY}"
    for name, req in wanted.items():
        assert name in declared, f"{name} missing from environment.yml"
        assert declared[name].specifier == req.specifier, (
            f"{name}: environment.yml says {declared[name].specifier}, pyproject.toml {req.specifier}"
        )
    python = [i for i in env["dependencies"] if isinstance(i, str) and i.startswith("python")]
    assert python == ["python=3.11"]
