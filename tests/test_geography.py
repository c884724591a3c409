"""Tests of the reference geography: shipped tables, their provenance, code harmonisation and
population classes.

Exact figures are INSEE's: populations municipales of millésime 2020 (Paris 2 145 906,
Grenoble 158 240, Lasalle 1 093: the populations of the published 2024 palmarès), 2022 and
2023, and the number of communes of each COG (metropolitan France + DROM).
"""

from __future__ import annotations

import bisect
import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from barometre import geography

SHIPPED = [2022, 2023, 2024, 2025, 2026]
# Communes of the COG on 1 January (INSEE; metropolitan France and DROM).
COMMUNE_COUNTS = {2022: 34_955, 2023: 34_945, 2024: 34_935, 2025: 34_875, 2026: 34_875}
POPULATION_YEAR = {2022: 2020, 2023: 2020, 2024: 2022, 2025: 2023, 2026: 2023}


def population_of(cog_year: int, code: str) -> int:
    communes = geography.load_communes(cog_year).set_index("code_commune")
    return int(communes.at[code, "population"])


def test_shipped_vintages_are_available() -> None:
    assert set(SHIPPED) <= set(geography.available_vintages())
    assert geography.reference_dir().name == "reference"


def test_unknown_vintage_fails_loudly() -> None:
    with pytest.raises(FileNotFoundError, match="available"):
        geography.load_communes(1999)


@pytest.mark.parametrize("cog_year", [2022, 2023])
def test_populations_of_the_2024_palmares(cog_year: int) -> None:
    assert population_of(cog_year, "75056") == 2_145_906  # Paris
    assert population_of(cog_year, "38185") == 158_240  # Grenoble
    assert population_of(cog_year, "30140") == 1_093  # Lasalle (Gard)
    assert geography.provenance(cog_year)["population"]["year"] == 2020


def test_later_population_millesimes() -> None:
    assert population_of(2024, "75056") == 2_113_705  # millésime 2022
    assert population_of(2024, "38185") == 156_389
    assert population_of(2025, "38185") == 156_140  # millésime 2023
    assert population_of(2026, "75056") == 2_103_778


@pytest.mark.parametrize("cog_year", SHIPPED)
def test_commune_table_contract(cog_year: int) -> None:
    communes = geography.load_communes(cog_year)
    assert len(communes) == COMMUNE_COUNTS[cog_year]
    assert communes["code_commune"].is_unique
    assert communes["code_commune"].is_monotonic_increasing
    assert communes["code_commune"].map(type).eq(str).all()
    assert communes["code_commune"].str.fullmatch(r"\d{5}|2[AB]\d{3}").all()
    assert communes["population"].dtype == np.int64
    assert (communes["population"] >= 0).all()
    assert communes["code_departement"].map(type).eq(str).all()
    assert communes["codes_postaux"].str.fullmatch(r"\d{5}(\|\d{5})*").all()
    assert geography.provenance(cog_year)["population"]["year"] == POPULATION_YEAR[cog_year]


def test_corsica_and_leading_zeros_are_strings() -> None:
    communes = geography.load_communes(2024).set_index("code_commune")
    assert communes.at["2A004", "nom"] == "Ajaccio"
    assert communes.at["2A004", "code_departement"] == "2A"
    assert communes.at["2B033", "nom"] == "Bastia"
    assert communes.at["01001", "code_departement"] == "01"
    assert communes.at["01001", "code_region"] == "84"
    corsica = geography.load_communes(2024, departments=["2A", "2B"])
    assert len(corsica) == 360
    assert set(corsica["code_region"]) == {"94"}


def test_department_filter_rejects_unknown_codes() -> None:
    with pytest.raises(ValueError, match="unknown department"):
        geography.load_communes(2024, departments=["2A", "20"])


