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
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import os
import re
import shlex
import shutil
import subprocess
import warnings as _warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
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

SUPPORTED_SHORTCODES = ("var", "include", "pagebreak")
SUPPORTED_DIV_CLASSES = frozenset(
    {
        "callout-note",
        "callout-tip",
        "callout-important",
        "callout-warning",
        "callout-caution",
        "card",
        "key-figures",
        "demo-mark",
        "source",
        "small",
        "lead",
        "keep-with-next",
    }
)
INCLUDE_SUFFIXES = (".md", ".qmd", ".markdown")
OUTPUT_FORMATS = ("pdf", "html")

# Front matter keys that only make sense with an execution engine or Quarto-only features.
_UNSUPPORTED_FRONT_MATTER = {
    "jupyter": "selects an execution engine: report pages run no code",
    "engine": "selects an execution engine: report pages run no code",
    "knitr": "selects an execution engine: report pages run no code",
    "execute": "execution options: report pages run no code",
    "filters": "extra filters would only run under Quarto",
    "crossref": "cross-references are not supported by the offline renderer",
}

_PAGEBREAK_MARKDOWN = (
    "\n\n```{=typst}\n#pagebreak(weak: true)\n```\n\n"
    '```{=html}\n<div class="page-break"></div>\n```\n\n'
)

_ESCAPED_SHORTCODE = re.compile(r"\{\{\{<(.*?)>\}\}\}")
_SHORTCODE = re.compile(r"\{\{<\s*(.*?)\s*>\}\}")
_VAR_KEY = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
_FENCE = re.compile(r"^\s*(?P<fence>`{3,}|~{3,})\s*(?P<info>.*)$")
_DIV_OPEN = re.compile(r"^\s*:{3,}\s*(?P<attrs>\{[^}]*\}|[A-Za-z][\w-]*)\s*:*\s*$")
_INLINE_CODE_CELL = re.compile(r"`\{[A-Za-z]\w*\}[^`]*`")
#: Cross-references both renderers resolve: figures and tables (crossref.lua offline).
CROSS_REF_KINDS = ("fig", "tbl")
_CROSS_REF = re.compile(r"(?<![\w@.])@(sec|eq|lst|thm|lem|cor|prp|def|exm|exr)-[\w-]+")
_XREF_LABEL = re.compile(r"\{[^}\n]*#(lst|sec|eq)-[\w-]+")
_LAYOUT_ATTR = re.compile(r"\{[^}\n]*\blayout(-ncol|-nrow)?=")
_RAW_HTML = re.compile(
    r"^\s*</?(div|span|table|img|br|p|iframe|script|style|figure)\b", re.IGNORECASE
)


class RenderError(RuntimeError):
    """A report that cannot be rendered; the message names the file and what to fix."""


class ShortcodeError(RenderError):
    """An unknown variable, a missing include or an unsupported shortcode."""


class UnsupportedSourceError(RenderError):
    """Sources that use features outside the subset both Quarto and the offline path support."""


# --------------------------------------------------------------------------- variables


def load_variables(path: Path | str) -> dict[str, Any]:
    """Read a Quarto ``_variables.yml``; an empty file gives ``{}``, anything but a mapping fails."""
    path = Path(path)
    if not path.is_file():
        raise RenderError(f"variables file not found: {path}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise RenderError(
            f"{path}: a variables file must hold a mapping, not {type(data).__name__}"
        )
    return dict(data)


def lookup_variable(variables: Mapping[str, Any], key: str) -> str:
    """Value of a dotted key (``palmares.village.1.nom``) as Quarto's ``var`` shortcode inserts it.

    Values must be text, integers below 1 000 or years (1900–2100): the notebooks format
    numbers in French before writing them (``30 101``, ``12,5 %``), so a float, a boolean,
    another integer, an empty or missing value is refused rather than printed the English way
    or as an empty string. (Quarto would print them as they are; this is stricter on purpose.)
    Raises ``KeyError`` (missing key) or ``TypeError`` (unusable value).
    """
    node: Any = variables
    walked: list[str] = []
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            where = ".".join(walked) or "the top level"
            available = sorted(map(str, node)) if isinstance(node, Mapping) else []
            hint = f"; keys at {where}: {', '.join(available[:15])}" if available else ""
            raise KeyError(f"no variable {key!r} (missing {part!r} under {where}{hint})")
        node = node[part]
        walked.append(part)
    if isinstance(node, bool):
        raise TypeError(f"variable {key!r} is a boolean; write the French text instead")
    if isinstance(node, int):
        # Small integers and years print the same in French; larger numbers need the narrow
        # no-break space between thousands ("1 093"), which only fr_number writes.
        if abs(node) >= 1000 and not 1900 <= node <= 2100:
            raise TypeError(
                f"variable {key!r} is the integer {node}: format it with fr_number "
                "(thousands separated by a narrow no-break space) before writing it"
            )
        return str(node)
    if isinstance(node, float):
        raise TypeError(
            f"variable {key!r} is the float {node!r}: format it with fr_number/fr_percent "
            "(decimal comma) before writing it"
        )
    if node is None:
        raise TypeError(f"variable {key!r} is empty (null); write 'n.d.' explicitly if intended")
    if isinstance(node, str):
        if not node.strip():
            raise TypeError(f"variable {key!r} is an empty string")
        return node
    raise TypeError(
        f"variable {key!r} is a {type(node).__name__}, not a value: reference one of its keys"
    )


