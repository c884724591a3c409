"""The steps of one edition, from raw extracts to the rendered publications.

``build_edition`` declares the steps (demo inputs → sources → indicators → composite →
publication variables → render), runs them through :mod:`barometre.pipeline` (skipping what is
unchanged) and writes the manifest. Outputs go under ``build/<edition>/`` (or
``build/<edition>-<label>/`` for a subset build), never elsewhere.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from barometre.config import PROJECT_ROOT, EditionConfig, edition_path, load_edition
from barometre.io import atomic_write_text
from barometre.pipeline import Step, StepRecord, run_steps, write_manifest

if TYPE_CHECKING:
    from barometre.publish.render import Renderer

DEMO_MARK = "Données de démonstration synthétiques"
REPORT_DIR = PROJECT_ROOT / "report"
REPORTS = {"barometre": "barometre.qmd", "methodologie": "methodologie.qmd"}
QPV_REFERENCE = PROJECT_ROOT / "data" / "reference" / "qpv"


@dataclass
class EditionBuild:
    config: EditionConfig
    build_dir: Path
    records: list[StepRecord]
    manifest: Path
    seconds: float

    @property
    def publications(self) -> dict[str, Path]:
        pub = self.build_dir / "publications"
        return {p.name: p for p in sorted(pub.glob("*")) if p.suffix in {".pdf", ".html"}}


def reference_inputs(config: EditionConfig) -> list[Path]:
    return [PROJECT_ROOT / "data" / "reference" / f"cog{config.cog_year}"]


def generate_demo_step(
    build_dir: Path,
    seed: int,
    data_year: int,
    cog_year: int,
    scale: float,
    departments: list[str] | None,
    panel_seed: int | None = None,
) -> None:
    """Write the synthetic raw extracts of the three sources, and the synthetic QPV list
    (:mod:`barometre.qpv.synthetic`, national whatever the subset), into ``build_dir/raw``."""
    import numpy as np

    from barometre import demo, geography
    from barometre.qpv.synthetic import write_synthetic_qpv_list

    communes = geography.load_communes(cog_year, departments=departments)
    demo.generate_demo_inputs(
        communes,
        data_year,
        build_dir / "raw",
        np.random.default_rng(seed),
        scale=scale,
        seed=seed,
        panel_seed=panel_seed,
    )
    write_synthetic_qpv_list(build_dir / "raw" / "qpv", cog_year, seed)


def compare_step(
    build_dir: Path,
    previous_dir: str | None,
    departmental_size: int | None,
    cog_year: int,
    class_labels: list[str],
    edition_config: str | None = None,
) -> None:
    """Departmental palmarès (decided by the edition's rule when the joint runs counted the
    top of each département) and year-over-year comparison with the previous edition."""
    from barometre.palmares import departmental_palmares
    from barometre.tables import read_table, save_table
    from barometre.yoy import laureate_changes, rank_changes

    tables = build_dir / "tables"
    communes = read_table(build_dir / "work" / "communes.csv")
    if departmental_size:
        ranks_path = tables / "robustness" / "commune_ranks.csv"
        column = f"p_top{departmental_size}_code_departement"
        ranks = read_table(ranks_path).set_index("code_commune") if ranks_path.exists() else None
        if ranks is not None and column in ranks.columns and edition_config:
            # the edition's decision rule, as for the classes (joint runs, τ-best sets)
            import numpy as np

            from barometre.palmares import decided_departmental_palmares

            config = load_edition(Path(edition_config))
            sampling = read_table(build_dir / "work" / "score_sampling.csv").set_index(
                "code_commune"
            )
            rng = np.random.default_rng(np.random.SeedSequence(config.seed).spawn(3)[2])
            table = decided_departmental_palmares(
                communes, ranks[column], sampling, departmental_size, config.palmares_rule, rng
            )
            save_table(
                table,
                tables / "departmental_palmares.csv",
                key=["code_departement", "status", "code_commune"],
                sort=False,
            )
        else:  # no joint runs: the nominal top of each département (labelled as such)
            save_table(
                departmental_palmares(communes, departmental_size),
                tables / "departmental_palmares.csv",
                key=["code_departement", "rank_in_departement", "code_commune"],
                sort=False,
            )
    if previous_dir:
        previous = Path(previous_dir)
        changes = rank_changes(communes, read_table(previous / "tables" / "communes.csv"), cog_year)
        save_table(changes, tables / "yoy_rank_changes.csv", key=["code_commune"])
        palmares = read_table(tables / "palmares.csv")
        previous_palmares = read_table(previous / "tables" / "palmares.csv")
        current_ranks = communes.set_index("code_commune")["rank_in_class"]
        save_table(
            laureate_changes(palmares, previous_palmares, cog_year, class_labels, current_ranks),
            tables / "yoy_laureates.csv",
            sort=False,
        )


def calibration_step(build_dir: Path, seed: int, credible: float) -> None:
    """The count model's calibration on a seeded simulation with a known truth (annex table)."""
    import numpy as np

    from barometre.countmodel_validation import calibration
    from barometre.tables import save_table

    table = calibration(np.random.default_rng(seed), credible)
    save_table(
        table,
        build_dir / "tables" / "count_model_calibration.csv",
        key=["population_class"],
        sort=False,
    )


