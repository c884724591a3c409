"""Synthetic HelloAsso extracts: organisations, campaigns (forms) and participations.

Part of :mod:`barometre.demo`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

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
    _draw_records,
    _format,
    _uniform_times,
    _visible_share,
)

# --------------------------------------------------------------------------------------------
# HelloAsso

_ITEM_STATE_NAMES = [s for s, _ in _ITEM_STATES] + ["Registered"]
"""Participation states: the drawn ones, then « Registered » (free events)."""
_ITEM_TYPE_NAMES = [*dict.fromkeys(_ITEM_TYPES[t] for t, _ in _FORM_TYPES), "MonthlyDonation"]
"""Participation types, in order of first use by the form types, then « MonthlyDonation »."""
_ITEM_TYPE_OF_FORM = np.array(
    [_ITEM_TYPE_NAMES.index(_ITEM_TYPES[t]) for t, _ in _FORM_TYPES], dtype=np.int8
)
"""Code of the participation type of each form type code."""


@dataclass(frozen=True)
class _Forms:
    """The drawn campaigns, in creation order: their organisation (index), creation time, type
    (code into :data:`_FORM_TYPES` and name), state, event date (meaningful for events only)
    and id."""

    org: np.ndarray
    created: np.ndarray
    type_code: np.ndarray
    type: np.ndarray
    state: np.ndarray
    event_start: np.ndarray
    id: np.ndarray

    @property
    def is_event(self) -> np.ndarray:
        return self.type == "Event"


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
    """HelloAsso's three extracts (organisations, forms, participations) and the internal arrays
    the truth is counted from (``org_commune``, ``org_placeable``, ``form_org``, ``item_form``,
    ``item_counted``). Draws organisations, then campaigns, then participations."""
    extract_end = _days(data_year + 1, 4, 1)
    mean = (
        scale
        * magnitudes.ha_organizations
        / FRANCE_POPULATION
        * communes.population
        * mults["ha_organizations"]
    )
    commune, created = _ha_organization_times(rng, mean, data_year, extract_end, magnitudes)
    organizations, placeable = _ha_organizations(communes, commune, created, rng, rna, rna_commune)
    org_id = organizations["id"].to_numpy()
    activity = mults["ha_activity"][commune]
    drawn = _ha_draw_forms(rng, created, activity, data_year, extract_end, magnitudes)
    audience = mults["ha_audience"][commune[drawn.org]]
    participations, item_form, item_counted = _ha_participations(
        rng, drawn, audience, org_id, participations_scale, data_year, extract_end, magnitudes
    )
    internal = {
        "org_commune": commune,
        "org_placeable": placeable,
        "form_org": drawn.org,
        "item_form": item_form,
        "item_counted": item_counted,
    }
    return organizations, _ha_forms_frame(drawn, org_id), participations, internal


def _ha_organization_times(
    rng: np.random.Generator,
    mean: np.ndarray,
    data_year: int,
    extract_end: np.datetime64,
    magnitudes: DemoMagnitudes,
) -> tuple[np.ndarray, np.ndarray]:
    """(commune index, creation time) of every organisation, in creation order: yearly cohorts
    growing by ``ha_growth`` a year up to the data year's ``mean`` per commune, plus the first
    quarter after the data year."""
    offsets = np.arange(-magnitudes.ha_years + 1, 1)
    factors = np.append(np.exp(magnitudes.ha_growth * offsets), 0.25 * np.exp(magnitudes.ha_growth))
    starts = np.array([_days(data_year + int(o)) for o in offsets] + [_days(data_year + 1)])
    ends = np.array([_days(data_year + int(o) + 1) for o in offsets] + [extract_end])
    return _draw_records(rng, mean, factors, starts, ends, in_time_order=True)


def _ha_organizations(
    communes: _Communes,
    commune: np.ndarray,
    created: np.ndarray,
    rng: np.random.Generator,
    rna: pd.DataFrame,
    rna_commune: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The organisations extract and whether each organisation is placeable (it has an address
    in France, in a commune with a postcode). Draws types, themes, places, then RNA numbers."""
    n_org = len(commune)
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
    postcodes, cities, latitude, longitude = communes.platform_places(rng, commune)
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
    organizations = pd.DataFrame(
        {
            "id": np.arange(1, n_org + 1, dtype=np.int64) + 100_000,
            "name": name,
            "type": org_type,
            "category": np.array([t[4] for t in _THEMES], dtype=object)[theme],
            "rna_number": _ha_rna_numbers(communes.n, commune, org_type, rng, rna, rna_commune),
            "postal_code": postcodes,
            "city": cities,
            "latitude": latitude,
            "longitude": longitude,
            "created_at": _format(created),
        }
    )
    return organizations, placeable


