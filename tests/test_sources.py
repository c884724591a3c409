"""Tests of the first-version loaders (barometre.sources): round trip on demo data against the
generator's truth, counting options, commune matching rules, error messages, personal columns,
and the real RNA fixtures of ``../shared/data/rna`` (skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_demo import fixture_communes

from barometre import demo
from barometre.sources import (
    CommuneMatcher,
    SourceError,
    harmonise_insee_codes,
    helloasso,
    jeveuxaider,
    normalise_city_name,
    normalise_postcode,
    rna,
)
from barometre.sources.counts import (
    COUNT_COLUMNS,
    REPORT_COLUMNS,
    commune_counts,
    resolve_counted_states,
)

DATA_YEAR = 2023
SHARED_RNA = Path(__file__).resolve().parents[2] / "shared" / "data" / "rna"


@pytest.fixture(scope="module")
def communes() -> pd.DataFrame:
    return fixture_communes()


@pytest.fixture(scope="module")
def generated(
    communes: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> tuple[demo.DemoData, Path]:
    data = demo.synthesize_demo(communes, DATA_YEAR, np.random.default_rng(99), scale=0.5)
    raw = tmp_path_factory.mktemp("raw")
    demo.write_demo_inputs(data, raw)
    return data, raw


@pytest.fixture(scope="module")
def counted(generated, communes):
    _, raw = generated
    return commune_counts(raw, communes, DATA_YEAR)


# --- round trip ------------------------------------------------------------------------------


def test_counts_equal_the_generator_truth(generated, counted, communes) -> None:
    data, _ = generated
    counts, _ = counted
    assert list(counts.columns) == ["code_commune", *COUNT_COLUMNS]
    assert counts["code_commune"].tolist() == sorted(communes["code_commune"])
    assert (counts.dtypes[list(COUNT_COLUMNS)] == "int64").all()
    pd.testing.assert_frame_equal(
        counts, data.truth.sort_values("code_commune").reset_index(drop=True)
    )
    assert (counts[list(COUNT_COLUMNS)].sum() > 0).all()


def test_match_report_reconciles(generated, counted) -> None:
    data, _ = generated
    counts, report = counted
    assert list(report.columns) == list(REPORT_COLUMNS)
    assert report["source"].is_unique
    report = report.set_index("source")
    assert (
        report["rows_read"] == report["out_of_scope"] + report["matched"] + report["unmatched"]
    ).all()
    assert (report["matched"] == report["matched_exact"] + report["matched_rule"]).all()
    for source in report.index:
        assert report.at[source, "matched"] == counts[report.at[source, "count"]].sum()
    assert report.at["rna", "rows_read"] == len(data.rna)
    assert report.at["helloasso_organizations", "rows_read"] == len(data.ha_organizations)
    assert report.at["helloasso_forms", "rows_read"] == len(data.ha_forms)
    assert report.at["helloasso_participations", "rows_read"] == data.ha_participations.num_rows
    assert report.at["jeveuxaider_participations", "rows_read"] == len(data.jva_participations)
    # Planted unplaceable records show up, with their reason, instead of vanishing.
    assert report.at["jeveuxaider_participations", "unmatched"] > 0
    assert "no location" in report.at["jeveuxaider_participations", "unmatched_examples"]
    assert report.at["rna", "matched_rule"] > 0  # Paris arrondissements, blank codes
    assert (report["match_rate"] > 0.85).all()


def test_counted_states_narrow_the_counts(generated, communes) -> None:
    data, raw = generated
    states = {"helloasso_participations": ["Processed"], "jeveuxaider_participations": ["Validée"]}
    counts, _ = commune_counts(raw, communes, DATA_YEAR, states)
    items = data.ha_participations.to_pandas()
    orgs = data.ha_organizations.set_index("id")
    placed_assoc = orgs["type"].str.startswith("Association") & (
        orgs["postal_code"].str.fullmatch(r"\d{5}")
    )
    expected = items[
        (items["state"] == "Processed")
        & (items["date"].dt.year == DATA_YEAR)
        & items["organization_id"].map(placed_assoc).to_numpy()
    ]
    assert counts["ha_participants"].sum() == len(expected)
    missions = data.jva_missions.set_index("id")
    matches = data.jva_participations
    placed = matches["mission_id"].map(missions["postal_code"] != "")
    valid = (
        (matches["state"] == "Validée") & (matches["created_at"].str[:4] <= str(DATA_YEAR)) & placed
    )
    assert counts["jva_matches"].sum() == valid.sum()
    baseline, _ = commune_counts(raw, communes, DATA_YEAR)
    for column in ("rna_creations", "ha_new_organizations", "ha_campaigns"):
        assert counts[column].sum() == baseline[column].sum()


def test_rna_publication_date_and_yearly_jva_options(generated, counted, communes) -> None:
    data, raw = generated
    baseline, _ = counted
    counts, _ = commune_counts(
        raw, communes, DATA_YEAR, rna_date="publication", jva_cumulative=False
    )
    placeable = (data.rna["adrs_codepostal"] != "") | (data.rna["adrs_codeinsee"] != "")
    assert (
        counts["rna_creations"].sum()
        == ((data.rna["date_publi"].str[:4] == str(DATA_YEAR)) & placeable).sum()
    )
    assert counts["rna_creations"].sum() != baseline["rna_creations"].sum()
    assert 0 < counts["jva_matches"].sum() < baseline["jva_matches"].sum()


def test_unknown_counted_states_key_fails() -> None:
    with pytest.raises(ValueError, match="unknown counted_states key 'helloasso_item'"):
        resolve_counted_states({"helloasso_item": ["Processed"]})
    with pytest.raises(ValueError, match="non-empty list"):
        resolve_counted_states({"helloasso_forms": "Public"})
    assert resolve_counted_states(None)["helloasso_participations"] == ["Processed", "Registered"]


# --- normalisation and matching --------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("St-Étienne CEDEX 2", "SAINT ETIENNE"),
        ("ste-marie-aux-mines", "SAINTE MARIE AUX MINES"),
        ("PARIS 15", "PARIS"),
        ("Marseille 8e Arrondissement", "MARSEILLE"),
        ("Lyon 3EME", "LYON"),
        ("L'Haÿ-les-Roses", "L HAY LES ROSES"),
        ("Œuilly", "OEUILLY"),
        ("  Bourg-en-Bresse  cedex ", "BOURG EN BRESSE"),
        ("Saint-Genis-Pouilly", "SAINT GENIS POUILLY"),
    ],
)
def test_normalise_city_name(raw: str, expected: str) -> None:
    assert normalise_city_name(raw) == expected


@given(st.text(alphabet="abcdéèêëàâîïôöùûüçœ -'ABCDEÉÈSTst0123456789", max_size=30))
def test_normalise_city_name_is_idempotent_and_case_blind(text: str) -> None:
    once = normalise_city_name(text)
    assert normalise_city_name(once) == once
    assert normalise_city_name(text.upper()) == normalise_city_name(text.lower())


def test_normalise_postcode() -> None:
    assert normalise_postcode("1000") == "01000"
    assert normalise_postcode(" 75 001") == "75001"
    assert normalise_postcode("L-1009") == ""
    assert normalise_postcode("") == ""


@pytest.fixture(scope="module")
def tiny() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code_commune": ["01001", "01002", "01003", "2A004", "2B005", "75056"],
            "nom": [
                "Saint-Denis-lès-Bourg",
                "Bourg-en-Bresse",
                "Viriat",
                "Ajaccio",
                "Bastia",
                "Paris",
            ],
            "population": [5000, 41000, 6000, 70000, 48000, 2_145_906],
            "code_departement": ["01", "01", "01", "2A", "2B", "75"],
            "codes_postaux": [
                "01000",
                "01000",
                "01440",
                "20000|20090",
                "20200|20600",
                "75001|75015",
            ],
        }
    )


def test_matcher_rules(tiny: pd.DataFrame) -> None:
    matcher = CommuneMatcher(tiny)
    cases = pd.DataFrame(
        [
            ("01000", "ST DENIS LES BOURG", "01001", "exact", ""),
            ("01000", "bourg-en-bresse", "01002", "exact", ""),
            (
                "01012",
                "BOURG EN BRESSE CEDEX",
                "01002",
                "rule",
                "",
            ),  # CEDEX postcode: name in department
            ("01440", "VIRIA", "01003", "rule", ""),  # misspelt, single-commune postcode
            ("01000", "VIRIAT", "01003", "rule", ""),  # wrong postcode, name known in department
            ("01000", "BROU", None, "unmatched", "ambiguous"),  # postcode of two communes
            ("20090", "Ajaccio", "2A004", "exact", ""),
            ("20000", "AJACCIO CEDEX 1", "2A004", "exact", ""),
            ("20999", "Bastia", "2B005", "rule", ""),  # Corsica: 20xxx covers 2A and 2B
            ("75015", "PARIS 15", "75056", "exact", ""),
            ("75700", "PARIS CEDEX 07", "75056", "rule", ""),
            ("L-1009", "LUXEMBOURG", None, "unmatched", "unknown"),
            ("", "", None, "unmatched", "no location"),
            ("1440", "Viriat", "01003", "exact", ""),  # leading zero lost by a spreadsheet
        ],
        columns=["postcode", "city", "code", "match", "reason"],
    )
    result = matcher.match(cases["postcode"], cases["city"])
    for i, row in cases.iterrows():
        got = result.loc[i]
        assert (got["code_commune"] if pd.notna(got["code_commune"]) else None) == row["code"], (
            row.to_dict()
        )
        assert got["match"] == row["match"], row.to_dict()
        assert got["reason"] == row["reason"], row.to_dict()


def test_harmonise_insee_codes(tiny: pd.DataFrame) -> None:
    codes = pd.Series(["01002", "75115", "01099", "", "99999", "69381"])
    result = harmonise_insee_codes(codes, tiny, code_links={"01099": "01003"})
    assert result["code_commune"].tolist()[:3] == ["01002", "75056", "01003"]
    assert result["match"].tolist() == [
        "exact",
        "rule",
        "rule",
        "unmatched",
        "unmatched",
        "unmatched",
    ]
    assert result["reason"].tolist()[3:] == [
        "no code",
        "code not in commune table",
        "code not in commune table",
    ]


# --- errors ----------------------------------------------------------------------------------


def copy_raw(raw: Path, target: Path) -> Path:
    import shutil

    shutil.copytree(raw, target)
    return target


def rewrite_csv(path: Path, change, sep: str = ",") -> None:
    frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    change(frame).to_csv(path, sep=sep, index=False, lineterminator="\n")


def test_missing_column_names_file_and_column(generated, communes, tmp_path) -> None:
    raw = copy_raw(generated[1], tmp_path / "raw")
    rewrite_csv(raw / "helloasso" / "forms.csv", lambda f: f.drop(columns="form_type"))
    with pytest.raises(SourceError) as err:
        commune_counts(raw, communes, DATA_YEAR)
    message = str(err.value)
    assert "forms.csv" in message and "'form_type'" in message and "missing column" in message


def test_bad_date_names_row_column_and_value(generated, tmp_path) -> None:
    raw = copy_raw(generated[1], tmp_path / "raw")
    path = raw / "jeveuxaider" / "participations.csv"

    def corrupt(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[4, "created_at"] = "31/12/2023"
        return frame

    rewrite_csv(path, corrupt)
    with pytest.raises(SourceError) as err:
        jeveuxaider.read_participations(path)
    assert str(err.value) == (
        "file participations.csv, data row 5, column 'created_at', value '31/12/2023': not a valid ISO 8601 date"
    )
    assert err.value.row == 5 and err.value.column == "created_at"


def test_wrong_separator_empty_and_missing_files(generated, tmp_path) -> None:
    raw = copy_raw(generated[1], tmp_path / "raw")
    [rna_file] = list((raw / "rna").glob("*.csv"))
    rna_file.write_text(rna_file.read_text(encoding="utf-8").replace(";", ","), encoding="utf-8")
    with pytest.raises(
        SourceError, match=r"rna_waldec_20240101\.csv: wrong separator: expected ';'"
    ):
        rna.read_rna(rna_file)
    empty = raw / "helloasso" / "organizations.csv"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="organizations.csv: the file is empty"):
        helloasso.read_organizations(empty)
    with pytest.raises(SourceError, match="missions.csv: file not found"):
        jeveuxaider.read_missions(raw / "jeveuxaider" / "nope" / "missions.csv")
    with pytest.raises(SourceError, match="no rna_waldec_YYYYMMDD"):
        rna.rna_files(raw / "helloasso")


def test_duplicated_and_non_integer_ids(generated, tmp_path) -> None:
    raw = copy_raw(generated[1], tmp_path / "raw")
    path = raw / "jeveuxaider" / "missions.csv"
    rewrite_csv(path, lambda f: pd.concat([f, f.iloc[[2]]], ignore_index=True))
    with pytest.raises(
        SourceError,
        match=r"missions.csv, data row \d+, column 'id', value '3': duplicated identifier",
    ):
        jeveuxaider.read_missions(path)
    forms = raw / "helloasso" / "forms.csv"
    rewrite_csv(
        forms, lambda f: f.assign(organization_id=f["organization_id"].where(f.index != 0, "abc"))
    )
    with pytest.raises(
        SourceError, match="data row 1, column 'organization_id', value 'abc': not an integer"
    ):
        helloasso.read_forms(forms)


def test_rna_extracts_of_two_dates_are_refused(generated, tmp_path) -> None:
    raw = copy_raw(generated[1], tmp_path / "raw")
    [rna_file] = list((raw / "rna").glob("*.csv"))
    (raw / "rna" / "rna_waldec_20230801.csv").write_bytes(rna_file.read_bytes())
    with pytest.raises(SourceError, match="several extract dates"):
        rna.rna_files(raw / "rna")


def test_participations_parquet_contract(tmp_path) -> None:
    path = tmp_path / "participations.parquet"
    pq.write_table(
        pa.table({"id": [1], "form_id": [2], "organization_id": [3], "state": ["Processed"]}), path
    )
    with pytest.raises(SourceError, match="participations.parquet, column 'date': missing column"):
        helloasso.participations_by_organization(path, DATA_YEAR, ["Processed"])
    table = pa.table(
        {
            "id": [1, 2, 3],
            "form_id": [2, 2, 2],
            "organization_id": [3, 3, 4],
            "date": ["2023-02-01T10:00:00", "2022-12-31T23:00:00", "not a date"],
            "state": ["Processed", "Processed", "Processed"],
        }
    )
    pq.write_table(table, path)
    with pytest.raises(SourceError, match="data row 3, column 'date', value 'not a date'"):
        helloasso.participations_by_organization(path, DATA_YEAR, ["Processed"])
    pq.write_table(table.slice(0, 2), path)
    per_org, rows = helloasso.participations_by_organization(path, DATA_YEAR, ["Processed"])
    assert rows == 2
    assert per_org.to_dict("records") == [{"organization_id": 3, "rows": 2, "in_scope": 1}]
    path.write_bytes(b"not parquet")
    with pytest.raises(SourceError, match="unreadable Parquet"):
        helloasso.participations_by_organization(path, DATA_YEAR, ["Processed"])


# --- personal columns and encodings ----------------------------------------------------------


def test_personal_columns_are_dropped_at_read(generated, communes, tmp_path) -> None:
    raw = copy_raw(generated[1], tmp_path / "raw")
    secret = "jeanne.dupont@example.org"
    rewrite_csv(
        raw / "jeveuxaider" / "participations.csv",
        lambda f: f.assign(benevole_email=secret, benevole_nom="Dupont", profile_id="77"),
    )
    rewrite_csv(
        raw / "helloasso" / "organizations.csv",
        lambda f: f.assign(email=secret, phone="0600000000"),
    )
    matches = jeveuxaider.read_participations(raw / "jeveuxaider" / "participations.csv")
    assert list(matches.columns) == ["id", "mission_id", "state", "created_at", "updated_at"]
    orgs = helloasso.read_organizations(raw / "helloasso" / "organizations.csv")
    assert "email" not in orgs.columns and "phone" not in orgs.columns
    counts, report = commune_counts(raw, communes, DATA_YEAR)
    assert secret not in counts.to_csv() + report.to_csv()


def test_rna_in_windows_1252_is_read(tmp_path) -> None:
    rows = pd.DataFrame([dict.fromkeys(rna.WALDEC_COLUMNS, "")] * 2)
    rows["id"] = ["W011000001", "W011000002"]
    rows["date_creat"] = ["2023-03-01", "0001-01-01"]
    rows["date_publi"] = ["2023-03-20", "0001-01-01"]
    rows["titre"] = ["FÊTE À SAINT-ÉTIENNE", "ŒUVRE"]
    rows["position"] = "A"
    path = tmp_path / "rna_waldec_20240101.csv"
    path.write_bytes(rows.to_csv(sep=";", index=False).encode("cp1252"))
    frame = rna.read_rna(path)
    assert frame["date_creat"].tolist() == ["2023-03-01", ""]  # the sentinel means no date


# --- real RNA fixtures (../shared/data/rna) --------------------------------------------------


@pytest.mark.parametrize(
    ("name", "n_rows"),
    [
        ("rna_waldec_2024_format_4rows_dpt976.csv", 4),
        ("etalab_rna_as_api_fixtures/rna_sample_waldec.csv", 3),
    ],
)
def test_real_waldec_rows_are_read(name: str, n_rows: int) -> None:
    path = SHARED_RNA / name
    if not path.is_file():
        pytest.skip("shared RNA fixtures not available")
    frame = rna.read_rna(path)
    assert len(frame) == n_rows
    assert frame["id"].str.fullmatch(r"W[0-9A-Z]{9}").all()
    assert frame["date_creat"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()


def test_current_layout_matches_the_real_header() -> None:
    path = SHARED_RNA / "rna_waldec_2024_format_4rows_dpt976.csv"
    if not path.is_file():
        pytest.skip("shared RNA fixtures not available")
    header = path.read_text(encoding="utf-8").splitlines()[0].split(";")
    assert header == list(rna.WALDEC_COLUMNS)
    frame = rna.read_rna(path)
    mayotte = pd.DataFrame({"code_commune": ["97612", "97611", "97614"], "nom": ["Mtsamboro", "Mamoudzou", "Ouangani"],
                            "code_departement": "976", "codes_postaux": ["97630", "97600", "97670"]})  # fmt: skip
    located = rna.locate_rna(frame, mayotte, CommuneMatcher(mayotte))
    assert located["code_commune"].tolist() == ["97612", "97611", "97611", "97614"]
