"""What a territorial report reads: the build's commune, palmarès and rank-interval tables,
and the reference geography of the edition's COG."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from barometre import catalogue, geography
from barometre.tables import read_table
from barometre.territory.scope import TerritoryError

#: Columns of ``tables/communes.csv`` the analysis needs (besides the indicator columns).
REQUIRED_COLUMNS = (
    "code_commune",
    "nom",
    "population",
    "population_class",
    "code_departement",
    "code_region",
    "score",
    "rank_in_class",
    "class_size",
    "rank_national",
)
#: Where the build keeps the tables read here (first existing path wins), relative to the
#: build folder.
#: The exact commune table (``work/``, the confidential area) comes first: positions and
#: aggregates are computed on exact values; only protected values are written out.
#: The second path of the palmarès and rank intervals is the layout of builds made before the
#: decided palmarès (``work/``), which ``barometre territory`` still reads.
COMMUNES_TABLES = (catalogue.relative("work.communes"), catalogue.relative("tables.communes"))
PALMARES_TABLES = (catalogue.relative("tables.palmares"), "work/palmares.csv")  # catalogue: legacy
RANK_INTERVALS_TABLES = (
    catalogue.relative("tables.robustness.commune_ranks"),
    "work/robustness/commune_ranks.csv",  # catalogue: legacy
)


@dataclass(frozen=True)
class BuildTables:
    """The build tables of the analysis: every ranked commune (``communes``), the national
    palmarès (``palmares``) and, when the robustness step ran, the 90 % rank intervals
    (``intervals``: ``code_commune``, ``rank_p05``, ``rank_p95``)."""

    communes: pd.DataFrame
    palmares: pd.DataFrame
    intervals: pd.DataFrame | None


@dataclass(frozen=True)
class ReferenceGeography:
    """The COG tables the report names things with: the commune table (``reference``, with
    EPCI membership), département names and EPCI names by code."""

    reference: pd.DataFrame
    departements: pd.Series
    epci_names: pd.Series


def _first_existing(build_dir: Path, candidates: Sequence[str]) -> Path | None:
    return next((build_dir / c for c in candidates if (build_dir / c).is_file()), None)


def read_build_tables(build_dir: Path) -> BuildTables:
    """Read the build's tables (first existing path of :data:`COMMUNES_TABLES`,
    :data:`PALMARES_TABLES`, :data:`RANK_INTERVALS_TABLES`); a missing commune or palmarès
    table, or a commune table without :data:`REQUIRED_COLUMNS`, raises :class:`TerritoryError`."""
    communes_path = _first_existing(build_dir, COMMUNES_TABLES)
    palmares_path = _first_existing(build_dir, PALMARES_TABLES)
    if communes_path is None or palmares_path is None:
        raise TerritoryError(
            f"{build_dir} has no commune or palmarès table (looked for {COMMUNES_TABLES + PALMARES_TABLES})"
        )
    communes = read_table(communes_path)
    missing = [c for c in REQUIRED_COLUMNS if c not in communes.columns]
    if missing:
        raise TerritoryError(f"{communes_path} lacks columns {missing}")
    palmares = read_table(palmares_path)
    ranks_path = _first_existing(build_dir, RANK_INTERVALS_TABLES)
    intervals = (
        read_table(ranks_path)[["code_commune", "rank_p05", "rank_p95"]]
        if ranks_path is not None
        else None
    )
    return BuildTables(communes, palmares, intervals)


def load_reference_geography(cog_year: int) -> ReferenceGeography:
    """The COG ``cog_year`` tables of :class:`ReferenceGeography`."""
    reference = geography.load_communes(cog_year)
    departements = geography.load_departements(cog_year).set_index("code_departement")["nom"]
    epci_names = geography.load_epci(cog_year).set_index("code_epci")["nom"]
    return ReferenceGeography(reference, departements, epci_names)
