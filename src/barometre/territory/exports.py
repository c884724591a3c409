"""The territorial report's exports: one row per ranked commune of the territory, written as
CSV and XLSX with a README sheet and a data dictionary (:func:`barometre.publish.exports.export_table`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from barometre.config import EditionConfig
from barometre.qpv.chapter import export_docs
from barometre.territory.scope import Territory
from barometre.territory.text import DEMO_MARK

#: The QPV columns added to the export when a QPV list is given.
QPV_COLUMNS = ["has_qpv", "n_qpv", "qpv_codes", "qpv_names"]


def export_columns(
    meta: Mapping[str, Any], criteria: Sequence[str], has_intervals: bool, has_qpv: bool
) -> list[str]:
    """The export's columns, in order: identification, indicators (counts then rates),
    criteria, score and ranks (rank interval when computed), laureate flag, QPV columns."""
    indicators = meta["indicators"]
    rate_columns = [f"{i['code']}_per_1000" for i in indicators]
    return [
        "code_commune",
        "nom",
        "code_departement",
        "nom_departement",
        "code_region",
        "code_epci",
        "nom_epci",
        "population",
        "population_class",
        *[i["code"] for i in indicators],
        *rate_columns,
        *criteria,
        "score",
        "rank_in_class",
        "class_size",
        "percentile_in_class",
        "rank_national",
        *(["rank_p05", "rank_p95"] if has_intervals else []),
        "laureate",
        *(QPV_COLUMNS if has_qpv else []),
    ]


def export_frame(
    selected: pd.DataFrame,
    columns: Sequence[str],
    departements: pd.Series,
    epci_names: pd.Series,
) -> pd.DataFrame:
    """The export rows: ``selected`` with département and EPCI names (by code) and the
    position in class as ``percentile_in_class``, reduced to ``columns``, by commune code."""
    return (
        selected.assign(
            nom_departement=selected["code_departement"].map(departements),
            nom_epci=selected["code_epci"].map(epci_names),
            percentile_in_class=selected["position"],
        )[list(columns)]
        .sort_values("code_commune")
        .reset_index(drop=True)
    )


def readme_common(config: EditionConfig, demo: bool, source: str) -> list[tuple[str, str]]:
    """The README lines every export of the report shares (edition, data, sources, dictionary);
    the « Politique de la ville » exports use them after their own « Fichier » line."""
    return [
        (
            "Édition",
            f"Activité {config.data_year}, géographie communale COG {config.cog_year}, populations légales INSEE millésime {config.population_year}.",
        ),
        (
            "Données",
            DEMO_MARK + " : ne pas diffuser comme résultats réels."
            if demo
            else "Données réelles de l'édition.",
        ),
        ("Sources", source),
        ("Dictionnaire", "La feuille « Dictionnaire » définit chaque colonne."),
    ]


def export_readme(
    place: Territory, config: EditionConfig, demo: bool, source: str
) -> list[tuple[str, str]]:
    """The README sheet of the communes export."""
    return [
        (
            "Fichier",
            f"Analyse territoriale — {place.name} ({place.kind_label.lower()}), baromètre de l'engagement citoyen {config.edition}.",
        ),
        (
            "Contenu",
            "Une ligne par commune classée du territoire : indicateurs, score, rangs dans la classe de population (rangs nationaux).",
        ),
        *readme_common(config, demo, source)[:3],
        (
            "Dictionnaire",
            "La feuille « Dictionnaire » définit chaque colonne (titre, unité, définition issue des métadonnées des indicateurs).",
        ),
        (
            "CSV",
            "Le fichier CSV jumeau est en UTF-8, séparateur virgule, décimales avec un point ; les codes sont du texte.",
        ),
    ]


def write_communes_export(
    export: pd.DataFrame,
    meta: Mapping[str, Any],
    stem: Path,
    readme: Sequence[tuple[str, str]],
    has_qpv: bool,
) -> dict[str, Path]:
    """Write ``<stem>.csv`` and ``<stem>.xlsx`` (README, data, dictionary; the QPV columns
    documented by the chapter's dictionary); returns them by role (``csv``, ``xlsx``)."""
    from barometre.publish.exports import export_table

    return export_table(
        export,
        meta,
        stem,
        list(readme),
        extra_docs=export_docs(["qpv_codes", "qpv_names"], meta) if has_qpv else None,
    )
