"""From 2025, what the baromètre says across editions and départements: the year-over-year
changes of the palmarès and the departmental palmarès, as Markdown sections."""

from __future__ import annotations

import pandas as pd

from barometre.publish.fmt import dataframe_to_markdown, fr_number, fr_percent
from barometre.publish.french import Noun, nombre, plural
from barometre.publish.report.common import LAUREATE, MENTION

DEPARTMENT = Noun("département", "départements")


def yoy_intro(yoy: pd.DataFrame, changes: pd.DataFrame, edition: int, previous: str) -> str:
    """The laureates retained and new since the ``previous`` edition (``tables/yoy_laureates.csv``)
    and the share of the communes ranked in the same class both years that moved at most 10
    places (``tables/yoy_rank_changes.csv``)."""
    retained = yoy[yoy.status == "retained"]
    new = yoy[yoy.status == "new"]
    return (
        f"Parmi les {fr_number(len(retained) + len(new))} communes lauréates de {edition}, "
        + (
            "aucune ne l'était"
            if len(retained) == 0
            else fr_number(len(retained)) + " " + plural(len(retained), "l'était", "l'étaient")
        )
        + f" déjà en {previous} dans la même classe et "
        + (
            "aucune ne fait son entrée"
            if len(new) == 0
            else f"{fr_number(len(new))} {plural(len(new), 'fait son', 'font leur')} entrée"
        )
        + " au palmarès. Sur les "
        f"{fr_number(int(changes['rank_change'].notna().sum()))} communes classées dans la même classe "
        f"les deux années, {fr_percent(float((changes['rank_change'].abs() <= 10).mean()) * 100, 0)} "
        "ont gagné ou perdu au plus 10 places.\n"
    )


def yoy_laureates_markdown(yoy: pd.DataFrame, edition: int, previous: str) -> str:
    """The laureates of both editions, with their rank this year and what became of them."""
    rank = f"Rang selon le score {edition}"
    frame = pd.DataFrame(
        {
            "Classe": yoy["population_class"],
            "Commune": yoy["nom"],
            # an unranked commune says so (the table writer prints a missing value as « n.d. »
            # before any formatter runs)
            rank: yoy["rank_in_class"].map(
                lambda v: fr_number(v) if pd.notna(v) else "non classée"
            ),
            "Statut": yoy["status"].map(
                {
                    "retained": f"déjà lauréate en {previous}",
                    "new": "nouvelle lauréate",
                    "left": f"lauréate en {previous}, sortie du palmarès",
                }
            ),
        }
    )
    return dataframe_to_markdown(
        frame,
        formats={rank: str},
        align={rank: "right"},
    )


def climbers_markdown(changes: pd.DataFrame, edition: int, previous: str) -> str | None:
    """The 10 largest rank gains within a class (ties by commune code), or None without any."""
    climbers = (
        changes.dropna(subset=["rank_change"])
        .sort_values(["rank_change", "code_commune"], ascending=[False, True])
        .head(10)
    )
    if not len(climbers):
        return None
    before, after = f"Rang {previous}", f"Rang {edition}"
    frame = pd.DataFrame(
        {
            "Commune": climbers["nom"],
            "Classe": climbers["population_class"],
            before: climbers["rank_in_class_previous"],
            after: climbers["rank_in_class"],
            "Progression": climbers["rank_change"],
        }
    )
    return dataframe_to_markdown(
        frame,
        formats={
            before: fr_number,
            after: fr_number,
            "Progression": lambda v: fr_number(v, signed=True),
        },
        align={before: "right", after: "right", "Progression": "right"},
    )


def yoy_section(yoy: pd.DataFrame, changes: pd.DataFrame, edition: int, previous: str) -> str:
    """« Ce qui a changé depuis <previous> »: the introduction, the laureates' table and the
    largest progressions."""
    lines = [
        f"## Ce qui a changé depuis {previous}\n",
        yoy_intro(yoy, changes, edition, previous),
        yoy_laureates_markdown(yoy, edition, previous),
    ]
    climbers = climbers_markdown(changes, edition, previous)
    if climbers is not None:
        lines.append("\n**Les plus fortes progressions dans leur classe.**\n")
        lines.append(climbers)
    return "\n".join(lines)


