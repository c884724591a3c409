"""The match report and the quarantine files of a sources run.

One :class:`MatchTally` per source table says what went in and what came out, with counts that
reconcile:

* ``rows_read = quarantined + accepted`` (every data row of the file(s));
* ``accepted = out_of_scope + in_scope`` (out of scope: another year, a state or type that does
  not count, or a commune outside the build's territory);
* ``in_scope = matched + unmatched`` and ``matched = matched_exact + matched_rule``;
  ``ambiguous`` is the part of ``unmatched`` where several communes fit.

Quarantine files (one per source, ``<source>.csv``: ``file``, ``data_row``, ``reason`` and the
contract's columns as read) are staged while the sources are read and written only when the
whole run succeeded, each atomically: a failed run leaves no half-written quarantine.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from barometre.io import atomic_write_text
from barometre.sources.matching import MATCH_EXACT, MATCH_NONE, MATCH_RULE, REASON_AMBIGUOUS

REPORT_COLUMNS: tuple[str, ...] = (
    "source", "count", "file", "rows_read", "quarantined", "accepted", "out_of_scope",
    "outside_territory", "in_scope", "matched", "matched_exact", "matched_rule", "ambiguous",
    "unmatched", "match_rate", "matched_rules", "quarantine_reasons", "ambiguous_examples",
    "unmatched_examples", "notes",
)  # fmt: skip
"""Columns of the match report (``tables/match_report.csv``), one row per source table."""


@dataclass
class MatchTally:
    """One line of the match report (see the module docstring for the identities)."""

    source: str
    count: str
    file: str
    rows_read: int = 0
    quarantined: int = 0
    out_of_scope: int = 0
    outside_territory: int = 0
    matched_exact: int = 0
    matched_rule: int = 0
    ambiguous: int = 0
    unmatched: int = 0
    rules: dict[str, int] = field(default_factory=dict)
    quarantine_reasons: list[str] = field(default_factory=list)
    ambiguous_examples: list[str] = field(default_factory=list)
    unmatched_examples: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def matched(self) -> int:
        return self.matched_exact + self.matched_rule

    @property
    def in_scope(self) -> int:
        return self.matched + self.unmatched

    @property
    def accepted(self) -> int:
        return self.out_of_scope + self.in_scope

    def check(self) -> None:
        """Raise ``AssertionError`` when the tally does not reconcile."""
        if self.rows_read != self.quarantined + self.accepted:
            raise AssertionError(f"match report of {self.source} does not reconcile: {self}")
        if not 0 <= self.ambiguous <= self.unmatched or self.outside_territory > self.out_of_scope:
            raise AssertionError(f"match report of {self.source} is inconsistent: {self}")

    def as_row(self) -> dict[str, object]:
        self.check()
        rules = sorted(self.rules.items(), key=lambda item: (-item[1], item[0]))
        return {
            "source": self.source,
            "count": self.count,
            "file": self.file,
            "rows_read": self.rows_read,
            "quarantined": self.quarantined,
            "accepted": self.accepted,
            "out_of_scope": self.out_of_scope,
            "outside_territory": self.outside_territory,
            "in_scope": self.in_scope,
            "matched": self.matched,
            "matched_exact": self.matched_exact,
            "matched_rule": self.matched_rule,
            "ambiguous": self.ambiguous,
            "unmatched": self.unmatched,
            "match_rate": round(self.matched / self.in_scope, 6) if self.in_scope else None,
            "matched_rules": "; ".join(f"{rule}: {n}" for rule, n in rules if n),
            "quarantine_reasons": " | ".join(self.quarantine_reasons),
            "ambiguous_examples": " | ".join(self.ambiguous_examples),
            "unmatched_examples": " | ".join(self.unmatched_examples),
            "notes": " | ".join(self.notes),
        }


def tally(
    source: str,
    count: str,
    file: str,
    *,
    rows_read: int,
    quarantined: int,
    in_scope: pd.Series,
    placement: pd.DataFrame,
    labels: pd.Series | None = None,
    weights: pd.Series | None = None,
    territory: frozenset[str] | set[str] | None = None,
    names: Mapping[str, str] | None = None,
    n_examples: int = 5,
) -> MatchTally:
    """Build a :class:`MatchTally` from per-record flags.

    ``placement``: the matcher's result (``code_commune``, ``match``, ``rule``, ``reason``,
    ``candidates``) aligned on ``in_scope``; ``weights``: rows per record for pre-aggregated
    records (participations grouped by organisation); ``territory``: the build's commune codes
    — a record placed in another commune is out of scope (outside the territory), not
    unmatched. ``rows_read - quarantined`` must equal the weighted number of records.
    """
    w = (weights if weights is not None else pd.Series(1, index=in_scope.index)).astype("int64")
    scoped = in_scope.to_numpy(bool)
    kinds = placement["match"].to_numpy()
    codes = placement["code_commune"]
    outside = (
        (kinds != MATCH_NONE) & ~codes.isin(territory).to_numpy()
        if territory is not None
        else pd.Series(False, index=in_scope.index).to_numpy()
    )
    outside_n = int(w[scoped & outside].sum())
    inside = scoped & ~outside
    exact = int(w[inside & (kinds == MATCH_EXACT)].sum())
    rule_mask = inside & (kinds == MATCH_RULE)
    lost = inside & (kinds == MATCH_NONE)
    ambiguous_mask = lost & (placement["reason"].to_numpy() == REASON_AMBIGUOUS)
    rules = w[rule_mask].groupby(placement["rule"][rule_mask].to_numpy()).sum()
    accepted = int(w.sum())
    result = MatchTally(
        source=source,
        count=count,
        file=file,
        rows_read=int(rows_read),
        quarantined=int(quarantined),
        out_of_scope=accepted - int(w[inside].sum()),
        outside_territory=outside_n,
        matched_exact=exact,
        matched_rule=int(w[rule_mask].sum()),
        ambiguous=int(w[ambiguous_mask].sum()),
        unmatched=int(w[lost].sum()),
        rules={str(k): int(v) for k, v in rules.items()},
    )
    if labels is not None:
        names = names or {}
        if ambiguous_mask.any():
            sample = pd.DataFrame(
                {"label": labels[ambiguous_mask].astype(str), "candidates": placement["candidates"][ambiguous_mask]}
            ).drop_duplicates().head(n_examples)  # fmt: skip
            result.ambiguous_examples = [
                f"{label} → " + ", ".join(f"{c} {names.get(c, '')}".strip() for c in cands.split("|") if c)
                for label, cands in zip(sample["label"], sample["candidates"], strict=True)
            ]  # fmt: skip
        other = lost & ~ambiguous_mask
        if other.any():
            sample = pd.DataFrame(
                {"label": labels[other].astype(str), "reason": placement["reason"][other]}
            ).drop_duplicates().head(n_examples)  # fmt: skip
            result.unmatched_examples = [
                f"{reason}: {label}" if reason else label
                for label, reason in zip(sample["label"], sample["reason"], strict=True)
            ]
    if rows_read - quarantined != accepted:
        raise AssertionError(
            f"{source}: {rows_read} rows read, {quarantined} quarantined, but {accepted} records"
        )
    result.check()
    return result


def format_reasons(summary: pd.DataFrame, limit: int = 5) -> list[str]:
    """``"3 × created_at: not a calendar date (e.g. data row 4 ('2023-02-30'))"`` lines."""
    lines = [
        f"{r.rows} × {r.column + ': ' if r.column else ''}{r.message} (e.g. {r.examples})"
        for r in summary.head(limit).itertuples(index=False)
    ]
    if len(summary) > limit:
        lines.append(f"{len(summary) - limit} other reasons")
    return lines


class QuarantineStage:
    """Quarantine files staged during a run and written at its end (:meth:`commit`).

    ``directory`` None: nothing is written (the counts still reach the report).
    """

    def __init__(self, directory: Path | None) -> None:
        self.directory = Path(directory) if directory is not None else None
        self._staged: dict[str, Path] = {}
        self._frames: dict[str, pd.DataFrame] = {}

    def add(self, source: str, frame: pd.DataFrame) -> None:
        """Stage the quarantine rows of ``source`` (sorted by file and data row)."""
        self._frames[source] = frame.sort_values(["file", "data_row"], kind="mergesort")

    def staging_path(self, source: str) -> Path | None:
        """A temporary path where a streaming engine may write the quarantine of ``source``
        (CSV with a header); None when nothing is to be written."""
        if self.directory is None:
            return None
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f".{source}.csv.partial"
        self._staged[source] = path
        return path

    def commit(self) -> dict[str, Path]:
        """Write every staged quarantine (atomically, one file per source); returns the paths."""
        if self.directory is None:
            self.discard()
            return {}
        self.directory.mkdir(parents=True, exist_ok=True)
        written = {}
        for source, frame in self._frames.items():
            target = self.directory / f"{source}.csv"
            atomic_write_text(target, frame.to_csv(index=False, lineterminator="\n"))
            written[source] = target
        for source, staged in self._staged.items():
            target = self.directory / f"{source}.csv"
            if staged.exists():
                os.replace(staged, target)
                written[source] = target
        self._staged.clear()
        self._frames.clear()
        return written

    def discard(self) -> None:
        """Remove staged files (after a hard error): nothing half-done is left behind."""
        for staged in self._staged.values():
            staged.unlink(missing_ok=True)
        self._staged.clear()
        self._frames.clear()
