"""From harmonised per-commune counts to the engine's input table and the published indicators.

Counts stay counts until this step (DESIGN.md). Here they are joined to the commune reference
(population, department, region), given their population class, and turned into the engine's
unit table (one row per commune; the engine divides by the population and scales per 1 000).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from barometre.composite import IndexSpec, load_spec
from barometre.composite.audit import effective_weights
from barometre.config import EditionConfig
from barometre.countmodel import (
    CountModelFit,
    CountModelWarning,
    IndicatorSpec,
    fit_indicator_models,
)
from barometre.disclosure import DEFAULT_THRESHOLD, PERSON_COUNTS
from barometre.geography import population_class
from barometre.smallarea.eligibility import apply_eligibility
from barometre.smallarea.gaps import apply_structural_gaps


def count_columns(meta: Mapping[str, Any]) -> list[str]:
    """The count columns the indicators of ``meta`` need (counts, numerators, denominators)."""
    needed: list[str] = []
    for ind in meta["indicators"]:
        for key in ("count", "numerator", "denominator_count"):
            if key in ind and ind[key] not in needed:
                needed.append(ind[key])
    return needed


def ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator, missing (not infinite, not zero) where the denominator is 0."""
    den = denominator.astype(float)
    return numerator.astype(float) / den.where(den > 0)


def engine_input(
    counts: pd.DataFrame,
    communes: pd.DataFrame,
    meta: Mapping[str, Any],
    bounds: Sequence[int],
    labels: Sequence[str],
    min_population: int = 1,
) -> pd.DataFrame:
    """The unit table the index spec reads: one row per commune with population >= the minimum.

    Columns: ``code_commune``, ``nom``, ``population``, ``population_class``,
    ``code_departement``, ``code_region`` and one column per indicator of ``meta`` (a count, or a
    ratio of two counts for ratio indicators). A commune absent from ``counts`` has zero counts;
    a count that is missing in ``counts`` (e.g. a structural gap) stays missing.
    """
    base = communes[["code_commune", "nom", "population", "code_departement", "code_region"]]
    base = base[base["population"] >= min_population]
    table = base.merge(counts, on="code_commune", how="left", validate="one_to_one")
    present = table["code_commune"].isin(counts["code_commune"])
    for column in count_columns(meta):
        if column not in table.columns:
            raise KeyError(f"count column {column!r} missing from the commune counts")
        table.loc[~present, column] = 0
    out = table[["code_commune", "nom", "population", "code_departement", "code_region"]].copy()
    out.insert(
        3, "population_class", population_class(out["population"], bounds, labels).astype(str)
    )
    for ind in meta["indicators"]:
        if "count" in ind:
            out[ind["code"]] = table[ind["count"]].astype(float)
        else:
            out[ind["code"]] = ratio(table[ind["numerator"]], table[ind["denominator_count"]])
    return out.sort_values("code_commune").reset_index(drop=True)


def rates_per_1000(engine_table: pd.DataFrame, meta: Mapping[str, Any]) -> pd.DataFrame:
    """Published indicator values, in each indicator's unit (as the spec denominates): per 1 000
    inhabitants for an indicator whose ``exposure`` is the population; a ratio whose exposure is
    its own denominator (participants per campaign, ``exposure: ha_campaigns``) is already the
    rate and is not divided by the population (its spec ``denominator`` is null)."""
    out = engine_table[["code_commune"]].copy()
    for ind in meta["indicators"]:
        if ind.get("exposure", "population") == "population":
            out[ind["code"]] = engine_table[ind["code"]] / engine_table["population"] * 1000
        else:
            out[ind["code"]] = engine_table[ind["code"]].astype(float)
    return out


