"""The subset of Quarto both renderers render alike, and the check that a source keeps to it.

Report pages compute nothing: no code cells, no inline code, no raw blocks of one format, no
cross-references other than figures and tables, only the fenced divs of
:data:`SUPPORTED_DIV_CLASSES` and the shortcodes of
:data:`~barometre.publish.render.shortcodes.SUPPORTED_SHORTCODES`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml

from barometre.publish.render.base import INCLUDE_SUFFIXES
from barometre.publish.render.shortcodes import (
    _ESCAPED_SHORTCODE,
    _SHORTCODE,
    _VAR_KEY,
    SUPPORTED_SHORTCODES,
)

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

# Front matter keys that only make sense with an execution engine or Quarto-only features.
_UNSUPPORTED_FRONT_MATTER = {
    "jupyter": "selects an execution engine: report pages run no code",
    "engine": "selects an execution engine: report pages run no code",
    "knitr": "selects an execution engine: report pages run no code",
    "execute": "execution options: report pages run no code",
    "filters": "extra filters would only run under Quarto",
    "crossref": "cross-references are not supported by the offline renderer",
}

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
    front, body, body_start = _split_front_matter(qmd_text)
    violations = _front_matter_violations(front) if front is not None else []
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
            in_code, fence = True, fence_match.group("fence")
            violations += _fence_violations(fence_match.group("info").strip(), number)
            continue
        violations += _shortcode_violations(line, number)
        violations += _line_violations(line, number)
    return violations


def _front_matter_violations(front: str) -> list[str]:
    """Violations of the YAML front matter: invalid YAML, engine keys, a non-French ``lang``."""
    violations: list[str] = []
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
    return violations


def _fence_violations(info: str, number: int) -> list[str]:
    """Violations of a code fence's info string ``info`` at line ``number``: a raw
    ``{=format}`` block or an executable ``{python}`` cell (a plain code block is fine)."""
    braced = re.match(r"^\{\s*([^}]*)\}", info)
    if not braced:
        return []
    inner = braced.group(1).strip()
    if inner.startswith("="):
        message = (
            f"line {number}: raw block ```{{{inner}}}``` renders in one format only "
            "(use {{< pagebreak >}} or a supported div)"
        )
        return [message]
    if re.match(r"^[A-Za-z]", inner):
        message = (
            f"line {number}: executable code cell ```{{{inner}}}```: report pages "
            "compute nothing; have a notebook write the value or the table to the "
            "build folder and read it with {{< var >}} or {{< include >}}"
        )
        return [message]
    return []


def _shortcode_violations(line: str, number: int) -> list[str]:
    """Shortcodes of ``line`` that are unknown or have bad arguments (escaped ones are text)."""
    violations: list[str] = []
    for match in _SHORTCODE.finditer(_ESCAPED_SHORTCODE.sub("", line)):
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
    return violations


def _line_violations(line: str, number: int) -> list[str]:
    """Other violations of a Markdown line: inline code, cross-references and labels other
    than figures and tables, layout attributes, raw HTML, divs of unsupported classes."""
    violations: list[str] = []
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
        violations.append(f"line {number}: raw HTML is dropped from the PDF; use Markdown or a div")
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
