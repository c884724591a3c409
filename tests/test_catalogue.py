"""The catalogue of artefacts (``config/artefacts.yml``): its content and API, the steps declared
by its keys (and refused when they contradict it), the runner's refusal of undeclared reads, and
no build-folder path literal left in ``src/`` outside the catalogue."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from barometre import catalogue, guard
from barometre.catalogue import Catalogue, CatalogueError, load_catalogue, read_catalogue
from barometre.config import PROJECT_ROOT, edition_path, load_edition
from barometre.edition import edition_steps
from barometre.edition.declare import DeclarationError, declare, ref, validate_steps
from barometre.pipeline import PipelineError, Step, run_steps

SRC = PROJECT_ROOT / "src" / "barometre"


def steps_of(edition: int, departments=None) -> list[Step]:
    config = load_edition(edition)
    previous = Path("build/previous") if config.previous_edition else None
    return edition_steps(
        config,
        edition_path(edition),
        Path("build/x"),
        True,
        None,
        departments,
        previous_dir=previous,
    )


# --- the catalogue ------------------------------------------------------------------------


def test_every_artefact_is_declared_once_with_its_producing_step():
    cat = load_catalogue()
    assert len(cat.artefacts) >= 50
    assert set(cat.published()) | set(cat.confidential()) == set(cat.artefacts)
    assert all(k.startswith(("work.", "raw")) for k in cat.confidential())
    assert not any(k.startswith("work.") for k in cat.published())
    step_names = {s.name for e in (2024, 2025) for s in steps_of(e)}
    for key, artefact in cat.artefacts.items():
        step = cat.step_of(key, slug="region-32-hauts-de-france")
        assert step in step_names | {"editions"}, (key, step)
        assert artefact.description


def test_path_api():
    build = Path("/b")
    assert catalogue.path(build, "tables.palmares") == build / "tables" / "palmares.csv"
    assert catalogue.path(build, "territory.exports", slug="x") == build / "territories/x/exports"
    assert catalogue.path(build, "reference.geo") == PROJECT_ROOT / "data" / "reference" / "geo"
    assert catalogue.path(build, "reference.cog", cog_year=2024).name == "cog2024"
    assert catalogue.key_columns("tables.palmares") == [
        "population_class",
        "status",
        "code_commune",
    ]
    assert catalogue.key_columns("tables.yoy_laureates") is None
    assert catalogue.member("territory.tables", "territory", slug="x") == "tables"
    assert set(catalogue.produced_by("palmares")) == {
        "work.palmares_decision",
        "tables.palmares",
        "tables.palmares_awards",
        "tables.communes",
    }
    assert "territory.exports" in catalogue.produced_by("territory_region-32-hauts-de-france")
    assert "tables.palmares" in catalogue.published()
    assert "work.commune_counts" not in catalogue.published()
    with pytest.raises(CatalogueError, match="not declared"):
        catalogue.path(build, "tables.nope")
    with pytest.raises(CatalogueError, match=r"needs the field\(s\) \['slug'\]"):
        catalogue.path(build, "territory.exports")
    with pytest.raises(CatalogueError, match="not inside"):
        catalogue.member("tables.palmares", "territory", slug="x")


def test_an_invalid_catalogue_is_refused(tmp_path):
    data = {
        "inputs": {},
        "artefacts": {
            "a": {"path": "t/a.csv", "kind": "table", "step": "s", "confidentiality": "work",
                  "description": "a"},
            "b": {"path": "t/a.csv", "kind": "table", "step": "s", "confidentiality": "work",
                  "description": "b"},
        },
    }  # fmt: skip
    path = tmp_path / "artefacts.yml"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CatalogueError, match="share the path t/a.csv"):
        read_catalogue(path)
    data["artefacts"]["b"] |= {"path": "t/b", "kind": "folder", "key": ["x"]}
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CatalogueError, match="only a table has key columns"):
        read_catalogue(path)
    data["artefacts"]["b"] |= {"confidentiality": "secret", "key": None}
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CatalogueError, match="confidentiality"):
        read_catalogue(path)


def test_the_tables_written_by_the_steps_have_the_catalogues_key(tmp_path):
    import pandas as pd

    table = pd.DataFrame({"population_class": ["a", "a"], "status": ["L", "L"],
                          "code_commune": ["1", "1"]})  # fmt: skip
    with pytest.raises(Exception, match="duplicate|duplicated"):
        catalogue.save(table, tmp_path, "tables.palmares")
    written = catalogue.save(table.iloc[:1], tmp_path, "tables.palmares")
    assert written == tmp_path / "tables" / "palmares.csv"
    assert catalogue.read(tmp_path, "tables.palmares")["code_commune"].tolist() == ["1"]


# --- steps declared by key ----------------------------------------------------------------


def test_the_edition_steps_are_declared_by_catalogue_keys():
    for edition in (2024, 2025):
        steps = steps_of(edition)
        validate_steps(steps)
        by_name = {s.name: s for s in steps}
        publication = by_name["publication"]
        # the reads the publication step did without declaring them (issue 14)
        for entry in ("work/stages/treatment_details.csv", "tables/eligibility.csv",
                      "tables/rates_effect.csv", "raw"):  # fmt: skip
            assert entry in publication.inputs, entry
        assert catalogue.path("", "reference.geo") in publication.inputs
        render = by_name["render"]
        assert catalogue.path("", "templates") in render.inputs
        assert catalogue.path("", "report.sources") in render.inputs
        for step in steps:
            produced = catalogue.produced_by(step.name)
            for out in step.output_refs:
                assert out.key in produced, (step.name, out.key)
    steps = {s.name: s for s in steps_of(2025)}
    assert steps["editions"].outputs == [
        "tables/departmental_palmares.csv",
        "tables/yoy_rank_changes.csv",
        "tables/yoy_laureates.csv",
    ]


def test_a_step_declaring_another_steps_output_is_refused():
    build = Path("build/x")
    steps = [
        declare(build, "composite", "c", [], [ref("work.communes")], {}, func=print),
        declare(build, "palmares", "p", [ref("work.communes")], [ref("work.communes")], {},
                func=print),
    ]  # fmt: skip
    with pytest.raises(
        DeclarationError,
        match=r"step 'palmares' declares output 'work.communes', which config/artefacts.yml "
        r"says step 'composite' produces",
    ):
        validate_steps(steps)


def test_a_step_reading_what_no_earlier_step_produces_is_refused():
    build = Path("build/x")
    steps = [
        declare(build, "palmares", "p", [ref("work.communes")], [ref("tables.palmares")], {},
                func=print),
        declare(build, "composite", "c", [], [ref("work.communes")], {}, func=print),
    ]  # fmt: skip
    with pytest.raises(
        DeclarationError,
        match=r"step 'palmares' reads 'work.communes' \(work/communes.csv\), which no earlier "
        r"step produces \(config/artefacts.yml: step 'composite'\)",
    ):
        validate_steps(steps)
    # external inputs and another build's artefacts need no earlier step
    validate_steps(
        [
            declare(build, "palmares", "p",
                    [ref("reference.geo"), ref("tables.communes", build=Path("/prev"))],
                    [ref("tables.palmares")], {}, func=print)
        ]
    )  # fmt: skip
    with pytest.raises(DeclarationError, match="output 'reference.geo' is not an artefact"):
        validate_steps([declare(build, "s", "s", [], [ref("reference.geo")], {}, func=print)])


# --- the runner refuses undeclared reads --------------------------------------------------


def _read_step(name: str, relative: str, inputs: list[str], swallow: bool = False) -> Step:
    def read(build_dir: Path) -> None:
        try:
            (build_dir / relative).read_text(encoding="utf-8")
        except guard.UndeclaredRead:
            if not swallow:
                raise
        (build_dir / "out.txt").write_text("done", encoding="utf-8")

    return Step(name, name, inputs=inputs, outputs=["out.txt"], func=read)


def test_a_function_step_reading_an_undeclared_build_file_fails(tmp_path):
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "secret.csv").write_text("a\n1\n", encoding="utf-8")
    (tmp_path / "tables" / "declared.csv").write_text("a\n1\n", encoding="utf-8")
    run_steps([_read_step("reads", "tables/declared.csv", ["tables/declared.csv"])], tmp_path)
    run_steps([_read_step("folder", "tables/secret.csv", ["tables"])], tmp_path, force=True)
    message = r"step 'sneaky' read tables/secret.csv, which it does not declare as an input"
    with pytest.raises(PipelineError, match=message):
        run_steps([_read_step("sneaky", "tables/secret.csv", ["tables/declared.csv"])], tmp_path)
    # a step that catches the error still fails
    with pytest.raises(PipelineError, match=r"step 'quiet' read build files .*tables/secret.csv"):
        run_steps(
            [_read_step("quiet", "tables/secret.csv", ["tables/declared.csv"], swallow=True)],
            tmp_path,
        )
    # outside a step nothing is guarded; files outside the build folder are not guarded
    assert (tmp_path / "tables" / "secret.csv").read_text(encoding="utf-8")
    assert guard._active is None


def _notebook(path: Path, relative: str) -> None:
    """A two-cell notebook (nbformat 4): a ``build_dir`` parameters cell, then a read of
    ``relative`` under it copied to ``out.txt``."""

    def cell(source: str, tags: list[str]) -> dict:
        return {"cell_type": "code", "execution_count": None, "id": f"c{len(tags)}",
                "metadata": {"tags": tags}, "outputs": [], "source": source}  # fmt: skip

    body = (
        "from pathlib import Path\nimport barometre\n"
        f"text = (Path(build_dir) / {relative!r}).read_text()\n"
        "(Path(build_dir) / 'out.txt').write_text(text)"
    )
    notebook = {
        "cells": [cell('build_dir = "build"', ["parameters"]), cell(body, [])],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip
    path.write_text(json.dumps(notebook), encoding="utf-8")


@pytest.mark.slow
def test_a_notebook_step_reading_an_undeclared_build_file_fails(tmp_path, monkeypatch):
    from barometre import pipeline

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _notebook(notebooks / "reads.ipynb", "tables/secret.csv")
    monkeypatch.setattr(pipeline, "NOTEBOOK_DIR", notebooks)
    build = tmp_path / "build"
    (build / "tables").mkdir(parents=True)
    (build / "tables" / "secret.csv").write_text("a\n1\n", encoding="utf-8")
    declared = Step("declared", "d", ["tables/secret.csv"], ["out.txt"], notebook="reads.ipynb")
    run_steps([declared], build)
    assert (build / "out.txt").read_text() == "a\n1\n"
    sneaky = Step("sneaky", "s", [], ["out.txt"], notebook="reads.ipynb")
    with pytest.raises(
        PipelineError,
        match=r"UndeclaredRead: step 'sneaky' read tables/secret.csv, which it does not declare",
    ):
        run_steps([sneaky], build, force=True)
    assert guard.ENV_VAR not in __import__("os").environ


# --- no build-folder path literal outside the catalogue ------------------------------------

#: Modules other helpers are refactoring while the catalogue lands (issue 14): their path
#: literals are converted after the merge, and the list shrinks to nothing.
ALLOWED_LITERALS = {
    # a consultation build has its own layout (raw/, work/, tables/, report/), not an edition's
    "consultation/agenda.py",
    "consultation/build.py",
    "consultation/cli.py",
    "consultation/stages.py",
    # the renderer renders any report folder (an edition's, a territory's, a consultation's):
    # its variables file is Quarto's project convention, not an edition artefact
    "publish/render/offline.py",
}


def _catalogue_names() -> tuple[set[str], set[str]]:
    """The build paths of the catalogue and the folder/file names they are made of."""
    cat = load_catalogue()
    paths = {a.path for a in cat.artefacts.values() if "{" not in a.path}
    parts = {part for a in cat.artefacts.values() for part in a.path.split("/") if "{" not in part}
    return paths, parts


def build_path_literals(source: str) -> list[tuple[int, str]]:
    """String literals of ``source`` that spell a build path of the catalogue: a whole path
    (``tables/palmares.csv``), a file name of one (``palmares.csv``), or a folder name joined
    with ``/`` (``build_dir / "work"``). Lines marked ``# catalogue: legacy`` are skipped."""
    paths, parts = _catalogue_names()
    files = {p for p in parts if re.search(r"\.(csv|parquet|json|png|md|yml|xlsx|qmd)$", p)}
    tree = ast.parse(source)
    joined = {
        id(side)
        for node in ast.walk(tree)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)
        for side in (node.left, node.right)
    }
    lines = source.splitlines()
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        value = node.value.strip("/")
        if "# catalogue: legacy" in lines[node.lineno - 1]:
            continue
        whole = value in paths and ("/" in value or "." in value)  # not a bare "raw" or "figures"
        if (
            whole
            or value in files
            or (id(node) in joined and value in parts)
            or value.split("/")[0] in {"work", "tables", "territories"}
            and re.fullmatch(r"[\w.{}-]+/[\w./{}-]+", value)
        ):
            found.append((node.lineno, node.value))
    return found