# --------------------------------------------------------------------------- shortcodes


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _resolve(
    text: str,
    variables: Mapping[str, Any],
    base_dir: Path,
    source_name: str,
    stack: tuple[Path, ...],
    visited: list[Path],
) -> str:
    """Resolve shortcodes of one file; includes are resolved recursively before insertion."""
    # Quarto's escape {{{< ... >}}} prints the shortcode itself; protect it from the main pass.
    escaped: list[str] = []

    def protect(match: re.Match[str]) -> str:
        escaped.append("{{<" + match.group(1) + ">}}")
        return f"\x00ESCAPED{len(escaped) - 1}\x00"

    text = _ESCAPED_SHORTCODE.sub(protect, text)

    def replace(match: re.Match[str]) -> str:
        where = f"{source_name}:{_line_of(text, match.start())}"
        try:
            words = shlex.split(match.group(1))
        except ValueError as exc:
            raise ShortcodeError(
                f"{where}: cannot parse shortcode {match.group(0)!r}: {exc}"
            ) from exc
        if not words:
            raise ShortcodeError(f"{where}: empty shortcode {match.group(0)!r}")
        name, args = words[0], words[1:]
        if name == "var":
            if len(args) != 1 or not _VAR_KEY.match(args[0]):
                raise ShortcodeError(f"{where}: {{{{< var >}}}} takes one dotted key, got {args}")
            try:
                return lookup_variable(variables, args[0])
            except (KeyError, TypeError) as exc:
                message = exc.args[0] if exc.args else str(exc)
                raise ShortcodeError(f"{where}: {message}") from exc
        if name == "include":
            if len(args) != 1:
                raise ShortcodeError(f"{where}: {{{{< include >}}}} takes one path, got {args}")
            return _include(args[0], where, variables, base_dir, stack, visited)
        if name == "pagebreak":
            if args:
                raise ShortcodeError(f"{where}: {{{{< pagebreak >}}}} takes no argument")
            return _PAGEBREAK_MARKDOWN
        raise ShortcodeError(
            f"{where}: shortcode {name!r} is not supported offline "
            f"(supported: {', '.join(SUPPORTED_SHORTCODES)})"
        )

    resolved = _SHORTCODE.sub(replace, text)
    for i, original in enumerate(escaped):
        resolved = resolved.replace(f"\x00ESCAPED{i}\x00", original)
    return resolved


def _include(
    target: str,
    where: str,
    variables: Mapping[str, Any],
    base_dir: Path,
    stack: tuple[Path, ...],
    visited: list[Path],
) -> str:
    if Path(target).is_absolute():
        raise ShortcodeError(
            f"{where}: include path must be relative to the including file: {target}"
        )
    path = (base_dir / target).resolve()
    if path.suffix not in INCLUDE_SUFFIXES:
        raise ShortcodeError(
            f"{where}: can only include Markdown ({', '.join(INCLUDE_SUFFIXES)}): {target}"
        )
    if not path.is_file():
        raise ShortcodeError(f"{where}: included file not found: {target} (looked for {path})")
    if path in stack:
        chain = " -> ".join(p.name for p in (*stack, path))
        raise ShortcodeError(f"{where}: circular include: {chain}")
    visited.append(path)
    body = path.read_text(encoding="utf-8")
    body = _resolve(body, variables, path.parent, str(path), (*stack, path), visited)
    # Textual inclusion, as Quarto does; the partial's final newline is the including line's.
    return body.removesuffix("\n")


def resolve_shortcodes(
    text: str,
    variables: Mapping[str, Any],
    base_dir: Path | str,
    *,
    source_name: str | None = None,
) -> str:
    """Replace the Quarto shortcodes ``var``, ``include`` and ``pagebreak`` in ``text``.

    - ``{{< var a.b >}}``: value of the nested key (see :func:`lookup_variable`); a missing key
      raises :class:`ShortcodeError` naming the key, the file and the line;
    - ``{{< include part.md >}}``: the partial's text, path relative to the including file
      (``base_dir`` for ``text``), its own shortcodes resolved recursively; cycles fail;
    - ``{{< pagebreak >}}``: a raw Typst ``#pagebreak(weak: true)`` block and a raw HTML
      ``<div class="page-break">`` block (each writer keeps its own);
    - ``{{{< ... >}}}`` (Quarto's escape) gives the literal shortcode.
    """
    name = source_name or f"{Path(base_dir)}/<text>"
    return _resolve(text, variables, Path(base_dir).resolve(), name, (), [])


