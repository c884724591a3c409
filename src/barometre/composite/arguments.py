"""The arguments of the engine's step functions, read from a spec once, in one place.

The engine (:func:`barometre.composite.engine.build_index`), the fast path of the robustness
analysis (:class:`barometre.robustness.model.RobustnessModel`) and its joint runs
(:class:`barometre.robustness.joint.JointEvaluator`) all call the step functions of
:mod:`barometre.composite.steps` (or their batch versions) with the options of a spec's steps.
The fast path's equality with the engine rests on those calls receiving the same arguments:
this module is the only code that turns a validated step (:class:`~.spec.TreatStep`,
:class:`~.spec.NormaliseStep`, :class:`~.spec.AggregateStep`, :class:`~.spec.DenominateStep`)
and the spec's indicators into step-function arguments, as frozen dataclasses that every caller
applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import pandas as pd

from barometre.composite import steps
from barometre.composite.spec import (
    AggregateStep,
    DenominateStep,
    IndexSpec,
    IndicatorSpec,
    NormaliseStep,
    TreatStep,
)


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only copy of ``mapping`` (the dataclasses below are frozen all the way down)."""
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class DenominateArguments:
    """Arguments of :func:`steps.denominate`: the denominator column of each indicator (None:
    left as it is) and the scale; ``enabled`` False leaves every indicator as it is."""

    enabled: bool
    scale: float
    denominators: Mapping[str, str | None]

    @classmethod
    def from_step(
        cls, step: DenominateStep, indicators: Sequence[IndicatorSpec]
    ) -> DenominateArguments:
        return cls(
            enabled=step.enabled,
            scale=float(step.scale),
            denominators=_frozen({i.code: i.denominator for i in indicators}),
        )

    def denominator(self, code: str) -> str | None:
        """The column indicator ``code`` is divided by (None when the step leaves it as is)."""
        return self.denominators[code] if self.enabled else None

    @property
    def factor(self) -> float:
        """What a ratio is multiplied by (1 when the step is disabled)."""
        return self.scale if self.enabled else 1.0

    def apply(self, raw: pd.DataFrame, denominator_data: pd.DataFrame) -> pd.DataFrame:
        """:func:`steps.denominate` with these arguments (a copy of ``raw`` when disabled)."""
        if not self.enabled:
            return raw.copy()
        return steps.denominate(raw, self.denominators, denominator_data, scale=self.scale)


@dataclass(frozen=True)
class TreatArguments:
    """Arguments of :func:`steps.treat` (and, per indicator, of the batch ``treat_batch``)."""

    method: str
    per_indicator: Mapping[str, str]
    winmax: int
    skew_threshold: float
    kurt_threshold: float
    quantiles: tuple[float, float]
    boxcox_lambda: float | None

    @classmethod
    def from_step(cls, step: TreatStep) -> TreatArguments:
        return cls(
            method=step.method,
            per_indicator=_frozen({k: v.method for k, v in step.per_indicator.items()}),
            winmax=step.winmax,
            skew_threshold=step.skew_threshold,
            kurt_threshold=step.kurt_threshold,
            quantiles=tuple(step.quantiles),  # type: ignore[arg-type]
            boxcox_lambda=step.boxcox_lambda,
        )

    def method_for(self, code: str) -> str:
        """The treatment of indicator ``code``: its own, else the step's."""
        return self.per_indicator.get(code, self.method)

    def params(self) -> dict[str, Any]:
        """The options shared by every indicator (keyword arguments of ``treat_indicator``)."""
        return {
            "winmax": self.winmax,
            "skew_threshold": self.skew_threshold,
            "kurt_threshold": self.kurt_threshold,
            "quantiles": self.quantiles,
            "boxcox_lambda": self.boxcox_lambda,
        }

    def apply(
        self, data: pd.DataFrame
    ) -> tuple[pd.DataFrame, pd.DataFrame, list[steps.TreatmentRecord]]:
        """:func:`steps.treat` with these arguments: (treated, details table, records)."""
        return steps.treat(
            data, self.method, per_indicator=dict(self.per_indicator), **self.params()
        )


