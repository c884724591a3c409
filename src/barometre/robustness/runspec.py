"""Specs of single robustness runs (an indicator excluded, steps and weights replaced) and the
engine's ranks within classes: what the naive reference rebuild of a run uses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from barometre.composite import steps
from barometre.composite.engine import IndexBuild, build_index
from barometre.composite.spec import IndexSpec, NormaliseStep, TreatStep, spec_from_dict
from barometre.robustness.design import NO_EXCLUSION, RunDesign

if TYPE_CHECKING:
    from barometre.robustness.model import RobustnessModel

RUN_WEIGHT_SET = "__run__"


class RobustnessError(ValueError):
    """Assumptions that cannot be evaluated on this spec and data."""


def prune_spec(spec: IndexSpec, excluded: str | None) -> IndexSpec:
    """The spec without indicator ``excluded``, nor any aggregate left without children.

    Weight sets forget the removed codes. Raises :class:`RobustnessError` if nothing is left.
    """
    if excluded is None or excluded == NO_EXCLUSION:
        return spec
    raw = spec.model_dump()
    raw["indicators"] = [i for i in raw["indicators"] if i["code"] != excluded]
    if len(raw["indicators"]) == len(spec.indicators):
        raise RobustnessError(f"cannot exclude unknown indicator {excluded!r}")
    removed = {excluded}
    while True:
        parents = {i["parent"] for i in raw["indicators"]} | {
            a["parent"] for a in raw["aggregates"] if a["parent"] is not None
        }
        empty = [a for a in raw["aggregates"] if a["code"] not in parents]
        if not empty:
            break
        if any(a["parent"] is None for a in empty):
            raise RobustnessError(f"excluding {excluded!r} leaves the index without indicators")
        removed |= {a["code"] for a in empty}
        raw["aggregates"] = [a for a in raw["aggregates"] if a["code"] in parents]
    raw["weight_sets"] = {
        name: {k: v for k, v in values.items() if k not in removed}
        for name, values in raw["weight_sets"].items()
    }
    raw["steps"]["treat"]["per_indicator"] = {
        k: v for k, v in raw["steps"]["treat"]["per_indicator"].items() if k not in removed
    }
    return spec_from_dict(raw, source=f"spec without {excluded}")


def run_spec(
    spec: IndexSpec,
    *,
    treat: TreatStep,
    normalise: NormaliseStep,
    aggregation: str,
    excluded: str | None = None,
    weights: Mapping[str, float] | None = None,
    units: tuple[Sequence[str], Sequence[str]] | None = None,
) -> IndexSpec:
    """The spec of one run: steps replaced, one indicator excluded, weights as weight set
    ``__run__``, and (``units`` = kept, dropped) screening forced to the nominal set of units."""
    pruned = prune_spec(spec, excluded)
    raw = pruned.model_dump()
    raw["steps"]["treat"] = treat.model_dump()
    raw["steps"]["normalise"] = normalise.model_dump()
    raw["steps"]["aggregate"]["method"] = aggregation
    if weights is not None:
        codes = {i["code"] for i in raw["indicators"]} | {a["code"] for a in raw["aggregates"]}
        raw["weight_sets"][RUN_WEIGHT_SET] = {k: float(v) for k, v in weights.items() if k in codes}
        raw["weights"] = RUN_WEIGHT_SET
    if units is not None and raw["steps"]["screen"]["enabled"]:
        raw["steps"]["screen"]["force_include"] = list(units[0])
        raw["steps"]["screen"]["force_exclude"] = list(units[1])
    return spec_from_dict(raw, source="run spec")


def rank_in_classes(build: IndexBuild, class_column: str | None) -> pd.Series:
    """The engine's ranks of the root score, within ``class_column`` (None: overall)."""
    spec = build.spec
    scores = build.aggregated[[spec.root]]
    if class_column is None:
        ranks = steps.rank_desc(scores)
    elif class_column in build.group_ranks:
        ranks = build.group_ranks[class_column][[spec.root]]
    else:
        ranks = steps.rank_within(scores, build.units.loc[scores.index, class_column])
    return ranks[spec.root].reindex(scores.index)


def naive_ranks(
    model: RobustnessModel, design: RunDesign, runs: Sequence[int] | None = None
) -> np.ndarray:
    """Ranks (runs × units, the model's unit order, 0 = unranked) by rebuilding each run with
    :func:`build_index`: the reference the fast path is tested against, and the benchmark's
    baseline."""
    runs = list(range(len(design))) if runs is None else list(runs)
    out = np.zeros((len(runs), model.n_units), dtype=np.int64)
    for row, run in enumerate(runs):
        spec, label = model.run_spec_of(design, run)
        build = build_index(spec, model.tables[label], weight_set=RUN_WEIGHT_SET)
        ranks = rank_in_classes(build, model.class_column)
        out[row] = ranks.reindex(model.unit_codes).fillna(0).to_numpy(dtype=np.int64)
    return out


def describe(model: RobustnessModel) -> dict[str, Any]:
    """Size of the model: units, classes, factors, discrete options (for logs and reports)."""
    return {
        "units": model.n_units,
        "classes": dict(
            zip(model.class_labels, [b - a for a, b in model.class_slices], strict=True)
        ),
        "factors": [f.name for f in model.space.factors],
        "options": {k: list(v.labels) for k, v in model.space.discrete.items()},
        "laureates": int(model.laureates.size),
    }
