"""The chapter's exports: the frames (engagement, fields, associations, contrats de ville) and
their data dictionary, written as CSV and XLSX (:func:`barometre.publish.exports.export_table`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from barometre.qpv.chapter.compute import QpvProfile

EXPORT_DOCS_SPEC: dict[str, tuple[str, str, str, str]] = {
    # column: (title, unit, definition, number format)
    "measure": (
        "Mesure",
        "code",
        "Code de l'indicateur du baromètre (config/indicators.yml).",
        "@",
    ),
    "label": ("Libellé", "texte", "Nom de la mesure.", "@"),
    "observed_with": (
        "Communes avec QPV, taux observé",
        "pour 1 000 habitants",
        "Total de la mesure dans les communes avec QPV du territoire rapporté à leur population (classes comparées).",
        "0.00",
    ),
    "observed_comparison": (
        "Comparaison, taux observé",
        "pour 1 000 habitants",
        "Taux observé de la comparaison standardisée.",
        "0.00",
    ),
    "observed_ratio": (
        "Rapport observé",
        "rapport",
        "Taux observés : communes avec QPV divisé par comparaison.",
        "0.00",
    ),
    "rate_with": (
        "Communes avec QPV, estimation",
        "pour 1 000 habitants",
        "Médiane a posteriori (modèles de comptage du palmarès) du taux du groupe des communes du territoire comptant au moins un QPV : total de la mesure rapporté à leur population (classes sans commune de comparaison exclues).",
        "0.00",
    ),
    "lower_with": (
        "Communes avec QPV, borne basse",
        "pour 1 000 habitants",
        "Borne basse de l'intervalle de crédibilité (tirages a posteriori des modèles de comptage du palmarès).",
        "0.00",
    ),
    "upper_with": (
        "Communes avec QPV, borne haute",
        "pour 1 000 habitants",
        "Borne haute de l'intervalle de crédibilité.",
        "0.00",
    ),
    "rate_without": (
        "Communes sans QPV du territoire",
        "pour 1 000 habitants",
        "Taux des communes du territoire sans QPV (toutes classes).",
        "0.00",
    ),
    "rate_comparison": (
        "Comparaison, estimation",
        "pour 1 000 habitants",
        "Médiane a posteriori du taux des communes sans QPV de la même classe de population dans la région, chaque classe pondérée par la population des communes avec QPV (standardisation directe).",
        "0.00",
    ),
    "lower_comparison": (
        "Comparaison, borne basse",
        "pour 1 000 habitants",
        "Borne basse de l'intervalle de crédibilité du taux de comparaison.",
        "0.00",
    ),
    "upper_comparison": (
        "Comparaison, borne haute",
        "pour 1 000 habitants",
        "Borne haute de l'intervalle de crédibilité du taux de comparaison.",
        "0.00",
    ),
    "ratio": (
        "Rapport, estimation",
        "rapport",
        "Médiane a posteriori du rapport : taux des communes avec QPV divisé par le taux de comparaison (mêmes tirages conjoints).",
        "0.00",
    ),
    "ratio_lower": (
        "Rapport, borne basse",
        "rapport",
        "Borne basse de l'intervalle de crédibilité du rapport (mêmes tirages conjoints).",
        "0.00",
    ),
    "ratio_upper": (
        "Rapport, borne haute",
        "rapport",
        "Borne haute de l'intervalle de crédibilité du rapport.",
        "0.00",
    ),
    "p_higher": (
        "Probabilité d'un taux supérieur",
        "probabilité",
        "Part des tirages a posteriori où le taux des communes avec QPV dépasse celui de la comparaison.",
        "0.00",
    ),
    "withheld": (
        "Secret statistique",
        "oui/non",
        "Valeurs retenues : le comptage de personnes sous-jacent est inférieur au seuil de diffusion, ou le permettrait de retrouver.",
        "@",
    ),
    "field": (
        "Domaine d'action",
        "texte",
        "Domaine de la nomenclature WALDEC du RNA (objet social principal, niveau parent).",
        "@",
    ),
    "active_with": (
        "Associations actives, communes avec QPV",
        "associations",
        "Associations en activité (position A) créées au plus tard l'année de données, dont le siège est dans une commune avec QPV du territoire.",
        "#,##0",
    ),
    "per_1000_with": (
        "Associations pour 1 000 habitants, communes avec QPV",
        "pour 1 000 habitants",
        "Associations actives rapportées à la population des communes avec QPV des classes comparées.",
        "0.00",
    ),
    "share_with": (
        "Part des associations",
        "%",
        "Part du domaine parmi les associations actives des communes avec QPV.",
        "0.0",
    ),
    "created_with": (
        "Créées dans l'année, communes avec QPV",
        "associations",
        "Associations créées l'année de données (date de création au RNA) dans les communes avec QPV.",
        "#,##0",
    ),
    "per_1000_comparison": (
        "Associations pour 1 000 habitants, comparaison",
        "pour 1 000 habitants",
        "Même taux dans les communes de comparaison (même classe, sans QPV, région), standardisé.",
        "0.00",
    ),
    "name": ("Association", "texte", "Titre de l'association au RNA (donnée publique).", "@"),
    "commune": ("Commune", "texte", "Commune du siège de l'association.", "@"),
    "epci": ("EPCI", "texte", "Intercommunalité signataire du contrat de ville.", "@"),
    "code_cv": (
        "Contrat de ville (2015)",
        "code",
        "Code du contrat de ville de la génération 2015 porté par l'EPCI (ANCT).",
        "@",
    ),
    "communes_with_qpv": (
        "Communes avec QPV",
        "communes",
        "Communes de l'EPCI (dans le territoire) comptant au moins un QPV.",
        "#,##0",
    ),
    "population_with_qpv": (
        "Population des communes avec QPV",
        "habitants",
        "Population légale des communes avec QPV de l'EPCI.",
        "#,##0",
    ),
    "pop_qpv_2015": (
        "Population des QPV (2015)",
        "habitants",
        "Habitants des QPV du contrat de ville, génération 2015 (ANCT) : ordre de grandeur réel, hors liste fournie.",
        "#,##0",
    ),
    "qpv_codes": (
        "Codes des QPV",
        "codes",
        "Codes des quartiers prioritaires qui touchent la commune, séparés par « ; ».",
        "@",
    ),
    "qpv_names": (
        "Noms des QPV",
        "texte",
        "Noms des quartiers prioritaires qui touchent la commune.",
        "@",
    ),
    "n_qpv_total": (
        "QPV",
        "quartiers",
        "Quartiers prioritaires qui touchent les communes de l'EPCI.",
        "0",
    ),
}


def export_docs(columns: Sequence[str], meta: Mapping[str, Any]) -> dict[str, Any]:
    """Data-dictionary entries of the chapter's export columns (and the per-measure rate
    columns ``<measure>_per_1000`` of the contracts table, documented by the indicators)."""
    from barometre.publish.exports import ColumnDoc

    docs = {c: ColumnDoc(*EXPORT_DOCS_SPEC[c]) for c in columns if c in EXPORT_DOCS_SPEC}
    return docs


def export_frames(profile: QpvProfile) -> dict[str, pd.DataFrame | None]:
    """The chapter's export tables by file name (``engagement``, ``domaines``,
    ``associations``, ``contrats``); ``None`` for the fields and associations when the RNA is
    not at hand. The contracts' measure columns become ``<code>_per_1000`` and their QPV count
    ``n_qpv_total``."""
    creations = profile.creations
    return {
        "engagement": profile.engagement,
        "domaines": profile.fields,
        "associations": creations[["field", "name", "commune", "code_commune"]]
        if creations is not None
        else None,
        "contrats": profile.contracts.rename(
            columns={
                "n_qpv": "n_qpv_total",
                **{m.code: f"{m.code}_per_1000" for m in profile.measures},
            }
        ),
    }


def write_chapter_exports(
    profile: QpvProfile, meta: Mapping[str, Any], stem: Path, readme: Sequence[tuple[str, str]]
) -> dict[str, Path]:
    """Write ``<stem>-<name>.csv|xlsx`` for each frame of :func:`export_frames`; returns the
    paths by role ``qpv_<name>_<csv|xlsx>``."""
    from barometre.publish.exports import export_table

    written: dict[str, Path] = {}
    for name, frame in export_frames(profile).items():
        if frame is None:
            continue
        docs = export_docs(list(frame.columns), meta)
        files = export_table(
            frame,
            meta,
            Path(f"{stem}-{name}"),
            readme,
            sheet_name=name.capitalize(),
            extra_docs=docs,
        )
        written.update({f"qpv_{name}_{kind}": path for kind, path in files.items()})
    return written
