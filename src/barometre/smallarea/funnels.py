"""Funnel-plot control limits (Spiegelhalter, 2005), overdispersion, flags and the funnel
plot; see :mod:`barometre.smallarea`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from barometre.smallarea.inputs import (
    _as_float,
    _check_lengths,
    _check_non_negative,
    _common_index,
    _usable,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

FunnelMethod = Literal["interpolated", "exact"]


# --------------------------------------------------------------------------------------------
# Funnel plots
# --------------------------------------------------------------------------------------------


def level_tag(level: float) -> str:
    """Column suffix of a control level: 0.95 → ``"95"``, 0.998 → ``"99.8"``."""
    return f"{round(level * 100, 6):g}"


def exposure_grid(min_exposure: float, max_exposure: float, n: int = 200) -> np.ndarray:
    """Geometric grid of exposures for drawing funnel limits (populations span 5 decades)."""
    if not 0 < min_exposure < max_exposure:
        raise ValueError("need 0 < min_exposure < max_exposure")
    return np.geomspace(min_exposure, max_exposure, n)


def _poisson_limit_counts(
    expected: np.ndarray, probability: float, method: FunnelMethod
) -> tuple[np.ndarray, np.ndarray]:
    """(exact quantile r_p, plotted limit on the count scale) for a tail probability p.

    ``r_p`` is the smallest integer with ``P(Y ≤ r_p) ≥ p`` (``scipy.stats.poisson.ppf``).
    Interpolated (Spiegelhalter 2005, appendix A.1.1): ``α = (F(r_p) − p) / (F(r_p) − F(r_p − 1))``
    and the limit is ``r_p − α``, which turns the step function into a smooth curve.
    """
    quantile = stats.poisson.ppf(probability, expected)
    if method == "exact":
        return quantile, quantile.copy()
    if method != "interpolated":
        raise ValueError(f"unknown funnel method {method!r}; expected 'interpolated' or 'exact'")
    cdf_at = stats.poisson.cdf(quantile, expected)
    cdf_below = stats.poisson.cdf(quantile - 1, expected)
    step = cdf_at - cdf_below
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where(step > 0, (cdf_at - probability) / step, 0.0)
    return quantile, quantile - fraction


def funnel_limits(
    target_rate: Any,
    exposure: Any,
    levels: Sequence[float] = (0.95, 0.998),
    scale: float = 1000.0,
    method: FunnelMethod = "interpolated",
) -> pd.DataFrame:
    """Poisson funnel-plot control limits around ``target_rate`` (per ``scale``) at given exposures.

    For an exposure ``E`` the expected count is ``μ = target_rate / scale · E``. For each level
    ``L`` (two-sided), the lower and upper limits use the exact Poisson quantiles at ``(1 − L)/2``
    and ``(1 + L)/2`` (Spiegelhalter, 2005, §3 and appendix). ``method="interpolated"`` (default)
    applies Spiegelhalter's interpolation between discrete quantiles (``r_p − α``) so that the
    limits are smooth in ``E``; ``method="exact"`` plots the quantiles themselves (a step function).

    ``exposure`` is any array (e.g. :func:`exposure_grid`, or the units' own populations);
    ``target_rate`` a scalar or one value per exposure (e.g. the rate of each unit's class).
    Columns: ``exposure``, ``expected``, ``target_rate``, and for each level tag (``"95"``,
    ``"99.8"``): ``lower_count_<tag>`` / ``upper_count_<tag>`` (exact quantiles ``r_p``),
    ``lower_<tag>`` / ``upper_<tag>`` (limits on the rate scale, per ``scale``). Limits are clipped
    at zero (a rate cannot be negative; at a zero lower limit no unit can be flagged low). Rows
    with zero or missing exposure are NaN.
    """
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    e = _as_float(exposure, "exposure")
    _check_non_negative(e, "exposure")
    target = np.broadcast_to(np.asarray(target_rate, dtype=float), e.shape).copy()
    if np.any(~(target >= 0)):
        raise ValueError("target_rate must be non-negative and known")
    index = _common_index(len(e), exposure)
    valid = np.isfinite(e) & (e > 0)
    expected = np.where(valid, target / scale * np.where(valid, e, 0.0), np.nan)
    out = pd.DataFrame({"exposure": e, "expected": expected, "target_rate": target}, index=index)
    for level in levels:
        if not 0 < level < 1:
            raise ValueError(f"levels must be in (0, 1), got {level}")
        tag = level_tag(level)
        for side, probability in (("lower", (1 - level) / 2), ("upper", (1 + level) / 2)):
            quantile = np.full(len(e), np.nan)
            limit = np.full(len(e), np.nan)
            quantile[valid], limit_count = _poisson_limit_counts(
                expected[valid], probability, method
            )
            limit[valid] = np.clip(limit_count, 0.0, None) / e[valid] * scale
            out[f"{side}_count_{tag}"] = quantile
            out[f"{side}_{tag}"] = limit
    return out


@dataclass(frozen=True)
class Overdispersion:
    """Between-unit heterogeneity of rates around a funnel plot's target (Spiegelhalter, 2005).

    ``phi``: multiplicative overdispersion factor (mean squared winsorised z-score; 1 under
    pure Poisson variation); ``tau2``: additive random-effects variance of the rate (per
    ``scale``, squared), by the method of moments (DerSimonian–Laird form); ``n``: units used.
    """

    phi: float
    tau2: float
    n: int


def estimate_overdispersion(
    counts: Any,
    exposure: Any,
    target_rate: float,
    scale: float = 1000.0,
    winsor: float = 0.1,
) -> Overdispersion:
    """Estimate the overdispersion of the units' rates around ``target_rate`` (per ``scale``).

    Spiegelhalter (2005, « Handling over-dispersion of performance indicators », §3–4): with the
    Poisson standard error of a unit's rate ``s_i = sqrt(target · scale / E_i)``, the z-scores
    ``z_i = (r_i − target) / s_i`` are winsorised at the ``winsor`` and ``1 − winsor`` quantiles
    (so that the outliers being looked for do not inflate the estimate);
    ``φ = Σ z_i² / n``; the additive variance is ``τ² = max(0, (n φ − (n − 1)) / (Σ w_i − Σ w_i²
    / Σ w_i))`` with ``w_i = 1 / s_i²`` (0 when ``n φ ≤ n − 1``: no evidence of overdispersion).
    Units with a missing count or a non-positive exposure are left out.
    """
    y = _as_float(counts, "counts")
    e = _as_float(exposure, "exposure")
    _check_lengths(counts=y, exposure=e)
    if not target_rate > 0:
        raise ValueError(f"target_rate must be positive, got {target_rate}")
    if not 0 <= winsor < 0.5:
        raise ValueError(f"winsor must be in [0, 0.5), got {winsor}")
    usable = _usable(y, e)
    n = int(usable.sum())
    if n < 2:
        raise ValueError("need at least two units with a count and a positive exposure")
    rate = y[usable] / e[usable] * scale
    variance = target_rate * scale / e[usable]
    z = (rate - target_rate) / np.sqrt(variance)
    if winsor > 0:
        low, high = np.quantile(z, [winsor, 1 - winsor])
        z = np.clip(z, low, high)
    phi = float(np.mean(z**2))
    weights = 1.0 / variance
    denominator = weights.sum() - (weights**2).sum() / weights.sum()
    tau2 = max(0.0, (n * phi - (n - 1)) / denominator) if denominator > 0 else 0.0
    return Overdispersion(phi=phi, tau2=float(tau2), n=n)


def funnel_limits_random_effects(
    target_rate: float,
    exposure: Any,
    tau2: float,
    levels: Sequence[float] = (0.95, 0.998),
    scale: float = 1000.0,
) -> pd.DataFrame:
    """Overdispersion-adjusted funnel limits: ``target ± z_p · sqrt(target · scale / E + τ²)``.

    Spiegelhalter's (2005) additive random-effects limits, on the rate scale (per ``scale``),
    with ``τ²`` from :func:`estimate_overdispersion`; with ``τ² = 0`` they are the normal
    approximation of the Poisson limits. Lower limits are clipped at zero. Columns as
    :func:`funnel_limits`: ``exposure``, ``target_rate``, ``lower_<tag>``, ``upper_<tag>``.
    """
    if not tau2 >= 0:
        raise ValueError(f"tau2 must be non-negative, got {tau2}")
    e = _as_float(exposure, "exposure")
    _check_non_negative(e, "exposure")
    valid = np.isfinite(e) & (e > 0)
    sd = np.full(len(e), np.nan)
    sd[valid] = np.sqrt(target_rate * scale / e[valid] + tau2)
    out = pd.DataFrame(
        {"exposure": e, "target_rate": np.full(len(e), float(target_rate))},
        index=_common_index(len(e), exposure),
    )
    for level in levels:
        if not 0 < level < 1:
            raise ValueError(f"levels must be in (0, 1), got {level}")
        tag = level_tag(level)
        z = stats.norm.ppf((1 + level) / 2)
        out[f"lower_{tag}"] = np.clip(target_rate - z * sd, 0.0, None)
        out[f"upper_{tag}"] = target_rate + z * sd
    return out


def funnel_flags(
    counts: Any,
    exposure: Any,
    target_rate: Any,
    levels: Sequence[float] = (0.95, 0.998),
    scale: float = 1000.0,
    method: FunnelMethod = "interpolated",
) -> pd.DataFrame:
    """Which units lie above or below the funnel limits of :func:`funnel_limits`.

    A unit is ``above_<tag>`` when its rate is strictly greater than the plotted upper limit and
    ``below_<tag>`` when strictly smaller than the plotted lower limit: what a reader sees on the
    plot. Columns: ``count``, ``exposure``, ``rate`` (per ``scale``), ``expected``, ``p_high``
    (``P(Y ≥ y)`` under the target), ``p_low`` (``P(Y ≤ y)``), and the nullable boolean flags
    ``above_<tag>``, ``below_<tag>`` (NA where the count or a positive exposure is missing).

    These limits assume pure Poisson variation around the target; real between-commune
    heterogeneity (overdispersion) makes many large communes fall outside them (Spiegelhalter,
    2005, §5), which is a finding about heterogeneity, not a list of outliers.
    """
    y = _as_float(counts, "counts")
    e = _as_float(exposure, "exposure")
    n = _check_lengths(counts=y, exposure=e)
    _check_non_negative(y, "counts")
    index = _common_index(n, counts, exposure)
    limits = funnel_limits(target_rate, e, levels, scale, method)
    usable = _usable(y, e)
    rate = np.where(usable, y / np.where(usable, e, 1.0) * scale, np.nan)
    expected = limits["expected"].to_numpy()
    p_high = np.full(n, np.nan)
    p_low = np.full(n, np.nan)
    p_high[usable] = stats.poisson.sf(y[usable] - 1, expected[usable])
    p_low[usable] = stats.poisson.cdf(y[usable], expected[usable])
    out = pd.DataFrame(
        {
            "count": y,
            "exposure": e,
            "rate": rate,
            "expected": expected,
            "p_high": p_high,
            "p_low": p_low,
        },
        index=index,
    )
    for level in levels:
        tag = level_tag(level)
        above = pd.array(rate > limits[f"upper_{tag}"].to_numpy(), dtype="boolean")
        below = pd.array(rate < limits[f"lower_{tag}"].to_numpy(), dtype="boolean")
        above[~usable] = pd.NA
        below[~usable] = pd.NA
        out[f"above_{tag}"] = above
        out[f"below_{tag}"] = below
    return out


def plot_funnel(
    ax: Axes,
    counts: Any,
    exposure: Any,
    target_rate: float,
    *,
    levels: Sequence[float] = (0.95, 0.998),
    scale: float = 1000.0,
    highlight: Any = None,
    method: FunnelMethod = "interpolated",
    log_x: bool = True,
    n_grid: int = 300,
    highlight_label: str = "Lauréats",
    xlabel: str = "Population (habitants)",
    ylabel: str | None = None,
    tau2: float | None = None,
) -> Axes:
    """Draw a funnel plot (rate against exposure with Poisson control limits) on ``ax``.

    Points are the units' raw rates per ``scale``; the horizontal line is ``target_rate``; each
    level gets a pair of limit curves from :func:`funnel_limits` on a geometric grid spanning the
    units' exposures; units where the boolean mask ``highlight`` is true (the laureates) are
    drawn on top in a distinct colour. Units with zero or missing exposure or count are skipped.
    Labels are in French (the methodology annex's language). With ``tau2`` (from
    :func:`estimate_overdispersion`), the limits are the overdispersion-adjusted ones of
    :func:`funnel_limits_random_effects` instead of the pure Poisson ones. Returns ``ax``.
    """
    y = _as_float(counts, "counts")
    e = _as_float(exposure, "exposure")
    n = _check_lengths(counts=y, exposure=e)
    usable = _usable(y, e)
    if not usable.any():
        raise ValueError("no unit with a count and a positive exposure to plot")
    mask = np.zeros(n, dtype=bool)
    if highlight is not None:
        mask = pd.Series(highlight, copy=False).astype("boolean").fillna(False).to_numpy(bool)
        if len(mask) != n:
            raise ValueError(f"highlight has {len(mask)} values, expected {n}")
    rate = np.where(usable, y / np.where(usable, e, 1.0) * scale, np.nan)
    low, high = e[usable].min(), e[usable].max()
    grid = exposure_grid(low * 0.9, high * 1.1 if high > low else low * 2, n_grid)
    if tau2 is None:
        limits = funnel_limits(target_rate, grid, levels, scale, method)
    else:
        limits = funnel_limits_random_effects(target_rate, grid, tau2, levels, scale)

    ordinary = usable & ~mask
    ax.scatter(
        e[ordinary], rate[ordinary], s=6, color="0.55", alpha=0.5, linewidths=0, label="Communes"
    )
    styles = ["--", ":", "-."]
    for i, level in enumerate(levels):
        tag = level_tag(level)
        label = f"Limites à {tag.replace('.', ',')} %"
        style = styles[i % len(styles)]
        ax.plot(grid, limits[f"upper_{tag}"], color="C0", linestyle=style, linewidth=1, label=label)
        ax.plot(grid, limits[f"lower_{tag}"], color="C0", linestyle=style, linewidth=1)
    ax.axhline(target_rate, color="C0", linewidth=1.2, label="Taux de référence")
    special = usable & mask
    if special.any():
        ax.scatter(
            e[special],
            rate[special],
            s=28,
            color="C3",
            edgecolors="black",
            linewidths=0.5,
            zorder=3,
            label=highlight_label,
        )
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(
        ylabel if ylabel is not None else f"Taux pour {scale:,.0f} habitants".replace(",", "\u202f")
    )
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper right", fontsize="small", frameon=False)
    return ax
