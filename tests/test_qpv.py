"""The politique de la ville lens: the official QPV list layout (multi-commune cells, Excel-
protected codes, bad rows quarantined or refused with file/line/column/value), the synthetic
demo list (calibration, exact layout, read back by the same reader), and the profile's
computations on hand-made tables (exact values, reconciliation, disclosure)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barometre import geography
from barometre.qpv import QPV_COLUMNS, QpvListError, qpv_by_commune, read_qpv_list
from barometre.qpv import profile as qp
from barometre.qpv.synthetic import (
    QpvMagnitudes,
    department_targets,
    format_qpv_list,
    load_contracts,
    synthetic_qpv_list,
    write_synthetic_qpv_list,
)

COG = 2022
FIXTURES = Path(__file__).resolve().parent / "fixtures"
QPV_SAMPLE = FIXTURES / "qpv" / "qpv_2024_sample.csv"
SHARED_CONTRACTS = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "qpv"
    / "anct_ci_ville_contrats_de_ville"
    / "geom_cv_ctr.json"
)
HEADER = ";".join(QPV_COLUMNS)


# --------------------------------------------------------------------------- reader


def test_official_layout_multi_commune_cells_and_protected_codes() -> None:
    qpv = read_qpv_list(QPV_SAMPLE, COG)
    pairs = qpv.pairs
    assert (
        qpv.n_qpv == 9
        and qpv.rows_read == 9
        and qpv.rows_accepted == 9
        and qpv.rows_quarantined == 0
    )
    trois_ponts = pairs[pairs["code_qp"] == "QN05901F"]
    assert sorted(trois_ponts["code_commune"]) == [
        "59512",
        "59599",
        "59650",
    ]  # one quoted cell, three communes
    assert sorted(trois_ponts["lib_com"]) == [
        "Roubaix",
        "Tourcoing",
        "Wattrelos",
    ]  # names split alike
    assert pairs.loc[pairs["code_qp"] == "QN06001F", "code_commune"].tolist() == [
        "60057"
    ]  # ="60057"
    assert pairs.loc[pairs["code_qp"] == "QN00201F", "code_commune"].tolist() == [
        "02691"
    ]  # leading zero kept
    # Marseille's arrondissements (13201, 13202) harmonised to the commune, counted once.
    assert pairs.loc[pairs["code_qp"] == "QN01301F", "code_commune"].tolist() == ["13055"]
    by_commune = qpv_by_commune(pairs).set_index("code_commune")
    assert by_commune.at["59350", "n_qpv"] == 2 and by_commune.at["59512", "n_qpv"] == 1
    assert by_commune.at["59350", "qpv_codes"] == "QN05902F ; QN05903F"
    assert not qpv.synthetic


def test_windows_encoding_is_read(tmp_path: Path) -> None:
    cp1252 = tmp_path / "qpv.csv"
    cp1252.write_bytes(QPV_SAMPLE.read_text(encoding="utf-8").encode("cp1252"))
    qpv = read_qpv_list(cp1252, COG)
    assert qpv.encoding == "cp1252" and qpv.pairs["lib_qp"].str.contains("région").any()


def _write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


GOOD = [
    'QN05902F;Faubourg;32;Hauts-de-France;59;Nord;="59350";Lille;200093201;MEL',
    'QN05901F;Trois Ponts;32;Hauts-de-France;59;Nord;"=""59512;59599""";"Roubaix; Tourcoing";200093201;MEL',
    'QN08001F;Nord;32;Hauts-de-France;80;Somme;="80021";Amiens;248000531;Amiens Métropole',
    'QN06201F;Beau-Marais;32;Hauts-de-France;62;Pas-de-Calais;="62193";Calais;246200364;Calais',
]


