"""Tests of the source loaders (barometre.sources): round trip on demo data against the
generator's truth, counting options, commune matching rules, the real RNA files of
``../shared/data/rna`` (three layouts, both encodings, the Loiret and Indre-et-Loire extracts;
skipped when absent), personal columns and hard errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_demo import fixture_communes

from barometre import demo, geography
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
    CLUSTER_COLUMNS,
    COUNT_COLUMNS,
    SOURCES,
    commune_counts,
    resolve_counted_states,
)
from barometre.sources.report import REPORT_COLUMNS

DATA_YEAR = 2023
SHARED_RNA = Path(__file__).resolve().parents[2] / "shared" / "data" / "rna"
DERIVED = SHARED_RNA / "melodyduplaix_rna_dpt45_dpt37"
needs_shared = pytest.mark.skipif(not SHARED_RNA.is_dir(), reason="../shared/data/rna absent")


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
def counted(generated, communes, tmp_path_factory):
    _, raw = generated
    quarantine = tmp_path_factory.mktemp("build") / "tables" / "quarantine"
    counts, report = commune_counts(raw, communes, DATA_YEAR, quarantine_dir=quarantine)
    return counts, report, quarantine


@pytest.fixture(scope="module")
def matcher_2022() -> CommuneMatcher:
    return CommuneMatcher.for_vintage(2022)


# --- round trip ------------------------------------------------------------------------------


def test_counts_equal_the_generator_truth(generated, counted, communes) -> None:
    data, _ = generated
    counts, _, _ = counted
    assert list(counts.columns) == ["code_commune", *COUNT_COLUMNS, *CLUSTER_COLUMNS]
    assert counts["code_commune"].tolist() == sorted(communes["code_commune"])
    assert (counts.dtypes[list(COUNT_COLUMNS)] == "int64").all()
    pd.testing.assert_frame_equal(
        counts[["code_commune", *COUNT_COLUMNS]],
        data.truth.sort_values("code_commune").reset_index(drop=True),
    )
    assert (counts[list(COUNT_COLUMNS)].sum() > 0).all()


def test_match_report_reconciles(generated, counted) -> None:
    data, _ = generated
    counts, report, _ = counted
    assert list(report.columns) == list(REPORT_COLUMNS)
    assert report["source"].tolist() == list(SOURCES)
    report = report.set_index("source")
    assert (report["rows_read"] == report["quarantined"] + report["accepted"]).all()
    assert (report["accepted"] == report["out_of_scope"] + report["in_scope"]).all()
    assert (report["in_scope"] == report["matched"] + report["unmatched"]).all()
    assert (report["matched"] == report["matched_exact"] + report["matched_rule"]).all()
    for source in report.index:
        if report.at[source, "count"]:
            assert report.at[source, "matched"] == counts[report.at[source, "count"]].sum()
    assert report.at["rna", "rows_read"] == len(data.rna)
    assert report.at["helloasso_organizations", "rows_read"] == len(data.ha_organizations)
    assert report.at["helloasso_forms", "rows_read"] == len(data.ha_forms)
    assert report.at["helloasso_participations", "rows_read"] == data.ha_participations.num_rows
    assert report.at["jeveuxaider_missions", "rows_read"] == len(data.jva_missions)
    assert report.at["jeveuxaider_participations", "rows_read"] == len(data.jva_participations)
    # The generator plants a few repeated or misdated rows: exactly those are quarantined.
    assert report["quarantined"].to_dict() == {s: data.planted.get(s, 0) for s in SOURCES}
    assert "duplicated identifier" in report.at["rna", "quarantine_reasons"]
    assert (
        "created_at: not an ISO 8601 date or date-time"
        in report.at["helloasso_forms", "quarantine_reasons"]
    )
    # Planted unplaceable records show up, with their reason, instead of vanishing.
    assert (
        report.at["jeveuxaider_missions", "unmatched"] == data.unplaceable["jeveuxaider_missions"]
    )
    assert "no location: mission" in report.at["jeveuxaider_participations", "unmatched_examples"]
    assert "not a French postcode" in report.at["helloasso_organizations", "unmatched_examples"]
    assert "arrondissement municipal code" in report.at["rna", "matched_rules"]
    assert report.at["rna", "matched_rule"] > 0
    assert (report["match_rate"] > 0.85).all()


def test_quarantine_files_are_written_for_every_source(generated, counted) -> None:
    data, _ = generated
    _, _, quarantine = counted
    assert sorted(p.name for p in quarantine.iterdir()) == sorted(f"{s}.csv" for s in SOURCES)
    for source in SOURCES:
        frame = pd.read_csv(quarantine / f"{source}.csv", dtype=str, keep_default_na=False)
        assert list(frame.columns[:3]) == ["file", "data_row", "reason"]
        assert len(frame) == data.planted.get(source, 0)
    forms = pd.read_csv(quarantine / "helloasso_forms.csv", dtype=str)
    assert forms.loc[0, "data_row"] == str(len(data.ha_forms))  # the planted form, last row
    assert (
        forms.loc[0, "reason"].startswith("created_at '") and forms.loc[0, "created_at"][2] == "/"
    )


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
    matches = data.jva_participations.drop_duplicates("id")  # planted repeats are quarantined
    placed = matches["mission_id"].map(missions["postal_code"] != "")
    valid = (
        (matches["state"] == "Validée") & (matches["created_at"].str[:4] <= str(DATA_YEAR)) & placed
    )
    assert counts["jva_matches"].sum() == valid.sum()


def test_rna_publication_date_and_yearly_jva_options(generated, counted, communes) -> None:
    data, raw = generated
    baseline, _, _ = counted
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


def test_subset_of_a_national_extract_is_out_of_territory(generated, communes) -> None:
    """Matched against the whole vintage, records of communes outside the build's table are
    out of scope (outside the territory), not unmatched."""
    _, raw = generated
    subset = communes[communes["code_departement"] != "35"]
    counts, report = commune_counts(raw, subset, DATA_YEAR)
    full, _ = commune_counts(raw, communes, DATA_YEAR)
    kept = full[full["code_commune"].isin(subset["code_commune"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(counts, kept)
    # Without the national universe the 35's records are unknown postcodes/names here.
    assert (report["outside_territory"] == 0).all()
    assert report.set_index("source").at["rna", "unmatched"] > 0


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
        ("Tours Cedex03", "TOURS"),
        ("MANS (LE)", "LE MANS"),
        ("Sables-d'Olonne (Les)", "LES SABLES D OLONNE"),
    ],
)
def test_normalise_city_name(raw: str, expected: str) -> None:
    assert normalise_city_name(raw) == expected


@given(st.text(alphabet="abcdéèêëàâîïôöùûüçœ -'()ABCDEÉÈSTst0123456789", max_size=30))
def test_normalise_city_name_is_idempotent_and_case_blind(text: str) -> None:
    once = normalise_city_name(text)
    assert normalise_city_name(once) == once
    assert normalise_city_name(text.upper()) == normalise_city_name(text.lower())


def test_normalise_postcode() -> None:
    assert normalise_postcode("1000") == "01000"
    assert normalise_postcode(" 75 001") == "75001"
    assert normalise_postcode("F-75001") == "75001"
    assert normalise_postcode("L-1009") == ""
    assert normalise_postcode("00000") == ""
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
            ("01000", "ST DENIS LES BOURG", "01001", "exact", "postcode + name", ""),
            ("01000", "bourg-en-bresse", "01002", "exact", "postcode + name", ""),
            # CEDEX postcode: the name is one commune's in the postcode's department.
            ("01012", "BOURG EN BRESSE CEDEX", "01002", "rule", "name in the postcode's department (CEDEX or outdated postcode)", ""),
            ("01440", "VIRIA", "01003", "rule", "close spelling among the postcode's communes", ""),
            ("01000", "VIRIAT", "01003", "rule", "name in the postcode's department (CEDEX or outdated postcode)", ""),
            ("01000", "BROU", None, "unmatched", "", "ambiguous"),  # postcode of two communes
            ("20090", "Ajaccio", "2A004", "exact", "postcode + name", ""),
            ("20000", "AJACCIO CEDEX 1", "2A004", "exact", "postcode + name", ""),
            ("20999", "Bastia", "2B005", "rule", "name in the postcode's department (CEDEX or outdated postcode)", ""),
            ("75015", "PARIS 15", "75056", "exact", "postcode + name", ""),
            ("75700", "PARIS CEDEX 07", "75056", "rule", "name in the postcode's department (CEDEX or outdated postcode)", ""),
            ("L-1009", "LUXEMBOURG", None, "unmatched", "", "not a French postcode"),
            ("", "", None, "unmatched", "", "no location"),
            ("1440", "Viriat", "01003", "exact", "postcode + name", ""),  # zero lost by a spreadsheet
            ("01440", "", "01003", "rule", "postcode of a single commune", ""),
            ("", "Viriat", None, "unmatched", "", "unknown"),  # not a national table: no unique-name rule
        ],
        columns=["postcode", "city", "code", "match", "rule", "reason"],
    )  # fmt: skip
    result = matcher.match(cases["postcode"], cases["city"])
    for i, row in cases.iterrows():
        got = result.loc[i]
        assert (got["code_commune"] if pd.notna(got["code_commune"]) else None) == row["code"], (
            row.to_dict()
        )
        assert (got["match"], got["rule"], got["reason"]) == (
            row["match"],
            row["rule"],
            row["reason"],
        ), row.to_dict()
    assert result.loc[5, "candidates"] == "01001|01002"


def test_harmonise_insee_codes(tiny: pd.DataFrame) -> None:
    codes = pd.Series(["01002", "75115", "01099", "", "99999", "69381", "1003"])
    result = harmonise_insee_codes(codes, tiny, code_links={"01099": "01003"})
    assert result["code_commune"].tolist()[:3] == ["01002", "75056", "01003"]
    assert result["code_commune"].iloc[6] == "01003"
    assert result["match"].tolist() == ["exact", "rule", "rule", "unmatched", "unmatched", "unmatched", "rule"]  # fmt: skip
    assert result["reason"].tolist()[3:6] == ["no location", "unknown code", "unknown code"]


def test_later_vintages_map_new_codes_and_names_back(tiny: pd.DataFrame) -> None:
    """A commune nouvelle created after the vintage (new code 01999 "Val-de-Reyssouze" of
    01001 and 01003) and a renamed commune map back to the vintage's communes."""
    later = tiny.copy()
    later = later[~later["code_commune"].isin(["01001", "01003"])]
    later.loc[later["code_commune"] == "01002", "nom"] = "Bourg-en-Bresse-et-Brou"
    later = pd.concat([later, pd.DataFrame({"code_commune": ["01999"], "nom": ["Val-de-Reyssouze"], "population": [11000], "code_departement": ["01"], "codes_postaux": ["01000|01440"]})])  # fmt: skip
    links = pd.DataFrame(
        {"code": ["01001", "01003"], "type": "commune-deleguee", "nom": ["Saint-Denis-lès-Bourg", "Viriat"], "code_commune_parent": "01999"}
    )  # fmt: skip
    matcher = CommuneMatcher(tiny, later=[(later, links)])
    by_code = matcher.match_codes(pd.Series(["01999", "01999"]), pd.Series(["01440", "01000"]), pd.Series(["VIRIAT", ""]))  # fmt: skip
    assert by_code["code_commune"].tolist() == ["01003", None]
    assert by_code["rule"].iloc[0] == "code of a later COG + postcode + name"
    assert (by_code["reason"].iloc[1], by_code["candidates"].iloc[1]) == (
        "ambiguous",
        "01001|01003",
    )
    by_name = matcher.match(pd.Series(["01000"]), pd.Series(["Bourg-en-Bresse-et-Brou"]))
    assert (by_name.at[0, "code_commune"], by_name.at[0, "rule"]) == (
        "01002",
        "name of a commune déléguée or of a later COG",
    )


