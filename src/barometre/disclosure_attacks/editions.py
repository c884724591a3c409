"""Attack 4: two editions' published counts of a commune linked by their definitions."""

from __future__ import annotations

import math
from collections.abc import Mapping

from barometre.disclosure import PERSON_COUNTS
from barometre.disclosure_attacks.feasible import CellKnowledge
from barometre.disclosure_attacks.published import PublishedEdition


def edition_links(first: PublishedEdition, second: PublishedEdition) -> list[tuple[str, str]]:
    """Relations between the two editions' published counts of a commune, from their
    definitions: ``"monotone"`` (the same stock at two dates: non-decreasing) or ``"equal"``
    (the same quantity). Flows of different years, or a stock and a flow, are unrelated."""
    links = []
    for count in PERSON_COUNTS:
        a = first.definitions.get("jva_matches", "flow") if count == "jva_matches" else "flow"
        b = second.definitions.get("jva_matches", "flow") if count == "jva_matches" else "flow"
        if a == b == "stock":
            links.append((count, "monotone"))
        elif first.edition == second.edition:
            links.append((count, "equal"))
    return links


def edition_attack(
    first: PublishedEdition,
    second: PublishedEdition,
    knowledge: Mapping[str, dict[tuple[str, str], CellKnowledge]],
) -> dict[str, dict[tuple[str, str], tuple[float, float]]]:
    """Bounds a cell of one edition gets from the linked cell of the other (see
    :func:`edition_links`): a stock is at least the earlier stock and at most the later one."""
    out: dict[str, dict[tuple[str, str], tuple[float, float]]] = {
        first.edition: {},
        second.edition: {},
    }
    early, late = sorted((first, second), key=lambda p: p.edition)
    for count, relation in edition_links(first, second):
        codes = set(early.communes.get("code_commune", [])) & set(
            late.communes.get("code_commune", [])
        )
        for code in codes:
            k_early = knowledge[early.edition].get((code, count))
            k_late = knowledge[late.edition].get((code, count))
            if k_early is None or k_late is None:
                continue
            if relation == "monotone":
                out[early.edition][(code, count)] = (-math.inf, k_late.hi)
                out[late.edition][(code, count)] = (k_early.lo, math.inf)
            else:
                out[early.edition][(code, count)] = (k_late.lo, k_late.hi)
                out[late.edition][(code, count)] = (k_early.lo, k_early.hi)
    return out
