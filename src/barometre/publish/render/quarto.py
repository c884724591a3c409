"""The Quarto renderer: the ``quarto`` executable, ``quarto render`` of a report project, and
the warnings of its output."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from barometre.publish.render.base import PROJECT_TEMPLATES, RenderError, project_output_stem

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: Quarto's warnings start a line with WARN/WARNING; typst's (through Quarto) with "warning:".
_QUARTO_WARNING = re.compile(
    r"^\s*(?:WARN(?:ING)?\b(?:\s*\([^)]*\))?:?|warning:)\s*(?P<message>.*)$"
)
#: The one warning quarto-offline always prints (no typst-gather binary; harmless).
KNOWN_QUARTO_WARNINGS = (re.compile(r"^typst-gather analyze failed"),)


def quarto_executable() -> str | None:
    """Path of the ``quarto`` on PATH, or None."""
    return shutil.which("quarto")


def quarto_available() -> bool:
    """True when a ``quarto`` executable is on PATH (then ``auto`` renders with it)."""
    return quarto_executable() is not None


def quarto_version(executable: str) -> str:
    """``quarto --version`` (e.g. ``1.10.18``)."""
    completed = subprocess.run(
        [executable, "--version"], capture_output=True, text=True, check=False, env=_quarto_env()
    )
    if completed.returncode != 0 or not completed.stdout.strip():
        raise RenderError(f"{executable} --version failed: {completed.stderr.strip()}")
    return completed.stdout.strip().splitlines()[0]


def render_with_quarto(
    executable: str,
    folder: Path,
    documents: Sequence[str],
    out_dir: Path,
    metadata: Mapping[str, Any],
    formats: Sequence[str],
) -> tuple[dict[str, dict[str, Path]], list[str], str]:
    """``quarto render <folder>`` (``--to typst``/``html`` for one format): the outputs per
    document stem, Quarto's warnings and its log. A failure, or a document Quarto did not
    write, raises :class:`RenderError` with the end of the log; the resource folders Quarto
    copies next to the outputs for HTML are removed (the publications embed them)."""
    command = [executable, "render", str(folder)]
    if len(formats) == 1:
        command += ["--to", {"pdf": "typst", "html": "html"}[formats[0]]]
    before = set(out_dir.iterdir()) if out_dir.is_dir() else set()
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        check=False,
        cwd=folder,
        env=_quarto_env(),
    )
    log = _strip_ansi(completed.stdout + completed.stderr)
    if completed.returncode != 0:
        raise RenderError(f"quarto render {folder} failed ({completed.returncode}):\n{log[-4000:]}")
    found = quarto_warnings(log)
    outputs: dict[str, dict[str, Path]] = {}
    for document in documents:
        stem = project_output_stem(document, metadata)
        outputs[stem] = {fmt: out_dir / f"{stem}.{fmt}" for fmt in formats}
        missing = [str(p) for p in outputs[stem].values() if not p.is_file()]
        if missing:
            raise RenderError(f"quarto render {folder} did not write {missing}:\n{log[-4000:]}")
    # Quarto copies the documents' resources (figures/) to the output folder for the HTML
    # format; the publications embed them, so only the documents are kept there.
    for path in sorted(set(out_dir.iterdir()) - before):
        if path.is_dir() and path.name in {"figures", "tables", PROJECT_TEMPLATES}:
            shutil.rmtree(path)
    return outputs, found, log


def quarto_warnings(log: str) -> list[str]:
    """The warnings in Quarto's output, one line each (ANSI colours removed)."""
    found = []
    for line in _strip_ansi(log).splitlines():
        match = _QUARTO_WARNING.match(line)
        if match:
            found.append(match.group("message").strip())
    return found


def unexpected_quarto_warnings(warnings: Iterable[str]) -> list[str]:
    """The warnings other than the known harmless ones of :data:`KNOWN_QUARTO_WARNINGS`."""
    return [w for w in warnings if not any(known.match(w) for known in KNOWN_QUARTO_WARNINGS)]


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def _quarto_env() -> dict[str, str]:
    """The environment for a ``quarto`` subprocess: without the variables a parent Quarto sets
    for its pre-render scripts (``quarto render`` at the repository root runs the build)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("QUARTO_PROJECT_")}
