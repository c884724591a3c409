"""Audit helpers: Cronbach's alpha, effective weights, weight removal, PCA and correlations.

Small hand-computed cases; the builds are tiny three-level indices built from in-memory frames.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from barometre.composite import audit, build_index, spec_from_dict
from barometre.composite.spec import IndexSpec


def make_spec(weights: dict[str, float] | None = None) -> IndexSpec:
    """i1, i2 -> c1; i3 -> c2; c1, c2 -> idx (min-max [0, 100], arithmetic)."""
    weights = weights or {}
    return spec_from_dict(
        {
            "name": "audit",
            "units": {"code": "code"},
            "indicators": [
                {"code": "i1", "parent": "c1", "weight": weights.get("i1", 1.0)},
                {"code": "i2", "parent": "c1", "weight": weights.get("i2", 1.0)},
                {"code": "i3", "parent": "c2", "weight": weights.get("i3", 1.0)},
            ],
            "aggregates": [
                {"code": "idx"},
                {"code": "c1", "parent": "idx", "weight": weights.get("c1", 1.0)},
                {"code": "c2", "parent": "idx", "weight": weights.get("c2", 1.0)},
            ],
        }
    )


def frame(i1: list[float], i2: list[float], i3: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"code": [f"u{k}" for k in range(len(i1))], "i1": i1, "i2": i2, "i3": i3})


# --- Cronbach's alpha ------------------------------------------------------------------------
def test_cronbach_alpha_hand_computed_3x3() -> None:
    items = pd.DataFrame({"a": [1.0, 2.0, 4.0], "b": [2.0, 3.0, 4.0], "c": [3.0, 4.0, 5.0]})
    # var a = 7/3, var b = var c = 1; totals 6, 9, 13 -> var 37/3
    # alpha = 3/2·(1 − (7/3 + 2)/(37/3)) = 3/2·24/37 = 36/37
    assert audit.cronbach_alpha(items) == pytest.approx(36 / 37, rel=1e-14)


def test_cronbach_alpha_perfectly_consistent_items_is_one() -> None:
    items = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [2.0, 4.0, 6.0]})
    # var a = 1, var b = 4, var(a + b) = 9: 2·(1 − 5/9) = 8/9; identical items give exactly 1
    assert audit.cronbach_alpha(items) == pytest.approx(8 / 9, rel=1e-14)
    same = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, 2.0, 3.0]})
    assert audit.cronbach_alpha(same) == pytest.approx(1.0, rel=1e-14)


def test_cronbach_alpha_undefined_cases() -> None:
    assert math.isnan(audit.cronbach_alpha(pd.DataFrame({"a": [1.0, 2.0, 3.0]})))
    assert math.isnan(audit.cronbach_alpha(pd.DataFrame({"a": [1.0], "b": [2.0]})))
    assert math.isnan(audit.cronbach_alpha(pd.DataFrame({"a": [1.0, 1.0], "b": [2.0, 2.0]})))


def test_cronbach_by_group() -> None:
    build = build_index(make_spec(), frame([1, 2, 3, 4], [2, 4, 6, 8], [4, 1, 3, 2]))
    table = audit.cronbach_by_group(build).set_index("aggregate")
    assert list(table.index) == ["c1", "c2", "idx"]
    assert table.loc["c1", "n_children"] == 2
    # i1 and i2 normalise to the same values: alpha 1; c2 has one child: undefined
    assert table.loc["c1", "cronbach_alpha"] == pytest.approx(1.0, rel=1e-12)
    assert math.isnan(table.loc["c2", "cronbach_alpha"])


# --- effective weights ------------------------------------------------------------------------
def test_effective_weights_hand_computed_and_sum_to_one_per_level() -> None:
    spec = make_spec({"i1": 1, "i2": 3, "i3": 2, "c1": 1, "c2": 3})
    table = audit.effective_weights(spec).set_index("element")
    # i1 = 1/4·1/4, i2 = 3/4·1/4, i3 = 1·3/4; criteria 1/4 and 3/4; index 1
    expected = {"i1": 1 / 16, "i2": 3 / 16, "i3": 3 / 4, "c1": 1 / 4, "c2": 3 / 4, "idx": 1.0}
    for code, value in expected.items():
        assert table.loc[code, "effective_weight"] == pytest.approx(value, rel=1e-15)
    sums = table.groupby("level")["effective_weight"].sum()
    assert sums.to_dict() == pytest.approx({1: 1.0, 2: 1.0, 3: 1.0}, rel=1e-15)


def test_effective_weights_with_a_weight_set() -> None:
    spec = make_spec()
    weights = {**spec.weight_map(), "i1": 0.0}
    table = audit.effective_weights(spec, weights).set_index("element")
    assert table.loc["i1", "effective_weight"] == 0.0
    assert table.loc["i2", "effective_weight"] == pytest.approx(0.5)
    assert table.groupby("level")["effective_weight"].sum().tolist() == pytest.approx(
        [1.0, 1.0, 1.0]
    )


# --- rank change on removal --------------------------------------------------------------------
def removal_build():
    # i3 is constant (zero variance): c2 = 50 for everyone, so removing i3 or c2 only shifts the
    # index by a constant or rescales it, and no rank can move; removing i1 leaves i2 alone in c1.
    data = frame([1, 2, 3, 4, 5], [5, 1, 4, 2, 3], [7, 7, 7, 7, 7])
    return build_index(make_spec(), data)


def test_rank_change_on_removal_zero_for_zero_variance_element() -> None:
    table = audit.rank_change_on_removal(removal_build()).set_index("removed")
    assert table.loc["Nominal", "mean_abs_rank_change"] == 0.0
    for code in ["i3", "c2"]:
        assert table.loc[code, "mean_abs_rank_change"] == 0.0
        assert table.loc[code, "max_abs_rank_change"] == 0.0


def test_rank_change_on_removal_nonzero_for_an_informative_element() -> None:
    build = removal_build()
    table = audit.rank_change_on_removal(build).set_index("removed")
    # without i1 the index ranks are those of i2: 1 5 2 4 3 (u0 best) vs nominal ranks of i1 + i2
    nominal = build.results["rank_idx"].sort_index().astype(float)
    by_i2 = pd.Series([1.0, 5.0, 2.0, 4.0, 3.0], index=nominal.index)
    expected = (nominal - by_i2).abs()
    assert table.loc["i1", "mean_abs_rank_change"] == pytest.approx(expected.mean())
    assert table.loc["i1", "max_abs_rank_change"] == expected.max()
    assert table.loc["i1", "mean_abs_rank_change"] > 0


def test_rank_change_on_removal_restricted_to_a_level() -> None:
    table = audit.rank_change_on_removal(removal_build(), level=2)
    assert table["removed"].tolist() == ["Nominal", "c1", "c2"]


def test_rank_change_on_removal_leaves_the_build_untouched() -> None:
    build = removal_build()
    before = dict(build.weights)
    audit.rank_change_on_removal(build)
    assert build.weights == before


# --- PCA ---------------------------------------------------------------------------------------
def test_pca_variance_shares_sum_to_one() -> None:
    rng = np.random.default_rng(20240601)
    data = frame(*(rng.normal(size=12).round(3).tolist() for _ in range(3)))
    variance, loadings = audit.pca_by_group(build_index(make_spec(), data))
    # c2 has one child: no PCA; c1 and idx have two children each
    assert sorted(variance["aggregate"].unique()) == ["c1", "idx"]
    for _, group in variance.groupby("aggregate"):
        assert group["variance_share"].sum() == pytest.approx(1.0, rel=1e-12)
        assert group["eigenvalue"].sum() == pytest.approx(len(group), rel=1e-12)
        assert group["variance_share"].is_monotonic_decreasing
    for _, group in loadings.groupby("aggregate"):
        assert np.linalg.norm(group["loading_pc1"]) == pytest.approx(1.0, rel=1e-12)
        assert group["loading_pc1"].sum() >= 0


def test_pca_perfectly_correlated_children() -> None:
    build = build_index(make_spec(), frame([1, 2, 3, 5], [2, 4, 6, 10], [3, 1, 2, 4]))
    variance, loadings = audit.pca_by_group(build)
    c1 = variance[variance["aggregate"] == "c1"]
    assert c1["variance_share"].tolist() == pytest.approx([1.0, 0.0], abs=1e-12)
    c1_loadings = loadings[loadings["aggregate"] == "c1"]["loading_pc1"]
    assert c1_loadings.tolist() == pytest.approx([1 / math.sqrt(2)] * 2, rel=1e-12)


# --- correlations ------------------------------------------------------------------------------
def test_correlations_with_parent() -> None:
    build = build_index(make_spec(), frame([1, 2, 3, 5], [2, 4, 6, 10], [3, 1, 2, 4]))
    table = audit.correlations_with_parent(build).set_index("element")
    assert set(table.index) == {"i1", "i2", "i3", "c1", "c2"}
    # i3 is c2's only child; c1 is the plain mean of two identical normalised indicators
    assert table.loc["i3", "corr_with_parent"] == pytest.approx(1.0, rel=1e-12)
    assert table.loc["i1", "corr_with_parent"] == pytest.approx(1.0, rel=1e-12)
    assert table.loc["c2", "parent"] == "idx" and table.loc["i3", "level"] == 1
    spearman = audit.correlations_with_parent(build, "spearman").set_index("element")
    assert spearman.loc["i3", "corr_with_parent"] == pytest.approx(1.0)
    # ranks of i1 (1 2 3 4) against ranks of c2 = i3 (3 1 2 4): 1 − 6·Σd²/(n(n²−1)) = 1 − 36/60
    i_vs_c2 = build.aggregated["i1"].corr(build.aggregated["c2"], method="spearman")
    assert i_vs_c2 == pytest.approx(0.4, rel=1e-12)


def test_audit_tables_names() -> None:
    build = build_index(make_spec(), frame([1, 2, 3, 5], [2, 1, 6, 10], [3, 1, 2, 4]))
    tables = audit.audit_tables(build)
    assert set(tables) == {
        "audit_correlations_pearson",
        "audit_correlations_spearman",
        "audit_cronbach",
        "audit_pca_variance",
        "audit_pca_loadings",
        "audit_effective_weights",
        "audit_weight_removal",
    }
