"""Consultation lens: the citizens' agenda of a Make.org-style consultation (issue 15).

* :mod:`~barometre.consultation.readers` — the two real layouts (per-proposal counts; Make.org's
  open data), checked against their contracts with quarantine (``data/README.md``);
* :mod:`~barometre.consultation.scoring` — Make-compatible scores, half-widths and zones, and
  the honest scoring beside them (zone probabilities under a Dirichlet posterior).
"""

from __future__ import annotations

from barometre.consultation.readers import (
    COUNT_COLUMNS,
    Consultation,
    detect_layout,
    read_consultation,
    read_counts,
    read_opendata,
)

__all__ = [
    "COUNT_COLUMNS",
    "Consultation",
    "detect_layout",
    "read_consultation",
    "read_counts",
    "read_opendata",
]