def test_national_matcher_rules_on_the_real_geography(matcher_2022: CommuneMatcher) -> None:
    cases = [
        ("37700", "Ville-aux-Dames", "37273", "article omitted or misplaced"),
        ("37360", "Beaumont-la-Ronce", "37021", "name of a commune déléguée or of a later COG"),
        ("37310", "Tauxigny", "37254", "close spelling among the postcode's communes"),
        ("37206", "Tours Cedex03", "37261", "name in the postcode's department (CEDEX or outdated postcode)"),
        ("00000", "Tours", "37261", "name unique in France (no usable postcode)"),
        ("", "Saint-Martin", None, ""),
    ]  # fmt: skip
    frame = pd.DataFrame(cases, columns=["postcode", "city", "code", "rule"])
    result = matcher_2022.match(frame["postcode"], frame["city"])
    assert result["code_commune"].tolist() == frame["code"].tolist()
    assert result["rule"].tolist() == frame["rule"].tolist()
    assert result["candidates"].iloc[-1] == "32389|54480|65392|67426"


# --- real RNA files (../shared/data/rna) -----------------------------------------------------


@needs_shared
def test_the_three_real_layouts_are_recognised(matcher_2022: CommuneMatcher) -> None:
    current = rna.read_rna([SHARED_RNA / "rna_waldec_2024_format_4rows_dpt976.csv"])
    old = rna.read_rna([SHARED_RNA / "etalab_rna_as_api_fixtures" / "rna_sample_waldec.csv"])
    imported = rna.read_rna([SHARED_RNA / "etalab_rna_as_api_fixtures" / "rna_sample_import.csv"])
    assert current.layouts == ["rna_waldec (39 columns)"]
    assert old.layouts == ["rna_waldec 2015-2019 (41 columns)"]
    assert imported.layouts == ["rna_import (26 columns)"]
    assert [c.rows_read for c in (current, old, imported)] == [4, 3, 3]
    assert all(c.quarantined == 0 for c in (current, old, imported))
    assert current.accepted["id"].tolist() == [
        "W9T1002867",
        "W9T1002359",
        "W9T1000001",
        "W9T1000018",
    ]
    assert old.accepted["date_publi"].tolist() == ["2014-06-28", "", ""]  # 0001-01-01: no date
    assert imported.accepted["id"].tolist() == ["751P00085568", "751P00184848", "751P00188854"]
    assert imported.accepted["position"].tolist() == ["R", "R", "R"]
    assert imported.accepted["adrs_libcommune"].tolist() == ["PARIS"] * 3  # libcom
    # The 41-column layout's phone and e-mail never leave the file.
    assert "telephone, email" in " ".join(old.notes) and "0676561853" not in old.accepted.to_csv()
    placed = [rna.locate_rna(c.accepted, matcher_2022) for c in (current, old, imported)]
    assert placed[0]["code_commune"].tolist() == ["97612", "97611", "97611", "97614"]
    assert placed[1]["code_commune"].tolist() == ["63113", "69266", "69088"]
    assert placed[2]["code_commune"].tolist() == ["75056"] * 3
    assert set(placed[2]["rule"]) == {"arrondissement municipal code"}


