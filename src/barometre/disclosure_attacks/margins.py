"""Attack 3: published totals (national, territorial, rates × population, QPV contracts) minus
the published cells of the set they sum, with what the other attacks learnt about each cell."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from barometre.disclosure import PERSON_COUNTS
from barometre.disclosure_attacks.feasible import (
    CellKnowledge,
    numeric_column,
    parse_number,
    printed_tolerance,
)
from barometre.disclosure_attacks.published import PublishedEdition, qpv_groups


@dataclass(frozen=True)
class PublishedTotal:
    """A published total of a person count over a set of communes, known within ``[lo, hi]``."""

    name: str
    count: str
    communes: tuple[str, ...]
    lo: float
    hi: float


def published_totals(published: PublishedEdition) -> list[PublishedTotal]:
    """The totals an attacker can read or compute: national key figures (over every commune of
    the build), each territory's key figures and « Territoire » rate (over the communes of its
    export) and the « France » rate (over the communes the national table ranks)."""
    totals: list[PublishedTotal] = []
    every = tuple(published.communes.get("code_commune", pd.Series(dtype=str)))
    national = published.variables.get("national", {}) or {}
    for count in PERSON_COUNTS:
        value = parse_number(national.get(count))
        if value is not None:
            totals.append(
                PublishedTotal(f"national.{count}", count, every, value - 0.5, value + 0.5)
            )
    ranked = published.communes
    if "eligible" in ranked.columns:
        ranked = ranked[ranked["eligible"].astype(str).isin(["True", "oui", "true"])]
    ranked_population = numeric_column(ranked, "population").sum()
    for slug, variables in published.territory_variables.items():
        export = next((t for n, t in published.exports.items() if f"/{slug}/" in n), pd.DataFrame())
        if export.empty:
            continue
        members = tuple(export["code_commune"])
        population = numeric_column(export, "population").sum()
        key = variables.get("key", {}) or {}
        for count in PERSON_COUNTS:
            value = parse_number(key.get(count))
            if value is not None:
                totals.append(
                    PublishedTotal(f"{slug}.key.{count}", count, members, value - 0.5, value + 0.5)
                )
        totals.extend(contract_totals(published, slug))
        rates = published.territory_rates.get(slug)
        if rates is None or rates.empty:
            continue
        titles = rates.iloc[:, 0].tolist()
        for count in PERSON_COUNTS:
            row_index = _rate_row(titles, count, published)
            if row_index is None:
                continue
            for column, group, pop in (
                ("Territoire", members, population),
                ("France", tuple(ranked["code_commune"]), ranked_population),
            ):
                if column not in rates.columns:
                    continue
                total = rate_total(
                    f"{slug}.rates.{column}.{count}",
                    count,
                    group,
                    str(rates.iloc[row_index][column]),
                    pop,
                )
                if total is not None:
                    totals.append(total)
    return totals


def rate_total(
    name: str, count: str, communes: tuple[str, ...], text: str, population: float | None
) -> PublishedTotal | None:
    """The total a printed rate per 1 000 gives over ``communes`` of ``population`` inhabitants,
    within the rate's printing precision (None when the text is not a number)."""
    rate = parse_number(text)
    if rate is None or not population:
        return None
    half = printed_tolerance(text.replace(",", ".").replace("\u202f", "").replace(" ", ""))
    return PublishedTotal(
        name,
        count,
        communes,
        (rate - half) * population / 1000.0,
        (rate + half) * population / 1000.0,
    )


def contract_totals(published: PublishedEdition, slug: str) -> list[PublishedTotal]:
    """The totals the QPV export by EPCI (``*-qpv-contrats.csv``) gives: each rate per 1 000 ×
    the published population of the EPCI's communes holding a QPV, over those communes (blank
    EPCI code: the whole territory's)."""
    export = next(
        (t for n, t in published.exports.items() if f"/{slug}/" in n and n.endswith("-qpv-contrats.csv")),
        pd.DataFrame(),
    )  # fmt: skip
    if export.empty:
        return []
    groups = qpv_groups(published, slug)
    totals = []
    for _, row in export.iterrows():
        members = groups.get(str(row.get("code_epci", "")).strip())
        population = parse_number(row.get("population_with_qpv"))
        if not members or not population:
            continue
        for count in PERSON_COUNTS:
            total = rate_total(
                f"{slug}.qpv-contrats.{row.get('code_epci') or 'ensemble'}.{count}",
                count,
                members,
                str(row.get(f"{count}_per_1000", "")).strip(),
                population,
            )
            if total is not None:
                totals.append(total)
    return totals


def _rate_row(titles: Sequence[str], count: str, published: PublishedEdition) -> int | None:
    """Row of the territorial rates table for a count (by its title words)."""
    words = {
        "ha_participants": "participants aux campagnes",
        "jva_matches": "mises en relation",
        "ha_donations": "dons",
    }
    needle = words.get(count)
    for i, title in enumerate(titles):
        text = str(title).lower()
        if (
            needle
            and text.startswith(needle.split()[0])
            and needle in text
            and "par campagne" not in text
        ):
            return i
    return None


def margin_attack(
    total: PublishedTotal,
    knowledge: Mapping[tuple[str, str], CellKnowledge],
) -> dict[str, tuple[float, float]]:
    """Bounds on each not-exactly-known cell of a total: ``[S_lo − Σ others' hi, S_hi − Σ others' lo]``."""
    cells = [knowledge.get((code, total.count), CellKnowledge()) for code in total.communes]
    lo = np.array([c.lo for c in cells], dtype=float)
    hi = np.array([c.hi for c in cells], dtype=float)
    unknown = [i for i in range(len(cells)) if lo[i] != hi[i]]
    if not unknown:
        return {}
    sum_lo, sum_hi = lo.sum(), hi.sum()
    out = {}
    for i in unknown:
        others_hi = sum_hi - hi[i] if math.isfinite(hi[i]) else (hi[np.arange(len(hi)) != i].sum())
        others_lo = sum_lo - lo[i]
        out[total.communes[i]] = (total.lo - others_hi, total.hi - others_lo)
    return out
