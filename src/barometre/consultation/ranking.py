"""Ranking proposals with confidence sets for their ranks (the palmarès machinery,
:mod:`barometre.rankcs`, applied to proposals).

The ranked quantity is the **« pour » share** θ_a of a proposal (the quantity a consensus is
about), estimated on one counter (default ``sequence``) by its Dirichlet-posterior mean
(n_a + α)/(N + 3α) with the posterior standard deviation as standard error (normal
approximation of :mod:`~barometre.rankcs`; rough for proposals with a handful of votes, whose
sets are then wide anyway). For the ``top`` proposals by estimate, the marginal confidence set
of each one's rank (Mogstad, Romano, Shaikh & Wilhelm 2024); over all proposals, the τ-best
set: the proposals that may be among the τ most supported, all of the true τ best being in it
with probability ≥ ``coverage``.

With thousands of proposals and a few hundred votes each, these sets are wide: the data
support zones (consensus or not) far better than a ranked list, which is what the agenda says.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from barometre.consultation.scoring import DEFAULT_PRIOR, vote_counts
from barometre.rankcs import rank_confidence_sets, tau_best_set


@dataclass
class ProposalRanking:
    table: pd.DataFrame
    """``id``, ``agree_share``, ``agree_se``, ``rank``, ``rank_lower``, ``rank_upper`` for the
    ``top`` proposals (best first)."""
    tau: int
    tau_best_size: int
    proposals: int
    coverage: float
    method: str


def agree_share(
    proposals: pd.DataFrame, *, counter: str = "sequence", prior: float = DEFAULT_PRIOR
) -> tuple[pd.Series, pd.Series]:
    """(estimate, standard error) of each proposal's « pour » share, indexed by ``id``: the
    counts layout's ``counter``, or the open-data layout's ``agree`` of ``votes``."""
    if "votes" in proposals and "agree" in proposals:
        agree = proposals["agree"].to_numpy(dtype=float)
        votes = proposals["votes"].to_numpy(dtype=float)
    else:
        counts = vote_counts(proposals, counter)
        agree, votes = counts[:, 0], counts.sum(axis=1)
    a = agree + prior
    total = votes + 3 * prior
    mean = a / total
    sd = np.sqrt(mean * (1 - mean) / (total + 1))
    index = pd.Index(proposals["id"].to_numpy(), name="id")
    return pd.Series(mean, index=index), pd.Series(sd, index=index)


def rank_proposals(
    proposals: pd.DataFrame,
    *,
    counter: str = "sequence",
    prior: float = DEFAULT_PRIOR,
    top: int = 20,
    tau: int = 10,
    coverage: float = 0.95,
    seed: int = 0,
) -> ProposalRanking:
    """Marginal rank sets of the ``top`` proposals by « pour » share and the τ-best set
    (either layout; see :func:`agree_share`)."""
    estimate, se = agree_share(proposals, counter=counter, prior=prior)
    order = estimate.sort_values(ascending=False, kind="mergesort").index[: max(1, min(top, len(estimate)))]  # fmt: skip
    rng = np.random.default_rng(seed)
    sets = rank_confidence_sets(estimate, se, indices=list(order), coverage=coverage, rng=rng)
    best = tau_best_set(estimate, se, tau=min(tau, len(estimate)), coverage=coverage, rng=rng)
    table = pd.DataFrame({
        "id": sets.index.to_numpy(),
        "agree_share": sets["estimate"].to_numpy(),
        "agree_se": se.loc[sets.index].to_numpy(),
        "rank": sets["rank"].to_numpy(),
        "rank_lower": sets["lower"].to_numpy(),
        "rank_upper": sets["upper"].to_numpy(),
        "in_tau_best": best.loc[sets.index, "in_tau_best"].to_numpy(),
    })  # fmt: skip
    return ProposalRanking(
        table=table, tau=int(min(tau, len(estimate))), tau_best_size=int(best["in_tau_best"].sum()),
        proposals=len(estimate), coverage=coverage, method=str(sets.attrs.get("method", "")),
    )  # fmt: skip
