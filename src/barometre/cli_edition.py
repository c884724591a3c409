"""The work behind ``barometre build`` and ``barometre territory``: progress lines, reuse or
build of an edition's build folder, and what the commands print at the end."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from barometre import catalogue

if TYPE_CHECKING:
    from rich.console import Console

    from barometre.config import EditionConfig


def step_printer(console: Console) -> Callable[[Any, str], None]:
    """A progress callback for :func:`~barometre.edition.build_edition`: one line when a step
    starts, is done (with its seconds) or is skipped as unchanged."""
    started: dict[str, float] = {}

    def on_step(step: Any, status: str) -> None:  # progress display per step
        if status == "running":
            started[step.name] = time.perf_counter()
            console.print(f"[bold]▶ {step.name}[/bold] — {step.title} …")
        elif status == "done":
            console.print(f"  ✓ {step.name} ({time.perf_counter() - started[step.name]:.1f} s)")
        else:
            console.print(f"  ↷ {step.name}: unchanged, skipped")

    return on_step


def print_edition(console: Console, result: Any) -> None:
    """The closing lines of ``build``: time, skipped steps, publications, renderer, manifest."""
    skipped = [r.name for r in result.records if r.status == "skipped"]
    console.print(
        f"edition {result.config.edition} built in {result.seconds:.1f} s"
        + (f" (skipped: {', '.join(skipped)})" if skipped else "")
    )
    for name, path in result.publications.items():
        console.print(f"  {name}: {path}")
    used = json.loads(result.manifest.read_text(encoding="utf-8")).get("renderer") or {}
    console.print(f"  rendered with: {used.get('name')} {used.get('version')}")
    console.print(f"  manifest: {result.manifest}")


def built_on_demo(build_dir: Path) -> bool | None:
    """Whether the build in ``build_dir`` was made on demo data (``None``: no manifest, or
    none saying so)."""
    manifest = build_dir / "manifest.json"
    if not manifest.is_file():
        return None
    return json.loads(manifest.read_text(encoding="utf-8")).get("config", {}).get("demo")


def ensure_edition_build(
    config_file: Path,
    config: EditionConfig,
    *,
    demo: bool,
    raw_dir: Path | None,
    departments: list[str] | None,
    build_root: Path | None,
    renderer: str,
) -> Path:
    """The edition's build folder for these départements, built first when it has no manifest
    or was built on the other kind of data (demo or real); says which on one line."""
    from barometre.config import PROJECT_ROOT
    from barometre.edition import build_dir_for, build_edition

    label = "dep-" + "-".join(departments) if departments else None
    build_dir = build_dir_for(config, build_root or PROJECT_ROOT / "build", label).resolve()
    built_demo = built_on_demo(build_dir)
    if built_demo is None or bool(built_demo) != demo:
        why = "not built yet" if built_demo is None else f"built on {'demo' if built_demo else 'real'} data"  # fmt: skip
        typer.echo(f"{build_dir} {why}: building edition {config.edition} first")
        build_edition(
            config_file,
            demo=demo,
            raw_dir=raw_dir,
            build_root=build_root,
            departments=departments,
            renderer=renderer,
        )
    else:
        typer.echo(f"reusing the build {build_dir}")
    return build_dir


def print_territory(place: Any, outputs: dict[str, Any]) -> None:
    """The closing lines of ``territory``: the report's folder, files and exports."""
    typer.echo(f"territory {place.spec} ({place.name}): {outputs['dir']}")
    for role in ("pdf", "html", "csv", "xlsx"):
        if role in outputs:
            typer.echo(f"  {role}: {outputs[role]}")
    extra = sorted(r for r in outputs if r.startswith("qpv_"))
    exports = catalogue.member("territory.exports", of="territory", slug=place.slug)
    if extra:
        typer.echo(
            f"  politique de la ville exports: {len(extra)} files in {outputs['dir'] / exports}"
        )
