"""The numbers of a territorial report, computed on data frames: no file is read or written.

Conventions (see :mod:`barometre.territory`): ranks are the national ranks within the
population class; the position in the class of a commune is ``100 · (n − r) / (n − 1)``;
indicator and criterion positions use the same scale on raw values (mid-ranks for ties, no
position for a missing value); groups of communes are summarised by their mean position.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from barometre.disclosure import PERSON_COUNTS, is_small, total_is_safe
from barometre.territory.scope import Territory, select_communes

#: A territory with more communes than this lists, in the report, its communes of 5 000
#: inhabitants or more and its best villages; the exports always hold every commune.
MAX_LISTED_COMMUNES = 400
TOP_PER_CLASS = 5


def position_in_class(rank: pd.Series, size: pd.Series) -> pd.Series:
    """Share of the class outranked, in percent: ``100 (n − r) / (n − 1)``; 100 if ``n = 1``."""
    rank = rank.astype(float)
    size = size.astype(float)
    position = 100.0 * (size - rank) / (size - 1).where(size > 1)
    return position.where(size > 1, 100.0)


def value_positions(
    communes: pd.DataFrame, columns: Sequence[str], group: str = "population_class"
) -> pd.DataFrame:
    """Position in class of each value (higher value, higher position), same scale as
    :func:`position_in_class`; ties take their mean rank, missing values stay missing."""
    positions = {}
    for column in columns:
        grouped = communes.groupby(group)[column]
        ascending = grouped.rank(method="average", ascending=True)
        count = grouped.transform("count").astype(float)
        positions[column] = (
            (100.0 * (ascending - 1) / (count - 1).where(count > 1))
            .where(count > 1, 100.0)
            .where(communes[column].notna())
        )
    return pd.DataFrame(positions, index=communes.index)


def _laureates(members: pd.DataFrame, palmares_size: int) -> pd.Series:
    """The laureate flags of ``members``: the decided palmarès (``laureate``) when known, else
    the nominal top ``palmares_size`` of the class."""
    if "laureate" in members.columns:
        return members["laureate"].astype(bool)
    return members["rank_in_class"] <= palmares_size


def class_comparison(
    communes: pd.DataFrame, selected: pd.DataFrame, labels: Sequence[str], palmares_size: int
) -> pd.DataFrame:
    """One row per class present in the territory (in ``labels`` order), then « Ensemble ».

    Columns: ``population_class``, ``communes``, ``population``, ``median_score`` (territory),
    ``class_median_score`` (all communes of the class in France), ``mean_position`` (mean
    position in class of the territory's communes; 50 for France), ``top_quarter`` (share of
    them at position 75 or more, in percent; about 25 for France), ``laureates`` (communes of
    ``selected`` flagged ``laureate``: the decided palmarès, not the nominal top ``palmares_size``). The « Ensemble » row pools the classes through positions; its
    ``class_median_score`` is the national median score.
    """
    positions = position_in_class(selected["rank_in_class"], selected["class_size"])
    rows = []
    for label in labels:
        mask = selected["population_class"] == label
        if not mask.any():
            continue
        members = selected[mask]
        rows.append(
            {
                "population_class": label,
                "communes": int(mask.sum()),
                "population": int(members["population"].sum()),
                "median_score": float(members["score"].median()),
                "class_median_score": float(
                    communes.loc[communes["population_class"] == label, "score"].median()
                ),
                "mean_position": float(positions[mask].mean()),
                "top_quarter": float((positions[mask] >= 75).mean() * 100),
                "laureates": int(_laureates(members, palmares_size).sum()),
            }
        )
    rows.append(
        {
            "population_class": "Ensemble",
            "communes": len(selected),
            "population": int(selected["population"].sum()),
            "median_score": float(selected["score"].median()),
            "class_median_score": float(communes["score"].median()),
            "mean_position": float(positions.mean()),
            "top_quarter": float((positions >= 75).mean() * 100),
            "laureates": int(_laureates(selected, palmares_size).sum()),
        }
    )
    return pd.DataFrame(rows)


def mean_positions(
    selected: pd.DataFrame, measures: Sequence[str], labels: Sequence[str]
) -> pd.DataFrame:
    """Mean position in class of the territory's communes, one row per measure (position
    column), one column per class present (in ``labels`` order) then ``Ensemble``; a class where
    every value is missing gives NaN. 50 is the mean of all communes of the class in France."""
    present = [label for label in labels if (selected["population_class"] == label).any()]
    table = pd.DataFrame(index=list(measures))
    for label in present:
        members = selected[selected["population_class"] == label]
        table[label] = [members[m].mean() for m in measures]
    table["Ensemble"] = [selected[m].mean() for m in measures]
    return table


def territory_rates(
    communes: pd.DataFrame, selected: pd.DataFrame, meta: Mapping[str, Any]
) -> pd.DataFrame:
    """Aggregate rates of the territory and of France, one row per indicator.

    Count indicators: Σ count / Σ population × 1 000 over communes with a known count (so
    Alsace-Moselle's missing RNA creations lower neither rate). Ratio indicators: Σ numerator /
    Σ denominator (participants per campaign), a per-capita version having no aggregate meaning.
    """

    def count_rate(frame: pd.DataFrame, count: str) -> float:
        known = frame[frame[count].notna()]
        population = known["population"].sum()
        return float(known[count].sum() / population * 1000) if population > 0 else np.nan

    def ratio(frame: pd.DataFrame, numerator: str, denominator: str) -> float:
        total = frame[denominator].sum()
        return float(frame[numerator].sum() / total) if total > 0 else np.nan

    rows = []
    for indicator in meta["indicators"]:
        if "count" in indicator:
            count = indicator["count"]
            territory, france = count_rate(selected, count), count_rate(communes, count)
            unit, total = "pour 1 000 habitants", selected[count].sum(min_count=1)
        else:
            parts = (indicator["numerator"], indicator["denominator_count"])
            territory, france = ratio(selected, *parts), ratio(communes, *parts)
            unit, total = "par campagne", np.nan
        rows.append(
            {
                "indicator": indicator["code"],
                "territory": territory,
                "france": france,
                "unit": unit,
                "total": total,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the report's selections


def add_positions(
    communes: pd.DataFrame, criteria: Sequence[str], rate_columns: Sequence[str]
) -> pd.DataFrame:
    """A copy of the national commune table with the position in class of the score
    (``position``) and of each criterion and rate (``position_<column>``), computed over France
    so that a territory is cut out of them afterwards, never re-ranked on its own."""
    communes = communes.copy()
    communes["position"] = position_in_class(communes["rank_in_class"], communes["class_size"])
    crit_positions = value_positions(communes, criteria)
    rate_positions = value_positions(communes, rate_columns)
    for column in criteria:
        communes[f"position_{column}"] = crit_positions[column]
    for column in rate_columns:
        communes[f"position_{column}"] = rate_positions[column]
    return communes


def laureate_codes(palmares: pd.DataFrame) -> set[str]:
    """Codes of the communes of the palmarès table with status « Lauréat » (every row of a
    table without ``status``)."""
    awarded = (
        palmares["status"] == "Lauréat"
        if "status" in palmares.columns
        else pd.Series(True, index=palmares.index)
    )
    return set(palmares.loc[awarded, "code_commune"])


def territory_communes(
    communes: pd.DataFrame,
    place: Territory,
    reference: pd.DataFrame,
    intervals: pd.DataFrame | None,
    laureates: set[str],
) -> pd.DataFrame:
    """The territory's ranked communes (:func:`select_communes`) with their EPCI code (from the
    COG ``reference``), their rank interval when ``intervals`` is given (``code_commune``,
    ``rank_p05``, ``rank_p95``) and a ``laureate`` flag (code among ``laureates``)."""
    selected = select_communes(communes, place, reference)
    selected = selected.merge(
        reference[["code_commune", "code_epci"]], on="code_commune", how="left"
    )
    if intervals is not None:
        selected = selected.merge(intervals, on="code_commune", how="left")
    selected["laureate"] = selected["code_commune"].isin(laureates)
    return selected


def short_titles(indicators: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Short title of each rate column ``<code>_per_1000``, first letter upper-cased only
    (``str.capitalize`` would lower « HelloAsso »)."""
    return {f"{i['code']}_per_1000": i["short"][:1].upper() + i["short"][1:] for i in indicators}


