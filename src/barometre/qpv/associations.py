"""Associations of the communes holding a QPV: by field of action against the class-standardised
comparison, and the creations of the data year (public RNA data, not subject to the person-count
threshold). Part of the QPV profile (:mod:`barometre.qpv.profile` re-exports these names)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from barometre.qpv.groups import COMPARISON, MIN_COMPARISON, WITH, group_weights


def field_of(codes: pd.Series, nomenclature: pd.DataFrame) -> pd.Series:
    """The field of action (WALDEC parent label, sentence case) of each ``objet_social`` code;
    « Non renseigné » for a missing or unknown code (``000000`` means none)."""
    parent = nomenclature.set_index("code")["parent_label"]
    labels = codes.astype("string").str.strip().map(parent)
    labels = labels.map(
        lambda text: text[:1].upper() + text[1:].lower() if isinstance(text, str) else text
    )
    return labels.fillna("Non renseigné").astype(str)


def fields_table(
    associations: pd.DataFrame,
    territory: pd.DataFrame,
    comparison_pool: pd.DataFrame,
    data_year: int,
    minimum: int = MIN_COMPARISON,
) -> pd.DataFrame:
    """Associations by field of action: one row per field (most frequent in the QPV communes
    first), then a « Toutes » row. ``active_with``: active associations (position A, created
    by the end of the data year) with their seat in a commune of the territory holding a QPV;
    ``share_with`` (%); ``created_with``: created in the data year there; ``per_1000_with`` and
    ``per_1000_comparison``: active associations per 1 000 inhabitants in the QPV communes of
    the compared classes and in the class-standardised comparison (as the engagement table).
    Associations are legal persons listed publicly in the RNA: not subject to the person-count
    threshold.

    ``associations``: ``code_commune``, ``field``, ``date_creat``, ``position``."""
    weights, _, _ = group_weights(
        territory, comparison_pool, list(dict.fromkeys(territory["population_class"])), minimum
    )
    alive = associations[
        (associations["position"] == "A") & (associations["date_creat"].str[:4] <= str(data_year))
    ]
    created = associations[associations["date_creat"].str[:4] == str(data_year)]
    population = (
        pd.concat([territory, comparison_pool])
        .drop_duplicates("code_commune")
        .set_index("code_commune")["population"]
    )
    all_with = set(territory.loc[territory["has_qpv"], "code_commune"])

    def rate(counts: pd.Series, group: pd.Series) -> float:
        """Σ_i w_i n_i / pop_i × 1 000 (Σ n / Σ pop for a group weighted by population)."""
        if group.empty:
            return np.nan
        return float(
            (group * counts.reindex(group.index).fillna(0) / population.reindex(group.index)).sum()
            * 1000
        )

    rows = []
    for fld in sorted(set(alive["field"]) | set(created["field"])):
        counts = alive[alive["field"] == fld].groupby("code_commune").size()
        rows.append(
            {
                "field": fld,
                "active_with": int(counts.reindex(list(all_with)).fillna(0).sum()),
                "created_with": int(
                    created[
                        (created["field"] == fld) & created["code_commune"].isin(all_with)
                    ].shape[0]
                ),
                "per_1000_with": rate(counts, weights[WITH]),
                "per_1000_comparison": rate(counts, weights[COMPARISON]),
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=["field", "active_with", "created_with", "per_1000_with", "per_1000_comparison"],
    )
    frame = frame.sort_values(["active_with", "field"], ascending=[False, True]).reset_index(
        drop=True
    )
    total = int(frame["active_with"].sum())
    frame["share_with"] = 100.0 * frame["active_with"] / total if total else np.nan
    all_row = {
        "field": "Toutes",
        "active_with": total,
        "created_with": int(frame["created_with"].sum()),
        "per_1000_with": float(frame["per_1000_with"].sum()),
        "per_1000_comparison": float(frame["per_1000_comparison"].sum()),
        "share_with": 100.0 if total else np.nan,
    }
    return pd.concat([frame, pd.DataFrame([all_row])], ignore_index=True)


def creations_list(
    associations: pd.DataFrame, territory: pd.DataFrame, data_year: int
) -> pd.DataFrame:
    """Associations created in the data year with their seat in a QPV commune of the territory:
    ``field``, ``name`` (the RNA title), ``commune``, ``code_commune`` — public RNA data; no
    person is named (the RNA's leaders are not read). Sorted by field, commune, name."""
    names = territory.set_index("code_commune")["nom"]
    with_codes = set(territory.loc[territory["has_qpv"], "code_commune"])
    created = associations[
        (associations["date_creat"].str[:4] == str(data_year))
        & associations["code_commune"].isin(with_codes)
    ]
    out = pd.DataFrame(
        {
            "field": created["field"].to_numpy(),
            "name": created["titre"].astype(str).str.strip().to_numpy(),
            "commune": created["code_commune"].map(names).to_numpy(),
            "code_commune": created["code_commune"].to_numpy(),
        }
    )
    return out.sort_values(["field", "commune", "name"]).reset_index(drop=True)
