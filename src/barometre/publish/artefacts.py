"""Everything the report pages read: variables, Markdown tables and figures of an edition.

The pages of ``report/`` compute nothing: every number they show comes from
``build/<edition>/report/_variables.yml`` (Quarto's ``{{< var >}}`` file, already formatted the
French way), every table from a Markdown partial under ``tables/`` and every chart from a PNG
under ``figures/`` — all written here from the build's tables.

This module reads the build's tables and writes the files; what they say is computed by the
pure functions of :mod:`barometre.publish.report` (one module per concern), which are tested on
small frames.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from barometre import catalogue
from barometre.composite import load_spec
from barometre.composite.spec import IndexSpec
from barometre.config import EditionConfig
from barometre.io import atomic_write_text, sha256_file
from barometre.pipeline import git_commit, package_versions
from barometre.publish.report import editions, method_tables, model_tables, robustness_tables
from barometre.publish.report import palmares_tables as palmares_pages
from barometre.publish.report import variables as report_variables
from barometre.publish.report.common import (
    DEMO_MARK,
    SOURCE_NOTE,
    TABLE_CAPTIONS,
    Table,
    slug,
    table_caption,
    table_label,
)
from barometre.publish.report.figures import (
    figure_class_palmares,
    figure_class_top,
    figure_correlations,
    figure_funnels,
    figure_scores_by_class,
    save_figure,
)
from barometre.publish.report.sentences import (
    definitions_markdown,
    demo_mark_markdown,
    eligibility_sentence,
    limits_gaps_markdown,
    national_donations_markdown,
    palmares_rule_sentence,
    rank_bound_sentence,
    structural_gaps_markdown,
)

__all__ = [
    "DEMO_MARK",
    "SOURCE_NOTE",
    "TABLE_CAPTIONS",
    "ReportWriter",
    "eligibility_sentence",
    "figure_class_top",
    "figure_correlations",
    "figure_funnels",
    "figure_scores_by_class",
    "palmares_rule_sentence",
    "rank_bound_sentence",
    "save_figure",
    "slug",
    "table_caption",
    "table_label",
    "write_report_artefacts",
]


@dataclass
class ReportWriter:
    """Writes the partials of ``report/tables/`` (numbered tables get their caption and label
    from :func:`table_caption`) and records every file of the report written."""

    tables_dir: Path
    labels: list[str]
    figures_dir: Path
    written: list[Path] = field(default_factory=list)

    def table(self, name: str, table: Table) -> None:
        """Write ``tables/<name>.md``, a pipe table (captioned when the partial is numbered)."""
        caption = table_caption(name, self.labels)
        label = table_label(name) if caption is not None else None
        self._write(name, table.markdown(caption, label) + "\n")

    def markdown(self, name: str, text: str) -> None:
        """Write ``tables/<name>.md``, Markdown text (empty: an include that shows nothing)."""
        self._write(name, text.rstrip() + "\n")

    def _write(self, name: str, text: str) -> None:
        path = self.tables_dir / f"{name}.md"
        atomic_write_text(path, text)
        self.written.append(path)


def _reset_report_folders(build_dir: Path, tables_dir: Path, figures_dir: Path) -> list[Path]:
    """Empty ``report/tables`` and ``report/figures``, then copy the figures made by earlier steps
    (robustness), which travel with the report; returns the copies."""
    for folder in (tables_dir, figures_dir):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    copied = []
    for figure in sorted(catalogue.path(build_dir, "figures.robustness").glob("*.png")):
        shutil.copyfile(figure, figures_dir / figure.name)
        copied.append(figures_dir / figure.name)
    return copied


def _write_robustness(
    writer: ReportWriter,
    build_dir: Path,
    config: EditionConfig,
    decision: pd.DataFrame,
    analysis: pd.Series,
    figures_dir: Path,
) -> dict[str, Any]:
    """The uncertainty and sensitivity tables; returns the ``rank_sets`` and ``robustness``
    variables."""
    stability = catalogue.read(build_dir, "tables.robustness.laureate_stability").set_index(
        "code_commune"
    )
    class_summary = catalogue.read(build_dir, "tables.robustness.class_summary")
    sobol = catalogue.read(build_dir, "tables.robustness.sobol")
    top_k, labels = config.palmares_size, writer.labels
    interval_text = report_variables.rank_interval_text()
    writer.table(
        "robustness_laureates",
        robustness_tables.robustness_laureates_table(stability, top_k, interval_text),
    )
    writer.table("robustness_classes", robustness_tables.robustness_classes_table(class_summary))
    writer.table("robustness_sobol", robustness_tables.sobol_table(sobol))
    available = {p.name for p in figures_dir.glob("robustness_intervals_*.png")}
    writer.markdown(
        "robustness_interval_figures",
        robustness_tables.interval_figures_markdown(labels, available),
    )
    writer.table("robustness_split", robustness_tables.sampling_split_table(sobol, labels))
    writer.table("rank_sets", robustness_tables.rank_sets_table(decision, labels, top_k))
    return {
        "rank_sets": report_variables.rank_sets_variables(decision, labels, config),
        "robustness": report_variables.robustness_variables(
            analysis, stability, robustness_tables.laureate_sobol(sobol), top_k
        ),
    }


def _write_count_model(
    writer: ReportWriter, build_dir: Path, config: EditionConfig, titles: Mapping[str, str]
) -> dict[str, Any]:
    """The count model's parameters and calibration and the other methodology's comparison;
    returns the ``methods`` variables."""
    codes = list(titles)
    params = catalogue.read(build_dir, "tables.count_model")
    writer.table("count_model", model_tables.count_model_table(params, codes, titles))
    calibration = catalogue.read(build_dir, "tables.count_model_calibration")
    writer.table(
        "count_model_calibration",
        model_tables.calibration_table(calibration, config.shrinkage.credible),
    )
    methods = catalogue.read(build_dir, "tables.methods_comparison")
    comparison = model_tables.methods_comparison_table(
        methods, config.edition, config.palmares_size
    )
    if comparison is not None:
        writer.table("methods_comparison", comparison)
    else:
        writer.markdown("methods_comparison", "Aucune commune n'est classée par l'autre méthode.")
    return {"methods": report_variables.methods_variables(methods)}


def _write_palmares(
    writer: ReportWriter,
    build_dir: Path,
    config: EditionConfig,
    meta: Mapping[str, Any],
    frames: Mapping[str, pd.DataFrame],
    facts: palmares_pages.PalmaresFacts,
    classes: Mapping[str, Mapping[str, str]],
    demo: bool,
) -> None:
    """Per class, the palmarès table, the chart and the laureates' cards; then the classes'
    summary (``frames``: ``communes``, ``palmares`` and ``decision``)."""
    from barometre.geography import load_departements

    palmares, decision = frames["palmares"], frames["decision"]
    awards = catalogue.read(build_dir, "tables.palmares_awards").set_index("population_class")
    rule, figures_dir = config.palmares_rule, writer.figures_dir
    # exact counts and their cluster statistics (confidential): printed only through disclosure
    counts = palmares_pages.published_counts(
        catalogue.read(build_dir, "work.commune_counts").set_index("code_commune"),
        frames["communes"],
    )
    rates = catalogue.read(build_dir, "work.shrinkage").set_index(["code_commune", "indicator"])
    department_names = load_departements(config.cog_year).set_index("code_departement")["nom"]
    sections = []
    for label in writer.labels:
        rows = palmares[palmares.population_class == label]
        writer.table(
            f"palmares_{slug(label)}",
            palmares_pages.class_palmares_table(rows, facts.top_k, facts.interval),
        )
        bounds = classes[slug(label)]["bounds"]
        section = palmares_pages.class_intro_section(label, bounds, awards, rows, facts, rule)
        chart = figure_class_palmares(
            decision,
            label,
            figures_dir / f"palmares_{slug(label)}.png",
            top_k=facts.top_k,
            laureate_min=rule.laureate_min_probability,
            mention_min=rule.mention_min_probability,
            source_note=SOURCE_NOTE[demo],
            interval=facts.interval,
        )
        if chart is not None:
            writer.written.append(chart)
            section.append(palmares_pages.palmares_chart_markdown(label, chart.name, facts))
        section += palmares_pages.laureate_cards(rows, department_names, meta, counts, rates, facts)
        sections.append("\n".join(section))
    writer.markdown("laureates", "\n".join(sections))
    writer.table("classes", palmares_pages.classes_table(writer.labels, classes))


def _write_edition_extras(writer: ReportWriter, build_dir: Path, config: EditionConfig) -> None:
    """From 2025: the year-over-year changes and a pointer to the departmental palmarès, whose
    table (``departmental``) the methodology annex prints (empty includes when the build has
    neither)."""
    extras: list[str] = []
    yoy_laureates_path = catalogue.path(build_dir, "tables.yoy_laureates")
    if yoy_laureates_path.exists():
        yoy = catalogue.read(build_dir, "tables.yoy_laureates")
        changes = catalogue.read(build_dir, "tables.yoy_rank_changes")
        extras.append(
            editions.yoy_section(yoy, changes, config.edition, str(config.previous_edition))
        )
    departmental_path = catalogue.path(build_dir, "tables.departmental_palmares")
    if departmental_path.exists():
        from barometre.geography import load_departements

        dep_names = load_departements(config.cog_year).set_index("code_departement")["nom"]
        departmental = catalogue.read(build_dir, "tables.departmental_palmares")
        # the long table goes to the annex; the baromètre says where it is
        extras.append(editions.departmental_pointer(departmental))
        writer.markdown(
            "departmental",
            editions.departmental_section(
                departmental,
                dep_names,
                config.departmental_palmares_size,
                config.palmares_rule.laureate_min_probability,
            ),
        )
    else:
        writer.markdown("departmental", "")
    writer.markdown("edition_extras", "\n\n".join(extras) if extras else "")


def _write_methodology(
    writer: ReportWriter,
    build_dir: Path,
    meta: Mapping[str, Any],
    spec: IndexSpec,
    communes: pd.DataFrame,
) -> None:
    """The index's tables of the methodology annex: indicators, definitions, treatment and the
    statistical audit."""

    def audit(name: str) -> pd.DataFrame:
        return catalogue.read(build_dir, "tables.audit.table", name=f"audit_{name}")

    titles = {i["code"]: i["short"] for i in meta["indicators"]}
    eff = audit("effective_weights").set_index("element")["effective_weight"]
    writer.table("indicators", method_tables.indicators_table(meta, eff))
    writer.markdown("definitions", definitions_markdown(meta["indicators"]))
    treatment = catalogue.read(build_dir, "work.stages.table", name="treatment_details")
    writer.table("treatment", method_tables.treatment_table(treatment, titles))
    names = method_tables.element_names(meta)
    corr = audit("correlations_pearson")
    writer.table("correlations", method_tables.correlations_table(corr, names, spec.root))
    alpha = audit("cronbach")
    writer.table("cronbach", method_tables.cronbach_table(alpha, names, spec.root))
    pca = audit("pca_variance")
    writer.table("pca", method_tables.pca_table(pca, names, spec.root))
    removal = audit("weight_removal")
    n_ranked = max(int(communes["score"].notna().sum()), 1)
    criteria_codes = {c["code"] for c in meta["criteria"]}
    writer.table(
        "weight_removal",
        method_tables.weight_removal_table(removal, names, criteria_codes, n_ranked),
    )


def _write_provenance(
    writer: ReportWriter, build_dir: Path, meta: Mapping[str, Any]
) -> dict[str, Any]:
    """Matching of the sources, input fingerprints and software versions; returns the
    ``reproducibility`` variables."""
    matches = catalogue.read(build_dir, "tables.match_report")
    writer.table("match_report", method_tables.match_report_table(matches, meta.get("sources", {})))
    versions = package_versions()
    raw_dir = catalogue.path(build_dir, "raw")
    raw_files = sorted(p for p in raw_dir.rglob("*") if p.is_file()) if raw_dir.exists() else []
    fingerprints = [(str(p.relative_to(build_dir)), sha256_file(p)) for p in raw_files]
    writer.table("inputs", method_tables.inputs_table(fingerprints))
    writer.table("versions", method_tables.versions_table(versions))
    return {"reproducibility": report_variables.reproducibility_variables(git_commit(), versions)}


def _write_small_communes(
    writer: ReportWriter,
    build_dir: Path,
    config: EditionConfig,
    titles: Mapping[str, str],
    communes: pd.DataFrame,
) -> dict[str, Any]:
    """Eligibility, structural gaps, shrinkage weights and the effect of the ranked rates;
    returns the ``small`` variables."""
    eligibility = catalogue.read(build_dir, "tables.eligibility")
    writer.table("eligibility", model_tables.eligibility_table(eligibility))
    gaps = catalogue.read(build_dir, "tables.structural_gaps")
    writer.markdown("structural_gaps", structural_gaps_markdown(config, gaps, titles))
    writer.markdown("limits_gaps", limits_gaps_markdown(config, titles))
    shrink = catalogue.read(build_dir, "work.shrinkage")
    writer.table(
        "shrinkage_weights",
        model_tables.shrinkage_weights_table(shrink, communes, list(titles), titles, writer.labels),
    )
    effect = catalogue.read(build_dir, "tables.rates_effect")
    writer.table("rates_effect", model_tables.rates_effect_table(effect, config.rates))
    return {"small": report_variables.small_variables(config, effect, eligibility)}


def _write_figures(
    writer: ReportWriter,
    meta: Mapping[str, Any],
    communes: pd.DataFrame,
    palmares: pd.DataFrame,
    demo: bool,
) -> None:
    """The funnel plots, the scores by class, the map of the départements, each class's top and
    the indicators' correlations."""
    from barometre.publish.maps import department_choropleth, department_medians

    figures_dir, labels = writer.figures_dir, writer.labels
    titles = {i["code"]: i["short"] for i in meta["indicators"]}
    laureate_codes = set(palmares.loc[palmares["status"] == "Lauréat", "code_commune"])
    writer.written.append(
        figure_funnels(communes, meta, figures_dir / "funnels.png", laureate_codes)
    )
    status = palmares.set_index("code_commune")["status"]
    communes = communes.assign(status=communes["code_commune"].map(status).fillna(""))
    writer.written.append(
        figure_scores_by_class(communes, labels, figures_dir / "scores_by_class.png", demo)
    )
    writer.written.append(
        department_choropleth(
            department_medians(communes, "score"),
            figures_dir / "map_departments.png",
            "Score Cités Vives médian des communes, par département",
            "Score médian",
            SOURCE_NOTE[demo],
            laureates=palmares.loc[palmares["status"] == "Lauréat", ["code_commune"]],
        )
    )
    for label in labels:
        path = figures_dir / f"top_{slug(label)}.png"
        writer.written.append(figure_class_top(communes, label, path, demo))
    writer.written.append(
        figure_correlations(communes, list(titles), titles, figures_dir / "correlations.png")
    )