def test_overseas_departments_present_and_collectivities_absent() -> None:
    communes = geography.load_communes(2025)
    by_code = communes.set_index("code_commune")
    assert by_code.at["97101", "nom"] == "Les Abymes"
    assert by_code.at["97411", "nom"] == "Saint-Denis"
    assert by_code.at["97611", "code_departement"] == "976"
    assert set(communes.loc[communes["code_commune"].str.startswith("97"), "code_departement"]) == {
        "971",
        "972",
        "973",
        "974",
        "976",
    }
    assert not communes["code_commune"].str.match(r"97[578]|98").any()
    departements = geography.load_departements(2025)
    assert len(departements) == 101
    assert set(departements["code_departement"]) == set(communes["code_departement"])
    regions = geography.load_regions(2025)
    assert len(regions) == 18
    assert set(departements["code_region"]) == set(regions["code_region"])


def test_same_millesime_same_total_population() -> None:
    # COG 2023 carries the millésime 2020 published in the COG 2022 geography; the build
    # re-aggregates the communes nouvelles of 2023, so the totals must agree exactly.
    total_2022 = geography.load_communes(2022)["population"].sum()
    assert geography.load_communes(2023)["population"].sum() == total_2022 == 67_418_672
    assert population_of(2023, "01138") == 3_426  # Culoz-Béon = Culoz 2 987 + Béon 439
    corrections = geography.provenance(2023)["population"]["geography"]["corrections"]
    assert {c["code_commune"] for c in corrections} >= {"01138", "85289"}


def test_arrondissements_map_to_their_commune() -> None:
    codes = pd.Series(
        [f"751{i:02d}" for i in range(1, 21)]
        + [f"6938{i}" for i in range(1, 10)]
        + [f"132{i:02d}" for i in range(1, 17)]
    )
    expected = ["75056"] * 20 + ["69123"] * 9 + ["13055"] * 16
    for cog_year in SHIPPED:
        assert geography.harmonise_codes(codes, cog_year).tolist() == expected


def test_harmonise_delegated_current_unknown_and_missing() -> None:
    codes = pd.Series(
        ["01039", "01138", " 1001", "1001", "99999", None], index=list("abcdef"), name="insee"
    )
    mapped = geography.harmonise_codes(codes, 2023)
    assert mapped.name == "insee"
    assert list(mapped.index) == list("abcdef")
    assert mapped.iloc[:4].tolist() == ["01138", "01138", "01001", "01001"]
    assert mapped.iloc[4:].isna().all()
    kept = geography.harmonise_codes(codes, 2023, unknown="keep")
    assert kept["e"] == "99999"
    assert pd.isna(kept["f"])
    # Béon was still a commune in the COG 2022.
    assert geography.harmonise_codes(pd.Series(["01039"]), 2022).tolist() == ["01039"]


@pytest.mark.parametrize(
    ("older", "newer"), [(2022, 2023), (2023, 2024), (2024, 2025), (2025, 2026)]
)
def test_every_commune_of_a_vintage_maps_into_the_next(older: int, newer: int) -> None:
    codes = geography.load_communes(older)["code_commune"]
    mapped = geography.harmonise_codes(codes, newer)
    assert mapped.notna().all()
    assert mapped.isin(geography.load_communes(newer)["code_commune"]).all()


@pytest.mark.parametrize("cog_year", SHIPPED)
def test_links_and_epci_are_consistent(cog_year: int) -> None:
    communes = geography.load_communes(cog_year)
    links = geography.load_commune_links(cog_year)
    assert not links.duplicated(["code", "type"]).any()
    assert links["code_commune_parent"].isin(communes["code_commune"]).all()
    assert (links["type"] == "arrondissement-municipal").sum() == 45
    epci = geography.load_epci(cog_year)
    members = communes["code_epci"].dropna().value_counts()
    assert set(members.index) == set(epci["code_epci"])
    assert (members.reindex(epci["code_epci"]).to_numpy() == epci["n_communes"].to_numpy()).all()
    assert communes["code_epci"].isna().sum() == 4  # Bréhat, Sein, Ouessant, Yeu


