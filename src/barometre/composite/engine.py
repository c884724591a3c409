"""Run a composite index build from data + spec, keeping every intermediate stage.

The engine knows nothing about communes: it sees a unit x column table, the spec and nothing
else, so the same code builds the baromètre and the outside reference cases (e.g. COINr's ASEM).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from barometre.composite import steps
from barometre.composite.arguments import AggregateArguments, StepArguments
from barometre.composite.spec import IndexSpec, SpecError


class DataError(ValueError):
    """Input data that does not fit the spec; the message names the file, column and value."""


STAGE_FILES = (
    "denominated",
    "imputed",
    "screened",
    "treated",
    "treatment_details",
    "normalised",
    "aggregated",
    "results",
)


@dataclass
class IndexBuild:
    """Every stage of one build, units as rows indexed by the unit code."""

    spec: IndexSpec
    raw: pd.DataFrame
    units: pd.DataFrame
    denominated: pd.DataFrame
    imputed: pd.DataFrame
    screening: pd.DataFrame
    screened: pd.DataFrame
    treated: pd.DataFrame
    treatment_details: pd.DataFrame
    normalised: pd.DataFrame
    aggregated: pd.DataFrame
    results: pd.DataFrame
    group_ranks: dict[str, pd.DataFrame] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)

    @property
    def scores(self) -> pd.DataFrame:
        """Aggregate scores (one column per aggregate, root first)."""
        return self.aggregated[_aggregates_top_down(self.spec)]


def _aggregates_top_down(spec: IndexSpec) -> list[str]:
    """Aggregates from the root down, in declaration order within a level."""
    level = spec.levels()
    position = {a.code: n for n, a in enumerate(spec.aggregates)}
    return sorted((a.code for a in spec.aggregates), key=lambda c: (-level[c], position[c]))


def load_data(spec: IndexSpec, data_dir: str | Path) -> pd.DataFrame:
    """Read the spec's data file from ``data_dir``: codes and groups as text, the rest numeric.

    Empty cells are missing values. Errors name the file, and the column and value at fault.
    """
    if spec.data is None:
        raise SpecError("the spec has no 'data' section: give the data frame directly")
    path = Path(data_dir) / spec.data.file
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    text_columns = [spec.units.code, *spec.units.groups]
    if spec.units.name:
        text_columns.append(spec.units.name)
    try:
        frame = pd.read_csv(
            path,
            sep=spec.data.sep,
            dtype={c: str for c in text_columns},
            keep_default_na=False,
            na_values=[""],
        )
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: cannot be parsed as CSV: {err}") from None
    return _check_data(frame, spec, str(path))


def _check_data(frame: pd.DataFrame, spec: IndexSpec, source: str) -> pd.DataFrame:
    needed = [spec.units.code, *spec.units.groups, *spec.indicator_codes]
    needed += [i.denominator for i in spec.indicators if i.denominator]
    missing = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    if missing:
        raise DataError(f"{source}: missing columns {missing}")
    codes = frame[spec.units.code]
    if codes.isna().any():
        row = int(np.flatnonzero(codes.isna().to_numpy())[0]) + 2
        raise DataError(f"{source}: row {row}, column {spec.units.code!r}: empty unit code")
    dup = codes[codes.duplicated()]
    if not dup.empty:
        row = int(dup.index[0]) + 2
        raise DataError(
            f"{source}: row {row}, column {spec.units.code!r}: duplicated unit code {dup.iloc[0]!r}"
        )
    numeric = list(
        dict.fromkeys(
            spec.indicator_codes + [i.denominator for i in spec.indicators if i.denominator]
        )
    )
    for column in numeric:
        if frame[column].dtype.kind in "biuf":
            continue
        converted = pd.to_numeric(frame[column], errors="coerce")
        bad = converted.isna() & frame[column].notna()
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"{source}: row {pos + 2}, column {column!r}: non-numeric value {frame[column].iloc[pos]!r}"
            )
        frame[column] = converted
    return frame


def build_index(spec: IndexSpec, data: pd.DataFrame, weight_set: str | None = None) -> IndexBuild:
    """Run every step of the spec on ``data`` (one row per unit) and return all stages."""
    data = _check_data(data.copy(), spec, "data")
    code = spec.units.code
    frame = data.set_index(code, drop=False)
    frame.index.name = code
    ind_codes = spec.indicator_codes
    unit_columns = [code] + ([spec.units.name] if spec.units.name else []) + list(spec.units.groups)
    if spec.data is not None:
        unit_columns += [c for c in spec.data.keep_columns if c in frame.columns]
    units = frame[list(dict.fromkeys(unit_columns))].drop(columns=[code])
    raw = frame[ind_codes].astype(float)
    raw.index.name = code
    st = spec.steps
    args = StepArguments.from_spec(spec)
    denominated = args.denominate.apply(raw, frame)

    groups = frame[st.impute.group] if st.impute.group else None
    imputed = steps.impute(denominated, st.impute.method, groups)

    availability = {"raw": raw, "denominated": denominated, "imputed": imputed}[st.screen.on]
    if st.screen.enabled:
        screened, screening = steps.screen(
            imputed,
            availability,
            st.screen.min_data_share,
            st.screen.force_include,
            st.screen.force_exclude,
        )
    else:
        screened = imputed.copy()
        screening = pd.DataFrame(
            {"data_share": steps.data_share(availability), "kept": True, "reason": ""}
        )

    treated, details, _ = args.treat.apply(screened)
    normalised = args.normalise.apply(treated)

    weights = spec.weight_map(weight_set)
    aggregated = args.aggregate.apply(normalised, weights)
    results, group_ranks = rank_results(spec, aggregated, units.loc[aggregated.index])
    return IndexBuild(
        spec=spec,
        raw=raw,
        units=units,
        denominated=denominated,
        imputed=imputed,
        screening=screening,
        screened=screened,
        treated=treated,
        treatment_details=details,
        normalised=normalised,
        aggregated=aggregated,
        results=results,
        group_ranks=group_ranks,
        weights=weights,
    )


def aggregate_spec(
    spec: IndexSpec, normalised: pd.DataFrame, weights: dict[str, float]
) -> pd.DataFrame:
    """Aggregate normalised indicators through the spec's hierarchy with the given weights."""
    return AggregateArguments.from_spec(spec).apply(normalised, weights)