@dataclass
class IndicatorTables:
    """The engine inputs of an edition and the reports of the small-communes treatment.

    ``raw``: observed counts of the eligible communes; ``shrunk``: their posterior expected
    counts (count model); ``shrinkage``: per commune and indicator, raw rate, posterior mean,
    credible interval and data weight; ``eligibility``: the per-class report (reconciles);
    ``communes``: every commune of the geography (eligible or not) with its eligibility, the
    rule it fails, its information and score reliability; ``model_input``: the table the count
    models were fitted on (the robustness step refits them identically for posterior draws);
    ``model_params``: the fitted parameters per indicator (methodology annex).
    """

    raw: pd.DataFrame
    shrunk: pd.DataFrame
    shrinkage: pd.DataFrame
    eligibility: pd.DataFrame
    gaps: pd.DataFrame
    communes: pd.DataFrame | None = None
    model_input: pd.DataFrame | None = None
    model_params: pd.DataFrame | None = None

    def chosen(self, rates: str) -> pd.DataFrame:
        return self.shrunk if rates == "shrunk" else self.raw


def is_ratio(indicator: Mapping[str, Any]) -> bool:
    """Whether an indicator is a ratio of two counts (its engine value is the ratio itself)."""
    return "count" not in indicator


def count_model_specs(meta: Mapping[str, Any], columns: Sequence[str]) -> list[IndicatorSpec]:
    """One count model per indicator: a count indicator has the population as exposure; a ratio
    (participants per campaign) has its denominator count (campaigns). Person counts are
    clustered when the commune table carries ``<count>_clusters`` and
    ``<count>_cluster_sumsq`` (distinct missions, campaigns, organisations behind them);
    département effects are shrunk random effects."""
    specs = []
    for ind in meta["indicators"]:
        count = ind["numerator"] if is_ratio(ind) else ind["count"]
        exposure = ind["denominator_count"] if is_ratio(ind) else "population"
        clustered = f"{count}_clusters" in columns and f"{count}_cluster_sumsq" in columns
        specs.append(
            IndicatorSpec(
                name=ind["code"],
                count=count,
                exposure=exposure,
                clusters=f"{count}_clusters" if clustered else None,
                cluster_sumsq=f"{count}_cluster_sumsq" if clustered else None,
                groups="code_departement",
            )
        )
    return specs


def model_input_frame(table: pd.DataFrame, class_labels: Sequence[str]) -> pd.DataFrame:
    """The count models' input table with ``population_class`` as an ordered categorical (the
    first class is the reference level of the regression, whoever reads the table)."""
    out = table.copy()
    out["population_class"] = pd.Categorical(
        out["population_class"].astype(str), categories=list(class_labels)
    )
    out["code_departement"] = out["code_departement"].astype(str)
    return out


def fit_models(
    model_input: pd.DataFrame, meta: Mapping[str, Any], credible: float
) -> dict[str, CountModelFit]:
    """The count models of the indicators of ``meta`` on the model input table (deterministic:
    the robustness step refits them to draw from them)."""
    specs = count_model_specs(meta, list(model_input.columns))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CountModelWarning)
        return fit_indicator_models(model_input, specs, credible=credible, scale=1000.0)


def ranking_fits(
    fits: Mapping[str, CountModelFit],
    credit_departement: bool,
    meta: Mapping[str, Any] | None = None,
    threshold: int = DEFAULT_THRESHOLD,
) -> dict[str, CountModelFit]:
    """The fits whose posteriors are ranked and drawn: as fitted, or without crediting each
    commune with its département's effect (:meth:`CountModelFit.without_group_credit`).

    With the indicator metadata ``meta``, a model whose count is a person count
    (:data:`barometre.disclosure.PERSON_COUNTS`, or the numerator of a ratio) sees each count
    in ``1 … threshold − 1`` — published as « < threshold » — as censored to that range
    (:meth:`CountModelFit.with_censored_counts`): the ranked rates, normalised values,
    criteria, scores, ranks and draws of a commune then reveal nothing of a suppressed count
    that « < threshold » does not say (the disclosure rule of :mod:`barometre.disclosure`)."""
    ranked = (
        dict(fits)
        if credit_departement
        else {code: fit.without_group_credit() for code, fit in fits.items()}
    )
    if meta is None:
        return ranked
    for indicator in meta["indicators"]:
        code = indicator["code"]
        count = indicator["numerator"] if is_ratio(indicator) else indicator["count"]
        if code in ranked and count in PERSON_COUNTS:
            fit = ranked[code]
            counts = np.asarray(fit.counts, dtype=float)
            small = np.isfinite(counts) & (counts >= 1) & (counts < threshold)
            ranked[code] = fit.with_censored_counts(small, 1, threshold - 1)
    return ranked


