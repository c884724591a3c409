"""Crossing a consultation with territories (issue 15): author location, participation per
100 000 inhabitants, engagement of the same territory, rank correlation with its interval,
disclosure of small counts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from barometre.consultation.territories import (
    author_departments,
    engagement,
    normalise_department,
    participation,
    protect_counts,
    rank_correlation,
    territory_populations,
    top_of_territory,
)


def test_normalise_department() -> None:
    assert [normalise_department(x) for x in ["1", "01", "2a", " 59 ", "971", "", None, "nan"]] == [
        "01", "01", "2A", "59", "971", "", "", "",
    ]  # fmt: skip


def test_author_departments() -> None:
    proposals = pd.DataFrame({
        "id": list("abcdefg"),
        "author_department": ["59", "", "", "", "99", "2b", ""],
        "author_postal_code": ["", "62100", "20000", "", "", "", "6000"],
    })  # fmt: skip
    located = author_departments(proposals, 2024)
    assert located["code_departement"].tolist() == ["59", "62", "", "", "", "2B", "06"]
    assert located["status"].tolist() == [
        "located", "located", "ambiguous postcode", "not located", "unknown code", "located", "located",
    ]  # fmt: skip


def test_participation_per_100k_by_hand() -> None:
    deps, _ = territory_populations(2024)
    pop = deps.set_index("code_departement")["population"]
    scored = pd.DataFrame({"id": list("abcde"), "n_votes": [100, 50, 10, 0, 7],
                           "zone": ["consensus", "limbo", "consensus", "rejection", "consensus"]})  # fmt: skip
    located = pd.DataFrame({"id": list("abcde"), "code_departement": ["59", "59", "62", "", "75"]})
    by_dep, by_reg = participation(scored, located, 2024)
    row = by_dep.set_index("code_departement").loc["59"]
    assert (row["proposals"], row["votes_received"], row["consensus"]) == (2, 150, 1)
    assert row["proposals_per_100k"] == pytest.approx(2 / pop["59"] * 100_000)
    hdf = by_reg.set_index("code_region").loc["32"]
    assert (
        hdf["proposals"] == 3
        and hdf["population"] == pop["59"] + pop["62"] + pop["02"] + pop["60"] + pop["80"]
    )
    assert by_dep["proposals"].sum() == by_reg["proposals"].sum() == 4
    assert by_reg["population"].sum() == by_dep["population"].sum()


def test_engagement_population_weighted() -> None:
    communes = pd.DataFrame({
        "code_departement": ["59", "59", "62", "62"], "code_region": ["32", "32", "32", "32"],
        "population": [1000, 3000, 500, 500], "score": [10.0, 30.0, 40.0, np.nan],
    })  # fmt: skip
    by_dep, by_reg = engagement(communes)
    assert by_dep["59"] == pytest.approx(25.0) and by_dep["62"] == pytest.approx(40.0)
    assert by_reg["32"] == pytest.approx((10_000 + 90_000 + 20_000) / 4500)
    with pytest.raises(ValueError, match="lacks the columns"):
        engagement(communes.drop(columns="population"))


def test_rank_correlation_interval() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=40)
    y = x + rng.normal(size=40)
    result = rank_correlation(x, y, level="département", measure="score")
    rho = stats.spearmanr(x, y).statistic
    se = math.sqrt((1 + rho**2 / 2) / 37)
    assert result.rho == pytest.approx(rho) and result.n == 40
    assert result.low == pytest.approx(math.tanh(math.atanh(rho) - 1.959963984540054 * se))
    assert result.low < rho < result.high
    tiny = rank_correlation([1, 2, np.nan], [3, 1, 2])
    assert tiny.n == 2 and math.isnan(tiny.rho)


def test_rank_correlation_coverage() -> None:
    """The Fisher-z interval of Spearman's ρ covers the population value about 95 % of the
    time (bivariate normal, ρ_s = 6/π·asin(ρ/2))."""
    rng = np.random.default_rng(11)
    r, n, reps = 0.5, 60, 400
    truth = 6 / math.pi * math.asin(r / 2)
    cov = [[1, r], [r, 1]]
    hits = 0
    for _ in range(reps):
        xy = rng.multivariate_normal([0, 0], cov, size=n)
        c = rank_correlation(xy[:, 0], xy[:, 1])
        hits += c.low <= truth <= c.high
    assert 0.91 <= hits / reps <= 0.985


def test_protect_counts() -> None:
    table = pd.DataFrame({"proposals": [0, 3, 11, 250], "consensus": [0, 1, 10, 90],
                          "proposals_per_100k": [0.0, 1.5, 2.25, 10.0]})  # fmt: skip
    out = protect_counts(table)
    assert out["proposals"].tolist() == ["0", "< 11", "11", "250"]
    assert out["consensus"].tolist() == ["0", "< 11", "< 11", "90"]
    assert out["proposals_per_100k"].tolist() == ["0.00", "", "2.25", "10.00"]


def test_top_of_territory() -> None:
    scored = pd.DataFrame({"id": list("abcd"), "p_consensus": [0.2, 0.9, 0.9, 0.99],
                           "top_score": [1.0, 0.5, 0.7, 0.1]})  # fmt: skip
    located = pd.DataFrame({"id": list("abcd"), "code_departement": ["59", "62", "59", "75"]})
    assert top_of_territory(scored, located, {"59", "62"})["id"].tolist() == ["c", "b", "a"]