def _resolve_document(source: Path, variables: Mapping[str, Any]) -> tuple[str, list[Path]]:
    visited: list[Path] = [source]
    text = source.read_text(encoding="utf-8")
    resolved = _resolve(text, variables, source.parent, str(source), (source,), visited)
    return resolved, visited


# --------------------------------------------------------------------------- subset check


def _split_front_matter(text: str) -> tuple[str | None, str, int]:
    """(front matter text or None, body, line number where the body starts)."""
    if not text.startswith("---"):
        return None, text, 1
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return None, text, 1
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :]), i + 2
    return None, text, 1


def check_supported(qmd_text: str) -> list[str]:
    """List the uses of features outside the report subset (empty list: the text is fine).

    Each message starts with ``line N:``. Flags: executable code cells (```` ```{python} ````,
    ```` ```{r} ````, ```` ```{mermaid} ````…), inline code cells, raw ``{=format}`` blocks,
    shortcodes other than var/include/pagebreak or with bad arguments, cross-references other
    than ``@fig-x``/``@tbl-x`` and their labels (``{#sec-x}``), layout attributes, fenced divs of
    unsupported classes, raw HTML blocks, invalid front matter, engine keys, a non-French
    ``lang``. Lines inside plain code blocks are not checked.
    """
    violations: list[str] = []
    front, body, body_start = _split_front_matter(qmd_text)
    if front is not None:
        try:
            meta = yaml.safe_load(front) or {}
        except yaml.YAMLError as exc:
            violations.append(f"line 1: front matter is not valid YAML ({exc.__class__.__name__})")
            meta = {}
        if not isinstance(meta, Mapping):
            violations.append("line 1: front matter must be a mapping")
            meta = {}
        for key, why in _UNSUPPORTED_FRONT_MATTER.items():
            if key in meta:
                violations.append(f"line 1: front matter key {key!r}: {why}")
        lang = meta.get("lang")
        if lang is not None and not str(lang).lower().startswith("fr"):
            violations.append(f"line 1: lang is {lang!r}; report pages are in French (lang: fr)")

    in_code = False
    fence = ""
    for offset, line in enumerate(body.split("\n")):
        number = body_start + offset
        fence_match = _FENCE.match(line)
        if in_code:
            if (
                fence_match
                and fence_match.group("fence").startswith(fence)
                and not fence_match.group("info").strip()
            ):
                in_code = False
            continue
        if fence_match:
            info = fence_match.group("info").strip()
            in_code, fence = True, fence_match.group("fence")
            braced = re.match(r"^\{\s*([^}]*)\}", info)
            if braced:
                inner = braced.group(1).strip()
                if inner.startswith("="):
                    violations.append(
                        f"line {number}: raw block ```{{{inner}}}``` renders in one format only "
                        "(use {{< pagebreak >}} or a supported div)"
                    )
                elif re.match(r"^[A-Za-z]", inner):
                    violations.append(
                        f"line {number}: executable code cell ```{{{inner}}}```: report pages "
                        "compute nothing; have a notebook write the value or the table to the "
                        "build folder and read it with {{< var >}} or {{< include >}}"
                    )
            continue

        line_wo_escaped = _ESCAPED_SHORTCODE.sub("", line)
        for match in _SHORTCODE.finditer(line_wo_escaped):
            try:
                words = shlex.split(match.group(1))
            except ValueError:
                violations.append(f"line {number}: cannot parse shortcode {match.group(0)!r}")
                continue
            name, args = (words[0], words[1:]) if words else ("", [])
            if name not in SUPPORTED_SHORTCODES:
                violations.append(
                    f"line {number}: shortcode {match.group(0)!r} is not supported "
                    f"(only {', '.join(SUPPORTED_SHORTCODES)})"
                )
            elif name == "var" and (len(args) != 1 or not _VAR_KEY.match(args[0])):
                violations.append(f"line {number}: {match.group(0)!r} needs one dotted key")
            elif name == "include" and (len(args) != 1 or not args[0].endswith(INCLUDE_SUFFIXES)):
                violations.append(f"line {number}: {match.group(0)!r} needs one Markdown path")
            elif name == "pagebreak" and args:
                violations.append(f"line {number}: {match.group(0)!r} takes no argument")

        if _INLINE_CODE_CELL.search(line):
            violations.append(
                f"line {number}: inline code cell: report pages compute nothing; use {{{{< var >}}}}"
            )
        for match in _CROSS_REF.finditer(line):
            violations.append(
                f"line {number}: cross-reference {match.group(0)} is resolved by Quarto only "
                "(both renderers resolve @fig- and @tbl-)"
            )
        if _XREF_LABEL.search(line):
            violations.append(
                f"line {number}: only #fig- and #tbl- labels are numbered by both renderers"
            )
        if _LAYOUT_ATTR.search(line):
            violations.append(f"line {number}: layout attributes are Quarto-only")
        if _RAW_HTML.match(line):
            violations.append(
                f"line {number}: raw HTML is dropped from the PDF; use Markdown or a div"
            )
        div = _DIV_OPEN.match(line)
        if div:
            attrs = div.group("attrs")
            classes = re.findall(r"\.([\w-]+)", attrs) if attrs.startswith("{") else [attrs]
            for cls in classes:
                if cls not in SUPPORTED_DIV_CLASSES:
                    violations.append(
                        f"line {number}: div class .{cls} is not supported "
                        f"(supported: {', '.join(sorted(SUPPORTED_DIV_CLASSES))})"
                    )
    return violations