def methods_step(build_dir: Path, edition_config: str, departments: list[str] | None) -> None:
    """« Ce que change l'autre méthode » (:func:`barometre.methods.compare_methods`)."""
    from barometre import geography
    from barometre.composite import load_spec
    from barometre.methods import compare_methods
    from barometre.tables import read_table, save_table

    config = load_edition(Path(edition_config))
    counts = read_table(build_dir / "work" / "commune_counts.csv")
    communes = geography.load_communes(config.cog_year, departments=departments)
    decided = read_table(build_dir / "work" / "palmares_decision.csv").set_index("code_commune")
    table = compare_methods(
        counts,
        communes,
        config,
        load_spec(config.path(config.index_spec)),
        decided,
        list(config.classes.labels),
        config.palmares_size,
    )
    save_table(
        table, build_dir / "tables" / "methods_comparison.csv", key=["population_class"], sort=False
    )


def palmares_step(build_dir: Path, edition_config: str) -> None:
    """The decided palmarès (:func:`barometre.results.run_palmares`)."""
    from barometre.config import load_indicator_meta
    from barometre.results import run_palmares

    config = load_edition(Path(edition_config))
    run_palmares(build_dir, config, load_indicator_meta(config))


def disclosure_step(build_dir: Path, previous_dir: str | None) -> None:
    """Replay the disclosure attacks on what this build publishes (and on the previous edition's
    publications, differenced with it), write the results (``tables/disclosure_attacks.csv``)
    and the annex section (``report/disclosure/disclosure_rules.md``); warn when a count is
    recovered (:mod:`barometre.disclosure_attacks`)."""
    import warnings

    from barometre.disclosure_attacks import attack_table, disclosure_rules_markdown, run_attacks
    from barometre.publish.fmt import fr_number
    from barometre.tables import save_table

    builds = [Path(previous_dir), build_dir] if previous_dir else [build_dir]
    reports = run_attacks(builds)
    current = reports[-1]
    table = attack_table([current])
    save_table(
        table,
        build_dir / "tables" / "disclosure_attacks.csv",
        key=["edition", "attack"],
        sort=False,
    )
    editions = [r.edition for r in reports]
    atomic_write_text(
        build_dir / "report" / "disclosure" / "disclosure_rules.md",
        disclosure_rules_markdown(current, editions, fr_number),
    )
    if current.total_recovered:
        warnings.warn(
            f"disclosure attacks recovered {current.total_recovered} suppressed counts: "
            f"{current.examples}",
            stacklevel=2,
        )


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
    import warnings

    from barometre.publish.render import (
        BIBLIOGRAPHY_FILE,
        render_project,
        report_metadata,
        resolve_renderer,
        unexpected_quarto_warnings,
        write_report_project,
    )

    engine = resolve_renderer(renderer)
    if engine.version != renderer_version:
        raise RuntimeError(
            f"{renderer} changed during the build ({renderer_version} → {engine.version}): rerun it"
        )
    # ISO date in the metadata (Quarto parses it), printed in French by both renderers
    metadata = report_metadata(publication_date, timestamp, DEMO_MARK if demo else None)
    report = build_dir / "report"
    for source in reports.values():
        shutil.copyfile(REPORT_DIR / source, report / source)
    # the bibliography of the methods the baromètre and its annex cite (citeproc, both renderers)
    shutil.copyfile(REPORT_DIR / BIBLIOGRAPHY_FILE, report / BIBLIOGRAPHY_FILE)
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
    for folder, documents, output_dir, folder_metadata in projects:
        write_report_project(folder, documents, output_dir, folder_metadata)
        done = render_project(folder, engine)
        for message in unexpected_quarto_warnings(done.warnings):
            warnings.warn(f"quarto ({folder.name}): {message}", stacklevel=2)


