"""The offline renderer: one ``.qmd`` document to PDF (pandoc, then Typst from PyPI) and HTML
(pandoc), with the filters, partials and theme Quarto uses, for machines without Quarto."""

from __future__ import annotations

import copy
import datetime as _dt
import json
import os
import shutil
import warnings as _warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from barometre.publish.render.base import (
    CSS_FILE,
    HTML_TEMPLATE,
    OUTPUT_FORMATS,
    PANDOC_TYPST_TEMPLATE,
    PROJECT_TEMPLATES,
    REPRODUCIBLE_TIMESTAMP,
    TYPST_TEMPLATE,
    RenderError,
    UnsupportedSourceError,
    check_formats,
    project_output_stem,
)
from barometre.publish.render.pandoc_ast import (
    _localise_bibliography,
    _localise_date,
    _localise_images,
    _meta_string,
    _meta_text,
    _meta_true,
    _offline_filters,
    _pandoc,
    _walk_images,
    load_metadata_file,
)
from barometre.publish.render.shortcodes import _resolve_document, load_variables
from barometre.publish.render.subset import check_sources


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
    check_formats(formats)
    if not isinstance(variables, Mapping):
        variables = load_variables(variables)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    images_dir = Path(resource_dir).resolve() if resource_dir is not None else source.parent
    if timestamp is not None and timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=_dt.UTC)

    resolved, files = _resolve_document(source, variables)
    _refuse_unsupported(files)
    ast = _read_document(source, resolved, images_dir)
    meta = ast["meta"]
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


def _refuse_unsupported(files: Sequence[Path]) -> None:
    """Raise :class:`UnsupportedSourceError` listing every violation of the subset in ``files``
    (a document and the partials it includes)."""
    problems = check_sources(files)
    if problems:
        lines = [f"{path}: {message}" for path, found in problems.items() for message in found]
        raise UnsupportedSourceError(
            "report sources leave the subset shared by Quarto and the offline renderer:\n  "
            + "\n  ".join(lines)
        )


def _read_document(source: Path, resolved: str, images_dir: Path) -> dict[str, Any]:
    """pandoc's JSON AST of the resolved Markdown of ``source``, as Quarto reads it: the
    folder's ``_metadata.yml`` under the front matter, images and bibliography as absolute
    paths, ``lang`` defaulting to French and an ISO ``date`` printed as a French date."""
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
    return ast


def render_offline(
    folder: Path,
    documents: Sequence[str],
    out_dir: Path,
    metadata: Mapping[str, Any],
    formats: Sequence[str],
) -> dict[str, dict[str, Path]]:
    """:func:`render_document` for each document of a report project, with the folder's
    ``_variables.yml`` and the PDF timestamp of its ``pdf-timestamp``; outputs per stem."""
    stamp = metadata.get("pdf-timestamp")
    timestamp = _dt.datetime.fromisoformat(str(stamp)) if stamp else REPRODUCIBLE_TIMESTAMP
    outputs: dict[str, dict[str, Path]] = {}
    for document in documents:
        rendered = render_document(
            folder / document,
            folder / "_variables.yml",
            out_dir,
            formats=formats,
            timestamp=timestamp,
            resource_dir=folder,
        )
        outputs[project_output_stem(document, metadata)] = rendered
    return outputs
