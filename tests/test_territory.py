"""Territorial analysis: territory parsing and selection for each kind, positions in class and
class comparisons on hand-made tables (exact values), and the rendered report, with its
« Politique de la ville » chapter from a QPV list in the 2024 official layout, on a small
synthetic build (the QPV list and profile themselves: tests/test_qpv.py)."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from external_tools import require_tool

from barometre import geography
from barometre.config import load_edition
from barometre.territory import (
    TerritoryError,
    build_territory_report,
    class_comparison,
    mean_positions,
    parse_territory,
    position_in_class,
    select_communes,
    territory_rates,
    value_positions,
)

COG = 2022
FIXTURES = Path(__file__).resolve().parent / "fixtures"
QPV_SAMPLE = FIXTURES / "qpv" / "qpv_2024_sample.csv"
DEMO_MARK = "Données de démonstration synthétiques"


# --------------------------------------------------------------------------- territories


@pytest.mark.parametrize(
    ("spec", "kind", "name", "departments"),
    [
        ("region:32", "region", "Hauts-de-France", ("02", "59", "60", "62", "80")),
        ("département:59", "departement", "Nord (59)", ("59",)),
        ("epci:200093201", "epci", "Métropole Européenne de Lille", ("59",)),
        ("communes:59350, 59512", "communes", "Lille et Roubaix", ("59",)),
        (
            "communes:59350,80021,13055",
            "communes",
            "Lille, Amiens et Marseille",
            ("13", "59", "80"),
        ),
        ("department:62", "departement", "Pas-de-Calais (62)", ("62",)),
        ("contrat:CV192", "contrat", "Contrat de ville Métropole Européenne de Lille", ("59",)),
    ],
)
def test_territories_resolve_for_each_kind(
    spec: str, kind: str, name: str, departments: tuple[str, ...]
) -> None:
    place = parse_territory(spec, COG)
    assert (place.kind, place.name, place.departments) == (kind, name, departments)
    assert place.slug.startswith(kind) and "/" not in place.slug and " " not in place.slug


def test_a_contrat_de_ville_selects_the_communes_of_its_epci() -> None:
    place = parse_territory("contrat:cv192", COG)
    assert place.codes == ("CV192",) and place.epci == "200093201"
    reference = geography.load_communes(COG)
    ranked = reference.assign(score=1.0)
    selected = select_communes(ranked, place, reference)
    assert set(selected["code_commune"]) == set(
        reference.loc[reference["code_epci"] == "200093201", "code_commune"]
    )
    assert {"59350", "59512"} <= set(selected["code_commune"])


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("32", "kind:code"),
        ("canton:12", "unknown"),
        ("region:99", "unknown"),
        ("departement:96", "unknown"),
        ("epci:123", "SIREN"),
        ("communes:59350,00000", "00000"),
        ("communes:", "no code"),
        ("contrat:CV999", "contrat de ville"),
    ],
)
def test_bad_territories_fail_with_a_useful_message(spec: str, message: str) -> None:
    with pytest.raises(TerritoryError, match=message):
        parse_territory(spec, COG)


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return geography.load_communes(COG)


@pytest.mark.parametrize(
    "spec", ["region:32", "departement:80", "epci:200093201", "communes:59350,59512"]
)
def test_selection_matches_the_reference_geography(spec: str, reference: pd.DataFrame) -> None:
    ranked = reference.assign(score=1.0)
    place = parse_territory(spec, COG)
    selected = select_communes(ranked, place, reference)
    column = {"region": "code_region", "departement": "code_departement", "epci": "code_epci"}.get(
        place.kind
    )
    if column:
        expected = set(reference.loc[reference[column] == place.codes[0], "code_commune"])
    else:
        expected = set(place.codes)
    assert set(selected["code_commune"]) == expected
    if place.kind == "epci":
        assert len(expected) == 95  # the Métropole Européenne de Lille in COG 2022


def test_unranked_communes_are_named_and_an_empty_territory_fails(reference: pd.DataFrame) -> None:
    place = parse_territory("communes:59350,59512", COG)
    ranked = reference[reference["code_commune"] == "59350"]
    with pytest.warns(UserWarning, match="59512"):
        assert list(select_communes(ranked, place, reference)["code_commune"]) == ["59350"]
    with pytest.raises(TerritoryError, match="no ranked commune"), pytest.warns(UserWarning):
        select_communes(reference.iloc[:0], place, reference)


# --------------------------------------------------------------------------- positions


def test_position_in_class_exact_values() -> None:
    rank = pd.Series([1, 2, 5, 1])
    size = pd.Series([5, 5, 5, 1])
    assert position_in_class(rank, size).tolist() == [100.0, 75.0, 0.0, 100.0]


def test_value_positions_share_ties_and_average_fifty() -> None:
    frame = pd.DataFrame(
        {
            "population_class": ["A"] * 5 + ["B"] * 3,
            "rate": [0.0, 0.0, 0.0, 2.0, 5.0, 1.0, np.nan, 3.0],
        }
    )
    positions = value_positions(frame, ["rate"])["rate"]
    # A: three zeros share mid-rank 2 → (2 − 1)/4 = 25; 2.0 → 75; 5.0 → 100.
    assert positions.iloc[:5].tolist() == [25.0, 25.0, 25.0, 75.0, 100.0]
    # B: the missing value has no position; the two others are 0 and 100.
    assert positions.iloc[5] == 0.0 and np.isnan(positions.iloc[6]) and positions.iloc[7] == 100.0
    assert positions.iloc[:5].mean() == 50.0  # the reason groups are summarised by means


@pytest.fixture()
def small_table() -> pd.DataFrame:
    """Two classes: five villages (scores 10…50) and three towns (scores 20, 40, 60)."""
    return pd.DataFrame(
        {
            "code_commune": ["v1", "v2", "v3", "v4", "v5", "t1", "t2", "t3"],
            "population_class": ["Village"] * 5 + ["Petite ville"] * 3,
            "population": [100, 200, 300, 400, 500, 6_000, 7_000, 8_000],
            "score": [50.0, 40.0, 30.0, 20.0, 10.0, 60.0, 40.0, 20.0],
            "rank_in_class": [1, 2, 3, 4, 5, 1, 2, 3],
            "class_size": [5] * 5 + [3] * 3,
            "rna_creations": [1.0, 0.0, 2.0, np.nan, 0.0, 12.0, 7.0, 1.0],
        }
    )


def test_class_comparison_exact_numbers(small_table: pd.DataFrame) -> None:
    selected = small_table[small_table["code_commune"].isin(["v1", "v2", "t3"])]
    table = class_comparison(
        small_table, selected, ["Village", "Petite ville", "Ville moyenne"], palmares_size=1
    )
    assert list(table["population_class"]) == ["Village", "Petite ville", "Ensemble"]
    village, town, overall = (table.iloc[i] for i in range(3))
    assert (village["communes"], village["population"]) == (2, 300)
    assert village["median_score"] == 45.0 and village["class_median_score"] == 30.0
    assert village["mean_position"] == 87.5  # positions 100 and 75
    assert village["top_quarter"] == 100.0 and village["laureates"] == 1
    assert town["mean_position"] == 0.0 and town["class_median_score"] == 40.0
    assert town["laureates"] == 0 and town["top_quarter"] == 0.0
    assert overall["communes"] == 3 and overall["population"] == 8_300
    assert overall["mean_position"] == pytest.approx(175 / 3)
    assert overall["median_score"] == 40.0
    assert overall["top_quarter"] == pytest.approx(200 / 3)


def test_mean_positions_per_class_and_overall(small_table: pd.DataFrame) -> None:
    small_table["position"] = position_in_class(
        small_table["rank_in_class"], small_table["class_size"]
    )
    small_table["position_rna"] = value_positions(small_table, ["rna_creations"])["rna_creations"]
    selected = small_table[small_table["code_commune"].isin(["v1", "v4", "t1"])]
    table = mean_positions(selected, ["position", "position_rna"], ["Village", "Petite ville"])
    assert list(table.columns) == ["Village", "Petite ville", "Ensemble"]
    assert table.loc["position", "Village"] == pytest.approx((100 + 25) / 2)
    assert table.loc["position", "Petite ville"] == 100.0
    assert table.loc["position", "Ensemble"] == pytest.approx(75.0)
    # v4 has no RNA value: the village mean is v1's position alone (1.0 → 2nd of 4 values).
    assert table.loc["position_rna", "Village"] == pytest.approx(200 / 3)


def test_territory_rates_sum_counts_over_known_values() -> None:
    meta = {
        "indicators": [
            {"code": "rna_creations", "count": "rna_creations"},
            {"code": "ppc", "numerator": "participants", "denominator_count": "campaigns"},
        ]
    }
    communes = pd.DataFrame(
        {
            "population": [1_000, 1_000, 2_000],
            "rna_creations": [1.0, np.nan, 4.0],
            "participants": [10.0, 20.0, 30.0],
            "campaigns": [1.0, 1.0, 3.0],
        }
    )
    rates = territory_rates(communes, communes.iloc[:2], meta).set_index("indicator")
    assert rates.loc["rna_creations", "territory"] == pytest.approx(1.0)  # 1 / 1 000 × 1 000
    assert rates.loc["rna_creations", "france"] == pytest.approx(5 / 3_000 * 1_000)
    assert rates.loc["ppc", "territory"] == pytest.approx(15.0)
    assert rates.loc["ppc", "france"] == pytest.approx(12.0)


# --------------------------------------------------------------------------- report


def synthetic_build(root: Path, departments: list[str]) -> Path:
    """A build folder with the tables the analysis reads, for the communes of ``departments``
    (seeded synthetic counts; ranks within the edition's classes)."""
    config = load_edition(2024)
    rng = np.random.default_rng(20240615)
    communes = geography.load_communes(COG, departments=departments)
    communes = communes[communes["population"] > 0].copy()
    communes["population_class"] = geography.population_class(
        communes["population"], config.classes.bounds, config.classes.labels
    ).astype(str)
    effect = rng.normal(0, 0.5, len(communes))
    means = {
        "rna_creations": 1.0,
        "ha_new_organizations": 0.8,
        "ha_campaigns": 2.5,
        "ha_participants": 15.0,
        "jva_matches": 7.0,
    }
    for column, rate in means.items():
        communes[column] = rng.poisson(
            rate / 1000 * communes["population"] * np.exp(effect)
        ).astype(float)
    communes["ha_participants_per_campaign"] = (
        communes["ha_participants"] / communes["ha_campaigns"]
    ).where(communes["ha_campaigns"] > 0)
    for column in [*means, "ha_participants_per_campaign"]:
        communes[f"{column}_per_1000"] = communes[column] / communes["population"] * 1000
    for criterion in ("associations", "dynamisme", "engagement"):
        communes[criterion] = np.clip(50 + 15 * effect + rng.normal(0, 8, len(communes)), 0, 100)
    communes["score"] = communes[["associations", "dynamisme", "engagement"]].mean(axis=1)
    communes["rank_in_class"] = (
        communes.groupby("population_class")["score"]
        .rank(ascending=False, method="first")
        .astype(int)
    )
    communes["class_size"] = communes.groupby("population_class")["score"].transform("size")
    communes["rank_national"] = communes["score"].rank(ascending=False, method="first").astype(int)
    tables = root / "tables"
    tables.mkdir(parents=True)
    communes.drop(columns=["code_epci", "codes_postaux"]).to_csv(
        tables / "communes.csv", index=False
    )
    # the count models' input (confidential): what the politique de la ville chapter reads
    (root / "work").mkdir()
    communes[
        [
            "code_commune",
            "nom",
            "population",
            "population_class",
            "code_departement",
            "code_region",
            *means,
            "ha_participants_per_campaign",
        ]
    ].to_csv(root / "work" / "count_model_input.csv", index=False)
    palmares = communes[communes["rank_in_class"] <= config.palmares_size].copy()
    palmares["sentence"] = (
        palmares["nom"]
        + " se distingue notamment par le nombre de campagnes lancées sur HelloAsso en 2023 ("
        + palmares["ha_campaigns"].astype(int).astype(str)
        + ")"
    )
    palmares["status"], palmares["p_top"] = "Lauréat", 1.0
    palmares.to_csv(tables / "palmares.csv", index=False)
    return root


def pdf_text(path: Path) -> str:
    require_tool("pdftotext")
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    ).stdout.decode()
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    build = synthetic_build(tmp_path_factory.mktemp("build"), ["80", "02"])
    outputs = build_territory_report(
        build, load_edition(2024), "departement:80", demo=True, qpv_file=QPV_SAMPLE
    )
    return build, outputs


