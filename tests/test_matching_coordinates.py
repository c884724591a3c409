"""Coordinate fallback of the commune matching: nearest commune point, bounded and constrained."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from barometre.sources.matching import (
    MATCH_NONE,
    MATCH_RULE,
    RULE_COORDINATES,
    commune_points,
    place_by_coordinates,
)

POINTS = commune_points(2022)


def point_of(code: str) -> tuple[float, float]:
    row = POINTS[POINTS["code_commune"] == code].iloc[0]
    return float(row["lat"]), float(row["lon"])


def unplaced(candidates: str = "") -> dict:
    return {
        "code_commune": None,
        "match": MATCH_NONE,
        "rule": "",
        "reason": "x",
        "candidates": candidates,
    }


def test_ambiguous_and_unmatched_records_are_placed_by_coordinates():
    lat_a, lon_a = point_of("69204")  # Saint-Jean-d'Ardières area: any real commune point works
    lat_b, lon_b = point_of("69256")  # Vaulx-en-Velin
    placement = pd.DataFrame(
        [
            unplaced("69204|69256"),
            unplaced(""),
            {**unplaced(""), "code_commune": "69001", "match": "exact"},
        ]
    )
    latitude = pd.Series([lat_b + 0.001, lat_a, np.nan])
    longitude = pd.Series([lon_b, lon_a + 0.001, np.nan])
    postcodes = pd.Series(["69000", "69220", "69001"])
    out = place_by_coordinates(placement, latitude, longitude, postcodes, POINTS)
    assert out["code_commune"].tolist() == ["69256", "69204", "69001"]
    assert out.loc[:1, "rule"].tolist() == [RULE_COORDINATES, RULE_COORDINATES]
    assert out.loc[:1, "match"].tolist() == [MATCH_RULE, MATCH_RULE]
    assert out.loc[2, "match"] == "exact"  # already matched: untouched


def test_far_points_and_records_without_postcode_stay_unmatched():
    placement = pd.DataFrame([unplaced(""), unplaced("")])
    # 0.5° of latitude south of Lyon's department is > 10 km from any commune of department 01
    lat, lon = point_of("01053")
    out = place_by_coordinates(
        placement,
        pd.Series([lat - 3.0, lat]),
        pd.Series([lon, lon]),
        pd.Series(["01000", ""]),
        POINTS,
    )
    assert out["code_commune"].isna().all()
    assert (out["match"] == MATCH_NONE).all()


def test_candidates_restrict_the_choice_even_if_another_point_is_nearer():
    lat, lon = point_of("69256")
    placement = pd.DataFrame([unplaced("69204")])
    out = place_by_coordinates(
        placement, pd.Series([lat]), pd.Series([lon]), pd.Series(["69120"]), POINTS
    )
    # 69204 is farther than 10 km from Vaulx-en-Velin: the record stays unmatched
    assert out["code_commune"].isna().all()


# --------------------------------------------------------------------------- KD-tree = haversine loop


def reference_place_by_coordinates(placement, latitude, longitude, postcodes, points, max_km=10.0):
    """The former implementation (a haversine distance to the whole pool, record by record),
    kept verbatim as the reference the KD-tree must reproduce."""
    import re

    from barometre.sources.matching import _haversine_km

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
    for idx in out.index[todo]:
        candidates = [c for c in str(out.at[idx, "candidates"] or "").split("|") if c]
        if candidates:
            pool = points[points["code_commune"].isin(candidates)]
        else:
            code = post.at[idx]
            if not re.fullmatch(r"\d{5}", code):
                continue
            dep = code[:3] if code.startswith("97") else code[:2]
            pool = points[point_dep.isin(["2A", "2B"])] if dep == "20" else points[point_dep == dep]
        if pool.empty:
            continue
        dist = _haversine_km(
            pool["lon"].to_numpy(),
            pool["lat"].to_numpy(),
            np.float64(lon.at[idx]),
            np.float64(lat.at[idx]),
        )
        best = int(np.argmin(dist))
        if dist[best] <= max_km:
            out.at[idx, "code_commune"] = pool["code_commune"].iloc[best]
            out.at[idx, "match"] = MATCH_RULE
            out.at[idx, "rule"] = RULE_COORDINATES
            out.at[idx, "reason"] = ""
    return out


def records_near(points: pd.DataFrame, rng: np.random.Generator, n: int) -> tuple:
    """``n`` unplaced records scattered around real commune points (up to ~20 km away), some
    ambiguous between nearby communes, some with unusable postcodes or coordinates."""
    chosen = points.iloc[rng.integers(0, len(points), n)]
    lat = chosen["lat"].to_numpy() + rng.normal(0, 0.08, n)
    lon = chosen["lon"].to_numpy() + rng.normal(0, 0.1, n)
    codes = chosen["code_commune"].to_numpy()
    postcodes = np.where(codes.astype("U2") == "97", codes, np.char.add(codes.astype("U2"), "000"))
    postcodes = np.where(np.char.startswith(codes.astype(str), "2"), "20000", postcodes)
    postcodes[rng.random(n) < 0.05] = "CEDEX"
    candidates = [
        "|".join(sorted({c, points["code_commune"].iloc[int(rng.integers(len(points)))]}))
        if rng.random() < 0.2
        else ""
        for c in codes
    ]
    placement = pd.DataFrame(
        {
            "code_commune": None,
            "match": MATCH_NONE,
            "rule": "",
            "reason": "x",
            "candidates": candidates,
        },
        index=pd.RangeIndex(n) * 3 + 7,
    )
    lat[rng.random(n) < 0.03] = np.nan
    return (
        placement,
        pd.Series(lat, index=placement.index),
        pd.Series(lon, index=placement.index),
        pd.Series(postcodes, index=placement.index),
    )


def test_kd_tree_places_exactly_as_the_haversine_loop_on_the_reference_points():
    rng = np.random.default_rng(20240615)
    departments = POINTS["code_commune"].str[:2].isin(["2A", "2B", "59", "62", "69", "97"])
    points = POINTS[departments].reset_index(drop=True)
    args = records_near(points, rng, 3000)
    expected = reference_place_by_coordinates(*args, POINTS)
    got = place_by_coordinates(*args, POINTS)
    pd.testing.assert_frame_equal(got, expected)
    placed = (got["rule"] == RULE_COORDINATES).sum()
    assert (
        1500 < placed < 3000
    )  # most are placed, those too far or without a usable postcode are not


@settings(max_examples=60, deadline=None)
@given(
    grid=st.lists(
        st.tuples(
            st.integers(0, 6),
            st.integers(0, 6),
            st.sampled_from(["59001", "59002", "59003", "62001", "62002"]),
        ),
        min_size=1,
        max_size=25,
    ),
    records=st.lists(
        st.tuples(
            st.integers(-2, 8),
            st.integers(-2, 8),
            st.sampled_from(["59000", "62000", "", "59001|62001", "59002|59003"]),
        ),
        min_size=1,
        max_size=20,
    ),
    spacing=st.sampled_from([0.01, 0.05, 0.2]),
)
def test_kd_tree_equals_the_haversine_loop_with_ties_and_limits(grid, records, spacing):
    """Points on a coarse grid (several communes on one point: exact ties), records on the same
    grid or between its nodes, pools by department or by candidates, the 10 km limit."""
    points = pd.DataFrame(
        {
            "code_commune": [c for _, _, c in grid],
            "lon": [2.0 + i * spacing for i, _, _ in grid],
            "lat": [50.0 + j * spacing for _, j, _ in grid],
        }
    )
    placement = pd.DataFrame(
        {
            "code_commune": None,
            "match": MATCH_NONE,
            "rule": "",
            "reason": "x",
            "candidates": [r if "|" in r else "" for _, _, r in records],
        }
    )
    lon = pd.Series([2.0 + i * spacing / 2 for i, _, _ in records])
    lat = pd.Series([50.0 + j * spacing / 2 for _, j, _ in records])
    postcodes = pd.Series([r if "|" not in r else "" for _, _, r in records])
    expected = reference_place_by_coordinates(placement, lat, lon, postcodes, points)
    pd.testing.assert_frame_equal(
        place_by_coordinates(placement, lat, lon, postcodes, points), expected
    )
