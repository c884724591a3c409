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
    _format,
    _rna_prefix,
    _uniform_times,
)
from barometre.sources.rna import WALDEC_COLUMNS

# --------------------------------------------------------------------------------------------
# RNA


def _rna(
    communes: _Communes,
    mult: np.ndarray,
    data_year: int,
    scale: float,
    rng: np.random.Generator,
    magnitudes: DemoMagnitudes,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The waldec stock; returns (frame, intended commune index, placeable flag)."""
    per_capita = magnitudes.rna_creations / FRANCE_POPULATION
    mean = scale * per_capita * communes.population * mult
    factors = np.array(magnitudes.rna_year_factors, dtype=float)
    years = np.arange(data_year - len(factors) + 1, data_year + 1)
    old = magnitudes.rna_old_stock_share * factors.sum()
    counts = rng.poisson(np.outer(mean, np.append(factors, old)))
    commune = np.repeat(np.tile(np.arange(communes.n), counts.shape[1]), counts.T.ravel())
    period = np.repeat(np.repeat(np.arange(counts.shape[1]), communes.n), counts.T.ravel())
    n = len(commune)
    old_start = _days(1950)
    start = np.where(
        period < len(years),
        np.array([_days(int(y)) for y in years] + [old_start])[period],
        old_start,
    )
    end_years = np.append(years + 1, data_year - len(factors) + 1)
    end = np.array([_days(int(y)) for y in end_years])[period]
    created = _uniform_times(rng, start, end).astype("datetime64[D]")
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

    # Numbering: W + department prefix + 1 + six digits, in creation order within a department.
    order = np.lexsort((commune, created, communes.dep[commune]))
    commune, created, declared, published = (
        commune[order],
        created[order],
        declared[order],
        published[order],
    )
    dissolved_flag, dissolved, maj_time = dissolved_flag[order], dissolved[order], maj_time[order]
    deps = communes.dep[commune]
    new_dep = np.ones(n, dtype=bool)
    new_dep[1:] = deps[1:] != deps[:-1]
    group_start = np.maximum.accumulate(np.where(new_dep, np.arange(n), 0))
    sequence = np.arange(n) - group_start + 1
    if n and sequence.max() > 999_999:
        raise ValueError("more than 999 999 RNA records in one department: lower the scale")
    prefixes = np.array([_rna_prefix(d) for d in deps], dtype=object)
    ids = "W" + prefixes + "1" + np.char.zfill(sequence.astype(str), 6).astype(object)

    postcodes = communes.pick_postcodes(rng, commune)
    insee = communes.code[commune].astype(object)
    # Paris/Lyon/Marseille: most seats carry the arrondissement code, as in the real file.
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

    theme = _choice(rng, _THEME_SHARES, n)
    prefix = np.array([t[0] for t in _THEMES], dtype=object)[theme]
    vowel = np.array([s[:1] in "AEIOUYH" for s in libcommune])
    place = np.where(libcommune == "", communes.upper[commune], libcommune)
    titre = prefix + np.where(vowel, " D'", " DE ") + place
    titre_court = np.array([t if len(t) <= 38 else t[:35] + "..." for t in titre], dtype=object)
    numvoie = rng.integers(1, 121, size=n).astype(str).astype(object)
    typevoie = np.array(_STREET_TYPES, dtype=object)[rng.integers(0, len(_STREET_TYPES), size=n)]
    libvoie = np.array(_STREETS, dtype=object)[rng.integers(0, len(_STREETS), size=n)]
    numvoie[nowhere] = ""
    typevoie[nowhere] = ""
    libvoie[nowhere] = ""
    siret = np.where(
        rng.random(n) < 0.02, np.char.zfill(rng.integers(0, 10**14, size=n).astype(str), 14), ""
    ).astype(object)
    groupement = np.array(["S", "U", "F"], dtype=object)[
        _choice(rng, np.array([0.97, 0.02, 0.01]), n)
    ]
    publiweb = rng.integers(0, 2, size=n).astype(str).astype(object)
    no_date = "0001-01-01"
    empty = np.full(n, "", dtype=object)
    columns = {
        "id": ids,
        "id_ex": empty,
        "siret": siret,
        "rup_mi": empty,
        "gestion": prefixes + "1P",
        "date_creat": _format(created, "D"),
        "date_decla": _format(declared, "D"),
        "date_publi": np.where(published < extract, _format(published, "D"), no_date),
        "date_disso": np.where(dissolved_flag, _format(dissolved, "D"), no_date),
        "nature": np.full(n, "D", dtype=object),
        "groupement": groupement,
        "titre": titre,
        "titre_court": titre_court,
        "objet": np.array([t[2] for t in _THEMES], dtype=object)[theme],
        "objet_social1": np.array([t[3] for t in _THEMES], dtype=object)[theme],
        "objet_social2": np.full(n, "000000", dtype=object),
        "adrs_complement": empty,
        "adrs_numvoie": numvoie,
        "adrs_repetition": empty,
        "adrs_typevoie": typevoie,
        "adrs_libvoie": libvoie,
        "adrs_distrib": empty,
        "adrs_codeinsee": insee,
        "adrs_codepostal": postcodes,
        "adrs_libcommune": libcommune,
        "adrg_declarant": empty,
        "adrg_complemid": empty,
        "adrg_complemgeo": empty,
        "adrg_libvoie": np.where(
            nowhere,
            "",
            numvoie + " " + typevoie + " " + np.char.upper(libvoie.astype(str)).astype(object),
        ),
        "adrg_distrib": empty,
        "adrg_codepostal": postcodes,
        "adrg_achemine": libcommune,
        "adrg_pays": np.where(nowhere, "", "FRANCE"),
        "dir_civilite": np.full(n, "PM", dtype=object),
        "siteweb": empty,
        "publiweb": publiweb,
        "observation": empty,
        "position": np.where(dissolved_flag, "D", "A"),
        "maj_time": np.char.replace(_format(maj_time).astype(str), "T", " "),
    }
    frame = pd.DataFrame(columns)[list(WALDEC_COLUMNS)]
    return frame, commune, placeable


_PLM_VALID = {
    *(f"751{n:02d}" for n in range(1, 21)),
    *(f"6938{n}" for n in range(1, 10)),
    *(f"132{n:02d}" for n in range(1, 17)),
}
