"""One extract against its contract, before a build: ``barometre validate --source NAME FILE``.

The analysts' first step when an extract arrives: :func:`validate_file` reads the file exactly
as a build would (same reader, same contract, same tolerance) and returns what was read,
accepted and quarantined, with the reasons; a file that cannot be used raises
:class:`~barometre.sources.common.SourceError` with the message a build would stop with.
Checks that need another file (an organisation id known to the organisations, a mission id
known to the missions) are left to the build, where they show in the match report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from barometre.sources import helloasso, jeveuxaider, rna
from barometre.sources.contracts import DEFAULT_MAX_QUARANTINE_SHARE, Checked, Contract
from barometre.sources.counts import SOURCES
from barometre.sources.report import format_reasons

CONTRACTS: dict[str, Contract] = {
    "rna": rna.contract(),
    "helloasso_organizations": helloasso.ORGANIZATIONS_CONTRACT,
    "helloasso_forms": helloasso.FORMS_CONTRACT,
    "helloasso_participations": helloasso.PARTICIPATIONS_CONTRACT,
    "jeveuxaider_missions": jeveuxaider.MISSIONS_CONTRACT,
    "jeveuxaider_participations": jeveuxaider.PARTICIPATIONS_CONTRACT,
}
"""The contract of each source name accepted by ``barometre validate``."""


@dataclass
class Validation:
    """What :func:`validate_file` found in a usable file."""

    source: str
    path: Path
    description: str
    rows_read: int
    quarantined: int
    reasons: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE

    @property
    def accepted(self) -> int:
        return self.rows_read - self.quarantined

    def lines(self) -> list[str]:
        """The report printed by ``barometre validate``."""
        width = len(f"{self.rows_read:,}")
        fraction = self.quarantined / self.rows_read if self.rows_read else 0.0
        share = f" ({fraction:.1%})" if not 0 < fraction < 0.001 else " (<0.1%)"
        out = [
            f"{self.source}: {self.path.name} ({self.description})",
            f"  rows read    {self.rows_read:>{width},}",
            f"  accepted     {self.accepted:>{width},}",
            f"  quarantined  {self.quarantined:>{width},}{share}",
        ]
        if len(self.reasons):
            out.append("  reasons:")
            out += [f"    {line}" for line in format_reasons(self.reasons, limit=20)]
        if self.notes:
            out.append("  notes:")
            out += [f"    {note}" for note in self.notes]
        verdict = "usable"
        if self.quarantined:
            rows = "row" if self.quarantined == 1 else "rows"
            verdict += (
                f": {self.quarantined:,} quarantined {rows} left out (tolerance "
                f"{self.max_quarantine_share:.0%} of the rows)"
            )
        out.append(f"result: {verdict}")
        return out


def _from_checked(source: str, path: Path, checked: Checked, share: float) -> Validation:
    what = ", ".join(sorted(set(checked.encodings)))
    layouts = sorted(set(checked.layouts))
    description = f"{'Parquet' if what == 'parquet' else 'CSV, ' + what}" + (f", {', '.join(layouts)}" if layouts else "")  # fmt: skip
    return Validation(source, path, description, checked.rows_read, checked.quarantined, checked.reasons(), checked.notes, share)  # fmt: skip


def validate_file(
    source: str,
    path: Path,
    *,
    max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE,
    quarantine_out: Path | None = None,
) -> Validation:
    """Check one file of ``source`` (a key of :data:`CONTRACTS`) against its contract.

    Raises :class:`~barometre.sources.common.SourceError` when the file is unusable and
    ``ValueError`` for an unknown source. ``quarantine_out``: where to write the quarantined
    rows (CSV), if any.
    """
    if source not in CONTRACTS:
        raise ValueError(f"unknown source {source!r}; one of: {', '.join(SOURCES)}")
    path = Path(path)
    if source == "helloasso_participations":
        summary = helloasso.participations_by_organization(
            path, 0, helloasso.DEFAULT_ITEM_STATES,
            max_quarantine_share=max_quarantine_share, quarantine_path=quarantine_out,
        )  # fmt: skip
        description = "Parquet" if summary.encoding == "parquet" else f"CSV, {summary.encoding}"
        return Validation(
            source, path, description + ", checked and aggregated with DuckDB",
            summary.rows_read, summary.quarantined, summary.reasons, summary.notes,
            max_quarantine_share,
        )  # fmt: skip
    if source == "rna":
        match = rna.FILE_PATTERN.match(path.name)
        extract = None
        if match:
            day = match.group(2)
            extract = f"{day[:4]}-{day[4:6]}-{day[6:]}"
        item = rna.RnaFile(path, match.group(1).lower() if match else "", extract)
        checked = rna.read_rna([item], max_quarantine_share=max_quarantine_share)
    else:
        checked = helloasso.read_checked(path, CONTRACTS[source], max_quarantine_share)
    if quarantine_out is not None and checked.quarantined:
        Path(quarantine_out).parent.mkdir(parents=True, exist_ok=True)
        checked.quarantine.to_csv(quarantine_out, index=False, lineterminator="\n")
    return _from_checked(source, path, checked, max_quarantine_share)