def write_report_artefacts(
    build_dir: Path, config: EditionConfig, meta: Mapping[str, Any], demo: bool
) -> list[Path]:
    """Write ``report/_variables.yml``, ``report/tables/*.md`` and ``report/figures/*.png``."""
    figures_dir = catalogue.path(build_dir, "report.figures")
    labels = list(config.classes.labels)
    writer = ReportWriter(catalogue.path(build_dir, "report.tables"), labels, figures_dir)
    writer.written += _reset_report_folders(build_dir, writer.tables_dir, figures_dir)
    # exact values: figures and medians only
    communes = catalogue.read(build_dir, "work.communes")
    palmares = catalogue.read(build_dir, "tables.palmares")
    decision = catalogue.read(build_dir, "work.palmares_decision")
    analysis = catalogue.read(build_dir, "tables.robustness.analysis")
    analysis = analysis.set_index("item")["value"]
    spec = load_spec(config.path(config.index_spec))
    titles = {i["code"]: i["short"] for i in meta["indicators"]}
    writer.markdown("demo_mark", demo_mark_markdown(demo))
    # national figures over every commune of the geography (ranked or not)
    everyone = catalogue.read(build_dir, "work.count_model_input")
    variables = report_variables.edition_variables(
        config, spec, meta, communes, everyone, palmares, demo
    )
    # from 2025: the donations, when the edition has the indicator (an empty include otherwise)
    writer.markdown("national_donations", national_donations_markdown(everyone, meta))
    variables |= _write_robustness(writer, build_dir, config, decision, analysis, figures_dir)
    variables |= _write_count_model(writer, build_dir, config, titles)
    n_runs = int(analysis["n_runs"])
    variables["palmares"] = report_variables.palmares_variables(config, palmares, n_runs)
    facts = palmares_pages.PalmaresFacts.from_config(
        config, n_runs, variables["robustness"]["interval"]
    )
    frames = {"communes": communes, "palmares": palmares, "decision": decision}
    _write_palmares(writer, build_dir, config, meta, frames, facts, variables["classes"], demo)
    _write_edition_extras(writer, build_dir, config)
    _write_methodology(writer, build_dir, meta, spec, communes)
    variables |= _write_provenance(writer, build_dir, meta)
    variables |= _write_small_communes(writer, build_dir, config, titles, communes)
    _write_figures(writer, meta, communes, palmares, demo)
    path = catalogue.path(build_dir, "report.variables")
    atomic_write_text(path, yaml.safe_dump(variables, allow_unicode=True, sort_keys=True))
    return [*writer.written, path]
