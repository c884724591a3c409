"""RNA (Répertoire national des associations): the official ``rna_waldec`` and ``rna_import`` files.

Source: data.gouv.fr, "Répertoire National des Associations" (Ministère de l'Intérieur, Licence
Ouverte), monthly ``rna_waldec_YYYYMM01.zip`` and ``rna_import_YYYYMM01.zip``, each holding one
CSV per department (``rna_waldec_YYYYMMDD_dpt_XX.csv``); a national CSV of the same layout is
read the same way. Format (``data/README.md``; ``../shared/data/rna/PROVENANCE.md``):

* ``;``-separated, header line, UTF-8 with or without BOM or Windows-1252 (detected per file),
  empty strings sometimes quoted (``""``), every value read as text (codes keep their zeros);
* layouts, recognised from the header: ``rna_waldec`` current (39 columns, since about 2020),
  ``rna_waldec`` 2015–2019 (41 columns: ``telephone`` and ``email`` too, never read),
  ``rna_import`` (26 columns: associations of before 2009 never modified since, numbers such as
  ``751P00085568``, commune name in ``libcom``);
* dates ``YYYY-MM-DD`` with ``0001-01-01`` meaning "no date".

Creations of the data year are counted by **creation date** (``date_creat``, the constitutive
declaration); ``date="publication"`` counts by the JOAFE publication date (``date_publi``)
instead, e.g. for extracts that lack the creation date. Import rows in position ``R``
(*reprise*: taken over in waldec, where the same association appears again) are never in a
default count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import pandas as pd

from barometre.sources.common import NO_DATE, SourceError
from barometre.sources.contracts import (
    DEFAULT_MAX_QUARANTINE_SHARE,
    PLATFORM_MAX_DATE,
    Checked,
    Contract,
    Field,
    apply_contract,
)
from barometre.sources.matching import CommuneMatcher
from barometre.sources.reading import RawTable, detect_encoding, read_csv_table, read_header

WALDEC_COLUMNS: tuple[str, ...] = (
    "id", "id_ex", "siret", "rup_mi", "gestion", "date_creat", "date_decla", "date_publi",
    "date_disso", "nature", "groupement", "titre", "titre_court", "objet", "objet_social1",
    "objet_social2", "adrs_complement", "adrs_numvoie", "adrs_repetition", "adrs_typevoie",
    "adrs_libvoie", "adrs_distrib", "adrs_codeinsee", "adrs_codepostal", "adrs_libcommune",
    "adrg_declarant", "adrg_complemid", "adrg_complemgeo", "adrg_libvoie", "adrg_distrib",
    "adrg_codepostal", "adrg_achemine", "adrg_pays", "dir_civilite", "siteweb", "publiweb",
    "observation", "position", "maj_time",
)  # fmt: skip
"""The current (since about 2020) 39-column layout of ``rna_waldec_*`` files, in order."""

WALDEC_2015_COLUMNS: tuple[str, ...] = (
    *WALDEC_COLUMNS[:34], "telephone", "siteweb", "email", *WALDEC_COLUMNS[35:],
)  # fmt: skip
"""The older (2015–2019) 41-column waldec layout: ``telephone`` after ``dir_civilite`` and
``email`` after ``siteweb``."""

IMPORT_COLUMNS: tuple[str, ...] = (
    "id", "id_ex", "siret", "gestion", "date_creat", "date_publi", "nature", "groupement",
    "titre", "objet", "objet_social1", "objet_social2", "adr1", "adr2", "adr3",
    "adrs_codepostal", "libcom", "adrs_codeinsee", "dir_civilite", "telephone", "siteweb",
    "email", "observation", "position", "rup_mi", "maj_time",
)  # fmt: skip
"""The 26-column ``rna_import_*`` layout (associations of before 2009 never modified since)."""

LAYOUTS: dict[str, tuple[str, ...]] = {
    "rna_waldec (39 columns)": WALDEC_COLUMNS,
    "rna_waldec 2015-2019 (41 columns)": WALDEC_2015_COLUMNS,
    "rna_import (26 columns)": IMPORT_COLUMNS,
}
IMPORT_RENAME = {"libcom": "adrs_libcommune"}

READ_COLUMNS: tuple[str, ...] = (
    "id", "date_creat", "date_publi", "position", "adrs_codeinsee", "adrs_codepostal", "adrs_libcommune",
)  # fmt: skip
"""The columns the loader reads; the others (free text, manager's address, phone, e-mail) never
leave the file."""

POSITIONS = ("A", "D", "S")
"""Positions counted by default: A active, D dissoute, S supprimée (an association created in the
year and dissolved since was still created in the year). ``R`` (reprise, import files only) is
a valid position, not counted: the association is in waldec too."""
ALL_POSITIONS = ("A", "D", "S", "R")
MIN_DATE = "1800-01-01"
"""Earliest plausible date (the law of 1 July 1901 is the usual origin; older registered
bodies exist). Later than the extract's date is out of range too."""

DATE_COLUMNS = {"creation": "date_creat", "publication": "date_publi"}
FILE_PATTERN = re.compile(
    r"^rna_(waldec|import)_(\d{8})(?:_dpt_[0-9A-Za-z]+)?\.csv$", re.IGNORECASE
)


ID_PATTERN = r"W[0-9A-Z]{9}|[0-9A-Z]{4}[0-9]{8}"
"""RNA numbers: waldec ``W`` + 9 characters (``W751085568``, ``W9T1002867``), or import
numbers, the managing office's code + 8 digits (``751P00085568``)."""


def contract(extract_date: str | None = None) -> Contract:
    """The RNA contract (both kinds of file), dates bounded by [1800-01-01, extract date]."""
    high = extract_date or PLATFORM_MAX_DATE
    dates = {
        "min_date": MIN_DATE,
        "max_date": high,
        "min_date_label": "implausible for an association",
    }
    return Contract(
        name="rna",
        key="id",
        sep=";",
        fields=(
            Field("id", "code", pattern=ID_PATTERN, description="RNA number",
                  pattern_label="an RNA number (W + 9 characters, or e.g. 751P00085568)"),
            Field("date_creat", "date", nullable=True, description="creation (constitutive declaration)", **dates),
            Field("date_publi", "date", nullable=True, description="publication in the JOAFE", **dates),
            Field("position", "enum", values=ALL_POSITIONS, description="A active, D dissoute, S supprimée, R reprise"),
            Field("adrs_codeinsee", nullable=True, description="INSEE code of the seat's commune"),
            Field("adrs_codepostal", nullable=True, description="seat's postcode"),
            Field("adrs_libcommune", nullable=True, description="seat's city"),
        ),
    )  # fmt: skip


@dataclass(frozen=True)
class RnaFile:
    """One RNA file: its path, kind (``waldec``/``import``) and extract date (ISO, or None)."""

    path: Path
    kind: str
    extract_date: str | None


def rna_files(rna_dir: Path) -> list[RnaFile]:
    """The RNA files of one extract in ``rna_dir``: ``rna_waldec_YYYYMMDD[_dpt_XX].csv`` (at
    least one) and optionally ``rna_import_YYYYMMDD[_dpt_XX].csv`` of the same date.

    Raises :class:`SourceError` when the folder has no waldec file (pointing at ZIP archives
    to extract, if any) or mixes extract dates (each extract is a full stock: two would count
    associations twice).
    """
    rna_dir = Path(rna_dir)
    if not rna_dir.is_dir():
        raise SourceError(
            "folder not found (expected rna_waldec_YYYYMMDD*.csv files)", file=rna_dir
        )
    found = []
    for path in sorted(rna_dir.iterdir()):
        match = FILE_PATTERN.match(path.name)
        if match and path.is_file():
            day = match.group(2)
            found.append(RnaFile(path, match.group(1).lower(), f"{day[:4]}-{day[4:6]}-{day[6:]}"))
    if not any(f.kind == "waldec" for f in found):
        archives = sorted(p.name for p in rna_dir.glob("rna_*.zip"))
        hint = f" (found {', '.join(archives)}: extract the CSV files first)" if archives else ""
        raise SourceError(f"no rna_waldec_YYYYMMDD*.csv file in the folder{hint}", file=rna_dir)
    dates = sorted({f.extract_date for f in found})
    if len(dates) > 1:
        raise SourceError(
            f"files of several extract dates {[d.replace('-', '') for d in dates]}; keep one "
            "extract",
            file=rna_dir,
        )
    for f in found:
        try:
            date.fromisoformat(f.extract_date or "")
        except ValueError:
            raise SourceError(
                "the extract date in the file name is not a date", file=f.path
            ) from None
    return found


def detect_layout(header: Sequence[str]) -> tuple[str, str]:
    """(layout name, kind) of an RNA header: one of :data:`LAYOUTS`, or an unknown layout that
    still holds the columns read (kind from its city column)."""
    for name, columns in LAYOUTS.items():
        if list(header) == list(columns):
            return name, "import" if "libcom" in columns else "waldec"
    kind = "import" if "libcom" in header and "adrs_libcommune" not in header else "waldec"
    return f"unknown RNA layout ({len(header)} columns)", kind


def read_rna_file(
    path: Path, kind: str | None = None, extract_date: str | None = None
) -> tuple[RawTable, Contract, str]:
    """Read one RNA file as text (layout detected; the ``0001-01-01`` sentinel → ""):
    returns the raw table, the contract that applies and the layout's name."""
    path = Path(path)
    if not path.is_file():
        raise SourceError("file not found", file=path)
    if path.stat().st_size == 0:
        raise SourceError("the file is empty", file=path)
    header = read_header(path, ";", detect_encoding(path))
    layout, detected = detect_layout(header)
    kind = kind or detected
    rename = IMPORT_RENAME if kind == "import" else {}
    known = [
        rename.get(c, c) for c in (IMPORT_COLUMNS if kind == "import" else WALDEC_2015_COLUMNS)
    ]
    raw = read_csv_table(path, READ_COLUMNS, sep=";", known=known, rename=rename)
    for column in ("date_creat", "date_publi"):
        values = raw.frame[column]
        raw.frame[column] = values.where(values != NO_DATE, "")
    return raw, contract(extract_date), layout


def read_rna(
    files: Sequence[RnaFile | Path],
    *,
    max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE,
) -> Checked:
    """Read and check RNA files of one extract: accepted rows (``file`` column when several
    files), quarantine and notes. Rows repeating an RNA number (within or across files) are
    quarantined after the first. Raises :class:`SourceError` for an unusable file."""
    items = [f if isinstance(f, RnaFile) else RnaFile(Path(f), "", None) for f in files]
    if not items:
        raise SourceError("no RNA file given")
    dates = {i.extract_date for i in items}
    tables, layouts = [], []
    for item in items:
        raw, _, layout = read_rna_file(item.path, item.kind or None)
        tables.append((raw, item.path.name))
        layouts.append(layout)
    checked = apply_contract(
        tables,
        contract(dates.pop() if len(dates) == 1 else None),
        max_quarantine_share=max_quarantine_share,
        layouts=layouts,
    )
    for name, layout in zip((i.path.name for i in items), layouts, strict=True):
        if layout.startswith("unknown"):
            checked.notes.append(f"{name}: {layout}, read by column name")
    return checked


def locate_rna(frame: pd.DataFrame, matcher: CommuneMatcher) -> pd.DataFrame:
    """Commune of each association: by ``adrs_codeinsee`` (exact, or by rule for
    arrondissements, lost zeros, linked and later codes), else by postcode + city name.
    Returns the matcher's result aligned on ``frame``."""
    return matcher.match_codes(
        frame["adrs_codeinsee"], frame["adrs_codepostal"], frame["adrs_libcommune"]
    )


def in_year(dates: pd.Series, year: int) -> pd.Series:
    """True where an ISO date string (``YYYY-MM-DD…``) falls in ``year``."""
    return dates.str[:4] == f"{year:04d}"


def creations_scope(
    frame: pd.DataFrame,
    year: int,
    date: Literal["creation", "publication"] = "creation",
    positions: Sequence[str] = POSITIONS,
) -> pd.Series:
    """True for associations created (or published, ``date="publication"``) in ``year`` in a
    counted position."""
    if date not in DATE_COLUMNS:
        raise ValueError(f"date must be one of {sorted(DATE_COLUMNS)}")
    return in_year(frame[DATE_COLUMNS[date]], year) & frame["position"].isin(list(positions))
