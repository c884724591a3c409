"""Declared pipeline of an edition: steps, their inputs/outputs/parameters, caching, manifest.

Each step declares the files it reads and writes (relative to the edition's build folder) and
its parameters. Its key is the SHA-256 of its parameters, the checksums of its inputs, the code
it runs (its notebook, and the ``barometre`` modules reachable by imports from it — found by
parsing, so a change elsewhere in the package does not rerun it) and the versions of the main
libraries; a step whose key is unchanged and whose outputs exist is skipped (owid/etl's rule).
Every build writes ``manifest.json``: input checksums, parameters, package versions, git commit,
timings, seed.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from barometre import guard
from barometre.config import PROJECT_ROOT
from barometre.io import atomic_write_text, sha256_file

PACKAGE_DIR = Path(__file__).resolve().parent
NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
TRACKED_PACKAGES = (
    "barometre",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "SALib",
    "pyarrow",
    "duckdb",
    "matplotlib",
    "seaborn",
    "pyproj",
    "papermill",
    "pypandoc-binary",
    "typst",
    "pandera",
    "pydantic",
)


class PipelineError(RuntimeError):
    """A step that failed; the message names the step and where to look."""


def sha256_tree(paths: Iterable[Path], root: Path) -> str:
    """Checksum of many files, order-independent, names included (relative to ``root``)."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode())
            digest.update(sha256_file(path).encode())
    return digest.hexdigest()


def files_under(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def code_checksum() -> str:
    """Checksum of the ``barometre`` package sources (any code change reruns the steps)."""
    return sha256_tree(
        [
            p
            for p in files_under(PACKAGE_DIR)
            if p.suffix in {".py", ".yml", ".typ", ".css", ".html"}
        ],
        PACKAGE_DIR,
    )


def _module_file(module: str) -> Path | None:
    """Source file of a ``barometre`` module (package ``__init__`` for a package)."""
    parts = module.split(".")
    if parts[0] != "barometre":
        return None
    base = PACKAGE_DIR.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(source: str, current: str | None = None) -> set[str]:
    """``barometre`` modules imported anywhere in ``source`` (function-level imports included)."""
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("barometre"))
        elif isinstance(node, ast.ImportFrom):
            if node.level and current:
                package = current.rsplit(".", node.level)[0]
                base = f"{package}.{node.module}" if node.module else package
            else:
                base = node.module or ""
            if base.startswith("barometre"):
                found.add(base)
                found.update(f"{base}.{a.name}" for a in node.names)
    return found


