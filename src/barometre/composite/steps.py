"""The pure steps of a composite index build.

Every function takes a unit x indicator frame (units as the index, one column per indicator,
NaN for missing) and returns a new frame; none mutates its input. Conventions follow the JRC/OECD
Handbook on Constructing Composite Indicators (2008) and the COINr package (Becker et al., 2022):

- skewness and kurtosis are the "type 2" sample statistics (SAS/SPSS, R e1071 ``type = 2``);
- ranks are descending, ties share the lowest (best) rank (R ``rank(-x, ties.method = "min")``);
- aggregation drops missing children and re-normalises the remaining weights.

The outlier treatment lives in :mod:`barometre.composite.treatment`, re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from barometre.composite.errors import StepError
from barometre.composite.treatment import (
    TreatmentRecord,
    kurtosis,
    log_transform,
    passes_skew_kurt,
    skewness,
    treat,
    treat_indicator,
    winsorise_coinr,
)

__all__ = [
    "TIE_DECIMALS",
    "StepError",
    "TreatmentRecord",
    "aggregate",
    "data_share",
    "denominate",
    "impute",
    "kurtosis",
    "log_transform",
    "normalise",
    "normalise_column",
    "passes_skew_kurt",
    "rank_desc",
    "rank_within",
    "screen",
    "skewness",
    "tie_rounded",
    "treat",
    "treat_indicator",
    "weighted_mean",
    "winsorise_coinr",
]


# --- denominate ------------------------------------------------------------------------------
def denominate(
    data: pd.DataFrame,
    denominators: Mapping[str, str | None],
    denominator_data: pd.DataFrame,
    scale: float = 1.0,
) -> pd.DataFrame:
    """Divide each indicator by its denominator column, times ``scale``.

    Indicators whose denominator is ``None`` are returned unchanged. A zero or missing
    denominator gives a missing value (never an infinite one).
    """
    out = data.copy()
    for code, denominator in denominators.items():
        if denominator is None:
            continue
        if denominator not in denominator_data.columns:
            raise StepError(
                f"indicator {code!r}: denominator column {denominator!r} not in the data"
            )
        den = denominator_data[denominator].astype(float)
        den = den.where(den != 0)
        out[code] = data[code].astype(float) / den * scale
    return out


# --- impute ----------------------------------------------------------------------------------
def impute(data: pd.DataFrame, method: str, groups: pd.Series | None = None) -> pd.DataFrame:
    """Fill missing values column by column.

    ``mean``/``median`` use the non-missing values of the indicator over all units;
    ``group_mean``/``group_median`` use those of the units sharing the value of ``groups``. A
    value stays missing when its group has no observed value for that indicator.
    """
    if method == "none":
        return data.copy()
    func = "mean" if method.endswith("mean") else "median"
    if method.startswith("group_"):
        if groups is None:
            raise StepError(f"impute method {method!r} needs a group column")
        fill = data.groupby(groups.reindex(data.index), dropna=False).transform(func)
        return data.fillna(fill)
    return data.fillna(getattr(data, func)())


# --- screen ----------------------------------------------------------------------------------
def data_share(data: pd.DataFrame) -> pd.Series:
    """Share of non-missing indicators per unit."""
    return data.notna().mean(axis=1)


def screen(
    data: pd.DataFrame,
    availability: pd.DataFrame,
    min_data_share: float,
    force_include: Sequence[str] = (),
    force_exclude: Sequence[str] = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep units whose share of non-missing indicators in ``availability`` is >= the threshold.

    Forced inclusions override the threshold; forced exclusions override everything. Returns the
    kept rows of ``data`` and a per-unit report (data share, kept, reason).
    """
    share = data_share(availability).reindex(data.index)
    keep = share >= min_data_share
    reason = pd.Series(np.where(keep, "", "data share below threshold"), index=data.index)
    forced_in = data.index.isin(list(force_include))
    keep = keep | forced_in
    reason[forced_in] = "forced in"
    forced_out = data.index.isin(list(force_exclude))
    keep = keep & ~forced_out
    reason[forced_out] = "forced out"
    report = pd.DataFrame({"data_share": share, "kept": keep, "reason": reason})
    return data.loc[keep.to_numpy()].copy(), report


