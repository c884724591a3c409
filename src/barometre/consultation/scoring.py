"""Scoring the proposals of a consultation: Make-compatible scores and zones, and honest zones.

**Make-compatible** (:func:`make_scores`), re-implemented from the definitions published with
the reference case (``../shared/reference-cases/makeorg-scorer/README.md``; not from upstream
code): for a counter c ∈ {verified, sequence} with N_c votes, the rate of a key k is
``min((n_c(k) + s) / (N_c + 1), 1)`` (s = 0.33 for the votes agree / disagree / neutral, 0.01
for the qualifications), its score ``w·p_verified(k) + (1 − w)·p_sequence(k)`` and its
half-width ``2·sqrt(q(1 − q)/(N_s + 4))`` with ``q = (N_s·p_sequence(k) + 2)/(N_s + 4)`` on the
sequence counter only. Sums and differences of keys add scores and combine half-widths in
quadrature; ``min(x, y)`` keeps the smaller score and the larger half-width:

* platitude = platitudeagree + platitudedisagree (two keys);
* top_score = agree + like + doable − noway − impossible − platitude;
* controversy = min(agree, disagree) + min(like, noway);
* rejection = disagree + noway + impossible − like − doable − platitude;
* zone, on the point scores a, d, n of agree, disagree, neutral (:func:`zone_rule`).

This reproduces the upstream fixture to 1e-9 (``tests/test_consultation_scoring.py``). Its
shortcuts are those of the definition: the half-widths treat multinomial shares as
independent, and the zone reads point estimates, so a proposal with 3 votes is classified as
firmly as one with 30 000; a proposal without votes scores 0.33 on each key and falls in
« controversy ».

**Honest** (:func:`zone_probabilities`): the shares θ = (agree, disagree, neutral) of one
counter (default ``sequence``: votes on proposals shown at random, the sample that estimates
what a participant thinks; the two counters overlap and cannot be pooled as independent
evidence) get a Dirichlet(n + α) posterior, α = 1/3 per share by default (its posterior mean,
(n + 1/3)/(N + 1), is Make's smoothed rate); the probability of each zone is the posterior
probability that θ lies in the zone's region of the simplex — the same rule read on θ, not on
an estimate. Computed by Monte Carlo with a seeded :class:`numpy.random.Generator` (default)
or by deterministic quadrature (:func:`zone_probabilities_quadrature`, used to check the
simulation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from barometre.consultation.readers import COUNTERS, VOTES, vote_column

ZONES = ("consensus", "controversy", "rejection", "limbo")
"""Zones of a proposal; codes 0..3 in this order."""
CONSENSUS, CONTROVERSY, REJECTION, LIMBO = range(4)

VOTE_SMOOTHING = 0.33
QUALIFICATION_SMOOTHING = 0.01
DEFAULT_WEIGHT = 0.5
"""Weight of the verified counter in the scores (a per-consultation setting upstream)."""

AGREE_CONSENSUS = 0.6
"""a ≥ 0.6: consensus (and d ≥ 0.6: rejection)."""
NEUTRAL_LIMBO = 0.4
"""n ≥ 0.4: limbo; n < 0.4 is required for the second branch of consensus and rejection."""
MINORITY = 0.15
"""d < 0.15 (consensus) or a < 0.15 (rejection), when n < 0.4."""

MAKE_COLUMNS = (
    "id", "n_votes", "agree", "disagree", "neutral", "top_score", "top_score_ci", "controversy",
    "controversy_ci", "rejection", "rejection_ci", "neutral_ci", "zone",
)  # fmt: skip
"""Columns of the Make-compatible output (a contract of ``barometre consultation score``)."""
HONEST_COLUMNS = ("p_consensus", "p_controversy", "p_rejection", "p_limbo", "zone_probable")

DEFAULT_PRIOR = 1.0 / 3.0
DEFAULT_DRAWS = 4000
DEFAULT_SEED = 20250601


# --------------------------------------------------------------------------------------------
# Zones


def zone_rule(a: np.ndarray, d: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Zone codes (:data:`ZONES`) of agree / disagree / neutral values, in the upstream order:
    consensus if a ≥ 0.6 or (n < 0.4 and d < 0.15); else rejection if d ≥ 0.6 or (n < 0.4 and
    a < 0.15); else limbo if n ≥ 0.4; else controversy."""
    a, d, n = np.asarray(a, float), np.asarray(d, float), np.asarray(n, float)
    low_neutral = n < NEUTRAL_LIMBO
    consensus = (a >= AGREE_CONSENSUS) | (low_neutral & (d < MINORITY))
    rejection = (d >= AGREE_CONSENSUS) | (low_neutral & (a < MINORITY))
    return np.select(
        [consensus, rejection, n >= NEUTRAL_LIMBO], [CONSENSUS, REJECTION, LIMBO], CONTROVERSY
    ).astype(np.int8)


