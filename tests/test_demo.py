"""Tests of the synthetic demo generator (barometre.demo) on a fixture commune table.

The fixture (:func:`fixture_communes`) has the interface of ``geography.load_communes``: ~200
fake communes in departments 01, 35, 2A, 971, Alsace-Moselle (57, 67, 68) and a Paris-like city
(75056, twenty postcodes), with accents, ``Saint-`` names, shared postcodes and a name repeated
in two departments. It never reads the project's reference tables.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from barometre import demo
from barometre.sources import PERSONAL_COLUMN_PATTERN
from barometre.sources.counts import COUNT_COLUMNS
from barometre.sources.rna import WALDEC_COLUMNS

DATA_YEAR = 2023
_DEPARTMENTS = (
    ("01", "84"),
    ("35", "53"),
    ("57", "44"),
    ("67", "44"),
    ("68", "44"),
    ("2A", "94"),
    ("971", "01"),
)
_STEMS = (
    "Belle",
    "Mont",
    "Ville",
    "Roche",
    "Font",
    "Château",
    "Bois",
    "Val",
    "Pré",
    "Lac",
    "Éclu",
    "Œil",
)
_ENDS = ("neuve", "fort", "-sur-Mer", "-les-Bains", "rouge", "aux", "ière", "-en-Bresse")


def fixture_communes(seed: int = 12345) -> pd.DataFrame:
    """About 200 fake communes with the columns of ``geography.load_communes`` (+ coordinates)."""
    rng = np.random.default_rng(seed)
    rows = []
    for d, (dep, region) in enumerate(_DEPARTMENTS):
        names: list[str] = []
        while len(names) < 28:
            stem, end = _STEMS[rng.integers(len(_STEMS))], _ENDS[rng.integers(len(_ENDS))]
            name = stem + end
            if rng.random() < 0.2:
                name = ("Sainte-" if rng.random() < 0.3 else "Saint-") + name
            if name not in names:
                names.append(name)
        names[0] = "Homonyme"  # the same name in every department
        postcode_base = "20" if dep == "2A" else dep[:3] if len(dep) == 3 else dep
        for i, name in enumerate(names):
            code = f"{dep}{i + 1:03d}" if len(dep) == 2 else f"{dep}{i + 1:02d}"
            # Pairs of communes share a postcode; the first commune (a town) has two.
            pc = (
                f"{postcode_base}{(100 + 10 * (i // 2)) % 1000:03d}"
                if len(postcode_base) == 2
                else f"{postcode_base}{10 + i // 2:02d}"
            )
            postcodes = (
                pc if i else f"{pc}|{postcode_base}{'999' if len(postcode_base) == 2 else '99'}"
            )
            population = (
                int(np.clip(rng.lognormal(6.8, 1.4), 20, 90_000)) if i else 60_000 + 10_000 * d
            )
            rows.append(
                (
                    code,
                    name,
                    population,
                    dep,
                    region,
                    f"2{d:02d}000000",
                    postcodes,
                    45 + d + i / 100,
                    2 + d - i / 100,
                )
            )
    paris_postcodes = "|".join([f"750{n:02d}" for n in range(1, 21)] + ["75116"])
    rows.append(
        ("75056", "Paris", 2_145_906, "75", "11", "200054781", paris_postcodes, 48.8566, 2.3522)
    )
    columns = [
        "code_commune",
        "nom",
        "population",
        "code_departement",
        "code_region",
        "code_epci",
        "codes_postaux",
        "latitude",
        "longitude",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    frame["population"] = frame["population"].astype("int64")
    return frame.sort_values("code_commune").reset_index(drop=True)


@pytest.fixture(scope="module")
def communes() -> pd.DataFrame:
    return fixture_communes()


@pytest.fixture(scope="module")
def data(communes: pd.DataFrame) -> demo.DemoData:
    return demo.synthesize_demo(communes, DATA_YEAR, np.random.default_rng(2024), scale=1.0)


def per_10k(data: demo.DemoData, communes: pd.DataFrame) -> pd.DataFrame:
    table = data.truth.merge(
        communes[["code_commune", "population", "code_departement"]], on="code_commune"
    )
    return table


def test_fixture_has_the_geography_interface(communes: pd.DataFrame) -> None:
    assert communes["code_commune"].is_unique
    assert communes["code_commune"].str.len().eq(5).all()
    assert {"57", "67", "68", "75"} <= set(communes["code_departement"])
    assert 190 <= len(communes) <= 210


def test_same_seed_gives_byte_identical_files(communes: pd.DataFrame, tmp_path: Path) -> None:
    first = demo.generate_demo_inputs(
        communes, DATA_YEAR, tmp_path / "a", np.random.default_rng(7), seed=7
    )
    second = demo.generate_demo_inputs(
        communes, DATA_YEAR, tmp_path / "b", np.random.default_rng(7), seed=7
    )
    other = demo.generate_demo_inputs(
        communes, DATA_YEAR, tmp_path / "c", np.random.default_rng(8), seed=8
    )
    assert first.keys() == second.keys()
    for name in first:
        assert first[name].read_bytes() == second[name].read_bytes(), name
    assert first["rna"].read_bytes() != other["rna"].read_bytes()
    assert (
        first["helloasso_participations"].read_bytes()
        != other["helloasso_participations"].read_bytes()
    )


def test_files_follow_the_input_layouts(communes: pd.DataFrame, tmp_path: Path) -> None:
    files = demo.generate_demo_inputs(
        communes, DATA_YEAR, tmp_path, np.random.default_rng(1), seed=1
    )
    rna_path = files["rna"]
    assert rna_path.name == f"rna_waldec_{DATA_YEAR + 1}0101.csv"
    lines = rna_path.read_text(encoding="utf-8").splitlines()
    assert lines[0].split(";") == list(WALDEC_COLUMNS)
    assert len(WALDEC_COLUMNS) == 39
    rna = pd.read_csv(rna_path, sep=";", dtype=str, keep_default_na=False)
    planted = json.loads(files["provenance"].read_text(encoding="utf-8"))["planted_defects"]
    # Unique RNA numbers but for the planted repeats (about one row in 10 000).
    assert rna.shape[1] == 39 and rna["id"].duplicated().sum() == planted["rna"] >= 1
    assert rna["id"].str.fullmatch(r"W[0-9A-Z]{9}").all()
    assert (rna["date_disso"] == "0001-01-01").mean() > 0.9  # sentinel of living associations
    assert set(rna["position"]) == {"A", "D"}
    assert rna["adrs_codeinsee"].str.startswith("751").any()  # Paris arrondissement codes
    orgs = pd.read_csv(files["helloasso_organizations"], dtype=str, keep_default_na=False)
    assert {"id", "name", "type", "rna_number", "postal_code", "city", "created_at"} <= set(
        orgs.columns
    )
    assert 0 < (orgs["rna_number"] != "").mean() < 0.7
    assert set(orgs.loc[orgs["rna_number"] != "", "rna_number"]) <= set(rna["id"])
    forms = pd.read_csv(files["helloasso_forms"], dtype=str)
    assert set(forms["form_type"]) == {
        "Membership",
        "Event",
        "Donation",
        "CrowdFunding",
        "Shop",
        "PaymentForm",
    }
    items = pq.read_table(files["helloasso_participations"])
    assert items.schema.names == [
        "id",
        "form_id",
        "organization_id",
        "date",
        "state",
        "amount_cents",
        "item_type",
    ]
    assert set(items.column("organization_id").to_pylist()) <= set(orgs["id"].astype(int))
    missions = pd.read_csv(files["jeveuxaider_missions"], dtype=str, keep_default_na=False)
    matches = pd.read_csv(files["jeveuxaider_participations"], dtype=str)
    assert set(matches["state"]) <= {
        "En attente de validation",
        "En cours de traitement",
        "Validée",
        "Refusée",
        "Annulée",
    }
    assert set(matches["mission_id"]) <= set(missions["id"])
    readme = files["readme"].read_text(encoding="utf-8")
    assert demo.DEMO_MARK in readme
    provenance = json.loads(files["provenance"].read_text(encoding="utf-8"))
    assert provenance["synthetic"] is True and provenance["seed"] == 1
    assert provenance["generator_version"] == demo.GENERATOR_VERSION
    assert provenance["files"]["rna"]["rows"] == len(rna)


def test_no_personal_column_is_written(communes: pd.DataFrame, tmp_path: Path) -> None:
    files = demo.generate_demo_inputs(communes, DATA_YEAR, tmp_path, np.random.default_rng(3))
    for name, path in files.items():
        if path.suffix == ".csv":
            header = path.read_text(encoding="utf-8").splitlines()[0]
            columns = header.split(";" if name == "rna" else ",")
        elif path.suffix == ".parquet":
            columns = pq.read_schema(path).names
        else:
            continue
        # RNA's adrg_declarant exists in the official layout; the generator leaves it empty.
        personal = [
            c for c in columns if PERSONAL_COLUMN_PATTERN.search(c) and c != "adrg_declarant"
        ]
        assert personal == [], (name, personal)
    rna = pd.read_csv(files["rna"], sep=";", dtype=str, keep_default_na=False)
    assert (rna["adrg_declarant"] == "").all()


def test_creation_dates_span_several_years(data: demo.DemoData) -> None:
    years = data.rna["date_creat"].str[:4].astype(int)
    assert set(range(DATA_YEAR - 4, DATA_YEAR + 1)) <= set(years)
    assert years.max() == DATA_YEAR
    share = (years == DATA_YEAR).mean()
    assert 0.15 < share < 0.3
    assert data.ha_organizations["created_at"].str[:4].astype(int).min() < DATA_YEAR - 5
    # Extracts run past the data year, so "in the year" is a filter for the platforms.
    iso = data.ha_forms["created_at"].str.match(r"\d{4}-")  # planted dd/mm/yyyy dates aside
    assert (~iso).sum() == data.planted["helloasso_forms"] == 1
    assert (data.ha_forms.loc[iso, "created_at"].str[:4].astype(int) == DATA_YEAR + 1).any()
    assert (data.jva_participations["created_at"].str[:4].astype(int) == DATA_YEAR + 1).any()
    assert (data.jva_participations["created_at"].str[:4].astype(int) < DATA_YEAR).any()


def test_magnitudes_are_sane(data: demo.DemoData, communes: pd.DataFrame) -> None:
    # National rates at scale 1 (measured on COG 2022, outside Alsace-Moselle, per 10 000
    # inhabitants): RNA 11.7, HelloAsso organisations 8.3, campaigns 27.6, participants 182,
    # JeVeuxAider matches 93 (cumulated). The fixture's few departments and its one big city
    # carry their own random effects, hence the wide bands.
    table = per_10k(data, communes)
    general = table[~table["code_departement"].isin(demo.ALSACE_MOSELLE)]
    for rows in (general, general[general["code_commune"] != "75056"]):
        rates = rows[list(COUNT_COLUMNS)].sum() / rows["population"].sum() * 10_000
        assert 5 < rates["rna_creations"] < 40, rates
        assert 2 < rates["ha_new_organizations"] < 40, rates
        assert 8 < rates["ha_campaigns"] < 150, rates
        assert 20 < rates["ha_participants"] < 1_000, rates
        assert 20 < rates["jva_matches"] < 800, rates
    # Paris-like city: thousands of associations, and counts in every indicator.
    paris = table.set_index("code_commune").loc["75056"]
    assert 1_000 < paris["rna_creations"] < 15_000
    assert (paris[list(COUNT_COLUMNS)] > 500).all()
    # Participations stay a demo-sized table: a few per campaign.
    assert 2 < data.ha_participations.num_rows / len(data.ha_forms) < 20


def test_scale_multiplies_the_counts(communes: pd.DataFrame) -> None:
    communes = communes[communes["code_commune"] != "75056"]
    small = demo.synthesize_demo(communes, DATA_YEAR, np.random.default_rng(5), scale=1.0)
    large = demo.synthesize_demo(communes, DATA_YEAR, np.random.default_rng(5), scale=4.0)
    ratio = large.truth[list(COUNT_COLUMNS)].sum() / small.truth[list(COUNT_COLUMNS)].sum()
    assert ratio.between(3.4, 4.6).all(), ratio
    thin = demo.synthesize_demo(
        communes, DATA_YEAR, np.random.default_rng(5), scale=1.0, participations_scale=0.5
    )
    assert 0.4 < thin.ha_participations.num_rows / small.ha_participations.num_rows < 0.6
    pd.testing.assert_frame_equal(thin.rna, small.rna)
    pd.testing.assert_frame_equal(thin.jva_participations, small.jva_participations)
    pd.testing.assert_frame_equal(thin.ha_forms, small.ha_forms)


def test_alsace_moselle_rna_creations_are_near_zero(
    data: demo.DemoData, communes: pd.DataFrame
) -> None:
    table = per_10k(data, communes)
    local = table["code_departement"].isin(demo.ALSACE_MOSELLE)
    rate = lambda rows, col: rows[col].sum() / rows["population"].sum() * 10_000
    assert rate(table[local], "rna_creations") < 0.5
    assert rate(table[~local], "rna_creations") > 5
    # The platforms are not affected: local-law associations use HelloAsso like the others.
    assert rate(table[local], "ha_new_organizations") > 2
    orgs = data.ha_organizations
    local_orgs = orgs[orgs["postal_code"].str[:2].isin(demo.ALSACE_MOSELLE)]
    assert local_orgs["type"].str.startswith("Association1908").mean() > 0.8
    assert not local_orgs["type"].isin(["Association1901"]).any()


def test_indicators_share_the_latent_engagement(
    data: demo.DemoData, communes: pd.DataFrame
) -> None:
    table = per_10k(data, communes).merge(data.engagement, on="code_commune")
    table = table[
        (table["population"] >= 1_000) & ~table["code_departement"].isin(demo.ALSACE_MOSELLE)
    ]
    rates = table[list(COUNT_COLUMNS)].div(table["population"], axis=0)
    with_latent = rates.corrwith(table["latent_engagement"], method="spearman")
    # ~55 communes: one correlation has a standard error of ~0.13, so single pairs are only
    # required to be positive and the averages to be clearly so.
    assert (with_latent > 0).all() and with_latent.mean() > 0.3, with_latent
    pairwise = rates.corr(method="spearman").to_numpy()[np.triu_indices(len(COUNT_COLUMNS), 1)]
    assert pairwise.mean() > 0.2, pairwise


def test_platforms_concentrate_in_towns(data: demo.DemoData, communes: pd.DataFrame) -> None:
    table = per_10k(data, communes)
    towns = table["population"] >= 20_000
    rate = lambda rows: rows["jva_matches"].sum() / rows["population"].sum()
    assert rate(table[towns]) > rate(table[~towns])


def test_department_effects_do_not_depend_on_the_subset(communes: pd.DataFrame) -> None:
    subset = communes[communes["code_departement"].isin(["35", "01"])]
    whole = demo.synthesize_demo(
        communes, DATA_YEAR, np.random.default_rng(11), scale=0.1
    ).engagement
    part = demo.synthesize_demo(subset, DATA_YEAR, np.random.default_rng(11), scale=0.1).engagement
    merged = part.merge(whole, on="code_commune", suffixes=("_part", "_whole"))
    np.testing.assert_allclose(merged["department_effect_part"], merged["department_effect_whole"])


def test_planted_defects_are_extra_rows(data: demo.DemoData) -> None:
    """About one row in 10 000 of three tables is appended to break its contract; nothing
    below 100 rows. The truth is drawn before: it does not contain them."""
    tables = {"rna": data.rna, "helloasso_forms": data.ha_forms, "jeveuxaider_participations": data.jva_participations}  # fmt: skip
    for name, table in tables.items():
        n = len(table) - data.planted[name]
        assert data.planted[name] == (n // 10_000 if n >= 10_000 else 1), name
    assert data.rna.iloc[-data.planted["rna"]].equals(data.rna.iloc[0])  # the first row, repeated
    assert (
        data.jva_participations["id"].duplicated().sum()
        == data.planted["jeveuxaider_participations"]
    )
    last = data.ha_forms.iloc[-1]
    assert last["form_id"] == data.ha_forms["form_id"].max() and last["created_at"][2] == "/"
    small = demo.plant_defects(
        data.rna.head(99), data.ha_forms.head(10_000), data.jva_participations.head(20_000)
    )
    assert small[3] == {"rna": 0, "helloasso_forms": 1, "jeveuxaider_participations": 2}


def test_bad_arguments_fail(communes: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="scale"):
        demo.synthesize_demo(communes, DATA_YEAR, np.random.default_rng(0), scale=0)
    with pytest.raises(ValueError, match="lacks columns"):
        demo.synthesize_demo(
            communes.drop(columns="codes_postaux"), DATA_YEAR, np.random.default_rng(0)
        )
