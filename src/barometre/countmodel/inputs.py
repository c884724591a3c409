"""Count model inputs: constants, the warning class, covariate design and group codes."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from barometre.smallarea.inputs import _as_float as _smallarea_float
from barometre.smallarea.inputs import _check_non_negative

#: Name of the intercept in :meth:`CountModelFit.params_table`.
INTERCEPT = "(intercept)"
#: Default number of pseudo-clusters of the pooled size distribution in a design effect.
DEFAULT_DESIGN_PRIOR_CLUSTERS = math.inf
#: A design group needs at least this many clusters for its own pooled cluster-size moments.
DEFAULT_MIN_DESIGN_CLUSTERS = 30
#: Bounds of the NB2 dispersion α (α → 0 is the Poisson limit: no latent commune variation).
ALPHA_BOUNDS = (1e-6, 1e3)
#: Bounds of the département standard deviation τ (log-rate scale).
GROUP_SD_BOUNDS = (1e-3, 5.0)


class CountModelWarning(UserWarning):
    """A fit reached a bound or a fallback (no overdispersion, no département variance …)."""


def _as_float(values: Any, name: str, n: int | None = None) -> np.ndarray:
    """:func:`barometre.smallarea._as_float`, plus the length, finiteness and sign checks."""
    array = _smallarea_float(values, name)
    if n is not None and len(array) != n:
        raise ValueError(f"{name} has {len(array)} values, expected {n}")
    _check_non_negative(array, name)
    return array


def _design(covariates: Any, n: int) -> tuple[np.ndarray, list[str]]:
    """Intercept + the caller's covariates; categorical/text columns become dummies."""
    if covariates is None:
        return np.ones((n, 1)), [INTERCEPT]
    frame = (
        covariates.copy()
        if isinstance(covariates, pd.DataFrame)
        else pd.DataFrame(np.asarray(covariates, dtype=float))
    )
    if len(frame) != n:
        raise ValueError(f"covariates have {len(frame)} rows, expected {n}")
    frame.columns = [str(c) for c in frame.columns]
    if INTERCEPT in frame.columns:
        raise ValueError(f"the intercept is added automatically: drop the column {INTERCEPT!r}")
    parts: list[pd.DataFrame] = []
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            parts.append(values.astype("float64").to_frame(column))
            continue
        dummies = pd.get_dummies(values, prefix=column, prefix_sep="=", drop_first=True)
        dummies = dummies.astype(float)
        dummies.loc[values.isna().to_numpy()] = np.nan
        parts.append(dummies)
    design = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=frame.index)
    matrix = np.column_stack([np.ones(n), design.to_numpy(dtype=float)])
    return matrix, [INTERCEPT, *map(str, design.columns)]


def _group_codes(groups: Any, n: int) -> tuple[np.ndarray, list[str]]:
    """Integer code per unit (−1: no group) and the group labels."""
    if groups is None:
        return np.full(n, -1, dtype=np.int64), []
    series = pd.Series(np.asarray(groups, dtype=object))
    if len(series) != n:
        raise ValueError(f"groups has {len(series)} values, expected {n}")
    missing = series.isna().to_numpy()
    codes, uniques = pd.factorize(series.astype(str).where(~missing), sort=True)
    return np.where(missing, -1, codes).astype(np.int64), [str(u) for u in uniques]
