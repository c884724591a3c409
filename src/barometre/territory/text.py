"""The French text of a territorial report: its Markdown tables and notes (``tables/*.md``) and
its report variables (``_variables.yml``), built from the numbers of
:mod:`barometre.territory.compute`. Every function returns text or a mapping; none writes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from barometre.config import EditionConfig, count_labels
from barometre.disclosure import PERSON_COUNTS, protect_total_text
from barometre.publish import method_text
from barometre.publish.fmt import (
    dataframe_to_markdown,
    edition_facts,
    escape_markdown,
    fr_count,
    fr_list,
    fr_number,
    fr_percent,
    fr_range,
)
from barometre.territory.compute import Listing, best_commune, short_titles
from barometre.territory.scope import Territory

DEMO_MARK = "Données de démonstration synthétiques"
SOURCE_NOTE = {
    True: "Source : données de démonstration synthétiques (générateur du projet), populations légales INSEE.",
    False: "Sources : RNA (data.gouv.fr), HelloAsso, JeVeuxAider.gouv.fr, populations légales INSEE.",
}


def _interval(row: pd.Series) -> str:
    if "rank_p05" not in row or pd.isna(row.get("rank_p05")):
        return "n.d."
    return fr_range(round(row["rank_p05"]), round(row["rank_p95"]))


def _rank_text(rank: Any, size: Any) -> str:
    return f"{fr_number(rank)} / {fr_number(size)}"


def rates_markdown(
    rates: pd.DataFrame,
    withheld: Sequence[bool],
    withheld_france: Sequence[bool],
    meta: Mapping[str, Any],
) -> str:
    """The aggregate rates table (``tables/rates.md``): territory, France, unit and gap, a
    withheld rate (:func:`~barometre.territory.compute.withheld_rates`) shown as « secret
    statistique » and its gap as « – »."""
    indicators = meta["indicators"]
    titles = {i["code"]: i["title"] for i in indicators}
    by_code = {i["code"]: i for i in indicators}
    short = short_titles(indicators)
    rate_table = pd.DataFrame(
        {
            # A ratio indicator is aggregated as a plain ratio (participants per campaign), not
            # per inhabitant: name it by its short title, which says just that.
            "Indicateur": [
                titles[c] if "count" in by_code[c] else short[f"{c}_per_1000"]
                for c in rates["indicator"]
            ],
            "Territoire": [
                "secret statistique" if hide else fr_number(v, 2)
                for v, hide in zip(rates["territory"], withheld)
            ],
            "France": [
                "secret statistique" if hide else fr_number(v, 2)
                for v, hide in zip(rates["france"], withheld_france)
            ],
            "Unité": rates["unit"],
            "Écart": [
                "–" if hide or hide_france else fr_percent(v, 0, signed=True)
                for v, hide, hide_france in zip(
                    (rates["territory"] / rates["france"] - 1) * 100, withheld, withheld_france
                )
            ],
        }
    )
    return dataframe_to_markdown(
        rate_table, align={"Territoire": "right", "France": "right", "Écart": "right"}
    )


def classes_markdown(comparison: pd.DataFrame) -> str:
    """The class comparison table (``tables/classes.md``) of
    :func:`~barometre.territory.compute.class_comparison`."""
    return dataframe_to_markdown(
        pd.DataFrame(
            {
                "Classe": comparison["population_class"],
                "Communes": comparison["communes"],
                "Population": comparison["population"],
                "Score médian": comparison["median_score"],
                "Score médian en France": comparison["class_median_score"],
                "Position moyenne": comparison["mean_position"],
                "Dans le premier quart": comparison["top_quarter"],
                "Lauréates": comparison["laureates"],
            }
        ),
        formats={
            "Score médian": lambda v: fr_number(v, 1),
            "Score médian en France": lambda v: fr_number(v, 1),
            "Position moyenne": lambda v: fr_number(v, 0),
            "Dans le premier quart": lambda v: fr_percent(v, 0),
        },
        align={
            c: "right"
            for c in (
                "Communes",
                "Population",
                "Score médian",
                "Score médian en France",
                "Position moyenne",
                "Dans le premier quart",
                "Lauréates",
            )
        },
    )


def positions_markdown(positions_table: pd.DataFrame, measures: Mapping[str, str]) -> str:
    """The mean positions table (``tables/positions.md``) of
    :func:`~barometre.territory.compute.mean_positions`, measures named by ``measures``."""
    frame = positions_table.copy()
    frame.insert(0, "Mesure", [measures[m] for m in frame.index])
    return dataframe_to_markdown(
        frame.reset_index(drop=True),
        formats={c: (lambda v: fr_number(v, 0)) for c in positions_table.columns},
        align={c: "right" for c in positions_table.columns},
    )


def laureates_markdown(local: pd.DataFrame, edition: int, palmares_size: int) -> str:
    """The territory's communes in the national palmarès (``tables/laureates.md``), one item
    each with status, probability of being in the top ``palmares_size`` and sentence."""
    if local.empty:
        return f"Aucune commune du territoire ne figure au palmarès national {edition}."
    lines = [
        f"{fr_count(len(local), 'commune')} du territoire {'figure' if len(local) < 2 else 'figurent'} au palmarès national {edition} :",
        "",
    ]
    for row in local.itertuples():
        lines.append(
            f"- **{escape_markdown(row.nom)}** ({row.code_departement}) — {row.population_class}, "
            f"{row.status.lower()} (probabilité d'être dans le top {palmares_size} : "
            f"{fr_percent(row.p_top * 100, 0)}) : {escape_markdown(row.sentence)}."
        )
    return "\n".join(lines)


def top_markdown(top: pd.DataFrame, has_intervals: bool) -> str:
    """The best communes of each class (``tables/top.md``), with their 90 % rank interval when
    the robustness step ran."""
    top_frame = pd.DataFrame(
        {
            "Classe": top["population_class"],
            "Commune": top["nom"],
            "Dép.": top["code_departement"],
            "Population": top["population"],
            "Rang dans la classe": [
                _rank_text(r, n) for r, n in zip(top["rank_in_class"], top["class_size"])
            ],
            **(
                {"Intervalle de rang (90 %)": [_interval(row) for _, row in top.iterrows()]}
                if has_intervals
                else {}
            ),
            "Score": top["score"],
        }
    )
    return dataframe_to_markdown(
        top_frame,
        formats={"Population": fr_number, "Score": lambda v: fr_number(v, 1)},
        align={
            "Population": "right",
            "Rang dans la classe": "right",
            "Score": "right",
            **({"Intervalle de rang (90 %)": "right"} if has_intervals else {}),
        },
    )


def intervals_note(has_intervals: bool) -> str:
    """What the rank interval means, or why there is none (``tables/intervals_note.md``)."""
    return (
        "L'intervalle de rang contient le rang de la commune dans 90 % des scénarios de l'analyse "
        "d'incertitude, qui combinent l'aléa d'échantillonnage des comptages (tirages du modèle de "
        "comptage) et les choix de méthode (pondérations, valeurs extrêmes, normalisation, "
        "agrégation ; voir l'annexe méthodologique)."
        if has_intervals
        else "Les intervalles de rang ne sont pas calculés dans cette édition (analyse d'incertitude "
        "non exécutée) : les rangs sont donnés sans leur marge."
    )


def communes_note(listing: Listing) -> str:
    """The sentence above the communes table (``tables/communes_note.md``)."""
    if listing.large is not None:
        return (
            f"Le territoire compte {fr_count(listing.total, 'commune classée', 'communes classées')} : le tableau ci-dessous "
            f"donne les {fr_number(listing.large)} communes de 5 000 habitants ou plus et les 30 premiers villages. "
            "Les exports (CSV et XLSX) donnent toutes les communes."
        )
    return f"Les {fr_count(listing.total, 'commune classée', 'communes classées')} du territoire, par classe de population puis par rang."


def communes_markdown(shown: pd.DataFrame) -> str:
    """The communes table (``tables/communes.md``): rank, position and score of each commune."""
    return dataframe_to_markdown(
        pd.DataFrame(
            {
                "Commune": shown["nom"],
                "Dép.": shown["code_departement"],
                "Population": shown["population"],
                "Classe": shown["population_class"],
                "Rang dans la classe": [
                    _rank_text(r, n) for r, n in zip(shown["rank_in_class"], shown["class_size"])
                ],
                "Position": shown["position"],
                "Score": shown["score"],
            }
        ),
        formats={
            "Population": fr_number,
            "Position": lambda v: fr_number(v, 0),
            "Score": lambda v: fr_number(v, 1),
        },
        align={
            "Population": "right",
            "Rang dans la classe": "right",
            "Position": "right",
            "Score": "right",
        },
    )


def no_qpv_note(spec: str, edition: int) -> str:
    """``tables/qpv.md`` without a QPV list: how to give one."""
    return (
        "Aucune liste de quartiers prioritaires n'a été fournie pour cette analyse : le chapitre "
        "« Politique de la ville » n'est pas calculé. Il s'obtient en donnant la liste officielle "
        "des QPV 2024 (ANCT, format CSV « liste des QPV 2024 », séparateur « ; », colonnes "
        "code_qp, lib_qp, …, insee_com) : `barometre territory "
        f"{spec} --edition {edition} --qpv-file liste_qpv_2024.csv`."
    )


def definitions_markdown(meta: Mapping[str, Any]) -> str:
    """One item per indicator: its short title and its definition (``tables/definitions.md``)."""
    indicators = meta["indicators"]
    short = short_titles(indicators)
    rate_columns = [f"{i['code']}_per_1000" for i in indicators]
    return "\n".join(
        f"- **{escape_markdown(short[column])}** : {escape_markdown(' '.join(str(i['definition']).split()))}"
        for column, i in zip(rate_columns, indicators)
    )


def demo_mark_markdown(demo: bool) -> str:
    """The demo banner (``tables/demo_mark.md``), empty on real data."""
    return f"::: {{.demo-mark}}\n{DEMO_MARK}\n:::" if demo else ""


def key_variables(
    communes: pd.DataFrame,
    selected: pd.DataFrame,
    comparison: pd.DataFrame,
    local: pd.DataFrame,
    meta: Mapping[str, Any],
) -> dict[str, str]:
    """The key figures (``key`` block of ``_variables.yml``): communes, population and its share
    of France, laureates, mean position, first quarter, the best placed commune and the
    territory's total of each count (protected when it is a person count)."""
    total_population = int(communes["population"].sum())
    best = best_commune(selected)
    counts = {i["count"]: selected[i["count"]] for i in meta["indicators"] if "count" in i}
    return {
        "communes": fr_number(len(selected)),
        "population": fr_number(selected["population"].sum()),
        "population_share": fr_percent(selected["population"].sum() / total_population * 100, 1),
        "laureates": fr_number(len(local)),
        "laureates_label": "commune au palmarès national"
        if len(local) < 2
        else "communes au palmarès national",
        "mean_position": fr_number(comparison.iloc[-1]["mean_position"], 0),
        "top_quarter": fr_percent(comparison.iloc[-1]["top_quarter"], 0),
        "best_name": str(best["nom"]),
        "best_class": str(best["population_class"]).lower(),
        "best_rank": _rank_text(best["rank_in_class"], best["class_size"]),
        # A territory's total of a person count is published: « moins de 11 » when small.
        # « au moins N » when the exact total would give a suppressed commune's count back.
        **{
            name: (
                protect_total_text(values, fr_number)
                if name in PERSON_COUNTS
                else fr_number(values.sum(min_count=1))
            )
            for name, values in counts.items()
        },
    }


