"""End to end: the CLI builds a demo edition on a subset of departments, through papermill and
the offline renderer, and the PDF's text names the laureates. A second build skips every step."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from external_tools import require_tool

ROOT = Path(__file__).resolve().parents[1]
BARO = Path(sys.executable).parent / "barometre"
DEPARTMENTS = "69"  # Rhône: every population class is present (Lyon, Villeurbanne, …)

pytestmark = pytest.mark.slow


def pdf_text(path: Path) -> str:
    require_tool("pdftotext")  # in CI a missing tool fails: it must not hide the checks after it
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("build")
    cmd = [
        str(BARO),
        "build",
        "--edition",
        "2024",
        "--demo",
        "--departments",
        DEPARTMENTS,
        "--build-root",
        str(root),
    ]
    first = subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=ROOT)
    assert first.returncode == 0, first.stdout + first.stderr
    second = subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=ROOT)
    assert second.returncode == 0, second.stdout + second.stderr
    return root / f"2024-dep-{DEPARTMENTS}", first, second


def test_outputs_exist(built):
    build_dir, first, _ = built
    for name in ("barometre.pdf", "barometre.html", "methodologie.pdf", "methodologie.html"):
        assert (build_dir / "publications" / name).stat().st_size > 10_000, name
    for name in (
        "tables/palmares.csv",
        "tables/communes.csv",
        "work/commune_counts.csv",
        "work/indicators.csv",
    ):
        assert (build_dir / name).exists(), name
    for nb in (
        "01_sources.ipynb",
        "02_indicators.ipynb",
        "03_composite.ipynb",
        "04_robustness.ipynb",
        "05_publication.ipynb",
    ):
        executed = json.loads((build_dir / "notebooks" / nb).read_text())
        assert any(c.get("outputs") for c in executed["cells"] if c["cell_type"] == "code"), nb
    assert "barometre.pdf" in first.stdout


def test_palmares_follows_the_decision_rule_and_eligibility(built):
    """Every « Lauréat » has P(top 4) ≥ 0.5 with sampling included, is in its class's τ-best set
    and is eligible; at most 4 per class; every commune of the subset is published, and only
    eligible communes carry a rank."""
    from barometre.config import load_edition

    config = load_edition(2024)
    build_dir, _, _ = built
    palmares = pd.read_csv(build_dir / "tables" / "palmares.csv", dtype={"code_commune": str})
    decision = pd.read_csv(
        build_dir / "work" / "palmares_decision.csv", dtype={"code_commune": str}
    )
    published = pd.read_csv(build_dir / "tables" / "communes.csv", dtype={"code_commune": str})
    status = pd.read_csv(
        build_dir / "work" / "eligibility_communes.csv", dtype={"code_commune": str}
    )
    assert set(palmares["status"]) <= {"Lauréat", "Mention"}
    laureates = palmares[palmares["status"] == "Lauréat"]
    assert len(laureates) >= 1
    assert (laureates["p_top"] >= config.palmares_rule.laureate_min_probability).all()
    assert laureates.groupby("population_class").size().max() <= config.palmares_size
    in_set = decision.set_index("code_commune")["in_tau_best"].astype(bool)
    assert in_set.loc[palmares["code_commune"]].all()
    eligible = status.set_index("code_commune")["eligible"].astype(bool)
    assert eligible.loc[palmares["code_commune"]].all()
    assert (
        status.set_index("code_commune").loc[laureates["code_commune"], "population"]
        >= config.eligibility.min_population
    ).all()
    # reconciliation: every commune of the subset is published, ranks only for eligible ones
    assert set(published["code_commune"]) == set(status["code_commune"])
    unranked = published[~published["eligible"].astype(bool)]
    assert unranked["rank_in_class"].isna().all() and unranked["score"].isna().all()
    assert (unranked["ineligible_reason"].fillna("") != "").all()
    report = pd.read_csv(build_dir / "tables" / "eligibility.csv").set_index("population_class")
    removed = [c for c in report.columns if c.startswith("removed_")]
    assert (report["total"] == report["eligible"] + report[removed].sum(axis=1)).all()
    assert report.loc["Total", "total"] == len(status)
    for column in ("p_top", "rank_median", "rank_p05", "rank_p95", "cs_lower", "cs_upper"):
        assert palmares[column].notna().all(), column
    assert palmares["sentence"].str.contains("se distingue notamment par").all()
    assert palmares["code_commune"].str.len().eq(5).all()
    # the other methodology, compared class by class
    methods = pd.read_csv(build_dir / "tables" / "methods_comparison.csv")
    assert list(methods["population_class"]) == list(config.classes.labels)
    assert methods["spearman"].dropna().between(-1, 1).all()
    assert (methods["laureates_in_other_top"] <= methods["n_laureates"]).all()


def test_pdf_names_the_laureates_and_is_marked_demo(built):
    build_dir, _, _ = built
    palmares = pd.read_csv(build_dir / "tables" / "palmares.csv")
    text = pdf_text(build_dir / "publications" / "barometre.pdf")
    # the typography filter turns straight apostrophes into typographic ones
    flat = " ".join(text.split()).replace("\u2019", "'")
    # a compound name broken at its hyphen at the end of a line reads "Sathonay- Village"
    joined = flat.replace("- ", "-")
    for name, status in zip(palmares["nom"], palmares["status"], strict=True):
        assert name in joined, f"{status} {name!r} missing from the PDF"
    pages = text.split("\f")
    pages = [p for p in pages if p.strip()]
    assert all("Données de démonstration synthétiques" in " ".join(p.split()) for p in pages)
    for forbidden in ("nan", "None", "TODO", "{{<"):
        assert f" {forbidden} " not in f" {flat} ", forbidden
    # French a reader would notice (issue 12): agreement, verbless sentences, marks, units
    readable = flat.replace("\u202f", " ").replace("\u00a0", " ").replace("\u00ad", "")
    for wrong in (
        "n.d. associations",
        "qui se distingue",
        "sur 100",
        "rang national",
        "pour 10 000",
        "± 0,00",
        "−0,00",
        "−0,01",
    ):
        assert wrong not in readable, wrong
    # « 0 associations », « 1 associations » — but not the end of « 2 250 associations »
    assert not re.search(r"(?<!\d )(?<!\d)[01] associations", readable)


def test_manifest_and_noop_rebuild(built):
    build_dir, _, second = built
    manifest = json.loads((build_dir / "manifest.json").read_text())
    assert manifest["seed"] == 20240615
    assert manifest["git"]["commit"] is None or len(manifest["git"]["commit"]) == 40
    assert any(k.startswith("raw/") for k in manifest["inputs"])
    assert {s["status"] for s in manifest["steps"]} == {"skipped"}, (
        "second build must skip every step"
    )
    assert "skipped" in second.stdout


def test_disclosure_scan_finds_nothing_and_catches_a_planted_violation(built, tmp_path):
    from barometre.disclosure import scan_build

    build_dir, _, _ = built
    assert scan_build(build_dir) == []
    planted = tmp_path / "planted"
    shutil.copytree(build_dir / "tables", planted / "tables")
    table = pd.read_csv(planted / "tables" / "communes.csv", dtype=str)
    table.loc[table.index[0], "jva_matches"] = "3"
    table.to_csv(planted / "tables" / "communes.csv", index=False)
    (planted / "tables" / "note.md").write_text("Lasalle compte 7 mises en relation.\n")
    pd.DataFrame({"code_commune": ["30140"], "payer_email": ["x@example.org"]}).to_csv(
        planted / "tables" / "leak.csv", index=False
    )
    kinds = {(v.path, v.kind) for v in scan_build(planted)}
    assert ("tables/communes.csv", "small count") in kinds
    assert ("tables/note.md", "small count in text") in kinds
    assert ("tables/leak.csv", "personal column") in kinds


def test_publications_text_quality(built):
    """Class names, French number formats, no leftovers, in both PDFs and both HTML pages."""
    import re

    build_dir, _, _ = built
    pub = build_dir / "publications"
    baro = " ".join(pdf_text(pub / "barometre.pdf").split())
    method = " ".join(pdf_text(pub / "methodologie.pdf").split())
    for label in ("Village", "Petite ville", "Ville moyenne", "Grande ville", "Métropole"):
        assert label in baro, label
    # thousands separated by a (narrow) no-break space, decimals with a comma
    assert re.search(r"\d{1,3}[\u202f\u00a0 ]\d{3}", baro)
    assert re.search(r"\d,\d", method)
    assert not re.search(r"\d\.\d{2} ?%", baro + method), "English decimal point in a percentage"
    for name in ("barometre.html", "methodologie.html"):
        html = (pub / name).read_text(encoding="utf-8")
        assert 'lang="fr"' in html
        text = re.sub(
            r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.DOTALL)
        )
        for forbidden in ("nan", "None", "TODO", "{{<"):
            assert f" {forbidden} " not in f" {' '.join(text.split())} ", (name, forbidden)
    for text in (baro, method):
        for forbidden in ("nan", "None", "TODO", "{{<"):
            assert f" {forbidden} " not in f" {text} ", forbidden


def test_2025_edition_builds_with_year_over_year_and_departmental_palmares(built):
    """The 2025 edition reuses the 2024 build (skipped, never overwritten) and shows what changed."""
    build_dir, _, _ = built
    root = build_dir.parent
    before = {p: p.stat().st_mtime_ns for p in (build_dir / "tables").rglob("*") if p.is_file()}
    cmd = [
        str(BARO),
        "build",
        "--edition",
        "2025",
        "--demo",
        "--departments",
        DEPARTMENTS,
        "--build-root",
        str(root),
    ]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    after = {p: p.stat().st_mtime_ns for p in (build_dir / "tables").rglob("*") if p.is_file()}
    assert before == after, "the 2024 edition was rewritten by the 2025 build"
    current = root / f"2025-dep-{DEPARTMENTS}"
    laureates = pd.read_csv(current / "tables" / "yoy_laureates.csv")
    assert set(laureates["status"]) <= {"retained", "new", "left"}
    current_palmares = pd.read_csv(current / "tables" / "palmares.csv")
    assert (laureates["status"] != "left").sum() == (current_palmares["status"] == "Lauréat").sum()
    departmental = pd.read_csv(
        current / "tables" / "departmental_palmares.csv", dtype={"code_departement": str}
    )
    assert set(departmental["code_departement"]) == set(DEPARTMENTS.split(","))
    text = " ".join(pdf_text(current / "publications" / "barometre.pdf").split())
    assert "Ce qui a changé depuis 2024" in text
    assert "Le palmarès départemental" in text
    assert "Générosité financière" in " ".join(
        pdf_text(current / "publications" / "methodologie.pdf").split()
    )
    from barometre.disclosure import scan_build

    assert scan_build(current) == []


def test_real_extracts_build_renders_without_demo_mark(built, tmp_path):
    """The path the publishing team uses: the demo's own extracts given as real ones
    (``--real --raw-dir``) render every publication, with no demo mark and no empty variable
    (the offline renderer refuses an empty variable)."""
    from barometre.disclosure import scan_build

    build_dir, _, _ = built
    cmd = [
        str(BARO),
        "build",
        "--edition",
        "2024",
        "--real",
        "--raw-dir",
        str(build_dir / "raw"),
        "--departments",
        DEPARTMENTS,
        "--build-root",
        str(tmp_path),
        "--runs",
        "300",
    ]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    real = tmp_path / f"2024-dep-{DEPARTMENTS}"
    for name in ("barometre", "methodologie"):
        text = " ".join(pdf_text(real / "publications" / f"{name}.pdf").split())
        html = (real / "publications" / f"{name}.html").read_text(encoding="utf-8")
        assert "démonstration" not in text.lower() and "démonstration" not in html.lower(), name
        assert "Le palmarès" in text or name == "methodologie"
    assert not (real / "raw").exists(), "a real build never writes demo extracts"
    assert scan_build(real) == []
