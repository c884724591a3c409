"""Offline renderer: shortcodes, the supported subset, and real renders of the sample report.

The PDF text checks need poppler's ``pdftotext`` (Debian package ``poppler-utils``); they are
skipped, not faked, when it is absent.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from external_tools import has_tool

from barometre.publish import PALETTE, contrast_ratio
from barometre.publish.render import (
    CROSSREF_FILTER,
    CSS_FILE,
    PROJECT_TEMPLATE_FILES,
    PROJECT_TEMPLATES,
    QUARTO_PROJECT_TEMPLATE,
    SUPPORTED_DIV_CLASSES,
    TYPST_TEMPLATE,
    RenderError,
    ShortcodeError,
    UnsupportedSourceError,
    check_sources,
    check_supported,
    lookup_variable,
    quarto_available,
    read_report_project,
    render_document,
    render_project,
    report_metadata,
    resolve_renderer,
    resolve_shortcodes,
    write_report_project,
)

SAMPLE_DIR = Path(__file__).resolve().parent / "fixtures" / "report_sample"
DEMO_MARK = "Données de démonstration synthétiques"
NNBSP = "\u202f"
NBSP = "\u00a0"

needs_pdftotext = pytest.mark.usefixtures("pdftotext")  # skips without it, fails in CI


def pdf_pages(pdf: Path) -> list[str]:
    """Text of each page, no-break spaces folded to spaces (pdftotext prints them as spaces)."""
    completed = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True
    )
    text = completed.stdout.decode("utf-8")
    pages = text.split("\f")
    return [
        " ".join(page.replace(NNBSP, " ").replace(NBSP, " ").split())
        for page in pages
        if page.strip()
    ]


def plain(value: str) -> str:
    return value.replace(NNBSP, " ").replace(NBSP, " ")


@pytest.fixture(scope="module")
def variables() -> dict:
    return yaml.safe_load((SAMPLE_DIR / "_variables.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample copied to a temporary folder and rendered to a separate output folder."""
    sources = tmp_path_factory.mktemp("a") / "report"
    shutil.copytree(SAMPLE_DIR, sources)
    out = tmp_path_factory.mktemp("a_out") / "publications"
    return render_document(
        sources / "sample.qmd", sources / "_variables.yml", out, demo_mark=DEMO_MARK
    )


# --------------------------------------------------------------------------- shortcodes


def test_var_shortcodes_follow_dotted_keys(tmp_path: Path) -> None:
    variables = {"a": {"b": {"c": "30\u202f101"}}, "year": 2024}
    text = "x {{< var a.b.c >}} y {{<var year>}} z {{< var 'a.b.c' >}}"
    assert resolve_shortcodes(text, variables, tmp_path) == "x 30\u202f101 y 2024 z 30\u202f101"


def test_unknown_variable_names_key_file_and_line(tmp_path: Path) -> None:
    text = "ligne 1\nle palmarès compte {{< var palmares.total >}} lauréats\n"
    with pytest.raises(ShortcodeError) as error:
        resolve_shortcodes(text, {"palmares": {"n": "20"}}, tmp_path, source_name="barometre.qmd")
    message = str(error.value)
    assert "barometre.qmd:2" in message and "palmares.total" in message
    assert "keys at palmares: n" in message


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (12.5, "float"),
        (30101, "fr_number"),
        (1093, "fr_number"),
        (True, "boolean"),
        (None, "empty"),
        ("  ", "empty"),
        ({"x": "1"}, "dict"),
    ],
)
def test_variables_must_be_french_text(value: object, reason: str) -> None:
    with pytest.raises(TypeError, match=reason):
        lookup_variable({"k": value}, "k")
    assert lookup_variable({"k": 2024}, "k") == "2024"  # a year
    assert lookup_variable({"k": 20}, "k") == "20"


def test_includes_are_relative_to_the_including_file(tmp_path: Path) -> None:
    (tmp_path / "parts" / "deep").mkdir(parents=True)
    (tmp_path / "parts" / "table.md").write_text(
        "début {{< var v >}}\n{{< include deep/inner.md >}}\n", encoding="utf-8"
    )
    (tmp_path / "parts" / "deep" / "inner.md").write_text("fond\n", encoding="utf-8")
    out = resolve_shortcodes("A\n{{< include parts/table.md >}}\nB", {"v": "x"}, tmp_path)
    assert out == "A\ndébut x\nfond\nB"


