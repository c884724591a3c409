"""The index spec: validation errors that name the offending key, and the derived tree views.

Every invalid spec must raise :class:`SpecError` (never a bare pydantic error) with a message
that lets a reviewer find the key at fault; the derived views (levels, aggregation order, weight
map) are checked on a small three-level tree: indicators -> criteria -> index.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from barometre.composite.spec import IndexSpec, SpecError, load_spec, spec_from_dict


def base_spec() -> dict[str, Any]:
    """A valid three-level spec: i1, i2 -> c1; i3 -> c2; c1, c2 -> idx (root declared first)."""
    return {
        "name": "tiny",
        "units": {"code": "code", "groups": ["region"]},
        "data": {"file": "data.csv"},
        "indicators": [
            {"code": "i1", "parent": "c1", "weight": 1, "denominator": "pop"},
            {"code": "i2", "parent": "c1", "weight": 3, "direction": -1},
            {"code": "i3", "parent": "c2", "weight": 2},
        ],
        "aggregates": [
            {"code": "idx", "name": "Index"},
            {"code": "c1", "parent": "idx", "weight": 1},
            {"code": "c2", "parent": "idx", "weight": 2},
        ],
        "weight_sets": {"alt": {"i1": 5, "c2": 0.5}},
        "steps": {
            "impute": {"method": "group_mean", "group": "region"},
            "rank": {"groups": ["region"]},
        },
    }


def spec_error(raw: dict[str, Any]) -> str:
    with pytest.raises(SpecError) as info:
        spec_from_dict(raw)
    return str(info.value)


def test_base_spec_is_valid() -> None:
    spec = spec_from_dict(base_spec())
    assert isinstance(spec, IndexSpec)
    assert spec.root == "idx"
    assert spec.indicator_codes == ["i1", "i2", "i3"]
    assert spec.indicator("i2").direction == -1


# --- unknown keys at any depth ----------------------------------------------------------------
@pytest.mark.parametrize(
    "path, key",
    [
        ((), "colour"),
        (("units",), "label"),
        (("data",), "encoding"),
        (("indicators", 0), "polarity"),
        (("aggregates", 1), "wieght"),
        (("steps",), "smooth"),
        (("steps", "impute"), "k"),
        (("steps", "treat"), "winmin"),
        (("steps", "normalise"), "upper"),
        (("steps", "aggregate"), "power"),
        (("steps", "rank"), "by"),
    ],
)
def test_unknown_key_is_named(path: tuple[str | int, ...], key: str) -> None:
    raw = base_spec()
    node: Any = raw
    for part in path:
        node = node.setdefault(part, {}) if isinstance(part, str) else node[part]
    node[key] = 1
    message = spec_error(raw)
    where = ".".join(str(p) for p in (*path, key))
    assert f"{where}: unknown key" in message


def test_unknown_key_inside_per_indicator_treatment() -> None:
    raw = base_spec()
    raw["steps"]["treat"] = {"per_indicator": {"i1": {"method": "log", "base": 10}}}
    assert "steps.treat.per_indicator.i1.base: unknown key" in spec_error(raw)


def test_several_problems_are_all_reported() -> None:
    raw = base_spec()
    raw["colour"] = "red"
    raw["indicators"][2]["direction"] = 0
    message = spec_error(raw)
    assert "colour: unknown key" in message
    assert "indicators.2.direction" in message


# --- bad values -------------------------------------------------------------------------------
@pytest.mark.parametrize("direction", [2, 0, -2, "up"])
def test_bad_direction(direction: object) -> None:
    raw = base_spec()
    raw["indicators"][0]["direction"] = direction
    message = spec_error(raw)
    assert "indicators.0.direction" in message
    assert repr(direction) in message


def test_negative_indicator_weight() -> None:
    raw = base_spec()
    raw["indicators"][1]["weight"] = -1
    message = spec_error(raw)
    assert "indicators.1.weight" in message
    assert "greater than or equal to 0" in message


def test_negative_aggregate_weight() -> None:
    raw = base_spec()
    raw["aggregates"][2]["weight"] = -0.5
    assert "aggregates.2.weight" in spec_error(raw)


def test_negative_weight_in_weight_set() -> None:
    raw = base_spec()
    raw["weight_sets"]["alt"]["i3"] = -2
    message = spec_error(raw)
    assert "'alt'" in message and "negative" in message and "i3" in message


def test_indicator_parent_is_an_indicator() -> None:
    raw = base_spec()
    raw["indicators"][2]["parent"] = "i1"
    message = spec_error(raw)
    assert "indicator 'i3'" in message and "parent 'i1' is not an aggregate" in message


def test_indicator_parent_unknown() -> None:
    raw = base_spec()
    raw["indicators"][0]["parent"] = "nowhere"
    assert "parent 'nowhere' is not an aggregate" in spec_error(raw)


def test_aggregate_parent_is_an_indicator() -> None:
    raw = base_spec()
    raw["aggregates"][2]["parent"] = "i1"
    assert "aggregate 'c2': parent 'i1' is not an aggregate" in spec_error(raw)


def test_two_roots() -> None:
    raw = base_spec()
    raw["aggregates"][2]["parent"] = None
    message = spec_error(raw)
    assert "exactly one aggregate must have no parent" in message
    assert "'idx'" in message and "'c2'" in message


def test_no_root() -> None:
    raw = base_spec()
    raw["aggregates"][0]["parent"] = "c1"
    assert "exactly one aggregate must have no parent" in spec_error(raw)


def test_cycle() -> None:
    raw = base_spec()
    # c1 -> c3 -> c1 while idx stays the single root (i3 -> c2 -> idx).
    raw["aggregates"][1]["parent"] = "c3"
    raw["aggregates"].append({"code": "c3", "parent": "c1"})
    message = spec_error(raw)
    assert "cycle" in message and ("'c1'" in message or "'c3'" in message)


def test_duplicate_codes() -> None:
    raw = base_spec()
    raw["indicators"][1]["code"] = "i1"
    assert "codes used more than once: ['i1']" in spec_error(raw)


def test_aggregate_without_children() -> None:
    raw = base_spec()
    raw["aggregates"].append({"code": "c9", "parent": "idx"})
    assert "aggregates without children: ['c9']" in spec_error(raw)


@pytest.mark.parametrize("method", ["group_mean", "group_median"])
def test_impute_group_method_needs_group(method: str) -> None:
    raw = base_spec()
    raw["steps"]["impute"] = {"method": method}
    message = spec_error(raw)
    assert "steps.impute" in message and f"{method!r} needs a 'group' column" in message


def test_impute_group_must_be_declared() -> None:
    raw = base_spec()
    raw["steps"]["impute"] = {"method": "group_median", "group": "department"}
    assert "impute group 'department' is not a declared unit group" in spec_error(raw)


def test_unknown_impute_method() -> None:
    raw = base_spec()
    raw["steps"]["impute"] = {"method": "knn"}
    message = spec_error(raw)
    assert "steps.impute.method" in message and "'knn'" in message


def test_rank_group_must_be_declared() -> None:
    raw = base_spec()
    raw["steps"]["rank"] = {"groups": ["class"]}
    assert "rank groups ['class'] are not declared unit groups" in spec_error(raw)


def test_unknown_active_weight_set() -> None:
    raw = base_spec()
    raw["weights"] = "expert"
    message = spec_error(raw)
    assert "active weight set 'expert'" in message and "['alt']" in message


def test_weight_set_with_unknown_codes() -> None:
    raw = base_spec()
    raw["weight_sets"]["alt"]["i9"] = 1
    raw["weight_sets"]["alt"]["zz"] = 1
    message = spec_error(raw)
    assert "weight set 'alt' names unknown codes: ['i9', 'zz']" in message


def test_per_indicator_treatment_for_unknown_indicator() -> None:
    raw = base_spec()
    raw["steps"]["treat"] = {"per_indicator": {"i7": {"method": "log"}}}
    assert "unknown indicators: ['i7']" in spec_error(raw)


@pytest.mark.parametrize(
    "section, values, where",
    [
        ("normalise", {"method": "minmax", "low": 10, "high": 0}, "minmax needs low < high"),
        ("normalise", {"method": "distance_to_reference"}, "needs 'reference_unit'"),
        ("normalise", {"sd": 0}, "steps.normalise.sd"),
        ("aggregate", {"method": "generalised"}, "non-zero exponent 'p'"),
        ("aggregate", {"min_share": 1.5}, "min_share must lie in [0, 1]"),
        ("treat", {"quantiles": [0.9, 0.1]}, "steps.treat.quantiles"),
        ("treat", {"method": "trim"}, "steps.treat.method"),
        ("screen", {"min_data_share": 2}, "steps.screen.min_data_share"),
        ("denominate", {"scale": 0}, "steps.denominate.scale"),
    ],
)
def test_bad_step_parameters(section: str, values: dict[str, Any], where: str) -> None:
    raw = base_spec()
    raw["steps"][section] = values
    assert where in spec_error(raw)


def test_goalposts_must_be_ordered() -> None:
    raw = base_spec()
    raw["indicators"][0]["goalposts"] = [5, 1]
    message = spec_error(raw)
    assert "indicators.0.goalposts" in message and "low < high" in message


def test_missing_required_key() -> None:
    raw = base_spec()
    del raw["units"]
    assert "units: Field required" in spec_error(raw)


# --- derived views --------------------------------------------------------------------------
def test_levels_three_level_tree() -> None:
    spec = spec_from_dict(base_spec())
    assert spec.levels() == {"i1": 1, "i2": 1, "i3": 1, "c1": 2, "c2": 2, "idx": 3}


def test_aggregation_order_children_before_parents() -> None:
    spec = spec_from_dict(base_spec())
    # The root is declared first but must be computed last; criteria keep declaration order.
    assert spec.aggregation_order() == ["c1", "c2", "idx"]


def test_levels_and_order_of_an_uneven_deeper_tree() -> None:
    raw = base_spec()
    # idx <- p1 <- c1 <- (i1, i2); idx <- c2 <- i3; an aggregate's level is 1 + its highest child.
    raw["aggregates"] = [
        {"code": "idx"},
        {"code": "p1", "parent": "idx"},
        {"code": "c2", "parent": "idx"},
        {"code": "c1", "parent": "p1"},
    ]
    spec = spec_from_dict(raw)
    assert spec.levels() == {"i1": 1, "i2": 1, "i3": 1, "c1": 2, "c2": 2, "p1": 3, "idx": 4}
    assert spec.aggregation_order() == ["c2", "c1", "p1", "idx"]
    assert spec.children("idx") == ["p1", "c2"]
    assert spec.children("c1") == ["i1", "i2"]


def test_parent_map_and_children() -> None:
    spec = spec_from_dict(base_spec())
    assert spec.parent_map() == {
        "i1": "c1",
        "i2": "c1",
        "i3": "c2",
        "idx": None,
        "c1": "idx",
        "c2": "idx",
    }
    assert spec.children("idx") == ["c1", "c2"]
    assert spec.children("c2") == ["i3"]
    assert spec.name_of("idx") == "Index"
    assert spec.name_of("i1") == "i1"


def test_weight_map_default_and_named_set() -> None:
    spec = spec_from_dict(base_spec())
    own = {"i1": 1.0, "i2": 3.0, "i3": 2.0, "idx": 1.0, "c1": 1.0, "c2": 2.0}
    assert spec.weight_map() == own
    assert spec.weight_map("alt") == {**own, "i1": 5.0, "c2": 0.5}


def test_weight_map_uses_active_set() -> None:
    raw = base_spec()
    raw["weights"] = "alt"
    spec = spec_from_dict(raw)
    assert spec.weight_map()["i1"] == 5.0
    assert spec.weight_map()["i2"] == 3.0


def test_weight_map_unknown_set() -> None:
    spec = spec_from_dict(base_spec())
    with pytest.raises(SpecError, match="unknown weight set 'expert'"):
        spec.weight_map("expert")


def test_min_share_per_level() -> None:
    raw = base_spec()
    raw["steps"]["aggregate"] = {"min_share": {2: 0.5, 3: 0.75}}
    agg = spec_from_dict(raw).steps.aggregate
    assert (agg.min_share_at(2), agg.min_share_at(3), agg.min_share_at(4)) == (0.5, 0.75, 0.0)


# --- YAML files -----------------------------------------------------------------------------
def test_load_spec_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "spec.yml"
    path.write_text(yaml.safe_dump(base_spec()), encoding="utf-8")
    spec = load_spec(path)
    assert spec == spec_from_dict(base_spec())


def test_load_spec_error_names_file_and_key(tmp_path: Path) -> None:
    raw = copy.deepcopy(base_spec())
    raw["indicators"][0]["polarity"] = 1
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert str(path) in str(info.value)
    assert "indicators.0.polarity: unknown key" in str(info.value)


def test_load_spec_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="spec file not found"):
        load_spec(tmp_path / "absent.yml")


def test_load_spec_invalid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "broken.yml"
    path.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_spec(path)


def test_load_spec_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(SpecError, match="mapping at top level"):
        load_spec(path)
