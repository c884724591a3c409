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

The specs of single runs and the naive rebuild live in :mod:`.runspec`, the pattern plans and
variants in :mod:`.plans`. This module stays a little over 500 lines: it is one class whose
precomputation and evaluation share the caches and the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from barometre.composite.arguments import StepArguments
from barometre.composite.engine import IndexBuild, build_index
from barometre.composite.spec import IndexSpec, NormaliseStep
from barometre.robustness.assumptions import RobustnessAssumptions
from barometre.robustness.design import AssumptionSpace, RunDesign
from barometre.robustness.plans import (
    _PatternPlan,
    _Structure,
    _Variant,
    pattern_plan,
    variant_rows,
)
from barometre.robustness.ranking import rank_desc_min
from barometre.robustness.runspec import (
    RUN_WEIGHT_SET,
    RobustnessError,
    describe,
    naive_ranks,
    prune_spec,
    rank_in_classes,
    run_spec,
)

if TYPE_CHECKING:
    from barometre.robustness.joint import DrawSampler, JointEvaluator

#: Entries per block of the vectorised ranking: blocks of ~2 MB stay in cache (measured: a
#: 33 000-unit class ranks twice as fast in blocks of 8 runs as in blocks of 256).
BLOCK_ENTRIES = 262_144

__all__ = [
    "BLOCK_ENTRIES",
    "RUN_WEIGHT_SET",
    "RobustnessError",
    "RobustnessModel",
    "RunOutputs",
    "describe",
    "naive_ranks",
    "prune_spec",
    "rank_in_classes",
    "run_spec",
]


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


def _check_model_inputs(
    spec: IndexSpec, assumptions: RobustnessAssumptions, sampler: DrawSampler | None
) -> None:
    """Raise :class:`RobustnessError` when the sampling assumption and the sampler do not come
    together, when top-k counts within groups lack the joint runs, or when the class column is
    not a unit group of the spec."""
    if (assumptions.sampling is None) != (sampler is None):
        raise RobustnessError("posterior draws need both the 'sampling' assumption and a sampler")
    if assumptions.group_top and sampler is None:
        raise RobustnessError("top-k counts within other groups need the joint runs (a sampler)")
    class_column = assumptions.class_column
    if class_column is not None and class_column not in spec.units.groups:
        raise RobustnessError(
            f"class column {class_column!r} is not a unit group of the spec {spec.units.groups}"
        )


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
        _check_model_inputs(spec, assumptions, sampler)
        self.class_column = assumptions.class_column
        self.sampler = sampler
        self._group_members: dict[str, list[np.ndarray]] = {}
        self._joint: JointEvaluator | None = None
        nominal_label = self.space.discrete["rates"].labels[0]
        self.nominal_build = build_index(spec, self.tables[nominal_label], weight_set)
        build = self.nominal_build
        screened = build.screened.index
        kept = set(screened)
        dropped = [u for u in build.screening.index if u not in kept]
        self._fixed_units = (list(map(str, screened)), list(map(str, dropped)))
        bounds = self._order_units(build, class_order)
        self._set_nominal(build, bounds)
        # --- precomputed normalised matrices -------------------------------------------------
        self._screened = {nominal_label: build.screened}
        self._matrices: dict[tuple[int, int, str], np.ndarray] = {}
        self._structures: dict[str, _Structure] = {}
        self._lock = threading.Lock()
        self._index_nodes()

    def _order_units(self, build: IndexBuild, class_order: Sequence[str] | None) -> np.ndarray:
        """Set the units in class order (codes, classes, class slices); return the class bounds.

        Classes are ``class_order`` (default: sorted labels) restricted to those with units; the
        engine order is kept within a class. Raises :class:`RobustnessError` for a class that is
        not in ``class_order``."""
        screened = build.screened.index
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
        return bounds

    def _set_nominal(self, build: IndexBuild, bounds: np.ndarray) -> None:
        """Set the nominal ranks and scores (class order) and the laureates in palmarès order
        (class, nominal rank, unit code) with their classes."""
        nominal = rank_in_classes(build, self.class_column)
        self.nominal_ranks = nominal.fillna(0).to_numpy(dtype=np.int64)[self._order]
        self.nominal_scores = build.aggregated[self.spec.root].to_numpy()[self._order]
        top = self.assumptions.top
        laureates = np.flatnonzero((self.nominal_ranks >= 1) & (self.nominal_ranks <= top))
        laureate_class = np.searchsorted(bounds[1:], laureates, side="right")
        order = np.lexsort(
            (self.unit_codes[laureates], self.nominal_ranks[laureates], laureate_class)
        )
        self.laureates = laureates[order]
        self.laureate_class = laureate_class[order]
        if max((b - a for a, b in self.class_slices), default=0) >= 2**16:
            raise RobustnessError("a class with 65 536 units or more does not fit uint16 ranks")

    def _index_nodes(self) -> None:
        """Set the positions of the nodes, of the aggregates and of every node's parent."""
        self._nodes = self.space.nodes
        self._node_pos = {n: i for i, n in enumerate(self._nodes)}
        aggregates = [a.code for a in self.spec.aggregates]
        self._aggregate_pos = {a: i for i, a in enumerate(aggregates)}
        parents = self.spec.parent_map()
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
        plan = pattern_plan(
            structure.spec,
            pattern,
            dict(zip(self._nodes, self.space.nominal_weights, strict=True)),
            self._node_pos,
            self._aggregate_pos,
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
        return variant_rows(
            x, method, lambda pattern: self._plan(structure, pattern), self.class_slices
        )

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
        return variant.scores(weights, len(self._aggregate_pos), self._parent_pos)

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