def code_closure(entry_sources: Iterable[str], entry_modules: Iterable[str] = ()) -> list[Path]:
    """Files of every ``barometre`` module reachable by imports from the entries (with their
    parent packages), so that a step's key changes exactly when code it can run changes."""
    pending = set(entry_modules)
    for source in entry_sources:
        pending |= _imports(source)
    seen: set[str] = set()
    files: set[Path] = set()
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        parts = module.split(".")
        pending.update(".".join(parts[:i]) for i in range(1, len(parts)))
        path = _module_file(module)
        if path is None:
            continue
        files.add(path)
        pending |= _imports(path.read_text(encoding="utf-8"), module)
    return sorted(files)


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit() -> dict[str, Any]:
    """Commit of the project and whether the work tree differs from it (``None`` for what git
    cannot tell: no repository, or ``git status`` failing on a lock held by another git
    process — the commit is still known then)."""

    def run(*args: str) -> str | None:
        try:
            return subprocess.run(
                ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    commit = run("rev-parse", "HEAD")
    status = run("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit or None, "dirty": None if status is None else bool(status)}


@dataclass
class Step:
    """One declared step: a papermill notebook or a Python function.

    ``inputs`` and ``outputs`` are paths relative to the build folder, or absolute paths (raw
    inputs and reference tables outside it). A function step is called as ``func(build_dir,
    **params)``; a notebook step gets ``build_dir`` and ``params`` injected by papermill.
    """

    name: str
    title: str
    inputs: list[str | Path]
    outputs: list[str]
    params: dict[str, Any] = field(default_factory=dict)
    notebook: str | None = None
    func: Callable[..., Any] | None = None

    def resolve(self, build_dir: Path, entry: str | Path) -> Path:
        path = Path(entry)
        return path if path.is_absolute() else build_dir / path

    def allowed_reads(self, build_dir: Path) -> list[str]:
        """What the step may read: its declared inputs and outputs, as absolute paths."""
        return [str(self.resolve(build_dir, e)) for e in [*self.inputs, *self.outputs]]

    def code_files(self) -> list[Path]:
        """The package files this step can run: import closure of its notebook or function."""
        if self.notebook:
            cells = json.loads((NOTEBOOK_DIR / self.notebook).read_text(encoding="utf-8"))["cells"]
            sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
            return code_closure(sources)
        module = getattr(self.func, "__module__", "barometre")
        return code_closure([], [module])

    def key(self, build_dir: Path, versions: Mapping[str, str]) -> str:
        inputs = {}
        for entry in self.inputs:
            path = self.resolve(build_dir, entry)
            if not path.exists():
                raise PipelineError(f"step {self.name!r}: input {path} does not exist")
            inputs[str(entry)] = sha256_tree(
                files_under(path), path if path.is_dir() else path.parent
            )
        notebook = sha256_file(NOTEBOOK_DIR / self.notebook) if self.notebook else None
        code = sha256_tree(self.code_files(), PACKAGE_DIR)
        payload = {
            "params": self.params,
            "inputs": inputs,
            "code": code,
            "notebook": notebook,
            "versions": dict(versions),
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class StepRecord:
    name: str
    status: str
    seconds: float
    key: str


def _ipc_kernel_manager() -> type:
    from jupyter_client.manager import AsyncKernelManager

    class _IPCKernelManager(AsyncKernelManager):
        """Kernel manager using local IPC sockets instead of TCP ports on loopback."""

        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("transport", "ipc")
            super().__init__(**kwargs)

    return _IPCKernelManager


def __getattr__(name: str) -> Any:  # lazy: jupyter_client is imported only when notebooks run
    if name == "IPCKernelManager":
        return _ipc_kernel_manager()
    raise AttributeError(name)


# Injected by :func:`run_notebook` into every notebook, beside the step's declared parameters.
INJECTED_PARAMETERS = frozenset({"build_dir"})


def notebook_parameters(notebook: Path) -> set[str]:
    """Names of the parameters cell of ``notebook`` (the cell tagged ``parameters``), as papermill
    reads them (:func:`papermill.inspect_notebook`); empty without such a cell."""
    import papermill as pm

    return set(pm.inspect_notebook(str(notebook)))


def check_notebook_parameters(step: Step) -> None:
    """Refuse a notebook step whose parameters differ from its notebook's parameters cell.

    papermill only warns about an injected name the notebook does not have, and a name the
    notebook has but the step does not inject silently keeps its default (e.g. ``build/2024``):
    both are errors here. Raises :class:`PipelineError` naming the differences.
    """
    if not step.notebook:
        return
    path = NOTEBOOK_DIR / step.notebook
    if not path.is_file():
        raise PipelineError(f"step {step.name!r}: notebook {path} does not exist")
    in_notebook = notebook_parameters(path)
    declared = set(step.params) | INJECTED_PARAMETERS
    problems = []
    if unknown := sorted(declared - in_notebook):
        problems.append(
            f"declared by the step but absent from the notebook's parameters cell: {unknown}"
        )
    if undeclared := sorted(in_notebook - declared):
        problems.append(
            f"in the notebook's parameters cell but not declared by the step: {undeclared}"
        )
    if problems:
        raise PipelineError(
            f"step {step.name!r} ({step.notebook}): parameters " + "; ".join(problems)
        )


def run_notebook(step: Step, build_dir: Path) -> None:
    """Execute a step's notebook with papermill; the executed copy is kept as the record.

    The kernel inherits the read guard of the step (:func:`barometre.guard.environment`):
    ``import barometre`` in the notebook refuses reads of build files the step does not declare.
    """
    import os

    import papermill as pm

    source = NOTEBOOK_DIR / step.notebook  # type: ignore[operator]
    target = build_dir / "notebooks" / step.notebook  # type: ignore[operator]
    target.parent.mkdir(parents=True, exist_ok=True)
    parameters = {"build_dir": str(build_dir), **step.params}
    saved = os.environ.get(guard.ENV_VAR)
    os.environ.update(guard.environment(step.name, str(build_dir), step.allowed_reads(build_dir)))
    try:
        pm.execute_notebook(
            str(source),
            str(target),
            parameters=parameters,
            kernel_name="python3",
            cwd=str(build_dir),
            progress_bar=False,
            log_output=False,
            # local IPC sockets: no TCP port, no "running over TCP without encryption" warning
            kernel_manager_class="barometre.pipeline.IPCKernelManager",
        )
    except pm.PapermillExecutionError as err:
        raise PipelineError(
            f"step {step.name!r} failed in notebook {step.notebook} (cell {err.exec_count}): "
            f"{err.ename}: {err.evalue}\nexecuted notebook kept at {target}"
        ) from None
    finally:
        if saved is None:
            os.environ.pop(guard.ENV_VAR, None)
        else:
            os.environ[guard.ENV_VAR] = saved


def run_function(step: Step, build_dir: Path) -> None:
    """Call a function step with its parameters, its reads of build files guarded
    (:func:`barometre.guard.reading`): an undeclared one fails the step."""
    try:
        with guard.reading(step.name, str(build_dir), step.allowed_reads(build_dir)) as seen:
            step.func(build_dir, **step.params)  # type: ignore[misc]
    except guard.UndeclaredRead as err:
        raise PipelineError(str(err)) from None
    if seen:  # the step caught the error and went on
        raise PipelineError(
            f"step {step.name!r} read build files it does not declare as inputs: {seen}"
        )


def run_steps(
    steps: list[Step],
    build_dir: Path,
    force: bool = False,
    on_step: Callable[[Step, str], None] | None = None,
) -> list[StepRecord]:
    """Run the steps in order, skipping those whose key is unchanged and outputs exist.

    Every notebook step's parameters are checked against its notebook first
    (:func:`check_notebook_parameters`), so a mismatch fails the build before anything runs.
    """
    for step in steps:
        check_notebook_parameters(step)
    state_dir = build_dir / ".state"
    state_dir.mkdir(parents=True, exist_ok=True)
    versions = package_versions()
    records = []
    for step in steps:
        key = step.key(build_dir, versions)
        state_file = state_dir / f"{step.name}.json"
        previous = json.loads(state_file.read_text()) if state_file.exists() else {}
        outputs_exist = all(step.resolve(build_dir, o).exists() for o in step.outputs)
        if not force and previous.get("key") == key and outputs_exist:
            records.append(StepRecord(step.name, "skipped", 0.0, key))
            if on_step:
                on_step(step, "skipped")
            continue
        if on_step:
            on_step(step, "running")
        started = time.perf_counter()
        # The state is removed first: a step killed half-way is rerun by the next build.
        state_file.unlink(missing_ok=True)
        if step.notebook:
            run_notebook(step, build_dir)
        elif step.func is not None:
            run_function(step, build_dir)
        missing = [o for o in step.outputs if not step.resolve(build_dir, o).exists()]
        if missing:
            raise PipelineError(f"step {step.name!r} did not write its declared outputs {missing}")
        seconds = time.perf_counter() - started
        atomic_write_text(state_file, json.dumps({"key": key, "seconds": seconds}, indent=2))
        records.append(StepRecord(step.name, "ran", seconds, key))
        if on_step:
            on_step(step, "done")
    return records


def write_manifest(
    build_dir: Path,
    steps: list[Step],
    records: list[StepRecord],
    config: Mapping[str, Any],
    seed: int,
    total_seconds: float,
) -> Path:
    """Write ``manifest.json``: everything needed to redo the build and check it was redone."""
    inputs: dict[str, str] = {}
    outputs: dict[str, str] = {}
    for step in steps:
        for entry in step.inputs:
            path = step.resolve(build_dir, entry)
            for file in files_under(path):
                label = (
                    str(file.relative_to(build_dir))
                    if file.is_relative_to(build_dir)
                    else str(
                        file.relative_to(PROJECT_ROOT)
                        if file.is_relative_to(PROJECT_ROOT)
                        else file
                    )
                )
                inputs[label] = sha256_file(file)
        for entry in step.outputs:
            for file in files_under(step.resolve(build_dir, entry)):
                outputs[str(file.relative_to(build_dir))] = sha256_file(file)
    manifest = {
        "edition": config.get("edition"),
        "seed": seed,
        "config": config,
        "git": git_commit(),
        "code_checksum": code_checksum(),
        "python": sys.version.split()[0],
        "packages": package_versions(),
        "steps": [
            {
                "name": s.name,
                "title": s.title,
                "notebook": s.notebook,
                "params": s.params,
                "inputs": [str(i) for i in s.inputs],
                "outputs": s.outputs,
                "status": r.status,
                "seconds": round(r.seconds, 3),
                "key": r.key,
            }
            for s, r in zip(steps, records, strict=True)
        ],
        "total_seconds": round(total_seconds, 3),
        "inputs": dict(sorted(inputs.items())),
        "outputs": dict(sorted(outputs.items())),
    }
    path = build_dir / "manifest.json"
    atomic_write_text(path, json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n")
    return path
