"""The tables of the count model and of the small communes: model parameters, calibration, the
other methodology, eligibility, shrinkage weights and the effect of the ranked rates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from barometre.publish.fmt import fr_number, fr_percent
from barometre.publish.report.common import Table, right


def count_model_table(
    params: pd.DataFrame, codes: Sequence[str], titles: Mapping[str, str]
) -> Table:
    """The count model's main parameters per indicator (``tables/count_model.csv``, long by
    term), in the indicators' order: log-population slope, dispersion, département sd and pooled
    design effect."""
    wide = params.pivot_table(index="indicator", columns="term", values="estimate", aggfunc="first")
    wide = wide.reindex([c for c in codes if c in wide.index])
    frame = pd.DataFrame(
        {
            "Indicateur": [titles.get(c, c) for c in wide.index],
            "Pente log(population)": wide.get("log_population"),
            "Dispersion α": wide.get("dispersion α"),
            "Écart type département τ": wide.get("département sd (τ)"),
            "Effet de grappe moyen": wide.get("pooled design effect"),
        }
    )
    numeric = [c for c in frame.columns if c != "Indicateur"]
    return Table(
        frame.reset_index(drop=True),
        formats={c: (lambda v: fr_number(v, 2)) for c in numeric},
        align=right(*numeric),
    )


def calibration_table(calibration: pd.DataFrame, credible: float) -> Table:
    """The count model's calibration on simulation per class
    (``tables/count_model_calibration.csv``): coverage of the ``credible`` intervals and mean
    squared errors of the raw rates, the class-wide prior and the count model."""
    coverage = f"Couverture des intervalles à {fr_percent(credible * 100, 0)}"
    frame = pd.DataFrame(
        {
            "Classe": calibration["population_class"],
            "Communes simulées": calibration["communes"],
            coverage: calibration["coverage"],
            "EQM taux bruts": calibration["mse_raw"],
            "EQM loi a priori par classe": calibration["mse_class_moments"],
            "EQM modèle de comptage": calibration["mse_count_model"],
        }
    )
    formats = {
        "Communes simulées": fr_number,
        coverage: lambda v: fr_percent(v * 100, 1),
        "EQM taux bruts": lambda v: fr_number(v, 3),
        "EQM loi a priori par classe": lambda v: fr_number(v, 3),
        "EQM modèle de comptage": lambda v: fr_number(v, 3),
    }
    return Table(frame, formats, right(*formats))


def methods_comparison_table(methods: pd.DataFrame, edition: int, top_k: int) -> Table | None:
    """What the other methodology changes per class (``tables/methods_comparison.csv``):
    communes ranked by both, rank correlation, this edition's laureates with their rank under
    the other method and the other method's top ``top_k``; None when the table is empty."""
    if not len(methods):
        return None
    frame = pd.DataFrame(
        {
            "Classe": methods["population_class"],
            "Classées par les deux": methods["ranked_by_both"],
            "Corrélation des rangs": methods["spearman"],
            f"Lauréats {edition} (rang avec l'autre méthode)": methods["laureates"]
            .fillna("")
            .replace("", "–"),
            f"Top {top_k} de l'autre méthode": methods["other_top"].fillna("").replace("", "–"),
        }
    )
    formats = {
        "Classées par les deux": fr_number,
        "Corrélation des rangs": lambda v: fr_number(v, 2),
    }
    return Table(frame, formats, right("Classées par les deux", "Corrélation des rangs"))


#: Names of the eligibility rules (columns ``removed_<rule>`` of ``tables/eligibility.csv``).
RULE_NAMES = {
    "removed_population": "Population minimale",
    "removed_activity": "Activité minimale",
    "removed_coverage": "Couverture des données",
    "removed_information": "Sources d'information distinctes",
    "removed_reliability": "Fiabilité du score",
}


def eligibility_table(eligibility: pd.DataFrame) -> Table:
    """Communes per class, those each eligibility rule removes, and the eligible ones
    (``tables/eligibility.csv``)."""
    elig = pd.DataFrame(
        {"Classe": eligibility["population_class"], "Communes": eligibility["total"]}
    )
    for column in eligibility.columns:
        if column.startswith("removed_"):
            elig[f"Écartées : {RULE_NAMES.get(column, column).lower()}"] = eligibility[column]
    elig["Éligibles"] = eligibility["eligible"]
    numeric = [c for c in elig.columns if c != "Classe"]
    return Table(elig, {c: fr_number for c in numeric}, right(*numeric))


def shrinkage_weights_table(
    shrink: pd.DataFrame,
    communes: pd.DataFrame,
    codes: Sequence[str],
    titles: Mapping[str, str],
    labels: Sequence[str],
) -> Table:
    """Median weight of the model's prediction (the prior mean; ``shrinkage_weight``) in the
    ranked rate, per indicator and class
    (``work/shrinkage.csv``; ``communes`` gives each commune's class)."""
    shrink = shrink.merge(
        communes[["code_commune", "population_class"]], on="code_commune", how="left"
    )
    weights_by_class = shrink.pivot_table(
        index="indicator", columns="population_class", values="shrinkage_weight", aggfunc="median"
    )
    weights_by_class = weights_by_class.reindex(
        index=codes, columns=[l for l in labels if l in weights_by_class.columns]
    )
    weights_by_class.insert(0, "Indicateur", [titles[c] for c in weights_by_class.index])
    present = [l for l in labels if l in weights_by_class.columns]
    return Table(
        weights_by_class.reset_index(drop=True),
        formats={l: (lambda v: fr_percent(v * 100, 0)) for l in present},
        align=right(*present),
    )


def rates_effect_table(effect: pd.DataFrame, rates: str) -> Table:
    """Effect of the count model on the palmarès per class (``tables/rates_effect.csv``): rank
    correlation between ranked and other rates, laureates kept, laureates only under each
    (``rates``: the edition's ranked rates, ``shrunk`` or ``raw``)."""
    other = "raw" if rates == "shrunk" else "shrunk"
    frame = pd.DataFrame(
        {
            "Classe": effect["population_class"],
            "Corrélation de rang": effect["spearman"],
            "Lauréats inchangés": effect["laureates_kept"],
            "Lauréats seulement avec les taux classés": effect[f"laureates_only_{rates}"]
            .fillna("–")
            .replace("", "–"),
            f"Lauréats seulement avec les taux {'bruts' if other == 'raw' else 'lissés'}": effect[
                f"laureates_only_{other}"
            ]
            .fillna("–")
            .replace("", "–"),
        }
    )
    return Table(
        frame,
        {"Corrélation de rang": lambda v: fr_number(v, 2), "Lauréats inchangés": fr_number},
        right("Corrélation de rang", "Lauréats inchangés"),
    )
