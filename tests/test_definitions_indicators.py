"""The edition's definitions reach the indicators: in 2025 the campaigns' audience is
participants / campaigns (exposure: the campaigns, never divided by the population), in 2024
participants / (campaigns × population) per 1 000 inhabitants; the sources step counts the
JeVeuxAider matches of the definition (flow in 2025, stock in 2024)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from barometre import geography
from barometre.composite import build_index, load_spec
from barometre.config import load_edition, load_indicator_meta
from barometre.indicators import engine_input, rates_per_1000
from barometre.sources.counts import commune_counts

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "clusters" / "raw"


@pytest.fixture(scope="module")
def lozere() -> pd.DataFrame:
    return geography.load_communes(2024, departments=["48"])


def synthetic_counts(communes: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = len(communes)
    campaigns = rng.poisson(3, n)
    return pd.DataFrame(
        {
            "code_commune": communes["code_commune"],
            "rna_creations": rng.poisson(2, n),
            "ha_new_organizations": rng.poisson(1, n),
            "ha_campaigns": campaigns,
            "ha_participants": rng.poisson(20, n) * (campaigns > 0),
            "jva_matches": rng.poisson(5, n),
            "ha_donations": rng.poisson(4, n),
        }
    )


@pytest.mark.parametrize("edition", [2024, 2025])
def test_audience_indicator_follows_the_definition(lozere: pd.DataFrame, edition: int) -> None:
    config = load_edition(edition)
    meta = load_indicator_meta(config)
    counts = synthetic_counts(lozere)
    table = engine_input(counts, lozere, meta, config.classes.bounds, config.classes.labels)
    merged = table.merge(counts, on="code_commune", suffixes=("", "_count"))
    per_campaign = merged["ha_participants_count"] / merged["ha_campaigns_count"].where(
        merged["ha_campaigns_count"] > 0
    )
    # the engine's input is the ratio in both editions; the spec decides what divides it
    np.testing.assert_allclose(table["ha_participants_per_campaign"], per_campaign, equal_nan=True)
    build = build_index(load_spec(config.path(config.index_spec)), table, weight_set=config.weights)
    denominated = build.denominated["ha_participants_per_campaign"]  # indexed by commune code
    rates = rates_per_1000(table, meta).set_index("code_commune")["ha_participants_per_campaign"]
    codes = table["code_commune"].to_numpy()
    if edition == 2025:  # participants per campaign: no population anywhere
        expected = per_campaign.to_numpy()
    else:  # the 2024 published definition: per campaign and per 1 000 inhabitants
        expected = (per_campaign / merged["population"] * 1000).to_numpy()
    np.testing.assert_allclose(denominated.reindex(codes).to_numpy(), expected, equal_nan=True)
    np.testing.assert_allclose(rates.reindex(codes).to_numpy(), expected, equal_nan=True)
    # count indicators stay per 1 000 inhabitants
    np.testing.assert_allclose(
        rates_per_1000(table, meta)["jva_matches"],
        table["jva_matches"] / table["population"] * 1000,
    )


@pytest.mark.parametrize(("edition", "mende"), [(2024, 9), (2025, 3)])
def test_sources_count_the_matches_of_the_definition(lozere, edition: int, mende: int) -> None:
    """As the sources step calls it: the 2024 stock at the end of its data year, the 2025
    matches created in its data year (fixture with data year 2024: stock 9, flow 3 in Mende)."""
    config = load_edition(edition)
    counts, _ = commune_counts(
        FIXTURE, lozere, 2024, config.counted_states or None,
        jva_cumulative=config.definitions.jva_cumulative, cog_year=2024,
    )  # fmt: skip
    assert counts.set_index("code_commune").at["48095", "jva_matches"] == mende