def test_report_renders_with_the_territory_and_the_demo_mark(
    report: tuple[Path, dict[str, Path]],
) -> None:
    build, outputs = report
    assert outputs["dir"] == build / "territories" / "departement-80-somme"
    text = pdf_text(outputs["pdf"])
    assert "Somme (80)" in text and DEMO_MARK in text
    assert (
        "Politique de la ville" in text and "Amiens" in text
    )  # its QPV puts it in the contrats de ville table
    assert "Communes avec et sans quartier prioritaire" in text
    for forbidden in ("nan", "None", "TODO", "NaN"):
        assert f" {forbidden} " not in f" {text} ", forbidden
    html = outputs["html"].read_text(encoding="utf-8")
    assert "Somme (80)" in html and DEMO_MARK in html


def test_report_artefacts_exist_and_variables_are_text(
    report: tuple[Path, dict[str, Path]],
) -> None:
    _, outputs = report
    folder = outputs["dir"]
    for name in ("scores_by_class", "positions", "map", "france", "qpv_map"):
        assert (folder / "figures" / f"{name}.png").stat().st_size > 10_000, name
    source = (folder / "territoire.qmd").read_text(encoding="utf-8")
    import re

    for include in re.findall(r"\{\{< include (\S+) >\}\}", source):
        assert (folder / include).is_file(), include
    for image in re.findall(r"\]\((figures/[^)]+)\)", source):
        assert (folder / image).is_file(), image
    variables = yaml.safe_load(outputs["variables"].read_text(encoding="utf-8"))

    def leaves(node):
        if isinstance(node, dict):
            for value in node.values():
                yield from leaves(value)
        else:
            yield node

    assert all(isinstance(v, str) and v.strip() for v in leaves(variables))
    assert variables["territory"]["name"] == "Somme (80)"
    assert variables["qpv"]["provided"] == "oui" and variables["qpv"]["quartiers"] == "1"
    assert variables["qpv"]["communes"] == "1" and variables["qpv"]["synthetic"] == "non"


