"""Statistical disclosure control of everything the baromètre publishes or exports.

Figures derived from platform records about people (HelloAsso participants and donors,
JeVeuxAider volunteers) are published per commune. A count below a threshold (default 11, the
usual rule of official statistics for counts of contributors) could identify people in a small
commune, so:

- **primary suppression**: such a count is replaced by ``"< 11"`` in publications and exports,
  and so is every value derived from it alone that would reveal it (its raw rate per 1 000
  inhabitants: rate × population / 1 000 gives the count back);
- **secondary suppression**: where a total is published beside the cells (a territory's total,
  a class total), a group with exactly one suppressed cell would let a reader recover it by
  difference, so the smallest other cell of that group is suppressed too (Hundepool et al.,
  *Statistical Disclosure Control*, Wiley 2012, ch. 4);
- **censored ranking**: the ranking knows of a suppressed count only what « < 11 » says — the
  count models see it as censored to 1 … 10 (:func:`barometre.indicators.ranking_fits`), the
  eligibility rules count the sources behind it as one
  (:func:`barometre.indicators.censored_information`) and it never distinguishes a laureate —,
  so the published scores, criteria, ranks and probabilities, which must stay published, do not
  give it back;
- **published totals** of person counts (a territory's, France's, or their rates) pass
  :func:`total_is_safe`: differencing them against the published cells must leave every
  suppressed count free in 1 … 10, else the text says what the cells already say
  (:func:`protect_total_text`) and tables print « secret statistique »;
- the exact values live only in the ``work`` folder of ``build/<edition>``, the
  confidential working area, which is never published, exported or rendered;
- personal columns (names, e-mails, birth dates, payers' addresses…) are dropped at ingestion
  and must appear nowhere in the build folder, ``work/`` included.

:func:`scan_build` checks a build folder against these rules;
:mod:`barometre.disclosure_attacks` attacks what it publishes.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from barometre.sources import PERSONAL_COLUMN_PATTERN
from barometre.sources.counts import CLUSTER_COLUMNS

DEFAULT_THRESHOLD = 11
CONFIDENTIAL_DIR = "work"

PERSON_COUNTS: dict[str, str] = {
    "ha_participants": "participations aux campagnes HelloAsso",
    "jva_matches": "mises en relation sur JeVeuxAider.gouv.fr",
    "ha_donations": "dons sur HelloAsso",
}
"""Counts of people (or of their acts) derived from platform records: subject to suppression."""

CONFIDENTIAL_COLUMNS: frozenset[str] = frozenset(CLUSTER_COLUMNS)
"""Columns that only the confidential working area may hold: the cluster statistics of the
person counts (a commune's largest mission or campaign is itself a count of people)."""

REVEALING_SUFFIXES = ("_per_1000", "_ranked_per_1000", "_normalised")
"""Suffixes of columns that reveal the count they derive from: raw rates, and the model-based
rates and normalised values, which the published model parameters turn back into the count."""

DERIVED_INDICATORS: dict[str, tuple[str, ...]] = {
    "ha_participants": ("ha_participants_per_campaign",),
}
"""Indicators computed from a person count (participants per campaign × campaigns gives the
participants back): hidden, with their revealing suffixes, wherever that count is."""


def unprotected_indicators(meta: Mapping[str, object]) -> list[str]:
    """Indicators of the metadata ``meta`` whose published values the suppression rules would
    not protect (empty when there is none). Suppression finds a column by its name, so

    - an indicator computed from a person count (its ``count`` or ratio ``numerator``) must be
      named like the count or be declared in :data:`DERIVED_INDICATORS`, else its published
      value would give a suppressed count back;
    - no indicator may be computed from a confidential column (:data:`CONFIDENTIAL_COLUMNS`:
      the cluster statistics, which only ``work/`` may hold)."""
    unprotected = []
    for indicator in meta["indicators"]:  # type: ignore[index]
        code = indicator["code"]
        base = indicator.get("count") or indicator.get("numerator")
        used = {base, indicator.get("denominator_count")} - {None}
        hidden_person_count = (
            base in PERSON_COUNTS and code != base and code not in DERIVED_INDICATORS.get(base, ())
        )
        if hidden_person_count or used & CONFIDENTIAL_COLUMNS:
            unprotected.append(code)
    return unprotected


# Phrases of the publications that quote a person count: "12 participations", "(7)" after a
# "bénévoles" distinction...
_TEXT_PATTERNS = [
    re.compile(
        r"(?<![\d\u202f,])(\d{1,2})\s+(participations|mises en relation|dons|bénévoles|donateurs|adhérents)\b"
    ),
]


def suppressed_label(threshold: int = DEFAULT_THRESHOLD) -> str:
    return f"< {threshold}"


def is_small(value: object, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """True for a count 1 ≤ x < threshold (0 is not disclosive of anyone; missing is not a count)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return bool(np.isfinite(number) and 0 < number < threshold)


def protect_value(value: object, threshold: int = DEFAULT_THRESHOLD) -> object:
    """The value itself, or the suppression label when it is a small count."""
    return suppressed_label(threshold) if is_small(value, threshold) else value


def primary_mask(table: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """Boolean mask of the person-count cells below the threshold (columns of PERSON_COUNTS)."""
    mask = pd.DataFrame(False, index=table.index, columns=table.columns)
    for column in PERSON_COUNTS:
        if column in table.columns:
            values = pd.to_numeric(table[column], errors="coerce")
            mask[column] = (values > 0) & (values < threshold)
    return mask


def secondary_mask(
    table: pd.DataFrame, mask: pd.DataFrame, groups: Sequence[str] | None
) -> pd.DataFrame:
    """Add secondary suppressions: in each group (or the whole table) whose total is published,
    a column with exactly one suppressed cell gets its smallest other non-zero cell suppressed."""
    out = mask.copy()
    grouped = (
        [(None, table.index)] if not groups else list(table.groupby(list(groups)).groups.items())
    )
    for column in PERSON_COUNTS:
        if column not in table.columns:
            continue
        values = pd.to_numeric(table[column], errors="coerce")
        for _, index in grouped:
            cells = out.loc[index, column]
            if int(cells.sum()) == 1:
                candidates = values.loc[index][(~cells) & (values.loc[index] > 0)]
                if not candidates.empty:
                    out.loc[candidates.idxmin(), column] = True
    return out


def protect_table(
    table: pd.DataFrame,
    threshold: int = DEFAULT_THRESHOLD,
    total_groups: Sequence[str] | None = None,
    totals_published: bool = True,
) -> pd.DataFrame:
    """A copy of ``table`` safe to publish: small person counts (and the raw rates derived from
    them) replaced by ``"< threshold"``, with secondary suppression over ``total_groups`` (or the
    whole table) when totals are published alongside."""
    mask = primary_mask(table, threshold)
    if totals_published:
        mask = secondary_mask(table, mask, total_groups)
    out = table.astype(object).copy()
    label = suppressed_label(threshold)
    for column in PERSON_COUNTS:
        if column not in table.columns:
            continue
        hidden = mask[column]
        out.loc[hidden, column] = label
        for base in (column, *DERIVED_INDICATORS.get(column, ())):
            for derived in (base, *(f"{base}{suffix}" for suffix in REVEALING_SUFFIXES)):
                if derived in out.columns:
                    out.loc[hidden, derived] = label
    return out


def protect_count_text(value: object, formatter, threshold: int = DEFAULT_THRESHOLD) -> str:
    """Format a person count for the text: ``formatter(value)``, or « moins de 11 »."""
    if is_small(value, threshold):
        return f"moins de {threshold}"
    return formatter(value)


def total_is_safe(cells: Iterable[object], threshold: int = DEFAULT_THRESHOLD) -> bool:
    """Whether publishing the sum of ``cells`` (exact person counts, one per published cell)
    keeps every small cell protected against differencing.

    Worst case: the reader knows every other cell exactly (published, or recomputed from a
    commune's published score). With ``k`` small cells (1 ≤ x < threshold) summing to ``R``, the
    total tells him each small cell lies in ``[R − (k − 1)(threshold − 1), R − (k − 1)]``; the
    total is safe when that interval covers the whole public range ``1 … threshold − 1`` for
    each of them: ``R ≥ threshold + k − 2`` and ``R ≤ (k − 1)(threshold − 1) + 1`` (no small
    cell: always safe; one small cell: never)."""
    values = pd.to_numeric(pd.Series(list(cells), dtype=object), errors="coerce")
    small = values[(values > 0) & (values < threshold)]
    k, total = len(small), float(small.sum())
    if k == 0:
        return True
    return total >= threshold + k - 2 and total <= (k - 1) * (threshold - 1) + 1


#: Codes of :func:`hidden_cells`: what a published table says of a person-count cell.
PUBLISHED, SUPPRESSED, UNPUBLISHED = 0, 1, 2


def hidden_cells(published: pd.DataFrame, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """What the published per-commune table (``tables/communes.csv`` read as text, one row per
    commune) says of each person count, by ``code_commune``: :data:`PUBLISHED` (a number),
    :data:`SUPPRESSED` (a label such as « < 11 »: the reader knows 1 … threshold − 1) or
    :data:`UNPUBLISHED` (blank: an ineligible commune, the reader knows only ≥ 0)."""
    wanted = [c for c in (columns or PERSON_COUNTS) if c in published.columns]
    out = pd.DataFrame(index=pd.Index(published["code_commune"].astype(str), name="code_commune"))
    for column in wanted:
        text = published[column].astype(str).str.strip()
        text = text.where(published[column].notna(), "")
        number = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")
        code = np.where(text == "", UNPUBLISHED, np.where(number.notna(), PUBLISHED, SUPPRESSED))
        out[column] = code.astype(int)
    return out


def hidden_remainder_is_safe(
    values: Iterable[object],
    unpublished: Iterable[bool],
    threshold: int = DEFAULT_THRESHOLD,
) -> bool:
    """Whether publishing the sum of a group of communes' counts (or a rate giving it) keeps
    every cell the tables hide protected, the published cells being known exactly.

    ``values`` are the exact counts of the hidden cells; ``unpublished`` says which of them the
    tables leave blank (the reader knows ``0 … ∞``) rather than label (« < 11 »: ``1 … T − 1``).
    The remainder ``R`` (the group's total minus its published cells) bounds each hidden cell
    ``j`` to ``[R − Σ_{i≠j} hi_i, R − Σ_{i≠j} lo_i]``; the sum is safe when, for every ``j``, that
    interval still holds ``lo_j`` and reaches ``T − 1``: the reader cannot tell the cell from any
    value of the public range, nor a blank cell from a count of ``T − 1`` or more. With labelled
    cells only this is :func:`total_is_safe`; a lone hidden cell is never safe (the sum is
    that cell)."""
    cells = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").fillna(0.0)
    blank = np.asarray(list(unpublished), dtype=bool)
    if len(cells) == 0:
        return True
    lo = np.where(blank, 0.0, 1.0)
    hi = np.where(blank, np.inf, float(threshold - 1))
    remainder = float(cells.sum())
    for j in range(len(cells)):
        others = np.arange(len(cells)) != j
        upper = remainder - lo[others].sum()
        lower = remainder - hi[others].sum()
        if upper < threshold - 1 or lower > lo[j]:
            return False
    return True


def protect_total_text(
    cells: Iterable[object], formatter, threshold: int = DEFAULT_THRESHOLD
) -> str:
    """Format the total of person counts ``cells`` for the text: ``formatter(total)``;
    « moins de 11 » when the total itself is small; « au moins N » when the exact total would
    give a suppressed cell back by difference (:func:`total_is_safe`), ``N`` being what the
    published cells already say (the other cells, plus 1 per small cell)."""
    values = pd.to_numeric(pd.Series(list(cells), dtype=object), errors="coerce").dropna()
    total = values.sum()
    if is_small(total, threshold):
        return f"moins de {threshold}"
    if total_is_safe(values, threshold):
        return formatter(total)
    small = (values > 0) & (values < threshold)
    return f"au moins {formatter(values[~small].sum() + int(small.sum()))}"


@dataclass(frozen=True)
class Violation:
    path: str
    kind: str
    detail: str


def _csv_header_and_rows(path: Path) -> tuple[list[str], Iterable[list[str]]]:
    text = path.read_text(encoding="utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    return header, reader


def _raw_personal_values(path: Path, relative: Path) -> list[Violation]:
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        first = handle.readline()
        sep = ";" if first.count(";") > first.count(",") else ","
        header = next(csv.reader([first], delimiter=sep))
        personal = {i: h for i, h in enumerate(header) if PERSONAL_COLUMN_PATTERN.search(h)}
        if not personal:
            return []
        for line, row in enumerate(csv.reader(handle, delimiter=sep), start=2):
            for i, name in personal.items():
                if i < len(row) and row[i].strip():
                    return [
                        Violation(str(relative), "personal value", f"row {line}, {name} is filled")
                    ]
    return []


def _column_violations(where: str, names: Sequence[str], confidential: bool) -> list[Violation]:
    """Personal columns (anywhere) and confidential columns (outside ``work/``) among a file's
    column names."""
    violations = []
    personal = [n for n in names if PERSONAL_COLUMN_PATTERN.search(n)]
    if personal:
        violations.append(Violation(where, "personal column", ", ".join(personal)))
    hidden = [n for n in names if n in CONFIDENTIAL_COLUMNS]
    if hidden and not confidential:
        violations.append(Violation(where, "confidential column", ", ".join(hidden)))
    return violations


def _small_count_violations(
    where: str, header: Sequence[str], rows: Iterable[Sequence[object]], threshold: int
) -> list[Violation]:
    """Cells of a person-count column (:data:`PERSON_COUNTS`) holding 1 ≤ x < threshold (rows
    numbered from 2, the header being row 1)."""
    watched = {i: h for i, h in enumerate(header) if h in PERSON_COUNTS}
    if not watched:
        return []
    return [
        Violation(where, "small count", f"row {line}, {name} = {row[i]}")
        for line, row in enumerate(rows, start=2)
        for i, name in watched.items()
        if i < len(row) and is_small(row[i], threshold)
    ]


def _scan_csv(path: Path, relative: Path, confidential: bool, threshold: int) -> list[Violation]:
    """A CSV file: its columns, and its small person counts outside ``work/``. The raw extracts
    keep their official layout (e.g. the RNA's adrg_declarant column): a personal column may
    exist there, but must hold nothing."""
    if relative.parts[0] == "raw":
        return _raw_personal_values(path, relative)
    header, rows = _csv_header_and_rows(path)
    violations = _column_violations(str(relative), header, confidential)
    if not confidential:
        violations += _small_count_violations(str(relative), header, rows, threshold)
    return violations


def _scan_text(path: Path, relative: Path, threshold: int) -> list[Violation]:
    """A text file quoting « N participations / mises en relation / dons / bénévoles » with N
    below the threshold."""
    text = path.read_text(encoding="utf-8", errors="replace")
    text = text.replace("\u202f", " ").replace("\u00a0", " ")
    return [
        Violation(str(relative), "small count in text", match.group(0))
        for pattern in _TEXT_PATTERNS
        for match in pattern.finditer(text)
        if is_small(match.group(1), threshold)
    ]


def _scan_xlsx(path: Path, relative: Path, confidential: bool, threshold: int) -> list[Violation]:
    """Each sheet of a workbook: its header row's columns and its small person counts."""
    from openpyxl import load_workbook

    violations: list[Violation] = []
    book = load_workbook(path, read_only=True)
    for sheet in book.worksheets:
        where = f"{relative}:{sheet.title}"
        rows = sheet.iter_rows(values_only=True)
        header = [str(h) for h in (next(rows, ()) or ()) if h is not None]
        violations += _column_violations(where, header, confidential)
        violations += _small_count_violations(where, header, rows, threshold)
    return violations


def _scan_parquet(path: Path, relative: Path, confidential: bool) -> list[Violation]:
    """A Parquet file's schema: its columns."""
    import pyarrow.parquet as pq

    return _column_violations(str(relative), pq.read_schema(path).names, confidential)


#: Text files scanned for quoted small counts (outside ``work/``).
_TEXT_SUFFIXES = frozenset({".md", ".yml", ".yaml", ".html", ".ipynb", ".txt", ".typ"})


def scan_build(build_dir: Path, threshold: int = DEFAULT_THRESHOLD) -> list[Violation]:
    """Every violation of the disclosure rules in a build folder.

    - personal columns: any CSV/XLSX header or Parquet schema naming a personal field, anywhere
      (``work/`` included);
    - confidential columns (:data:`CONFIDENTIAL_COLUMNS`, cluster statistics) outside
      ``work/``;
    - small person counts: outside ``work/``, a CSV column of PERSON_COUNTS holding a value
      1 ≤ x < threshold, or a text file (Markdown, YAML, HTML, executed notebooks) quoting
      "N participations / mises en relation / dons / bénévoles" with N below the threshold.
    """
    violations: list[Violation] = []
    for path in sorted(p for p in Path(build_dir).rglob("*") if p.is_file()):
        relative = path.relative_to(build_dir)
        confidential = relative.parts[0] == CONFIDENTIAL_DIR
        suffix = path.suffix.lower()
        if suffix == ".csv":
            violations += _scan_csv(path, relative, confidential, threshold)
        elif suffix in _TEXT_SUFFIXES and not confidential:
            violations += _scan_text(path, relative, threshold)
        elif suffix == ".xlsx":
            violations += _scan_xlsx(path, relative, confidential, threshold)
        elif suffix == ".parquet":
            violations += _scan_parquet(path, relative, confidential)
    return violations


def scan_report(violations: Sequence[Violation]) -> pd.DataFrame:
    return pd.DataFrame([v.__dict__ for v in violations], columns=["path", "kind", "detail"])


def protected_counts(
    values: Mapping[str, object], threshold: int = DEFAULT_THRESHOLD
) -> dict[str, object]:
    """Protect a mapping of named counts (e.g. a laureate's key figures)."""
    return {k: protect_value(v, threshold) if k in PERSON_COUNTS else v for k, v in values.items()}
