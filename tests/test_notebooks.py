"""The notebooks are first-class sources: numbered in run order, paired with a plain-text twin
(jupytext percent format), committed without outputs, their parameters equal to their step's,
and runnable from ``notebooks/`` (as Jupyter runs them) with the build's results."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from barometre.config import PROJECT_ROOT, edition_path, load_edition, project_path
from barometre.edition import edition_steps
from barometre.pipeline import (
    NOTEBOOK_DIR,
    PipelineError,
    Step,
    check_notebook_parameters,
    run_steps,
)

ROOT = Path(__file__).resolve().parents[1]
BARO = Path(sys.executable).parent / "barometre"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def tracked_notebooks() -> list[Path]:
    """Every ``.ipynb`` under version control (the notebooks folder when git cannot tell)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return NOTEBOOKS
    return [ROOT / name for name in listed if (ROOT / name).is_file()]


def all_steps(edition: int) -> list[Step]:
    """The steps of a full build of ``edition`` (with a previous edition when it has one)."""
    config = load_edition(edition)
    previous = Path("build/previous") if config.previous_edition else None
    return edition_steps(
        config, edition_path(edition), Path("build/x"), True, None, None, previous_dir=previous
    )


def test_project_root_is_found_and_relative_paths_resolve_from_it(tmp_path, monkeypatch):
    assert (PROJECT_ROOT / "pyproject.toml").is_file() and PROJECT_ROOT == ROOT
    monkeypatch.chdir(tmp_path)  # wherever the kernel runs
    assert project_path("build/2024") == ROOT / "build" / "2024"
    assert project_path(tmp_path / "b") == tmp_path / "b"
    assert load_edition("config/editions/2024.yml").edition == 2024
    assert load_edition(Path("config/editions/2025.yml")).edition == 2025


def test_committed_notebooks_have_no_outputs():
    assert len(tracked_notebooks()) >= len(NOTEBOOKS) > 0
    for path in tracked_notebooks():
        notebook = json.loads(path.read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, (
                    path.name,
                    cell["id"],
                )
            assert "execution" not in cell["metadata"] and "papermill" not in cell["metadata"], (
                path.name
            )
        assert "papermill" not in notebook["metadata"], f"{path.name} is an executed copy"


def _cells(notebook) -> list[tuple[str, str, list[str]]]:
    return [
        (c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))) for c in notebook.cells
    ]


def test_notebooks_are_paired_with_their_plain_text_twin_and_in_sync():
    """Edit either file; `jupytext --sync notebooks/<name>.ipynb` (or Jupyter with jupytext)
    brings the other one up to date. A twin left behind fails here."""
    jupytext = pytest.importorskip("jupytext")
    twins = sorted(NOTEBOOK_DIR.glob("*.py"))
    assert [p.stem for p in twins] == [p.stem for p in NOTEBOOKS]
    for path in NOTEBOOKS:
        notebook = jupytext.read(path)
        assert notebook.metadata["jupytext"]["formats"] == "ipynb,py:percent", path.name
        twin = jupytext.read(path.with_suffix(".py"))
        assert _cells(twin) == _cells(notebook), (
            f"{path.name} and its .py differ: run `jupytext --sync notebooks/{path.name}`"
        )


def test_notebooks_are_numbered_in_run_order():
    used = []
    for edition in (2024, 2025):
        names = [s.notebook for s in all_steps(edition) if s.notebook]
        numbers = [int(re.match(r"(\d\d)_", name).group(1)) for name in names]
        assert numbers == sorted(numbers), names
        used += names
    assert sorted(set(used)) == [p.name for p in NOTEBOOKS]
    assert [int(p.name[:2]) for p in NOTEBOOKS] == list(range(1, len(NOTEBOOKS) + 1))


def test_every_step_declares_exactly_its_notebook_parameters():
    for edition in (2024, 2025):
        for step in all_steps(edition):
            check_notebook_parameters(step)


def test_the_runner_refuses_a_parameter_mismatch_before_running_anything(tmp_path):
    step = next(s for s in all_steps(2024) if s.notebook == "03_composite.ipynb")
    calls = []
    first = Step("first", "first", inputs=[], outputs=[], func=lambda build_dir: calls.append(1))
    extra = Step(
        step.name,
        step.title,
        step.inputs,
        step.outputs,
        {**step.params, "alpha": 0.1},
        notebook=step.notebook,
    )
    with pytest.raises(PipelineError, match=r"declared by the step but absent .*\['alpha'\]"):
        run_steps([first, extra], tmp_path)
    missing = Step(
        step.name,
        step.title,
        step.inputs,
        step.outputs,
        {k: v for k, v in step.params.items() if k != "demo"},
        notebook=step.notebook,
    )
    with pytest.raises(PipelineError, match=r"not declared by the step: \['demo'\]"):
        run_steps([first, missing], tmp_path)
    assert calls == []


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_each_notebook_runs_from_the_notebooks_folder_and_gives_the_builds_results(tmp_path):
    """As a researcher in Jupyter after a build: the kernel runs in ``notebooks/``, the
    ``edition_config`` default is relative (``config/editions/2024.yml``) and ``build_dir`` is
    given relative to the project root. Re-running every notebook in order rewrites exactly the
    build's outputs, byte for byte."""
    import papermill as pm

    departments = "60"  # Oise: in region 32, so the territorial notebook runs too
    command = [
        str(BARO),
        "build",
        "--edition",
        "2024",
        "--demo",
        "--departments",
        departments,
        "--build-root",
        str(tmp_path),
        "--runs",
        "300",
        "--renderer",
        "offline",
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    build_dir = tmp_path / f"2024-dep-{departments}"
    manifest = json.loads((build_dir / "manifest.json").read_text(encoding="utf-8"))
    steps = [s for s in manifest["steps"] if s["notebook"]]
    assert {s["notebook"] for s in steps} == {p.name for p in NOTEBOOKS}
    relative_build = os.path.relpath(build_dir, ROOT)  # from the project root, not notebooks/
    for step in steps:
        parameters = {k: v for k, v in step["params"].items() if k != "edition_config"}
        pm.execute_notebook(
            str(NOTEBOOK_DIR / step["notebook"]),
            str(tmp_path / step["notebook"]),
            parameters={"build_dir": relative_build, **parameters},
            cwd=str(NOTEBOOK_DIR),
            kernel_name="python3",
            progress_bar=False,
            kernel_manager_class="barometre.pipeline.IPCKernelManager",
        )
    outputs = {
        name: digest
        for name, digest in manifest["outputs"].items()
        if any(
            name == o or name.startswith(o.rstrip("/") + "/") for s in steps for o in s["outputs"]
        )
    }
    assert len(outputs) > 50
    changed = sorted(name for name, digest in outputs.items() if sha256(build_dir / name) != digest)
    assert changed == []
