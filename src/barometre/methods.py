"""« Ce que change l'autre méthode »: the edition rebuilt under the other definitions.

Two indicators have two honest readings (:class:`barometre.config.Definitions`): JeVeuxAider
matches as the stock « à date » or as the flow of the data year, and the campaigns' audience per
inhabitant or per campaign. Each edition declares its own; the methodology annex shows what the
other choice would change. :func:`compare_methods` rebuilds the indicator tables (count models,
eligibility) and the nominal index with the other definitions, on the same raw counts (the sources
step counts both JeVeuxAider definitions, ``jva_matches_other``), and compares, class by class,
the rankings (Spearman correlation of the scores of the communes ranked by both methods) and the
edition's laureates (their rank under the other method) with the other method's nominal top.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from barometre.composite import IndexSpec, build_index, spec_from_dict
from barometre.config import Definitions, EditionConfig, load_indicator_meta
from barometre.indicators import indicator_tables
from barometre.palmares import class_ranks
from barometre.sources.counts import CLUSTER_STATISTICS

#: The other reading of each definition (``dropped`` has no other reading).
OTHER_READING: dict[str, dict[str, str]] = {
    "jva_matches": {"stock": "flow", "flow": "stock"},
    "participants_per_campaign": {
        "per_inhabitant": "per_campaign",
        "per_campaign": "per_inhabitant",
        "dropped": "dropped",
    },
}
RATIO_INDICATOR = "ha_participants_per_campaign"


def other_definitions(definitions: Definitions) -> Definitions:
    """Every definition replaced by its other reading."""
    return Definitions(
        **{key: OTHER_READING[key][getattr(definitions, key)] for key in OTHER_READING}
    )


def other_spec(spec: IndexSpec, definitions: Definitions) -> IndexSpec:
    """The edition's index spec with the audience indicator divided by the population (per
    inhabitant) or not (per campaign), as ``definitions`` say."""
    raw = spec.model_dump()
    for indicator in raw["indicators"]:
        if indicator["code"] == RATIO_INDICATOR:
            per_inhabitant = definitions.participants_per_campaign == "per_inhabitant"
            indicator["denominator"] = "population" if per_inhabitant else None
    return spec_from_dict(raw, source=f"{spec.name} (other definitions)")


def other_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """The commune counts with the JeVeuxAider matches (and their clusters) of the other
    definition in place of the edition's."""
    out = counts.copy()
    for suffix in ("", *(f"_{stat}" for stat in CLUSTER_STATISTICS)):
        out[f"jva_matches{suffix}"] = counts[f"jva_matches_other{suffix}"]
    return out


def describe(definitions: Definitions) -> str:
    """French summary of a set of definitions (annex)."""
    jva = {"stock": "mises en relation cumulées à date", "flow": "mises en relation de l'année"}[
        definitions.jva_matches
    ]
    audience = {
        "per_inhabitant": "participants par campagne et par habitant",
        "per_campaign": "participants par campagne",
        "dropped": "sans indicateur d'audience",
    }[definitions.participants_per_campaign]
    return f"{jva}, {audience}"


def compare_methods(
    counts: pd.DataFrame,
    communes: pd.DataFrame,
    config: EditionConfig,
    spec: IndexSpec,
    decided: pd.DataFrame,
    class_labels: Sequence[str],
    size: int,
) -> pd.DataFrame:
    """Per class: communes ranked by both methods, Spearman correlation of their scores, the
    edition's laureates with their rank under the other method, the other method's nominal top
    ``size``, and how many of the edition's laureates it contains.

    ``decided``: the edition's decided palmarès (index = commune code; ``nom``,
    ``population_class``, ``status``, ``score``)."""
    definitions = other_definitions(config.definitions)
    config_other = config.model_copy(update={"definitions": definitions})
    spec_other = other_spec(spec, definitions)
    meta_other = load_indicator_meta(config_other, spec_other)
    tables = indicator_tables(other_counts(counts), communes, meta_other, config_other)
    if tables.shrunk.empty:
        return pd.DataFrame()
    build = build_index(spec_other, tables.shrunk, weight_set=config.weights)
    theirs = class_ranks(build)
    rows: list[dict[str, Any]] = []
    for label in class_labels:
        ours = decided[decided["population_class"] == label]
        other = theirs[theirs["population_class"] == label]
        both = ours.index.intersection(other.index)
        rho = (
            ours.loc[both, "score"].corr(other.loc[both, spec.root], method="spearman")
            if len(both) > 2
            else float("nan")
        )
        laureates = ours[ours["status"] == "Lauréat"]
        top = other[other["rank_in_class"].astype("Float64") <= size].sort_values("rank_in_class")
        rows.append(
            {
                "population_class": label,
                "ranked_by_both": len(both),
                "spearman": rho,
                "laureates": " ; ".join(
                    f"{row.nom} ({int(other.at[code, 'rank_in_class'])})"
                    if code in other.index
                    else f"{row.nom} (non classée)"
                    for code, row in laureates.iterrows()
                ),
                "other_top": " ; ".join(str(n) for n in top["nom"]),
                "laureates_in_other_top": int(laureates.index.isin(top.index).sum()),
                "n_laureates": len(laureates),
            }
        )
    out = pd.DataFrame(rows)
    out.insert(0, "this_method", describe(config.definitions))
    out.insert(1, "other_method", describe(definitions))
    return out
