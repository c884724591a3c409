"""Edition configuration (``config/editions/<edition>.yml``), validated with pydantic.

One file per edition names everything a build depends on: data year, COG and population
vintage, index spec and weight set, population classes, palmarès size, seed, and the options of
later stages. Paths in the file are relative to the project root.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import Field, ValidationError, model_validator

from barometre.config_models import EligibilityRules, StructuralGap, _Strict


def find_project_root() -> Path:
    """The project's root folder: the first folder holding ``pyproject.toml`` and
    ``config/editions/`` found walking up from this package (an editable install, as ``make env``
    makes), else from the working directory (a notebook's kernel runs in ``notebooks/``)."""
    for start in (Path(__file__).resolve().parent, Path.cwd().resolve()):
        for folder in (start, *start.parents):
            if (folder / "pyproject.toml").is_file() and (folder / "config" / "editions").is_dir():
                return folder
    raise RuntimeError(
        "project root not found: no folder above the barometre package or the working "
        "directory holds pyproject.toml and config/editions/ (install the project with make env)"
    )


PROJECT_ROOT = find_project_root()
CONFIG_DIR = PROJECT_ROOT / "config"


def project_path(path: str | Path) -> Path:
    """``path`` itself when absolute, else relative to the project root — never to the working
    directory, so that a notebook run from ``notebooks/`` finds ``build/2024`` and
    ``config/editions/2024.yml`` as the build does."""
    path = Path(path)
    return path if path.is_absolute() else PROJECT_ROOT / path


class ConfigError(ValueError):
    """An edition config that cannot be read or does not validate."""


class PopulationClasses(_Strict):
    """Population classes: [0, b1) → labels[0], [b1, b2) → labels[1], …, [b_last, ∞) → labels[-1]."""

    bounds: list[int] = Field(default=[5000, 20000, 50000, 200000])
    labels: list[str] = Field(
        default=["Village", "Petite ville", "Ville moyenne", "Grande ville", "Métropole"]
    )

    @model_validator(mode="after")
    def _check(self) -> PopulationClasses:
        if len(self.labels) != len(self.bounds) + 1:
            raise ValueError("there must be one more class label than class bounds")
        if self.bounds != sorted(set(self.bounds)):
            raise ValueError(f"class bounds must be strictly increasing, got {self.bounds}")
        return self


class DemoConfig(_Strict):
    """Synthetic demo inputs: scale of the national magnitudes and optional departments subset."""

    scale: float = Field(default=1.0, gt=0)
    departments: list[str] | None = None
    panel_seed: int | None = Field(
        default=None,
        ge=0,
        description="Seed of the communes' latent engagement, shared by editions so that "
        "year-over-year changes are not pure noise (default: the edition's seed).",
    )


class ShrinkageConfig(_Strict):
    """Shrinkage of the count-based rates. The editions rank the posterior means of the count
    models (:mod:`barometre.countmodel`); ``credible`` is the level of their published
    intervals. ``method``, ``groups`` and ``min_group_size`` describe the class-wide gamma prior
    of :func:`barometre.smallarea.shrink_rates`, kept as the reference the count model is
    validated against."""

    method: Literal["moments", "negbin"] = "moments"
    groups: list[str] = Field(
        default=["population_class"], description="Columns defining comparable communes."
    )
    credible: float = Field(default=0.90, gt=0, lt=1)
    min_group_size: int = Field(default=30, ge=2)
    credit_departement: bool = Field(
        default=False,
        description="Whether a commune's ranked rate is shrunk towards its département's level "
        "(True) or towards the national level for its size, the département effects being "
        "estimated but not credited (False: an inactive commune is not ranked on its neighbours' "
        "activity; barometre.countmodel.CountModelFit.without_group_credit).",
    )


class PalmaresRule(_Strict):
    """The decision rule of the palmarès, declared before ranking (methodology annex).

    In each population class, among the eligible communes: « Lauréat » when the probability of
    being in the top ``palmares_size`` of the class (sampling and method uncertainty together,
    from the joint runs) is at least ``laureate_min_probability`` AND the commune is in the
    class's τ-best set at ``tau_best_coverage`` (Mogstad et al. 2024, τ = palmarès size);
    « Mention » for the other members of that set with a probability at least
    ``mention_min_probability``. A class awards fewer prizes when fewer communes qualify;
    laureates whose simultaneous rank confidence sets (``simultaneous_coverage``) overlap are
    ex aequo and listed alphabetically.
    """

    laureate_min_probability: float = Field(default=0.5, gt=0, le=1)
    mention_min_probability: float = Field(default=0.1, ge=0, le=1)
    tau_best_coverage: float = Field(default=0.90, gt=0, lt=1)
    simultaneous_coverage: float = Field(default=0.90, gt=0, lt=1)
    max_rank_upper: int | None = Field(
        default=None,
        ge=1,
        description="Optional stricter rule: a laureate's simultaneous rank confidence set must "
        "end at or above this rank (e.g. 2 × palmarès size: the data place it among the best "
        "with the stated confidence); a commune that passes the other conditions but not this "
        "one gets a mention. None: not applied.",
    )
    max_rank_upper_share: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Optional rule relative to the class: a laureate's simultaneous rank "
        "confidence set must end within this share of the class's eligible communes (rounded "
        "up; or at ``max_rank_upper`` when that is larger), so that the data place it among the "
        "best of its class whatever the class's size; otherwise it gets a mention. A class whose "
        "rank sets all span most of the class (villages) then awards no prize. None: not applied.",
    )

    def rank_bound(self, class_size: int) -> int | None:
        """The last rank a laureate's simultaneous rank set may reach in a class of
        ``class_size`` eligible communes (None: no bound)."""
        bounds = [b for b in (self.max_rank_upper,) if b is not None]
        if self.max_rank_upper_share is not None:
            bounds.append(math.ceil(self.max_rank_upper_share * class_size - 1e-9))
        return max(bounds) if bounds else None

    @model_validator(mode="after")
    def _ordered(self) -> PalmaresRule:
        if self.mention_min_probability > self.laureate_min_probability:
            raise ValueError("mention_min_probability must not exceed laureate_min_probability")
        return self