def censored_information(table: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """The table the eligibility rules read: the distinct sources behind a suppressed person
    count (``<count>_clusters``, e.g. the missions behind 1 … 10 matches) count as one, which
    is all « < threshold » says; otherwise being ranked (« at least 5 sources ») would bound the
    suppressed count from below."""
    out = table.copy()
    for count in PERSON_COUNTS:
        clusters = f"{count}_clusters"
        if count in out.columns and clusters in out.columns:
            values = pd.to_numeric(out[count], errors="coerce")
            small = (values >= 1) & (values < threshold)
            out.loc[small, clusters] = np.minimum(
                pd.to_numeric(out.loc[small, clusters], errors="coerce"), 1
            )
    return out


def effective_indicator_weights(spec: IndexSpec, weight_set: str | None = None) -> dict[str, float]:
    """Nominal weight of each indicator in the root score (:func:`audit.effective_weights`)."""
    table = effective_weights(spec, spec.weight_map(weight_set)).set_index("element")[
        "effective_weight"
    ]
    return {code: float(table[code]) for code in spec.indicator_codes}


def score_reliability(data_weights: pd.DataFrame, weights: Mapping[str, float]) -> pd.Series:
    """Reliability of a commune's score: the weighted mean, over its known indicators, of each
    indicator's data weight (the share of the signal in its raw rate, w = αμE*/(1 + αμE*), i.e.
    the reliability of the raw rate as a measure of the true rate in the Poisson–gamma model).
    0 means the score is all prior; 1 that the data alone determine it."""
    w = pd.Series(weights, dtype=float).reindex(data_weights.columns).fillna(0.0)
    present = data_weights.notna()
    total = present.mul(w, axis=1).sum(axis=1)
    reliability = data_weights.fillna(0.0).mul(w, axis=1).sum(axis=1) / total.where(total > 0)
    return reliability.rename("score_reliability")


def _with_extra_counts(table: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the count columns it lacks (cluster counts …), zero where a commune has
    no count row."""
    extra = [c for c in counts.columns if c != "code_commune" and c not in table.columns]
    if not extra:
        return table
    table = table.merge(
        counts[["code_commune", *extra]], on="code_commune", how="left", validate="one_to_one"
    )
    table[extra] = table[extra].fillna(0)
    return table


def _mask_ratio_gaps(table: pd.DataFrame, meta: Mapping[str, Any]) -> None:
    """Set a ratio indicator missing (in place) where its numerator or denominator count fell
    in a structural gap: the ratio is unknown too."""
    for ind in meta["indicators"]:
        if is_ratio(ind):
            unknown = table[ind["numerator"]].isna() | table[ind["denominator_count"]].isna()
            table.loc[unknown, ind["code"]] = np.nan


def _shrunk_tables(
    raw: pd.DataFrame, posteriors: Mapping[str, pd.DataFrame], meta: Mapping[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The engine input with model-based values, and the long table of published rates.

    ``posteriors`` holds, per indicator code, the count model's summary (rates per 1 000 units
    of exposure) aligned with the rows of ``raw``. A count indicator gets its posterior expected
    count (rate × population), a ratio indicator its posterior rate itself; a missing raw value
    stays missing. The long table gives rates per 1 000 inhabitants (a ratio per unit of its
    own exposure when that is not the population).
    """
    shrunk = raw.copy()
    long = []
    for ind in meta["indicators"]:
        code = ind["code"]
        post = posteriors[code]
        if is_ratio(ind):
            shrunk[code] = post["posterior_mean"] / 1000.0  # the rate per campaign itself
            if ind.get("exposure", "population") == "population":
                rate_scale = raw["population"].rdiv(1.0)  # published per 1 000 inhabitants
            else:
                rate_scale = 1.0 / 1000.0  # published per unit of its own exposure (campaign)
        else:
            shrunk[code] = post["posterior_mean"] * raw["population"] / 1000.0
            rate_scale = 1.0
        shrunk.loc[raw[code].isna(), code] = np.nan
        long.append(
            pd.DataFrame(
                {
                    "code_commune": raw["code_commune"],
                    "indicator": code,
                    "raw_rate": post["raw_rate"] * rate_scale,
                    "posterior_mean": post["posterior_mean"] * rate_scale,
                    "lower": post["lower"] * rate_scale,
                    "upper": post["upper"] * rate_scale,
                    "shrinkage_weight": post["shrinkage_weight"],
                    "design_effect": post["design_effect"],
                    "prior_group": raw["population_class"],
                }
            )
        )
    return shrunk, pd.concat(long, ignore_index=True)


def _eligibility_status(
    table: pd.DataFrame, eligible: np.ndarray, removed_by: pd.Series
) -> pd.DataFrame:
    """Every commune with its class, score reliability, eligibility and the first rule that
    removed it (empty when eligible)."""
    status = table[
        [
            "code_commune",
            "nom",
            "population",
            "population_class",
            "code_departement",
            "score_reliability",
        ]
    ].copy()
    status["eligible"] = eligible
    status["ineligible_reason"] = removed_by.fillna("").to_numpy()
    return status


def indicator_tables(
    counts: pd.DataFrame,
    communes: pd.DataFrame,
    meta: Mapping[str, Any],
    config: EditionConfig,
) -> IndicatorTables:
    """Engine inputs with raw and with model-based (shrunk) rates, after structural gaps and
    information-based eligibility.

    1. Every commune of the geography is kept, zero-population ones included (they fail the
       population rule, reported; none disappears silently). Structural gaps (e.g. RNA creations
       in Alsace-Moselle) become missing, never zero.
    2. One count model per indicator (:mod:`barometre.countmodel`: clustered negative binomial
       regression on log population and population class, with shrunk département effects) is
       fitted on every commune with a positive exposure. Each commune gets the posterior mean of
       its rate, a credible interval and a data weight — under the national prior for its size
       unless the edition credits the département (``shrinkage.credit_departement``) —; the
       score reliability is the weighted mean of the data weights (:func:`score_reliability`).
    3. The eligibility rules of the edition (population, activity, coverage, information,
       reliability), fixed before ranking, are applied in their declared order; the report
       reconciles per class.
    4. The shrunk table carries the posterior expected count (posterior rate × population) for a
       count indicator, and the posterior rate itself for a ratio indicator, so that the engine's
       denominator gives back the posterior rate.
    """
    labels = config.classes.labels
    table = engine_input(counts, communes, meta, config.classes.bounds, labels, min_population=0)
    table = _with_extra_counts(table, counts)
    gap_result = apply_structural_gaps(table, config.structural_gaps)
    table = gap_result.table
    _mask_ratio_gaps(table, meta)
    model_input = model_input_frame(table, labels)
    fits = fit_models(model_input, meta, config.shrinkage.credible)
    ranked = ranking_fits(fits, config.shrinkage.credit_departement, meta)
    codes = [ind["code"] for ind in meta["indicators"]]
    summaries = {code: ranked[code].summary(scale=1000.0).reset_index(drop=True) for code in codes}
    # a structurally missing indicator (e.g. a gap) has no data weight
    data_weights = pd.DataFrame(
        {
            code: summaries[code]["data_weight"].where(table[code].notna().to_numpy())
            for code in codes
        }
    )
    spec = load_spec(config.path(config.index_spec))
    table["score_reliability"] = score_reliability(
        data_weights, effective_indicator_weights(spec, config.weights)
    ).to_numpy()
    eligibility = apply_eligibility(
        censored_information(table),
        config.eligibility,
        class_column="population_class",
        class_order=labels,
    )
    mask = eligibility.eligible.to_numpy()
    raw = table[mask].reset_index(drop=True)
    shrunk, shrinkage = _shrunk_tables(
        raw, {code: summaries[code][mask].reset_index(drop=True) for code in codes}, meta
    )
    report = eligibility.report.reset_index()
    report = report.rename(columns={report.columns[0]: "population_class"})
    status = _eligibility_status(table, mask, eligibility.removed_by)
    params = pd.concat(
        [fits[code].params_table().assign(indicator=code) for code in codes], ignore_index=True
    )
    params = params[["indicator", *[c for c in params.columns if c != "indicator"]]]
    return IndicatorTables(
        raw, shrunk, shrinkage, report, gap_result.report, status, model_input, params
    )
