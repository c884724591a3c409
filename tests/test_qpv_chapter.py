"""Unit tests of the « Politique de la ville » chapter's pure pieces
(:mod:`barometre.qpv.chapter.text`, :mod:`barometre.qpv.chapter.exports`,
:func:`barometre.qpv.chapter.territory_codes`) on a hand-made profile: exact text, no build."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from barometre.qpv import profile as qp
from barometre.qpv.chapter import (
    QpvProfile,
    chapter_markdown,
    chapter_variables,
    creations_digest,
    engagement_sentence,
    export_frames,
    territory_codes,
)

NBSP = "\u00a0"
MEASURES = [
    qp.Measure(
        "rna_creations", "rna_creations", "Créations d'associations", "m1", short="créations"
    ),
    qp.Measure("ha_campaigns", "ha_campaigns", "Campagnes HelloAsso", "m2", short="campagnes"),
    qp.Measure("jva_matches", "jva_matches", "Mises en relation", "m3", short="missions"),
    qp.Measure("ha_participants", "ha_participants", "Participants", "m4", short="participants"),
]


def engagement(withheld_last: bool = True) -> pd.DataFrame:
    """Four measures: lower than the comparison, higher, unclear, withheld."""
    return pd.DataFrame(
        {
            "measure": [m.code for m in MEASURES],
            "label": [m.label for m in MEASURES],
            "rate_with": [1.0, 4.0, 2.0, np.nan],
            "lower_with": [0.5, 3.0, 1.0, np.nan],
            "upper_with": [1.5, 5.0, 3.0, np.nan],
            "rate_comparison": [2.0, 2.0, 2.0, np.nan],
            "lower_comparison": [1.5, 1.5, 1.5, np.nan],
            "upper_comparison": [2.5, 2.5, 2.5, np.nan],
            "ratio": [0.5, 2.0, 1.0, np.nan],
            "ratio_lower": [0.3, 1.5, 0.6, np.nan],
            "ratio_upper": [0.8, 3.0, 1.4, np.nan],
            "rate_without": [3.0, 3.0, 3.0, np.nan],
            "withheld": [False, False, False, withheld_last],
        }
    )


def make_profile(**changes: object) -> QpvProfile:
    reconciliation = pd.DataFrame(
        {
            "population_class": ["Village", "Ville", "Ensemble"],
            "communes": [10, 2, 12],
            "with_qpv": [0, 2, 2],
            "without_qpv": [10, 0, 10],
            "population_with_qpv": [0, 30_000, 30_000],
            "share_population_with_qpv": [0.0, 100.0, 75.0],
        }
    )
    contracts = pd.DataFrame(
        {
            "epci": ["CA Une", "Ensemble"],
            "n_qpv": [3, 3],
            "communes_with_qpv": [2, 2],
            **{m.code: [1.0, 1.0] for m in MEASURES},
        }
    )
    values: dict[str, object] = {
        "qpv": SimpleNamespace(
            path=Path("liste_qpv_2024.csv"), synthetic=False, n_qpv=9, rows_quarantined=0
        ),
        "territory": pd.DataFrame(),
        "reconciliation": reconciliation,
        "engagement": engagement(),
        "compared_classes": ["Ville"],
        "left_out_classes": [],
        "class_rates": pd.DataFrame(),
        "fields": None,
        "creations": None,
        "contracts": contracts,
        "region_names": ["Hauts-de-France"],
        "measures": MEASURES,
        "national_classes": [],
        "qpv_in_territory": 3,
        "data_year": 2023,
        "credible": 0.9,
    }
    values.update(changes)
    return QpvProfile(**values)  # type: ignore[arg-type]


def test_engagement_sentence_names_each_direction() -> None:
    assert engagement_sentence(make_profile()) == (
        "Les communes avec QPV sont en retrait de la comparaison pour les créations (rapport 0,50) ; "
        "elles la dépassent pour les campagnes (rapport 2,00) : l'intervalle du rapport exclut 1. "
        "Pour l'autre mesure, l'intervalle contient 1 : l'écart n'est pas établi."
    )
    unclear = make_profile(engagement=engagement().iloc[[2]])
    assert engagement_sentence(unclear) == (
        "Pour la mesure, l'intervalle contient 1 : l'écart n'est pas établi."
    )
    assert engagement_sentence(make_profile(engagement=engagement().iloc[[3]])) == ""


def test_creations_digest_merges_namesakes_and_shows_every_field() -> None:
    creations = pd.DataFrame(
        {
            "field": ["Sport"] * 4 + ["Culture"] * 2 + ["Social"],
            "name": ["Club", "Club", "Judo", "Tennis", "Chorale", "Théâtre", "Entraide"],
            "commune": ["A", "A", "B", "A", "A", "B", "A"],
        }
    )
    digest = creations_digest(creations, limit=4)
    # 3 fields, 4 lines: one per field (4 // 3), the largest field first
    assert digest.to_dict("list") == {
        "field": ["Sport", "Culture", "Social"],
        "name": ["Club", "Chorale", "Entraide"],
        "commune": ["A", "A", "A"],
        "count": [2, 1, 1],
    }
    assert creations_digest(creations, limit=6)["count"].tolist() == [2, 1, 1, 1, 1]


def test_chapter_variables_are_text() -> None:
    variables = chapter_variables(make_profile(), {"qpv_engagement_csv": Path("e.csv")})
    assert variables == {
        "provided": "oui",
        "synthetic": "non",
        "list_qpv": "9",
        "quartiers": "3",
        "communes": "2",
        "communes_without": "10",
        "population_share": f"75{NBSP}%",
        "contracts": "1",
        "ratios": {
            "rna_creations": "0,50 [0,30 ; 0,80]",
            "ha_campaigns": "2,00 [1,50 ; 3,00]",
            "jva_matches": "1,00 [0,60 ; 1,40]",
        },
        "paths": {"qpv_engagement_csv": "e.csv"},
    }


def test_export_frames_rename_and_skip_missing() -> None:
    frames = export_frames(make_profile())
    assert frames["domaines"] is None and frames["associations"] is None
    assert list(frames["contrats"].columns) == [
        "epci",
        "n_qpv_total",
        "communes_with_qpv",
        *[f"{m.code}_per_1000" for m in MEASURES],
    ]
    creations = pd.DataFrame(
        {"field": ["Sport"], "name": ["Club"], "commune": ["A"], "code_commune": ["1"], "x": [1]}
    )
    associations = export_frames(make_profile(creations=creations))["associations"]
    assert list(associations.columns) == ["field", "name", "commune", "code_commune"]


def test_chapter_markdown_sections() -> None:
    text = chapter_markdown(make_profile(), "epci-1", "Source : démo.")
    assert text.endswith(":::\n") and not text.endswith("\n\n")
    assert "- **3** quartiers prioritaires" in text
    assert "- **2** communes avec QPV" in text
    assert "- **1** intercommunalité signataire" in text
    assert "| 0,50 \\[0,30 ; 0,80\\] " in text  # brackets escaped for Markdown
    assert "| Participants                  | secret " in text  # the withheld measure
    assert "« secret » : le nombre de personnes en jeu est trop faible" in text
    assert "Le fichier du Répertoire national des associations n'est pas disponible" in text
    assert "Liste non disponible (fichier du RNA absent)." in text
    assert "(ANCT, QPV 2024). Population des QPV 2015" in text and text.count("démo.") == 1
    assert text.index("## L'engagement") < text.index("figures/qpv_map.png") < text.index("## Qui")
    empty = chapter_markdown(
        make_profile(engagement=engagement().iloc[0:0], creations=pd.DataFrame(columns=["field"])),
        "epci-1",
        "Source : démo.",
    )
    assert "n'existe dans la région : la comparaison n'est pas calculée." in empty
    assert "Aucune association créée en 2023 n'a son siège" in empty
    assert "« secret »" not in empty


@pytest.mark.parametrize(
    ("kind", "codes", "expected"),
    [
        ("region", ("32",), {"a", "b", "c"}),
        ("departement", ("60",), {"a", "b"}),
        ("epci", ("e2",), {"c"}),
        ("contrat", ("e1",), {"a", "b"}),
        ("communes", ("a", "z"), {"a", "z"}),
    ],
)
def test_territory_codes_by_kind(kind: str, codes: tuple[str, ...], expected: set[str]) -> None:
    reference = pd.DataFrame(
        {
            "code_commune": ["a", "b", "c", "d"],
            "code_region": ["32", "32", "32", "11"],
            "code_departement": ["60", "60", "80", "75"],
            "code_epci": ["e1", "e1", "e2", "e3"],
        }
    )
    assert territory_codes(kind, codes, reference) == expected


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"engagement": engagement().iloc[0:0]},
        {"creations": pd.DataFrame(columns=["field", "name", "commune"])},
    ],
)
def test_every_heading_and_the_map_start_a_block(changes: dict[str, object]) -> None:
    """Pandoc reads ``## …`` or an image as a heading or a figure only after a blank line: the
    one-line messages (no comparison, no RNA file, no creation) must end with one."""
    lines = chapter_markdown(make_profile(**changes), "epci-1", "Source : démo.").splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(("## ", "![", "::: {"))]
    assert len(starts) >= 8
    assert all(lines[i - 1] == "" for i in starts if i > 0)
