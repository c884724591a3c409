"""Reader of the official list of the quartiers prioritaires (ANCT, « liste des QPV 2024 »).

Layout (a contract, shared by real lists given with ``--qpv-file`` and the demo's synthetic list):
``;``-separated, header ``code_qp;lib_qp;insee_reg;lib_reg;insee_dep;lib_dep;insee_com;lib_com;
siren_epci;lib_epci``; codes protected for Excel (``="60057"``); an intercommunal QPV lists all
its communes in one quoted cell, ``=""59512;59599;59650""`` inside CSV quotes, with their
names in ``lib_com`` (``"Roubaix; Tourcoing; Wattrelos"``). UTF-8 (with or without BOM) or
Windows-1252.

A row that cannot be used (no or malformed QPV code, a commune code that is not one, a commune
unknown to the edition's COG, a QPV code already read) is quarantined with its line, column,
value and reason; the counts reconcile: ``rows_read = rows_accepted + rows_quarantined``. A file
that is not the layout, or where no row is usable, raises :class:`QpvListError` naming the file,
line, column and value.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from barometre import geography

QPV_COLUMNS = (
    "code_qp", "lib_qp", "insee_reg", "lib_reg", "insee_dep", "lib_dep", "insee_com", "lib_com", "siren_epci", "lib_epci",
)  # fmt: skip
#: Columns without which a list cannot be read (the others are kept when present).
REQUIRED_COLUMNS = ("code_qp", "lib_qp", "insee_com")
#: QPV codes: ``QN`` (2024 generation) or ``QP`` (2015) + department (3 characters) + 3 characters.
CODE_QP_PATTERN = re.compile(r"Q[NP][0-9][0-9AB][0-9A-Z][0-9A-Z]{3}")
COMMUNE_PATTERN = re.compile(r"[0-9][0-9AB][0-9]{3}")
#: Share of quarantined rows above which the list is refused rather than read.
MAX_QUARANTINE_SHARE = 0.5
#: Columns of :attr:`QpvList.pairs`.
PAIR_COLUMNS = (
    "code_qp",
    "lib_qp",
    "insee_dep",
    "code_commune",
    "insee_com",
    "lib_com",
    "siren_epci",
    "lib_epci",
    "line",
)


class QpvListError(ValueError):
    """A QPV list that cannot be read: names the file and, when one is at fault, the line,
    column and value."""

    def __init__(
        self,
        message: str,
        file: Path | str,
        line: int | None = None,
        column: str | None = None,
        value: str | None = None,
    ):
        where = (
            f"{file}"
            + (f", line {line}" if line is not None else "")
            + (f", column {column}" if column else "")
        )
        shown = f" (value {value!r})" if value is not None else ""
        super().__init__(f"{where}: {message}{shown}")
        self.file, self.line, self.column, self.value = str(file), line, column, value


@dataclass(frozen=True)
class QpvList:
    """A read QPV list.

    ``pairs``: one row per (QPV, commune) of the accepted rows (:data:`PAIR_COLUMNS`; a
    multi-commune QPV gives one pair per commune, ``code_commune`` harmonised to the COG);
    ``quarantine``: one row per rejected row (``line``, ``column``, ``value``, ``reason``);
    ``rows_read`` data rows (blank lines excluded) ``= rows_accepted + len(quarantine)``.
    """

    path: Path
    pairs: pd.DataFrame
    quarantine: pd.DataFrame
    rows_read: int
    encoding: str

    @property
    def rows_accepted(self) -> int:
        return int(self.pairs["line"].nunique())

    @property
    def rows_quarantined(self) -> int:
        return len(self.quarantine)

    @property
    def n_qpv(self) -> int:
        return int(self.pairs["code_qp"].nunique())

    @property
    def synthetic(self) -> bool:
        """Whether the list says it is synthetic (the demo's marks every name)."""
        return bool(self.pairs["lib_qp"].str.contains("synthétique", case=False).all())

    def summary(self) -> str:
        """One line: rows read, accepted, quarantined (with reasons), QPV and communes."""
        reasons = self.quarantine["reason"].value_counts()
        detail = "; ".join(f"{n} {reason}" for reason, n in reasons.items())
        return (
            f"{self.path.name}: {self.rows_read} rows read, {self.rows_accepted} accepted, "
            f"{self.rows_quarantined} quarantined{f' ({detail})' if detail else ''}; "
            f"{self.n_qpv} QPV in {self.pairs['code_commune'].nunique()} communes"
        )


def unprotect(cell: str) -> str:
    """Undo Excel's protection of a code: ``="60057"`` → ``60057``; other cells stripped."""
    cell = cell.strip()
    match = re.fullmatch(r'="(.*)"', cell) or re.fullmatch(r"=(.*)", cell)
    return match.group(1).strip() if match else cell


def _decode(raw: bytes) -> tuple[str, str]:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("cp1252 decodes any byte")  # pragma: no cover


def read_qpv_list(
    path: Path | str, cog_year: int, *, max_quarantine_share: float = MAX_QUARANTINE_SHARE
) -> QpvList:
    """Read a QPV list in the official 2024 layout (module docstring) into a :class:`QpvList`.

    Commune codes are harmonised to the COG ``cog_year`` (arrondissements → their commune,
    merged communes → the commune they joined). Raises :class:`QpvListError` when the header
    lacks a required column, when a line has fewer cells than the header, or when more than
    ``max_quarantine_share`` of the rows (or all of them) are quarantined.
    """
    path = Path(path)
    if not path.is_file():
        raise QpvListError("file not found", path)
    text, encoding = _decode(path.read_bytes())
    reader = csv.reader(io.StringIO(text), delimiter=";", quotechar='"')
    header = _read_header(reader, path)
    position = {name: header.index(name) for name in QPV_COLUMNS if name in header}
    known = set(geography.load_communes(cog_year)["code_commune"])
    pairs: list[dict[str, object]] = []
    quarantine: list[dict[str, object]] = []
    seen: set[str] = set()
    rows_read = 0
    for cells in reader:
        line = reader.line_num
        if not cells or not any(cell.strip() for cell in cells):
            continue
        rows_read += 1
        cell = _named_cells(cells, header, position, path, line)
        code_qp = unprotect(cell["code_qp"]).upper()
        try:
            raw_codes, harmonised = _accepted_codes(cell, code_qp, seen, cog_year, known)
        except _Rejected as rejected:
            quarantine.append({"line": line, "code_qp": code_qp, **rejected.record})
            continue
        seen.add(code_qp)
        pairs += _row_pairs(cell, code_qp, raw_codes, harmonised, line)
    quarantined = pd.DataFrame(quarantine, columns=["line", "code_qp", "column", "value", "reason"])
    _check_usable(pairs, quarantined, rows_read, max_quarantine_share, path)
    # arrondissements of one QPV (Marseille 1er, 2e) collapse onto their commune
    frame = (
        pd.DataFrame(pairs, columns=list(PAIR_COLUMNS))
        .drop_duplicates(["code_qp", "code_commune"])
        .reset_index(drop=True)
    )
    return QpvList(path, frame, quarantined, rows_read, encoding)


class _Rejected(Exception):
    """A row to quarantine: the faulty ``column``, its ``value`` as read and the ``reason``."""

    def __init__(self, column: str, value: str, reason: str) -> None:
        super().__init__(reason)
        self.record = {"column": column, "value": value, "reason": reason}


def _read_header(reader: Iterator[list[str]], path: Path) -> list[str]:
    """The header's column names (stripped, lower case); raises :class:`QpvListError` for an
    empty file or a header without a required column."""
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise QpvListError("the file is empty", path) from None
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise QpvListError(
            f"not the « liste des QPV 2024 » layout: column {missing[0]} absent (header: {';'.join(header)})",
            path,
            line=1,
            column=missing[0],
        )
    return header


def _named_cells(
    cells: list[str], header: list[str], position: dict[str, int], path: Path, line: int
) -> dict[str, str]:
    """The cells of a data row by column name; raises :class:`QpvListError` when the row has
    fewer cells than the header."""
    if len(cells) < len(header):
        raise QpvListError(
            f"{len(cells)} cells where the header has {len(header)} (a ';' inside an unquoted cell?)",
            path,
            line=line,
            column=header[len(cells)],
            value=";".join(cells),
        )
    return {name: cells[i] for name, i in position.items()}


def _accepted_codes(
    cell: dict[str, str], code_qp: str, seen: set[str], cog_year: int, known: set[str]
) -> tuple[list[str], pd.Series]:
    """(commune codes as written, the same harmonised to the COG) of a row whose QPV code is
    well-formed and new and whose commune codes are well-formed and known; raises
    :class:`_Rejected` otherwise."""
    if not CODE_QP_PATTERN.fullmatch(code_qp):
        reason = "missing QPV code" if not code_qp else "malformed QPV code"
        raise _Rejected("code_qp", cell["code_qp"], reason)
    if code_qp in seen:
        raise _Rejected("code_qp", cell["code_qp"], "QPV code repeated")
    raw_codes = [c.strip() for c in re.split(r"[;,]", unprotect(cell["insee_com"])) if c.strip()]
    if not raw_codes:
        raise _Rejected("insee_com", cell["insee_com"], "no commune code")
    padded = [c.zfill(5) if c.isdigit() else c for c in raw_codes]
    if not all(COMMUNE_PATTERN.fullmatch(c) for c in padded):
        raise _Rejected("insee_com", cell["insee_com"], "malformed commune code")
    harmonised = geography.harmonise_codes(pd.Series(padded), cog_year)
    if harmonised.isna().any() or not set(harmonised) <= known:
        raise _Rejected("insee_com", cell["insee_com"], f"commune unknown in COG {cog_year}")
    return raw_codes, harmonised


def _row_pairs(
    cell: dict[str, str],
    code_qp: str,
    raw_codes: list[str],
    harmonised: pd.Series,
    line: int,
) -> list[dict[str, object]]:
    """One pair (:data:`PAIR_COLUMNS`) per commune of an accepted row; each commune takes its
    own name when ``lib_com`` lists one per code, else the whole cell."""
    names = [n.strip() for n in cell.get("lib_com", "").split(";")]
    return [
        {
            "code_qp": code_qp,
            "lib_qp": cell["lib_qp"].strip(),
            "insee_dep": unprotect(cell.get("insee_dep", "")),
            "code_commune": code,
            "insee_com": raw_code,
            "lib_com": names[i]
            if len(names) == len(raw_codes)
            else cell.get("lib_com", "").strip(),
            "siren_epci": unprotect(cell.get("siren_epci", "")),
            "lib_epci": cell.get("lib_epci", "").strip(),
            "line": line,
        }
        for i, (raw_code, code) in enumerate(zip(raw_codes, harmonised, strict=True))
    ]


def _check_usable(
    pairs: list[dict[str, object]],
    quarantined: pd.DataFrame,
    rows_read: int,
    max_quarantine_share: float,
    path: Path,
) -> None:
    """Raise :class:`QpvListError` (naming the first quarantined row) when no row was accepted
    or more than ``max_quarantine_share`` of the rows were quarantined."""
    if pairs and len(quarantined) <= max_quarantine_share * rows_read:
        return
    first = quarantined.iloc[0] if len(quarantined) else None
    raise QpvListError(
        f"{len(quarantined)} of {rows_read} rows unusable"
        + (f"; first: {first['reason']}" if first is not None else "; no QPV row"),
        path,
        line=None if first is None else int(first["line"]),
        column=None if first is None else str(first["column"]),
        value=None if first is None else str(first["value"]),
    )


def qpv_by_commune(pairs: pd.DataFrame) -> pd.DataFrame:
    """One row per commune holding a QPV: ``code_commune``, ``n_qpv`` (QPV touching it, an
    intercommunal QPV counting for each of its communes), ``qpv_codes`` and ``qpv_names``
    (« ; »-joined, sorted)."""
    grouped = pairs.groupby("code_commune")
    return pd.DataFrame(
        {
            "n_qpv": grouped["code_qp"].nunique(),
            "qpv_codes": grouped["code_qp"].agg(lambda codes: " ; ".join(sorted(set(codes)))),
            "qpv_names": grouped["lib_qp"].agg(lambda names: " ; ".join(sorted(set(names)))),
        }
    ).reset_index()
