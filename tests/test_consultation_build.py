"""``barometre consultation build`` (issue 15): the demo consultation builds and renders, every
page says it is synthetic, no author's name or age reaches any output, the counts reconcile,
the build is reproducible, and bad options end in one line."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from external_tools import require_tool
from typer.testing import CliRunner

from barometre import geography
from barometre.cli import app
from barometre.consultation.build import ConsultationBuildError, build_consultation
from barometre.consultation.demo import DEMO_MARK, FIRST_NAMES
from barometre.disclosure import scan_build

runner = CliRunner()
SMALL = {"demo_proposals": 1200, "draws": 400}


def engagement_table(path: Path, seed: int = 0) -> Path:
    """A communes table with a synthetic score (the shape of a baromètre build's communes.csv)."""
    communes = geography.load_communes(2024)
    rng = np.random.default_rng(seed)
    communes = communes.assign(score=rng.uniform(0, 60, len(communes)))
    communes[["code_commune", "population", "code_departement", "code_region", "score"]].to_csv(
        path, index=False
    )
    return path


@pytest.fixture(scope="module")
def demo_build(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("consultation")
    engagement = engagement_table(root / "communes.csv")
    return build_consultation(
        demo=True, build_root=root / "build", engagement_path=engagement, **SMALL
    )


def pdf_pages(path: Path) -> list[str]:
    require_tool("pdftotext")
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [page for page in text.split("\f") if page.strip()]


def test_demo_builds_and_renders(demo_build) -> None:
    out = demo_build.dir
    for name in ("propositions", "agenda_consensus", "agenda_controverses", "agenda_rejets", "zones",
                 "desaccords", "themes", "lexique", "classement", "territoires_departements",
                 "territoires_regions", "correlations", "territoire_hauts-de-france"):  # fmt: skip
        assert (out / "tables" / f"{name}.csv").is_file(), name
    assert (out / "work" / "quarantine.csv").is_file() and (
        out / "raw" / "demo_provenance.json"
    ).is_file()
    assert set(demo_build.publications) == {"pdf", "html"}
    pages = pdf_pages(demo_build.publications["pdf"])
    assert len(pages) >= 5
    assert all(DEMO_MARK in page for page in pages)
    text = " ".join(" ".join(pages).split())
    for heading in ("Les consensus", "Les controverses", "Les rejets", "Deux lectures des zones",
                    "Classer les propositions", "Thèmes", "Territoires", "Méthode et limites"):  # fmt: skip
        assert heading in text
    top = pd.read_csv(out / "tables" / "agenda_consensus.csv").iloc[0]["content"]
    assert " ".join(top.split()[:6]) in text
    html = demo_build.publications["html"].read_text(encoding="utf-8")
    assert DEMO_MARK in html and "{{<" not in html


def test_counts_reconcile_and_manifest(demo_build) -> None:
    out = demo_build.dir
    manifest = json.loads((out / "manifest.json").read_text())
    summary = manifest["summary"]
    assert (
        summary["rows_read"]
        == summary["accepted"] + summary["quarantined"]
        == SMALL["demo_proposals"] + 1
    )
    assert summary["quarantined"] == 2 == len(pd.read_csv(out / "work" / "quarantine.csv"))
    propositions = pd.read_csv(out / "tables" / "propositions.csv")
    assert len(propositions) == summary["accepted"] and propositions["id"].is_unique
    assert sum(summary["zones_make"].values()) == summary["accepted"]
    zones = pd.read_csv(out / "tables" / "zones.csv").set_index("zone")
    assert zones.to_numpy().sum() == summary["accepted"]
    np.testing.assert_allclose(
        propositions[["p_consensus", "p_controversy", "p_rejection", "p_limbo"]].sum(axis=1), 1.0
    )
    themes = pd.read_csv(out / "tables" / "themes.csv")
    assert (
        themes["proposals"].sum() >= summary["accepted"]
        and themes["theme"].iloc[-1] == "non classé"
    )
    assert set(manifest["timings_seconds"]) >= {
        "read",
        "score",
        "themes",
        "ranking",
        "territories",
        "report",
        "render",
        "total",
    }
    assert manifest["mark"] == DEMO_MARK and manifest["parameters"]["seed"] == 20250601
    assert (
        len(manifest["engagement_input"]["sha256"]) == 64
        and manifest["engagement_input"]["column"] == "score"
    )
    for relative, digest in manifest["outputs"].items():
        assert len(digest) == 64 and (out / relative).is_file()
    correlations = pd.read_csv(out / "tables" / "correlations.csv")
    assert correlations["level"].tolist() == ["département", "région"]
    assert (correlations["low"] <= correlations["spearman_rho"]).all() and (
        correlations["spearman_rho"] <= correlations["high"]
    ).all()


def test_disclosure(demo_build) -> None:
    out = demo_build.dir
    assert scan_build(out) == []
    regions = pd.read_csv(
        out / "tables" / "territoires_regions.csv", dtype=str, keep_default_na=False
    )
    small = regions["proposals"].str.match(r"^\d+$") & regions["proposals"].str.match(
        r"^([1-9]|10)$"
    )
    assert not small.any()
    # The author's département of each proposal stays in work/ (confidential).
    published = pd.read_csv(out / "tables" / "propositions.csv")
    assert not {"author_department", "author_postal_code", "code_departement"} & set(
        published.columns
    )


def test_opendata_demo_never_discloses_authors(tmp_path: Path) -> None:
    result = build_consultation(demo=True, layout="opendata", build_root=tmp_path, **SMALL)
    assert result.layout == "opendata"
    raw = pd.read_csv(next((result.dir / "raw").glob("*.csv")), dtype=str, keep_default_na=False)
    ages = set(raw["age"]) - {""}
    pattern = re.compile("|".join(FIRST_NAMES))
    for path in result.dir.rglob("*"):
        if not path.is_file() or path.relative_to(result.dir).parts[0] == "raw":
            continue
        if path.suffix in (".csv", ".md", ".yml", ".json", ".qmd", ".html"):
            text = path.read_text(encoding="utf-8")
            assert not pattern.search(text), path
            if path.suffix == ".csv":
                header = text.splitlines()[0].split(",")
                assert "auteur" not in header and "age" not in header, path
    pages = " ".join(pdf_pages(result.publications["pdf"]))
    assert not pattern.search(pages)
    bands = pd.read_csv(result.dir / "tables" / "ages.csv", dtype=str)
    assert all(a == "< 11" or int(a) >= 11 for a in bands["authors"])
    assert ages  # the raw file does carry ages: they are what must not leak
    assert (result.dir / "tables" / "agenda_controverses.csv").is_file()


def test_reproducible(tmp_path: Path) -> None:
    first = build_consultation(
        demo=True, build_root=tmp_path / "a", render=False, demo_proposals=500, draws=200
    )
    second = build_consultation(
        demo=True, build_root=tmp_path / "b", render=False, demo_proposals=500, draws=200
    )
    for name in ("propositions", "classement", "themes"):
        assert (first.dir / "tables" / f"{name}.csv").read_bytes() == (
            second.dir / "tables" / f"{name}.csv"
        ).read_bytes()


def test_offline_renderer_without_report_projects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a publishing toolkit that has no report projects, the agenda is rendered by the
    offline renderer directly, the date in its front matter."""
    from barometre.publish import render as toolkit

    monkeypatch.delattr(toolkit, "write_report_project", raising=False)
    result = build_consultation(demo=True, build_root=tmp_path, demo_proposals=300, draws=100)
    assert result.renderer == "offline" and not (result.dir / "report" / "_quarto.yml").exists()
    pages = pdf_pages(result.publications["pdf"])
    assert all(DEMO_MARK in page for page in pages) and "30 juin 2025" in pages[0]


def test_options_and_errors(tmp_path: Path) -> None:
    with pytest.raises(ConsultationBuildError, match="either an input file or --demo"):
        build_consultation(build_root=tmp_path)
    with pytest.raises(ConsultationBuildError, match="unknown territory"):
        build_consultation(demo=True, build_root=tmp_path, territory="99", render=False, **SMALL)
    bad = tmp_path / "communes.csv"
    pd.DataFrame({"code_departement": ["59"], "population": [1]}).to_csv(bad, index=False)
    with pytest.raises(ConsultationBuildError, match="lacks the columns"):
        build_consultation(
            demo=True, build_root=tmp_path, engagement_path=bad, render=False, **SMALL
        )


def test_cli_build(tmp_path: Path) -> None:
    result = runner.invoke(app, ["consultation", "build", "--demo", "--build-root", str(tmp_path), "--no-render",
                                 "--demo-proposals", "600", "--draws", "200", "--territory", "59,62"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "zones (Make-compatible)" in result.output and "timings:" in result.output
    out = tmp_path / "demo-mieux-vivre-en-ville"
    assert (out / "tables" / "territoire_nord-pas-de-calais.csv").is_file()
    # the demo's own file, given as an input, builds the same way
    again = runner.invoke(app, ["consultation", "build", "--input", str(out / "raw" / "consultation_demo_counts.csv"),
                                "--build-root", str(tmp_path), "--no-render", "--draws", "200"])  # fmt: skip
    assert again.exit_code == 0, again.output
    assert (tmp_path / "consultation-demo-counts" / "tables" / "propositions.csv").is_file()
    for args, message in [
        ([], "error: give either --input FILE or --demo"),
        (["--demo", "--territory", "xx"], "error: unknown territory 'xx'"),
        (
            ["--input", str(tmp_path / "none.csv")],
            "error: consultation: file none.csv: file not found",
        ),
        (["--demo", "--method", "exact"], "error: --method must be mc or quadrature"),
        (["--demo", "--renderer", "word"], "error: --renderer must be auto, quarto or offline"),
    ]:
        failed = runner.invoke(
            app, ["consultation", "build", "--build-root", str(tmp_path), "--no-render", *args]
        )
        assert failed.exit_code == 2, (args, failed.output)
        assert failed.output.strip().startswith(message) and "Traceback" not in failed.output