def zone_names(codes: np.ndarray) -> np.ndarray:
    return np.asarray(ZONES, dtype=object)[np.asarray(codes, dtype=int)]


# --------------------------------------------------------------------------------------------
# Make-compatible scores


@dataclass(frozen=True)
class Estimate:
    """A score with its upstream half-width (arrays over proposals)."""

    score: np.ndarray
    half_width: np.ndarray

    def __add__(self, other: Estimate) -> Estimate:
        return Estimate(self.score + other.score, np.hypot(self.half_width, other.half_width))

    def __sub__(self, other: Estimate) -> Estimate:
        return Estimate(self.score - other.score, np.hypot(self.half_width, other.half_width))


def smaller(x: Estimate, y: Estimate) -> Estimate:
    """Upstream ``min``: the smaller score, the larger half-width."""
    return Estimate(np.minimum(x.score, y.score), np.maximum(x.half_width, y.half_width))


class MakeScorer:
    """The keys of every proposal of a counts table (:data:`~readers.COUNT_COLUMNS`)."""

    def __init__(self, counts: pd.DataFrame, weight: float = DEFAULT_WEIGHT) -> None:
        if not 0.0 <= weight <= 1.0 or math.isnan(weight):
            raise ValueError(f"weight must be between 0 and 1 (got {weight})")
        self.counts = counts
        self.weight = float(weight)
        self.totals = {
            c: sum(counts[vote_column(c, v)].to_numpy(dtype=float) for v in VOTES) for c in COUNTERS
        }

    def rate(self, counter: str, column_suffix: str) -> np.ndarray:
        smoothing = VOTE_SMOOTHING if column_suffix in VOTES else QUALIFICATION_SMOOTHING
        n = self.counts[f"vote_{counter}_{column_suffix}"].to_numpy(dtype=float)
        return np.minimum((n + smoothing) / (self.totals[counter] + 1.0), 1.0)

    def key(self, column_suffix: str) -> Estimate:
        """One key, e.g. ``agree`` or ``agree_like``."""
        verified = self.rate("verified", column_suffix)
        sequence = self.rate("sequence", column_suffix)
        score = self.weight * verified + (1.0 - self.weight) * sequence
        n_seq = self.totals["sequence"]
        q = (n_seq * sequence + 2.0) / (n_seq + 4.0)
        return Estimate(score, 2.0 * np.sqrt(q * (1.0 - q) / (n_seq + 4.0)))

    def scores(self) -> dict[str, Estimate]:
        k = self.key
        agree, disagree, neutral = k("agree"), k("disagree"), k("neutral")
        like, doable = k("agree_like"), k("agree_doable")
        noway, impossible = k("disagree_noway"), k("disagree_impossible")
        platitude = k("agree_platitudeagree") + k("disagree_platitudedisagree")
        return {
            "agree": agree,
            "disagree": disagree,
            "neutral": neutral,
            "top_score": agree + like + doable - noway - impossible - platitude,
            "controversy": smaller(agree, disagree) + smaller(like, noway),
            "rejection": disagree + noway + impossible - like - doable - platitude,
        }


