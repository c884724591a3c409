"""The « Agenda citoyen » of a consultation build: every number of the report, written here.

Report pages compute nothing: :func:`write_agenda` writes each Markdown partial of
``report/tables/`` (lead, agenda lists, zones and their figure, ranking, themes, territories,
method) and returns the ``_variables.yml`` values. Each partial has its own function, fed by one
:class:`AgendaInputs` that gathers what the build's stages produced.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from barometre.consultation import demo as demo_module
from barometre.consultation import territories as terr
from barometre.consultation.figures import ZONE_FR, zones_figure
from barometre.consultation.ranking import ProposalRanking
from barometre.consultation.readers import Consultation
from barometre.consultation.scoring import ZONES, zone_crosstab
from barometre.consultation.stages import CONFIDENCE, TerritoryStage, ThemeStage
from barometre.consultation.themes import UNCLASSIFIED
from barometre.disclosure import DEFAULT_THRESHOLD
from barometre.publish.fmt import (
    dataframe_to_markdown,
    escape_markdown,
    fr_date,
    fr_number,
    fr_percent,
)

DEMO_MARK = demo_module.DEMO_MARK


def _text(path: Path, text: str) -> Path:
    from barometre.io import atomic_write_text

    atomic_write_text(path, text.rstrip() + "\n")
    return path


def _pct(value: float, decimals: int = 0) -> str:
    return fr_percent(100 * value, decimals) if pd.notna(value) else "n.d."


def _votes(value: object) -> str:
    return f"< {DEFAULT_THRESHOLD}" if 0 < int(value) < DEFAULT_THRESHOLD else fr_number(int(value))


def _prop(text: object) -> str:
    return escape_markdown(str(text)) if str(text) else "(texte non fourni)"


@dataclass(frozen=True)
class AgendaInputs:
    """What the agenda reads: the build's options and the results of its stages."""

    report: Path
    consultation: Consultation
    scored: pd.DataFrame
    published: pd.DataFrame
    lists: dict[str, pd.DataFrame]
    themes: ThemeStage
    ranking: ProposalRanking
    content: pd.Series
    territories: TerritoryStage
    territory_name: str
    territory_deps: list[str]
    title: str
    layout: str
    demo: bool
    top: int
    weight: float
    counter: str
    prior: float
    draws: int
    seed: int
    method: str
    demo_seed: int
    cog_year: int

    @property
    def n(self) -> int:
        """Number of proposals read."""
        return len(self.consultation.proposals)


@dataclass(frozen=True)
class Agenda:
    """The agenda's key figures: its ``_variables.yml`` values and what the build summarises."""

    variables: dict[str, Any]
    report_day: _dt.date
    total_votes: int
    unclassified: float
    n_consensus: int
    consensus_list: pd.DataFrame


def write_agenda(a: AgendaInputs) -> Agenda:
    """Write every Markdown partial of ``report/tables/`` and ``report/_variables.yml``."""
    md = a.report / "tables"
    n = a.n
    total_votes = int(a.scored["n_votes"].sum())
    themes = a.themes.themes
    unclassified = themes.loc[themes["theme"] == UNCLASSIFIED, "proposals"].sum() / n if n else 0.0
    dates = _dates(a.consultation.proposals)
    _write_lead(a, md, dates, total_votes)
    report_day = _report_day(dates, a.demo)
    variables = _variables(a, report_day, total_votes, unclassified)
    consensus_list = a.lists["consensus"].head(a.top)
    if a.layout == "counts":
        n_consensus = _write_counts_lists(a, md, variables, consensus_list)
        _write_counts_zones(a, md)
    else:
        n_consensus = _write_opendata_lists(a, md, variables, consensus_list)
    _write_ranking(a, md)
    _write_themes(a, md, unclassified)
    _write_territories(a, md)
    _text(md / "method.md", "\n".join(_method_lines(a)))
    variables_path = a.report / "_variables.yml"
    _text(variables_path, yaml.safe_dump(variables, allow_unicode=True, sort_keys=True))
    return Agenda(variables, report_day, total_votes, unclassified, n_consensus, consensus_list)


def _proposal_table(frame: pd.DataFrame, shares: dict[str, str]) -> pd.DataFrame:
    """An agenda table of proposals: the text, the votes (small counts masked) and, for each
    ``header: column`` of ``shares``, that share of ``frame`` as a whole percentage."""
    return pd.DataFrame({
        "Proposition": [_prop(t) for t in frame["content"]],
        "Votes": [_votes(v) for v in frame["n_votes"]],
        **{header: [_pct(v) for v in frame[column]] for header, column in shares.items()},
    })  # fmt: skip


