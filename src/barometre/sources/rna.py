"""RNA (Répertoire national des associations, ``rna_waldec`` files): first-version loader.

Reads the waldec dump(s) of ``<raw>/rna/rna_waldec_YYYYMMDD*.csv`` (``;``-separated, UTF-8
with or without BOM or Windows-1252; every value read as text; ``0001-01-01`` means "no
date"), keeps the columns needed to count creations, and places each association in a
commune by its seat's INSEE code (``adrs_codeinsee``, Paris/Lyon/Marseille arrondissements
mapped to their commune), falling back on postcode + city name when the code is blank.

Layout: the current 39-column waldec layout (data.gouv.fr dataset
"repertoire-national-des-associations"); the older 41-column layout has the same columns plus
``telephone``/``email``, which are never read. See ``data/README.md``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from barometre.sources import (
    DATE_PATTERN,
    NO_DATE,
    CommuneMatcher,
    SourceError,
    check_pattern,
    harmonise_insee_codes,
    read_source_csv,
)

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

READ_COLUMNS: tuple[str, ...] = (
    "id", "date_creat", "date_publi", "position", "adrs_codeinsee", "adrs_codepostal", "adrs_libcommune",
)  # fmt: skip
"""The columns the loader reads; the others (addresses of the manager, free text) are not."""

POSITIONS = ("A", "D", "S")
"""Position of an association: A active, D dissoute, S supprimée. All count by default: an
association created in the year and dissolved since was still created in the year."""

DATE_COLUMNS = {"creation": "date_creat", "publication": "date_publi"}
_FILE_PATTERN = re.compile(r"^rna_waldec_(\d{8})(?:_dpt_[0-9A-Z]+)?\.csv$")


def rna_files(rna_dir: Path) -> list[Path]:
    """The waldec files of one extract in ``rna_dir`` (a national file or one per department).

    Raises :class:`SourceError` when there is none or when files of several extract dates are
    mixed (each extract is a full stock: mixing two would count associations twice).
    """
    if not rna_dir.is_dir():
        raise SourceError(
            "folder not found (expected rna_waldec_YYYYMMDD*.csv files)", file=rna_dir
        )
    files = sorted(p for p in rna_dir.iterdir() if _FILE_PATTERN.match(p.name))
    if not files:
        raise SourceError("no rna_waldec_YYYYMMDD*.csv file in the folder", file=rna_dir)
    dates = {_FILE_PATTERN.match(p.name).group(1) for p in files}  # type: ignore[union-attr]
    if len(dates) > 1:
        raise SourceError(
            f"files of several extract dates {sorted(dates)}; keep one extract", file=rna_dir
        )
    return files


def read_rna(path: Path) -> pd.DataFrame:
    """One waldec file as text columns :data:`READ_COLUMNS`, dates checked (``YYYY-MM-DD``).

    The sentinel ``0001-01-01`` and empty dates become "". Raises :class:`SourceError`.
    """
    frame = read_source_csv(path, required=READ_COLUMNS, sep=";")
    for column in ("date_creat", "date_publi"):
        frame[column] = frame[column].str.strip()
        check_pattern(frame, column, DATE_PATTERN, path, "date (YYYY-MM-DD)")
        frame.loc[frame[column] == NO_DATE, column] = ""
    ids = frame["id"].str.strip()
    if (ids == "").any():
        row = int((ids == "").to_numpy().argmax()) + 1
        raise SourceError("empty RNA number", file=path, row=row, column="id", value="")
    duplicated = ids.duplicated()
    if duplicated.any():
        row = int(duplicated.to_numpy().argmax()) + 1
        raise SourceError(
            "duplicated RNA number", file=path, row=row, column="id", value=ids.iloc[row - 1]
        )
    return frame


def locate_rna(
    frame: pd.DataFrame,
    communes: pd.DataFrame,
    matcher: CommuneMatcher,
    code_links: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Commune of each association: by ``adrs_codeinsee`` (exact, or by rule for
    arrondissements and linked codes), else by postcode + city name when the code is blank.

    Returns a frame aligned on ``frame``: ``code_commune``, ``match``, ``reason``.
    """
    located = harmonise_insee_codes(frame["adrs_codeinsee"], communes, code_links)
    blank = frame["adrs_codeinsee"].str.strip() == ""
    if blank.any():
        fallback = matcher.match(
            frame.loc[blank, "adrs_codepostal"], frame.loc[blank, "adrs_libcommune"]
        )
        fallback["match"] = fallback["match"].where(fallback["match"] != "exact", "rule")
        located.loc[blank, ["code_commune", "match", "reason"]] = fallback[
            ["code_commune", "match", "reason"]
        ]
    return located


def in_year(dates: pd.Series, year: int) -> pd.Series:
    """True where an ISO date string (``YYYY-MM-DD…``) falls in ``year``."""
    return dates.str[:4] == f"{year:04d}"


def count_positions(positions: Sequence[str] | None) -> list[str]:
    return list(positions) if positions is not None else list(POSITIONS)