def make_scores(proposals: pd.DataFrame, weight: float = DEFAULT_WEIGHT) -> pd.DataFrame:
    """The Make-compatible table (:data:`MAKE_COLUMNS`), one row per proposal, in input order.

    ``n_votes`` is the number of verified votes (agree + disagree + neutral); ``agree``,
    ``disagree``, ``neutral`` are the keys' scores; ``*_ci`` the upstream half-widths.
    """
    scorer = MakeScorer(proposals, weight)
    s = scorer.scores()
    out = pd.DataFrame({
        "id": proposals["id"].to_numpy(),
        "n_votes": scorer.totals["verified"].astype("int64"),
        "agree": s["agree"].score,
        "disagree": s["disagree"].score,
        "neutral": s["neutral"].score,
        "top_score": s["top_score"].score,
        "top_score_ci": s["top_score"].half_width,
        "controversy": s["controversy"].score,
        "controversy_ci": s["controversy"].half_width,
        "rejection": s["rejection"].score,
        "rejection_ci": s["rejection"].half_width,
        "neutral_ci": s["neutral"].half_width,
        "zone": zone_names(zone_rule(s["agree"].score, s["disagree"].score, s["neutral"].score)),
    })  # fmt: skip
    return out[list(MAKE_COLUMNS)]


# --------------------------------------------------------------------------------------------
# Honest zones: Dirichlet posterior of the vote shares


def vote_counts(proposals: pd.DataFrame, counter: str = "sequence") -> np.ndarray:
    """(n, 3) array of agree, disagree, neutral votes of one counter."""
    if counter not in COUNTERS:
        raise ValueError(f"unknown counter {counter!r}: one of {', '.join(COUNTERS)}")
    return np.column_stack(
        [proposals[vote_column(counter, v)].to_numpy(dtype=float) for v in VOTES]
    )


def _check_prior(prior: float) -> None:
    if not prior > 0 or not math.isfinite(prior):
        raise ValueError(f"the Dirichlet prior must be positive (got {prior})")


def zone_probabilities(
    counts: np.ndarray,
    *,
    prior: float = DEFAULT_PRIOR,
    draws: int = DEFAULT_DRAWS,
    seed: int | np.random.Generator = DEFAULT_SEED,
    chunk: int = 256,
) -> np.ndarray:
    """(n, 4) posterior probabilities of the zones (:data:`ZONES` order) by Monte Carlo.

    ``counts``: (n, 3) agree, disagree, neutral votes; shares ~ Dirichlet(counts + prior);
    ``draws`` samples per proposal from ``numpy.random.default_rng(seed)``, proposals in order
    (the result does not depend on ``chunk``). Each probability is a multiple of 1/draws, with a
    Monte Carlo standard error of at most 0.5/sqrt(draws).
    """
    _check_prior(prior)
    if draws < 1:
        raise ValueError("draws must be at least 1")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    alpha = np.asarray(counts, dtype=float) + prior
    out = np.zeros((len(alpha), len(ZONES)))
    for start in range(0, len(alpha), chunk):
        block = alpha[start : start + chunk]
        gamma = rng.standard_gamma(np.broadcast_to(block[:, None, :], (len(block), draws, 3)))
        # zone_rule on the shares g / Σg, written without the divisions (same comparisons).
        ga, gd, gn = (np.ascontiguousarray(gamma[..., j]) for j in range(3))
        total = ga + gd + gn
        low_neutral = gn < NEUTRAL_LIMBO * total
        consensus = (ga >= AGREE_CONSENSUS * total) | (low_neutral & (gd < MINORITY * total))
        rejection = ((gd >= AGREE_CONSENSUS * total) | (low_neutral & (ga < MINORITY * total))) & ~consensus  # fmt: skip
        limbo = ~low_neutral & ~consensus & ~rejection
        rows = slice(start, start + chunk)
        out[rows, CONSENSUS] = consensus.mean(axis=1)
        out[rows, REJECTION] = rejection.mean(axis=1)
        out[rows, LIMBO] = limbo.mean(axis=1)
        out[rows, CONTROVERSY] = (~(consensus | rejection | limbo)).mean(axis=1)
    return out


