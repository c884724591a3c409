"""The campaign: every attack replayed on one or two editions, what the attacker ends up knowing
of each person-count cell, and the score of that knowledge against the confidential truth."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from barometre.disclosure import DEFAULT_THRESHOLD, DERIVED_INDICATORS, PERSON_COUNTS
from barometre.disclosure_attacks.editions import edition_attack
from barometre.disclosure_attacks.feasible import CellKnowledge, parse_number
from barometre.disclosure_attacks.inversion import ModelInverter
from barometre.disclosure_attacks.margins import margin_attack, published_totals
from barometre.disclosure_attacks.products import (
    distinguishing_attack,
    eligibility_attack,
    product_attack,
)
from barometre.disclosure_attacks.published import (
    PublishedEdition,
    blank_cells,
    ground_truth,
    load_published,
    suppressed_cells,
)
from barometre.disclosure_attacks.scoring import AttackReport, score_knowledge

#: Candidate counts tried by the single-count attacks: far above the threshold, so that a
#: secondary suppression (a count ≥ T hidden to protect another) is found when it can be.
MAX_CANDIDATE = 500

#: The baromètre's criteria holding a person count, for a published edition whose hierarchy
#: cannot be read (:attr:`PublishedEdition.criteria` empty).
KNOWN_CRITERIA: dict[str, list[str]] = {
    "dynamisme": ["ha_campaigns", "ha_participants", "ha_participants_per_campaign"],
    "engagement": ["jva_matches"],
    "generosite": ["ha_donations"],
}

Cell = tuple[str, str]
"""A person-count cell: (commune code, count column)."""
Log = dict[Cell, dict[str, tuple[float, float]]]
"""Per cell, the interval each attack alone gave."""


def _reveals_person_count(code: str) -> bool:
    return code in PERSON_COUNTS or any(code in d for d in DERIVED_INDICATORS.values())


def _criteria_of(published: PublishedEdition) -> dict[str, list[str]]:
    """Criterion → its indicators, as the annex and the published column names say: the
    criteria with an indicator that reveals a person count (the others hide none)."""
    known = {
        c: members
        for c, members in (published.criteria or KNOWN_CRITERIA).items()
        if any(_reveals_person_count(m) for m in members)
    }
    return {
        c: [m for m in members if f"{m}_normalised" in published.communes.columns]
        for c, members in known.items()
        if c in published.communes.columns
    }


def to_public_range(cell: CellKnowledge, threshold: int = DEFAULT_THRESHOLD) -> None:
    """Narrow a labelled cell to what « < threshold » says: ``1 … threshold − 1``."""
    cell.lo, cell.hi = max(cell.lo, 1), min(cell.hi, threshold - 1)


def read_published_cells(published: PublishedEdition, knowledge: dict[Cell, CellKnowledge]) -> None:
    """Enter every person-count cell of the published tables in ``knowledge``: what is
    published as a number is known exactly; a label or a blank says nothing (yet)."""
    for table in published.sources().values():
        for column in PERSON_COUNTS:
            if column not in table.columns:
                continue
            for code, text in zip(table["code_commune"], table[column]):
                cell = knowledge.setdefault((code, column), CellKnowledge())
                value = parse_number(text)
                if value is not None:
                    cell.lo = cell.hi = value


def record_interval(
    knowledge: Mapping[Cell, CellKnowledge],
    log: Log,
    key: Cell,
    attack: str,
    interval: tuple[float, float] | None,
) -> None:
    """Log what one attack gave on a cell and narrow the attacker's knowledge with it: NaN
    bounds (every candidate refuted) teach nothing; an interval disjoint from what is known
    replaces it (evidence beats the label: a count found ≥ T was a secondary suppression)."""
    if interval is None:
        return
    log.setdefault(key, {})[attack] = interval
    if any(math.isnan(v) for v in interval):
        return  # the published value refutes every candidate: nothing learnt
    cell = knowledge[key]
    if interval[0] > cell.hi or interval[1] < cell.lo:
        cell.lo, cell.hi = math.ceil(interval[0] - 1e-9), math.floor(interval[1] + 1e-9)
        cell.by.add(attack)
    else:
        cell.narrow(interval[0], interval[1], attack)


def row_intervals(
    row: Mapping[str, Any],
    count: str,
    name: str,
    candidates: np.ndarray,
    information_rule: Mapping[str, Any] | None,
    inverter: ModelInverter | None,
) -> Iterator[tuple[str, tuple[float, float] | None]]:
    """The attacks on one published row of table ``name`` for a suppressed ``count``: (attack
    name, interval or None) for products, the distinguishing value, the eligibility rule and,
    when the table publishes model outputs, each column the model inversion used."""
    yield f"products:{name}", product_attack(row, count, candidates)
    yield f"products:{name}:distinguishing", distinguishing_attack(row, count, candidates)
    yield f"products:{name}:eligibility", eligibility_attack(row, count, information_rule)
    if inverter is not None:
        for used, interval in inverter.attack_row(row, count, candidates).items():
            yield f"model_inversion:{name}:{used}", interval


def attack_rows(
    published: PublishedEdition,
    hidden: Mapping[Cell, set[str]],
    knowledge: dict[Cell, CellKnowledge],
    log: Log,
) -> None:
    """Products and model inversion on every published row holding a suppressed cell."""
    candidates = np.arange(1, MAX_CANDIDATE + 1, dtype=float)
    inverters = {
        name: ModelInverter.build(table, published.count_model, _criteria_of(published))
        for name, table in published.sources().items()
        if any(c.endswith(("_ranked_per_1000", "_normalised")) for c in table.columns)
    }
    sources = published.sources()
    for (code, column), files in hidden.items():
        for name in sorted(files):
            table = sources[name]
            rows = table[table["code_commune"] == code]
            if rows.empty:
                continue
            row = rows.iloc[0].to_dict()
            for attack, interval in row_intervals(
                row, column, name, candidates, published.information_rule, inverters.get(name)
            ):
                record_interval(knowledge, log, (code, column), attack, interval)


def attack_margins(
    published: PublishedEdition,
    hidden: Mapping[Cell, set[str]],
    knowledge: dict[Cell, CellKnowledge],
    log: Log,
) -> None:
    """Margins on the suppressed cells and the blank ones (communes not ranked), twice (what one
    total reveals can open another), each round followed by the logical link « a donation is
    one kind of participation » (donations ≤ participants)."""
    blank = blank_cells(published)
    totals = published_totals(published)
    for _ in range(2):
        for total in totals:
            for code, interval in margin_attack(total, knowledge).items():
                key = (code, total.count)
                if key in blank:
                    knowledge.setdefault(key, CellKnowledge())
                if key in hidden or key in blank:
                    log.setdefault(key, {})[f"margins:{total.name}"] = interval
                    knowledge[key].narrow(*interval, f"margins:{total.name}")
        for (code, column), cell in list(knowledge.items()):
            if column != "ha_participants" or not math.isfinite(cell.hi):
                continue
            key = (code, "ha_donations")
            if (key in hidden or key in blank) and key in knowledge:
                log.setdefault(key, {}).setdefault("margins:donations≤participants", (0.0, cell.hi))
                knowledge[key].narrow(0.0, cell.hi, "margins:donations≤participants")


def attack_edition(
    published: PublishedEdition,
    truth: pd.DataFrame,
    threshold: int = DEFAULT_THRESHOLD,
    knowledge: dict[Cell, CellKnowledge] | None = None,
    log: Log | None = None,
) -> dict[Cell, CellKnowledge]:
    """Run products, model inversion and margins on one edition; return the attacker's
    knowledge of every person-count cell of the published tables (``log`` collects, per cell,
    the interval each attack alone gave)."""
    knowledge = {} if knowledge is None else knowledge
    log = {} if log is None else log
    hidden = suppressed_cells(published)
    read_published_cells(published, knowledge)
    # a label in a count column says 1 … T−1 (the public range)
    for key in hidden:
        if knowledge[key].lo != knowledge[key].hi:
            to_public_range(knowledge[key], threshold)
    attack_rows(published, hidden, knowledge, log)
    # public range again for the cells no attack touched
    for key in hidden:
        if not knowledge[key].by:
            to_public_range(knowledge[key], threshold)
    attack_margins(published, hidden, knowledge, log)
    return knowledge


def run_attacks(
    build_dirs: Sequence[Path | str],
    threshold: int = DEFAULT_THRESHOLD,
    min_ambiguity: int | None = None,
) -> list[AttackReport]:
    """Every attack on one or two build folders (two: the editions are also differenced)."""
    published = [load_published(b) for b in build_dirs]
    truths = [ground_truth(b) for b in build_dirs]
    knowledge: dict[str, dict[Cell, CellKnowledge]] = {}
    logs: dict[str, Log] = {}
    for pub, truth in zip(published, truths):
        logs[pub.edition] = {}
        knowledge[pub.edition] = attack_edition(pub, truth, threshold, log=logs[pub.edition])
    if len(published) == 2:
        first, second = published
        for edition, bounds in edition_attack(first, second, knowledge).items():
            hidden = suppressed_cells(first if first.edition == edition else second)
            for key, interval in bounds.items():
                if key in hidden:
                    logs[edition].setdefault(key, {})["editions"] = interval
                    knowledge[edition][key].narrow(*interval, "editions")
    return [
        score_knowledge(
            pub, truth, logs[pub.edition], knowledge[pub.edition], threshold, min_ambiguity
        )
        for pub, truth in zip(published, truths)
    ]


def deliberately_unprotected(
    table: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD
) -> pd.DataFrame:
    """A per-commune table published the naive way: only the person counts themselves are
    labelled, every derived column is left as computed (what the attacks must break)."""
    out = table.astype(object).copy()
    for column in PERSON_COUNTS:
        if column in out.columns:
            values = pd.to_numeric(table[column], errors="coerce")
            out.loc[(values > 0) & (values < threshold), column] = f"< {threshold}"
    return out
