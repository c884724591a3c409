"""Declarative specification of a composite index, validated with pydantic.

A spec names the units (their code column and group columns), the indicators (direction,
denominator, parent, weight), the aggregates forming any number of levels up to one root, named
weight sets, and the parameters of each step of the build. Unknown keys and bad values are
rejected with messages that name the offending field.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator


class SpecError(ValueError):
    """A spec file that cannot be read or does not validate; the message is for humans."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class UnitsSpec(_Strict):
    """Which columns identify the units and which columns group them."""

    code: str = Field(description="Column holding the unit code (read as text).")
    name: str | None = Field(default=None, description="Column holding a display name.")
    groups: list[str] = Field(default_factory=list, description="Group columns (read as text).")


class DataSpec(_Strict):
    """Where the unit x column table is read from, relative to the data directory."""

    file: str
    sep: str = ","
    keep_columns: list[str] = Field(
        default_factory=list, description="Extra columns copied through to results.csv."
    )


class IndicatorSpec(_Strict):
    """One indicator: a leaf of the hierarchy."""

    code: str
    name: str | None = None
    unit: str | None = None
    direction: Literal[1, -1] = 1
    weight: float = Field(default=1.0, ge=0)
    parent: str
    denominator: str | None = None
    goalposts: tuple[float, float] | None = Field(
        default=None,
        description="(low, high) in the indicator's own units, for goalpost normalisation.",
    )

    @field_validator("goalposts")
    @classmethod
    def _goalposts_ordered(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not value[0] < value[1]:
            raise ValueError(f"goalposts must be (low, high) with low < high, got {value}")
        return value


class AggregateSpec(_Strict):
    """One aggregate (criterion, sub-index, index): an inner node of the hierarchy."""

    code: str
    name: str | None = None
    parent: str | None = None
    weight: float = Field(default=1.0, ge=0)


class DenominateStep(_Strict):
    enabled: bool = True
    scale: float = Field(default=1.0, gt=0, description="Multiply ratios by this (e.g. 1000).")


class ImputeStep(_Strict):
    method: Literal["none", "mean", "median", "group_mean", "group_median"] = "none"
    group: str | None = None

    @model_validator(mode="after")
    def _group_needed(self) -> ImputeStep:
        if self.method.startswith("group_") and not self.group:
            raise ValueError(f"impute method {self.method!r} needs a 'group' column")
        return self


class ScreenStep(_Strict):
    enabled: bool = True
    min_data_share: float = Field(default=0.0, ge=0, le=1)
    on: Literal["raw", "denominated", "imputed"] = "imputed"
    force_include: list[str] = Field(default_factory=list)
    force_exclude: list[str] = Field(default_factory=list)


TreatMethod = Literal["none", "coinr_default", "log", "winsorise_quantiles", "boxcox"]


class IndicatorTreatment(_Strict):
    method: TreatMethod


class TreatStep(_Strict):
    method: TreatMethod = "none"
    winmax: int = Field(default=5, ge=0)
    skew_threshold: float = Field(default=2.0, gt=0)
    kurt_threshold: float = Field(default=3.5)
    quantiles: tuple[float, float] = (0.05, 0.95)
    boxcox_lambda: float | None = None
    per_indicator: dict[str, IndicatorTreatment] = Field(default_factory=dict)

    @field_validator("quantiles")
    @classmethod
    def _quantiles_ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0 <= value[0] < value[1] <= 1:
            raise ValueError(f"quantiles must satisfy 0 <= low < high <= 1, got {value}")
        return value


NormaliseMethod = Literal[
    "minmax",
    "zscore",
    "percentile_rank",
    "rank",
    "distance_to_max",
    "distance_to_reference",
    "goalposts",
    "none",
]


class NormaliseStep(_Strict):
    method: NormaliseMethod = "minmax"
    low: float = 0.0
    high: float = 100.0
    mean: float = 0.0
    sd: float = Field(default=1.0, gt=0)
    scale: float = Field(default=100.0, gt=0, description="Scale of ratio and goalpost methods.")
    reference_unit: str | None = None

    @model_validator(mode="after")
    def _check(self) -> NormaliseStep:
        if self.method == "minmax" and not self.low < self.high:
            raise ValueError(f"minmax needs low < high, got [{self.low}, {self.high}]")
        if self.method == "distance_to_reference" and not self.reference_unit:
            raise ValueError("distance_to_reference needs 'reference_unit'")
        return self


AggregateMethod = Literal["arithmetic", "geometric", "harmonic", "generalised"]


class AggregateStep(_Strict):
    method: AggregateMethod = "arithmetic"
    p: float | None = Field(default=None, description="Exponent of the generalised mean.")
    min_share: float | dict[int, float] = Field(
        default=0.0, description="Minimum share of non-missing children, overall or per level."
    )

    @model_validator(mode="after")
    def _check(self) -> AggregateStep:
        if self.method == "generalised" and (self.p is None or self.p == 0):
            raise ValueError("generalised mean needs a non-zero exponent 'p' (p=0 is 'geometric')")
        shares = self.min_share.values() if isinstance(self.min_share, dict) else [self.min_share]
        for share in shares:
            if not 0 <= share <= 1:
                raise ValueError(f"min_share must lie in [0, 1], got {share}")
        return self

    def min_share_at(self, level: int) -> float:
        """Minimum data share required at an aggregation level."""
        if isinstance(self.min_share, dict):
            return float(self.min_share.get(level, 0.0))
        return float(self.min_share)


class RankStep(_Strict):
    groups: list[str] = Field(default_factory=list, description="Group columns to rank within.")


class StepsSpec(_Strict):
    denominate: DenominateStep = Field(default_factory=DenominateStep)
    impute: ImputeStep = Field(default_factory=ImputeStep)
    screen: ScreenStep = Field(default_factory=ScreenStep)
    treat: TreatStep = Field(default_factory=TreatStep)
    normalise: NormaliseStep = Field(default_factory=NormaliseStep)
    aggregate: AggregateStep = Field(default_factory=AggregateStep)
    rank: RankStep = Field(default_factory=RankStep)


class IndexSpec(_Strict):
    """The whole declarative description of a composite index build."""

    name: str
    description: str | None = None
    units: UnitsSpec
    data: DataSpec | None = None
    indicators: list[IndicatorSpec] = Field(min_length=1)
    aggregates: list[AggregateSpec] = Field(min_length=1)
    weight_sets: dict[str, dict[str, float]] = Field(default_factory=dict)
    weights: str | None = Field(default=None, description="Name of the active weight set.")
    steps: StepsSpec = Field(default_factory=StepsSpec)

    @model_validator(mode="after")
    def _check_tree(self) -> IndexSpec:
        codes = [i.code for i in self.indicators] + [a.code for a in self.aggregates]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise ValueError(f"codes used more than once: {duplicates}")
        aggregate_codes = {a.code for a in self.aggregates}
        for ind in self.indicators:
            if ind.parent not in aggregate_codes:
                raise ValueError(
                    f"indicator {ind.code!r}: parent {ind.parent!r} is not an aggregate"
                )
        roots = [a.code for a in self.aggregates if a.parent is None]
        if len(roots) != 1:
            raise ValueError(
                f"exactly one aggregate must have no parent (the index), found {roots}"
            )
        for agg in self.aggregates:
            if agg.parent is not None and agg.parent not in aggregate_codes:
                raise ValueError(
                    f"aggregate {agg.code!r}: parent {agg.parent!r} is not an aggregate"
                )
        parent_of = {a.code: a.parent for a in self.aggregates}
        for agg in self.aggregates:
            seen, node = {agg.code}, agg.parent
            while node is not None:
                if node in seen:
                    raise ValueError(f"cycle in the hierarchy through {agg.code!r}")
                seen.add(node)
                node = parent_of[node]
        children = {a.code: 0 for a in self.aggregates}
        for node in [*self.indicators, *self.aggregates]:
            if node.parent is not None:
                children[node.parent] += 1
        empty = sorted(code for code, n in children.items() if n == 0)
        if empty:
            raise ValueError(f"aggregates without children: {empty}")
        for set_name, set_weights in self.weight_sets.items():
            unknown = sorted(set(set_weights) - set(codes))
            if unknown:
                raise ValueError(f"weight set {set_name!r} names unknown codes: {unknown}")
            negative = sorted(k for k, v in set_weights.items() if v < 0)
            if negative:
                raise ValueError(f"weight set {set_name!r} has negative weights: {negative}")
        if self.weights is not None and self.weights not in self.weight_sets:
            raise ValueError(
                f"active weight set {self.weights!r} is not among {sorted(self.weight_sets)}"
            )
        groups = set(self.units.groups)
        imp = self.steps.impute
        if imp.group is not None and imp.group not in groups:
            raise ValueError(
                f"impute group {imp.group!r} is not a declared unit group {sorted(groups)}"
            )
        unknown_rank = sorted(set(self.steps.rank.groups) - groups)
        if unknown_rank:
            raise ValueError(
                f"rank groups {unknown_rank} are not declared unit groups {sorted(groups)}"
            )
        unknown_treat = sorted(
            set(self.steps.treat.per_indicator) - {i.code for i in self.indicators}
        )
        if unknown_treat:
            raise ValueError(f"per-indicator treatment for unknown indicators: {unknown_treat}")
        return self

    # --- derived views -------------------------------------------------------------------
    @property
    def indicator_codes(self) -> list[str]:
        return [i.code for i in self.indicators]

    @property
    def root(self) -> str:
        return next(a.code for a in self.aggregates if a.parent is None)

    def parent_map(self) -> dict[str, str | None]:
        """Parent of every node (indicators and aggregates); the root maps to None."""
        out: dict[str, str | None] = {i.code: i.parent for i in self.indicators}
        out.update({a.code: a.parent for a in self.aggregates})
        return out

    def children(self, code: str) -> list[str]:
        """Children of an aggregate, in declaration order (indicators first, then aggregates)."""
        return [c for c, p in self.parent_map().items() if p == code]

    def levels(self) -> dict[str, int]:
        """Level of every node: indicators are level 1, an aggregate is 1 + its highest child."""
        level: dict[str, int] = {i.code: 1 for i in self.indicators}
        pending = [a.code for a in self.aggregates]
        while pending:
            for code in list(pending):
                kids = self.children(code)
                if all(k in level for k in kids):
                    level[code] = 1 + max(level[k] for k in kids)
                    pending.remove(code)
        return level

    def aggregation_order(self) -> list[str]:
        """Aggregates ordered so that every child is computed before its parent."""
        level = self.levels()
        position = {a.code: n for n, a in enumerate(self.aggregates)}
        return sorted((a.code for a in self.aggregates), key=lambda c: (level[c], position[c]))

    def weight_map(self, weight_set: str | None = None) -> dict[str, float]:
        """Weights of every node: the spec's own weights overridden by a named weight set."""
        weights = {i.code: i.weight for i in self.indicators}
        weights.update({a.code: a.weight for a in self.aggregates})
        name = weight_set if weight_set is not None else self.weights
        if name is not None:
            if name not in self.weight_sets:
                raise SpecError(f"unknown weight set {name!r}; known: {sorted(self.weight_sets)}")
            weights.update(self.weight_sets[name])
        return weights

    def indicator(self, code: str) -> IndicatorSpec:
        return next(i for i in self.indicators if i.code == code)

    def name_of(self, code: str) -> str:
        """Display name of a node, falling back to its code."""
        for node in [*self.indicators, *self.aggregates]:
            if node.code == code:
                return node.name or code
        raise KeyError(code)


def _format_validation_error(err: ValidationError, source: str) -> str:
    lines = [f"invalid index spec {source}:"]
    for problem in err.errors():
        where = ".".join(str(p) for p in problem["loc"]) or "(top level)"
        message = problem["msg"]
        if problem["type"] == "extra_forbidden":
            message = "unknown key"
        value = problem.get("input")
        shown = "" if isinstance(value, (dict, list)) or value is None else f" (got {value!r})"
        lines.append(f"  - {where}: {message}{shown}")
    return "\n".join(lines)


def spec_from_dict(raw: Mapping[str, Any], source: str = "<dict>") -> IndexSpec:
    """Validate a mapping into an :class:`IndexSpec`, raising :class:`SpecError` on problems."""
    try:
        return IndexSpec.model_validate(dict(raw))
    except ValidationError as err:
        raise SpecError(_format_validation_error(err, source)) from None


def load_spec(path: str | Path) -> IndexSpec:
    """Read and validate a YAML spec file; errors name the file and the offending keys."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"spec file not found: {path}") from None
    except yaml.YAMLError as err:
        raise SpecError(f"spec file {path} is not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise SpecError(f"spec file {path} must contain a mapping at top level")
    return spec_from_dict(raw, source=str(path))
