"""Reference geography of the baromètre: communes of a COG vintage, their legal populations,
the links that harmonise commune codes, and the population classes of the palmarès.

The tables live in ``data/reference/cog<YEAR>/`` and are derived by
``scripts/build_reference.py`` from the npm package ``@etalab/decoupage-administratif``
(Licence Ouverte); each folder documents its source, checksums and population millésime in
``provenance.json`` / ``PROVENANCE.md``.

Conventions:

* commune, department and region codes are strings (``"2A004"``, ``"97101"``, ``"971"``,
  ``"01"``), never integers; commune codes have 5 characters;
* a vintage covers metropolitan France and the five DROM (971, 972, 973, 974, 976); the
  overseas collectivities (COM) are not part of it;
* ``population`` is INSEE's *population municipale* of the millésime recorded in the
  vintage's provenance (``provenance(year)["population"]["year"]``), which is not the COG year.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

DEFAULT_CLASS_BOUNDS: tuple[int, ...] = (5_000, 20_000, 50_000, 200_000)
DEFAULT_CLASS_LABELS: tuple[str, ...] = (
    "Village",
    "Petite ville",
    "Ville moyenne",
    "Grande ville",
    "Métropole",
)

COMMUNE_CODE_PATTERN = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
LINK_TYPES: tuple[str, ...] = (
    "arrondissement-municipal",
    "commune-deleguee",
    "commune-associee",
    "ancienne-commune",
)
_TEXT_COLUMNS = (
    "code_commune",
    "nom",
    "code_departement",
    "code_region",
    "code_epci",
    "codes_postaux",
    "code",
    "type",
    "code_commune_parent",
    "chef_lieu",
    "zone",
    "mode_financement",
)


def reference_dir() -> Path:
    """The repository's ``data/reference`` folder (found from this file, editable install)."""
    return Path(__file__).resolve().parents[2] / "data" / "reference"


def available_vintages() -> list[int]:
    """COG years with a complete reference folder (one holding ``provenance.json``), ascending."""
    years = []
    for path in reference_dir().glob("cog[0-9][0-9][0-9][0-9]"):
        if (path / "provenance.json").is_file():
            years.append(int(path.name[3:]))
    return sorted(years)


def _vintage_dir(cog_year: int) -> Path:
    path = reference_dir() / f"cog{int(cog_year)}"
    if not (path / "provenance.json").is_file():
        raise FileNotFoundError(
            f"no reference geography for COG {cog_year} in {reference_dir()}; available: "
            f"{available_vintages()} (build it with scripts/build_reference.py)"
        )
    return path


def provenance(cog_year: int) -> dict[str, Any]:
    """The vintage's ``provenance.json``: source package and checksums, licence, retrieval
    date, population millésime (``["population"]["year"]``), row counts and table checksums."""
    return json.loads((_vintage_dir(cog_year) / "provenance.json").read_text(encoding="utf-8"))


def table_path(cog_year: int, table: str) -> Path:
    """Path of one shipped table of a vintage (``.csv`` or ``.csv.gz``, as the build wrote it)."""
    info = provenance(cog_year)["tables"].get(table)
    if info is None:
        raise KeyError(f"COG {cog_year} has no table {table!r}")
    return _vintage_dir(cog_year) / info["file"]


@lru_cache(maxsize=32)
def _read_table(cog_year: int, table: str) -> pd.DataFrame:
    path = table_path(cog_year, table)
    header = pd.read_csv(path, nrows=0).columns
    dtypes = {c: str for c in header if c in _TEXT_COLUMNS}
    # keep_default_na=False: "NA" and similar strings are valid names, and empty text
    # fields are read as "" (code_epci is then turned into a real missing value below).
    frame = pd.read_csv(path, dtype=dtypes, keep_default_na=False, encoding="utf-8")
    expected_rows = provenance(cog_year)["tables"][table]["rows"]
    if len(frame) != expected_rows:
        raise ValueError(f"{path} has {len(frame)} rows, provenance says {expected_rows}")
    return frame


