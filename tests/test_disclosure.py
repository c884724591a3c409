"""Disclosure control: primary and secondary suppression, text protection, build scan."""

from __future__ import annotations

import pandas as pd

from barometre.disclosure import (
    is_small,
    protect_count_text,
    protect_table,
    scan_build,
)


def test_small_counts_are_1_to_threshold_minus_1():
    assert [is_small(v) for v in (0, 1, 10, 10.0, 11, None, "x", float("nan"))] == [
        False,
        True,
        True,
        True,
        False,
        False,
        False,
        False,
    ]


def test_primary_suppression_hides_the_count_and_its_raw_rate_only():
    table = pd.DataFrame(
        {
            "code_commune": ["01001", "01002", "01003", "01004"],
            "population": [100, 200, 5000, 800],
            "ha_participants": [3, 40, 500, 12],
            "ha_participants_per_1000": [30.0, 200.0, 100.0, 15.0],
            "rna_creations": [1, 2, 3, 4],  # public register: never suppressed
        }
    )
    out = protect_table(table, totals_published=False)
    assert out["ha_participants"].tolist() == ["< 11", 40, 500, 12]
    assert out["ha_participants_per_1000"].tolist() == ["< 11", 200.0, 100.0, 15.0]
    assert out["rna_creations"].tolist() == [1, 2, 3, 4]


def test_secondary_suppression_protects_a_lone_cell_against_the_total():
    table = pd.DataFrame(
        {
            "code_commune": ["a", "b", "c", "d", "e"],
            "code_departement": ["01", "01", "01", "02", "02"],
            "jva_matches": [5, 30, 14, 2, 3],
        }
    )
    out = protect_table(table, total_groups=["code_departement"])
    # department 01: one primary cell (5) → the smallest other non-zero cell (14) goes too
    assert out["jva_matches"].tolist() == ["< 11", 30, "< 11", "< 11", "< 11"]
    # without published totals, no secondary suppression
    assert protect_table(table, totals_published=False)["jva_matches"].tolist() == [
        "< 11",
        30,
        14,
        "< 11",
        "< 11",
    ]


def test_protected_text():
    assert protect_count_text(7, str) == "moins de 11"
    assert protect_count_text(1234, str) == "1234"
    assert protect_count_text(0, str) == "0"


def test_scan_finds_personal_columns_small_counts_and_text(tmp_path):
    (tmp_path / "tables").mkdir()
    (tmp_path / "work").mkdir()
    (tmp_path / "raw").mkdir()
    pd.DataFrame({"code_commune": ["01001"], "ha_participants": [4]}).to_csv(
        tmp_path / "tables" / "a.csv", index=False
    )
    # exact small counts are allowed in the confidential working area
    pd.DataFrame({"code_commune": ["01001"], "ha_participants": [4]}).to_csv(
        tmp_path / "work" / "a.csv", index=False
    )
    pd.DataFrame({"code_commune": ["01001"], "payer_email": ["a@b.fr"]}).to_csv(
        tmp_path / "work" / "b.csv", index=False
    )
    (tmp_path / "tables" / "t.md").write_text(
        "La commune compte 3 bénévoles et 1\u202f234 participations.\n"
    )
    # a raw extract may keep an official (empty) personal column, but never a filled one
    (tmp_path / "raw" / "ok.csv").write_text("id;adrg_declarant\nW1;\n")
    (tmp_path / "raw" / "bad.csv").write_text("id;adrg_declarant\nW1;Jean Dupont\n")
    found = {(v.path, v.kind) for v in scan_build(tmp_path)}
    assert found == {
        ("tables/a.csv", "small count"),
        ("work/b.csv", "personal column"),
        ("tables/t.md", "small count in text"),
        ("raw/bad.csv", "personal value"),
    }


def test_scan_of_a_clean_folder_is_empty(tmp_path):
    (tmp_path / "tables").mkdir()
    pd.DataFrame(
        {"code_commune": ["01001"], "ha_participants": ["< 11"], "jva_matches": [0]}
    ).to_csv(tmp_path / "tables" / "a.csv", index=False)
    (tmp_path / "tables" / "t.md").write_text("moins de 11 participations ; 12 bénévoles.\n")
    assert scan_build(tmp_path) == []


def test_scan_keeps_cluster_statistics_in_the_working_area(tmp_path):
    """The cluster statistics of the person counts (e.g. a commune's largest mission) exist
    only under work/: a published table carrying one is a violation."""
    (tmp_path / "tables").mkdir()
    (tmp_path / "work").mkdir()
    frame = pd.DataFrame(
        {"code_commune": ["01001"], "jva_matches": [40], "jva_matches_cluster_max": [39]}
    )
    frame.to_csv(tmp_path / "work" / "commune_counts.csv", index=False)
    frame.to_csv(tmp_path / "tables" / "communes.csv", index=False)
    assert {(v.path, v.kind, v.detail) for v in scan_build(tmp_path)} == {
        ("tables/communes.csv", "confidential column", "jva_matches_cluster_max")
    }


