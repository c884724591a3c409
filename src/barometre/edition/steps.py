"""The function steps of an edition build (the notebook steps are in ``notebooks/``).

Each is called by the runner as ``func(build_dir, **params)``; every path comes from the
catalogue of artefacts (:mod:`barometre.catalogue`).
"""

from __future__ import annotations

from pathlib import Path

from barometre import catalogue
from barometre.config import load_edition
from barometre.io import atomic_write_text


def generate_demo_step(
    build_dir: Path,
    seed: int,
    data_year: int,
    cog_year: int,
    scale: float,
    departments: list[str] | None,
    panel_seed: int | None = None,
) -> None:
    """Write the synthetic raw extracts of the three sources, and the synthetic QPV list
    (:mod:`barometre.qpv.synthetic`, national whatever the subset), into ``build_dir/raw``."""
    import numpy as np

    from barometre import demo, geography
    from barometre.qpv.synthetic import write_synthetic_qpv_list

    raw = catalogue.path(build_dir, "raw")
    communes = geography.load_communes(cog_year, departments=departments)
    demo.generate_demo_inputs(
        communes,
        data_year,
        raw,
        np.random.default_rng(seed),
        scale=scale,
        seed=seed,
        panel_seed=panel_seed,
    )
    write_synthetic_qpv_list(catalogue.path(build_dir, "raw.qpv"), cog_year, seed)


def departmental_step(
    build_dir: Path, departmental_size: int, edition_config: str | None = None
) -> None:
    """Departmental palmarès: decided by the edition's rule when the joint runs counted the top
    of each département, else the nominal top of each département (labelled as such)."""
    from barometre.palmares import departmental_palmares
    from barometre.tables import read_table, save_table

    communes = catalogue.read(build_dir, "work.communes")
    target = catalogue.path(build_dir, "tables.departmental_palmares")
    ranks_path = catalogue.path(build_dir, "tables.robustness.commune_ranks")
    column = f"p_top{departmental_size}_code_departement"
    ranks = read_table(ranks_path).set_index("code_commune") if ranks_path.exists() else None
    if ranks is not None and column in ranks.columns and edition_config:
        # the edition's decision rule, as for the classes (joint runs, τ-best sets)
        import numpy as np

        from barometre.palmares import decided_departmental_palmares

        config = load_edition(Path(edition_config))
        sampling = catalogue.read(build_dir, "work.score_sampling").set_index("code_commune")
        rng = np.random.default_rng(np.random.SeedSequence(config.seed).spawn(3)[2])
        table = decided_departmental_palmares(
            communes, ranks[column], sampling, departmental_size, config.palmares_rule, rng
        )
        key = ["code_departement", "status", "code_commune"]
    else:  # no joint runs: the nominal top of each département (labelled as such)
        table = departmental_palmares(communes, departmental_size)
        key = ["code_departement", "rank_in_departement", "code_commune"]
    save_table(table, target, key=key, sort=False)


def compare_step(
    build_dir: Path,
    previous_dir: str | None,
    departmental_size: int | None,
    cog_year: int,
    class_labels: list[str],
    edition_config: str | None = None,
) -> None:
    """Departmental palmarès (decided by the edition's rule when the joint runs counted the
    top of each département) and year-over-year comparison with the previous edition."""
    from barometre.yoy import laureate_changes, rank_changes

    if departmental_size:
        departmental_step(build_dir, departmental_size, edition_config)
    if previous_dir:
        previous = Path(previous_dir)
        communes = catalogue.read(build_dir, "work.communes")
        changes = rank_changes(communes, catalogue.read(previous, "tables.communes"), cog_year)
        catalogue.save(changes, build_dir, "tables.yoy_rank_changes")
        palmares = catalogue.read(build_dir, "tables.palmares")
        previous_palmares = catalogue.read(previous, "tables.palmares")
        current_ranks = communes.set_index("code_commune")["rank_in_class"]
        catalogue.save(
            laureate_changes(palmares, previous_palmares, cog_year, class_labels, current_ranks),
            build_dir,
            "tables.yoy_laureates",
            sort=False,
        )


def calibration_step(build_dir: Path, seed: int, credible: float) -> None:
    """The count model's calibration on a seeded simulation with a known truth (annex table)."""
    import numpy as np

    from barometre.countmodel_validation import calibration

    table = calibration(np.random.default_rng(seed), credible)
    catalogue.save(table, build_dir, "tables.count_model_calibration", sort=False)


def methods_step(build_dir: Path, edition_config: str, departments: list[str] | None) -> None:
    """« Ce que change l'autre méthode » (:func:`barometre.methods.compare_methods`)."""
    from barometre import geography
    from barometre.composite import load_spec
    from barometre.methods import compare_methods

    config = load_edition(Path(edition_config))
    counts = catalogue.read(build_dir, "work.commune_counts")
    communes = geography.load_communes(config.cog_year, departments=departments)
    decided = catalogue.read(build_dir, "work.palmares_decision").set_index("code_commune")
    table = compare_methods(
        counts,
        communes,
        config,
        load_spec(config.path(config.index_spec)),
        decided,
        list(config.classes.labels),
        config.palmares_size,
    )
    catalogue.save(table, build_dir, "tables.methods_comparison", sort=False)


def palmares_step(build_dir: Path, edition_config: str) -> None:
    """The decided palmarès (:func:`barometre.results.run_palmares`)."""
    from barometre.config import load_indicator_meta
    from barometre.results import run_palmares

    config = load_edition(Path(edition_config))
    run_palmares(build_dir, config, load_indicator_meta(config))


def disclosure_step(build_dir: Path, previous_dir: str | None) -> None:
    """Replay the disclosure attacks on what this build publishes (and on the previous edition's
    publications, differenced with it), write the results (``tables.disclosure_attacks``)
    and the annex section (``report.disclosure_rules``); warn when a count is recovered
    (:mod:`barometre.disclosure_attacks`)."""
    import warnings

    from barometre.disclosure_attacks import attack_table, disclosure_rules_markdown, run_attacks
    from barometre.publish.fmt import fr_number

    builds = [Path(previous_dir), build_dir] if previous_dir else [build_dir]
    reports = run_attacks(builds)
    current = reports[-1]
    catalogue.save(attack_table([current]), build_dir, "tables.disclosure_attacks", sort=False)
    editions = [r.edition for r in reports]
    atomic_write_text(
        catalogue.path(build_dir, "report.disclosure_rules"),
        disclosure_rules_markdown(current, editions, fr_number),
    )
    if current.total_recovered:
        warnings.warn(
            f"disclosure attacks recovered {current.total_recovered} suppressed counts: "
            f"{current.examples}",
            stacklevel=2,
        )