def test_include_errors(tmp_path: Path) -> None:
    with pytest.raises(ShortcodeError, match="not found: absent.md"):
        resolve_shortcodes("{{< include absent.md >}}", {}, tmp_path)
    (tmp_path / "a.md").write_text("{{< include b.md >}}", encoding="utf-8")
    (tmp_path / "b.md").write_text("{{< include a.md >}}", encoding="utf-8")
    with pytest.raises(ShortcodeError, match="circular include"):
        resolve_shortcodes("{{< include a.md >}}", {}, tmp_path)
    (tmp_path / "bad.md").write_text("{{< var manquante >}}", encoding="utf-8")
    with pytest.raises(ShortcodeError, match=r"bad\.md:1.*manquante"):
        resolve_shortcodes("{{< include bad.md >}}", {}, tmp_path)


def test_pagebreak_escape_and_unsupported(tmp_path: Path) -> None:
    out = resolve_shortcodes("a\n{{< pagebreak >}}\nb", {}, tmp_path)
    assert "```{=typst}\n#pagebreak(weak: true)\n```" in out
    assert '```{=html}\n<div class="page-break"></div>\n```' in out
    assert resolve_shortcodes("{{{< var x >}}}", {}, tmp_path) == "{{< var x >}}"
    with pytest.raises(ShortcodeError, match="'meta' is not supported"):
        resolve_shortcodes("{{< meta title >}}", {}, tmp_path)


# --------------------------------------------------------------------------- subset


def test_sample_report_uses_only_the_supported_subset() -> None:
    files = sorted(SAMPLE_DIR.rglob("*.qmd")) + sorted(SAMPLE_DIR.rglob("*.md"))
    assert len(files) == 3
    assert check_sources(files) == {}


def test_check_supported_flags_each_violation() -> None:
    bad = """\
---
title: Test
lang: en
jupyter: python3
---
```{python}
x = 1
```
Voir @sec-carte et [@insee2020].
![Carte](carte.png){#lst-carte}
Valeur `{python} x` et {{< meta title >}} et {{< var >}}.
::: {.panel-tabset}
:::
```{=latex}
\\newpage
```
<div class='x'>
```
{{< video x.mp4 >}} dans un bloc de code: pas vérifié
```
::: {.callout-note}
:::
"""
    violations = check_supported(bad)
    joined = "\n".join(violations)
    for expected in [
        "lang is 'en'",
        "'jupyter'",
        "line 6: executable code cell ```{python}```",
        "line 9: cross-reference @sec-carte",  # @fig-/@tbl- and citations are in the subset
        "line 10: only #fig- and #tbl- labels",
        "line 11: inline code cell",
        "{{< meta title >}}",
        "{{< var >}}",
        "div class .panel-tabset",
        "line 14: raw block ```{=latex}```",
        "line 17: raw HTML",
    ]:
        assert expected in joined, expected
    assert "video" not in joined  # inside a plain code block
    assert ".callout-note" not in joined
    assert len(violations) == 11  # the citation is no violation any more


def test_render_refuses_unsupported_sources(tmp_path: Path) -> None:
    source = tmp_path / "page.qmd"
    source.write_text("# Titre\n\n```{python}\nprint(1)\n```\n", encoding="utf-8")
    with pytest.raises(UnsupportedSourceError, match="page.qmd: line 3"):
        render_document(source, {}, tmp_path / "out", formats=("html",))
    # Violations inside an included partial are reported with the partial's name.
    (tmp_path / "part.md").write_text("Voir @sec-x.\n", encoding="utf-8")
    source.write_text("# Titre\n\n{{< include part.md >}}\n", encoding="utf-8")
    with pytest.raises(UnsupportedSourceError, match=r"part\.md: line 1: cross-reference"):
        render_document(source, {}, tmp_path / "out", formats=("html",))


# --------------------------------------------------------------------------- rendering


