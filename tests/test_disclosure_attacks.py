"""Disclosure attacks: each attack recovers counts from a table published without protection
(the suite can fail), and recovers nothing from the builds of both demo editions."""

from __future__ import annotations

import dataclasses
import functools
import math
import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barometre.countmodel import IndicatorSpec, fit_indicator_models
from barometre.disclosure import DEFAULT_THRESHOLD, protect_table
from barometre.disclosure_attacks import (
    CellKnowledge,
    PublishedModel,
    PublishedTotal,
    deliberately_unprotected,
    edition_attack,
    is_recovered,
    margin_attack,
    printed_tolerance,
    product_attack,
    ranked_predictions,
    run_attacks,
)

T = DEFAULT_THRESHOLD
CANDIDATES = np.arange(1, 501, dtype=float)


def test_printed_precision_is_half_a_unit_of_the_last_digit():
    assert printed_tolerance("12.35") == pytest.approx(0.005, abs=1e-7)
    assert printed_tolerance("7") == pytest.approx(0.5, abs=1e-7)
    assert printed_tolerance("< 11") == math.inf


def test_recovered_means_a_narrower_range_holding_the_truth():
    assert is_recovered(4, 4, 4)  # a single value
    assert is_recovered(4, 3, 10)  # 3–10 excludes part of « 1 to 10 »
    assert not is_recovered(4, 1, 10)  # the public range: nothing learnt
    assert not is_recovered(4, -math.inf, math.inf)
    assert not is_recovered(4, 5, 10)  # a wrong guess is not a disclosure
    assert not is_recovered(14, 14, 14)  # not a small count (a secondary suppression)
    assert not is_recovered(4, 2, 10, min_ambiguity=9)  # 9 values left: protected at 9


def test_a_published_column_reads_as_numbers_and_an_absent_one_as_nan():
    from barometre.disclosure_attacks import numeric_column, parse_number

    table = pd.DataFrame({"x": ["12,5", "< 11", "", "1\u202f234", "−3"]})
    assert numeric_column(table, "x").tolist() == pytest.approx(
        [12.5, math.nan, math.nan, 1234.0, -3.0], nan_ok=True
    )
    assert numeric_column(table, "y").isna().all() and len(numeric_column(table, "y")) == 5
    assert parse_number("n.d.") is None and parse_number(7) == 7.0


def test_a_ratio_links_its_numerator_to_its_denominator():
    from barometre.disclosure_attacks import RATIOS, ratio_links

    assert ratio_links(RATIOS, "ha_participants") == [
        ("ha_participants_per_campaign", "ha_campaigns")
    ]
    assert ratio_links(RATIOS, "jva_matches") == []


def test_an_attack_narrows_a_cell_unless_refuted_and_evidence_beats_the_label():
    from barometre.disclosure_attacks import record_interval, to_public_range

    cell = CellKnowledge()
    to_public_range(cell, T)
    assert (cell.lo, cell.hi) == (1, T - 1)
    knowledge, log = {("01001", "jva_matches"): cell}, {}
    key = ("01001", "jva_matches")
    record_interval(knowledge, log, key, "a", None)  # nothing tried: nothing logged
    assert log == {}
    record_interval(knowledge, log, key, "b", (math.nan, math.nan))  # refuted: logged only
    assert list(log) == [key] and all(math.isnan(v) for v in log[key]["b"])
    assert (cell.lo, cell.hi, cell.by) == (1, T - 1, set())
    record_interval(knowledge, log, key, "c", (2.3, 6.7))  # integer bounds of the interval
    assert (cell.lo, cell.hi, cell.by) == (3, 6, {"c"})
    # a count found above the public range was a secondary suppression: the evidence wins
    record_interval(knowledge, log, key, "d", (14.0, 14.0))
    assert (cell.lo, cell.hi, cell.by) == (14, 14, {"c", "d"})
    assert list(log[key]) == ["b", "c", "d"]


def test_the_attacks_on_one_row_are_products_distinguishing_value_and_eligibility():
    from barometre.disclosure_attacks import row_intervals

    row = {"code_commune": "01001", "population": "812", "ha_participants_per_1000": "8.62"}
    found = dict(row_intervals(row, "ha_participants", "t.csv", CANDIDATES, None, None))
    assert found == {
        "products:t.csv": (7.0, 7.0),
        "products:t.csv:distinguishing": None,
        "products:t.csv:eligibility": None,
    }