def _ha_rna_numbers(
    n_communes: int,
    commune: np.ndarray,
    org_type: np.ndarray,
    rng: np.random.Generator,
    rna: pd.DataFrame,
    rna_commune: np.ndarray,
) -> np.ndarray:
    """RNA number of each organisation: about half of the 1901-law associations get the number
    of a distinct RNA association of their commune (drawn without replacement), others ""."""
    rna_number = np.full(len(commune), "", dtype=object)
    candidate = np.isin(
        org_type, ["Association1901", "Association1901Rig", "Association1901Rup"]
    ) & (rng.random(len(commune)) < 0.5)
    shuffled = rng.permutation(len(rna_commune))
    by_commune = shuffled[np.argsort(rna_commune[shuffled], kind="stable")]
    rna_start = np.searchsorted(rna_commune[by_commune], np.arange(n_communes))
    rna_count = np.bincount(rna_commune, minlength=n_communes)
    cand = np.flatnonzero(candidate)
    cand_commune = commune[cand]
    rank = _rank_within(cand_commune)
    ok = rank < rna_count[cand_commune]
    rna_ids = rna["id"].to_numpy(dtype=object)
    rna_number[cand[ok]] = rna_ids[by_commune[rna_start[cand_commune[ok]] + rank[ok]]]
    return rna_number


def _ha_draw_forms(
    rng: np.random.Generator,
    org_created: np.ndarray,
    activity: np.ndarray,
    data_year: int,
    extract_end: np.datetime64,
    magnitudes: DemoMagnitudes,
) -> _Forms:
    """Campaigns created from 1 October of the year before to the extract's end, Poisson per
    organisation (exposure × gamma activity × ``activity``, the commune's multiplier)."""
    window_start = _days(data_year - 1, 10, 1)
    opened = np.maximum(org_created, window_start)
    exposure = np.maximum((extract_end - opened).astype(np.int64), 0) / (365.25 * 86_400)
    activity = rng.gamma(0.6, 1 / 0.6, size=len(org_created)) * activity
    n_forms = rng.poisson(magnitudes.ha_forms_per_organization_year * exposure * activity)
    form_org = np.repeat(np.arange(len(org_created)), n_forms)
    form_created = _uniform_times(rng, opened[form_org], np.full(len(form_org), extract_end))
    order = np.lexsort((form_org, form_created))
    form_org, form_created = form_org[order], form_created[order]
    n_form = len(form_org)
    form_type_names = np.array([t for t, _ in _FORM_TYPES], dtype=object)
    form_type_code = _choice(rng, np.array([s for _, s in _FORM_TYPES]), n_form).astype(np.int8)
    form_state_names = np.array([s for s, _ in _FORM_STATES], dtype=object)
    form_state = form_state_names[_choice(rng, np.array([p for _, p in _FORM_STATES]), n_form)]
    event_start = form_created + (rng.integers(7, 91, size=n_form) * 86_400).astype(
        "timedelta64[s]"
    )
    return _Forms(
        org=form_org,
        created=form_created,
        type_code=form_type_code,
        type=form_type_names[form_type_code],
        state=form_state,
        event_start=event_start,
        id=np.arange(1, n_form + 1, dtype=np.int64) + 500_000,
    )


def _ha_forms_frame(forms: _Forms, org_id: np.ndarray) -> pd.DataFrame:
    """The forms extract (titles « <type> <year> », event dates for events only)."""
    form_year = forms.created.astype("datetime64[Y]").astype(int) + 1970
    titles = (
        np.array([_FORM_TITLES[t] for t in forms.type], dtype=object)
        + " "
        + form_year.astype(str).astype(object)
    )
    event_day = np.where(forms.is_event, _format(forms.event_start, "D"), "")
    return pd.DataFrame(
        {
            "form_id": forms.id,
            "organization_id": org_id[forms.org],
            "form_type": forms.type,
            "title": titles,
            "state": forms.state,
            "created_at": _format(forms.created),
            "start_date": event_day,
            "end_date": event_day,
        }
    )


