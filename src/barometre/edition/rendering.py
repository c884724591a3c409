"""Rendering of an edition's publications: the render step and ``barometre territory``.

Each report folder (``report/``, ``territories/<t>/``) becomes a Quarto project next to its
sources and artefacts (:func:`barometre.publish.render.write_report_project`), then is rendered
with the build's renderer.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from barometre import catalogue
from barometre.config import EditionConfig

if TYPE_CHECKING:
    from barometre.publish.render import Renderer

DEMO_MARK = "Données de démonstration synthétiques"
REPORT_DIR = catalogue.path("", "report.sources")
REPORTS = {"barometre": "barometre.qmd", "methodologie": "methodologie.qmd"}


def render_step(
    build_dir: Path,
    demo: bool,
    reports: dict[str, str],
    timestamp: str,
    publication_date: str,
    renderer: str,
    renderer_version: str,
    territories: list[str],
) -> None:
    """Render every publication (baromètre, annex, territorial reports) to PDF and HTML.

    Each report folder (``report/``, ``territories/<t>/``) becomes a Quarto project
    (``_quarto.yml``, ``_metadata.yml``, ``_templates/``) next to the sources and artefacts, then
    is rendered with ``renderer`` (``quarto`` or ``offline``): `quarto render build/<edition>/report`
    by hand renders the same folder the same way.
    """
    import shutil

    from barometre.publish.render import BIBLIOGRAPHY_FILE, report_metadata, resolve_renderer

    engine = resolve_renderer(renderer)
    if engine.version != renderer_version:
        raise RuntimeError(
            f"{renderer} changed during the build ({renderer_version} → {engine.version}): rerun it"
        )
    # ISO date in the metadata (Quarto parses it), printed in French by both renderers
    metadata = report_metadata(publication_date, timestamp, DEMO_MARK if demo else None)
    report = catalogue.path(build_dir, "report.project", name="")
    for source in reports.values():
        shutil.copyfile(
            REPORT_DIR / source, catalogue.path(build_dir, "report.project", name=source)
        )
    # the bibliography of the methods the baromètre and its annex cite (citeproc, both renderers)
    shutil.copyfile(
        REPORT_DIR / BIBLIOGRAPHY_FILE,
        catalogue.path(build_dir, "report.project", name=BIBLIOGRAPHY_FILE),
    )
    projects = [
        (
            report,
            list(reports.values()),
            "../publications",
            metadata | {"bibliography": BIBLIOGRAPHY_FILE},
        )
    ]
    for slug in territories:
        projects.append(territory_project(build_dir, slug, metadata))
    for project in projects:
        render_folder(project, engine)


def render_folder(project: tuple[Path, list[str], str, dict], engine: Renderer) -> Path:
    """Write a report folder's Quarto project (folder, documents, output folder, metadata) and
    render it with ``engine``, warning of Quarto's unexpected warnings; returns the output
    folder."""
    import warnings

    from barometre.publish.render import (
        render_project,
        unexpected_quarto_warnings,
        write_report_project,
    )

    folder, documents, output_dir, metadata = project
    write_report_project(folder, documents, output_dir, metadata)
    done = render_project(folder, engine)
    for message in unexpected_quarto_warnings(done.warnings):
        warnings.warn(f"quarto ({folder.name}): {message}", stacklevel=3)
    return folder / output_dir


def territory_project(
    build_dir: Path, slug: str, metadata: dict
) -> tuple[Path, list[str], str, dict]:
    """The report project of a territory (the territory step copied territoire.qmd next to its
    artefacts): folder, documents, output folder and metadata, as :func:`render_step` renders it."""
    return (
        catalogue.path(build_dir, "territory", slug=slug),
        [catalogue.member("territory.report_source", "territory", slug=slug)],
        "publications",
        metadata | {"output-file": f"territoire-{slug}"},
    )


def render_territory(
    build_dir: Path, slug: str, config: EditionConfig, demo: bool, renderer: str = "auto"
) -> dict[str, Path]:
    """Render one territory's report (``barometre territory``) as the render step does: PDF and
    HTML under ``territories/<slug>/publications/``; returns them by format."""
    from barometre.publish.render import report_metadata, resolve_renderer

    engine = resolve_renderer(renderer)
    metadata = report_metadata(
        config.cover_date.isoformat(),
        f"{config.edition}-06-15T12:00:00",
        DEMO_MARK if demo else None,
    )
    out = render_folder(territory_project(build_dir, slug, metadata), engine)
    return {
        ext: out / f"territoire-{slug}.{ext}"
        for ext in ("pdf", "html")
        if (out / f"territoire-{slug}.{ext}").is_file()
    }
