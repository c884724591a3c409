"""Unit tests of the territorial report's pure pieces (:mod:`barometre.territory.compute`,
:mod:`barometre.territory.text`, :mod:`barometre.territory.exports`) on small hand-made frames:
exact values, no build, no file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from barometre.territory import Territory, analyse_territory
from barometre.territory.compute import (
    add_positions,
    best_commune,
    communes_listing,
    laureate_codes,
    local_palmares,
    measure_columns,
    position_measures,
    short_titles,
    territory_communes,
    top_per_class,
    withheld_rates,
)
from barometre.territory.exports import export_columns, export_frame
from barometre.territory.text import (
    communes_note,
    demo_mark_markdown,
    intervals_note,
    key_variables,
    laureates_markdown,
    no_qpv_note,
    rates_markdown,
)

NBSP, NNBSP = "\u00a0", "\u202f"

META = {
    "indicators": [
        {
            "code": "rna_creations",
            "count": "rna_creations",
            "title": "Créations d'associations",
            "short": "créations d'associations",
            "definition": "Associations  créées\n dans l'année.",
        },
        {
            "code": "ha_participants",
            "count": "ha_participants",
            "title": "Participants HelloAsso",
            "short": "participants HelloAsso",
            "definition": "Participants.",
        },
    ],
    "criteria": [{"code": "vitality", "title": "Vitalité"}, {"code": "absent", "title": "Absent"}],
}


@pytest.fixture()
def communes() -> pd.DataFrame:
    """Two classes: four villages and two towns (ranks within class), with two counts."""
    return pd.DataFrame(
        {
            "code_commune": ["v1", "v2", "v3", "v4", "t1", "t2"],
            "nom": ["V1", "V2", "V3", "V4", "T1", "T2"],
            "code_departement": ["60"] * 6,
            "population_class": ["Village"] * 4 + ["Ville"] * 2,
            "population": [100, 200, 300, 400, 6_000, 7_000],
            "score": [40.0, 30.0, 20.0, 10.0, 60.0, 50.0],
            "rank_in_class": [1, 2, 3, 4, 1, 2],
            "class_size": [4, 4, 4, 4, 2, 2],
            "vitality": [1.0, 3.0, 2.0, np.nan, 5.0, 4.0],
            "rna_creations": [1.0, 0.0, 2.0, 1.0, 10.0, 20.0],
            "rna_creations_per_1000": [10.0, 0.0, 2.0 / 0.3, 2.5, 10.0 / 6, 20.0 / 7],
            "ha_participants": [3.0, 0.0, 40.0, 50.0, 200.0, 300.0],
            "ha_participants_per_1000": [30.0, 0.0, 40 / 0.3, 125.0, 200 / 6, 300 / 7],
        }
    )


def test_measure_columns_keep_present_criteria(communes: pd.DataFrame) -> None:
    assert measure_columns(META, list(communes.columns)) == (
        ["vitality"],
        ["rna_creations_per_1000", "ha_participants_per_1000"],
    )


def test_add_positions_over_france(communes: pd.DataFrame) -> None:
    out = add_positions(communes, ["vitality"], ["rna_creations_per_1000"])
    assert "position" not in communes.columns  # a copy
    assert out["position"].round(6).tolist() == [100.0, 66.666667, 33.333333, 0.0, 100.0, 0.0]
    # vitality: villages 1, 3, 2 (v4 missing) → 0, 100, 50; towns 5 > 4
    positions = out["position_vitality"].tolist()
    assert positions[:3] == [0.0, 100.0, 50.0] and np.isnan(positions[3])
    assert positions[4:] == [100.0, 0.0]
    # rates 10, 0, 6.67, 2.5 among the villages: ranks 4, 1, 3, 2 of 4
    assert out["position_rna_creations_per_1000"].tolist()[:4] == pytest.approx(
        [100.0, 0.0, 200 / 3, 100 / 3]
    )


def test_laureate_codes_with_and_without_status() -> None:
    palmares = pd.DataFrame(
        {"code_commune": ["a", "b", "c"], "status": ["Lauréat", "Mention", "Lauréat"]}
    )
    assert laureate_codes(palmares) == {"a", "c"}
    assert laureate_codes(palmares.drop(columns="status")) == {"a", "b", "c"}


def test_territory_communes_adds_epci_intervals_and_laureates(communes: pd.DataFrame) -> None:
    reference = pd.DataFrame(
        {
            "code_commune": ["v1", "v2", "v3", "v4", "t1", "t2"],
            "code_region": ["32"] * 6,
            "code_departement": ["60"] * 6,
            "code_epci": ["e1", "e1", "e2", "e2", "e1", "e2"],
        }
    )
    place = Territory("epci", ("e1",), "E1", "epci-e1", ("60",))
    intervals = pd.DataFrame({"code_commune": ["t1"], "rank_p05": [1.0], "rank_p95": [2.0]})
    selected = territory_communes(communes, place, reference, intervals, {"t1", "v3"})
    assert selected["code_commune"].tolist() == ["t1", "v1", "v2"]
    assert selected["code_epci"].tolist() == ["e1"] * 3
    assert selected["laureate"].tolist() == [True, False, False]
    assert selected["rank_p95"].iloc[0] == 2.0 and selected["rank_p95"].iloc[1:].isna().all()


def test_withheld_rates_protect_person_counts(communes: pd.DataFrame) -> None:
    rates = pd.DataFrame({"indicator": ["rna_creations", "ha_participants"]})
    # territory v1 + t1: participants 3 and 200 → the small cell 3 would come back from the total
    withheld, france = withheld_rates(rates, communes, communes.iloc[[0, 4]], META)
    assert withheld == [False, True]
    # France: the only small cell (3) comes back by difference too
    assert france == [False, True]
    # a territory without small cells keeps its rate; an RNA count is never withheld
    withheld, _ = withheld_rates(rates, communes, communes.iloc[[4, 5]], META)
    assert withheld == [False, False]
    # a small total is withheld (1 ≤ 3 < 11)
    withheld, _ = withheld_rates(rates, communes, communes.iloc[[0, 1]], META)
    assert withheld == [False, True]


def test_position_measures_and_short_titles() -> None:
    assert short_titles(META["indicators"]) == {
        "rna_creations_per_1000": "Créations d'associations",
        "ha_participants_per_1000": "Participants HelloAsso",
    }
    assert position_measures(META, ["vitality"], ["rna_creations_per_1000"]) == {
        "position": "Score Cités Vives",
        "position_vitality": "Critère : vitalité",
        "position_rna_creations_per_1000": "Créations d'associations",
    }


def test_top_listing_and_best(communes: pd.DataFrame) -> None:
    selected = add_positions(communes, [], [])
    top = top_per_class(selected, ["Village", "Ville"], n=2)
    assert top["code_commune"].tolist() == ["v1", "v2", "t1", "t2"]
    listing = communes_listing(selected, ["Village", "Ville"])
    assert (listing.total, listing.large) == (6, None)
    assert listing.shown["code_commune"].tolist() == ["t1", "t2", "v1", "v2", "v3", "v4"]
    short = communes_listing(selected, ["Village", "Ville"], max_listed=5)
    assert (short.total, short.large) == (6, 2)
    assert short.shown["code_commune"].tolist() == ["t1", "t2", "v1", "v2", "v3", "v4"]
    # v1 and t1 both at position 100: the most populous wins
    assert best_commune(selected)["code_commune"] == "t1"


def test_analyse_territory_end_to_end_on_a_small_frame(communes: pd.DataFrame) -> None:
    france = add_positions(communes, *measure_columns(META, list(communes.columns)))
    selected = france[france["code_commune"].isin(["v1", "v4", "t2"])].reset_index(drop=True)
    selected["laureate"] = selected["code_commune"].isin({"v1"})
    palmares = pd.DataFrame({"code_commune": ["v1", "t1"], "status": ["Lauréat", "Lauréat"]})
    analysis = analyse_territory(
        france, selected, palmares, META, ["Village", "Ville"], 1, has_intervals=False
    )
    assert analysis.laureates == ["v1"]
    assert analysis.local["code_commune"].tolist() == ["v1"]
    rates = analysis.rates.set_index("indicator")
    assert rates.loc["rna_creations", "territory"] == pytest.approx(22 / 7_500 * 1_000)
    assert rates.loc["rna_creations", "france"] == pytest.approx(34 / 14_000 * 1_000)
    assert analysis.withheld == [False, True]  # v1's 3 participants
    overall = analysis.comparison.iloc[-1]
    assert overall["communes"] == 3 and overall["laureates"] == 1
    assert overall["mean_position"] == pytest.approx((100 + 0 + 0) / 3)
    assert list(analysis.measures) == [
        "position",
        "position_vitality",
        "position_rna_creations_per_1000",
        "position_ha_participants_per_1000",
    ]
    assert analysis.positions.loc["position", "Village"] == 50.0
    assert analysis.positions.loc["position", "Ville"] == 0.0
    assert analysis.top["code_commune"].tolist() == ["v1", "v4", "t2"]
    assert analysis.listing.shown["code_commune"].tolist() == ["t2", "v1", "v4"]
    assert local_palmares(palmares, selected).index.tolist() == [0]


# --------------------------------------------------------------------------- text


def test_rates_markdown_marks_withheld_rates() -> None:
    rates = pd.DataFrame(
        {
            "indicator": ["rna_creations", "ha_participants"],
            "territory": [3.0, 12.5],
            "france": [2.0, 25.0],
            "unit": ["pour 1 000 habitants"] * 2,
        }
    )
    text = rates_markdown(rates, [False, True], [False, False], META)
    rows = [line for line in text.splitlines() if line.startswith("| Cré") or "HelloAsso" in line]
    assert "| 3,00 " in rows[0] and "| 2,00 " in rows[0] and f"+50{NBSP}%" in rows[0]
    assert "secret statistique" in rows[1] and "| 25,00 " in rows[1] and "| –" in rows[1]


def test_notes_are_exact() -> None:
    assert laureates_markdown(pd.DataFrame(), 2024, 10) == (
        "Aucune commune du territoire ne figure au palmarès national 2024."
    )
    assert intervals_note(False).startswith("Les intervalles de rang ne sont pas calculés")
    assert intervals_note(True).startswith("L'intervalle de rang contient le rang")
    listing = communes_listing(
        pd.DataFrame({"population_class": ["Village"] * 3, "rank_in_class": [3, 1, 2]}),
        ["Village"],
    )
    assert communes_note(listing) == (
        f"Les 3{NBSP}communes classées du territoire, par classe de population puis par rang."
    )
    assert no_qpv_note("epci:1", 2024).endswith(
        "`barometre territory epci:1 --edition 2024 --qpv-file liste_qpv_2024.csv`."
    )
    assert demo_mark_markdown(False) == ""
    assert demo_mark_markdown(True) == (
        "::: {.demo-mark}\nDonnées de démonstration synthétiques\n:::"
    )


def test_key_variables_protect_person_totals(communes: pd.DataFrame) -> None:
    france = add_positions(communes, [], [])
    selected = france.iloc[[0, 4]]
    comparison = pd.DataFrame({"mean_position": [100.0], "top_quarter": [100.0]})
    key = key_variables(france, selected, comparison, selected.iloc[:1], META)
    assert key["communes"] == "2" and key["population"] == f"6{NNBSP}100"
    assert key["population_share"] == f"43,6{NBSP}%"  # 6 100 / 14 000
    assert key["laureates_label"] == "commune au palmarès national"
    assert (key["best_name"], key["best_class"], key["best_rank"]) == ("T1", "ville", "1 / 2")
    assert key["rna_creations"] == "11"
    assert key["ha_participants"] == "au moins 201"  # 3 would come back from 203


def test_export_columns_and_frame(communes: pd.DataFrame) -> None:
    columns = export_columns(META, ["vitality"], has_intervals=True, has_qpv=True)
    assert columns[9:14] == [
        "rna_creations",
        "ha_participants",
        "rna_creations_per_1000",
        "ha_participants_per_1000",
        "vitality",
    ]
    assert columns[-7:] == [
        "rank_p05",
        "rank_p95",
        "laureate",
        "has_qpv",
        "n_qpv",
        "qpv_codes",
        "qpv_names",
    ]
    assert "rank_p05" not in export_columns(META, [], has_intervals=False, has_qpv=False)
    selected = (
        add_positions(communes, [], [])
        .iloc[[4, 0]]
        .assign(code_epci=["e1", "e9"], code_region="32", rank_national=[1, 2], laureate=False)
    )
    frame = export_frame(
        selected,
        ["code_commune", "nom_departement", "nom_epci", "percentile_in_class"],
        pd.Series({"60": "Oise"}),
        pd.Series({"e1": "CA E1"}),
    )
    assert frame["code_commune"].tolist() == ["t1", "v1"]
    assert frame["nom_departement"].tolist() == ["Oise", "Oise"]
    assert frame["nom_epci"].iloc[0] == "CA E1" and pd.isna(frame["nom_epci"].iloc[1])
    assert frame["percentile_in_class"].tolist() == [100.0, 100.0]
