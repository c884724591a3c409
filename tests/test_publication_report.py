"""The report's computations (:mod:`barometre.publish.report`) on small hand-made frames, with
exact values: what each variable, sentence and table cell says, without writing a file."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from barometre.config import load_edition
from barometre.publish.fmt import NBSP, NNBSP
from barometre.publish.report import (
    editions,
    method_tables,
    model_tables,
    palmares_tables,
    robustness_tables,
    sentences,
    variables,
)
from barometre.publish.report.common import (
    SOBOL_CLIP_NOTE,
    Table,
    lower_first,
    slug,
    table_caption,
    table_label,
)
from barometre.publish.report.figures import funnel_upper_limit

PCT = NBSP + "%"
LABELS = ["Village", "Petite ville"]


@pytest.fixture(scope="module")
def config():
    return load_edition(2024)


# --- common -------------------------------------------------------------------------------------


def test_labels_slugs_and_captions():
    assert slug("Métropole") == "metropole" and slug("Petite ville") == "petite_ville"
    assert lower_first("Dons reçus") == "dons reçus"
    assert table_caption("palmares_petite_ville", LABELS) == "Palmarès : Petite ville."
    assert table_caption("versions", LABELS) is None
    assert table_label("count_model") == "tbl-count-model"


def test_a_table_prints_its_caption_label_and_note():
    table = Table(
        pd.DataFrame({"Classe": ["Village"], "Part": [0.25]}),
        formats={"Part": lambda v: f"{v:.2f}"},
        note="Une note.",
    )
    assert table.markdown("Légende.", "tbl-x") == (
        "| Classe  | Part |\n| :------ | ---: |\n| Village | 0.25 |\n\n: Légende. {#tbl-x}\n"
        "\nUne note."
    )
    assert table.cells() == [["Village", "0.25"]]


# --- variables ----------------------------------------------------------------------------------


def test_class_bounds_in_words():
    bounds = [5000, 20000]
    assert variables.class_bounds_text(0, bounds) == f"moins de 5{NNBSP}000 habitants"
    assert variables.class_bounds_text(1, bounds) == f"de 5{NNBSP}000 à 19{NNBSP}999 habitants"
    assert variables.class_bounds_text(2, bounds) == f"plus de 20{NNBSP}000 habitants"


def test_class_variables_count_the_geography_and_the_ranked():
    communes = pd.DataFrame(
        {
            "population_class": ["Village", "Village", "Village", "Petite ville"],
            "score": [10.0, 30.0, np.nan, 55.25],
        }
    )
    everyone = pd.DataFrame({"population_class": ["Village"] * 5 + ["Petite ville"] * 2})
    classes = variables.class_variables(communes, everyone, LABELS, [5000])
    assert classes["village"] == {
        "label": "Village",
        "communes": "5",
        "ranked": "2",
        "bounds": f"moins de 5{NNBSP}000 habitants",
        "median_score": "20,0",
    }
    assert classes["petite_ville"]["median_score"] == "55,3"  # half-up
    assert classes["petite_ville"]["communes"] == "2"


def test_national_totals_sum_every_commune():
    everyone = pd.DataFrame({c: [1, 2, 3] for c in variables.NATIONAL_COUNTS})
    assert variables.national_totals(everyone) == {c: 6 for c in variables.NATIONAL_COUNTS}


def test_rank_sets_sizes_per_class(config):
    decision = pd.DataFrame(
        {
            "population_class": ["Village", "Village", "Village", "Petite ville"],
            "in_tau_best": [1, 1, 0, 0],
        }
    )
    section = variables.rank_sets_variables(decision, LABELS, config)
    assert section == {
        "coverage": "90" + PCT,
        "simultaneous": "90" + PCT,
        "sizes": "village 2, petite ville 0",
    }


def test_methods_and_reproducibility_variables():
    assert variables.methods_variables(pd.DataFrame()) == {"this": "n.d.", "other": "n.d."}
    methods = pd.DataFrame({"this_method": ["publiée"], "other_method": ["recommandée"]})
    assert variables.methods_variables(methods) == {"this": "publiée", "other": "recommandée"}
    versions = {"python": "3.11.7"}
    assert variables.reproducibility_variables({"commit": "0123456789abcdef"}, versions) == {
        "commit": "0123456789ab",
        "python": "3.11.7",
    }
    assert variables.reproducibility_variables({"commit": None}, versions)["commit"] == "inconnu"


def test_palmares_variables_count_prizes(config):
    palmares = pd.DataFrame({"status": ["Lauréat", "Lauréat", "Mention"]})
    section = variables.palmares_variables(config, palmares, 300)
    assert section["counts"] == f"Cette édition compte 2{NBSP}communes lauréates et 1{NBSP}mention."
    assert "estimée sur 300 scénarios" in section["rule"]
    assert section["eligibility"] == sentences.eligibility_sentence(config)


def test_robustness_variables_name_the_main_driver():
    analysis = pd.Series({"n_runs": 1000.0, "sobol_runs": 800.0, "sobol_base_samples": 64.0})
    stability = pd.DataFrame({"stability": [0.5, 0.49, 1.0]})
    sobol = pd.DataFrame({"factor_label": ["Poids", "Normalisation"], "ST": [0.1, 0.4]})
    section = variables.robustness_variables(analysis, stability, sobol, 4)
    assert section == {
        "n_runs": f"1{NNBSP}000",
        "sobol_runs": "800",
        "sobol_base": "64",
        "laureates_stable": "2",
        "laureates_total": "3",
        "top": "4",
        "interval": "90" + PCT,
        "main_driver": "normalisation",
    }
    empty = variables.robustness_variables(analysis, stability, sobol.iloc[:0], 4)
    assert empty["main_driver"] == "n.d."


def test_small_variables_follow_the_config(config):
    effect = pd.DataFrame({"laureates_changed": [1, 2]})
    eligibility = pd.DataFrame({"population_class": ["Village", "Total"], "eligible": [7, 1234]})
    section = variables.small_variables(config, effect, eligibility)
    assert section["rates"] == "lissés (bayésien empirique)" and section["alternative"] == "bruts"
    assert section["groups"] == "classe de population"
    assert section["laureates_changed"] == "3"
    assert section["eligible"] == f"1{NNBSP}234"
    assert section["credit"].startswith("Les effets départementaux")
    raw = config.model_copy(update={"rates": "raw"})
    assert variables.small_variables(raw, effect, eligibility)["rates"] == "bruts"


# --- sentences ----------------------------------------------------------------------------------


def test_national_donations_only_with_the_indicator():
    meta = {
        "indicators": [{"code": "ha_donations", "criterion": "don"}],
        "criteria": [{"code": "don", "title": "Générosité des habitants"}],
    }
    everyone = pd.DataFrame({"ha_donations": [1000, 234]})
    assert sentences.national_donations_markdown(everyone, meta) == (
        f"Les associations ont par ailleurs reçu 1{NNBSP}234 dons sur HelloAsso, que mesure le "
        "critère « générosité des habitants »."
    )
    assert sentences.national_donations_markdown(everyone.iloc[:, :0], meta) == ""
    assert sentences.national_donations_markdown(everyone, {**meta, "indicators": []}) == ""


def test_structural_gaps_count_the_blanked_values(config):
    gaps = pd.DataFrame(
        {"gap": ["alsace_moselle_rna", "alsace_moselle_rna"], "cells_blanked": [3, 4]}
    )
    text = sentences.structural_gaps_markdown(config, gaps, {"rna_creations": "créations"})
    assert text.startswith("- **créations** (départements ou communes : 57, 67, 68) — ")
    assert text.endswith("7 valeurs communales sont traitées comme manquantes.")
    none = config.model_copy(update={"structural_gaps": []})
    assert sentences.structural_gaps_markdown(none, gaps, {}) == (
        "Aucune lacune structurelle n'est déclarée pour cette édition."
    )
    assert sentences.limits_gaps_markdown(none, {}) == ""
    assert sentences.demo_mark_markdown(False) == ""


# --- robustness tables --------------------------------------------------------------------------


def test_sobol_indices_are_clipped_at_zero_with_a_note():
    assert robustness_tables.sobol_with_interval(0.12, 0.05) == "0,12 (0,07–0,17)"
    assert robustness_tables.sobol_with_interval(-0.02, 0.05) == "0,00 (0,00–0,03)"
    sobol = pd.DataFrame(
        {
            "output": ["laureates_changed", "laureates_changed", "mean_abs_shift:Village"],
            "factor_label": ["Poids", "Normalisation", "Poids"],
            "S1": [0.3, -0.01, 0.2],
            "S1_conf": [0.1, 0.02, 0.1],
            "ST": [0.5, 0.1, 0.3],
            "ST_conf": [0.1, 0.05, 0.1],
        }
    )
    table = robustness_tables.sobol_table(sobol)
    assert table.cells() == [
        ["Poids", "0,30 (0,20–0,40)", "0,50 (0,40–0,60)"],
        ["Normalisation", "0,00 (0,00–0,01)", "0,10 (0,05–0,15)"],
    ]
    assert table.note == SOBOL_CLIP_NOTE
    assert robustness_tables.sobol_table(sobol.iloc[:1]).note is None


def test_sampling_split_separates_sampling_from_method():
    sobol = pd.DataFrame(
        {
            "output": ["mean_abs_shift:Village"] * 3,
            "factor": ["sampling", "weights", "treatment"],
            "factor_label": ["Échantillonnage", "Poids", "Traitement"],
            "S1": [0.6, 0.2, -0.05],
            "ST": [0.7, 0.25, 0.1],
        }
    )
    table = robustness_tables.sampling_split_table(sobol, LABELS)  # no row for Petite ville
    assert table.cells() == [["Village", "0,60", "0,70", "0,20", "Poids (0,25)"]]
    assert table.note is None


def test_rank_sets_keep_the_tau_best_by_probability():
    decision = pd.DataFrame(
        {
            "population_class": ["Village"] * 3,
            "in_tau_best": [True, True, False],
            "nom": ["Bray", "Airion", "Cuts"],
            "status": ["Lauréat", np.nan, "Mention"],
            "p_top": [0.8, 0.8, 0.9],
            "cs_lower": [1.0, np.nan, 1.0],
            "cs_upper": [3.0, np.nan, 2.0],
            "cs_marginal_lower": [1.0, 2.0, 1.0],
            "cs_marginal_upper": [2.0, 4.0, 2.0],
        }
    )
    table = robustness_tables.rank_sets_table(decision, LABELS, 4)
    assert table.cells() == [
        ["Village", "Airion", "", "80" + PCT, "–", "2–4"],
        ["Village", "Bray", "Lauréat", "80" + PCT, "1–3", "1–2"],
    ]


def test_robustness_laureates_and_classes_tables():
    stability = pd.DataFrame(
        {
            "population_class": ["Village"],
            "nominal_rank": [1.0],
            "nom": ["Airion"],
            "median_rank": [1.5],
            "rank_p05": [1],
            "rank_p95": [3],
            "stability": [0.875],
            "driver_label": ["Poids"],
        }
    )
    laureates = robustness_tables.robustness_laureates_table(stability, 4, "90" + PCT)
    assert laureates.cells() == [["Village", "1", "Airion", "1,5", "1–3", "88" + PCT, "Poids"]]
    summary = pd.DataFrame(
        {
            "population_class": ["Village", "Métropole"],
            "n_units": [1200, 3],
            "mean_abs_shift": [12.34, 1.25],
            "laureate_stability_mean": [0.5, 1.0],
            "share_nominal_in_interval": [0.9, 1.0],
            "share_within_3": [0.125, 1.0],
        }
    )
    assert robustness_tables.robustness_classes_table(summary).cells() == [
        ["Village", f"1{NNBSP}200", "12", "50" + PCT, "90" + PCT, "13" + PCT],
        ["Métropole", "3", "1,3", "100" + PCT, "100" + PCT, "100" + PCT],
    ]


def test_interval_figures_only_for_drawn_classes():
    text = robustness_tables.interval_figures_markdown(
        LABELS, {"robustness_intervals_petite-ville.png"}
    )
    assert text.startswith("![Petite ville : rangs des premières communes")
    assert "{#fig-intervals-petite-ville width=90%}" in text and "Village" not in text
    assert robustness_tables.interval_figures_markdown(LABELS, set()) == (
        "Aucune classe ne compte de commune classée."
    )


# --- model tables -------------------------------------------------------------------------------


def test_count_model_table_in_indicator_order():
    params = pd.DataFrame(
        {
            "indicator": ["b", "a", "a", "a", "a"],
            "term": [
                "log_population",
                "log_population",
                "dispersion α",
                "département sd (τ)",
                "pooled design effect",
            ],
            "estimate": [0.5, 1.0, 0.25, 0.125, 1.5],
        }
    )
    table = model_tables.count_model_table(params, ["a", "b", "c"], {"a": "A", "b": "B"})
    assert table.cells() == [
        ["A", "1,00", "0,25", "0,13", "1,50"],
        ["B", "0,50", "n.d.", "n.d.", "n.d."],
    ]


def test_eligibility_table_names_each_rule():
    eligibility = pd.DataFrame(
        {
            "population_class": ["Village", "Total"],
            "total": [10, 10],
            "removed_population": [3, 3],
            "removed_other": [1, 1],
            "eligible": [6, 6],
        }
    )
    table = model_tables.eligibility_table(eligibility)
    assert list(table.frame.columns) == [
        "Classe",
        "Communes",
        "Écartées : population minimale",
        "Écartées : removed_other",
        "Éligibles",
    ]
    assert table.cells()[1] == ["Total", "10", "3", "1", "6"]


def test_shrinkage_weights_are_medians_per_class():
    shrink = pd.DataFrame(
        {
            "code_commune": ["1", "2", "3", "1"],
            "indicator": ["a", "a", "a", "b"],
            "shrinkage_weight": [0.2, 0.4, 0.9, 0.5],
        }
    )
    communes = pd.DataFrame(
        {
            "code_commune": ["1", "2", "3"],
            "population_class": ["Village", "Village", "Petite ville"],
        }
    )
    table = model_tables.shrinkage_weights_table(
        shrink, communes, ["a", "b"], {"a": "A", "b": "B"}, LABELS
    )
    assert table.cells() == [["A", "30" + PCT, "90" + PCT], ["B", "50" + PCT, "n.d."]]


def test_rates_effect_and_methods_comparison():
    effect = pd.DataFrame(
        {
            "population_class": ["Village"],
            "spearman": [0.987],
            "laureates_kept": [3],
            "laureates_only_shrunk": [np.nan],
            "laureates_only_raw": ["Cuts"],
        }
    )
    table = model_tables.rates_effect_table(effect, "shrunk")
    assert table.frame.columns[-1] == "Lauréats seulement avec les taux bruts"
    assert table.cells() == [["Village", "0,99", "3", "–", "Cuts"]]
    assert model_tables.methods_comparison_table(pd.DataFrame(), 2024, 4) is None
    methods = pd.DataFrame(
        {
            "population_class": ["Village"],
            "ranked_by_both": [1500],
            "spearman": [0.5],
            "laureates": [np.nan],
            "other_top": ["Bray (1)"],
        }
    )
    comparison = model_tables.methods_comparison_table(methods, 2024, 4)
    assert comparison.cells() == [["Village", f"1{NNBSP}500", "0,50", "–", "Bray (1)"]]


# --- method tables ------------------------------------------------------------------------------


def test_treatment_cronbach_and_pca_tables():
    treatment = pd.DataFrame(
        {
            "indicator": ["a", "b"],
            "skew_before": [2.345, 0.1],
            "kurt_before": [10.05, 1.0],
            "applied": ["winsorised", "none"],
            "n_winsorised": [3.0, np.nan],
        }
    )
    assert method_tables.treatment_table(treatment, {"a": "créations", "b": "dons"}).cells() == [
        ["Créations", "2,35", "10,1", "écrêtage", "3"],
        ["Dons", "0,10", "1,0", "aucun", "–"],
    ]
    names = {"crit": "Vie associative"}
    alpha = pd.DataFrame(
        {"aggregate": ["crit", "root"], "n_children": [1, 3], "cronbach_alpha": [np.nan, 0.814]}
    )
    assert method_tables.cronbach_table(alpha, names, "root").cells() == [
        ["Vie associative", "1", "sans objet"],
        ["Score", "3", "0,81"],
    ]
    pca = pd.DataFrame(
        {
            "aggregate": ["crit", "crit", "root"],
            "component": [1, 2, 1],
            "variance_share": [0.6, 0.3, 0.555],
        }
    )
    assert method_tables.pca_table(pca, names, "root").cells() == [
        ["Vie associative", "60,0" + PCT],
        ["Score", "55,5" + PCT],
    ]


def test_weight_removal_shares_of_the_ranked():
    removal = pd.DataFrame(
        {
            "removed": ["Nominal", "crit", "a"],
            "mean_abs_rank_change": [0, 5, 1],
            "max_abs_rank_change": [0, 50, 9],
        }
    )
    names = {"crit": "Vie associative", "a": "Créations"}
    table = method_tables.weight_removal_table(removal, names, {"crit"}, 200)
    assert table.cells() == [
        ["Critère : vie associative", "2,5" + PCT, "25" + PCT],
        ["Indicateur : créations", "0,5" + PCT, "5" + PCT],
    ]


def test_provenance_tables():
    matches = pd.DataFrame(
        {"source": ["rna", "x"], "rows_read": [10, 5], "matched": [9, 5], "unmatched": [1, 0]}
    )
    table = method_tables.match_report_table(matches, {"rna": "RNA"})
    assert table.cells() == [["RNA", "10", "0", "0", "9", "1"], ["x", "5", "0", "0", "5", "0"]]
    inputs = method_tables.inputs_table([("raw/a.csv", "0123456789abcdef0123")])
    assert inputs.cells() == [["raw/a.csv", "0123456789abcdef"]]
    versions = method_tables.versions_table({"python": "3.11.7", "numpy": "2.4.6"})
    assert versions.cells() == [["python", "3.11.7"], ["numpy", "2.4.6"]]
    meta = {
        "indicators": [{"code": "a", "short": "créations"}],
        "criteria": [{"code": "crit", "title": "Vie associative"}],
    }
    assert method_tables.element_names(meta) == {"a": "créations", "crit": "Vie associative"}


# --- palmarès -----------------------------------------------------------------------------------


def test_class_awards_and_published_counts():
    awards = pd.DataFrame({"eligible": [12], "laureates": [3]}, index=pd.Index(["Village"]))
    assert palmares_tables.class_awards(awards, "Village") == (12, 3)
    assert palmares_tables.class_awards(awards, "Métropole") == (0, 0)
    counts = pd.DataFrame(
        {"rna_creations": [4, 0], "ha_campaigns": [1, 2]},
        index=pd.Index(["1", "2"], name="code_commune"),
    )
    communes = pd.DataFrame({"code_commune": ["1", "2"], "rna_creations": [4.0, np.nan]})
    published = palmares_tables.published_counts(counts, communes)
    assert published["rna_creations"].isna().tolist() == [False, True]  # a gap, not a zero
    assert published["ha_campaigns"].tolist() == [1, 2] and counts["rna_creations"].tolist() == [
        4,
        0,
    ]


def test_class_palmares_table_and_summary():
    rows = pd.DataFrame(
        {
            "status": ["Lauréat"],
            "nom": ["Airion"],
            "code_departement": ["60"],
            "population": [1234],
            "p_top": [0.955],
            "rank_median": [1],
            "rank_p05": [1],
            "rank_p95": [2],
        }
    )
    table = palmares_tables.class_palmares_table(rows, 4, "90" + PCT)
    assert table.cells() == [["Lauréat", "Airion", "60", f"1{NNBSP}234", "96" + PCT, "1 (1–2)"]]
    classes = {
        "village": {"bounds": "moins de 5 000 habitants", "ranked": "3", "median_score": "20,0"}
    }
    assert palmares_tables.classes_table(["Village"], classes).cells() == [
        ["Village", "moins de 5 000 habitants", "3", "20,0"]
    ]


def test_palmares_facts_and_chart_caption(config):
    facts = palmares_tables.PalmaresFacts.from_config(config, 10000, "90" + PCT)
    assert (facts.top_k, facts.n_runs, facts.laureate_threshold) == (4, f"10{NNBSP}000", "50" + PCT)
    caption = palmares_tables.palmares_chart_markdown(
        "Petite ville", "palmares_petite_ville.png", facts
    )
    assert caption.endswith(
        "(figures/palmares_petite_ville.png){#fig-palmares-petite-ville width=100%}\n"
    )
    assert f"probabilité sur 10{NNBSP}000 scénarios" in caption


# --- editions -----------------------------------------------------------------------------------


def test_year_over_year_section():
    yoy = pd.DataFrame(
        {
            "population_class": ["Village", "Village", "Village"],
            "nom": ["Airion", "Bray", "Cuts"],
            "rank_in_class": [1.0, 2.0, np.nan],
            "status": ["retained", "new", "left"],
        }
    )
    changes = pd.DataFrame(
        {
            "code_commune": ["1", "2", "3", "4"],
            "nom": ["Airion", "Bray", "Cuts", "Dives"],
            "population_class": ["Village"] * 4,
            "rank_in_class_previous": [1, 20, 3, np.nan],
            "rank_in_class": [1, 2, 30, np.nan],
            "rank_change": [0, 18, -27, np.nan],
        }
    )
    intro = editions.yoy_intro(yoy, changes, 2025, "2024")
    assert intro == (
        "Parmi les 2 communes lauréates de 2025, 1 l'était déjà en 2024 dans la même classe et 1 fait son "
        "entrée au palmarès. Sur les 3 communes classées dans la même classe les deux années, "
        f"25{PCT} ont gagné ou perdu au plus 10 places.\n"
    )
    section = editions.yoy_section(yoy, changes, 2025, "2024")
    assert section.startswith("## Ce qui a changé depuis 2024\n")
    cuts = next(line for line in section.splitlines() if "| Cuts" in line)
    assert [c.strip() for c in cuts.strip("|").split("|")] == [
        "Village",
        "Cuts",
        "non classée",  # an unranked commune says so, not « n.d. »
        "lauréate en 2024, sortie du palmarès",
    ]
    climbers = editions.climbers_markdown(changes, 2025, "2024")
    assert [line.split("|")[1].strip() for line in climbers.splitlines()[2:]] == [
        "Bray",
        "Airion",
        "Cuts",
    ]
    assert "| +18 " in climbers and "| −27 " in climbers  # signed, with a true minus sign


def test_departmental_section_decided_or_nominal():
    names = pd.Series({"60": "Oise"})
    decided = pd.DataFrame(
        {
            "code_departement": ["60", "60"],
            "status": ["Lauréat", "Mention"],
            "nom": ["Airion", "Bray"],
            "population_class": ["Village", "Village"],
            "p_top": [0.9, 0.2],
        }
    )
    text = editions.departmental_section(decided, names, 3, 0.5)
    assert text.startswith("## Le palmarès départemental\n\nDans chaque département")
    assert f"1{NBSP}commune est lauréate dans 1{NBSP}département." in text
    assert "| Oise (60)" in text and "90" + PCT in text
    nominal = pd.DataFrame(
        {
            "code_departement": ["02"],
            "rank_in_departement": [1],
            "nom": ["Laon"],
            "population_class": ["Petite ville"],
            "score": [71.25],
        }
    )
    text = editions.departmental_section(nominal, names, 3, 0.5)
    assert "Les 3 communes au meilleur score de chaque département" in text
    assert "| 02 (02)" in text and "71,3" in text


# --- figures ------------------------------------------------------------------------------------


def test_funnel_axis_reaches_every_laureate():
    rates = pd.Series([1.0] * 199 + [2.0])
    is_laureate = pd.Series([False] * 199 + [True])
    assert funnel_upper_limit(rates, 1.0, is_laureate) == pytest.approx(3.0)
    assert funnel_upper_limit(rates, 0.1, is_laureate) == pytest.approx(2.24)
    zero = pd.Series([0.0, 0.0])
    assert funnel_upper_limit(zero, 0.0, pd.Series([False, False])) == 1.0
    assert math.isfinite(funnel_upper_limit(rates, 1.0, pd.Series([False] * 200)))


def test_class_chart_rows_order_and_empty_class(tmp_path):
    from barometre.publish.report.figures import class_chart_rows, figure_class_palmares

    decision = pd.DataFrame(
        {
            "population_class": ["Village"] * 4 + ["Métropole"],
            "nom": ["Cuts", "Bray", "Airion", "Dives", "Lyon"],
            "p_top": [0.5, 0.9, 0.5, np.nan, np.nan],
            "rank_median": [3.0, 1.0, 3.0, 9.0, 1.0],
        }
    )
    # the most likely is drawn last (top of the chart); ties by median rank, then by name
    assert class_chart_rows(decision, "Village", n=2)["nom"].tolist() == ["Airion", "Bray"]
    assert class_chart_rows(decision, "Village")["nom"].tolist() == ["Cuts", "Airion", "Bray"]
    figure = figure_class_palmares(
        decision,
        "Métropole",
        tmp_path / "x.png",
        top_k=4,
        laureate_min=0.5,
        mention_min=0.1,
        source_note="",
        interval="90" + PCT,
    )
    assert figure is None and not (tmp_path / "x.png").exists()


def test_the_baromètre_points_to_the_departmental_palmarès_in_the_annex():
    from barometre.publish.report.editions import departmental_pointer

    one = pd.DataFrame(
        {"status": ["Lauréat", "Mention", "Mention"], "code_departement": ["60"] * 3}
    )
    text = departmental_pointer(one)
    assert "(1\u00a0commune lauréate et 2\u00a0mentions dans 1\u00a0département)" in text
    assert text.startswith("## Le palmarès départemental") and "annexe" in text
