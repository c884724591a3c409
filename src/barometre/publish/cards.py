"""The palmarès pages of the baromètre: per class, the prizes awarded and why, and a fact sheet
per laureate (the class's chart is :func:`barometre.publish.report.figures.figure_class_palmares`).

Every count of people printed here goes through disclosure control
(:func:`barometre.disclosure.protect_count_text`): a count below the threshold reads « moins de
11 », and neither its rate, nor its interval, nor what lies behind it (the missions, campaigns
or organisations it comes from) is printed. What lies behind a publishable count is described so
that it cannot give a hidden figure back either (:func:`cluster_summary`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from barometre.disclosure import (
    DEFAULT_THRESHOLD,
    DERIVED_INDICATORS,
    PERSON_COUNTS,
    is_small,
    protect_count_text,
)
from barometre.publish.fmt import (
    dataframe_to_markdown,
    escape_markdown,
    fr_list,
    fr_number,
    fr_percent,
    fr_rank,
)
from barometre.publish.french import Noun, capitalise, de, nombre

PRIZE = Noun("prix", "prix")
MENTION = Noun("mention", "mentions", feminine=True)
COMMUNE = Noun("commune", "communes", feminine=True)


@dataclass(frozen=True)
class ClusterSource:
    """What a count is made of: ``clusters`` distinct units (missions, campaigns,
    organisations), the largest of which holds ``largest`` of the counted items; the French
    wording: « par 54 associations ; la plus active en a lancé moins du quart »."""

    clusters: str
    largest: str
    unit: Noun
    preposition: str
    superlative: str


CLUSTER_SOURCES: dict[str, ClusterSource] = {
    "ha_campaigns": ClusterSource(
        "ha_campaigns_clusters",
        "ha_campaigns_cluster_max",
        Noun("association", "associations", feminine=True),
        "par",
        "la plus active en a lancé",
    ),
    "ha_participants": ClusterSource(
        "ha_participants_clusters",
        "ha_participants_cluster_max",
        Noun("campagne", "campagnes", feminine=True),
        "sur",
        "la plus suivie en réunit",
    ),
    "jva_matches": ClusterSource(
        "jva_matches_clusters",
        "jva_matches_cluster_max",
        Noun("mission", "missions", feminine=True),
        "sur",
        "la plus demandée en réunit",
    ),
    "ha_donations": ClusterSource(
        "ha_donations_clusters",
        "ha_donations_cluster_max",
        Noun("campagne", "campagnes", feminine=True),
        "sur",
        "la plus soutenue en réunit",
    ),
}
"""The cluster columns of the confidential counts table (``work/commune_counts.csv``,
:data:`barometre.sources.counts.CLUSTER_COLUMNS`) behind each count."""

FRACTIONS: dict[float, tuple[str, str, str]] = {
    0.25: ("du quart", "au quart", "le quart"),
    0.5: ("de la moitié", "à la moitié", "la moitié"),
    0.75: ("des trois quarts", "aux trois quarts", "les trois quarts"),
}
"""The edges of the share bands (quarters), with their French forms (« moins du quart », « du
quart à la moitié », « les trois quarts ou plus »)."""


def band_text(low: float, high: float) -> str:
    """« moins du quart », « du quart à la moitié », « la moitié ou plus »…"""
    if low == 0:
        return f"moins {FRACTIONS[high][0]}"
    if high == 1:
        return f"{FRACTIONS[low][2]} ou plus"
    return f"{FRACTIONS[low][0]} {FRACTIONS[high][1]}"


def _feasible_largest(count: int, clusters: int) -> range:
    """The sizes the largest of ``clusters`` non-empty clusters of ``count`` items can take."""
    return range(math.ceil(count / clusters), count - clusters + 2)


def _in_band(largest: int, count: int, low: float, high: float) -> bool:
    share = largest / count
    return low <= share < high or (high == 1.0 and low <= share <= 1.0)


def share_bands(count: int, feasible: range) -> list[tuple[float, float]]:
    """Quarter bands of the largest unit's share, a band that would leave a single possible
    size merged into its neighbour, until every band leaves none or at least two. Depends on
    the count and the feasible sizes only (never on the actual size)."""
    edges = [0.0, *FRACTIONS, 1.0]
    while True:
        bands = list(itertools.pairwise(edges))
        sizes = [sum(1 for size in feasible if _in_band(size, count, lo, hi)) for lo, hi in bands]
        single = next((i for i, found in enumerate(sizes) if found == 1), None)
        if single is None or len(bands) == 1:
            return bands
        # remove the edge shared with a neighbour: the upper one for the first band
        del edges[single + 1 if single == 0 else single]


def cluster_summary(
    count: Any,
    clusters: Any,
    largest: Any,
    unit: Noun,
    superlative: str,
    threshold: int = DEFAULT_THRESHOLD,
    preposition: str = "sur",
) -> str | None:
    """« sur 40 missions ; la plus demandée en réunit moins du quart » — how many distinct
    units a publishable count comes from and, in bands, the share of the largest.

    Returns None when nothing may be said: the count is zero, missing or below the threshold
    (the number of units would bound it). The description never lets a reader pin down the
    size of the largest unit: the share is given in quarters, a quarter that would leave a
    single possible size (given the count and the number of units) being merged with its
    neighbour (:func:`share_bands`), and not at all when a single band remains;
    the number of units becomes « plusieurs », without a share, when with the count it alone
    fixes the size of the largest one. A single unit (« 1 mission ») holds the whole count,
    which is published.
    """
    if any(v is None or pd.isna(v) for v in (count, clusters, largest)):
        return None
    n, k, m = int(count), int(clusters), int(largest)
    if n <= 0 or k <= 0 or is_small(n, threshold):
        return None
    if k == 1:
        return f"{preposition} {'une seule' if unit.feminine else 'un seul'} {unit.singular}"
    feasible = _feasible_largest(n, k)
    if len(feasible) < 2:
        # count and number of units alone fix the largest size: say neither exactly
        return f"{preposition} plusieurs {unit.plural}"
    k_text = f"{preposition} {nombre(k, unit)}"
    # The bands depend on (count, units) only — never on the largest size itself, or their
    # choice would tell it — and each band a reader may see leaves at least two possible sizes.
    bands = share_bands(n, feasible)
    if len(bands) == 1:
        return k_text
    low, high = next((lo, hi) for lo, hi in bands if _in_band(m, n, lo, hi))
    return f"{k_text} ; {superlative} {band_text(low, high)}"


def rate_unit(unit: str) -> str:
    """The part of an indicator's unit that follows the counted noun: « associations pour 1 000
    habitants » → « pour 1 000 habitants », « participants par campagne » → « par campagne »."""
    positions = [unit.find(word) for word in (" pour ", " par ") if word in unit]
    return unit[min(positions) + 1 :] if positions else unit


def _interval(lower: Any, upper: Any, decimals: int) -> str:
    return f"{fr_number(lower, decimals)} à {fr_number(upper, decimals)}"


def fact_table(
    code: str,
    meta: Mapping[str, Any],
    counts: pd.DataFrame,
    rates: pd.DataFrame,
    data_year: int,
    credible: str,
    threshold: int = DEFAULT_THRESHOLD,
) -> str:
    """The laureate's figures, one row per indicator: the observed count, the rate the ranking
    uses with its credible interval, in the indicator's own unit, and what the count is made of.
    Person counts below the threshold, and everything derived from them, are withheld."""
    rows = []
    units = [rate_unit(ind["unit"]) for ind in meta["indicators"]]
    common = max(set(units), key=units.count)  # the unit of the header; others said in the cell
    small_bases = {
        base
        for base in PERSON_COUNTS
        if base in counts.columns and is_small(counts.at[code, base], threshold)
    }
    for ind in meta["indicators"]:
        column = ind.get("count")
        base = next(
            (b for b, derived in DERIVED_INDICATORS.items() if ind["code"] in derived), None
        )
        hidden = (column in small_bases) or (base in small_bases)
        if column is not None and column in counts.columns:
            value = counts.at[code, column]
            if pd.isna(value):
                count_text = "–"  # the card's sentence says it is not available
            elif column in PERSON_COUNTS:
                count_text = protect_count_text(value, fr_number, threshold)
            else:
                count_text = fr_number(value)
        else:
            count_text = "–"
        key = (code, ind["code"])
        if hidden:
            rate_text = "non publié"
        elif key in rates.index and pd.notna(rates.at[key, "posterior_mean"]):
            decimals = 1 if rates.at[key, "posterior_mean"] >= 10 else 2
            unit = rate_unit(ind["unit"])
            rate_text = (
                f"{fr_number(rates.at[key, 'posterior_mean'], decimals)}"
                + ("" if unit == common else f" {unit}")
                + f" ({_interval(rates.at[key, 'lower'], rates.at[key, 'upper'], decimals)})"
            )
        else:
            rate_text = "–"
        source = CLUSTER_SOURCES.get(column) if column else None
        behind = "–"
        if source is not None and not hidden and source.clusters in counts.columns:
            behind = (
                cluster_summary(
                    counts.at[code, column],
                    counts.at[code, source.clusters],
                    counts.at[code, source.largest],
                    source.unit,
                    source.superlative,
                    threshold,
                    source.preposition,
                )
                or "–"
            )
        rows.append(
            {
                "Indicateur": capitalise(ind["short"]),
                "Nombre": count_text,
                f"Taux {common} sauf mention (intervalle à {credible})": rate_text,
                "Provenance": behind,
            }
        )
    frame = pd.DataFrame(rows)
    return dataframe_to_markdown(
        frame, formats={c: (lambda v: v) for c in frame.columns}, align={"Nombre": "right"}
    )


def share_of_runs(p: float) -> str:
    """A share of scenarios in whole percent that never prints 100 % or 0 % for what is not all
    or none: « plus de 99 % », « moins de 1 % »."""
    if 0.995 <= p < 1:
        return f"plus de {fr_percent(99, 0)}"
    if 0 < p < 0.005:
        return f"moins de {fr_percent(1, 0)}"
    return fr_percent(p * 100, 0)


def laureate_card(
    row: Any,
    department: str,
    meta: Mapping[str, Any],
    counts: pd.DataFrame,
    rates: pd.DataFrame,
    *,
    data_year: int,
    top_k: int,
    n_runs: str,
    interval: str,
    credible: str,
    simultaneous: str,
    tied: bool,
    threshold: int = DEFAULT_THRESHOLD,
) -> str:
    """The fact sheet of one laureate: sentences with their verbs, then the figures' table."""
    ex_aequo = " — ex aequo" if tied else ""
    median = float(row.rank_median)
    median_text = (
        f"le {fr_rank(int(median), superscript=True)}"
        if median.is_integer()
        else f"de {fr_number(median, 1)}"
    )
    low, high = max(math.floor(float(row.rank_p05)), 1), max(math.ceil(float(row.rank_p95)), 1)
    spread = (
        f"elle occupe le {fr_rank(low, superscript=True)} rang"
        if low == high
        else f"elle se classe entre le {fr_rank(low, superscript=True)} et le "
        f"{fr_rank(high, superscript=True)} rang"
    )
    sentences = [
        f"{row.sentence}.",
        f"La commune compte {nombre(row.population, Noun('habitant', 'habitants'))}.",
        (
            f"Dans {share_of_runs(row.p_top)} des {n_runs} scénarios (tirages du modèle de comptage "
            f"croisés avec les choix de méthode), elle figure parmi les "
            f"{top_k} premières de sa classe ; son rang médian est {median_text} et, dans "
            f"{interval} des scénarios, {spread}."
        ),
        f"Selon le score de l'édition, elle est {fr_rank(row.rank_in_class, feminine=True, superscript=True)} de sa classe.",
    ]
    if pd.notna(getattr(row, "cs_lower", float("nan"))):
        same = int(row.cs_lower) == int(row.cs_upper)
        sentences.append(
            f"Compte tenu du seul bruit d'échantillonnage, avec une confiance de {simultaneous} valable pour "
            f"toute la classe à la fois, son rang est le {fr_rank(row.cs_lower, superscript=True)}."
            if same
            else f"Compte tenu du seul bruit d'échantillonnage, avec une confiance de {simultaneous} valable "
            f"pour toute la classe à la fois, son rang se situe entre le "
            f"{fr_rank(row.cs_lower, superscript=True)} et le {fr_rank(row.cs_upper, superscript=True)}."
        )
    missing = [
        ind["short"]
        for ind in meta["indicators"]
        if ind.get("count") in counts.columns and pd.isna(counts.at[row.code_commune, ind["count"]])
    ]
    if missing:
        verb = "n'est pas connu" if len(missing) == 1 else "ne sont pas connus"
        sentences.append(
            f"Le nombre {de(fr_list(missing))} {verb} dans cette commune (lacune structurelle décrite "
            "dans l'annexe) : l'indicateur est écarté de son score, et non compté comme nul."
        )
    header = f"### {escape_markdown(str(row.nom))} ({department}){ex_aequo}"
    table = fact_table(row.code_commune, meta, counts, rates, data_year, credible, threshold)
    return f"{header}\n\n{' '.join(sentences)}\n\n{table}"