def _dates(proposals: pd.DataFrame) -> pd.Series:
    """Creation dates of the proposals (empty when the export has none)."""
    return pd.to_datetime(proposals["date_created"], errors="coerce") if "date_created" in proposals else pd.Series(dtype="datetime64[ns]")  # fmt: skip


def _report_day(dates: pd.Series, demo: bool) -> _dt.date:
    """The agenda's date: the last proposal's, else the demo period's end, else today."""
    if dates.notna().any():
        return dates.max().date()
    if demo:
        return _dt.date(2025, 6, 30)  # the end of the demo consultation's period
    return _dt.date.today()


def _write_lead(a: AgendaInputs, md: Path, dates: pd.Series, total_votes: int) -> None:
    """The demo mark, the lead paragraph and what was read (with the authors' age bands)."""
    consultation, title, demo, layout, n = a.consultation, a.title, a.demo, a.layout, a.n
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


def _variables(
    a: AgendaInputs, report_day: _dt.date, total_votes: int, unclassified: float
) -> dict[str, Any]:
    """The ``_variables.yml`` values before the agenda lists add their consensus count."""
    title, demo, n = a.title, a.demo, a.n
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
    return variables


def _write_counts_lists(
    a: AgendaInputs, md: Path, variables: dict[str, Any], consensus_list: pd.DataFrame
) -> int:
    """Counts layout: the established consensus, controversies and rejections; returns the
    number of established consensus."""
    scored, lists, top = a.scored, a.lists, a.top
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
    table = _proposal_table(consensus_list, {"Pour": "agree", "P(consensus)": "p_consensus"})
    _text(md / "consensus.md", dataframe_to_markdown(table, align={"Votes": "right", "Pour": "right", "P(consensus)": "right"}, caption="Consensus établis (probabilité de consensus ≥ 90 %), par borne basse du score d'adhésion."))  # fmt: skip
    contro = lists["controversies"].head(top)
    _text(md / "controversies_intro.md", (
        f"{fr_number(int((scored['p_controversy'] >= CONFIDENCE).sum()))} propositions divisent avec une probabilité "
        f"d'au moins {_pct(CONFIDENCE)} : ni consensus, ni rejet, peu de neutres. Les plus disputées "
        "(borne basse du score de controverse : le plus petit de « pour » et « contre », plus le plus petit de « coup de cœur » "
        "et « surtout pas ! », moins sa demi-largeur) :"
    ))  # fmt: skip
    _text(md / "controversies.md", dataframe_to_markdown(_proposal_table(contro, {"Pour": "agree", "Contre": "disagree", "P(controverse)": "p_controversy"}), align={"Votes": "right", "Pour": "right", "Contre": "right", "P(controverse)": "right"}, caption="Controverses établies (probabilité ≥ 90 %), par borne basse du score de controverse."))  # fmt: skip
    rej = lists["rejections"].head(top)
    _text(md / "rejections_intro.md", (
        f"{fr_number(int((scored['p_rejection'] >= CONFIDENCE).sum()))} propositions sont rejetées avec une probabilité "
        f"d'au moins {_pct(CONFIDENCE)} (« contre » d'au moins 60 %, ou « pour » sous 15 % et « neutre » sous 40 %). "
        "Les plus nettement rejetées (borne basse du score de rejet) :"
    ))  # fmt: skip
    _text(md / "rejections.md", dataframe_to_markdown(_proposal_table(rej, {"Contre": "disagree", "P(rejet)": "p_rejection"}), align={"Votes": "right", "Contre": "right", "P(rejet)": "right"}, caption="Rejets établis (probabilité ≥ 90 %), par borne basse du score de rejet."))  # fmt: skip
    return n_consensus


def _write_counts_zones(a: AgendaInputs, md: Path) -> None:
    """Counts layout: Make.org's zones against the most probable zone, text, table and figure."""
    scored, n, report, demo = a.scored, a.n, a.report, a.demo
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
    table = table.reset_index().rename(columns={"index": "Zone Make.org \\ zone la plus probable"})
    _text(md / "zones.md", dataframe_to_markdown(table, caption="Propositions par zone de Make.org (lignes) et zone la plus probable a posteriori (colonnes)."))  # fmt: skip
    figure = zones_figure(scored, report / "figures" / "zones.png", demo)
    _text(md / "zones_figure.md", f"![Scores « pour » et « contre » de chaque proposition, zone de Make.org ; cerclées, les propositions dont la zone Make.org a une probabilité inférieure à 50 %.]({figure.relative_to(report).as_posix()}){{width=80%}}")  # fmt: skip


