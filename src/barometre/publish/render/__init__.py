"""The two renderers of the report's Quarto sources: Quarto, and pandoc + Typst offline.

A report folder (``build/<edition>/report/``, ``build/<edition>/territories/<t>/``) is a Quarto
project written by :func:`write_report_project`: ``_quarto.yml`` (documents, output folder,
filters, formats), ``_metadata.yml`` (ISO date, demo mark, PDF timestamp), the notebooks'
``_variables.yml``, ``tables/``, ``figures/`` and the templates under ``_templates/``.
:func:`render_project` renders it with either renderer (:func:`resolve_renderer`: ``auto`` is
Quarto when ``quarto`` is on PATH, else offline):

- ``quarto``: ``quarto render <folder>``, Quarto's html and typst formats with the project's
  Lua filters, CSS, cover partial and Typst partials;
- ``offline``: :func:`render_document` per document, pandoc (``pypandoc-binary``) and Typst
  (PyPI ``typst``) with the same filters, partials and theme, on machines where Quarto cannot be
  installed (see ``TOOLCHAIN.md``).

Template files live in ``_templates/`` of the folder and none is named like a document: Quarto
writes a document's intermediate ``<document>.typ`` next to it, then deletes it.

The offline renderer renders the subset of Quarto the report pages use the way Quarto does:


- YAML front matter: ``title``, ``subtitle``, ``lang`` (default ``fr``), and our keys
  ``edition``, ``date``, ``publisher``, ``short-title``, ``toc``, ``toc-title``,
  ``demo-mark``, ``compact`` (no page break before each level-1 heading), merged over the
  folder's ``_metadata.yml`` as Quarto does; an ISO ``date`` prints as a French long date
  (``15 juin 2024``, ``1er juin 2024``: Quarto's ``date-format: Do MMMM YYYY``);
- pandoc Markdown: headings, paragraphs, lists, emphasis, footnotes, TeX math, pipe tables
  with ``: caption``, images ``![caption](path){width=60%}`` (paths relative to the main
  document, as in Quarto, where includes are textual);
- fenced divs with the classes of :data:`SUPPORTED_DIV_CLASSES`;
- three Quarto shortcodes: ``{{< var key.sub >}}`` (values from ``_variables.yml``),
  ``{{< include partial.md >}}`` (path relative to the including file) and
  ``{{< pagebreak >}}``.

Figures and tables labelled ``{#fig-x}`` / ``{#tbl-x}`` are numbered with their caption and
``@fig-x`` / ``@tbl-x`` refer to them, as in Quarto (offline: ``templates/crossref.lua``);
citations ``[@key]`` are formatted by pandoc's citeproc from the ``bibliography`` of the
metadata on both paths. Report pages compute nothing: no code cells, no inline code, no other
cross-references (``@sec-x``). :func:`check_supported` lists violations;
:func:`render_document` refuses a source that has any.

Offline PDFs are reproducible byte for byte: Typst gets a fixed timestamp and only its
embedded fonts (``ignore_system_fonts``), so the output does not depend on the fonts of the
machine. Through Quarto, the theme sets the PDF's date from ``pdf-timestamp``.

Modules: :mod:`~barometre.publish.render.base` (templates, formats, errors),
:mod:`~barometre.publish.render.shortcodes` (variables and shortcodes),
:mod:`~barometre.publish.render.subset` (the subset check),
:mod:`~barometre.publish.render.pandoc_ast` (pandoc and its AST),
:mod:`~barometre.publish.render.offline` (pandoc + Typst),
:mod:`~barometre.publish.render.quarto` (``quarto render`` and its warnings),
:mod:`~barometre.publish.render.project` (report projects, renderer choice). Every name is
importable from :mod:`barometre.publish.render` as before the split.
"""

from barometre.publish.render.base import (
    BIBLIOGRAPHY_FILE,
    CROSSREF_FILTER,
    CSS_FILE,
    DATE_FORMAT,
    HTML_TEMPLATE,
    HTML_TITLE_BLOCK,
    INCLUDE_SUFFIXES,
    LUA_FILTERS,
    OFFLINE_LUA_FILTERS,
    OUTPUT_FORMATS,
    PANDOC_TYPST_TEMPLATE,
    PROJECT_TEMPLATE_FILES,
    PROJECT_TEMPLATES,
    QUARTO_PROJECT_TEMPLATE,
    RENDERER_CHOICES,
    REPRODUCIBLE_TIMESTAMP,
    TEMPLATES_DIR,
    TYPST_PARTIALS,
    TYPST_TEMPLATE,
    RenderError,
    ShortcodeError,
    UnsupportedSourceError,
)
from barometre.publish.render.offline import render_document
from barometre.publish.render.pandoc_ast import _pandoc, load_metadata_file, pandoc_path
from barometre.publish.render.project import (
    ProjectRender,
    Renderer,
    offline_version,
    read_report_project,
    render_project,
    report_metadata,
    resolve_renderer,
    write_report_project,
)
from barometre.publish.render.quarto import (
    KNOWN_QUARTO_WARNINGS,
    quarto_available,
    quarto_executable,
    quarto_version,
    quarto_warnings,
    unexpected_quarto_warnings,
)
from barometre.publish.render.shortcodes import (
    SUPPORTED_SHORTCODES,
    load_variables,
    lookup_variable,
    resolve_shortcodes,
)
from barometre.publish.render.subset import (
    CROSS_REF_KINDS,
    SUPPORTED_DIV_CLASSES,
    check_sources,
    check_supported,
)

__all__ = [
    "BIBLIOGRAPHY_FILE",
    "CROSSREF_FILTER",
    "CROSS_REF_KINDS",
    "CSS_FILE",
    "DATE_FORMAT",
    "HTML_TEMPLATE",
    "HTML_TITLE_BLOCK",
    "INCLUDE_SUFFIXES",
    "KNOWN_QUARTO_WARNINGS",
    "LUA_FILTERS",
    "OFFLINE_LUA_FILTERS",
    "OUTPUT_FORMATS",
    "PANDOC_TYPST_TEMPLATE",
    "PROJECT_TEMPLATES",
    "PROJECT_TEMPLATE_FILES",
    "QUARTO_PROJECT_TEMPLATE",
    "RENDERER_CHOICES",
    "REPRODUCIBLE_TIMESTAMP",
    "SUPPORTED_DIV_CLASSES",
    "SUPPORTED_SHORTCODES",
    "TEMPLATES_DIR",
    "TYPST_PARTIALS",
    "TYPST_TEMPLATE",
    "ProjectRender",
    "RenderError",
    "Renderer",
    "ShortcodeError",
    "UnsupportedSourceError",
    "_pandoc",
    "check_sources",
    "check_supported",
    "load_metadata_file",
    "load_variables",
    "lookup_variable",
    "offline_version",
    "pandoc_path",
    "quarto_available",
    "quarto_executable",
    "quarto_version",
    "quarto_warnings",
    "read_report_project",
    "render_document",
    "render_project",
    "report_metadata",
    "resolve_renderer",
    "resolve_shortcodes",
    "unexpected_quarto_warnings",
    "write_report_project",
]