def test_report_source_uses_only_the_supported_subset() -> None:
    from barometre.publish.render import check_supported
    from barometre.territory import REPORT_SOURCE

    assert check_supported(REPORT_SOURCE.read_text(encoding="utf-8")) == []


def test_exports_hold_every_commune_with_a_dictionary(report: tuple[Path, dict[str, Path]]) -> None:
    build, outputs = report
    somme = pd.read_csv(
        build / "tables" / "communes.csv", dtype={"code_commune": str, "code_departement": str}
    )
    somme = somme[somme["code_departement"] == "80"]
    exported = pd.read_csv(outputs["csv"], dtype={"code_commune": str, "code_departement": str})
    assert sorted(exported["code_commune"]) == sorted(somme["code_commune"])
    assert exported.loc[exported["code_commune"] == "80021", "n_qpv"].item() == 1
    from openpyxl import load_workbook

    workbook = load_workbook(outputs["xlsx"], read_only=True)
    assert workbook.sheetnames == ["Communes", "Dictionnaire", "Lisez-moi"]
    assert workbook["Communes"].max_row == len(somme) + 1
    dictionary = [row[0] for row in workbook["Dictionnaire"].iter_rows(min_row=2, values_only=True)]
    assert dictionary == list(exported.columns)
    assert zipfile.is_zipfile(outputs["xlsx"])