def test_model_based_rates_normalised_values_and_the_ratio_are_hidden_with_the_count():
    """The two attacks a referee ran on the 2024 tables: the ranked (posterior) rate inverted
    with the published model parameters, and participants per campaign × campaigns."""
    from barometre.disclosure import protect_table

    table = pd.DataFrame(
        {
            "code_commune": ["01001", "01002"],
            "ha_campaigns": [3, 40],
            "ha_participants": [5, 400],
            "ha_participants_per_campaign": [5 / 3, 10.0],
            "ha_participants_per_campaign_ranked_per_1000": [1.2, 9.0],
            "ha_participants_ranked_per_1000": [2.2, 30.0],
            "ha_participants_normalised": [12.0, 80.0],
            "jva_matches": [40, 2],
            "jva_matches_ranked_per_1000": [5.0, 0.3],
            "jva_matches_normalised": [60.0, 1.0],
        }
    )
    out = protect_table(table, totals_published=False)
    hidden = "< 11"
    assert (
        out.loc[
            0,
            [
                "ha_participants",
                "ha_participants_per_campaign",
                "ha_participants_per_campaign_ranked_per_1000",
                "ha_participants_ranked_per_1000",
                "ha_participants_normalised",
            ],
        ]
        .eq(hidden)
        .all()
    )
    assert (
        out.loc[1, ["jva_matches", "jva_matches_ranked_per_1000", "jva_matches_normalised"]]
        .eq(hidden)
        .all()
    )
    assert out.loc[0, "ha_campaigns"] == 3 and out.loc[1, "ha_participants_per_campaign"] == 10.0
    assert out.loc[0, "jva_matches_normalised"] == 60.0


def _bounds_leak(values: list[int], blank: list[bool], threshold: int = 11) -> bool:
    """Brute force: does the sum of the hidden cells narrow one of them? A labelled cell ranges
    over 1 … T−1, a blank one over 0 … 3T (a stand-in for « any count »); the sum leaks when, for
    some cell, a value of its public range (capped at T−1 for a blank cell) is impossible."""
    import itertools

    ranges = [range(3 * threshold) if b else range(1, threshold) for b in blank]
    total = sum(values)
    for j, b in enumerate(blank):
        public = set(range(threshold)) if b else set(range(1, threshold))
        possible = set()
        for combo in itertools.product(*ranges):
            if sum(combo) == total:
                possible.add(combo[j])
        if not public <= possible:
            return True
    return False


def test_hidden_remainder_is_safe_agrees_with_brute_force():
    from barometre.disclosure import hidden_remainder_is_safe, total_is_safe

    cases = [
        ([9, 8, 7], [False] * 3),  # Lens-Liévin: 24 over three labelled cells → each in 4 … 10
        ([5, 9], [False, False]),
        ([6, 5], [False, False]),  # 11: each still 1 … 10
        ([8, 6, 0], [False, False, True]),  # Saint-Omer with an ineligible commune at 0
        ([0], [True]),  # a lone ineligible commune with no participant
        ([25], [True]),  # a lone ineligible commune: the sum is its unpublished count
        ([3, 30], [False, True]),
        ([3, 4], [False, True]),
    ]
    for values, blank in cases:
        assert hidden_remainder_is_safe(values, blank) == (not _bounds_leak(values, blank)), values
    assert not hidden_remainder_is_safe([9, 8, 7], [False] * 3)
    for a in range(1, 11):
        for b in range(1, 11):
            assert hidden_remainder_is_safe([a, b], [False, False]) == total_is_safe([a, b])


def test_hidden_cells_read_what_the_published_table_says():
    from barometre.disclosure import PUBLISHED, SUPPRESSED, UNPUBLISHED, hidden_cells

    published = pd.DataFrame(
        {
            "code_commune": ["a", "b", "c"],
            "ha_participants": ["12", "< 11", ""],
            "jva_matches": ["0", "3.0", ""],
        }
    )
    codes = hidden_cells(published)
    assert codes["ha_participants"].tolist() == [PUBLISHED, SUPPRESSED, UNPUBLISHED]
    assert codes["jva_matches"].tolist() == [PUBLISHED, PUBLISHED, UNPUBLISHED]
    assert "ha_donations" not in codes.columns


def test_scan_reads_workbook_sheets_and_parquet_schemas(tmp_path):
    """A workbook is scanned sheet by sheet (columns and small counts); a Parquet schema for its
    columns; confidential columns are allowed in the working area only."""
    (tmp_path / "tables").mkdir()
    (tmp_path / "work").mkdir()
    with pd.ExcelWriter(tmp_path / "tables" / "export.xlsx") as writer:
        pd.DataFrame({"code_commune": ["01001", "01002"], "jva_matches": [40, 3]}).to_excel(
            writer, sheet_name="communes", index=False
        )
        pd.DataFrame({"payer_email": ["a@b.fr"], "jva_matches_cluster_max": [9]}).to_excel(
            writer, sheet_name="detail", index=False
        )
    frame = pd.DataFrame({"payer_email": ["a@b.fr"], "jva_matches_cluster_max": [9]})
    frame.to_parquet(tmp_path / "tables" / "p.parquet")
    frame.to_parquet(tmp_path / "work" / "p.parquet")
    assert [(v.path, v.kind, v.detail) for v in scan_build(tmp_path)] == [
        ("tables/export.xlsx:communes", "small count", "row 3, jva_matches = 3"),
        ("tables/export.xlsx:detail", "personal column", "payer_email"),
        ("tables/export.xlsx:detail", "confidential column", "jva_matches_cluster_max"),
        ("tables/p.parquet", "personal column", "payer_email"),
        ("tables/p.parquet", "confidential column", "jva_matches_cluster_max"),
        ("work/p.parquet", "personal column", "payer_email"),
    ]
