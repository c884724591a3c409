"""Print quality: the layout checks, and the pieces behind them (table rows kept together,
numbered figures and tables, citations, map class bounds, overdispersed funnel limits, full
commune names).

The render tests build a small report folder (a long table after enough text to force a page
break, laureate cards, labelled figures, citations) and render it offline — and with Quarto
when one is installed — then run :mod:`barometre.publish.layout_checks` on the PDF.
"""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from barometre.publish import layout_checks as lc
from barometre.publish import maps
from barometre.publish.artefacts import table_caption, table_label
from barometre.publish.fmt import dataframe_to_markdown
from barometre.publish.render import check_supported, render_project, write_report_project
from barometre.robustness.figures import wrap_name
from barometre.smallarea import (
    estimate_overdispersion,
    funnel_limits,
    funnel_limits_random_effects,
)

ROOT = Path(__file__).resolve().parents[1]
NEEDS_POPPLER = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdfimages") is None,
    reason="pdftotext/pdfimages (Debian poppler-utils) not installed",
)


# --------------------------------------------------------------------------- pure pieces


def test_normalise_ignores_layout() -> None:
    assert lc.normalise("Poids ef-\nfectif « 1 000 »") == lc.normalise("Poids effectif 1\u202f000")
    assert lc.normalise("Élément") == "élément"


def test_split_problem_counts_rows_per_page() -> None:
    assert lc.split_problem([3, 3, 3, 3]) is None
    assert lc.split_problem([3, 3, 3, 4, 4, 4]) is None
    assert lc.split_problem([3, 3, 4, 4, 4, 4]) == "split over pages [3, 4] with 2 row(s) on page 3"
    assert "1 row(s) on page 5" in lc.split_problem([4, 4, 4, 4, 5])
    assert lc.split_problem([2, 2, 2, 3, 3, 3, 3, 4, 4, 4], min_rows=3) is None


def test_markdown_tables_and_cards_are_read() -> None:
    text = (
        "| A | B |\n| :-- | --: |\n| x \\| y | 1 |\n| z | 2 |\n\n: Légende {#tbl-x}\n\n"
        "::: {.card}\n\n### Lille (59)\n\nLille se distingue par ses campagnes.\n\n- 1 000 habitants\n"
        "- Rang médian 2 ; 90 % des scénarios entre les rangs 1 et 3\n\n:::\n"
    )
    assert lc.markdown_table_rows(text) == [[["x | y", "1"], ["z", "2"]]]
    assert lc.markdown_cards(text) == [("Lille (59) Lille se distingue par", "rangs 1 et 3")]


def test_page_of_and_find_follow_pages() -> None:
    pdf = lc.PdfText(["Titre\nAlpha beta", "gamma delta", "epsilon"])
    assert pdf.page_of(pdf.find("gamma")) == 2
    assert pdf.page_of(pdf.find("beta gamma")) == 1  # a text running over two pages starts on 1
    assert pdf.find("zeta") == -1


def test_table_rows_are_found_where_the_whole_table_is() -> None:
    # the first row's text also appears in the prose of page 1: the table is on pages 2-3
    pdf = lc.PdfText(["python 3.11 est utilisé", "python 3.11\nnumpy 2.0", "pandas 2.2\nscipy 1.1"])
    rows = [["python", "3.11"], ["numpy", "2.0"], ["pandas", "2.2"], ["scipy", "1.1"]]
    assert lc.table_row_pages(pdf, rows) == [2, 2, 3, 3]
    problems, missing = lc.table_splits(pdf, [("versions", rows)])
    assert missing == [] and problems == [
        "table versions: split over pages [2, 3] with 2 row(s) on page 2, 2 row(s) on page 3"
    ]


def test_headings_at_page_foot_are_lines_set_larger() -> None:
    body = lc.Line("texte courant", 700.0, 712.0)
    heading = lc.Line("Robustesse du palmarès", 740.0, 756.0)
    pdf = lc.PdfText(["", "", ""], lines=[[body], [body, heading], [heading, body]])
    assert lc.headings_at_page_foot(pdf) == [
        "page 2: ends with the heading « Robustesse du palmarès »"
    ]


