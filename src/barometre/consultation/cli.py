"""``barometre consultation …``: the consultation lens on the command line.

``barometre consultation score INPUT.csv --out OUT.csv [--weight 0.5]`` (a contract): one row
per proposal with the Make-compatible columns (:data:`~scoring.MAKE_COLUMNS`) then the honest
ones (:data:`~scoring.HONEST_COLUMNS`). Errors a user can fix print one line ``error: …`` and
exit with 2 (3 for an unexpected failure), never a traceback.

Each command parses and checks its options, then calls named functions that do the work and
print the report; the options are declared once, as module-level types.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import pandas as pd
import typer

from barometre.cli_common import MaxQuarantineShareOption, QuarantineOption, fail
from barometre.io import atomic_path

if TYPE_CHECKING:
    from barometre.consultation.build import ConsultationBuild
    from barometre.consultation.readers import Consultation

T = TypeVar("T")

consultation_app = typer.Typer(
    help="Consultation lens: a Make.org-style consultation (proposals, votes, qualifications) "
    "scored, ranked and crossed with local engagement.",
    no_args_is_help=True,
)

# --- options of ``score`` ------------------------------------------------------------------------
InputArgument = Annotated[
    Path,
    typer.Argument(
        metavar="INPUT.csv",
        help="A consultation in the counts layout (CSV or Parquet; data/README.md).",
    ),
]
OutOption = Annotated[Path, typer.Option("--out", help="CSV to write: one row per proposal.")]
ScoreWeightOption = Annotated[
    float,
    typer.Option(
        "--weight",
        help="Weight of the verified counter in the Make-compatible scores (the sequence counter gets 1 − weight).",
    ),
]
CounterOption = Annotated[
    str,
    typer.Option(
        "--counter", help="Counter of the honest zone probabilities: sequence or verified."
    ),
]
PriorOption = Annotated[
    float, typer.Option("--prior", help="Dirichlet prior per share (honest scoring).")
]
ScoreDrawsOption = Annotated[
    int, typer.Option("--draws", help="Monte Carlo draws per proposal (honest scoring).")
]
ScoreSeedOption = Annotated[
    int, typer.Option("--seed", help="Seed of the random generator (honest scoring).")
]
ScoreMethodOption = Annotated[
    str,
    typer.Option(
        "--method",
        help="Zone probabilities by 'mc' (seeded simulation) or 'quadrature' (deterministic).",
    ),
]

# --- options of ``build`` ------------------------------------------------------------------------
BuildInputOption = Annotated[
    Path | None, typer.Option("--input", help="The consultation export (CSV or Parquet).")
]
LayoutOption = Annotated[
    str | None,
    typer.Option(
        "--layout",
        help="counts or opendata (default: recognised from the header; 'counts' for --demo).",
    ),
]
DemoOption = Annotated[
    bool,
    typer.Option(
        "--demo", help="Build the seeded synthetic « Mieux vivre en ville » consultation."
    ),
]
NameOption = Annotated[
    str | None,
    typer.Option("--name", help="Folder name under the build root (default: from the file name)."),
]
TitleOption = Annotated[
    str | None, typer.Option("--title", help="Name of the consultation in the agenda.")
]
BuildRootOption = Annotated[
    Path, typer.Option("--build-root", help="Root of the consultation builds.")
]
EngagementOption = Annotated[
    Path | None,
    typer.Option(
        "--engagement",
        help="A baromètre build's communes.csv (engagement per territory; --demo uses build/2024/tables/communes.csv when present).",
    ),
]
EngagementColumnOption = Annotated[
    str,
    typer.Option("--engagement-column", help="Column of the communes table read as engagement."),
]
TerritoryOption = Annotated[
    str,
    typer.Option(
        "--territory",
        help="Region code (32) or département codes (59,62) whose residents' top proposals are listed.",
    ),
]
CogYearOption = Annotated[int, typer.Option("--cog-year", help="COG vintage of the populations.")]
BuildWeightOption = Annotated[
    float,
    typer.Option("--weight", help="Weight of the verified counter in the Make-compatible scores."),
]
BuildSeedOption = Annotated[
    int, typer.Option("--seed", help="Seed of the zone probabilities and rank sets.")
]
BuildDrawsOption = Annotated[int, typer.Option("--draws", help="Monte Carlo draws per proposal.")]
BuildMethodOption = Annotated[
    str, typer.Option("--method", help="Zone probabilities by 'mc' or 'quadrature'.")
]
DemoProposalsOption = Annotated[
    int, typer.Option("--demo-proposals", help="Proposals of the demo consultation.")
]
RenderOption = Annotated[
    bool, typer.Option("--render/--no-render", help="Render the agenda (PDF + HTML).")
]
RendererOption = Annotated[
    str,
    typer.Option(
        "--renderer", help="auto (Quarto when installed, else offline), quarto or offline."
    ),
]


def write_csv_atomic(table: pd.DataFrame, out: Path) -> None:
    """Write ``table`` to ``out`` through a temporary file of the same folder (no half-written
    file if interrupted)."""
    with atomic_path(Path(out)) as tmp:
        table.to_csv(tmp, index=False, lineterminator="\n")


def _reporting_errors(run: Callable[[], T], unexpected: str, render_errors: bool = False) -> T:
    """``run()``, turning the errors a user can fix into one line and exit 2, a rendering
    failure (with ``render_errors``) or any other failure into one line and exit 3
    (``unexpected`` then prefixes the message)."""
    from barometre.sources import SourceError

    render_error: tuple[type[Exception], ...] = ()
    if render_errors:
        from barometre.publish.render import RenderError

        render_error = (RenderError,)
    try:
        return run()
    except typer.Exit:
        raise
    except SourceError as err:
        fail(f"consultation: {err}")
    except (ValueError, OSError) as err:
        fail(str(err))
    except render_error as err:
        fail(f"rendering failed: {str(err).splitlines()[0]}", code=3)
    except Exception as err:  # noqa: BLE001 - one line, never a traceback
        fail(f"{unexpected}: {type(err).__name__}: {err}", code=3)
    raise AssertionError("unreachable: fail() exits")  # pragma: no cover


def _check_score_options(
    weight: float, counter: str, method: str, draws: int, prior: float
) -> None:
    """Exit with one line when an option of ``score`` is out of its range."""
    if not 0.0 <= weight <= 1.0:
        fail(f"--weight must be between 0 and 1 (got {weight})")
    if counter not in ("sequence", "verified"):
        fail(f"--counter must be sequence or verified (got {counter!r})")
    if method not in ("mc", "quadrature"):
        fail(f"--method must be mc or quadrature (got {method!r})")
    if draws < 1:
        fail(f"--draws must be at least 1 (got {draws})")
    if not prior > 0:
        fail(f"--prior must be positive (got {prior})")


def score_file(
    input_path: Path,
    out: Path,
    quarantine: Path | None,
    max_quarantine_share: float,
    **options: Any,
) -> tuple[Consultation, pd.DataFrame, float]:
    """Read a counts-layout file, score it (``options``: those of
    :func:`~barometre.consultation.scoring.score_consultation`) and write the scores to ``out``
    (and the quarantined rows to ``quarantine``); returns the consultation, the scores and
    the seconds spent reading."""
    from barometre.consultation.readers import detect_layout, read_counts
    from barometre.consultation.scoring import score_consultation

    started = time.perf_counter()
    if detect_layout(input_path) == "opendata":
        fail(
            f"{input_path.name} is in the open-data layout (proposition, votes, adhesion…), "
            "which carries no disagree / neutral / qualification counts: Make scores need "
            "the counts layout (see data/README.md)"
        )
    consultation = read_counts(input_path, max_quarantine_share=max_quarantine_share)
    read_seconds = time.perf_counter() - started
    scored = score_consultation(consultation.proposals, **options)
    write_csv_atomic(scored, out)
    if quarantine is not None:
        write_csv_atomic(consultation.quarantine, quarantine)
    return consultation, scored, read_seconds


def _print_score_report(
    consultation: Consultation, scored: pd.DataFrame, seconds: float, read_seconds: float, out: Path
) -> None:
    """The reading report, the zone cross-table and the closing line of ``score``."""
    from barometre.consultation.scoring import zone_crosstab

    for line in consultation.lines():
        typer.echo(line)
    table = zone_crosstab(scored)
    typer.echo(
        "zones (rows: Make-compatible, on point scores; columns: most probable under the posterior):"
    )
    for line in table.to_string().splitlines():
        typer.echo(f"  {line}")
    typer.echo(
        f"scored {len(scored):,} proposals in {seconds:.2f} s "
        f"(reading {read_seconds:.2f} s); wrote {out}"
    )


@consultation_app.command("score")
def score_command(
    input_path: InputArgument,
    out: OutOption,
    weight: ScoreWeightOption = 0.5,
    counter: CounterOption = "sequence",
    prior: PriorOption = 1.0 / 3.0,
    draws: ScoreDrawsOption = 4000,
    seed: ScoreSeedOption = 20250601,
    method: ScoreMethodOption = "mc",
    quarantine: QuarantineOption = None,
    max_quarantine_share: MaxQuarantineShareOption = 0.10,
) -> None:
    """Score every proposal: Make-compatible scores, half-widths and zone, and the posterior
    probability of each zone.

    Columns: id, n_votes, agree, disagree, neutral, top_score, top_score_ci, controversy,
    controversy_ci, rejection, rejection_ci, neutral_ci, zone (consensus / controversy /
    rejection / limbo), then p_consensus, p_controversy, p_rejection, p_limbo, zone_probable.
    """
    started = time.perf_counter()
    _check_score_options(weight, counter, method, draws, prior)
    consultation, scored, read_seconds = _reporting_errors(
        lambda: score_file(
            input_path, out, quarantine, max_quarantine_share, weight=weight, counter=counter,
            prior=prior, draws=draws, seed=seed, method=method,
        ),
        f"unexpected failure while scoring {input_path.name}",
    )  # fmt: skip
    _print_score_report(consultation, scored, time.perf_counter() - started, read_seconds, out)


def _check_build_options(
    input_path: Path | None,
    demo: bool,
    method: str,
    renderer: str,
    render: bool,
    weight: float,
    draws: int,
    demo_proposals: int,
) -> None:
    """Exit with one line when the options of ``build`` do not fit together."""
    if demo == (input_path is not None):
        fail("give either --input FILE or --demo")
    if method not in ("mc", "quadrature"):
        fail(f"--method must be mc or quadrature (got {method!r})")
    if renderer not in ("auto", "quarto", "offline"):
        fail(f"--renderer must be auto, quarto or offline (got {renderer!r})")
    if renderer == "quarto" and render:
        from barometre.publish.render import quarto_available

        if not quarto_available():
            fail("--renderer quarto: quarto is not installed (not on PATH); use --renderer offline")
    if not 0.0 <= weight <= 1.0:
        fail(f"--weight must be between 0 and 1 (got {weight})")
    if draws < 1 or demo_proposals < 1:
        fail("--draws and --demo-proposals must be at least 1")


def _print_build_report(result: ConsultationBuild) -> None:
    """What ``build`` prints: counts, zones, consensus, correlations, timings and paths."""
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


@consultation_app.command("build")
def build_command(
    input_path: BuildInputOption = None,
    layout: LayoutOption = None,
    demo: DemoOption = False,
    name: NameOption = None,
    title: TitleOption = None,
    build_root: BuildRootOption = Path("build") / "consultation",
    engagement: EngagementOption = None,
    engagement_column: EngagementColumnOption = "score",
    territory: TerritoryOption = "32",
    cog_year: CogYearOption = 2024,
    weight: BuildWeightOption = 0.5,
    seed: BuildSeedOption = 20250601,
    draws: BuildDrawsOption = 4000,
    method: BuildMethodOption = "mc",
    demo_proposals: DemoProposalsOption = 10_000,
    render: RenderOption = True,
    renderer: RendererOption = "auto",
    max_quarantine_share: MaxQuarantineShareOption = 0.10,
) -> None:
    """Build a consultation's tables and its « Agenda citoyen » (PDF + HTML) under
    <build-root>/<name>/: consensus, controversies, rejections (Make-compatible zones and their
    posterior probabilities), ranking with confidence sets, themes, territories crossed with the
    baromètre's engagement, method and limits."""
    from barometre.consultation.build import build_consultation

    _check_build_options(input_path, demo, method, renderer, render, weight, draws, demo_proposals)
    result = _reporting_errors(
        lambda: build_consultation(
            input_path, layout=layout, demo=demo, name=name, title=title, build_root=build_root,
            engagement_path=engagement, engagement_column=engagement_column, cog_year=cog_year,
            territory=territory, weight=weight, draws=draws, seed=seed, method=method,
            demo_proposals=demo_proposals, max_quarantine_share=max_quarantine_share, render=render,
            renderer=renderer,
        ),
        "unexpected failure of the consultation build",
        render_errors=True,
    )  # fmt: skip
    _print_build_report(result)
