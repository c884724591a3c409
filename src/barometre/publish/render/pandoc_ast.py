"""pandoc for the offline renderer: running it, and reading or fixing up its JSON AST (images
and bibliography made absolute, metadata text, the French date, the filters to run)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from barometre.publish.render.base import OFFLINE_LUA_FILTERS, RenderError

_CITEPROC_MISSING = re.compile(r"Citeproc: citation (\S+) not found")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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