def test_bad_rows_are_quarantined_and_the_counts_reconcile(tmp_path: Path) -> None:
    bad = [
        ';Sans code;32;Hauts-de-France;59;Nord;="59350";Lille;200093201;MEL',  # no code
        'QN05902F;Doublon;32;Hauts-de-France;59;Nord;="59350";Lille;200093201;MEL',  # repeated code
        'QN05999F;Commune inconnue;32;Hauts-de-France;59;Nord;="59999";Nulle part;200093201;MEL',
    ]
    path = _write(tmp_path / "qpv.csv", [*GOOD, "", *bad])
    qpv = read_qpv_list(path, COG)
    assert qpv.rows_read == 7  # the blank line is not a row
    assert qpv.rows_accepted + qpv.rows_quarantined == qpv.rows_read
    assert (qpv.rows_accepted, qpv.rows_quarantined) == (4, 3)
    reasons = qpv.quarantine.set_index("line")
    assert reasons.loc[7, "reason"] == "missing QPV code" and reasons.loc[7, "column"] == "code_qp"
    assert reasons.loc[8, "reason"] == "QPV code repeated"
    assert reasons.loc[9, "column"] == "insee_com" and reasons.loc[9, "value"] == '="59999"'
    assert reasons.loc[9, "reason"] == f"commune unknown in COG {COG}"
    assert "7 rows read, 4 accepted, 3 quarantined" in qpv.summary()
    # the repeated code kept its first row
    assert qpv.pairs.loc[qpv.pairs["code_qp"] == "QN05902F", "lib_qp"].tolist() == ["Faubourg"]


def test_a_malformed_commune_code_is_quarantined(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "qpv.csv",
        [*GOOD, 'QN05904F;Code faux;32;Hauts-de-France;59;Nord;="59A50";Lille;200093201;MEL'],
    )
    qpv = read_qpv_list(path, COG)
    row = qpv.quarantine.iloc[0]
    assert (row["line"], row["column"], row["reason"]) == (6, "insee_com", "malformed commune code")


