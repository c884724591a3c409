"""Themes of a consultation (issue 15): keywords first, the declared lexicon otherwise, the
unclassified share reported."""

from __future__ import annotations

import pandas as pd
import pytest

from barometre.consultation.themes import (
    LEXICON,
    UNCLASSIFIED,
    assign_themes,
    keyword_themes,
    lexicon_table,
    lexicon_themes,
    normalise,
    theme_table,
)


@pytest.mark.parametrize(
    ("text", "themes"),
    [
        ("Il faut plus de pistes cyclables et de bus la nuit", ["mobilité"]),
        ("Il faut planter des arbres dans les cours d'école", ["environnement", "éducation et jeunesse"]),
        ("Il faut que la métropole agisse parce que c'est urgent", []),  # not « metro », not « parc »
        ("Il faut des parcs et de l'ombre", ["environnement", "propreté et cadre de vie"]),
        ("Il faut encadrer les LOYERS", ["logement"]),
        ("Il faut rouvrir les médiathèques le dimanche", ["culture"]),
        ("Il faut des médecins généralistes dans chaque quartier", ["santé"]),
        ("Il faut du bonheur", []),
    ],
)  # fmt: skip
def test_lexicon(text: str, themes: list[str]) -> None:
    assert lexicon_themes(text) == themes


def test_normalise() -> None:
    assert normalise("L'Œuvre d'Éloïse — vélo-école !") == "l oeuvre d eloise velo ecole"


def test_keywords_through_the_lexicon_or_kept() -> None:
    assert keyword_themes("environnement|mobilite") == ["environnement", "mobilité"]
    assert keyword_themes("Numérique| |mobilité|transports") == ["numerique", "mobilité"]
    assert keyword_themes("") == []


def test_assign_and_table() -> None:
    proposals = pd.DataFrame({
        "id": ["a", "b", "c", "d"],
        "keywords": ["logement", "", "", "sport|culture"],
        "content": ["Il faut des arbres", "Il faut des arbres", "Il faut du bonheur", "Il faut X"],
    })  # fmt: skip
    assigned = assign_themes(proposals)
    assert assigned.to_dict("records") == [
        {"id": "a", "theme": "logement", "source": "keywords"},  # keywords win over the text
        {"id": "b", "theme": "environnement", "source": "lexicon"},
        {"id": "c", "theme": UNCLASSIFIED, "source": "none"},
        {"id": "d", "theme": "sport", "source": "keywords"},
        {"id": "d", "theme": "culture", "source": "keywords"},
    ]
    scored = pd.DataFrame({"id": list("abcd"), "n_votes": [10, 20, 30, 40],
                           "zone": ["consensus", "limbo", "consensus", "rejection"],
                           "p_consensus": [0.9, 0.1, 0.6, 0.0]})  # fmt: skip
    table = theme_table(assigned, scored).set_index("theme")
    assert table.index[-1] == UNCLASSIFIED
    assert (
        table.loc["sport", "share_proposals"] == 0.25 and table.loc["sport", "share_votes"] == 0.4
    )
    assert table.loc[UNCLASSIFIED, "proposals"] == 1 and table.loc[UNCLASSIFIED, "votes"] == 30
    assert (
        table.loc["logement", "consensus"] == 1
        and table.loc["logement", "expected_consensus"] == 0.9
    )
    # Every proposal is counted at least once; multi-theme proposals more than once.
    assert assigned["id"].nunique() == len(proposals) and table["proposals"].sum() == 5


def test_lexicon_is_declared() -> None:
    table = lexicon_table()
    assert list(table["theme"]) == list(LEXICON)
    assert {"logement", "mobilité", "sécurité", "santé", "environnement", "accès aux droits",
            "lien social", "culture", "sport", "commerce et économie de proximité"} <= set(LEXICON)  # fmt: skip
    for stems in LEXICON.values():
        assert all(normalise(s.rstrip("$")) == s.rstrip("$") for s in stems)
