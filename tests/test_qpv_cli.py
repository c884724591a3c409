"""End to end: ``barometre territory`` builds a small demo edition when it is missing, then writes
a territorial report whose « Politique de la ville » chapter is filled from the synthetic QPV
list; a second territory (a contrat de ville) reuses the build; a real-layout list given with
``--qpv-file`` replaces the synthetic one; a bad list fails with file, line, column and value."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
BARO = Path(sys.executable).parent / "barometre"
FIXTURE = ROOT / "tests" / "fixtures" / "qpv" / "qpv_2024_sample.csv"
DEPARTMENTS = "62"  # Pas-de-Calais: 64 QPV in the synthetic list, several contrats de ville

pytestmark = pytest.mark.slow


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BARO), "territory", *args], check=False, capture_output=True, text=True, cwd=ROOT
    )


def pdf_text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (Debian poppler-utils) not installed")
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    ).stdout.decode()
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


@pytest.fixture(scope="module")
def department(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess]:
    root = tmp_path_factory.mktemp("build")
    done = run(
        "department:62",
        "--edition",
        "2024",
        "--departments",
        DEPARTMENTS,
        "--build-root",
        str(root),
        "--renderer",
        "offline",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return root / f"2024-dep-{DEPARTMENTS}", done


def test_the_command_builds_first_and_writes_under_territories(
    department: tuple[Path, subprocess.CompletedProcess],
) -> None:
    build, done = department
    assert "not built yet" in done.stdout
    folder = build / "territories" / "departement-62-pas-de-calais"
    assert f"territory departement:62 (Pas-de-Calais (62)): {folder}" in done.stdout
    for name in (
        "publications/territoire-departement-62-pas-de-calais.pdf",
        "publications/territoire-departement-62-pas-de-calais.html",
        "exports/territoire-departement-62-pas-de-calais.csv",
        "figures/qpv_map.png",
    ):
        assert (folder / name).is_file(), name
    for part in ("engagement", "domaines", "associations", "contrats"):
        for ext in ("csv", "xlsx"):
            assert (
                folder / "exports" / f"territoire-departement-62-pas-de-calais-qpv-{part}.{ext}"
            ).is_file(), (part, ext)


def test_the_chapter_is_filled_and_reconciles(
    department: tuple[Path, subprocess.CompletedProcess],
) -> None:
    build, _ = department
    folder = build / "territories" / "departement-62-pas-de-calais"
    chapter = (
        (folder / "tables" / "qpv.md")
        .read_text(encoding="utf-8")
        .replace("\u00a0", " ")
        .replace("\u202f", " ")
    )
    assert "liste synthétique de démonstration" in chapter
    assert "- **64** quartiers prioritaires" in chapter  # the Pas-de-Calais' published count
    total = re.search(r"\| Ensemble +\| ([\d  ]+?) +\| ([\d  ]+?) +\| ([\d  ]+?) +\|", chapter)
    assert total is not None
    communes, with_qpv, without = (int(re.sub(r"\D", "", g)) for g in total.groups())
    counts = pd.read_csv(build / "work" / "count_model_input.csv", dtype={"code_commune": str})
    assert (
        communes == with_qpv + without == int(counts["code_departement"].astype(str).eq("62").sum())
    )
    text = pdf_text(folder / "publications" / "territoire-departement-62-pas-de-calais.pdf")
    assert (
        "Politique de la ville" in text and "Les contrats de ville" in text and "Qui agit" in text
    )
    assert "Données de démonstration synthétiques" in text
    for forbidden in ("nan", "None", "NaN", "n.d. [", "TODO"):
        assert f" {forbidden} " not in f" {text} ", forbidden
    engagement = pd.read_csv(
        folder / "exports" / "territoire-departement-62-pas-de-calais-qpv-engagement.csv"
    )
    shown = engagement[engagement["withheld"] == "non"]
    assert (
        len(shown)
        and (shown["lower_with"] <= shown["rate_with"]).all()
        and (shown["rate_with"] <= shown["upper_with"]).all()
    )
    creations = pd.read_csv(
        folder / "exports" / "territoire-departement-62-pas-de-calais-qpv-associations.csv"
    )
    assert list(creations.columns) == ["field", "name", "commune", "code_commune"]  # no person


def test_a_contrat_de_ville_reuses_the_build(
    department: tuple[Path, subprocess.CompletedProcess],
) -> None:
    build, _ = department
    done = run(
        "contrat:CV219",
        "--departments",
        DEPARTMENTS,
        "--build-root",
        str(build.parent),
        "--renderer",
        "offline",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "reusing the build" in done.stdout
    folders = list((build / "territories").glob("contrat-CV219-*"))
    assert (
        len(folders) == 1
        and (folders[0] / "tables" / "qpv.md")
        .read_text(encoding="utf-8")
        .count("CA de Lens - Liévin")
        >= 1
    )


def test_a_real_layout_list_replaces_the_synthetic_one_and_a_bad_one_fails(
    department: tuple[Path, subprocess.CompletedProcess], tmp_path: Path
) -> None:
    build, _ = department
    done = run(
        "department:62",
        "--departments",
        DEPARTMENTS,
        "--build-root",
        str(build.parent),
        "--renderer",
        "offline",
        "--qpv-file",
        str(FIXTURE),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "qpv_2024_sample.csv: 9 rows read, 9 accepted, 0 quarantined" in done.stdout
    chapter = (
        build / "territories" / "departement-62-pas-de-calais" / "tables" / "qpv.md"
    ).read_text(encoding="utf-8")
    chapter = chapter.replace("\u00a0", " ").replace("\u202f", " ")
    assert (
        "format officiel de l'ANCT) compte 9 quartiers" in chapter
        and "- **1** quartier prioritaire" in chapter
    )
    bad = tmp_path / "bad.csv"
    bad.write_text('code_qp;lib_qp;insee_com\nQN1;x;="62193"\nQN2;y;="62193"\n', encoding="utf-8")
    failed = run(
        "department:62",
        "--departments",
        DEPARTMENTS,
        "--build-root",
        str(build.parent),
        "--qpv-file",
        str(bad),
    )
    assert failed.returncode == 2
    assert "bad.csv, line 2, column code_qp" in failed.stderr and "'QN1'" in failed.stderr