@dataclass(frozen=True)
class NormaliseArguments:
    """Arguments of :func:`steps.normalise` (and, per indicator, of ``normalise_batch``)."""

    method: str
    directions: Mapping[str, int]
    goalposts: Mapping[str, tuple[float, float] | None]
    reference_unit: str | None
    low: float
    high: float
    mean: float
    sd: float
    scale: float

    @classmethod
    def from_step(
        cls, step: NormaliseStep, indicators: Sequence[IndicatorSpec]
    ) -> NormaliseArguments:
        return cls(
            method=step.method,
            directions=_frozen({i.code: i.direction for i in indicators}),
            goalposts=_frozen({i.code: i.goalposts for i in indicators}),
            reference_unit=step.reference_unit,
            low=step.low,
            high=step.high,
            mean=step.mean,
            sd=step.sd,
            scale=step.scale,
        )

    def params(self) -> dict[str, float]:
        """The numeric options shared by every indicator."""
        return {
            "low": self.low,
            "high": self.high,
            "mean": self.mean,
            "sd": self.sd,
            "scale": self.scale,
        }

    def column_options(self, code: str) -> dict[str, Any]:
        """Keyword arguments normalising indicator ``code`` alone (``normalise_batch``)."""
        return {
            "direction": self.directions[code],
            "goalposts": self.goalposts[code],
            **self.params(),
        }

    def apply(self, data: pd.DataFrame) -> pd.DataFrame:
        """:func:`steps.normalise` with these arguments."""
        return steps.normalise(
            data,
            self.method,
            directions=dict(self.directions),
            goalposts=dict(self.goalposts),
            reference_unit=self.reference_unit,
            **self.params(),
        )


@dataclass(frozen=True)
class AggregateArguments:
    """Arguments of :func:`steps.aggregate`: the hierarchy (aggregates bottom-up, children,
    levels), the mean and its exponent, and the minimum share of present children per level."""

    method: str
    p: float | None
    order: tuple[str, ...]
    children: Mapping[str, tuple[str, ...]]
    levels: Mapping[str, int]
    min_share: Mapping[int, float]

    @classmethod
    def from_spec(
        cls, spec: IndexSpec, step: AggregateStep | None = None, method: str | None = None
    ) -> AggregateArguments:
        """From the spec's hierarchy and its aggregate step (or ``step``), with the mean
        replaced by ``method`` when given."""
        step = step if step is not None else spec.steps.aggregate
        levels = spec.levels()
        order = tuple(spec.aggregation_order())
        return cls(
            method=method if method is not None else step.method,
            p=step.p,
            order=order,
            children=_frozen({c: tuple(spec.children(c)) for c in order}),
            levels=_frozen(levels),
            min_share=_frozen({lv: step.min_share_at(lv) for lv in sorted(set(levels.values()))}),
        )

    def min_share_at(self, level: int) -> float:
        """Minimum share of present children of an aggregate of this level."""
        return float(self.min_share.get(level, 0.0))

    def apply(self, normalised: pd.DataFrame, weights: Mapping[str, float]) -> pd.DataFrame:
        """:func:`steps.aggregate` with these arguments and the node ``weights``."""
        return steps.aggregate(
            normalised,
            self.order,
            self.children,
            weights,
            self.levels,
            method=self.method,
            p=self.p,
            min_share=dict(self.min_share),
        )


@dataclass(frozen=True)
class StepArguments:
    """The arguments of every parameterised step of one build."""

    denominate: DenominateArguments
    treat: TreatArguments
    normalise: NormaliseArguments
    aggregate: AggregateArguments

    @classmethod
    def from_spec(
        cls,
        spec: IndexSpec,
        *,
        treat: TreatStep | None = None,
        normalise: NormaliseStep | None = None,
        aggregation: str | None = None,
    ) -> StepArguments:
        """The spec's step arguments, with the treatment, normalisation or mean replaced (the
        alternatives of a robustness run) when given."""
        st = spec.steps
        return cls(
            denominate=DenominateArguments.from_step(st.denominate, spec.indicators),
            treat=TreatArguments.from_step(treat if treat is not None else st.treat),
            normalise=NormaliseArguments.from_step(
                normalise if normalise is not None else st.normalise, spec.indicators
            ),
            aggregate=AggregateArguments.from_spec(spec, method=aggregation),
        )
