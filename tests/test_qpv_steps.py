"""Unit tests of the steps of the synthetic QPV list (:mod:`barometre.qpv.synthetic`) and of the
engagement table's row (:mod:`barometre.qpv.profile`): exact values on hand-made inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from barometre.qpv import profile as qp
from barometre.qpv.synthetic import (
    QpvMagnitudes,
    _capacities,
    _department_total,
    _epci_quotas,
    _qpv_code,
)


@pytest.mark.parametrize(
    ("dep", "rank", "code"),
    [
        ("59", 1, "QN05901S"),
        ("59", 99, "QN05999S"),
        ("59", 100, "QN059A0S"),
        ("59", 135, "QN059D5S"),
        ("2A", 3, "QN02A03S"),
        ("971", 12, "QN97112S"),
    ],
)
def test_qpv_codes_number_then_letter_the_qpv_of_a_department(
    dep: str, rank: int, code: str
) -> None:
    assert _qpv_code(dep, rank) == code


def test_capacity_shares_a_commune_among_the_qpv_touching_it() -> None:
    members = pd.DataFrame({"code_commune": ["a", "b"], "population": [1_000, 2_000]})
    capacity = _capacities([["a"], ["a", "b"]], members, QpvMagnitudes())
    # a: 45 % of 1 000 shared by two QPV; b: 45 % of 2 000 to the second alone
    assert capacity.tolist() == pytest.approx([225.0, 225.0 + 900.0])


def test_department_totals_share_the_regional_population_exactly() -> None:
    deps = ["02", "59", "60", "62", "75"]
    communes = pd.DataFrame(
        {"code_departement": deps, "code_region": ["32", "32", "32", "32", "11"]}
    )
    targets = pd.Series([10, 94, 12, 64, 20], index=deps)
    magnitudes = QpvMagnitudes()
    totals = {d: _department_total(d, int(targets[d]), communes, targets, magnitudes) for d in deps}
    assert totals["59"] == 94 * 4_600  # the published mean of the Nord
    rest = 753_100 - 94 * 4_600  # shared by 02, 60, 62 (86 QPV) in proportion
    assert totals["02"] == int(rest * 10 / 86) == 37_290
    assert totals["60"] == int(rest * 12 / 86) == 44_748
    assert totals["62"] == rest - 37_290 - 44_748  # the last takes the remainder
    assert sum(totals[d] for d in deps[:4]) == 753_100
    assert totals["75"] == 20 * 3_700  # no published total in Île-de-France: the mean


def test_epci_quotas_follow_the_contracts_and_keep_one_qpv_each() -> None:
    members = pd.DataFrame(
        {"code_epci": ["E1", "E1", "E2", "E3"], "population": [50_000, 8_000, 30_000, 12_000]}
    )
    contracts = pd.DataFrame(
        {"code_epci_cog2024": ["E1", "E2", "E2", "E9"], "pop_qpv_2015": [300, 60, 40, 500]}
    )
    quotas = _epci_quotas(3, members, contracts, "code_epci_cog2024")
    assert quotas.to_dict() == {"E1": 2, "E2": 1}  # 2.25 and 0.75; E9 is not in the département
    # fewer QPV than contracts: no floor of one
    assert _epci_quotas(1, members, contracts, "code_epci_cog2024").to_dict() == {"E1": 1, "E2": 0}
    # weights 900 / 100 give 4.5 / 0.5 → 5 / 0 by largest remainder, then every contract one
    uneven = contracts.assign(pop_qpv_2015=[900, 50, 50, 0])
    assert _epci_quotas(5, members, uneven, "code_epci_cog2024").to_dict() == {"E1": 4, "E2": 1}
    # no contract in the département: its three largest towns' EPCI, by their largest town
    none = contracts.iloc[:0]
    fallback = {"E1": 1, "E2": 1, "E3": 0}  # 1.09, 0.65, 0.26 → 1, 0, 0, then E2 for the rest
    assert _epci_quotas(2, members, none, "code_epci_cog2024").to_dict() == fallback
    # 1.63 / 0.98 / 0.39 → 2, 1, 0; one each → 2, 1, 1; the largest gives one back
    assert _epci_quotas(3, members, none, "code_epci_cog2024").to_dict() == dict.fromkeys(
        ["E1", "E2", "E3"], 1
    )


def test_engagement_row_summarises_the_draws_and_blanks_a_withheld_row() -> None:
    measure = qp.Measure("i1", "jva_matches", "Mises en relation", "i1")
    draws = pd.DataFrame(
        {qp.WITH: [2.0, 4.0, 6.0], qp.WITHOUT: [1.0, 1.0, 1.0], qp.COMPARISON: [1.0, 2.0, 2.0]}
    )
    observed = {qp.WITH: 4.5, qp.WITHOUT: 1.5, qp.COMPARISON: 3.0}
    row = qp._engagement_row(measure, observed, draws, False, credible=0.5)
    assert row["observed_ratio"] == 1.5
    assert (row["rate_with"], row["rate_comparison"], row["rate_without"]) == (4.0, 2.0, 1.5)
    assert (row["lower_with"], row["upper_with"]) == (3.0, 5.0)  # quartiles
    assert (row["ratio"], row["p_higher"]) == (2.0, 1.0)  # ratios 2, 2, 3
    withheld = qp._engagement_row(measure, observed, draws, True, credible=0.5)
    assert (withheld["measure"], withheld["label"], withheld["withheld"]) == (
        "i1",
        "Mises en relation",
        True,
    )
    assert all(
        np.isnan(v) for k, v in withheld.items() if k not in ("measure", "label", "withheld")
    )
