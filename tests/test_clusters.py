"""Cluster statistics of the clustered counts (``barometre.sources.counts.CLUSTERED_COUNTS``):
JeVeuxAider matches by mission, HelloAsso participants and donations by campaign, campaigns by
organisation — exact on a hand-counted fixture in the real layouts (``tests/fixtures/clusters``,
stock and flow of matches differing), against an oracle on the demo data, identities (sizes sum
to the count) on both, and the per-campaign split of the streamed participations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_demo import fixture_communes

from barometre import demo, geography
from barometre.sources import helloasso
from barometre.sources.counts import (
    CLUSTER_COLUMNS,
    CLUSTER_STATISTICS,
    CLUSTERED_COUNTS,
    COUNT_COLUMNS,
    commune_counts,
)

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "clusters" / "raw"
CORPUS = Path(__file__).resolve().parent / "fixtures" / "malformed"


def stats(counts: pd.DataFrame, code: str, count: str) -> tuple[int, ...]:
    row = counts.set_index("code_commune").loc[code]
    return tuple(int(row[c]) for c in (count, *(f"{count}_{s}" for s in CLUSTER_STATISTICS)))


def check_identities(counts: pd.DataFrame) -> None:
    """Sizes s ≥ 1 summing to n: zero iff n is zero, k ≤ n, max ≤ n ≤ k·max, n ≤ Σs² ≤ max·n."""
    for count in CLUSTERED_COUNTS:
        n = counts[count]
        k, q, m = (counts[f"{count}_{s}"] for s in CLUSTER_STATISTICS)
        zero = n == 0
        assert ((k == 0) & (q == 0) & (m == 0))[zero].all(), count
        assert ((k >= 1) & (m >= 1))[~zero].all(), count
        assert (k <= n).all() and (m <= n).all() and (k * m >= n).all(), count
        assert (q >= n).all() and (q <= m * n).all(), count
    orgs = counts["ha_participants_organizations"]
    assert (orgs <= counts["ha_participants_clusters"]).all()
    assert ((orgs == 0) == (counts["ha_participants"] == 0)).all()


@pytest.fixture(scope="module")
def lozere() -> pd.DataFrame:
    return geography.load_communes(2024, departments=["48"])


@pytest.mark.parametrize("cumulative", [True, False])
def test_fixture_counts_and_clusters(lozere: pd.DataFrame, cumulative: bool) -> None:
    counts, report = commune_counts(FIXTURE, lozere, 2024, jva_cumulative=cumulative, cog_year=2024)
    assert list(counts.columns) == ["code_commune", *COUNT_COLUMNS, *CLUSTER_COLUMNS]
    check_identities(counts)
    mende, florac, allenc = "48095", "48061", "48003"
    assert stats(counts, mende, "ha_campaigns") == (3, 2, 5, 2)
    assert stats(counts, florac, "ha_campaigns") == (1, 1, 1, 1)
    assert stats(counts, mende, "ha_participants") == (13, 5, 43, 5)
    assert stats(counts, florac, "ha_participants") == (3, 2, 5, 2)
    assert stats(counts, mende, "ha_donations") == (4, 2, 10, 3)
    assert stats(counts, florac, "ha_donations") == (2, 1, 4, 2)
    by_code = counts.set_index("code_commune")["ha_participants_organizations"]
    assert (by_code[mende], by_code[florac]) == (2, 1)
    if cumulative:  # the stock at 31 December 2024
        expected = {mende: (9, 2, 41, 5), florac: (2, 1, 4, 2), allenc: (2, 1, 4, 2)}
    else:  # created in 2024 only
        expected = {mende: (3, 1, 9, 3), florac: (1, 1, 1, 1), allenc: (0, 0, 0, 0)}
    assert {c: stats(counts, c, "jva_matches") for c in expected} == expected
    assert counts.drop(columns="code_commune").sum().sum() == sum(
        counts.set_index("code_commune").loc[[mende, florac, allenc]].sum()
    )  # nothing anywhere else
    report = report.set_index("source")
    assert report.loc["jeveuxaider_participations", "quarantined"] == 1
    assert report.loc["helloasso_participations", "quarantined"] == 1
    assert report.loc["jeveuxaider_participations", "matched"] == (13 if cumulative else 4)


def test_demo_clusters_against_an_oracle(tmp_path: Path) -> None:
    """National totals of the cluster statistics on the demo data, recomputed from the
    generator's tables with pandas (placeable = has a postcode, as the generator plants)."""
    communes = fixture_communes()
    year = 2023
    data = demo.synthesize_demo(communes, year, np.random.default_rng(99), scale=0.5)
    demo.write_demo_inputs(data, tmp_path)
    counts, _ = commune_counts(tmp_path, communes, year)
    check_identities(counts)

    def totals(sizes: pd.Series) -> tuple[int, int, int, int]:
        sizes = sizes[sizes > 0]
        return int(sizes.sum()), len(sizes), int((sizes**2).sum()), int(sizes.max())

    def measured(count: str) -> tuple[int, int, int, int]:
        n, k, q, m = (counts[c] for c in (count, *(f"{count}_{s}" for s in CLUSTER_STATISTICS)))
        return int(n.sum()), int(k.sum()), int(q.sum()), int(m.max())

    orgs = data.ha_organizations.set_index("id")
    counted_org = orgs["type"].str.startswith("Association") & orgs["postal_code"].str.fullmatch(
        r"\d{5}"
    )
    # matches: repeated ids are quarantined (first kept), created up to the end of the year
    missions = data.jva_missions.set_index("id")
    matches = data.jva_participations.drop_duplicates("id")
    placed = matches["mission_id"].map(missions["postal_code"] != "").fillna(False).astype(bool)
    scope = placed & (matches["created_at"].str[:4] <= str(year))
    assert measured("jva_matches") == totals(matches[scope].groupby("mission_id").size())
    # campaigns: well-formed rows created in the year, in a counted state, by counted orgs
    forms = data.ha_forms[data.ha_forms["created_at"].str.fullmatch(r"\d{4}-\d\d-\d\dT.*")]
    forms = forms.drop_duplicates("form_id")
    scope = (
        (forms["created_at"].str[:4] == str(year))
        & forms["state"].isin(helloasso.DEFAULT_FORM_STATES)
        & forms["organization_id"].astype("int64").map(counted_org).fillna(False).astype(bool)
    )
    assert measured("ha_campaigns") == totals(forms[scope].groupby("organization_id").size())
    # participants: items dated in the year, in a counted state, of counted orgs, by form
    items = data.ha_participations.to_pandas().drop_duplicates("id")
    scope = (
        (items["date"].dt.year == year)
        & items["state"].astype(str).isin(helloasso.DEFAULT_ITEM_STATES)
        & items["organization_id"].map(counted_org).fillna(False).astype(bool)
    )
    by_form = items[scope].groupby(["organization_id", "form_id"]).size()
    assert measured("ha_participants") == totals(by_form)
    assert (
        counts["ha_participants_organizations"].sum()
        == items.loc[scope, "organization_id"].nunique()
    )
    donation = (
        data.ha_forms.drop_duplicates("form_id")
        .set_index("form_id")["form_type"]
        .isin(helloasso.DONATION_FORM_TYPES)
    )
    gifts = by_form[
        by_form.index.get_level_values("form_id").map(donation).fillna(False).astype(bool)
    ]
    assert measured("ha_donations") == totals(gifts)


def test_participations_per_form_sum_to_the_organisation(tmp_path: Path) -> None:
    """The streamed per-campaign split sums to each organisation's in-scope rows, with
    repeated ids and quarantined rows (real-format fixtures, CSV and the corpus's file)."""
    for path, year in (
        (FIXTURE / "helloasso" / "participations.csv", 2024),
        (CORPUS / "negative_counts" / "participations.csv", 2023),
    ):
        summary = helloasso.participations_by_organization(
            path, year, helloasso.DEFAULT_ITEM_STATES
        )
        per_form = summary.per_form
        assert list(per_form.columns) == ["organization_id", "form_id", "in_scope"]
        assert (per_form.dtypes == "int64").all() and (per_form["in_scope"] > 0).all()
        summed = per_form.groupby("organization_id")["in_scope"].sum()
        expected = summary.per_org.set_index("organization_id")["in_scope"]
        pd.testing.assert_series_equal(
            summed.reindex(expected.index, fill_value=0), expected, check_names=False
        )
        assert summed.sum() > 0
