"""``barometre consultation …``: the consultation lens on the command line.

``barometre consultation score INPUT.csv --out OUT.csv [--weight 0.5]`` (a contract): one row
per proposal with the Make-compatible columns (:data:`~scoring.MAKE_COLUMNS`) then the honest
ones (:data:`~scoring.HONEST_COLUMNS`). Errors a user can fix print one line ``error: …`` and
exit with 2 (3 for an unexpected failure), never a traceback.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from barometre.io import atomic_path

consultation_app = typer.Typer(
    help="Consultation lens: a Make.org-style consultation (proposals, votes, qualifications) "
    "scored, ranked and crossed with local engagement.",
    no_args_is_help=True,
)


def _fail(message: str, code: int = 2) -> None:
    from barometre.cli import fail  # imported late: barometre.cli imports this module

    fail(message, code)


def write_csv_atomic(table: pd.DataFrame, out: Path) -> None:
    """Write ``table`` to ``out`` through a temporary file of the same folder (no half-written
    file if interrupted)."""
    with atomic_path(Path(out)) as tmp:
        table.to_csv(tmp, index=False, lineterminator="\n")


@consultation_app.command("score")
def score_command(
    input_path: Annotated[
        Path,
        typer.Argument(
            metavar="INPUT.csv",
            help="A consultation in the counts layout (CSV or Parquet; data/README.md).",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="CSV to write: one row per proposal.")],
    weight: Annotated[
        float,
        typer.Option(
            "--weight",
            help="Weight of the verified counter in the Make-compatible scores (the sequence counter gets 1 − weight).",
        ),
    ] = 0.5,
    counter: Annotated[
        str,
        typer.Option(
            "--counter", help="Counter of the honest zone probabilities: sequence or verified."
        ),
    ] = "sequence",
    prior: Annotated[
        float, typer.Option("--prior", help="Dirichlet prior per share (honest scoring).")
    ] = 1.0 / 3.0,
    draws: Annotated[
        int, typer.Option("--draws", help="Monte Carlo draws per proposal (honest scoring).")
    ] = 4000,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the random generator (honest scoring).")
    ] = 20250601,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="Zone probabilities by 'mc' (seeded simulation) or 'quadrature' (deterministic).",
        ),
    ] = "mc",
    quarantine: Annotated[
        Path | None,
        typer.Option(
            "--quarantine",
            help="Write the quarantined rows (CSV, with their reasons) to this path.",
        ),
    ] = None,
    max_quarantine_share: Annotated[
        float,
        typer.Option(
            "--max-quarantine-share",
            help="Share of quarantined rows above which the file is unusable.",
        ),
    ] = 0.10,
) -> None:
    """Score every proposal: Make-compatible scores, half-widths and zone, and the posterior
    probability of each zone.

    Columns: id, n_votes, agree, disagree, neutral, top_score, top_score_ci, controversy,
    controversy_ci, rejection, rejection_ci, neutral_ci, zone (consensus / controversy /
    rejection / limbo), then p_consensus, p_controversy, p_rejection, p_limbo, zone_probable.
    """
    from barometre.consultation.readers import detect_layout, read_counts
    from barometre.consultation.scoring import score_consultation, zone_crosstab
    from barometre.sources import SourceError

    started = time.perf_counter()
    if not 0.0 <= weight <= 1.0:
        _fail(f"--weight must be between 0 and 1 (got {weight})")
    if counter not in ("sequence", "verified"):
        _fail(f"--counter must be sequence or verified (got {counter!r})")
    if method not in ("mc", "quadrature"):
        _fail(f"--method must be mc or quadrature (got {method!r})")
    if draws < 1:
        _fail(f"--draws must be at least 1 (got {draws})")
    if not prior > 0:
        _fail(f"--prior must be positive (got {prior})")
    try:
        if detect_layout(input_path) == "opendata":
            _fail(
                f"{input_path.name} is in the open-data layout (proposition, votes, adhesion…), "
                "which carries no disagree / neutral / qualification counts: Make scores need "
                "the counts layout (see data/README.md)"
            )
        consultation = read_counts(input_path, max_quarantine_share=max_quarantine_share)
        read_seconds = time.perf_counter() - started
        scored = score_consultation(
            consultation.proposals, weight=weight, counter=counter, prior=prior, draws=draws,
            seed=seed, method=method,
        )  # fmt: skip
        write_csv_atomic(scored, out)
        if quarantine is not None:
            write_csv_atomic(consultation.quarantine, quarantine)
    except typer.Exit:
        raise
    except SourceError as err:
        _fail(f"consultation: {err}")
    except (ValueError, OSError) as err:
        _fail(str(err))
    except Exception as err:  # noqa: BLE001 - one line, never a traceback
        _fail(f"unexpected failure while scoring {input_path.name}: {type(err).__name__}: {err}", code=3)  # fmt: skip
    for line in consultation.lines():
        typer.echo(line)
    table = zone_crosstab(scored)
    typer.echo(
        "zones (rows: Make-compatible, on point scores; columns: most probable under the posterior):"
    )
    for line in table.to_string().splitlines():
        typer.echo(f"  {line}")
    typer.echo(
        f"scored {len(scored):,} proposals in {time.perf_counter() - started:.2f} s "
        f"(reading {read_seconds:.2f} s); wrote {out}"
    )


@consultation_app.command("build")
def build_command(
    input_path: Annotated[
        Path | None, typer.Option("--input", help="The consultation export (CSV or Parquet).")
    ] = None,
    layout: Annotated[
        str | None,
        typer.Option(
            "--layout",
            help="counts or opendata (default: recognised from the header; 'counts' for --demo).",
        ),
    ] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo", help="Build the seeded synthetic « Mieux vivre en ville » consultation."
        ),
    ] = False,
    name: Annotated[
        str | None,
        typer.Option(
            "--name", help="Folder name under the build root (default: from the file name)."
        ),
    ] = None,
    title: Annotated[
        str | None, typer.Option("--title", help="Name of the consultation in the agenda.")
    ] = None,
    build_root: Annotated[
        Path, typer.Option("--build-root", help="Root of the consultation builds.")
    ] = Path("build") / "consultation",
    engagement: Annotated[
        Path | None,
        typer.Option(
            "--engagement",
            help="A baromètre build's communes.csv (engagement per territory; --demo uses build/2024/tables/communes.csv when present).",
        ),
    ] = None,
    engagement_column: Annotated[
        str,
        typer.Option(
            "--engagement-column", help="Column of the communes table read as engagement."
        ),
    ] = "score",
    territory: Annotated[
        str,
        typer.Option(
            "--territory",
            help="Region code (32) or département codes (59,62) whose residents' top proposals are listed.",
        ),
    ] = "32",
    cog_year: Annotated[
        int, typer.Option("--cog-year", help="COG vintage of the populations.")
    ] = 2024,
    weight: Annotated[
        float,
        typer.Option(
            "--weight", help="Weight of the verified counter in the Make-compatible scores."
        ),
    ] = 0.5,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the zone probabilities and rank sets.")
    ] = 20250601,
    draws: Annotated[int, typer.Option("--draws", help="Monte Carlo draws per proposal.")] = 4000,
    method: Annotated[
        str, typer.Option("--method", help="Zone probabilities by 'mc' or 'quadrature'.")
    ] = "mc",
    demo_proposals: Annotated[
        int, typer.Option("--demo-proposals", help="Proposals of the demo consultation.")
    ] = 10_000,
    render: Annotated[
        bool, typer.Option("--render/--no-render", help="Render the agenda (PDF + HTML).")
    ] = True,
    renderer: Annotated[
        str,
        typer.Option(
            "--renderer", help="auto (Quarto when installed, else offline), quarto or offline."
        ),
    ] = "auto",
    max_quarantine_share: Annotated[
        float,
        typer.Option(
            "--max-quarantine-share",
            help="Share of quarantined rows above which the file is unusable.",
        ),
    ] = 0.10,
) -> None:
    """Build a consultation's tables and its « Agenda citoyen » (PDF + HTML) under
    <build-root>/<name>/: consensus, controversies, rejections (Make-compatible zones and their
    posterior probabilities), ranking with confidence sets, themes, territories crossed with the
    baromètre's engagement, method and limits."""
    from barometre.consultation.build import ConsultationBuildError, build_consultation
    from barometre.publish.render import RenderError
    from barometre.sources import SourceError

    if demo == (input_path is not None):
        _fail("give either --input FILE or --demo")
    if method not in ("mc", "quadrature"):
        _fail(f"--method must be mc or quadrature (got {method!r})")
    if renderer not in ("auto", "quarto", "offline"):
        _fail(f"--renderer must be auto, quarto or offline (got {renderer!r})")
    if renderer == "quarto" and render:
        from barometre.publish.render import quarto_available

        if not quarto_available():
            _fail(
                "--renderer quarto: quarto is not installed (not on PATH); use --renderer offline"
            )
    if not 0.0 <= weight <= 1.0:
        _fail(f"--weight must be between 0 and 1 (got {weight})")
    if draws < 1 or demo_proposals < 1:
        _fail("--draws and --demo-proposals must be at least 1")
    try:
        result = build_consultation(
            input_path, layout=layout, demo=demo, name=name, title=title, build_root=build_root,
            engagement_path=engagement, engagement_column=engagement_column, cog_year=cog_year,
            territory=territory, weight=weight, draws=draws, seed=seed, method=method,
            demo_proposals=demo_proposals, max_quarantine_share=max_quarantine_share, render=render,
            renderer=renderer,
        )  # fmt: skip
    except typer.Exit:
        raise
    except SourceError as err:
        _fail(f"consultation: {err}")
    except (ConsultationBuildError, ValueError, OSError) as err:
        _fail(str(err))
    except RenderError as err:
        _fail(f"rendering failed: {str(err).splitlines()[0]}", code=3)
    except Exception as err:  # noqa: BLE001 - one line, never a traceback
        _fail(f"unexpected failure of the consultation build: {type(err).__name__}: {err}", code=3)
    s = result.summary
    typer.echo(
        f"consultation ({result.layout} layout{', synthetic demo' if result.demo else ''}): "
        f"{s['rows_read']:,} rows read, {s['accepted']:,} proposals, {s['quarantined']:,} quarantined"
    )
    if "zones_make" in s:
        typer.echo(
            "zones (Make-compatible): "
            + ", ".join(f"{k} {v:,}" for k, v in s["zones_make"].items())
            + f"; Make zone with posterior probability < 50 %: {s['uncertain_make_zone']:,}"
        )
    typer.echo(
        f"established consensus (p ≥ 0.9): {s['consensus']:,}; τ-best set of the top {10}: {s['tau_best_size']:,} proposals"
    )
    for c in s["correlations"]:
        typer.echo(
            f"Spearman ({c['level']}, n = {c['n']}): {c['spearman_rho']:.2f} [{c['low']:.2f}, {c['high']:.2f}]"
        )
    typer.echo("timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items()))
    for kind, path in result.publications.items():
        typer.echo(f"  {kind}: {path}" + (f" ({result.renderer})" if kind == "pdf" else ""))
    typer.echo(f"  tables: {result.dir / 'tables'}")
    typer.echo(f"  manifest: {result.manifest}")