# --- normalise -------------------------------------------------------------------------------
def normalise_column(
    x: pd.Series,
    method: str,
    direction: int = 1,
    low: float = 0.0,
    high: float = 100.0,
    mean: float = 0.0,
    sd: float = 1.0,
    scale: float = 100.0,
    reference_value: float | None = None,
    goalposts: tuple[float, float] | None = None,
) -> pd.Series:
    """Normalise one indicator so that higher always means better.

    The values are first multiplied by ``direction`` (COINr's convention), except for the ratio
    methods and goalposts, which handle direction themselves. Methods:

    - ``minmax``: (x − min)/(max − min)·(high − low) + low; a constant indicator maps to the
      midpoint (low + high)/2 (it carries no information, and a missing value would be wrong);
    - ``zscore``: (x − mean)/sd·``sd`` + ``mean`` with the sample standard deviation (n − 1);
    - ``percentile_rank``: mid-rank percentile, (rank_average − 0.5)/n · ``scale``;
    - ``rank``: ascending rank of x·direction, ties averaged (1 = worst);
    - ``distance_to_max``: x/max(x)·``scale`` (direction −1: min(x)/x·``scale``);
    - ``distance_to_reference``: x/x_ref·``scale`` (direction −1: x_ref/x·``scale``);
    - ``goalposts``: (x − lo)/(hi − lo)·``scale`` clipped to [0, ``scale``]
      (direction −1: (hi − x)/(hi − lo)), the UNDP HDI convention;
    - ``none``: x·direction.
    """
    v = x.astype(float)
    if method in {"distance_to_max", "distance_to_reference"}:
        ref = v.max() if method == "distance_to_max" and direction == 1 else None
        if method == "distance_to_max" and direction == -1:
            ref = v.min()
        if method == "distance_to_reference":
            ref = reference_value
        if ref is None or np.isnan(ref) or ref == 0:
            raise StepError(f"indicator {x.name!r}: reference value {ref} cannot divide")
        with np.errstate(divide="ignore"):
            out = v / ref if direction == 1 else ref / v.where(v != 0)
        return out * scale
    if method == "goalposts":
        if goalposts is None:
            raise StepError(f"indicator {x.name!r}: goalpost normalisation needs goalposts")
        lo, hi = goalposts
        frac = (v - lo) / (hi - lo) if direction == 1 else (hi - v) / (hi - lo)
        return frac.clip(0, 1) * scale
    v = v * direction
    if method == "none":
        return v
    if method == "minmax":
        vmin, vmax = v.min(), v.max()
        if vmax == vmin:
            return v.where(v.isna(), (low + high) / 2)
        return (v - vmin) / (vmax - vmin) * (high - low) + low
    if method == "zscore":
        spread = v.std(ddof=1)
        if not spread > 0:
            return v.where(v.isna(), mean)
        return (v - v.mean()) / spread * sd + mean
    if method == "percentile_rank":
        n = v.notna().sum()
        return (v.rank(method="average") - 0.5) / n * scale
    if method == "rank":
        return v.rank(method="average")
    raise StepError(f"unknown normalisation method {method!r}")


def normalise(
    data: pd.DataFrame,
    method: str,
    directions: Mapping[str, int],
    goalposts: Mapping[str, tuple[float, float] | None] | None = None,
    reference_unit: str | None = None,
    **params: float,
) -> pd.DataFrame:
    """Normalise every indicator with :func:`normalise_column`."""
    goalposts = goalposts or {}
    out = {}
    for code in data.columns:
        ref = None
        if method == "distance_to_reference":
            if reference_unit not in data.index:
                raise StepError(f"reference unit {reference_unit!r} is not among the units")
            ref = float(data.at[reference_unit, code])
        out[code] = normalise_column(
            data[code],
            method,
            direction=directions[code],
            reference_value=ref,
            goalposts=goalposts.get(code),
            **params,
        )
    return pd.DataFrame(out, index=data.index)


