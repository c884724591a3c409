"""Print-layout checks on a rendered PDF: what a publisher looks for before signing the pages.

The checks read the PDF's text with poppler's ``pdftotext`` (Debian ``poppler-utils``), the
same tool the end-to-end tests use, and ``pdfimages -list`` for the figures:

- :func:`headings_at_page_foot`: a page whose last text line is a heading (set larger than the
  body text), i.e. a heading separated from what it introduces;
- :func:`blocks_split_across_pages`: blocks that must stay on one page (a laureate's card: its
  title and its last line);
- :func:`table_splits`: tables broken across pages leaving fewer than ``min_rows`` rows on a
  page;
- :func:`figures_without_number`: pages with more figures (raster images) than « Figure N »
  captions, and caption numbers that do not run 1, 2, 3…;
- :func:`hyphenated_words`: table header words broken by a hyphen (« Poids ef-fectif »);
- :func:`pdf_page_count`.

Text is compared after :func:`normalise` (lower case, letters and digits only), so that line
breaks, hyphenation, non-breaking spaces and typographic quotes do not matter. Sources of the
expected text are the report's Markdown partials (:func:`markdown_table_rows`,
:func:`markdown_cards`). :func:`check_publication` runs every check on one PDF.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from barometre import catalogue

#: Line height (pt) from which a text line is taken for a heading: the body is set in 10.5 pt
#: (lines ~12 pt high), level-3 headings in 11.5 pt (~13.1 pt), level 2 in 14 pt, level 1 in 21.
HEADING_MIN_LINE_HEIGHT = 12.8
#: The running header and footer of the theme sit outside these bounds (pt from the top of an
#: A4 page: 2.8 cm top margin, 2.5 cm bottom margin).
BODY_TOP_PT = 75.0
BODY_BOTTOM_PT = 841.89 - 68.0
MIN_TABLE_ROWS = 3
_CAPTION = re.compile(r"Figure\s+(\d+)\s+–")


class LayoutToolMissing(RuntimeError):
    """poppler's pdftotext/pdfimages are not installed."""


def _run(tool: str, *args: str) -> str:
    if shutil.which(tool) is None:
        raise LayoutToolMissing(f"{tool} (Debian poppler-utils) is not installed")
    completed = subprocess.run([tool, *args], capture_output=True, text=True, check=True)
    return completed.stdout


def normalise(text: str) -> str:
    """Lower-case letters and digits only (accents kept): the text as compared across layouts."""
    text = unicodedata.normalize("NFC", text).lower()
    return "".join(ch for ch in text if ch.isalnum())


@dataclass(frozen=True)
class Line:
    """One text line of a page: its text and vertical extent (pt from the top)."""

    text: str
    y_min: float
    y_max: float

    @property
    def height(self) -> float:
        return self.y_max - self.y_min


@dataclass
class PdfText:
    """The text of a PDF, page by page: raw reading order (cells of a table row stay together)
    and the normalised stream with the page each character comes from."""

    pages: list[str]
    lines: list[list[Line]] = field(default_factory=list)

    def __post_init__(self) -> None:
        chunks = [normalise(page) for page in self.pages]
        self.stream = "".join(chunks)
        self._starts = []
        position = 0
        for chunk in chunks:
            self._starts.append(position)
            position += len(chunk)

    def page_of(self, position: int) -> int:
        """1-based page number of a position of :attr:`stream`."""
        page = 0
        for i, start in enumerate(self._starts):
            if start <= position:
                page = i
        return page + 1

    def find(self, text: str, start: int = 0) -> int:
        """Position of the normalised ``text`` in the stream from ``start`` (-1: not found)."""
        needle = normalise(text)
        return self.stream.find(needle, start) if needle else -1


def read_pdf(path: Path | str) -> PdfText:
    """The text of a PDF (``pdftotext -raw`` per page, and lines with their boxes)."""
    path = str(path)
    raw = _run("pdftotext", "-raw", path, "-")
    pages = raw.split("\f")
    if pages and not pages[-1].strip():
        pages = pages[:-1]
    return PdfText(pages, read_lines(path))