@needs_pdftotext
def test_pdf_text_has_values_and_demo_mark_on_every_page(
    rendered: dict[str, Path], variables: dict
) -> None:
    pages = pdf_pages(rendered["pdf"])
    assert len(pages) == 5  # cover, contents, key figures, palmarès, method
    text = "\n".join(pages)
    for value in [
        variables["national"]["associations_creees"],
        variables["national"]["benevoles"],
        variables["national"]["part_communes_classees"],
        variables["palmares"]["metropole"]["population"],
        variables["palmares"]["village"]["population"],
        variables["palmares"]["village"]["premier"],
        variables["edition"]["date"],
    ]:
        assert plain(value) in text, value
    assert "Les six indicateurs du baromètre" in text  # from a nested partial
    for number, page in enumerate(pages, start=1):
        # once per page: the body's ::: {.demo-mark} div gives way to the template's mark
        assert page.count(DEMO_MARK) == 1, f"demo mark missing or doubled on page {number}"
    assert re.search(rf"\b{len(pages)} ?/ ?{len(pages)}$", pages[-1])  # footer: page / total
    for forbidden in (r"\bnan\b", r"\bNone\b", r"\bNaN\b", r"\{\{<", r"\bTODO\b"):
        assert not re.search(forbidden, text), forbidden


@needs_pdftotext
def test_demo_div_of_the_body_becomes_the_page_mark(tmp_path: Path) -> None:
    """Without demo_mark, the source's ::: {.demo-mark} div (Quarto's way) marks every page."""
    out = render_document(
        SAMPLE_DIR / "sample.qmd",
        SAMPLE_DIR / "_variables.yml",
        tmp_path,
        formats=("pdf",),
        output_stem="barometre",
    )
    pages = pdf_pages(out["pdf"])
    assert [page.count(DEMO_MARK) for page in pages] == [1] * 5
    assert [p.name for p in tmp_path.iterdir()] == ["barometre.pdf"]  # no Typst leftovers


@needs_pdftotext
def test_no_demo_mark_when_none_is_asked(tmp_path: Path) -> None:
    source = tmp_path / "page.qmd"
    source.write_text("---\ntitle: Réel\n---\n\n# Chapitre\n\nTexte.\n", encoding="utf-8")
    out = render_document(source, {}, tmp_path / "out", formats=("pdf",))
    pages = pdf_pages(out["pdf"])
    assert len(pages) == 2 and not any("démonstration" in page for page in pages)


def test_html_is_french_self_contained_and_marked(
    rendered: dict[str, Path], variables: dict
) -> None:
    html = rendered["html"].read_text(encoding="utf-8")
    assert '<html lang="fr">' in html
    body = html[html.index("<body>") :]
    assert body.index(DEMO_MARK) < body.index('class="title"')  # banner above the title
    assert variables["national"]["associations_creees"] in html
    assert 'src="data:image/svg+xml;base64,' in html  # figures embedded, paths resolved
    assert not re.search(r'(src|href)="(https?:|/)', html)  # nothing fetched from outside
    assert "«\u00a0Village\u00a0»" in html and "Pourquoi\u202f?" in html  # French typography
    assert '<p class="callout-title">' not in html and "callout-title" in html
    assert "<math" in html  # formula as MathML, no CDN script
    for forbidden in (r"\bnan\b", r"\bNone\b", r"\{\{<"):
        assert not re.search(forbidden, re.sub(r"<[^>]+>", " ", body)), forbidden


def test_two_renders_are_byte_identical(rendered: dict[str, Path], tmp_path: Path) -> None:
    """Same sources from another folder, another output folder: same bytes (paths do not leak)."""
    sources = tmp_path / "elsewhere" / "report"
    shutil.copytree(SAMPLE_DIR, sources)
    again = render_document(
        sources / "sample.qmd", sources / "_variables.yml", tmp_path / "out", demo_mark=DEMO_MARK
    )
    assert again["pdf"].read_bytes() == rendered["pdf"].read_bytes()
    assert again["html"].read_bytes() == rendered["html"].read_bytes()
    assert rendered["pdf"].read_bytes().startswith(b"%PDF-")


def test_missing_image_and_unknown_variable_fail_loudly(tmp_path: Path) -> None:
    source = tmp_path / "page.qmd"
    source.write_text("---\ntitle: T\n---\n\n![Carte](figures/absente.png)\n", encoding="utf-8")
    with pytest.raises(RenderError, match=r"image not found: figures/absente\.png"):
        render_document(source, {}, tmp_path / "out")
    source.write_text("# T\n\n{{< var absente >}}\n", encoding="utf-8")
    with pytest.raises(ShortcodeError, match=r"page\.qmd:3: no variable 'absente'"):
        render_document(source, {}, tmp_path / "out")


