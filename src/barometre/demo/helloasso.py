"""Synthetic HelloAsso extracts: organisations, campaigns (forms) and participations.

Part of :mod:`barometre.demo`."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from barometre.demo.communes import _Communes
from barometre.demo.model import (
    _FORM_STATES,
    _FORM_TITLES,
    _FORM_TYPES,
    _ITEM_AMOUNTS,
    _ITEM_STATES,
    _ITEM_TYPES,
    _LOCAL_LAW,
    _ORG_TYPES,
    _THEME_SHARES,
    _THEMES,
    ALSACE_MOSELLE,
    DEFAULT_TRUTH_STATES,
    FRANCE_POPULATION,
    DemoMagnitudes,
    _choice,
    _days,
    _format,
    _uniform_times,
)

# --------------------------------------------------------------------------------------------
# HelloAsso


def _helloasso(
    communes: _Communes,
    mults: Mapping[str, np.ndarray],
    data_year: int,
    scale: float,
    participations_scale: float,
    rng: np.random.Generator,
    rna: pd.DataFrame,
    rna_commune: np.ndarray,
    magnitudes: DemoMagnitudes,
) -> tuple[pd.DataFrame, pd.DataFrame, pa.Table, dict[str, np.ndarray]]:
    extract_end = _days(data_year + 1, 4, 1)
    # Organisations: yearly cohorts growing by ha_growth a year, plus the first quarter after.
    offsets = np.arange(-magnitudes.ha_years + 1, 1)
    factors = np.append(np.exp(magnitudes.ha_growth * offsets), 0.25 * np.exp(magnitudes.ha_growth))
    mean = (
        scale
        * magnitudes.ha_organizations
        / FRANCE_POPULATION
        * communes.population
        * mults["ha_organizations"]
    )
    counts = rng.poisson(np.outer(mean, factors))
    commune = np.repeat(np.tile(np.arange(communes.n), counts.shape[1]), counts.T.ravel())
    cohort = np.repeat(np.repeat(np.arange(counts.shape[1]), communes.n), counts.T.ravel())
    starts = np.array([_days(data_year + int(o)) for o in offsets] + [_days(data_year + 1)])
    ends = np.array([_days(data_year + int(o) + 1) for o in offsets] + [extract_end])
    created = _uniform_times(rng, starts[cohort], ends[cohort])
    order = np.lexsort((commune, created))
    commune, created = commune[order], created[order]
    n_org = len(commune)
    org_id = np.arange(1, n_org + 1, dtype=np.int64) + 100_000
    type_names = np.array([t for t, _ in _ORG_TYPES], dtype=object)
    org_type = type_names[_choice(rng, np.array([s for _, s in _ORG_TYPES]), n_org)]
    local_law = np.isin(communes.dep[commune], ALSACE_MOSELLE)
    for general, local in _LOCAL_LAW.items():
        org_type[local_law & (org_type == general)] = local
    theme = _choice(rng, _THEME_SHARES, n_org)
    name = (
        np.array([t[1] for t in _THEMES], dtype=object)[theme]
        + " de "
        + communes.nom[commune].astype(object)
    )
    postcodes = communes.pick_postcodes(rng, commune)
    postcodes, cities = communes.city_spellings(rng, commune, postcodes)
    latitude, longitude = communes.coordinates(rng, commune)
    draw = rng.random(n_org)
    nowhere = draw < 0.007
    abroad = (draw >= 0.007) & (draw < 0.010)
    postcodes[nowhere] = ""
    cities[nowhere] = ""
    postcodes[abroad] = "L-1009"
    cities[abroad] = "LUXEMBOURG"
    for arr in (latitude, longitude):
        arr[nowhere | abroad] = ""
    placeable = ~(nowhere | abroad) & (communes.n_postcodes[commune] > 0)

    # RNA numbers: about half of the 1901-law associations are found in the RNA of their commune.
    rna_number = np.full(n_org, "", dtype=object)
    candidate = np.isin(
        org_type, ["Association1901", "Association1901Rig", "Association1901Rup"]
    ) & (rng.random(n_org) < 0.5)
    shuffled = rng.permutation(len(rna_commune))
    by_commune = shuffled[np.argsort(rna_commune[shuffled], kind="stable")]
    rna_start = np.searchsorted(rna_commune[by_commune], np.arange(communes.n))
    rna_count = np.bincount(rna_commune, minlength=communes.n)
    cand = np.flatnonzero(candidate)
    cand_commune = commune[cand]
    rank = _rank_within(cand_commune)
    ok = rank < rna_count[cand_commune]
    rna_ids = rna["id"].to_numpy(dtype=object)
    rna_number[cand[ok]] = rna_ids[by_commune[rna_start[cand_commune[ok]] + rank[ok]]]

    organizations = pd.DataFrame(
        {
            "id": org_id,
            "name": name,
            "type": org_type,
            "category": np.array([t[4] for t in _THEMES], dtype=object)[theme],
            "rna_number": rna_number,
            "postal_code": postcodes,
            "city": cities,
            "latitude": latitude,
            "longitude": longitude,
            "created_at": _format(created),
        }
    )

    # Forms (campaigns) created from 1 October of the year before to the extract's end.
    window_start = _days(data_year - 1, 10, 1)
    exposure = np.maximum((extract_end - np.maximum(created, window_start)).astype(np.int64), 0) / (
        365.25 * 86_400
    )
    activity = rng.gamma(0.6, 1 / 0.6, size=n_org) * mults["ha_activity"][commune]
    n_forms = rng.poisson(magnitudes.ha_forms_per_organization_year * exposure * activity)
    form_org = np.repeat(np.arange(n_org), n_forms)
    form_created = _uniform_times(
        rng, np.maximum(created, window_start)[form_org], np.full(len(form_org), extract_end)
    )
    order = np.lexsort((form_org, form_created))
    form_org, form_created = form_org[order], form_created[order]
    n_form = len(form_org)
    form_type_names = np.array([t for t, _ in _FORM_TYPES], dtype=object)
    form_type_code = _choice(rng, np.array([s for _, s in _FORM_TYPES]), n_form).astype(np.int8)
    form_type = form_type_names[form_type_code]
    form_state_names = np.array([s for s, _ in _FORM_STATES], dtype=object)
    form_state = form_state_names[_choice(rng, np.array([p for _, p in _FORM_STATES]), n_form)]
    form_id = np.arange(1, n_form + 1, dtype=np.int64) + 500_000
    is_event = form_type == "Event"
    event_start = form_created + (rng.integers(7, 91, size=n_form) * 86_400).astype(
        "timedelta64[s]"
    )
    form_year = form_created.astype("datetime64[Y]").astype(int) + 1970
    titles = (
        np.array([_FORM_TITLES[t] for t in form_type], dtype=object)
        + " "
        + form_year.astype(str).astype(object)
    )
    forms = pd.DataFrame(
        {
            "form_id": form_id,
            "organization_id": org_id[form_org],
            "form_type": form_type,
            "title": titles,
            "state": form_state,
            "created_at": _format(form_created),
            "start_date": np.where(is_event, _format(event_start, "D"), ""),
            "end_date": np.where(is_event, _format(event_start, "D"), ""),
        }
    )

    # Participations (items): per published form, over 120 days (until the event for events).
    live = np.isin(form_state, ["Public", "Private", "Disabled"])
    form_end = np.where(is_event, event_start, form_created + np.timedelta64(120 * 86_400, "s"))
    visible_end = np.minimum(form_end, extract_end)
    share = (visible_end - form_created).astype(np.int64) / np.maximum(
        (form_end - form_created).astype(np.int64), 1
    )
    type_mean = np.array([magnitudes.ha_participations_per_form[t] for t in form_type])
    audience = rng.gamma(0.7, 1 / 0.7, size=n_form) * mults["ha_audience"][commune[form_org]]
    n_items = rng.poisson(np.where(live, participations_scale * type_mean * audience * share, 0.0))
    item_form = np.repeat(np.arange(n_form), n_items)
    item_date = _uniform_times(rng, form_created[item_form], visible_end[item_form])
    order = np.lexsort((item_form, item_date))
    item_form, item_date = item_form[order], item_date[order]
    n_item = len(item_form)
    # Codes rather than strings: a 20-million-row benchmark stays within memory; the Parquet
    # columns are dictionary-encoded strings.
    item_form_type = form_type_code[item_form]
    free = is_event & (rng.random(n_form) < 0.25)
    state_code = _choice(rng, np.array([p for _, p in _ITEM_STATES]), n_item).astype(np.int8)
    state_code[free[item_form]] = len(_ITEM_STATES)  # "Registered"
    state_names = [s for s, _ in _ITEM_STATES] + ["Registered"]
    item_type_names = [*dict.fromkeys(_ITEM_TYPES[t] for t, _ in _FORM_TYPES), "MonthlyDonation"]
    item_type_of_form = np.array(
        [item_type_names.index(_ITEM_TYPES[t]) for t, _ in _FORM_TYPES], dtype=np.int8
    )
    item_type_code = item_type_of_form[item_form_type]
    donation = [t for t, _ in _FORM_TYPES].index("Donation")
    monthly = (item_form_type == donation) & (rng.random(n_item) < 0.10)
    item_type_code[monthly] = item_type_names.index("MonthlyDonation")
    base_amount = np.array([_ITEM_AMOUNTS[t] for t, _ in _FORM_TYPES], dtype=float)[item_form_type]
    amount = np.round(base_amount * rng.lognormal(-0.18, 0.6, size=n_item), -2).astype(np.int64)
    amount[free[item_form]] = 0
    participations = pa.table(
        {
            "id": pa.array(np.arange(1, n_item + 1, dtype=np.int64)),
            "form_id": pa.array(form_id[item_form]),
            "organization_id": pa.array(org_id[form_org[item_form]]),
            "date": pa.array(item_date, type=pa.timestamp("s")),
            "state": pa.DictionaryArray.from_arrays(pa.array(state_code), pa.array(state_names)),
            "amount_cents": pa.array(amount),
            "item_type": pa.DictionaryArray.from_arrays(
                pa.array(item_type_code), pa.array(item_type_names)
            ),
        }
    )
    counted_states = [
        state_names.index(s) for s in DEFAULT_TRUTH_STATES["helloasso_participations"]
    ]
    internal = {
        "org_commune": commune,
        "org_placeable": placeable,
        "form_org": form_org,
        "item_form": item_form,
        "item_counted": np.isin(state_code, counted_states)
        & (item_date.astype("datetime64[Y]").astype(np.int64) + 1970 == data_year),
    }
    return organizations, forms, participations, internal


def _rank_within(groups: np.ndarray) -> np.ndarray:
    """0-based rank of each element among the elements of its group, in array order."""
    if len(groups) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    new = np.ones(len(groups), dtype=bool)
    new[1:] = sorted_groups[1:] != sorted_groups[:-1]
    starts = np.maximum.accumulate(np.where(new, np.arange(len(groups)), 0))
    rank = np.empty(len(groups), dtype=np.int64)
    rank[order] = np.arange(len(groups)) - starts
    return rank
