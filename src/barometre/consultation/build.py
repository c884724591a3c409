"""``barometre consultation build``: a consultation → tables and an « Agenda citoyen » (PDF + HTML).

Writes ``<build_root>/<name>/`` (default ``build/consultation/<name>/``):

| path | what |
| --- | --- |
| ``raw/`` | the synthetic input with its provenance (``--demo`` only) |
| ``work/`` | confidential: the quarantine (values as read), the author département of each proposal |
| ``tables/`` | published tables: ``propositions.csv`` (scores, zones, probabilities, themes), the agenda's lists, zones, disagreements, ranking, themes and lexicon, territories (small counts suppressed), correlations, age bands (open-data layout) |
| ``report/`` | ``agenda.qmd`` with its ``_variables.yml``, ``tables/*.md`` and ``figures/`` |
| ``publications/`` | ``agenda-citoyen.pdf`` and ``.html`` |
| ``manifest.json`` | input checksum, parameters, timings, outputs and their checksums, versions |

Demo builds say so on every page (« Données de démonstration synthétiques »). Report pages
compute nothing: every number is written by the build into ``_variables.yml`` or a Markdown
partial.

The work is split by stage: :mod:`~barometre.consultation.stages` reads, scores, assigns themes,
locates the authors and writes the tables; :mod:`~barometre.consultation.agenda` writes every
text, table and figure of the report; this module runs them in order, renders and writes the
manifest.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from barometre.consultation import demo as demo_module
from barometre.consultation.agenda import Agenda, AgendaInputs, _text, write_agenda
from barometre.consultation.figures import ZONE_FR
from barometre.consultation.ranking import ProposalRanking, rank_proposals
from barometre.consultation.scoring import (
    DEFAULT_DRAWS,
    DEFAULT_PRIOR,
    DEFAULT_SEED,
    DEFAULT_WEIGHT,
    ZONES,
)
from barometre.consultation.stages import (
    CONFIDENCE,
    ConsultationBuildError,
    ReadStage,
    TableStage,
    TerritoryStage,
    ThemeStage,
    _slug,
    parse_territory,
    read_stage,
    score_stage,
    table_stage,
    territory_stage,
    theme_stage,
)
from barometre.io import sha256_file

__all__ = [
    "CONFIDENCE",
    "ZONE_FR",
    "ConsultationBuild",
    "ConsultationBuildError",
    "build_consultation",
    "parse_territory",
]

PROJECT_ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = Path(__file__).resolve().parent / "templates" / "agenda.qmd"
DEMO_MARK = demo_module.DEMO_MARK
DEFAULT_BUILD_ROOT = Path("build") / "consultation"
DEFAULT_ENGAGEMENT = PROJECT_ROOT / "build" / "2024" / "tables" / "communes.csv"
DEFAULT_TERRITORY = "32"
STAGE_NAMES = ("read", "score", "themes", "ranking", "territories", "report", "render")

T = TypeVar("T")


@dataclass
class ConsultationBuild:
    """What a build wrote: its folder, layout, tables, publications, timings and summary."""

    dir: Path
    layout: str
    demo: bool
    proposals: int
    tables: dict[str, Path] = field(default_factory=dict)
    publications: dict[str, Path] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    manifest: Path | None = None
    renderer: str = ""


def _timed(timings: dict[str, float], stage: str, run: Callable[[], T]) -> T:
    """Run one stage and record its wall-clock seconds under ``timings[stage]``."""
    tick = time.perf_counter()
    value = run()
    timings[stage] = time.perf_counter() - tick
    return value


def _render(
    report: Path,
    publications: Path,
    variables: dict[str, Any],
    day: _dt.date,
    demo: bool,
    renderer: str,
) -> tuple[dict[str, Path], str]:
    """Render ``report/agenda.qmd`` to ``publications/agenda-citoyen.{pdf,html}`` like the other
    publications: as a report project (Quarto when installed, else offline, ``renderer``) when
    the publishing toolkit has report projects, else with the offline renderer directly (then
    the date goes in the front matter)."""
    from barometre.publish import render as toolkit

    stamp = _dt.datetime.combine(day, _dt.time(12), tzinfo=_dt.UTC)
    source = report / "agenda.qmd"
    if hasattr(toolkit, "write_report_project") and hasattr(toolkit, "render_project"):
        metadata = toolkit.report_metadata(day.isoformat(), stamp.strftime("%Y-%m-%dT%H:%M:%S"), DEMO_MARK if demo else None)  # fmt: skip
        metadata["output-file"] = "agenda-citoyen"
        text = source.read_text(encoding="utf-8")
        _text(source, "\n".join(line for line in text.splitlines() if not line.startswith("date:")))
        toolkit.write_report_project(report, ["agenda.qmd"], Path("..", publications.name).as_posix(), metadata)  # fmt: skip
        done = toolkit.render_project(report, renderer, formats=("pdf", "html"))
        return dict(done.outputs["agenda-citoyen"]), done.renderer.name
    if renderer == "quarto":
        raise ConsultationBuildError("this version of the publishing toolkit renders offline only")
    outputs = toolkit.render_document(
        source, variables, publications, formats=("pdf", "html"),
        demo_mark=DEMO_MARK if demo else None, timestamp=stamp,
        output_stem="agenda-citoyen", resource_dir=report,
    )  # fmt: skip
    return outputs, "offline"


def _names(
    input_path: Path | None, layout: str | None, demo: bool, name: str | None, title: str | None
) -> tuple[str | None, str, str]:
    """(layout, folder name, title) of the build: the demo's, else from the input file name."""
    if demo:
        layout = layout or "counts"
        name = name or ("demo-mieux-vivre-en-ville" + ("-opendata" if layout == "opendata" else ""))
        title = title or demo_module.CONSULTATION_TITLE
    else:
        name = name or _slug(Path(input_path).stem)
        title = title or Path(input_path).stem
    return layout, name, title


