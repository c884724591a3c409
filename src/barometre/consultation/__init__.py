"""Consultation lens: the citizens' agenda of a Make.org-style consultation (issue 15).

* :mod:`~barometre.consultation.readers` — the two real layouts (per-proposal counts; Make.org's
  open data), checked against their contracts with quarantine (``data/README.md``);
* :mod:`~barometre.consultation.scoring` — Make-compatible scores, half-widths and zones, and
  the honest scoring beside them (zone probabilities under a Dirichlet posterior);
* :mod:`~barometre.consultation.themes` — themes from keywords or a declared French lexicon;
* :mod:`~barometre.consultation.territories` — participation per département and region
  against the baromètre's engagement of the same territory;
* :mod:`~barometre.consultation.demo` — a seeded synthetic « Mieux vivre en ville »
  consultation in either layout;
* :mod:`~barometre.consultation.build` — ``barometre consultation build``: runs the stages of
  :mod:`~barometre.consultation.stages` (read, score, themes, territories, tables), writes the
  agenda's partials with :mod:`~barometre.consultation.agenda` (its figure:
  :mod:`~barometre.consultation.figures`), renders and writes the manifest;
* :mod:`~barometre.consultation.cli` — the ``barometre consultation`` commands.
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
