"""Unit tests of :mod:`barometre.indicators`: counts → engine table → published rates, on
hand-made communes with values computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barometre.indicators import (
    IndicatorTables,
    count_columns,
    engine_input,
    is_ratio,
    rates_per_1000,
    ratio,
    score_reliability,
)

META = {
    "indicators": [
        {"code": "creations", "count": "rna_creations", "exposure": "population"},
        {"code": "campaigns", "count": "ha_campaigns", "exposure": "population"},
        {
            "code": "per_campaign",
            "numerator": "ha_participants",
            "denominator_count": "ha_campaigns",
            "exposure": "ha_campaigns",
        },
    ]
}
BOUNDS = [1000, 10000]
LABELS = ["Petite", "Moyenne", "Grande"]


def communes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code_commune": ["2A004", "01001", "59350", "48095"],
            "nom": ["Ajaccio", "L'Abergement-Clémenciat", "Lille", "Mende"],
            "population": [70_000, 800, 230_000, 50],
            "code_departement": ["2A", "01", "59", "48"],
            "code_region": ["94", "84", "32", "76"],
        }
    )


def counts() -> pd.DataFrame:
    # 2A004 absent (zero counts); Lille: a structural gap (unknown creations) and no campaign
    return pd.DataFrame(
        {
            "code_commune": ["01001", "59350", "48095"],
            "rna_creations": [2.0, np.nan, 1.0],
            "ha_campaigns": [4, 0, 1],
            "ha_participants": [10, 0, 3],
        }
    )


def test_count_columns_lists_each_needed_count_once_in_order():
    assert count_columns(META) == ["rna_creations", "ha_campaigns", "ha_participants"]
    assert [is_ratio(i) for i in META["indicators"]] == [False, False, True]


def test_ratio_is_missing_not_infinite_where_the_denominator_is_zero():
    out = ratio(pd.Series([10, 0, 3, 5]), pd.Series([4, 0, 0, -1]))
    assert out.iloc[0] == 2.5
    assert out.iloc[1:].isna().all()


def test_engine_input_joins_classes_zero_counts_and_keeps_gaps_missing():
    table = engine_input(counts(), communes(), META, BOUNDS, LABELS, min_population=100)
    # Mende (50 inhabitants) is below the minimum; rows sorted by code
    assert table["code_commune"].tolist() == ["01001", "2A004", "59350"]
    assert table.columns.tolist() == [
        "code_commune",
        "nom",
        "population",
        "population_class",
        "code_departement",
        "code_region",
        "creations",
        "campaigns",
        "per_campaign",
    ]
    assert table["population_class"].tolist() == ["Petite", "Grande", "Grande"]
    by_code = table.set_index("code_commune")
    assert by_code.loc["01001", ["creations", "campaigns", "per_campaign"]].tolist() == [
        2.0,
        4.0,
        2.5,
    ]
    # absent from the counts: zero counts, and a ratio of 0/0 is missing
    assert by_code.loc["2A004", ["creations", "campaigns"]].tolist() == [0.0, 0.0]
    assert np.isnan(by_code.loc["2A004", "per_campaign"])
    # a structural gap stays missing (unknown, not zero)
    assert np.isnan(by_code.loc["59350", "creations"]) and by_code.loc["59350", "campaigns"] == 0.0


def test_engine_input_refuses_counts_without_a_needed_column():
    with pytest.raises(KeyError, match="ha_participants"):
        engine_input(counts().drop(columns="ha_participants"), communes(), META, BOUNDS, LABELS)


def test_engine_input_refuses_duplicated_commune_counts():
    doubled = pd.concat([counts(), counts().iloc[:1]])
    with pytest.raises(pd.errors.MergeError):
        engine_input(doubled, communes(), META, BOUNDS, LABELS)


def test_rates_per_1000_divide_by_population_unless_the_exposure_is_another_count():
    table = engine_input(counts(), communes(), META, BOUNDS, LABELS, min_population=100)
    rates = rates_per_1000(table, META).set_index("code_commune")
    assert rates.loc["01001", "creations"] == pytest.approx(2 / 800 * 1000)  # 2.5 per 1 000
    assert rates.loc["01001", "campaigns"] == pytest.approx(5.0)
    assert rates.loc["01001", "per_campaign"] == 2.5  # participants per campaign, as it is
    assert rates.loc["2A004", "creations"] == 0.0


def test_score_reliability_is_the_weighted_mean_of_the_known_data_weights():
    data_weights = pd.DataFrame(
        {
            "a": [0.2, np.nan, np.nan, 1.0],
            "b": [0.8, 0.5, np.nan, 0.0],
            "c": [0.4, 0.1, np.nan, 0.3],
        },
        index=["x", "y", "z", "t"],
    )
    weights = {"a": 0.5, "b": 0.25}  # c has no weight in the score
    out = score_reliability(data_weights, weights)
    assert out.name == "score_reliability"
    assert out["x"] == pytest.approx((0.5 * 0.2 + 0.25 * 0.8) / 0.75)
    assert out["y"] == pytest.approx(0.5)  # only b is known among the weighted indicators
    assert np.isnan(out["z"])  # nothing known: undefined, not zero
    assert out["t"] == pytest.approx(0.5 * 1.0 / 0.75)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.lists(st.one_of(st.none(), st.floats(0, 1)), min_size=3, max_size=3),
        min_size=1,
        max_size=12,
    ),
    st.lists(st.floats(0.01, 5), min_size=3, max_size=3),
)
def test_score_reliability_lies_between_the_known_data_weights(rows, weights):
    data = pd.DataFrame(rows, columns=["a", "b", "c"], dtype=float)
    out = score_reliability(data, dict(zip("abc", weights)))
    for i, row in data.iterrows():
        known = row.dropna()
        if known.empty:
            assert np.isnan(out[i])
        else:
            assert known.min() - 1e-12 <= out[i] <= known.max() + 1e-12


def test_indicator_tables_choose_the_ranked_rates():
    raw, shrunk = pd.DataFrame({"v": [1]}), pd.DataFrame({"v": [2]})
    tables = IndicatorTables(raw, shrunk, pd.DataFrame(), pd.DataFrame(), pd.DataFrame())
    assert tables.chosen("shrunk") is shrunk and tables.chosen("raw") is raw


def test_shrunk_tables_give_counts_for_count_indicators_and_rates_for_ratios() -> None:
    from barometre.indicators import _shrunk_tables

    meta = {
        "indicators": [
            *META["indicators"],
            {
                "code": "per_capita_ratio",
                "numerator": "x",
                "denominator_count": "y",
                "exposure": "population",
            },
        ]
    }
    raw = pd.DataFrame(
        {
            "code_commune": ["a", "b"],
            "population": [2000.0, 500.0],
            "population_class": ["Petite", "Petite"],
            "creations": [4.0, np.nan],
            "campaigns": [1.0, 2.0],
            "per_campaign": [2.5, 3.0],
            "per_capita_ratio": [1.0, 1.0],
        }
    )

    def post(mean: list[float]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "raw_rate": mean,
                "posterior_mean": mean,
                "lower": mean,
                "upper": mean,
                "shrinkage_weight": [0.25, 0.5],
                "design_effect": [1.0, 2.0],
            }
        )

    posteriors = {
        "creations": post([3.0, 1.0]),
        "campaigns": post([0.5, 4.0]),
        "per_campaign": post([2500.0, 3000.0]),
        "per_capita_ratio": post([4000.0, 1000.0]),
    }
    shrunk, long = _shrunk_tables(raw, posteriors, meta)
    # a count: posterior rate per 1 000 × population / 1 000; a missing raw value stays missing
    assert shrunk["creations"].tolist()[0] == 6.0
    assert np.isnan(shrunk["creations"].tolist()[1])
    assert shrunk["campaigns"].tolist() == [1.0, 2.0]
    # a ratio: the posterior rate itself (per unit of its exposure)
    assert shrunk["per_campaign"].tolist() == [2.5, 3.0]
    assert shrunk["per_capita_ratio"].tolist() == [4.0, 1.0]
    assert raw["creations"].tolist()[0] == 4.0  # the raw table is not modified
    by = long.set_index(["indicator", "code_commune"])
    assert by.loc[("creations", "a"), "posterior_mean"] == 3.0
    assert by.loc[("per_campaign", "b"), "posterior_mean"] == 3.0
    # a ratio per inhabitant is published per 1 000 inhabitants: 4 000 / 2 000, 1 000 / 500
    assert by.loc[("per_capita_ratio", "a"), "posterior_mean"] == pytest.approx(2.0, rel=1e-15)
    assert by.loc[("per_capita_ratio", "b"), "posterior_mean"] == pytest.approx(2.0, rel=1e-15)
    assert by.loc[("campaigns", "b"), "design_effect"] == 2.0
    assert long["prior_group"].unique().tolist() == ["Petite"]
    assert len(long) == 8