def _clean_folder(out: Path) -> None:
    """Remove what a previous build wrote under ``out`` and create ``out/tables``."""
    for folder in ("work", "tables", "report", "publications", "raw"):
        if (out / folder).exists():
            shutil.rmtree(out / folder)
    (out / "tables").mkdir(parents=True)


def _engagement_file(engagement_path: Path | None, demo: bool) -> Path | None:
    """The engagement table to read: the one given, else for a demo the 2024 build's when
    it exists."""
    if engagement_path is None and demo and DEFAULT_ENGAGEMENT.is_file():
        return DEFAULT_ENGAGEMENT
    return engagement_path


def _prepare_report(out: Path) -> Path:
    """Create ``out/report/tables`` and copy the agenda's template; returns ``out/report``."""
    report = out / "report"
    (report / "tables").mkdir(parents=True)
    shutil.copyfile(TEMPLATE, report / "agenda.qmd")
    return report


def _summary(
    read: ReadStage,
    scored: pd.DataFrame,
    ranking: ProposalRanking,
    territories: TerritoryStage,
    agenda: Agenda,
) -> dict[str, Any]:
    """The build's key counts (printed by the command, kept in the manifest)."""
    consultation = read.consultation
    summary = {
        "rows_read": consultation.rows_read,
        "accepted": consultation.accepted,
        "quarantined": consultation.quarantined,
        "votes": agenda.total_votes,
        "consensus": int(agenda.n_consensus),
        "tau_best_size": ranking.tau_best_size,
        "unclassified_share": float(agenda.unclassified),
        "correlations": territories.correlations,
    }
    if consultation.layout == "counts":
        summary["zones_make"] = {z: int((scored["zone"] == z).sum()) for z in ZONES}
        summary["uncertain_make_zone"] = int((scored["p_zone"] < 0.5).sum())
        summary["top_consensus"] = [str(t) for t in agenda.consensus_list["content"].head(5)]
    return summary


def _write_manifest(
    result: ConsultationBuild,
    read: ReadStage,
    territories: TerritoryStage,
    title: str,
    parameters: dict[str, Any],
) -> Path:
    """Write ``manifest.json``: input checksum, parameters, summary, timings, outputs and their
    checksums, versions."""
    import scipy

    out, demo, layout = result.dir, result.demo, result.layout
    input_path, provenance, timings = read.input_path, read.provenance, result.timings
    manifest = {
        "consultation": title,
        "layout": layout,
        "demo": demo,
        "mark": DEMO_MARK if demo else "",
        "input": {"file": Path(input_path).name, "sha256": sha256_file(Path(input_path))},
        "demo_provenance": provenance.name if provenance else None,
        "engagement_input": territories.engagement_input,
        "parameters": parameters,
        "summary": result.summary,
        "renderer": result.renderer or None,
        "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
        "outputs": {
            str(p.relative_to(out)): sha256_file(p)
            for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "manifest.json" and not p.relative_to(out).parts[0].startswith(".")
        },
        "versions": {
            "python": platform.python_version(), "numpy": np.__version__, "pandas": pd.__version__,
            "scipy": scipy.__version__,
        },
    }  # fmt: skip
    return _text(
        out / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2, default=str)
    )