@needs_shared
@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252"])
def test_real_rows_read_the_same_in_every_encoding(tmp_path: Path, encoding: str) -> None:
    source = SHARED_RNA / "rna_waldec_2024_format_4rows_dpt976.csv"
    reference = rna.read_rna([source])
    text = source.read_text(encoding="utf-8")
    copy = tmp_path / "rna_waldec_20241101_dpt_976.csv"
    copy.write_bytes(text.encode(encoding))
    checked = rna.read_rna(rna.rna_files(tmp_path))
    assert checked.encodings == ["utf-8 (BOM)" if encoding == "utf-8-sig" else "cp1252"]
    pd.testing.assert_frame_equal(checked.accepted, reference.accepted)
    assert "M tsamboro" in checked.accepted["adrs_libcommune"].tolist()


def loiret_as_waldec(folder: Path, name: str, source: Path, encoding: str) -> Path:
    """The reduced real extract rewritten in the official waldec layout (creation dates were
    dropped by its author: "no date")."""
    extract = pd.read_csv(source, dtype=str, keep_default_na=False)
    frame = pd.DataFrame({c: "" for c in rna.WALDEC_COLUMNS}, index=extract.index)
    frame["id"] = extract["id"]
    frame["siret"] = extract["siret"]
    frame["date_creat"] = rna.NO_DATE if hasattr(rna, "NO_DATE") else "0001-01-01"
    frame["date_publi"] = extract["date_publi"].replace("", "0001-01-01")
    frame["date_disso"] = extract["date_disso"].replace("", "0001-01-01")
    frame["titre"] = extract["nom_asso"]
    frame["adrs_codeinsee"] = extract.get("adrs_codeinsee", "")
    frame["adrs_codepostal"] = extract["codepostal"]
    frame["adrs_libcommune"] = extract["commune"]
    frame["position"] = extract["etat"]
    path = folder / name
    path.write_bytes(
        frame.to_csv(sep=";", index=False, lineterminator="\r\n").encode(encoding, errors="replace")
    )
    return path