def read_lines(path: Path | str) -> list[list[Line]]:
    """Text lines of every page with their vertical extent (``pdftotext -bbox-layout``)."""
    xhtml = _run("pdftotext", "-bbox-layout", str(path), "-")
    xhtml = re.sub(r"<!DOCTYPE[^>]*>", "", xhtml)
    root = ET.fromstring(xhtml)
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    result = []
    for page in root.iter("{http://www.w3.org/1999/xhtml}page"):
        lines = []
        for line in page.iterfind(".//h:line", ns):
            words = [w.text or "" for w in line.iterfind("h:word", ns)]
            lines.append(Line(" ".join(words), float(line.get("yMin")), float(line.get("yMax"))))
        result.append(sorted(lines, key=lambda item: (item.y_min, item.y_max)))
    return result


def pdf_page_count(path: Path | str) -> int:
    """Number of pages (``pdfinfo``)."""
    info = _run("pdfinfo", str(path))
    match = re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)
    if not match:
        raise ValueError(f"pdfinfo gave no page count for {path}")
    return int(match.group(1))


# --------------------------------------------------------------------------- checks


def headings_at_page_foot(
    pdf: PdfText, min_height: float = HEADING_MIN_LINE_HEIGHT, skip_pages: Iterable[int] = (1,)
) -> list[str]:
    """Pages whose last body line is a heading (a line at least ``min_height`` pt high), as
    ``"page N: text"``. The cover (page 1) is skipped by default; a page with no body text
    (a full-page figure) has no last line."""
    skipped = set(skip_pages)
    problems = []
    for number, lines in enumerate(pdf.lines, start=1):
        if number in skipped:
            continue
        body = [
            line
            for line in lines
            if BODY_TOP_PT < line.y_min and line.y_max < BODY_BOTTOM_PT and line.text.strip()
        ]
        if body and body[-1].height >= min_height:
            problems.append(f"page {number}: ends with the heading « {body[-1].text} »")
    return problems


def blocks_split_across_pages(pdf: PdfText, blocks: Sequence[tuple[str, str]]) -> list[str]:
    """Blocks ``(first text, last text)`` whose first and last texts are on different pages (or
    not found), as messages. The last text is looked for after the first one."""
    problems = []
    for first, last in blocks:
        start = pdf.find(first)
        if start < 0:
            problems.append(f"block « {first[:60]} » not found")
            continue
        end = pdf.find(last, start + len(normalise(first)))
        if end < 0:
            problems.append(f"end of block « {first[:60]} » not found (« {last[:60]} »)")
            continue
        first_page, last_page = pdf.page_of(start), pdf.page_of(end + len(normalise(last)) - 1)
        if first_page != last_page:
            problems.append(
                f"block « {first[:60]} » runs from page {first_page} to page {last_page}"
            )
    return problems


def table_row_pages(
    pdf: PdfText, rows: Sequence[Sequence[str]], start: int = 0
) -> list[int] | None:
    """Page of each row of a table (cells read in order), the rows found one after the other;
    of the first row's occurrences at or after ``start`` (its text may also appear in the
    prose), the one from which the whole table spans the least text. None when not found."""
    best: tuple[int, list[int]] | None = None
    first = pdf.find("".join(rows[0]), start) if rows else -1
    while first >= 0:
        pages, position = [], first
        for row in rows:
            found = pdf.find("".join(row), position)
            if found < 0:
                break
            pages.append(pdf.page_of(found))
            position = found + max(1, len(normalise("".join(row))))
        else:
            if best is None or position - first < best[0]:
                best = (position - first, pages)
        first = pdf.find("".join(rows[0]), first + 1)
    return None if best is None else best[1]


def split_problem(row_pages: Sequence[int], min_rows: int = MIN_TABLE_ROWS) -> str | None:
    """Why a table whose rows fall on ``row_pages`` is badly split (None: it is not): a page
    holding fewer than ``min_rows`` of its rows while the table spans several pages."""
    counts: dict[int, int] = {}
    for page in row_pages:
        counts[page] = counts.get(page, 0) + 1
    if len(counts) <= 1:
        return None
    short = {page: n for page, n in counts.items() if n < min_rows}
    if short:
        where = ", ".join(f"{n} row(s) on page {page}" for page, n in sorted(short.items()))
        return f"split over pages {sorted(counts)} with {where}"
    return None


