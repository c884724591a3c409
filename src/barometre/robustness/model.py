"""Fast evaluation of thousands of alternative builds of an index, and the naive reference.

A run of the uncertainty analysis is one build of the index under alternative assumptions
(:mod:`barometre.robustness.design`). Rebuilding with the engine for every run repeats work that
does not change: :class:`RobustnessModel` does that work once and keeps only what varies.

1. **Once per model.** The engine builds the nominal index (nominal ranks, the set of units);
   for every input table (rates raw/shrunk), outlier treatment and normalisation option, the
   engine's own step functions (:func:`steps.treat`, :func:`steps.normalise`) give one normalised
   unit × indicator matrix.
2. **Once per discrete variant** (input × treatment × normalisation × aggregation × excluded
   indicator): the matrix restricted to the kept indicators is reduced to its distinct rows
   (identical units get one computed score, hence exactly tied scores as in the engine), and
   the rows are grouped by missing-value pattern. For a pattern, the engine's rule — missing
   children dropped and sibling weights re-normalised at every level, an aggregate missing when
   its share of present children is below the level's minimum — makes the score a fixed linear
   form of the present indicators: ``score = Σ_i E_i x_i`` (arithmetic) or
   ``exp(Σ_i E_i log x_i)`` (geometric), with ``E_i`` the product, along the path from the
   indicator to the root, of each node's weight divided by the sum of its present siblings'.
3. **Per batch of runs**: the effective weights ``E`` (runs × indicators) of each pattern come
   from the runs' perturbed node weights, the scores of all distinct rows from one matrix product
   per pattern, and the ranks within classes from :func:`rank_desc_min` (one integer sort per
   class and run, ties sharing the lowest rank, exactly the engine's rule).

Units are fixed across runs: those kept by the nominal build's screening (the screening step is
not re-run, so that ranks of different runs compare the same units). An excluded indicator is
removed from the spec, with any aggregate left without children (:func:`prune_spec`).

:func:`naive_ranks` rebuilds a run with :func:`build_index` from the run's own spec
(:func:`run_spec`): the fast path must give exactly the same ranks (tested).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from barometre.composite import steps
from barometre.composite.arguments import AggregateArguments, StepArguments
from barometre.composite.engine import IndexBuild, build_index
from barometre.composite.spec import IndexSpec, NormaliseStep, TreatStep, spec_from_dict
from barometre.robustness.assumptions import RobustnessAssumptions
from barometre.robustness.design import NO_EXCLUSION, AssumptionSpace, RunDesign
from barometre.robustness.ranking import rank_desc_min

if TYPE_CHECKING:
    from barometre.robustness.joint import DrawSampler, JointEvaluator

#: Entries per block of the vectorised ranking: blocks of ~2 MB stay in cache (measured: a
#: 33 000-unit class ranks twice as fast in blocks of 8 runs as in blocks of 256).
BLOCK_ENTRIES = 262_144
RUN_WEIGHT_SET = "__run__"


class RobustnessError(ValueError):
    """Assumptions that cannot be evaluated on this spec and data."""


# --- specs of single runs ----------------------------------------------------------------------
def prune_spec(spec: IndexSpec, excluded: str | None) -> IndexSpec:
    """The spec without indicator ``excluded``, nor any aggregate left without children.

    Weight sets forget the removed codes. Raises :class:`RobustnessError` if nothing is left.
    """
    if excluded is None or excluded == NO_EXCLUSION:
        return spec
    raw = spec.model_dump()
    raw["indicators"] = [i for i in raw["indicators"] if i["code"] != excluded]
    if len(raw["indicators"]) == len(spec.indicators):
        raise RobustnessError(f"cannot exclude unknown indicator {excluded!r}")
    removed = {excluded}
    while True:
        parents = {i["parent"] for i in raw["indicators"]} | {
            a["parent"] for a in raw["aggregates"] if a["parent"] is not None
        }
        empty = [a for a in raw["aggregates"] if a["code"] not in parents]
        if not empty:
            break
        if any(a["parent"] is None for a in empty):
            raise RobustnessError(f"excluding {excluded!r} leaves the index without indicators")
        removed |= {a["code"] for a in empty}
        raw["aggregates"] = [a for a in raw["aggregates"] if a["code"] in parents]
    raw["weight_sets"] = {
        name: {k: v for k, v in values.items() if k not in removed}
        for name, values in raw["weight_sets"].items()
    }
    raw["steps"]["treat"]["per_indicator"] = {
        k: v for k, v in raw["steps"]["treat"]["per_indicator"].items() if k not in removed
    }
    return spec_from_dict(raw, source=f"spec without {excluded}")


def run_spec(
    spec: IndexSpec,
    *,
    treat: TreatStep,
    normalise: NormaliseStep,
    aggregation: str,
    excluded: str | None = None,
    weights: Mapping[str, float] | None = None,
    units: tuple[Sequence[str], Sequence[str]] | None = None,
) -> IndexSpec:
    """The spec of one run: steps replaced, one indicator excluded, weights as weight set
    ``__run__``, and (``units`` = kept, dropped) screening forced to the nominal set of units."""
    pruned = prune_spec(spec, excluded)
    raw = pruned.model_dump()
    raw["steps"]["treat"] = treat.model_dump()
    raw["steps"]["normalise"] = normalise.model_dump()
    raw["steps"]["aggregate"]["method"] = aggregation
    if weights is not None:
        codes = {i["code"] for i in raw["indicators"]} | {a["code"] for a in raw["aggregates"]}
        raw["weight_sets"][RUN_WEIGHT_SET] = {k: float(v) for k, v in weights.items() if k in codes}
        raw["weights"] = RUN_WEIGHT_SET
    if units is not None and raw["steps"]["screen"]["enabled"]:
        raw["steps"]["screen"]["force_include"] = list(units[0])
        raw["steps"]["screen"]["force_exclude"] = list(units[1])
    return spec_from_dict(raw, source="run spec")


def rank_in_classes(build: IndexBuild, class_column: str | None) -> pd.Series:
    """The engine's ranks of the root score, within ``class_column`` (None: overall)."""
    spec = build.spec
    scores = build.aggregated[[spec.root]]
    if class_column is None:
        ranks = steps.rank_desc(scores)
    elif class_column in build.group_ranks:
        ranks = build.group_ranks[class_column][[spec.root]]
    else:
        ranks = steps.rank_within(scores, build.units.loc[scores.index, class_column])
    return ranks[spec.root].reindex(scores.index)