def withheld_rates(
    rates: pd.DataFrame, communes: pd.DataFrame, selected: pd.DataFrame, meta: Mapping[str, Any]
) -> tuple[list[bool], list[bool]]:
    """Which rates of :func:`territory_rates` are withheld, for the territory and for France.

    A territory rate times its population gives the count back: when the territory's total of
    a person count (or of a ratio's numerator) is small, the rate is withheld (disclosure rule);
    also when it would give a suppressed commune's count back by difference with the
    territory's published cells (the « France » rate likewise, with every ranked commune).
    """
    by_code = {i["code"]: i for i in meta["indicators"]}
    person_total = {
        code: selected[by_code[code].get("count") or by_code[code].get("numerator")].sum()
        for code in rates["indicator"]
        if (by_code[code].get("count") or by_code[code].get("numerator")) in PERSON_COUNTS
    }
    person_column = {
        code: by_code[code].get("count") or by_code[code].get("numerator") for code in person_total
    }
    withheld = [
        code in person_total
        and (is_small(person_total[code]) or not total_is_safe(selected[person_column[code]]))
        for code in rates["indicator"]
    ]
    withheld_france = [
        code in person_total and not total_is_safe(communes[person_column[code]])
        for code in rates["indicator"]
    ]
    return withheld, withheld_france