def _write_opendata_lists(
    a: AgendaInputs, md: Path, variables: dict[str, Any], consensus_list: pd.DataFrame
) -> int:
    """Open-data layout: established adhesions and possible rejections (no zones, no
    controversies); returns the number of established adhesions of at least 60 %."""
    scored, lists, top = a.scored, a.lists, a.top
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
    table = _proposal_table(consensus_list, {"Adhésion": "adhesion"})
    table["Intervalle à 95 %"] = [f"{_pct(lo)} – {_pct(hi)}" for lo, hi in zip(consensus_list["adhesion_low"], consensus_list["adhesion_high"], strict=True)]  # fmt: skip
    _text(md / "consensus.md", dataframe_to_markdown(table, align={"Votes": "right", "Adhésion": "right"}, caption="Adhésion d'au moins 60 % établie (probabilité ≥ 90 %)."))  # fmt: skip
    _text(md / "controversies_intro.md", "Une controverse se lit sur la part de « contre » et de « neutres », que le format des données ouvertes ne donne pas : elle n'est pas calculée ici. Le format des comptages par proposition la permet.")  # fmt: skip
    _text(md / "controversies.md", "")
    rej = lists["rejections"].head(top)
    _text(md / "rejections_intro.md", (
        "Sans la part de « contre », un rejet ne peut pas être établi ; une adhésion sous 40 % en est la condition "
        f"nécessaire. {fr_number(int((scored['p_agree_below_40'] >= CONFIDENCE).sum()))} propositions ont une adhésion "
        f"sous 40 % avec une probabilité d'au moins {_pct(CONFIDENCE)} : des rejets possibles, les moins soutenues d'abord."
    ))  # fmt: skip
    _text(md / "rejections.md", dataframe_to_markdown(_proposal_table(rej, {"Adhésion": "adhesion"}), align={"Votes": "right", "Adhésion": "right"}, caption="Rejets possibles : adhésion sous 40 % établie (probabilité ≥ 90 %)."))  # fmt: skip
    _text(md / "zones_text.md", "Les zones de Make.org (consensus, controverse, rejet, indécis) demandent les parts de « contre » et de « neutres », absentes du format des données ouvertes : seule l'adhésion est lue ici, avec son intervalle.")  # fmt: skip
    _text(md / "zones.md", "")
    _text(md / "zones_figure.md", "")
    return n_consensus


def _write_ranking(a: AgendaInputs, md: Path) -> None:
    """The rank confidence sets: their reading and the table of the most supported proposals."""
    ranking, content = a.ranking, a.content
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


def _write_themes(a: AgendaInputs, md: Path, unclassified: float) -> None:
    """Where the themes come from and the table of proposals and votes per theme."""
    assigned, themes, n = a.themes.assigned, a.themes.themes, a.n
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


def _write_territories(a: AgendaInputs, md: Path) -> None:
    """Participation per region and the territory's own top proposals (when authors are
    located), crossed with the baromètre's engagement when a table was given."""
    located, by_reg, n = a.territories.located, a.territories.by_reg, a.n
    correlations, engagement_note = a.territories.correlations, a.territories.engagement_note
    published, demo, top = a.published, a.demo, a.top
    territory_name, territory_deps = a.territory_name, a.territory_deps
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
                + dataframe_to_markdown(_proposal_table(local, {"P(consensus)": "p_consensus"} if "p_consensus" in local else {"Adhésion": "adhesion"}), align={"Votes": "right"}, caption=f"Propositions des habitants du territoire {escape_markdown(territory_name)} (auteur localisé).")
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


def _method_lines(a: AgendaInputs) -> list[str]:
    """The bullet list of the method and limits section."""
    title, demo, demo_seed, layout, cog_year = a.title, a.demo, a.demo_seed, a.layout, a.cog_year
    weight, counter, prior, draws, seed, method = (
        a.weight,
        a.counter,
        a.prior,
        a.draws,
        a.seed,
        a.method,
    )
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
    return method_lines
