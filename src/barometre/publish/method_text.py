"""The method facts of the publications, written in French from the edition's configuration.

The report pages state no method fact by hand: the criteria and their titles, the
normalisation, the aggregation, the weights, the outlier rule, the rate scale and the
assumptions varied by the robustness analysis are written here from the index spec
(``config/index/*.yml``), the indicator metadata (``config/indicators.yml``) and the edition
config (``config/editions/<edition>.yml``), and reach the pages through ``_variables.yml``.
:func:`config_literals` lists the same facts as the pages would print them, so that a test can
refuse a report source that types one of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from barometre.composite.spec import IndexSpec, NormaliseStep, TreatStep
from barometre.publish.fmt import fr_list, fr_number, fr_percent
from barometre.publish.french import Noun, nombre
from barometre.robustness.assumptions import RobustnessAssumptions

NORMALISATION_NAMES: dict[str, str] = {
    "minmax": "min-max",
    "zscore": "score centré réduit",
    "percentile_rank": "rang centile",
    "rank": "rang",
    "distance_to_max": "distance au maximum",
    "distance_to_reference": "distance à une commune de référence",
    "goalposts": "bornes fixes",
    "none": "aucune normalisation",
}
"""French names of the normalisation methods of :class:`~barometre.composite.spec.NormaliseStep`."""

AGGREGATION_NAMES: dict[str, str] = {
    "arithmetic": "arithmétique",
    "geometric": "géométrique",
    "harmonic": "harmonique",
    "generalised": "généralisée",
}
"""French adjectives of the aggregation methods (« moyenne arithmétique pondérée »)."""

TREATMENT_NAMES: dict[str, str] = {
    "coinr_default": "règle par défaut de COINr",
    "none": "aucun traitement",
    "log": "logarithme",
    "winsorise_quantiles": "écrêtage aux quantiles",
    "boxcox": "transformation de Box-Cox",
}
"""French names of the outlier treatments of :class:`~barometre.composite.spec.TreatStep`."""

CRITERION = Noun("critère", "critères")
INDICATOR = Noun("indicateur", "indicateurs")


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def criteria_titles(meta: Mapping[str, Any]) -> list[str]:
    """The criteria titles of the edition, in the index spec's order."""
    return [c["title"] for c in meta["criteria"]]


def criteria_sentence(meta: Mapping[str, Any]) -> str:
    """« 4 critères : *associations par habitant*, *dynamisme associatif*, … et *générosité
    financière* » — the number and the titles from the same list, so they cannot disagree."""
    titles = [f"*{_lower_first(t)}*" for t in criteria_titles(meta)]
    return f"{nombre(len(titles), CRITERION)} : {fr_list(titles)}"


def normalisation_phrase(step: NormaliseStep) -> str:
    """How each indicator is normalised: « ramené sur une échelle de 0 à 100 par la méthode
    min-max (0 pour la commune la plus basse, 100 pour la plus haute) »."""
    name = NORMALISATION_NAMES[step.method]
    if step.method == "minmax":
        low, high = fr_number(step.low), fr_number(step.high)
        return (
            f"ramené sur une échelle de {low} à {high} par la méthode {name} ({low} pour la "
            f"commune la plus basse, {high} pour la plus haute)"
        )
    if step.method == "zscore":
        return (
            f"transformé en {name} (moyenne {fr_number(step.mean)}, écart type "
            f"{fr_number(step.sd)})"
        )
    if step.method == "none":
        return "laissé sans normalisation"
    return f"normalisé par la méthode « {name} »"


def scale_phrase(step: NormaliseStep) -> str:
    """The range of the normalised values and of the score: « de 0 à 100 »."""
    if step.method == "minmax":
        return f"de {fr_number(step.low)} à {fr_number(step.high)}"
    if step.method in {"percentile_rank"}:
        return "de 0 à 100"
    return "sans bornes fixes"


def _sibling_weights(spec: IndexSpec, weights: Mapping[str, float], parent: str) -> list[float]:
    children = [i.code for i in spec.indicators if i.parent == parent]
    children += [a.code for a in spec.aggregates if a.parent == parent]
    return [float(weights[c]) for c in children]


