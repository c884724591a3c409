"""Report projects and the choice of renderer: ``_quarto.yml`` and ``_metadata.yml`` of a report
folder, :func:`resolve_renderer` (``auto``, ``quarto`` or ``offline``) and
:func:`render_project`, which renders every document of a project with either."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from barometre.publish.render.base import (
    DATE_FORMAT,
    OUTPUT_FORMATS,
    PROJECT_TEMPLATE_FILES,
    PROJECT_TEMPLATES,
    QUARTO_PROJECT_TEMPLATE,
    RENDERER_CHOICES,
    RenderError,
    check_formats,
)
from barometre.publish.render.offline import render_offline
from barometre.publish.render.pandoc_ast import _ISO_DATE, load_metadata_file
from barometre.publish.render.quarto import quarto_executable, quarto_version, render_with_quarto


@dataclass(frozen=True)
class Renderer:
    """A resolved renderer: ``quarto`` (with its executable) or ``offline``, and its version."""

    name: str
    version: str
    executable: str | None = None

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


def offline_version() -> str:
    """Versions of the offline renderer's tools (pandoc from pypandoc-binary, typst-py)."""
    from importlib import metadata

    import pypandoc

    return f"pandoc {pypandoc.get_pandoc_version()}, typst-py {metadata.version('typst')}"


def resolve_renderer(choice: str = "auto") -> Renderer:
    """The renderer for ``choice``: ``auto`` (Quarto when on PATH, else offline), ``quarto``
    (fails when Quarto is not installed) or ``offline`` (pandoc + Typst)."""
    if choice not in RENDERER_CHOICES:
        raise ValueError(f"renderer must be one of {', '.join(RENDERER_CHOICES)}, not {choice!r}")
    if choice in ("auto", "quarto"):
        executable = quarto_executable()
        if executable is not None:
            return Renderer("quarto", quarto_version(executable), executable)
        if choice == "quarto":
            raise RenderError(
                "quarto is not installed (not on PATH): install it (https://quarto.org/docs/"
                "get-started/) or render offline (--renderer offline, pandoc + Typst)"
            )
    return Renderer("offline", offline_version())


def write_report_project(
    folder: Path | str,
    documents: Sequence[str],
    output_dir: str,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Make ``folder`` a Quarto project both renderers render the same way.

    Writes ``_quarto.yml`` (from ``templates/quarto-project.yml``, with ``documents`` as the
    render list and ``output_dir``, relative to the folder, as the output folder),
    ``_metadata.yml`` (``metadata``: e.g. ``date`` in ISO form, ``date-format``, ``demo-mark``,
    ``pdf-timestamp``, ``output-file``) and a fresh copy of the templates in ``_templates/``.
    The folder must already hold the documents and what they read (``_variables.yml``, tables,
    figures). Returns the path of ``_quarto.yml``.
    """
    folder = Path(folder)
    missing = [d for d in documents if not (folder / d).is_file()]
    if missing or not documents:
        raise RenderError(f"{folder}: documents to render not found: {missing or 'none given'}")
    templates = folder / PROJECT_TEMPLATES
    if templates.exists():
        shutil.rmtree(templates)
    templates.mkdir()
    for path in PROJECT_TEMPLATE_FILES:
        shutil.copyfile(path, templates / path.name)
    config = yaml.safe_load(QUARTO_PROJECT_TEMPLATE.read_text(encoding="utf-8"))
    config["project"]["output-dir"] = output_dir
    config["project"]["render"] = list(documents)
    header = (
        "# Written by barometre.publish.render.write_report_project from templates/quarto-project.yml:\n"
        "# `quarto render` here renders what `barometre build --renderer offline` renders.\n"
    )
    quarto_yml = folder / "_quarto.yml"
    _write_text(quarto_yml, header + yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    _write_text(
        folder / "_metadata.yml",
        "# Directory metadata of the documents (Quarto's _metadata.yml; the front matter wins).\n"
        + yaml.safe_dump(dict(metadata or {}), allow_unicode=True, sort_keys=True),
    )
    return quarto_yml


def report_metadata(date: str, pdf_timestamp: str, demo_mark: str | None = None) -> dict[str, Any]:
    """The ``_metadata.yml`` of the publications of an edition.

    ``date`` (ISO, ``2024-06-15``) is what Quarto parses (a French date string gave « Invalid
    Date »); both renderers print it with ``date-format`` in French, ``15 juin 2024``.
    ``date-meta`` repeats it for the HTML page's ``dcterms.date`` (Quarto's minimal html does not
    derive it). ``pdf-timestamp`` is the PDF's creation date; ``demo-mark`` the demo-data mark.
    """
    if not _ISO_DATE.match(date):
        raise ValueError(f"the publication date must be an ISO date (YYYY-MM-DD), not {date!r}")
    metadata: dict[str, Any] = {
        "date": date,
        "date-format": DATE_FORMAT,
        "date-meta": date,
        "pdf-timestamp": pdf_timestamp,
    }
    if demo_mark:
        metadata["demo-mark"] = demo_mark
    return metadata


def _write_text(path: Path, text: str) -> None:
    from barometre.io import atomic_write_text

    atomic_write_text(path, text)


def read_report_project(folder: Path | str) -> tuple[list[str], Path]:
    """(documents to render, output folder) of a report project's ``_quarto.yml``."""
    folder = Path(folder)
    path = folder / "_quarto.yml"
    if not path.is_file():
        raise RenderError(
            f"{folder} is not a report project (no _quarto.yml; see write_report_project)"
        )
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    project = config.get("project") or {}
    documents = list(project.get("render") or sorted(p.name for p in folder.glob("*.qmd")))
    return documents, (folder / project.get("output-dir", ".")).resolve()


@dataclass
class ProjectRender:
    """What :func:`render_project` did: outputs per document stem, Quarto's warnings, time."""

    renderer: Renderer
    outputs: dict[str, dict[str, Path]]
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    log: str = ""


def render_project(
    folder: Path | str,
    renderer: Renderer | str = "auto",
    formats: Sequence[str] = OUTPUT_FORMATS,
) -> ProjectRender:
    """Render every document of a report project (see :func:`write_report_project`).

    ``quarto``: ``quarto render <folder>`` (``--to typst``/``html`` for one format); Quarto's
    warnings are returned (``quarto-offline`` prints a harmless ``typst-gather`` one) and a
    failure raises :class:`RenderError` with Quarto's output. ``offline``: :func:`render_document`
    for each document, with the folder's ``_variables.yml``, ``_metadata.yml`` and the PDF
    timestamp of its ``pdf-timestamp``. Outputs go to the project's output folder.
    """
    import time

    engine = renderer if isinstance(renderer, Renderer) else resolve_renderer(renderer)
    folder = Path(folder).resolve()
    check_formats(formats)
    documents, out_dir = read_report_project(folder)
    metadata = load_metadata_file(folder)
    started = time.perf_counter()
    found: list[str] = []
    log = ""
    if engine.name == "offline":
        outputs = render_offline(folder, documents, out_dir, metadata, formats)
    else:
        outputs, found, log = render_with_quarto(
            engine.executable or "quarto", folder, documents, out_dir, metadata, formats
        )
    return ProjectRender(engine, outputs, found, time.perf_counter() - started, log)
