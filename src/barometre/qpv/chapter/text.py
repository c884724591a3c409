"""The chapter's French text: the Markdown of ``tables/qpv.md`` (:func:`chapter_markdown`, one
function per section) and the chapter's report variables (:func:`chapter_variables`), built from a
:class:`~barometre.qpv.chapter.compute.QpvProfile`. Every function returns text or a mapping;
none writes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from barometre.publish.fmt import (
    dataframe_to_markdown,
    escape_markdown,
    fr_count,
    fr_list,
    fr_number,
    fr_percent,
)
from barometre.qpv import profile as qp
from barometre.qpv.chapter.compute import N_DRAWS, QpvProfile
from barometre.qpv.chapter.tables import (
    class_rates_markdown,
    contracts_markdown,
    engagement_markdown,
    reconciliation_markdown,
    with_interval,
)

#: Associations created in the year listed in the report (all of them in the export).
MAX_LISTED_CREATIONS = 24


def _key(value: int, singular: str, plural: str) -> str:
    """A key-figure line: the number in bold, then its noun (singular for 0 and 1)."""
    return f"- **{fr_number(value)}** {singular if value < 2 else plural}"


def _short(profile: QpvProfile, code: str) -> str:
    return next(m.short or m.label.lower() for m in profile.measures if m.code == code)


def engagement_sentence(profile: QpvProfile) -> str:
    """The reading of the engagement table in one or two French sentences (computed)."""
    shown = profile.engagement[~profile.engagement["withheld"]]
    if shown.empty:
        return ""
    higher = shown[shown["ratio_lower"] > 1]
    lower = shown[shown["ratio_upper"] < 1]

    def listing(rows: pd.DataFrame) -> str:
        return fr_list(
            f"les {escape_markdown(_short(profile, r.measure))} (rapport {fr_number(r.ratio, 2)})"
            for r in rows.itertuples()
        )

    parts = []
    if len(lower):
        parts.append(f"sont en retrait de la comparaison pour {listing(lower)}")
    if len(higher):
        parts.append(
            f"dépassent la comparaison pour {listing(higher)}"
            if not parts
            else f"la dépassent pour {listing(higher)}"
        )
    text = ""
    if parts:
        text = (
            "Les communes avec QPV "
            + " ; elles ".join(parts)
            + " : l'intervalle du rapport exclut 1."
        )
    unclear = len(shown) - len(higher) - len(lower)
    if unclear:
        if text:
            subject = (
                "l'autre mesure" if unclear == 1 else f"les {fr_number(unclear)} autres mesures"
            )
        else:
            subject = "la mesure" if unclear == 1 else f"les {fr_number(unclear)} mesures"
        text += (
            " " if text else ""
        ) + f"Pour {subject}, l'intervalle contient 1 : l'écart n'est pas établi."
    return text


def creations_digest(creations: pd.DataFrame, limit: int) -> pd.DataFrame:
    """At most ``limit`` lines of the creations list for the report: identical (field, name,
    commune) rows merged with their ``count``, then the fields taken in turn (largest first), a
    few lines each, so that every field shows up."""
    merged = (
        creations.groupby(["field", "name", "commune"], as_index=False)
        .size()
        .rename(columns={"size": "count"})
    )
    order = creations["field"].value_counts().index
    per_field = max(1, limit // max(len(order), 1))
    parts = [
        merged[merged["field"] == f]
        .sort_values(["count", "commune", "name"], ascending=[False, True, True])
        .head(per_field)
        for f in order
    ]
    return pd.concat(parts, ignore_index=True).head(limit) if parts else merged.head(0)


def _intro_lines(profile: QpvProfile) -> list[str]:
    """The list used, the key figures, what « avec QPV » means and the reconciliation table."""
    rec = profile.reconciliation.set_index("population_class")
    total = rec.loc["Ensemble"]
    synthetic = profile.qpv.synthetic
    return [
        (
            f"La liste des quartiers prioritaires utilisée ({escape_markdown(profile.qpv.path.name)}"
            + (
                ", **liste synthétique de démonstration** au format officiel de l'ANCT"
                if synthetic
                else ", format officiel de l'ANCT"
            )
            + f") compte {fr_count(profile.qpv.n_qpv, 'quartier')}"
            + (
                f" ({fr_count(profile.qpv.rows_quarantined, 'ligne écartée', 'lignes écartées')} à la lecture)"
                if profile.qpv.rows_quarantined
                else ""
            )
            + f". {fr_count(profile.qpv_in_territory, 'quartier touche', 'quartiers touchent')} le territoire : "
            f"{fr_count(int(total['with_qpv']), 'commune compte', 'communes comptent')} au moins un QPV, sur "
            f"{fr_number(int(total['communes']))} communes ; elles réunissent {fr_number(int(total['population_with_qpv']))} habitants, "
            f"{fr_percent(total['share_population_with_qpv'], 0)} de la population du territoire."
        ),
        "",
        "::: {.key-figures}",
        _key(profile.qpv_in_territory, "quartier prioritaire", "quartiers prioritaires"),
        _key(int(total["with_qpv"]), "commune avec QPV", "communes avec QPV"),
        f"- **{fr_percent(total['share_population_with_qpv'], 0)}** de la population dans "
        + ("cette commune" if int(total["with_qpv"]) == 1 else "ces communes"),
        _key(
            len(profile.contracts) - 1,
            "intercommunalité signataire",
            "intercommunalités signataires",
        ),
        ":::",
        "",
        (
            "Une commune compte comme « avec QPV » si au moins un quartier la touche (un quartier "
            "intercommunal compte pour chacune de ses communes). Les chiffres de ce chapitre portent sur "
            "les communes entières : les sources situent une association ou une mission à la commune, pas "
            "au quartier."
        ),
        "",
        "## Communes avec et sans quartier prioritaire",
        "",
        reconciliation_markdown(profile),
        "",
        "::: {.source}",
        (
            "Toutes les communes du territoire présentes dans la table communale de l'édition, classées ou "
            "non au palmarès : avec QPV + sans QPV = ensemble."
        ),
        ":::",
        "",
        "## L'engagement dans les communes avec QPV",
        "",
    ]


def comparison_paragraph(profile: QpvProfile) -> str:
    """How the comparison is made: the region(s), the classes compared in France or left out,
    the draws and the credible level."""
    level = fr_percent(profile.credible * 100, 0)
    region = " et ".join(profile.region_names)
    compared = set(profile.compared_classes)
    national = [c for c in profile.national_classes if c in compared]
    return (
        f"Chaque mesure est rapportée à la population. La **comparaison** réunit les communes "
        f"sans QPV de la même classe de population en {escape_markdown(region)}"
        + (
            f" (en France pour {fr_list(c.lower() for c in national)}, faute de {qp.MIN_COMPARISON} communes comparables dans la région)"
            if national
            else ""
        )
        + ", chaque classe pesant autant que dans les communes avec QPV : l'écart ne tient donc pas à la "
        "taille des communes. Les taux sont les estimations du modèle de comptage du palmarès (médiane "
        f"de {fr_number(N_DRAWS)} tirages conjoints de toutes les communes), entre crochets leur intervalle "
        f"de crédibilité à {level} ; le rapport divise le taux des communes avec QPV par celui de la comparaison."
        + (
            f" Classes laissées de côté, faute de {qp.MIN_COMPARISON} communes de comparaison : {fr_list(c.lower() for c in profile.left_out_classes)}."
            if profile.left_out_classes
            else ""
        )
    )


def _engagement_lines(profile: QpvProfile) -> list[str]:
    """The engagement section: comparison, table, reading, secret note, rates by class."""
    engagement = profile.engagement
    if engagement.empty:
        return [
            "Aucune commune de comparaison (même classe de population, sans QPV) n'existe dans la région : la comparaison n'est pas calculée.",
            "",
        ]
    lines = [
        comparison_paragraph(profile),
        "",
        "::: {.small}",
        engagement_markdown(engagement),
        ":::",
        "",
        engagement_sentence(profile),
        "",
    ]
    if engagement["withheld"].any():
        lines += [
            "::: {.source}",
            "« secret » : le nombre de personnes en jeu est trop faible pour être diffusé, ou se déduirait des autres chiffres publiés.",
            ":::",
            "",
        ]
    if not profile.class_rates.empty:
        lines += [
            "Par classe de population, dans le territoire (taux pour 1 000 habitants) :",
            "",
            "::: {.small}",
            class_rates_markdown(profile),
            ":::",
            "",
        ]
    return lines


def _fields_lines(profile: QpvProfile) -> list[str]:
    """Who acts: the active associations of the communes with QPV by field of action."""
    year = profile.data_year
    lines: list[str] = []
    fields = profile.fields
    if fields is None:
        lines += [
            "Le fichier du Répertoire national des associations n'est pas disponible pour cette analyse : les domaines d'action ne sont pas calculés.",
            "",
        ]
    else:
        top = fields[fields["field"] != "Toutes"].head(1)
        lines += [
            (
                f"Associations en activité fin {year} dont le siège est dans une commune avec QPV, par domaine "
                "d'action (nomenclature WALDEC du Répertoire national des associations, objet social principal). "
                "Les taux pour 1 000 habitants portent sur les classes comparées, face aux communes de comparaison."
                + (
                    f" Premier domaine : {escape_markdown(top['field'].iloc[0].lower())} ({fr_percent(top['share_with'].iloc[0], 0)} des associations)."
                    if len(top)
                    else ""
                )
            ),
            "",
            "::: {.small}",
            dataframe_to_markdown(
                pd.DataFrame(
                    {
                        "Domaine d'action": fields["field"].map(escape_markdown),
                        "Associations actives": fields["active_with"],
                        "Part": fields["share_with"],
                        "Pour 1 000 hab.": fields["per_1000_with"],
                        "Comparaison, pour 1 000 hab.": fields["per_1000_comparison"],
                        f"Créées en {year}": fields["created_with"],
                    }
                ),
                formats={
                    "Associations actives": fr_number,
                    "Part": lambda v: fr_percent(v, 0),
                    "Pour 1 000 hab.": lambda v: fr_number(v, 2),
                    "Comparaison, pour 1 000 hab.": lambda v: fr_number(v, 2),
                    f"Créées en {year}": fr_number,
                },
                align={
                    c: "right"
                    for c in (
                        "Associations actives",
                        "Part",
                        "Pour 1 000 hab.",
                        "Comparaison, pour 1 000 hab.",
                        f"Créées en {year}",
                    )
                },
            ).rstrip(),
            ":::",
            "",
        ]
    return lines


def _creations_lines(profile: QpvProfile, slug: str) -> list[str]:
    """The associations created in the year in the communes with QPV (a digest; the export
    ``exports/territoire-<slug>-qpv-associations.csv`` holds them all)."""
    year = profile.data_year
    lines: list[str] = []
    creations = profile.creations
    lines += [f"## Les associations créées en {year} dans les communes avec QPV", ""]
    if creations is None:
        lines += ["Liste non disponible (fichier du RNA absent).", ""]
    elif creations.empty:
        lines += [
            f"Aucune association créée en {year} n'a son siège dans une commune avec QPV du territoire.",
            "",
        ]
    else:
        listed = creations_digest(creations, MAX_LISTED_CREATIONS)
        lines += [
            (
                f"{fr_count(len(creations), 'association créée', 'associations créées')} en {year} "
                f"{'a son' if len(creations) < 2 else 'ont leur'} siège dans une commune avec QPV (données publiques du RNA : nom, "
                "domaine, commune ; aucune personne n'est nommée)."
                + (
                    f" Le tableau en donne {fr_number(int(listed['count'].sum()))}, quelques-unes par domaine (les homonymes d'une "
                    f"commune sur une ligne) ; l'export `exports/territoire-{slug}-qpv-associations.csv` les donne toutes."
                    if int(listed["count"].sum()) < len(creations)
                    else ""
                )
            ),
            "",
            "::: {.small}",
            dataframe_to_markdown(
                pd.DataFrame(
                    {
                        "Domaine": listed["field"].map(escape_markdown),
                        "Association": listed["name"].map(escape_markdown),
                        "Commune": listed["commune"].map(escape_markdown),
                        "Nombre": listed["count"],
                    }
                ),
                formats={"Nombre": fr_number},
                align={"Nombre": "right"},
            ).rstrip(),
            ":::",
            "",
        ]
    return lines


def _contracts_lines(profile: QpvProfile, source: str) -> list[str]:
    """The contrats de ville table and the chapter's sources."""
    synthetic = profile.qpv.synthetic
    lines: list[str] = []
    lines += [
        "## Les contrats de ville",
        "",
        (
            "Par intercommunalité signataire d'un contrat de ville : ses quartiers, ses communes avec QPV et "
            "leur engagement (pour 1 000 habitants), à lire face à la dernière ligne, l'ensemble des communes "
            "avec QPV du territoire. La population des QPV de la génération 2015 (ANCT) donne l'ordre de "
            "grandeur réel de chaque contrat."
        ),
        "",
        "::: {.small}",
        contracts_markdown(profile),
        ":::",
        "",
        "::: {.source}",
        (
            "Quartiers : liste fournie"
            + (
                " (synthétique, tirée par le générateur de démonstration sur des ordres de grandeur publiés : 1 362 QPV en France "
                "métropolitaine, 204 en Hauts-de-France)"
                if synthetic
                else " (ANCT, QPV 2024)"
            )
            + ". Population des QPV 2015 : ANCT, contrats de ville (Licence Ouverte). Engagement : "
            + source.split(" : ", 1)[-1]
        ),
        ":::",
    ]
    return lines


