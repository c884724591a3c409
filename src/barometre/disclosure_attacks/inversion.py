"""Attack 2: inverting the published count model, the normalisation and the criteria.

The ranked rates are posterior means of count models whose parameters are published; the
attacker refits the min–max maps and the criteria's weights on the communes whose counts are
published, then checks each candidate count against a row's ranked rate, normalised value and
criterion score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from barometre.disclosure import PERSON_COUNTS
from barometre.disclosure_attacks.feasible import (
    candidates_matching,
    mask_to_interval,
    numeric_column,
    parse_number,
    printed_tolerance,
)
from barometre.disclosure_attacks.products import RATIOS, ratio_links

#: Largest residual (points on the 0–100 scale) of a refitted normalisation or criterion map
#: that the attacker still uses (an exact map printed at 6 decimals is within 1e-5).
MAP_RESIDUAL = 1e-3


@dataclass(frozen=True)
class PublishedModel:
    """The published NB2 parameters of one indicator's count model, as the ranked rate uses them
    (no département credit: intercept + τ²/2 and α' = (1 + α)·exp(τ²) − 1, as the annex says)."""

    intercept: float
    log_population: float
    classes: dict[str, float]
    alpha: float
    design_effect: float

    @classmethod
    def from_table(
        cls, table: pd.DataFrame, indicator: str, credit_departement: bool = False
    ) -> PublishedModel | None:
        rows = table[table["indicator"] == indicator]
        if rows.empty:
            return None
        terms = {r.term: parse_number(r.estimate) for r in rows.itertuples()}
        tau = terms.get("département sd (τ)") or 0.0
        alpha = terms.get("dispersion α")
        if alpha is None or terms.get("(intercept)") is None:
            return None
        intercept = float(terms["(intercept)"])
        if not credit_departement:
            intercept += tau**2 / 2.0
            alpha = (1.0 + alpha) * math.exp(tau**2) - 1.0
        classes = {
            k.split("=", 1)[1]: float(v)
            for k, v in terms.items()
            if k.startswith("population_class=") and v is not None
        }
        return cls(
            intercept,
            float(terms.get("log_population") or 0.0),
            classes,
            float(alpha),
            float(terms.get("pooled design effect") or 1.0),
        )

    def posterior_mean(
        self, counts: np.ndarray, exposure: float, population: float, population_class: str
    ) -> np.ndarray:
        """Posterior mean rate per unit of exposure for each candidate count (conjugate gamma)."""
        mu = math.exp(
            self.intercept
            + self.log_population * math.log(population / 1000.0)
            + self.classes.get(population_class, 0.0)
        )
        d = self.design_effect
        return (1.0 / self.alpha + counts / d) / (1.0 / (self.alpha * mu) + exposure / d)


def ranked_predictions(
    model: PublishedModel,
    candidates: np.ndarray,
    row: Mapping[str, str],
    indicator: str,
    count: str,
) -> list[np.ndarray]:
    """The published ranked value of ``indicator`` for each candidate of ``count`` (both readings
    of a ratio's unit: per unit of its denominator, and per 1 000 inhabitants)."""
    population = parse_number(row.get("population"))
    population_class = str(row.get("population_class", ""))
    if not population:
        return []
    if indicator == count:
        return [model.posterior_mean(candidates, population, population, population_class) * 1000.0]
    denominator = RATIOS[indicator][1]
    den = parse_number(row.get(denominator))
    if not den:
        return []
    per_unit = model.posterior_mean(candidates, den, population, population_class)
    return [per_unit, per_unit / population * 1000.0]


def fit_linear_map(x: pd.Series, y: pd.Series) -> tuple[float, float, float, float | None] | None:
    """The attacker's map from ranked value to normalised value: least squares ``y = a + b·x``,
    or ``y = a + b·log(x + c)`` (COINr's ``log_CT`` treatment of a skewed indicator, the shift
    ``c`` fitted too), on the rows where both are published and ``y`` is strictly inside its
    range (winsorised values sit at the top). Returns ``(a, b, largest residual, c)`` of the
    better form (``c`` None: linear)."""
    from scipy import optimize

    both = pd.concat([x, y], axis=1).dropna()
    both = both[
        (both.iloc[:, 1] > both.iloc[:, 1].min()) & (both.iloc[:, 1] < both.iloc[:, 1].max())
    ]
    if len(both) < 4 or both.iloc[:, 0].nunique() < 3:
        return None
    t, target = both.iloc[:, 0].to_numpy(float), both.iloc[:, 1].to_numpy(float)

    def fit(values: np.ndarray) -> tuple[float, float, float]:
        b, a = np.polyfit(values, target, 1)
        return float(a), float(b), float(np.max(np.abs(a + b * values - target)))

    a, b, residual = fit(t)
    best: tuple[float, float, float, float | None] = (a, b, residual, None)
    span = float(t.max() - t.min())
    if span > 0:

        def loss(log_shift: float) -> float:
            values = np.log(t - t.min() + math.exp(log_shift))
            b_, a_ = np.polyfit(values, target, 1)
            return float(np.sum((a_ + b_ * values - target) ** 2))

        result = optimize.minimize_scalar(
            loss,
            bounds=(math.log(span * 1e-9), math.log(span * 10)),
            method="bounded",
            options={"xatol": 1e-12},
        )
        shift = math.exp(result.x) - t.min()
        a, b, residual = fit(np.log(t + shift))
        if residual < best[2]:
            best = (a, b, residual, shift)
    return best


def apply_map(fitted: tuple[float, float, float, float | None], values: np.ndarray) -> np.ndarray:
    """The fitted normalisation map (:func:`fit_linear_map`) applied to ranked values."""
    a, b, _, shift = fitted
    if shift is None:
        return a + b * values
    with np.errstate(invalid="ignore", divide="ignore"):
        return a + b * np.log(values + shift)


def fit_linear_combination(
    columns: pd.DataFrame, target: pd.Series
) -> tuple[np.ndarray, float] | None:
    """Least-squares ``target = Σ a_j column_j`` (no intercept) on fully published rows, with
    its largest absolute residual."""
    both = pd.concat([columns, target.rename("__target")], axis=1).dropna()
    if len(both) <= columns.shape[1] + 2:
        return None
    matrix = both[columns.columns].to_numpy(float)
    coefficients, *_ = np.linalg.lstsq(matrix, both["__target"].to_numpy(float), rcond=None)
    residual = float(np.max(np.abs(matrix @ coefficients - both["__target"].to_numpy(float))))
    return coefficients, residual


@dataclass
class ModelInverter:
    """The attacker's reconstruction of the engine from one published table: count models,
    min–max maps (ranked → normalised) and criteria (normalised → criterion)."""

    table: pd.DataFrame
    models: dict[str, PublishedModel]
    indicators_of: dict[str, list[str]]  # person count → its indicators (count, ratio)
    normalise: dict[str, tuple[float, float, float, float | None]]
    criteria: dict[str, tuple[list[str], np.ndarray, float]]

    @classmethod
    def build(
        cls,
        table: pd.DataFrame,
        count_model: pd.DataFrame,
        criteria_of: Mapping[str, Sequence[str]],
    ) -> ModelInverter:
        indicators_of: dict[str, list[str]] = {}
        models: dict[str, PublishedModel] = {}
        for count in PERSON_COUNTS:
            codes = [count] + [code for code, _ in ratio_links(RATIOS, count)]
            for code in codes:
                model = (
                    PublishedModel.from_table(count_model, code) if not count_model.empty else None
                )
                if model is not None:
                    models[code] = model
                    indicators_of.setdefault(count, []).append(code)
        normalise = {}
        for code in models:
            fitted = fit_linear_map(
                numeric_column(table, f"{code}_ranked_per_1000"),
                numeric_column(table, f"{code}_normalised"),
            )
            if fitted is not None:
                normalise[code] = fitted
        criteria = {}
        for criterion, members in criteria_of.items():
            columns = [f"{m}_normalised" for m in members]
            if criterion not in table.columns or not all(c in table.columns for c in columns):
                continue
            frame = pd.DataFrame({c: numeric_column(table, c) for c in columns})
            fitted_combination = fit_linear_combination(frame, numeric_column(table, criterion))
            if fitted_combination is not None:
                criteria[criterion] = (list(members), *fitted_combination)
        return cls(table, models, indicators_of, normalise, criteria)

    def attack_row(
        self, row: Mapping[str, str], count: str, candidates: np.ndarray
    ) -> dict[str, tuple[float, float]]:
        """Per published column used (ranked rate, normalised value, criterion): the interval
        of the candidate counts it leaves (NaN bounds: the column refutes every candidate)."""
        found: dict[str, tuple[float, float]] = {}
        normalised_predictions: dict[str, list[np.ndarray]] = {}
        for code in self.indicators_of.get(count, []):
            predictions = ranked_predictions(self.models[code], candidates, row, code, count)
            if not predictions:
                continue
            column = f"{code}_ranked_per_1000"
            value = parse_number(row.get(column))
            if value is not None:
                tolerance = printed_tolerance(str(row[column]))
                hits = np.zeros(len(candidates), dtype=bool)
                for p in predictions:
                    hits |= candidates_matching(p, value, max(tolerance, 1e-7 * abs(value)))
                found[column] = mask_to_interval(candidates, hits) or (math.nan, math.nan)
            if code in self.normalise:
                residual = self.normalise[code][2]
                if residual < MAP_RESIDUAL:
                    normalised_predictions[code] = [
                        apply_map(self.normalise[code], p) for p in predictions
                    ]
                    column = f"{code}_normalised"
                    value = parse_number(row.get(column))
                    if value is not None:
                        tolerance = max(printed_tolerance(str(row[column])), residual * 2 + 1e-9)
                        hits = np.zeros(len(candidates), dtype=bool)
                        for p in normalised_predictions[code]:
                            hits |= candidates_matching(p, value, tolerance)
                        found[column] = mask_to_interval(candidates, hits) or (math.nan, math.nan)
        for criterion, (members, coefficients, residual) in self.criteria.items():
            if residual > MAP_RESIDUAL or not any(m in normalised_predictions for m in members):
                continue
            value = parse_number(row.get(criterion))
            if value is None:
                continue
            # the criterion's other indicators must be published for this row
            total: list[np.ndarray] = [np.zeros(len(candidates))]
            complete = True
            for member, coefficient in zip(members, coefficients):
                if member in normalised_predictions:
                    total = [
                        t + coefficient * p for t in total for p in normalised_predictions[member]
                    ]
                else:
                    known = parse_number(row.get(f"{member}_normalised"))
                    if known is None:
                        complete = False
                        break
                    total = [t + coefficient * known for t in total]
            if not complete:
                continue
            tolerance = max(printed_tolerance(str(row[criterion])), residual * 2 + 1e-9)
            hits = np.zeros(len(candidates), dtype=bool)
            for t in total:
                hits |= candidates_matching(t, value, tolerance)
            found[criterion] = mask_to_interval(candidates, hits) or (math.nan, math.nan)
        return found
