"""The palmarès decision rule: status, prize limits, ex aequo groups (exact cases)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barometre.config import PalmaresRule
from barometre.decision import (
    LAUREATE,
    MENTION,
    awards_summary,
    decide_class,
    ex_aequo_groups,
    prize_status,
)

RULE = PalmaresRule()


def test_status_needs_both_probability_and_tau_best_membership():
    p = pd.Series([0.9, 0.6, 0.6, 0.3, 0.05, 0.95], index=list("abcdef"))
    in_set = pd.Series([True, True, False, True, True, False], index=list("abcdef"))
    status = prize_status(p, in_set, RULE, size=4)
    assert status.to_dict() == {
        "a": LAUREATE,
        "b": LAUREATE,
        "c": "",
        "d": MENTION,
        "e": "",
        "f": "",
    }


def test_a_class_awards_fewer_prizes_when_fewer_qualify_and_never_more_than_size():
    p = pd.Series([0.45, 0.4, 0.2], index=list("abc"))
    status = prize_status(p, pd.Series(True, index=p.index), RULE, size=4)
    assert (status == LAUREATE).sum() == 0 and (status == MENTION).sum() == 3
    loose = PalmaresRule(laureate_min_probability=0.1, mention_min_probability=0.05)
    p = pd.Series([0.5, 0.4, 0.3, 0.2, 0.15], index=list("abcde"))
    status = prize_status(p, pd.Series(True, index=p.index), loose, size=4)
    assert list(status) == [LAUREATE] * 4 + [MENTION]


def test_ex_aequo_groups_are_connected_components_of_overlapping_sets():
    lower = pd.Series([1, 1, 3, 6, 7], index=list("abcde"))
    upper = pd.Series([2, 4, 5, 6, 9], index=list("abcde"))
    # a–b overlap, b–c overlap (chain), d alone, e alone
    assert ex_aequo_groups(lower, upper).tolist() == [1, 1, 1, 2, 3]


def test_decide_class_lists_ex_aequo_laureates_alphabetically_then_mentions_by_probability():
    table = pd.DataFrame(
        {
            "nom": ["Zutkerque", "Albi", "Metz", "Brest", "Caen"],
            "p_top": [0.9, 0.7, 0.2, 0.12, 0.05],
            "in_tau_best": [True, True, True, True, True],
            "cs_lower": [1, 1, 2, 2, 3],
            "cs_upper": [3, 4, 9, 12, 20],
        }
    )
    decided = decide_class(table, RULE, size=4)
    assert decided["nom"].tolist() == ["Albi", "Zutkerque", "Metz", "Brest", "Caen"]
    assert decided["status"].tolist() == [LAUREATE, LAUREATE, MENTION, MENTION, ""]
    assert decided["ex_aequo_group"].tolist() == [1, 1, 0, 0, 0]
    summary = awards_summary(decided.assign(population_class="Village"), ["Village"], 4)
    assert summary.iloc[0].to_dict() == {
        "population_class": "Village",
        "eligible": 5,
        "laureates": 2,
        "mentions": 2,
        "ex_aequo_groups": 1,
        "prizes_not_awarded": 2,
    }


def test_rule_rejects_a_mention_threshold_above_the_laureate_one():
    with pytest.raises(ValueError, match="mention_min_probability"):
        PalmaresRule(laureate_min_probability=0.3, mention_min_probability=0.4)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=1, max_size=30),
    st.integers(1, 6),
)
def test_every_laureate_meets_the_rule(rows, size):
    index = [f"u{i}" for i in range(len(rows))]
    p = pd.Series([r[0] for r in rows], index=index)
    in_set = pd.Series([r[1] for r in rows], index=index)
    status = prize_status(p, in_set, RULE, size)
    laureates = status == LAUREATE
    assert laureates.sum() <= size
    assert (p[laureates] >= RULE.laureate_min_probability).all() and in_set[laureates].all()
    assert in_set[status == MENTION].all()
    assert (p[status == MENTION] >= RULE.mention_min_probability).all()


def test_the_optional_bound_on_the_rank_set_turns_wide_laureates_into_mentions():
    table = pd.DataFrame(
        {
            "nom": ["Albi", "Brest", "Caen"],
            "p_top": [0.9, 0.8, 0.3],
            "in_tau_best": [True, True, True],
            "cs_lower": [1, 1, 2],
            "cs_upper": [3, 40, 30],
        }
    )
    strict = PalmaresRule(max_rank_upper=8)
    decided = decide_class(table, strict, size=4).set_index("nom")
    assert decided["status"].to_dict() == {"Albi": LAUREATE, "Brest": MENTION, "Caen": MENTION}
    assert decide_class(table, RULE, size=4).set_index("nom").loc["Brest", "status"] == LAUREATE


def test_the_bound_relative_to_the_class_scales_with_its_size():
    """Villages: a rank set of 1–1 885 in a class of 2 044 is no evidence of being among the
    best; a métropole's 3–8 in a class of 11 passes the absolute floor of 8."""
    rule = PalmaresRule(max_rank_upper=8, max_rank_upper_share=0.10)
    assert rule.rank_bound(2044) == 205 and rule.rank_bound(11) == 8 and rule.rank_bound(349) == 35
    assert PalmaresRule(max_rank_upper_share=0.10).rank_bound(10) == 1
    assert PalmaresRule().rank_bound(100) is None
    villages = pd.DataFrame(
        {
            "nom": ["Autrans", "Ézy", "Reichstett"],
            "p_top": [0.63, 0.55, 0.40],
            "in_tau_best": [True, True, True],
            "cs_lower": [1, 1, 1],
            "cs_upper": [1885, 2019, 2044],
        }
    )
    big = pd.concat([villages] + [villages.assign(nom=f"v{i}", p_top=0.0) for i in range(700)])
    decided = decide_class(big.reset_index(drop=True), rule, size=4)
    assert (decided["status"] == LAUREATE).sum() == 0
    assert set(decided.loc[decided["status"] == MENTION, "nom"]) == {"Autrans", "Ézy", "Reichstett"}
