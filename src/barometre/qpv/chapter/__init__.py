"""The « Politique de la ville » chapter of a territorial report: inputs, profile, text, writers.

:func:`compute_qpv_profile` (:mod:`~barometre.qpv.chapter.compute`) writes nothing: it takes the
QPV list, the build's confidential count table, the count models and the RNA's associations,
and returns a :class:`QpvProfile`. :func:`load_qpv_inputs`
(:mod:`~barometre.qpv.chapter.inputs`) reads a build's inputs for it.
:mod:`~barometre.qpv.chapter.text` turns the profile into the chapter's Markdown (its tables in
:mod:`~barometre.qpv.chapter.tables`) and report variables (no I/O); :mod:`~barometre.qpv.chapter.exports` holds the export frames and their data
dictionary; :func:`write_qpv_chapter` (:mod:`~barometre.qpv.chapter.writer`) writes the chapter's
Markdown (``tables/qpv.md``, included by ``report/territoire.qmd``), its map and its exports
(CSV and XLSX with their data dictionary).
"""

from barometre.qpv.chapter.compute import (
    N_DRAWS,
    QpvProfile,
    compute_qpv_profile,
    hidden_counts,
    territory_codes,
)
from barometre.qpv.chapter.exports import (
    EXPORT_DOCS_SPEC,
    export_docs,
    export_frames,
    write_chapter_exports,
)
from barometre.qpv.chapter.inputs import (
    NOMENCLATURE,
    QpvInputs,
    default_qpv_file,
    load_qpv_inputs,
    raw_dir_of,
    read_associations,
)
from barometre.qpv.chapter.tables import (
    CONTRACT_HEADERS,
    SECRET,
    SHORT_HEADERS,
    class_rates_markdown,
    contracts_markdown,
    engagement_markdown,
    reconciliation_markdown,
    with_interval,
)
from barometre.qpv.chapter.text import (
    MAX_LISTED_CREATIONS,
    chapter_markdown,
    chapter_variables,
    creations_digest,
    engagement_sentence,
)
from barometre.qpv.chapter.writer import figure_qpv_map, write_qpv_chapter

__all__ = [
    "CONTRACT_HEADERS",
    "EXPORT_DOCS_SPEC",
    "MAX_LISTED_CREATIONS",
    "NOMENCLATURE",
    "N_DRAWS",
    "SECRET",
    "SHORT_HEADERS",
    "QpvInputs",
    "QpvProfile",
    "chapter_markdown",
    "chapter_variables",
    "class_rates_markdown",
    "compute_qpv_profile",
    "contracts_markdown",
    "creations_digest",
    "default_qpv_file",
    "engagement_markdown",
    "engagement_sentence",
    "export_docs",
    "export_frames",
    "figure_qpv_map",
    "hidden_counts",
    "load_qpv_inputs",
    "raw_dir_of",
    "read_associations",
    "reconciliation_markdown",
    "territory_codes",
    "with_interval",
    "write_chapter_exports",
    "write_qpv_chapter",
]
