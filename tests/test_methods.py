"""« Ce que change l'autre méthode »: the other definitions, spec and counts (exact)."""

from __future__ import annotations

import pandas as pd

from barometre.composite import load_spec
from barometre.config import Definitions, load_edition, load_indicator_meta
from barometre.methods import describe, other_counts, other_definitions, other_spec


def test_each_definition_is_swapped_for_its_other_reading():
    assert other_definitions(
        Definitions(jva_matches="stock", participants_per_campaign="per_inhabitant")
    ) == Definitions(jva_matches="flow", participants_per_campaign="per_campaign")
    assert other_definitions(
        Definitions(jva_matches="flow", participants_per_campaign="per_campaign")
    ) == Definitions(jva_matches="stock", participants_per_campaign="per_inhabitant")
    assert describe(Definitions(jva_matches="flow", participants_per_campaign="per_campaign")) == (
        "mises en relation de l'année, participants par campagne"
    )


def test_other_spec_agrees_with_the_other_definitions_for_both_editions():
    for edition in (2024, 2025):
        config = load_edition(edition)
        spec = load_spec(config.path(config.index_spec))
        definitions = other_definitions(config.definitions)
        changed = other_spec(spec, definitions)
        denominators = {i.code: i.denominator for i in changed.indicators}
        expected = (
            "population" if definitions.participants_per_campaign == "per_inhabitant" else None
        )
        assert denominators["ha_participants_per_campaign"] == expected
        assert all(
            d == "population"
            for c, d in denominators.items()
            if c != "ha_participants_per_campaign"
        )
        # the metadata of the other reading checks out against the other spec
        meta = load_indicator_meta(config.model_copy(update={"definitions": definitions}), changed)
        assert [i["code"] for i in meta["indicators"]] == changed.indicator_codes


def test_other_counts_swap_the_matches_and_their_clusters_only():
    counts = pd.DataFrame(
        {
            "code_commune": ["01001"],
            "rna_creations": [2],
            "jva_matches": [40],
            "jva_matches_clusters": [3],
            "jva_matches_cluster_sumsq": [600],
            "jva_matches_cluster_max": [20],
            "jva_matches_other": [9],
            "jva_matches_other_clusters": [1],
            "jva_matches_other_cluster_sumsq": [81],
            "jva_matches_other_cluster_max": [9],
        }
    )
    swapped = other_counts(counts).iloc[0]
    assert (
        swapped["jva_matches"],
        swapped["jva_matches_clusters"],
        swapped["jva_matches_cluster_sumsq"],
        swapped["jva_matches_cluster_max"],
        swapped["rna_creations"],
    ) == (9, 1, 81, 9, 2)
