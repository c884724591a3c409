"""Data contracts of the sources: the malformed-input corpus (``tests/fixtures/malformed``, one
file per defect class, each with its exact outcome), the equivalence of the pandas/pandera and
SQL backends of the row checks, the frame contracts of the stage's boundaries, and
``barometre validate``."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from barometre import demo
from barometre.cli import app
from barometre.sources import SourceError, helloasso, jeveuxaider, rna
from barometre.sources.contracts import (
    TEXT_DTYPE,
    Contract,
    Field,
    check_commune_table,
    contract_checks,
    sql_checks,
    text_schema,
)
from barometre.sources.counts import commune_counts
from barometre.sources.matching import CommuneMatcher
from barometre.sources.reading import RawTable

CORPUS = Path(__file__).resolve().parent / "fixtures" / "malformed"
runner = CliRunner()


@pytest.fixture(scope="module")
def matcher_2022() -> CommuneMatcher:
    return CommuneMatcher.for_vintage(2022)


def hard_error(call, *args, **kwargs) -> str:
    with pytest.raises(SourceError) as err:
        call(*args, **kwargs)
    return str(err.value)


# --- the corpus, one defect class each ---------------------------------------------------------


def test_wrong_separator() -> None:
    message = hard_error(rna.read_rna, rna.rna_files(CORPUS / "wrong_separator"))
    assert message == (
        "file rna_waldec_20240101.csv: wrong separator: expected ';' between columns, the "
        "header uses ','"
    )


def test_bad_encoding() -> None:
    message = hard_error(rna.read_rna, rna.rna_files(CORPUS / "bad_encoding"))
    assert message == (
        "file rna_waldec_20240101.csv: mixed encodings: line 2 is UTF-8 but line 5 is not "
        "(e.g. Windows-1252): re-export the file in one encoding (UTF-8)"
    )


def test_missing_column() -> None:
    with pytest.raises(SourceError) as err:
        helloasso.read_forms(CORPUS / "missing_column" / "forms.csv")
    assert (err.value.file, err.value.column, err.value.row) == (
        str(CORPUS / "missing_column" / "forms.csv"),
        "state",
        None,
    )
    assert str(err.value) == (
        "file forms.csv, column 'state': missing column (expected columns: ['form_id', "
        "'organization_id', 'form_type', 'state', 'created_at']; found: ['form_id', "
        "'organization_id', 'form_type', 'title', 'created_at', 'start_date', 'end_date'])"
    )


def test_extra_column() -> None:
    checked = helloasso.read_organizations(CORPUS / "extra_column" / "organizations.csv")
    assert (checked.rows_read, len(checked.accepted), checked.quarantined) == (20, 20, 0)
    assert list(checked.accepted.columns) == [
        "id", "type", "postal_code", "city", "created_at", "name", "rna_number", "category",
        "latitude", "longitude",
    ]  # fmt: skip
    assert checked.notes == [
        "personal columns not read (organizations.csv): email",
        "columns outside the contract, ignored (organizations.csv): notes",
    ]
    assert "@example.org" not in checked.accepted.to_csv()


def test_duplicated_ids() -> None:
    checked = jeveuxaider.read_missions(CORPUS / "duplicated_ids" / "missions.csv")
    assert (checked.rows_read, len(checked.accepted), checked.quarantined) == (25, 23, 2)
    assert checked.quarantine[["data_row", "reason"]].to_dict("records") == [
        {"data_row": 10, "reason": "id '3': duplicated identifier (first at data row 3 of missions.csv)"},
        {"data_row": 15, "reason": "id '7': duplicated identifier (first at data row 7 of missions.csv)"},
    ]  # fmt: skip
    # The first occurrence is the one kept.
    assert checked.accepted.loc[7, "postal_code"] == "37000"
    assert checked.accepted["id"].is_unique


def test_negative_counts(tmp_path: Path) -> None:
    path = CORPUS / "negative_counts" / "participations.csv"
    quarantine = tmp_path / "q.csv"
    summary = helloasso.participations_by_organization(path, 2023, helloasso.DEFAULT_ITEM_STATES, quarantine_path=quarantine)  # fmt: skip
    assert (summary.rows_read, summary.accepted, summary.quarantined) == (30, 28, 2)
    assert summary.per_org.to_dict("records") == [
        {"organization_id": 1000, "rows": 28, "in_scope": 28}
    ]
    assert summary.reasons[["column", "message", "rows"]].to_dict("records") == [
        {"column": "amount_cents", "message": "negative count", "rows": 1},
        {"column": "amount_cents", "message": "not an integer", "rows": 1},
    ]
    written = pd.read_csv(quarantine, dtype=str, keep_default_na=False)
    assert written[["file", "data_row", "reason", "amount_cents"]].values.tolist() == [
        ["participations.csv", "4", "amount_cents '-1500': negative count", "-1500"],
        ["participations.csv", "9", "amount_cents '12,50': not an integer", "12,50"],
    ]
    # The pandas/pandera backend reaches the same verdicts on the same file.
    checked = helloasso.read_checked(path, helloasso.PARTICIPATIONS_CONTRACT)
    assert checked.quarantine[["data_row", "reason"]].values.tolist() == [
        [4, "amount_cents '-1500': negative count"],
        [9, "amount_cents '12,50': not an integer"],
    ]


def test_dates_out_of_range() -> None:
    checked = helloasso.read_forms(CORPUS / "dates_out_of_range" / "forms.csv")
    assert (checked.rows_read, len(checked.accepted), checked.quarantined) == (32, 29, 3)
    assert checked.quarantine[["data_row", "reason"]].to_dict("records") == [
        {"data_row": 5, "reason": "created_at '2023-02-30T10:00:00': not a calendar date"},
        {"data_row": 11, "reason": "created_at '2203-05-01T10:00:00': after 2099-12-31"},
        {"data_row": 17, "reason": "created_at '2001-05-01': before 2008-01-01 (before HelloAsso existed)"},
    ]  # fmt: skip


def test_unknown_or_obsolete_codes(matcher_2022: CommuneMatcher) -> None:
    checked = rna.read_rna(rna.rna_files(CORPUS / "unknown_or_obsolete_codes"))
    assert (checked.rows_read, checked.quarantined) == (10, 0)
    placed = rna.locate_rna(checked.accepted, matcher_2022)
    got = list(
        zip(placed["code_commune"], placed["match"], placed["rule"], placed["reason"], strict=True)
    )
    assert got == [
        ("45234", "exact", "INSEE code", ""),
        ("45332", "rule", "code of a commune déléguée, associée or former commune", ""),
        ("45191", "rule", "code of a commune déléguée, associée or former commune", ""),
        ("75056", "rule", "arrondissement municipal code", ""),
        ("01053", "rule", "INSEE code, leading zero restored", ""),
        ("27058", "rule", "code of a commune déléguée, associée or former commune", ""),
        ("37254", "rule", "unknown INSEE code: close spelling among the postcode's communes", ""),
        (None, "unmatched", "", "unknown code"),
        ("37273", "rule", "no INSEE code: article omitted or misplaced", ""),
        (None, "unmatched", "", "no location"),
    ]  # fmt: skip


def test_ambiguous_postcodes(matcher_2022: CommuneMatcher) -> None:
    checked = helloasso.read_organizations(CORPUS / "ambiguous_postcodes" / "organizations.csv")
    orgs = checked.accepted
    placed = matcher_2022.match(orgs["postal_code"], orgs["city"])
    got = list(
        zip(
            placed["code_commune"],
            placed["rule"] + placed["reason"],
            placed["candidates"],
            strict=True,
        )
    )
    assert got == [
        ("01053", "postcode + name", ""),
        (None, "ambiguous", "01053|01344"),
        (None, "ambiguous", "01053|01344"),
        ("32389", "postcode + name", ""),
        ("37254", "close spelling among the postcode's communes", ""),
        (None, "ambiguous", "37047|37054|37059|37151|37152|37172|37237"),
        ("37021", "name of a commune déléguée or of a later COG", ""),
        (None, "ambiguous", "32389|54480|65392|67426"),
        ("37261", "name unique in France (no usable postcode)", ""),
        (None, "not a French postcode", ""),
    ]  # fmt: skip


def test_empty_file(tmp_path: Path) -> None:
    path = CORPUS / "empty_file" / "organizations.csv"
    assert (
        hard_error(helloasso.read_organizations, path)
        == "file organizations.csv: the file is empty"
    )
    header_only = tmp_path / "organizations.csv"
    header_only.write_text("id,type,postal_code,city,created_at\n", encoding="utf-8")
    assert hard_error(helloasso.read_organizations, header_only) == (
        "file organizations.csv: no data row: the file holds a header only"
    )


def test_truncated_last_line(tmp_path: Path) -> None:
    path = CORPUS / "truncated_last_line" / "participations.csv"
    assert hard_error(jeveuxaider.read_participations, path) == (
        "file participations.csv, data row 12: truncated last line (3 fields instead of 5 and "
        "no final line break): the file looks cut short, rows may be missing — download or "
        "export it again"
    )
    # The same short record followed by a line break is one malformed row, quarantined.
    complete = tmp_path / "participations.csv"
    complete.write_bytes(path.read_bytes() + b"\n")
    checked = jeveuxaider.read_participations(complete)
    assert checked.quarantine[["data_row", "reason"]].values.tolist() == [
        [12, "3 fields instead of 5 (row not split into columns)"]
    ]
    # A CSV streamed to DuckDB stops the same way.
    items = tmp_path / "items.csv"
    items.write_text("id,form_id,organization_id,date,state\n1,2,3,2023-01-01,Processed\n4,5,6,2023-0", encoding="utf-8")  # fmt: skip
    assert "data row 2: truncated last line (4 fields instead of 5" in hard_error(
        helloasso.participations_by_organization, items, 2023, ["Processed"]
    )


def test_zero_population(tmp_path: Path) -> None:
    folder = CORPUS / "zero_population"
    communes = pd.read_csv(folder / "communes.csv", dtype=str, keep_default_na=False)
    communes["population"] = communes["population"].astype("int64")
    assert (check_commune_table(communes)["population"] == 0).sum() == 6
    raw = tmp_path / "raw"
    demo.generate_demo_inputs(communes, 2023, raw, np.random.default_rng(55), scale=3.0)
    shutil.copyfile(folder / "rna_waldec_20240101.csv", raw / "rna" / "rna_waldec_20240101.csv")
    counts, report = commune_counts(raw, communes, 2023)
    by_code = counts.set_index("code_commune")["rna_creations"]
    assert (by_code["55189"], by_code["55545"], int(by_code.sum())) == (2, 1, 3)
    assert (
        report.set_index("source")
        .at["rna", "notes"]
        .endswith(
            "2 counted in communes of zero population (55189 Fleury-devant-Douaumont): no rate "
            "per inhabitant there"
        )
    )
    negative = communes.assign(
        population=communes["population"].where(communes["code_commune"] != "55545", -1)
    )
    assert hard_error(commune_counts, raw, negative, 2023) == (
        "column 'population', value -1: the commune table breaks its contract (commune 55545): "
        "negative population"
    )


def test_a_hard_error_leaves_no_quarantine_behind(tmp_path: Path) -> None:
    """Earlier sources have quarantined rows, the last file is cut short: the run stops and
    writes no quarantine file at all."""
    communes = pd.read_csv(
        CORPUS / "zero_population" / "communes.csv", dtype=str, keep_default_na=False
    )
    communes["population"] = communes["population"].astype("int64")
    raw = tmp_path / "raw"
    demo.generate_demo_inputs(communes, 2023, raw, np.random.default_rng(55), scale=3.0)
    _, clean = commune_counts(raw, communes, 2023)
    baseline = clean.set_index("source")["quarantined"]  # the generator's planted rows
    forms = raw / "helloasso" / "forms.csv"
    lines = forms.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(lines[3].split(",")[0], "x", 1)  # one quarantined form
    forms.write_text("\n".join(lines) + "\n", encoding="utf-8")
    matches = raw / "jeveuxaider" / "participations.csv"
    matches.write_bytes(matches.read_bytes()[:-30])  # drops the last field and a half
    quarantine = tmp_path / "tables" / "quarantine"
    with pytest.raises(SourceError, match="truncated last line"):
        commune_counts(raw, communes, 2023, quarantine_dir=quarantine)
    assert not quarantine.exists() or list(quarantine.iterdir()) == []
    matches.write_bytes(matches.read_bytes() + b"\n")  # one malformed row, quarantined
    _, report = commune_counts(raw, communes, 2023, quarantine_dir=quarantine)
    added = (report.set_index("source")["quarantined"] - baseline).to_dict()
    assert added == {
        "rna": 0, "helloasso_organizations": 0, "helloasso_forms": 1, "helloasso_participations": 0,
        "jeveuxaider_missions": 0, "jeveuxaider_participations": 0,
    }  # fmt: skip
    # The last (planted, repeated) mise en relation is now a short row instead.
    last = pd.read_csv(quarantine / "jeveuxaider_participations.csv", dtype=str).iloc[-1]
    assert last["reason"] == "4 fields instead of 5 (row not split into columns)"
    written = pd.read_csv(quarantine / "helloasso_forms.csv", dtype=str)
    assert written[["data_row", "reason"]].values.tolist()[0] == [
        "3",
        "form_id 'x': not a non-negative integer identifier (at most 18 digits)",
    ]
    assert len(list(quarantine.iterdir())) == 6


# --- one definition, two backends ------------------------------------------------------------

KINDS_CONTRACT = Contract(
    name="every kind",
    fields=(
        Field("identifier", "id"),
        Field("code", "code", pattern=r"W[0-9A-Z]{9}|[0-9A-Z]{4}[0-9]{8}", nullable=True),
        Field("day", "date", nullable=True, min_date="1901-07-01", max_date="2024-01-01"),
        Field("moment", "datetime", min_date="2008-01-01", max_date="2099-12-31"),
        Field("state", "enum", values=("Processed", "Registered", "Validée")),
        Field("amount", "count", nullable=True),
        Field("latitude", "latitude", nullable=True),
    ),
)
SAMPLES = {
    "identifier": [
        "1",
        "0",
        "123456789012345678",
        "1234567890123456789",
        "-4",
        "1.0",
        "abc",
        "",
        "٣",
    ],
    "code": ["W751085568", "751P00085568", "W75108556", "w751085568", "", "W75108556X"],
    "day": [
        "2023-02-28",
        "2024-02-29",
        "2023-02-29",
        "2023-02-30",
        "1901-06-30",
        "2024-01-02",
        "0000-01-01",
        "2023-1-01",
        "",
        "23-01-01",
        "2023-13-01",
    ],
    "moment": [
        "2023-05-01T10:00:00",
        "2023-05-01 10:00",
        "2023-05-01T25:00:00",
        "2023-05-01T10:00:00.123+02:00",
        "2023-05-01Z",
        "2007-12-31T23:59:59",
        "2100-01-01",
        "3023-05-01",
        "2023-02-30T00:00:00",
        "",
        "31/12/2023",
    ],
    "state": ["Processed", "Registered", "Validée", "processed", "Validee", "", "Processed "],
    "amount": [
        "0",
        "1500",
        "-1500",
        "12,50",
        "1e3",
        "",
        "-",
        "999999999999999",
        "9999999999999999",
    ],
    "latitude": ["48.85", "48,85", "-90", "90.0001", "91", "abc", "", "-12.5"],
}


def values(column: str) -> st.SearchStrategy[str]:
    # Values arrive stripped from the readers (pyarrow and DuckDB trim them alike).
    free = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc")), max_size=12)
    return st.one_of(st.sampled_from(SAMPLES[column]), free)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({c: values(c) for c in SAMPLES}), min_size=1, max_size=25))
def test_pandas_and_sql_checks_agree(rows: list[dict[str, str]]) -> None:
    frame = pd.DataFrame(rows).astype(TEXT_DTYPE)
    stripped = frame.apply(lambda column: column.str.strip(" "))  # as the CSV/Parquet readers do
    pandas_verdicts = np.column_stack(
        [
            check.ok(stripped[check.column]).to_numpy(bool)
            for check in contract_checks(KINDS_CONTRACT)
        ]
    )
    compiled = sql_checks(KINDS_CONTRACT, dict.fromkeys(frame.columns, "VARCHAR"))
    con = duckdb.connect()
    con.register("frame", frame.astype(object))
    sql_verdicts = np.array(
        con.execute(f"SELECT {', '.join(c.ok for c in compiled)} FROM frame").fetchall(), dtype=bool
    ).reshape(len(frame), -1)
    assert [c.message for c in compiled] == [c.message for c in contract_checks(KINDS_CONTRACT)]
    np.testing.assert_array_equal(pandas_verdicts, sql_verdicts)


def test_pandera_schema_reports_value_row_and_message() -> None:
    raw = pd.DataFrame({c: [SAMPLES[c][0], SAMPLES[c][0]] for c in SAMPLES}, index=pd.Index([1, 2], name="data_row")).astype(TEXT_DTYPE)  # fmt: skip
    raw.loc[2, "day"] = "2023-02-30"
    schema = text_schema(KINDS_CONTRACT)
    assert schema.columns["day"].checks[1].error == "not a calendar date"
    from barometre.sources.contracts import check_table

    empty = pd.DataFrame(
        {"data_row": pd.Series([], dtype="int64"), "reason": pd.Series([], dtype=object)}
    )
    _, failures = check_table(RawTable(Path("x.csv"), raw, 2, empty, list(raw.columns), "csv"), KINDS_CONTRACT, file_label="x.csv")  # fmt: skip
    assert failures[["data_row", "column", "message", "value"]].values.tolist() == [
        [2, "day", "not a calendar date", "2023-02-30"]
    ]


# --- barometre validate ------------------------------------------------------------------------


def test_validate_prints_rows_and_reasons() -> None:
    result = runner.invoke(app, ["validate", "--source", "helloasso_forms", str(CORPUS / "dates_out_of_range" / "forms.csv")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "helloasso_forms: forms.csv (CSV, utf-8)",
        "  rows read    32",
        "  accepted     29",
        "  quarantined   3 (9.4%)",
        "  reasons:",
        "    1 × created_at: after 2099-12-31 (e.g. data row 11 of forms.csv ('2203-05-01T10:00:00'))",
        "    1 × created_at: before 2008-01-01 (before HelloAsso existed) (e.g. data row 17 of forms.csv ('2001-05-01'))",
        "    1 × created_at: not a calendar date (e.g. data row 5 of forms.csv ('2023-02-30T10:00:00'))",
        "result: usable: 3 quarantined rows left out (tolerance 10% of the rows)",
    ]


@pytest.mark.parametrize(
    ("source", "path", "fragment"),
    [
        ("rna", "wrong_separator/rna_waldec_20240101.csv", "wrong separator: expected ';'"),
        ("rna", "bad_encoding/rna_waldec_20240101.csv", "mixed encodings: line 2 is UTF-8"),
        ("helloasso_forms", "missing_column/forms.csv", "column 'state': missing column"),
        ("helloasso_organizations", "empty_file/organizations.csv", "the file is empty"),
        ("jeveuxaider_participations", "truncated_last_line/participations.csv", "data row 12: truncated last line"),
        ("helloasso_participations", "negative_counts/nope.parquet", "file nope.parquet: file not found"),
    ],
)  # fmt: skip
def test_validate_refuses_unusable_files(source: str, path: str, fragment: str) -> None:
    result = runner.invoke(app, ["validate", "--source", source, str(CORPUS / path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"error: {source}: file " in result.output and fragment in result.output


def test_validate_tolerance_and_quarantine_output(tmp_path: Path) -> None:
    path = CORPUS / "duplicated_ids" / "missions.csv"
    out = tmp_path / "missions_quarantine.csv"
    result = runner.invoke(app, ["validate", "--source", "jeveuxaider_missions", str(path), "--quarantine", str(out)])  # fmt: skip
    assert result.exit_code == 0 and "quarantined   2 (8.0%)" in result.output
    assert pd.read_csv(out)["data_row"].tolist() == [10, 15]
    strict = runner.invoke(app, ["validate", "--source", "jeveuxaider_missions", str(path), "--max-quarantine-share", "0.05"])  # fmt: skip
    assert strict.exit_code == 2
    assert (
        "2 of 25 data rows (8.0%) break the contract, more than the 5% tolerated" in strict.output
    )
    unknown = runner.invoke(app, ["validate", "--source", "helloasso", str(path)])
    assert unknown.exit_code == 2 and "unknown source 'helloasso'" in unknown.output