@needs_shared
def test_loiret_creations_per_commune_and_year(
    tmp_path: Path, matcher_2022: CommuneMatcher
) -> None:
    """Associations of the Loiret extract (2023-08-01) per commune and year of publication
    (its creation dates were dropped, so the publication option is the one that applies) equal
    the derived counts of the shared folder, once their codes are harmonised to COG 2022."""
    loiret_as_waldec(
        tmp_path, "rna_waldec_20230801_dpt_45.csv", DERIVED / "projet_asso45.csv", "cp1252"
    )
    checked = rna.read_rna(rna.rna_files(tmp_path))
    assert (checked.rows_read, checked.quarantined, checked.encodings) == (23_767, 0, ["cp1252"])
    associations = checked.accepted.reset_index()
    placed = rna.locate_rna(associations, matcher_2022)
    assert placed["match"].value_counts().to_dict() == {"exact": 23_720, "rule": 45, "unmatched": 2}
    expected = pd.read_csv(DERIVED / "DERIVED_dpt45_publications_par_commune_annee.csv", dtype=str)
    expected["code_commune"] = geography.harmonise_codes(expected["adrs_codeinsee"], 2022)
    expected["n"] = expected["n_associations_publiees"].astype(int)
    expected = (
        expected.dropna(subset=["code_commune"]).groupby(["code_commune", "annee_publi"])["n"].sum()
    )
    for year in range(2010, 2024):
        scope = rna.creations_scope(associations, year, date="publication")
        got = placed.loc[scope, "code_commune"].value_counts().sort_index()
        want = expected.xs(str(year), level="annee_publi").sort_index()
        pd.testing.assert_series_equal(got, want, check_names=False)
        assert rna.creations_scope(associations, year).sum() == 0  # no creation date here
    assert int(got.loc["45234"]) == int(want.loc["45234"]) > 0  # Orléans, 2023 (partial year)


