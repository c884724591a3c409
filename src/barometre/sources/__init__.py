"""Raw extracts of the three sources (RNA, HelloAsso, JeVeuxAider) → checked records placed in
communes → counts per commune, with a match report and quarantine files.

Modules, in the order a record goes through them:

* :mod:`~barometre.sources.reading` — CSV (encoding detected by
  :mod:`~barometre.sources.encoding`, structure checked) or Parquet, the contract's columns
  only (personal columns never leave the file), every value as text;
* :mod:`~barometre.sources.contracts` — pandera contracts: row-level checks (failing rows are
  quarantined with their reasons; the same checks compiled to SQL for streamed tables),
  accepted records typed and checked again, frame contracts of the stage's boundaries;
* :mod:`~barometre.sources.matching` — INSEE code or postcode + city name → commune of the
  COG vintage (:class:`CommuneMatcher`);
* :mod:`~barometre.sources.rna`, :mod:`~barometre.sources.helloasso`,
  :mod:`~barometre.sources.jeveuxaider` — layouts, contracts and loaders of each source;
* :mod:`~barometre.sources.counts` — :func:`~barometre.sources.counts.commune_counts`, the one
  entry point of the pipeline, counting each table with :mod:`~barometre.sources.counting`;
  :mod:`~barometre.sources.report` — match report, quarantine;
* :mod:`~barometre.sources.validate` — one file against its contract (``barometre validate``).

The input contracts are documented in ``data/README.md``.
"""

from __future__ import annotations

from barometre.sources.common import (
    DATE_PATTERN,
    DATETIME_PATTERN,
    ENCODINGS,
    NO_DATE,
    PERSONAL_COLUMN_PATTERN,
    PLM_ARRONDISSEMENTS,
    SourceError,
)
from barometre.sources.matching import (
    MATCH_EXACT,
    MATCH_NONE,
    MATCH_RULE,
    CommuneMatcher,
    harmonise_insee_codes,
    normalise_city_name,
    normalise_postcode,
    postcode_departments,
)
from barometre.sources.reading import drop_personal_columns
from barometre.sources.report import MatchTally, tally

__all__ = [
    "DATETIME_PATTERN",
    "DATE_PATTERN",
    "ENCODINGS",
    "MATCH_EXACT",
    "MATCH_NONE",
    "MATCH_RULE",
    "NO_DATE",
    "PERSONAL_COLUMN_PATTERN",
    "PLM_ARRONDISSEMENTS",
    "CommuneMatcher",
    "MatchTally",
    "SourceError",
    "drop_personal_columns",
    "harmonise_insee_codes",
    "normalise_city_name",
    "normalise_postcode",
    "postcode_departments",
    "tally",
]
