"""Unit tests of :mod:`barometre.results` (per-commune results, the raw-vs-shrunk comparison,
the published table and its information bands) and of the key guard of
:func:`barometre.tables.save_table`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barometre import geography
from barometre.composite import build_index, load_spec
from barometre.config import load_edition, load_indicator_meta
from barometre.indicators import engine_input, rates_per_1000
from barometre.results import commune_results, information_band, published_communes, rates_effect
from barometre.tables import TableError, read_table, save_table

CONFIG = load_edition(2024)
META = load_indicator_meta(CONFIG)
LABELS = list(CONFIG.classes.labels)


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """The engine table of the Lozère's communes of 500+ inhabitants, with seeded counts."""
    communes = geography.load_communes(2024, departments=["48"])
    rng = np.random.default_rng(11)
    n = len(communes)
    campaigns = rng.poisson(3, n)
    counts = pd.DataFrame(
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
    return engine_input(counts, communes, META, CONFIG.classes.bounds, LABELS, min_population=500)


@pytest.fixture(scope="module")
def build(table):
    return build_index(load_spec(CONFIG.path(CONFIG.index_spec)), table, weight_set=CONFIG.weights)


def test_commune_results_carry_counts_rates_scores_and_ranks(table, build):
    results = commune_results(build, table, table, META).set_index("code_commune")
    assert sorted(results.index) == sorted(table["code_commune"])
    rates = rates_per_1000(table, META).set_index("code_commune")
    for indicator in META["indicators"]:
        code = indicator["code"]
        np.testing.assert_array_equal(results[f"{code}_per_1000"], rates.loc[results.index, code])
        np.testing.assert_array_equal(
            results[f"{code}_ranked_per_1000"], rates.loc[results.index, code]
        )
        np.testing.assert_array_equal(
            results[f"{code}_normalised"], build.normalised.loc[results.index, code]
        )
    root = build.spec.root
    np.testing.assert_array_equal(results[root], build.scores.loc[results.index, root])
    # ranks within each class follow the score: rank 1 has the class's best score
    for _, members in results.dropna(subset=["rank_in_class"]).groupby("population_class"):
        best = members.sort_values("rank_in_class").iloc[0]
        assert best[root] == members[root].max()
        assert (members["class_size"] == len(members)).all()


def test_rates_effect_is_neutral_for_identical_rates(build):
    effect = rates_effect(build, build, LABELS, 4, "shrunk", "raw").set_index("population_class")
    assert list(effect.index) == LABELS
    assert (effect["laureates_changed"] == 0).all()
    sizes = build.units["population_class"].value_counts().reindex(LABELS).fillna(0)
    assert effect["communes"].tolist() == sizes.astype(int).tolist()
    assert (effect["laureates_kept"] == np.minimum(sizes, 4)).all()
    assert (effect.loc[effect["communes"] > 2, "spearman"] == 1.0).all()
    assert (effect[["laureates_only_shrunk", "laureates_only_raw"]] == "").all().all()


def test_rates_effect_names_the_laureate_that_leaves(table, build):
    results = commune_results(build, table, table, META)
    top = results[results["rank_in_class"] == 1].sort_values("class_size").iloc[-1]
    emptied = table.copy()
    counted = [i["code"] for i in META["indicators"] if "count" in i]
    emptied.loc[emptied["code_commune"] == top["code_commune"], counted] = 0.0
    alternative = build_index(build.spec, emptied, weight_set=CONFIG.weights)
    effect = rates_effect(build, alternative, LABELS, 1, "shrunk", "raw").set_index(
        "population_class"
    )
    row = effect.loc[top["population_class"]]
    assert row["laureates_changed"] == 1 and row["laureates_kept"] == 0
    assert row["laureates_only_shrunk"] == top["nom"]


def test_information_band_publishes_bands_never_counts():
    bands = information_band(pd.Series([0, 0.5, 1, 4, 4.99, 5, 12, np.nan]))
    assert bands.tolist() == [
        "aucune",
        "aucune",
        "1 à 4",
        "1 à 4",
        "1 à 4",
        "5 ou plus",
        "5 ou plus",
        "n.d.",
    ]


def test_published_communes_rank_only_the_eligible():
    status = pd.DataFrame(
        {
            "code_commune": ["01001", "01002", "01004"],
            "nom": ["A", "B", "C"],
            "population": [800, 120, 15_000],
            "population_class": ["Village", "Village", "Petite ville"],
            "code_departement": ["01", "01", "01"],
            "eligible": [True, False, False],
            "ineligible_reason": ["", "population", "information"],
            "rna_creations": [3, 0, 2],
            "jva_matches_clusters": [4, 0, 1],
        }
    )
    results = pd.DataFrame(
        {"code_commune": ["01001"], "nom": ["A"], "score": [61.5], "rank_in_class": [1.0]}
    ).set_index("code_commune")
    decided = pd.DataFrame(
        {"p_top": [0.7], "status": ["Lauréat"]}, index=pd.Index(["01001"], name="code_commune")
    )
    table = published_communes(
        results, status, decided, ["rna_creations", "jva_matches_clusters", "absent"]
    )
    table = table.set_index("code_commune")
    assert table.loc["01001", ["score", "rank_in_class", "p_top", "status"]].tolist() == [
        61.5,
        1.0,
        0.7,
        "Lauréat",
    ]
    assert table.loc["01001", "information_band"] == ""
    assert table.loc[["01002", "01004"], "information_band"].tolist() == ["aucune", "1 à 4"]
    assert table.loc[["01002", "01004"], ["score", "rank_in_class", "p_top"]].isna().all().all()
    assert table.loc[["01002", "01004"], "status"].tolist() == ["", ""]


# --------------------------------------------------------------------------- save_table's guard


def test_save_table_refuses_a_duplicated_key_and_writes_nothing(tmp_path):
    frame = pd.DataFrame(
        {"code_commune": ["01001", "2A004", "01001"], "year": [2023, 2023, 2023], "v": [1, 2, 3]}
    )
    path = tmp_path / "t.csv"
    with pytest.raises(
        TableError, match=r"t\.csv: duplicated key \{'code_commune': '01001', 'year': 2023\}"
    ):
        save_table(frame, path, key=["code_commune", "year"])
    assert not path.exists() and list(tmp_path.iterdir()) == []
    # the same codes in different years are distinct keys
    frame.loc[2, "year"] = 2024
    save_table(frame, path, key=["code_commune", "year"])
    assert read_table(path)["code_commune"].tolist() == ["01001", "01001", "2A004"]


def test_save_table_refuses_missing_or_empty_key_columns(tmp_path):
    frame = pd.DataFrame({"code_commune": ["01001", None], "v": [1, 2]})
    with pytest.raises(TableError, match="key columns \\['year'\\] absent"):
        save_table(frame, tmp_path / "a.csv", key=["code_commune", "year"])
    with pytest.raises(TableError, match="empty key values"):
        save_table(frame, tmp_path / "b.csv", key=["code_commune"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["01001", "01002", "2A004", "97101"]), st.integers(0, 3)),
        min_size=1,
        max_size=12,
    )
)
def test_save_table_accepts_exactly_the_frames_with_a_unique_key(tmp_path_factory, rows):
    frame = pd.DataFrame(rows, columns=["code_commune", "k"]).assign(v=range(len(rows)))
    path = tmp_path_factory.mktemp("t") / "t.csv"
    if frame.duplicated(["code_commune", "k"]).any():
        with pytest.raises(TableError, match="duplicated key"):
            save_table(frame, path, key=["code_commune", "k"])
        assert not path.exists()
    else:
        save_table(frame, path, key=["code_commune", "k"])
        expected = frame.sort_values(["code_commune", "k"], kind="mergesort").reset_index(drop=True)
        pd.testing.assert_frame_equal(read_table(path), expected)