def build_consultation(
    input_path: Path | None = None,
    *,
    layout: str | None = None,
    demo: bool = False,
    name: str | None = None,
    title: str | None = None,
    build_root: Path = DEFAULT_BUILD_ROOT,
    engagement_path: Path | None = None,
    engagement_column: str = "score",
    cog_year: int = 2024,
    territory: str = DEFAULT_TERRITORY,
    weight: float = DEFAULT_WEIGHT,
    counter: str = "sequence",
    prior: float = DEFAULT_PRIOR,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    method: str = "mc",
    top: int = 10,
    demo_proposals: int = 10_000,
    demo_seed: int = demo_module.DEFAULT_SEED,
    max_quarantine_share: float = 0.10,
    render: bool = True,
    renderer: str = "auto",
) -> ConsultationBuild:
    """Build the consultation's tables and agenda (see the module docstring)."""
    """Build the consultation's tables and agenda (see the module docstring)."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    if demo == (input_path is not None):
        raise ConsultationBuildError("give either an input file or --demo")
    if layout not in (None, "counts", "opendata"):
        raise ConsultationBuildError(f"unknown layout {layout!r}: counts or opendata")
    territory_name, territory_deps = parse_territory(territory, cog_year)
    layout, name, title = _names(input_path, layout, demo, name, title)
    out = Path(build_root) / name
    _clean_folder(out)
    result = ConsultationBuild(dir=out, layout="", demo=demo, proposals=0)

    read = _timed(timings, "read", lambda: read_stage(out, input_path, layout, demo=demo, demo_proposals=demo_proposals, demo_seed=demo_seed, max_quarantine_share=max_quarantine_share))  # fmt: skip
    consultation = read.consultation
    proposals, layout = consultation.proposals, consultation.layout
    result.layout, result.proposals = layout, len(proposals)
    scored = _timed(timings, "score", lambda: score_stage(proposals, layout, weight=weight, counter=counter, prior=prior, draws=draws, seed=seed, method=method))  # fmt: skip
    themes: ThemeStage = _timed(timings, "themes", lambda: theme_stage(proposals, scored))
    ranking = _timed(timings, "ranking", lambda: rank_proposals(proposals, counter=counter, prior=prior, top=top, tau=top, seed=seed))  # fmt: skip
    territories = _timed(timings, "territories", lambda: territory_stage(out, proposals, scored, cog_year, _engagement_file(engagement_path, demo), engagement_column))  # fmt: skip

    tick = time.perf_counter()  # the tables and the report count as one stage, « report »
    tables: TableStage = table_stage(out, read, scored, themes, ranking, territories, top=top, territory_name=territory_name, territory_deps=territory_deps)  # fmt: skip
    result.tables = tables.written
    agenda = write_agenda(AgendaInputs(
        report=_prepare_report(out), consultation=consultation, scored=scored,
        published=tables.published, lists=tables.lists, themes=themes, ranking=ranking,
        content=tables.content, territories=territories, territory_name=territory_name,
        territory_deps=territory_deps, title=title, layout=layout, demo=demo, top=top,
        weight=weight, counter=counter, prior=prior, draws=draws, seed=seed, method=method,
        demo_seed=demo_seed, cog_year=cog_year,
    ))  # fmt: skip
    timings["report"] = time.perf_counter() - tick

    if render:
        result.publications, result.renderer = _timed(timings, "render", lambda: _render(out / "report", out / "publications", agenda.variables, agenda.report_day, demo, renderer))  # fmt: skip
    else:
        timings["render"] = 0.0
    timings["total"] = time.perf_counter() - started
    result.timings = timings
    result.summary = _summary(read, scored, ranking, territories, agenda)
    parameters = {
        "weight": weight, "counter": counter, "prior": prior, "draws": draws, "seed": seed,
        "method": method, "confidence": CONFIDENCE, "top": top, "cog_year": cog_year,
        "territory": territory, "engagement": territories.engagement_note or None,
        "max_quarantine_share": max_quarantine_share,
    }  # fmt: skip
    result.manifest = _write_manifest(result, read, territories, title, parameters)
    return result