def test_figures_need_a_numbered_caption() -> None:
    pdf = lc.PdfText(["Figure 1 – Carte.", "texte", "Figure 3 – Entonnoirs."])
    assert lc.figures_without_number(pdf, {1: 1, 2: 1, 3: 1}) == [
        "page 2: 1 figure(s), 0 « Figure N » caption(s)",
        "figure numbers run [1, 3], not 1, 2, 3…",
    ]


def test_hyphenated_header_words_are_found() -> None:
    pdf = lc.PdfText(["Critère Poids ef\u00ad\nfectif\nreprésen\u00adtation"])
    words = lc.markdown_table_header_words(
        "| Critère | Poids effectif |\n| --- | --: |\n| a | 1 |\n"
    )
    assert words == {"Critère", "Poids", "effectif"}
    assert lc.hyphenated_words(pdf, words) == ["page 1: « ef-fectif » hyphenated"]


def test_tables_are_numbered_with_their_label() -> None:
    frame = pd.DataFrame({"Classe": ["Village"], "Communes": [3]})
    text = dataframe_to_markdown(frame, caption="Classes.", label="tbl-classes")
    assert text.rstrip().endswith(": Classes. {#tbl-classes}")
    with pytest.raises(ValueError, match="caption"):
        dataframe_to_markdown(frame, label="tbl-classes")
    assert (
        table_caption("palmares_petite_ville", ["Village", "Petite ville"])
        == "Palmarès : Petite ville."
    )
    assert table_caption("versions", ["Village"]) is None
    assert table_label("count_model") == "tbl-count-model"


def test_figure_and_table_references_and_citations_are_in_the_subset() -> None:
    ok = "Voir @fig-funnels et @tbl-classes [@spiegelhalter2005funnel].\n\n![Carte.](figures/x.png){#fig-map width=50%}\n"
    assert check_supported(ok) == []
    assert any("@sec-intro" in v for v in check_supported("Voir @sec-intro.\n"))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(min_value=-50, max_value=500, allow_nan=False), min_size=2, max_size=80),
    st.integers(min_value=2, max_value=7),
    st.integers(min_value=0, max_value=2),
)
def test_map_class_bounds_never_overlap_and_hold_their_values(values, k, decimals) -> None:
    series = pd.Series(values)
    classes = maps.classify(series, k=k, decimals=decimals)
    if len(classes.colours) == 1:
        return
    bounds = []
    for label in classes.labels:
        parts = [
            float(p.replace("\u2212", "-").replace("\u202f", "").replace(",", "."))
            for p in label.split(" – ")
        ]
        bounds.append((parts[0], parts[-1]))
    for (_, high), (low, _) in itertools.pairwise(bounds):
        assert high < low, classes.labels  # never a bound shared by two classes
    for value in values:
        printed = maps.round_half_up(value, decimals)
        index = classes.colours.index(classes.colour_of(value))
        low, high = bounds[index]
        assert low <= printed <= high, (value, classes.labels)


def test_map_class_labels_at_printed_precision() -> None:
    labels = maps.class_labels([19.66, 23.2, 23.8, 25.0], 1)
    assert labels == ("19,7 – 23,1", "23,2 – 23,7", "23,8 – 25,0")


@settings(max_examples=80, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("abcdéSt- ")), min_size=1, max_size=60).filter(
        lambda s: s.strip() == s and "  " not in s
    )
)
def test_commune_names_are_wrapped_never_cut(name) -> None:
    wrapped = wrap_name(name)
    assert re.sub(r"\s", "", wrapped) == re.sub(r"\s", "", name)  # every character kept
    assert all(line.strip() for line in wrapped.split("\n"))


def test_wrap_name_breaks_after_hyphens() -> None:
    assert wrap_name("Saint-Christophe-du-Ligneron") == "Saint-Christophe-\ndu-Ligneron"
    assert wrap_name("Paris") == "Paris"


def test_overdispersion_is_zero_when_rates_follow_poisson() -> None:
    rng = np.random.default_rng(20240615)
    exposure = np.exp(rng.uniform(np.log(200), np.log(2e5), 4000))
    counts = rng.poisson(5.0 / 1000 * exposure)
    spread = estimate_overdispersion(counts, exposure, 5.0)
    assert spread.tau2 == 0.0 and spread.phi < 1.0 and spread.n == 4000


