"""Refuse a step's reads of build files it does not declare.

While a step runs, an ``open`` audit event (:func:`sys.addaudithook`: ``open()``, ``io.open``,
``os.open``, hence pandas, ``Path.read_text``, PIL…) that reads a file under the build folder
outside the step's declared inputs and outputs raises :class:`UndeclaredRead`, naming the step
and the file; the runner also fails the step afterwards when the step swallowed the error.

In the runner's process the guard is switched on by :func:`reading` around a function step. A
notebook step's kernel inherits :data:`ENV_VAR` (JSON: step, build folder, allowed paths) and
``import barometre`` installs the guard from it (:func:`install_from_environment`).

Limit: readers that do not go through Python's ``open`` (DuckDB, pyarrow's native file system,
subprocesses such as Quarto or pandoc) are not seen; build files are read through ``read_table``
(pandas) in the steps, and the render step's subprocesses read only what the step declares.

This module imports only the standard library: ``import barometre`` stays light.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

ENV_VAR = "BAROMETRE_READ_GUARD"


class UndeclaredRead(RuntimeError):
    """A step read a build file that it does not declare."""


@dataclass
class _Active:
    step: str
    build_dir: str
    allowed: tuple[str, ...]
    violations: list[str] = field(default_factory=list)


_active: _Active | None = None
_installed = False


def _norm(path: str) -> str:
    return os.path.normpath(os.path.abspath(path))


def _is_read(mode: object, flags: object) -> bool:
    """Whether an ``open`` reads existing content (creating or truncating a file does not)."""
    if isinstance(mode, str):
        return "r" in mode
    if isinstance(flags, int):
        if flags & (os.O_CREAT | os.O_TRUNC):
            return False
        return (flags & os.O_ACCMODE) in (os.O_RDONLY, os.O_RDWR)
    return True


def _covered(path: str, allowed: Iterable[str]) -> bool:
    return any(path == a or path.startswith(a.rstrip(os.sep) + os.sep) for a in allowed)


def check(path: object, mode: object = "r", flags: object = None) -> None:
    """Raise :class:`UndeclaredRead` if the active step may not read ``path``."""
    state = _active
    if state is None or isinstance(path, int) or not _is_read(mode, flags):
        return
    try:
        name = _norm(os.fsdecode(path))  # type: ignore[arg-type]
    except TypeError:
        return
    if not name.startswith(state.build_dir + os.sep) or _covered(name, state.allowed):
        return
    relative = os.path.relpath(name, state.build_dir)
    if relative not in state.violations:
        state.violations.append(relative)
    raise UndeclaredRead(
        f"step {state.step!r} read {relative}, which it does not declare as an input "
        f"(declare it in the step, by its key in config/artefacts.yml)"
    )


def _hook(event: str, args: tuple) -> None:
    if event == "open" and _active is not None:
        check(*args[:3])


def install() -> None:
    """Install the audit hook (once per process; inactive until a step runs)."""
    global _installed
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True


def activate(step: str, build_dir: str, allowed: Iterable[str]) -> None:
    """Start guarding ``step``'s reads under ``build_dir`` (``allowed``: absolute paths)."""
    global _active
    install()
    _active = _Active(step, _norm(build_dir), tuple(_norm(a) for a in allowed))


def deactivate() -> list[str]:
    """Stop guarding; returns the undeclared reads seen (relative to the build folder)."""
    global _active
    state, _active = _active, None
    return state.violations if state else []


@contextmanager
def reading(step: str, build_dir: str, allowed: Iterable[str]) -> Iterator[list[str]]:
    """Guard the reads of ``step`` within the block; yields the list of undeclared reads, filled
    in when the block ends."""
    activate(step, build_dir, allowed)
    seen: list[str] = []
    try:
        yield seen
    finally:
        seen.extend(deactivate())


def environment(step: str, build_dir: str, allowed: Iterable[str]) -> dict[str, str]:
    """The environment variable that guards a notebook step's kernel."""
    payload = {"step": step, "build_dir": str(build_dir), "allowed": [str(a) for a in allowed]}
    return {ENV_VAR: json.dumps(payload)}


def install_from_environment() -> None:
    """Guard this process when :data:`ENV_VAR` is set (a notebook step's kernel)."""
    raw = os.environ.get(ENV_VAR)
    if not raw:
        return
    payload = json.loads(raw)
    activate(payload["step"], payload["build_dir"], payload["allowed"])
