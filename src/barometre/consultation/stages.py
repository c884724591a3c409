"""The computing stages of a consultation build: read, score, themes, territories, tables.

Each stage is one function returning what the next ones need (:class:`ReadStage`,
:class:`ThemeStage`, :class:`TerritoryStage`, :class:`TableStage`); the orchestration, the
report and the manifest are in :mod:`~barometre.consultation.build` and
:mod:`~barometre.consultation.agenda`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from barometre.consultation import demo as demo_module
from barometre.consultation import territories as terr
from barometre.consultation.cli import write_csv_atomic
from barometre.consultation.ranking import ProposalRanking
from barometre.consultation.readers import Consultation, read_consultation
from barometre.consultation.scoring import (
    opendata_scores,
    score_consultation,
    upstream_zone_probability,
    zone_crosstab,
)
from barometre.consultation.themes import UNCLASSIFIED, assign_themes, lexicon_table, theme_table
from barometre.io import sha256_file

CONFIDENCE = 0.9
"""A proposal enters the agenda's list of a zone when the zone's posterior probability is at
least this."""


class ConsultationBuildError(ValueError):
    """A build that cannot proceed (bad option, unknown territory, unreadable engagement table)."""


def _slug(text: str) -> str:
    """A file-name slug of ``text`` (lower case, hyphens, at most 60 characters)."""
    from barometre.consultation.themes import normalise

    return normalise(text).replace(" ", "-")[:60] or "consultation"


def parse_territory(spec: str, cog_year: int) -> tuple[str, list[str]]:
    """(name, départements) of a region code (``32``) or a comma-separated list of
    département codes (``59,62``)."""
    from barometre import geography

    deps = geography.load_departements(cog_year)
    regions = geography.load_regions(cog_year).set_index("code_region")["nom"]
    spec = spec.strip()
    if spec in regions.index:
        codes = deps.loc[deps["code_region"] == spec, "code_departement"].tolist()
        return str(regions[spec]), codes
    codes = [terr.normalise_department(c) for c in spec.split(",") if c.strip()]
    names = deps.set_index("code_departement")["nom"]
    unknown = [c for c in codes if c not in names.index]
    if not codes or unknown:
        raise ConsultationBuildError(
            f"unknown territory {spec!r}: a region code (e.g. 32) or département codes (e.g. 59,62)"
        )
    return ", ".join(str(names[c]) for c in codes), codes


def _lists_counts(scored: pd.DataFrame, top: int) -> dict[str, pd.DataFrame]:
    """Each zone's established proposals (probability ≥ :data:`CONFIDENCE`), ordered by the
    lower bound of the matching Make score (score − its upstream half-width): ordering by the
    score itself would put first the proposals with a handful of votes, whose scores vary most."""
    out = {}
    for key, zone, score in (("consensus", "consensus", "top_score"), ("controversies", "controversy", "controversy"), ("rejections", "rejection", "rejection")):  # fmt: skip
        sure = scored[scored[f"p_{zone}"] >= CONFIDENCE]
        out[key] = (
            sure.assign(_low=sure[score] - sure[f"{score}_ci"])
            .sort_values(["_low", "n_votes"], ascending=False, kind="mergesort")
            .drop(columns="_low")
            .head(top)
        )
    return out


def _lists_opendata(scored: pd.DataFrame, top: int) -> dict[str, pd.DataFrame]:
    return {
        "consensus": scored[scored["p_agree_60"] >= CONFIDENCE].sort_values(["adhesion", "n_votes"], ascending=False, kind="mergesort").head(top),
        "controversies": scored.iloc[0:0],
        "rejections": scored[scored["p_agree_below_40"] >= CONFIDENCE].sort_values(["adhesion", "n_votes"], ascending=[True, False], kind="mergesort").head(top),
    }  # fmt: skip


@dataclass(frozen=True)
class ReadStage:
    """The consultation as read, the file it was read from and, for a demo, its provenance."""

    consultation: Consultation
    input_path: Path
    provenance: Path | None


def read_stage(
    out: Path,
    input_path: Path | None,
    layout: str | None,
    *,
    demo: bool,
    demo_proposals: int,
    demo_seed: int,
    max_quarantine_share: float,
) -> ReadStage:
    """Read the consultation (written first under ``out/raw`` for a demo) and write its
    quarantine to ``quarantine.csv`` in the build's ``work`` folder."""
    provenance = None
    if demo:
        written = demo_module.write_demo_consultation(out / "raw", layout=layout, n_proposals=demo_proposals, seed=demo_seed)  # fmt: skip
        input_path, provenance = written.path, written.provenance
    consultation: Consultation = read_consultation(Path(input_path), layout, max_quarantine_share=max_quarantine_share)  # fmt: skip
    write_csv_atomic(consultation.quarantine, out / "work" / "quarantine.csv")
    return ReadStage(consultation, Path(input_path), provenance)


def score_stage(
    proposals: pd.DataFrame,
    layout: str,
    *,
    weight: float,
    counter: str,
    prior: float,
    draws: int,
    seed: int,
    method: str,
) -> pd.DataFrame:
    """Scores of every proposal: Make-compatible and honest ones (counts layout, with the
    probability of the Make zone), or the adhesion and its posterior (open-data layout)."""
    if layout != "counts":
        return opendata_scores(proposals, prior=prior)
    scored = score_consultation(proposals, weight=weight, counter=counter, prior=prior, draws=draws, seed=seed, method=method)  # fmt: skip
    scored["p_zone"] = upstream_zone_probability(scored)
    return scored


@dataclass(frozen=True)
class ThemeStage:
    """Themes of the proposals: one row per (proposal, theme), the table per theme and the
    themes of each classified proposal joined by ``|``."""

    assigned: pd.DataFrame
    themes: pd.DataFrame
    by_id: pd.Series


