"""Projections of the maps: Lambert-93 for metropolitan France, a local plane overseas."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from pyproj import Proj, Transformer

from barometre.publish.maps.geometry import Department

#: A projection of the maps: WGS84 longitudes and latitudes (arrays) to plane x, y.
Projection = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

# Lambert-93 (EPSG:2154) from WGS84 longitude/latitude, by PROJ (pyproj); built once.
_LAMBERT93 = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
_LAMBERT93_PROJ = Proj("EPSG:2154")


def lambert93(lon: np.ndarray | float, lat: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Project WGS84 degrees to Lambert-93 metres (x easting, y northing), with PROJ.

    Lambert conformal conic with two standard parallels on GRS80 (EPSG:2154; Snyder 1987,
    *Map Projections — A Working Manual*, eq. 15-1 to 15-10). PROJ applies no datum shift
    between WGS84 and RGF93 (they differ by less than a metre, far below what a map shows).
    """
    lon_deg, lat_deg = np.broadcast_arrays(
        np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    )
    x, y = _LAMBERT93.transform(lon_deg, lat_deg)
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def lambert93_scale_factor(lat: float) -> float:
    """Scale factor of the projection at a latitude (1 on the standard parallels 44° and 49°)."""
    return float(_LAMBERT93_PROJ.get_factors(3.0, lat).parallel_scale)


def equirectangular(lon: np.ndarray, lat: np.ndarray, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    """Local plane for a small territory: x = λ·cos φ₀, y = φ (degrees), true to scale near φ₀."""
    return np.asarray(lon, dtype=float) * math.cos(math.radians(lat0)), np.asarray(lat, dtype=float)


def metro_projection(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The projection of metropolitan France: :func:`lambert93`."""
    return lambert93(lon, lat)


def local_projection(department: Department) -> Projection:
    """The local plane of an overseas department, true to scale at its middle latitude."""
    lat0 = (department.bounds[1] + department.bounds[3]) / 2
    return lambda lon, lat: equirectangular(lon, lat, lat0)
