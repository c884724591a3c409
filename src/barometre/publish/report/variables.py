"""The sections of ``report/_variables.yml``: every number of the pages' text, computed from the
build's tables and the edition config, already formatted the French way.

Each function returns one section (a dict of text, as Quarto's ``{{< var >}}`` reads it) and
writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from barometre.composite.spec import IndexSpec
from barometre.config import EditionConfig, count_labels, exposure_phrase
from barometre.publish import method_text
from barometre.publish.fmt import edition_facts, fr_number, fr_percent
from barometre.publish.french import nombre
from barometre.publish.report.common import (
    CREATION,
    DEMO_MARK,
    LAUREATE,
    MENTION,
    SOURCE_NOTE,
    slug,
)
from barometre.publish.report.sentences import (
    eligibility_sentence,
    palmares_rule_sentence,
    shrinkage_credit_sentence,
)
from barometre.robustness.assumptions import assumptions_from_config
from barometre.robustness.uncertainty import QUANTILES as UNCERTAINTY_QUANTILES

#: The national totals of the key figures (columns of ``work/count_model_input.csv``).
NATIONAL_COUNTS = (
    "rna_creations",
    "ha_new_organizations",
    "ha_campaigns",
    "ha_participants",
    "jva_matches",
)


def rank_interval_text() -> str:
    """The share of the scenarios a published rank interval covers (« 90 % »), between the
    quantiles of :mod:`barometre.robustness.uncertainty`."""
    return fr_percent((UNCERTAINTY_QUANTILES[-1] - UNCERTAINTY_QUANTILES[0]) * 100, 0)


def national_totals(everyone: pd.DataFrame) -> dict[str, Any]:
    """Sum of each count of :data:`NATIONAL_COUNTS` over every commune of the geography."""
    return {c: everyone[c].sum() for c in NATIONAL_COUNTS}


def class_bounds_text(n: int, bounds: Sequence[int]) -> str:
    """The population range of the ``n``-th class (0-based) in words, from the classes' upper
    bounds (« moins de 5 000 habitants », « de 5 000 à 19 999 habitants », « plus de … »)."""
    low = bounds[n - 1] if n > 0 else 0
    high = bounds[n] if n < len(bounds) else None
    if n == 0:
        return f"moins de {fr_number(high)} habitants"
    if high is None:
        return f"plus de {fr_number(low)} habitants"
    return f"de {fr_number(low)} à {fr_number(high - 1)} habitants"


def class_variables(
    communes: pd.DataFrame, everyone: pd.DataFrame, labels: Sequence[str], bounds: Sequence[int]
) -> dict[str, dict[str, str]]:
    """Per population class (keyed by :func:`slug`): its label, communes of the geography,
    ranked communes, population range and median score (``communes``: the ranked table,
    ``everyone``: every commune of the geography)."""
    classes = {}
    for n, label in enumerate(labels):
        members = communes[communes.population_class == label]
        classes[slug(label)] = {
            "label": label,
            "communes": fr_number(int((everyone["population_class"] == label).sum())),
            "ranked": fr_number(int(members["score"].notna().sum())),
            "bounds": class_bounds_text(n, bounds),
            "median_score": fr_number(members["score"].median(), 1),
        }
    return classes


def national_variables(
    everyone: pd.DataFrame, communes: pd.DataFrame, spec: IndexSpec, meta: Mapping[str, Any]
) -> dict[str, str]:
    """The national key figures: communes, population, the counts of :func:`national_totals`,
    the creation rate in its indicator's unit, and how the indicators and criteria are named."""
    indicators = meta["indicators"]
    totals = national_totals(everyone)
    scale = spec.steps.denominate.scale
    return {
        "communes": fr_number(len(everyone)),
        "communes_ranked": fr_number(int(communes["score"].notna().sum())),
        "population": fr_number(everyone["population"].sum()),
        **{k: fr_number(v) for k, v in totals.items()},
        # the rate in the indicator's own unit (config/indicators.yml), never another scale
        "rna_creations_rate": (
            nombre(
                totals["rna_creations"] / everyone["population"].sum() * scale,
                CREATION,
                decimals=1,
            )
            + f" pour {fr_number(scale)} habitants"
        ),
        "indicators": fr_number(len(indicators)),
        "indicators_exposure": exposure_phrase(meta),
        "criteria": fr_number(len(meta["criteria"])),
        "criteria_sentence": method_text.criteria_sentence(meta),
        # the key figure names the JeVeuxAider count by its indicator's title (the full
        # label is in the paragraph above it)
        "jva_key_label": next(
            i["title"][:1].lower() + i["title"][1:]
            for i in indicators
            if i["code"] == "jva_matches"
        ),
    }