def test_overdispersion_recovers_a_known_between_unit_variance() -> None:
    """Without winsorising, the moment estimator recovers τ² of a normal random-effects truth and
    the adjusted 95 % limits hold about 95 % of the units; the Poisson limits flag many more."""
    rng = np.random.default_rng(7)
    exposure = np.exp(rng.uniform(np.log(200), np.log(2e5), 4000))
    true_rate = np.clip(rng.normal(5.0, 1.5, exposure.size), 0.01, None)
    counts = rng.poisson(true_rate / 1000 * exposure)
    rate = counts / exposure * 1000
    plain = estimate_overdispersion(counts, exposure, 5.0, winsor=0.0)
    assert plain.tau2 == pytest.approx(2.25, rel=0.15)
    adjusted = funnel_limits_random_effects(5.0, exposure, plain.tau2)
    outside = ((rate > adjusted["upper_95"]) | (rate < adjusted["lower_95"])).mean()
    poisson = funnel_limits(5.0, exposure)
    outside_poisson = ((rate > poisson["upper_95"]) | (rate < poisson["lower_95"])).mean()
    assert 0.03 < outside < 0.08 and outside_poisson > 0.3
    # Spiegelhalter's winsorised estimate (the default) is smaller but still widens the limits
    assert 0 < estimate_overdispersion(counts, exposure, 5.0).tau2 < plain.tau2


def test_random_effects_limits_formula() -> None:
    limits = funnel_limits_random_effects(4.0, [1000.0, 250.0], tau2=0.5, levels=(0.95,))
    z = 1.959963984540054
    assert limits["upper_95"].tolist() == pytest.approx(
        [4 + z * np.sqrt(4 + 0.5), 4 + z * np.sqrt(16 + 0.5)]
    )
    assert limits["lower_95"].tolist() == pytest.approx([max(0, 4 - z * np.sqrt(4.5)), 0.0])


# --------------------------------------------------------------------------- rendered pages


BIB = """@article{spiegelhalter2005funnel,
  title = {Funnel plots for comparing institutional performance},
  author = {Spiegelhalter, David J.},
  journal = {Statistics in Medicine}, volume = {24}, pages = {1185--1202}, year = {2005}
}
"""


