"""The space of uncertain assumptions and its quasi-random designs.

Every run of an analysis is a point ``u`` of the unit hypercube [0, 1)^D; :class:`AssumptionSpace`
maps it to the run's settings:

- one coordinate per perturbed weight: ``w = w_nominal · (1 + a·(2u − 1))`` (uniform), or the
  Dirichlet draw of its sibling group by the inverse gamma CDF of each coordinate
  (``g_i = F⁻¹_Gamma(α_i)(u_i)``, ``w_i = g_i / Σ g``, ``α_i = concentration × nominal share``);
- one coordinate per discrete choice with ``k ≥ 2`` options: option ``floor(u·k)`` when the
  options are equiprobable (each receives exactly a 1/k share of [0, 1), unlike rounding
  ``u·(k − 1)``, which gives the two end options half the share of the others), otherwise the
  option whose cumulative-probability interval ``[P_{i−1}, P_i)`` contains ``u``.

The uncertainty analysis samples the points from a scrambled Sobol' sequence
(:class:`scipy.stats.qmc.Sobol`, scrambled from the edition's generator); the sensitivity
analysis from Saltelli's scheme (:mod:`SALib.sample.sobol`). Factors are grouped by assumption
(all weights of one level form one group) for the Sobol' indices.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats
from scipy.stats import qmc

from barometre.composite.spec import IndexSpec, NormaliseStep, TreatStep
from barometre.robustness.assumptions import NormalisationOption, RobustnessAssumptions

#: Discrete assumptions, in the order of their coordinates after the weights.
CHOICES = ("rates", "treatment", "normalisation", "aggregation", "exclusion", "sampling")
NO_EXCLUSION = "none"


def discrete_index(
    u: np.ndarray, n_options: int, probabilities: Sequence[float] | None = None
) -> np.ndarray:
    """Option index of uniform coordinates ``u`` in [0, 1): ``floor(u·k)`` or inverse CDF.

    With equiprobable options, option ``i`` takes exactly the coordinates in [i/k, (i+1)/k).
    With probabilities ``p``, option ``i`` takes [P_{i−1}, P_i) with ``P`` the cumulative sums
    (an option of probability 0 is never chosen). A coordinate equal to 1 (closed bounds) falls
    into the last option.
    """
    u = np.asarray(u, dtype=float)
    if probabilities is None:
        idx = np.floor(u * n_options).astype(np.int64)
    else:
        cumulative = np.cumsum(np.asarray(probabilities, dtype=float))
        idx = np.searchsorted(cumulative[:-1], u, side="right").astype(np.int64)
    return np.clip(idx, 0, n_options - 1)


def step_label(step: TreatStep | NormaliseStep) -> str:
    """Short label of a step option: its method, then the parameters that differ from defaults."""
    params = step.model_dump(exclude_defaults=True)
    params.pop("method", None)
    if not params:
        return step.method
    inner = ", ".join(f"{k}={v}" for k, v in sorted(params.items()))
    return f"{step.method}({inner})"


def normalisation_label(option: NormalisationOption) -> str:
    label = step_label(option.step)
    if option.geometric is not None:
        label += f" | geometric: {step_label(option.geometric)}"
    return label


def _unique_labels(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        n = seen.get(label, 0)
        seen[label] = n + 1
        out.append(label if n == 0 else f"{label} #{n + 1}")
    return out


@dataclass(frozen=True)
class Factor:
    """One coordinate of the design: its name and the assumption (Sobol' group) it belongs to."""

    name: str
    group: str


@dataclass(frozen=True)
class DiscreteAssumption:
    """A discrete choice: its option labels and probabilities (None = equiprobable)."""

    name: str
    labels: tuple[str, ...]
    probabilities: tuple[float, ...] | None = None


@dataclass
class RunDesign:
    """Settings of a set of runs: the design points and what they map to.

    ``node_weights`` (runs × nodes, columns in :attr:`AssumptionSpace.nodes`) are the raw weights
    (re-normalised among siblings by the aggregation); ``choices`` maps each discrete assumption
    to the option index of every run (0 for an assumption with a single option).
    """

    points: np.ndarray
    node_weights: np.ndarray
    choices: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.node_weights.shape[0])

    def subset(self, rows: np.ndarray | slice) -> RunDesign:
        return RunDesign(
            self.points[rows],
            self.node_weights[rows],
            {k: v[rows] for k, v in self.choices.items()},
        )


