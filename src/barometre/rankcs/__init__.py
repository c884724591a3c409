"""Confidence sets for ranks and for the tau-best units.

Implements, from the paper's definitions, the confidence sets of

    Mogstad, M., Romano, J. P., Shaikh, A. M. and Wilhelm, D. (2024), "Inference for Ranks with
    Applications to Mobility across Neighbourhoods and Academic Achievement across Countries",
    Review of Economic Studies 91(1), 476-518, doi:10.1093/restud/rdad006.

Setting: ``p`` units with unknown values ``theta`` and estimates ``x`` approximately normal
``N(theta, Sigma)`` with ``Sigma`` known (independent estimates: ``Sigma = diag(se**2)``).
The rank of unit ``i`` is ``1 + #{j : theta_j > theta_i}`` (rank 1 = largest). For every
ordered pair ``(j, k)`` the one-sided hypothesis ``H_jk: theta_j <= theta_k`` is tested with
``T_jk = (x_j - x_k) / sigma_jk``, ``sigma_jk**2 = Sigma_jj + Sigma_kk - 2 Sigma_jk``;
rejecting ``H_jk`` means "j is significantly better than k". For unit ``i``::

    lower_i = 1 + #{j : H_ji rejected}       upper_i = p - #{k : H_ik rejected}

and the set ``[lower_i, upper_i]`` contains the true rank whenever no true hypothesis of the
family is rejected. The family is every ordered pair involving the requested units: the pairs
of unit ``i`` alone for a marginal set, the pairs of all requested units at once for
simultaneous sets. All hypotheses of the family are tested jointly with the critical value
``c`` = the ``coverage`` quantile of the maximum of the standardised differences over the
family (a two-sided set uses one family of one-sided tests, so the level is ``coverage``, not
``(1 + coverage) / 2``); with ``stepdown`` the rejected hypotheses are removed and ``c`` is
re-estimated on the surviving ones until no new rejection (Romano and Wolf 2005), which keeps
the familywise error at most ``1 - coverage``.

Two ways to get ``c`` (``method=``):

``"bootstrap"``
    the paper's parametric bootstrap: ``n_boot`` draws ``Z ~ N(0, Sigma)`` and the empirical
    ``coverage`` quantile (linear interpolation) of ``max_{(j,k) alive} (Z_j - Z_k) / sigma_jk``.
    Asymptotically exact. Its cost is ``n_boot x (requested units) x p`` per step, computed in
    memory-bounded blocks of ``p x draws`` per requested unit (the draws are kept, or
    regenerated from one seed at every step when they do not fit in 200 MB).
``"bonferroni"``
    ``c = Phi^-1(1 - alpha / m)`` with ``alpha = 1 - coverage`` and ``m`` the number of
    hypotheses still alive (Holm's 1979 step-down of the Bonferroni test). Each ``T_jk`` of a
    true hypothesis exceeds ``c`` with probability at most ``alpha / m``; the union bound gives a
    familywise error at most ``alpha`` whatever the dependence between the estimates, and
    Holm's step-down (a closed test of Bonferroni tests) keeps that guarantee. The sets are
    therefore valid (coverage >= nominal) and only mildly conservative: the maximum over a
    family of ``m`` pairwise differences is driven by its extremes, so the Bonferroni value is
    close to the bootstrap one for simultaneous families (e.g. 4.41 vs 4.30 for all pairs
    of 100 equally precise units at 95 %). It needs no draws: the rejections are counted, for
    independent estimates, on the units sorted by estimate and stratified by variance, with
    only the pairs near the rejection boundary computed explicitly, so all the ``p(p-1)``
    pairs of 30 000 units are handled in seconds in O(block) memory.
``"auto"`` (default)
    the bootstrap when ``n_boot x (requested units) x (p - 1)`` is at most ``max_boot_work``
    (5e8 by default: all the units of a class of up to 71 with 100 000 draws, or 15 units
    among 30 000 with 1 000 draws), the Bonferroni-Holm value above.

The tau-best set (``tau_best_set``) is the projection set of the paper: the units whose
simultaneous one-sided lower bound is at most ``tau``. Lower bounds for every unit test the
hypotheses ``theta_j <= theta_i`` for all ordered pairs, the same family as the two-sided
simultaneous sets of all units; if none of them is wrongly rejected, every true tau-best unit
has ``lower <= true rank <= tau``, so the set contains all of them with probability at least
``coverage``.

Modules: :mod:`.inputs` (the estimates' model, checks, point ranks), :mod:`.bootstrap`
(bootstrap critical values), :mod:`.holm` (Bonferroni-Holm counting); the public functions
are here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from barometre.rankcs.bootstrap import _bootstrap_bounds, _Draws
from barometre.rankcs.holm import (
    _Columns as _Columns,
)
from barometre.rankcs.holm import (
    _count_significant as _count_significant,
)
from barometre.rankcs.holm import (
    _holm_marginal,
    _holm_simultaneous,
)
from barometre.rankcs.inputs import (
    DEFAULT_MAX_BOOT_WORK,
    DEFAULT_N_BOOT,
    Method,
    _as_model,
    _check_coverage,
    _generator,
    _Model,
    _resolve_indices,
    estimate_ranks,
)

__all__ = [
    "DEFAULT_MAX_BOOT_WORK",
    "DEFAULT_N_BOOT",
    "Method",
    "estimate_ranks",
    "rank_confidence_sets",
    "tau_best_set",
]


def _choose(method: Method, work: int, max_boot_work: int) -> Literal["bootstrap", "bonferroni"]:
    if method == "auto":
        return "bootstrap" if work <= max_boot_work else "bonferroni"
    if method in ("bootstrap", "bonferroni"):
        return method
    raise ValueError(f"method must be 'auto', 'bootstrap' or 'bonferroni', got {method!r}")


def _bounds(
    model: _Model,
    units: np.ndarray,
    *,
    coverage: float,
    simultaneous: bool,
    stepdown: bool,
    n_boot: int,
    rng: np.random.Generator,
    method: Method,
    max_boot_work: int,
) -> tuple[np.ndarray, np.ndarray, dict[str, object]]:
    p = model.p
    k = units.size
    alpha = 1.0 - coverage
    if int(n_boot) < 1:
        raise ValueError("n_boot must be at least 1")
    n_pairs = (k * (p - 1) - k * (k - 1) // 2) if simultaneous else k * (p - 1)
    chosen = _choose(method, int(n_boot) * k * (p - 1), max_boot_work)
    info: dict[str, object] = {
        "method": chosen,
        "coverage": coverage,
        "simultaneous": simultaneous,
        "stepdown": stepdown,
        "n_boot": int(n_boot) if chosen == "bootstrap" else 0,
        "hypotheses": 2 * n_pairs,
    }
    if p == 1:
        one = np.ones(k, dtype=np.int64)
        info.update(critical_value=float("nan"), steps=0)
        return one, one.copy(), info
    if chosen == "bonferroni":
        if simultaneous:
            better, worse, crits, _ = _holm_simultaneous(model, units, alpha, stepdown)
            info.update(critical_value=crits[0], steps=len(crits))
        else:
            better, worse, c_max, steps = _holm_marginal(model, units, alpha, stepdown)
            info.update(critical_value=c_max, steps=steps)
        return 1 + better, p - worse, info

    if k * p > 100_000_000:  # rejection flags alone would take gigabytes, and hours of draws
        raise ValueError(
            f"bootstrap family too large ({k} units x {p}): use method='bonferroni' or 'auto'"
        )
    seed = int(rng.integers(0, 2**63 - 1))
    draws = _Draws(model, int(n_boot), seed)
    lower, upper, c_first, steps = _bootstrap_bounds(
        model, units, draws, coverage, stepdown, simultaneous
    )
    info.update(critical_value=c_first, steps=steps)
    return lower, upper, info


def _frame(
    model: _Model, ids: pd.Index | None, units: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> pd.DataFrame:
    index = ids[units] if ids is not None else pd.Index(units)
    return pd.DataFrame(
        {
            "estimate": model.x[units],
            "rank": estimate_ranks(model.x)[units],
            "lower": np.asarray(lower, dtype=np.int64),
            "upper": np.asarray(upper, dtype=np.int64),
        },
        index=index,
    )


def _family_bounds(
    estimates: pd.Series | Sequence[float] | np.ndarray,
    se: pd.Series | Sequence[float] | np.ndarray | None,
    cov: pd.DataFrame | np.ndarray | None,
    indices: Sequence[object] | np.ndarray | None,
    *,
    coverage: float,
    simultaneous: bool,
    stepdown: bool,
    n_boot: int,
    rng: np.random.Generator | int | None,
    method: Method,
    max_boot_work: int,
) -> tuple[_Model, pd.Index | None, np.ndarray, np.ndarray, np.ndarray, dict[str, object]]:
    """Checked inputs and the rank bounds of the requested units (``indices``; all when None).

    Returns ``(model, ids, units, lower, upper, info)``: the estimates' model, their ids, the
    positions of the requested units, their lower and upper rank bounds and the method record
    of :func:`_bounds`.
    """
    coverage = _check_coverage(coverage)
    model, ids = _as_model(estimates, se, cov)
    units = _resolve_indices(indices, model.p, ids)
    lower, upper, info = _bounds(
        model,
        units,
        coverage=coverage,
        simultaneous=simultaneous,
        stepdown=stepdown,
        n_boot=n_boot,
        rng=_generator(rng),
        method=method,
        max_boot_work=max_boot_work,
    )
    return model, ids, units, lower, upper, info


def rank_confidence_sets(
    estimates: pd.Series | Sequence[float] | np.ndarray,
    se: pd.Series | Sequence[float] | np.ndarray | None = None,
    cov: pd.DataFrame | np.ndarray | None = None,
    *,
    coverage: float = 0.95,
    simultaneous: bool = False,
    indices: Sequence[object] | np.ndarray | None = None,
    stepdown: bool = True,
    n_boot: int = DEFAULT_N_BOOT,
    rng: np.random.Generator | int | None = None,
    method: Method = "auto",
    max_boot_work: int = DEFAULT_MAX_BOOT_WORK,
) -> pd.DataFrame:
    """Two-sided marginal or simultaneous confidence sets for ranks (Mogstad et al. 2024).

    Parameters
    ----------
    estimates
        Estimated values, larger is better (rank 1 = largest). A Series keeps its index as ids.
    se, cov
        Exactly one: standard errors of independent estimates, or their covariance matrix.
    coverage
        Nominal coverage, per unit (marginal) or jointly for the requested units (simultaneous).
    simultaneous
        ``False``: for each requested unit its own family (the ``2(p-1)`` hypotheses comparing
        it with every other unit). ``True``: one family, every ordered pair involving at least
        one requested unit, so the sets of all requested units hold jointly.
    indices
        Units to compute sets for: labels of the Series' index, positions otherwise. Default:
        all. The family only involves the pairs of these units (e.g. the top 15 of a class
        of 30 000: about 900 000 hypotheses, not 900 million).
    stepdown
        Re-estimate the critical value on the hypotheses not yet rejected until no new
        rejection (default), or stop after the first step.
    n_boot
        Bootstrap draws of the critical value.
    rng
        A ``numpy.random.Generator`` (or a seed for one); one integer is drawn from it to seed
        the bootstrap, the global NumPy state is never touched.
    method
        ``"auto"``, ``"bootstrap"`` or ``"bonferroni"``: see the module docstring. ``auto``
        uses the bootstrap while ``n_boot x units x (p - 1) <= max_boot_work`` and the valid,
        conservative Bonferroni-Holm critical value for larger families.

    Returns
    -------
    DataFrame indexed by the ids (or positions) of the requested units, in the requested order,
    with ``estimate``, ``rank`` (``1 + #{j: x_j > x_i}``), ``lower`` and ``upper``. ``attrs``
    records the method, the number of hypotheses, the critical value (the first step's; the
    largest over units for marginal sets) and the number of steps.

    With ``coverage > 0.5`` (any sensible use) ``1 <= lower <= rank <= upper <= p``.
    """
    model, ids, units, lower, upper, info = _family_bounds(
        estimates,
        se,
        cov,
        indices,
        coverage=coverage,
        simultaneous=simultaneous,
        stepdown=stepdown,
        n_boot=n_boot,
        rng=rng,
        method=method,
        max_boot_work=max_boot_work,
    )
    out = _frame(model, ids, units, lower, upper)
    out.attrs.update(info)
    return out


def tau_best_set(
    estimates: pd.Series | Sequence[float] | np.ndarray,
    se: pd.Series | Sequence[float] | np.ndarray | None = None,
    cov: pd.DataFrame | np.ndarray | None = None,
    *,
    tau: int,
    coverage: float = 0.95,
    stepdown: bool = True,
    n_boot: int = DEFAULT_N_BOOT,
    rng: np.random.Generator | int | None = None,
    method: Method = "auto",
    max_boot_work: int = DEFAULT_MAX_BOOT_WORK,
) -> pd.DataFrame:
    """Confidence set for the identities of the tau best units (Mogstad et al. 2024, projection set).

    ``in_tau_best`` flags the units whose simultaneous one-sided lower bound on the rank is at
    most ``tau``: with probability at least ``coverage`` (asymptotically with the bootstrap,
    in finite samples with Bonferroni-Holm) every unit whose true rank is at most ``tau`` is
    flagged. The lower bounds come from the family of every ordered pair (see the module
    docstring); ``upper`` is ``p`` (one-sided sets ``[lower, p]``), as in csranks' cstaubest.

    Parameters are those of :func:`rank_confidence_sets` (all units, simultaneous) plus ``tau``
    (an integer >= 1). Returns ``estimate, rank, lower, upper, in_tau_best`` for every unit.
    For 30 000 units the ``auto`` method uses Bonferroni-Holm: seconds, no draws.
    """
    if isinstance(tau, bool) or int(tau) != tau or tau < 1:
        raise ValueError(f"tau must be an integer >= 1, got {tau}")
    model, ids, units, lower, _, info = _family_bounds(
        estimates,
        se,
        cov,
        None,
        coverage=coverage,
        simultaneous=True,
        stepdown=stepdown,
        n_boot=n_boot,
        rng=rng,
        method=method,
        max_boot_work=max_boot_work,
    )
    out = _frame(model, ids, units, lower, np.full(model.p, model.p))
    out["in_tau_best"] = out["lower"] <= int(tau)
    out.attrs.update(info, tau=int(tau))
    return out