# --- effective weights of one missing-value pattern ------------------------------------------
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


@dataclass
class RunOutputs:
    """What the runs of a design produced.

    Per run: ``abs_shift`` (runs × classes) mean |rank − nominal rank| over the class's units
    ranked in both; ``ranked`` (runs × classes) units ranked; ``laureate_ranks`` (runs ×
    laureates, 0 = unranked). Per unit: ``top_count`` (runs with rank in 1..top),
    ``ranked_count``. Per class and tolerance k: ``within`` (unit-runs with |shift| ≤ k) out of
    ``pairs`` (unit-runs ranked in both). ``ranks`` (runs × units, uint16, 0 = unranked) when
    requested.
    """

    abs_shift: np.ndarray
    ranked: np.ndarray
    laureate_ranks: np.ndarray
    top_count: np.ndarray
    ranked_count: np.ndarray
    within: np.ndarray
    pairs: np.ndarray
    ranks: np.ndarray | None = None
    group_top_count: dict[str, np.ndarray] = field(default_factory=dict)


class RobustnessModel:
    """Precomputed variants of an index on fixed units, evaluated for designs of runs.

    ``data`` is the unit table the spec reads, or a mapping label → table for alternative
    inputs (the first option of the ``rates`` assumption is the nominal one). ``class_order``
    orders the classes (default: sorted labels).
    """

    def __init__(
        self,
        spec: IndexSpec,
        data: pd.DataFrame | Mapping[str, pd.DataFrame],
        assumptions: RobustnessAssumptions,
        weight_set: str | None = None,
        class_order: Sequence[str] | None = None,
        sampler: DrawSampler | None = None,
    ) -> None:
        self.spec = spec
        self.assumptions = assumptions
        self.weight_set = weight_set
        self.tables: dict[str, pd.DataFrame] = (
            {"raw": data} if isinstance(data, pd.DataFrame) else dict(data)
        )
        if not self.tables:
            raise RobustnessError("no input table")
        self.space = AssumptionSpace(spec, assumptions, weight_set, list(self.tables))
        if (assumptions.sampling is None) != (sampler is None):
            raise RobustnessError(
                "posterior draws need both the 'sampling' assumption and a sampler"
            )
        self.class_column = assumptions.class_column
        self.sampler = sampler
        self._group_members: dict[str, list[np.ndarray]] = {}
        self._joint: JointEvaluator | None = None
        if assumptions.group_top and sampler is None:
            raise RobustnessError(
                "top-k counts within other groups need the joint runs (a sampler)"
            )
        if self.class_column is not None and self.class_column not in spec.units.groups:
            raise RobustnessError(
                f"class column {self.class_column!r} is not a unit group of the spec {spec.units.groups}"
            )
        nominal_label = self.space.discrete["rates"].labels[0]
        self.nominal_build = build_index(spec, self.tables[nominal_label], weight_set)
        build = self.nominal_build
        screened = build.screened.index
        kept = set(screened)
        dropped = [u for u in build.screening.index if u not in kept]
        self._fixed_units = (list(map(str, screened)), list(map(str, dropped)))
        # --- units in class order ----------------------------------------------------------
        if self.class_column is None:
            classes = pd.Series("all", index=screened)
        else:
            classes = build.units.loc[screened, self.class_column]
        labels = sorted(classes.dropna().unique()) if class_order is None else list(class_order)
        unknown = sorted(set(classes.dropna()) - set(labels))
        if unknown:
            raise RobustnessError(f"classes {unknown} are not in class_order {labels}")
        self.class_labels: list[str] = [c for c in labels if (classes == c).any()]
        position = {c: n for n, c in enumerate(self.class_labels)}
        key = classes.map(position).fillna(len(self.class_labels)).to_numpy()
        self._order = np.argsort(key, kind="stable")  # engine order → class order
        self.unit_codes = np.asarray(screened.astype(str))[self._order]
        self.unit_classes = classes.to_numpy()[self._order]
        bounds = np.searchsorted(key[self._order], np.arange(len(self.class_labels) + 1))
        self.class_slices = [
            (int(bounds[c]), int(bounds[c + 1])) for c in range(len(self.class_labels))
        ]
        nominal = rank_in_classes(build, self.class_column)
        self.nominal_ranks = nominal.fillna(0).to_numpy(dtype=np.int64)[self._order]
        self.nominal_scores = build.aggregated[spec.root].to_numpy()[self._order]
        top = assumptions.top
        laureates = np.flatnonzero((self.nominal_ranks >= 1) & (self.nominal_ranks <= top))
        laureate_class = np.searchsorted(bounds[1:], laureates, side="right")
        # laureates in palmarès order: class, nominal rank, unit code
        order = np.lexsort(
            (self.unit_codes[laureates], self.nominal_ranks[laureates], laureate_class)
        )
        self.laureates = laureates[order]
        self.laureate_class = laureate_class[order]
        if max((b - a for a, b in self.class_slices), default=0) >= 2**16:
            raise RobustnessError("a class with 65 536 units or more does not fit uint16 ranks")
        # --- precomputed normalised matrices -------------------------------------------------
        self._screened = {nominal_label: build.screened}
        self._matrices: dict[tuple[int, int, str], np.ndarray] = {}
        self._structures: dict[str, _Structure] = {}
        self._lock = threading.Lock()
        self._nodes = self.space.nodes
        self._node_pos = {n: i for i, n in enumerate(self._nodes)}
        aggregates = [a.code for a in spec.aggregates]
        self._aggregate_pos = {a: i for i, a in enumerate(aggregates)}
        parents = spec.parent_map()
        # parent position of every node among the aggregates (the root points at a column of
        # ones, so its share is its own weight, unused)
        self._parent_pos = np.array(
            [
                self._aggregate_pos[parents[n]] if parents[n] is not None else len(aggregates)
                for n in self._nodes
            ]
        )

    # --- precomputation -------------------------------------------------------------------------
    @property
    def n_units(self) -> int:
        return len(self.unit_codes)

    def _screened_table(self, label: str) -> pd.DataFrame:
        if label not in self._screened:
            forced = run_spec(
                self.spec,
                treat=self.spec.steps.treat,
                normalise=self.spec.steps.normalise,
                aggregation=self.spec.steps.aggregate.method,
                units=self._fixed_units,
            )
            other = build_index(forced, self.tables[label], self.weight_set)
            if set(other.screened.index) != set(self.nominal_build.screened.index):
                raise RobustnessError(
                    f"input table {label!r} does not hold the same units as the nominal one"
                )
            self._screened[label] = other.screened.loc[self.nominal_build.screened.index]
        return self._screened[label]

    def normalised_matrix(self, rates: int, treatment: int, normalise: NormaliseStep) -> np.ndarray:
        """Normalised units × indicators (class order) of one input, treatment and normalisation,
        computed with the engine's step functions and the same :class:`StepArguments` as
        :func:`build_index`."""
        key = (rates, treatment, normalise.model_dump_json())
        with self._lock:
            if key in self._matrices:
                return self._matrices[key]
            spec = self.spec
            screened = self._screened_table(self.space.discrete["rates"].labels[rates])
            args = StepArguments.from_spec(
                spec, treat=self.space.treatments[treatment], normalise=normalise
            )
            treated, _, _ = args.treat.apply(screened)
            normalised = args.normalise.apply(treated)
            matrix = normalised[spec.indicator_codes].to_numpy(dtype=np.float64)[self._order]
            matrix = np.ascontiguousarray(matrix)
            self._matrices[key] = matrix
            return matrix

    def _structure(self, excluded: str) -> _Structure:
        with self._lock:
            if excluded not in self._structures:
                pruned = prune_spec(self.spec, excluded)
                columns = np.array(
                    [self.spec.indicator_codes.index(c) for c in pruned.indicator_codes]
                )
                self._structures[excluded] = _Structure(pruned, columns)
            return self._structures[excluded]

    def _plan(self, structure: _Structure, pattern: np.ndarray) -> _PatternPlan:
        """Effective-weight plan of one presence pattern (True = indicator present)."""
        bits = int(np.dot(pattern.astype(np.int64), 1 << np.arange(pattern.size, dtype=np.int64)))
        with self._lock:
            if bits in structure.plans:
                return structure.plans[bits]
        spec = structure.spec
        aggregate = AggregateArguments.from_spec(spec)
        nominal = dict(zip(self._nodes, self.space.nominal_weights, strict=True))
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
                    chain.append(self._node_pos[node])
                    node = parents[node]
                if node == root:
                    live.append(position)
                    paths.append(chain)
        depth = max((len(p) for p in paths), default=1)
        ones = len(self._nodes)
        padded = np.full((len(paths), depth), ones, dtype=np.int64)
        for row, chain in enumerate(paths):
            padded[row, : len(chain)] = chain
        # every present aggregate normalises its present children by their sum (the root's own
        # weight is never used)
        denominators = [
            (self._aggregate_pos[agg], np.array([self._node_pos[k] for k in kids], dtype=np.int64))
            for agg, kids in kept_children.items()
            if present[agg]
        ]
        plan = _PatternPlan(
            np.array(live, dtype=np.int64), padded, denominators, bool(present[root])
        )
        with self._lock:
            structure.plans[bits] = plan
        return plan

    def _variant(
        self, rates: int, treatment: int, normalisation: int, aggregation: int, exclusion: int
    ) -> _Variant:
        """Distinct rows of one discrete variant, grouped by missing-value pattern."""
        method = self.space.aggregations[aggregation]
        step = self.space.normalisations[normalisation].for_aggregation(method)
        matrix = self.normalised_matrix(rates, treatment, step)
        structure = self._structure(self.space.exclusions[exclusion])
        x = matrix[:, structure.columns] + 0.0  # −0.0 → +0.0 so equal values have equal bytes
        missing = np.isnan(x)
        x[missing] = np.nan  # one bit pattern for every missing value
        if method == "geometric" and np.any(x[~missing] < 0):
            label = self.space.discrete["normalisation"].labels[normalisation]
            raise RobustnessError(
                f"normalisation {label!r} gives negative values: geometric means need a positive "
                "scale (declare a 'geometric' step for this option, e.g. min-max onto [1, 100])"
            )
        k = x.shape[1]
        rows = np.ascontiguousarray(x).view(np.dtype((np.void, 8 * k))).ravel()
        _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
        unique = x[first]
        patterns = (~np.isnan(unique)).astype(np.int64) @ (1 << np.arange(k, dtype=np.int64))
        plans = {
            int(p): self._plan(structure, ~np.isnan(unique[np.argmax(patterns == p)]))
            for p in np.unique(patterns)
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
        for a, b in self.class_slices:
            rows_c, inverse_c, counts = np.unique(
                inverse[a:b], return_inverse=True, return_counts=True
            )
            classes.append((rows_c, counts.astype(np.int64), inverse_c.ravel()))
        return _Variant(int(unique.shape[0]), blocks, absent, zeros, classes, method == "geometric")

    # --- evaluation -----------------------------------------------------------------------------
    def joint_evaluator(self) -> JointEvaluator:
        """The evaluator of the joint runs (one per model: it keeps the bank of draws)."""
        from barometre.robustness.joint import JointEvaluator

        if self.sampler is None:
            raise RobustnessError("joint runs need a sampler")
        if self._joint is None:
            self._joint = JointEvaluator(self, self.sampler)
        return self._joint

    def empty_outputs(self, n_runs: int, store_ranks: bool) -> RunOutputs:
        """Zeroed :class:`RunOutputs` for ``n_runs`` runs."""
        n_classes = len(self.class_labels)
        return RunOutputs(
            abs_shift=np.full((n_runs, n_classes), np.nan),
            ranked=np.zeros((n_runs, n_classes), dtype=np.int64),
            laureate_ranks=np.zeros((n_runs, self.laureates.size), dtype=np.int64),
            top_count=np.zeros(self.n_units, dtype=np.int64),
            ranked_count=np.zeros(self.n_units, dtype=np.int64),
            within=np.zeros((n_classes, len(self.assumptions.within_ranks)), dtype=np.int64),
            pairs=np.zeros(n_classes, dtype=np.int64),
            ranks=np.zeros((n_runs, self.n_units), dtype=np.uint16) if store_ranks else None,
            group_top_count={
                g: np.zeros(self.n_units, dtype=np.int64) for g in self.assumptions.group_top
            },
        )

    def group_members(self, column: str) -> list[np.ndarray]:
        """Positions (model order) of the units of each value of ``column`` of the unit table."""
        if column not in self._group_members:
            table = self.tables[self.space.discrete["rates"].labels[0]]
            codes = table[self.spec.units.code].astype(str).to_numpy()
            values = pd.Series(table[column].astype(str).to_numpy(), index=codes).reindex(
                self.unit_codes
            )
            self._group_members[column] = [
                np.flatnonzero((values == v).to_numpy()) for v in pd.unique(values.dropna())
            ]
        return self._group_members[column]

    def accumulate_groups(self, out: RunOutputs, scores: np.ndarray) -> None:
        """Add the top-k counts within the groups of ``assumptions.group_top`` of runs whose root
        scores (runs × units, model order) are given; ranks as in the classes (ties share)."""
        for column, k in self.assumptions.group_top.items():
            counts = out.group_top_count[column]
            for members in self.group_members(column):
                ranks = rank_desc_min(scores[:, members])
                counts[members] += ((ranks > 0) & (ranks <= k)).sum(axis=0)

    def accumulate(self, out: RunOutputs, runs: np.ndarray, ranks: np.ndarray) -> None:
        """Add the ranks (len(runs) × units, class order, 0 = unranked) of ``runs`` to ``out``."""
        for c, (a, b) in enumerate(self.class_slices):
            self._accumulate_class(
                out, runs, c, ranks[:, a:b], out.top_count, out.ranked_count, out.within, out.pairs
            )

    def _accumulate_class(
        self,
        out: RunOutputs,
        runs: np.ndarray,
        c: int,
        ranks: np.ndarray,
        top_count: np.ndarray,
        ranked_count: np.ndarray,
        within: np.ndarray,
        pairs: np.ndarray,
    ) -> None:
        """Statistics of the ranks (len(runs) × units of class ``c``) of ``runs``: per run in
        ``out`` (ranked units, mean |shift|, laureate ranks, stored ranks), per unit and class in
        the given accumulators (which a worker thread may hold on its own)."""
        a, b = self.class_slices[c]
        nominal = self.nominal_ranks[a:b]
        if out.ranks is not None:
            out.ranks[runs, a:b] = ranks
        is_ranked = ranks > 0
        ranked_count[a:b] += is_ranked.sum(axis=0)
        top_count[a:b] += (is_ranked & (ranks <= self.assumptions.top)).sum(axis=0)
        both = is_ranked & (nominal > 0)
        shift = np.abs(ranks - nominal)
        n_both = both.sum(axis=1)
        out.ranked[runs, c] = is_ranked.sum(axis=1)
        with np.errstate(invalid="ignore"):
            out.abs_shift[runs, c] = np.where(both, shift, 0).sum(axis=1) / n_both
        pairs[c] += int(n_both.sum())
        for j, k in enumerate(self.assumptions.within_ranks):
            within[c, j] += int((both & (shift <= k)).sum())
        in_class = (self.laureates >= a) & (self.laureates < b)
        if in_class.any():
            cols = np.flatnonzero(in_class)
            out.laureate_ranks[np.ix_(runs, cols)] = ranks[:, self.laureates[cols] - a]

    def _scores(self, variant: _Variant, weights: np.ndarray) -> np.ndarray:
        """Root scores (runs × distinct rows) of one variant for a batch of node weights."""
        scores = np.empty((weights.shape[0], variant.n_unique))
        n_aggregates = len(self._aggregate_pos)
        for a, b, plan, live_t in variant.blocks:
            effective = plan.effective(weights, n_aggregates, self._parent_pos)
            scores[:, a:b] = effective @ live_t
        for a, b in variant.absent:
            scores[:, a:b] = np.nan
        for a, b in variant.zeros:
            scores[:, a:b] = -np.inf  # exp(−inf) = 0, the engine's geometric mean with a zero
        if variant.geometric:
            np.exp(scores, out=scores)
        return scores

    def variant_scores(
        self, key: tuple[int, int, int, int, int], weights: np.ndarray
    ) -> np.ndarray:
        """Root scores (runs × units, class order, NaN = no score) of one variant for node
        weights: what :meth:`variant_ranks` ranks."""
        variant = self._variant(*key)
        scores = self._scores(variant, weights)
        out = np.full((weights.shape[0], self.n_units), np.nan)
        for (a, b), (rows_c, _, inverse_c) in zip(self.class_slices, variant.classes, strict=True):
            out[:, a:b] = scores[:, rows_c[inverse_c]]
        return out

    def variant_ranks(self, key: tuple[int, int, int, int, int], weights: np.ndarray) -> np.ndarray:
        """Ranks (runs × units, class order, 0 = unranked) of one variant for node weights."""
        variant = self._variant(*key)
        out = np.zeros((weights.shape[0], self.n_units), dtype=np.int64)
        scores = self._scores(variant, weights)
        for (a, b), (rows_c, counts, inverse_c) in zip(
            self.class_slices, variant.classes, strict=True
        ):
            out[:, a:b] = rank_desc_min(scores[:, rows_c], counts)[:, inverse_c]
        return out

    def evaluate(
        self,
        design: RunDesign,
        store_ranks: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> RunOutputs:
        """Evaluate every run of ``design`` with the fast path, streaming the statistics.

        Runs are grouped by discrete variant; each group is evaluated in blocks of runs small
        enough for the cache, on ``assumptions.threads`` worker threads (NumPy's sorts and
        matrix products release the GIL). Memory is bounded by the outputs: O(runs × classes)
        plus, with ``store_ranks``, the runs × units uint16 rank matrix.
        """
        if self.sampler is not None:
            return self.joint_evaluator().evaluate(design, store_ranks, progress)
        n_runs, n_classes = len(design), len(self.class_labels)
        k_list = self.assumptions.within_ranks
        out = self.empty_outputs(n_runs, store_ranks)
        names = ("rates", "treatment", "normalisation", "aggregation", "exclusion")
        keys = np.stack([design.choices[n] for n in names], axis=1)
        distinct, group_of = np.unique(keys, axis=0, return_inverse=True)
        group_of = group_of.ravel()
        runs_by_group = np.split(
            np.argsort(group_of, kind="stable"), np.cumsum(np.bincount(group_of))[:-1]
        )
        k_array = np.asarray(k_list, dtype=np.int64)

        def evaluate_group(g: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
            key = tuple(int(v) for v in distinct[g])
            variant = self._variant(*key)  # type: ignore[arg-type]
            runs = runs_by_group[g]
            top_count = np.zeros(self.n_units, dtype=np.int64)
            ranked_count = np.zeros(self.n_units, dtype=np.int64)
            within = np.zeros((n_classes, k_array.size), dtype=np.int64)
            pairs = np.zeros(n_classes, dtype=np.int64)
            block = max(
                1, min(self.assumptions.batch_size, BLOCK_ENTRIES // max(1, variant.n_unique))
            )
            for start in range(0, runs.size, block):
                rows = runs[start : start + block]
                scores = self._scores(variant, design.node_weights[rows])
                for c, ((a, b), (rows_c, counts, inverse_c)) in enumerate(
                    zip(self.class_slices, variant.classes, strict=True)
                ):
                    sub = max(1, BLOCK_ENTRIES // max(1, rows_c.size))
                    for s in range(0, rows.size, sub):
                        part = rows[s : s + sub]
                        ranks = rank_desc_min(scores[s : s + sub][:, rows_c], counts)[:, inverse_c]
                        self._accumulate_class(
                            out, part, c, ranks, top_count, ranked_count, within, pairs
                        )
                if progress is not None:
                    progress(rows.size)
            return top_count, ranked_count, within, pairs, g

        # prepare the normalised matrices serially (the engine's treatment is the slow part)
        for g in range(distinct.shape[0]):
            r, t, nrm, agg, _ = (int(v) for v in distinct[g])
            method = self.space.aggregations[agg]
            self.normalised_matrix(r, t, self.space.normalisations[nrm].for_aggregation(method))
        threads = max(1, self.assumptions.threads)
        order = sorted(range(distinct.shape[0]), key=lambda g: -runs_by_group[g].size)
        if threads == 1:
            results = [evaluate_group(g) for g in order]
        else:
            with ThreadPoolExecutor(max_workers=threads) as pool:
                results = list(pool.map(evaluate_group, order))
        for top_count, ranked_count, within, pairs, _ in results:
            out.top_count += top_count
            out.ranked_count += ranked_count
            out.within += within
            out.pairs += pairs
        return out

    # --- naive reference --------------------------------------------------------------------------
    def run_spec_of(self, design: RunDesign, run: int) -> tuple[IndexSpec, str]:
        """The engine spec of one run, and the label of its input table."""
        space = self.space
        ch = {name: int(values[run]) for name, values in design.choices.items()}
        method = space.aggregations[ch["aggregation"]]
        spec = run_spec(
            self.spec,
            treat=space.treatments[ch["treatment"]],
            normalise=space.normalisations[ch["normalisation"]].for_aggregation(method),
            aggregation=method,
            excluded=space.exclusions[ch["exclusion"]],
            weights=dict(zip(space.nodes, design.node_weights[run], strict=True)),
            units=self._fixed_units,
        )
        return spec, space.discrete["rates"].labels[ch["rates"]]


def naive_ranks(
    model: RobustnessModel, design: RunDesign, runs: Sequence[int] | None = None
) -> np.ndarray:
    """Ranks (runs × units, the model's unit order, 0 = unranked) by rebuilding each run with
    :func:`build_index`: the reference the fast path is tested against, and the benchmark's
    baseline."""
    runs = list(range(len(design))) if runs is None else list(runs)
    out = np.zeros((len(runs), model.n_units), dtype=np.int64)
    for row, run in enumerate(runs):
        spec, label = model.run_spec_of(design, run)
        build = build_index(spec, model.tables[label], weight_set=RUN_WEIGHT_SET)
        ranks = rank_in_classes(build, model.class_column)
        out[row] = ranks.reindex(model.unit_codes).fillna(0).to_numpy(dtype=np.int64)
    return out


def describe(model: RobustnessModel) -> dict[str, Any]:
    """Size of the model: units, classes, factors, discrete options (for logs and reports)."""
    return {
        "units": model.n_units,
        "classes": dict(
            zip(model.class_labels, [b - a for a, b in model.class_slices], strict=True)
        ),
        "factors": [f.name for f in model.space.factors],
        "options": {k: list(v.labels) for k, v in model.space.discrete.items()},
        "laureates": int(model.laureates.size),
    }
