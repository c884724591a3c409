"""Quarto and the offline renderer make the same publications (issue 13).

One small department build (Oise: in Hauts-de-France, the region of the demo editions'
territorial report; four population classes) goes through the CLI twice, ``--renderer offline``
then ``--renderer quarto`` (only the render step reruns). The baromètre, the annex and the
territorial report must then carry the same laureates, key figures and tables in both (text
extracted from the PDFs with ``pdftotext`` and from the HTML pages), have no blank page, page
counts within 2, French dates and typography, and Quarto must print no warning but the known
``typst-gather`` one of quarto-offline. The palmarès pages change often: the comparison is
structural (names, figures, table cells), never byte-wise.

Quarto is the ``quarto`` on PATH, else ``.tools/quarto/bin/quarto`` (what ``make test`` and
``.ci/run`` install from ``../shared``), else it is installed there from
``../shared/tools/quarto-offline`` (about 15 s). Without Quarto and without ``../shared`` the
tests skip; in CI (``CI=true``) with ``../shared`` present they fail instead, so that the Quarto
check cannot silently disappear.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml
from external_tools import require_tool

from barometre.publish.render import (
    quarto_warnings,
    render_project,
    resolve_renderer,
    unexpected_quarto_warnings,
)

ROOT = Path(__file__).resolve().parents[1]
BARO = Path(sys.executable).parent / "barometre"
SHARED_QUARTO = ROOT.parent / "shared" / "tools" / "quarto-offline"
LOCAL_QUARTO = ROOT / ".tools" / "quarto"
DEPARTMENTS = "60"
TERRITORY = "region-32-hauts-de-france"
DOCUMENTS = ("barometre", "methodologie", f"territoire-{TERRITORY}")
DEMO_MARK = "Données de démonstration synthétiques"
SPACES = str.maketrans({"\u202f": " ", "\u00a0": " ", "\u2009": " "})

pytestmark = pytest.mark.slow


# --------------------------------------------------------------------------- Quarto


def _installed_quarto() -> Path | None:
    on_path = shutil.which("quarto")
    if on_path:
        return Path(on_path).parent
    if (LOCAL_QUARTO / "bin" / "quarto").is_file():
        return LOCAL_QUARTO / "bin"
    return None


@pytest.fixture(scope="session")
def quarto_bin() -> Path:
    """Folder of the ``quarto`` the tests render with (installed from ../shared if needed)."""
    found = _installed_quarto()
    if found is None and (SHARED_QUARTO / "install.sh").is_file():
        done = subprocess.run(
            ["bash", str(SHARED_QUARTO / "install.sh"), str(LOCAL_QUARTO)],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        found = _installed_quarto()
        if found is None:
            pytest.fail(
                f"installing Quarto from {SHARED_QUARTO} failed:\n{done.stdout}\n{done.stderr}"
            )
    if found is None:
        if os.environ.get("CI") and SHARED_QUARTO.exists():
            pytest.fail("CI: ../shared is there but no Quarto could be found or installed")
        pytest.skip("no quarto on PATH and no ../shared/tools/quarto-offline to install it from")
    require_tool("pdftotext")
    return found


def _env(quarto_bin: Path) -> dict[str, str]:
    return {**os.environ, "PATH": f"{quarto_bin}{os.pathsep}{os.environ.get('PATH', '')}"}


# --------------------------------------------------------------------------- the two renders


@dataclass
class Run:
    """One build's publications, copied aside, with the build's manifest and output."""

    renderer: str
    folder: Path
    manifest: dict
    stdout: str
    stderr: str
    seconds: float

    def pdf(self, document: str) -> Path:
        return self.folder / f"{document}.pdf"

    def html(self, document: str) -> Path:
        return self.folder / f"{document}.html"

    @property
    def render_seconds(self) -> float:
        return next(s["seconds"] for s in self.manifest["steps"] if s["name"] == "render")


@dataclass
class Renders:
    build_dir: Path
    runs: dict[str, Run] = field(default_factory=dict)


def _build(root: Path, renderer: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [
        str(BARO),
        "build",
        "--edition",
        "2024",
        "--demo",
        "--departments",
        DEPARTMENTS,
        "--build-root",
        str(root),
        "--renderer",
        renderer,
    ]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, check=False)


@pytest.fixture(scope="session")
def renders(quarto_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Renders:
    """The department build rendered offline, then with Quarto; publications copied aside."""
    root = tmp_path_factory.mktemp("quarto-vs-offline")
    build_dir = root / f"2024-dep-{DEPARTMENTS}"
    result = Renders(build_dir)
    env = _env(quarto_bin)
    for renderer in ("offline", "quarto"):
        started = time.perf_counter()
        done = _build(root, renderer, env)
        seconds = time.perf_counter() - started
        assert done.returncode == 0, f"--renderer {renderer}:\n{done.stdout}\n{done.stderr}"
        folder = root / renderer
        folder.mkdir()
        for path in [
            *(build_dir / "publications").glob("*.*"),
            *(build_dir / "territories").glob("*/publications/*.*"),
        ]:
            shutil.copy2(path, folder / path.name)
        manifest = json.loads((build_dir / "manifest.json").read_text(encoding="utf-8"))
        result.runs[renderer] = Run(renderer, folder, manifest, done.stdout, done.stderr, seconds)
    return result


# --------------------------------------------------------------------------- extraction


def pdf_pages(path: Path) -> list[list[str]]:
    """Lines of each page (pdftotext's reading order: one table cell a line), spaces folded."""
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    pages = done.stdout.decode("utf-8").translate(SPACES).split("\f")
    if pages and not pages[-1].strip():
        pages = pages[:-1]
    return [
        [" ".join(line.split()) for line in page.splitlines() if line.strip()] for page in pages
    ]


def running_lines(pages: list[list[str]]) -> set[str]:
    """Header, footer and demo-mark lines: those on most pages, and the page numbers (3 / 12)."""
    counts = Counter(line for page in pages for line in set(page))
    frequent = {line for line, n in counts.items() if n >= max(3, 0.6 * len(pages))}
    return frequent | {
        line for page in pages for line in page if re.fullmatch(r"\d+ ?/ ?\d+", line)
    }


def pages_with_images(path: Path) -> set[int]:
    """Numbers of the pages that show an image (a figure page may hold no text)."""
    done = subprocess.run(
        ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
    )
    return {int(line.split()[0]) for line in done.stdout.splitlines()[2:] if line.split()}


def pdf_text(path: Path) -> str:
    """The PDF's text on one line, typographic apostrophes kept."""
    return " ".join(line for page in pdf_pages(path) for line in page)


def flat(text: str) -> str:
    """Whitespace-insensitive, hyphenation-insensitive form for matching across line breaks."""
    return re.sub(r"[\s\u00ad-]+", "", text.translate(SPACES))


class Page(HTMLParser):
    """What the comparison reads from an HTML page: cover, headings, tables, key figures, text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str]] = []
        self.text: list[str] = []
        self.headings: list[tuple[str, str]] = []
        self.tables: list[list[list[str]]] = []
        self.key_figures: list[str] = []
        self.captions: list[str] = []
        self.cover: dict[str, str] = {}
        self._caption: list[str] | None = None
        self._cell: list[str] | None = None
        self._heading: list[str] | None = None
        self._li: list[str] | None = None
        self._cover_part: tuple[str, list[str]] | None = None
        self.skip = 0

    def _classes(self) -> set[str]:
        return {c for _, classes in self.stack for c in classes.split()}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("meta", "img", "br", "hr", "link", "input", "source"):
            return
        classes = dict(attrs).get("class") or ""
        self.stack.append((tag, classes))
        if tag in ("script", "style", "nav"):
            self.skip += 1
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = []
        elif tag == "li" and "key-figures" in self._classes():
            self._li = []
        elif tag == "figcaption":
            self._caption = []
        if "cover" in self._classes() and tag == "p" or tag == "h1" and "cover" in self._classes():
            self._cover_part = (classes or tag, [])

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            opened, _ = self.stack.pop()
            if opened in ("script", "style", "nav"):
                self.skip -= 1
            if opened == tag:
                break
        if tag in ("td", "th") and self._cell is not None and self.tables and self.tables[-1]:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self.headings.append((tag, " ".join("".join(self._heading).split())))
            self._heading = None
        elif tag == "li" and self._li is not None:
            self.key_figures.append(" ".join("".join(self._li).split()))
            self._li = None
        elif tag == "figcaption" and self._caption is not None:
            self.captions.append(" ".join("".join(self._caption).split()))
            self._caption = None
        if self._cover_part and tag in ("p", "h1"):
            name, parts = self._cover_part
            self.cover[name] = " ".join("".join(parts).split())
            self._cover_part = None

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        data = data.translate(SPACES)
        self.text.append(data)
        for part in (self._cell, self._heading, self._li, self._caption):
            if part is not None:
                part.append(data)
        if self._cover_part:
            self._cover_part[1].append(data)


def html_page(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def variables(renders: Renders, document: str) -> dict:
    folder = renders.build_dir / (
        "report" if not document.startswith("territoire") else f"territories/{TERRITORY}"
    )
    return yaml.safe_load((folder / "_variables.yml").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- the build


def test_cli_records_the_renderer_and_reruns_only_the_render_step(
    renders: Renders, quarto_bin: Path
) -> None:
    offline, quarto = renders.runs["offline"], renders.runs["quarto"]
    version = subprocess.run(
        [str(quarto_bin / "quarto"), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert offline.manifest["renderer"]["name"] == "offline"
    assert offline.manifest["renderer"]["version"].startswith("pandoc ")
    assert quarto.manifest["renderer"] == {"name": "quarto", "version": version}
    statuses = {s["name"]: s["status"] for s in quarto.manifest["steps"]}
    assert statuses.pop("render") == "ran"
    assert set(statuses.values()) == {"skipped"}, "another renderer must rerun the render step only"
    assert f"rendered with: quarto {version}" in quarto.stdout
    for run in (offline, quarto):
        print(
            f"\n{run.renderer}: render step {run.render_seconds:.1f} s (build {run.seconds:.1f} s)"
        )


def test_quarto_prints_no_warning_but_typst_gather(
    renders: Renders, quarto_bin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the render step turns Quarto's other warnings into Python warnings: none in the build log
    assert "quarto (" not in renders.runs["quarto"].stderr, renders.runs["quarto"].stderr
    # and Quarto's own output, on a copy of the territorial report's project
    folder = tmp_path / TERRITORY
    shutil.copytree(
        renders.build_dir / "territories" / TERRITORY,
        folder,
        ignore=shutil.ignore_patterns("publications", ".quarto"),
    )
    monkeypatch.setenv("PATH", _env(quarto_bin)["PATH"])
    done = render_project(folder, resolve_renderer("quarto"))
    assert unexpected_quarto_warnings(done.warnings) == [], done.log
    assert all(
        p.stat().st_size > 10_000 for outputs in done.outputs.values() for p in outputs.values()
    )
    assert not (folder / "publications" / "figures").exists(), (
        "resource copies left next to the publications"
    )


def test_warnings_are_read_from_quartos_output() -> None:
    log = (
        "\x1b[33mWARN: typst-gather analyze failed; staging all packages as fallback: typst-gather binary not found.\n"
        "Run ./configure.sh to build and install it.\x1b[39m\n"
        "[typst]: Compiling barometre.typ to barometre.pdf...DONE\n"
        "WARNING (/x/shortcodes-handlers.lua:302) Unknown var nope specified in a var shortcode.\n"
        "warning: unknown font family: helvetica\n"
    )
    found = quarto_warnings(log)
    assert len(found) == 3
    assert unexpected_quarto_warnings(found) == [
        "Unknown var nope specified in a var shortcode.",
        "unknown font family: helvetica",
    ]


# --------------------------------------------------------------------------- same document


@pytest.mark.parametrize("document", DOCUMENTS)
def test_pages_no_blank_page_and_counts_within_two(renders: Renders, document: str) -> None:
    counts = {}
    for name, run in renders.runs.items():
        pages = pdf_pages(run.pdf(document))
        running = running_lines(pages)
        images = pages_with_images(run.pdf(document))
        for number, page in enumerate(pages, start=1):
            words = sum(len(line.split()) for line in page if line not in running)
            assert words >= 3 or number in images, f"{name}: page {number} of {document} is blank"
        counts[name] = len(pages)
    assert abs(counts["quarto"] - counts["offline"]) <= 2, counts
    print(f"\n{document}: pages {counts}")


def test_same_laureates(renders: Renders) -> None:
    palmares = pd.read_csv(renders.build_dir / "tables" / "palmares.csv", dtype=str)
    names = sorted(set(palmares["nom"]))
    assert names
    for run in renders.runs.values():
        pdf = flat(pdf_text(run.pdf("barometre"))).replace("\u2019", "'")
        html = flat("".join(html_page(run.html("barometre")).text)).replace("\u2019", "'")
        for name in names:
            assert flat(name) in pdf, f"{run.renderer}: laureate {name} missing from the PDF"
            assert flat(name) in html, f"{run.renderer}: laureate {name} missing from the HTML"
    headings = {
        n: [h for h in html_page(r.html("barometre")).headings] for n, r in renders.runs.items()
    }
    assert headings["quarto"] == headings["offline"]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_same_key_figures_cover_headings_and_captions(renders: Renders, document: str) -> None:
    pages = {name: html_page(run.html(document)) for name, run in renders.runs.items()}
    assert pages["quarto"].key_figures == pages["offline"].key_figures
    assert pages["quarto"].cover == pages["offline"].cover
    assert pages["quarto"].captions == pages["offline"].captions
    assert [t for _, t in pages["quarto"].headings] == [t for _, t in pages["offline"].headings]
    assert bool(pages["offline"].key_figures) == (document != "methodologie"), "key figures lost"
    if document == "barometre":  # the figures are the notebooks' national values
        national = variables(renders, document)["national"]
        for key in ("rna_creations", "ha_campaigns", "ha_participants", "jva_matches"):
            value = national[key].translate(SPACES)
            assert any(item.startswith(value + " ") for item in pages["offline"].key_figures), key
    for run in renders.runs.values():
        text = flat(pdf_text(run.pdf(document)))
        for item in pages["offline"].key_figures:
            assert flat(item) in text or all(flat(w) in text for w in item.split()), (
                run.renderer,
                item,
            )


@pytest.mark.parametrize("document", DOCUMENTS)
def test_same_tables(renders: Renders, document: str) -> None:
    pages = {name: html_page(run.html(document)) for name, run in renders.runs.items()}
    offline_tables = pages["offline"].tables
    assert offline_tables, f"{document} has no table"
    assert pages["quarto"].tables == offline_tables
    for run in renders.runs.values():
        lines = [line for page in pdf_pages(run.pdf(document)) for line in page]
        joined = flat(" ".join(lines))
        cells = Counter(line for line in lines)
        for table in offline_tables:
            for row in table:
                for cell in row:
                    if not cell:
                        continue
                    # a short cell is a line of its own; a long one may wrap (and hyphenate),
                    # its lines interleaved with the neighbouring cells' in pdftotext's order
                    found = (
                        cells[cell]
                        or flat(cell) in joined
                        or all(flat(w) in joined for w in cell.split())
                    )
                    assert found, f"{run.renderer} {document}: cell {cell!r}"


@pytest.mark.parametrize("document", DOCUMENTS)
def test_french_dates_and_typography(renders: Renders, document: str) -> None:
    for run in renders.runs.values():
        pages = pdf_pages(run.pdf(document))
        cover = " ".join(pages[0])
        assert "15 juin 2024" in cover, (run.renderer, cover)
        text = " ".join(line for page in pages for line in page)
        page = html_page(run.html(document))
        html_text = " ".join("".join(page.text).split())
        raw = run.html(document).read_text(encoding="utf-8")
        assert page.cover.get("date") == "15 juin 2024", (run.renderer, page.cover)
        assert '<meta name="dcterms.date" content="2024-06-15"' in raw
        assert re.search(r'<html[^>]* lang="fr"', raw)
        for visible in (text, html_text):
            assert "Invalid Date" not in visible and "2024-06-15" not in visible
            assert DEMO_MARK in visible
            assert '"' not in visible, "straight double quotes"
            assert re.search(r"\d,\d", visible), "decimal comma"
        # no-break spaces before « : » and inside guillemets, in the HTML source
        body = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", raw, flags=re.DOTALL)
        visible_html = re.sub(r"<[^>]+>", "", body)
        assert not re.search(r"\w :", visible_html), "ordinary space before a colon"
        assert "\u00a0:" in visible_html
        assert all(DEMO_MARK in " ".join(p) for p in pages), "demo mark on every page"


# --------------------------------------------------------------------------- quarto render at the root


def test_quarto_render_at_the_root_runs_the_pipeline(renders: Renders, quarto_bin: Path) -> None:
    """``quarto render`` in the repository: the pre-render builds the edition (here the same
    department subset, up to date) and its render step renders with Quarto."""
    env = _env(quarto_bin) | {
        "DEPARTMENTS": DEPARTMENTS,
        "BUILD_ROOT": str(renders.build_dir.parent),
    }
    env.pop("MAKEFLAGS", None)
    env.pop("MAKELEVEL", None)
    done = subprocess.run(
        [str(quarto_bin / "quarto"), "render"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "--renderer quarto" in done.stdout + done.stderr
    manifest = json.loads((renders.build_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["renderer"]["name"] == "quarto"
    assert {s["status"] for s in manifest["steps"]} == {"skipped"}, "the build was up to date"


# --------------------------------------------------------------------------- print layout


@pytest.mark.parametrize("document", DOCUMENTS)
def test_publications_pass_the_layout_checks(renders: Renders, document: str) -> None:
    """With both renderers: no heading alone at the foot of a page, no laureate card or table
    split across pages (at least 3 rows on each side of a break), every figure numbered; the
    two renderers give the same page count."""
    from barometre.publish.layout_checks import check_report_folder

    if document.startswith("territoire-"):
        folder = renders.build_dir / "territories" / document.removeprefix("territoire-")
    else:
        folder = renders.build_dir / "report"
    pages = {}
    for name, run in renders.runs.items():
        report = check_report_folder(folder, run.pdf(document))
        assert report.problems == [], (name, document, report.problems)
        assert report.tables_not_found == [], (name, document, report.tables_not_found)
        pages[name] = report.pages
    assert pages["quarto"] == pages["offline"], pages