def _communes() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code_commune": ["01001", "01002", "01003"],
            "population": [812, 4500, 15000],
            "population_class": ["Village", "Village", "Petite ville"],
            "ha_campaigns": [3, 12, 40],
            "ha_participants": [7, 250, 2],
            "ha_participants_per_campaign": [7 / 3, 250 / 12, 2 / 40],
            "ha_participants_per_1000": [7 / 812 * 1000, 250 / 4500 * 1000, 2 / 15000 * 1000],
            "jva_matches": [4, 30, 0],
            "jva_matches_per_1000": [4 / 812 * 1000, 30 / 4500 * 1000, 0.0],
        }
    )


def test_products_recover_every_small_count_of_a_naively_published_table():
    published = deliberately_unprotected(_communes()).astype(str)
    found = {}
    for row in published.to_dict("records"):
        for count in ("ha_participants", "jva_matches"):
            if row[count] == f"< {T}":
                found[(row["code_commune"], count)] = product_attack(row, count, CANDIDATES)
    assert found == {
        ("01001", "ha_participants"): (7, 7),
        ("01001", "jva_matches"): (4, 4),
        ("01003", "ha_participants"): (2, 2),
    }


def test_products_find_nothing_to_use_once_protected():
    published = protect_table(_communes(), totals_published=False).astype(str)
    for row in published.to_dict("records"):
        for count in ("ha_participants", "jva_matches"):
            if row[count] == f"< {T}":
                assert product_attack(row, count, CANDIDATES) is None


