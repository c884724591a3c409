"""The editions' ``definitions`` block: validated with messages naming the key, wired to the
indicator metadata's variants (wording, unit, exposure written once in config/indicators.yml)
and checked against the index spec (a per-campaign rate is not divided by the population)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from barometre.config import (
    PROJECT_ROOT,
    ConfigError,
    Definitions,
    load_edition,
    load_indicator_meta,
)


def write_edition(tmp_path: Path, edition: int, **changes) -> Path:
    raw = yaml.safe_load(
        (PROJECT_ROOT / "config" / "editions" / f"{edition}.yml").read_text("utf-8")
    )
    for key, value in changes.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    path = tmp_path / f"{edition}.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_editions_declare_their_definitions() -> None:
    old, new = load_edition(2024), load_edition(2025)
    assert old.definitions == Definitions(
        jva_matches="stock", participants_per_campaign="per_inhabitant"
    )
    assert new.definitions == Definitions(
        jva_matches="flow", participants_per_campaign="per_campaign"
    )
    assert old.definitions.jva_cumulative and not new.definitions.jva_cumulative


@pytest.mark.parametrize(
    ("definitions", "message"),
    [
        (None, "definitions: Field required"),
        ({"jva_matches": "stock"}, "definitions.participants_per_campaign: Field required"),
        (
            {"jva_matches": "cumulative", "participants_per_campaign": "per_campaign"},
            "definitions.jva_matches: Input should be 'stock' or 'flow'",
        ),
        (
            {"jva_matches": "flow", "participants_per_campaign": "per_capita"},
            "definitions.participants_per_campaign: Input should be 'per_inhabitant', 'per_campaign' or 'dropped'",
        ),
        (
            {"jva_matches": "flow", "participants_per_campaign": "per_campaign", "jva": "flow"},
            "definitions.jva: unknown key",
        ),
    ],
)
def test_definitions_are_validated(tmp_path: Path, definitions, message: str) -> None:
    path = write_edition(tmp_path, 2025, definitions=definitions)
    with pytest.raises(ConfigError) as err:
        load_edition(path)
    assert message in str(err.value)


def test_metadata_variants_follow_the_definitions() -> None:
    for edition, jva_label, ppc in (
        (
            2024,
            "mises en relation cumulées depuis le lancement de la plateforme (à date du 31 décembre 2023)",
            "population",
        ),
        (2025, "mises en relation créées en 2024", "ha_campaigns"),
    ):
        meta = load_indicator_meta(load_edition(edition))
        by_code = {i["code"]: i for i in meta["indicators"]}
        jva, audience = by_code["jva_matches"], by_code["ha_participants_per_campaign"]
        assert jva["label"] == jva_label
        assert jva_label in jva["definition"] and jva_label in jva["distinction"]
        assert audience["exposure"] == ppc
        assert audience["unit"] == (
            "participants par campagne pour 1 000 habitants"
            if ppc == "population"
            else "participants par campagne"
        )
        assert all(i["exposure"] == "population" for i in meta["indicators"] if "count" in i)
        # every placeholder is resolved but the value of the distinction sentence
        for ind in meta["indicators"]:
            for field in ("title", "short", "unit", "definition", "label"):
                assert "{" not in str(ind.get(field, "")), (ind["code"], field)
            assert re.findall(r"\{(\w+)\}", ind["distinction"]) in (
                [],
                ["value"],
                ["data_year", "value"],
            )
    stock = load_indicator_meta(load_edition(2024))["indicators"]
    assert not any("En 2023" in i["definition"] for i in stock)


def test_spec_must_agree_with_the_definitions(tmp_path: Path) -> None:
    defs = {"jva_matches": "flow", "participants_per_campaign": "per_inhabitant"}
    with pytest.raises(ConfigError, match=(
        r"barometre_2025.yml: indicator ha_participants_per_campaign has denominator None but its "
        r"exposure is 'population' \(definitions.participants_per_campaign = 'per_inhabitant'\)"
    )):  # fmt: skip
        load_indicator_meta(load_edition(write_edition(tmp_path, 2025, definitions=defs)))
    defs = {"jva_matches": "stock", "participants_per_campaign": "per_campaign"}
    with pytest.raises(
        ConfigError, match="denominator 'population' but its exposure is 'ha_campaigns'"
    ):
        load_indicator_meta(load_edition(write_edition(tmp_path, 2024, definitions=defs)))
    defs = {"jva_matches": "stock", "participants_per_campaign": "dropped"}
    with pytest.raises(
        ConfigError,
        match="definitions.participants_per_campaign is 'dropped' but .* uses indicator",
    ):
        load_indicator_meta(load_edition(write_edition(tmp_path, 2024, definitions=defs)))
    # dropped: a spec without the indicator
    spec = yaml.safe_load(
        (PROJECT_ROOT / "config" / "index" / "barometre_2025.yml").read_text("utf-8")
    )
    spec["indicators"] = [
        i for i in spec["indicators"] if i["code"] != "ha_participants_per_campaign"
    ]
    spec_path = tmp_path / "spec.yml"
    spec_path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    defs = {"jva_matches": "flow", "participants_per_campaign": "dropped"}
    meta = load_indicator_meta(
        load_edition(write_edition(tmp_path, 2025, definitions=defs, index_spec=str(spec_path)))
    )
    assert "ha_participants_per_campaign" not in [i["code"] for i in meta["indicators"]]
    defs = {"jva_matches": "flow", "participants_per_campaign": "per_campaign"}
    with pytest.raises(
        ConfigError,
        match="has no indicator ha_participants_per_campaign \\(declare it 'dropped'\\)",
    ):
        load_indicator_meta(
            load_edition(write_edition(tmp_path, 2025, definitions=defs, index_spec=str(spec_path)))
        )
