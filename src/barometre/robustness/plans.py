"""Effective weights of one missing-value pattern and the distinct rows of one discrete variant:
the precomputed pieces of :class:`~barometre.robustness.model.RobustnessModel`'s fast path."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from barometre.composite.arguments import AggregateArguments
from barometre.composite.spec import IndexSpec


@dataclass
class _PatternPlan:
    """How the run weights of the nodes give the effective weights of one pattern's indicators."""

    live: np.ndarray  # positions (among the structure's indicators) with a path to the root
    paths: np.ndarray  # live × depth node indices, padded with the index of a column of ones
    denominators: list[tuple[int, np.ndarray]]  # aggregate position, its present children
    root_present: bool

    def effective(
        self, weights: np.ndarray, n_aggregates: int, parent_pos: np.ndarray
    ) -> np.ndarray:
        """Effective weights (runs × live indicators) from node weights (runs × nodes)."""
        n_runs, n_nodes = weights.shape
        denominators = np.ones((n_runs, n_aggregates + 1))
        for position, kids in self.denominators:
            denominators[:, position] = weights[:, kids].sum(axis=1)
        shares = np.ones((n_runs, n_nodes + 1))
        shares[:, :n_nodes] = weights / denominators[:, parent_pos]
        return shares[:, self.paths].prod(axis=2)


@dataclass
class _Structure:
    """The hierarchy of one exclusion option."""

    spec: IndexSpec
    columns: np.ndarray  # indices of its indicators among all the spec's indicators
    plans: dict[int, _PatternPlan] = field(default_factory=dict)


@dataclass
class _Variant:
    """One discrete variant: distinct rows grouped by pattern, and their maps to the units."""

    n_unique: int
    blocks: list[tuple[int, int, _PatternPlan, np.ndarray]]  # rows [a, b), plan, X^T of live
    absent: list[tuple[int, int]]  # rows whose root score is missing
    zeros: list[tuple[int, int]]  # rows whose geometric mean is 0 (a zero among live values)
    classes: list[tuple[np.ndarray, np.ndarray, np.ndarray]]  # per class: rows, counts, inverse
    geometric: bool

    def scores(self, weights: np.ndarray, n_aggregates: int, parent_pos: np.ndarray) -> np.ndarray:
        """Root scores (runs × distinct rows) for a batch of node weights (runs × nodes)."""
        scores = np.empty((weights.shape[0], self.n_unique))
        for a, b, plan, live_t in self.blocks:
            effective = plan.effective(weights, n_aggregates, parent_pos)
            scores[:, a:b] = effective @ live_t
        for a, b in self.absent:
            scores[:, a:b] = np.nan
        for a, b in self.zeros:
            scores[:, a:b] = -np.inf  # exp(−inf) = 0, the engine's geometric mean with a zero
        if self.geometric:
            np.exp(scores, out=scores)
        return scores