def test_the_detector_finds_build_path_literals():
    source = (
        'a = build / "work" / "communes.csv"\nb = "tables/palmares.csv"\nc = x / "tables"\n'
        'd = {"tables": 1}\ne = "raw"\nf = "work/palmares.csv"  # catalogue: legacy\n'
    )
    assert sorted(build_path_literals(source)) == [
        (1, "communes.csv"),
        (1, "work"),
        (2, "tables/palmares.csv"),
        (3, "tables"),
    ]


def test_no_build_path_literal_in_src_outside_the_catalogue():
    offenders = {}
    for path in sorted(SRC.rglob("*.py")):
        name = path.relative_to(SRC).as_posix()
        if name in ALLOWED_LITERALS or name == "catalogue.py":
            continue
        found = build_path_literals(path.read_text(encoding="utf-8"))
        if found:
            offenders[name] = found
    assert offenders == {}, "use barometre.catalogue (config/artefacts.yml) instead"
    # the allow-list names only modules that still have literals (shrink it when they go)
    stale = [n for n in ALLOWED_LITERALS if not build_path_literals((SRC / n).read_text("utf-8"))]
    assert stale == []


def test_the_catalogue_model_is_the_projects_file():
    assert isinstance(load_catalogue(), Catalogue)
    assert catalogue.CATALOGUE_FILE == PROJECT_ROOT / "config" / "artefacts.yml"


def test_only_reads_of_existing_content_are_guarded():
    import os

    assert guard._is_read("r", None) and guard._is_read("rb", None) and guard._is_read("r+", None)
    assert not guard._is_read("w", None) and not guard._is_read("w+b", None)
    assert not guard._is_read("a", None) and not guard._is_read("x", None)
    assert guard._is_read(None, os.O_RDONLY) and guard._is_read(None, os.O_RDWR)
    # a temporary file created next to an output (atomic writes) is not a read
    assert not guard._is_read(None, os.O_RDWR | os.O_CREAT | os.O_EXCL)
    assert not guard._is_read(None, os.O_WRONLY)