def report_variables(
    config: EditionConfig,
    place: Territory,
    departements: pd.Series,
    key: Mapping[str, str],
    meta: Mapping[str, Any],
    spec: Any,
    source: str,
    qpv_variables: Mapping[str, Any],
    has_laureates: bool,
) -> dict[str, Any]:
    """The report variables (``_variables.yml``): the edition, the territory (``departements``:
    names by code), its ``key`` figures (:func:`key_variables`), the count labels, the method
    facts of the index ``spec`` (:func:`barometre.composite.load_spec`), the structural gaps,
    the QPV chapter's variables, the map caption and the export paths."""
    return {
        **edition_facts(config),
        "source_note": source,
        "territory": {
            "name": place.name,
            "kind": place.kind_label,
            "spec": place.spec,
            "title": f"{place.name} : l'engagement citoyen, commune par commune",
            "subtitle": f"{place.kind_label} · {config.title}",
            "departments": fr_list(f"{departements[d]} ({d})" for d in place.departments),
        },
        "key": dict(key),
        # how the pages name a count whose definition the edition chose (config/indicators.yml)
        "labels": count_labels(meta),
        # method facts from the index spec and the metadata (barometre.publish.method_text)
        "method": {
            "rates": method_text.rates_sentence(spec, meta),
            "indicators": method_text.nombre(len(meta["indicators"]), method_text.INDICATOR),
        },
        "limits_gaps": " ".join(gap.reason for gap in config.structural_gaps),
        "qpv": dict(qpv_variables),
        "captions": {
            "map": "Communes classées du territoire, colorées selon la position de leur score dans leur classe de population"
            + (
                " ; cercles noirs : communes lauréates du palmarès national."
                if has_laureates
                else "."
            ),
        },
        "exports": {
            "csv": f"exports/territoire-{place.slug}.csv",
            "xlsx": f"exports/territoire-{place.slug}.xlsx",
        },
    }
