"""Command line of the baromètre: ``barometre index build``, ``barometre build``, ...

Errors a user can fix (bad spec, bad data, missing file) are printed as one clear message and
exit with status 2, never as a traceback.

Commands parse their options (declared once, as module-level types) and call named functions
for the work: :mod:`barometre.cli_edition` (builds and territorial reports),
:mod:`barometre.cli_ranks` (rank confidence sets), :mod:`barometre.cli_common` (the error exit
and the options several commands share).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from barometre import catalogue
from barometre.cli_common import MaxQuarantineShareOption, QuarantineOption, fail, parse_departments
from barometre.composite import (
    DataError,
    SpecError,
    build_index,
    load_data,
    load_spec,
    write_stages,
)
from barometre.composite.audit import audit_tables

app = typer.Typer(
    help="Baromètre de l'engagement citoyen (Cités Vives): build the index, the editions and their publications.",
    no_args_is_help=True,
    add_completion=False,
)
index_app = typer.Typer(
    help="The composite-indicator engine on any data + spec (e.g. examples/asem/spec.yml).",
    no_args_is_help=True,
)
app.add_typer(index_app, name="index")

from barometre.consultation.cli import consultation_app

app.add_typer(consultation_app, name="consultation")


@index_app.command("build")
def index_build(
    spec_path: Annotated[Path, typer.Argument(metavar="SPEC", help="YAML spec of the index.")],
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Folder holding the data file named in the spec.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder to write one CSV per stage into.")],
    weights: Annotated[
        str | None, typer.Option("--weights", help="Name of a weight set of the spec to use.")
    ] = None,
    audit: Annotated[bool, typer.Option(help="Also write the audit tables (audit_*.csv).")] = True,
) -> None:
    """Build a composite index and write every stage.

    Writes denominated.csv, imputed.csv, screened.csv (and screening.csv, the per-unit data
    share), treated.csv, treatment_details.csv, normalised.csv, aggregated.csv, results.csv
    (every aggregate score and rank) and group_ranks_<group>.csv for each ranking group, units
    as rows keyed by the unit code column; with --audit, the correlations, Cronbach's alpha, PCA,
    effective weights and weight-removal rank changes.
    """
    started = time.perf_counter()
    try:
        spec = load_spec(spec_path)
        data = load_data(spec, data_dir)
        build = build_index(spec, data, weight_set=weights)
    except (SpecError, DataError) as err:
        fail(str(err))
        return
    written = write_stages(build, out)
    if audit:
        for name, table in audit_tables(build).items():
            path = Path(out) / f"{name}.csv"
            table.to_csv(path, index=False, lineterminator="\n")
            written.append(path)
    elapsed = time.perf_counter() - started
    n_units = len(build.results)
    typer.echo(
        f"{spec.name}: {n_units} units, {len(spec.indicators)} indicators, "
        f"{len(spec.aggregates)} aggregates built in {elapsed:.2f} s"
    )
    typer.echo(f"wrote {len(written)} files to {out}")


EditionOption = Annotated[
    str,
    typer.Option("--edition", help="Edition year (config/editions/<year>.yml) or config path."),
]
BuildRootOption = Annotated[
    Path | None,
    typer.Option("--build-root", help="Root of the build folders (default: build/)."),
]

# --- options of ``build`` ------------------------------------------------------------------------
BuildDemoOption = Annotated[
    bool,
    typer.Option(
        "--demo/--real",
        help="Build on the synthetic demo inputs (default) or on real extracts.",
    ),
]
BuildRawDirOption = Annotated[
    Path | None,
    typer.Option("--raw-dir", help="Folder of the real raw extracts (with --real)."),
]
BuildDepartmentsOption = Annotated[
    str | None,
    typer.Option(
        "--departments", help="Comma-separated department codes: build a subset (e.g. 59,62)."
    ),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Rerun every step even if unchanged.")]
RunsOption = Annotated[
    int | None,
    typer.Option("--runs", help="Runs of the uncertainty analysis (default: the edition's)."),
]
BuildRendererOption = Annotated[
    str,
    typer.Option(
        "--renderer",
        help="Who renders the publications: auto (Quarto when `quarto` is on PATH, else pandoc + Typst), "
        "quarto or offline (pandoc + Typst).",
    ),
]


@app.command("build")
def build_command(
    edition: EditionOption = "2024",
    demo: BuildDemoOption = True,
    raw_dir: BuildRawDirOption = None,
    departments: BuildDepartmentsOption = None,
    build_root: BuildRootOption = None,
    force: ForceOption = False,
    runs: RunsOption = None,
    renderer: BuildRendererOption = "auto",
) -> None:
    """Build an edition end to end: raw extracts → tables → palmarès → PDF and HTML publications.

    Each step is a declared pipeline step (papermill notebook or function); unchanged steps are
    skipped. Outputs go to build/<edition>/ (publications/, tables/, notebooks/, manifest.json).
    """
    from rich.console import Console

    from barometre.cli_edition import print_edition, step_printer
    from barometre.config import ConfigError
    from barometre.edition import build_edition
    from barometre.pipeline import PipelineError
    from barometre.publish.render import RenderError

    console = Console(stderr=False, highlight=False)
    try:
        result = build_edition(
            edition,
            demo=demo,
            raw_dir=raw_dir,
            build_root=build_root,
            departments=parse_departments(departments),
            force=force,
            on_step=step_printer(console),
            n_runs=runs,
            renderer=renderer,
        )
    except (
        ConfigError,
        PipelineError,
        SpecError,
        DataError,
        ValueError,
        FileNotFoundError,
        RenderError,
    ) as err:
        fail(str(err))
        return
    except Exception as err:  # noqa: BLE001 - an internal error: one line for the user, not a traceback
        fail(
            f"internal error ({type(err).__name__}): {err}; rerun with --force after fixing, "
            "or report it with the build folder's notebooks/",
            code=3,
        )
        return
    print_edition(console, result)


# --- options of ``territory`` --------------------------------------------------------------------
TerritoryArgument = Annotated[
    str,
    typer.Argument(
        metavar="TERRITORY",
        help="region:32, department:59, epci:<SIREN>, contrat:<code, e.g. CV192> or communes:<code>,<code>…",
    ),
]
QpvFileOption = Annotated[
    Path | None,
    typer.Option(
        "--qpv-file",
        help="The QPV list in ANCT's « liste des QPV 2024 » CSV layout (default in a demo build: its synthetic list).",
    ),
]
TerritoryDemoOption = Annotated[
    bool,
    typer.Option(
        "--demo/--real",
        help="The edition's demo build (default) or its build on real extracts.",
    ),
]
TerritoryRawDirOption = Annotated[
    Path | None,
    typer.Option(
        "--raw-dir",
        help="Folder of the real raw extracts (with --real, if the build must be made).",
    ),
]
TerritoryDepartmentsOption = Annotated[
    str | None,
    typer.Option(
        "--departments", help="The build of a department subset (e.g. 59,62), made if needed."
    ),
]
TerritoryRendererOption = Annotated[
    str, typer.Option("--renderer", help="auto, quarto or offline (as for build).")
]


@app.command("territory")
def territory_command(
    territory: TerritoryArgument,
    edition: EditionOption = "2024",
    qpv_file: QpvFileOption = None,
    demo: TerritoryDemoOption = True,
    raw_dir: TerritoryRawDirOption = None,
    departments: TerritoryDepartmentsOption = None,
    build_root: BuildRootOption = None,
    renderer: TerritoryRendererOption = "auto",
) -> None:
    """A territorial report with its « Politique de la ville » chapter, from the edition's build.

    Reuses build/<edition>/ (building it first when it has no manifest, or was built on the
    other kind of data) and writes the report and its exports under
    build/<edition>/territories/<slug>/.
    """
    import warnings

    from barometre.cli_edition import ensure_edition_build, print_territory
    from barometre.config import ConfigError, edition_path, load_edition
    from barometre.edition import render_territory
    from barometre.pipeline import PipelineError
    from barometre.publish.render import RenderError
    from barometre.qpv import QpvListError, read_qpv_list
    from barometre.territory import TerritoryError, build_territory_report, parse_territory

    try:
        config_file = Path(edition) if edition.endswith(".yml") else edition_path(edition)
        config = load_edition(config_file)
        place = parse_territory(territory, config.cog_year)
        if qpv_file is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                typer.echo(read_qpv_list(qpv_file, config.cog_year).summary())
        deps = (
            parse_departments(departments)
            if departments
            else (config.demo.departments if demo else None)
        )
        build_dir = ensure_edition_build(
            config_file, config, demo=demo, raw_dir=raw_dir, departments=deps,
            build_root=build_root, renderer=renderer,
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore"
            )  # communes not ranked are reported in the chapter itself
            outputs = build_territory_report(
                build_dir, config, territory, demo, qpv_file, render=False
            )
            outputs.update(render_territory(build_dir, place.slug, config, demo, renderer))
    except (QpvListError, TerritoryError) as err:
        fail(str(err))
        return
    except (ConfigError, PipelineError, ValueError, FileNotFoundError, RenderError) as err:
        fail(str(err))
        return
    print_territory(place, outputs)


@app.command("validate")
def validate_command(
    source: Annotated[
        str,
        typer.Option(
            "--source",
            help="Source table: rna, helloasso_organizations, helloasso_forms, helloasso_participations, "
            "jeveuxaider_missions or jeveuxaider_participations.",
        ),
    ],
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="The extract to check (CSV or Parquet).")
    ],
    max_quarantine_share: MaxQuarantineShareOption = 0.10,
    quarantine: QuarantineOption = None,
) -> None:
    """Check one extract against its input contract (data/README.md) before a build.

    Prints the rows read, accepted and quarantined with the reasons; exits with 0 when the file
    is usable, with 2 and the reason when it is not (3 for an unexpected failure).
    """
    from barometre.sources import SourceError
    from barometre.sources.validate import CONTRACTS, validate_file

    if source not in CONTRACTS:
        fail(f"unknown source {source!r}; one of: {', '.join(CONTRACTS)}")
        return
    try:
        result = validate_file(
            source, file, max_quarantine_share=max_quarantine_share, quarantine_out=quarantine
        )
    except SourceError as err:
        fail(f"{source}: {err}")
        return
    except ValueError as err:
        fail(str(err))
        return
    except Exception as err:  # noqa: BLE001 - the command promises one line, never a traceback
        fail(
            f"{source}: unexpected failure while reading {file.name}: {type(err).__name__}: {err}",
            code=3,
        )
        return
    for line in result.lines():
        typer.echo(line)


ranks_app = typer.Typer(
    help="Confidence sets for ranks (Mogstad, Romano, Shaikh & Wilhelm 2024).",
    no_args_is_help=True,
)
app.add_typer(ranks_app, name="ranks")


IdOption = Annotated[str, typer.Option("--id", help="Column of the unit ids (read as text).")]
EstimateOption = Annotated[
    str, typer.Option("--estimate", help="Column of the estimates (rank 1 = largest).")
]
SeOption = Annotated[
    str, typer.Option("--se", help="Column of the standard errors (independent estimates).")
]
RanksOutOption = Annotated[
    Path, typer.Option("--out", help="CSV to write: id, estimate, rank, lower, upper.")
]
CoverageOption = Annotated[float, typer.Option("--coverage", help="Nominal coverage.")]
SimultaneousOption = Annotated[
    bool,
    typer.Option(
        "--simultaneous",
        help="Sets holding jointly for all units (default: marginal, per unit).",
    ),
]
TauBestOption = Annotated[
    int | None,
    typer.Option(
        "--tau-best",
        metavar="TAU",
        help="Also flag the confidence set for the TAU best (column in_tau_best; lower/upper are then its one-sided bounds, upper = p).",
    ),
]
BootSeedOption = Annotated[int, typer.Option("--seed", help="Seed of the bootstrap draws.")]
NBootOption = Annotated[
    int,
    typer.Option(
        "--n-boot", help="Bootstrap draws (large families use Bonferroni-Holm, no draws)."
    ),
]


@ranks_app.command("cs")
def ranks_cs_command(
    input_csv: Annotated[
        Path, typer.Argument(metavar="INPUT.csv", help="CSV with one row per unit.")
    ],
    id_col: IdOption,
    estimate_col: EstimateOption,
    se_col: SeOption,
    out: RanksOutOption,
    coverage: CoverageOption = 0.95,
    simultaneous: SimultaneousOption = False,
    tau_best: TauBestOption = None,
    seed: BootSeedOption = 1,
    n_boot: NBootOption = 100_000,
) -> None:
    """Confidence sets for the ranks of estimates with standard errors (barometre.rankcs).

    Writes one row per unit, in input order: id, estimate, rank (1 = largest), lower, upper
    (+ in_tau_best with --tau-best). Errors a user can fix print one line and exit with 2.
    """
    from barometre.cli_ranks import (
        check_rank_options,
        describe_rank_sets,
        rank_sets,
        read_estimates,
        write_rank_sets,
    )

    check_rank_options(input_csv, coverage, n_boot, tau_best, simultaneous)
    estimates, se = read_estimates(input_csv, id_col, estimate_col, se_col)
    result = rank_sets(
        estimates, se, coverage=coverage, simultaneous=simultaneous, tau_best=tau_best,
        n_boot=n_boot, seed=seed,
    )  # fmt: skip
    write_rank_sets(result, out)
    line = describe_rank_sets(result, out, coverage=coverage, simultaneous=simultaneous, tau_best=tau_best, seed=seed)  # fmt: skip
    typer.echo(line)


disclosure_app = typer.Typer(
    help="Disclosure control: attack what a build publishes (barometre.disclosure_attacks).",
    no_args_is_help=True,
)
app.add_typer(disclosure_app, name="disclosure")


@disclosure_app.command("attack")
def disclosure_attack_command(
    build_dirs: Annotated[
        list[Path],
        typer.Argument(
            metavar="BUILD_DIR...",
            help="One or two edition build folders (two: the editions are differenced too).",
        ),
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="CSV to write: one row per edition and attack.")
    ] = None,
    min_ambiguity: Annotated[
        int | None,
        typer.Option(
            "--min-ambiguity",
            help="Fewest counts a protected cell's feasible set may hold (default: threshold − 1, any narrowing recovers).",
        ),
    ] = None,
) -> None:
    """Play the known attacks on the published files of the builds, score them against the
    confidential counts of work/, print one line per edition and attack; exit 1 when any small
    count is recovered."""
    from barometre.disclosure_attacks import attack_table, run_attacks

    if not 1 <= len(build_dirs) <= 2:
        fail("give one or two build folders")
    needed = ("tables.communes", "work.commune_counts")
    for build_dir in build_dirs:
        if not all(catalogue.path(build_dir, key).is_file() for key in needed):
            fail(
                f"{build_dir}: not a build folder ("
                + " and ".join(catalogue.relative(key) for key in needed)
                + " needed)"
            )
    reports = run_attacks(build_dirs, min_ambiguity=min_ambiguity)
    table = attack_table(reports)
    for report in reports:
        typer.echo(
            f"edition {report.edition}: {report.suppressed} suppressed person counts, {report.small} below {report.threshold}"
        )
        for row in table[table["edition"] == report.edition].itertuples():
            typer.echo(
                f"  {row.attack:<16} attempted {row.attempted:>6}  recovered {row.recovered:>6}  exact {row.exact:>6}"
            )
        typer.echo(f"  {'any attack':<16} recovered {report.total_recovered:>6} distinct counts")
        for attack, examples in report.examples.items():
            for example in examples[:3]:
                typer.echo(f"    {attack}: {example}")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False)
    recovered = sum(r.total_recovered for r in reports)
    typer.echo(f"recovered: {recovered}")
    if recovered:
        raise typer.Exit(1)


def main() -> None:  # pragma: no cover - console entry point
    app(prog_name="barometre")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
