"""Synthetic JeVeuxAider extracts: missions and mises en relation.

Part of :mod:`barometre.demo`."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from barometre.demo.communes import _Communes
from barometre.demo.model import (
    _MATCH_STATES,
    _MISSION_NAMES,
    _THEMES,
    FRANCE_POPULATION,
    JVA_LAUNCH,
    DemoMagnitudes,
    _choice,
    _days,
    _draw_records,
    _format,
    _ts,
    _uniform_times,
    _visible_share,
)

# --------------------------------------------------------------------------------------------
# JeVeuxAider


def _jeveuxaider(
    communes: _Communes,
    mults: Mapping[str, np.ndarray],
    data_year: int,
    scale: float,
    rng: np.random.Generator,
    magnitudes: DemoMagnitudes,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, np.ndarray]]:
    """JeVeuxAider's two extracts (missions, mises en relation) and the internal arrays the
    truth is counted from (``mission_commune``, ``mission_placeable``, ``match_mission``).
    Draws missions, then their mises en relation."""
    extract_end = _days(data_year + 1, 4, 1)
    per_year = (
        scale * magnitudes.jva_matches / magnitudes.jva_matches_per_mission / FRANCE_POPULATION
    )
    mean = per_year * communes.population * mults["jva_missions"]
    commune, created = _jva_mission_times(rng, mean, data_year, extract_end, magnitudes)
    missions, end, cancelled, placeable = _jva_missions(
        communes, commune, created, rng, extract_end
    )
    participations, match_mission = _jva_matches(
        rng,
        missions["id"].to_numpy(),
        created,
        end,
        mults["jva_audience"][commune],
        cancelled,
        extract_end,
        magnitudes,
    )
    internal = {
        "mission_commune": commune,
        "mission_placeable": placeable,
        "match_mission": match_mission,
    }
    return missions, participations, internal


def _jva_mission_times(
    rng: np.random.Generator,
    mean: np.ndarray,
    data_year: int,
    extract_end: np.datetime64,
    magnitudes: DemoMagnitudes,
) -> tuple[np.ndarray, np.ndarray]:
    """(commune index, creation time) of every mission, in creation order, over three periods:
    from the platform's launch to the data year (``jva_earlier_years_factor`` of the activity),
    the data year (``mean`` missions per commune), the next quarter."""
    launch = _ts(JVA_LAUNCH) if data_year >= 2021 else _days(data_year - 1)
    year_start, year_end = _days(data_year), _days(data_year + 1)
    bounds = np.array([launch, year_start, year_end, extract_end])
    lengths = np.maximum((bounds[1:] - bounds[:-1]).astype(np.int64), 0) / (365.25 * 86_400)
    weights = lengths * np.array([magnitudes.jva_earlier_years_factor, 1.0, 1.0])
    return _draw_records(rng, mean, weights, bounds[:-1], bounds[1:], in_time_order=True)


def _jva_missions(
    communes: _Communes,
    commune: np.ndarray,
    created: np.ndarray,
    rng: np.random.Generator,
    extract_end: np.datetime64,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """The missions extract, each mission's end, whether it was cancelled (3 %) and whether it
    is placeable (8 % are remote, without a place)."""
    n = len(commune)
    remote = rng.random(n) < 0.08
    start = created + (rng.integers(0, 31, size=n) * 86_400).astype("timedelta64[s]")
    end = start + (rng.integers(7, 181, size=n) * 86_400).astype("timedelta64[s]")
    cancelled = rng.random(n) < 0.03
    state = np.where(
        cancelled, "Annulée", np.where(end < extract_end, "Terminée", "Validée")
    ).astype(object)
    postcodes, cities, latitude, longitude = communes.platform_places(rng, commune)
    for arr in (postcodes, cities, latitude, longitude):
        arr[remote] = ""
    placeable = ~remote & (communes.n_postcodes[commune] > 0)
    structure_id = 1_000 + commune.astype(np.int64) * 10 + rng.integers(0, 5, size=n)
    structure_theme = structure_id % len(_THEMES)
    name = np.array(_MISSION_NAMES, dtype=object)[rng.integers(0, len(_MISSION_NAMES), size=n)]
    missions = pd.DataFrame(
        {
            "id": np.arange(1, n + 1, dtype=np.int64),
            "structure_id": structure_id,
            "structure_name": np.array([t[1] for t in _THEMES], dtype=object)[structure_theme]
            + " de "
            + communes.nom[commune].astype(object),
            "name": name,
            "type": np.where(remote, "Mission à distance", "Mission en présentiel"),
            "state": state,
            "postal_code": postcodes,
            "city": cities,
            "department": communes.dep[commune],
            "latitude": latitude,
            "longitude": longitude,
            "participations_max": rng.integers(1, 21, size=n),
            "start_date": _format(start, "D"),
            "end_date": _format(end, "D"),
            "created_at": _format(created),
        }
    )
    return missions, end, cancelled, placeable


def _jva_matches(
    rng: np.random.Generator,
    mission_id: np.ndarray,
    created: np.ndarray,
    end: np.ndarray,
    audience: np.ndarray,
    cancelled: np.ndarray,
    extract_end: np.datetime64,
    magnitudes: DemoMagnitudes,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The mises en relation extract and the mission index of each: Poisson per mission over
    the part of it the extract sees (``audience``: the commune multiplier; a cancelled mission
    draws less), updated within 30 days."""
    visible_end, share = _visible_share(created, end, extract_end)
    audience = rng.gamma(0.8, 1 / 0.8, size=len(created)) * audience * np.where(cancelled, 0.3, 1.0)
    n_matches = rng.poisson(magnitudes.jva_matches_per_mission * audience * share)
    match_mission = np.repeat(np.arange(len(created)), n_matches)
    match_created = _uniform_times(rng, created[match_mission], visible_end[match_mission])
    order = np.lexsort((match_mission, match_created))
    match_mission, match_created = match_mission[order], match_created[order]
    m = len(match_mission)
    updated = np.minimum(
        match_created + (rng.random(m) * 30 * 86_400).astype(np.int64).astype("timedelta64[s]"),
        extract_end - np.timedelta64(1, "s"),
    )
    states = np.array([s for s, _ in _MATCH_STATES], dtype=object)[
        _choice(rng, np.array([p for _, p in _MATCH_STATES]), m)
    ]
    participations = pd.DataFrame(
        {
            "id": np.arange(1, m + 1, dtype=np.int64),
            "mission_id": mission_id[match_mission],
            "state": states,
            "created_at": _format(match_created),
            "updated_at": _format(updated),
        }
    )
    return participations, match_mission
