"""Pydantic models of the eligibility rules and structural gaps of an edition.

They are configuration (declared in ``config/editions/<edition>.yml`` and validated with the
rest of :class:`barometre.config.EditionConfig`), so they live on the configuration side:
:mod:`barometre.config` imports no computation module, and :mod:`barometre.smallarea` (which
applies the rules and the gaps) imports them from here. :mod:`barometre.smallarea` re-exports
them for compatibility.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

RuleName = Literal["population", "activity", "coverage", "information", "reliability"]

_DEPARTMENT_PATTERN = re.compile(r"^(?:\d{2}|2[AB]|97[1-6])$")
_COMMUNE_PATTERN = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ActivityRule(_Strict):
    """At least ``minimum`` in ``column`` (e.g. associations present on the platform)."""

    column: str
    minimum: float = Field(ge=0)
    missing_passes: bool = Field(
        default=False,
        description="Whether a missing value passes (default: it does not, nothing shows activity).",
    )


class CoverageRule(_Strict):
    """At least ``minimum_share`` of the listed indicators must be non-missing."""

    indicators: list[str] = Field(min_length=1)
    minimum_share: float = Field(gt=0, le=1)


class InformationRule(_Strict):
    """At least ``minimum`` distinct sources of information behind a commune's figures: the sum
    of ``columns`` (e.g. associations created, missions with matches, campaigns, organisations
    with campaigns), missing values counting as none. One mission with 46 matches is one
    source, not 46: a commune whose score rests on one or two clusters is not ranked."""

    columns: list[str] = Field(min_length=1)
    minimum: float = Field(gt=0)


class ReliabilityRule(_Strict):
    """At least ``minimum`` score reliability in ``column`` (share of the score's variance
    across communes that is signal, not sampling noise; computed by the indicators step)."""

    column: str = "score_reliability"
    minimum: float = Field(gt=0, lt=1)


class EligibilityRules(_Strict):
    """Eligibility rules of an edition; ``None`` disables a rule.

    ``order`` is the order in which rules are applied and reported: a unit failing several rules
    is counted once, under the first of them. Every active rule must appear in ``order``.
    """

    min_population: int | None = Field(default=None, ge=0)
    min_activity: ActivityRule | None = None
    min_coverage: CoverageRule | None = None
    min_information: InformationRule | None = None
    min_reliability: ReliabilityRule | None = None
    order: tuple[RuleName, ...] = (
        "population",
        "activity",
        "coverage",
        "information",
        "reliability",
    )

    @field_validator("order")
    @classmethod
    def _distinct(cls, value: tuple[RuleName, ...]) -> tuple[RuleName, ...]:
        if len(set(value)) != len(value):
            raise ValueError(f"order lists a rule twice: {value}")
        return value

    @model_validator(mode="after")
    def _active_rules_ordered(self) -> EligibilityRules:
        missing = [name for name, on in self._switches().items() if on and name not in self.order]
        if missing:
            raise ValueError(f"active rules missing from order: {missing}")
        return self

    def _switches(self) -> dict[RuleName, bool]:
        return {
            "population": self.min_population is not None,
            "activity": self.min_activity is not None,
            "coverage": self.min_coverage is not None,
            "information": self.min_information is not None,
            "reliability": self.min_reliability is not None,
        }

    def active_rules(self) -> list[RuleName]:
        """The active rules, in application order."""
        switches = self._switches()
        return [name for name in self.order if switches[name]]


class StructuralGap(_Strict):
    """Cells known to be missing (not zero): ``columns`` for the communes of ``departments`` or
    listed in ``communes``, for a stated ``reason`` (shown in the methodology annex).

    Codes are strings: departments ``"01"``, ``"2A"``, ``"971"``; communes ``"57463"``,
    ``"2A004"`` (an integer code in YAML is rejected rather than silently mismatched).
    """

    name: str
    reason: str
    columns: list[str] = Field(min_length=1)
    departments: list[str] = Field(default_factory=list)
    communes: list[str] = Field(default_factory=list)

    @field_validator("departments")
    @classmethod
    def _department_codes(cls, value: list[str]) -> list[str]:
        bad = [code for code in value if not _DEPARTMENT_PATTERN.match(code)]
        if bad:
            raise ValueError(f"invalid department codes {bad} (expected '01', '2A', '971' …)")
        return value

    @field_validator("communes")
    @classmethod
    def _commune_codes(cls, value: list[str]) -> list[str]:
        bad = [code for code in value if not _COMMUNE_PATTERN.match(code)]
        if bad:
            raise ValueError(f"invalid commune codes {bad} (expected 5 characters, e.g. '2A004')")
        return value

    @model_validator(mode="after")
    def _some_scope(self) -> StructuralGap:
        if not self.departments and not self.communes:
            raise ValueError(f"structural gap {self.name!r} names no department and no commune")
        return self
