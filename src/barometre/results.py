"""The composite stage of an edition: engine run, per-commune results, palmarès, audit tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from barometre import catalogue
from barometre.composite import IndexBuild, build_index, load_spec
from barometre.composite.audit import audit_tables
from barometre.config import EditionConfig
from barometre.decision import NO_PRIZE, awards_summary
from barometre.disclosure import protect_table
from barometre.indicators import rates_per_1000
from barometre.palmares import award, class_ranks, palmares_table, rank_evidence
from barometre.publish.fmt import fr_number
from barometre.tables import save_table


@dataclass
class CompositeOutcome:
    build: IndexBuild
    communes: pd.DataFrame
    palmares: pd.DataFrame
    audit: dict[str, pd.DataFrame]
    rates_effect: pd.DataFrame


def rates_effect(
    nominal: IndexBuild,
    alternative: IndexBuild,
    labels: list[str],
    size: int,
    nominal_name: str,
    alternative_name: str,
) -> pd.DataFrame:
    """How the palmarès changes between two rate variants (raw vs shrunk), class by class.

    Per class: communes ranked in both, Spearman correlation of their scores, laureates kept,
    laureates entering and leaving (names) when the alternative replaces the nominal rates.
    """
    root = nominal.spec.root
    rows = []
    nom_ranks, alt_ranks = class_ranks(nominal), class_ranks(alternative)
    for label in labels:
        a = nom_ranks[nom_ranks.population_class == label]
        b = alt_ranks[alt_ranks.population_class == label]
        both = a.index.intersection(b.index)
        rho = (
            a.loc[both, root].corr(b.loc[both, root], method="spearman")
            if len(both) > 2
            else float("nan")
        )
        top_a = set(a.index[a.rank_in_class.astype("Float64") <= size])
        top_b = set(b.index[b.rank_in_class.astype("Float64") <= size])
        names = nominal.units["nom"]
        rows.append(
            {
                "population_class": label,
                "communes": len(both),
                "spearman": rho,
                "laureates_kept": len(top_a & top_b),
                "laureates_changed": len(top_a - top_b),
                f"laureates_only_{nominal_name}": " ; ".join(
                    sorted(names[c] for c in top_a - top_b)
                ),
                f"laureates_only_{alternative_name}": " ; ".join(
                    sorted(names.get(c, c) for c in top_b - top_a)
                ),
            }
        )
    return pd.DataFrame(rows)


def commune_results(
    build: IndexBuild, raw_table: pd.DataFrame, ranked_table: pd.DataFrame, meta: Mapping[str, Any]
) -> pd.DataFrame:
    """Per commune: identity, observed counts, raw rates and ranked (raw or shrunk) rates per
    1 000 inhabitants (per campaign for a rate whose exposure is the campaigns), normalised
    values, scores and ranks."""
    spec = build.spec
    ranks = class_ranks(build)
    raw = raw_table.set_index("code_commune")
    ranked = ranked_table.set_index("code_commune")
    codes = [i["code"] for i in meta["indicators"]]
    # "_per_1000": the published value in the indicator's unit (per 1 000 inhabitants, or per
    # campaign for a ratio whose exposure is the campaigns: rates_per_1000)
    rates = rates_per_1000(raw.reset_index(), meta).set_index("code_commune")[codes]
    rates.columns = [f"{c}_per_1000" for c in codes]
    ranked_rates = rates_per_1000(ranked.reset_index(), meta).set_index("code_commune")[codes]
    ranked_rates.columns = [f"{c}_ranked_per_1000" for c in codes]
    normalised = build.normalised[codes].add_suffix("_normalised")
    scores = ranks[
        [*build.scores.columns, f"rank_{spec.root}", "rank_in_class", "class_size"]
    ].rename(columns={f"rank_{spec.root}": "rank_national"})
    table = raw[
        ["nom", "population", "population_class", "code_departement", "code_region", *codes]
    ]
    table = table.join(rates).join(ranked_rates).join(normalised).join(scores)
    table.index.name = "code_commune"
    return table.reset_index()


def run_composite(
    build_dir: Path, config: EditionConfig, meta: Mapping[str, Any]
) -> CompositeOutcome:
    """Build the index on ``work/indicators_input.csv`` and write every result table.

    Exact values stay under ``work/`` (confidential); ``tables/`` gets the published versions,
    with small person counts suppressed (:mod:`barometre.disclosure`)."""
    spec = load_spec(config.path(config.index_spec))
    engine_table = catalogue.read(build_dir, "work.indicators_input")
    if engine_table.empty:
        raise ValueError(
            "no commune of this build is eligible (tables/eligibility.csv gives the rule each "
            "commune fails): a palmarès needs at least one ranked commune — build a larger "
            "territory or review the eligibility rules of the edition config"
        )
    # observed counts (never shrunk) for the figures quoted in the publications
    raw_table = catalogue.read(build_dir, "work.indicators_input_raw")
    build = build_index(spec, engine_table, weight_set=config.weights)

    def stage(name: str) -> Path:
        return catalogue.path(build_dir, "work.stages.table", name=name)

    for name in (
        "denominated",
        "imputed",
        "screened",
        "treated",
        "normalised",
        "aggregated",
        "results",
    ):
        save_table(getattr(build, name), stage(name), key=["code_commune"])
    save_table(build.treatment_details, stage("treatment_details"), key=["indicator"])
    for group, table in build.group_ranks.items():
        save_table(table, stage(f"group_ranks_{group}"), key=["code_commune"])
    communes = commune_results(build, raw_table, engine_table, meta)
    catalogue.save(communes, build_dir, "work.communes")
    # the nominal top of each class (confidential: the published palmarès is decided after the
    # robustness step, by the edition's rule, see run_palmares)
    palmares = palmares_table(
        build,
        raw_table,
        meta,
        config.classes.labels,
        config.palmares_size,
        config.data_year,
        fr_number,
    )
    catalogue.save(palmares, build_dir, "work.nominal_top", sort=False)
    audit = audit_tables(build)
    for name, table in audit.items():
        save_table(table, catalogue.path(build_dir, "tables.audit.table", name=name))
    alternative_name = "raw" if config.rates == "shrunk" else "shrunk"
    alternative_table = catalogue.read(build_dir, f"work.indicators_input_{alternative_name}")
    alternative = build_index(spec, alternative_table, weight_set=config.weights)
    effect = rates_effect(
        build,
        alternative,
        list(config.classes.labels),
        config.palmares_size,
        config.rates,
        alternative_name,
    )
    catalogue.save(effect, build_dir, "tables.rates_effect", sort=False)
    return CompositeOutcome(build, communes, palmares, audit, effect)


def information_band(sources: pd.Series) -> pd.Series:
    """Band of the number of distinct sources of information behind a commune's figures, as
    published for communes that are not ranked (never the exact number)."""
    values = sources.astype(float)
    band = pd.Series("5 ou plus", index=sources.index, dtype=object)
    band[values < 5] = "1 à 4"
    band[values < 1] = "aucune"
    band[values.isna()] = "n.d."
    return band


def published_communes(
    results: pd.DataFrame,
    status: pd.DataFrame,
    decided: pd.DataFrame,
    information_columns: list[str],
) -> pd.DataFrame:
    """The published per-commune table: every commune of the geography, eligible or not.

    Eligible communes: identity, counts, rates, scores, nominal ranks, ``p_top``, median rank
    and 90 % interval over the joint runs, the decided ``status``. Ineligible communes: identity,
    ``ineligible_reason`` and the band of their distinct sources of information, never a score or
    a rank. Small person counts are suppressed afterwards (:func:`protect_table`)."""
    base = status.set_index("code_commune")
    table = base[
        [
            "nom",
            "population",
            "population_class",
            "code_departement",
            "eligible",
            "ineligible_reason",
        ]
    ].copy()
    present = [c for c in information_columns if c in base.columns]
    table["information_band"] = (
        information_band(base[present].fillna(0).sum(axis=1)) if present else "n.d."
    )
    table.loc[table["eligible"], "information_band"] = ""
    extra = results.drop(
        columns=[
            c
            for c in ("nom", "population", "population_class", "code_departement")
            if c in results.columns
        ]
    )
    table = table.join(extra, how="left")
    keep = ["p_top", "rank_median", "rank_p05", "rank_p95", "status"]
    table = table.join(decided[[c for c in keep if c in decided.columns]], how="left")
    table["status"] = table["status"].fillna("")
    table.index.name = "code_commune"
    return table.reset_index()


def run_palmares(build_dir: Path, config: EditionConfig, meta: Mapping[str, Any]) -> pd.DataFrame:
    """Decide the palmarès of an edition and write the published tables.

    Reads the nominal results (``work/communes.csv``), the joint-run summaries
    (``tables/robustness/commune_ranks.csv``: P(top k), median rank, 90 % interval), the
    sampling standard errors of the nominal scores (``work/score_sampling.csv``) and the
    eligibility of every commune; computes the rank confidence sets
    (:func:`barometre.palmares.rank_evidence`) and applies the edition's decision rule. Writes
    ``work/palmares_decision.csv`` (every ranked commune with its evidence), ``tables/palmares.csv``
    (laureates and mentions), ``tables/palmares_awards.csv`` (prizes per class) and
    ``tables/communes.csv`` (every commune; suppression applied)."""
    spec = load_spec(config.path(config.index_spec))
    size, rule, labels = config.palmares_size, config.palmares_rule, list(config.classes.labels)
    engine_table = catalogue.read(build_dir, "work.indicators_input")
    raw_table = catalogue.read(build_dir, "work.indicators_input_raw")
    build = build_index(spec, engine_table, weight_set=config.weights)
    results = catalogue.read(build_dir, "work.communes").set_index("code_commune")
    ranks = catalogue.read(build_dir, "tables.robustness.commune_ranks").set_index("code_commune")
    uncertainty = ranks.rename(columns={f"p_top{size}": "p_top", "median_rank": "rank_median"})[
        ["p_top", "rank_median", "rank_p05", "rank_p95"]
    ]
    sampling = catalogue.read(build_dir, "work.score_sampling").set_index("code_commune")
    rng = np.random.default_rng(np.random.SeedSequence(config.seed).spawn(2)[1])
    evidence = rank_evidence(sampling, labels, size, rule, rng)
    decided = award(results, uncertainty, evidence, labels, size, rule)
    catalogue.save(decided.reset_index(), build_dir, "work.palmares_decision", sort=False)
    awarded = decided[decided["status"] != NO_PRIZE]
    palmares = palmares_table(
        build, raw_table, meta, labels, size, config.data_year, fr_number, awarded=awarded
    )
    catalogue.save(
        protect_table(palmares, totals_published=False), build_dir, "tables.palmares", sort=False
    )
    catalogue.save(
        awards_summary(decided, labels, size), build_dir, "tables.palmares_awards", sort=False
    )
    status = catalogue.read(build_dir, "work.eligibility_communes")
    info = config.eligibility.min_information.columns if config.eligibility.min_information else []
    communes = published_communes(results, status, decided, info)
    catalogue.save(protect_table(communes), build_dir, "tables.communes")
    return palmares