class Definitions(_Strict):
    """The definition of each indicator that has two (or more) honest readings, chosen
    explicitly by every edition; the indicator metadata (``config/indicators.yml``) holds the
    wording, unit and exposure of each variant, selected by these keys."""

    jva_matches: Literal["stock", "flow"] = Field(
        description="JeVeuxAider mises en relation: 'stock' = every match created since the "
        "platform's launch up to 31 December of the data year (the published « à date » "
        "figure); 'flow' = matches created in the data year."
    )
    participants_per_campaign: Literal["per_inhabitant", "per_campaign", "dropped"] = Field(
        description="Audience of the campaigns: 'per_inhabitant' = participants / (campaigns × "
        "population) per 1 000 inhabitants (the 2024 published definition); 'per_campaign' = "
        "participants / campaigns, a rate with campaigns as exposure; 'dropped' = not an "
        "indicator of the edition."
    )

    @property
    def jva_cumulative(self) -> bool:
        """The ``jva_cumulative`` option of :func:`barometre.sources.counts.commune_counts`."""
        return self.jva_matches == "stock"


class EditionConfig(_Strict):
    """Everything one edition of the baromètre depends on."""

    edition: int = Field(description="Year of publication of the palmarès.")
    title: str = "Baromètre de l'engagement citoyen"
    data_year: int = Field(description="Year of the activity counted (creations, campaigns...).")
    cog_year: int = Field(description="COG vintage of the commune geography and populations.")
    population_year: int = Field(
        description="Census millésime of the legal populations (documented)."
    )
    seed: int = Field(ge=0, description="The one seed of the edition.")
    publication_date: date | None = Field(
        default=None,
        description="Date printed on the cover (default: 15 June of the edition year).",
    )
    index_spec: str = "config/index/barometre.yml"
    indicators_meta: str = "config/indicators.yml"
    weights: str | None = Field(default=None, description="Weight set of the index spec.")
    classes: PopulationClasses = Field(default_factory=PopulationClasses)
    palmares_size: int = Field(default=4, ge=1)
    palmares_rule: PalmaresRule = Field(default_factory=PalmaresRule)
    departmental_palmares_size: int | None = Field(
        default=None, ge=1, description="Top communes per department (from the 2025 edition)."
    )
    territories: list[str] = Field(
        default_factory=list,
        description="Territorial analyses built with the edition (region:32, departement:59, "
        "epci:200093201, communes:59350,59512).",
    )
    previous_edition: int | None = Field(
        default=None, description="Edition compared year over year (built first if needed)."
    )
    rates: Literal["raw", "shrunk"] = Field(
        default="raw", description="Rates ranked: raw, or shrunk (empirical Bayes)."
    )
    shrinkage: ShrinkageConfig = Field(default_factory=ShrinkageConfig)
    eligibility: EligibilityRules = Field(
        default_factory=lambda: EligibilityRules(min_population=1)
    )
    structural_gaps: list[StructuralGap] = Field(default_factory=list)
    demo: DemoConfig = Field(default_factory=DemoConfig)
    counted_states: dict[str, list[str]] = Field(default_factory=dict)
    definitions: Definitions = Field(
        description="Which definition of each ambiguous indicator the edition uses (required)."
    )
    extra: dict[str, Any] = Field(default_factory=dict, description="Options of later stages.")

    @model_validator(mode="after")
    def _check(self) -> EditionConfig:
        if not self.data_year < self.edition + 1:
            raise ValueError("data_year must not be after the edition year")
        if self.previous_edition is not None and not self.previous_edition < self.edition:
            raise ValueError("previous_edition must be an earlier edition")
        return self

    @property
    def cover_date(self) -> date:
        return self.publication_date or date(self.edition, 6, 15)

    def rng(self) -> np.random.Generator:
        """The edition's random generator (the only source of randomness of a build)."""
        return np.random.default_rng(self.seed)

    def path(self, relative: str) -> Path:
        return PROJECT_ROOT / relative


