"""The demo's public entry point (:func:`synthesize_demo`) and the planted contract defects.

Part of :mod:`barometre.demo`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from barometre.demo.communes import _Communes, _multipliers
from barometre.demo.helloasso import _helloasso
from barometre.demo.jeveuxaider import _jeveuxaider
from barometre.demo.model import DEFAULT_TRUTH_STATES, MAGNITUDES, DemoData, DemoMagnitudes
from barometre.demo.rna import _rna
from barometre.sources.counts import COUNT_COLUMNS

# --------------------------------------------------------------------------------------------
# Public API


def synthesize_demo(
    communes: pd.DataFrame,
    data_year: int,
    rng: np.random.Generator,
    scale: float = 1.0,
    participations_scale: float = 1.0,
    magnitudes: DemoMagnitudes = MAGNITUDES,
    panel_seed: int | None = None,
) -> DemoData:
    """Draw the synthetic extracts of every commune of ``communes`` (in memory), with the truth.

    ``scale`` multiplies every national magnitude; ``participations_scale`` multiplies, on top
    of it, the number of HelloAsso participations per campaign (≈ 1.6 million rows nationally
    at 1 and ``scale=1``; ~12 for a 20-million-row benchmark).
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    if participations_scale < 0:
        raise ValueError("participations_scale must be non-negative")
    table = _Communes(communes)
    mults, engagement = _multipliers(table, rng, panel_seed)
    # One child stream per source: changing one source's volume (e.g. participations_scale)
    # leaves the other sources' files unchanged.
    rna_rng, ha_rng, jva_rng = rng.spawn(3)
    rna, rna_commune, rna_placeable = _rna(
        table, mults["rna"], data_year, scale, rna_rng, magnitudes
    )
    orgs, forms, items, ha = _helloasso(
        table, mults, data_year, scale, participations_scale, ha_rng, rna, rna_commune, magnitudes
    )
    missions, matches, jva = _jeveuxaider(table, mults, data_year, scale, jva_rng, magnitudes)

    year = f"{data_year:04d}"
    truth = pd.DataFrame({"code_commune": table.code})

    def per_commune(commune_index: np.ndarray, keep: np.ndarray) -> np.ndarray:
        return np.bincount(commune_index[keep], minlength=table.n).astype(np.int64)

    truth["rna_creations"] = per_commune(
        rna_commune, rna_placeable & (rna["date_creat"].str[:4] == year).to_numpy()
    )
    association = orgs["type"].str.startswith("Association").to_numpy()
    org_ok = association & ha["org_placeable"]
    truth["ha_new_organizations"] = per_commune(
        ha["org_commune"], org_ok & (orgs["created_at"].str[:4] == year).to_numpy()
    )
    form_ok = (
        org_ok[ha["form_org"]]
        & (forms["created_at"].str[:4] == year).to_numpy()
        & forms["state"].isin(DEFAULT_TRUTH_STATES["helloasso_forms"]).to_numpy()
    )
    truth["ha_campaigns"] = per_commune(ha["org_commune"][ha["form_org"]], form_ok)
    item_org = ha["form_org"][ha["item_form"]]
    truth["ha_participants"] = per_commune(
        ha["org_commune"][item_org], org_ok[item_org] & ha["item_counted"]
    )
    match_ok = (
        jva["mission_placeable"][jva["match_mission"]]
        & (matches["created_at"].str[:4] <= year).to_numpy()
    )
    truth["jva_matches"] = per_commune(jva["mission_commune"][jva["match_mission"]], match_ok)
    donation_form = forms["form_type"].isin(["Donation", "CrowdFunding"]).to_numpy()
    truth["ha_donations"] = per_commune(
        ha["org_commune"][item_org],
        org_ok[item_org] & ha["item_counted"] & donation_form[ha["item_form"]],
    )
    truth = truth[["code_commune", *COUNT_COLUMNS]]
    unplaceable = {
        "rna": int((~rna_placeable).sum()),
        "helloasso_organizations": int((~ha["org_placeable"]).sum()),
        "jeveuxaider_missions": int((~jva["mission_placeable"]).sum()),
    }
    rna, forms, matches, planted = plant_defects(rna, forms, matches)
    return DemoData(
        data_year, rna, orgs, forms, items, missions, matches, truth, engagement, unplaceable,
        planted,
    )  # fmt: skip


def _planted_positions(n: int) -> np.ndarray:
    """About one row in 10 000 (one in a table of 100 rows or more, none below), evenly spread."""
    k = n // 10_000 if n >= 10_000 else int(n >= 100)
    return (
        np.unique(np.linspace(0, n - 1, k).round().astype(np.int64)) if k else np.zeros(0, np.int64)
    )


def plant_defects(
    rna: pd.DataFrame, forms: pd.DataFrame, matches: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Append rows that break their contract, as real extracts have, so that every build
    exercises the quarantine: repeated RNA rows (pieces of an extract pasted twice), campaigns
    whose creation date a spreadsheet rewrote as ``31/12/2023`` (new form ids), repeated mises
    en relation. They are *extra* rows, outside the truth: the loaders quarantine exactly them
    and still find the truth. Deterministic (no random draw): evenly spread positions.

    Returns the three tables and the number of planted rows per source table.
    """
    rna_extra = rna.iloc[_planted_positions(len(rna))]
    forms_extra = forms.iloc[_planted_positions(len(forms))].copy()
    if len(forms_extra):
        forms_extra["form_id"] = forms["form_id"].max() + 1 + np.arange(len(forms_extra))
        day = forms_extra["created_at"].str[:10]
        forms_extra["created_at"] = day.str[8:10] + "/" + day.str[5:7] + "/" + day.str[:4]
    matches_extra = matches.iloc[_planted_positions(len(matches))]
    planted = {
        "rna": len(rna_extra),
        "helloasso_forms": len(forms_extra),
        "jeveuxaider_participations": len(matches_extra),
    }
    return (
        pd.concat([rna, rna_extra], ignore_index=True),
        pd.concat([forms, forms_extra], ignore_index=True),
        pd.concat([matches, matches_extra], ignore_index=True),
        planted,
    )