_BREAKS = (0.0, MINORITY, 1.0 - AGREE_CONSENSUS, AGREE_CONSENSUS - MINORITY, AGREE_CONSENSUS, 1.0)
"""Pieces of the agree share where the zones' boundaries change form: 0.15, 0.4, 0.45, 0.6."""


def zone_probabilities_quadrature(
    counts: np.ndarray, *, prior: float = DEFAULT_PRIOR, nodes: int = 48
) -> np.ndarray:
    """(n, 4) posterior zone probabilities by deterministic quadrature (no simulation).

    With θ ~ Dirichlet(α): a ~ Beta(α_a, α_d + α_n) and, given a, d = (1 − a)·t with
    t ~ Beta(α_d, α_n). Given a < 0.6 the zones are intervals of d (n = 1 − a − d): limbo
    d ≤ 0.6 − a; for a < 0.15 rejection is the rest; for 0.15 ≤ a < 0.6 rejection is d ≥ 0.6,
    consensus 0.6 − a < d < 0.15, controversy the rest; a ≥ 0.6 is consensus. The conditional
    probabilities are regularised incomplete beta functions, integrated over a in the
    probability scale (u = F_a(a)) with Gauss–Legendre ``nodes`` per piece of :data:`_BREAKS`.
    """
    _check_prior(prior)
    alpha = np.asarray(counts, dtype=float) + prior
    aa, ad, an = alpha[:, 0:1], alpha[:, 1:2], alpha[:, 2:3]
    x, w = np.polynomial.legendre.leggauss(nodes)
    out = np.zeros((len(alpha), len(ZONES)))
    cdf = [special.betainc(aa, ad + an, b) for b in _BREAKS]
    out[:, CONSENSUS] += (1.0 - cdf[-2])[:, 0]
    for i in range(len(_BREAKS) - 2):
        u0, u1 = cdf[i], cdf[i + 1]
        width = u1 - u0
        u = u0 + width * (x[None, :] + 1.0) / 2.0
        a = special.betaincinv(aa, ad + an, u)
        a = np.clip(a, _BREAKS[i], _BREAKS[i + 1])
        rest = 1.0 - a

        def t_cdf(d: np.ndarray, rest: np.ndarray = rest) -> np.ndarray:
            return special.betainc(ad, an, np.clip(d / rest, 0.0, 1.0))

        limbo = t_cdf(AGREE_CONSENSUS - a)
        if _BREAKS[i + 1] <= MINORITY:
            probs = {LIMBO: limbo, REJECTION: 1.0 - limbo}
        else:
            rejection = 1.0 - t_cdf(np.full_like(a, AGREE_CONSENSUS))
            consensus = np.maximum(t_cdf(np.full_like(a, MINORITY)) - limbo, 0.0)
            probs = {
                LIMBO: limbo,
                REJECTION: rejection,
                CONSENSUS: consensus,
                CONTROVERSY: np.maximum(1.0 - limbo - rejection - consensus, 0.0),
            }
        for zone, p in probs.items():
            out[:, zone] += width[:, 0] * (p @ w) / 2.0
    return out


def honest_scores(
    proposals: pd.DataFrame,
    *,
    counter: str = "sequence",
    prior: float = DEFAULT_PRIOR,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    method: str = "mc",
) -> pd.DataFrame:
    """:data:`HONEST_COLUMNS` for each proposal: zone probabilities (``method`` ``mc`` or
    ``quadrature``) and the most probable zone (ties: the first in :data:`ZONES`)."""
    counts = vote_counts(proposals, counter)
    if method == "mc":
        probs = zone_probabilities(counts, prior=prior, draws=draws, seed=seed)
    elif method == "quadrature":
        probs = zone_probabilities_quadrature(counts, prior=prior)
    else:
        raise ValueError(f"unknown method {method!r}: mc or quadrature")
    out = pd.DataFrame(probs, columns=[f"p_{z}" for z in ZONES])
    out["zone_probable"] = zone_names(probs.argmax(axis=1))
    return out


