"""The palmarès: laureates per population class, and why each one stands out.

The laureates of a class are its communes ranked 1 to ``size`` on the score (ties share the
lowest rank, so a tie at the boundary can add a laureate; this is reported, not hidden). For each
laureate, the indicator that "most distinguishes it" is the one where its within-class
percentile is highest (ties broken by the larger normalised score, then by indicator order): it
feeds a generated French sentence with the underlying count.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from barometre.composite.engine import IndexBuild
from barometre.config import PalmaresRule
from barometre.decision import LAUREATE, NO_PRIZE, decide_class, prize_status
from barometre.disclosure import DERIVED_INDICATORS, PERSON_COUNTS, is_small, protect_count_text
from barometre.rankcs import rank_confidence_sets, tau_best_set

#: Bootstrap draws of the τ-best set of each département (about a hundred sets per edition:
#: csranks' own default for cstaubest; the class-level sets keep rankcs' default).
DEPARTMENT_BOOTSTRAP = 10_000

#: Columns of the decided palmarès carried by each row of ``palmares.csv``.
AWARD_COLUMNS = (
    "status",
    "ex_aequo_group",
    "p_top",
    "rank_median",
    "rank_p05",
    "rank_p95",
    "cs_lower",
    "cs_upper",
)


def class_ranks(build: IndexBuild, class_column: str = "population_class") -> pd.DataFrame:
    """Per commune: score, criterion scores, overall rank and rank within its class."""
    spec = build.spec
    table = build.results.copy()
    within = build.group_ranks[class_column][spec.root].rename("rank_in_class")
    table = table.join(within)
    class_sizes = table.groupby(class_column)[spec.root].transform("count").rename("class_size")
    return table.join(class_sizes)


def distinguishing_indicator(
    build: IndexBuild, class_column: str = "population_class", excluded: pd.DataFrame | None = None
) -> pd.DataFrame:
    """For every commune, the indicator with its highest within-class percentile.

    Percentile: share of the class's communes with a strictly lower normalised value, plus half
    of the ties (mid-rank), in [0, 1]. Missing indicators are never chosen, nor those flagged in
    ``excluded`` (unit × indicator booleans: e.g. a suppressed person count, whose value the
    sentence would quote).
    """
    norm = build.normalised
    classes = build.units.loc[norm.index, class_column]
    pct = norm.groupby(classes).rank(pct=False, method="average")
    counts = norm.groupby(classes).transform("count")
    pct = (pct - 0.5) / counts
    order = {code: n for n, code in enumerate(norm.columns)}
    rows = []
    for unit in norm.index:
        candidates = [
            (pct.at[unit, c], norm.at[unit, c], -order[c], c)
            for c in norm.columns
            if pd.notna(pct.at[unit, c])
            and not (
                excluded is not None
                and unit in excluded.index
                and c in excluded.columns
                and bool(excluded.at[unit, c])
            )
        ]
        if not candidates:
            rows.append({"code": unit, "indicator": None, "class_percentile": float("nan")})
            continue
        best = max(candidates)
        rows.append({"code": unit, "indicator": best[3], "class_percentile": best[0]})
    return pd.DataFrame(rows, columns=["code", "indicator", "class_percentile"]).set_index("code")


def laureates(
    build: IndexBuild,
    class_labels: Sequence[str],
    size: int = 4,
    class_column: str = "population_class",
) -> pd.DataFrame:
    """The palmarès: communes with rank in class <= ``size``, classes in the given order."""
    ranks = class_ranks(build, class_column)
    top = ranks[ranks["rank_in_class"].astype("Float64") <= size].copy()
    top["class_order"] = top[class_column].map({label: n for n, label in enumerate(class_labels)})
    top = top.assign(_code=top.index.astype(str))
    top = top.sort_values(["class_order", "rank_in_class", "_code"]).drop(
        columns=["_code", "class_order"]
    )
    return top


def distinction_sentence(
    name: str,
    indicator: Mapping[str, Any],
    value_text: str | None,
    data_year: int,
) -> str:
    """French sentence, with its verb: « {name} se distingue notamment par {distinction} ».

    ``value_text`` None withholds the figure: the parenthesis that quotes it is dropped (a ratio
    computed from a suppressed count of people would give the count back)."""
    template = indicator["distinction"]
    if value_text is None:
        template = (
            re.sub(r"\s*\([^()]*\{value\}[^()]*\)", "", template).replace("{value}", "").strip()
        )
    phrase = template.format(data_year=data_year, value=value_text)
    return f"{name} se distingue notamment par {phrase}"


def _suppressed_indicators(
    counts: pd.DataFrame, by_code: Mapping[str, Mapping[str, Any]]
) -> pd.DataFrame:
    """Per commune (rows of ``counts``) and indicator built on a person count: whether that
    count is suppressed (1 … 10).

    Such an indicator never distinguishes a laureate: its value (a count, or participants per
    campaign × campaigns) would give the count back."""
    return pd.DataFrame(
        {
            code: counts[ind.get("count") or ind.get("numerator")].map(is_small)
            for code, ind in by_code.items()
            if (ind.get("count") or ind.get("numerator")) in PERSON_COUNTS
            and (ind.get("count") or ind.get("numerator")) in counts.columns
        },
        index=counts.index,
    )


def _value_text(
    counts: pd.DataFrame, code: Any, ind: Mapping[str, Any], raw_value: Any, format_number: Any
) -> str | None:
    """The figure quoted for indicator ``ind`` of commune ``code`` (a row of ``counts``):
    a person count protected as published, no figure for a ratio of a suppressed person count
    (participants per campaign), else the value (no decimal for a count, one for a ratio)."""
    if ind.get("count") in PERSON_COUNTS:
        return protect_count_text(raw_value, format_number)
    derived_from = [b for b, derived in DERIVED_INDICATORS.items() if ind["code"] in derived]
    if any(b in counts.columns and is_small(counts.at[code, b]) for b in derived_from):
        return None
    return format_number(raw_value, 0 if "count" in ind else 1)


def _palmares_columns(criteria: Sequence[str], awarded: bool) -> list[str]:
    """Columns of the palmarès table (those of an award decision when ``awarded``)."""
    return [
        "population_class",
        "rank_in_class",
        "code_commune",
        "nom",
        "population",
        "code_departement",
        "code_region",
        "score",
        *(f"score_{c}" for c in criteria),
        "rank_national",
        "class_size",
        "distinguishing_indicator",
        "distinguishing_value",
        "distinguishing_class_percentile",
        "sentence",
        *(AWARD_COLUMNS if awarded else ()),
    ]


def palmares_table(
    build: IndexBuild,
    engine_table: pd.DataFrame,
    meta: Mapping[str, Any],
    class_labels: Sequence[str],
    size: int,
    data_year: int,
    format_number: Any,
    awarded: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per laureate: class, rank, commune, score and criteria, key counts, sentence.

    Without ``awarded``, the laureates are the nominal top ``size`` of each class. With it (the
    decided palmarès, :func:`award`, index = commune code, in palmarès order), the rows are its
    communes and carry ``status``, ``ex_aequo_group``, ``p_top``, ``rank_median``,
    ``rank_p05``, ``rank_p95``, ``cs_lower`` and ``cs_upper``.

    ``engine_table`` holds the observed counts per commune (the raw engine input, never the
    shrunk one: published figures are what was observed); ``format_number(value,
    decimals)`` formats the figure quoted in the generated sentence (French typography).
    """
    spec = build.spec
    if awarded is None:
        top = laureates(build, class_labels, size)
    else:
        top = class_ranks(build).loc[awarded.index]
    counts = engine_table.set_index("code_commune")
    by_code = {ind["code"]: ind for ind in meta["indicators"]}
    distinct = distinguishing_indicator(build, excluded=_suppressed_indicators(counts, by_code))
    criteria = [c for c in spec.children(spec.root)]
    # the observed count of every count indicator (not the ratios), in the metadata's order
    key_counts = [ind["code"] for ind in meta["indicators"] if "count" in ind]
    rows = []
    for code, row in top.iterrows():
        ind_code = distinct.at[code, "indicator"]
        ind = by_code[ind_code]
        raw_value = counts.at[code, ind_code]
        value_text = _value_text(counts, code, ind, raw_value, format_number)
        rows.append(
            {
                "population_class": row["population_class"],
                "rank_in_class": int(row["rank_in_class"]),
                "code_commune": code,
                "nom": row["nom"],
                "population": int(row["population"]),
                "code_departement": row["code_departement"],
                "code_region": row["code_region"],
                "score": row[spec.root],
                **{f"score_{c}": row[c] for c in criteria},
                "rank_national": int(row[f"rank_{spec.root}"]),
                "class_size": int(row["class_size"]),
                "distinguishing_indicator": ind_code,
                "distinguishing_value": raw_value,
                "distinguishing_class_percentile": distinct.at[code, "class_percentile"],
                "sentence": distinction_sentence(row["nom"], ind, value_text, data_year),
                **{c: counts.at[code, c] for c in key_counts if c in counts.columns},
                **({c: awarded.at[code, c] for c in AWARD_COLUMNS} if awarded is not None else {}),
            }
        )
    if not rows:  # no ranked commune (a small subset): the table keeps its columns
        return pd.DataFrame(columns=_palmares_columns(criteria, awarded is not None))
    return pd.DataFrame(rows)


