"""Geometries of the maps: department outlines and a point per commune, from
``data/reference/geo/`` (see the package's docstring)."""

from __future__ import annotations

import gzip
import json
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

GEO_DIR = Path(__file__).resolve().parents[4] / "data" / "reference" / "geo"
DROM: dict[str, str] = {
    "971": "Guadeloupe",
    "972": "Martinique",
    "973": "Guyane",
    "974": "La Réunion",
    "976": "Mayotte",
}
PETITE_COURONNE: tuple[str, ...] = ("75", "92", "93", "94")


@dataclass(frozen=True)
class Department:
    """One department outline: polygons, each a list of rings (exterior first) as (n, 2) arrays
    of longitude/latitude."""

    code: str
    nom: str
    polygons: tuple[tuple[np.ndarray, ...], ...]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return lon_lat_bounds((self,))


def lon_lat_bounds(departments: Sequence[Department]) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees of the outlines of ``departments``."""
    points = np.vstack([ring for d in departments for polygon in d.polygons for ring in polygon])
    return (
        float(points[:, 0].min()),
        float(points[:, 1].min()),
        float(points[:, 0].max()),
        float(points[:, 1].max()),
    )


@lru_cache(maxsize=4)
def load_departments(path: Path | None = None) -> dict[str, Department]:
    """The department outlines of ``data/reference/geo/departements.geojson``, keyed by code."""
    path = Path(path) if path is not None else GEO_DIR / "departements.geojson"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run scripts/build_geometries.py")
    collection = json.loads(path.read_text(encoding="utf-8"))
    departments: dict[str, Department] = {}
    for feature in collection["features"]:
        props, geometry = feature["properties"], feature["geometry"]
        if geometry["type"] != "MultiPolygon":
            raise ValueError(f"{path}: {props.get('code_departement')} is a {geometry['type']}")
        polygons = tuple(
            tuple(np.asarray(ring, dtype=float) for ring in polygon)
            for polygon in geometry["coordinates"]
        )
        departments[str(props["code_departement"])] = Department(
            str(props["code_departement"]), str(props["nom"]), polygons
        )
    return departments


@lru_cache(maxsize=4)
def load_commune_points(path: Path | None = None) -> pd.DataFrame:
    """One point per commune code (``lon``, ``lat``, ``type``, ``source``), indexed by code.

    A code that is both a commune and a commune déléguée (the seat of a commune nouvelle) keeps
    the commune's point; codes of former communes (merged since) keep their délégué point.
    """
    path = Path(path) if path is not None else GEO_DIR / "communes_points.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        points = pd.read_csv(handle, dtype={"code_commune": str, "type": str, "source": str})
    order = {"COM": 0, "COMD": 1, "COMA": 2, "ARM": 3}
    points = points.assign(_order=points["type"].map(order)).sort_values(["code_commune", "_order"])
    return points.drop_duplicates("code_commune").drop(columns="_order").set_index("code_commune")


def locate_communes(codes: Iterable[str]) -> pd.DataFrame:
    """``lon``/``lat`` of commune codes (index: the codes, in order).

    A code absent from the points (a commune merged since the edition's COG without becoming a
    commune déléguée) takes the point of the commune it now belongs to, found through the former
    codes of the most recent COG vintage shipped (:func:`barometre.geography.harmonise_codes`).
    Codes still unknown give NaN and a warning naming them: maps leave them out, never guess.
    """
    from barometre import geography

    codes = [str(c) for c in codes]
    points = load_commune_points()
    lookup = pd.Series(codes, index=codes, dtype=object)
    absent = ~lookup.isin(points.index)
    if absent.any():
        latest = max(geography.available_vintages())
        current = geography.harmonise_codes(lookup[absent], latest)
        lookup[absent] = current.where(current.notna(), lookup[absent])
    located = points.reindex(lookup.to_numpy())[["lon", "lat"]]
    located.index = pd.Index(codes, name="code_commune")
    missing = [c for c, lon in zip(codes, located["lon"]) if pd.isna(lon)]
    if missing:
        warnings.warn(f"no map point for communes {missing[:10]}", stacklevel=2)
    return located