def method_variables(
    spec: IndexSpec, config: EditionConfig, meta: Mapping[str, Any], n_classes: int
) -> dict[str, str]:
    """Every method fact of the pages, written from the index spec, the indicator metadata and
    the edition config (:mod:`barometre.publish.method_text`)."""
    return {
        "summary": method_text.method_summary(
            spec, config.weights, meta, exposure_phrase(meta), n_classes
        ),
        "criteria": method_text.criteria_sentence(meta),
        "normalisation": method_text.normalisation_phrase(spec.steps.normalise),
        "scale": method_text.scale_phrase(spec.steps.normalise),
        "aggregation": method_text.aggregation_sentence(spec, config.weights, meta),
        "treatment": method_text.treatment_sentence(spec.steps.treat),
        "rates": method_text.rates_sentence(spec, meta),
        "rate_scale": fr_number(spec.steps.denominate.scale),
        "scenarios": method_text.scenarios_sentence(assumptions_from_config(config.extra), meta),
        "winmax": fr_number(spec.steps.treat.winmax),
        "skew_threshold": fr_number(spec.steps.treat.skew_threshold, 1),
        "kurt_threshold": fr_number(spec.steps.treat.kurt_threshold, 1),
        "min_share": fr_percent(spec.steps.aggregate.min_share_at(2) * 100, 0),
        "min_population": fr_number(config.eligibility.min_population or 0),
    }


def edition_variables(
    config: EditionConfig,
    spec: IndexSpec,
    meta: Mapping[str, Any],
    communes: pd.DataFrame,
    everyone: pd.DataFrame,
    palmares: pd.DataFrame,
    demo: bool,
) -> dict[str, Any]:
    """The edition's facts, the national key figures, the count labels, the classes and the
    method: the sections of ``_variables.yml`` known before the robustness tables are read."""
    labels = list(config.classes.labels)
    return {
        **edition_facts(config),
        "seed": str(config.seed),
        "laureates_count": fr_number(int((palmares["status"] == "Lauréat").sum())),
        "mentions_count": fr_number(int((palmares["status"] == "Mention").sum())),
        "classes_count": fr_number(len(labels)),
        "demo_mark": DEMO_MARK if demo else "aucune (données réelles)",
        "source_note": SOURCE_NOTE[demo],
        "national": national_variables(everyone, communes, spec, meta),
        # how the pages name a count whose definition the edition chose (config/indicators.yml)
        "labels": count_labels(meta),
        "classes": class_variables(communes, everyone, labels, config.classes.bounds),
        "method": method_variables(spec, config, meta, len(labels)),
    }


def rank_sets_variables(
    decision: pd.DataFrame, labels: Sequence[str], config: EditionConfig
) -> dict[str, str]:
    """The confidence levels of the rank sets and the size of each class's τ-best set."""
    tau_sizes = decision[decision["in_tau_best"].astype(bool)].groupby("population_class").size()
    return {
        "coverage": fr_percent(config.palmares_rule.tau_best_coverage * 100, 0),
        "simultaneous": fr_percent(config.palmares_rule.simultaneous_coverage * 100, 0),
        "sizes": ", ".join(
            f"{label.lower()} {fr_number(int(tau_sizes.get(label, 0)))}" for label in labels
        ),
    }