def position_measures(
    meta: Mapping[str, Any], criteria: Sequence[str], rate_columns: Sequence[str]
) -> dict[str, str]:
    """The measures of the positions table, position column → French title: the score, each
    criterion, each rate (its short title)."""
    short = short_titles(meta["indicators"])
    crit_title = {c["code"]: c["title"] for c in meta["criteria"]}
    measures = {"position": "Score Cités Vives"}
    measures.update({f"position_{c}": f"Critère : {crit_title[c].lower()}" for c in criteria})
    measures.update({f"position_{c}": short[c] for c in rate_columns})
    return measures


def local_palmares(palmares: pd.DataFrame, selected: pd.DataFrame) -> pd.DataFrame:
    """The rows of the national palmarès that are communes of the territory."""
    return palmares[palmares["code_commune"].isin(set(selected["code_commune"]))]


def top_per_class(
    selected: pd.DataFrame, labels: Sequence[str], n: int = TOP_PER_CLASS
) -> pd.DataFrame:
    """The ``n`` best ranked communes of each class, classes in ``labels`` order."""
    top_rows = []
    for label in labels:
        members = selected[selected["population_class"] == label].nsmallest(n, "rank_in_class")
        top_rows.append(members)
    return pd.concat(top_rows)


@dataclass(frozen=True)
class Listing:
    """The communes listed in the report: ``shown`` (rows, in listing order), ``total`` (ranked
    communes of the territory) and, when the territory is too large to list them all,
    ``large`` (how many of them have 5 000 inhabitants or more; ``None`` otherwise)."""

    shown: pd.DataFrame
    total: int
    large: int | None


def communes_listing(
    selected: pd.DataFrame, labels: Sequence[str], max_listed: int = MAX_LISTED_COMMUNES
) -> Listing:
    """Communes by class (largest class first) then rank; past ``max_listed`` communes, only
    those of the classes above the first (``labels[0]``) and the 30 best villages."""
    order = {label: i for i, label in enumerate(labels)}
    listing = selected.assign(_class=selected["population_class"].map(order)).sort_values(
        ["_class", "rank_in_class"], ascending=[False, True]
    )
    if len(listing) > max_listed:
        big = listing[listing["population_class"] != labels[0]]
        best_villages = listing[listing["population_class"] == labels[0]].head(30)
        return Listing(pd.concat([big, best_villages]), len(listing), len(big))
    return Listing(listing, len(listing), None)


def best_commune(selected: pd.DataFrame) -> pd.Series:
    """The commune best placed in its class (ties: the most populous), named in the summary."""
    return selected.sort_values(["position", "population"], ascending=[False, False]).iloc[0]


def measure_columns(meta: Mapping[str, Any], columns: Sequence[str]) -> tuple[list[str], list[str]]:
    """The criteria of ``meta`` present among ``columns`` and the rate column of each indicator
    (``<code>_per_1000``): the values positioned in class besides the score."""
    criteria = [c["code"] for c in meta["criteria"] if c["code"] in columns]
    rate_columns = [f"{i['code']}_per_1000" for i in meta["indicators"]]
    return criteria, rate_columns


@dataclass(frozen=True)
class TerritoryAnalysis:
    """The numbers of a territorial report (:func:`analyse_territory`): aggregate ``rates`` and
    which of them are ``withheld`` (territory, France), the class ``comparison``, the mean
    ``positions`` per measure (titles in ``measures``), the territory's rows of the national
    palmarès (``local``) and its laureates' codes (``laureates``), the best communes per class
    (``top``), the communes ``listing`` and whether rank intervals are known."""

    rates: pd.DataFrame
    withheld: list[bool]
    withheld_france: list[bool]
    comparison: pd.DataFrame
    measures: dict[str, str]
    positions: pd.DataFrame
    local: pd.DataFrame
    laureates: list[str]
    top: pd.DataFrame
    listing: Listing
    has_intervals: bool


def analyse_territory(
    communes: pd.DataFrame,
    selected: pd.DataFrame,
    palmares: pd.DataFrame,
    meta: Mapping[str, Any],
    labels: Sequence[str],
    palmares_size: int,
    has_intervals: bool,
) -> TerritoryAnalysis:
    """Every number of the report, from the national communes with their positions
    (:func:`add_positions`), the territory's communes (:func:`territory_communes`) and the
    national palmarès; ``has_intervals`` says whether ``selected`` holds rank intervals."""
    criteria, rate_columns = measure_columns(meta, list(communes.columns))
    rates = territory_rates(communes, selected, meta)
    withheld, withheld_france = withheld_rates(rates, communes, selected, meta)
    measures = position_measures(meta, criteria, rate_columns)
    local = local_palmares(palmares, selected)
    return TerritoryAnalysis(
        rates=rates,
        withheld=withheld,
        withheld_france=withheld_france,
        comparison=class_comparison(communes, selected, labels, palmares_size),
        measures=measures,
        positions=mean_positions(selected, list(measures), labels),
        local=local,
        laureates=sorted(laureate_codes(palmares) & set(selected["code_commune"])),
        top=top_per_class(selected, labels),
        listing=communes_listing(selected, labels),
        has_intervals=has_intervals,
    )
