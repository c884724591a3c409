"""Constants, labels and the table record shared by the report's computations and writers."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from barometre.publish import PALETTE
from barometre.publish.fmt import dataframe_to_markdown
from barometre.publish.french import Noun

ACCENT = PALETTE["primary"]
HIGHLIGHT = PALETTE["accent"]
TINT = PALETTE["primary-tint"]
MUTED = PALETTE["muted"]
CREATION = Noun("création", "créations", feminine=True)
LAUREATE = Noun("commune lauréate", "communes lauréates", feminine=True)
SOBOL_CLIP_NOTE = (
    "Un indice de Sobol est positif ou nul : une estimation négative, due au bruit de "
    "l'estimateur, est affichée comme 0,00, et son intervalle de confiance à 95 % (bootstrap) "
    "est borné à 0."
)
MENTION = Noun("mention", "mentions", feminine=True)
DEMO_MARK = "Données de démonstration synthétiques"
SOURCE_NOTE = {
    True: "Source : données de démonstration synthétiques (générateur du projet), populations légales INSEE.",
    False: "Sources : RNA (data.gouv.fr), HelloAsso, JeVeuxAider.gouv.fr, populations légales INSEE.",
}

#: Captions of the numbered tables of the report (« Tableau N – … »), by partial name; a
#: partial not listed is printed without number (e.g. the software versions).
TABLE_CAPTIONS = {
    "classes": "Classes de population : communes classées et score médian.",
    "indicators": "Critères, indicateurs, unités et sources.",
    "eligibility": "Communes écartées du classement, par règle d'éligibilité et par classe.",
    "count_model": "Modèle de comptage : paramètres estimés par indicateur.",
    "count_model_calibration": "Calibration du modèle de comptage sur simulation.",
    "shrinkage_weights": "Poids médian de la prévision du modèle dans le taux classé (le complément est le poids des données de la commune).",
    "rates_effect": "Effet du modèle de comptage sur le palmarès (taux classés ou taux bruts).",
    "methods_comparison": "Ce que change l'autre méthode, classe par classe.",
    "treatment": "Traitement des valeurs extrêmes, par indicateur.",
    "correlations": "Corrélations de chaque élément avec son parent et avec le score.",
    "cronbach": "Cohérence interne des critères (alpha de Cronbach).",
    "pca": "Part de variance du premier axe de l'analyse en composantes principales.",
    "weight_removal": "Sensibilité à la pondération : retrait de chaque élément.",
    "rank_sets": "Ensembles de confiance des rangs des premières communes.",
    "robustness_laureates": "Robustesse des premières communes de chaque classe.",
    "robustness_classes": "Robustesse du classement, par classe.",
    "robustness_split": "Part de la variance due à l'aléa d'échantillonnage et aux choix de méthode.",
    "robustness_sobol": "Indices de Sobol' des hypothèses de construction.",
    "match_report": "Rattachement des enregistrements des sources aux communes.",
    "inputs": "Empreintes des fichiers d'entrée.",
}


def lower_first(text: str) -> str:
    """First letter in lower case (a title inside a sentence or after « Critère : »)."""
    return text[:1].lower() + text[1:]


def slug(text: str) -> str:
    """ASCII identifier of a label ("Petite ville" → "petite_ville")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")


def table_caption(name: str, class_labels: list[str]) -> str | None:
    """Caption of the report's table partial ``name`` (None: an unnumbered table)."""
    for label in class_labels:
        if name == f"palmares_{slug(label)}":
            return f"Palmarès : {label}."
    return TABLE_CAPTIONS.get(name)


def table_label(name: str) -> str:
    """Cross-reference label of a table partial: ``tbl-`` and the name (``tbl-count-model``)."""
    return "tbl-" + name.replace("_", "-")


def right(*columns: str) -> dict[str, str]:
    """Right alignment for ``columns`` (the ``align`` argument of a :class:`Table`)."""
    return {c: "right" for c in columns}


@dataclass(frozen=True)
class Table:
    """A table of the report before it is written: the cells (``frame``), a formatter per
    column (``formats``: value → French text) and alignments (``align``), as
    :func:`barometre.publish.fmt.dataframe_to_markdown` takes them; ``note`` is a paragraph
    printed under the table, if any."""

    frame: pd.DataFrame
    formats: Mapping[str, Callable[[Any], str]] = field(default_factory=dict)
    align: Mapping[str, str] = field(default_factory=dict)
    note: str | None = None

    def markdown(self, caption: str | None = None, label: str | None = None) -> str:
        """The pipe table (with its caption and label, if given), then the note."""
        kwargs: dict[str, Any] = {}
        if caption is not None:
            kwargs = {"caption": caption, "label": label}
        text = dataframe_to_markdown(
            self.frame, formats=self.formats or None, align=self.align or None, **kwargs
        )
        return text + ("\n" + self.note if self.note else "")

    def cells(self) -> list[list[str]]:
        """The formatted cells, row by row (missing values are ``n.d.``): what a reader sees."""
        text = dataframe_to_markdown(
            self.frame, formats=self.formats or None, align=self.align or None
        )
        lines = text.splitlines()[2:]
        return [[c.strip() for c in line.strip("|").split(" | ")] for line in lines]