def _report_folder(folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    (folder / "figures").mkdir(parents=True)
    (folder / "tables").mkdir()
    for name in ("a", "b"):
        fig, ax = plt.subplots(figsize=(5, 2.2))
        ax.plot([0, 1], [0, 1])
        fig.savefig(folder / "figures" / f"{name}.png", dpi=60)
        plt.close(fig)
    (folder / "references.bib").write_text(BIB, encoding="utf-8")
    (folder / "_variables.yml").write_text("edition: '2024'\n", encoding="utf-8")
    rows = pd.DataFrame(
        {
            "Commune": [f"Saint-Germain-{i}" for i in range(1, 91)],
            "Poids effectif": [f"{i},5 %" for i in range(1, 91)],
        }
    )
    (folder / "tables" / "long.md").write_text(
        dataframe_to_markdown(rows, caption="Une longue table.", label="tbl-long"), encoding="utf-8"
    )
    cards = "\n".join(
        f"::: {{.card}}\n\n### Commune {i} (59)\n\nCommune {i} se distingue par ses campagnes "
        f"nombreuses.\n\n"
        + "\n".join(f"- Ligne {j} de la fiche {i}" for j in range(1, 8))
        + f"\n- Dernière ligne de la fiche {i}\n\n:::\n"
        for i in range(1, 9)
    )
    (folder / "tables" / "cards.md").write_text(cards, encoding="utf-8")
    paragraph = (
        "Le texte courant remplit la page, ligne après ligne, pour que la table qui suit "
        "commence près du pied de page et doive se couper. "
    ) * 6
    (folder / "doc.qmd").write_text(
        "---\ntitle: Essai\nlang: fr\n---\n\n## Objet\n\nVoir @fig-a et @tbl-long, selon "
        "[@spiegelhalter2005funnel].\n\n![Première figure.](figures/a.png){#fig-a width=60%}\n\n"
        + "\n\n".join([paragraph] * 5)
        + "\n\n## La table\n\nLa table qui suit, introduite par une phrase :\n\n{{< include tables/long.md >}}\n\n## Les fiches\n\n"
        "{{< include tables/cards.md >}}\n\n![Seconde figure.](figures/b.png){#fig-b width=60%}\n\n"
        "## Références\n\n::: {#refs}\n:::\n",
        encoding="utf-8",
    )


def _renderers() -> list[str]:
    from barometre.publish.render import quarto_available

    return ["offline", "quarto"] if quarto_available() else ["offline"]


@NEEDS_POPPLER
@pytest.mark.parametrize("renderer", _renderers())
def test_rendered_pages_pass_the_layout_checks(tmp_path: Path, renderer: str) -> None:
    folder = tmp_path / "report"
    _report_folder(folder)
    write_report_project(folder, ["doc.qmd"], "out", {"bibliography": "references.bib"})
    done = render_project(folder, renderer, formats=("pdf", "html"))
    pdf_path = done.outputs["doc"]["pdf"]
    report = lc.check_report_folder(folder, pdf_path)
    assert report.problems == [], report.problems
    assert report.tables_not_found == []
    assert report.pages >= 4
    pdf = lc.read_pdf(pdf_path)
    text = " ".join(" ".join(pdf.pages).split())
    assert "Voir Figure 1 et Tableau 1" in text
    assert "Figure 2 – Seconde figure." in text and "Tableau 1 – Une longue table." in text
    assert (
        "(Spiegelhalter 2005)" in text
        and "Funnel plots for comparing institutional performance" in text
    )
    # the long table did break across pages, and its header row came with it
    pages = lc.table_row_pages(
        pdf, lc.markdown_table_rows((folder / "tables" / "long.md").read_text())[0]
    )
    assert pages is not None and len(set(pages)) > 1
    assert sum(lc.normalise("Poids effectif") in lc.normalise(p) for p in pdf.pages) == len(
        set(pages)
    )
    html = done.outputs["doc"]["html"].read_text(encoding="utf-8")
    assert re.search(r"Figure\u00a01\u00a0– Première figure", html)


@NEEDS_POPPLER
def test_both_renderers_give_the_same_numbered_document(tmp_path: Path) -> None:
    if _renderers() == ["offline"]:
        pytest.skip("Quarto is not installed")
    texts = {}
    for renderer in ("offline", "quarto"):
        folder = tmp_path / renderer
        _report_folder(folder)
        write_report_project(folder, ["doc.qmd"], "out", {"bibliography": "references.bib"})
        done = render_project(folder, renderer, formats=("pdf",))
        texts[renderer] = lc.read_pdf(done.outputs["doc"]["pdf"]).pages
    assert texts["offline"] == texts["quarto"]


def test_funnel_figure_on_a_tiny_build(tmp_path: Path) -> None:
    """A department with a single commune reporting an indicator (or a zero national rate) still
    gets its funnel plots: plain Poisson limits where overdispersion cannot be estimated."""
    from barometre.publish.artefacts import figure_funnels

    communes = pd.DataFrame(
        {
            "code_commune": ["48001", "48002", "48003"],
            "nom": ["Mende", "Marvejols", "Florac Trois Rivières"],
            "population": [12_000, 5_000, 2_000],
            "rna_creations": [30.0, np.nan, np.nan],
            "jva_matches": [0.0, 0.0, 0.0],
            "ha_campaigns": [5.0, 2.0, 1.0],
        }
    )
    meta = {
        "indicators": [
            {
                "code": "rna_creations",
                "short": "créations d'associations",
                "count": "rna_creations",
            },
            {"code": "jva_matches", "short": "mises en relation", "count": "jva_matches"},
            {"code": "ha_campaigns", "short": "campagnes HelloAsso", "count": "ha_campaigns"},
        ]
    }
    path = figure_funnels(communes, meta, tmp_path / "funnels.png", {"48001"})
    assert path.stat().st_size > 10_000