def awards_sentence(
    eligible: int,
    laureates: int,
    top_k: int,
    laureate_threshold: str,
    rank_bound: int | None = None,
) -> str:
    """How many prizes the class awards, and why fewer than ``top_k`` when it does
    (``rank_bound``: the last rank a laureate's simultaneous rank set may reach, if any)."""
    condition = (
        f"une probabilité d'au moins {laureate_threshold} d'être parmi les {top_k} "
        "premières tout en appartenant à l'ensemble de confiance des meilleures"
    )
    if rank_bound is not None:
        condition += (
            f", avec un ensemble de confiance de son rang qui s'arrête au "
            f"{fr_rank(rank_bound, superscript=True)} rang au plus"
        )
    if eligible == 0:
        return "La classe ne décerne aucun prix : aucune commune n'y est éligible."
    if laureates >= top_k:
        return f"La classe décerne ses {nombre(top_k, PRIZE)}."
    if laureates == 0:
        return f"La classe ne décerne aucun prix : aucune commune n'atteint {condition}."
    who = (
        "une seule commune atteint"
        if laureates == 1
        else f"seules {fr_number(laureates)} communes atteignent"
    )
    return f"La classe décerne {nombre(laureates, PRIZE)} sur {top_k} : {who} {condition}."


def class_intro(bounds: str, eligible: int) -> str:
    """« La classe réunit les communes de moins de 5 000 habitants ; 2 929 sont éligibles et
    classées. »"""
    if eligible == 0:
        ranked = "aucune n'est éligible"
    elif eligible == 1:
        ranked = "une seule est éligible et classée"
    else:
        ranked = f"{fr_number(eligible)} sont éligibles et classées"
    who = bounds if bounds.startswith("de ") else f"de {bounds}"
    return f"La classe réunit les communes {who} ; {ranked}."


def mentions_sentence(mentions: pd.DataFrame, top_k: int) -> str:
    """« 6 mentions : A (24 %), B (23 %)… » as a sentence, probabilities of being in the top."""
    if mentions.empty:
        return ""
    names = ", ".join(
        f"{escape_markdown(str(r.nom))} ({fr_percent(r.p_top * 100, 0)})"
        for r in mentions.itertuples()
    )
    verb = "reçoit" if len(mentions) == 1 else "reçoivent"
    return (
        f"{capitalise(nombre(len(mentions), COMMUNE))} {verb} une mention (entre parenthèses, la "
        f"probabilité d'être parmi les {top_k} premières) : {names}."
    )
