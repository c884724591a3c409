"""Disclosure attacks on what an edition publishes: can a suppressed person count be recovered?

The attacker has every published file of one or two editions (``tables/*.csv`` but the working
area ``work/``, the territorial exports, ``report/_variables.yml``, the territorial
``_variables.yml`` and ``tables/*.md``, the palmarès cards and sentences) and the methodology
annex (model form, weights, definitions). The attacks here replay what such a reader can do;
the confidential exact counts of ``work/`` are the ground truth that scores them.

Person counts
-------------
The counts of people or of their acts, :data:`barometre.disclosure.PERSON_COUNTS`:
HelloAsso participations (``ha_participants``), JeVeuxAider matches (``jva_matches``) and
HelloAsso donations (``ha_donations``). Associations created, associations joining HelloAsso and
campaigns count organisations or their acts, not people: they are published as they are.

What « recovered » means
------------------------
A person count published as suppressed (« < 11 », or any non-numeric label in a count column)
tells the reader that the count lies in the *public range* ``1 … T−1`` (``T`` the threshold,
:data:`barometre.disclosure.DEFAULT_THRESHOLD`; zeros are published as 0). An attack returns,
for a suppressed cell, the set of integer counts consistent with everything it used (each
published number taken with the precision it is printed with). Intersected with the public
range this is the cell's *feasible set* ``F``. The attack **recovers** a cell whose true count
``y`` is small (``1 ≤ y < T``) when ``F`` contains ``y`` and has fewer than ``min_ambiguity``
values; by default ``min_ambiguity = T − 1``, i.e. **any** narrowing of « 1 to 10 » that keeps
the truth is a recovery (a single value, or a range like 3–10 that excludes part of the public
range). An empty ``F`` means the attacker's model is refuted by the published values: he learns
nothing (it is not a recovery). A cell whose true count is ≥ T (a secondary suppression) is never
counted as a recovery of a small count, but what an attack learns about it feeds the margin
attack (a chain: invert the secondary cell, then difference the total).

Attacks (:func:`run_attacks`)
-----------------------------
``products``
    published columns multiplied or divided: raw rate × population / 1 000, participants per
    campaign × campaigns, its per-inhabitant rate × population × campaigns.
``model_inversion``
    the ranked rates are posterior means of the count models whose parameters are published
    (``tables/count_model.csv``): for each candidate count the attacker recomputes the posterior
    mean, then the normalised value (the min–max map, fitted on the communes whose counts are
    published), the criterion (its weighted mean of normalised values, fitted likewise) and
    checks them against the published ranked rate, normalised value and criterion score.
``margins``
    published totals — national (``report/_variables.yml``), territorial (key figures and the
    « Territoire » and « France » rates × population) — minus the published cells of the set
    they sum, with what the other attacks learnt about each cell.
``editions``
    two editions' published counts of the same commune linked by their definitions (a stock at
    two dates is non-decreasing; stock at t₂ = stock at t₁ + flow of the years between).

:func:`deliberately_unprotected` builds a table published without protection, on which the
attacks must recover counts (the suite can fail).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from barometre.disclosure import DEFAULT_THRESHOLD, DERIVED_INDICATORS, PERSON_COUNTS

#: Candidate counts tried by the single-count attacks: far above the threshold, so that a
#: secondary suppression (a count ≥ T hidden to protect another) is found when it can be.
MAX_CANDIDATE = 500
#: Largest residual (points on the 0–100 scale) of a refitted normalisation or criterion map
#: that the attacker still uses (an exact map printed at 6 decimals is within 1e-5).
MAP_RESIDUAL = 1e-3

#: How the annex states that a suppressed count is one source of information for eligibility.
INFORMATION_RULE = "compte pour une seule source d'information"

ATTACKS = ("products", "model_inversion", "margins", "editions")


# --------------------------------------------------------------------------------------------
# Feasible sets
# --------------------------------------------------------------------------------------------


def printed_tolerance(text: str) -> float:
    """Half a unit of the last printed digit of a number (``"12.35"`` → 0.005), plus the float
    error of a full-precision value: the attacker knows the true value within it."""
    text = text.strip()
    match = re.fullmatch(r"[-+]?(\d*)\.?(\d*)(?:[eE]([-+]?\d+))?", text)
    if not match:
        return math.inf
    decimals = len(match.group(2) or "")
    exponent = int(match.group(3) or 0)
    value = abs(float(text)) if text not in {"", ".", "-", "+"} else 0.0
    return 0.5 * 10.0 ** (exponent - decimals) + 1e-9 * value


def parse_number(text: object) -> float | None:
    """A published cell as a number, or None (empty, a label such as « < 11 », « n.d. »)."""
    if text is None:
        return None
    if isinstance(text, (int, float, np.integer, np.floating)):
        return None if (isinstance(text, float) and math.isnan(text)) else float(text)
    cleaned = str(text).strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
    if not cleaned or not re.fullmatch(r"[-+−]?\d*[.,]?\d+(?:[eE][-+]?\d+)?", cleaned):
        return None
    return float(cleaned.replace(",", ".").replace("−", "-"))


@dataclass
class CellKnowledge:
    """What the attacker knows of one count: an integer interval ``[lo, hi]`` and the attacks
    that narrowed it (``hi`` may be ``math.inf``)."""

    lo: float = 0.0
    hi: float = math.inf
    by: set[str] = field(default_factory=set)

    def narrow(self, lo: float, hi: float, attack: str) -> None:
        lo = math.ceil(lo - 1e-9) if math.isfinite(lo) else -math.inf
        hi = math.floor(hi + 1e-9) if math.isfinite(hi) else math.inf
        if lo > self.lo or hi < self.hi:
            if max(lo, self.lo) > min(hi, self.hi):
                return  # refuted by what is already known: the attacker's model is wrong here
            self.by.add(attack)
            self.lo, self.hi = max(lo, self.lo), min(hi, self.hi)


def feasible_size(lo: float, hi: float, threshold: int = DEFAULT_THRESHOLD) -> int:
    """Number of integers of ``[lo, hi]`` within the public range ``1 … threshold − 1``."""
    low = max(1, math.ceil(lo - 1e-9)) if math.isfinite(lo) else 1
    high = min(threshold - 1, math.floor(hi + 1e-9)) if math.isfinite(hi) else threshold - 1
    return max(0, high - low + 1)


def is_recovered(
    truth: float,
    lo: float,
    hi: float,
    threshold: int = DEFAULT_THRESHOLD,
    min_ambiguity: int | None = None,
) -> bool:
    """Whether an interval ``[lo, hi]`` recovers a small true count (module docstring)."""
    need = threshold - 1 if min_ambiguity is None else min_ambiguity
    if not (1 <= truth < threshold) or not (lo - 1e-9 <= truth <= hi + 1e-9):
        return False
    return 0 < feasible_size(lo, hi, threshold) < need


def candidates_matching(values: np.ndarray, published: float, tolerance: float) -> np.ndarray:
    """Mask of the candidate predictions equal to a published value within its tolerance."""
    return np.abs(values - published) <= tolerance


def mask_to_interval(candidates: np.ndarray, mask: np.ndarray) -> tuple[float, float] | None:
    """The smallest interval holding every matching candidate (None when none matches)."""
    hits = candidates[mask]
    if not len(hits):
        return None
    return float(hits.min()), float(hits.max())


# --------------------------------------------------------------------------------------------
# What the attacker has
# --------------------------------------------------------------------------------------------


@dataclass
class PublishedEdition:
    """The published files of one build folder that the attacks read, as printed (strings)."""

    build_dir: Path
    edition: str
    communes: pd.DataFrame
    palmares: pd.DataFrame
    exports: dict[str, pd.DataFrame]
    count_model: pd.DataFrame
    variables: dict[str, Any]
    territory_variables: dict[str, dict[str, Any]]
    territory_rates: dict[str, pd.DataFrame]
    definitions: dict[str, str]
    information_rule: dict[str, Any] = field(default_factory=dict)
    cog_year: int | None = None
    criteria: dict[str, list[str]] = field(default_factory=dict)
    """Criterion → its indicators, as the methodology annex publishes the hierarchy (read from
    the index spec the manifest names; empty when it cannot be read)."""

    def sources(self) -> dict[str, pd.DataFrame]:
        """Every published per-commune table, by name."""
        out = {"tables/communes.csv": self.communes, "tables/palmares.csv": self.palmares}
        out.update(self.exports)
        return {k: v for k, v in out.items() if not v.empty and "code_commune" in v.columns}


def _read_strings(path: Path) -> pd.DataFrame:
    if not path.exists():
        return pd.DataFrame()
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _read_yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {} if path.exists() else {}


def read_markdown_table(path: Path) -> pd.DataFrame:
    """A pipe table of a generated include (``tables/*.md``) as strings."""
    rows = [
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith("|")
    ]
    if len(rows) < 2:
        return pd.DataFrame()
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    return pd.DataFrame(cells[2:], columns=cells[0])


def load_published(build_dir: Path | str) -> PublishedEdition:
    """Read what an attacker has of one build folder (never ``work/``)."""
    build = Path(build_dir)
    variables = _read_yaml(build / "report" / "_variables.yml")
    manifest = _read_yaml(build / "manifest.json") if (build / "manifest.json").exists() else {}
    config = manifest.get("config", {}) if isinstance(manifest, dict) else {}
    definitions = {k: str(v) for k, v in (config.get("definitions") or {}).items()}
    # the eligibility rule the annex states (« au moins 5 sources d'information distinctes … »)
    information_rule = dict((config.get("eligibility") or {}).get("min_information") or {})
    # the annex says a suppressed count is one source (disclosure_rules_markdown always writes
    # it, in the same step as the attacks: reading last build's file would make the attack
    # table depend on whether a previous build left one); a hand-made folder may state it too
    annex = build / "report" / "disclosure" / "disclosure_rules.md"
    if (information_rule and manifest) or (
        annex.exists() and INFORMATION_RULE in annex.read_text(encoding="utf-8")
    ):
        information_rule["suppressed_counts_as_one"] = True
    criteria = published_criteria(config.get("index_spec"))
    exports: dict[str, pd.DataFrame] = {}
    territory_variables: dict[str, dict[str, Any]] = {}
    territory_rates: dict[str, pd.DataFrame] = {}
    for folder in (
        sorted((build / "territories").glob("*")) if (build / "territories").exists() else []
    ):
        for csv in sorted((folder / "exports").glob("*.csv")):
            exports[str(csv.relative_to(build))] = _read_strings(csv)
        territory_variables[folder.name] = _read_yaml(folder / "_variables.yml")
        if (folder / "tables" / "rates.md").exists():
            territory_rates[folder.name] = read_markdown_table(folder / "tables" / "rates.md")
    return PublishedEdition(
        build_dir=build,
        edition=str(variables.get("edition", build.name)),
        communes=_read_strings(build / "tables" / "communes.csv"),
        palmares=_read_strings(build / "tables" / "palmares.csv"),
        exports=exports,
        count_model=_read_strings(build / "tables" / "count_model.csv"),
        variables=variables,
        territory_variables=territory_variables,
        territory_rates=territory_rates,
        definitions=definitions,
        information_rule=dict(information_rule),
        cog_year=int(config["cog_year"]) if config.get("cog_year") else None,
        criteria=criteria,
    )


def published_criteria(index_spec: str | None) -> dict[str, list[str]]:
    """Criterion → its indicators in the index spec at ``index_spec`` (relative to the project
    root, or absolute), the hierarchy the methodology annex publishes; empty when absent."""
    from barometre.composite import SpecError, load_spec
    from barometre.config import project_path

    if not index_spec or not project_path(index_spec).is_file():
        return {}
    try:
        spec = load_spec(project_path(index_spec))
    except SpecError:
        return {}
    indicators = set(spec.indicator_codes)
    return {
        a.code: [c for c in spec.children(a.code) if c in indicators]
        for a in spec.aggregates
        if any(c in indicators for c in spec.children(a.code))
    }


def ground_truth(build_dir: Path | str) -> pd.DataFrame:
    """The confidential exact person counts (``work/commune_counts.csv``), by commune code."""
    path = Path(build_dir) / "work" / "commune_counts.csv"
    table = pd.read_csv(path, dtype={"code_commune": str})
    columns = [c for c in PERSON_COUNTS if c in table.columns]
    return table.set_index("code_commune")[columns]


def suppressed_cells(published: PublishedEdition) -> dict[tuple[str, str], set[str]]:
    """(commune, person count) printed as a label in at least one published table → the files."""
    cells: dict[tuple[str, str], set[str]] = {}
    for name, table in published.sources().items():
        for column in PERSON_COUNTS:
            if column not in table.columns:
                continue
            values = table[column].astype(str).str.strip()
            hidden = (values != "") & values.map(lambda v: parse_number(v) is None)
            for code in table.loc[hidden, "code_commune"]:
                cells.setdefault((code, column), set()).add(name)
    return cells


def blank_cells(published: PublishedEdition) -> set[tuple[str, str]]:
    """(commune, person count) left blank by the national table: a commune it does not rank
    (its counts are not published anywhere; the reader knows only ``≥ 0``)."""
    table = published.communes
    cells: set[tuple[str, str]] = set()
    for column in PERSON_COUNTS:
        if column in table.columns:
            blank = table[column].astype(str).str.strip() == ""
            cells.update((code, column) for code in table.loc[blank, "code_commune"])
    return cells


def qpv_groups(published: PublishedEdition, slug: str) -> dict[str, tuple[str, ...]]:
    """The communes holding a QPV of a territory, by EPCI, as anyone rebuilds them from public
    data (the QPV list and the COG's EPCI of each commune); ``""``: the whole territory."""
    from barometre import geography
    from barometre.qpv.chapter import default_qpv_file
    from barometre.qpv.reader import read_qpv_list

    qpv_file = default_qpv_file(published.build_dir)
    if qpv_file is None or not published.cog_year:
        return {}
    pairs = read_qpv_list(qpv_file, published.cog_year).pairs
    communes = geography.load_communes(published.cog_year)
    with_qpv = communes[communes["code_commune"].isin(set(pairs["code_commune"]))]
    if "code_commune" in published.communes.columns:  # the build's scope (a département build)
        with_qpv = with_qpv[with_qpv["code_commune"].isin(set(published.communes["code_commune"]))]
    kind, _, rest = slug.partition("-")
    code = rest.split("-", 1)[0]
    column = {"region": "code_region", "department": "code_departement"}.get(kind)
    if column is None:
        return {}
    inside = with_qpv[with_qpv[column].astype(str) == code]
    groups = {
        str(epci): tuple(members["code_commune"]) for epci, members in inside.groupby("code_epci")
    }
    groups[""] = tuple(inside["code_commune"])
    return groups


def published_value(published: PublishedEdition, code: str, column: str) -> str | None:
    """The printed value of a cell in the first published table that has it as a number."""
    for table in published.sources().values():
        if column in table.columns:
            rows = table.loc[table["code_commune"] == code, column]
            for value in rows:
                if parse_number(value) is not None:
                    return str(value)
    return None


# --------------------------------------------------------------------------------------------
# Attack 1: products and ratios of published columns
# --------------------------------------------------------------------------------------------


def _ratio_links(meta_ratios: Mapping[str, tuple[str, str]], count: str) -> list[tuple[str, str]]:
    return [(code, den) for code, (num, den) in meta_ratios.items() if num == count]


RATIOS: dict[str, tuple[str, str]] = {
    "ha_participants_per_campaign": ("ha_participants", "ha_campaigns")
}
"""Ratio indicators of the baromètre: code → (person-count numerator, published denominator)."""


def product_attack(
    row: Mapping[str, str], count: str, candidates: np.ndarray
) -> tuple[float, float] | None:
    """Counts consistent with the columns of one published row that are products or ratios of
    ``count``: its raw rate (× population / 1 000), a ratio indicator (× its denominator) and
    that ratio's rate (both readings: per 1 000 inhabitants, or per unit of its denominator)."""
    population = parse_number(row.get("population"))
    mask = np.ones(len(candidates), dtype=bool)
    used = False

    def check(column: str, predictions: Iterable[np.ndarray]) -> None:
        nonlocal mask, used
        text = row.get(column)
        value = parse_number(text)
        if value is None:
            return
        tolerance = printed_tolerance(str(text).strip())
        hits = np.zeros(len(candidates), dtype=bool)
        for prediction in predictions:
            hits |= candidates_matching(prediction, value, tolerance)
        mask &= hits
        used = True

    if population:
        check(f"{count}_per_1000", [candidates / population * 1000.0])
    for code, denominator in _ratio_links(RATIOS, count):
        den = parse_number(row.get(denominator))
        if not den:
            continue
        check(code, [candidates / den])
        readings = [candidates / den]
        if population:
            readings.append(candidates / den / population * 1000.0)
        check(f"{code}_per_1000", readings)
    if not used:
        return None
    return mask_to_interval(candidates, mask) or (math.nan, math.nan)


def distinguishing_attack(
    row: Mapping[str, str], count: str, candidates: np.ndarray
) -> tuple[float, float] | None:
    """A palmarès card quotes the value of the commune's distinguishing indicator
    (``distinguishing_value``): the count itself, or a ratio of it (× its denominator)."""
    indicator = str(row.get("distinguishing_indicator", ""))
    text = row.get("distinguishing_value")
    value = parse_number(text)
    if value is None:
        return None
    if indicator == count:
        half = printed_tolerance(str(text))
        return value - half, value + half
    if indicator in RATIOS and RATIOS[indicator][0] == count:
        return product_attack(
            {**row, indicator: str(text), f"{indicator}_per_1000": ""}, count, candidates
        )
    return None


def eligibility_attack(
    row: Mapping[str, str], count: str, rule: Mapping[str, Any] | None
) -> tuple[float, float] | None:
    """A ranked commune has at least ``minimum`` distinct sources of information (annex): the
    associations created and joining HelloAsso (published), the organisations running
    campaigns (at most the published campaigns) and the missions with matches (at most the
    matches). So matches ≥ minimum − the others' upper bounds."""
    if (
        count != "jva_matches"
        or not rule
        or str(row.get("eligible", "")).lower() not in {"true", "oui"}
    ):
        return None
    if rule.get("suppressed_counts_as_one"):
        return None  # the annex says a suppressed count is one source: nothing to bound
    upper = {
        "rna_creations": "rna_creations",
        "ha_new_organizations": "ha_new_organizations",
        "ha_campaigns_clusters": "ha_campaigns",
    }
    columns = list(rule.get("columns", []))
    if "jva_matches_clusters" not in columns:
        return None
    others = 0.0
    for column in columns:
        if column == "jva_matches_clusters":
            continue
        value = parse_number(row.get(upper.get(column, column)))
        if value is None:
            return None
        others += value
    return float(rule.get("minimum", 0)) - others, math.inf


# --------------------------------------------------------------------------------------------
# Attack 2: inverting the count model, the normalisation and the criteria
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedModel:
    """The published NB2 parameters of one indicator's count model, as the ranked rate uses them
    (no département credit: intercept + τ²/2 and α' = (1 + α)·exp(τ²) − 1, as the annex says)."""

    intercept: float
    log_population: float
    classes: dict[str, float]
    alpha: float
    design_effect: float

    @classmethod
    def from_table(
        cls, table: pd.DataFrame, indicator: str, credit_departement: bool = False
    ) -> PublishedModel | None:
        rows = table[table["indicator"] == indicator]
        if rows.empty:
            return None
        terms = {r.term: parse_number(r.estimate) for r in rows.itertuples()}
        tau = terms.get("département sd (τ)") or 0.0
        alpha = terms.get("dispersion α")
        if alpha is None or terms.get("(intercept)") is None:
            return None
        intercept = float(terms["(intercept)"])
        if not credit_departement:
            intercept += tau**2 / 2.0
            alpha = (1.0 + alpha) * math.exp(tau**2) - 1.0
        classes = {
            k.split("=", 1)[1]: float(v)
            for k, v in terms.items()
            if k.startswith("population_class=") and v is not None
        }
        return cls(
            intercept,
            float(terms.get("log_population") or 0.0),
            classes,
            float(alpha),
            float(terms.get("pooled design effect") or 1.0),
        )

    def posterior_mean(
        self, counts: np.ndarray, exposure: float, population: float, population_class: str
    ) -> np.ndarray:
        """Posterior mean rate per unit of exposure for each candidate count (conjugate gamma)."""
        mu = math.exp(
            self.intercept
            + self.log_population * math.log(population / 1000.0)
            + self.classes.get(population_class, 0.0)
        )
        d = self.design_effect
        return (1.0 / self.alpha + counts / d) / (1.0 / (self.alpha * mu) + exposure / d)


def ranked_predictions(
    model: PublishedModel,
    candidates: np.ndarray,
    row: Mapping[str, str],
    indicator: str,
    count: str,
) -> list[np.ndarray]:
    """The published ranked value of ``indicator`` for each candidate of ``count`` (both readings
    of a ratio's unit: per unit of its denominator, and per 1 000 inhabitants)."""
    population = parse_number(row.get("population"))
    population_class = str(row.get("population_class", ""))
    if not population:
        return []
    if indicator == count:
        return [model.posterior_mean(candidates, population, population, population_class) * 1000.0]
    denominator = RATIOS[indicator][1]
    den = parse_number(row.get(denominator))
    if not den:
        return []
    per_unit = model.posterior_mean(candidates, den, population, population_class)
    return [per_unit, per_unit / population * 1000.0]


def fit_linear_map(x: pd.Series, y: pd.Series) -> tuple[float, float, float, float | None] | None:
    """The attacker's map from ranked value to normalised value: least squares ``y = a + b·x``,
    or ``y = a + b·log(x + c)`` (COINr's ``log_CT`` treatment of a skewed indicator, the shift
    ``c`` fitted too), on the rows where both are published and ``y`` is strictly inside its
    range (winsorised values sit at the top). Returns ``(a, b, largest residual, c)`` of the
    better form (``c`` None: linear)."""
    from scipy import optimize

    both = pd.concat([x, y], axis=1).dropna()
    both = both[
        (both.iloc[:, 1] > both.iloc[:, 1].min()) & (both.iloc[:, 1] < both.iloc[:, 1].max())
    ]
    if len(both) < 4 or both.iloc[:, 0].nunique() < 3:
        return None
    t, target = both.iloc[:, 0].to_numpy(float), both.iloc[:, 1].to_numpy(float)

    def fit(values: np.ndarray) -> tuple[float, float, float]:
        b, a = np.polyfit(values, target, 1)
        return float(a), float(b), float(np.max(np.abs(a + b * values - target)))

    a, b, residual = fit(t)
    best: tuple[float, float, float, float | None] = (a, b, residual, None)
    span = float(t.max() - t.min())
    if span > 0:

        def loss(log_shift: float) -> float:
            values = np.log(t - t.min() + math.exp(log_shift))
            b_, a_ = np.polyfit(values, target, 1)
            return float(np.sum((a_ + b_ * values - target) ** 2))

        result = optimize.minimize_scalar(
            loss,
            bounds=(math.log(span * 1e-9), math.log(span * 10)),
            method="bounded",
            options={"xatol": 1e-12},
        )
        shift = math.exp(result.x) - t.min()
        a, b, residual = fit(np.log(t + shift))
        if residual < best[2]:
            best = (a, b, residual, shift)
    return best


def apply_map(fitted: tuple[float, float, float, float | None], values: np.ndarray) -> np.ndarray:
    """The fitted normalisation map (:func:`fit_linear_map`) applied to ranked values."""
    a, b, _, shift = fitted
    if shift is None:
        return a + b * values
    with np.errstate(invalid="ignore", divide="ignore"):
        return a + b * np.log(values + shift)


def fit_linear_combination(
    columns: pd.DataFrame, target: pd.Series
) -> tuple[np.ndarray, float] | None:
    """Least-squares ``target = Σ a_j column_j`` (no intercept) on fully published rows, with
    its largest absolute residual."""
    both = pd.concat([columns, target.rename("__target")], axis=1).dropna()
    if len(both) <= columns.shape[1] + 2:
        return None
    matrix = both[columns.columns].to_numpy(float)
    coefficients, *_ = np.linalg.lstsq(matrix, both["__target"].to_numpy(float), rcond=None)
    residual = float(np.max(np.abs(matrix @ coefficients - both["__target"].to_numpy(float))))
    return coefficients, residual


def _numeric(table: pd.DataFrame, column: str) -> pd.Series:
    if column not in table.columns:
        return pd.Series(np.nan, index=table.index)
    return table[column].map(parse_number).astype(float)


@dataclass
class ModelInverter:
    """The attacker's reconstruction of the engine from one published table: count models,
    min–max maps (ranked → normalised) and criteria (normalised → criterion)."""

    table: pd.DataFrame
    models: dict[str, PublishedModel]
    indicators_of: dict[str, list[str]]  # person count → its indicators (count, ratio)
    normalise: dict[str, tuple[float, float, float, float | None]]
    criteria: dict[str, tuple[list[str], np.ndarray, float]]

    @classmethod
    def build(
        cls,
        table: pd.DataFrame,
        count_model: pd.DataFrame,
        criteria_of: Mapping[str, Sequence[str]],
    ) -> ModelInverter:
        indicators_of: dict[str, list[str]] = {}
        models: dict[str, PublishedModel] = {}
        for count in PERSON_COUNTS:
            codes = [count] + [code for code, _ in _ratio_links(RATIOS, count)]
            for code in codes:
                model = (
                    PublishedModel.from_table(count_model, code) if not count_model.empty else None
                )
                if model is not None:
                    models[code] = model
                    indicators_of.setdefault(count, []).append(code)
        normalise = {}
        for code in models:
            fitted = fit_linear_map(
                _numeric(table, f"{code}_ranked_per_1000"), _numeric(table, f"{code}_normalised")
            )
            if fitted is not None:
                normalise[code] = fitted
        criteria = {}
        for criterion, members in criteria_of.items():
            columns = [f"{m}_normalised" for m in members]
            if criterion not in table.columns or not all(c in table.columns for c in columns):
                continue
            frame = pd.DataFrame({c: _numeric(table, c) for c in columns})
            fitted_combination = fit_linear_combination(frame, _numeric(table, criterion))
            if fitted_combination is not None:
                criteria[criterion] = (list(members), *fitted_combination)
        return cls(table, models, indicators_of, normalise, criteria)

    def attack_row(
        self, row: Mapping[str, str], count: str, candidates: np.ndarray
    ) -> dict[str, tuple[float, float]]:
        """Per published column used (ranked rate, normalised value, criterion): the interval
        of the candidate counts it leaves (NaN bounds: the column refutes every candidate)."""
        found: dict[str, tuple[float, float]] = {}
        normalised_predictions: dict[str, list[np.ndarray]] = {}
        for code in self.indicators_of.get(count, []):
            predictions = ranked_predictions(self.models[code], candidates, row, code, count)
            if not predictions:
                continue
            column = f"{code}_ranked_per_1000"
            value = parse_number(row.get(column))
            if value is not None:
                tolerance = printed_tolerance(str(row[column]))
                hits = np.zeros(len(candidates), dtype=bool)
                for p in predictions:
                    hits |= candidates_matching(p, value, max(tolerance, 1e-7 * abs(value)))
                found[column] = mask_to_interval(candidates, hits) or (math.nan, math.nan)
            if code in self.normalise:
                residual = self.normalise[code][2]
                if residual < MAP_RESIDUAL:
                    normalised_predictions[code] = [
                        apply_map(self.normalise[code], p) for p in predictions
                    ]
                    column = f"{code}_normalised"
                    value = parse_number(row.get(column))
                    if value is not None:
                        tolerance = max(printed_tolerance(str(row[column])), residual * 2 + 1e-9)
                        hits = np.zeros(len(candidates), dtype=bool)
                        for p in normalised_predictions[code]:
                            hits |= candidates_matching(p, value, tolerance)
                        found[column] = mask_to_interval(candidates, hits) or (math.nan, math.nan)
        for criterion, (members, coefficients, residual) in self.criteria.items():
            if residual > MAP_RESIDUAL or not any(m in normalised_predictions for m in members):
                continue
            value = parse_number(row.get(criterion))
            if value is None:
                continue
            # the criterion's other indicators must be published for this row
            total: list[np.ndarray] = [np.zeros(len(candidates))]
            complete = True
            for member, coefficient in zip(members, coefficients):
                if member in normalised_predictions:
                    total = [
                        t + coefficient * p for t in total for p in normalised_predictions[member]
                    ]
                else:
                    known = parse_number(row.get(f"{member}_normalised"))
                    if known is None:
                        complete = False
                        break
                    total = [t + coefficient * known for t in total]
            if not complete:
                continue
            tolerance = max(printed_tolerance(str(row[criterion])), residual * 2 + 1e-9)
            hits = np.zeros(len(candidates), dtype=bool)
            for t in total:
                hits |= candidates_matching(t, value, tolerance)
            found[criterion] = mask_to_interval(candidates, hits) or (math.nan, math.nan)
        return found


# --------------------------------------------------------------------------------------------
# Attack 3: differencing published totals against the published cells
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedTotal:
    """A published total of a person count over a set of communes, known within ``[lo, hi]``."""

    name: str
    count: str
    communes: tuple[str, ...]
    lo: float
    hi: float


def published_totals(published: PublishedEdition) -> list[PublishedTotal]:
    """The totals an attacker can read or compute: national key figures (over every commune of
    the build), each territory's key figures and « Territoire » rate (over the communes of its
    export) and the « France » rate (over the communes the national table ranks)."""
    totals: list[PublishedTotal] = []
    every = tuple(published.communes.get("code_commune", pd.Series(dtype=str)))
    national = published.variables.get("national", {}) or {}
    for count in PERSON_COUNTS:
        value = parse_number(national.get(count))
        if value is not None:
            totals.append(
                PublishedTotal(f"national.{count}", count, every, value - 0.5, value + 0.5)
            )
    ranked = published.communes
    if "eligible" in ranked.columns:
        ranked = ranked[ranked["eligible"].astype(str).isin(["True", "oui", "true"])]
    ranked_population = _numeric(ranked, "population").sum()
    for slug, variables in published.territory_variables.items():
        export = next((t for n, t in published.exports.items() if f"/{slug}/" in n), pd.DataFrame())
        if export.empty:
            continue
        members = tuple(export["code_commune"])
        population = _numeric(export, "population").sum()
        key = variables.get("key", {}) or {}
        for count in PERSON_COUNTS:
            value = parse_number(key.get(count))
            if value is not None:
                totals.append(
                    PublishedTotal(f"{slug}.key.{count}", count, members, value - 0.5, value + 0.5)
                )
        totals.extend(contract_totals(published, slug))
        rates = published.territory_rates.get(slug)
        if rates is None or rates.empty:
            continue
        titles = rates.iloc[:, 0].tolist()
        for count in PERSON_COUNTS:
            row_index = _rate_row(titles, count, published)
            if row_index is None:
                continue
            for column, group, pop in (
                ("Territoire", members, population),
                ("France", tuple(ranked["code_commune"]), ranked_population),
            ):
                if column not in rates.columns:
                    continue
                total = rate_total(
                    f"{slug}.rates.{column}.{count}",
                    count,
                    group,
                    str(rates.iloc[row_index][column]),
                    pop,
                )
                if total is not None:
                    totals.append(total)
    return totals


def rate_total(
    name: str, count: str, communes: tuple[str, ...], text: str, population: float | None
) -> PublishedTotal | None:
    """The total a printed rate per 1 000 gives over ``communes`` of ``population`` inhabitants,
    within the rate's printing precision (None when the text is not a number)."""
    rate = parse_number(text)
    if rate is None or not population:
        return None
    half = printed_tolerance(text.replace(",", ".").replace("\u202f", "").replace(" ", ""))
    return PublishedTotal(
        name,
        count,
        communes,
        (rate - half) * population / 1000.0,
        (rate + half) * population / 1000.0,
    )


def contract_totals(published: PublishedEdition, slug: str) -> list[PublishedTotal]:
    """The totals the QPV export by EPCI (``*-qpv-contrats.csv``) gives: each rate per 1 000 ×
    the published population of the EPCI's communes holding a QPV, over those communes (blank
    EPCI code: the whole territory's)."""
    export = next(
        (t for n, t in published.exports.items() if f"/{slug}/" in n and n.endswith("-qpv-contrats.csv")),
        pd.DataFrame(),
    )  # fmt: skip
    if export.empty:
        return []
    groups = qpv_groups(published, slug)
    totals = []
    for _, row in export.iterrows():
        members = groups.get(str(row.get("code_epci", "")).strip())
        population = parse_number(row.get("population_with_qpv"))
        if not members or not population:
            continue
        for count in PERSON_COUNTS:
            total = rate_total(
                f"{slug}.qpv-contrats.{row.get('code_epci') or 'ensemble'}.{count}",
                count,
                members,
                str(row.get(f"{count}_per_1000", "")).strip(),
                population,
            )
            if total is not None:
                totals.append(total)
    return totals


def _rate_row(titles: Sequence[str], count: str, published: PublishedEdition) -> int | None:
    """Row of the territorial rates table for a count (by its title words)."""
    words = {
        "ha_participants": "participants aux campagnes",
        "jva_matches": "mises en relation",
        "ha_donations": "dons",
    }
    needle = words.get(count)
    for i, title in enumerate(titles):
        text = str(title).lower()
        if (
            needle
            and text.startswith(needle.split()[0])
            and needle in text
            and "par campagne" not in text
        ):
            return i
    return None


def margin_attack(
    total: PublishedTotal,
    knowledge: Mapping[tuple[str, str], CellKnowledge],
) -> dict[str, tuple[float, float]]:
    """Bounds on each not-exactly-known cell of a total: ``[S_lo − Σ others' hi, S_hi − Σ others' lo]``."""
    cells = [knowledge.get((code, total.count), CellKnowledge()) for code in total.communes]
    lo = np.array([c.lo for c in cells], dtype=float)
    hi = np.array([c.hi for c in cells], dtype=float)
    unknown = [i for i in range(len(cells)) if lo[i] != hi[i]]
    if not unknown:
        return {}
    sum_lo, sum_hi = lo.sum(), hi.sum()
    out = {}
    for i in unknown:
        others_hi = sum_hi - hi[i] if math.isfinite(hi[i]) else (hi[np.arange(len(hi)) != i].sum())
        others_lo = sum_lo - lo[i]
        out[total.communes[i]] = (total.lo - others_hi, total.hi - others_lo)
    return out


# --------------------------------------------------------------------------------------------
# Attack 4: differencing two editions
# --------------------------------------------------------------------------------------------


def edition_links(first: PublishedEdition, second: PublishedEdition) -> list[tuple[str, str]]:
    """Relations between the two editions' published counts of a commune, from their
    definitions: ``"monotone"`` (the same stock at two dates: non-decreasing) or ``"equal"``
    (the same quantity). Flows of different years, or a stock and a flow, are unrelated."""
    links = []
    for count in PERSON_COUNTS:
        a = first.definitions.get("jva_matches", "flow") if count == "jva_matches" else "flow"
        b = second.definitions.get("jva_matches", "flow") if count == "jva_matches" else "flow"
        if a == b == "stock":
            links.append((count, "monotone"))
        elif first.edition == second.edition:
            links.append((count, "equal"))
    return links


def edition_attack(
    first: PublishedEdition,
    second: PublishedEdition,
    knowledge: Mapping[str, dict[tuple[str, str], CellKnowledge]],
) -> dict[str, dict[tuple[str, str], tuple[float, float]]]:
    """Bounds a cell of one edition gets from the linked cell of the other (see
    :func:`edition_links`): a stock is at least the earlier stock and at most the later one."""
    out: dict[str, dict[tuple[str, str], tuple[float, float]]] = {
        first.edition: {},
        second.edition: {},
    }
    early, late = sorted((first, second), key=lambda p: p.edition)
    for count, relation in edition_links(first, second):
        codes = set(early.communes.get("code_commune", [])) & set(
            late.communes.get("code_commune", [])
        )
        for code in codes:
            k_early = knowledge[early.edition].get((code, count))
            k_late = knowledge[late.edition].get((code, count))
            if k_early is None or k_late is None:
                continue
            if relation == "monotone":
                out[early.edition][(code, count)] = (-math.inf, k_late.hi)
                out[late.edition][(code, count)] = (k_early.lo, math.inf)
            else:
                out[early.edition][(code, count)] = (k_late.lo, k_late.hi)
                out[late.edition][(code, count)] = (k_early.lo, k_early.hi)
    return out


# --------------------------------------------------------------------------------------------
# The campaign
# --------------------------------------------------------------------------------------------


@dataclass
class AttackReport:
    """Outcome of the attacks on one edition: per attack, the suppressed small cells it tried
    and those it recovered (module docstring), with examples."""

    edition: str
    threshold: int
    min_ambiguity: int
    suppressed: int
    small: int
    attempted: dict[str, int]
    recovered: dict[str, int]
    exact: dict[str, int]
    examples: dict[str, list[str]]
    cells_recovered: int = 0
    #: small counts among the labelled cells (« < 11 »), the blank cells of unranked communes aside
    small_labelled: int = 0

    @property
    def total_recovered(self) -> int:
        """Distinct suppressed small counts recovered by at least one attack."""
        return self.cells_recovered

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "edition": self.edition,
                    "attack": a,
                    "suppressed": self.suppressed,
                    "small": self.small,
                    "attempted": self.attempted.get(a, 0),
                    "recovered": self.recovered.get(a, 0),
                    "exact": self.exact.get(a, 0),
                }
                for a in ATTACKS
            ]
        )


#: The baromètre's criteria holding a person count, for a published edition whose hierarchy
#: cannot be read (:attr:`PublishedEdition.criteria` empty).
KNOWN_CRITERIA: dict[str, list[str]] = {
    "dynamisme": ["ha_campaigns", "ha_participants", "ha_participants_per_campaign"],
    "engagement": ["jva_matches"],
    "generosite": ["ha_donations"],
}


def _reveals_person_count(code: str) -> bool:
    return code in PERSON_COUNTS or any(code in d for d in DERIVED_INDICATORS.values())


def _criteria_of(published: PublishedEdition) -> dict[str, list[str]]:
    """Criterion → its indicators, as the annex and the published column names say: the
    criteria with an indicator that reveals a person count (the others hide none)."""
    known = {
        c: members
        for c, members in (published.criteria or KNOWN_CRITERIA).items()
        if any(_reveals_person_count(m) for m in members)
    }
    return {
        c: [m for m in members if f"{m}_normalised" in published.communes.columns]
        for c, members in known.items()
        if c in published.communes.columns
    }


def attack_edition(
    published: PublishedEdition,
    truth: pd.DataFrame,
    threshold: int = DEFAULT_THRESHOLD,
    knowledge: dict[tuple[str, str], CellKnowledge] | None = None,
    log: dict[tuple[str, str], dict[str, tuple[float, float]]] | None = None,
) -> dict[tuple[str, str], CellKnowledge]:
    """Run products, model inversion and margins on one edition; return the attacker's
    knowledge of every person-count cell of the published tables (``log`` collects, per cell,
    the interval each attack alone gave)."""
    knowledge = {} if knowledge is None else knowledge
    log = {} if log is None else log
    candidates = np.arange(1, MAX_CANDIDATE + 1, dtype=float)
    hidden = suppressed_cells(published)
    # what is published as a number is known exactly; a label in a count column says 1 … T−1
    # (the public range); a blank (a commune without published counts) says nothing
    for table in published.sources().values():
        for column in PERSON_COUNTS:
            if column not in table.columns:
                continue
            for code, text in zip(table["code_commune"], table[column]):
                cell = knowledge.setdefault((code, column), CellKnowledge())
                value = parse_number(text)
                if value is not None:
                    cell.lo = cell.hi = value
    for code, column in hidden:
        cell = knowledge[(code, column)]
        if cell.lo != cell.hi:
            cell.lo, cell.hi = max(cell.lo, 1), min(cell.hi, threshold - 1)

    def record(key: tuple[str, str], attack: str, interval: tuple[float, float] | None) -> None:
        if interval is None:
            return
        log.setdefault(key, {})[attack] = interval
        if any(math.isnan(v) for v in interval):
            return  # the published value refutes every candidate: nothing learnt
        cell = knowledge[key]
        if interval[0] > cell.hi or interval[1] < cell.lo:
            # evidence beats the label: a count found ≥ T was a secondary suppression
            cell.lo, cell.hi = math.ceil(interval[0] - 1e-9), math.floor(interval[1] + 1e-9)
            cell.by.add(attack)
        else:
            cell.narrow(interval[0], interval[1], attack)

    inverters = {
        name: ModelInverter.build(table, published.count_model, _criteria_of(published))
        for name, table in published.sources().items()
        if any(c.endswith(("_ranked_per_1000", "_normalised")) for c in table.columns)
    }
    sources = published.sources()
    for (code, column), files in hidden.items():
        for name in sorted(files):
            table = sources[name]
            rows = table[table["code_commune"] == code]
            if rows.empty:
                continue
            row = rows.iloc[0].to_dict()
            record((code, column), f"products:{name}", product_attack(row, column, candidates))
            record(
                (code, column),
                f"products:{name}:distinguishing",
                distinguishing_attack(row, column, candidates),
            )
            record(
                (code, column),
                f"products:{name}:eligibility",
                eligibility_attack(row, column, published.information_rule),
            )
            if name in inverters:
                for used, interval in inverters[name].attack_row(row, column, candidates).items():
                    record((code, column), f"model_inversion:{name}:{used}", interval)
    # public range again for the cells no attack touched
    for code, column in hidden:
        cell = knowledge[(code, column)]
        if not cell.by:
            cell.lo, cell.hi = max(cell.lo, 1), min(cell.hi, threshold - 1)
    blank = blank_cells(published)
    for _ in range(2):  # twice: what one total reveals can open another
        for total in published_totals(published):
            for code, interval in margin_attack(total, knowledge).items():
                key = (code, total.count)
                if key in blank:
                    knowledge.setdefault(key, CellKnowledge())
                if key in hidden or key in blank:
                    log.setdefault(key, {})[f"margins:{total.name}"] = interval
                    knowledge[key].narrow(*interval, f"margins:{total.name}")
        # logical links: a donation is one kind of participation (donations ≤ participants)
        for (code, column), cell in list(knowledge.items()):
            if column != "ha_participants" or not math.isfinite(cell.hi):
                continue
            key = (code, "ha_donations")
            if (key in hidden or key in blank) and key in knowledge:
                log.setdefault(key, {}).setdefault("margins:donations≤participants", (0.0, cell.hi))
                knowledge[key].narrow(0.0, cell.hi, "margins:donations≤participants")
    return knowledge


def score_knowledge(
    published: PublishedEdition,
    truth: pd.DataFrame,
    log: Mapping[tuple[str, str], Mapping[str, tuple[float, float]]],
    knowledge: Mapping[tuple[str, str], CellKnowledge],
    threshold: int = DEFAULT_THRESHOLD,
    min_ambiguity: int | None = None,
) -> AttackReport:
    """Score the attacks of one edition against the confidential truth."""
    need = threshold - 1 if min_ambiguity is None else min_ambiguity
    hidden = suppressed_cells(published)
    attempted = dict.fromkeys(ATTACKS, 0)
    recovered = dict.fromkeys(ATTACKS, 0)
    exact = dict.fromkeys(ATTACKS, 0)
    examples: dict[str, list[str]] = {a: [] for a in ATTACKS}
    small = small_labelled = 0
    recovered_cells: set[tuple[str, str]] = set()
    # the labelled cells and the blank ones (counts of communes the tables do not rank)
    for key in sorted(set(hidden) | blank_cells(published)):
        code, column = key
        if code not in truth.index or column not in truth.columns:
            continue
        value = float(truth.at[code, column])
        if not 1 <= value < threshold:
            continue
        small += 1
        small_labelled += key in hidden
        by_family: dict[str, list[tuple[float, float]]] = {}
        for attack, interval in log.get(key, {}).items():
            by_family.setdefault(attack.split(":", 1)[0], []).append(interval)
        labelled = key in hidden
        for family, intervals in by_family.items():
            attempted[family] += 1
            if any(math.isnan(i[0]) for i in intervals):
                continue  # refuted
            # the family's intervals met as the attacker meets them: one that contradicts
            # what the others say is a wrong model of the attacker's, and is dropped
            cell = CellKnowledge(1.0, threshold - 1.0) if labelled else CellKnowledge()
            for interval in intervals:
                cell.narrow(*interval, family)
            lo, hi = cell.lo, cell.hi
            if is_recovered(value, lo, hi, threshold, need):
                recovered[family] += 1
                recovered_cells.add(key)
                if feasible_size(lo, hi, threshold) == 1:
                    exact[family] += 1
                if len(examples[family]) < 5:
                    examples[family].append(
                        f"{code} {column}: true {value:g}, attacker [{lo:g}, {hi:g}]"
                    )
        known = knowledge.get(key)
        if known is not None and is_recovered(value, known.lo, known.hi, threshold, need):
            recovered_cells.add(key)  # every attack together
    return AttackReport(
        published.edition,
        threshold,
        need,
        len(hidden),
        small,
        attempted,
        recovered,
        exact,
        examples,
        len(recovered_cells),
        small_labelled,
    )


def run_attacks(
    build_dirs: Sequence[Path | str],
    threshold: int = DEFAULT_THRESHOLD,
    min_ambiguity: int | None = None,
) -> list[AttackReport]:
    """Every attack on one or two build folders (two: the editions are also differenced)."""
    published = [load_published(b) for b in build_dirs]
    truths = [ground_truth(b) for b in build_dirs]
    knowledge: dict[str, dict[tuple[str, str], CellKnowledge]] = {}
    logs: dict[str, dict[tuple[str, str], dict[str, tuple[float, float]]]] = {}
    for pub, truth in zip(published, truths):
        logs[pub.edition] = {}
        knowledge[pub.edition] = attack_edition(pub, truth, threshold, log=logs[pub.edition])
    if len(published) == 2:
        first, second = published
        for edition, bounds in edition_attack(first, second, knowledge).items():
            hidden = suppressed_cells(first if first.edition == edition else second)
            for key, interval in bounds.items():
                if key in hidden:
                    logs[edition].setdefault(key, {})["editions"] = interval
                    knowledge[edition][key].narrow(*interval, "editions")
    return [
        score_knowledge(
            pub, truth, logs[pub.edition], knowledge[pub.edition], threshold, min_ambiguity
        )
        for pub, truth in zip(published, truths)
    ]


def attack_table(reports: Sequence[AttackReport]) -> pd.DataFrame:
    """One row per edition and attack: suppressed small cells attempted, recovered, exact."""
    return pd.concat([r.table() for r in reports], ignore_index=True) if reports else pd.DataFrame()


def deliberately_unprotected(
    table: pd.DataFrame, threshold: int = DEFAULT_THRESHOLD
) -> pd.DataFrame:
    """A per-commune table published the naive way: only the person counts themselves are
    labelled, every derived column is left as computed (what the attacks must break)."""
    out = table.astype(object).copy()
    for column in PERSON_COUNTS:
        if column in out.columns:
            values = pd.to_numeric(table[column], errors="coerce")
            out.loc[(values > 0) & (values < threshold), column] = f"< {threshold}"
    return out


# --------------------------------------------------------------------------------------------
# The annex: rules and results, computed at every build
# --------------------------------------------------------------------------------------------

ATTACK_TITLES: dict[str, str] = {
    "products": "Produits et rapports de colonnes publiées (taux × population, participants par campagne × campagnes)",
    "model_inversion": "Inversion du modèle de comptage publié (taux classé, valeur normalisée, score de critère)",
    "margins": "Différence entre totaux publiés (national, territoire, taux du territoire et de la France) et cellules publiées",
    "editions": "Différence entre deux éditions (comptages liés par leurs définitions)",
}


def disclosure_rules_markdown(report: AttackReport, editions: Sequence[str], fr_number: Any) -> str:
    """The annex section « Secret statistique »: the rules applied and what the attacks replayed
    on this build recovered (French, numbers formatted by ``fr_number``)."""
    threshold = report.threshold
    names = ", ".join(f"« {v} »" for v in PERSON_COUNTS.values())
    lines = [
        "## Secret statistique",
        "",
        (
            f"Les comptages de personnes ou de leurs actes ({names}) sont protégés ; les comptages "
            "d'associations et de campagnes ne le sont pas. Règles appliquées à toutes les publications "
            "et à tous les exports :"
        ),
        "",
        f"- un comptage de personnes compris entre 1 et {threshold - 1} est publié « < {threshold} » ;",
        (
            "- les valeurs qui le redonneraient par un calcul sont masquées avec lui : taux brut, "
            "rapport (participants par campagne) et son taux, taux lissé et valeur normalisée ;"
        ),
        (
            f"- le classement ne connaît d'un tel comptage que ce que dit « < {threshold} » : le modèle "
            f"de comptage le traite comme une valeur comprise entre 1 et {threshold - 1}, remplacée par "
            "son espérance sous la loi prédictive de la commune, de sorte que les scores, les critères, "
            "les rangs et les probabilités publiés ne permettent pas de le retrouver ;"
        ),
        (
            f"- pour l'éligibilité, un tel comptage {INFORMATION_RULE} (les missions qui sont derrière "
            "ne sont pas comptées une à une) ;"
        ),
        (
            "- un indicateur dont le comptage est masqué n'est jamais celui qui distingue une commune "
            "du palmarès (sa valeur serait citée) ;"
        ),
        (
            "- un total (ou un taux) de territoire, d'intercommunalité, de contrat de ville, de groupe de "
            "communes (avec ou sans quartier prioritaire) ou de la France n'est publié que si, retranché "
            f"des cellules publiées, il laisse chaque comptage masqué libre entre 1 et {threshold - 1} et ne "
            f"borne pas sous {threshold - 1} le comptage, non publié, d'une commune non classée ; sinon le "
            "texte dit « au moins » ce que les cellules publiées disent déjà et le tableau « secret "
            "statistique » ; une table dont un seul comptage serait masqué en masque un second (secret secondaire)."
        ),
        "",
        (
            f"À chaque construction, les attaques connues sont rejouées sur les fichiers publiés "
            f"({'éditions' if len(editions) > 1 else 'édition'} {' et '.join(editions)}) et jugées sur les comptages exacts, qui ne sont pas "
            f"publiés. Une attaque « retrouve » un comptage masqué lorsqu'elle en réduit les valeurs "
            f"possibles à moins que les {threshold - 1} valeurs de 1 à {threshold - 1}, la vraie valeur comprise."
        ),
        "",
        "| Attaque | Comptages masqués attaqués | Comptages retrouvés |",
        "| :-- | --: | --: |",
    ]
    for attack in ATTACKS:
        lines.append(
            f"| {ATTACK_TITLES[attack]} | {fr_number(report.attempted.get(attack, 0))} | "
            f"{fr_number(report.recovered.get(attack, 0))} |"
        )
    lines.append("")
    total = report.total_recovered
    verdict = (
        "aucune attaque n'en retrouve aucun."
        if total == 0
        else f"les attaques en retrouvent {fr_number(total)} : la publication ne doit pas être diffusée en l'état."
    )
    lines.append(
        f"Sur les {fr_number(report.small)} comptages de moins de {threshold} masqués ou non publiés (communes non classées) de l'édition {report.edition}, {verdict}"
    )
    lines.append("")
    return "\n".join(lines)