def theme_stage(proposals: pd.DataFrame, scored: pd.DataFrame) -> ThemeStage:
    """Assign the themes and tabulate them."""
    assigned = assign_themes(proposals)
    themes = theme_table(assigned, scored)
    by_id = (
        assigned[assigned["theme"] != UNCLASSIFIED].groupby("id", sort=False)["theme"].agg("|".join)
    )
    return ThemeStage(assigned, themes, by_id)


@dataclass
class TerritoryStage:
    """Where the authors live and the participation per territory (``None`` when the export
    does not say), crossed with the baromètre's engagement when a table was given."""

    located: pd.DataFrame | None = None
    by_dep: pd.DataFrame | None = None
    by_reg: pd.DataFrame | None = None
    correlations: list[dict[str, object]] = field(default_factory=list)
    engagement_note: str = ""
    engagement_input: dict[str, str] | None = None


def territory_stage(
    out: Path,
    proposals: pd.DataFrame,
    scored: pd.DataFrame,
    cog_year: int,
    engagement_file: Path | None,
    engagement_column: str,
) -> TerritoryStage:
    """Locate the authors (written to ``author_departments.csv`` in the build's ``work`` folder), count the
    participation per département and region and, given an engagement table, correlate them."""
    has_location = any(c in proposals for c in ("author_department", "author_postal_code"))
    located = terr.author_departments(proposals, cog_year) if has_location else None
    if located is None:
        return TerritoryStage()
    write_csv_atomic(located, out / "work" / "author_departments.csv")
    scored_for_terr = scored if "zone" in scored else scored.assign(zone="")
    by_dep, by_reg = terr.participation(scored_for_terr, located, cog_year)
    stage = TerritoryStage(located, by_dep, by_reg)
    if engagement_file is not None:
        _cross_engagement(stage, engagement_file, engagement_column)
    return stage


def _cross_engagement(stage: TerritoryStage, engagement_file: Path, engagement_column: str) -> None:
    """Add the baromètre's engagement to ``stage``'s territories and their rank correlations
    with the participation."""
    by_dep, by_reg, correlations = stage.by_dep, stage.by_reg, stage.correlations
    try:
        communes = pd.read_csv(engagement_file, dtype={"code_departement": str, "code_region": str, "code_commune": str})  # fmt: skip
        eng_dep, eng_reg = terr.engagement(communes, engagement_column)
    except (OSError, ValueError, pd.errors.ParserError) as err:
        raise ConsultationBuildError(f"engagement table {engagement_file}: {err}") from None
    by_dep["engagement"] = by_dep["code_departement"].map(eng_dep)
    by_reg["engagement"] = by_reg["code_region"].map(eng_reg)
    for level, table in (("département", by_dep), ("région", by_reg)):
        correlations.append(terr.rank_correlation(table["proposals_per_100k"], table["engagement"], level=level, measure=f"propositions pour 100 000 habitants × {engagement_column}").as_row())  # fmt: skip
    stage.engagement_note = f"{engagement_column} des communes de {Path(engagement_file).name}"
    stage.engagement_input = {
        "file": str(engagement_file),
        "column": engagement_column,
        "sha256": sha256_file(Path(engagement_file)),
    }


@dataclass(frozen=True)
class TableStage:
    """The published tables: proposal texts by id, the proposals table, the agenda's lists and
    every file written (by stem)."""

    content: pd.Series
    published: pd.DataFrame
    lists: dict[str, pd.DataFrame]
    written: dict[str, Path]


def table_stage(
    out: Path,
    read: ReadStage,
    scored: pd.DataFrame,
    themes: ThemeStage,
    ranking: ProposalRanking,
    territories: TerritoryStage,
    *,
    top: int,
    territory_name: str,
    territory_deps: list[str],
) -> TableStage:
    """Write the published tables under ``out/tables``."""
    consultation = read.consultation
    proposals, layout = consultation.proposals, consultation.layout
    tables = out / "tables"
    content = proposals.set_index("id")["content"] if "content" in proposals else pd.Series("", index=proposals["id"])  # fmt: skip
    published = scored.copy()
    published.insert(1, "content", published["id"].map(content).fillna(""))
    published.insert(2, "themes", published["id"].map(themes.by_id).fillna(""))
    written: dict[str, Path] = {}

    def save(frame: pd.DataFrame, stem: str) -> None:
        path = tables / f"{stem}.csv"
        write_csv_atomic(frame, path)
        written[stem] = path

    save(published, "propositions")
    lists = _lists_counts(published, 50) if layout == "counts" else _lists_opendata(published, 50)
    for key, stem in (("consensus", "agenda_consensus"), ("controversies", "agenda_controverses"), ("rejections", "agenda_rejets")):  # fmt: skip
        save(lists[key], stem)
    if layout == "counts":
        save(zone_crosstab(scored).reset_index(), "zones")
        save(published[published["p_zone"] < 0.5], "desaccords")
    save(themes.themes, "themes")
    save(lexicon_table(), "lexique")
    save(ranking.table.assign(content=ranking.table["id"].map(content).fillna("")), "classement")
    if territories.by_dep is not None:
        save(terr.protect_counts(territories.by_dep), "territoires_departements")
        save(terr.protect_counts(territories.by_reg), "territoires_regions")
        if territories.correlations:
            save(pd.DataFrame(territories.correlations), "correlations")
        top_local = terr.top_of_territory(published, territories.located, territory_deps, n=top)
        save(top_local, f"territoire_{_slug(territory_name)}")
    if consultation.age_bands is not None:
        save(consultation.age_bands, "ages")
    return TableStage(content, published, lists, written)