def pattern_plan(
    spec: IndexSpec,
    pattern: np.ndarray,
    nominal: dict[str, float],
    node_pos: dict[str, int],
    aggregate_pos: dict[str, int],
) -> _PatternPlan:
    """Effective-weight plan of one presence pattern (True = indicator present) of ``spec``.

    ``nominal`` maps every node to its nominal weight, ``node_pos`` to its column among the
    run weights, ``aggregate_pos`` every aggregate to its position among the denominators.
    An aggregate is present when the engine would compute it (some child present, enough of
    them, a positive weight among them); an indicator is live when every node on its path to
    the root is present with a positive weight.
    """
    aggregate = AggregateArguments.from_spec(spec)
    present = dict(zip(spec.indicator_codes, map(bool, pattern), strict=True))
    kept_children: dict[str, list[str]] = {}
    for agg in aggregate.order:
        kids = aggregate.children[agg]
        here = [k for k in kids if present[k]]
        share = len(here) / len(kids)
        total = sum(nominal[k] for k in here)
        # the engine's rule (steps.weighted_mean): some child present, enough of them,
        # and a positive weight among them (positive weights stay positive when perturbed)
        minimum = aggregate.min_share_at(aggregate.levels[agg])
        present[agg] = bool(here) and share >= minimum and total > 0
        kept_children[agg] = here
    root = spec.root
    parents = spec.parent_map()
    live, paths = [], []
    if present[root]:
        for position, code in enumerate(spec.indicator_codes):
            chain, node = [], code
            # a zero-weight node contributes nothing (arithmetic) and is ignored (geometric:
            # the intended engine rule, see the xfail test of a 0 value on a 0-weight child)
            while node != root and present[node] and nominal[node] > 0:
                chain.append(node_pos[node])
                node = parents[node]
            if node == root:
                live.append(position)
                paths.append(chain)
    depth = max((len(p) for p in paths), default=1)
    ones = len(node_pos)
    padded = np.full((len(paths), depth), ones, dtype=np.int64)
    for row, chain in enumerate(paths):
        padded[row, : len(chain)] = chain
    # every present aggregate normalises its present children by their sum (the root's own
    # weight is never used)
    denominators = [
        (aggregate_pos[agg], np.array([node_pos[k] for k in kids], dtype=np.int64))
        for agg, kids in kept_children.items()
        if present[agg]
    ]
    return _PatternPlan(np.array(live, dtype=np.int64), padded, denominators, bool(present[root]))


def variant_rows(
    x: np.ndarray,
    method: str,
    plan_for: Callable[[np.ndarray], _PatternPlan],
    class_slices: list[tuple[int, int]],
) -> _Variant:
    """Distinct rows of the units × kept indicators matrix ``x`` (class order, one NaN bit
    pattern), grouped by missing-value pattern into blocks evaluated alike.

    ``plan_for`` gives the plan of a presence pattern; ``method`` is the aggregation
    (``"geometric"``: blocks hold log values, rows with a live zero get their own blocks).
    Per class, the distinct rows of its units with their counts and the map back to units.
    """
    k = x.shape[1]
    rows = np.ascontiguousarray(x).view(np.dtype((np.void, 8 * k))).ravel()
    _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
    unique = x[first]
    patterns = (~np.isnan(unique)).astype(np.int64) @ (1 << np.arange(k, dtype=np.int64))
    plans = {
        int(p): plan_for(~np.isnan(unique[np.argmax(patterns == p)])) for p in np.unique(patterns)
    }
    # A geometric mean with a zero among its live values is exactly 0 (exp(−inf) in the
    # engine): those rows get their own blocks instead of passing −inf to the matrix product.
    zero = np.zeros(unique.shape[0], dtype=np.int64)
    if method == "geometric":
        for p, plan in plans.items():
            rows_p = patterns == p
            zero[rows_p] = (unique[rows_p][:, plan.live] == 0).any(axis=1)
    by_block = np.lexsort((zero, patterns))
    unique, patterns, zero = unique[by_block], patterns[by_block], zero[by_block]
    new_position = np.empty_like(by_block)
    new_position[by_block] = np.arange(by_block.size)
    inverse = new_position[inverse.ravel()]
    blocks, absent, zeros = [], [], []
    cuts = np.flatnonzero((np.diff(patterns) != 0) | (np.diff(zero) != 0)) + 1
    for a, b in zip(np.r_[0, cuts], np.r_[cuts, patterns.size], strict=True):
        plan = plans[int(patterns[a])]
        if not plan.root_present:
            absent.append((int(a), int(b)))
        elif zero[a]:
            zeros.append((int(a), int(b)))
        else:
            live = unique[a:b][:, plan.live]
            if method == "geometric":
                live = np.log(live)
            blocks.append((int(a), int(b), plan, np.ascontiguousarray(live.T)))
    classes = []
    for a, b in class_slices:
        rows_c, inverse_c, counts = np.unique(inverse[a:b], return_inverse=True, return_counts=True)
        classes.append((rows_c, counts.astype(np.int64), inverse_c.ravel()))
    return _Variant(int(unique.shape[0]), blocks, absent, zeros, classes, method == "geometric")
