"""Statistical audit of a built index: correlations, Cronbach's alpha, PCA, effective weights.

These are the coherence checks of the JRC/OECD Handbook (2008, ch. 4–5) and of COINr's
analysis functions: a reviewer uses them to see whether indicators pull in the direction of
their criterion and of the index, and how much each element really weighs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from barometre.composite import steps
from barometre.composite.engine import IndexBuild, aggregate_spec
from barometre.composite.spec import IndexSpec


def correlations_with_parent(build: IndexBuild, method: str = "pearson") -> pd.DataFrame:
    """Correlation of each element (indicator or aggregate) with its parent and with the index.

    Computed on the aggregated data set (normalised indicators and aggregate scores), using the
    pairwise complete observations. ``method`` is ``pearson`` or ``spearman``.
    """
    spec, data = build.spec, build.aggregated
    levels = spec.levels()
    rows = []
    for child, parent in spec.parent_map().items():
        if parent is None:
            continue
        rows.append(
            {
                "element": child,
                "level": levels[child],
                "parent": parent,
                "corr_with_parent": data[child].corr(data[parent], method=method),
                "corr_with_index": data[child].corr(data[spec.root], method=method),
            }
        )
    return pd.DataFrame(rows)


def cronbach_alpha(items: pd.DataFrame) -> float:
    """Cronbach's alpha of the columns of ``items`` (Cronbach, 1951).

    alpha = k/(k − 1)·(1 − tr(C)/ΣC), with C the sample covariance matrix (n − 1) of the items
    computed on pairwise complete observations, as COINr's ``get_cronbach`` does; without missing
    values this is the usual k/(k − 1)·(1 − Σ var(item)/var(Σ items)).
    """
    k = items.shape[1]
    if k < 2 or items.dropna(how="all").shape[0] < 2:
        return float("nan")
    cov = items.astype(float).cov(ddof=1).to_numpy()
    total = np.nansum(cov)
    if total == 0:
        return float("nan")
    return float(k / (k - 1) * (1 - np.trace(cov) / total))


def cronbach_by_group(build: IndexBuild, stage: str = "normalised") -> pd.DataFrame:
    """Cronbach's alpha of the children of every aggregate, on a stage's data."""
    data = getattr(build, stage)
    rows = []
    for code in build.spec.aggregation_order():
        kids = build.spec.children(code)
        frame = pd.DataFrame(
            {k: data[k] if k in data.columns else build.aggregated[k] for k in kids}
        )
        rows.append(
            {"aggregate": code, "n_children": len(kids), "cronbach_alpha": cronbach_alpha(frame)}
        )
    return pd.DataFrame(rows)


def pca_by_group(build: IndexBuild) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Principal components of the children of every aggregate (correlation matrix, complete rows).

    Returns (variance explained per component, loadings of the first component). Loadings are the
    eigenvector entries; their sign is chosen so that they sum to a non-negative value.
    """
    variance_rows, loading_rows = [], []
    for code in build.spec.aggregation_order():
        kids = build.spec.children(code)
        frame = build.aggregated[kids].dropna()
        if len(kids) < 2 or len(frame) < 3:
            continue
        corr = np.corrcoef(frame.to_numpy(dtype=float), rowvar=False)
        eigval, eigvec = np.linalg.eigh(corr)
        order = np.argsort(eigval)[::-1]
        eigval, eigvec = eigval[order], eigvec[:, order]
        share = eigval / eigval.sum()
        for n, (value, part) in enumerate(zip(eigval, share, strict=True), start=1):
            variance_rows.append(
                {"aggregate": code, "component": n, "eigenvalue": value, "variance_share": part}
            )
        first = eigvec[:, 0] * (1 if eigvec[:, 0].sum() >= 0 else -1)
        for kid, loading in zip(kids, first, strict=True):
            loading_rows.append({"aggregate": code, "element": kid, "loading_pc1": loading})
    # the columns stay declared when no aggregate has enough complete units (a small subset)
    return (
        pd.DataFrame(
            variance_rows, columns=["aggregate", "component", "eigenvalue", "variance_share"]
        ),
        pd.DataFrame(loading_rows, columns=["aggregate", "element", "loading_pc1"]),
    )


def effective_weights(spec: IndexSpec, weights: dict[str, float] | None = None) -> pd.DataFrame:
    """Effective weight of every element in the index: the product, along its path to the root,
    of its weight normalised among its siblings. The index has effective weight 1."""
    weights = weights or spec.weight_map()
    parents = spec.parent_map()
    levels = spec.levels()
    sibling_total: dict[str | None, float] = {}
    for code, parent in parents.items():
        sibling_total[parent] = sibling_total.get(parent, 0.0) + weights[code]
    rows = []
    for code, parent in parents.items():
        eff, node = 1.0, code
        while parents[node] is not None:
            total = sibling_total[parents[node]]
            eff *= weights[node] / total if total > 0 else 0.0
            node = parents[node]  # type: ignore[assignment]
        rows.append(
            {
                "element": code,
                "level": levels[code],
                "weight": weights[code],
                "effective_weight": eff,
            }
        )
    return pd.DataFrame(rows)


def rank_change_on_removal(build: IndexBuild, level: int | None = None) -> pd.DataFrame:
    """Mean absolute change of the index rank when one element's weight is set to zero.

    Only the aggregation is redone (the normalised data are unchanged), as in COINr's
    ``remove_elements``. ``level`` restricts the elements tested (default: every element).
    """
    spec = build.spec
    nominal = steps.rank_desc(build.aggregated[spec.root]).astype(float)
    levels = spec.levels()
    rows = [
        {
            "removed": "Nominal",
            "level": None,
            "mean_abs_rank_change": 0.0,
            "max_abs_rank_change": 0.0,
        }
    ]
    for code in spec.parent_map():
        if code == spec.root or (level is not None and levels[code] != level):
            continue
        weights = dict(build.weights)
        weights[code] = 0.0
        rescored = aggregate_spec(spec, build.normalised, weights)[spec.root]
        change = (steps.rank_desc(rescored).astype(float) - nominal).abs()
        rows.append(
            {
                "removed": code,
                "level": levels[code],
                "mean_abs_rank_change": float(change.mean()),
                "max_abs_rank_change": float(change.max()),
            }
        )
    return pd.DataFrame(rows)


def audit_tables(build: IndexBuild) -> dict[str, pd.DataFrame]:
    """Every audit table of a build, keyed by the file stem it is written under."""
    variance, loadings = pca_by_group(build)
    return {
        "audit_correlations_pearson": correlations_with_parent(build, "pearson"),
        "audit_correlations_spearman": correlations_with_parent(build, "spearman"),
        "audit_cronbach": cronbach_by_group(build, "normalised"),
        "audit_pca_variance": variance,
        "audit_pca_loadings": loadings,
        "audit_effective_weights": effective_weights(build.spec, build.weights),
        "audit_weight_removal": rank_change_on_removal(build),
    }
