"""Uncertain assumptions of a robustness analysis, declared as data (pydantic, unknown keys refused).

An edition config holds them under ``extra.robustness``; :func:`assumptions_from_config` reads
them. Each assumption is either a continuous perturbation (weights) or a discrete choice among
alternative settings of one engine step, each option written with the engine's own step model
(:class:`~barometre.composite.spec.TreatStep`, :class:`~barometre.composite.spec.NormaliseStep`),
so an option is exactly what a spec would say. Example (YAML)::

    robustness:
      n_runs: 10000
      weights: {distribution: uniform, amplitude: 0.25, levels: [1, 2]}
      treatment: {options: [{method: coinr_default}, {method: none}, {method: log}]}
      normalisation:
        options:
          - {step: {method: minmax, low: 0, high: 100}, geometric: {method: minmax, low: 1, high: 100}}
          - {method: zscore, mean: 10, sd: 2}
          - {method: percentile_rank}
      aggregation: {options: [arithmetic, geometric]}
      exclusion: {p_none: 0.5}

Sampling conventions (see :mod:`barometre.robustness.design`): every assumption is driven by
uniform coordinates in [0, 1); a discrete choice with ``k`` equiprobable options takes option
``floor(u·k)`` (each option receives exactly a 1/k share of [0, 1), no rounding bias), and with
declared probabilities the option whose cumulative-probability interval contains ``u``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from barometre.composite.spec import NormaliseStep, TreatStep


class AssumptionsError(ValueError):
    """Robustness assumptions that do not validate; the message names the offending keys."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_probabilities(probabilities: list[float] | None, n_options: int, what: str) -> None:
    if probabilities is None:
        return
    if len(probabilities) != n_options:
        raise ValueError(f"{what}: {len(probabilities)} probabilities for {n_options} options")
    if any(p < 0 for p in probabilities) or abs(sum(probabilities) - 1.0) > 1e-9:
        raise ValueError(
            f"{what}: probabilities must be non-negative and sum to 1, got {probabilities}"
        )


class _Choice(_Strict):
    """A discrete choice among ``options`` (declared by each subclass, with ``probabilities``);
    a bare list is the options. ``what`` names the choice in error messages."""

    what: ClassVar[str] = "choice"
    if TYPE_CHECKING:
        options: list[Any]
        probabilities: list[float] | None

    @model_validator(mode="before")
    @classmethod
    def _bare_list(cls, value: Any) -> Any:
        return {"options": value} if isinstance(value, list) else value

    @model_validator(mode="after")
    def _check(self) -> _Choice:
        _check_probabilities(self.probabilities, len(self.options), self.what)
        return self


class WeightPerturbation(_Strict):
    """How the weights of the hierarchy vary from run to run.

    - ``uniform``: every weight of a node at one of ``levels`` is multiplied by ``1 + u`` with
      ``u ~ U(−amplitude, amplitude)``, independently (COINr's ``get_noisy_weights``); the engine
      re-normalises siblings, so only ratios matter;
    - ``dirichlet``: the weights of each sibling group at ``levels`` are drawn from a Dirichlet
      distribution with parameters ``concentration × nominal shares`` (mean = the nominal
      shares; the larger the concentration, the tighter);
    - ``none``: nominal weights in every run.

    Levels follow the spec: indicators are level 1, their parents (criteria, pillars) level 2,
    and so on. A node with no sibling is not perturbed (its share is always 1).
    """

    distribution: Literal["uniform", "dirichlet", "none"] = "uniform"
    amplitude: float = Field(default=0.25, ge=0, lt=1)
    concentration: float = Field(default=50.0, gt=0)
    levels: list[int] = Field(default_factory=lambda: [1, 2])

    @field_validator("levels")
    @classmethod
    def _positive_levels(cls, value: list[int]) -> list[int]:
        if any(level < 1 for level in value):
            raise ValueError(f"levels start at 1 (indicators), got {value}")
        return sorted(set(value))


class TreatmentChoice(_Choice):
    """Alternative outlier treatments, each a complete treat step of the spec."""

    options: list[TreatStep] = Field(min_length=1)
    probabilities: list[float] | None = None

    what: ClassVar[str] = "treatment"


class NormalisationOption(_Strict):
    """One normalisation: the step used with arithmetic aggregation, and with geometric.

    Geometric aggregation needs positive values: ``geometric`` names the step used when the run
    aggregates geometrically (e.g. min-max onto [1, 100] instead of [0, 100]); when omitted the
    same step serves both, and the analysis fails loudly if it yields a negative value. A bare
    normalise-step mapping is accepted as ``{step: ...}``.
    """

    step: NormaliseStep
    geometric: NormaliseStep | None = None

    @model_validator(mode="before")
    @classmethod
    def _bare_step(cls, value: Any) -> Any:
        if isinstance(value, Mapping) and "step" not in value:
            return {"step": dict(value)}
        return value

    def for_aggregation(self, method: str) -> NormaliseStep:
        return self.geometric if method == "geometric" and self.geometric is not None else self.step


class NormalisationChoice(_Choice):
    options: list[NormalisationOption] = Field(min_length=1)
    probabilities: list[float] | None = None

    what: ClassVar[str] = "normalisation"


class AggregationChoice(_Choice):
    """Alternative aggregation functions (the engine's weighted arithmetic or geometric mean)."""

    options: list[Literal["arithmetic", "geometric"]] = Field(min_length=1)
    probabilities: list[float] | None = None

    what: ClassVar[str] = "aggregation"


