"""Year-over-year comparison of two editions: rank changes and laureates retained or new.

Communes are compared on the current edition's geography: the previous edition's codes are
harmonised to the current COG vintage (communes merged since become their new commune; a merged
commune present several times in the previous edition is dropped from the comparison, since its
rank has no single predecessor). Ranks compared are ranks within the population class; a commune
that changed class is reported as such, without a rank change.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from barometre.geography import harmonise_codes


def rank_changes(current: pd.DataFrame, previous: pd.DataFrame, cog_year: int) -> pd.DataFrame:
    """Per commune present in both editions: class and rank in class in each, and the change.

    ``rank_change`` is previous rank − current rank (positive: the commune climbed); missing when
    the commune changed class. Inputs are the editions' per-commune result tables.
    """
    prev = previous[["code_commune", "population_class", "rank_in_class"]].copy()
    prev["code_commune"] = harmonise_codes(prev["code_commune"], cog_year, unknown="keep")
    duplicated = prev["code_commune"].duplicated(keep=False)
    prev = prev[~duplicated]
    cur = current[["code_commune", "nom", "code_departement", "population_class", "rank_in_class"]]
    merged = cur.merge(prev, on="code_commune", how="inner", suffixes=("", "_previous"))
    same_class = merged["population_class"] == merged["population_class_previous"]
    merged["rank_change"] = np.where(
        same_class, merged["rank_in_class_previous"] - merged["rank_in_class"], np.nan
    )
    merged["changed_class"] = ~same_class
    return merged.sort_values("code_commune").reset_index(drop=True)


def only_laureates(palmares: pd.DataFrame) -> pd.DataFrame:
    """The laureates of a palmarès table: the rows of status « Lauréat » (all rows of a table
    from before the decision rule, which listed laureates only)."""
    if "status" not in palmares.columns:
        return palmares
    return palmares[palmares["status"] == "Lauréat"]


def laureate_changes(
    current: pd.DataFrame,
    previous: pd.DataFrame,
    cog_year: int,
    class_labels: Sequence[str],
    current_ranks: pd.Series | None = None,
) -> pd.DataFrame:
    """Per class: the current laureates, each marked retained (laureate of the same class last
    edition) or new, with the previous laureates who left. Only the rows of status « Lauréat »
    count when the palmarès tables carry a decided status (mentions are not laureates).
    ``current_ranks`` (rank in class this edition, indexed by commune code) gives the departing
    laureates their current rank; they are left without one only when they are not ranked."""
    current = only_laureates(current)
    prev = only_laureates(previous).copy()
    prev["code_commune"] = harmonise_codes(prev["code_commune"], cog_year, unknown="keep")
    rows = []
    for label in class_labels:
        now = current[current["population_class"] == label]
        before = prev[prev["population_class"] == label]
        before_codes = set(before["code_commune"])
        for row in now.itertuples():
            rows.append(
                {
                    "population_class": label,
                    "rank_in_class": row.rank_in_class,
                    "code_commune": row.code_commune,
                    "nom": row.nom,
                    "status": "retained" if row.code_commune in before_codes else "new",
                }
            )
        for row in before[~before["code_commune"].isin(set(now["code_commune"]))].itertuples():
            rows.append(
                {
                    "population_class": label,
                    "rank_in_class": (
                        current_ranks.get(row.code_commune, np.nan)
                        if current_ranks is not None
                        else np.nan
                    ),
                    "code_commune": row.code_commune,
                    "nom": row.nom,
                    "status": "left",
                }
            )
    return pd.DataFrame(rows)
