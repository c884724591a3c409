"""Outlier treatment of one indicator or of every indicator (a step of the composite build).

Skewness and kurtosis are the "type 2" sample statistics (SAS/SPSS, R e1071 ``type = 2``), the
statistics of COINr's outlier rule; see :mod:`barometre.composite.steps` for the conventions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from barometre.composite.errors import StepError


def _centred(x: np.ndarray, min_n: int) -> tuple[np.ndarray, float] | None:
    """Deviations from the mean of the non-NaN values of ``x`` and their sum of squares; None
    when fewer than ``min_n`` values remain or they have no spread."""
    v = np.asarray(x, dtype=float)
    v = v[~np.isnan(v)]
    if v.size < min_n:
        return None
    d = v - v.mean()
    m2 = np.sum(d**2)
    if m2 == 0:
        return None
    return d, m2


def skewness(x: np.ndarray) -> float:
    """Sample skewness, type 2 (adjusted Fisher–Pearson: G1 = g1·√(n(n−1))/(n−2)); NaNs ignored.

    Joanes & Gill (1998), "Comparing measures of sample skewness and kurtosis"; it is R e1071's
    ``skewness(type = 2)`` and the statistic of COINr's outlier rule. NaN for n < 3 or zero spread.
    """
    centred = _centred(x, 3)
    if centred is None:
        return float("nan")
    d, m2 = centred
    n = d.size
    g1 = np.sqrt(n) * np.sum(d**3) / m2**1.5
    return float(g1 * np.sqrt(n * (n - 1)) / (n - 2))


def kurtosis(x: np.ndarray) -> float:
    """Sample excess kurtosis, type 2: ((n+1)(r−3)+6)(n−1)/((n−2)(n−3)) with r = n·Σd⁴/(Σd²)².

    Joanes & Gill (1998); R e1071's ``kurtosis(type = 2)``. NaN for n < 4 or zero spread.
    """
    centred = _centred(x, 4)
    if centred is None:
        return float("nan")
    d, m2 = centred
    n = d.size
    r = n * np.sum(d**4) / m2**2
    return float(((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3)))


def passes_skew_kurt(
    skew: float, kurt: float, skew_threshold: float, kurt_threshold: float
) -> bool:
    """COINr's rule: an indicator is acceptable if |skew| < threshold OR kurtosis < threshold.

    An indicator whose statistics cannot be computed (too few values, constant) passes.
    """
    if np.isnan(skew) or np.isnan(kurt):
        return True
    return bool(abs(skew) < skew_threshold or kurt < kurt_threshold)


def log_transform(x: np.ndarray, skew: float | None = None) -> np.ndarray:
    """COINr's ``log_CT`` transform: log(x − min + 0.01·(max − min)), NaNs kept.

    For a negatively skewed indicator the mirrored form −log(max − x + 0.01·(max − min)) is used
    so that the order of units is preserved (our convention; COINr only applies the first form).
    """
    v = np.asarray(x, dtype=float)
    lo, hi = np.nanmin(v), np.nanmax(v)
    offset = 0.01 * (hi - lo)
    if offset == 0:
        return v.copy()
    if skew is not None and skew < 0:
        return -np.log(hi - v + offset)
    return np.log(v - lo + offset)


@dataclass
class TreatmentRecord:
    """What the outlier treatment did to one indicator."""

    indicator: str
    method: str
    skew_before: float
    kurt_before: float
    pass_before: bool
    n_winsorised: int | None = None
    skew_after_winsorisation: float | None = None
    kurt_after_winsorisation: float | None = None
    pass_after_winsorisation: bool | None = None
    applied: str = "none"
    skew_final: float | None = None
    kurt_final: float | None = None
    pass_final: bool | None = None
    winsorised_low: tuple[str, ...] = ()
    winsorised_high: tuple[str, ...] = ()


def winsorise_coinr(
    x: np.ndarray, winmax: int, skew_threshold: float, kurt_threshold: float
) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """Stepwise winsorisation of COINr's default outlier rule.

    While the indicator fails the skew/kurtosis check and fewer than ``winmax`` points have been
    winsorised: if skew >= 0, every value equal to the current maximum is set to the largest
    remaining value; otherwise every value equal to the current minimum is set to the smallest
    remaining value. The count is the number of distinct points replaced so far, every tied value
    included (a point replaced at two steps counts once). Returns the winsorised vector,
    the count, and boolean masks of points replaced at the high and low ends.
    """
    v = np.asarray(x, dtype=float).copy()
    high = np.zeros(v.shape, dtype=bool)
    low = np.zeros(v.shape, dtype=bool)
    n_win = 0
    while n_win < winmax:
        skew, kurt = skewness(v), kurtosis(v)
        if passes_skew_kurt(skew, kurt, skew_threshold, kurt_threshold):
            break
        observed = v[~np.isnan(v)]
        if skew >= 0:
            extreme = observed.max()
            rest = observed[observed < extreme]
            if rest.size == 0:
                break
            hit = v == extreme
            v[hit] = rest.max()
            high |= hit
        else:
            extreme = observed.min()
            rest = observed[observed > extreme]
            if rest.size == 0:
                break
            hit = v == extreme
            v[hit] = rest.min()
            low |= hit
        # A point replaced again at a later step (it became the extreme after an earlier
        # replacement) is still one point: COINr counts distinct points winsorised.
        n_win = int((high | low).sum())
    return v, n_win, high, low


def treat_indicator(
    x: pd.Series,
    method: str,
    winmax: int = 5,
    skew_threshold: float = 2.0,
    kurt_threshold: float = 3.5,
    quantiles: tuple[float, float] = (0.05, 0.95),
    boxcox_lambda: float | None = None,
) -> tuple[pd.Series, TreatmentRecord]:
    """Treat the outliers of one indicator and record what was done.

    Methods:
    - ``none``: unchanged (statistics still recorded);
    - ``coinr_default``: if the skew/kurtosis check fails, stepwise winsorisation up to
      ``winmax`` points (:func:`winsorise_coinr`); if it still fails, the winsorisation is dropped
      and :func:`log_transform` is applied to the original values;
    - ``log``: :func:`log_transform` if the check fails;
    - ``winsorise_quantiles``: clip to the given quantiles (type 7, linear interpolation);
    - ``boxcox``: Box–Cox transform (λ estimated by maximum likelihood unless given) of the values
      shifted to be positive as in :func:`log_transform`, if the check fails.
    """
    values = x.to_numpy(dtype=float)
    skew0, kurt0 = skewness(values), kurtosis(values)
    pass0 = passes_skew_kurt(skew0, kurt0, skew_threshold, kurt_threshold)
    record = TreatmentRecord(str(x.name), method, skew0, kurt0, pass0)
    result = values.copy()
    if method == "coinr_default" and not pass0:
        wins, n_win, high, low = winsorise_coinr(values, winmax, skew_threshold, kurt_threshold)
        skew1, kurt1 = skewness(wins), kurtosis(wins)
        pass1 = passes_skew_kurt(skew1, kurt1, skew_threshold, kurt_threshold)
        record.n_winsorised = n_win
        record.skew_after_winsorisation, record.kurt_after_winsorisation = skew1, kurt1
        record.pass_after_winsorisation = pass1
        if pass1:
            result = wins
            record.applied = "winsorised" if n_win else "none"
            record.winsorised_high = tuple(str(u) for u in x.index[high])
            record.winsorised_low = tuple(str(u) for u in x.index[low])
        else:
            result = log_transform(values, skew0)
            record.applied = "log"
    elif method == "log" and not pass0:
        result = log_transform(values, skew0)
        record.applied = "log"
    elif method == "winsorise_quantiles":
        lo, hi = np.nanquantile(values, quantiles)
        result = np.clip(values, lo, hi)
        record.applied = "winsorised"
        record.n_winsorised = int(np.sum((values < lo) | (values > hi)))
        record.winsorised_high = tuple(str(u) for u in x.index[values > hi])
        record.winsorised_low = tuple(str(u) for u in x.index[values < lo])
    elif method == "boxcox" and not pass0:
        observed = ~np.isnan(values)
        lo, hi = np.nanmin(values), np.nanmax(values)
        shifted = values - lo + 0.01 * (hi - lo) if lo <= 0 else values.copy()
        out = np.full(values.shape, np.nan)
        if boxcox_lambda is None:
            out[observed], _ = stats.boxcox(shifted[observed])
        else:
            out[observed] = stats.boxcox(shifted[observed], lmbda=boxcox_lambda)
        result = out
        record.applied = "boxcox"
    elif method not in {"none", "coinr_default", "log", "boxcox"}:
        raise StepError(f"unknown outlier treatment {method!r}")
    if record.applied != "none":
        record.skew_final, record.kurt_final = skewness(result), kurtosis(result)
        record.pass_final = passes_skew_kurt(
            record.skew_final, record.kurt_final, skew_threshold, kurt_threshold
        )
    return pd.Series(result, index=x.index, name=x.name), record


def treat(
    data: pd.DataFrame,
    method: str,
    per_indicator: Mapping[str, str] | None = None,
    **params: object,
) -> tuple[pd.DataFrame, pd.DataFrame, list[TreatmentRecord]]:
    """Treat outliers indicator by indicator; returns (treated, details table, records)."""
    per_indicator = per_indicator or {}
    columns, records = {}, []
    for code in data.columns:
        treated, record = treat_indicator(
            data[code],
            per_indicator.get(code, method),
            **params,  # type: ignore[arg-type]
        )
        columns[code] = treated
        records.append(record)
    details = pd.DataFrame(
        [
            {
                "indicator": r.indicator,
                "method": r.method,
                "skew_before": r.skew_before,
                "kurt_before": r.kurt_before,
                "pass_before": r.pass_before,
                "n_winsorised": r.n_winsorised,
                "skew_after_winsorisation": r.skew_after_winsorisation,
                "kurt_after_winsorisation": r.kurt_after_winsorisation,
                "pass_after_winsorisation": r.pass_after_winsorisation,
                "applied": r.applied,
                "skew_final": r.skew_final,
                "kurt_final": r.kurt_final,
                "pass_final": r.pass_final,
                "winsorised_high": " ".join(r.winsorised_high),
                "winsorised_low": " ".join(r.winsorised_low),
            }
            for r in records
        ]
    )
    return pd.DataFrame(columns, index=data.index), details, records
