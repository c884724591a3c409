"""What the attacker has: the published files of one build folder, read as printed (strings).

Never ``work/`` (the confidential working area), but for :func:`ground_truth`, the exact counts
that score the attacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from barometre import catalogue
from barometre.disclosure import PERSON_COUNTS
from barometre.disclosure_attacks.feasible import parse_number

# the territory's rates table, written by barometre.territory.writer in its tables folder
RATES_TABLE = "rates.md"

#: How the annex states that a suppressed count is one source of information for eligibility.
INFORMATION_RULE = "compte pour une seule source d'information"


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
        out = {
            catalogue.relative("tables.communes"): self.communes,
            catalogue.relative("tables.palmares"): self.palmares,
        }
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
    variables = _read_yaml(catalogue.path(build, "report.variables"))
    manifest = _read_yaml(build / "manifest.json") if (build / "manifest.json").exists() else {}
    config = manifest.get("config", {}) if isinstance(manifest, dict) else {}
    definitions = {k: str(v) for k, v in (config.get("definitions") or {}).items()}
    # the eligibility rule the annex states (« au moins 5 sources d'information distinctes … »)
    information_rule = dict((config.get("eligibility") or {}).get("min_information") or {})
    # the annex says a suppressed count is one source (disclosure_rules_markdown always writes
    # it, in the same step as the attacks: reading last build's file would make the attack
    # table depend on whether a previous build left one); a hand-made folder may state it too
    annex = catalogue.path(build, "report.disclosure_rules")
    if (information_rule and manifest) or (
        annex.exists() and INFORMATION_RULE in annex.read_text(encoding="utf-8")
    ):
        information_rule["suppressed_counts_as_one"] = True
    criteria = published_criteria(config.get("index_spec"))
    exports: dict[str, pd.DataFrame] = {}
    territory_variables: dict[str, dict[str, Any]] = {}
    territory_rates: dict[str, pd.DataFrame] = {}
    territories = catalogue.path(build, "territory", slug="*").parent
    for folder in sorted(territories.glob("*")) if territories.exists() else []:
        slug = folder.name
        for csv in sorted(catalogue.path(build, "territory.exports", slug=slug).glob("*.csv")):
            exports[str(csv.relative_to(build))] = _read_strings(csv)
        territory_variables[slug] = _read_yaml(
            catalogue.path(build, "territory.variables", slug=slug)
        )
        rates = catalogue.path(build, "territory.tables", slug=slug) / RATES_TABLE
        if rates.exists():
            territory_rates[slug] = read_markdown_table(rates)
    return PublishedEdition(
        build_dir=build,
        edition=str(variables.get("edition", build.name)),
        communes=_read_strings(catalogue.path(build, "tables.communes")),
        palmares=_read_strings(catalogue.path(build, "tables.palmares")),
        exports=exports,
        count_model=_read_strings(catalogue.path(build, "tables.count_model")),
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
    path = catalogue.path(build_dir, "work.commune_counts")
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