def check_sources(paths: Iterable[Path | str]) -> dict[Path, list[str]]:
    """:func:`check_supported` over files; returns only the files that have violations."""
    problems: dict[Path, list[str]] = {}
    for path in map(Path, paths):
        found = check_supported(path.read_text(encoding="utf-8"))
        if found:
            problems[path] = found
    return problems


# --------------------------------------------------------------------------- pandoc


def pandoc_path() -> str:
    """Path of the pandoc executable shipped by pypandoc-binary (it is not on PATH)."""
    import pypandoc

    return pypandoc.get_pandoc_path()


def _pandoc(args: Sequence[str], stdin: str | None = None) -> str:
    command = [pandoc_path(), *args]
    completed = subprocess.run(
        command, input=stdin, capture_output=True, text=True, encoding="utf-8", check=False
    )
    if completed.returncode != 0:
        raise RenderError(f"pandoc failed ({completed.returncode}): {completed.stderr.strip()}")
    missing = _CITEPROC_MISSING.findall(completed.stderr)
    if missing:
        raise RenderError(f"citations not in the bibliography: {', '.join(sorted(set(missing)))}")
    return completed.stdout


def _meta_string(value: str) -> dict[str, Any]:
    return {"t": "MetaString", "c": value}


def _walk_images(node: Any, found: list[dict[str, Any]]) -> None:
    if isinstance(node, dict):
        if node.get("t") == "Image":
            found.append(node)
        for value in node.values():
            _walk_images(value, found)
    elif isinstance(node, list):
        for value in node:
            _walk_images(value, found)


def _localise_images(ast: dict[str, Any], source_dir: Path, origin: str) -> list[dict[str, Any]]:
    """Make image targets absolute paths (relative ones are relative to the main document).

    Fails on remote images (the renderer works offline and HTML embeds every resource) and on
    missing files, listing all of them.
    """
    images: list[dict[str, Any]] = []
    _walk_images(ast["blocks"], images)
    problems = []
    for image in images:
        target = image["c"][2][0]
        if urlparse(target).scheme in ("http", "https", "ftp"):
            problems.append(f"remote image {target} (copy it into the build folder)")
            continue
        path = (source_dir / target).resolve()
        if not path.is_file():
            problems.append(f"image not found: {target} (looked for {path})")
            continue
        image["c"][2][0] = str(path)
    if problems:
        raise RenderError(f"{origin}: " + "; ".join(problems))
    return images


def _meta_true(meta: Mapping[str, Any], key: str) -> bool:
    value = meta.get(key)
    return bool(value) and value.get("t") == "MetaBool" and value.get("c") is True


