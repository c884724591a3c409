"""Scoring the attacks against the confidential truth: per attack family, the suppressed small
counts it tried and those it recovered (:func:`barometre.disclosure_attacks.feasible.is_recovered`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from barometre.disclosure import DEFAULT_THRESHOLD
from barometre.disclosure_attacks.feasible import CellKnowledge, feasible_size, is_recovered
from barometre.disclosure_attacks.published import (
    PublishedEdition,
    blank_cells,
    suppressed_cells,
)

ATTACKS = ("products", "model_inversion", "margins", "editions")


@dataclass
class AttackReport:
    """Outcome of the attacks on one edition: per attack, the suppressed small cells it tried
    and those it recovered (:mod:`barometre.disclosure_attacks`), with examples."""

    edition: str
    threshold: int
    min_ambiguity: int
    suppressed: int
    small: int
    attempted: dict[str, int]
    recovered: dict[str, int]
    exact: dict[str, int]
    examples: dict[str, list[str]]
    cells_recovered: int = 0
    #: small counts among the labelled cells (« < 11 »), the blank cells of unranked communes aside
    small_labelled: int = 0

    @property
    def total_recovered(self) -> int:
        """Distinct suppressed small counts recovered by at least one attack."""
        return self.cells_recovered

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "edition": self.edition,
                    "attack": a,
                    "suppressed": self.suppressed,
                    "small": self.small,
                    "attempted": self.attempted.get(a, 0),
                    "recovered": self.recovered.get(a, 0),
                    "exact": self.exact.get(a, 0),
                }
                for a in ATTACKS
            ]
        )


def score_knowledge(
    published: PublishedEdition,
    truth: pd.DataFrame,
    log: Mapping[tuple[str, str], Mapping[str, tuple[float, float]]],
    knowledge: Mapping[tuple[str, str], CellKnowledge],
    threshold: int = DEFAULT_THRESHOLD,
    min_ambiguity: int | None = None,
) -> AttackReport:
    """Score the attacks of one edition against the confidential truth."""
    need = threshold - 1 if min_ambiguity is None else min_ambiguity
    hidden = suppressed_cells(published)
    attempted = dict.fromkeys(ATTACKS, 0)
    recovered = dict.fromkeys(ATTACKS, 0)
    exact = dict.fromkeys(ATTACKS, 0)
    examples: dict[str, list[str]] = {a: [] for a in ATTACKS}
    small = small_labelled = 0
    recovered_cells: set[tuple[str, str]] = set()
    # the labelled cells and the blank ones (counts of communes the tables do not rank)
    for key in sorted(set(hidden) | blank_cells(published)):
        code, column = key
        if code not in truth.index or column not in truth.columns:
            continue
        value = float(truth.at[code, column])
        if not 1 <= value < threshold:
            continue
        small += 1
        small_labelled += key in hidden
        by_family: dict[str, list[tuple[float, float]]] = {}
        for attack, interval in log.get(key, {}).items():
            by_family.setdefault(attack.split(":", 1)[0], []).append(interval)
        labelled = key in hidden
        for family, intervals in by_family.items():
            attempted[family] += 1
            if any(math.isnan(i[0]) for i in intervals):
                continue  # refuted
            # the family's intervals met as the attacker meets them: one that contradicts
            # what the others say is a wrong model of the attacker's, and is dropped
            cell = CellKnowledge(1.0, threshold - 1.0) if labelled else CellKnowledge()
            for interval in intervals:
                cell.narrow(*interval, family)
            lo, hi = cell.lo, cell.hi
            if is_recovered(value, lo, hi, threshold, need):
                recovered[family] += 1
                recovered_cells.add(key)
                if feasible_size(lo, hi, threshold) == 1:
                    exact[family] += 1
                if len(examples[family]) < 5:
                    examples[family].append(
                        f"{code} {column}: true {value:g}, attacker [{lo:g}, {hi:g}]"
                    )
        known = knowledge.get(key)
        if known is not None and is_recovered(value, known.lo, known.hi, threshold, need):
            recovered_cells.add(key)  # every attack together
    return AttackReport(
        published.edition,
        threshold,
        need,
        len(hidden),
        small,
        attempted,
        recovered,
        exact,
        examples,
        len(recovered_cells),
        small_labelled,
    )


def attack_table(reports: Sequence[AttackReport]) -> pd.DataFrame:
    """One row per edition and attack: suppressed small cells attempted, recovered, exact."""
    return pd.concat([r.table() for r in reports], ignore_index=True) if reports else pd.DataFrame()