@needs_shared
def test_indre_et_loire_located_by_postcode_and_name(
    tmp_path: Path, matcher_2022: CommuneMatcher
) -> None:
    """The Indre-et-Loire extract carries no INSEE code: 22 032 of its 22 040 associations
    are placed by postcode + name (old names of communes nouvelles, missing articles, CEDEX);
    the rest are a postcode without name (ambiguous) or placeholder postcodes."""
    loiret_as_waldec(
        tmp_path, "rna_waldec_20230801_dpt_37.csv", DERIVED / "projet_asso_37.csv", "utf-8"
    )
    associations = rna.read_rna(rna.rna_files(tmp_path)).accepted.reset_index()
    placed = rna.locate_rna(associations, matcher_2022)
    assert (placed["match"] == "exact").sum() == 0  # without a code, a placement is a rule
    assert (placed["match"] == "rule").sum() == 22_033
    assert placed.loc[placed["match"] == "unmatched", "reason"].value_counts().to_dict() == {
        "ambiguous": 6,
        "unknown": 1,
    }
    by_city = dict(zip(associations["adrs_libcommune"], placed["code_commune"], strict=True))
    assert by_city["Tauxigny"] == "37254" and by_city["Ville-aux-Dames"] == "37273"
    assert by_city["Beaumont-la-Ronce"] == "37021" and by_city["Tours Cedex03"] == "37261"


