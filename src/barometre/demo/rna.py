"""Synthetic RNA extract (waldec layout).

Part of :mod:`barometre.demo`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from barometre.demo.communes import _Communes
from barometre.demo.model import (
    _PLM_ARRONDISSEMENT_PREFIX,
    _STREET_TYPES,
    _STREETS,
    _THEME_SHARES,
    _THEMES,
    FRANCE_POPULATION,
    DemoMagnitudes,
    _choice,
    _days,
    _draw_records,
    _format,
    _rna_prefix,
)
from barometre.sources.rna import WALDEC_COLUMNS

# --------------------------------------------------------------------------------------------
# RNA

_NO_DATE = "0001-01-01"
"""The waldec layout's « no date »."""


def _rna(
    communes: _Communes,
    mult: np.ndarray,
    data_year: int,
    scale: float,
    rng: np.random.Generator,
    magnitudes: DemoMagnitudes,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The waldec stock; returns (frame, intended commune index, placeable flag).

    Draws creations, their later history, then (in numbering order) places, titles, street
    addresses and the remaining fields."""
    per_capita = magnitudes.rna_creations / FRANCE_POPULATION
    mean = scale * per_capita * communes.population * mult
    commune, created = _rna_creations(rng, mean, data_year, magnitudes)
    history = _rna_history(rng, created, data_year)
    # Numbering: W + department prefix + 1 + six digits, in creation order within a department.
    order = np.lexsort((commune, created, communes.dep[commune]))
    commune = commune[order]
    history = {name: values[order] for name, values in history.items()}
    ids, prefixes = _rna_numbers(communes.dep[commune])
    places, nowhere, placeable = _rna_places(communes, commune, rng)
    n = len(commune)
    empty = np.full(n, "", dtype=object)
    columns = {
        "id": ids,
        "gestion": prefixes + "1P",
        **_rna_date_columns(history, data_year),
        **places,
        **_rna_titles(rng, communes, commune, places["adrs_libcommune"]),
        **_rna_street(rng, nowhere),
        **_rna_other_fields(rng, n),
        "nature": np.full(n, "D", dtype=object),
        "dir_civilite": np.full(n, "PM", dtype=object),
        "objet_social2": np.full(n, "000000", dtype=object),
        **dict.fromkeys(_RNA_EMPTY_COLUMNS, empty),
    }
    frame = pd.DataFrame(columns)[list(WALDEC_COLUMNS)]
    return frame, commune, placeable


_RNA_EMPTY_COLUMNS = (
    "id_ex", "rup_mi", "adrs_complement", "adrs_repetition", "adrs_distrib", "adrg_declarant",
    "adrg_complemid", "adrg_complemgeo", "adrg_distrib", "siteweb", "observation",
)  # fmt: skip
"""Waldec columns the demo leaves empty."""


def _rna_creations(
    rng: np.random.Generator, mean: np.ndarray, data_year: int, magnitudes: DemoMagnitudes
) -> tuple[np.ndarray, np.ndarray]:
    """(commune index, creation day) of every association: Poisson counts per commune for each
    of the recent years (``mean`` in the data year × ``rna_year_factors``) and for an older
    stock created from 1950."""
    factors = np.array(magnitudes.rna_year_factors, dtype=float)
    years = np.arange(data_year - len(factors) + 1, data_year + 1)
    old = magnitudes.rna_old_stock_share * factors.sum()
    starts = np.array([_days(int(y)) for y in years] + [_days(1950)])
    ends = np.array([_days(int(y)) for y in np.append(years + 1, years[0])])
    commune, created = _draw_records(rng, mean, np.append(factors, old), starts, ends)
    return commune, created.astype("datetime64[D]")


def _rna_history(
    rng: np.random.Generator, created: np.ndarray, data_year: int
) -> dict[str, np.ndarray]:
    """Each association's later history up to the extract (1 January after the data year):
    ``created``, ``declared`` (last declaration: 20 % modified since), ``published`` (in the JO
    10 to 45 days after creation), ``dissolved_flag`` (3 %), ``dissolved`` and ``maj_time`` (the
    latest of them, with a time of day)."""
    n = len(created)
    extract = np.datetime64(f"{data_year + 1:04d}-01-01", "D")
    last = extract - np.timedelta64(1, "D")
    modified = rng.random(n) < 0.2
    span = (last - created).astype(np.int64)
    declared = created + np.where(
        modified, (rng.random(n) * (span + 1)).astype(np.int64), 0
    ).astype("timedelta64[D]")
    published = created + rng.integers(10, 46, size=n).astype("timedelta64[D]")
    dissolved_flag = (rng.random(n) < 0.03) & (span > 30)
    dissolved = (
        created
        + np.timedelta64(30, "D")
        + (rng.random(n) * np.maximum(span - 30, 1)).astype(np.int64).astype("timedelta64[D]")
    )
    latest = np.maximum(
        np.maximum(declared, np.where(published < extract, published, created)),
        np.where(dissolved_flag, dissolved, created),
    )
    maj_time = np.minimum(latest, last).astype("datetime64[s]") + rng.integers(
        0, 86_400, size=n
    ).astype("timedelta64[s]")
    return {
        "created": created,
        "declared": declared,
        "published": published,
        "dissolved_flag": dissolved_flag,
        "dissolved": dissolved,
        "maj_time": maj_time,
    }


def _rna_date_columns(history: dict[str, np.ndarray], data_year: int) -> dict[str, np.ndarray]:
    """The waldec date columns and ``position`` (A active, D dissolved) of :func:`_rna_history`;
    a publication after the extract is not known yet (« no date »)."""
    extract = np.datetime64(f"{data_year + 1:04d}-01-01", "D")
    published, dissolved_flag = history["published"], history["dissolved_flag"]
    return {
        "date_creat": _format(history["created"], "D"),
        "date_decla": _format(history["declared"], "D"),
        "date_publi": np.where(published < extract, _format(published, "D"), _NO_DATE),
        "date_disso": np.where(dissolved_flag, _format(history["dissolved"], "D"), _NO_DATE),
        "position": np.where(dissolved_flag, "D", "A"),
        "maj_time": np.char.replace(_format(history["maj_time"]).astype(str), "T", " "),
    }


def _rna_numbers(deps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(RNA numbers, department prefixes) of records sorted by department: W + prefix + 1 + the
    six-digit rank of the record within its department."""
    n = len(deps)
    new_dep = np.ones(n, dtype=bool)
    new_dep[1:] = deps[1:] != deps[:-1]
    group_start = np.maximum.accumulate(np.where(new_dep, np.arange(n), 0))
    sequence = np.arange(n) - group_start + 1
    if n and sequence.max() > 999_999:
        raise ValueError("more than 999 999 RNA records in one department: lower the scale")
    prefixes = np.array([_rna_prefix(d) for d in deps], dtype=object)
    ids = "W" + prefixes + "1" + np.char.zfill(sequence.astype(str), 6).astype(object)
    return ids, prefixes


def _rna_places(
    communes: _Communes, commune: np.ndarray, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """The seat's code, postcodes and commune name columns, which records have no address
    (``nowhere``) and which are placeable. 80 % of Paris/Lyon/Marseille seats carry the
    arrondissement code, as in the real file; 0.4 % a blank code (placeable by postcode and
    city name), 0.2 % no address at all."""
    n = len(commune)
    postcodes = communes.pick_postcodes(rng, commune)
    insee = communes.code[commune].astype(object)
    for code, (postal_prefix, insee_prefix) in _PLM_ARRONDISSEMENT_PREFIX.items():
        here = (
            (insee == code)
            & np.array([p.startswith(postal_prefix) for p in postcodes])
            & (rng.random(n) < 0.8)
        )
        if here.any():
            suffix = [p[len(postal_prefix) :] for p in postcodes[here]]
            arr = np.array([insee_prefix + s for s in suffix], dtype=object)
            valid = np.array([a in _PLM_VALID for a in arr])
            insee[np.flatnonzero(here)[valid]] = arr[valid]
    libcommune = communes.upper[commune].copy()
    draw = rng.random(n)
    blank_code = draw < 0.004  # code missing, placeable by postcode + city name
    nowhere = (draw >= 0.004) & (draw < 0.006)  # no address at all: not placeable
    insee[blank_code | nowhere] = ""
    postcodes[nowhere] = ""
    libcommune[nowhere] = ""
    placeable = ~nowhere & ((communes.n_postcodes[commune] > 0) | ~blank_code)
    columns = {
        "adrs_codeinsee": insee,
        "adrs_codepostal": postcodes,
        "adrs_libcommune": libcommune,
        "adrg_codepostal": postcodes,
        "adrg_achemine": libcommune,
        "adrg_pays": np.where(nowhere, "", "FRANCE"),
    }
    return columns, nowhere, placeable


def _rna_titles(
    rng: np.random.Generator, communes: _Communes, commune: np.ndarray, libcommune: np.ndarray
) -> dict[str, np.ndarray]:
    """Title (« <THEME> DE <COMMUNE> », short title of 38 characters at most) and object of
    each association, from a drawn theme."""
    theme = _choice(rng, _THEME_SHARES, len(commune))
    prefix = np.array([t[0] for t in _THEMES], dtype=object)[theme]
    vowel = np.array([s[:1] in "AEIOUYH" for s in libcommune])
    place = np.where(libcommune == "", communes.upper[commune], libcommune)
    titre = prefix + np.where(vowel, " D'", " DE ") + place
    return {
        "titre": titre,
        "titre_court": np.array(
            [t if len(t) <= 38 else t[:35] + "..." for t in titre], dtype=object
        ),
        "objet": np.array([t[2] for t in _THEMES], dtype=object)[theme],
        "objet_social1": np.array([t[3] for t in _THEMES], dtype=object)[theme],
    }


def _rna_street(rng: np.random.Generator, nowhere: np.ndarray) -> dict[str, np.ndarray]:
    """Drawn street addresses of the seat (number, type, name) and the management address
    line; empty for a record without address."""
    n = len(nowhere)
    numvoie = rng.integers(1, 121, size=n).astype(str).astype(object)
    typevoie = np.array(_STREET_TYPES, dtype=object)[rng.integers(0, len(_STREET_TYPES), size=n)]
    libvoie = np.array(_STREETS, dtype=object)[rng.integers(0, len(_STREETS), size=n)]
    numvoie[nowhere] = ""
    typevoie[nowhere] = ""
    libvoie[nowhere] = ""
    return {
        "adrs_numvoie": numvoie,
        "adrs_typevoie": typevoie,
        "adrs_libvoie": libvoie,
        "adrg_libvoie": np.where(
            nowhere,
            "",
            numvoie + " " + typevoie + " " + np.char.upper(libvoie.astype(str)).astype(object),
        ),
    }


def _rna_other_fields(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """SIRET (2 % of the associations), groupement (S simple, U union, F fédération) and the
    web-publication flag."""
    siret = np.where(
        rng.random(n) < 0.02, np.char.zfill(rng.integers(0, 10**14, size=n).astype(str), 14), ""
    ).astype(object)
    groupement = np.array(["S", "U", "F"], dtype=object)[
        _choice(rng, np.array([0.97, 0.02, 0.01]), n)
    ]
    publiweb = rng.integers(0, 2, size=n).astype(str).astype(object)
    return {"siret": siret, "groupement": groupement, "publiweb": publiweb}


_PLM_VALID = {
    *(f"751{n:02d}" for n in range(1, 21)),
    *(f"6938{n}" for n in range(1, 10)),
    *(f"132{n:02d}" for n in range(1, 17)),
}
