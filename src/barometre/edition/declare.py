"""The steps of an edition build, declared by catalogue keys.

Each step names what it reads and writes by its key in ``config/artefacts.yml``
(:mod:`barometre.catalogue`); :func:`declare` turns the keys into the paths the runner hashes
and guards, and :func:`validate_steps` refuses a declaration the catalogue contradicts: an
output that the catalogue says another step produces, or an input that is neither external nor
produced by an earlier step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from barometre.catalogue import Catalogue, load_catalogue
from barometre.config import EditionConfig
from barometre.edition import rendering, steps
from barometre.pipeline import PipelineError, Step

if TYPE_CHECKING:
    from barometre.publish.render import Renderer


@dataclass(frozen=True)
class Ref:
    """A catalogue key with its template fields, optionally in another build (the previous
    edition's, an external input of this one)."""

    key: str
    fields: tuple[tuple[str, Any], ...] = ()
    build: Path | None = None
    area: str | None = None  # a whole folder of another build (``tables``), not one artefact

    def entry(self, catalogue: Catalogue, build_dir: Path) -> str | Path:
        """The step entry: a path relative to the build folder for this build's artefacts, an
        absolute path for external inputs and another build's artefacts."""
        fields = dict(self.fields)
        if self.build is not None:
            if self.area is not None:
                return self.build / self.area
            return self.build / catalogue.relative(self.key, **fields)
        if catalogue.is_external(self.key):
            return catalogue.path(build_dir, self.key, **fields)
        return catalogue.relative(self.key, **fields)


def ref(key: str, build: Path | None = None, **fields: Any) -> Ref:
    """A reference to ``key`` (``build``: in another build folder)."""
    return Ref(key, tuple(sorted(fields.items())), build)


class DeclarationError(PipelineError):
    """A step declaration that the catalogue of artefacts contradicts."""


@dataclass
class DeclaredStep(Step):
    """A :class:`~barometre.pipeline.Step` with the catalogue keys it was declared from."""

    input_refs: list[Ref] = field(default_factory=list)
    output_refs: list[Ref] = field(default_factory=list)


def declare(
    build_dir: Path,
    name: str,
    title: str,
    inputs: Sequence[Ref],
    outputs: Sequence[Ref],
    params: dict[str, Any],
    notebook: str | None = None,
    func: Callable[..., Any] | None = None,
    catalogue: Catalogue | None = None,
) -> DeclaredStep:
    """A step whose inputs and outputs are the paths of catalogue keys."""
    cat = catalogue or load_catalogue()
    return DeclaredStep(
        name=name,
        title=title,
        inputs=[r.entry(cat, build_dir) for r in inputs],
        outputs=[str(r.entry(cat, build_dir)) for r in outputs],
        params=params,
        notebook=notebook,
        func=func,
        input_refs=list(inputs),
        output_refs=list(outputs),
    )


def _covered(entry: str, produced: Sequence[str]) -> bool:
    return any(entry == p or entry.startswith(p.rstrip("/") + "/") for p in produced)


def validate_steps(declared: Sequence[Step], catalogue: Catalogue | None = None) -> None:
    """Refuse steps that the catalogue contradicts (:class:`DeclarationError`, naming the step
    and the key): every output must be produced by its step in the catalogue, every input must
    be external (or another build's) or written by an earlier step's declared outputs."""
    cat = catalogue or load_catalogue()
    produced: list[str] = []
    for step in declared:
        if not isinstance(step, DeclaredStep):
            produced += step.outputs
            continue
        for out in step.output_refs:
            if cat.is_external(out.key) or out.build is not None:
                raise DeclarationError(f"step {step.name!r}: output {out.key!r} is not an artefact")
            owner = cat.step_of(out.key, **dict(out.fields))
            if owner != step.name:
                raise DeclarationError(
                    f"step {step.name!r} declares output {out.key!r}, which config/artefacts.yml "
                    f"says step {owner!r} produces"
                )
        for inp in step.input_refs:
            if inp.build is not None or cat.is_external(inp.key):
                continue
            entry = str(inp.entry(cat, Path()))
            if not _covered(entry, produced):
                raise DeclarationError(
                    f"step {step.name!r} reads {inp.key!r} ({entry}), which no earlier step "
                    f"produces (config/artefacts.yml: step {cat.step_of(inp.key)!r})"
                )
        produced += step.outputs


@dataclass
class Plan:
    """What the step declarations need to know of a build."""

    config: EditionConfig
    config_file: Path
    build_dir: Path
    demo: bool
    raw_dir: Path | None
    departments: list[str] | None
    n_runs: int | None
    previous_dir: Path | None
    renderer: Renderer
    territories: list[tuple[str, str]]  # (territory, slug)

    @property
    def raw(self) -> Ref:
        """The raw extracts: the demo inputs' folder, or the folder given with --raw-dir."""
        return ref("raw") if self.demo else ref("raw.external", raw_dir=self.raw_dir)

    @property
    def raw_param(self) -> str:
        return "raw" if self.demo else str(self.raw_dir)

    @property
    def config_refs(self) -> list[Ref]:
        return [
            ref("config.edition", edition_config=self.config_file),
            ref("config.index_spec", index_spec=self.config.index_spec),
            ref("config.indicators", indicators_meta=self.config.indicators_meta),
        ]

    @property
    def cog(self) -> Ref:
        return ref("reference.cog", cog_year=self.config.cog_year)

    @property
    def common(self) -> dict[str, Any]:
        return {
            "edition_config": str(self.config_file),
            "departments": self.departments,
            "demo": self.demo,
        }

    def step(
        self,
        name: str,
        title: str,
        inputs: Sequence[Ref],
        outputs: Sequence[Ref],
        params: dict[str, Any],
        **kw: Any,
    ) -> DeclaredStep:
        """:func:`declare` in this build."""
        return declare(self.build_dir, name, title, inputs, outputs, params, **kw)


def refs(*keys: str) -> list[Ref]:
    """References to this build's artefacts ``keys`` (no template fields)."""
    return [ref(k) for k in keys]


def demo_inputs_step(p: Plan) -> list[Step]:
    """The synthetic raw extracts (``--demo`` only)."""
    if not p.demo:
        return []
    params = {
        "seed": p.config.seed,
        "data_year": p.config.data_year,
        "cog_year": p.config.cog_year,
        "scale": p.config.demo.scale,
        "departments": p.departments,
        "panel_seed": p.config.demo.panel_seed,
    }
    inputs = [p.cog, ref("reference.qpv")]
    return [
        p.step("demo_inputs", "Données de démonstration", inputs, refs("raw"), params,
               func=steps.generate_demo_step)
    ]  # fmt: skip


def sources_step(p: Plan) -> list[Step]:
    """Raw extracts → exact counts per commune (``01_sources``)."""
    # the geometries: commune points of the coordinate matching (sources.matching)
    inputs = [p.raw, p.cog, ref("reference.geo"), *p.config_refs]
    outputs = refs("work.commune_counts", "tables.match_report", "work.quarantine")
    params = {**p.common, "raw_dir": p.raw_param}
    title = "Sources → table communale harmonisée"
    return [p.step("sources", title, inputs, outputs, params, notebook="01_sources.ipynb")]


INDICATOR_TABLES = (
    "work.indicators_input",
    "work.indicators_input_raw",
    "work.indicators_input_shrunk",
    "work.indicators",
    "work.shrinkage",
    "work.count_model_input",
    "work.eligibility_communes",
    "tables.count_model",
    "tables.eligibility",
    "tables.structural_gaps",
)
ENGINE_INPUTS = (
    "work.indicators_input",
    "work.indicators_input_raw",
    "work.indicators_input_shrunk",
)


def indicators_step(p: Plan) -> list[Step]:
    """Counts → rates, count models and eligibility (``02_indicators``)."""
    inputs = [*refs("work.commune_counts"), p.cog, *p.config_refs]
    return [
        p.step("indicators", "Indicateurs par commune", inputs, refs(*INDICATOR_TABLES), p.common,
               notebook="02_indicators.ipynb")
    ]  # fmt: skip


def calibration_step(p: Plan) -> list[Step]:
    """The count model's calibration on a simulation."""
    params = {"seed": p.config.seed, "credible": p.config.shrinkage.credible}
    title = "Modèle de comptage : calibration sur simulation"
    outputs = refs("tables.count_model_calibration")
    return [p.step("calibration", title, [], outputs, params, func=steps.calibration_step)]


def composite_step(p: Plan) -> list[Step]:
    """The composite index, its stages and audit (``03_composite``)."""
    outputs = refs(
        "work.stages", "work.communes", "work.nominal_top", "tables.audit", "tables.rates_effect"
    )
    inputs = [*refs(*ENGINE_INPUTS), *p.config_refs]
    title = "Score composite, rangs et palmarès"
    return [p.step("composite", title, inputs, outputs, p.common, notebook="03_composite.ipynb")]


def robustness_step(p: Plan) -> list[Step]:
    """Uncertainty and sensitivity analysis (``04_robustness``)."""
    inputs = [*refs(*ENGINE_INPUTS, "work.count_model_input"), *p.config_refs]
    outputs = refs("tables.robustness", "figures.robustness", "work.score_sampling")
    # seed and assumptions: the notebook's overrides for a researcher; None in a build
    params = {**p.common, "n_runs": p.n_runs, "seed": None, "assumptions": None}
    title = "Robustesse : incertitude et sensibilité (Sobol)"
    return [p.step("robustness", title, inputs, outputs, params, notebook="04_robustness.ipynb")]


def palmares_step(p: Plan) -> list[Step]:
    """The decided palmarès and the published commune table."""
    inputs = refs(
        "work.indicators_input",
        "work.indicators_input_raw",
        "work.communes",
        "work.eligibility_communes",
        "work.score_sampling",
        "tables.robustness",
    )
    outputs = refs(
        "work.palmares_decision", "tables.palmares", "tables.palmares_awards", "tables.communes"
    )
    params = {"edition_config": str(p.config_file)}
    title = "Palmarès : règle de décision, ensembles de confiance des rangs"
    return [
        p.step("palmares", title, [*inputs, *p.config_refs], outputs, params,
               func=steps.palmares_step)
    ]  # fmt: skip


def methods_step(p: Plan) -> list[Step]:
    """« Ce que change l'autre méthode »."""
    inputs = [*refs("work.commune_counts", "work.palmares_decision"), p.cog, *p.config_refs]
    params = {"edition_config": str(p.config_file), "departments": p.departments}
    outputs = refs("tables.methods_comparison")
    title = "Ce que change l'autre méthode"
    return [p.step("methods", title, inputs, outputs, params, func=steps.methods_step)]


def editions_outputs(p: Plan) -> list[Ref]:
    """What the editions step writes: the departmental palmarès and the year-over-year tables,
    each when the edition asks for it."""
    departmental = (
        refs("tables.departmental_palmares") if p.config.departmental_palmares_size else []
    )
    yoy = refs("tables.yoy_rank_changes", "tables.yoy_laureates") if p.previous_dir else []
    return departmental + yoy


def editions_step(p: Plan) -> list[Step]:
    """Departmental palmarès and year-over-year tables, when the edition has them."""
    if not (p.previous_dir or p.config.departmental_palmares_size):
        return []
    previous = [ref(k, build=p.previous_dir) for k in ("tables.communes", "tables.palmares")]
    inputs = refs("work.communes", "tables.palmares", "tables.robustness", "work.score_sampling")
    params = {
        "previous_dir": str(p.previous_dir) if p.previous_dir else None,
        "departmental_size": p.config.departmental_palmares_size,
        "cog_year": p.config.cog_year,
        "class_labels": list(p.config.classes.labels),
        "edition_config": str(p.config_file),
    }
    inputs += [*p.config_refs, *(previous if p.previous_dir else [])]
    title = "Palmarès départemental et évolutions depuis l'édition précédente"
    return [p.step("editions", title, inputs, editions_outputs(p), params, func=steps.compare_step)]


PUBLICATION_INPUTS = (
    "work.communes",
    "work.shrinkage",
    "work.count_model_input",
    "work.commune_counts",
    "work.palmares_decision",
    "work.stages.table",
    "tables.palmares",
    "tables.palmares_awards",
    "tables.count_model",
    "tables.count_model_calibration",
    "tables.methods_comparison",
    "tables.match_report",
    "tables.eligibility",
    "tables.structural_gaps",
    "tables.rates_effect",
    "tables.audit",
    "tables.robustness",
    "figures.robustness",
)


def publication_step(p: Plan) -> list[Step]:
    """The report variables, tables and figures (``05_publication``)."""
    inputs = [
        ref(k, name="treatment_details") if k == "work.stages.table" else ref(k)
        for k in PUBLICATION_INPUTS
    ]
    inputs += [*editions_outputs(p), p.raw, ref("reference.geo"), *p.config_refs]
    outputs = refs("report.variables", "report.figures", "report.tables")
    title = "Variables, tableaux et figures des publications"
    return [
        p.step("publication", title, inputs, outputs, p.common, notebook="05_publication.ipynb")
    ]


def territory_steps(p: Plan) -> list[Step]:
    """One territorial analysis per territory of the edition in the build (``06_territory``)."""
    inputs = refs(
        "work.communes",
        "work.count_model_input",
        "tables.communes",
        "tables.palmares",
        "tables.robustness",
    )
    inputs += [ref("report.territory_source"), ref("reference.qpv"), ref("reference.rna")]
    inputs += [ref("reference.geo"), p.raw, p.cog, *p.config_refs]
    params = {**p.common, "qpv_file": None, "raw_dir": p.raw_param}
    return [
        p.step(f"territory_{slug}", f"Analyse territoriale {territory}", inputs,
               [ref("territory", slug=slug)], {**params, "territory": territory},
               notebook="06_territory.ipynb")
        for territory, slug in p.territories
    ]  # fmt: skip


def disclosure_step(p: Plan) -> list[Step]:
    """The disclosure attacks on what the build (and the previous edition) publishes."""
    inputs = refs(
        "tables.communes",
        "tables.palmares",
        "tables.count_model",
        "report.variables",
        "work.commune_counts",
    )
    for _, slug in p.territories:
        keys = ("territory.exports", "territory.tables", "territory.variables")
        inputs += [ref(k, slug=slug) for k in keys]
    # the demo's QPV list, public data the attacks rebuild QPV groups from (disclosure_attacks)
    inputs += refs("raw.qpv") if p.demo else []
    if p.previous_dir:
        inputs += [ref("raw.qpv", build=p.previous_dir)] if p.demo else []
        inputs += [
            Ref("tables", build=p.previous_dir, area="tables"),  # every published table
            ref("report.variables", build=p.previous_dir),
            ref("work.commune_counts", build=p.previous_dir),
        ]
    outputs = refs("tables.disclosure_attacks", "report.disclosure_rules")
    params = {"previous_dir": str(p.previous_dir) if p.previous_dir else None}
    title = "Secret statistique : attaques rejouées sur les publications"
    return [p.step("disclosure", title, inputs, outputs, params, func=steps.disclosure_step)]


PROJECT_FILES = ("_quarto.yml", "_metadata.yml", "_templates")


def render_step(p: Plan) -> list[Step]:
    """Every publication rendered to PDF and HTML."""
    inputs = refs("report.variables", "report.figures", "report.tables", "report.disclosure_rules")
    outputs = [
        ref("publications.document", report=name, ext=ext)
        for name in rendering.REPORTS
        for ext in ("pdf", "html")
    ]
    for _, slug in p.territories:
        keys = ("territory.variables", "territory.figures", "territory.tables")
        inputs += [ref(k, slug=slug) for k in (*keys, "territory.report_source")]
        outputs += [ref("territory.publication", slug=slug, ext=e) for e in ("pdf", "html")]
    inputs += [ref("report.sources"), ref("templates")]
    # the renderers' intermediates (``.barometre.typst``) are written and read there
    outputs += [ref("publications")]
    outputs += [ref("territory.publications", slug=slug) for _, slug in p.territories]
    sources = [*PROJECT_FILES, *rendering.REPORTS.values(), "references.bib"]
    outputs += [ref("report.project", name=n) for n in sources]
    outputs += [
        ref("territory.project", slug=s, name=n) for _, s in p.territories for n in PROJECT_FILES
    ]
    params = {
        "demo": p.demo,
        "reports": rendering.REPORTS,
        "timestamp": f"{p.config.edition}-06-15T12:00:00",
        "publication_date": p.config.cover_date.isoformat(),
        # the resolved renderer and its version: another one reruns the step
        "renderer": p.renderer.name,
        "renderer_version": p.renderer.version,
        "territories": [slug for _, slug in p.territories],
    }
    return [
        p.step("render", "Rendu PDF et HTML", inputs, outputs, params, func=rendering.render_step)
    ]


#: The step declarations of an edition, in run order (each gives zero, one or more steps).
STEPS = (
    demo_inputs_step,
    sources_step,
    indicators_step,
    calibration_step,
    composite_step,
    robustness_step,
    palmares_step,
    methods_step,
    editions_step,
    publication_step,
    territory_steps,
    disclosure_step,
    render_step,
)
