"""Method facts reach the pages from the configuration, never typed into the report sources.

- no ``report/*.qmd`` contains a method fact the edition configs hold (method names, weights,
  bounds, thresholds, amplitudes, class names, criteria titles), as the pages print them;
- the generated method sentences follow the config (the 2025 edition names its four criteria);
- the rendered 2025 baromètre names its four criteria by title (slow: renders a subset).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from barometre.composite import load_spec
from barometre.config import PROJECT_ROOT, load_edition, load_indicator_meta
from barometre.publish import method_text
from barometre.robustness.assumptions import assumptions_from_config

REPORT_SOURCES = sorted((PROJECT_ROOT / "report").glob("*.qmd"))
SHORTCODE = re.compile(r"\{\{<.*?>\}\}", re.DOTALL)
FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)


def edition_literals(edition: int) -> dict[str, str]:
    config = load_edition(edition)
    spec = load_spec(config.path(config.index_spec))
    meta = load_indicator_meta(config)
    rule = config.palmares_rule
    thresholds = {
        "palmares_rule.laureate_min_probability": rule.laureate_min_probability,
        "palmares_rule.mention_min_probability": rule.mention_min_probability,
        "palmares_rule.tau_best_coverage": rule.tau_best_coverage,
        "shrinkage.credible": config.shrinkage.credible,
    }
    if config.eligibility.min_reliability:
        thresholds["eligibility.min_reliability"] = config.eligibility.min_reliability.minimum
    return method_text.config_literals(
        spec,
        meta,
        config.classes.bounds,
        config.classes.labels,
        assumptions_from_config(config.extra),
        thresholds,
    )


def prose(path: Path) -> str:
    """The text a reader sees from the source itself: no front matter, no shortcodes."""
    text = FRONT_MATTER.sub("", path.read_text(encoding="utf-8"))
    return SHORTCODE.sub(" ", text).replace("\u202f", " ").replace("\u00a0", " ")


def typed_facts(text: str, literals: dict[str, str]) -> list[str]:
    found = []
    normalised = text.replace("\n", " ")
    for literal, origin in literals.items():
        needle = literal.replace("\u202f", " ").replace("\u00a0", " ")
        # whole words only: « 2,0 » must not match inside « 12,05 »
        pattern = r"(?<![\w,])" + re.escape(needle) + r"(?![\w]|,\d)"
        if re.search(pattern, normalised):
            found.append(f"« {literal} » ({origin})")
    return found


@pytest.mark.parametrize("edition", [2024, 2025])
@pytest.mark.parametrize("source", REPORT_SOURCES, ids=lambda p: p.name)
def test_report_sources_type_no_method_fact(source, edition):
    facts = typed_facts(prose(source), edition_literals(edition))
    assert not facts, f"{source.name} types facts the config holds: {facts}"


def test_the_scan_catches_a_typed_fact():
    literals = edition_literals(2024)
    assert typed_facts("ramené à une échelle de 0 à 100 par la méthode min-max", literals)
    assert typed_facts("les poids sont tirés entre 0,75 et 1,25", literals)
    assert typed_facts("regroupés en 3 critères : *associations par habitant*", literals)
    assert typed_facts("au moins 5 000 habitants", literals)
    assert typed_facts("la moyenne arithmétique pondérée", literals)
    assert not typed_facts("{{< var method.summary >}} et 12,05 % des communes", literals)


def test_2025_criteria_sentence_names_four_criteria():
    config = load_edition(2025)
    meta = load_indicator_meta(config)
    sentence = method_text.criteria_sentence(meta)
    assert sentence.startswith("4\u00a0critères : ")
    for title in (
        "associations par habitant",
        "dynamisme associatif",
        "citoyens prêts à s'engager",
        "générosité financière",
    ):
        assert f"*{title}*" in sentence
    assert sentence.count("*") == 8


def test_method_sentences_follow_the_config():
    config = load_edition(2024)
    spec = load_spec(config.path(config.index_spec))
    meta = load_indicator_meta(config)
    assert "de 0 à 100 par la méthode min-max" in method_text.normalisation_phrase(
        spec.steps.normalise
    )
    summary = method_text.method_summary(spec, config.weights, meta, "rapportés à la population", 5)
    assert "moyenne arithmétique pondérée" in summary and "à poids égaux" in summary
    scenarios = method_text.scenarios_sentence(assumptions_from_config(config.extra), meta)
    assert "entre 0,75 et 1,25" in scenarios
    assert "une fois sur deux" in scenarios
    # another normalisation, aggregation and weight set: the sentences change with the config
    other = spec.model_copy(deep=True)
    other.steps.normalise.low, other.steps.normalise.high = 1.0, 10.0
    other.steps.aggregate.method = "geometric"
    assert "de 1 à 10" in method_text.normalisation_phrase(other.steps.normalise)
    other_summary = method_text.method_summary(
        other, "indicators_equal", meta, "rapportés à la population", 5
    )
    assert "moyenne géométrique pondérée" in other_summary
    assert (
        "pondérés à 33\u00a0% pour *associations par habitant*, 50\u00a0% pour *dynamisme associatif*"
        in other_summary
    )
    rates = method_text.rates_sentence(spec, meta)
    assert rates.startswith(
        "Chaque compte est divisé par la population et multiplié par 1\u202f000"
    )


@pytest.mark.slow
def test_rendered_2025_barometre_names_its_four_criteria(tmp_path):
    """Build the 2025 demo edition on one département (Oise) and read the rendered PDF."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    from barometre.edition import build_edition

    result = build_edition(
        2025, demo=True, departments=["60"], build_root=tmp_path, renderer="offline", n_runs=256
    )
    pdf = result.publications["barometre.pdf"]
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    text = re.sub(r"\s+", " ", text.replace("\u00ad", "").replace("’", "'"))
    config = load_edition(2025)
    meta = load_indicator_meta(config)
    assert "4 critères :" in text
    for title in method_text.criteria_titles(meta):
        assert title[:1].lower() + title[1:] in text, title