# --- files that cannot be used ---------------------------------------------------------------


def copy_raw(raw: Path, target: Path) -> Path:
    shutil.copytree(raw, target)
    return target


def rewrite_csv(path: Path, change, sep: str = ",") -> None:
    frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
    change(frame).to_csv(path, sep=sep, index=False, lineterminator="\n")


def test_missing_column_names_file_and_column(generated, communes, tmp_path) -> None:
    raw = copy_raw(generated[1], tmp_path / "raw")
    rewrite_csv(raw / "helloasso" / "forms.csv", lambda f: f.drop(columns="form_type"))
    quarantine = tmp_path / "quarantine"
    with pytest.raises(SourceError) as err:
        commune_counts(raw, communes, DATA_YEAR, quarantine_dir=quarantine)
    message = str(err.value)
    assert message.startswith("file forms.csv, column 'form_type': missing column")
    assert not quarantine.exists() or not any(quarantine.iterdir())  # nothing half-done


def test_bad_dates_are_quarantined_or_stop_the_file(generated, tmp_path) -> None:
    raw = copy_raw(generated[1], tmp_path / "raw")
    path = raw / "jeveuxaider" / "participations.csv"

    def corrupt(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[4, "created_at"] = "31/12/2023"
        return frame

    rewrite_csv(path, corrupt)
    checked = jeveuxaider.read_participations(path)
    assert checked.quarantine[["data_row", "reason"]].to_dict("records")[0] == {
        "data_row": 5,
        "reason": "created_at '31/12/2023': not an ISO 8601 date or date-time",
    }
    assert (
        checked.rows_read
        == len(checked.accepted) + 1 + generated[0].planted["jeveuxaider_participations"]
    )
    # Every date in another format: the file is misread, not bad row by row.
    rewrite_csv(path, lambda f: f.assign(created_at="31/12/2023"))
    with pytest.raises(SourceError, match=r"participations\.csv: no data row passes the contract"):
        jeveuxaider.read_participations(path)


def test_wrong_separator_empty_and_missing_files(generated, tmp_path) -> None:
    raw = copy_raw(generated[1], tmp_path / "raw")
    [rna_file] = list((raw / "rna").glob("*.csv"))
    rna_file.write_text(rna_file.read_text(encoding="utf-8").replace(";", ","), encoding="utf-8")
    with pytest.raises(
        SourceError, match=r"rna_waldec_20240101\.csv: wrong separator: expected ';'"
    ):
        rna.read_rna([rna_file])
    empty = raw / "helloasso" / "organizations.csv"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="organizations.csv: the file is empty"):
        helloasso.read_organizations(empty)
    with pytest.raises(SourceError, match="missions.csv: file not found"):
        jeveuxaider.read_missions(raw / "jeveuxaider" / "nope" / "missions.csv")
    with pytest.raises(SourceError, match="no rna_waldec_YYYYMMDD"):
        rna.rna_files(raw / "helloasso")
    (raw / "helloasso" / "forms.parquet").write_bytes(b"")
    with pytest.raises(SourceError, match="both forms.csv and forms.parquet are present"):
        helloasso.table_path(raw / "helloasso", "forms")