def _model_table(seed: int = 3, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    population = rng.integers(250, 60_000, n)
    classes = np.where(
        population < 5000, "Village", np.where(population < 20000, "Petite ville", "Ville moyenne")
    )
    rate = rng.gamma(2.0, 0.004, n)
    return pd.DataFrame(
        {
            "code_commune": [f"{i:05d}" for i in range(n)],
            "population": population,
            "population_class": pd.Categorical(
                classes, categories=["Village", "Petite ville", "Ville moyenne"]
            ),
            "code_departement": rng.choice(["01", "02", "03", "04", "05"], n),
            "jva_matches": rng.poisson(rate * population).astype(float),
        }
    )


def _published_rates(fit, table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    params = fit.params_table().assign(indicator="jva_matches")
    params = params.astype({"estimate": str, "se": str})
    ranked = fit.without_group_credit()
    return params, ranked


def test_model_inversion_recovers_counts_from_uncensored_posterior_means_only():
    """The published posterior mean, the published NB2 parameters and the population give the
    count back exactly; after censoring (the rule of the ranking) no integer count fits."""
    table = _model_table()
    fit = fit_indicator_models(table, [IndicatorSpec(name="jva_matches", count="jva_matches")])[
        "jva_matches"
    ]
    params, ranked = _published_rates(fit, table)
    model = PublishedModel.from_table(params, "jva_matches")
    assert model is not None
    small = np.flatnonzero((fit.counts >= 1) & (fit.counts < T))
    assert len(small) > 5
    censored = ranked.with_censored_counts((ranked.counts >= 1) & (ranked.counts < T), 1, T - 1)
    exact_means = ranked.summary(scale=1000.0)["posterior_mean"].to_numpy()
    censored_means = censored.summary(scale=1000.0)["posterior_mean"].to_numpy()
    recovered_before = recovered_after = 0
    for i in small:
        row = {
            "population": str(table.at[i, "population"]),
            "population_class": str(table.at[i, "population_class"]),
        }
        (prediction,) = ranked_predictions(model, CANDIDATES, row, "jva_matches", "jva_matches")
        for means, label in ((exact_means, "before"), (censored_means, "after")):
            value = repr(float(means[i]))
            hits = CANDIDATES[
                np.abs(prediction - float(value))
                <= max(printed_tolerance(value), 1e-7 * float(value))
            ]
            if len(hits) and is_recovered(fit.counts[i], hits.min(), hits.max()):
                if label == "before":
                    recovered_before += 1
                else:
                    recovered_after += 1
    assert recovered_before == len(small)
    assert recovered_after == 0


@functools.cache
def _ranking_fit():
    table = _model_table()
    return fit_indicator_models(table, [IndicatorSpec(name="jva_matches", count="jva_matches")])[
        "jva_matches"
    ].without_group_credit()


@settings(max_examples=25, deadline=None)
@given(st.integers(1, T - 1), st.integers(1, T - 1), st.integers(0, 399))
def test_a_censored_count_leaves_no_trace_in_its_posterior(first, second, unit):
    """Two counts of the same range give the same posterior mean and the same draws."""
    fit = _ranking_fit()
    outcomes = []
    for value in (first, second):
        counts = fit.counts.copy()
        counts[unit] = value
        variant = dataclasses.replace(
            fit, counts=counts, effective_counts=counts / fit.design_effect
        )
        censored = variant.with_censored_counts(np.arange(len(counts)) == unit, 1, T - 1)
        outcomes.append(
            (censored.summary()["posterior_mean"].iloc[unit], censored.draw(0, seed=5)[unit])
        )
    assert outcomes[0] == outcomes[1]
    expected = fit.censored_expectation(1, T - 1)
    assert np.all((expected >= 1) & (expected <= T - 1))


def test_a_total_gives_back_a_lone_suppressed_cell_and_narrows_a_pair():
    knowledge = {
        ("a", "jva_matches"): CellKnowledge(40, 40),
        ("b", "jva_matches"): CellKnowledge(1, T - 1),
        ("c", "jva_matches"): CellKnowledge(25, 25),
    }
    total = PublishedTotal("t", "jva_matches", ("a", "b", "c"), 71.5 - 0.5, 71.5 + 0.5)
    assert margin_attack(total, knowledge) == {"b": (6.0, 7.0)}
    knowledge[("c", "jva_matches")] = CellKnowledge(1, T - 1)
    bounds = margin_attack(PublishedTotal("t", "jva_matches", ("a", "b", "c"), 45, 45), knowledge)
    assert bounds["b"] == (-5.0, 4.0)  # b + c = 5: each at most 4
    assert is_recovered(3, *bounds["b"])
    # an unpublished cell of the set (d = 15, not bounded above) protects the others
    knowledge[("d", "jva_matches")] = CellKnowledge()
    bounds = margin_attack(
        PublishedTotal("t", "jva_matches", ("a", "b", "c", "d"), 60, 60), knowledge
    )
    assert bounds["b"] == (-math.inf, 19.0)
    assert not is_recovered(3, *bounds["b"])


def test_two_stocks_bound_each_other():
    from barometre.disclosure_attacks import PublishedEdition

    def edition(year: str) -> PublishedEdition:
        return PublishedEdition(
            build_dir=None,
            edition=year,
            communes=pd.DataFrame({"code_commune": ["x"]}),  # type: ignore[arg-type]
            palmares=pd.DataFrame(),
            exports={},
            count_model=pd.DataFrame(),
            variables={},
            territory_variables={},
            territory_rates={},
            definitions={"jva_matches": "stock"},
        )

    knowledge = {
        "2024": {("x", "jva_matches"): CellKnowledge(1, T - 1)},
        "2025": {("x", "jva_matches"): CellKnowledge(4, 4)},
    }
    bounds = edition_attack(edition("2024"), edition("2025"), knowledge)
    assert bounds["2024"][("x", "jva_matches")] == (-math.inf, 4)
    # a stock and a flow are unrelated
    flow = dataclasses.replace(edition("2025"), definitions={"jva_matches": "flow"})
    assert edition_attack(edition("2024"), flow, knowledge) == {"2024": {}, "2025": {}}


# --------------------------------------------------------------------------------------------
# On the demo builds of both editions (a département with its region's territorial report)
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_attacks_recover_nothing_from_both_demo_editions(demo_builds):
    reports = run_attacks([demo_builds["2024"], demo_builds["2025"]])
    for report in reports:
        assert report.suppressed > 0 and report.small > 0
        assert report.attempted["model_inversion"] > 0, "the attack must have had something to try"
        assert report.total_recovered == 0, (report.edition, report.recovered, report.examples)


@pytest.mark.slow
def test_the_annex_says_which_rules_apply_and_what_the_attacks_recovered(demo_builds):
    for edition, build in demo_builds.items():
        text = (build / "report" / "disclosure" / "disclosure_rules.md").read_text(encoding="utf-8")
        assert "## Secret statistique" in text and f"« < {T} »" in text
        assert "aucune attaque n'en retrouve aucun" in text
        table = pd.read_csv(build / "tables" / "disclosure_attacks.csv")
        assert (table["recovered"] == 0).all() and set(table["edition"].astype(str)) == {edition}


@pytest.mark.slow
def test_the_suite_fails_on_a_build_published_without_protection(demo_builds, tmp_path):
    """Publish the exact per-commune table with only the counts labelled: the attacks recover."""
    source = demo_builds["2024"]
    target = tmp_path / "unprotected"
    for part in ("tables", "report", "work"):
        shutil.copytree(source / part, target / part)
    (target / "manifest.json").write_bytes((source / "manifest.json").read_bytes())
    exact = pd.read_csv(source / "work" / "communes.csv", dtype={"code_commune": str})
    published = pd.read_csv(
        source / "tables" / "communes.csv", dtype={"code_commune": str}, low_memory=False
    )
    naive = published[["code_commune", "eligible"]].merge(
        deliberately_unprotected(exact), on="code_commune", how="left"
    )
    naive.to_csv(target / "tables" / "communes.csv", index=False)
    (report,) = run_attacks([target])
    assert report.recovered["products"] > 0
    # the labelled cells: the blank counts of unranked communes are published by no one here
    assert report.small_labelled > 0
    assert report.total_recovered >= report.small_labelled * 0.9


def test_a_total_is_published_only_when_differencing_leaves_every_small_cell_in_1_to_10():
    from barometre.disclosure import protect_total_text, total_is_safe

    assert total_is_safe([40, 25, 0])  # no small cell
    assert not total_is_safe([40, 7, 25])  # one small cell: the total gives it back
    assert not total_is_safe([40, 3, 2])  # 3 + 2 = 5: each at most 4
    assert total_is_safe([40, 3, 8])  # 11: each between 1 and 10
    assert not total_is_safe([40, 10, 9])  # 19: each at least 9
    assert total_is_safe([40, 1, 5, 9])  # 15 over three: [−5, 13] each
    fmt = str
    assert protect_total_text([40, 3, 8], fmt) == "51"
    assert protect_total_text([40, 7, 25], fmt) == "au moins 66"  # 40 + 25 + 1: what the cells say
    assert protect_total_text([3, 2, 0], fmt) == "moins de 11"
    # brute force: « safe » means no integer pair of the public range is excluded by the sum
    for a in range(1, T):
        for b in range(1, T):
            others = {x for x in range(1, T) if 1 <= a + b - x < T}
            assert total_is_safe([a, b]) == (others == set(range(1, T)))


@pytest.mark.slow
def test_the_qpv_export_by_epci_gives_counts_back_when_its_rates_are_not_withheld(
    demo_builds, tmp_path
):
    """The referee's attack: the QPV export by EPCI published with every rate (exact counts
    over the EPCI's QPV communes, nothing withheld) lets the margins recover suppressed counts;
    the protected export lets them recover none."""
    from barometre.disclosure_attacks import (
        contract_totals,
        ground_truth,
        load_published,
        qpv_groups,
    )

    source = demo_builds["2025"]
    target = tmp_path / "qpv_unprotected"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("publications", "*.pdf"))
    published = load_published(target)
    (slug,) = [s for s in published.territory_variables]
    (path,) = (target / "territories" / slug / "exports").glob("*-qpv-contrats.csv")
    export = pd.read_csv(path, dtype=str, keep_default_na=False)
    groups = qpv_groups(published, slug)
    truth = ground_truth(target)
    population = pd.read_csv(target / "tables" / "communes.csv", dtype={"code_commune": str})
    population = population.set_index("code_commune")["population"]
    for i, row in export.iterrows():
        members = list(groups[str(row["code_epci"]).strip()])
        for count in ("ha_participants", "jva_matches", "ha_donations"):
            rate = truth.loc[members, count].sum() / population[members].sum() * 1000
            export.loc[i, f"{count}_per_1000"] = f"{rate:.6f}"
    protected_totals = len(contract_totals(published, slug))
    export.to_csv(path, index=False)
    exposed = load_published(target)
    assert len(contract_totals(exposed, slug)) > protected_totals  # rates the build withheld
    (report,) = run_attacks([target])
    assert report.recovered["margins"] > 0