# --- aggregate -------------------------------------------------------------------------------
def weighted_mean(
    values: np.ndarray,
    weights: np.ndarray,
    method: str = "arithmetic",
    p: float | None = None,
    min_share: float = 0.0,
) -> np.ndarray:
    """Row-wise weighted mean of ``values`` (units x children) with missing children dropped.

    The weights of the non-missing children are re-normalised to sum to one. A row whose share of
    non-missing children is below ``min_share`` (or that has none) gives NaN. Methods: arithmetic
    Σwx; geometric Π x^w (requires x >= 0; a zero gives 0); harmonic 1/Σ(w/x) (requires x > 0);
    generalised (Σ w x^p)^(1/p).
    """
    x = np.asarray(values, dtype=float)
    w = np.broadcast_to(np.asarray(weights, dtype=float), x.shape)
    present = ~np.isnan(x)
    w_eff = np.where(present, w, 0.0)
    total = w_eff.sum(axis=1)
    share = present.mean(axis=1) if x.shape[1] else np.zeros(x.shape[0])
    ok = (total > 0) & (share >= min_share) & present.any(axis=1)
    safe_total = np.where(total > 0, total, 1.0)
    # Children that are missing or weigh nothing take no part: they are replaced by a neutral
    # value (1.0) whose term is then multiplied by a zero weight, so no 0·inf or 0·log 0 arises.
    active = present & (w_eff > 0)
    xs = np.where(active, x, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "arithmetic":
            # Σwx/Σw rather than Σ(w/Σw)x: a unit equal to v on every child scores exactly v.
            out = np.sum(w_eff * np.where(active, x, 0.0), axis=1) / safe_total
        elif method == "geometric":
            if np.any(x[present] < 0):
                raise StepError("geometric aggregation needs non-negative values")
            out = np.exp(np.sum(np.where(active, w_eff * np.log(xs), 0.0), axis=1) / safe_total)
        elif method == "harmonic":
            if np.any(x[present] <= 0):
                raise StepError("harmonic aggregation needs positive values")
            out = safe_total / np.sum(np.where(active, w_eff / xs, 0.0), axis=1)
        elif method == "generalised":
            if p is None or p == 0:
                raise StepError("generalised mean needs a non-zero exponent p")
            if np.any(x[present] < 0):
                raise StepError("generalised mean needs non-negative values")
            powered = np.where(active, w_eff * xs**p, 0.0)
            out = (np.sum(powered, axis=1) / safe_total) ** (1.0 / p)
        else:
            raise StepError(f"unknown aggregation method {method!r}")
    return np.where(ok, out, np.nan)


def aggregate(
    normalised: pd.DataFrame,
    order: Sequence[str],
    children: Mapping[str, Sequence[str]],
    weights: Mapping[str, float],
    levels: Mapping[str, int],
    method: str = "arithmetic",
    p: float | None = None,
    min_share: Mapping[int, float] | float = 0.0,
) -> pd.DataFrame:
    """Aggregate level by level; returns the normalised indicators plus one column per aggregate."""
    out = normalised.copy()
    for code in order:
        kids = list(children[code])
        share = min_share.get(levels[code], 0.0) if isinstance(min_share, Mapping) else min_share
        out[code] = weighted_mean(
            out[kids].to_numpy(dtype=float),
            np.array([weights[k] for k in kids]),
            method=method,
            p=p,
            min_share=share,
        )
    return out


# --- rank ------------------------------------------------------------------------------------
#: Scores are compared after rounding to this many decimals: two scores that are mathematically
#: equal but were computed along different floating-point paths (e.g. the engine and the
#: vectorised robustness path, or two orders of summation) differ by ~1e-14 and must tie, not
#: be ordered by rounding noise. Every score scale of the engine (0–100, z-scores, percentiles)
#: has meaningful differences far above 1e-9.
TIE_DECIMALS = 9


def tie_rounded(scores: np.ndarray) -> np.ndarray:
    """Scores rounded for ranking (:data:`TIE_DECIMALS`); NaN and ±inf are kept."""
    return np.round(np.asarray(scores, dtype=np.float64), TIE_DECIMALS)


def rank_desc(scores: pd.Series | pd.DataFrame) -> pd.Series | pd.DataFrame:
    """Descending ranks, ties sharing the lowest rank (1 = best); missing scores stay missing.

    Scores equal after rounding to :data:`TIE_DECIMALS` decimals are ties."""
    return scores.round(TIE_DECIMALS).rank(ascending=False, method="min").astype("Int64")


def rank_within(scores: pd.DataFrame, groups: pd.Series) -> pd.DataFrame:
    """Descending ranks within each value of ``groups`` (same tie rule as :func:`rank_desc`)."""
    key = groups.reindex(scores.index)
    rounded = scores.round(TIE_DECIMALS)
    return rounded.groupby(key, dropna=True).rank(ascending=False, method="min").astype("Int64")