def test_typst_source_uses_template_and_relative_image_paths(tmp_path: Path) -> None:
    sources = tmp_path / "report"
    shutil.copytree(SAMPLE_DIR, sources)
    render_document(
        sources / "sample.qmd",
        sources / "_variables.yml",
        tmp_path / "build" / "pub",
        formats=("pdf",),
        keep_typst=True,
    )
    typ = (tmp_path / "build" / "pub" / ".sample.typst" / "main.typ").read_text(encoding="utf-8")
    assert '#import "_templates/theme.typ": *' in typ
    assert (tmp_path / "build" / "pub" / ".sample.typst" / "_templates" / "theme.typ").is_file()
    assert 'image("../../../report/figures/barres.svg", width: 70.0%)' in typ
    assert '#callout(kind: "note", title: [Lecture])[' in typ
    assert "#key-figures[" in typ and "#card[" in typ and "#source-note[" in typ
    assert '#callout(kind: "warning", title: [Ce que les données ne disent pas])[' in typ


# --------------------------------------------------------------------------- templates


def test_palette_is_the_same_in_python_typst_and_css() -> None:
    typst_source = TYPST_TEMPLATE.read_text(encoding="utf-8")
    css = CSS_FILE.read_text(encoding="utf-8")
    for name, colour in PALETTE.items():
        assert f'{name}: rgb("{colour}")' in typst_source, name
        assert f"--{name}: {colour};" in css, name


def test_palette_contrast_is_accessible() -> None:
    white = "#FFFFFF"
    assert contrast_ratio("#000000", white) == pytest.approx(21.0)
    assert contrast_ratio(white, white) == pytest.approx(1.0)
    assert contrast_ratio(PALETTE["ink"], white) >= 7  # body text, AAA
    assert contrast_ratio(white, PALETTE["primary"]) >= 7  # table headers, cover
    assert contrast_ratio(PALETTE["primary"], PALETTE["primary-tint"]) >= 7  # key figures
    assert contrast_ratio(PALETTE["muted"], white) >= 4.5  # captions, AA
    assert contrast_ratio(PALETTE["muted"], PALETTE["primary-tint"]) >= 4.5  # zebra rows
    assert contrast_ratio(PALETTE["alert"], white) >= 4.5
    assert contrast_ratio(PALETTE["demo-ink"], PALETTE["demo-bg"]) >= 4.5
    assert contrast_ratio(PALETTE["highlight"], PALETTE["primary"]) >= 4.5


def test_lua_filter_and_subset_know_the_same_div_classes() -> None:
    lua = (TYPST_TEMPLATE.parent / "barometre-divs.lua").read_text(encoding="utf-8")
    css = CSS_FILE.read_text(encoding="utf-8")
    for cls in SUPPORTED_DIV_CLASSES:
        assert f".{cls}" in css, cls
        if not cls.startswith("callout-"):
            assert f'["{cls}"]' in lua, cls


def test_offline_crossref_supplements_are_the_quarto_projects() -> None:
    """crossref.lua numbers « Figure 3 » / « Tableau 2 » as Quarto does with the project's
    crossref titles: the two renderers must print the same words."""
    lua = CROSSREF_FILTER.read_text(encoding="utf-8")
    supplements = re.search(r"local SUPPLEMENT = \{([^}]*)\}", lua)
    assert supplements is not None
    offline = dict(re.findall(r'(\w+) = "([^"]*)"', supplements.group(1)))
    crossref = yaml.safe_load(QUARTO_PROJECT_TEMPLATE.read_text(encoding="utf-8"))["crossref"]
    quarto = {kind: crossref[f"{kind}-title"] for kind in ("fig", "tbl")}
    assert offline == quarto == {"fig": "Figure", "tbl": "Tableau"}


def test_output_formats_and_stems_of_a_project() -> None:
    from barometre.publish.render.base import check_formats, project_output_stem

    check_formats(("pdf",))
    check_formats(("html", "pdf"))
    for bad in ((), ("pdf", "docx"), ("typst",)):
        with pytest.raises(ValueError, match="formats must be among"):
            check_formats(bad)
    assert project_output_stem("territoire.qmd", {}) == "territoire"
    assert project_output_stem("territoire.qmd", {"output-file": "territoire-t.pdf"}) == (
        "territoire-t"
    )
    assert project_output_stem("a/b.qmd", {"output-file": ""}) == "b"


# --------------------------------------------------------------------------- Quarto