def methods_variables(methods: pd.DataFrame) -> dict[str, str]:
    """The names of this edition's methodology and of the other one (« n.d. » when no commune is
    ranked by the other)."""
    if not len(methods):
        return {"this": "n.d.", "other": "n.d."}
    return {
        "this": str(methods["this_method"].iloc[0]),
        "other": str(methods["other_method"].iloc[0]),
    }


def palmares_variables(
    config: EditionConfig, palmares: pd.DataFrame, n_runs: int
) -> dict[str, str]:
    """The decision rule, the eligibility rules and the prizes awarded, in sentences."""
    n_laureates = int((palmares["status"] == "Lauréat").sum())
    n_mentions = int((palmares["status"] == "Mention").sum())
    return {
        "rule": palmares_rule_sentence(config, n_runs),
        "eligibility": eligibility_sentence(config),
        "counts": (
            f"Cette édition compte {nombre(n_laureates, LAUREATE)} et "
            f"{nombre(n_mentions, MENTION)}."
        ),
    }


def robustness_variables(
    analysis: pd.Series, stability: pd.DataFrame, laureate_sobol: pd.DataFrame, top_k: int
) -> dict[str, str]:
    """The uncertainty analysis in figures: runs, Sobol' design, stable laureates (in the top in
    at least half the scenarios), the rank interval and the most influential assumption
    (``analysis``: ``tables/robustness/analysis.csv`` by item; ``laureate_sobol``: the Sobol'
    indices of the number of laureates changed)."""
    stable = stability[stability["stability"] >= 0.5]
    return {
        "n_runs": fr_number(int(analysis["n_runs"])),
        "sobol_runs": fr_number(int(analysis["sobol_runs"])),
        "sobol_base": fr_number(int(analysis["sobol_base_samples"])),
        "laureates_stable": fr_number(len(stable)),
        "laureates_total": fr_number(len(stability)),
        "top": str(top_k),
        # the rank interval of every commune: between the quantiles of barometre.robustness
        "interval": rank_interval_text(),
        "main_driver": laureate_sobol.sort_values("ST", ascending=False)["factor_label"]
        .iloc[0]
        .lower()
        if len(laureate_sobol)
        else "n.d.",
    }


def reproducibility_variables(
    git: Mapping[str, Any], versions: Mapping[str, str]
) -> dict[str, str]:
    """The commit the build ran (12 characters, « inconnu » outside git) and Python's version."""
    return {"commit": (git["commit"] or "inconnu")[:12], "python": versions["python"]}


def small_variables(
    config: EditionConfig, effect: pd.DataFrame, eligibility: pd.DataFrame
) -> dict[str, str]:
    """The small-area method in words: which rates are ranked, the credible level, whether the
    département gives credit, the prior's groups, the laureates the count model changed
    (``effect``: ``tables/rates_effect.csv``) and the eligible communes (``eligibility``:
    ``tables/eligibility.csv``, its « Total » row)."""
    return {
        "rates": "lissés (bayésien empirique)" if config.rates == "shrunk" else "bruts",
        "alternative": "bruts" if config.rates == "shrunk" else "lissés",
        "credible": fr_percent(config.shrinkage.credible * 100, 0),
        "credit": shrinkage_credit_sentence(config.shrinkage.credit_departement),
        "groups": ", ".join(
            {"population_class": "classe de population", "code_departement": "département"}.get(
                g, g
            )
            for g in config.shrinkage.groups
        )
        or "ensemble des communes",
        "laureates_changed": fr_number(int(effect["laureates_changed"].sum())),
        "eligible": fr_number(
            int(eligibility.loc[eligibility.population_class == "Total", "eligible"].iloc[0])
        ),
    }