def weights_phrase(
    spec: IndexSpec, weight_set: str | None, meta: Mapping[str, Any]
) -> dict[str, str]:
    """How the weights read in French, per level: ``indicators`` (within each criterion) and
    ``criteria`` (in the score): « à poids égaux », or the criteria's shares (« pondérés à
    29 %, 43 %, 14 % et 14 % »)."""
    weights = spec.weight_map(weight_set)
    criteria = [c["code"] for c in meta["criteria"]]
    within = all(len(set(_sibling_weights(spec, weights, c))) <= 1 for c in criteria)
    shares = [float(weights[c]) for c in criteria]
    total = sum(shares)
    if len(set(shares)) <= 1:
        across = "à poids égaux"
    else:
        listed = fr_list(
            f"{fr_percent(s / total * 100, 0)} pour *{_lower_first(t)}*"
            for s, t in zip(shares, criteria_titles(meta), strict=True)
        )
        across = f"pondérés à {listed}"
    return {
        "indicators": "à poids égaux"
        if within
        else "selon les poids déclarés de chaque indicateur",
        "criteria": across,
    }


def aggregation_sentence(spec: IndexSpec, weight_set: str | None, meta: Mapping[str, Any]) -> str:
    """The aggregation in a sentence, with the weights and the minimum data share."""
    method = AGGREGATION_NAMES[spec.steps.aggregate.method]
    weights = weights_phrase(spec, weight_set, meta)
    share = fr_percent(spec.steps.aggregate.min_share_at(2) * 100, 0)
    return (
        f"Le score d'un critère est la moyenne {method} pondérée de ses indicateurs, "
        f"{weights['indicators']}, et le score Cités Vives la moyenne {method} pondérée des "
        f"critères, {weights['criteria']}. Un indicateur manquant est écarté et les poids des "
        f"autres sont renormalisés, à condition qu'au moins {share} des indicateurs du critère "
        "soient disponibles."
    )


def rates_sentence(spec: IndexSpec, meta: Mapping[str, Any]) -> str:
    """« Chaque compte est divisé par la population et multiplié par 1 000 », with the ratio
    indicators named (their exposure is not the population)."""
    scale = fr_number(spec.steps.denominate.scale)
    ratios = [i for i in meta["indicators"] if i.get("exposure") not in (None, "population")]
    text = f"Chaque compte est divisé par la population et multiplié par {scale}"
    if ratios:
        shorts = {i.get("count"): i["short"] for i in meta["indicators"] if "count" in i}
        named = fr_list(
            f"« {i['title']} », rapporté au nombre de {shorts.get(i['exposure'], i['exposure'])}"
            for i in ratios
        )
        text += f", sauf {named}"
    return text + "."


def treatment_sentence(step: TreatStep) -> str:
    """The outlier rule of the edition in French (thresholds and limits from the spec)."""
    if step.method == "coinr_default":
        return (
            "Pour chaque indicateur, l'asymétrie et l'aplatissement (statistiques d'échantillon "
            "« de type 2 ») sont calculés. Un indicateur est accepté si la valeur absolue de son "
            f"asymétrie est inférieure à {fr_number(step.skew_threshold, 1)} ou si son "
            f"aplatissement est inférieur à {fr_number(step.kurt_threshold, 1)}. Sinon, les "
            "valeurs les plus extrêmes sont écrêtées une à une, dans la limite de "
            f"{fr_number(step.winmax)} points ; si l'indicateur reste hors des seuils, "
            "l'écrêtage est abandonné au profit d'une transformation logarithmique "
            "log(x − min + 0,01 (max − min)). C'est la règle par défaut de l'outil COINr du "
            "Centre commun de recherche de la Commission européenne."
        )
    if step.method == "none":
        return "Aucun traitement des valeurs extrêmes n'est appliqué."
    if step.method == "winsorise_quantiles":
        low, high = step.quantiles
        return (
            f"Les valeurs sont écrêtées aux quantiles {fr_percent(low * 100, 0)} et "
            f"{fr_percent(high * 100, 0)} de chaque indicateur."
        )
    return f"Les valeurs extrêmes sont traitées par {TREATMENT_NAMES[step.method]}."


def _share_in_words(p: float) -> str:
    words = {0.5: "une fois sur deux", 0.25: "une fois sur quatre", 0.75: "trois fois sur quatre"}
    return words.get(round(p, 6), f"avec une probabilité de {fr_percent(p * 100, 0)}")