def score_consultation(
    proposals: pd.DataFrame,
    *,
    weight: float = DEFAULT_WEIGHT,
    counter: str = "sequence",
    prior: float = DEFAULT_PRIOR,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    method: str = "mc",
) -> pd.DataFrame:
    """Make-compatible columns then the honest ones, one row per proposal."""
    make = make_scores(proposals, weight)
    honest = honest_scores(proposals, counter=counter, prior=prior, draws=draws, seed=seed, method=method)  # fmt: skip
    return pd.concat([make, honest], axis=1)


def zone_crosstab(scored: pd.DataFrame) -> pd.DataFrame:
    """Proposals by upstream zone (rows) and most probable zone (columns)."""
    table = pd.crosstab(
        pd.Categorical(scored["zone"], ZONES), pd.Categorical(scored["zone_probable"], ZONES),
        rownames=["zone"], colnames=["zone_probable"], dropna=False,
    )  # fmt: skip
    return table


def upstream_zone_probability(scored: pd.DataFrame) -> np.ndarray:
    """The posterior probability of each proposal's Make-compatible zone."""
    return np.choose(
        pd.Categorical(scored["zone"], ZONES).codes,
        [scored[f"p_{z}"].to_numpy() for z in ZONES],
    )


def disagreements(scored: pd.DataFrame, threshold: float = 0.5) -> pd.DataFrame:
    """Proposals whose upstream zone has a posterior probability below ``threshold``, with
    that probability (``p_zone``)."""
    p_upstream = upstream_zone_probability(scored)
    return scored.assign(p_zone=p_upstream)[p_upstream < threshold]


# --------------------------------------------------------------------------------------------
# Open-data layout: the agreement share only


OPENDATA_COLUMNS = (
    "id", "n_votes", "agree", "adhesion", "adhesion_low", "adhesion_high", "p_agree_60",
    "p_agree_below_40", "published_score", "published_engagement",
)  # fmt: skip


def opendata_scores(
    proposals: pd.DataFrame, *, prior: float = DEFAULT_PRIOR, coverage: float = 0.95
) -> pd.DataFrame:
    """What the open-data layout supports: the « pour » share θ_a of each proposal under the
    Beta(agree + α, votes − agree + 2α) marginal of the Dirichlet posterior (``adhesion`` its
    mean, ``adhesion_low``/``_high`` its equal-tailed ``coverage`` interval), ``p_agree_60`` =
    P(θ_a ≥ 0.6), the first branch of consensus (a lower bound of P(consensus)), and
    ``p_agree_below_40`` = P(θ_a < 0.4), an upper bound of P(rejection) (rejection needs
    d ≥ 0.6 or a < 0.15, both imply a < 0.4). Zones themselves need the « contre » / neutral
    split, which this layout does not carry; Make.org's published score and engagement are
    passed through."""
    _check_prior(prior)
    votes = proposals["votes"].to_numpy(dtype=float)
    agree = proposals["agree"].to_numpy(dtype=float)
    a, b = agree + prior, votes - agree + 2 * prior
    tail = (1 - coverage) / 2
    out = pd.DataFrame({
        "id": proposals["id"].to_numpy(),
        "n_votes": proposals["votes"].to_numpy(),
        "agree": proposals["agree"].to_numpy(),
        "adhesion": a / (a + b),
        "adhesion_low": special.betaincinv(a, b, tail),
        "adhesion_high": special.betaincinv(a, b, 1 - tail),
        "p_agree_60": special.betaincc(a, b, AGREE_CONSENSUS),
        "p_agree_below_40": special.betainc(a, b, 1 - AGREE_CONSENSUS),
        "published_score": proposals["score"].to_numpy(dtype=float),
        "published_engagement": proposals["engagement"].to_numpy(dtype=float),
    })  # fmt: skip
    return out[list(OPENDATA_COLUMNS)]
