"""Seeded synthetic engine inputs for tests and benchmarks of the robustness analysis.

The table has the columns the baromètre's spec reads (``code_commune``, ``nom``, ``population``,
``population_class``, ``code_departement``, ``code_region`` and the six indicators as counts, or
a ratio for participants per campaign). Counts are Poisson with a commune propensity shared by
the indicators (log-normal, so per-capita rates are right-skewed and many small communes count
zero), a department effect, and national magnitudes of the order of the real ones (about one
association created per 1 000 inhabitants and year). It is not the pipeline's demo generator
(``barometre.demo``, which writes raw source extracts): it only feeds the engine directly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from barometre.geography import DEFAULT_CLASS_BOUNDS, DEFAULT_CLASS_LABELS, population_class

#: Expected counts per 1 000 inhabitants and year (orders of magnitude of the national totals).
RATES_PER_1000 = {
    "rna_creations": 1.05,
    "ha_new_organizations": 0.12,
    "ha_campaigns": 0.55,
    "jva_matches": 0.7,
}
PARTICIPANTS_PER_CAMPAIGN = 28.0


def synthetic_populations(n_communes: int, rng: np.random.Generator) -> np.ndarray:
    """Populations with the French shape: median ~450, ~4 % above 5 000, a few big cities."""
    population = np.exp(rng.normal(np.log(450.0), 1.25, n_communes))
    # the log-normal has too thin a tail: draw the largest ~0.6 % from a Pareto tail instead
    n_tail = max(5, n_communes // 160)
    tail = 20_000 * (1 + rng.pareto(1.1, n_tail))
    population[np.argsort(population)[-n_tail:]] = np.sort(tail)
    return np.maximum(np.round(population), 1).astype(np.int64)


def synthetic_communes(
    n_communes: int,
    rng: np.random.Generator,
    population: np.ndarray | None = None,
    codes: np.ndarray | None = None,
    departments: np.ndarray | None = None,
) -> pd.DataFrame:
    """A seeded unit table of ``n_communes`` communes for the baromètre's spec.

    ``population``, ``codes`` and ``departments`` may come from the reference geography; they
    are drawn otherwise (codes ``"S0001"``…, 100 departments in 13 regions).
    """
    pop = (
        synthetic_populations(n_communes, rng)
        if population is None
        else np.asarray(population, dtype=np.int64)
    )
    if codes is None:
        codes = np.array([f"S{n:04d}" if n < 10_000 else f"{n:05d}" for n in range(n_communes)])
    if departments is None:
        departments = np.array([f"{d:02d}" for d in rng.integers(1, 96, n_communes)])
    dept_codes, dept_index = np.unique(departments, return_inverse=True)
    dept_effect = rng.normal(0.0, 0.25, dept_codes.size)[dept_index]
    propensity = rng.normal(0.0, 0.45, n_communes) + dept_effect
    thousands = pop / 1000.0
    table = pd.DataFrame(
        {
            "code_commune": codes.astype(str),
            "nom": [f"Commune {c}" for c in codes],
            "population": pop,
            "population_class": population_class(
                pd.Series(pop), DEFAULT_CLASS_BOUNDS, DEFAULT_CLASS_LABELS
            ).astype(str),
            "code_departement": departments.astype(str),
            "code_region": np.array([f"R{int(i) % 13:02d}" for i in dept_index]),
        }
    )
    for code, rate in RATES_PER_1000.items():
        noise = rng.normal(0.0, 0.35, n_communes)
        mean = thousands * rate * np.exp(propensity + noise - 0.5 * (0.45**2 + 0.35**2))
        table[code] = rng.poisson(mean).astype(float)
    campaigns = table["ha_campaigns"].to_numpy()
    size = rng.gamma(2.0, PARTICIPANTS_PER_CAMPAIGN / 2.0, n_communes) * np.exp(0.3 * propensity)
    participants = rng.poisson(campaigns * size).astype(float)
    table["ha_participants"] = participants
    with np.errstate(invalid="ignore", divide="ignore"):
        table["ha_participants_per_campaign"] = np.where(
            campaigns > 0, participants / campaigns, np.nan
        )
    order = [
        "code_commune",
        "nom",
        "population",
        "population_class",
        "code_departement",
        "code_region",
        "rna_creations",
        "ha_new_organizations",
        "ha_campaigns",
        "ha_participants",
        "ha_participants_per_campaign",
        "jva_matches",
    ]
    return table[order]
