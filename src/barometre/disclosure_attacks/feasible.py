"""Feasible sets: what a printed number tells the attacker, and when an interval recovers a count.

The primitives every attack shares (:mod:`barometre.disclosure_attacks`): the precision of a
printed number, a published cell as a number, the attacker's interval on one count and the test
that an interval recovers a small count.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from barometre.disclosure import DEFAULT_THRESHOLD


def printed_tolerance(text: str) -> float:
    """Half a unit of the last printed digit of a number (``"12.35"`` → 0.005), plus the float
    error of a full-precision value: the attacker knows the true value within it."""
    text = text.strip()
    match = re.fullmatch(r"[-+]?(\d*)\.?(\d*)(?:[eE]([-+]?\d+))?", text)
    if not match:
        return math.inf
    decimals = len(match.group(2) or "")
    exponent = int(match.group(3) or 0)
    value = abs(float(text)) if text not in {"", ".", "-", "+"} else 0.0
    return 0.5 * 10.0 ** (exponent - decimals) + 1e-9 * value


def parse_number(text: object) -> float | None:
    """A published cell as a number, or None (empty, a label such as « < 11 », « n.d. »)."""
    if text is None:
        return None
    if isinstance(text, (int, float, np.integer, np.floating)):
        return None if (isinstance(text, float) and math.isnan(text)) else float(text)
    cleaned = str(text).strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
    if not cleaned or not re.fullmatch(r"[-+−]?\d*[.,]?\d+(?:[eE][-+]?\d+)?", cleaned):
        return None
    return float(cleaned.replace(",", ".").replace("−", "-"))


@dataclass
class CellKnowledge:
    """What the attacker knows of one count: an integer interval ``[lo, hi]`` and the attacks
    that narrowed it (``hi`` may be ``math.inf``)."""

    lo: float = 0.0
    hi: float = math.inf
    by: set[str] = field(default_factory=set)

    def narrow(self, lo: float, hi: float, attack: str) -> None:
        lo = math.ceil(lo - 1e-9) if math.isfinite(lo) else -math.inf
        hi = math.floor(hi + 1e-9) if math.isfinite(hi) else math.inf
        if lo > self.lo or hi < self.hi:
            if max(lo, self.lo) > min(hi, self.hi):
                return  # refuted by what is already known: the attacker's model is wrong here
            self.by.add(attack)
            self.lo, self.hi = max(lo, self.lo), min(hi, self.hi)


def feasible_size(lo: float, hi: float, threshold: int = DEFAULT_THRESHOLD) -> int:
    """Number of integers of ``[lo, hi]`` within the public range ``1 … threshold − 1``."""
    low = max(1, math.ceil(lo - 1e-9)) if math.isfinite(lo) else 1
    high = min(threshold - 1, math.floor(hi + 1e-9)) if math.isfinite(hi) else threshold - 1
    return max(0, high - low + 1)


def is_recovered(
    truth: float,
    lo: float,
    hi: float,
    threshold: int = DEFAULT_THRESHOLD,
    min_ambiguity: int | None = None,
) -> bool:
    """Whether an interval ``[lo, hi]`` recovers a small true count (what « recovered » means:
    :mod:`barometre.disclosure_attacks`)."""
    need = threshold - 1 if min_ambiguity is None else min_ambiguity
    if not (1 <= truth < threshold) or not (lo - 1e-9 <= truth <= hi + 1e-9):
        return False
    return 0 < feasible_size(lo, hi, threshold) < need


def numeric_column(table: pd.DataFrame, column: str) -> pd.Series:
    """A published column as floats (NaN where it is not a number, or all NaN when absent)."""
    if column not in table.columns:
        return pd.Series(np.nan, index=table.index)
    return table[column].map(parse_number).astype(float)


def candidates_matching(values: np.ndarray, published: float, tolerance: float) -> np.ndarray:
    """Mask of the candidate predictions equal to a published value within its tolerance."""
    return np.abs(values - published) <= tolerance


def mask_to_interval(candidates: np.ndarray, mask: np.ndarray) -> tuple[float, float] | None:
    """The smallest interval holding every matching candidate (None when none matches)."""
    hits = candidates[mask]
    if not len(hits):
        return None
    return float(hits.min()), float(hits.max())