def territory_project(
    build_dir: Path, slug: str, metadata: dict
) -> tuple[Path, list[str], str, dict]:
    """The report project of a territory (the territory step copied territoire.qmd next to its
    artefacts): folder, documents, output folder and metadata, as :func:`render_step` renders it."""
    return (
        build_dir / "territories" / slug,
        ["territoire.qmd"],
        "publications",
        metadata | {"output-file": f"territoire-{slug}"},
    )


def render_territory(
    build_dir: Path, slug: str, config: EditionConfig, demo: bool, renderer: str = "auto"
) -> dict[str, Path]:
    """Render one territory's report (``barometre territory``) as the render step does: PDF and
    HTML under ``territories/<slug>/publications/``; returns them by format."""
    import warnings

    from barometre.publish.render import (
        render_project,
        report_metadata,
        resolve_renderer,
        unexpected_quarto_warnings,
        write_report_project,
    )

    engine = resolve_renderer(renderer)
    metadata = report_metadata(
        config.cover_date.isoformat(),
        f"{config.edition}-06-15T12:00:00",
        DEMO_MARK if demo else None,
    )
    folder, documents, output_dir, folder_metadata = territory_project(build_dir, slug, metadata)
    write_report_project(folder, documents, output_dir, folder_metadata)
    done = render_project(folder, engine)
    for message in unexpected_quarto_warnings(done.warnings):
        warnings.warn(f"quarto ({folder.name}): {message}", stacklevel=2)
    out = folder / output_dir
    return {
        ext: out / f"territoire-{slug}.{ext}"
        for ext in ("pdf", "html")
        if (out / f"territoire-{slug}.{ext}").is_file()
    }


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
    ``renderer``: who renders the publications, the offline renderer by default)."""
    if renderer is None:
        from barometre.publish.render import resolve_renderer

        renderer = resolve_renderer("offline")
    territory_slugs = [
        territory_slug(t, config.cog_year) for t in territories_in_scope(config, departments)
    ]
    common = {
        "edition_config": str(config_file),
        "departments": list(departments) if departments else None,
        "demo": demo,
    }
    config_inputs: list[str | Path] = [
        config_file,
        PROJECT_ROOT / config.index_spec,
        PROJECT_ROOT / config.indicators_meta,
    ]
    steps: list[Step] = []
    if demo:
        steps.append(
            Step(
                name="demo_inputs",
                title="Données de démonstration",
                inputs=[*reference_inputs(config), QPV_REFERENCE],
                outputs=["raw"],
                params={
                    "seed": config.seed,
                    "data_year": config.data_year,
                    "cog_year": config.cog_year,
                    "scale": config.demo.scale,
                    "departments": list(departments) if departments else None,
                    "panel_seed": config.demo.panel_seed,
                },
                func=generate_demo_step,
            )
        )
        raw: str | Path = "raw"
    else:
        if raw_dir is None:
            raise ValueError("a build on real data needs --raw-dir (or use --demo)")
        raw = raw_dir.resolve()
    steps += [
        Step(
            name="sources",
            title="Sources → table communale harmonisée",
            notebook="01_sources.ipynb",
            inputs=[raw, *reference_inputs(config), *config_inputs],
            outputs=["work/commune_counts.csv", "tables/match_report.csv", "work/quarantine"],
            params={**common, "raw_dir": str(raw)},
        ),
        Step(
            name="indicators",
            title="Indicateurs par commune",
            notebook="02_indicators.ipynb",
            inputs=["work/commune_counts.csv", *reference_inputs(config), *config_inputs],
            outputs=[
                "work/indicators_input.csv",
                "work/indicators_input_raw.csv",
                "work/indicators_input_shrunk.csv",
                "work/indicators.csv",
                "work/shrinkage.csv",
                "work/count_model_input.csv",
                "work/eligibility_communes.csv",
                "tables/count_model.csv",
                "tables/eligibility.csv",
                "tables/structural_gaps.csv",
            ],
            params=common,
        ),
        Step(
            name="calibration",
            title="Modèle de comptage : calibration sur simulation",
            inputs=[],
            outputs=["tables/count_model_calibration.csv"],
            params={"seed": config.seed, "credible": config.shrinkage.credible},
            func=calibration_step,
        ),
        Step(
            name="composite",
            title="Score composite, rangs et palmarès",
            notebook="03_composite.ipynb",
            inputs=[
                "work/indicators_input.csv",
                "work/indicators_input_raw.csv",
                "work/indicators_input_shrunk.csv",
                *config_inputs,
            ],
            outputs=[
                "work/stages",
                "work/communes.csv",
                "work/nominal_top.csv",
                "tables/audit",
                "tables/rates_effect.csv",
            ],
            params=common,
        ),
        Step(
            name="robustness",
            title="Robustesse : incertitude et sensibilité (Sobol)",
            notebook="04_robustness.ipynb",
            inputs=[
                "work/indicators_input.csv",
                "work/indicators_input_raw.csv",
                "work/indicators_input_shrunk.csv",
                "work/count_model_input.csv",
                *config_inputs,
            ],
            outputs=["tables/robustness", "figures", "work/score_sampling.csv"],
            # seed and assumptions: the notebook's overrides for a researcher; None in a build
            params={**common, "n_runs": n_runs, "seed": None, "assumptions": None},
        ),
        Step(
            name="palmares",
            title="Palmarès : règle de décision, ensembles de confiance des rangs",
            inputs=[
                "work/indicators_input.csv",
                "work/indicators_input_raw.csv",
                "work/communes.csv",
                "work/eligibility_communes.csv",
                "work/score_sampling.csv",
                "tables/robustness",
                *config_inputs,
            ],
            outputs=[
                "work/palmares_decision.csv",
                "tables/palmares.csv",
                "tables/palmares_awards.csv",
                "tables/communes.csv",
            ],
            params={"edition_config": str(config_file)},
            func=palmares_step,
        ),
        Step(
            name="methods",
            title="Ce que change l'autre méthode",
            inputs=[
                "work/commune_counts.csv",
                "work/palmares_decision.csv",
                *reference_inputs(config),
                *config_inputs,
            ],
            outputs=["tables/methods_comparison.csv"],
            params={
                "edition_config": str(config_file),
                "departments": list(departments) if departments else None,
            },
            func=methods_step,
        ),
        *(
            [
                Step(
                    name="editions",
                    title="Palmarès départemental et évolutions depuis l'édition précédente",
                    inputs=[
                        "work/communes.csv",
                        "tables/palmares.csv",
                        "tables/robustness",
                        "work/score_sampling.csv",
                        *config_inputs,
                        *(
                            [
                                previous_dir / "tables" / "communes.csv",
                                previous_dir / "tables" / "palmares.csv",
                            ]
                            if previous_dir
                            else []
                        ),
                    ],
                    outputs=(
                        ["tables/departmental_palmares.csv"]
                        if config.departmental_palmares_size
                        else []
                    )
                    + (
                        ["tables/yoy_rank_changes.csv", "tables/yoy_laureates.csv"]
                        if previous_dir
                        else []
                    ),
                    params={
                        "previous_dir": str(previous_dir) if previous_dir else None,
                        "departmental_size": config.departmental_palmares_size,
                        "cog_year": config.cog_year,
                        "class_labels": list(config.classes.labels),
                        "edition_config": str(config_file),
                    },
                    func=compare_step,
                )
            ]
            if previous_dir or config.departmental_palmares_size
            else []
        ),
        Step(
            name="publication",
            title="Variables, tableaux et figures des publications",
            notebook="05_publication.ipynb",
            inputs=[
                "work/communes.csv",
                "work/shrinkage.csv",
                "work/count_model_input.csv",
                "work/palmares_decision.csv",
                "tables/palmares.csv",
                "tables/palmares_awards.csv",
                "tables/count_model.csv",
                "tables/count_model_calibration.csv",
                "tables/methods_comparison.csv",
                "tables/match_report.csv",
                "tables/audit",
                "tables/robustness",
                "figures",
                *(
                    ["tables/departmental_palmares.csv"]
                    if config.departmental_palmares_size
                    else []
                ),
                *(
                    ["tables/yoy_rank_changes.csv", "tables/yoy_laureates.csv"]
                    if previous_dir
                    else []
                ),
                *config_inputs,
            ],
            outputs=["report/_variables.yml", "report/figures", "report/tables"],
            params=common,
        ),
        *[
            Step(
                name=f"territory_{territory_slug(territory, config.cog_year)}",
                title=f"Analyse territoriale {territory}",
                notebook="06_territory.ipynb",
                inputs=[
                    "work/communes.csv",
                    "work/count_model_input.csv",
                    "tables/communes.csv",
                    "tables/palmares.csv",
                    "tables/robustness",
                    REPORT_DIR / "territoire.qmd",
                    QPV_REFERENCE,
                    PROJECT_ROOT / "data" / "reference" / "rna",
                    raw,
                    *config_inputs,
                ],
                outputs=[f"territories/{territory_slug(territory, config.cog_year)}"],
                params={**common, "territory": territory, "qpv_file": None},
            )
            for territory in territories_in_scope(config, departments)
        ],
        Step(
            name="disclosure",
            title="Secret statistique : attaques rejouées sur les publications",
            inputs=[
                "tables/communes.csv",
                "tables/palmares.csv",
                "tables/count_model.csv",
                "report/_variables.yml",
                "work/commune_counts.csv",
                *(
                    f"territories/{slug}/{name}"
                    for slug in territory_slugs
                    for name in ("exports", "tables", "_variables.yml")
                ),
                *(
                    [
                        previous_dir / "tables",
                        previous_dir / "report" / "_variables.yml",
                        previous_dir / "work" / "commune_counts.csv",
                    ]
                    if previous_dir
                    else []
                ),
            ],
            outputs=["tables/disclosure_attacks.csv", "report/disclosure/disclosure_rules.md"],
            params={"previous_dir": str(previous_dir) if previous_dir else None},
            func=disclosure_step,
        ),
        Step(
            name="render",
            title="Rendu PDF et HTML",
            inputs=[
                "report/_variables.yml",
                "report/figures",
                "report/tables",
                "report/disclosure/disclosure_rules.md",
                *(
                    f"territories/{slug}/{name}"
                    for slug in territory_slugs
                    for name in ("_variables.yml", "figures", "tables", "territoire.qmd")
                ),
                REPORT_DIR,
                Path(__file__).resolve().parent / "publish" / "templates",
            ],
            outputs=[f"publications/{name}.{ext}" for name in REPORTS for ext in ("pdf", "html")]
            + [
                f"territories/{slug}/publications/territoire-{slug}.{ext}"
                for slug in territory_slugs
                for ext in ("pdf", "html")
            ],
            params={
                "demo": demo,
                "reports": REPORTS,
                "timestamp": f"{config.edition}-06-15T12:00:00",
                "publication_date": config.cover_date.isoformat(),
                # the resolved renderer and its version: another one reruns the step
                "renderer": renderer.name,
                "renderer_version": renderer.version,
                "territories": territory_slugs,
            },
            func=render_step,
        ),
    ]
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
