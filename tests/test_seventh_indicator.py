"""A newcomer adds an indicator by editing the configuration only.

The test copies the project's ``config/`` to a temporary folder, adds a seventh indicator to the
2024 baromètre — « campagnes par association nouvellement inscrite sur HelloAsso », a ratio of
two counts the sources step already produces (``ha_campaigns / ha_new_organizations``, rated
by its own exposure, as participants per campaign is in 2025) — to the indicator metadata
(``indicators.yml``) and to the index spec (``index/barometre.yml``), points a copy of the
edition config at them, builds one
département end to end, and checks that the indicator reaches every stage: the engine's stages,
the composite and published tables, the robustness analysis (weights, exclusion, Sobol' indices),
the report's variables and tables, and the rendered publications. No code is edited: every
place that listed the six indicators or their names now reads the configuration.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from barometre.config import PROJECT_ROOT

CODE = "ha_campaigns_per_new_organization"
TITLE = "Campagnes par association nouvellement inscrite sur HelloAsso"
SHORT = "campagnes par nouvelle association"
NUMERATOR, DENOMINATOR = "ha_campaigns", "ha_new_organizations"
CRITERION = "dynamisme"
DEPARTMENT = "35"

pytestmark = pytest.mark.slow


def seventh_indicator_config(folder: Path) -> Path:
    """A copy of the project's config under ``folder`` with the seventh indicator added to the
    metadata and the 2024 index spec; returns the copied 2024 edition config."""
    config = folder / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    meta_path = config / "indicators.yml"
    meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
    meta["indicators"].append(
        {
            "code": CODE,
            "criterion": CRITERION,
            "title": TITLE,
            "short": SHORT,
            "unit": "campagnes par association nouvellement inscrite",
            "source": "HelloAsso (extraction de la plateforme)",
            "definition": (
                "Nombre de campagnes créées dans l'année par les associations de la commune, "
                "divisé par le nombre d'associations de la commune inscrites sur HelloAsso "
                "dans l'année."
            ),
            "numerator": NUMERATOR,
            "denominator_count": DENOMINATOR,
            "exposure": DENOMINATOR,
            "direction": 1,
            "distinction": "l'activité de ses nouvelles associations ({value} campagnes chacune)",
        }
    )
    meta_path.write_text(yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), "utf-8")
    spec_path = config / "index" / "barometre.yml"
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    spec["indicators"].append(
        {
            "code": CODE,
            "name": "Campagnes par nouvelle association",
            "parent": CRITERION,
            "denominator": None,  # a rate per association already
            "direction": 1,
            "weight": 1,
        }
    )
    spec_path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), "utf-8")
    edition_path = config / "editions" / "2024.yml"
    edition = yaml.safe_load(edition_path.read_text(encoding="utf-8"))
    # the copy lives outside the project: its paths are absolute (the project's are relative)
    edition["index_spec"] = str(spec_path)
    edition["indicators_meta"] = str(meta_path)
    edition_path.write_text(yaml.safe_dump(edition, allow_unicode=True, sort_keys=False), "utf-8")
    return edition_path


def test_the_copied_config_declares_seven_indicators(tmp_path):
    from barometre.composite import load_spec
    from barometre.config import load_edition, load_indicator_meta

    config = load_edition(seventh_indicator_config(tmp_path))
    meta = load_indicator_meta(config)
    codes = [i["code"] for i in meta["indicators"]]
    assert len(codes) == 7 and codes[-1] == CODE
    assert load_spec(config.path(config.index_spec)).indicator_codes == codes
    # the project's own configuration is untouched
    assert CODE not in (PROJECT_ROOT / "config" / "indicators.yml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seventh_build(tmp_path_factory):
    from barometre.edition import build_edition

    folder = tmp_path_factory.mktemp("seventh")
    edition = seventh_indicator_config(folder)
    return build_edition(
        edition,
        demo=True,
        departments=[DEPARTMENT],
        build_root=folder / "build",
        renderer="offline",
        n_runs=64,
    )


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"code_commune": str})


def test_the_engine_and_the_composite_carry_the_seventh_indicator(seventh_build):
    build = seventh_build.build_dir
    counts = read(build / "work" / "commune_counts.csv").set_index("code_commune")
    engine_input = read(build / "work" / "indicators_input_raw.csv").set_index("code_commune")
    assert CODE in engine_input.columns
    # the engine input is the declared ratio of every commune (missing without new association)
    expected = counts[NUMERATOR] / counts[DENOMINATOR].where(counts[DENOMINATOR] > 0)
    pd.testing.assert_series_equal(
        engine_input[CODE], expected.reindex(engine_input.index), check_names=False
    )
    normalised = read(build / "work" / "stages" / "normalised.csv")
    assert CODE in normalised.columns and normalised[CODE].notna().any()
    communes = read(build / "work" / "communes.csv")
    assert CODE in communes.columns
    published = read(build / "tables" / "communes.csv")
    assert CODE in published.columns and published[CODE].notna().any()
    audit = "\n".join(
        p.read_text(encoding="utf-8") for p in sorted((build / "tables" / "audit").glob("*.csv"))
    )
    assert CODE in audit
    count_model = read(build / "tables" / "count_model.csv")
    assert CODE in set(count_model["indicator"])


def test_the_robustness_analysis_varies_the_seventh_indicator(seventh_build):
    robustness = seventh_build.build_dir / "tables" / "robustness"
    analysis = read(robustness / "analysis.csv").set_index("item")["value"]
    assumptions = analysis["assumptions"].split("; ")
    # its weight is perturbed (a factor of the indicators' weight group in the Sobol' analysis)
    # and it is one of the excluded-indicator options
    assert f"weight:{CODE}" in assumptions and "exclusion" in assumptions
    sobol = read(robustness / "sobol.csv")
    assert {"weights_level1", "exclusion"} <= set(sobol["factor"])
    removal = read(seventh_build.build_dir / "tables" / "audit" / "audit_weight_removal.csv")
    assert CODE in removal.to_csv(index=False)


def test_the_palmares_and_the_disclosure_attacks_see_the_seventh_indicator(seventh_build):
    from barometre.disclosure_attacks import load_published

    palmares = read(seventh_build.build_dir / "tables" / "palmares.csv")
    assert len(palmares) > 0
    # a laureate is distinguished by one of the seven, and carries the counts of the ratio
    codes = set(read(seventh_build.build_dir / "tables" / "count_model.csv")["indicator"])
    assert set(palmares["distinguishing_indicator"]) <= codes and CODE in codes
    assert {NUMERATOR, DENOMINATOR} <= set(palmares.columns)
    published = load_published(seventh_build.build_dir)
    assert CODE in published.criteria[CRITERION]  # the attacks model the criterion as it is


def test_the_report_presents_the_seventh_indicator(seventh_build):
    report = seventh_build.build_dir / "report"
    variables = yaml.safe_load((report / "_variables.yml").read_text(encoding="utf-8"))
    assert variables["national"]["indicators"] == "7"
    # the counts are computed (a space or a no-break space before the noun)
    assert re.search(r"combine 7\s+indicateurs", variables["method"]["summary"])
    assert re.search(r"des 7\s+indicateurs", variables["method"]["scenarios"])
    for table in ("indicators.md", "definitions.md"):  # by its title
        assert TITLE in (report / "tables" / table).read_text(encoding="utf-8"), table
    for table in ("treatment.md", "weight_removal.md", "count_model.md", "correlations.md"):
        text = (report / "tables" / table).read_text(encoding="utf-8").lower()
        assert SHORT.lower() in text, table  # by its short name
    assert seventh_build.publications["methodologie.pdf"].stat().st_size > 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # a person count published under another name would escape suppression
        ({"code": "volunteers", "count": "jva_matches"}, "volunteers"),
        # a confidential cluster statistic may not become a published indicator
        ({"code": "active_missions", "count": "jva_matches_clusters"}, "active_missions"),
    ],
)
def test_an_indicator_the_suppression_rules_cannot_protect_is_refused(tmp_path, change, message):
    from barometre.config import ConfigError, load_edition, load_indicator_meta

    edition = seventh_indicator_config(tmp_path)
    meta_path = tmp_path / "config" / "indicators.yml"
    meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
    added = meta["indicators"][-1]
    for key in ("numerator", "denominator_count"):
        added.pop(key)
    added.update(change, exposure="population")
    meta_path.write_text(yaml.safe_dump(meta, allow_unicode=True, sort_keys=False), "utf-8")
    spec_path = tmp_path / "config" / "index" / "barometre.yml"
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    spec["indicators"][-1].update(code=change["code"], denominator="population")
    spec_path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), "utf-8")
    with pytest.raises(ConfigError, match=f"indicators \\['{message}'\\] would publish"):
        load_indicator_meta(load_edition(edition))
