"""The commune table of the demo (places, postcodes, city spellings) and the latent engagement
and Poisson rates of each commune.

Part of :mod:`barometre.demo`."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from barometre.demo.model import (
    _CITY_VARIANTS,
    _PLM_ARRONDISSEMENT_PREFIX,
    _SIZE_NORMALISER,
    COMPONENTS,
    DEPARTMENT_POPULATION,
    DEPARTMENT_SHARED_SD,
    DEPARTMENT_SPECIFIC_SD,
    LATENT_SD,
    REGION_POPULATION,
    Component,
    _abbreviate_saint,
    _choice,
    _department_number,
    _upper_ascii,
)


class _Communes:
    """Arrays of the commune table used by the generator."""

    def __init__(self, communes: pd.DataFrame) -> None:
        required = (
            "code_commune",
            "nom",
            "population",
            "code_departement",
            "code_region",
            "codes_postaux",
        )
        missing = [c for c in required if c not in communes.columns]
        if missing:
            raise ValueError(f"the commune table lacks columns {missing}")
        table = communes.sort_values("code_commune").reset_index(drop=True)
        if table["code_commune"].duplicated().any():
            raise ValueError("duplicated code_commune in the commune table")
        self.table = table
        self.n = len(table)
        self.code = table["code_commune"].astype(str).to_numpy()
        self.nom = table["nom"].astype(str).to_numpy()
        self.population = table["population"].to_numpy(dtype=float)
        self.dep = table["code_departement"].astype(str).to_numpy()
        self.region = table["code_region"].astype(str).to_numpy()
        lists = table["codes_postaux"].fillna("").astype(str).str.split("|")
        self.n_postcodes = np.array(
            [0 if lst == [""] else len(lst) for lst in lists], dtype=np.int64
        )
        flat = [p for lst in lists if lst != [""] for p in lst]
        self.postcodes = np.array(flat or [""], dtype=object)
        self.postcode_offset = np.concatenate([[0], np.cumsum(self.n_postcodes)[:-1]])
        upper = np.array([_upper_ascii(n) for n in self.nom], dtype=object)
        self.upper = upper
        # Postal "department" of a commune (Corsica's postcodes all start with 20).
        postal_dep = np.where(np.isin(self.dep, ["2A", "2B"]), "20", self.dep)
        name_key = pd.Series(postal_dep.astype(object) + "|" + upper)
        self.unique_in_department = ~name_key.duplicated(keep=False).to_numpy()
        self.postal_dep = postal_dep.astype(object)
        known_names = set(name_key)
        typo = np.array([u[:-1] for u in upper], dtype=object)
        self.typo = typo
        self.typo_ok = np.array(
            [
                len(t) >= 3 and f"{d}|{t}" not in known_names
                for d, t in zip(self.postal_dep, typo, strict=True)
            ]
        )
        postcode_use = pd.Series(self.postcodes[self.postcodes != ""]).value_counts()
        self.single_postcode = set(postcode_use[postcode_use == 1].index)
        self.variants = np.stack(
            [
                self.nom.astype(object),
                upper,
                np.array([_abbreviate_saint(u) for u in upper], dtype=object),
                np.array([n.lower() for n in self.nom], dtype=object),
                upper + " CEDEX",
            ],
            axis=1,
        )
        self.has_coordinates = {"latitude", "longitude"} <= set(table.columns)
        if self.has_coordinates:
            self.latitude = pd.to_numeric(table["latitude"], errors="coerce").to_numpy(float)
            self.longitude = pd.to_numeric(table["longitude"], errors="coerce").to_numpy(float)

    def pick_postcodes(self, rng: np.random.Generator, idx: np.ndarray) -> np.ndarray:
        n = self.n_postcodes[idx]
        k = (rng.random(len(idx)) * np.maximum(n, 1)).astype(np.int64)
        position = np.minimum(self.postcode_offset[idx] + k, len(self.postcodes) - 1)
        return np.where(n > 0, self.postcodes[position], "").astype(object)

    def city_spellings(
        self, rng: np.random.Generator, idx: np.ndarray, postcodes: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(postcodes, city names) as a platform's users type them (:data:`_CITY_VARIANTS`)."""
        postcodes = postcodes.copy()
        variant = _choice(rng, _CITY_VARIANTS, len(idx))
        cities = self.variants[idx, np.minimum(variant, 4)]
        cedex = (variant == 4) & self.unique_in_department[idx]
        if cedex.any():
            dep = self.postal_dep[idx[cedex]]
            digits = rng.integers(0, 100, size=int(cedex.sum()))
            postcodes[cedex] = np.array(
                [
                    f"{d}9{n % 10}" if len(d) == 3 else f"{d}9{n:02d}"
                    for d, n in zip(dep, digits, strict=True)
                ],
                dtype=object,
            )
        typo = (
            (variant == 6)
            & self.typo_ok[idx]
            & np.array([p in self.single_postcode for p in postcodes])
        )
        cities[typo] = self.typo[idx[typo]]
        cities[(variant == 6) & ~typo] = self.upper[idx[(variant == 6) & ~typo]]
        arrondissement = variant == 5
        # La Poste spelling, with the arrondissement number for Paris/Lyon/Marseille.
        cities[arrondissement] = self.upper[idx[arrondissement]]
        for code, (postal_prefix, _) in _PLM_ARRONDISSEMENT_PREFIX.items():
            here = (
                arrondissement
                & (self.code[idx] == code)
                & np.array([p.startswith(postal_prefix) for p in postcodes])
            )
            if here.any():
                numbers = np.array([str(int(p[-2:])) for p in postcodes[here]], dtype=object)
                cities[here] = self.upper[idx[here]] + " " + numbers
        return postcodes, cities

    def platform_places(
        self, rng: np.random.Generator, idx: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(postcodes, city names, latitudes, longitudes) of records in communes ``idx`` as a
        platform's users type them: :meth:`pick_postcodes`, :meth:`city_spellings` then
        :meth:`coordinates`, drawn in that order."""
        postcodes = self.pick_postcodes(rng, idx)
        postcodes, cities = self.city_spellings(rng, idx, postcodes)
        latitude, longitude = self.coordinates(rng, idx)
        return postcodes, cities, latitude, longitude

    def coordinates(
        self, rng: np.random.Generator, idx: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Commune coordinates jittered by ~1 km, as text with 5 decimals ("" when unknown)."""
        if not self.has_coordinates:
            empty = np.full(len(idx), "", dtype=object)
            return empty, empty.copy()
        jitter = rng.normal(0.0, 0.01, size=(len(idx), 2))
        lat = self.latitude[idx] + jitter[:, 0]
        lon = self.longitude[idx] + jitter[:, 1]
        return (
            np.where(np.isfinite(lat), np.char.mod("%.5f", np.nan_to_num(lat)), "").astype(object),
            np.where(np.isfinite(lon), np.char.mod("%.5f", np.nan_to_num(lon)), "").astype(object),
        )


# --------------------------------------------------------------------------------------------
# Latent engagement and Poisson rates


def _normaliser(component: Component) -> float:
    """National population-weighted mean of the regional × departmental multipliers."""
    total = sum(pop * component.regions.get(reg, 1.0) for reg, pop in REGION_POPULATION.items())
    for dep, multiplier in component.departments.items():
        region, pop = DEPARTMENT_POPULATION[dep]
        total += pop * component.regions.get(region, 1.0) * (multiplier - 1.0)
    return total / sum(REGION_POPULATION.values())


def panel_latent(codes: Sequence[str], panel_seed: int) -> np.ndarray:
    """Standard normal latent engagement of each commune, a pure function of (seed, code).

    Two demo editions sharing ``panel_seed`` give every commune the same latent engagement, so
    that year-over-year changes reflect yearly noise, not a new draw of who is engaged; it also
    does not depend on which other communes are generated (subset builds). BLAKE2b of
    ``"seed:code"`` gives a uniform in (0, 1), mapped through the normal quantile function.
    """
    from scipy.stats import norm

    uniforms = np.array(
        [
            (
                int.from_bytes(
                    hashlib.blake2b(f"{panel_seed}:{code}".encode(), digest_size=8).digest(), "big"
                )
                + 0.5
            )
            / 2.0**64
            for code in codes
        ]
    )
    return norm.ppf(uniforms)


def _multipliers(
    communes: _Communes, rng: np.random.Generator, panel_seed: int | None = None
) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """Per commune, the mean-one multiplier of each component (size × region × department ×
    latent × noise), and the latent engagement table. With ``panel_seed``, the latent engagement
    comes from :func:`panel_latent` (shared across editions) instead of ``rng``."""
    base_key = int(rng.integers(0, 2**63 - 1))
    departments = sorted(set(communes.dep))
    # One stream per department, keyed by the department code: a department keeps its effects
    # whatever the subset of departments generated.
    dep_draws = {
        dep: np.random.default_rng([base_key, _department_number(dep)]).standard_normal(
            1 + len(COMPONENTS)
        )
        for dep in departments
    }
    dep_index = {dep: i for i, dep in enumerate(departments)}
    draws = np.array([dep_draws[d] for d in departments]).reshape(
        len(departments), 1 + len(COMPONENTS)
    )
    commune_dep = np.array([dep_index[d] for d in communes.dep], dtype=np.int64)
    shared = draws[commune_dep, 0]
    latent = rng.standard_normal(communes.n)
    if panel_seed is not None:
        latent = panel_latent(list(communes.code), panel_seed)
    noise = rng.standard_normal((communes.n, len(COMPONENTS)))
    population = np.maximum(communes.population, 1.0)
    out = {}
    for k, comp in enumerate(COMPONENTS):
        size = population**comp.size_elasticity / _SIZE_NORMALISER[comp.size_elasticity]
        region = np.array([comp.regions.get(r, 1.0) for r in communes.region]) / _normaliser(comp)
        department = np.array([comp.departments.get(d, 1.0) for d in communes.dep])
        dep_sd = np.hypot(comp.department_loading * DEPARTMENT_SHARED_SD, DEPARTMENT_SPECIFIC_SD)
        dep_effect = (
            comp.department_loading * DEPARTMENT_SHARED_SD * shared
            + DEPARTMENT_SPECIFIC_SD * draws[commune_dep, 1 + k]
        )
        latent_sd = comp.latent_loading * LATENT_SD
        log_effect = (
            dep_effect - dep_sd**2 / 2
            + latent_sd * latent - latent_sd**2 / 2
            + comp.noise_sd * noise[:, k] - comp.noise_sd**2 / 2
        )  # fmt: skip
        out[comp.name] = size * region * department * np.exp(log_effect)
    engagement = pd.DataFrame(
        {
            "code_commune": communes.code,
            "latent_engagement": latent,
            "department_effect": shared * DEPARTMENT_SHARED_SD,
        }
    )
    return out, engagement