class ExclusionChoice(_Strict):
    """Exclusion of one indicator at a time: options are "none" then each listed indicator.

    ``p_none`` is the probability of keeping every indicator, the rest being shared equally
    among the indicators; when omitted the ``k + 1`` options are equiprobable. An excluded
    indicator is removed from the spec (an aggregate left without children is removed too), as
    if the index had been built without it.
    """

    indicators: list[str] | None = Field(default=None, description="None = every indicator.")
    p_none: float | None = Field(default=None, ge=0, le=1)


class RatesChoice(_Strict):
    """Alternative input tables (e.g. raw or shrunk rates), named by their labels."""

    options: list[str] = Field(default_factory=lambda: ["raw"], min_length=1)
    probabilities: list[float] | None = None

    @model_validator(mode="after")
    def _check(self) -> RatesChoice:
        if len(set(self.options)) != len(self.options):
            raise ValueError(f"rates options must be distinct, got {self.options}")
        _check_probabilities(self.probabilities, len(self.options), "rates")
        return self


class SamplingChoice(_Strict):
    """Sampling uncertainty of the counts: each run takes one joint posterior draw of every
    indicator of every commune (the count model of :mod:`barometre.countmodel`), paired with its
    method scenario. Draw ``d`` is reproducible on its own from (seed, d)."""

    n_draws: int = Field(default=1000, ge=2, description="Posterior draws the runs choose from.")


def _default_treatment() -> TreatmentChoice:
    return TreatmentChoice(
        options=[
            TreatStep(method="coinr_default"),
            TreatStep(method="none"),
            TreatStep(method="log"),
        ]
    )


def _default_normalisation() -> NormalisationChoice:
    return NormalisationChoice(
        options=[
            NormalisationOption(
                step=NormaliseStep(method="minmax", low=0, high=100),
                geometric=NormaliseStep(method="minmax", low=1, high=100),
            ),
            # z-scores centred at 10 with sd 2 stay positive for geometric means (COINr's choice)
            NormalisationOption(step=NormaliseStep(method="zscore", mean=10, sd=2)),
            NormalisationOption(step=NormaliseStep(method="percentile_rank")),
        ]
    )


def _default_aggregation() -> AggregationChoice:
    return AggregationChoice(options=["arithmetic", "geometric"])


class RobustnessAssumptions(_Strict):
    """Every setting of the uncertainty and sensitivity analyses of one edition.

    The defaults are the baromètre's: weights of indicators and criteria × (1 + U(−0.25, 0.25));
    outlier treatment COINr default / none / log; normalisation min-max (onto [1, 100] for
    geometric means) / z-score(10, 2) / percentile rank; arithmetic / geometric aggregation;
    exclusion of one indicator with probability 1/2 (each indicator 1/12 with six indicators).
    ``seed`` None means the edition's seed.
    """

    n_runs: int = Field(default=10_000, ge=2)
    seed: int | None = Field(default=None, ge=0)
    weights: WeightPerturbation = Field(default_factory=WeightPerturbation)
    treatment: TreatmentChoice | None = Field(default_factory=_default_treatment)
    normalisation: NormalisationChoice | None = Field(default_factory=_default_normalisation)
    aggregation: AggregationChoice | None = Field(default_factory=_default_aggregation)
    exclusion: ExclusionChoice | None = Field(default_factory=lambda: ExclusionChoice(p_none=0.5))
    rates: RatesChoice | None = None
    sampling: SamplingChoice | None = None
    class_column: str | None = Field(
        default="population_class", description="Units are ranked within this group; None: overall."
    )
    top: int = Field(default=4, ge=1, description="Palmarès size: ranks 1..top are laureates.")
    group_top: dict[str, int] = Field(
        default_factory=dict,
        description="Other groupings whose top k is counted in every joint run, e.g. "
        "{code_departement: 3} for the departmental palmarès (all classes together).",
    )
    within_ranks: list[int] = Field(default_factory=lambda: [1, 3, 10])
    sobol_base_samples: int = Field(default=1024, ge=2)
    sobol_resamples: int = Field(default=100, ge=10)
    conf_level: float = Field(default=0.95, gt=0, lt=1)
    batch_size: int = Field(default=256, ge=1, description="Runs evaluated together.")
    threads: int = Field(default=2, ge=1, description="Worker threads of the fast path.")

    @model_validator(mode="after")
    def _sampling_replaces_rates(self) -> RobustnessAssumptions:
        if self.sampling is not None and self.rates is not None:
            raise ValueError(
                "'sampling' and 'rates' cannot both be varied: posterior draws replace the "
                "raw/shrunk switch (the nominal input is the posterior mean)"
            )
        return self

    @field_validator("within_ranks")
    @classmethod
    def _non_negative(cls, value: list[int]) -> list[int]:
        if any(k < 0 for k in value):
            raise ValueError(f"within_ranks must be >= 0, got {value}")
        return sorted(set(value))


def _format(err: ValidationError, source: str) -> str:
    lines = [f"invalid robustness assumptions {source}:"]
    for problem in err.errors():
        where = ".".join(str(p) for p in problem["loc"]) or "(top level)"
        message = "unknown key" if problem["type"] == "extra_forbidden" else problem["msg"]
        lines.append(f"  - {where}: {message}")
    return "\n".join(lines)


def parse_assumptions(
    raw: Mapping[str, Any] | None, source: str = "<dict>"
) -> RobustnessAssumptions:
    """Validate a mapping (None = all defaults), raising :class:`AssumptionsError` on problems."""
    try:
        return RobustnessAssumptions.model_validate(dict(raw or {}))
    except ValidationError as err:
        raise AssumptionsError(_format(err, source)) from None


def assumptions_from_config(extra: Mapping[str, Any]) -> RobustnessAssumptions:
    """The assumptions of an edition config's ``extra`` mapping (key ``robustness``)."""
    return parse_assumptions(extra.get("robustness"), source="extra.robustness")