def test_renderer_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(quarto_available(), bool)
    offline = resolve_renderer("offline")
    assert offline.name == "offline" and offline.version.startswith("pandoc 3.")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert quarto_available() is False
    assert resolve_renderer("auto").name == "offline"  # no quarto on PATH: pandoc + Typst
    with pytest.raises(RenderError, match="quarto is not installed"):
        resolve_renderer("quarto")
    with pytest.raises(ValueError, match="renderer must be one of auto, quarto, offline"):
        resolve_renderer("latex")


def test_templates_cannot_collide_with_documents() -> None:
    """Quarto writes a document's intermediate <document>.typ next to it and deletes it after
    the render: a template named like a document (barometre.typ next to barometre.qmd) was
    overwritten, then gone. Templates live in _templates/, where Quarto writes nothing."""
    documents = {p.stem for p in (Path(__file__).resolve().parents[1] / "report").glob("*.qmd")}
    assert {"barometre", "methodologie", "territoire"} <= documents
    typst_names = {p.stem for p in PROJECT_TEMPLATE_FILES if p.suffix == ".typ"}
    assert not typst_names & documents
    assert PROJECT_TEMPLATES.startswith("_")  # Quarto renders nothing under a folder named _*
    partial = (TYPST_TEMPLATE.parent / "typst-template.typ").read_text(encoding="utf-8")
    assert f'#import "{PROJECT_TEMPLATES}/{TYPST_TEMPLATE.name}": *' in partial


def test_report_project_for_both_renderers(tmp_path: Path) -> None:
    """A report folder becomes a Quarto project; offline, it renders from the same files, the
    ISO date of _metadata.yml printed in French, output-file naming the outputs."""
    folder = tmp_path / "territories" / "t"
    shutil.copytree(SAMPLE_DIR, folder)
    text = (folder / "sample.qmd").read_text(encoding="utf-8")
    (folder / "sample.qmd").write_text(re.sub(r"(?m)^date: .*\n", "", text), encoding="utf-8")
    metadata = report_metadata("2024-06-01", "2024-06-15T12:00:00", DEMO_MARK) | {
        "output-file": "territoire-t"
    }
    write_report_project(folder, ["sample.qmd"], "publications", metadata)
    config = yaml.safe_load((folder / "_quarto.yml").read_text(encoding="utf-8"))
    assert config["project"] == {
        "type": "default",
        "output-dir": "publications",
        "render": ["sample.qmd"],
    }
    assert "_templates/typst-show.typ" in config["format"]["typst"]["template-partials"]
    assert config["format"]["typst"]["shift-heading-level-by"] == 0
    assert sorted(p.name for p in (folder / PROJECT_TEMPLATES).iterdir()) == sorted(
        p.name for p in PROJECT_TEMPLATE_FILES
    )
    assert read_report_project(folder) == (["sample.qmd"], (folder / "publications").resolve())
    with pytest.raises(ValueError, match="ISO date"):
        report_metadata("1er juin 2024", "2024-06-15T12:00:00")

    done = render_project(folder, "offline")
    assert done.renderer.name == "offline" and done.warnings == []
    outputs = done.outputs["territoire-t"]
    assert outputs["pdf"] == folder / "publications" / "territoire-t.pdf"
    html = outputs["html"].read_text(encoding="utf-8")
    assert '<p class="date">1er juin 2024</p>' in html
    assert '<meta name="dcterms.date" content="2024-06-01" />' in html
    assert "Invalid Date" not in html and DEMO_MARK in html
    if has_tool("pdftotext"):
        first = pdf_pages(outputs["pdf"])[0]
        assert "1er juin 2024" in first and "2024-06-01" not in first
    again = render_project(folder, "offline")
    assert again.outputs["territoire-t"]["pdf"].read_bytes() == outputs["pdf"].read_bytes()


def test_front_matter_wins_over_directory_metadata(tmp_path: Path) -> None:
    (tmp_path / "_metadata.yml").write_text(
        "date: 2024-06-15\nsubtitle: Du dossier\n", encoding="utf-8"
    )
    source = tmp_path / "page.qmd"
    source.write_text("---\ntitle: T\nsubtitle: Du document\n---\n\nTexte.\n", encoding="utf-8")
    html = render_document(source, {}, tmp_path / "out", formats=("html",))["html"].read_text(
        encoding="utf-8"
    )
    assert "Du document" in html and "Du dossier" not in html
    assert '<p class="date">15 juin 2024</p>' in html
