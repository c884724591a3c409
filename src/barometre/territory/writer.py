"""The territorial report's writer: reads the build (:mod:`barometre.territory.inputs`),
computes (:mod:`barometre.territory.compute`), then writes the text
(:mod:`barometre.territory.text`), the figures (:mod:`barometre.territory.figures`), the
« Politique de la ville » chapter (:mod:`barometre.qpv.chapter`), the exports
(:mod:`barometre.territory.exports`) and the report variables, and renders the report."""

from __future__ import annotations

import datetime as _dt
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from barometre import catalogue
from barometre.composite import load_spec
from barometre.config import PROJECT_ROOT, EditionConfig, load_indicator_meta
from barometre.io import atomic_write_text
from barometre.qpv import QpvList, qpv_by_commune, read_qpv_list
from barometre.qpv.chapter import (
    compute_qpv_profile,
    default_qpv_file,
    load_qpv_inputs,
    territory_codes,
    write_qpv_chapter,
)
from barometre.qpv.profile import flag_communes
from barometre.territory import text
from barometre.territory.compute import (
    TerritoryAnalysis,
    add_positions,
    analyse_territory,
    laureate_codes,
    measure_columns,
    territory_communes,
)
from barometre.territory.exports import (
    export_columns,
    export_frame,
    export_readme,
    readme_common,
    write_communes_export,
)
from barometre.territory.figures import (
    figure_national_context,
    figure_positions,
    figure_scores_vs_france,
    figure_territory_map,
)
from barometre.territory.inputs import (
    ReferenceGeography,
    load_reference_geography,
    read_build_tables,
)
from barometre.territory.scope import Territory, parse_territory

REPORT_SOURCE = catalogue.path(PROJECT_ROOT, "report.territory_source")
#: The parts of a territory's folder (``territories/<slug>/``), as the catalogue places them.
TABLES, FIGURES, EXPORTS = (
    catalogue.member(f"territory.{part}", "territory", slug="-")
    for part in ("tables", "figures", "exports")
)


def _md_table(path: Path, markdown: str) -> Path:
    atomic_write_text(path, markdown + "\n")
    return path


def _md_text(path: Path, content: str) -> Path:
    atomic_write_text(path, content.rstrip() + "\n")
    return path


def _fresh_folders(out: Path) -> None:
    """Empty (or create) ``tables/``, ``figures/`` and ``exports/`` under ``out``."""
    for folder in (out / TABLES, out / FIGURES, out / EXPORTS):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)


def _qpv_list(qpv_file: Path | None, build_dir: Path, demo: bool, cog_year: int) -> QpvList | None:
    """The QPV list given, else a demo build's synthetic list, else none."""
    if qpv_file is None and demo:
        qpv_file = default_qpv_file(build_dir)  # the demo inputs' synthetic list
    return read_qpv_list(qpv_file, cog_year) if qpv_file is not None else None


def write_tables(
    folder: Path,
    analysis: TerritoryAnalysis,
    meta: dict[str, Any],
    config: EditionConfig,
    demo: bool,
) -> None:
    """Write the report's Markdown tables and notes (``tables/*.md`` but ``qpv.md``)."""
    a = analysis
    _md_table(
        folder / "rates.md", text.rates_markdown(a.rates, a.withheld, a.withheld_france, meta)
    )
    _md_table(folder / "classes.md", text.classes_markdown(a.comparison))
    _md_table(folder / "positions.md", text.positions_markdown(a.positions, a.measures))
    _md_text(
        folder / "laureates.md",
        text.laureates_markdown(a.local, config.edition, config.palmares_size),
    )
    _md_table(folder / "top.md", text.top_markdown(a.top, a.has_intervals))
    _md_text(folder / "intervals_note.md", text.intervals_note(a.has_intervals))
    _md_text(folder / "communes_note.md", text.communes_note(a.listing))
    _md_table(folder / "communes.md", text.communes_markdown(a.listing.shown))
    _md_text(folder / "definitions.md", text.definitions_markdown(meta))
    _md_text(folder / "demo_mark.md", text.demo_mark_markdown(demo))


def write_figures(
    folder: Path,
    communes: pd.DataFrame,
    selected: pd.DataFrame,
    analysis: TerritoryAnalysis,
    place: Territory,
    labels: list[str],
    source: str,
) -> None:
    """Draw the report's four figures under ``folder``."""
    figure_scores_vs_france(
        communes,
        selected,
        labels,
        place.name if len(place.name) < 40 else "Territoire",
        folder / "scores_by_class.png",
        source,
    )
    counts_by_class = selected["population_class"].value_counts()
    figure_positions(
        analysis.positions, analysis.measures, counts_by_class, folder / "positions.png", source
    )
    figure_territory_map(selected, place, analysis.laureates, folder / "map.png", source)
    figure_national_context(communes, place, folder / "france.png", source)


