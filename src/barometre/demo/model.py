"""Constants of the demo generator: national magnitudes, components of the rate model, catalogues
of names and states, the :class:`DemoData` bundle and small helpers.

Part of :mod:`barometre.demo`."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

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


def _spread(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(commune, period) index of every record of a communes × periods matrix of counts, period
    by period and, within a period, commune by commune."""
    n_communes, n_periods = counts.shape
    sizes = counts.T.ravel()
    commune = np.repeat(np.tile(np.arange(n_communes), n_periods), sizes)
    period = np.repeat(np.repeat(np.arange(n_periods), n_communes), sizes)
    return commune, period


def _draw_records(
    rng: np.random.Generator,
    mean: np.ndarray,
    weights: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    in_time_order: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """(commune index, time) of records drawn per commune and period: Poisson counts of mean
    ``mean ⊗ weights`` (per commune, per period), each record at a uniform time in its period
    [``starts``, ``ends``), listed as :func:`_spread` lists them or, ``in_time_order``, by time
    then commune."""
    counts = rng.poisson(np.outer(mean, weights))
    commune, period = _spread(counts)
    times = _uniform_times(rng, starts[period], ends[period])
    if not in_time_order:
        return commune, times
    order = np.lexsort((commune, times))
    return commune[order], times[order]


def _visible_share(
    start: np.ndarray, end: np.ndarray, extract_end: np.datetime64
) -> tuple[np.ndarray, np.ndarray]:
    """(visible end, share of [start, end) before the extract's end): the part of an activity
    window an extract can see (an empty window counts as one second)."""
    visible_end = np.minimum(end, extract_end)
    share = (visible_end - start).astype(np.int64) / np.maximum((end - start).astype(np.int64), 1)
    return visible_end, share
