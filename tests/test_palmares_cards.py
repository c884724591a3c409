"""The palmarès pages: laureate fact sheets in correct French, nothing disclosive on them."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barometre.publish.cards import (
    awards_sentence,
    class_intro,
    cluster_summary,
    fact_table,
    laureate_card,
    mentions_sentence,
    rate_unit,
)
from barometre.publish.french import Noun

MISSION = Noun("mission", "missions", feminine=True)


def readers_candidates(n: int, text: str) -> set[int]:
    """Every size of the largest unit a reader who knows the count ``n`` and reads ``text``
    cannot exclude: all (units, largest) pairs that print the same text."""
    sizes = set()
    for k in range(1, n + 1):
        for m in range(math.ceil(n / k), n - k + 2):
            if cluster_summary(n, k, m, MISSION, "la plus demandée en réunit") == text:
                sizes.add(m)
    return sizes


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_cluster_summary_never_pins_the_largest_unit(data):
    n = data.draw(st.integers(min_value=11, max_value=45))
    k = data.draw(st.integers(min_value=1, max_value=n))
    m = data.draw(st.integers(min_value=math.ceil(n / k), max_value=n - k + 1))
    text = cluster_summary(n, k, m, MISSION, "la plus demandée en réunit")
    assert text is not None
    if k == 1:
        assert text == "sur une seule mission"  # the whole count, which is published
    else:
        assert len(readers_candidates(n, text)) >= 2, text


@given(st.integers(min_value=0, max_value=10), st.integers(min_value=1, max_value=10))
def test_no_cluster_summary_for_a_suppressed_count(n, k):
    assert cluster_summary(n, min(k, max(n, 1)), 1, MISSION, "la plus demandée") is None


def test_cluster_summary_wording():
    best = "la plus demandée en réunit"
    assert cluster_summary(986, 1, 986, MISSION, best) == "sur une seule mission"
    assert (
        cluster_summary(400, 40, 30, MISSION, best)
        == "sur 40\u00a0missions ; la plus demandée en réunit moins du quart"
    )
    assert (
        cluster_summary(400, 3, 300, MISSION, best)
        == "sur 3\u00a0missions ; la plus demandée en réunit les trois quarts ou plus"
    )
    assert (
        cluster_summary(
            400,
            3,
            300,
            Noun("association", "associations", True),
            "la plus active en a lancé",
            preposition="par",
        )
        == "par 3\u00a0associations ; la plus active en a lancé les trois quarts ou plus"
    )
    # 250 campaigns by 126 organisations: the largest has 2 to 125; the band [½, ¾) would hold
    # only 125, so it is merged with its neighbour
    assert (
        cluster_summary(250, 126, 125, MISSION, best)
        == "sur 126\u00a0missions ; la plus demandée en réunit du quart aux trois quarts"
    )
    assert (
        cluster_summary(250, 126, 10, MISSION, best)
        == "sur 126\u00a0missions ; la plus demandée en réunit moins du quart"
    )
    # 12 matches in 11 missions: the largest has 2 — the exact number of missions would say it
    assert cluster_summary(12, 11, 2, MISSION, best) == "sur plusieurs missions"
    assert cluster_summary(float("nan"), 3, 2, MISSION, best) is None


def test_rate_unit():
    assert rate_unit("associations pour 1 000 habitants") == "pour 1 000 habitants"
    assert rate_unit("mises en relation pour 1 000 habitants") == "pour 1 000 habitants"
    assert rate_unit("participants par campagne") == "par campagne"
    assert (
        rate_unit("participants par campagne pour 1 000 habitants")
        == "par campagne pour 1 000 habitants"
    )


def test_class_sentences():
    assert class_intro("moins de 5 000 habitants", 2929) == (
        "La classe réunit les communes de moins de 5 000 habitants ; 2\u202f929 sont éligibles et classées."
    )
    assert class_intro("de 5 000 à 19 999 habitants", 1).startswith(
        "La classe réunit les communes de 5 000"
    )
    assert "une seule est éligible" in class_intro("de 5 000 à 19 999 habitants", 1)
    assert (
        awards_sentence(0, 0, 4, "50 %")
        == "La classe ne décerne aucun prix : aucune commune n'y est éligible."
    )
    assert awards_sentence(100, 4, 4, "50 %") == "La classe décerne ses 4\u00a0prix."
    assert awards_sentence(100, 1, 4, "50 %").startswith(
        "La classe décerne 1\u00a0prix sur 4 : une seule commune atteint"
    )
    assert awards_sentence(100, 3, 4, "50 %").startswith(
        "La classe décerne 3\u00a0prix sur 4 : seules 3 communes atteignent"
    )
    assert awards_sentence(100, 0, 4, "50 %").startswith(
        "La classe ne décerne aucun prix : aucune commune n'atteint"
    )
    bounded = awards_sentence(2044, 0, 4, "50 %", 205)
    assert bounded.startswith("La classe ne décerne aucun prix : aucune commune n'atteint")
    assert "s'arrête au 205" in bounded and bounded.endswith("rang au plus.")
    one = pd.DataFrame({"nom": ["Thilouze"], "p_top": [0.49]})
    assert mentions_sentence(one, 4).startswith("1\u00a0commune reçoit une mention")
    assert mentions_sentence(pd.concat([one, one]), 4).startswith(
        "2\u00a0communes reçoivent une mention"
    )


META = {
    "indicators": [
        {
            "code": "rna_creations",
            "count": "rna_creations",
            "short": "créations d'associations",
            "unit": "associations pour 1 000 habitants",
        },
        {
            "code": "ha_participants",
            "count": "ha_participants",
            "short": "participants aux campagnes",
            "unit": "participants pour 1 000 habitants",
        },
        {
            "code": "ha_participants_per_campaign",
            "short": "participants par campagne",
            "unit": "participants par campagne",
        },
        {
            "code": "jva_matches",
            "count": "jva_matches",
            "short": "mises en relation de bénévoles",
            "unit": "mises en relation pour 1 000 habitants",
        },
    ]
}


def _inputs(rna, participants, matches, clusters=4, largest=3):
    counts = pd.DataFrame(
        {
            "rna_creations": [rna],
            "ha_participants": [participants],
            "jva_matches": [matches],
            "ha_participants_clusters": [clusters],
            "ha_participants_cluster_max": [largest],
            "jva_matches_clusters": [clusters],
            "jva_matches_cluster_max": [largest],
        },
        index=pd.Index(["01001"], name="code_commune"),
    )
    rates = pd.DataFrame(
        [
            ("01001", code, 1.23456, 1.0, 1.5)
            for code in (
                "rna_creations",
                "ha_participants",
                "ha_participants_per_campaign",
                "jva_matches",
            )
        ],
        columns=["code_commune", "indicator", "posterior_mean", "lower", "upper"],
    ).set_index(["code_commune", "indicator"])
    return counts, rates


def _row(**kw):
    base = {
        "nom": "Circourt",
        "code_commune": "01001",
        "sentence": "Circourt se distingue notamment par x",
        "population": 1234,
        "p_top": 0.67,
        "rank_median": 3.0,
        "rank_p05": 1.0,
        "rank_p95": 30.6,
        "rank_in_class": 1,
        "cs_lower": 1,
        "cs_upper": 42,
    }
    base.update(kw)
    return SimpleNamespace(**base)


def _card(rna, participants, matches, **kw):
    counts, rates = _inputs(rna, participants, matches)
    return laureate_card(
        _row(**kw),
        "Ain, 01",
        META,
        counts,
        rates,
        data_year=2023,
        top_k=4,
        n_runs="10 000",
        interval="90 %",
        credible="90 %",
        simultaneous="90 %",
        tied=False,
    )


def test_card_reads_as_sentences_and_hides_small_counts():
    card = _card(float("nan"), 7, 120)
    assert card.startswith("### Circourt (Ain, 01)")
    text = card.split("\n\n")[1]
    # every sentence has a verb
    for sentence in filter(None, (s.strip() for s in text.split(". "))):
        assert any(
            v in sentence
            for v in (
                " se distingue",
                " compte ",
                " figure ",
                " est ",
                " se situe",
                " n'est pas connu",
                " occupe",
            )
        ), sentence
    assert "La commune compte 1\u202f234\u00a0habitants." in text
    assert "Le nombre de créations d'associations n'est pas connu dans cette commune" in text
    assert "sur 100" not in card and "rang national" not in card and "n.d." not in card
    table = card.split("\n\n")[2]
    participants = next(
        line for line in table.splitlines() if line.startswith("| Participants aux")
    )
    assert "moins de 11" in participants and "7" not in participants.replace("moins de 11", "")
    assert "non publié" in participants
    # the ratio derived from the suppressed count is withheld too
    ratio = next(line for line in table.splitlines() if line.startswith("| Participants par"))
    assert "non publié" in ratio
    matches = next(line for line in table.splitlines() if line.startswith("| Mises en relation"))
    assert "120" in matches and "sur 4\u00a0missions ; la plus demandée en réunit" in matches
    assert "bénévoles" not in text


def test_card_single_rank_interval_and_zero_count():
    card = _card(0, 50, 0, rank_p05=1.0, rank_p95=1.0, rank_median=1.0, cs_lower=1, cs_upper=1)
    assert "elle occupe le 1^er^ rang" in card
    assert "son rang est le 1^er^" in card
    assert "0 associations" not in card and "n.d." not in card


def test_fact_table_units_are_the_indicators_own():
    counts, rates = _inputs(3, 40, 200)
    table = fact_table("01001", META, counts, rates, 2023, "90 %")
    assert "pour 10 000" not in table
    # the common unit in the header, once; the other unit in its own cell
    assert (
        table.count("pour 1 000 habitants") == 1
        and "Taux pour 1 000 habitants sauf mention (intervalle à 90 %)" in table
    )
    assert "1,23 par campagne (1,00 à 1,50)" in table


@pytest.mark.parametrize("count", [1, 5, 10])
def test_small_counts_never_appear_exactly(count):
    card = _card(2, count, count)
    for line in card.splitlines():
        if line.startswith(("| Participants aux", "| Mises en relation")):
            assert "moins de 11" in line and f"| {count} " not in line


def test_distinction_sentence_has_a_verb_and_can_withhold_its_figure():
    from barometre.palmares import distinction_sentence

    ratio = {"distinction": "l'audience de ses campagnes ({value} participants par campagne)"}
    assert distinction_sentence("Circourt", ratio, "9,7", 2023) == (
        "Circourt se distingue notamment par l'audience de ses campagnes (9,7 participants par campagne)"
    )
    # a ratio of a suppressed count of people: the parenthesis that would quote it is dropped
    assert distinction_sentence("Circourt", ratio, None, 2023) == (
        "Circourt se distingue notamment par l'audience de ses campagnes"
    )


def test_a_share_of_scenarios_is_never_rounded_to_all_or_none():
    from barometre.publish.cards import share_of_runs

    assert share_of_runs(0.9992) == "plus de 99\u00a0%"
    assert share_of_runs(1.0) == "100\u00a0%"
    assert share_of_runs(0.0004) == "moins de 1\u00a0%"
    assert share_of_runs(0.0) == "0\u00a0%"
    assert share_of_runs(0.634) == "63\u00a0%"