def scenarios_sentence(assumptions: RobustnessAssumptions, meta: Mapping[str, Any]) -> str:
    """The method assumptions varied from scenario to scenario, in French, from the edition's
    ``extra.robustness`` (defaults of :mod:`barometre.robustness.assumptions` included)."""
    parts: list[str] = []
    w = assumptions.weights
    levels = {1: "des indicateurs", 2: "des critères"}
    which = " et ".join(levels.get(level, f"du niveau {level}") for level in w.levels)
    if w.distribution == "uniform":
        parts.append(
            f"poids {which} multipliés chacun par un facteur tiré uniformément entre "
            f"{fr_number(1 - w.amplitude, 2)} et {fr_number(1 + w.amplitude, 2)}, puis renormalisés"
        )
    elif w.distribution == "dirichlet":
        parts.append(
            f"poids {which} tirés d'une loi de Dirichlet centrée sur les poids nominaux "
            f"(concentration {fr_number(w.concentration)})"
        )
    if assumptions.treatment is not None:
        names = [TREATMENT_NAMES[o.method] for o in assumptions.treatment.options]
        parts.append(f"traitement des valeurs extrêmes ({fr_list(names, 'ou')})")
    if assumptions.normalisation is not None:
        names = [NORMALISATION_NAMES[o.step.method] for o in assumptions.normalisation.options]
        parts.append(f"normalisation ({fr_list(names, 'ou')})")
    if assumptions.aggregation is not None:
        names = [AGGREGATION_NAMES[o] for o in assumptions.aggregation.options]
        parts.append(f"agrégation {fr_list(names, 'ou')}")
    if assumptions.exclusion is not None:
        count = len(assumptions.exclusion.indicators or meta["indicators"])
        if assumptions.exclusion.p_none is not None:
            parts.append(
                f"exclusion d'un des {fr_number(count)} indicateurs "
                f"{_share_in_words(1 - assumptions.exclusion.p_none)}"
            )
        else:
            parts.append(f"exclusion éventuelle d'un des {fr_number(count)} indicateurs")
    return " ; ".join(parts)


def method_summary(
    spec: IndexSpec, weight_set: str | None, meta: Mapping[str, Any], exposure: str, classes: int
) -> str:
    """« La méthode en une page » of the baromètre, from the spec and the metadata."""
    normalise = spec.steps.normalise
    weights = weights_phrase(spec, weight_set, meta)
    method = AGGREGATION_NAMES[spec.steps.aggregate.method]
    treated = (
        "Après traitement des valeurs extrêmes, chaque"
        if spec.steps.treat.method != "none"
        else "Chaque"
    )
    return (
        f"Le score Cités Vives combine {nombre(len(meta['indicators']), INDICATOR)}, regroupés en "
        f"{criteria_sentence(meta)}. Les indicateurs sont {exposure}. {treated} indicateur est "
        f"{normalisation_phrase(normalise)} ; le score d'un critère est la moyenne {method} "
        f"pondérée de ses indicateurs, {weights['indicators']}, et le score Cités Vives la "
        f"moyenne {method} pondérée des critères, {weights['criteria']}. Les communes sont "
        f"classées au sein de {fr_number(classes)} classes de population."
    )


def config_literals(
    spec: IndexSpec,
    meta: Mapping[str, Any],
    class_bounds: Sequence[int],
    class_labels: Sequence[str],
    assumptions: RobustnessAssumptions,
    thresholds: Mapping[str, float],
) -> dict[str, str]:
    """The config's method facts as the pages would print them, each with where it comes from:
    a report source that contains one of them types a fact the config holds."""
    normalise = spec.steps.normalise
    treat = spec.steps.treat
    facts: dict[str, str] = {}
    for code, name in NORMALISATION_NAMES.items():
        if code not in {"none", "rank"}:  # « rang » is also an everyday word of the pages
            facts[name] = f"normalisation method {code}"
    for code, name in AGGREGATION_NAMES.items():
        facts[f"moyenne {name}"] = f"aggregation method {code}"
        facts[f"{name} pondérée"] = f"aggregation method {code}"
    facts["poids égaux"] = "weights of the index spec"
    if normalise.method == "minmax":
        facts[f"{fr_number(normalise.low)} à {fr_number(normalise.high)}"] = "normalise.low/high"
        facts[f"{fr_number(normalise.low)}–{fr_number(normalise.high)}"] = "normalise.low/high"
    facts[fr_number(treat.skew_threshold, 1)] = "treat.skew_threshold"
    facts[fr_number(treat.kurt_threshold, 1)] = "treat.kurt_threshold"
    facts["COINr"] = "treat.method coinr_default"
    facts[f"multiplié par {fr_number(spec.steps.denominate.scale)}"] = "denominate.scale"
    amplitude = assumptions.weights.amplitude
    facts[fr_number(1 - amplitude, 2)] = "extra.robustness.weights.amplitude"
    facts[fr_number(1 + amplitude, 2)] = "extra.robustness.weights.amplitude"
    for bound in class_bounds:
        facts[fr_number(bound)] = "classes.bounds"
        facts[str(bound)] = "classes.bounds"
    for label in class_labels:
        facts[label] = "classes.labels"
    for title in criteria_titles(meta):
        facts[title] = "criteria titles (config/indicators.yml)"
        facts[_lower_first(title)] = "criteria titles (config/indicators.yml)"
    for name, value in thresholds.items():
        facts[fr_percent(value * 100, 0)] = name
    return facts