def edition_path(edition: int | str) -> Path:
    return CONFIG_DIR / "editions" / f"{edition}.yml"


def load_edition(edition: int | str | Path) -> EditionConfig:
    """Read and validate an edition config by year (``config/editions/<year>.yml``) or path."""
    path = (
        Path(edition)
        if isinstance(edition, Path) or str(edition).endswith(".yml")
        else edition_path(edition)
    )
    if not path.is_absolute() and not path.is_file():
        path = project_path(path)  # relative to the project root (e.g. from notebooks/)
    if not path.is_file():
        known = sorted(p.stem for p in (CONFIG_DIR / "editions").glob("*.yml"))
        raise ConfigError(f"edition config not found: {path} (known editions: {known})")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return EditionConfig.model_validate(raw)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path} is not valid YAML: {err}") from None
    except ValidationError as err:
        lines = [f"invalid edition config {path}:"]
        for problem in err.errors():
            where = ".".join(str(p) for p in problem["loc"]) or "(top level)"
            msg = "unknown key" if problem["type"] == "extra_forbidden" else problem["msg"]
            lines.append(f"  - {where}: {msg}")
        raise ConfigError("\n".join(lines)) from None


EXPOSURE_POPULATION = "population"
"""The exposure of a per-inhabitant indicator (published per 1 000 inhabitants)."""
_YEAR_FIELDS = ("title", "short", "unit", "label", "definition")
_LABEL_FIELDS = ("definition", "distinction")


def resolve_indicator(indicator: dict[str, Any], config: EditionConfig) -> dict[str, Any] | None:
    """One indicator's metadata as the edition defines it.

    An indicator with ``selected_by: <key of Definitions>`` and ``variants: {value: fields}``
    takes the fields of the variant the edition's ``definitions`` names (``variant`` records
    which); ``None`` when the edition declares it ``dropped``. Then ``{data_year}`` is replaced
    in the texts (title, short, unit, label, definition) and ``{label}`` in the definition and
    the distinction, so that a wording is written once, in the metadata."""
    out = {k: v for k, v in indicator.items() if k != "variants"}
    key = indicator.get("selected_by")
    if key is not None:
        if key not in Definitions.model_fields:
            raise ConfigError(
                f"{config.indicators_meta}: indicator {indicator['code']}: selected_by {key!r} is "
                f"not a key of the editions' definitions ({sorted(Definitions.model_fields)})"
            )
        choice = getattr(config.definitions, key)
        if choice == "dropped":
            return None
        variants = indicator.get("variants") or {}
        if choice not in variants:
            raise ConfigError(
                f"{config.indicators_meta}: indicator {indicator['code']} has no variant "
                f"{choice!r} (definitions.{key}); variants: {sorted(variants)}"
            )
        out.update(variants[choice])
        out["variant"] = choice
    year = str(config.data_year)
    for name in _YEAR_FIELDS:
        if isinstance(out.get(name), str):
            out[name] = out[name].replace("{data_year}", year)
    for name in _LABEL_FIELDS:
        if isinstance(out.get(name), str) and "{label}" in out[name]:
            if "label" not in out:
                raise ConfigError(
                    f"{config.indicators_meta}: indicator {out['code']}: {name} uses {{label}} but no label is defined"
                )
            out[name] = out[name].replace("{label}", out["label"])
    exposure = out.get("exposure")
    allowed = [
        EXPOSURE_POPULATION,
        *([out["denominator_count"]] if "denominator_count" in out else []),
    ]
    if exposure not in allowed:
        raise ConfigError(
            f"{config.indicators_meta}: indicator {out['code']}: exposure must be one of {allowed}, got {exposure!r}"
        )
    return out