def _check_unique(frame: pd.DataFrame, key: Sequence[str], what: str) -> None:
    duplicated = frame.duplicated(list(key), keep=False)
    if duplicated.any():
        sample = frame.loc[duplicated, list(key)].head().to_dict("records")
        raise ValueError(f"{what}: duplicate key {list(key)}, e.g. {sample}")


def load_communes(cog_year: int, departments: Sequence[str] | None = None) -> pd.DataFrame:
    """Current communes of a COG vintage, sorted by ``code_commune``.

    Columns: ``code_commune`` (str, 5 characters, unique), ``nom``, ``population`` (int64,
    INSEE population municipale of the vintage's millésime), ``code_departement``,
    ``code_region``, ``code_epci`` (SIREN of the EPCI à fiscalité propre, missing for the few
    communes outside any EPCI), ``codes_postaux`` (``|``-joined La Poste postcodes).

    ``departments`` keeps only those department codes (strings such as ``"01"``, ``"2A"``,
    ``"971"``); an unknown code raises ``ValueError`` rather than silently selecting nothing.
    """
    communes = _read_table(cog_year, "communes").copy()
    communes["population"] = communes["population"].astype("int64")
    communes["code_epci"] = communes["code_epci"].mask(communes["code_epci"] == "")
    bad = ~communes["code_commune"].str.match(COMMUNE_CODE_PATTERN)
    if bad.any():
        raise ValueError(
            f"invalid commune codes: {communes.loc[bad, 'code_commune'].head().tolist()}"
        )
    _check_unique(communes, ["code_commune"], f"communes of COG {cog_year}")
    if (communes["population"] < 0).any():
        raise ValueError("negative population in the reference table")
    if departments is not None:
        wanted = [str(d) for d in departments]
        unknown = sorted(set(wanted) - set(communes["code_departement"]))
        if unknown:
            raise ValueError(f"unknown department codes for COG {cog_year}: {unknown}")
        communes = communes[communes["code_departement"].isin(wanted)]
    return communes.sort_values("code_commune").reset_index(drop=True)


def load_commune_links(cog_year: int) -> pd.DataFrame:
    """Codes that are not current communes, with the current commune they belong to.

    Columns: ``code``, ``type`` (``arrondissement-municipal``, ``commune-deleguee``,
    ``commune-associee``, ``ancienne-commune``), ``nom`` (empty for ``ancienne-commune``, which
    comes from the package's former-code lists), ``code_commune_parent``. Key: (code, type).
    A commune déléguée may share its code with its parent (the seat of a commune nouvelle).
    """
    links = _read_table(cog_year, "commune_links").copy()
    _check_unique(links, ["code", "type"], f"commune links of COG {cog_year}")
    unknown_types = set(links["type"]) - set(LINK_TYPES)
    if unknown_types:
        raise ValueError(f"unknown link types {sorted(unknown_types)}")
    return links


def load_departements(cog_year: int) -> pd.DataFrame:
    """Departments of the vintage: ``code_departement``, ``nom``, ``code_region``,
    ``chef_lieu`` (commune code of the prefecture), ``zone`` (``metro`` or ``drom``)."""
    frame = _read_table(cog_year, "departements").copy()
    _check_unique(frame, ["code_departement"], f"departments of COG {cog_year}")
    return frame


def load_regions(cog_year: int) -> pd.DataFrame:
    """Regions of the vintage: ``code_region``, ``nom``, ``chef_lieu``, ``zone``."""
    frame = _read_table(cog_year, "regions").copy()
    _check_unique(frame, ["code_region"], f"regions of COG {cog_year}")
    return frame


def load_epci(cog_year: int) -> pd.DataFrame:
    """EPCI à fiscalité propre (DGCL list): ``code_epci`` (SIREN), ``nom``, ``type`` (CC, CA,
    CU, METRO, MET69), ``mode_financement``, ``n_communes``."""
    frame = _read_table(cog_year, "epci").copy()
    _check_unique(frame, ["code_epci"], f"EPCI of COG {cog_year}")
    return frame


