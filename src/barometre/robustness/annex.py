"""The robustness stage of an edition: assumptions from the edition config, analyses, annex files.

Reads nothing but its arguments; writes under ``build_dir``:

- ``tables/robustness/commune_ranks.csv`` (one row per commune: nominal rank, median, P5, P95,
  P(top k)), ``laureate_stability.csv`` (palmarès order, with the assumption that moves each
  laureate most), ``sobol.csv`` (indices with their bootstrap half-widths),
  ``class_summary.csv`` and ``analysis.csv`` (seed, sizes, factors; no timings, so that two
  builds give identical files: timings are printed by the notebook);
- ``figures/robustness_intervals_<class>.png``, ``robustness_ptop4.png``,
  ``robustness_sobol.png``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from barometre import catalogue
from barometre.composite import IndexSpec
from barometre.config import EditionConfig
from barometre.robustness.assumptions import RobustnessAssumptions, parse_assumptions
from barometre.robustness.figures import (
    assumption_label,
    ptop_heatmap,
    rank_interval_figure,
    slug,
    sobol_figure,
)
from barometre.robustness.joint import DrawSampler
from barometre.robustness.model import RobustnessModel
from barometre.robustness.sampling import CountModelSampler
from barometre.robustness.sensitivity import SensitivityResult, run_sensitivity
from barometre.robustness.uncertainty import UncertaintyResult, run_uncertainty
from barometre.tables import save_table


def edition_assumptions(
    config: EditionConfig, overrides: Mapping[str, Any] | None = None, n_runs: int | None = None
) -> RobustnessAssumptions:
    """The config's ``extra.robustness`` updated by ``overrides`` (top-level keys) and ``n_runs``;
    the palmarès size is the edition's unless the assumptions set ``top``."""
    raw: dict[str, Any] = dict(config.extra.get("robustness") or {})
    raw.update(dict(overrides or {}))
    if n_runs is not None:
        raw["n_runs"] = int(n_runs)
    raw.setdefault("top", config.palmares_size)
    if config.departmental_palmares_size and raw.get("sampling") is not None:
        raw.setdefault("group_top", {"code_departement": config.departmental_palmares_size})
    return parse_assumptions(raw, source="edition robustness assumptions")


def edition_seed(
    config: EditionConfig, assumptions: RobustnessAssumptions, seed: int | None = None
) -> int:
    """The seed: the parameter, else the assumptions' own, else the edition's."""
    if seed is not None:
        return int(seed)
    return int(assumptions.seed) if assumptions.seed is not None else int(config.seed)


def edition_sampler(
    build_dir: Path, config: EditionConfig, meta: Mapping[str, Any], spec: IndexSpec, seed: int
) -> CountModelSampler:
    """Posterior draws of an edition's indicators: the count models of the indicators step,
    refitted (deterministically) on its confidential model input ``work/count_model_input.csv``."""
    from barometre.indicators import fit_models, is_ratio, model_input_frame, ranking_fits

    model_input = model_input_frame(
        catalogue.read(build_dir, "work.count_model_input"), config.classes.labels
    )
    fits = ranking_fits(
        fit_models(model_input, meta, config.shrinkage.credible),
        config.shrinkage.credit_departement,
        meta,
    )
    ratio = frozenset(i["code"] for i in meta["indicators"] if is_ratio(i))
    population = model_input.set_index("code_commune")["population"]
    return CountModelSampler(list(spec.indicator_codes), fits, ratio, population, seed)


@dataclass
class RobustnessAnalysis:
    model: RobustnessModel
    uncertainty: UncertaintyResult
    sensitivity: SensitivityResult
    seed: int


def analyse(
    spec: IndexSpec,
    table: pd.DataFrame | Mapping[str, pd.DataFrame],
    assumptions: RobustnessAssumptions,
    seed: int,
    weight_set: str | None = None,
    class_order: list[str] | None = None,
    sampler: DrawSampler | None = None,
) -> RobustnessAnalysis:
    """Uncertainty then sensitivity analysis, both from one generator seeded with ``seed``.

    With a ``sampler`` (and the ``sampling`` assumption), every run pairs one joint posterior
    draw of the counts with its method scenario (:mod:`barometre.robustness.joint`)."""
    rng = np.random.default_rng(seed)
    model = RobustnessModel(
        spec, table, assumptions, weight_set=weight_set, class_order=class_order, sampler=sampler
    )
    uncertainty = run_uncertainty(model, rng)
    sensitivity = run_sensitivity(model, rng)
    return RobustnessAnalysis(model, uncertainty, sensitivity, seed)