def test_postcode_table() -> None:
    pairs = geography.postcode_table(2024)
    assert pairs.loc[pairs["code_postal"] == "75001", "code_commune"].tolist() == ["75056"]
    assert set(pairs.loc[pairs["code_postal"] == "38000", "code_commune"]) == {"38185"}
    assert not pairs.duplicated(["code_postal", "code_commune"]).any()
    counts = pairs.groupby("code_postal")["code_commune"].size()
    assert (pairs["n_communes"].to_numpy() == counts.reindex(pairs["code_postal"]).to_numpy()).all()


def test_population_class_boundaries() -> None:
    population = pd.Series(
        [0, 4_999, 5_000, 19_999, 20_000, 49_999, 50_000, 199_999, 200_000, 200_001]
    )
    classes = geography.population_class(population)
    assert classes.tolist() == [
        "Village",
        "Village",
        "Petite ville",
        "Petite ville",
        "Ville moyenne",
        "Ville moyenne",
        "Grande ville",
        "Grande ville",
        "Métropole",
        "Métropole",
    ]
    assert isinstance(classes.dtype, pd.CategoricalDtype)
    assert classes.cat.ordered
    assert list(classes.cat.categories) == list(geography.DEFAULT_CLASS_LABELS)
    assert pd.isna(geography.population_class(pd.Series([np.nan]))[0])


def test_population_class_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        geography.population_class(pd.Series([-1]))
    with pytest.raises(ValueError, match="one more label"):
        geography.population_class(pd.Series([1]), bounds=(10,), labels=("a",))
    with pytest.raises(ValueError, match="increasing"):
        geography.population_class(pd.Series([1]), bounds=(10, 10), labels=("a", "b", "c"))


@given(st.lists(st.integers(min_value=0, max_value=3_000_000), min_size=1, max_size=50))
def test_population_class_is_the_count_of_bounds_reached(values: list[int]) -> None:
    classes = geography.population_class(pd.Series(values))
    expected = [bisect.bisect_right(geography.DEFAULT_CLASS_BOUNDS, v) for v in values]
    assert classes.cat.codes.tolist() == expected


def test_national_class_sizes_2022() -> None:
    classes = geography.population_class(geography.load_communes(2022)["population"])
    counts = classes.value_counts()
    # Métropoles of the millésime 2020: Paris, Marseille, Lyon, Toulouse, Nice, Nantes,
    # Montpellier, Strasbourg, Bordeaux, Lille, Rennes (11 communes of 200 000 or more).
    assert counts["Métropole"] == 11
    assert counts.sum() == COMMUNE_COUNTS[2022]


@pytest.mark.parametrize("cog_year", SHIPPED)
def test_provenance_matches_shipped_files(cog_year: int) -> None:
    prov = geography.provenance(cog_year)
    folder = geography.reference_dir() / f"cog{cog_year}"
    assert prov["cog_year"] == cog_year
    assert prov["source"]["package"] == "@etalab/decoupage-administratif"
    assert "Licence Ouverte" in prov["source"]["licence"]
    assert len(prov["source"]["tarball_sha256"]) == 64
    assert set(prov["source"]["files"]) == {
        "communes.json",
        "departements.json",
        "regions.json",
        "epci.json",
    }
    assert (folder / "PROVENANCE.md").is_file()
    loaders = {
        "communes": geography.load_communes,
        "commune_links": geography.load_commune_links,
        "departements": geography.load_departements,
        "regions": geography.load_regions,
        "epci": geography.load_epci,
    }
    assert set(prov["tables"]) == set(loaders)
    for name, info in prov["tables"].items():
        data = (folder / info["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == info["sha256"], name
        assert len(data) == info["bytes"] < 8_000_000
        assert len(loaders[name](cog_year)) == info["rows"]
    for code, check in prov["population"]["check"].items():
        assert population_of(cog_year, code) == check["population"]
    assert json.loads((folder / "provenance.json").read_text(encoding="utf-8")) == prov


def test_reference_data_stays_small() -> None:
    total = sum(p.stat().st_size for p in geography.reference_dir().rglob("*") if p.is_file())
    assert total < 10_000_000