@lru_cache(maxsize=16)
def _harmonisation_map(cog_year: int) -> dict[str, str]:
    current = _read_table(cog_year, "communes")["code_commune"]
    mapping = {code: code for code in current}
    links = _read_table(cog_year, "commune_links")
    # Explicit links (arrondissement, délégué, associée) before former codes; the build
    # guarantees one parent per code, so the order only matters for robustness.
    order = {t: i for i, t in enumerate(LINK_TYPES)}
    ranked = links.assign(_rank=links["type"].map(order)).sort_values(["_rank", "code"])
    for code, parent in zip(ranked["code"], ranked["code_commune_parent"], strict=True):
        mapping.setdefault(code, parent)
    return mapping


def harmonise_codes(
    codes: pd.Series, cog_year: int, unknown: Literal["na", "keep"] = "na"
) -> pd.Series:
    """Map commune codes to the current commune of the COG vintage.

    * a current commune code maps to itself;
    * an arrondissement municipal maps to its commune (Paris 751xx → 75056, Lyon 6938x →
      69123, Marseille 132xx → 13055);
    * a commune déléguée or associée, or a former code merged into a commune nouvelle, maps to
      the commune it now belongs to;
    * before lookup, surrounding spaces are stripped and 4-digit codes are left-padded with a
      zero (``"1001"`` → ``"01001"``: a code of departments 01–09 read as a number);
    * a code unknown to the vintage (e.g. a commune created later, a typo) becomes missing
      (``unknown="na"``, the default, so that failed matches are visible) or is returned
      unchanged (``unknown="keep"``). Missing inputs stay missing.

    Returns a Series of ``object`` dtype with the input's index and name.
    """
    if unknown not in ("na", "keep"):
        raise ValueError("unknown must be 'na' or 'keep'")
    mapping = _harmonisation_map(int(cog_year))
    present = codes.notna()
    cleaned = codes.astype(object).where(~present, codes.astype(str).str.strip())
    four_digits = np.array(
        [isinstance(c, str) and re.fullmatch(r"[0-9]{4}", c) is not None for c in cleaned]
    )
    cleaned = cleaned.where(~four_digits, "0" + cleaned.astype(str))
    mapped = cleaned.map(mapping)
    if unknown == "keep":
        mapped = mapped.where(mapped.notna(), cleaned)
    return mapped.where(present, other=np.nan).astype(object).rename(codes.name)


def postcode_table(cog_year: int) -> pd.DataFrame:
    """One row per (postcode, current commune) pair of the vintage, sorted.

    A postcode often serves several communes and a commune can have several postcodes, so
    matching by postcode alone is ambiguous; ``n_communes`` says how many communes share it.
    """
    communes = load_communes(cog_year)[["code_commune", "codes_postaux"]]
    pairs = (
        communes.assign(code_postal=communes["codes_postaux"].str.split("|"))
        .explode("code_postal")[["code_postal", "code_commune"]]
        .sort_values(["code_postal", "code_commune"])
        .reset_index(drop=True)
    )
    pairs["n_communes"] = (
        pairs.groupby("code_postal")["code_commune"].transform("size").astype("int64")
    )
    return pairs


def population_class(
    population: pd.Series,
    bounds: Sequence[int] = DEFAULT_CLASS_BOUNDS,
    labels: Sequence[str] = DEFAULT_CLASS_LABELS,
) -> pd.Series:
    """Ordered categorical population class, with half-open intervals closed on the left.

    With the defaults: [0, 5 000) Village, [5 000, 20 000) Petite ville, [20 000, 50 000)
    Ville moyenne, [50 000, 200 000) Grande ville, [200 000, ∞) Métropole. So 4 999 is a
    Village, 5 000 a Petite ville, 200 000 a Métropole. Missing populations give a missing
    class; a negative population raises ``ValueError``.
    """
    bounds = [int(b) for b in bounds]
    if len(labels) != len(bounds) + 1:
        raise ValueError("there must be one more label than bounds")
    if any(b <= a for a, b in itertools.pairwise(bounds)) or (bounds and bounds[0] <= 0):
        raise ValueError(f"bounds must be positive and strictly increasing, got {bounds}")
    values = pd.to_numeric(population, errors="raise")
    if (values < 0).any():
        raise ValueError("population must be non-negative")
    edges = [0, *bounds, np.inf]
    return pd.cut(values, bins=edges, labels=list(labels), right=False, ordered=True)
