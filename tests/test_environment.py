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
    deps = project["dependencies"] + [
        d for ds in project["optional-dependencies"].values() for d in ds
    ]
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
            req = Requirement(
                item.split("=")[0] if "=" in item and not re.search("[<>]=", item) else item
            )
            conda[canonicalize_name(req.name)] = req
    declared = {**conda, **pip}
    wanted = pyproject_requirements()
    assert set(declared) - set(wanted) <= CONDA_ONLY, (
        f"extra in environment.yml: {set(declared) - set(wanted) - CONDA_ONLY}"
    )
    for name, req in wanted.items():
        assert name in declared, f"{name} missing from environment.yml"
        assert declared[name].specifier == req.specifier, (
            f"{name}: environment.yml says {declared[name].specifier}, pyproject.toml {req.specifier}"
        )
    python = [i for i in env["dependencies"] if isinstance(i, str) and i.startswith("python")]
    assert python == ["python=3.11"]


# --------------------------------------------------------------------------- declared = used

# Declared dependencies that the code runs rather than imports, each with its reason.
RUN_NOT_IMPORTED = {
    "ipykernel": "the python3 kernel in which papermill runs the notebooks",
    "jupytext": "pairs notebooks/*.ipynb with their .py twins (command line, Jupyter)",
    "ruff": "the linter of .ci/run",
    "pytest": "the test runner (its plugins are not imported by name)",
    # declared for the statistical figures of the publications (issue 14, item 4), drawn by
    # publish/ on another branch: when that lands, this entry is no longer needed
    "seaborn": "statistical figures of the publications",
}
SOURCE_DIRS = ("src", "scripts", "benchmarks", "notebooks")


def imported_modules(paths: list[Path]) -> set[str]:
    """Top-level names of the absolute imports in ``paths`` (``.py`` files and the code cells
    of ``.ipynb`` notebooks), standard library and the project's own modules excluded."""
    import ast
    import json
    import sys

    found: set[str] = set()
    for path in paths:
        if path.suffix == ".ipynb":
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
        else:
            sources = [path.read_text(encoding="utf-8")]
        for source in sources:
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    local = {p.stem for p in (ROOT / "tests").glob("*.py")} | {"barometre", "conftest"}
    return {m for m in found if m not in sys.stdlib_module_names and m not in local}


def distributions_of(modules: set[str]) -> set[str]:
    """The installed distributions providing ``modules`` (``yaml`` → ``pyyaml``)."""
    from importlib.metadata import packages_distributions

    providers = packages_distributions()
    missing = sorted(m for m in modules if m not in providers)
    assert not missing, f"imported but not installed: {missing}"
    # a module provided by several distributions (pypandoc: pypandoc-binary) counts once, by
    # the one pyproject names when it names one
    declared = set(pyproject_requirements())
    names = set()
    for module in modules:
        candidates = {canonicalize_name(d) for d in providers[module]}
        names |= (candidates & declared) or candidates
    return names


def source_files(*folders: str) -> list[Path]:
    return sorted(
        p
        for folder in folders
        for p in (ROOT / folder).rglob("*")
        if p.suffix in {".py", ".ipynb"} and ".ipynb_checkpoints" not in p.parts
    )


def test_declared_dependencies_are_the_used_ones():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    dev = {canonicalize_name(Requirement(r).name) for r in project["optional-dependencies"]["dev"]}
    used = distributions_of(imported_modules(source_files(*SOURCE_DIRS)))
    used_by_tests = distributions_of(imported_modules(source_files("tests")))
    allowed = {canonicalize_name(n) for n in RUN_NOT_IMPORTED}
    assert used - runtime == set(), (
        f"imported by the project but not in dependencies: {used - runtime}"
    )
    assert used_by_tests - runtime - dev == set(), (
        f"imported by the tests but not declared (dev extra): {used_by_tests - runtime - dev}"
    )
    assert runtime - used - allowed == set(), (
        f"declared but never imported: {runtime - used - allowed}"
    )
    assert dev - used_by_tests - allowed == set(), (
        f"dev extra never imported: {dev - used_by_tests - allowed}"
    )