#: The chapter's map (:func:`~barometre.qpv.chapter.writer.figure_qpv_map`), between the
#: engagement and the associations.
MAP_FIGURE = "![Communes avec quartier prioritaire, colorées selon la position de leur score Cités Vives dans leur classe de population.](figures/qpv_map.png){#fig-qpv-map width=92%}"


def chapter_markdown(profile: QpvProfile, slug: str, source: str) -> str:
    """The chapter's Markdown (``tables/qpv.md``, included by ``report/territoire.qmd``);
    ``slug`` names the exports, ``source`` is the report's source note."""
    lines = [
        *_intro_lines(profile),
        *_engagement_lines(profile),
        MAP_FIGURE,
        "",
        "## Qui agit : les associations par domaine",
        "",
        *_fields_lines(profile),
        *_creations_lines(profile, slug),
        *_contracts_lines(profile, source),
    ]
    return "\n".join(lines).rstrip() + "\n"


def chapter_variables(profile: QpvProfile, written: Mapping[str, Path]) -> dict[str, Any]:
    """The chapter's report variables (``qpv`` block of ``_variables.yml``), with the paths of
    the ``written`` exports under ``paths``."""
    engagement = profile.engagement
    total = profile.reconciliation.set_index("population_class").loc["Ensemble"]
    synthetic = profile.qpv.synthetic
    contracts = profile.contracts
    shown = engagement[~engagement["withheld"]] if not engagement.empty else engagement
    variables: dict[str, Any] = {
        "provided": "oui",
        "synthetic": "oui" if synthetic else "non",
        "list_qpv": fr_number(profile.qpv.n_qpv),
        "quartiers": fr_number(profile.qpv_in_territory),
        "communes": fr_number(int(total["with_qpv"])),
        "communes_without": fr_number(int(total["without_qpv"])),
        "population_share": fr_percent(total["share_population_with_qpv"], 0),
        "contracts": fr_number(len(contracts) - 1),
        "ratios": {
            r.measure: with_interval(r.ratio, r.ratio_lower, r.ratio_upper)
            for r in shown.itertuples()
        },
        "paths": {k: str(v) for k, v in written.items()},
    }
    return variables