def count_labels(meta: dict[str, Any]) -> dict[str, str]:
    """How the publications name each count that has a definition-specific wording (e.g.
    ``jva_matches`` → « mises en relation créées en 2024 »), by count column."""
    return {i["count"]: i["label"] for i in meta["indicators"] if "count" in i and "label" in i}


def exposure_phrase(meta: dict[str, Any]) -> str:
    """« rapportés à la population », naming the indicators rated by another exposure (e.g.
    « sauf « Participants par campagne », rapporté au nombre de campagnes HelloAsso »)."""
    shorts = {i.get("count"): i["short"] for i in meta["indicators"] if "count" in i}
    others = [
        f"« {i['title']} », rapporté au nombre de {shorts.get(i['exposure'], i['exposure'])}"
        for i in meta["indicators"]
        if i["exposure"] != EXPOSURE_POPULATION
    ]
    return "rapportés à la population" + (", sauf " + " et ".join(others) if others else "")


def load_indicator_meta(config: EditionConfig, spec: Any = None) -> dict[str, Any]:
    """The indicator metadata (criteria and indicators with French titles and sources) of the
    indicators and criteria that the edition's index spec uses, in the spec's order, each in the
    variant the edition's ``definitions`` select (:func:`resolve_indicator`).

    Checks that the index spec agrees with the definitions: an indicator declared ``dropped``
    is not in the spec, one that is declared otherwise is, and the spec divides an indicator by
    the population exactly when its exposure is the population (a rate per campaign has
    ``denominator: null``: the engine input is already participants / campaigns). ``spec``: an
    :class:`~barometre.composite.IndexSpec` to check against instead of the edition's (e.g. the
    spec of the other methodology, :mod:`barometre.methods`)."""
    from barometre.composite import load_spec

    meta = yaml.safe_load(config.path(config.indicators_meta).read_text(encoding="utf-8"))
    spec = spec if spec is not None else load_spec(config.path(config.index_spec))
    in_spec = {i.code: i for i in spec.indicators}
    by_code: dict[str, dict[str, Any]] = {}
    for raw in meta["indicators"]:
        resolved = resolve_indicator(raw, config)
        key = raw.get("selected_by")
        if resolved is None:
            if raw["code"] in in_spec:
                raise ConfigError(
                    f"definitions.{key} is 'dropped' but {config.index_spec} uses indicator {raw['code']}"
                )
            continue
        if key is not None and raw["code"] not in in_spec:
            raise ConfigError(
                f"definitions.{key} is {resolved['variant']!r} but {config.index_spec} has no "
                f"indicator {raw['code']} (declare it 'dropped')"
            )
        by_code[raw["code"]] = resolved
    missing = [c for c in spec.indicator_codes if c not in by_code]
    if missing:
        raise ConfigError(
            f"{config.indicators_meta}: no metadata for indicators {missing} of {config.index_spec}"
        )
    for code in spec.indicator_codes:
        ind, denominator = by_code[code], in_spec[code].denominator
        expected = "population" if ind["exposure"] == EXPOSURE_POPULATION else None
        if denominator != expected:
            why = (
                f" (definitions.{ind['selected_by']} = {ind['variant']!r})"
                if "variant" in ind
                else ""
            )
            raise ConfigError(
                f"{config.index_spec}: indicator {code} has denominator {denominator!r} but its "
                f"exposure is {ind['exposure']!r}{why}: the spec must say denominator: "
                f"{expected or 'null'}"
            )
    from barometre.disclosure import unprotected_indicators

    unprotected = unprotected_indicators({"indicators": [by_code[c] for c in spec.indicator_codes]})
    if unprotected:
        raise ConfigError(
            f"{config.indicators_meta}: indicators {unprotected} would publish what the "
            "suppression rules cannot protect: an indicator computed from a person count is "
            "named like the count or declared in barometre.disclosure.DERIVED_INDICATORS, and "
            "none is computed from a confidential cluster statistic"
        )
    criteria = {c["code"]: c for c in meta["criteria"]}
    used = [a.code for a in spec.aggregates if a.code in criteria]
    return {
        **meta,
        "indicators": [by_code[c] for c in spec.indicator_codes],
        "criteria": [criteria[c] for c in used],
    }
