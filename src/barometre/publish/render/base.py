"""What both renderers share: the template files, the renderer choices, the output formats and
the errors a render raises."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "templates"
#: Folder of a report project that holds the templates (Quarto renders no file under a folder
#: starting with ``_`` and writes its intermediates next to the documents, never in it).
PROJECT_TEMPLATES = "_templates"
TYPST_TEMPLATE = TEMPLATES_DIR / "theme.typ"
TYPST_PARTIALS = (TEMPLATES_DIR / "typst-template.typ", TEMPLATES_DIR / "typst-show.typ")
PANDOC_TYPST_TEMPLATE = TEMPLATES_DIR / "pandoc-template.typ"
HTML_TEMPLATE = TEMPLATES_DIR / "pandoc-template.html"
HTML_TITLE_BLOCK = TEMPLATES_DIR / "title-block.html"
CSS_FILE = TEMPLATES_DIR / "barometre.css"
LUA_FILTERS = (TEMPLATES_DIR / "french.lua", TEMPLATES_DIR / "barometre-divs.lua")
#: Quarto's figure/table cross-references for the offline renderer (Quarto has its own): runs
#: between the two filters above (it wraps tables before barometre-divs.lua writes them), and
#: before --citeproc (which would take ``@fig-x`` for a citation).
CROSSREF_FILTER = TEMPLATES_DIR / "crossref.lua"
OFFLINE_LUA_FILTERS = (LUA_FILTERS[0], CROSSREF_FILTER, LUA_FILTERS[1])
#: Bibliography of the methods the reports cite (``report/references.bib``), copied next to the
#: documents; both renderers format it with pandoc's citeproc (Quarto: ``citeproc: true``).
BIBLIOGRAPHY_FILE = "references.bib"
QUARTO_PROJECT_TEMPLATE = TEMPLATES_DIR / "quarto-project.yml"
#: What a report project gets in ``_templates/``: both renderers read these.
PROJECT_TEMPLATE_FILES = (
    TYPST_TEMPLATE,
    *TYPST_PARTIALS,
    HTML_TEMPLATE,
    HTML_TITLE_BLOCK,
    CSS_FILE,
    *LUA_FILTERS,
    CROSSREF_FILTER,
)
#: Quarto's ``date-format`` of the publications: the French long date (``1er juin 2024``).
DATE_FORMAT = "Do MMMM YYYY"
RENDERER_CHOICES = ("auto", "quarto", "offline")

#: Creation date written into every PDF unless the caller passes another one (reproducibility:
#: the same sources give the same bytes). Same role as SOURCE_DATE_EPOCH.
REPRODUCIBLE_TIMESTAMP = _dt.datetime(2000, 1, 1, tzinfo=_dt.UTC)

INCLUDE_SUFFIXES = (".md", ".qmd", ".markdown")
OUTPUT_FORMATS = ("pdf", "html")


class RenderError(RuntimeError):
    """A report that cannot be rendered; the message names the file and what to fix."""


class ShortcodeError(RenderError):
    """An unknown variable, a missing include or an unsupported shortcode."""


class UnsupportedSourceError(RenderError):
    """Sources that use features outside the subset both Quarto and the offline path support."""


def check_formats(formats: Sequence[str]) -> None:
    """Refuse an empty list of output formats or one outside :data:`OUTPUT_FORMATS`."""
    unknown = set(formats) - set(OUTPUT_FORMATS)
    if unknown or not formats:
        raise ValueError(f"formats must be among {OUTPUT_FORMATS}, got {list(formats)}")


def project_output_stem(document: str, metadata: Mapping[str, Any]) -> str:
    """Stem of a document's outputs: the project's ``output-file``, else the document's stem."""
    output_file = metadata.get("output-file")
    return Path(str(output_file)).stem if output_file else Path(document).stem