def table_splits(
    pdf: PdfText,
    tables: Sequence[tuple[str, Sequence[Sequence[str]]]],
    min_rows: int = MIN_TABLE_ROWS,
) -> tuple[list[str], list[str]]:
    """(badly split tables, tables not found) among ``tables`` (name, rows), as messages."""
    problems, missing = [], []
    for name, rows in tables:
        if not rows:
            continue
        pages = table_row_pages(pdf, rows)
        if pages is None:
            missing.append(name)
            continue
        problem = split_problem(pages, min_rows)
        if problem:
            problems.append(f"table {name}: {problem}")
    return problems, missing


def figure_images_per_page(path: Path | str) -> dict[int, int]:
    """Raster images (the figures' PNGs) per page (``pdfimages -list``; soft masks skipped)."""
    listing = _run("pdfimages", "-list", str(path))
    counts: dict[int, int] = {}
    for line in listing.splitlines()[2:]:
        parts = line.split()
        if len(parts) > 2 and parts[2] == "image":
            page = int(parts[0])
            counts[page] = counts.get(page, 0) + 1
    return counts


def figures_without_number(pdf: PdfText, images_per_page: dict[int, int]) -> list[str]:
    """Pages with more figures than « Figure N – » captions, and caption numbers that do not
    run 1, 2, 3… through the document, as messages."""
    problems = []
    numbers: list[int] = []
    for number, page in enumerate(pdf.pages, start=1):
        found = [int(n) for n in _CAPTION.findall(page.replace("\u00a0", " "))]
        numbers.extend(found)
        images = images_per_page.get(number, 0)
        if images > len(found):
            problems.append(
                f"page {number}: {images} figure(s), {len(found)} « Figure N » caption(s)"
            )
    if numbers != list(range(1, len(numbers) + 1)):
        problems.append(f"figure numbers run {numbers}, not 1, 2, 3…")
    return problems


def hyphenated_words(pdf: PdfText, words: Iterable[str], max_line: int = 45) -> list[str]:
    """Which of ``words`` (e.g. the tables' header words, never to be hyphenated) the PDF
    breaks with a hyphen at the end of a short line (a table cell's: at most ``max_line``
    characters; Typst writes a soft hyphen, U+00AD), as messages."""
    wanted = {normalise(w): w for w in words if len(normalise(w)) >= 4}
    problems = []
    for number, page in enumerate(pdf.pages, start=1):
        # a table cell's lines are short; body text (which may hyphenate) runs the full measure
        for line, head, tail in re.findall(r"^(.*?(\w+))\u00ad\s*\n(\w+)", page, re.MULTILINE):
            if len(line) <= max_line and normalise(head + tail) in wanted:
                problems.append(f"page {number}: « {head}-{tail} » hyphenated")
    return problems


# --------------------------------------------------------------------------- expected text


