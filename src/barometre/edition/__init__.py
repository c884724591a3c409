"""The steps of one edition, from raw extracts to the rendered publications.

``build_edition`` declares the steps (demo inputs → sources → indicators → composite →
publication variables → render) by the keys of the catalogue of artefacts
(``config/artefacts.yml``, :mod:`barometre.catalogue`), runs them through
:mod:`barometre.pipeline` (skipping what is unchanged) and writes the manifest. Outputs go under
``build/<edition>/`` (or ``build/<edition>-<label>/`` for a subset build), never elsewhere.

The package: :mod:`~barometre.edition.declare` (the step declarations and their validation
against the catalogue), :mod:`~barometre.edition.steps` (the function steps),
:mod:`~barometre.edition.rendering` (the render step and ``barometre territory``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from barometre import catalogue
from barometre.config import PROJECT_ROOT, EditionConfig, edition_path, load_edition
from barometre.edition.rendering import (
    DEMO_MARK,
    REPORT_DIR,
    REPORTS,
    render_step,
    render_territory,
    territory_project,
)
from barometre.edition.steps import (
    calibration_step,
    compare_step,
    disclosure_step,
    generate_demo_step,
    methods_step,
    palmares_step,
)
from barometre.io import atomic_write_text
from barometre.pipeline import Step, StepRecord, run_steps, write_manifest

if TYPE_CHECKING:
    from barometre.publish.render import Renderer

QPV_REFERENCE = catalogue.path("", "reference.qpv")

__all__ = [
    "DEMO_MARK",
    "QPV_REFERENCE",
    "REPORTS",
    "REPORT_DIR",
    "EditionBuild",
    "build_dir_for",
    "build_edition",
    "calibration_step",
    "compare_step",
    "disclosure_step",
    "edition_steps",
    "generate_demo_step",
    "methods_step",
    "palmares_step",
    "record_renderer",
    "reference_inputs",
    "render_step",
    "render_territory",
    "territories_in_scope",
    "territory_project",
    "territory_slug",
]


@dataclass
class EditionBuild:
    config: EditionConfig
    build_dir: Path
    records: list[StepRecord]
    manifest: Path
    seconds: float

    @property
    def publications(self) -> dict[str, Path]:
        pub = catalogue.path(self.build_dir, "publications")
        return {p.name: p for p in sorted(pub.glob("*")) if p.suffix in {".pdf", ".html"}}


def reference_inputs(config: EditionConfig) -> list[Path]:
    """The COG vintage of the edition (``reference.cog``)."""
    return [catalogue.path("", "reference.cog", cog_year=config.cog_year)]


def edition_steps(
    config: EditionConfig,
    config_file: Path,
    build_dir: Path,
    demo: bool,
    raw_dir: Path | None,
    departments: Sequence[str] | None,
    n_runs: int | None = None,
    previous_dir: Path | None = None,
    renderer: Renderer | None = None,
) -> list[Step]:
    """Declare the steps of an edition build (``previous_dir``: the previous edition's build;
    ``renderer``: who renders the publications, the offline renderer by default), each by the
    catalogue keys of what it reads and writes, and check them against the catalogue
    (:func:`barometre.edition.declare.validate_steps`)."""
    from barometre.edition.declare import STEPS, Plan, validate_steps

    if renderer is None:
        from barometre.publish.render import resolve_renderer

        renderer = resolve_renderer("offline")
    if not demo and raw_dir is None:
        raise ValueError("a build on real data needs --raw-dir (or use --demo)")
    territories = [
        (t, territory_slug(t, config.cog_year)) for t in territories_in_scope(config, departments)
    ]
    plan = Plan(
        config,
        config_file,
        build_dir,
        demo,
        raw_dir.resolve() if raw_dir is not None and not demo else None,
        list(departments) if departments else None,
        n_runs,
        previous_dir,
        renderer,
        territories,
    )
    steps = [step for declare in STEPS for step in declare(plan)]
    validate_steps(steps)
    return steps


def territory_slug(territory: str, cog_year: int) -> str:
    """Folder name of a territory's analysis ("region:32" → "region-32-hauts-de-france")."""
    from barometre.territory import parse_territory

    return parse_territory(territory, cog_year).slug


def territories_in_scope(config: EditionConfig, departments: Sequence[str] | None) -> list[str]:
    """The edition's territories that have communes in the build (all of them for a full build)."""
    if not departments:
        return list(config.territories)
    import warnings

    from barometre import geography
    from barometre.territory import TerritoryError, parse_territory, select_communes

    communes = geography.load_communes(config.cog_year, departments=departments)
    reference = geography.load_communes(config.cog_year)
    kept = []
    for territory in config.territories:
        try:
            place = parse_territory(territory, config.cog_year)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if len(select_communes(communes, place, reference)):
                    kept.append(territory)
        except (TerritoryError, KeyError, ValueError):
            continue
    return kept


def build_dir_for(config: EditionConfig, build_root: Path, label: str | None) -> Path:
    name = str(config.edition) if not label else f"{config.edition}-{label}"
    return build_root / name


def build_edition(
    edition: int | str | Path,
    demo: bool = True,
    raw_dir: Path | None = None,
    build_root: Path | None = None,
    departments: Sequence[str] | None = None,
    label: str | None = None,
    force: bool = False,
    on_step: Callable[[Step, str], None] | None = None,
    n_runs: int | None = None,
    renderer: str = "auto",
) -> EditionBuild:
    """Run (or resume) the build of an edition and write its manifest.

    ``renderer``: ``auto`` (Quarto when ``quarto`` is on PATH, else pandoc + Typst), ``quarto``
    or ``offline``; the manifest records the one that ran and its version.
    """
    from barometre.publish.render import resolve_renderer

    engine = resolve_renderer(renderer)
    config_file = Path(edition) if str(edition).endswith(".yml") else edition_path(edition)
    config = load_edition(config_file)
    if departments is None and demo:
        departments = config.demo.departments
    if departments and label is None:
        label = "dep-" + "-".join(departments)
    build_root = build_root or PROJECT_ROOT / "build"
    build_dir = build_dir_for(config, build_root, label).resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    previous_dir = None
    if config.previous_edition is not None:
        # the previous edition is built first (skipped if up to date), never overwritten by this one
        previous = build_edition(
            config.previous_edition,
            demo=demo,
            raw_dir=None if demo else raw_dir,
            build_root=build_root,
            departments=departments,
            label=label,
            force=False,
            on_step=on_step,
            n_runs=n_runs,
            renderer=engine.name,
        )
        previous_dir = previous.build_dir
    steps = edition_steps(
        config,
        config_file.resolve(),
        build_dir,
        demo,
        raw_dir,
        departments,
        n_runs,
        previous_dir,
        renderer=engine,
    )
    started = time.perf_counter()
    records = run_steps(steps, build_dir, force=force, on_step=on_step)
    seconds = time.perf_counter() - started
    manifest = write_manifest(
        build_dir,
        steps,
        records,
        config=json.loads(config.model_dump_json()) | {"demo": demo, "departments": departments},
        seed=config.seed,
        total_seconds=seconds,
    )
    record_renderer(manifest, engine)
    return EditionBuild(config, build_dir, records, manifest, seconds)


def record_renderer(manifest: Path, renderer: Renderer) -> None:
    """Add to the manifest the renderer that rendered the publications, and its version."""
    data = json.loads(manifest.read_text(encoding="utf-8"))
    data["renderer"] = {"name": renderer.name, "version": renderer.version}
    atomic_write_text(manifest, json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
