"""Partner exports: CSV and XLSX with a data dictionary drawn from the indicator metadata."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from barometre.config import load_edition, load_indicator_meta
from barometre.publish.exports import (
    COLUMN_DOCS,
    ColumnDoc,
    csv_values,
    data_dictionary,
    export_table,
    indicator_docs,
)

META = load_indicator_meta(load_edition(2024))
README = [("Fichier", "Test"), ("Données", "Données de démonstration synthétiques")]


@pytest.fixture()
def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code_commune": ["01001", "2A004", "97411"],
            "nom": ["L'Abergement-Clémenciat", "Ajaccio", "Saint-Denis"],
            "population": [806, 71_361, 153_810],
            "rna_creations": [5.0, np.nan, 210.0],
            "rna_creations_per_1000": [6.203474, np.nan, 1.365321],
            "score": [28.4118478588, 40.5, 33.25],
            "laureate": [False, True, False],
        }
    )


def test_csv_values_round_floats_and_write_booleans_in_french(table: pd.DataFrame) -> None:
    frame = csv_values(table)
    assert frame["score"].tolist() == [28.411848, 40.5, 33.25]
    assert frame["laureate"].tolist() == ["non", "oui", "non"]
    assert frame["population"].tolist() == [806, 71_361, 153_810]  # integers untouched
    assert frame["rna_creations"].isna().tolist() == [False, True, False]
    assert table["laureate"].dtype == bool  # the caller's table is left as it was


def test_dictionary_definitions_come_from_the_indicator_metadata() -> None:
    columns = ["code_commune", "rna_creations_per_1000", "jva_matches", "associations"]
    dictionary = data_dictionary(columns, META).set_index("colonne")
    rna = next(i for i in META["indicators"] if i["code"] == "rna_creations")
    assert dictionary.at["rna_creations_per_1000", "titre"] == rna["title"]
    assert dictionary.at["rna_creations_per_1000", "unite"] == rna["unit"]
    assert (
        " ".join(rna["definition"].split()) in dictionary.at["rna_creations_per_1000", "definition"]
    )
    assert dictionary.at["jva_matches", "unite"] == "mises en relation"
    assert dictionary.at["associations", "titre"].startswith("Critère")
    assert list(dictionary.index) == columns


def test_every_indicator_and_rate_is_documented() -> None:
    docs = indicator_docs(META)
    for indicator in META["indicators"]:
        assert indicator["code"] in docs and f"{indicator['code']}_per_1000" in docs
    assert all(
        doc.title and doc.unit and doc.definition for doc in {**COLUMN_DOCS, **docs}.values()
    )


def test_undocumented_columns_are_refused() -> None:
    with pytest.raises(KeyError, match="mystery"):
        data_dictionary(["code_commune", "mystery"], META)
    extra = {"mystery": ColumnDoc("Colonne mystère", "sans unité", "Une colonne de test.")}
    assert data_dictionary(["mystery"], META, extra)["titre"].tolist() == ["Colonne mystère"]


def test_csv_and_xlsx_rows_codes_and_dictionary(tmp_path: Path, table: pd.DataFrame) -> None:
    paths = export_table(table, META, tmp_path / "export", README)
    csv = pd.read_csv(paths["csv"], dtype={"code_commune": str})
    assert csv["code_commune"].tolist() == ["01001", "2A004", "97411"]
    assert csv["laureate"].tolist() == ["non", "oui", "non"]
    assert csv["score"].iloc[0] == pytest.approx(28.411848)  # rounded to 6 decimals
    assert pd.isna(csv["rna_creations"].iloc[1])
    workbook = load_workbook(paths["xlsx"])
    assert workbook.sheetnames == ["Communes", "Dictionnaire", "Lisez-moi"]
    data = workbook["Communes"]
    assert [c.value for c in data[1]] == list(table.columns)
    assert data.max_row == 4
    assert data["A2"].value == "01001" and data["A2"].data_type == "s"  # the leading zero stays
    assert data["C3"].value == 71_361 and data["C3"].number_format == "#,##0"
    assert data["D3"].value is None  # missing stays empty, never "nan"
    assert data["G3"].value == "oui"
    dictionary = list(workbook["Dictionnaire"].iter_rows(values_only=True))
    assert dictionary[0] == ("Colonne", "Titre", "Unité", "Définition")
    assert [row[0] for row in dictionary[1:]] == list(table.columns)
    readme = dict(workbook["Lisez-moi"].iter_rows(values_only=True))
    assert readme["Données"] == "Données de démonstration synthétiques"


def test_exports_are_byte_identical_across_runs(tmp_path: Path, table: pd.DataFrame) -> None:
    first = export_table(table, META, tmp_path / "a" / "export", README)
    second = export_table(table, META, tmp_path / "b" / "export", README)
    assert first["csv"].read_bytes() == second["csv"].read_bytes()
    assert first["xlsx"].read_bytes() == second["xlsx"].read_bytes()
    # openpyxl stamps « modified » with the saving time: the export fixes it, so runs a second
    # apart still agree.
    import zipfile

    core = zipfile.ZipFile(first["xlsx"]).read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z</dcterms:modified>" in core
    assert "2000-01-01T00:00:00Z</dcterms:created>" in core


def test_small_person_counts_and_what_reveals_them_are_suppressed() -> None:
    from barometre.publish.exports import protect_export

    table = pd.DataFrame(
        {
            "code_commune": ["a", "b", "c"],
            "ha_campaigns": [2.0, 10.0, 4.0],
            "ha_participants": [5.0, 300.0, 40.0],
            "ha_participants_per_1000": [5.0, 30.0, 8.0],
            "ha_participants_per_campaign": [2.5, 30.0, 10.0],
            "ha_participants_per_campaign_per_1000": [2.5, 3.0, 2.0],
            "rna_creations": [1.0, 2.0, 3.0],
        }
    )
    protected = protect_export(table, META)
    hidden = [
        "ha_participants",
        "ha_participants_per_1000",
        "ha_participants_per_campaign",
        "ha_participants_per_campaign_per_1000",
    ]
    assert (protected.loc[0, hidden] == "< 11").all()
    # Secondary suppression: with one hidden cell, the smallest other one (40) goes too, so the
    # column total cannot give 5 back by difference.
    assert protected.loc[2, "ha_participants"] == "< 11"
    assert protected.loc[1, "ha_participants"] == 300.0
    assert protected["rna_creations"].tolist() == [1.0, 2.0, 3.0]  # not a count of people
    assert protected["ha_campaigns"].tolist() == [2.0, 10.0, 4.0]