def markdown_table_rows(text: str) -> list[list[list[str]]]:
    """Body rows (cell texts) of every pipe table of a Markdown text."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    seen_rule = False
    for line in [*text.splitlines(), ""]:
        stripped = line.strip()
        if stripped.startswith("|") and stripped.endswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", stripped[1:-1])]
            if all(re.fullmatch(r":?-+:?", c) for c in cells):
                seen_rule = True
            elif seen_rule:
                current.append([c.replace("\\|", "|") for c in cells])
            continue
        if current:
            tables.append(current)
        current, seen_rule = [], False
    return tables


def markdown_table_header_words(text: str) -> set[str]:
    """Words of the header rows of every pipe table of a Markdown text."""
    words: set[str] = set()
    lines = text.splitlines()
    for i, line in enumerate(lines[1:], start=1):
        cells = (
            [c.strip() for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]
            if line.strip().startswith("|")
            else []
        )
        if cells and all(re.fullmatch(r":?-+:?", c) for c in cells):
            header = lines[i - 1]
            words.update(re.findall(r"\w+", header))
    return words


def markdown_cards(text: str) -> list[tuple[str, str]]:
    """(first, last) texts of every ``::: {.card}`` div of a Markdown text: its heading (or
    first line) with the start of what follows, and the end of its last line."""
    blocks = []
    for match in re.finditer(
        r"^:::+\s*\{\.card[^}]*\}\s*\n(.*?)^:::+\s*$", text, re.MULTILINE | re.DOTALL
    ):
        lines = [
            line.strip().lstrip("#-* ").strip()
            for line in match.group(1).splitlines()
            if line.strip()
        ]
        if not lines:
            continue
        first = lines[0] + (" " + " ".join(lines[1].split()[:4]) if len(lines) > 1 else "")
        last = " ".join(lines[-1].split()[-4:])
        blocks.append((first, last))
    return blocks


@dataclass
class LayoutReport:
    """What :func:`check_publication` found in one PDF (empty lists: nothing wrong)."""

    path: Path
    pages: int
    headings_at_foot: list[str]
    split_blocks: list[str]
    split_tables: list[str]
    tables_not_found: list[str]
    unnumbered_figures: list[str]
    hyphenated_headers: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [
            *self.headings_at_foot,
            *self.split_blocks,
            *self.split_tables,
            *self.unnumbered_figures,
            *self.hyphenated_headers,
        ]


def check_publication(
    pdf_path: Path | str,
    tables: Sequence[tuple[str, Sequence[Sequence[str]]]] = (),
    blocks: Sequence[tuple[str, str]] = (),
    min_rows: int = MIN_TABLE_ROWS,
    header_words: Iterable[str] = (),
) -> LayoutReport:
    """Every check on one PDF: headings at the foot of a page, ``blocks`` split across pages,
    ``tables`` (name, rows) split leaving fewer than ``min_rows`` rows, figures without a
    « Figure N » caption, ``header_words`` hyphenated; with the page count."""
    pdf = read_pdf(pdf_path)
    split_tables, missing = table_splits(pdf, tables, min_rows)
    return LayoutReport(
        path=Path(pdf_path),
        pages=len(pdf.pages),
        headings_at_foot=headings_at_page_foot(pdf),
        split_blocks=blocks_split_across_pages(pdf, blocks),
        split_tables=split_tables,
        tables_not_found=missing,
        unnumbered_figures=figures_without_number(pdf, figure_images_per_page(pdf_path)),
        hyphenated_headers=hyphenated_words(pdf, header_words),
    )


def check_report_folder(
    folder: Path | str, pdf_path: Path | str, min_rows: int = MIN_TABLE_ROWS
) -> LayoutReport:
    """:func:`check_publication` with the tables and cards of a report folder's partials
    (``tables/*.md``, as the pages include them)."""
    tables: list[tuple[str, list[list[str]]]] = []
    blocks: list[tuple[str, str]] = []
    header_words: set[str] = set()
    pdf = read_pdf(pdf_path)
    for partial in sorted(Path(folder).glob("tables/*.md")):
        text = partial.read_text(encoding="utf-8")
        for i, rows in enumerate(markdown_table_rows(text)):
            tables.append((f"{partial.stem}#{i + 1}", rows))
        header_words |= markdown_table_header_words(text)
        # only the cards the document prints (a partial may be included by another document)
        blocks.extend(b for b in markdown_cards(text) if pdf.find(b[0]) >= 0)
    # tables of partials the document does not include are not looked for
    tables = [t for t in tables if pdf.find("".join(t[1][0])) >= 0]
    return check_publication(pdf_path, tables, blocks, min_rows, header_words)


def check_build(build_dir: Path | str) -> list[LayoutReport]:
    """:func:`check_report_folder` on every publication of an edition build: the baromètre and
    the annex (``report/`` → ``publications/``) and each territorial report."""
    build_dir = Path(build_dir)
    report = catalogue.path(build_dir, "report.variables").parent
    reports = [
        check_report_folder(report, pdf)
        for pdf in sorted(catalogue.path(build_dir, "publications").glob("*.pdf"))
    ]
    for folder in sorted(catalogue.path(build_dir, "territory", slug="*").parent.glob("*/")):
        publications = catalogue.path(build_dir, "territory.publications", slug=folder.name)
        reports += [check_report_folder(folder, pdf) for pdf in sorted(publications.glob("*.pdf"))]
    return reports


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m barometre.publish.layout_checks build/2024 [...]``: print each publication's
    page count and layout problems; exit 1 when there is any."""
    import argparse

    parser = argparse.ArgumentParser(description="Layout checks on the PDFs of edition builds.")
    parser.add_argument("build_dirs", nargs="+", type=Path)
    args = parser.parse_args(argv)
    failed = False
    for build_dir in args.build_dirs:
        for report in check_build(build_dir):
            status = "ok" if not report.problems else f"{len(report.problems)} problem(s)"
            print(f"{report.path}: {report.pages} pages, {status}")
            for problem in report.problems:
                print(f"  - {problem}")
            failed = failed or bool(report.problems)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
