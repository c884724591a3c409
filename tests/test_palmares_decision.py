"""The decided palmarès: rank evidence per class, award, departmental palmarès, eligibility by
information and score reliability (exact values on hand-made tables)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from barometre.composite import load_spec
from barometre.config import PalmaresRule
from barometre.indicators import effective_indicator_weights, score_reliability
from barometre.palmares import award, decided_departmental_palmares, rank_evidence
from barometre.results import information_band
from barometre.smallarea import EligibilityRules, apply_eligibility

RULE = PalmaresRule()


def sampling_table() -> pd.DataFrame:
    # class A: two communes far ahead (tiny errors) then a pack; class B: everyone tied in noise
    rows = [("a1", "A", 90.0, 0.1), ("a2", "A", 80.0, 0.1)]
    rows += [(f"a{i}", "A", 50.0 - i * 0.01, 5.0) for i in range(3, 30)]
    rows += [(f"b{i}", "B", 50.0 + i * 0.01, 20.0) for i in range(20)]
    frame = pd.DataFrame(rows, columns=["code_commune", "population_class", "score", "score_se"])
    return frame.set_index("code_commune")


def test_rank_evidence_separates_clear_leaders_from_noise():
    evidence = rank_evidence(
        sampling_table(), ["A", "B"], size=2, rule=RULE, rng=np.random.default_rng(1)
    )
    a = evidence.loc[[f"a{i}" for i in [1, 2] + list(range(3, 30))]]
    # the two clear leaders are the only members of class A's τ-best set, with singleton ranks
    assert a.index[a["in_tau_best"]].tolist() == ["a1", "a2"]
    assert (evidence.loc["a1", "cs_lower"], evidence.loc["a1", "cs_upper"]) == (1, 1)
    assert (evidence.loc["a2", "cs_lower"], evidence.loc["a2", "cs_upper"]) == (2, 2)
    # class B is pure noise: every commune may be among the best two
    b = evidence.loc[[f"b{i}" for i in range(20)]]
    assert b["in_tau_best"].all()
    assert (b["cs_lower"].dropna() == 1).all()


def test_award_gives_prizes_only_where_the_evidence_holds():
    sampling = sampling_table()
    results = sampling[["population_class"]].assign(nom=sampling.index.str.upper())
    p_top = pd.Series(0.01, index=sampling.index)
    p_top[["a1", "a2"]] = [0.99, 0.97]
    p_top[["b1", "b2"]] = [0.6, 0.3]  # b1 passes the probability but b is all noise
    uncertainty = pd.DataFrame(
        {"p_top": p_top, "rank_median": 1.0, "rank_p05": 1.0, "rank_p95": 3.0}
    )
    evidence = rank_evidence(sampling, ["A", "B"], size=2, rule=RULE, rng=np.random.default_rng(1))
    decided = award(results, uncertainty, evidence, ["A", "B"], size=2, rule=RULE)
    laureates = decided[decided["status"] == "Lauréat"]
    assert laureates.index.tolist() == ["a1", "a2", "b1"]
    assert decided.loc["b2", "status"] == "Mention"
    # a1 and a2 have disjoint simultaneous sets: two groups, not ex aequo
    assert decided.loc[["a1", "a2"], "ex_aequo_group"].tolist() == [1, 2]


def test_departmental_palmares_applies_the_same_rule():
    communes = pd.DataFrame(
        {
            "code_commune": ["d1", "d2", "d3", "e1", "e2"],
            "nom": ["Delta", "Alpha", "Charlie", "Echo", "Bravo"],
            "code_departement": ["01", "01", "01", "02", "02"],
            "population_class": "Village",
            "population": 1000,
            "score": [90.0, 80.0, 10.0, 50.0, 49.0],
        }
    )
    sampling = communes.set_index("code_commune")[["score"]].assign(
        score_se=[0.1, 0.1, 0.1, 30.0, 30.0]
    )
    p_top = pd.Series({"d1": 1.0, "d2": 1.0, "d3": 0.0, "e1": 0.55, "e2": 0.45})
    table = decided_departmental_palmares(
        communes, p_top, sampling, 2, RULE, np.random.default_rng(3)
    )
    assert table[["code_departement", "nom", "status"]].values.tolist() == [
        ["01", "Alpha", "Lauréat"],
        ["01", "Delta", "Lauréat"],  # laureates alphabetically
        ["02", "Echo", "Lauréat"],
        ["02", "Bravo", "Mention"],
    ]


def test_information_and_reliability_rules_reconcile():
    table = pd.DataFrame(
        {
            "population_class": ["V", "V", "V", "V", "T"],
            "population": [0, 150, 800, 900, 9000],
            "rna": [0, 9, 1, 4, 20],
            "missions": [0, 0, 1, np.nan, 3],
            "score_reliability": [np.nan, 0.9, 0.8, 0.2, 0.7],
        }
    )
    rules = EligibilityRules.model_validate(
        {
            "order": ["population", "information", "reliability"],
            "min_population": 200,
            "min_information": {"columns": ["rna", "missions"], "minimum": 2},
            "min_reliability": {"minimum": 0.3},
        }
    )
    result = apply_eligibility(table, rules, class_order=["V", "T"])
    assert result.removed_by.tolist() == ["population", "population", None, "reliability", None]
    report = result.report
    assert report.loc["V"].to_dict() == {
        "total": 4,
        "removed_population": 2,
        "removed_information": 0,
        "removed_reliability": 1,
        "eligible": 1,
    }
    assert report.loc["Total", "total"] == 5 == report.loc["Total"].drop("total").sum()


def test_effective_weights_and_score_reliability_exact():
    spec = load_spec("config/index/barometre.yml")
    weights = effective_indicator_weights(spec)
    assert weights == pytest.approx(
        {
            "rna_creations": 1 / 6,
            "ha_new_organizations": 1 / 6,
            "ha_campaigns": 1 / 9,
            "ha_participants": 1 / 9,
            "ha_participants_per_campaign": 1 / 9,
            "jva_matches": 1 / 3,
        }
    )
    data = pd.DataFrame({"x": [0.2, np.nan], "y": [0.8, 0.5]})
    rel = score_reliability(data, {"x": 1.0, "y": 3.0})
    assert rel.tolist() == pytest.approx([(0.2 + 2.4) / 4, 0.5])


def test_information_bands_never_give_the_exact_number():
    assert information_band(pd.Series([0, 1, 4, 5, 40, np.nan])).tolist() == [
        "aucune",
        "1 à 4",
        "1 à 4",
        "5 ou plus",
        "5 ou plus",
        "n.d.",
    ]
