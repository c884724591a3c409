"""Unit tests of the demo generator's steps (:mod:`barometre.demo`): exact values for the
deterministic helpers, invariants for the drawn ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_demo import fixture_communes

from barometre.demo.communes import _Communes
from barometre.demo.helloasso import _ha_rna_numbers, _rank_within
from barometre.demo.model import _draw_records, _spread, _visible_share
from barometre.demo.rna import _rna_numbers


def test_spread_lists_records_period_by_period_then_commune_by_commune() -> None:
    counts = np.array([[1, 0], [2, 1], [0, 2]])  # 3 communes × 2 periods
    commune, period = _spread(counts)
    assert commune.tolist() == [0, 1, 1, 1, 2, 2]
    assert period.tolist() == [0, 0, 0, 1, 1, 1]
    empty_commune, empty_period = _spread(np.zeros((4, 3), dtype=np.int64))
    assert len(empty_commune) == len(empty_period) == 0


def test_draw_records_places_each_record_in_its_period() -> None:
    t = np.datetime64("2023-01-01T00:00:00", "s")
    starts = np.array([t, t + 1_000])
    ends = np.array([t + 1_000, t + 1_010])
    mean, weights = np.array([5.0, 0.0, 50.0]), np.array([1.0, 2.0])
    commune, times = _draw_records(np.random.default_rng(1), mean, weights, starts, ends)
    expected_commune, period = _spread(np.random.default_rng(1).poisson(np.outer(mean, weights)))
    assert commune.tolist() == expected_commune.tolist()
    assert ((times >= starts[period]) & (times < ends[period])).all()
    ordered_commune, ordered_times = _draw_records(
        np.random.default_rng(1), mean, weights, starts, ends, in_time_order=True
    )
    key = sorted(zip(times.tolist(), commune.tolist(), strict=True))
    assert list(zip(ordered_times.tolist(), ordered_commune.tolist(), strict=True)) == key


def test_visible_share_is_the_part_of_the_window_before_the_extract_end() -> None:
    t = np.datetime64("2024-01-01T00:00:00", "s")
    start = np.array([t, t, t + 10])
    end = np.array([t + 100, t + 40, t + 10])  # cut at 50; wholly visible; empty window
    visible_end, share = _visible_share(start, end, t + 50)
    assert visible_end.tolist() == [(t + 50).item(), (t + 40).item(), (t + 10).item()]
    assert share.tolist() == [0.5, 1.0, 0.0]


def test_rank_within_counts_the_earlier_members_of_each_group() -> None:
    assert _rank_within(np.array([3, 1, 3, 3, 1, 7])).tolist() == [0, 0, 1, 2, 1, 0]
    assert _rank_within(np.array([], dtype=np.int64)).tolist() == []


def test_rna_numbers_count_within_each_department() -> None:
    ids, prefixes = _rna_numbers(np.array(["59", "59", "62", "971", "971", "2A"]))
    assert ids.tolist() == [
        "W591000001",
        "W591000002",
        "W621000001",
        "W9A1000001",
        "W9A1000002",
        "W2A1000001",
    ]
    assert prefixes.tolist() == ["59", "59", "62", "9A", "9A", "2A"]


def test_platform_places_draws_postcodes_spellings_then_coordinates() -> None:
    table = _Communes(fixture_communes())
    idx = np.arange(table.n).repeat(3)
    postcodes, cities, latitude, longitude = table.platform_places(np.random.default_rng(5), idx)
    rng = np.random.default_rng(5)
    expected_postcodes, expected_cities = table.city_spellings(
        rng, idx, table.pick_postcodes(rng, idx)
    )
    expected_latitude, expected_longitude = table.coordinates(rng, idx)
    for got, expected in (
        (postcodes, expected_postcodes),
        (cities, expected_cities),
        (latitude, expected_latitude),
        (longitude, expected_longitude),
    ):
        assert got.tolist() == expected.tolist()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_helloasso_rna_numbers_are_distinct_associations_of_the_same_commune(seed: int) -> None:
    rna_commune = np.array([0, 0, 0, 1, 2, 2])
    rna = pd.DataFrame({"id": [f"W59100000{i}" for i in range(len(rna_commune))]})
    commune = np.array([0] * 100 + [1] * 30 + [2] * 50 + [3] * 10)
    org_type = np.array(["Association1901"] * 177 + ["Entreprise"] * 3 + ["Association1901"] * 10)
    numbers = _ha_rna_numbers(4, commune, org_type, np.random.default_rng(seed), rna, rna_commune)
    assigned = numbers != ""
    assert len(set(numbers[assigned])) == int(assigned.sum())  # never twice
    rna_commune_of = dict(zip(rna["id"], rna_commune, strict=True))
    assert all(
        rna_commune_of[n] == c for n, c in zip(numbers[assigned], commune[assigned], strict=True)
    )
    # communes 0 to 2 have more candidates than associations: every association is used;
    # the companies of commune 2 and commune 3 (no RNA association) get none
    assert np.bincount(commune[assigned], minlength=4).tolist() == [3, 1, 2, 0]
    assert not assigned[org_type == "Entreprise"].any()
    assert not assigned[commune == 3].any()
