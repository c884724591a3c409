"""Year-over-year comparison and departmental palmarès on hand-made tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from barometre.palmares import departmental_palmares
from barometre.yoy import laureate_changes, rank_changes


def results(rows):
    return pd.DataFrame(
        rows,
        columns=["code_commune", "nom", "code_departement", "population_class", "rank_in_class"],
    )


def test_rank_changes_on_the_current_geography():
    previous = results(
        [
            (
                "75101",
                "Paris 1er",
                "75",
                "Métropole",
                3,
            ),  # an arrondissement code: harmonised to 75056
            ("01001", "L'Abergement", "01", "Village", 10),
            ("01004", "Ambérieu", "01", "Petite ville", 2),
        ]
    )
    current = results(
        [
            ("75056", "Paris", "75", "Métropole", 1),
            ("01001", "L'Abergement", "01", "Village", 4),
            ("01004", "Ambérieu", "01", "Ville moyenne", 1),
            ("01002", "L'Abergement-de-Varey", "01", "Village", 7),
        ]
    )
    out = rank_changes(current, previous, cog_year=2024).set_index("code_commune")
    assert out.loc["75056", "rank_change"] == 2
    assert out.loc["01001", "rank_change"] == 6
    assert np.isnan(out.loc["01004", "rank_change"]) and out.loc["01004", "changed_class"]
    assert "01002" not in out.index  # absent last edition


def test_laureates_retained_new_and_left():
    previous = results([("a", "A", "01", "Village", 1), ("b", "B", "01", "Village", 2)])
    current = results([("b", "B", "01", "Village", 1), ("c", "C", "01", "Village", 2)])
    out = laureate_changes(current, previous, cog_year=2024, class_labels=["Village"])
    assert dict(zip(out["code_commune"], out["status"])) == {
        "b": "retained",
        "c": "new",
        "a": "left",
    }


def test_departmental_palmares_keeps_ties_and_sorts():
    communes = pd.DataFrame(
        {
            "code_commune": ["1", "2", "3", "4", "5", "6"],
            "nom": list("ABCDEF"),
            "code_departement": ["01", "01", "01", "01", "02", "02"],
            "population_class": ["Village"] * 6,
            "population": [10] * 6,
            "score": [50.0, 70.0, 60.0, 60.0, np.nan, 10.0],
        }
    )
    out = departmental_palmares(communes, size=2)
    assert out[["code_departement", "rank_in_departement", "code_commune"]].values.tolist() == [
        ["01", 1, "2"],
        ["01", 2, "3"],
        ["01", 2, "4"],
        ["02", 1, "6"],
    ]