def rank_results(
    spec: IndexSpec, aggregated: pd.DataFrame, units: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Results table (unit columns, every aggregate score and rank) and ranks within groups."""
    top_down = _aggregates_top_down(spec)
    scores = aggregated[top_down]
    ranks = steps.rank_desc(scores)
    ranks.columns = [f"rank_{c}" for c in top_down]
    results = pd.concat([units, scores, ranks], axis=1)
    results = _sorted_by(results, [f"rank_{spec.root}"])
    group_ranks: dict[str, pd.DataFrame] = {}
    for group in spec.steps.rank.groups:
        within = steps.rank_within(scores, units[group])
        table = pd.concat([units[[group]], within], axis=1)
        group_ranks[group] = _sorted_by(table, [group, spec.root])
    return results, group_ranks


def _sorted_by(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Sort by ``columns`` then by unit code, missing values last: a deterministic order."""
    key = "__unit_code__"
    keyed = table.assign(**{key: table.index.astype(str)})
    return keyed.sort_values([*columns, key], na_position="last", kind="mergesort").drop(
        columns=key
    )


def write_stages(build: IndexBuild, out_dir: str | Path) -> list[Path]:
    """Write one CSV per stage into ``out_dir``; units as rows keyed by the unit code column."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    tables = {
        "denominated": build.denominated,
        "imputed": build.imputed,
        "screened": build.screened,
        "treated": build.treated,
        "normalised": build.normalised,
        "aggregated": build.aggregated,
        "results": build.results,
        "screening": build.screening,
    }
    for name, table in tables.items():
        path = out / f"{name}.csv"
        table.to_csv(path, index=True, lineterminator="\n")
        written.append(path)
    path = out / "treatment_details.csv"
    build.treatment_details.to_csv(path, index=False, lineterminator="\n")
    written.append(path)
    for group, table in build.group_ranks.items():
        path = out / f"group_ranks_{group}.csv"
        table.to_csv(path, index=True, lineterminator="\n")
        written.append(path)
    return written