def test_rna_extracts_of_two_dates_are_refused(generated, tmp_path) -> None:
    raw = copy_raw(generated[1], tmp_path / "raw")
    [rna_file] = list((raw / "rna").glob("*.csv"))
    (raw / "rna" / "rna_waldec_20230801.csv").write_bytes(rna_file.read_bytes())
    with pytest.raises(SourceError, match="several extract dates"):
        rna.rna_files(raw / "rna")
    rna_file.unlink()
    (raw / "rna" / "rna_waldec_20230801.csv").unlink()
    (raw / "rna" / "rna_waldec_20240101.zip").write_bytes(b"PK")
    with pytest.raises(
        SourceError, match=r"found rna_waldec_20240101\.zip: extract the CSV files first"
    ):
        rna.rna_files(raw / "rna")


def test_rna_waldec_and_import_files_of_one_extract(generated, communes, tmp_path) -> None:
    """Import rows (associations of before 2009, position R when taken over in waldec) are
    read and reported but never in a default count."""
    raw = copy_raw(generated[1], tmp_path / "raw")
    header = ";".join(rna.IMPORT_COLUMNS)
    row = dict.fromkeys(rna.IMPORT_COLUMNS, "")
    row.update({"id": "011P00000001", "date_creat": f"{DATA_YEAR}-05-01", "date_publi": "0001-01-01",
                "position": "R", "adrs_codeinsee": "01001", "libcom": "X"})  # fmt: skip
    line = ";".join(row[c] for c in rna.IMPORT_COLUMNS)
    (raw / "rna" / "rna_import_20240101_dpt_01.csv").write_text(
        header + "\n" + line + "\n", encoding="cp1252"
    )
    baseline, _ = commune_counts(generated[1], communes, DATA_YEAR)
    counts, report = commune_counts(raw, communes, DATA_YEAR)
    pd.testing.assert_frame_equal(counts, baseline)
    row = report.set_index("source").loc["rna"]
    assert "rna_import_20240101_dpt_01.csv" in row["file"]
    assert row["rows_read"] == len(generated[0].rna) + 1
    assert "rna_import (26 columns)" in row["notes"]
    with_reprises, _ = commune_counts(
        raw, communes, DATA_YEAR, {"rna_positions": ["A", "D", "S", "R"]}
    )
    assert with_reprises["rna_creations"].sum() == baseline["rna_creations"].sum() + 1


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
    with pytest.raises(
        SourceError,
        match=r"1 of 3 data rows \(33.3%\) break the contract.*date: not an ISO 8601 date or date-time \(e.g. data row 3 of participations.parquet \('not a date'\)\)",
    ):
        helloasso.participations_by_organization(path, DATA_YEAR, ["Processed"])
    summary = helloasso.participations_by_organization(
        path, DATA_YEAR, ["Processed"], max_quarantine_share=0.5
    )
    assert (summary.rows_read, summary.quarantined) == (3, 1)
    assert summary.per_org.to_dict("records") == [{"organization_id": 3, "rows": 2, "in_scope": 1}]
    path.write_bytes(b"not parquet")
    with pytest.raises(SourceError, match="unreadable Parquet"):
        helloasso.participations_by_organization(path, DATA_YEAR, ["Processed"])


# --- personal columns ------------------------------------------------------------------------


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
    assert list(matches.accepted.columns) == [
        "id",
        "mission_id",
        "state",
        "created_at",
        "updated_at",
    ]
    assert matches.notes == ["personal columns not read (participations.csv): benevole_email, benevole_nom, profile_id"]  # fmt: skip
    orgs = helloasso.read_organizations(raw / "helloasso" / "organizations.csv")
    assert "email" not in orgs.accepted.columns and "phone" not in orgs.accepted.columns
    quarantine = tmp_path / "quarantine"
    counts, report = commune_counts(raw, communes, DATA_YEAR, quarantine_dir=quarantine)
    written = (
        counts.to_csv() + report.to_csv() + "".join(p.read_text() for p in quarantine.iterdir())
    )
    assert secret not in written and "0600000000" not in written