def laureate_stability(analysis: RobustnessAnalysis) -> pd.DataFrame:
    """Nominal laureates in palmarès order: stability, rank interval, and the assumption that
    moves each one most (largest total Sobol' index of its rank, French label)."""
    drivers = analysis.sensitivity.laureates[
        ["code", "driver", "driver_ST", "driver_S1", "first_order_driver", "first_order_S1"]
    ]
    table = analysis.uncertainty.laureates.merge(
        drivers, on="code", how="left", validate="one_to_one"
    )
    table["driver_label"] = table["driver"].map(
        lambda f: assumption_label(f) if isinstance(f, str) else ""
    )
    return table


def _rename(model: RobustnessModel, table: pd.DataFrame) -> pd.DataFrame:
    spec = model.spec
    names = {"code": spec.units.code, "class": model.class_column or "class"}
    if spec.units.name:
        names["name"] = spec.units.name
    return table.rename(columns=names)


def write_tables(build_dir: Path, analysis: RobustnessAnalysis) -> list[Path]:
    """The annex tables of the analysis (see the module docstring)."""
    model, ua, sa = analysis.model, analysis.uncertainty, analysis.sensitivity

    def out(name: str) -> Path:
        return catalogue.path(build_dir, f"tables.robustness.{name}")

    code, klass = model.spec.units.code, model.class_column or "class"
    written = [save_table(_rename(model, ua.communes), out("commune_ranks"), key=[code])]
    written.append(
        save_table(
            _rename(model, laureate_stability(analysis)),
            out("laureate_stability"),
            key=[klass, "nominal_rank", code],
            sort=False,
        )
    )
    indices = sa.indices.copy()
    indices.insert(2, "factor_label", indices["factor"].map(assumption_label))
    written.append(save_table(indices, out("sobol"), key=["output", "factor"], sort=False))
    written.append(
        save_table(_rename(model, ua.classes), out("class_summary"), key=[klass], sort=False)
    )
    info = pd.DataFrame(
        [
            ("seed", analysis.seed),
            ("n_units", model.n_units),
            ("n_runs", ua.n_runs),
            ("sobol_base_samples", sa.n_base),
            ("sobol_runs", sa.n_runs),
            ("assumptions", "; ".join(f.name for f in model.space.factors)),
        ],
        columns=["item", "value"],
    )
    written.append(save_table(info, out("analysis"), key=["item"], sort=False))
    return written


def write_sampling_table(build_dir: Path, analysis: RobustnessAnalysis, n_draws: int) -> Path:
    """Confidential ``work/score_sampling.csv``: per commune, the nominal score and its sampling
    standard error over ``n_draws`` posterior draws under the nominal method (the inputs of the
    confidence sets for ranks)."""
    model = analysis.model
    moments = model.joint_evaluator().nominal_score_moments(n_draws)
    moments.insert(0, "score", model.nominal_scores)
    moments.insert(0, model.class_column or "class", model.unit_classes)
    return save_table(
        moments.reset_index(),
        catalogue.path(build_dir, "work.score_sampling"),
        key=[model.spec.units.code],
    )


def write_figures(build_dir: Path, analysis: RobustnessAnalysis, top_n: int = 15) -> list[Path]:
    """The annex figures: one rank-interval plot per class, the P(top k) heatmap, Sobol' bars."""
    model, ua, sa = analysis.model, analysis.uncertainty, analysis.sensitivity
    # The publication step copies build_dir/figures/* next to the report sources.
    figures = catalogue.path(build_dir, "figures.robustness")
    top = model.assumptions.top
    written = []
    for label in model.class_labels:
        communes = ua.communes[ua.communes["class"] == label]
        runs = f"{ua.n_runs:,}".replace(",", "\u202f")  # French thousands separator
        title = f"{label} : les {top_n} premières communes, rang sous {runs} scénarios"
        written.append(
            rank_interval_figure(
                communes, title, figures / f"robustness_intervals_{slug(label)}.png", top_n
            )
        )
    written.append(
        ptop_heatmap(
            ua.communes, model.class_labels, figures / f"robustness_ptop{top}.png", top=top
        )
    )
    outputs = [o for o in dict.fromkeys(sa.indices["output"]) if o.startswith("mean_abs_shift:")]
    titles = [f"Écart moyen de rang : {o.split(':', 1)[1]}" for o in outputs]
    if "laureates_changed" in set(sa.indices["output"]):
        outputs.append("laureates_changed")
        titles.append("Lauréats remplacés (toutes classes)")
    written.append(sobol_figure(sa.indices, outputs, titles, figures / "robustness_sobol.png"))
    return written