def test_unusable_files_name_file_line_column_and_value(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("code;nom\n1;a\n", encoding="utf-8")
    with pytest.raises(
        QpvListError,
        match=r"wrong\.csv, line 1, column code_qp: not the « liste des QPV 2024 » layout",
    ):
        read_qpv_list(wrong, COG)
    short = _write(tmp_path / "short.csv", [GOOD[0], "QN05905F;Coupée;32;Hauts-de-France;59"])
    with pytest.raises(
        QpvListError, match=r"short\.csv, line 3, column lib_dep: 5 cells where the header has 10"
    ) as err:
        read_qpv_list(short, COG)
    assert err.value.line == 3 and err.value.column == "lib_dep"
    mostly_bad = _write(
        tmp_path / "bad.csv",
        [GOOD[0], *(f'XX{i};Mauvais;32;HdF;59;Nord;="59350";Lille;1;MEL' for i in range(3))],
    )
    with pytest.raises(
        QpvListError,
        match=r"bad\.csv, line 3, column code_qp: 3 of 4 rows unusable; first: malformed QPV code \(value 'XX0'\)",
    ):
        read_qpv_list(mostly_bad, COG)
    with pytest.raises(QpvListError, match="file not found"):
        read_qpv_list(tmp_path / "absent.csv", COG)


# --------------------------------------------------------------------------- synthetic list


@pytest.fixture(scope="module")
def synthetic() -> tuple[pd.DataFrame, pd.DataFrame]:
    return synthetic_qpv_list(COG, 2024)


def test_synthetic_list_is_calibrated_on_the_published_magnitudes(
    synthetic: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    rows, populations = synthetic
    assert len(rows) == 1362 and rows["code_qp"].is_unique
    per_region = rows["insee_reg"].value_counts()
    assert (per_region["11"], per_region["32"], per_region["84"]) == (298, 204, 145)
    per_dep = rows["insee_dep"].value_counts()
    assert (per_dep["59"], per_dep["62"]) == (94, 64)
    assert not rows["insee_dep"].str.startswith("97").any()  # metropolitan list
    hdf = populations[populations["code_departement"].isin(["02", "59", "60", "62", "80"])]
    assert hdf["population"].sum() == 753_100
    assert populations.loc[populations["code_departement"] == "59", "population"].mean() == 4_600
    assert populations["population"].min() >= 1_000
    region = geography.load_communes(COG).query("code_region == '32'")["population"].sum()
    assert 0.12 < 753_100 / region < 0.14  # « 13 % de la région »
    multi = rows[rows["insee_com"].str.contains(";")]
    assert 0.02 < len(multi) / len(rows) < 0.12  # some QPV span several communes
    assert (
        rows["lib_qp"].str.contains("synthétique").all() and rows["code_qp"].str.endswith("S").all()
    )


def test_synthetic_qpv_are_in_urban_communes_and_epci_of_contracts(
    synthetic: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    rows, _ = synthetic
    communes = geography.load_communes(COG).set_index("code_commune")
    main = rows["insee_com"].str.split(";").str[0]
    epci_largest = communes.groupby("code_epci")["population"].max()
    # urban unit above 10 000 inhabitants (proxy): the commune has 3 500 inhabitants or more in an
    # EPCI with a commune of 10 000 or more, or is the largest commune of its EPCI
    big = communes.loc[main, "population"].to_numpy() >= 3_500
    urban_epci = epci_largest.reindex(communes.loc[main, "code_epci"]).to_numpy() >= 10_000
    assert (big & urban_epci).mean() > 0.95
    contracts = load_contracts(COG)
    hdf = rows[rows["insee_reg"] == "32"]
    assert set(hdf["siren_epci"]) <= set(contracts["code_epci"])  # EPCI carrying a contrat de ville


def test_synthetic_list_is_the_official_layout_and_reads_back(
    tmp_path: Path, synthetic: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    rows, _ = synthetic
    text = format_qpv_list(rows)
    assert text.splitlines()[0] == HEADER
    multi = next(line for line in text.splitlines() if '"=""' in line)
    assert (
        multi.count(";") > len(QPV_COLUMNS) - 1 and '""";"' in multi
    )  # one quoted protected cell, names quoted
    assert all('="' in line for line in text.splitlines()[1:])
    path = tmp_path / "liste.csv"
    path.write_text(text, encoding="utf-8")
    qpv = read_qpv_list(path, COG)
    assert (qpv.rows_read, qpv.rows_accepted, qpv.rows_quarantined) == (1362, 1362, 0)
    assert qpv.synthetic
    expected = rows.assign(code=rows["insee_com"].str.split(";")).explode("code")
    assert len(qpv.pairs) == len(expected)


def test_synthetic_list_is_seeded(
    tmp_path: Path, synthetic: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    written = write_synthetic_qpv_list(tmp_path / "a", COG, 2024)
    assert written["list"].read_text(encoding="utf-8") == format_qpv_list(synthetic[0])
    assert "SYNTHÉTIQUE" in written["readme"].read_text(encoding="utf-8")
    other, _ = synthetic_qpv_list(COG, 7)
    assert len(other) == 1362 and not other["insee_com"].equals(synthetic[0]["insee_com"])


def test_department_targets_sum_to_the_metropolitan_count() -> None:
    targets = department_targets(geography.load_communes(COG), load_contracts(COG), QpvMagnitudes())
    assert targets.sum() == 1362 and targets["59"] == 94 and targets["62"] == 64


@pytest.mark.skipif(not SHARED_CONTRACTS.is_file(), reason="../shared not present")
def test_vendored_contracts_match_the_shared_source() -> None:
    import json

    features = json.loads(SHARED_CONTRACTS.read_text(encoding="utf-8"))["features"]
    contracts = load_contracts()
    assert len(contracts) == len(features) == 434
    vendored = sorted(zip(contracts["code_cv"], contracts["pop_qpv_2015"], strict=True))
    assert vendored == sorted(
        (f["properties"]["code_cv"], round(f["properties"]["pop"])) for f in features
    )
    hdf = contracts[contracts["insee_dep"].isin(["02", "59", "60", "62", "80"])]
    assert (len(hdf), int(hdf["pop_qpv_2015"].sum())) == (43, 653_409)


# --------------------------------------------------------------------------- profile


def hand_table() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Eight communes of one region: counts (model input) and the flagged commune frame."""
    table = pd.DataFrame(
        {
            "code_commune": [f"c{i}" for i in range(8)],
            "nom": [f"Commune {i}" for i in range(8)],
            "population": [1_000, 2_000, 1_000, 1_000, 10_000, 10_000, 5_000, 5_000],
            "population_class": ["Village"] * 4 + ["Petite ville"] * 4,
            "code_departement": ["59"] * 8,
            "code_region": ["32"] * 8,
            "rna_creations": [2.0, 2.0, 1.0, 1.0, 20.0, 5.0, 5.0, 5.0],
            "jva_matches": [30.0, 30.0, 3.0, 12.0, 100.0, 40.0, 50.0, 50.0],
        }
    )
    flags = pd.DataFrame(
        {
            "code_commune": ["c0", "c4", "c5"],
            "n_qpv": [1, 2, 1],
            "qpv_codes": ["Q1", "Q2 ; Q3", "Q3"],
            "qpv_names": ["a", "b", "c"],
        }
    )
    communes = qp.flag_communes(
        table[
            [
                "code_commune",
                "nom",
                "population",
                "population_class",
                "code_departement",
                "code_region",
            ]
        ],
        flags,
    )
    communes["code_epci"] = ["e1", "e1", "e1", "e2", "e1", "e2", "e2", "e2"]
    return table, communes


MEASURES = [
    qp.Measure("rna_creations", "rna_creations", "Créations", "rna_creations"),
    qp.Measure("jva_matches", "jva_matches", "Mises en relation", "jva_matches"),
]


def test_reconciliation_counts_with_and_without() -> None:
    _, communes = hand_table()
    table = qp.reconciliation(communes, ["Village", "Petite ville"]).set_index("population_class")
    assert table.loc["Village", ["communes", "with_qpv", "without_qpv"]].tolist() == [4, 1, 3]
    assert table.loc[
        "Ensemble", ["communes", "with_qpv", "without_qpv", "population_with_qpv"]
    ].tolist() == [8, 3, 5, 21_000]
    assert table.loc["Ensemble", "share_population_with_qpv"] == pytest.approx(
        100 * 21_000 / 35_000
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Village", "Petite ville", "Métropole"]),
            st.integers(1, 5_000),
            st.booleans(),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_reconciliation_with_plus_without_is_all(rows: list[tuple[str, int, bool]]) -> None:
    communes = pd.DataFrame(
        {
            "code_commune": [f"c{i}" for i in range(len(rows))],
            "population_class": [r[0] for r in rows],
            "population": [r[1] for r in rows],
            "has_qpv": [r[2] for r in rows],
        }
    )
    table = qp.reconciliation(communes, ["Village", "Petite ville", "Métropole"])
    body, total = table.iloc[:-1], table.iloc[-1]
    assert (body["with_qpv"] + body["without_qpv"] == body["communes"]).all()
    assert total["communes"] == len(communes) == body["communes"].sum()
    assert (
        total["with_qpv"] == communes["has_qpv"].sum()
        and total["population"] == communes["population"].sum()
    )


def test_standardised_comparison_weights_classes_like_the_qpv_communes() -> None:
    table, communes = hand_table()
    weights, compared, left_out = qp.group_weights(communes, communes, ["Village", "Petite ville"])
    assert compared == ["Village", "Petite ville"] and left_out == []
    # QPV communes: 1 000 villagers, 20 000 in petites villes → class shares 1/21 and 20/21
    assert weights[qp.COMPARISON].sum() == pytest.approx(1.0)
    assert weights[qp.COMPARISON][["c1", "c2", "c3"]].sum() == pytest.approx(1 / 21)
    assert weights[qp.COMPARISON]["c6"] == pytest.approx(10 / 21)
    # rates: QPV communes (2 + 20 + 5) / 21 000; comparison 1/21 × (4/4 000) + 20/21 × (10/10 000)
    assert qp.observed_rate(table, weights[qp.WITH], MEASURES[0]) == pytest.approx(
        27 / 21_000 * 1000
    )
    assert qp.observed_rate(table, weights[qp.COMPARISON], MEASURES[0]) == pytest.approx(
        (1 / 21 * 4 / 4_000 + 20 / 21 * 10 / 10_000) * 1000
    )
    assert qp.observed_rate(table, weights[qp.WITHOUT], MEASURES[0]) == pytest.approx(
        14 / 14_000 * 1000
    )
    # a class needs enough comparison communes
    _, compared, left_out = qp.group_weights(
        communes, communes, ["Village", "Petite ville"], minimum=3
    )
    assert compared == ["Village"] and left_out == ["Petite ville"]


def test_comparison_falls_back_to_france_when_the_region_has_too_few() -> None:
    _, communes = hand_table()
    elsewhere = communes.assign(
        code_commune=lambda t: "x" + t["code_commune"], code_region="11", has_qpv=False
    )
    pool, national = qp.comparison_communes(
        pd.concat([communes, elsewhere]), ["32"], ["Village", "Petite ville"], minimum=3
    )
    assert national == ["Petite ville"]  # two petites villes without QPV in the region: France's
    assert set(pool.loc[pool["population_class"] == "Village", "code_region"]) == {"32"}
    assert len(pool[pool["population_class"] == "Petite ville"]) == 6


class FixedDraws:
    """A fitted model whose every draw is the given rates (per inhabitant): the aggregation is
    then exact."""

    def __init__(self, codes: list[str], rates: np.ndarray) -> None:
        self.index = pd.Index(codes)
        self.rates = rates

    def draws_for(self, draw_ids, seed, *, scale=1.0, **_):  # the CountModelFit signature
        ids = list(draw_ids)
        jitter = np.linspace(0.9, 1.1, 20)[[d % 20 for d in ids]][
            :, None
        ]  # draws differ, mean ≈ rate
        return np.tile(self.rates, (len(ids), 1)) * jitter * scale


def test_engagement_table_aggregates_joint_draws_and_withholds_small_person_counts() -> None:
    table, communes = hand_table()
    fits = {
        m.model: FixedDraws(
            list(table["code_commune"]), (table[m.count] / table["population"]).to_numpy()
        )
        for m in MEASURES
    }
    result, compared, left_out = qp.engagement_table(
        table,
        communes,
        communes,
        fits,
        MEASURES,
        ["Village", "Petite ville"],
        n_draws=40,
        seed=1,
        credible=0.9,
        minimum=1,
    )
    result = result.set_index("measure")
    assert compared == ["Village", "Petite ville"] and left_out == []
    row = result.loc["rna_creations"]
    assert row["observed_with"] == pytest.approx(27 / 21)
    assert row["rate_with"] == pytest.approx(27 / 21, rel=0.01)  # median of the scaled draws
    # one scale per draw for every commune: the ratio does not move from draw to draw
    ratio = (27 / 21_000) / (1 / 21 * 4 / 4_000 + 20 / 21 * 10 / 10_000)
    assert (
        row["ratio"] == pytest.approx(ratio)
        and row["ratio_lower"] == pytest.approx(ratio)
        and row["ratio_upper"] == pytest.approx(ratio)
    )
    assert row["lower_with"] < row["rate_with"] < row["upper_with"]
    assert not row["withheld"]
    # mises en relation: the comparison's villages total 3 + 12 + 30 = 45, but class by class fine;
    # a commune cell suppressed in the publications (c2: 3) leaves a residual of 3 in « sans QPV »
    suppressed = pd.DataFrame(
        {"jva_matches": [False, False, True, False, False, False, False, False]},
        index=table["code_commune"],
    )
    hidden, _, _ = qp.engagement_table(
        table,
        communes,
        communes,
        fits,
        MEASURES,
        ["Village", "Petite ville"],
        n_draws=40,
        seed=1,
        suppressed=suppressed,
        minimum=1,
    )
    hidden = hidden.set_index("measure")
    assert hidden.loc["jva_matches", "withheld"] and np.isnan(
        hidden.loc["jva_matches", "rate_with"]
    )
    assert not hidden.loc["rna_creations", "withheld"]  # associations are not people


def test_class_rates_withhold_both_groups_of_a_class_with_a_small_person_count() -> None:
    table, communes = hand_table()
    table.loc[table["code_commune"] == "c0", "jva_matches"] = 4.0  # the village with QPV: 4 matches
    rates = qp.class_rates(table, communes, MEASURES, ["Village", "Petite ville"]).set_index(
        ["population_class", "group"]
    )
    assert np.isnan(rates.loc[("Village", qp.WITH), "jva_matches"]) and np.isnan(
        rates.loc[("Village", qp.WITHOUT), "jva_matches"]
    )
    assert rates.loc[("Village", qp.WITHOUT), "rna_creations"] == pytest.approx(4 / 4_000 * 1000)
    assert rates.loc[("Petite ville", qp.WITH), "jva_matches"] == pytest.approx(140 / 20_000 * 1000)


def test_contracts_table_by_epci_with_secondary_suppression() -> None:
    table, communes = hand_table()
    pairs = pd.DataFrame(
        {
            "code_qp": ["Q1", "Q2", "Q3", "Q3"],
            "code_commune": ["c0", "c4", "c4", "c5"],
            "lib_qp": ["a", "b", "c", "c"],
        }
    )
    contracts = pd.DataFrame({"code_cv": ["CV1"], "code_epci": ["e1"], "pop_qpv_2015": [1234]})
    out = qp.contracts_table(
        communes, table, pairs, MEASURES, {"e1": "Agglo Un", "e2": "Agglo Deux"}, contracts
    )
    assert out["epci"].tolist() == ["Agglo Un", "Agglo Deux", "Ensemble du territoire"]
    assert out["n_qpv"].tolist() == [3, 1, 3] and out["communes_with_qpv"].tolist() == [2, 1, 3]
    assert out["code_cv"].tolist() == ["CV1", "", ""] and out.loc[0, "pop_qpv_2015"] == 1234
    assert out.loc[0, "rna_creations"] == pytest.approx(22 / 11_000 * 1000)
    # a small person count in one EPCI: it is withheld, and so is the other (the total is published)
    table.loc[table["code_commune"] == "c5", "jva_matches"] = 6.0
    out = qp.contracts_table(
        communes, table, pairs, MEASURES, {"e1": "Agglo Un", "e2": "Agglo Deux"}, contracts
    )
    assert out["jva_matches"].iloc[:2].isna().all() and not np.isnan(out["jva_matches"].iloc[2])
    # a large EPCI total that hides one small commune cell (c0: 5, published « < 11 ») is withheld
    table.loc[table["code_commune"] == "c5", "jva_matches"] = 40.0
    table.loc[table["code_commune"] == "c0", "jva_matches"] = 5.0
    suppressed = pd.DataFrame(
        {"jva_matches": table["jva_matches"].between(1, 10).to_numpy()}, index=table["code_commune"]
    )
    out = qp.contracts_table(
        communes,
        table,
        pairs,
        MEASURES,
        {"e1": "Agglo Un", "e2": "Agglo Deux"},
        contracts,
        suppressed=suppressed,
    )
    assert np.isnan(
        out.loc[out["epci"] == "Agglo Un", "jva_matches"]
    ).all()  # 105 − 100 published = 5
    assert (
        out.loc[out["epci"] == "Agglo Un", "rna_creations"].notna().all()
    )  # associations are not people
    assert qp.withhold(table, ["c0", "c4"], "jva_matches", suppressed) and not qp.withhold(
        table, ["c4", "c5"], "jva_matches", suppressed
    )


def test_fields_and_creations_of_the_qpv_communes() -> None:
    _, communes = hand_table()
    associations = pd.DataFrame(
        {
            "code_commune": ["c0", "c0", "c4", "c1", "c6", "c4"],
            "field": ["Sports", "Culture", "Sports", "Sports", "Culture", "Sports"],
            "date_creat": [
                "2023-03-01",
                "2010-01-01",
                "2023-05-01",
                "2023-01-01",
                "2005-01-01",
                "2024-02-01",
            ],
            "position": ["A", "A", "A", "A", "A", "A"],
            "titre": ["CLUB A", "CULTURE B", "CLUB C", "CLUB D", "CULTURE E", "CLUB FUTUR"],
        }
    )
    fields = qp.fields_table(associations, communes, communes, 2023, minimum=1).set_index("field")
    assert fields.loc["Sports", ["active_with", "created_with"]].tolist() == [
        2,
        2,
    ]  # the 2024 club is not yet active
    assert fields.loc["Toutes", "active_with"] == 3 and fields.loc[
        "Sports", "share_with"
    ] == pytest.approx(200 / 3)
    assert fields.loc["Sports", "per_1000_with"] == pytest.approx(2 / 21_000 * 1000)
    listing = qp.creations_list(associations, communes, 2023)
    assert listing[["name", "commune"]].values.tolist() == [
        ["CLUB A", "Commune 0"],
        ["CLUB C", "Commune 4"],
    ]


def test_field_of_action_from_the_waldec_nomenclature() -> None:
    from barometre.qpv.chapter import NOMENCLATURE

    nomenclature = pd.read_csv(NOMENCLATURE, dtype=str)
    fields = qp.field_of(pd.Series(["011000", "019010", "036520", "000000", ""]), nomenclature)
    assert fields.tolist() == [
        "Sports, activités de plein air",
        "Interventions sociales",
        "Sécurité, protection civile",
        "Non renseigné",
        "Non renseigné",
    ]


def test_contracts_table_withholds_a_rate_that_narrows_labelled_or_blank_cells() -> None:
    """The referee's two cases: three « < 11 » cells summing to 24 (each then in 4 … 10), and
    an EPCI whose only other hidden cell is an ineligible commune's blank count of 0."""
    from barometre.disclosure import PUBLISHED, SUPPRESSED, UNPUBLISHED

    codes = [f"k{i}" for i in range(6)]
    table = pd.DataFrame(
        {
            "code_commune": codes,
            "population": [40_000, 20_000, 10_000, 10_000, 30_000, 3_000],
            "rna_creations": [4, 3, 2, 1, 5, 0],
            "jva_matches": [200, 9, 8, 7, 6, 0],
        }
    )
    territory = table[["code_commune", "population"]].assign(
        has_qpv=True, code_epci=["e1", "e1", "e1", "e1", "e2", "e2"]
    )
    pairs = pd.DataFrame({"code_commune": codes, "code_qp": [f"Q{i}" for i in range(6)]})
    hidden = pd.DataFrame(
        {"jva_matches": [PUBLISHED, SUPPRESSED, SUPPRESSED, SUPPRESSED, SUPPRESSED, UNPUBLISHED]},
        index=pd.Index(codes, name="code_commune"),
    )
    measures = [m for m in MEASURES if m.count in {"rna_creations", "jva_matches"}]
    out = qp.contracts_table(
        territory, table, pairs, measures, {"e1": "Un", "e2": "Deux"}, suppressed=hidden
    ).set_index("epci")
    assert np.isnan(out.loc["Un", "jva_matches"])  # 224 − 200 = 24 over three labelled cells
    assert np.isnan(out.loc["Deux", "jva_matches"])  # 6 + a blank 0: 6 bounds the blank cell
    # the territory: 230 − 200 = 30 over four labelled cells and a blank one: nothing narrowed
    assert out.loc["Ensemble du territoire", "jva_matches"] == pytest.approx(230 / 113_000 * 1000)
    assert out["rna_creations"].notna().all()
    # booleans (« < 11 » only) still work
    assert qp.withhold(table, codes[:4], "jva_matches", hidden.astype(bool))
