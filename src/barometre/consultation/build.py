"""``barometre consultation build``: a consultation → tables and an « Agenda citoyen » (PDF + HTML).

Writes ``<build_root>/<name>/`` (default ``build/consultation/<name>/``):

| path | what |
| --- | --- |
| ``raw/`` | the synthetic input with its provenance (``--demo`` only) |
| ``work/`` | confidential: the quarantine (values as read), the author département of each proposal |
| ``tables/`` | published tables: ``propositions.csv`` (scores, zones, probabilities, themes), the agenda's lists, zones, disagreements, ranking, themes and lexicon, territories (small counts suppressed), correlations, age bands (open-data layout) |
| ``report/`` | ``agenda.qmd`` with its ``_variables.yml``, ``tables/*.md`` and ``figures/`` |
| ``publications/`` | ``agenda-citoyen.pdf`` and ``.html`` |
| ``manifest.json`` | input checksum, parameters, timings, outputs and their checksums, versions |

Demo builds say so on every page (« Données de démonstration synthétiques »). Report pages
compute nothing: every number is written here into ``_variables.yml`` or a Markdown partial.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from barometre.consultation import demo as demo_module
from barometre.consultation import territories as terr
from barometre.consultation.cli import write_csv_atomic
from barometre.consultation.ranking import rank_proposals
from barometre.consultation.readers import Consultation, read_consultation
from barometre.consultation.scoring import (
    DEFAULT_DRAWS,
    DEFAULT_PRIOR,
    DEFAULT_SEED,
    DEFAULT_WEIGHT,
    ZONES,
    opendata_scores,
    score_consultation,
    upstream_zone_probability,
    zone_crosstab,
)
from barometre.consultation.themes import UNCLASSIFIED, assign_themes, lexicon_table, theme_table
from barometre.disclosure import DEFAULT_THRESHOLD
from barometre.io import sha256_file
from barometre.publish.fmt import (
    dataframe_to_markdown,
    escape_markdown,
    fr_date,
    fr_number,
    fr_percent,
)

PROJECT_ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = Path(__file__).resolve().parent / "templates" / "agenda.qmd"
DEMO_MARK = demo_module.DEMO_MARK
DEFAULT_BUILD_ROOT = Path("build") / "consultation"
DEFAULT_ENGAGEMENT = PROJECT_ROOT / "build" / "2024" / "tables" / "communes.csv"
DEFAULT_TERRITORY = "32"
CONFIDENCE = 0.9
"""A proposal enters the agenda's list of a zone when the zone's posterior probability is at
least this."""
ZONE_FR = {"consensus": "consensus", "controversy": "controverse", "rejection": "rejet", "limbo": "indécis"}  # fmt: skip
STAGE_NAMES = ("read", "score", "themes", "ranking", "territories", "report", "render")


class ConsultationBuildError(ValueError):
    """A build that cannot proceed (bad option, unknown territory, unreadable engagement table)."""


@dataclass
class ConsultationBuild:
    dir: Path
    layout: str
    demo: bool
    proposals: int
    tables: dict[str, Path] = field(default_factory=dict)
    publications: dict[str, Path] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    manifest: Path | None = None
    renderer: str = ""


def _text(path: Path, text: str) -> Path:
    from barometre.io import atomic_write_text

    atomic_write_text(path, text.rstrip() + "\n")
    return path


def _slug(text: str) -> str:
    from barometre.consultation.themes import normalise

    return normalise(text).replace(" ", "-")[:60] or "consultation"


def _pct(value: float, decimals: int = 0) -> str:
    return fr_percent(100 * value, decimals) if pd.notna(value) else "n.d."


def _votes(value: object) -> str:
    return f"< {DEFAULT_THRESHOLD}" if 0 < int(value) < DEFAULT_THRESHOLD else fr_number(int(value))


def _prop(text: object) -> str:
    return escape_markdown(str(text)) if str(text) else "(texte non fourni)"


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


def _zones_figure(scored: pd.DataFrame, path: Path, demo: bool) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"consensus": "#2a9d8f", "controversy": "#e9c46a", "rejection": "#e76f51", "limbo": "#8d99ae"}  # fmt: skip
    fig, ax = plt.subplots(figsize=(7.0, 5.0), dpi=150)
    size = 4 + 10 * np.log10(1 + scored["n_votes"].to_numpy(dtype=float)) / 4
    for zone in ZONES:
        chosen = scored["zone"] == zone
        ax.scatter(scored.loc[chosen, "agree"], scored.loc[chosen, "disagree"], s=size[chosen.to_numpy()],
                   c=colours[zone], alpha=0.45, linewidths=0, label=f"{ZONE_FR[zone]} (Make)")  # fmt: skip
    uncertain = scored["p_zone"] < 0.5
    ax.scatter(scored.loc[uncertain, "agree"], scored.loc[uncertain, "disagree"], s=18, facecolors="none",
               edgecolors="black", linewidths=0.6, label="zone Make de probabilité < 50 %")  # fmt: skip
    for x in (0.15, 0.6):
        ax.axvline(x, color="grey", lw=0.6, ls="--")
    for y in (0.15, 0.6):
        ax.axhline(y, color="grey", lw=0.6, ls="--")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("Score « pour » (Make)")
    ax.set_ylabel("Score « contre » (Make)")
    ax.legend(loc="upper right", fontsize=7, frameon=False)
    note = (
        "Source : consultation synthétique (" + DEMO_MARK.lower() + ")."
        if demo
        else "Source : export de la consultation."
    )
    fig.text(0.01, 0.01, note, fontsize=6, color="grey")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(
        path,
        metadata={"Software": None, "Creation Time": None}
        if path.suffix == ".pdf"
        else {"Software": None},
    )
    plt.close(fig)
    return path


def _render(
    report: Path,
    publications: Path,
    variables: dict[str, Any],
    day: _dt.date,
    demo: bool,
    renderer: str,
) -> tuple[dict[str, Path], str]:
    """Render ``report/agenda.qmd`` to ``publications/agenda-citoyen.{pdf,html}`` like the other
    publications: as a report project (Quarto when installed, else offline, ``renderer``) when
    the publishing toolkit has report projects, else with the offline renderer directly (then
    the date goes in the front matter)."""
    from barometre.publish import render as toolkit

    stamp = _dt.datetime.combine(day, _dt.time(12), tzinfo=_dt.UTC)
    source = report / "agenda.qmd"
    if hasattr(toolkit, "write_report_project") and hasattr(toolkit, "render_project"):
        metadata = toolkit.report_metadata(day.isoformat(), stamp.strftime("%Y-%m-%dT%H:%M:%S"), DEMO_MARK if demo else None)  # fmt: skip
        metadata["output-file"] = "agenda-citoyen"
        text = source.read_text(encoding="utf-8")
        _text(source, "\n".join(line for line in text.splitlines() if not line.startswith("date:")))
        toolkit.write_report_project(report, ["agenda.qmd"], Path("..", publications.name).as_posix(), metadata)  # fmt: skip
        done = toolkit.render_project(report, renderer, formats=("pdf", "html"))
        return dict(done.outputs["agenda-citoyen"]), done.renderer.name
    if renderer == "quarto":
        raise ConsultationBuildError("this version of the publishing toolkit renders offline only")
    outputs = toolkit.render_document(
        source, variables, publications, formats=("pdf", "html"),
        demo_mark=DEMO_MARK if demo else None, timestamp=stamp,
        output_stem="agenda-citoyen", resource_dir=report,
    )  # fmt: skip
    return outputs, "offline"


def build_consultation(
    input_path: Path | None = None,
    *,
    layout: str | None = None,
    demo: bool = False,
    name: str | None = None,
    title: str | None = None,
    build_root: Path = DEFAULT_BUILD_ROOT,
    engagement_path: Path | None = None,
    engagement_column: str = "score",
    cog_year: int = 2024,
    territory: str = DEFAULT_TERRITORY,
    weight: float = DEFAULT_WEIGHT,
    counter: str = "sequence",
    prior: float = DEFAULT_PRIOR,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    method: str = "mc",
    top: int = 10,
    demo_proposals: int = 10_000,
    demo_seed: int = demo_module.DEFAULT_SEED,
    max_quarantine_share: float = 0.10,
    render: bool = True,
    renderer: str = "auto",
) -> ConsultationBuild:
    """Build the consultation's tables and agenda (see the module docstring)."""
    started = time.perf_counter()
    timings: dict[str, float] = {}
    if demo == (input_path is not None):
        raise ConsultationBuildError("give either an input file or --demo")
    if layout not in (None, "counts", "opendata"):
        raise ConsultationBuildError(f"unknown layout {layout!r}: counts or opendata")
    territory_name, territory_deps = parse_territory(territory, cog_year)
    if demo:
        layout = layout or "counts"
        name = name or ("demo-mieux-vivre-en-ville" + ("-opendata" if layout == "opendata" else ""))
        title = title or demo_module.CONSULTATION_TITLE
    else:
        name = name or _slug(Path(input_path).stem)
        title = title or Path(input_path).stem
    out = Path(build_root) / name
    for folder in ("work", "tables", "report", "publications", "raw"):
        if (out / folder).exists():
            shutil.rmtree(out / folder)
    (out / "tables").mkdir(parents=True)
    result = ConsultationBuild(dir=out, layout="", demo=demo, proposals=0)

    # --- read -----------------------------------------------------------------------------
    tick = time.perf_counter()
    provenance = None
    if demo:
        written = demo_module.write_demo_consultation(out / "raw", layout=layout, n_proposals=demo_proposals, seed=demo_seed)  # fmt: skip
        input_path, provenance = written.path, written.provenance
    consultation: Consultation = read_consultation(Path(input_path), layout, max_quarantine_share=max_quarantine_share)  # fmt: skip
    layout = consultation.layout
    result.layout = layout
    proposals = consultation.proposals
    result.proposals = len(proposals)
    write_csv_atomic(consultation.quarantine, out / "work" / "quarantine.csv")
    timings["read"] = time.perf_counter() - tick

    # --- score ------------------------------------------------------------------------------
    tick = time.perf_counter()
    if layout == "counts":
        scored = score_consultation(proposals, weight=weight, counter=counter, prior=prior, draws=draws, seed=seed, method=method)  # fmt: skip
        scored["p_zone"] = upstream_zone_probability(scored)
    else:
        scored = opendata_scores(proposals, prior=prior)
    timings["score"] = time.perf_counter() - tick

    # --- themes ------------------------------------------------------------------------------
    tick = time.perf_counter()
    assigned = assign_themes(proposals)
    themes = theme_table(assigned, scored)
    by_id = (
        assigned[assigned["theme"] != UNCLASSIFIED].groupby("id", sort=False)["theme"].agg("|".join)
    )
    timings["themes"] = time.perf_counter() - tick

    # --- ranking -------------------------------------------------------------------------------
    tick = time.perf_counter()
    ranking = rank_proposals(proposals, counter=counter, prior=prior, top=top, tau=top, seed=seed)
    timings["ranking"] = time.perf_counter() - tick

    # --- territories -----------------------------------------------------------------------------
    tick = time.perf_counter()
    has_location = any(c in proposals for c in ("author_department", "author_postal_code"))
    located = terr.author_departments(proposals, cog_year) if has_location else None
    by_dep = by_reg = None
    correlations: list[dict[str, object]] = []
    engagement_note = ""
    engagement_input: dict[str, str] | None = None
    if located is not None:
        write_csv_atomic(located, out / "work" / "author_departments.csv")
        scored_for_terr = scored if "zone" in scored else scored.assign(zone="")
        by_dep, by_reg = terr.participation(scored_for_terr, located, cog_year)
        engagement_file = engagement_path
        if engagement_file is None and demo and DEFAULT_ENGAGEMENT.is_file():
            engagement_file = DEFAULT_ENGAGEMENT
        if engagement_file is not None:
            try:
                communes = pd.read_csv(engagement_file, dtype={"code_departement": str, "code_region": str, "code_commune": str})  # fmt: skip
                eng_dep, eng_reg = terr.engagement(communes, engagement_column)
            except (OSError, ValueError, pd.errors.ParserError) as err:
                raise ConsultationBuildError(f"engagement table {engagement_file}: {err}") from None
            by_dep["engagement"] = by_dep["code_departement"].map(eng_dep)
            by_reg["engagement"] = by_reg["code_region"].map(eng_reg)
            for level, table in (("département", by_dep), ("région", by_reg)):
                correlations.append(terr.rank_correlation(table["proposals_per_100k"], table["engagement"], level=level, measure=f"propositions pour 100 000 habitants × {engagement_column}").as_row())  # fmt: skip
            engagement_note = f"{engagement_column} des communes de {Path(engagement_file).name}"
            engagement_input = {
                "file": str(engagement_file),
                "column": engagement_column,
                "sha256": sha256_file(Path(engagement_file)),
            }
    timings["territories"] = time.perf_counter() - tick

    # --- tables ------------------------------------------------------------------------------------
    tick = time.perf_counter()
    tables = out / "tables"
    content = proposals.set_index("id")["content"] if "content" in proposals else pd.Series("", index=proposals["id"])  # fmt: skip
    published = scored.copy()
    published.insert(1, "content", published["id"].map(content).fillna(""))
    published.insert(2, "themes", published["id"].map(by_id).fillna(""))
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
    save(themes, "themes")
    save(lexicon_table(), "lexique")
    save(ranking.table.assign(content=ranking.table["id"].map(content).fillna("")), "classement")
    if by_dep is not None:
        save(terr.protect_counts(by_dep), "territoires_departements")
        save(terr.protect_counts(by_reg), "territoires_regions")
        if correlations:
            save(pd.DataFrame(correlations), "correlations")
        top_local = terr.top_of_territory(published, located, territory_deps, n=top)
        save(top_local, f"territoire_{_slug(territory_name)}")
    if consultation.age_bands is not None:
        save(consultation.age_bands, "ages")
    result.tables = written

    # --- report --------------------------------------------------------------------------------------
    report = out / "report"
    md = report / "tables"
    md.mkdir(parents=True)
    shutil.copyfile(TEMPLATE, report / "agenda.qmd")
    n = len(proposals)
    total_votes = int(scored["n_votes"].sum())
    unclassified = themes.loc[themes["theme"] == UNCLASSIFIED, "proposals"].sum() / n if n else 0.0
    dates = pd.to_datetime(proposals["date_created"], errors="coerce") if "date_created" in proposals else pd.Series(dtype="datetime64[ns]")  # fmt: skip
    period = (
        f"du {fr_date(dates.min().date())} au {fr_date(dates.max().date())}" if dates.notna().any() else "sur une période non précisée"
    )  # fmt: skip
    _text(md / "demo_mark.md", f"::: {{.demo-mark}}\n{DEMO_MARK}\n:::" if demo else "")
    quarantine_text = (
        f"{fr_number(consultation.quarantined)} ligne(s) écartée(s) car hors du contrat du format (quarantaine, motifs dans le dossier de travail)"
        if consultation.quarantined else "aucune ligne écartée"
    )  # fmt: skip
    _text(md / "lead.md", (
        f"Cet agenda citoyen lit la consultation « {escape_markdown(title)} » : {fr_number(n)} propositions "
        f"« Il faut… » déposées {period}, et les {fr_number(total_votes)} votes « pour », « contre » ou "
        "« neutre » qu'elles ont reçus. Il dit ce qui fait consensus, ce qui divise et ce qui est rejeté, "
        "avec le degré de certitude que permettent les votes."
        + (" **Toutes les données de ce document sont synthétiques.**" if demo else "")
    ))  # fmt: skip
    _text(md / "reading.md", (
        f"Fichier lu : format « {'comptages par proposition' if layout == 'counts' else 'données ouvertes Make.org'} », "
        f"{fr_number(consultation.rows_read)} lignes lues, {fr_number(n)} retenues, {quarantine_text}. "
        + ("Le prénom et l'âge des auteurs ne servent qu'à compter les auteurs par tranche d'âge, puis sont écartés ; ils ne figurent dans aucun tableau (tranches d'au moins 11 auteurs)."
           if layout == "opendata" else "Aucune donnée personnelle d'auteur n'est lue.")
        + (
            "\n\n" + dataframe_to_markdown(
                consultation.age_bands.rename(columns={"age_band": "Âge de l'auteur", "authors": "Auteurs", "proposals": "Propositions"}),
                align={"Auteurs": "right", "Propositions": "right"},
                caption="Auteurs (prénom et âge distincts) et propositions par tranche d'âge ; tranches de moins de 11 auteurs non publiées.",
            )
            if consultation.age_bands is not None else ""
        )
    ))  # fmt: skip
    if dates.notna().any():
        report_day = dates.max().date()
    elif demo:
        report_day = _dt.date(2025, 6, 30)  # the end of the demo consultation's period
    else:
        report_day = _dt.date.today()
    variables: dict[str, Any] = {
        "title": f"Agenda citoyen « {title} »",
        "subtitle": ("Données de démonstration synthétiques · " if demo else "")
        + "ce que proposent les participants, et avec quelle certitude",
        "consultation": title,
        "year": str(report_day.year),
        "date": fr_date(report_day),
        "key": {
            "proposals": fr_number(n),
            "votes": fr_number(total_votes),
            "unclassified": _pct(unclassified),
        },
    }
    consensus_list = lists["consensus"].head(top)
    if layout == "counts":
        n_consensus = int((scored["p_consensus"] >= CONFIDENCE).sum())
        variables["key"].update(
            consensus=fr_number(n_consensus),
            consensus_label=f"consensus établis (probabilité ≥ {_pct(CONFIDENCE)})",
        )
        make_consensus = int((scored["zone"] == "consensus").sum())
        _text(md / "consensus_intro.md", (
            f"Make.org range {fr_number(make_consensus)} propositions en zone de consensus (score « pour » d'au moins 60 %, "
            f"ou « contre » sous 15 % et « neutre » sous 40 %). Pour {fr_number(n_consensus)} d'entre elles au moins, "
            f"la probabilité a posteriori d'être en consensus atteint {_pct(CONFIDENCE)} : ce sont les consensus établis. "
            f"Les {fr_number(len(consensus_list))} premières, par borne basse du score d'adhésion de Make.org (« pour », « coup de cœur », "
            "« réaliste », moins les rejets et les banalités ; le score moins sa demi-largeur, pour ne pas placer en tête "
            "les propositions de quelques votes) :"
        ))  # fmt: skip
        table = pd.DataFrame({
            "Proposition": [_prop(t) for t in consensus_list["content"]],
            "Votes": [_votes(v) for v in consensus_list["n_votes"]],
            "Pour": [_pct(v) for v in consensus_list["agree"]],
            "P(consensus)": [_pct(v) for v in consensus_list["p_consensus"]],
        })  # fmt: skip
        _text(md / "consensus.md", dataframe_to_markdown(table, align={"Votes": "right", "Pour": "right", "P(consensus)": "right"}, caption="Consensus établis (probabilité de consensus ≥ 90 %), par borne basse du score d'adhésion."))  # fmt: skip
        contro = lists["controversies"].head(top)
        _text(md / "controversies_intro.md", (
            f"{fr_number(int((scored['p_controversy'] >= CONFIDENCE).sum()))} propositions divisent avec une probabilité "
            f"d'au moins {_pct(CONFIDENCE)} : ni consensus, ni rejet, peu de neutres. Les plus disputées "
            "(borne basse du score de controverse : le plus petit de « pour » et « contre », plus le plus petit de « coup de cœur » "
            "et « surtout pas ! », moins sa demi-largeur) :"
        ))  # fmt: skip
        _text(md / "controversies.md", dataframe_to_markdown(pd.DataFrame({
            "Proposition": [_prop(t) for t in contro["content"]],
            "Votes": [_votes(v) for v in contro["n_votes"]],
            "Pour": [_pct(v) for v in contro["agree"]],
            "Contre": [_pct(v) for v in contro["disagree"]],
            "P(controverse)": [_pct(v) for v in contro["p_controversy"]],
        }), align={"Votes": "right", "Pour": "right", "Contre": "right", "P(controverse)": "right"}, caption="Controverses établies (probabilité ≥ 90 %), par borne basse du score de controverse."))  # fmt: skip
        rej = lists["rejections"].head(top)
        _text(md / "rejections_intro.md", (
            f"{fr_number(int((scored['p_rejection'] >= CONFIDENCE).sum()))} propositions sont rejetées avec une probabilité "
            f"d'au moins {_pct(CONFIDENCE)} (« contre » d'au moins 60 %, ou « pour » sous 15 % et « neutre » sous 40 %). "
            "Les plus nettement rejetées (borne basse du score de rejet) :"
        ))  # fmt: skip
        _text(md / "rejections.md", dataframe_to_markdown(pd.DataFrame({
            "Proposition": [_prop(t) for t in rej["content"]],
            "Votes": [_votes(v) for v in rej["n_votes"]],
            "Contre": [_pct(v) for v in rej["disagree"]],
            "P(rejet)": [_pct(v) for v in rej["p_rejection"]],
        }), align={"Votes": "right", "Contre": "right", "P(rejet)": "right"}, caption="Rejets établis (probabilité ≥ 90 %), par borne basse du score de rejet."))  # fmt: skip
        crosstab = zone_crosstab(scored)
        uncertain = scored[scored["p_zone"] < 0.5]
        differ = int((scored["zone"] != scored["zone_probable"]).sum())
        few = int((scored["n_votes"] < 30).sum())
        few_uncertain = int((uncertain["n_votes"] < 30).sum())
        _text(md / "zones_text.md", (
            "Make.org lit la zone d'une proposition sur ses scores ponctuels : trois votes « pour » sur trois "
            "la placent en consensus aussi fermement que trois mille. Nous lisons la même règle sur les vraies "
            "parts de votes, inconnues, dont les votes donnent une loi a posteriori (Dirichlet) : chaque "
            "proposition reçoit une probabilité par zone. "
            f"Pour {fr_number(len(uncertain))} des {fr_number(n)} propositions ({_pct(len(uncertain) / n if n else 0, 1)}), "
            f"la zone de Make.org a une probabilité inférieure à 50 %, et pour {fr_number(differ)} la zone la plus "
            "probable n'est pas celle de Make.org. Ce sont des propositions proches d'un seuil (60 %, 40 %, 15 %) "
            f"ou peu votées : {_pct(few_uncertain / len(uncertain) if len(uncertain) else 0)} d'entre elles ont moins de 30 votes, "
            f"contre {_pct(few / n if n else 0)} de l'ensemble. Les deux lectures, proposition par proposition :"
        ))  # fmt: skip
        labels = {z: ZONE_FR[z].capitalize() for z in ZONES}
        table = crosstab.rename(index=labels, columns=labels)
        table.index = [f"Make : {i}" for i in table.index]
        table = table.reset_index().rename(
            columns={"index": "Zone Make.org \\ zone la plus probable"}
        )
        _text(md / "zones.md", dataframe_to_markdown(table, caption="Propositions par zone de Make.org (lignes) et zone la plus probable a posteriori (colonnes)."))  # fmt: skip
        figure = _zones_figure(scored, report / "figures" / "zones.png", demo)
        _text(md / "zones_figure.md", f"![Scores « pour » et « contre » de chaque proposition, zone de Make.org ; cerclées, les propositions dont la zone Make.org a une probabilité inférieure à 50 %.]({figure.relative_to(report).as_posix()}){{width=80%}}")  # fmt: skip
    else:
        n_consensus = int((scored["p_agree_60"] >= CONFIDENCE).sum())
        variables["key"].update(
            consensus=fr_number(n_consensus),
            consensus_label=f"adhésions d'au moins 60 % établies (probabilité ≥ {_pct(CONFIDENCE)})",
        )
        _text(md / "consensus_intro.md", (
            "Le format des données ouvertes ne donne que la part de votes « pour » (adhésion) : il suffit à établir la "
            f"première condition du consensus (au moins 60 % de « pour »), atteinte avec une probabilité d'au moins {_pct(CONFIDENCE)} "
            f"par {fr_number(n_consensus)} propositions. Les {fr_number(len(consensus_list))} plus soutenues :"
        ))  # fmt: skip
        _text(md / "consensus.md", dataframe_to_markdown(pd.DataFrame({
            "Proposition": [_prop(t) for t in consensus_list["content"]],
            "Votes": [_votes(v) for v in consensus_list["n_votes"]],
            "Adhésion": [_pct(v) for v in consensus_list["adhesion"]],
            "Intervalle à 95 %": [f"{_pct(lo)} – {_pct(hi)}" for lo, hi in zip(consensus_list["adhesion_low"], consensus_list["adhesion_high"], strict=True)],
        }), align={"Votes": "right", "Adhésion": "right"}, caption="Adhésion d'au moins 60 % établie (probabilité ≥ 90 %)."))  # fmt: skip
        _text(md / "controversies_intro.md", "Une controverse se lit sur la part de « contre » et de « neutres », que le format des données ouvertes ne donne pas : elle n'est pas calculée ici. Le format des comptages par proposition la permet.")  # fmt: skip
        _text(md / "controversies.md", "")
        rej = lists["rejections"].head(top)
        _text(md / "rejections_intro.md", (
            "Sans la part de « contre », un rejet ne peut pas être établi ; une adhésion sous 40 % en est la condition "
            f"nécessaire. {fr_number(int((scored['p_agree_below_40'] >= CONFIDENCE).sum()))} propositions ont une adhésion "
            f"sous 40 % avec une probabilité d'au moins {_pct(CONFIDENCE)} : des rejets possibles, les moins soutenues d'abord."
        ))  # fmt: skip
        _text(md / "rejections.md", dataframe_to_markdown(pd.DataFrame({
            "Proposition": [_prop(t) for t in rej["content"]],
            "Votes": [_votes(v) for v in rej["n_votes"]],
            "Adhésion": [_pct(v) for v in rej["adhesion"]],
        }), align={"Votes": "right", "Adhésion": "right"}, caption="Rejets possibles : adhésion sous 40 % établie (probabilité ≥ 90 %)."))  # fmt: skip
        _text(md / "zones_text.md", "Les zones de Make.org (consensus, controverse, rejet, indécis) demandent les parts de « contre » et de « neutres », absentes du format des données ouvertes : seule l'adhésion est lue ici, avec son intervalle.")  # fmt: skip
        _text(md / "zones.md", "")
        _text(md / "zones_figure.md", "")
    # ranking
    rt = ranking.table
    first = rt.iloc[0] if len(rt) else None
    _text(md / "ranking_text.md", (
        f"Classer les propositions par part de « pour » est tentant. Les ensembles de confiance des rangs "
        f"(Mogstad, Romano, Shaikh et Wilhelm, 2024 ; la méthode du palmarès du baromètre) disent ce que les votes "
        f"permettent : la proposition la plus soutenue a un rang compris, avec 95 % de confiance, entre "
        f"{fr_number(int(first['rank_lower']))} et {fr_number(int(first['rank_upper']))} sur {fr_number(ranking.proposals)} ; "
        f"l'ensemble qui contient, avec 95 % de confiance, les {fr_number(ranking.tau)} propositions les plus soutenues "
        f"compte {fr_number(ranking.tau_best_size)} propositions. "
        + ("Avec quelques centaines de votes par proposition, un classement fin n'a pas de sens : les zones, elles, sont établies pour l'essentiel des propositions."
           if ranking.tau_best_size > 3 * ranking.tau else "Le haut du classement est ici bien établi.")
    ) if first is not None else "")  # fmt: skip
    _text(md / "ranking.md", dataframe_to_markdown(pd.DataFrame({
        "Proposition": [_prop(t) for t in rt["id"].map(content).fillna("")],
        "Pour": [_pct(v, 1) for v in rt["agree_share"]],
        "Rang": [fr_number(int(v)) for v in rt["rank"]],
        "Rang, intervalle à 95 %": [f"{fr_number(int(lo))} – {fr_number(int(hi))}" for lo, hi in zip(rt["rank_lower"], rt["rank_upper"], strict=True)],
    }), align={"Pour": "right", "Rang": "right"}, caption=f"Les {fr_number(len(rt))} propositions à la plus forte part de « pour » et l'intervalle de confiance de leur rang (marginal, 95 %)."))  # fmt: skip
    # themes
    keywords_share = (
        float((assigned.groupby("id")["source"].first() == "keywords").mean()) if n else 0.0
    )
    origin = (
        f"Les thèmes viennent des mots-clés de l'export quand une proposition en a ({_pct(keywords_share)} des propositions), "
        "sinon d'un lexique déclaré de thèmes de la vie urbaine (publié avec les tableaux : `lexique.csv`). "
        if keywords_share > 0 else
        "L'export ne porte pas de mots-clés : les thèmes viennent d'un lexique déclaré de thèmes de la vie urbaine, "
        "lu sur le texte des propositions (publié avec les tableaux : `lexique.csv`). "
    )  # fmt: skip
    _text(md / "themes_text.md", (
        origin
        + "Une proposition peut relever de plusieurs thèmes : les parts ne s'additionnent pas à 100 %. "
        f"{_pct(unclassified, 1)} des propositions ne relèvent d'aucun thème reconnu ; elles restent comptées."
    ))  # fmt: skip
    theme_md = pd.DataFrame({
        "Thème": [escape_markdown(str(t)) for t in themes["theme"]],
        "Propositions": [fr_number(v) for v in themes["proposals"]],
        "Part des propositions": [_pct(v, 1) for v in themes["share_proposals"]],
        "Part des votes": [_pct(v, 1) for v in themes["share_votes"]],
        **({"Consensus (Make)": [fr_number(v) for v in themes["consensus"]]} if "consensus" in themes else {}),
    })  # fmt: skip
    _text(md / "themes.md", dataframe_to_markdown(theme_md, align={c: "right" for c in theme_md.columns[1:]}, caption="Propositions et votes par thème (une proposition peut compter dans plusieurs thèmes)."))  # fmt: skip
    # territories
    if by_reg is not None:
        status = located["status"].value_counts()
        located_share = status.get("located", 0) / n if n else 0.0
        corr_text = ""
        if correlations:
            c_dep = correlations[0]
            c_reg = correlations[1]
            corr_text = (
                f" Rapportée à la population, la participation (propositions pour 100 000 habitants) se compare à "
                f"l'engagement mesuré par le baromètre (moyenne, pondérée par la population, du {escape_markdown(engagement_note)}) : corrélation de rang de Spearman {fr_number(c_dep['spearman_rho'], 2)} sur "
                f"{fr_number(c_dep['n'])} départements (intervalle à 95 % : {fr_number(c_dep['low'], 2)} à {fr_number(c_dep['high'], 2)}), "
                f"{fr_number(c_reg['spearman_rho'], 2)} sur {fr_number(c_reg['n'])} régions "
                f"({fr_number(c_reg['low'], 2)} à {fr_number(c_reg['high'], 2)})."
                + (" Les deux sources étant synthétiques et indépendantes par construction, une corrélation compatible avec zéro est attendue." if demo else "")
            )  # fmt: skip
        else:
            corr_text = " Aucune table d'engagement du baromètre n'a été fournie (option `--engagement`) : la comparaison n'est pas calculée."
        _text(md / "territories_text.md", (
            f"Le département de l'auteur est connu pour {fr_number(int(status.get('located', 0)))} propositions "
            f"({_pct(located_share)}) ; les autres ne sont pas localisées et ne comptent pas ici. Les votes ne sont pas "
            "localisés dans les exports : seule la participation par dépôt de propositions se rapporte aux territoires."
            + corr_text
        ))  # fmt: skip
        regions_table = by_reg.sort_values("proposals_per_100k", ascending=False)
        _text(md / "regions.md", dataframe_to_markdown(pd.DataFrame({
            "Région": [escape_markdown(str(v)) for v in regions_table["nom"]],
            "Propositions": [_votes(v) for v in regions_table["proposals"]],
            "Pour 100 000 habitants": [fr_number(v, 1) if 0 == p or p >= DEFAULT_THRESHOLD else "n.d." for v, p in zip(regions_table["proposals_per_100k"], regions_table["proposals"], strict=True)],
            **({"Engagement (baromètre)": [fr_number(v, 1) if pd.notna(v) else "n.d." for v in regions_table["engagement"]]} if "engagement" in regions_table else {}),
        }), align={"Propositions": "right", "Pour 100 000 habitants": "right", **({"Engagement (baromètre)": "right"} if "engagement" in regions_table else {})}, caption="Participation par région de l'auteur (les effectifs de moins de 11 propositions ne sont pas publiés)."))  # fmt: skip
        local = terr.top_of_territory(published, located, territory_deps, n=top)
        n_local = int(located["code_departement"].isin(territory_deps).sum())
        if len(local):
            _text(md / "territory_top.md", (
                f"**{escape_markdown(territory_name)}.** Parmi les {fr_number(n_local) if n_local >= DEFAULT_THRESHOLD else 'moins de 11'} "
                "propositions d'auteurs localisés dans le territoire, celles qui font le plus consensus :\n\n"
                + dataframe_to_markdown(pd.DataFrame({
                    "Proposition": [_prop(t) for t in local["content"]],
                    "Votes": [_votes(v) for v in local["n_votes"]],
                    ("P(consensus)" if "p_consensus" in local else "Adhésion"): [_pct(v) for v in (local["p_consensus"] if "p_consensus" in local else local["adhesion"])],
                }), align={"Votes": "right"}, caption=f"Propositions des habitants du territoire {escape_markdown(territory_name)} (auteur localisé).")
            ))  # fmt: skip
        else:
            _text(
                md / "territory_top.md",
                f"Aucune proposition d'un auteur localisé dans le territoire {escape_markdown(territory_name)}.",
            )
    else:
        _text(md / "territories_text.md", "L'export ne dit pas où vivent les auteurs : la participation ne se rapporte pas aux territoires et la comparaison avec l'engagement mesuré par le baromètre n'est pas possible.")  # fmt: skip
        _text(md / "regions.md", "")
        _text(md / "territory_top.md", "")
    # method
    method_lines = [
        "- **Données.** "
        + (f"{DEMO_MARK} : une consultation « {escape_markdown(title)} » générée (graine {demo_seed}) aux ordres de grandeur réalistes — aucune donnée, aucune personne réelle. "
           if demo else "")
        + "Les formats lus et leurs contrôles sont décrits dans `data/README.md` ; les lignes hors contrat sont écartées avec leur motif et les comptes se réconcilient (lues = retenues + écartées).",
        "- **Une consultation n'est pas un sondage.** Les participants se sont choisis ; les propositions qui arrivent tôt sont plus montrées ; les votes mesurent l'avis des votants, pas celui de la population.",
    ]  # fmt: skip
    if layout == "counts":
        method_lines += [
            f"- **Scores et zones de Make.org.** Ré-implémentés d'après leur définition publiée (lissage 0,33 des votes et 0,01 des qualifications, poids {fr_number(weight, 2)} des votes vérifiés, demi-largeurs sur la séquence) et vérifiés à 10⁻⁹ sur le cas de référence de Make.org. Une proposition sans vote y est en « controverse ».",
            f"- **Lecture probabiliste.** Parts de votes de la séquence aléatoire (le compteur `{counter}`) de loi a posteriori Dirichlet (a priori {fr_number(prior, 2)} par part) ; probabilité de chaque zone estimée par {fr_number(draws)} tirages (graine {seed})" + (" ; calculée par quadrature" if method == "quadrature" else "") + ". Une liste de l'agenda ne retient que les propositions dont la zone a une probabilité d'au moins 90 %.",
        ]  # fmt: skip
    else:
        method_lines.append("- **Données ouvertes.** L'adhésion est une part de « pour » publiée ; les votes « pour » en sont déduits (votes × adhésion, arrondi). Score et engagement publiés par Make.org sont repris tels quels, sans être recalculés.")  # fmt: skip
    method_lines += [
        "- **Classement.** Ensembles de confiance des rangs (Mogstad et al. 2024) sur la part de « pour », approximation normale ; marginaux pour les premières propositions, ensemble des τ meilleures pour tout le classement.",
        "- **Thèmes.** Mots-clés de l'export, sinon lexique déclaré (racines de mots, sans analyse du sens) : des propositions mal classées ou non classées existent ; leur part est publiée.",
        "- **Territoires.** Population légale du COG " + str(cog_year) + " ; corrélation de Spearman avec un intervalle de Fisher (variance de Bonett et Wright) ; les effectifs de moins de 11 propositions ne sont pas publiés.",
    ]  # fmt: skip
    _text(md / "method.md", "\n".join(method_lines))
    variables_path = report / "_variables.yml"
    _text(variables_path, yaml.safe_dump(variables, allow_unicode=True, sort_keys=True))
    timings["report"] = time.perf_counter() - tick

    # --- render ----------------------------------------------------------------------------------------
    tick = time.perf_counter()
    if render:
        result.publications, result.renderer = _render(report, out / "publications", variables, report_day, demo, renderer)  # fmt: skip
    timings["render"] = time.perf_counter() - tick
    timings["total"] = time.perf_counter() - started
    result.timings = timings

    summary = {
        "rows_read": consultation.rows_read,
        "accepted": consultation.accepted,
        "quarantined": consultation.quarantined,
        "votes": total_votes,
        "consensus": int(n_consensus),
        "tau_best_size": ranking.tau_best_size,
        "unclassified_share": float(unclassified),
        "correlations": correlations,
    }
    if layout == "counts":
        summary["zones_make"] = {z: int((scored["zone"] == z).sum()) for z in ZONES}
        summary["uncertain_make_zone"] = int((scored["p_zone"] < 0.5).sum())
        summary["top_consensus"] = [str(t) for t in consensus_list["content"].head(5)]
    result.summary = summary
    import scipy

    manifest = {
        "consultation": title,
        "layout": layout,
        "demo": demo,
        "mark": DEMO_MARK if demo else "",
        "input": {"file": Path(input_path).name, "sha256": sha256_file(Path(input_path))},
        "demo_provenance": provenance.name if provenance else None,
        "engagement_input": engagement_input,
        "parameters": {
            "weight": weight, "counter": counter, "prior": prior, "draws": draws, "seed": seed,
            "method": method, "confidence": CONFIDENCE, "top": top, "cog_year": cog_year,
            "territory": territory, "engagement": engagement_note or None,
            "max_quarantine_share": max_quarantine_share,
        },
        "summary": summary,
        "renderer": result.renderer or None,
        "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
        "outputs": {
            str(p.relative_to(out)): sha256_file(p)
            for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "manifest.json" and not p.relative_to(out).parts[0].startswith(".")
        },
        "versions": {
            "python": platform.python_version(), "numpy": np.__version__, "pandas": pd.__version__,
            "scipy": scipy.__version__,
        },
    }  # fmt: skip
    result.manifest = _text(
        out / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2, default=str)
    )
    return result