def decided_departmental_palmares(
    communes: pd.DataFrame,
    p_top: pd.Series,
    sampling: pd.DataFrame,
    size: int,
    rule: PalmaresRule,
    rng: np.random.Generator,
    score_column: str = "score",
) -> pd.DataFrame:
    """The departmental palmarès under the edition's decision rule and eligibility.

    ``communes``: the eligible ranked communes (``code_commune``, ``nom``,
    ``code_departement``, ``population_class``, ``population``, score); ``p_top``: their
    probability of being in the top ``size`` of their département over the joint runs (index =
    code); ``sampling``: ``score`` and ``score_se`` (index = code). In each département:
    « Lauréat » when ``p_top ≥ rule.laureate_min_probability`` and in the département's τ-best
    set (τ = ``size``, at ``rule.tau_best_coverage``), « Mention » for the other members of that
    set with ``p_top ≥ rule.mention_min_probability``; at most ``size`` laureates, listed
    alphabetically (their order is not claimed), then the mentions by probability. Returns one
    row per laureate or mention with ``rank_in_departement`` (nominal rank, for reference).
    """
    table = communes[communes[score_column].notna()].copy()
    table["rank_in_departement"] = (
        table.groupby("code_departement")[score_column]
        .rank(ascending=False, method="min")
        .astype(int)
    )
    table = table.set_index("code_commune")
    table["p_top"] = p_top.reindex(table.index).fillna(0.0)
    parts = []
    for _, members in table.groupby("code_departement", sort=True):
        known = members.index.intersection(sampling.index[sampling["score_se"].notna()])
        in_set = pd.Series(False, index=members.index)
        if len(known):
            best = tau_best_set(
                sampling.loc[known, "score"].astype(float),
                sampling.loc[known, "score_se"].astype(float).clip(lower=1e-12),
                tau=min(size, len(known)),
                coverage=rule.tau_best_coverage,
                rng=rng,
                n_boot=DEPARTMENT_BOOTSTRAP,
            )
            in_set.loc[known] = best["in_tau_best"].astype(bool).to_numpy()
        members = members.assign(
            in_tau_best=in_set, status=prize_status(members["p_top"], in_set, rule, size)
        )
        members = members[members["status"] != NO_PRIZE]
        members = members.assign(
            _o=(members["status"] != LAUREATE).astype(int),
            _p=-members["p_top"],
            _n=members["nom"].str.casefold(),
        )
        members.loc[members["status"] == LAUREATE, "_p"] = 0.0
        parts.append(members.sort_values(["_o", "_p", "_n"]).drop(columns=["_o", "_p", "_n"]))
    columns = [
        "code_departement",
        "status",
        "code_commune",
        "nom",
        "population_class",
        "population",
        score_column,
        "p_top",
        "rank_in_departement",
    ]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts).reset_index()[columns]


