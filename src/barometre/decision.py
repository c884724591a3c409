"""The palmarès decision: who is « Lauréat », who gets a « Mention », who is ex aequo.

A ranking is a statistical claim. The nominal top 4 of a class is not a palmarès: a commune is
awarded only when the evidence says it belongs there, by a rule declared in the edition config
(:class:`barometre.config.PalmaresRule`) before anything is ranked:

* ``p_top`` — the probability of being in the top ``size`` of the class, over the joint runs
  (one posterior draw of the counts × one method scenario per run): sampling and method
  uncertainty together. It is the only quantity called « probabilité » in the publications;
* the **τ-best set** of the class (Mogstad, Romano, Shaikh & Wilhelm 2024): the communes that
  contain the true top τ = ``size`` with the stated confidence, from the nominal scores and their
  sampling standard errors (:mod:`barometre.rankcs`);
* « Lauréat »: ``p_top ≥ laureate_min_probability`` and in the τ-best set; « Mention »: the other
  members of the τ-best set with ``p_top ≥ mention_min_probability``; a class awards fewer
  prizes when fewer communes qualify (never more than ``size`` laureates);
* optionally (``max_rank_upper``, ``max_rank_upper_share`` of the class), a laureate's
  simultaneous rank set must end at or above that rank, otherwise it gets a mention: a laureate is
  then among the best of its class with the stated confidence, not merely likely to be;
* **ex aequo**: laureates whose simultaneous rank confidence sets overlap cannot be ordered by
  the data: they form one group (connected components of the overlap graph), listed
  alphabetically.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from barometre.config import PalmaresRule

LAUREATE = "Lauréat"
MENTION = "Mention"
#: Status of eligible communes that are neither laureates nor mentions.
NO_PRIZE = ""


def prize_status(
    p_top: pd.Series, in_tau_best: pd.Series, rule: PalmaresRule, size: int
) -> pd.Series:
    """Status of every commune of ONE class: « Lauréat », « Mention » or "".

    Laureates are at most ``size``: if more communes pass the rule (possible only with
    ``laureate_min_probability`` < 0.5 … and even then rare), the ``size`` highest ``p_top``
    keep the title and the others get a mention.
    """
    p = p_top.astype(float).fillna(0.0)
    in_set = in_tau_best.astype("boolean").fillna(False).astype(bool)
    laureate = in_set & (p >= rule.laureate_min_probability)
    if laureate.sum() > size:
        kept = p[laureate].sort_values(ascending=False, kind="stable").index[:size]
        laureate = laureate & laureate.index.isin(kept)
    mention = in_set & ~laureate & (p >= rule.mention_min_probability)
    status = pd.Series(NO_PRIZE, index=p_top.index, dtype=object)
    status[laureate] = LAUREATE
    status[mention] = MENTION
    return status


def ex_aequo_groups(lower: pd.Series, upper: pd.Series) -> pd.Series:
    """Group number (1, 2, …) of each unit: units whose [lower, upper] rank sets overlap are
    linked, groups are the connected components, numbered by their best lower bound."""
    lo = lower.astype(float).to_numpy()
    hi = upper.astype(float).to_numpy()
    n = lo.size
    if n == 0:
        return pd.Series([], index=lower.index, dtype="int64")
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if lo[i] <= hi[j] and lo[j] <= hi[i]:
                parent[find(i)] = find(j)
    roots = np.array([find(i) for i in range(n)])
    best = {r: lo[roots == r].min() for r in set(roots.tolist())}
    numbering = {r: k + 1 for k, r in enumerate(sorted(best, key=lambda r: (best[r], r)))}
    return pd.Series([numbering[r] for r in roots], index=lower.index, dtype="int64")


def decide_class(
    communes: pd.DataFrame, rule: PalmaresRule, size: int, name_column: str = "nom"
) -> pd.DataFrame:
    """Decision for one class.

    ``communes``: one row per eligible commune of the class with ``p_top``, ``in_tau_best``,
    ``cs_lower`` and ``cs_upper`` (simultaneous rank sets, needed for laureates) and the name.
    Returns the input with ``status`` and ``ex_aequo_group`` (laureates only; 0 elsewhere),
    laureates first in palmarès order (group, then name), then mentions (by p_top).
    """
    out = communes.copy()
    out["status"] = prize_status(out["p_top"], out["in_tau_best"], rule, size)
    bound = rule.rank_bound(len(out))
    if bound is not None:
        # the stricter rule: the data must place a laureate among the best ``bound`` communes
        upper = pd.to_numeric(out["cs_upper"], errors="coerce")
        too_wide = (out["status"] == LAUREATE) & ~(upper <= bound)
        out.loc[too_wide, "status"] = MENTION
    out["ex_aequo_group"] = 0
    laureates = out["status"] == LAUREATE
    if laureates.any():
        groups = ex_aequo_groups(out.loc[laureates, "cs_lower"], out.loc[laureates, "cs_upper"])
        out.loc[laureates, "ex_aequo_group"] = groups
    # laureates by ex aequo group then name; mentions and the others by p_top then name
    out["_order"] = out["status"].map({LAUREATE: 0, MENTION: 1}).fillna(2)
    out["_name"] = out[name_column].astype(str).str.casefold()
    out["_p"] = np.where(laureates, 0.0, -out["p_top"].astype(float).fillna(0.0))
    out = out.sort_values(["_order", "ex_aequo_group", "_p", "_name"], kind="stable")
    return out.drop(columns=["_order", "_name", "_p"])


def awards_summary(decided: pd.DataFrame, class_labels: Sequence[str], size: int) -> pd.DataFrame:
    """Per class: eligible communes, laureates, mentions, ex aequo groups among laureates,
    and the prizes not awarded (``size`` − laureates)."""
    rows = []
    for label in class_labels:
        members = decided[decided["population_class"] == label]
        laureates = members[members["status"] == LAUREATE]
        rows.append(
            {
                "population_class": label,
                "eligible": len(members),
                "laureates": len(laureates),
                "mentions": int((members["status"] == MENTION).sum()),
                "ex_aequo_groups": int(laureates["ex_aequo_group"].nunique())
                if len(laureates)
                else 0,
                "prizes_not_awarded": max(0, size - len(laureates)),
            }
        )
    return pd.DataFrame(rows)
