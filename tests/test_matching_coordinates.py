"""Coordinate fallback of the commune matching: nearest commune point, bounded and constrained."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
    return {"code_commune": None, "match": MATCH_NONE, "rule": "", "reason": "x", "candidates": candidates}


def test_ambiguous_and_unmatched_records_are_placed_by_coordinates():
    lat_a, lon_a = point_of("69204")  # Saint-Jean-d'Ardières area: any real commune point works
    lat_b, lon_b = point_of("69256")  # Vaulx-en-Velin
    placement = pd.DataFrame([unplaced("69204|69256"), unplaced(""), {**unplaced(""), "code_commune": "69001", "match": "exact"}])
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
    out = place_by_coordinates(placement, pd.Series([lat]), pd.Series([lon]), pd.Series(["69120"]), POINTS)
    # 69204 is farther than 10 km from Vaulx-en-Velin: the record stays unmatched
    assert out["code_commune"].isna().all()
