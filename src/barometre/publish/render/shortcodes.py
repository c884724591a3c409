"""Quarto's shortcodes as the offline renderer resolves them: ``{{< var key >}}`` (values of
``_variables.yml``), ``{{< include partial.md >}}`` and ``{{< pagebreak >}}``."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from barometre.publish.render.base import INCLUDE_SUFFIXES, RenderError, ShortcodeError

SUPPORTED_SHORTCODES = ("var", "include", "pagebreak")

_PAGEBREAK_MARKDOWN = (
    "\n\n```{=typst}\n#pagebreak(weak: true)\n```\n\n"
    '```{=html}\n<div class="page-break"></div>\n```\n\n'
)

_ESCAPED_SHORTCODE = re.compile(r"\{\{\{<(.*?)>\}\}\}")
_SHORTCODE = re.compile(r"\{\{<\s*(.*?)\s*>\}\}")
_VAR_KEY = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")


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
