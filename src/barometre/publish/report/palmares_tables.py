"""The palmarès pages computed: each class's table, its introduction, the caption of its chart
and its laureates' cards (:mod:`barometre.publish.cards` writes a card), and the summary of the
classes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from barometre.config import EditionConfig, PalmaresRule
from barometre.publish import cards
from barometre.publish.fmt import fr_number, fr_percent
from barometre.publish.report.common import Table, right, slug


@dataclass(frozen=True)
class PalmaresFacts:
    """What every palmarès page repeats, formatted: the size of the top, the number of runs,
    the rank interval, the laureate threshold, the credible and simultaneous levels."""

    top_k: int
    n_runs: str
    interval: str
    laureate_threshold: str
    credible: str
    simultaneous: str
    data_year: int

    @classmethod
    def from_config(cls, config: EditionConfig, n_runs: int, interval: str) -> PalmaresFacts:
        """The facts of ``config``'s palmarès decided on ``n_runs`` runs (``interval``: the rank
        interval's share of the scenarios, « 90 % »)."""
        rule = config.palmares_rule
        return cls(
            top_k=config.palmares_size,
            n_runs=fr_number(n_runs),
            interval=interval,
            laureate_threshold=fr_percent(rule.laureate_min_probability * 100, 0),
            credible=fr_percent(config.shrinkage.credible * 100, 0),
            simultaneous=fr_percent(rule.simultaneous_coverage * 100, 0),
            data_year=config.data_year,
        )


def class_palmares_table(rows: pd.DataFrame, top_k: int, interval_text: str) -> Table:
    """A class's palmarès (its rows of ``tables/palmares.csv``): status, commune, département,
    population, probability of being in the top ``top_k``, median rank and rank interval."""
    probability = f"Probabilité d'être dans le top {top_k}"
    median = f"Rang médian (rangs de {interval_text} des scénarios)"
    frame = pd.DataFrame(
        {
            "Statut": rows["status"],
            "Commune": rows["nom"],
            "Dép.": rows["code_departement"],
            "Population": rows["population"],
            probability: rows["p_top"],
            median: [
                f"{fr_number(m)} ({fr_number(a)}–{fr_number(b)})"
                for m, a, b in zip(
                    rows["rank_median"], rows["rank_p05"], rows["rank_p95"], strict=True
                )
            ],
        }
    )
    formats = {"Population": fr_number, probability: lambda v: fr_percent(v * 100, 0)}
    return Table(frame, formats, right("Population", probability, median))


def class_awards(awards: pd.DataFrame, label: str) -> tuple[int, int]:
    """Eligible communes and laureates of class ``label`` (``tables/palmares_awards.csv`` by
    class; zero and zero for a class it does not list)."""
    award = awards.loc[label] if label in awards.index else None
    eligible = int(award["eligible"]) if award is not None else 0
    n_laureates = int(award["laureates"]) if award is not None else 0
    return eligible, n_laureates


def class_intro_section(
    label: str,
    bounds: str,
    awards: pd.DataFrame,
    rows: pd.DataFrame,
    facts: PalmaresFacts,
    rule: PalmaresRule,
) -> list[str]:
    """The class's heading and introduction (who could win, the prizes with the rule's bound on
    the rank set, the mentions), kept on the page of its chart (keep-with-next)."""
    eligible, n_laureates = class_awards(awards, label)
    mentions = rows[rows["status"] == "Mention"]
    return [
        f"## {label}\n",
        "::: {.keep-with-next}\n",
        cards.class_intro(bounds, eligible)
        + " "
        + cards.awards_sentence(
            eligible,
            n_laureates,
            facts.top_k,
            facts.laureate_threshold,
            rule.rank_bound(eligible),
        )
        + (" " + cards.mentions_sentence(mentions, facts.top_k) if len(mentions) else "")
        + "\n",
        ":::\n",
    ]


def palmares_chart_markdown(label: str, chart_name: str, facts: PalmaresFacts) -> str:
    """The Markdown figure of a class's palmarès chart (``figures/<chart_name>``)."""
    return (
        f"![{label} : les communes les plus susceptibles de figurer parmi les {facts.top_k} premières "
        f"de la classe — probabilité sur {facts.n_runs} scénarios et rangs occupés dans "
        f"{facts.interval} d'entre eux ; en couleur, les lauréates et les "
        f"mentions.](figures/{chart_name}){{#fig-palmares-{slug(label).replace('_', '-')} width=100%}}\n"
    )


def published_counts(counts: pd.DataFrame, communes: pd.DataFrame) -> pd.DataFrame:
    """The exact counts by commune (``work/commune_counts.csv``, indexed by ``code_commune``)
    with the engine's values where the engine has the column: a structural gap (e.g. no RNA in
    Alsace-Moselle) is missing there, not zero."""
    counts = counts.copy()
    engine_counts = communes.set_index("code_commune")
    for column in [c for c in counts.columns if c in engine_counts.columns]:
        counts[column] = engine_counts[column].reindex(counts.index)
    return counts


def laureate_cards(
    rows: pd.DataFrame,
    department_names: pd.Series,
    meta: Mapping[str, Any],
    counts: pd.DataFrame,
    rates: pd.DataFrame,
    facts: PalmaresFacts,
) -> list[str]:
    """One card per laureate of a class (its rows of ``tables/palmares.csv``), an unbreakable
    block never split across pages; laureates sharing an ex aequo group say so."""
    laureate_rows = rows[rows["status"] == "Lauréat"]
    ex_aequo = laureate_rows["ex_aequo_group"].value_counts()
    blocks = []
    for row in laureate_rows.itertuples():
        department = f"{department_names.get(row.code_departement, row.code_departement)}, {row.code_departement}"
        card = cards.laureate_card(
            row,
            department,
            meta,
            counts,
            rates,
            data_year=facts.data_year,
            top_k=facts.top_k,
            n_runs=facts.n_runs,
            interval=facts.interval,
            credible=facts.credible,
            simultaneous=facts.simultaneous,
            tied=ex_aequo.get(row.ex_aequo_group, 0) > 1,
        )
        blocks.append("::: {.card}\n\n" + card + "\n\n:::\n")
    return blocks


def classes_table(labels: Sequence[str], classes: Mapping[str, Mapping[str, str]]) -> Table:
    """The classes' summary: population range, ranked communes and median score (``classes``:
    the ``classes`` section of the variables)."""
    summary = pd.DataFrame(
        {
            "Classe": labels,
            "Population": [classes[slug(l)]["bounds"] for l in labels],
            "Communes classées": [classes[slug(l)]["ranked"] for l in labels],
            "Score médian": [classes[slug(l)]["median_score"] for l in labels],
        }
    )
    return Table(summary, align=right("Communes classées", "Score médian"))