def write_qpv(
    qpv: QpvList | None,
    out: Path,
    place: Territory,
    selected: pd.DataFrame,
    geo: ReferenceGeography,
    config: EditionConfig,
    meta: dict[str, Any],
    build_dir: Path,
    raw_dir: Path | None,
    demo: bool,
) -> dict[str, Any]:
    """The « Politique de la ville » chapter (:mod:`barometre.qpv.chapter`), or without a QPV
    list the note saying how to give one; returns the chapter's report variables (written
    paths under ``paths``)."""
    source = text.SOURCE_NOTE[demo]
    if qpv is None:
        _md_text(out / TABLES / "qpv.md", text.no_qpv_note(place.spec, config.edition))
        return {"provided": "non", "quartiers": "n.d.", "communes": "n.d."}
    inputs = load_qpv_inputs(build_dir, config, meta, raw_dir)
    profile = compute_qpv_profile(
        qpv,
        inputs,
        territory_codes(
            place.kind if place.kind != "contrat" else "epci",
            (place.epci,) if place.kind == "contrat" else place.codes,
            geo.reference,
        ),
        config,
        meta,
        geo.reference,
        geo.epci_names.to_dict(),
    )
    readme = [
        (
            "Fichier",
            f"Politique de la ville — {place.name}, baromètre de l'engagement citoyen {config.edition}.",
        ),
        *readme_common(config, demo, source),
    ]
    return write_qpv_chapter(
        profile,
        out,
        place.slug,
        meta,
        selected[["code_commune", "position"]],
        place.departments,
        place.kind in ("epci", "contrat", "communes"),
        source,
        readme,
    )


def build_territory_report(
    build_dir: Path,
    config: EditionConfig,
    territory: str,
    demo: bool,
    qpv_file: Path | None = None,
    *,
    raw_dir: Path | None = None,
    render: bool = True,
    report_source: Path | None = None,
) -> dict[str, Path]:
    """Analyse a territory from an edition's build and render its report.

    Writes under ``build_dir/territories/<slug>/``: ``territoire.qmd`` (copied from
    ``report/``), ``_variables.yml``, ``tables/*.md``, ``figures/*.png``,
    ``exports/territoire-<slug>.csv`` and ``.xlsx`` (data dictionary included) and, when
    ``render``, ``publications/territoire-<slug>.pdf`` and ``.html``. ``qpv_file`` is a QPV list
    in the official 2024 layout (:func:`barometre.qpv.read_qpv_list`); without it a demo build
    uses its synthetic list (``raw/qpv/``) and a real one says how to give one. The « Politique de
    la ville » chapter (:mod:`barometre.qpv.chapter`) reads the build's confidential count table
    and the raw RNA extract of ``raw_dir`` (default: the build's, from its manifest). Returns the paths by role: ``dir``, ``variables``, ``csv``, ``xlsx`` and, when
    rendered, ``pdf`` and ``html``.
    """
    build_dir = Path(build_dir)
    meta = load_indicator_meta(config)
    place = parse_territory(territory, config.cog_year)
    tables = read_build_tables(build_dir)
    geo = load_reference_geography(config.cog_year)
    labels = list(config.classes.labels)
    criteria, rate_columns = measure_columns(meta, list(tables.communes.columns))
    # Positions are computed over France, then the territory is cut out of them.
    communes = add_positions(tables.communes, criteria, rate_columns)
    laureates = laureate_codes(tables.palmares)
    selected = territory_communes(communes, place, geo.reference, tables.intervals, laureates)
    qpv = _qpv_list(qpv_file, build_dir, demo, config.cog_year)
    if qpv is not None:
        selected = flag_communes(selected, qpv_by_commune(qpv.pairs))
    has_intervals = tables.intervals is not None and "rank_p05" in selected
    analysis = analyse_territory(
        communes, selected, tables.palmares, meta, labels, config.palmares_size, has_intervals
    )

    out = catalogue.path(build_dir, "territory", slug=place.slug)
    _fresh_folders(out)
    source = text.SOURCE_NOTE[demo]
    written: dict[str, Path] = {"dir": out}
    write_tables(out / TABLES, analysis, meta, config, demo)
    write_figures(out / FIGURES, communes, selected, analysis, place, labels, source)
    qpv_variables = write_qpv(
        qpv, out, place, selected, geo, config, meta, build_dir, raw_dir, demo
    )
    written.update({role: Path(path) for role, path in qpv_variables.pop("paths", {}).items()})
    columns = export_columns(meta, criteria, has_intervals, qpv is not None)
    export = export_frame(selected, columns, geo.departements, geo.epci_names)
    stem = out / EXPORTS / f"territoire-{place.slug}"
    readme = export_readme(place, config, demo, source)
    written.update(write_communes_export(export, meta, stem, readme, qpv is not None))

    key = text.key_variables(communes, selected, analysis.comparison, analysis.local, meta)
    spec = load_spec(config.path(config.index_spec))
    variables = text.report_variables(
        config,
        place,
        geo.departements,
        key,
        meta,
        spec,
        source,
        qpv_variables,
        has_laureates=not analysis.local.empty,
    )
    variables_path = catalogue.path(build_dir, "territory.variables", slug=place.slug)
    atomic_write_text(variables_path, yaml.safe_dump(variables, allow_unicode=True, sort_keys=True))
    written["variables"] = variables_path
    local_qmd = catalogue.path(build_dir, "territory.report_source", slug=place.slug)
    shutil.copyfile(Path(report_source) if report_source is not None else REPORT_SOURCE, local_qmd)
    if render:
        written.update(_render(local_qmd, variables, out, config, demo, place.slug))
    return written


def _render(
    local_qmd: Path,
    variables: dict[str, Any],
    out: Path,
    config: EditionConfig,
    demo: bool,
    slug: str,
) -> dict[str, Path]:
    """Render the territory's report to PDF and HTML under ``out/publications``."""
    from barometre.publish.render import render_document

    return render_document(
        local_qmd,
        variables,
        (out / catalogue.member("territory.publication", "territory", slug=slug, ext="pdf")).parent,
        formats=("pdf", "html"),
        demo_mark=text.DEMO_MARK if demo else None,
        timestamp=_dt.datetime(config.edition, 6, 15, 12, tzinfo=_dt.UTC),
        output_stem=f"territoire-{slug}",
        resource_dir=out,
    )