def _ha_participations(
    rng: np.random.Generator,
    forms: _Forms,
    audience: np.ndarray,
    org_id: np.ndarray,
    participations_scale: float,
    data_year: int,
    extract_end: np.datetime64,
    magnitudes: DemoMagnitudes,
) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """The participations extract (items), the form index of each item and whether the item
    counts in the truth (counted state, dated in the data year). Items are drawn per published
    form, over 120 days (until the event for events); ``audience`` is the commune multiplier of
    each form."""
    live = np.isin(forms.state, ["Public", "Private", "Disabled"])
    form_end = np.where(
        forms.is_event, forms.event_start, forms.created + np.timedelta64(120 * 86_400, "s")
    )
    visible_end, share = _visible_share(forms.created, form_end, extract_end)
    type_mean = np.array([magnitudes.ha_participations_per_form[t] for t in forms.type])
    audience = rng.gamma(0.7, 1 / 0.7, size=len(forms.org)) * audience
    n_items = rng.poisson(np.where(live, participations_scale * type_mean * audience * share, 0.0))
    item_form = np.repeat(np.arange(len(forms.org)), n_items)
    item_date = _uniform_times(rng, forms.created[item_form], visible_end[item_form])
    order = np.lexsort((item_form, item_date))
    item_form, item_date = item_form[order], item_date[order]
    state_code, type_code, amount = _ha_item_codes(rng, forms, item_form)
    participations = pa.table(
        {
            "id": pa.array(np.arange(1, len(item_form) + 1, dtype=np.int64)),
            "form_id": pa.array(forms.id[item_form]),
            "organization_id": pa.array(org_id[forms.org[item_form]]),
            "date": pa.array(item_date, type=pa.timestamp("s")),
            "state": pa.DictionaryArray.from_arrays(
                pa.array(state_code), pa.array(_ITEM_STATE_NAMES)
            ),
            "amount_cents": pa.array(amount),
            "item_type": pa.DictionaryArray.from_arrays(
                pa.array(type_code), pa.array(_ITEM_TYPE_NAMES)
            ),
        }
    )
    counted_states = [
        _ITEM_STATE_NAMES.index(s) for s in DEFAULT_TRUTH_STATES["helloasso_participations"]
    ]
    counted = np.isin(state_code, counted_states) & (
        item_date.astype("datetime64[Y]").astype(np.int64) + 1970 == data_year
    )
    return participations, item_form, counted


def _ha_item_codes(
    rng: np.random.Generator, forms: _Forms, item_form: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(state code, type code, amount in cents) of each item of form ``item_form``: a quarter of
    the events are free (« Registered », amount 0), a tenth of donations monthly.

    Codes rather than strings: a 20-million-row benchmark stays within memory; the Parquet
    columns are dictionary-encoded strings."""
    n_item = len(item_form)
    item_form_type = forms.type_code[item_form]
    free = forms.is_event & (rng.random(len(forms.org)) < 0.25)
    state_code = _choice(rng, np.array([p for _, p in _ITEM_STATES]), n_item).astype(np.int8)
    state_code[free[item_form]] = len(_ITEM_STATES)  # "Registered"
    type_code = _ITEM_TYPE_OF_FORM[item_form_type]
    donation = [t for t, _ in _FORM_TYPES].index("Donation")
    monthly = (item_form_type == donation) & (rng.random(n_item) < 0.10)
    type_code[monthly] = _ITEM_TYPE_NAMES.index("MonthlyDonation")
    base_amount = np.array([_ITEM_AMOUNTS[t] for t, _ in _FORM_TYPES], dtype=float)[item_form_type]
    amount = np.round(base_amount * rng.lognormal(-0.18, 0.6, size=n_item), -2).astype(np.int64)
    amount[free[item_form]] = 0
    return state_code, type_code, amount


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