def test_nothing_disclosive_leaves_the_territory_folder(
    report: tuple[Path, dict[str, Path]],
) -> None:
    from barometre.disclosure import scan_build

    build, outputs = report
    violations = [v for v in scan_build(build) if v.path.startswith("territories")]
    assert violations == []
    exported = pd.read_csv(outputs["csv"], dtype=str)
    raw = pd.read_csv(build / "tables" / "communes.csv", dtype={"code_commune": str}).set_index(
        "code_commune"
    )
    small = raw.loc[exported["code_commune"], "jva_matches"].between(1, 10).to_numpy()
    assert small.any(), "the synthetic build must hold small counts for this test to bite"
    assert (exported.loc[small, "jva_matches"] == "< 11").all()
    assert (exported.loc[small, "jva_matches_per_1000"] == "< 11").all()


def test_without_qpv_list_the_section_says_how_to_provide_one(tmp_path: Path) -> None:
    build = synthetic_build(tmp_path, ["80"])
    outputs = build_territory_report(
        build, load_edition(2024), "communes:80021,80001", demo=False, render=False
    )
    qpv_md = (outputs["dir"] / "tables" / "qpv.md").read_text(encoding="utf-8")
    assert "Aucune liste de quartiers prioritaires" in qpv_md
    assert (
        "`barometre territory communes:80021,80001 --edition 2024 --qpv-file liste_qpv_2024.csv`"
        in qpv_md
    )
    assert (outputs["dir"] / "tables" / "demo_mark.md").read_text(encoding="utf-8").strip() == ""
    assert "pdf" not in outputs
    intervals = (outputs["dir"] / "tables" / "intervals_note.md").read_text(encoding="utf-8")
    assert "ne sont pas calculés" in intervals
