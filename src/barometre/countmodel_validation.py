"""Calibration of the count model on simulated communes with a known truth (methodology annex).

The simulation is not the model's own (:func:`simulate_communes`): communes with the French size
shape (:func:`barometre.robustness.synthetic.synthetic_populations`), topped up with communes
drawn log-uniformly in each town band so that every population class has enough units; a true
rate of volunteer matches per inhabitant that depends on log population, the class and the
département (sd 0.3), times a **log-normal** latent commune effect (sd 0.5, where the model
assumes a gamma); matches arrive in missions: a Poisson number of missions per commune, each with
a geometric number of matches whose mean (~13) varies between communes (log sd 0.3).

:func:`calibration` fits the count model (:mod:`barometre.countmodel`) as the editions do and
reports, overall and per population class, the coverage of its 90 % intervals and the mean
squared error of three estimators of the rate: the raw rate, the class-wide gamma prior fitted
by moments (:func:`barometre.smallarea.shrink_rates`, the method the count model replaces) and
the count model's posterior mean.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd

from barometre.countmodel import CountModelWarning, commune_design, fit_count_model
from barometre.geography import DEFAULT_CLASS_BOUNDS, DEFAULT_CLASS_LABELS, population_class
from barometre.robustness.synthetic import synthetic_populations
from barometre.smallarea.inputs import SmallAreaWarning
from barometre.smallarea.shrinkage import shrink_rates

#: The class bounds of the editions, and an upper bound for the simulated towns.
BAND_BOUNDS = (*DEFAULT_CLASS_BOUNDS, 2_000_000)
BAND_EFFECTS = np.array([0.0, 0.15, 0.25, 0.30, 0.35])
MATCHES_PER_1000 = 0.7
MATCHES_PER_MISSION = 13.0


def simulate_communes(
    rng: np.random.Generator,
    n_base: int = 20_000,
    n_per_band: int = 1_500,
    n_departments: int = 96,
    latent_sd: float = 0.5,
    size: float = MATCHES_PER_MISSION,
) -> pd.DataFrame:
    """Communes with clustered counts (module docstring); ``true_rate`` per inhabitant,
    ``matches`` (the count), ``missions`` (clusters) and ``matches_sumsq`` (Σ size²)."""
    population = synthetic_populations(n_base, rng).astype(float)
    extra = [
        np.exp(rng.uniform(np.log(lo), np.log(hi), n_per_band))
        for lo, hi in itertools.pairwise(BAND_BOUNDS)
    ]
    population = np.round(np.concatenate([population, *extra]))
    n = len(population)
    departments = np.array([f"{d:02d}" for d in rng.integers(1, n_departments + 1, n)])
    codes, dept_index = np.unique(departments, return_inverse=True)
    band = np.digitize(population, BAND_BOUNDS[:-1])
    dept_effect = rng.normal(0.0, 0.3, len(codes))
    latent = np.exp(rng.normal(-(latent_sd**2) / 2, latent_sd, n))
    log_pop = np.log(population / 1000.0)
    rate = (
        MATCHES_PER_1000
        / 1000.0
        * np.exp(-0.12 * log_pop + BAND_EFFECTS[band] + dept_effect[dept_index])
        * latent
    )
    mean_size = size * np.exp(rng.normal(-0.045, 0.3, n))
    missions = rng.poisson(population * rate / mean_size)
    owner = np.repeat(np.arange(n), missions)
    sizes = rng.geometric(1.0 / mean_size[owner]).astype(float)
    return pd.DataFrame(
        {
            "code_commune": [f"C{i:05d}" for i in range(n)],
            "population": population,
            "population_class": population_class(pd.Series(population)).astype(str),
            "code_departement": departments,
            "band": band,
            "true_rate": rate,
            "true_department_effect": dept_effect[dept_index],
            "matches": np.bincount(owner, weights=sizes, minlength=n),
            "missions": missions.astype(float),
            "matches_sumsq": np.bincount(owner, weights=sizes**2, minlength=n),
        }
    )


def calibration(rng: np.random.Generator, credible: float = 0.90) -> pd.DataFrame:
    """Coverage of the count model's ``credible`` intervals and MSE (rates per 1 000
    inhabitants) of the raw rate, the class-wide moment prior and the count model, per
    population class and overall (last row ``Ensemble``), on one simulation drawn from ``rng``."""
    communes = simulate_communes(rng)
    communes["population_class"] = pd.Categorical(
        communes["population_class"], categories=list(DEFAULT_CLASS_LABELS)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (CountModelWarning, SmallAreaWarning))
        fit = fit_count_model(
            communes["matches"],
            communes["population"],
            commune_design(communes),
            clusters=communes["missions"],
            cluster_sumsq=communes["matches_sumsq"],
            groups=communes["code_departement"],
            design_groups=communes["population_class"],
            credible=credible,
        )
        moments = shrink_rates(
            communes["matches"],
            communes["population"],
            groups=communes["population_class"].astype(str),
            method="moments",
            scale=1000.0,
        )
    summary = fit.summary(credible=credible)
    truth = communes["true_rate"].to_numpy() * 1000
    raw = (communes["matches"] / communes["population"]).to_numpy() * 1000
    model = summary["posterior_mean"].to_numpy()
    prior = moments["posterior_mean"].to_numpy()
    covered = ((summary["lower"] <= truth) & (truth <= summary["upper"])).to_numpy()
    classes = communes["population_class"].astype(str).to_numpy()
    rows = []
    for label in [*DEFAULT_CLASS_LABELS, "Ensemble"]:
        keep = np.ones(len(truth), dtype=bool) if label == "Ensemble" else classes == label
        rows.append(
            {
                "population_class": label,
                "communes": int(keep.sum()),
                "coverage": float(covered[keep].mean()),
                "mse_raw": float(np.mean((raw[keep] - truth[keep]) ** 2)),
                "mse_class_moments": float(np.mean((prior[keep] - truth[keep]) ** 2)),
                "mse_count_model": float(np.mean((model[keep] - truth[keep]) ** 2)),
            }
        )
    return pd.DataFrame(rows)
