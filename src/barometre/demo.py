"""Deterministic synthetic demo inputs: raw extracts of the RNA, HelloAsso and JeVeuxAider.

The real platform extracts are private, so the default build runs on files this module writes
in the sources' input layouts (``data/README.md``) for every commune of a commune table:

* ``rna/rna_waldec_<data_year+1>0101.csv`` — the current 39-column waldec layout
  (``;``, UTF-8, ``0001-01-01`` for "no date"), a stock of associations created over the five
  years up to the data year plus an older stock;
* ``helloasso/organizations.csv``, ``helloasso/forms.csv``, ``helloasso/participations.parquet``;
* ``jeveuxaider/missions.csv``, ``jeveuxaider/participations.csv``;
* ``README_DEMO.txt`` and ``demo_provenance.json`` ("Données de démonstration synthétiques",
  generator version, seed and initial state of the random generator, file checksums).

**Model.** Every count of commune *i* is Poisson with a mean

    rate × population_i × size_k(population_i) × region_k × department_k
        × exp(λ_k σ_u u_i) × exp(σ_k ε_ik)       (each log-normal factor of mean 1)

where ``u_i ~ N(0, 1)`` is a latent commune engagement shared by all indicators (loading
λ_k), ``ε_ik`` indicator-specific noise, ``department_k`` a shared plus specific
departmental effect, ``region_k`` stylised regional multipliers and ``size_k = (P/P_ref)^γ_k``
an urban gradient (γ larger for the platforms, whose activity concentrates in cities). So the
indicators are positively correlated and rankings reflect the latent engagement, not noise.
HelloAsso campaigns are drawn per organisation and participations per campaign, JeVeuxAider
matches per mission, so the platform counts nest like the real ones.

**Magnitudes** (national, at ``scale=1``; ``calibration/national_magnitudes.csv`` of the shared
data, see :class:`DemoMagnitudes`): 72 000 RNA creations in the data year (the R&S July–June
figures 71 128 and 73 120 around calendar 2023), with a national rate of ~10 per 10 000
inhabitants, higher in the south, overseas and Paris, lower in the north, and structurally near
zero in Moselle, Bas-Rhin and Haut-Rhin (local-law associations are not in the RNA);
~55 000 new associations on HelloAsso per year (stock growing to ~350 000, against 420 000
reported in 2025); ~200 000 JeVeuxAider mises en relation per year (660 a day in 2025).
HelloAsso campaigns (~180 000 a year) and participations are *not* calibrated (no public
figure) and participations are thinned to ~1.6 million rows nationally (~1 million dated in the
data year), a small fraction of the platform's real volume, so that the national demo builds
in seconds on two cores; ``participations_scale`` generates more per campaign (e.g. a
20-million-row benchmark).

**Places.** RNA seats carry the INSEE code (80 % of Paris/Lyon/Marseille seats the
arrondissement code, 0.4 % a blank code with postcode and city, 0.2 % no address at all).
HelloAsso organisations and JeVeuxAider missions carry a postcode of the commune and a city
name spelt in several ways (:data:`_CITY_VARIANTS`: accents, case, ``ST``, ``CEDEX``,
arrondissement numbers, misspellings); 0.7 % of organisations have no address and 0.3 % are
abroad, 8 % of missions are remote without a place. Those are not placeable by construction and
are left out of :attr:`DemoData.truth`; every other record is placeable by the matcher, so the
loaders must find the truth exactly. About one row in 10 000 of the RNA, the campaigns and the
mises en relation is appended to break its contract (:func:`plant_defects`): the loaders
quarantine exactly those.

**Determinism.** The same generator (``np.random.default_rng(seed)``), commune table and
arguments give byte-identical files. Each source draws from its own child stream
(``Generator.spawn``), so changing one source's volume leaves the others' files unchanged.
Department effects depend only on the generator and the department code, so a department keeps
its effect in a subset build; commune-level draws depend on the table.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from barometre.io import atomic_path, atomic_write_bytes
from barometre.sources.counts import COUNT_COLUMNS
from barometre.sources.rna import WALDEC_COLUMNS

GENERATOR_VERSION = "1.1.0"
DEMO_MARK = "Données de démonstration synthétiques"

# Reference figures of COG 2022 / INSEE population municipale 2020 (the project's
# data/reference/cog2022 table): they turn national magnitudes into per-inhabitant rates, so a
# subset of departments gets its share rather than the national total.
FRANCE_POPULATION = 67_418_672
REGION_POPULATION: dict[str, int] = {
    "01": 384_000, "02": 361_000, "03": 285_000, "04": 863_000, "06": 257_000,
    "11": 12_272_000, "24": 2_575_000, "27": 2_802_000, "28": 3_326_000, "32": 5_998_000,
    "44": 5_563_000, "52": 3_832_000, "53": 3_374_000, "75": 6_034_000, "76": 5_974_000,
    "84": 8_079_000, "93": 5_099_000, "94": 344_000,
}  # fmt: skip
DEPARTMENT_POPULATION: dict[str, tuple[str, int]] = {
    "57": ("44", 1_049_155),
    "67": ("44", 1_148_073),
    "68": ("44", 767_842),
    "75": ("11", 2_145_906),
}
"""Department → (region, population) for the departments with a fixed multiplier."""
ALSACE_MOSELLE = ("57", "67", "68")

# Population-weighted national mean of P**γ (COG 2022), so that size_k has mean 1 nationally.
_SIZE_NORMALISER = {0.0: 1.0, 0.05: 1.604918, 0.10: 2.606423, 0.20: 7.131125}
_DROM = ("01", "02", "03", "04", "06")
_RNA_REGIONS = {
    "11": 1.10, "24": 0.90, "27": 0.92, "28": 0.88, "32": 0.78, "44": 0.85, "52": 0.95,
    "53": 0.98, "75": 1.05, "76": 1.20, "84": 1.00, "93": 1.25, "94": 1.30,
    "01": 1.25, "02": 1.25, "03": 1.20, "04": 1.25, "06": 1.00,
}  # fmt: skip
_HA_REGIONS = {
    "11": 1.10, "24": 0.95, "27": 0.95, "28": 0.95, "32": 0.85, "44": 0.95, "52": 1.20,
    "53": 1.20, "75": 1.15, "76": 1.05, "84": 1.05, "93": 0.95, "94": 0.80, **dict.fromkeys(_DROM, 0.5),
}  # fmt: skip
_JVA_REGIONS = {
    "11": 1.35, "24": 0.90, "27": 0.90, "28": 0.90, "32": 0.95, "44": 0.90, "52": 0.95,
    "53": 0.95, "75": 0.95, "76": 1.00, "84": 1.05, "93": 1.05, "94": 0.80, **dict.fromkeys(_DROM, 0.7),
}  # fmt: skip


@dataclass(frozen=True)
class Component:
    """One Poisson rate of the model: its regional pattern and how it loads on the latent."""

    name: str
    size_elasticity: float
    latent_loading: float
    noise_sd: float
    regions: Mapping[str, float] = field(default_factory=dict)
    departments: Mapping[str, float] = field(default_factory=dict)
    department_loading: float = 1.0


COMPONENTS: tuple[Component, ...] = (
    # R&S 2023: all departments above 11.2 creations / 10 000 inhabitants are in the south,
    # overseas or Paris; below 8.5 all in the north; Alsace-Moselle structurally near zero.
    Component(
        "rna", 0.05, 0.6, 0.30, _RNA_REGIONS, {"75": 1.3, **dict.fromkeys(ALSACE_MOSELLE, 0.01)}
    ),
    Component("ha_organizations", 0.10, 1.0, 0.35, _HA_REGIONS),
    Component("ha_activity", 0.0, 0.5, 0.30, department_loading=0.5),
    Component("ha_audience", 0.0, 0.4, 0.30, department_loading=0.5),
    Component("jva_missions", 0.20, 0.9, 0.50, _JVA_REGIONS),
    Component("jva_audience", 0.0, 0.3, 0.30, department_loading=0.5),
)
LATENT_SD = 0.5
DEPARTMENT_SHARED_SD = 0.15
DEPARTMENT_SPECIFIC_SD = 0.10


@dataclass(frozen=True)
class DemoMagnitudes:
    """National magnitudes at ``scale=1`` (sources in the module docstring)."""

    rna_creations: float = 72_000
    rna_year_factors: tuple[float, ...] = (0.98, 0.90, 0.91, 0.95, 1.00)
    """Creations of years data_year-4 … data_year relative to the data year (R&S 2019–2023)."""
    rna_old_stock_share: float = 0.08
    """Older associations (created 1950 … data_year-5, modified since) per recent creation."""
    ha_organizations: float = 60_000
    """Organisations joining HelloAsso in the data year (≈ 55 000 of them associations)."""
    ha_growth: float = 0.12
    ha_years: int = 10
    ha_forms_per_organization_year: float = 0.55
    ha_participations_per_form: Mapping[str, float] = field(
        default_factory=lambda: {
            "Membership": 8.0,
            "Event": 6.0,
            "Donation": 3.5,
            "CrowdFunding": 7.0,
            "Shop": 3.5,
            "PaymentForm": 3.0,
        }
    )
    jva_matches: float = 200_000
    jva_matches_per_mission: float = 12.0
    jva_earlier_years_factor: float = 0.75


MAGNITUDES = DemoMagnitudes()

_THEMES = (
    # (RNA title prefix, HelloAsso / JeVeuxAider name, RNA objet, WALDEC objet social, category, share)
    ("COMITE DES FETES", "Comité des fêtes", "organiser des fêtes et animations locales, favoriser les rencontres entre habitants", "007040", "Loisirs", 0.12),
    ("CLUB SPORTIF", "Club sportif", "pratique et promotion des activités sportives pour tous", "011000", "Sports", 0.17),
    ("ASSOCIATION CULTURELLE", "Association culturelle", "promouvoir la culture, la lecture et les pratiques artistiques", "006000", "Culture", 0.16),
    ("COMPAGNIE DE THEATRE", "Compagnie de théâtre", "création et diffusion de spectacles vivants, ateliers de théâtre", "006070", "Culture", 0.06),
    ("ASSOCIATION DES PARENTS D'ELEVES", "Parents d'élèves", "représenter les parents d'élèves et soutenir les projets éducatifs", "015005", "Éducation", 0.06),
    ("COLLECTIF SOLIDAIRE", "Collectif solidaire", "entraide, soutien aux personnes isolées et lutte contre la précarité", "019010", "Solidarité", 0.12),
    ("ASSOCIATION ENVIRONNEMENT", "Association environnement", "protection de l'environnement et amélioration du cadre de vie", "024045", "Environnement", 0.09),
    ("ECOLE DE DANSE", "École de danse", "enseignement et pratique de la danse", "006040", "Culture", 0.06),
    ("AMICALE", "Amicale", "rassembler les membres autour d'activités de loisirs et de convivialité", "007000", "Loisirs", 0.16),
)  # fmt: skip
_THEME_SHARES = np.array([t[5] for t in _THEMES])
_STREETS = (
    "de la Mairie",
    "des Écoles",
    "du Stade",
    "de l'Église",
    "de la République",
    "des Tilleuls",
    "du Moulin",
    "de la Gare",
)
_STREET_TYPES = ("RUE", "AVENUE", "PLACE", "CHEMIN", "ALLEE", "BOULEVARD")
_ORG_TYPES = (
    ("Association1901", 0.860), ("Association1901Rig", 0.030), ("Association1901Rup", 0.005),
    ("Association1905", 0.020), ("FondDotation", 0.005), ("Collectivités", 0.020),
    ("Entreprise", 0.015), ("CSE", 0.010), ("Autres", 0.035),
)  # fmt: skip
_LOCAL_LAW = {
    "Association1901": "Association1908",
    "Association1901Rig": "Association1908Rig",
    "Association1901Rup": "Association1908Rup",
}
_FORM_TYPES = (
    ("Membership", 0.30),
    ("Event", 0.28),
    ("Donation", 0.15),
    ("CrowdFunding", 0.05),
    ("Shop", 0.08),
    ("PaymentForm", 0.14),
)
_FORM_TITLES = {
    "Membership": "Adhésion",
    "Event": "Billetterie",
    "Donation": "Faire un don",
    "CrowdFunding": "Collecte",
    "Shop": "Boutique",
    "PaymentForm": "Paiement",
}
_FORM_STATES = (
    ("Public", 0.70),
    ("Private", 0.15),
    ("Disabled", 0.08),
    ("Draft", 0.05),
    ("Deleted", 0.02),
)
_ITEM_TYPES = {
    "Membership": "Membership",
    "Event": "Registration",
    "Donation": "Donation",
    "CrowdFunding": "Donation",
    "Shop": "Product",
    "PaymentForm": "Payment",
}
_ITEM_AMOUNTS = {
    "Membership": 3000,
    "Event": 1500,
    "Donation": 5000,
    "CrowdFunding": 4000,
    "Shop": 2500,
    "PaymentForm": 4000,
}
_ITEM_STATES = (
    ("Processed", 0.930),
    ("Canceled", 0.025),
    ("Refused", 0.020),
    ("Waiting", 0.010),
    ("Abandoned", 0.015),
)
_MATCH_STATES = (
    ("En attente de validation", 0.12),
    ("En cours de traitement", 0.08),
    ("Validée", 0.50),
    ("Refusée", 0.12),
    ("Annulée", 0.18),
)
_MISSION_NAMES = (
    "Aide aux devoirs", "Distribution alimentaire", "Accueil du public", "Animation d'ateliers",
    "Collecte de dons", "Nettoyage de la nature", "Visite de personnes âgées", "Soutien à un événement sportif",
)  # fmt: skip
_CITY_VARIANTS = np.array([0.50, 0.22, 0.08, 0.07, 0.06, 0.05, 0.02])
"""Shares of city spellings: as in the COG, La Poste upper case, ST/STE, lower case,
``CEDEX`` with a CEDEX postcode (``<department>9NN``, absent from the commune's postcodes),
arrondissement number (Paris/Lyon/Marseille only), misspelt (last letter dropped) with a
postcode that serves only that commune. The last three are placed by the matcher's rules
rather than exactly; they are only used where the rule can succeed (name unique in its
department, misspelling not another commune's name), so that every such record stays
placeable and the truth stays exact."""
_PLM_ARRONDISSEMENT_PREFIX = {
    "75056": ("750", "751"),
    "69123": ("6900", "6938"),
    "13055": ("130", "132"),
}
JVA_LAUNCH = date(2020, 3, 16)

DEFAULT_TRUTH_STATES = {
    "helloasso_forms": ("Public", "Private", "Disabled"),
    "helloasso_participations": ("Processed", "Registered"),
}


@dataclass
class DemoData:
    """Synthetic extracts in memory (exactly the files' content) and the truth behind them.

    ``truth``: per commune, the counts a perfect loader must find with the default counting
    rules (:data:`barometre.sources.counts.DEFAULT_COUNTED_STATES`), records that cannot be
    placed by construction (no location, abroad) excluded. ``engagement``: per commune, the
    latent engagement ``u`` and the department's shared effect.
    """

    data_year: int
    rna: pd.DataFrame
    ha_organizations: pd.DataFrame
    ha_forms: pd.DataFrame
    ha_participations: pa.Table
    jva_missions: pd.DataFrame
    jva_participations: pd.DataFrame
    truth: pd.DataFrame
    engagement: pd.DataFrame
    unplaceable: dict[str, int]
    planted: dict[str, int] = field(default_factory=dict)
    """Rows appended to break their contract (see :func:`plant_defects`), per source table:
    the loaders quarantine exactly these."""


# --------------------------------------------------------------------------------------------
# Helpers


def _ts(day: date) -> np.datetime64:
    return np.datetime64(day.isoformat(), "s")


def _uniform_times(rng: np.random.Generator, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Uniform datetime64[s] in [start, end) (end > start)."""
    span = (end - start).astype("int64")
    return start + (rng.random(len(span)) * span).astype("int64").astype("timedelta64[s]")


def _choice(rng: np.random.Generator, shares: np.ndarray, size: int) -> np.ndarray:
    """Indices drawn with probabilities ``shares`` (inverse CDF: one uniform per draw)."""
    cdf = np.cumsum(shares) / np.sum(shares)
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(shares) - 1)


def _upper_ascii(name: str) -> str:
    text = (
        unicodedata.normalize("NFKD", name.upper().replace("Œ", "OE"))
        .encode("ascii", "ignore")
        .decode()
    )
    return " ".join("".join(ch if ch.isalnum() else " " for ch in text).split())


def _abbreviate_saint(name: str) -> str:
    return " ".join("ST" if w == "SAINT" else "STE" if w == "SAINTE" else w for w in name.split())


def _department_number(code: str) -> int:
    return int.from_bytes(code.encode("utf-8"), "big")


def _rna_prefix(dep: str) -> str:
    overseas = {"971": "9A", "972": "9B", "973": "9C", "974": "9D", "976": "9T"}
    return overseas.get(dep, dep[:2] if len(dep) <= 2 else "9" + dep[-1])


def _days(year: int, month: int = 1, day: int = 1) -> np.datetime64:
    return np.datetime64(date(year, month, day).isoformat(), "s")


def _format(times: np.ndarray, unit: str = "s") -> np.ndarray:
    return np.datetime_as_string(times, unit=unit)


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
    extract_end = _days(data_year + 1, 4, 1)
    launch = _ts(JVA_LAUNCH) if data_year >= 2021 else _days(data_year - 1)
    year_start, year_end = _days(data_year), _days(data_year + 1)
    # Three periods: before the data year (lower activity), the data year, the next quarter.
    bounds = np.array([launch, year_start, year_end, extract_end])
    lengths = np.maximum((bounds[1:] - bounds[:-1]).astype(np.int64), 0) / (365.25 * 86_400)
    weights = lengths * np.array([magnitudes.jva_earlier_years_factor, 1.0, 1.0])
    per_year = (
        scale * magnitudes.jva_matches / magnitudes.jva_matches_per_mission / FRANCE_POPULATION
    )
    mean = per_year * communes.population * mults["jva_missions"]
    counts = rng.poisson(np.outer(mean, weights))
    commune = np.repeat(np.tile(np.arange(communes.n), 3), counts.T.ravel())
    period = np.repeat(np.repeat(np.arange(3), communes.n), counts.T.ravel())
    created = _uniform_times(rng, bounds[:-1][period], bounds[1:][period])
    order = np.lexsort((commune, created))
    commune, created = commune[order], created[order]
    n = len(commune)
    mission_id = np.arange(1, n + 1, dtype=np.int64)
    remote = rng.random(n) < 0.08
    start = created + (rng.integers(0, 31, size=n) * 86_400).astype("timedelta64[s]")
    end = start + (rng.integers(7, 181, size=n) * 86_400).astype("timedelta64[s]")
    cancelled = rng.random(n) < 0.03
    state = np.where(
        cancelled, "Annulée", np.where(end < extract_end, "Terminée", "Validée")
    ).astype(object)
    postcodes = communes.pick_postcodes(rng, commune)
    postcodes, cities = communes.city_spellings(rng, commune, postcodes)
    latitude, longitude = communes.coordinates(rng, commune)
    for arr in (postcodes, cities, latitude, longitude):
        arr[remote] = ""
    placeable = ~remote & (communes.n_postcodes[commune] > 0)
    structure_id = 1_000 + commune.astype(np.int64) * 10 + rng.integers(0, 5, size=n)
    structure_theme = structure_id % len(_THEMES)
    missions = pd.DataFrame(
        {
            "id": mission_id,
            "structure_id": structure_id,
            "structure_name": np.array([t[1] for t in _THEMES], dtype=object)[structure_theme]
            + " de "
            + communes.nom[commune].astype(object),
            "name": np.array(_MISSION_NAMES, dtype=object)[
                rng.integers(0, len(_MISSION_NAMES), size=n)
            ],
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
    visible_end = np.minimum(end, extract_end)
    share = (visible_end - created).astype(np.int64) / np.maximum(
        (end - created).astype(np.int64), 1
    )
    audience = (
        rng.gamma(0.8, 1 / 0.8, size=n)
        * mults["jva_audience"][commune]
        * np.where(cancelled, 0.3, 1.0)
    )
    n_matches = rng.poisson(magnitudes.jva_matches_per_mission * audience * share)
    match_mission = np.repeat(np.arange(n), n_matches)
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
    return (
        missions,
        participations,
        {
            "mission_commune": commune,
            "mission_placeable": placeable,
            "match_mission": match_mission,
        },
    )


# --------------------------------------------------------------------------------------------
# Public API


def synthesize_demo(
    communes: pd.DataFrame,
    data_year: int,
    rng: np.random.Generator,
    scale: float = 1.0,
    participations_scale: float = 1.0,
    magnitudes: DemoMagnitudes = MAGNITUDES,
    panel_seed: int | None = None,
) -> DemoData:
    """Draw the synthetic extracts of every commune of ``communes`` (in memory), with the truth.

    ``scale`` multiplies every national magnitude; ``participations_scale`` multiplies, on top
    of it, the number of HelloAsso participations per campaign (≈ 1.6 million rows nationally
    at 1 and ``scale=1``; ~12 for a 20-million-row benchmark).
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    if participations_scale < 0:
        raise ValueError("participations_scale must be non-negative")
    table = _Communes(communes)
    mults, engagement = _multipliers(table, rng, panel_seed)
    # One child stream per source: changing one source's volume (e.g. participations_scale)
    # leaves the other sources' files unchanged.
    rna_rng, ha_rng, jva_rng = rng.spawn(3)
    rna, rna_commune, rna_placeable = _rna(
        table, mults["rna"], data_year, scale, rna_rng, magnitudes
    )
    orgs, forms, items, ha = _helloasso(
        table, mults, data_year, scale, participations_scale, ha_rng, rna, rna_commune, magnitudes
    )
    missions, matches, jva = _jeveuxaider(table, mults, data_year, scale, jva_rng, magnitudes)

    year = f"{data_year:04d}"
    truth = pd.DataFrame({"code_commune": table.code})

    def per_commune(commune_index: np.ndarray, keep: np.ndarray) -> np.ndarray:
        return np.bincount(commune_index[keep], minlength=table.n).astype(np.int64)

    truth["rna_creations"] = per_commune(
        rna_commune, rna_placeable & (rna["date_creat"].str[:4] == year).to_numpy()
    )
    association = orgs["type"].str.startswith("Association").to_numpy()
    org_ok = association & ha["org_placeable"]
    truth["ha_new_organizations"] = per_commune(
        ha["org_commune"], org_ok & (orgs["created_at"].str[:4] == year).to_numpy()
    )
    form_ok = (
        org_ok[ha["form_org"]]
        & (forms["created_at"].str[:4] == year).to_numpy()
        & forms["state"].isin(DEFAULT_TRUTH_STATES["helloasso_forms"]).to_numpy()
    )
    truth["ha_campaigns"] = per_commune(ha["org_commune"][ha["form_org"]], form_ok)
    item_org = ha["form_org"][ha["item_form"]]
    truth["ha_participants"] = per_commune(
        ha["org_commune"][item_org], org_ok[item_org] & ha["item_counted"]
    )
    match_ok = (
        jva["mission_placeable"][jva["match_mission"]]
        & (matches["created_at"].str[:4] <= year).to_numpy()
    )
    truth["jva_matches"] = per_commune(jva["mission_commune"][jva["match_mission"]], match_ok)
    donation_form = forms["form_type"].isin(["Donation", "CrowdFunding"]).to_numpy()
    truth["ha_donations"] = per_commune(
        ha["org_commune"][item_org],
        org_ok[item_org] & ha["item_counted"] & donation_form[ha["item_form"]],
    )
    truth = truth[["code_commune", *COUNT_COLUMNS]]
    unplaceable = {
        "rna": int((~rna_placeable).sum()),
        "helloasso_organizations": int((~ha["org_placeable"]).sum()),
        "jeveuxaider_missions": int((~jva["mission_placeable"]).sum()),
    }
    rna, forms, matches, planted = plant_defects(rna, forms, matches)
    return DemoData(
        data_year, rna, orgs, forms, items, missions, matches, truth, engagement, unplaceable,
        planted,
    )  # fmt: skip


def _planted_positions(n: int) -> np.ndarray:
    """About one row in 10 000 (one in a table of 100 rows or more, none below), evenly spread."""
    k = n // 10_000 if n >= 10_000 else int(n >= 100)
    return (
        np.unique(np.linspace(0, n - 1, k).round().astype(np.int64)) if k else np.zeros(0, np.int64)
    )


def plant_defects(
    rna: pd.DataFrame, forms: pd.DataFrame, matches: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Append rows that break their contract, as real extracts have, so that every build
    exercises the quarantine: repeated RNA rows (pieces of an extract pasted twice), campaigns
    whose creation date a spreadsheet rewrote as ``31/12/2023`` (new form ids), repeated mises
    en relation. They are *extra* rows, outside the truth: the loaders quarantine exactly them
    and still find the truth. Deterministic (no random draw): evenly spread positions.

    Returns the three tables and the number of planted rows per source table.
    """
    rna_extra = rna.iloc[_planted_positions(len(rna))]
    forms_extra = forms.iloc[_planted_positions(len(forms))].copy()
    if len(forms_extra):
        forms_extra["form_id"] = forms["form_id"].max() + 1 + np.arange(len(forms_extra))
        day = forms_extra["created_at"].str[:10]
        forms_extra["created_at"] = day.str[8:10] + "/" + day.str[5:7] + "/" + day.str[:4]
    matches_extra = matches.iloc[_planted_positions(len(matches))]
    planted = {
        "rna": len(rna_extra),
        "helloasso_forms": len(forms_extra),
        "jeveuxaider_participations": len(matches_extra),
    }
    return (
        pd.concat([rna, rna_extra], ignore_index=True),
        pd.concat([forms, forms_extra], ignore_index=True),
        pd.concat([matches, matches_extra], ignore_index=True),
        planted,
    )


def _write_csv(frame: pd.DataFrame, path: Path, sep: str) -> None:
    atomic_write_bytes(
        path, frame.to_csv(index=False, sep=sep, lineterminator="\n").encode("utf-8")
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def write_demo_inputs(
    data: DemoData,
    out_dir: Path,
    provenance: Mapping[str, object] | None = None,
) -> dict[str, Path]:
    """Write the extracts of ``data`` under ``out_dir`` (each file atomically) with
    ``README_DEMO.txt`` and ``demo_provenance.json``; returns {name: path}."""
    out_dir = Path(out_dir)
    files = {
        "rna": out_dir / "rna" / f"rna_waldec_{data.data_year + 1:04d}0101.csv",
        "helloasso_organizations": out_dir / "helloasso" / "organizations.csv",
        "helloasso_forms": out_dir / "helloasso" / "forms.csv",
        "helloasso_participations": out_dir / "helloasso" / "participations.parquet",
        "jeveuxaider_missions": out_dir / "jeveuxaider" / "missions.csv",
        "jeveuxaider_participations": out_dir / "jeveuxaider" / "participations.csv",
    }
    _write_csv(data.rna, files["rna"], ";")
    _write_csv(data.ha_organizations, files["helloasso_organizations"], ",")
    _write_csv(data.ha_forms, files["helloasso_forms"], ",")
    with atomic_path(files["helloasso_participations"]) as tmp:
        pq.write_table(data.ha_participations, tmp, row_group_size=1 << 20, compression="zstd")
    _write_csv(data.jva_missions, files["jeveuxaider_missions"], ",")
    _write_csv(data.jva_participations, files["jeveuxaider_participations"], ",")

    rows = {
        "rna": len(data.rna),
        "helloasso_organizations": len(data.ha_organizations),
        "helloasso_forms": len(data.ha_forms),
        "helloasso_participations": data.ha_participations.num_rows,
        "jeveuxaider_missions": len(data.jva_missions),
        "jeveuxaider_participations": len(data.jva_participations),
    }
    record = {
        "synthetic": True,
        "mark": DEMO_MARK,
        "generator": "barometre.demo",
        "generator_version": GENERATOR_VERSION,
        **dict(provenance or {}),
        "data_year": data.data_year,
        "planted_defects": data.planted,
        "magnitudes": {
            k: v if not isinstance(v, tuple) else list(v) for k, v in asdict(MAGNITUDES).items()
        },
        "files": {
            name: {
                "path": path.relative_to(out_dir).as_posix(),
                "rows": rows[name],
                "sha256": _sha256(path),
            }
            for name, path in files.items()
        },
    }
    provenance_path = out_dir / "demo_provenance.json"
    atomic_write_bytes(
        provenance_path,
        (json.dumps(record, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8"),
    )
    readme = out_dir / "README_DEMO.txt"
    lines = [
        f"{DEMO_MARK}.",
        "",
        "These files are SYNTHETIC: they imitate the layouts of the RNA (rna_waldec), HelloAsso",
        "and JeVeuxAider extracts but describe no real association, campaign, person or mission.",
        "Never publish figures computed from them as facts about a commune.",
        "A few rows break their contract on purpose (repeated rows, a date rewritten as",
        "DD/MM/YYYY): a build quarantines them (see demo_provenance.json, planted_defects).",
        "",
        (
            f"Generator: barometre.demo {GENERATOR_VERSION}; data year {data.data_year}; "
            f"seed {record.get('seed') if record.get('seed') is not None else 'not recorded'}; "
            f"scale {record.get('scale', 'n/a')}."
        ),
        "Details (magnitudes, initial state of the random generator, file checksums):",
        "demo_provenance.json. Input contracts: data/README.md of the project.",
        "",
    ]
    atomic_write_bytes(readme, "\n".join(lines).encode("utf-8"))
    return {**files, "provenance": provenance_path, "readme": readme}


def generate_demo_inputs(
    communes: pd.DataFrame,
    data_year: int,
    out_dir: Path,
    rng: np.random.Generator,
    scale: float = 1.0,
    *,
    seed: int | None = None,
    participations_scale: float = 1.0,
    panel_seed: int | None = None,
) -> dict[str, Path]:
    """Write the synthetic raw extracts of the three sources for every commune of ``communes``.

    Deterministic: the same generator state (e.g. ``np.random.default_rng(seed)``), commune
    table and arguments give byte-identical files. ``seed`` is only recorded in the provenance
    (the generator's initial state is recorded in any case). Returns {name: path} for the six
    extracts, ``provenance`` and ``readme``.
    """
    state = rng.bit_generator.state
    data = synthesize_demo(
        communes,
        data_year,
        rng,
        scale=scale,
        participations_scale=participations_scale,
        panel_seed=panel_seed,
    )
    provenance = {
        "seed": seed,
        "panel_seed": panel_seed,
        "bit_generator": state.get("bit_generator"),
        "initial_state": json.loads(json.dumps(state, default=str)),
        "scale": scale,
        "participations_scale": participations_scale,
        "communes": len(communes),
        "population": int(pd.to_numeric(communes["population"]).sum()),
    }
    return write_demo_inputs(data, out_dir, provenance)