def _meta_text(value: Any) -> str:
    """Plain text of a metadata value of pandoc's JSON AST (strings, inlines, blocks)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(_meta_text(v) for v in value)
    if isinstance(value, dict):
        kind, content = value.get("t"), value.get("c")
        if kind in ("Space", "SoftBreak", "LineBreak"):
            return " "
        if kind in ("MetaString", "Str"):
            return content
        if kind == "MetaBool":
            return str(content).lower()
        if kind in ("Code", "Math"):
            return content[1]
        if isinstance(content, list):
            # these hold their inlines second (after attributes, quote type or citations)
            if kind in ("Span", "Link", "Image", "Quoted", "Cite"):
                content = content[1]
            return _meta_text(content)
    return ""


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _localise_date(meta: dict[str, Any]) -> None:
    """An ISO ``date`` (``2024-06-15``) prints as a French long date, as Quarto prints it with
    ``date-format: Do MMMM YYYY`` (``15 juin 2024``, ``1er juin 2024``); the HTML page keeps the
    ISO date in ``<meta name="dcterms.date">``. Other values (already French) print as they are.
    """
    from barometre.publish.fmt import fr_date

    date = _meta_text(meta.get("date")).strip()
    meta.pop("date-format", None)
    if _ISO_DATE.match(date):
        meta["date"] = _meta_string(fr_date(date))
        meta["date-meta"] = _meta_string(date)


def load_metadata_file(folder: Path | str) -> dict[str, Any]:
    """The folder's ``_metadata.yml`` (Quarto's directory metadata) as a mapping; ``{}`` if none."""
    path = Path(folder) / "_metadata.yml"
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise RenderError(f"{path}: directory metadata must be a mapping")
    return dict(data)


# --------------------------------------------------------------------------- rendering


def _to_pdf(
    ast: dict[str, Any],
    pdf_path: Path,
    timestamp: _dt.datetime | None,
    keep_typst: bool,
) -> None:
    import typst

    ast = copy.deepcopy(ast)
    images: list[dict[str, Any]] = []
    _walk_images(ast["blocks"], images)
    work_dir = pdf_path.parent / f".{pdf_path.stem}.typst"
    if work_dir.exists():
        shutil.rmtree(work_dir)
    (work_dir / PROJECT_TEMPLATES).mkdir(parents=True)
    # the partial typst-template.typ imports the theme from _templates/, as in a report folder
    shutil.copy2(TYPST_TEMPLATE, work_dir / PROJECT_TEMPLATES / TYPST_TEMPLATE.name)

    # Typst resolves image paths relative to the .typ file and only inside its root: write them
    # relative to the working folder and take as root the deepest folder holding everything
    # (pandoc would otherwise write them relative to where it runs: the TOOLCHAIN trap).
    image_paths = [Path(image["c"][2][0]) for image in images]
    root = Path(os.path.commonpath([work_dir.resolve(), *[p.parent for p in image_paths]]))
    for image, path in zip(images, image_paths):
        image["c"][2][0] = Path(os.path.relpath(path, work_dir.resolve())).as_posix()

    filters = _offline_filters(ast)
    typ_path = work_dir / "main.typ"  # never the template's name, whatever the output stem
    _pandoc(
        [
            "--from",
            "json",
            "--to",
            "typst",
            "--wrap=none",
            "--template",
            str(PANDOC_TYPST_TEMPLATE),
            *filters,
            "--output",
            str(typ_path),
        ],
        stdin=json.dumps(ast),
    )
    try:
        _, warnings = typst.compile_with_warnings(
            str(typ_path),
            output=str(pdf_path),
            root=str(root),
            ignore_system_fonts=True,
            timestamp=timestamp,
        )
    except typst.TypstError as exc:
        raise RenderError(
            f"typst failed on {typ_path} (kept for inspection): {exc.message}\n{exc.diagnostic}"
        ) from exc
    except RuntimeError as exc:
        raise RenderError(f"typst failed on {typ_path} (kept for inspection): {exc}") from exc
    for warning in warnings:
        # Typst warnings (unknown font, missing glyph) are layout defects: surface them.
        _warnings.warn(f"typst: {warning.message} ({typ_path.name})", stacklevel=3)
    if keep_typst:
        return
    shutil.rmtree(work_dir)


def _offline_filters(ast: Mapping[str, Any]) -> list[str]:
    """pandoc arguments of the offline filters: the Lua filters, then citeproc when the
    document has a bibliography (after crossref.lua, which takes ``@fig-x`` out of its way)."""
    filters = [arg for lua in OFFLINE_LUA_FILTERS for arg in ("--lua-filter", str(lua))]
    if "bibliography" in ast.get("meta", {}):
        filters.append("--citeproc")
    return filters


def _localise_bibliography(meta: dict[str, Any], source_dir: Path, origin: str) -> None:
    """Make the ``bibliography`` path absolute (relative to the document, as in Quarto); a
    missing file fails."""
    if "bibliography" not in meta:
        return
    target = _meta_text(meta["bibliography"]).strip()
    path = (source_dir / target).resolve()
    if not path.is_file():
        raise RenderError(f"{origin}: bibliography not found: {target} (looked for {path})")
    meta["bibliography"] = _meta_string(str(path))


_CITEPROC_MISSING = re.compile(r"Citeproc: citation (\S+) not found")


def _to_html(ast: dict[str, Any], html_path: Path, source_dir: Path) -> None:
    filters = _offline_filters(ast)
    args = [
        "--from",
        "json",
        "--to",
        "html5",
        "--standalone",
        "--embed-resources",
        "--wrap=none",
        "--template",
        str(HTML_TEMPLATE),
        "--css",
        str(CSS_FILE),
        "--mathml",
        "--resource-path",
        str(source_dir),
        *filters,
        "--output",
        str(html_path),
    ]
    if _meta_true(ast["meta"], "toc"):
        args += ["--toc", "--toc-depth=2"]
    _pandoc(args, stdin=json.dumps(ast))


def render_document(
    source: Path | str,
    variables: Mapping[str, Any] | Path | str,
    out_dir: Path | str,
    formats: Sequence[str] = OUTPUT_FORMATS,
    demo_mark: str | None = None,
    timestamp: _dt.datetime | None = REPRODUCIBLE_TIMESTAMP,
    *,
    output_stem: str | None = None,
    resource_dir: Path | str | None = None,
    keep_typst: bool = False,
) -> dict[str, Path]:
    """Render one ``.qmd`` source to ``out_dir/<stem>.pdf`` and/or ``<stem>.html``.

    ``variables`` is the mapping behind ``{{< var >}}`` or the path of a ``_variables.yml``.
    ``demo_mark`` (e.g. "Données de démonstration synthétiques") is printed in the top margin of
    every PDF page and in a banner at the top of the HTML; it overrides a ``demo-mark`` key of
    the front matter, and a ``::: {.demo-mark}`` div of the body is then dropped (it is how the
    mark reaches Quarto's output). ``timestamp`` is the PDF creation date (fixed by default, so
    two renders give identical bytes; ``None`` means now; a naive datetime is taken as UTC).
    ``output_stem`` names the outputs (default: ``output-file`` of the metadata, else the
    source's stem). ``resource_dir`` is the folder relative image paths are resolved from
    (default: the source's folder, as Quarto). ``keep_typst`` keeps the generated Typst source in
    ``out_dir/.<stem>.typst/main.typ``.

    As in Quarto, the ``_metadata.yml`` of the source's folder (if any) gives default values
    that the front matter overrides; an ISO ``date`` prints as a French long date.

    Raises :class:`UnsupportedSourceError` if the source or a partial leaves the subset,
    :class:`ShortcodeError` for unknown variables or missing includes, :class:`RenderError` for
    missing images or pandoc/Typst failures. Returns ``{format: path}``.
    """
    source = Path(source).resolve()
    if not source.is_file():
        raise RenderError(f"report source not found: {source}")
    unknown = set(formats) - set(OUTPUT_FORMATS)
    if unknown or not formats:
        raise ValueError(f"formats must be among {OUTPUT_FORMATS}, got {list(formats)}")
    if not isinstance(variables, Mapping):
        variables = load_variables(variables)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    images_dir = Path(resource_dir).resolve() if resource_dir is not None else source.parent
    if timestamp is not None and timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=_dt.UTC)

    resolved, files = _resolve_document(source, variables)
    problems = check_sources(files)
    if problems:
        lines = [f"{path}: {message}" for path, found in problems.items() for message in found]
        raise UnsupportedSourceError(
            "report sources leave the subset shared by Quarto and the offline renderer:\n  "
            + "\n  ".join(lines)
        )

    reader = ["--from", "markdown", "--to", "json"]
    directory_metadata = source.parent / "_metadata.yml"
    if directory_metadata.is_file():
        load_metadata_file(source.parent)  # fails clearly on a malformed file
        # pandoc's --metadata-file gives defaults that the document's front matter overrides
        reader += ["--metadata-file", str(directory_metadata)]
    ast = json.loads(_pandoc(reader, stdin=resolved))
    _localise_images(ast, images_dir, str(source))
    _localise_bibliography(ast["meta"], source.parent, str(source))
    meta = ast["meta"]
    meta.setdefault("lang", _meta_string("fr"))
    _localise_date(meta)
    stem = (
        output_stem or Path(_meta_text(meta.pop("output-file", None)).strip()).stem or source.stem
    )
    if demo_mark is not None:
        if not demo_mark.strip():
            raise ValueError("demo_mark must be a visible text or None")
        meta["demo-mark"] = _meta_string(demo_mark)

    outputs: dict[str, Path] = {}
    if "html" in formats:
        html_path = out_dir / f"{stem}.html"
        _to_html(ast, html_path, images_dir)
        outputs["html"] = html_path
    if "pdf" in formats:
        pdf_path = out_dir / f"{stem}.pdf"
        _to_pdf(ast, pdf_path, timestamp, keep_typst)
        outputs["pdf"] = pdf_path
    return outputs


# --------------------------------------------------------------------------- projects and renderers


def quarto_executable() -> str | None:
    """Path of the ``quarto`` on PATH, or None."""
    return shutil.which("quarto")


def quarto_available() -> bool:
    """True when a ``quarto`` executable is on PATH (then ``auto`` renders with it)."""
    return quarto_executable() is not None


@dataclass(frozen=True)
class Renderer:
    """A resolved renderer: ``quarto`` (with its executable) or ``offline``, and its version."""

    name: str
    version: str
    executable: str | None = None

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


def quarto_version(executable: str) -> str:
    """``quarto --version`` (e.g. ``1.10.18``)."""
    completed = subprocess.run(
        [executable, "--version"], capture_output=True, text=True, check=False, env=_quarto_env()
    )
    if completed.returncode != 0 or not completed.stdout.strip():
        raise RenderError(f"{executable} --version failed: {completed.stderr.strip()}")
    return completed.stdout.strip().splitlines()[0]


def offline_version() -> str:
    """Versions of the offline renderer's tools (pandoc from pypandoc-binary, typst-py)."""
    from importlib import metadata

    import pypandoc

    return f"pandoc {pypandoc.get_pandoc_version()}, typst-py {metadata.version('typst')}"


def resolve_renderer(choice: str = "auto") -> Renderer:
    """The renderer for ``choice``: ``auto`` (Quarto when on PATH, else offline), ``quarto``
    (fails when Quarto is not installed) or ``offline`` (pandoc + Typst)."""
    if choice not in RENDERER_CHOICES:
        raise ValueError(f"renderer must be one of {', '.join(RENDERER_CHOICES)}, not {choice!r}")
    if choice in ("auto", "quarto"):
        executable = quarto_executable()
        if executable is not None:
            return Renderer("quarto", quarto_version(executable), executable)
        if choice == "quarto":
            raise RenderError(
                "quarto is not installed (not on PATH): install it (https://quarto.org/docs/"
                "get-started/) or render offline (--renderer offline, pandoc + Typst)"
            )
    return Renderer("offline", offline_version())


def write_report_project(
    folder: Path | str,
    documents: Sequence[str],
    output_dir: str,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Make ``folder`` a Quarto project both renderers render the same way.

    Writes ``_quarto.yml`` (from ``templates/quarto-project.yml``, with ``documents`` as the
    render list and ``output_dir``, relative to the folder, as the output folder),
    ``_metadata.yml`` (``metadata``: e.g. ``date`` in ISO form, ``date-format``, ``demo-mark``,
    ``pdf-timestamp``, ``output-file``) and a fresh copy of the templates in ``_templates/``.
    The folder must already hold the documents and what they read (``_variables.yml``, tables,
    figures). Returns the path of ``_quarto.yml``.
    """
    folder = Path(folder)
    missing = [d for d in documents if not (folder / d).is_file()]
    if missing or not documents:
        raise RenderError(f"{folder}: documents to render not found: {missing or 'none given'}")
    templates = folder / PROJECT_TEMPLATES
    if templates.exists():
        shutil.rmtree(templates)
    templates.mkdir()
    for path in PROJECT_TEMPLATE_FILES:
        shutil.copyfile(path, templates / path.name)
    config = yaml.safe_load(QUARTO_PROJECT_TEMPLATE.read_text(encoding="utf-8"))
    config["project"]["output-dir"] = output_dir
    config["project"]["render"] = list(documents)
    header = (
        "# Written by barometre.publish.render.write_report_project from templates/quarto-project.yml:\n"
        "# `quarto render` here renders what `barometre build --renderer offline` renders.\n"
    )
    quarto_yml = folder / "_quarto.yml"
    _write_text(quarto_yml, header + yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    _write_text(
        folder / "_metadata.yml",
        "# Directory metadata of the documents (Quarto's _metadata.yml; the front matter wins).\n"
        + yaml.safe_dump(dict(metadata or {}), allow_unicode=True, sort_keys=True),
    )
    return quarto_yml


def report_metadata(date: str, pdf_timestamp: str, demo_mark: str | None = None) -> dict[str, Any]:
    """The ``_metadata.yml`` of the publications of an edition.

    ``date`` (ISO, ``2024-06-15``) is what Quarto parses (a French date string gave « Invalid
    Date »); both renderers print it with ``date-format`` in French, ``15 juin 2024``.
    ``date-meta`` repeats it for the HTML page's ``dcterms.date`` (Quarto's minimal html does not
    derive it). ``pdf-timestamp`` is the PDF's creation date; ``demo-mark`` the demo-data mark.
    """
    if not _ISO_DATE.match(date):
        raise ValueError(f"the publication date must be an ISO date (YYYY-MM-DD), not {date!r}")
    metadata: dict[str, Any] = {
        "date": date,
        "date-format": DATE_FORMAT,
        "date-meta": date,
        "pdf-timestamp": pdf_timestamp,
    }
    if demo_mark:
        metadata["demo-mark"] = demo_mark
    return metadata


def _write_text(path: Path, text: str) -> None:
    from barometre.io import atomic_write_text

    atomic_write_text(path, text)


def read_report_project(folder: Path | str) -> tuple[list[str], Path]:
    """(documents to render, output folder) of a report project's ``_quarto.yml``."""
    folder = Path(folder)
    path = folder / "_quarto.yml"
    if not path.is_file():
        raise RenderError(
            f"{folder} is not a report project (no _quarto.yml; see write_report_project)"
        )
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    project = config.get("project") or {}
    documents = list(project.get("render") or sorted(p.name for p in folder.glob("*.qmd")))
    return documents, (folder / project.get("output-dir", ".")).resolve()


@dataclass
class ProjectRender:
    """What :func:`render_project` did: outputs per document stem, Quarto's warnings, time."""

    renderer: Renderer
    outputs: dict[str, dict[str, Path]]
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    log: str = ""


def render_project(
    folder: Path | str,
    renderer: Renderer | str = "auto",
    formats: Sequence[str] = OUTPUT_FORMATS,
) -> ProjectRender:
    """Render every document of a report project (see :func:`write_report_project`).

    ``quarto``: ``quarto render <folder>`` (``--to typst``/``html`` for one format); Quarto's
    warnings are returned (``quarto-offline`` prints a harmless ``typst-gather`` one) and a
    failure raises :class:`RenderError` with Quarto's output. ``offline``: :func:`render_document`
    for each document, with the folder's ``_variables.yml``, ``_metadata.yml`` and the PDF
    timestamp of its ``pdf-timestamp``. Outputs go to the project's output folder.
    """
    import time

    engine = renderer if isinstance(renderer, Renderer) else resolve_renderer(renderer)
    folder = Path(folder).resolve()
    unknown = set(formats) - set(OUTPUT_FORMATS)
    if unknown or not formats:
        raise ValueError(f"formats must be among {OUTPUT_FORMATS}, got {list(formats)}")
    documents, out_dir = read_report_project(folder)
    metadata = load_metadata_file(folder)
    started = time.perf_counter()
    outputs: dict[str, dict[str, Path]] = {}
    found: list[str] = []
    log = ""
    if engine.name == "offline":
        stamp = metadata.get("pdf-timestamp")
        timestamp = _dt.datetime.fromisoformat(str(stamp)) if stamp else REPRODUCIBLE_TIMESTAMP
        for document in documents:
            rendered = render_document(
                folder / document,
                folder / "_variables.yml",
                out_dir,
                formats=formats,
                timestamp=timestamp,
                resource_dir=folder,
            )
            outputs[_output_stem(document, metadata)] = rendered
    else:
        command = [engine.executable or "quarto", "render", str(folder)]
        if len(formats) == 1:
            command += ["--to", {"pdf": "typst", "html": "html"}[formats[0]]]
        before = set(out_dir.iterdir()) if out_dir.is_dir() else set()
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            check=False,
            cwd=folder,
            env=_quarto_env(),
        )
        log = _strip_ansi(completed.stdout + completed.stderr)
        if completed.returncode != 0:
            raise RenderError(
                f"quarto render {folder} failed ({completed.returncode}):\n{log[-4000:]}"
            )
        found = quarto_warnings(log)
        for document in documents:
            stem = _output_stem(document, metadata)
            outputs[stem] = {fmt: out_dir / f"{stem}.{fmt}" for fmt in formats}
            missing = [str(p) for p in outputs[stem].values() if not p.is_file()]
            if missing:
                raise RenderError(f"quarto render {folder} did not write {missing}:\n{log[-4000:]}")
        # Quarto copies the documents' resources (figures/) to the output folder for the HTML
        # format; the publications embed them, so only the documents are kept there.
        for path in sorted(set(out_dir.iterdir()) - before):
            if path.is_dir() and path.name in {"figures", "tables", PROJECT_TEMPLATES}:
                shutil.rmtree(path)
    return ProjectRender(engine, outputs, found, time.perf_counter() - started, log)


def _output_stem(document: str, metadata: Mapping[str, Any]) -> str:
    output_file = metadata.get("output-file")
    return Path(str(output_file)).stem if output_file else Path(document).stem


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: Quarto's warnings start a line with WARN/WARNING; typst's (through Quarto) with "warning:".
_QUARTO_WARNING = re.compile(
    r"^\s*(?:WARN(?:ING)?\b(?:\s*\([^)]*\))?:?|warning:)\s*(?P<message>.*)$"
)
#: The one warning quarto-offline always prints (no typst-gather binary; harmless).
KNOWN_QUARTO_WARNINGS = (re.compile(r"^typst-gather analyze failed"),)


def quarto_warnings(log: str) -> list[str]:
    """The warnings in Quarto's output, one line each (ANSI colours removed)."""
    found = []
    for line in _strip_ansi(log).splitlines():
        match = _QUARTO_WARNING.match(line)
        if match:
            found.append(match.group("message").strip())
    return found


def unexpected_quarto_warnings(warnings: Iterable[str]) -> list[str]:
    """The warnings other than the known harmless ones of :data:`KNOWN_QUARTO_WARNINGS`."""
    return [w for w in warnings if not any(known.match(w) for known in KNOWN_QUARTO_WARNINGS)]


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def _quarto_env() -> dict[str, str]:
    """The environment for a ``quarto`` subprocess: without the variables a parent Quarto sets
    for its pre-render scripts (``quarto render`` at the repository root runs the build)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("QUARTO_PROJECT_")}
