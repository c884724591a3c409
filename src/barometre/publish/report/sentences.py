"""Sentences and Markdown paragraphs of the report pages, written from the edition config, the
indicator metadata and the build's tables (French typography, numbers computed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from barometre.config import EditionConfig, PalmaresRule
from barometre.publish.fmt import fr_list, fr_number, fr_percent
from barometre.publish.french import capitalise
from barometre.publish.report.common import DEMO_MARK, lower_first


def palmares_rule_sentence(config: EditionConfig, n_runs: int) -> str:
    """The decision rule of the palmarès in French, from the edition config."""
    rule, k = config.palmares_rule, config.palmares_size
    return (
        f"Une commune est lauréate lorsque sa probabilité d'être parmi les {k} premières de sa classe "
        f"— estimée sur {fr_number(n_runs)} scénarios qui combinent l'aléa d'échantillonnage des "
        f"comptages et les choix de méthode — atteint {fr_percent(rule.laureate_min_probability * 100, 0)} "
        f"et qu'elle appartient à l'ensemble des communes qui contient, avec une confiance de "
        f"{fr_percent(rule.tau_best_coverage * 100, 0)}, les {k} meilleures de la classe. Les autres "
        f"communes de cet ensemble dont la probabilité atteint "
        f"{fr_percent(rule.mention_min_probability * 100, 0)} reçoivent une mention. Une classe peut "
        f"donc décerner moins de {k} prix ; des lauréates dont les ensembles de confiance des rangs "
        f"({fr_percent(rule.simultaneous_coverage * 100, 0)}) se recouvrent sont ex aequo et citées "
        "par ordre alphabétique." + rank_bound_sentence(rule)
    )


def rank_bound_sentence(rule: PalmaresRule) -> str:
    """The optional bound on a laureate's rank set in French (empty when not applied)."""
    share, rank = rule.max_rank_upper_share, rule.max_rank_upper
    if share is None and rank is None:
        return ""
    if share is None:
        where = f"au {fr_number(rank)}e rang au plus"
    else:
        where = (
            f"dans les {fr_percent(share * 100, 0)} premières communes éligibles de sa classe"
            + (f" (ou au {fr_number(rank)}e rang si c'est plus loin)" if rank is not None else "")
        )
    return (
        " Une lauréate doit de plus avoir un ensemble de confiance simultané de son rang qui "
        f"s'arrête {where} : les données la placent alors parmi les meilleures de sa classe, "
        "pas seulement probablement ; sinon, elle reçoit une mention. Une classe où ces ensembles "
        "couvrent presque toute la classe ne décerne donc pas de prix."
    )


def eligibility_sentence(config: EditionConfig) -> str:
    """The eligibility rules in French, from the edition config (fixed before ranking)."""
    rules = config.eligibility
    parts = []
    if rules.min_population:
        parts.append(f"compter au moins {fr_number(rules.min_population)} habitants")
    if rules.min_information:
        parts.append(
            f"réunir au moins {fr_number(rules.min_information.minimum)} sources d'information distinctes "
            "(associations créées ou inscrites, associations ayant lancé des campagnes, missions de bénévolat)"
        )
    if rules.min_reliability:
        parts.append(
            f"avoir un score fiable à au moins {fr_percent(rules.min_reliability.minimum * 100, 0)}"
        )
    if rules.min_coverage:
        parts.append(
            f"disposer d'au moins {fr_percent(rules.min_coverage.minimum_share * 100, 0)} des indicateurs"
        )
    if not parts:
        return "Toutes les communes peuvent être classées."
    listed = ", ".join(parts[:-1]) + (" et " if len(parts) > 1 else "") + parts[-1]
    return f"Pour être classée, une commune doit {listed} ; ces règles sont fixées avant tout classement."


def demo_mark_markdown(demo: bool) -> str:
    """The demo banner of the pages: a div on demo data, nothing on real extracts."""
    return f"::: {{.demo-mark}}\n{DEMO_MARK}\n:::" if demo else ""


def national_donations_markdown(everyone: pd.DataFrame, meta: Mapping[str, Any]) -> str:
    """From 2025, the donations received on HelloAsso by every commune of the geography and the
    criterion that measures them; empty when the edition has no donations indicator."""
    indicators = meta["indicators"]
    codes = [i["code"] for i in indicators]
    if not ("ha_donations" in codes and "ha_donations" in everyone.columns):
        return ""
    criterion = next(
        (
            lower_first(c["title"])
            for c in meta["criteria"]
            for i in indicators
            if i["code"] == "ha_donations" and i["criterion"] == c["code"]
        ),
        "",
    )
    return (
        f"Les associations ont par ailleurs reçu {fr_number(everyone['ha_donations'].sum())} dons sur "
        "HelloAsso, que mesure le critère « " + criterion + " »."
    )


def definitions_markdown(indicators: Sequence[Mapping[str, Any]]) -> str:
    """One paragraph per indicator: its title in bold, then its definition."""
    return "\n".join(f"**{i['title']}.** {i['definition']}\n" for i in indicators)


def structural_gaps_markdown(
    config: EditionConfig, gaps: pd.DataFrame, titles: Mapping[str, str]
) -> str:
    """One bullet per structural gap of the edition (columns, where, why, and how many communal
    values ``gaps`` counts as blanked), or a sentence saying there is none."""
    lines = []
    for gap in config.structural_gaps:
        blanked = int(gaps.loc[gaps["gap"] == gap.name, "cells_blanked"].sum())
        columns = ", ".join(titles.get(c, c) for c in gap.columns)
        where = ", ".join(gap.departments + gap.communes)
        lines.append(
            f"- **{columns}** (départements ou communes : {where}) — {gap.reason} "
            f"{fr_number(blanked)} valeurs communales sont traitées comme manquantes."
        )
    return (
        "\n".join(lines)
        if lines
        else "Aucune lacune structurelle n'est déclarée pour cette édition."
    )


def limits_gaps_markdown(config: EditionConfig, titles: Mapping[str, str]) -> str:
    """The structural gaps as limits of the baromètre: « une lacune, pas un zéro »."""
    return "\n".join(
        f"- **{capitalise(fr_list(titles.get(c, c) for c in gap.columns))} : une lacune, pas un zéro.** "
        f"{gap.reason}"
        for gap in config.structural_gaps
    )


def shrinkage_credit_sentence(credit_departement: bool) -> str:
    """Whether a commune's ranked rate is drawn towards its département's level, in words."""
    return (
        "Les taux classés sont rapprochés du niveau de leur département."
        if credit_departement
        else "Les effets départementaux sont estimés pour ne pas fausser le reste du modèle, mais une "
        "commune n'en reçoit pas le crédit : son taux est rapproché du niveau national des "
        "communes de sa taille (loi a priori qui intègre la variance entre départements), de "
        "sorte qu'une commune sans activité n'est pas classée sur l'activité de ses voisines."
    )