def _departments(dep: pd.DataFrame, dep_names: pd.Series) -> list[str]:
    return [f"{dep_names.get(c, c)} ({c})" for c in dep["code_departement"]]


def decided_departmental_markdown(
    dep: pd.DataFrame, dep_names: pd.Series, size: int, laureate_min: float
) -> tuple[str, str]:
    """The introduction and the table of a departmental palmarès decided by the national rule
    (``tables/departmental_palmares.csv`` with a ``status``)."""
    probability = f"Probabilité d'être parmi les {size} premières"
    frame = pd.DataFrame(
        {
            "Département": _departments(dep, dep_names),
            "Statut": dep["status"],
            "Commune": dep["nom"],
            "Classe": dep["population_class"],
            probability: dep["p_top"],
        }
    )
    n_laureates = int((dep["status"] == "Lauréat").sum())
    intro = (
        "Dans chaque département, toutes classes de population confondues, la règle du "
        f"palmarès national s'applique : une commune éligible est lauréate lorsque sa probabilité "
        f"d'être parmi les {fr_number(size)} premières du département atteint "
        f"{fr_percent(laureate_min * 100, 0)} et qu'elle appartient "
        f"à l'ensemble de confiance des {fr_number(size)} meilleures (au plus {fr_number(size)} "
        "lauréates par département : les plus probables ; les autres communes qui remplissent ces "
        "conditions reçoivent une mention) ; "
        + (
            "aucune commune n'est lauréate."
            if n_laureates == 0
            else f"{nombre(n_laureates, Noun('commune est lauréate', 'communes sont lauréates', feminine=True))} "
            f"dans {nombre(dep.loc[dep['status'] == 'Lauréat', 'code_departement'].nunique(), Noun('département', 'départements'))}."
        )
    )
    table = dataframe_to_markdown(
        frame,
        formats={probability: lambda v: fr_percent(v * 100, 0)},
        align={probability: "right"},
    )
    return intro, table


def nominal_departmental_markdown(
    dep: pd.DataFrame, dep_names: pd.Series, size: int
) -> tuple[str, str]:
    """The introduction and the table of a nominal departmental palmarès (the ``size`` best
    scores of each département, without uncertainty analysis)."""
    frame = pd.DataFrame(
        {
            "Département": _departments(dep, dep_names),
            "Rang": dep["rank_in_departement"],
            "Commune": dep["nom"],
            "Classe": dep["population_class"],
            "Score": dep["score"],
        }
    )
    intro = (
        f"Les {fr_number(size)} communes au meilleur score de chaque département, toutes "
        "classes de population confondues (classement nominal, sans analyse d'incertitude)."
    )
    table = dataframe_to_markdown(
        frame,
        formats={"Rang": fr_number, "Score": lambda v: fr_number(v, 1)},
        align={"Rang": "right", "Score": "right"},
    )
    return intro, table


def departmental_section(
    dep: pd.DataFrame, dep_names: pd.Series, size: int, laureate_min: float
) -> str:
    """« Le palmarès départemental »: decided by the national rule when the table has a
    ``status`` (``laureate_min``: the rule's probability threshold), nominal otherwise."""
    if "status" in dep.columns:
        intro, table = decided_departmental_markdown(dep, dep_names, size, laureate_min)
    else:
        intro, table = nominal_departmental_markdown(dep, dep_names, size)
    return f"## Le palmarès départemental\n\n{intro}\n\n" + table


def departmental_pointer(dep: pd.DataFrame) -> str:
    """The baromètre's paragraph that sends the reader to the departmental palmarès, printed in
    the methodology annex (a long table): how many communes it names, and with which status."""
    if "status" in dep.columns:
        laureates = int((dep["status"] == "Lauréat").sum())
        mentions = int((dep["status"] == "Mention").sum())
        departments = int(dep["code_departement"].nunique())
        what = (
            f"{nombre(laureates, LAUREATE)} et {nombre(mentions, MENTION)} dans "
            f"{nombre(departments, DEPARTMENT)}"
        )
    else:
        what = (
            "les communes au meilleur score de "
            f"{nombre(int(dep['code_departement'].nunique()), DEPARTMENT)}"
        )
    return (
        "## Le palmarès départemental\n\n"
        f"Le palmarès départemental ({what}) figure en annexe du document méthodologique, "
        "avec la règle qui le décide."
    )