def departmental_palmares(
    communes: pd.DataFrame,
    size: int = 3,
    score_column: str = "score",
) -> pd.DataFrame:
    """Top ``size`` communes of every department on the score, all population classes together.

    Ranks are descending within the department, ties sharing the lowest rank (a tie at the
    boundary keeps every tied commune). Input: the per-commune results (``code_commune``,
    ``nom``, ``code_departement``, ``population_class``, ``population``, score).
    """
    table = communes[communes[score_column].notna()].copy()
    table["rank_in_departement"] = (
        table.groupby("code_departement")[score_column]
        .rank(ascending=False, method="min")
        .astype(int)
    )
    top = table[table["rank_in_departement"] <= size]
    columns = [
        "code_departement",
        "rank_in_departement",
        "code_commune",
        "nom",
        "population_class",
        "population",
        score_column,
    ]
    return (
        top[columns]
        .sort_values(["code_departement", "rank_in_departement", "code_commune"])
        .reset_index(drop=True)
    )


# --- the decided palmarès ----------------------------------------------------------------------
def rank_evidence(
    sampling: pd.DataFrame,
    class_labels: Sequence[str],
    size: int,
    rule: PalmaresRule,
    rng: np.random.Generator,
    chart_top: int = 15,
    class_column: str = "population_class",
) -> pd.DataFrame:
    """Confidence sets for ranks within each class, from the nominal scores and their sampling
    standard errors (``sampling``: index = commune code, ``class_column``, ``score``,
    ``score_se``).

    Per commune: ``in_tau_best`` (the class's τ-best set at ``rule.tau_best_coverage``, τ =
    ``size``), and for the members of that set and the ``chart_top`` best scores of the class,
    ``cs_lower``/``cs_upper`` — their simultaneous rank confidence set at
    ``rule.simultaneous_coverage`` (one family for all of them) — and ``cs_marginal_lower`` /
    ``cs_marginal_upper`` (marginal sets at the same level). Mogstad, Romano, Shaikh & Wilhelm
    (2024); :mod:`barometre.rankcs`. Communes without a standard error are not ranked here.
    """
    parts = []
    for label in class_labels:
        members = sampling[(sampling[class_column] == label) & sampling["score"].notna()]
        members = members[members["score_se"].notna()]
        if members.empty:
            continue
        estimates, se = (
            members["score"].astype(float),
            members["score_se"].astype(float).clip(lower=1e-12),
        )
        best = tau_best_set(
            estimates, se, tau=min(size, len(members)), coverage=rule.tau_best_coverage, rng=rng
        )
        out = pd.DataFrame({"in_tau_best": best["in_tau_best"].astype(bool)}, index=members.index)
        top = estimates.sort_values(ascending=False, kind="stable").index[:chart_top]
        asked = list(dict.fromkeys([*best.index[best["in_tau_best"]], *top]))
        joint = rank_confidence_sets(
            estimates,
            se,
            coverage=rule.simultaneous_coverage,
            simultaneous=True,
            indices=asked,
            rng=rng,
        )
        marginal = rank_confidence_sets(
            estimates,
            se,
            coverage=rule.simultaneous_coverage,
            simultaneous=False,
            indices=asked,
            rng=rng,
        )
        out["cs_lower"] = joint["lower"].reindex(out.index).astype("Int64")
        out["cs_upper"] = joint["upper"].reindex(out.index).astype("Int64")
        out["cs_marginal_lower"] = marginal["lower"].reindex(out.index).astype("Int64")
        out["cs_marginal_upper"] = marginal["upper"].reindex(out.index).astype("Int64")
        parts.append(out)
    columns = ["in_tau_best", "cs_lower", "cs_upper", "cs_marginal_lower", "cs_marginal_upper"]
    return pd.concat(parts) if parts else pd.DataFrame(columns=columns)


def award(
    results: pd.DataFrame,
    uncertainty: pd.DataFrame,
    evidence: pd.DataFrame,
    class_labels: Sequence[str],
    size: int,
    rule: PalmaresRule,
    class_column: str = "population_class",
) -> pd.DataFrame:
    """Every ranked commune with its evidence and its decided status.

    ``results``: the nominal per-commune results (index = code; ``nom``, ``class_column``, …);
    ``uncertainty``: ``p_top``, ``rank_median``, ``rank_p05``, ``rank_p95`` from the joint runs;
    ``evidence``: :func:`rank_evidence`. Returns ``results`` joined with both, plus ``status``
    and ``ex_aequo_group`` (:func:`barometre.decision.decide_class`), classes in order and each
    class in palmarès order (laureates, mentions, then the others by probability)."""
    table = results.join(uncertainty, how="left").join(evidence, how="left")
    table["in_tau_best"] = table["in_tau_best"].astype("boolean").fillna(False).astype(bool)
    parts = []
    for label in class_labels:
        members = table[table[class_column] == label]
        if not members.empty:
            parts.append(decide_class(members, rule, size))
    return pd.concat(parts) if parts else table.assign(status=NO_PRIZE, ex_aequo_group=0)
