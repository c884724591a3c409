"""The declared pipeline: steps rerun exactly when their inputs, parameters or code change."""

from __future__ import annotations

from pathlib import Path

from barometre.config import edition_path, load_edition
from barometre.edition import edition_steps
from barometre.pipeline import PACKAGE_DIR, Step, run_steps


def copy_step(build_dir: Path, suffix: str) -> None:
    text = (build_dir / "in.txt").read_text()
    (build_dir / "out.txt").write_text(text + suffix)


def test_skip_and_rerun_rules(tmp_path):
    (tmp_path / "in.txt").write_text("a")
    calls = []

    def step(build_dir: Path, suffix: str) -> None:
        calls.append(suffix)
        copy_step(build_dir, suffix)

    def make(suffix: str) -> list[Step]:
        return [
            Step(
                "copy",
                "copy",
                inputs=["in.txt"],
                outputs=["out.txt"],
                params={"suffix": suffix},
                func=step,
            )
        ]

    assert [r.status for r in run_steps(make("!"), tmp_path)] == ["ran"]
    assert [r.status for r in run_steps(make("!"), tmp_path)] == ["skipped"]
    (tmp_path / "in.txt").write_text("b")  # input changed
    assert [r.status for r in run_steps(make("!"), tmp_path)] == ["ran"]
    assert [r.status for r in run_steps(make("?"), tmp_path)] == ["ran"]  # parameter changed
    (tmp_path / "out.txt").unlink()  # output gone
    assert [r.status for r in run_steps(make("?"), tmp_path)] == ["ran"]
    assert (tmp_path / "out.txt").read_text() == "b?"
    assert calls == ["!", "!", "?", "?"]


def test_a_step_hashes_only_the_code_it_can_run():
    config = load_edition(2024)
    steps = {
        s.name: s
        for s in edition_steps(config, edition_path(2024), Path("build/x"), True, None, None)
    }
    relative = {
        name: {str(p.relative_to(PACKAGE_DIR)) for p in step.code_files()}
        for name, step in steps.items()
    }
    assert (
        "indicators.py" in relative["indicators"]
        and "smallarea/eligibility.py" in relative["indicators"]
    )
    assert not any(p.startswith("robustness/") for p in relative["indicators"])
    assert "robustness/model.py" in relative["robustness"]
    assert "composite/engine.py" in relative["composite"]
    assert "publish/artefacts.py" in relative["publication"]
    assert "publish/artefacts.py" not in relative["composite"]