class AssumptionSpace:
    """The uncertain assumptions of one index spec, as coordinates of the unit hypercube."""

    def __init__(
        self,
        spec: IndexSpec,
        assumptions: RobustnessAssumptions,
        weight_set: str | None = None,
        data_labels: Sequence[str] = ("raw",),
    ) -> None:
        self.spec = spec
        self.assumptions = assumptions
        self.nodes: list[str] = [*spec.indicator_codes, *(a.code for a in spec.aggregates)]
        weights = spec.weight_map(weight_set)
        self.nominal_weights = np.array([float(weights[n]) for n in self.nodes])
        self._node_index = {n: i for i, n in enumerate(self.nodes)}
        levels = spec.levels()
        perturb = assumptions.weights
        self.factors: list[Factor] = []
        self._uniform_nodes: list[int] = []
        self._dirichlet_groups: list[tuple[list[int], np.ndarray]] = []
        if perturb.distribution != "none":
            for agg in spec.aggregation_order():
                kids = [k for k in spec.children(agg) if weights[k] > 0]
                in_levels = [k for k in kids if levels[k] in perturb.levels]
                if len(kids) < 2 or not in_levels:
                    continue  # an only child always has share 1: nothing to perturb
                if perturb.distribution == "uniform":
                    for kid in in_levels:
                        self._uniform_nodes.append(self._node_index[kid])
                        self.factors.append(Factor(f"weight:{kid}", f"weights_level{levels[kid]}"))
                else:
                    if len(in_levels) != len(kids):
                        raise ValueError(
                            f"dirichlet weights: the children of {agg!r} are at several levels; "
                            "list all of them or none in 'levels'"
                        )
                    idx = [self._node_index[k] for k in kids]
                    shares = self.nominal_weights[idx] / self.nominal_weights[idx].sum()
                    self._dirichlet_groups.append((idx, shares))
                    for kid in kids:
                        self.factors.append(Factor(f"weight:{kid}", f"weights_level{levels[kid]}"))
        self.discrete: dict[str, DiscreteAssumption] = self._discrete_assumptions(data_labels)
        for name in CHOICES:
            if len(self.discrete[name].labels) > 1:
                self.factors.append(Factor(name, name))

    # --- options ------------------------------------------------------------------------------
    def _discrete_assumptions(self, data_labels: Sequence[str]) -> dict[str, DiscreteAssumption]:
        a, spec = self.assumptions, self.spec
        out: dict[str, DiscreteAssumption] = {}
        rates = a.rates
        if rates is None:
            out["rates"] = DiscreteAssumption("rates", (data_labels[0],))
        else:
            unknown = sorted(set(rates.options) - set(data_labels))
            if unknown:
                raise ValueError(
                    f"rates options {unknown} have no input table (given: {list(data_labels)})"
                )
            out["rates"] = DiscreteAssumption(
                "rates", tuple(rates.options), _tuple(rates.probabilities)
            )
        self.treatments: list[TreatStep] = (
            list(a.treatment.options) if a.treatment else [spec.steps.treat]
        )
        out["treatment"] = DiscreteAssumption(
            "treatment",
            tuple(_unique_labels([step_label(t) for t in self.treatments])),
            _tuple(a.treatment.probabilities) if a.treatment else None,
        )
        self.normalisations: list[NormalisationOption] = (
            list(a.normalisation.options)
            if a.normalisation
            else [NormalisationOption(step=spec.steps.normalise)]
        )
        out["normalisation"] = DiscreteAssumption(
            "normalisation",
            tuple(_unique_labels([normalisation_label(n) for n in self.normalisations])),
            _tuple(a.normalisation.probabilities) if a.normalisation else None,
        )
        nominal_agg = spec.steps.aggregate.method
        if a.aggregation is None and nominal_agg not in ("arithmetic", "geometric"):
            raise ValueError(
                f"the fast path handles arithmetic and geometric means, not {nominal_agg!r}"
            )
        self.aggregations: list[str] = (
            list(a.aggregation.options) if a.aggregation else [nominal_agg]
        )
        out["aggregation"] = DiscreteAssumption(
            "aggregation",
            tuple(_unique_labels(self.aggregations)),
            _tuple(a.aggregation.probabilities) if a.aggregation else None,
        )
        excl = a.exclusion
        if excl is None:
            self.exclusions: list[str] = [NO_EXCLUSION]
            out["exclusion"] = DiscreteAssumption("exclusion", (NO_EXCLUSION,))
        else:
            indicators = excl.indicators if excl.indicators is not None else spec.indicator_codes
            unknown = sorted(set(indicators) - set(spec.indicator_codes))
            if unknown:
                raise ValueError(f"exclusion names unknown indicators: {unknown}")
            self.exclusions = [NO_EXCLUSION, *indicators]
            probabilities = None
            if excl.p_none is not None:
                rest = (1.0 - excl.p_none) / len(indicators) if indicators else 0.0
                probabilities = (excl.p_none, *([rest] * len(indicators)))
            out["exclusion"] = DiscreteAssumption(
                "exclusion", tuple(self.exclusions), probabilities
            )
        # sampling: one option per posterior draw (equiprobable); "nominal" = posterior mean
        n_draws = a.sampling.n_draws if a.sampling is not None else 0
        out["sampling"] = DiscreteAssumption(
            "sampling", tuple(f"draw {d}" for d in range(n_draws)) if n_draws else ("nominal",)
        )
        return out

    @property
    def dimension(self) -> int:
        return len(self.factors)

    @property
    def groups(self) -> list[str]:
        """Assumptions (Sobol' groups) in the order of their first coordinate."""
        return list(dict.fromkeys(f.group for f in self.factors))

    # --- mapping ------------------------------------------------------------------------------
    def design(self, points: np.ndarray) -> RunDesign:
        """Map design points (runs × D, coordinates in [0, 1]) to run settings."""
        u = np.atleast_2d(np.asarray(points, dtype=float))
        if u.shape[1] != self.dimension:
            raise ValueError(
                f"design points have {u.shape[1]} coordinates, the space has {self.dimension}"
            )
        n = u.shape[0]
        weights = np.tile(self.nominal_weights, (n, 1))
        col = 0
        amplitude = self.assumptions.weights.amplitude
        for node in self._uniform_nodes:
            weights[:, node] = self.nominal_weights[node] * (
                1.0 + amplitude * (2.0 * u[:, col] - 1.0)
            )
            col += 1
        concentration = self.assumptions.weights.concentration
        for idx, shares in self._dirichlet_groups:
            # the open interval keeps the gamma quantiles finite and the sum positive
            block = np.clip(u[:, col : col + len(idx)], 1e-12, 1 - 1e-12)
            draws = stats.gamma.ppf(block, a=concentration * shares)
            weights[:, idx] = draws / draws.sum(axis=1, keepdims=True)
            col += len(idx)
        choices: dict[str, np.ndarray] = {}
        for name in CHOICES:
            assumption = self.discrete[name]
            if len(assumption.labels) > 1:
                choices[name] = discrete_index(
                    u[:, col], len(assumption.labels), assumption.probabilities
                )
                col += 1
            else:
                choices[name] = np.zeros(n, dtype=np.int64)
        return RunDesign(u, weights, choices)

    def sample(self, n_runs: int, rng: np.random.Generator) -> RunDesign:
        """``n_runs`` points of a scrambled Sobol' sequence seeded from ``rng``.

        The first ``n_runs`` points are used; Sobol' balance is exact when ``n_runs`` is a power
        of two, and SciPy's warning about other sizes is silenced on purpose (10 000 runs is the
        declared default, and a prefix of a scrambled sequence is still low-discrepancy).
        """
        if self.dimension == 0:
            return self.design(np.zeros((n_runs, 0)))
        sobol = qmc.Sobol(d=self.dimension, scramble=True, rng=rng)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*balance properties of Sobol.*")
            points = sobol.random(n_runs)
        return self.design(points)

    def salib_problem(self) -> dict[str, object]:
        """SALib problem: one [0, 1] variable per coordinate, grouped by assumption."""
        return {
            "num_vars": self.dimension,
            "names": [f.name for f in self.factors],
            "bounds": [[0.0, 1.0]] * self.dimension,
            "groups": [f.group for f in self.factors],
        }

    def nominal_design(self) -> RunDesign:
        """A one-run design with nominal weights and the first option of every choice."""
        return RunDesign(
            np.full((1, self.dimension), np.nan),
            self.nominal_weights[None, :].copy(),
            {name: np.zeros(1, dtype=np.int64) for name in CHOICES},
        )

    def run_settings(self, design: RunDesign, run: int) -> dict[str, object]:
        """Readable settings of one run (labels of the choices and normalised weights)."""
        out: dict[str, object] = {
            name: self.discrete[name].labels[int(design.choices[name][run])] for name in CHOICES
        }
        out["weights"] = {n: float(design.node_weights[run, i]) for i, n in enumerate(self.nodes)}
        return out


def _tuple(values: Sequence[float] | None) -> tuple[float, ...] | None:
    return None if values is None else tuple(float(v) for v in values)
