"""Everything the report pages read: variables, Markdown tables and figures of an edition.

The pages of ``report/`` compute nothing: every number they show comes from
``build/<edition>/report/_variables.yml`` (Quarto's ``{{< var >}}`` file, already formatted the
French way), every table from a Markdown partial under ``tables/`` and every chart from a PNG
under ``figures/`` — all written here from the build's tables.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import yaml

from barometre.composite import load_spec
from barometre.config import EditionConfig, PalmaresRule, count_labels, exposure_phrase
from barometre.io import atomic_write_text, sha256_file
from barometre.pipeline import git_commit, package_versions
from barometre.publish import PALETTE, method_text
from barometre.publish.fmt import (
    dataframe_to_markdown,
    fr_date,
    fr_list,
    fr_number,
    fr_percent,
)
from barometre.publish.french import Noun, capitalise, nombre, plural
from barometre.robustness.assumptions import assumptions_from_config
from barometre.robustness.uncertainty import QUANTILES as UNCERTAINTY_QUANTILES
from barometre.tables import read_table

ACCENT = PALETTE["primary"]
HIGHLIGHT = PALETTE["accent"]
TINT = PALETTE["primary-tint"]
MUTED = PALETTE["muted"]
CREATION = Noun("création", "créations", feminine=True)
LAUREATE = Noun("lauréat", "lauréats")
SOBOL_CLIP_NOTE = (
    "Un indice de Sobol est positif ou nul : une estimation négative, due au bruit de "
    "l'estimateur, est affichée comme 0,00, et son intervalle de confiance à 95 % (bootstrap) "
    "est borné à 0."
)
MENTION = Noun("mention", "mentions", feminine=True)
DEMO_MARK = "Données de démonstration synthétiques"
SOURCE_NOTE = {
    True: "Source : données de démonstration synthétiques (générateur du projet), populations légales INSEE.",
    False: "Sources : RNA (data.gouv.fr), HelloAsso, JeVeuxAider.gouv.fr, populations légales INSEE.",
}


def _lower(text: str) -> str:
    """First letter in lower case (a title inside a sentence or after « Critère : »)."""
    return text[:1].lower() + text[1:]


def slug(text: str) -> str:
    """ASCII identifier of a label ("Petite ville" → "petite_ville")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")


def save_figure(fig: plt.Figure, path: Path) -> Path:
    """Save a PNG without time-dependent metadata (byte-identical across builds)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=160, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return path


def _style() -> None:
    plt.rcParams.update(
        {
            "font.family": "DejaVu Sans",
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titleweight": "bold",
            "axes.titlesize": 10,
            "axes.formatter.use_locale": False,
        }
    )


def _fr_axis(ax: plt.Axes, axis: str = "x", decimals: int = 0) -> None:
    formatter = matplotlib.ticker.FuncFormatter(lambda v, _: fr_number(v, decimals))
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(formatter)


def figure_scores_by_class(
    communes: pd.DataFrame, labels: list[str], path: Path, demo: bool
) -> Path:
    """Distribution of the score in each population class (seaborn box plots), laureates as dots
    (a seaborn strip plot)."""
    import seaborn as sns

    _style()
    fig, ax = plt.subplots(figsize=(7.0, 3.4))
    ranked = communes[communes["score"].notna() & communes["population_class"].isin(labels)]
    sns.boxplot(
        data=ranked,
        x="score",
        y="population_class",
        order=labels,
        ax=ax,
        showfliers=False,
        width=0.6,
        color=TINT,
        linecolor=ACCENT,
        linewidth=1,
    )
    # the decided laureates (status), not the nominal top of the class
    laureates = ranked[ranked["status"] == "Lauréat"]
    sns.stripplot(
        data=laureates,
        x="score",
        y="population_class",
        order=labels,
        ax=ax,
        color=HIGHLIGHT,
        size=4.5,
        # no jitter: seaborn draws it from NumPy's global state, which would make the figure
        # differ from one build to the next; the laureates' scores differ, so the dots do too
        jitter=False,
        zorder=3,
        label="Lauréats",
        legend=False,
    )
    handles = [
        matplotlib.lines.Line2D([], [], marker="o", linestyle="", color=HIGHLIGHT, label="Lauréats")
    ]
    ax.set_xlabel("Score Cités Vives (0–100)")
    ax.set_ylabel("")
    _fr_axis(ax, "x")
    # legend above the plot, where it cannot be mistaken for a laureate
    ax.legend(
        handles=handles,
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
        borderaxespad=0.2,
    )
    ax.set_title("Score par classe de population", loc="left")
    fig.text(0, -0.04, SOURCE_NOTE[demo], fontsize=7, color=MUTED)
    return save_figure(fig, path)


def figure_class_top(
    communes: pd.DataFrame, label: str, path: Path, demo: bool, n: int = 10
) -> Path:
    """The class's top ``n`` communes with their criterion scores (stacked contributions)."""
    _style()
    top = communes[communes.population_class == label].nsmallest(n, "rank_in_class").iloc[::-1]
    fig, ax = plt.subplots(figsize=(7.0, 0.32 * len(top) + 0.9))
    colours = {"Lauréat": HIGHLIGHT, "Mention": PALETTE["highlight"]}
    ax.barh(
        top["nom"], top["score"], color=[colours.get(s, PALETTE["rule"]) for s in top["status"]]
    )
    for y, value in enumerate(top["score"]):
        ax.text(value + 0.5, y, fr_number(value, 1), va="center", fontsize=7)
    from matplotlib.patches import Patch

    ax.legend(
        handles=[
            Patch(color=HIGHLIGHT, label="Lauréat"),
            Patch(color=PALETTE["highlight"], label="Mention"),
        ],
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
        ncol=2,
        borderaxespad=0.2,
    )
    ax.set_xlabel("Score Cités Vives")
    _fr_axis(ax, "x")
    ax.set_title(f"{label} : les {len(top)} meilleurs scores", loc="left")
    fig.text(0, -0.06, SOURCE_NOTE[demo], fontsize=7, color=MUTED)
    return save_figure(fig, path)


def figure_correlations(
    communes: pd.DataFrame, codes: list[str], titles: Mapping[str, str], path: Path
) -> Path:
    """Spearman correlation matrix of the indicators (per 1 000 inhabitants), a seaborn heatmap
    with French decimal commas and full indicator names (wrapped, never cut)."""
    import textwrap

    import seaborn as sns

    _style()
    rates = communes[[f"{c}_per_1000" for c in codes]]
    corr = rates.corr(method="spearman").to_numpy()
    names = [textwrap.fill(titles[c], 22) for c in codes]
    notes = np.vectorize(lambda v: fr_number(v, 2))(corr)
    fig, ax = plt.subplots(figsize=(6.2, 4.8))
    sns.heatmap(
        pd.DataFrame(corr, index=names, columns=names),
        ax=ax,
        cmap="RdBu_r",
        vmin=-1,
        vmax=1,
        annot=notes,
        fmt="",
        annot_kws={"fontsize": 7},
        linewidths=0.5,
        linecolor="white",
        square=True,
        cbar_kws={"shrink": 0.8},
    )
    ax.tick_params(axis="x", rotation=40, labelsize=7.5)
    plt.setp(ax.get_xticklabels(), ha="right", rotation_mode="anchor")
    ax.tick_params(axis="y", rotation=0, labelsize=7.5)
    ax.collections[0].colorbar.ax.yaxis.set_major_formatter(
        matplotlib.ticker.FuncFormatter(lambda v, _: fr_number(v, 1))
    )
    ax.set_title("Corrélations de rang (Spearman) entre indicateurs")
    return save_figure(fig, path)


def figure_funnels(
    communes: pd.DataFrame, meta: Mapping[str, Any], path: Path, laureates: set[str]
) -> Path:
    """Funnel plots of the count indicators: raw rate against population, overdispersion-adjusted
    control limits (95 % and 99,8 %) around the national rate, laureates named (Spiegelhalter,
    2005).

    The limits are Spiegelhalter's additive random-effects limits, ``τ²`` estimated from the
    data (:func:`barometre.smallarea.estimate_overdispersion`; each panel prints ``φ``): pure
    Poisson limits would flag most large communes, which says the rates are heterogeneous, not
    that those communes are outliers. The y axis reaches every laureate.
    """
    from barometre.smallarea.funnels import estimate_overdispersion, plot_funnel

    _style()
    count_indicators = [i for i in meta["indicators"] if "count" in i]
    ncols = 2
    nrows = -(-len(count_indicators) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(7.0, 3.0 * nrows))
    flat = np.atleast_1d(axes).ravel()
    for ax, ind in zip(flat, count_indicators, strict=False):
        data = communes[communes[ind["code"]].notna() & (communes["population"] > 0)]
        target = data[ind["code"]].sum() / data["population"].sum() * 1000
        # overdispersion needs a positive national rate and two communes (small builds may
        # have neither): otherwise the plain Poisson limits
        usable = int((data[ind["code"]].notna() & (data["population"] > 0)).sum())
        spread = (
            estimate_overdispersion(data[ind["code"]], data["population"], target)
            if target > 0 and usable >= 2
            else None
        )
        is_laureate = data["code_commune"].isin(laureates)
        if usable == 0:
            ax.axis("off")
            continue
        plot_funnel(
            ax,
            data[ind["code"]],
            data["population"],
            target,
            highlight=is_laureate,
            ylabel="pour 1 000 hab.",
            tau2=spread.tau2 if spread is not None else None,
        )
        title = ind["short"][:1].upper() + ind["short"][1:]
        ax.set_title(
            f"{title} (φ = {fr_number(spread.phi, 1)})" if spread is not None else title, fontsize=9
        )
        rates = data[ind["code"]] / data["population"] * 1000
        top = max(
            np.nanquantile(rates, 0.995),
            target * 3,
            (rates[is_laureate].max() if is_laureate.any() else 0) * 1.12,
        )
        ax.set_ylim(0, top if top > 0 else 1.0)  # an indicator at zero everywhere
        for _, row in data[is_laureate].iterrows():
            ax.annotate(
                row["nom"],
                (row["population"], row[ind["code"]] / row["population"] * 1000),
                xytext=(3, 2),
                textcoords="offset points",
                fontsize=5.8,
                color=PALETTE["ink"],
            )
        _fr_axis(ax, "y", 1)
        ax.get_legend().remove() if ax is not flat[0] and ax.get_legend() else None
    if flat[0].get_legend():
        # one legend for all panels, outside the data
        handles, names = flat[0].get_legend_handles_labels()
        flat[0].get_legend().remove()
        names = [n.replace("Limites à", "Limites (surdispersion) à") for n in names]
        fig.legend(
            handles,
            names,
            loc="lower center",
            ncol=len(names),
            frameon=False,
            fontsize=7,
            bbox_to_anchor=(0.5, -0.02),
        )
    for ax in flat[len(count_indicators) :]:
        ax.axis("off")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return save_figure(fig, path)


#: Captions of the numbered tables of the report (« Tableau N – … »), by partial name; a
#: partial not listed is printed without number (e.g. the software versions).
TABLE_CAPTIONS = {
    "classes": "Classes de population : communes classées et score médian.",
    "indicators": "Critères, indicateurs, unités et sources.",
    "eligibility": "Communes écartées du classement, par règle d'éligibilité et par classe.",
    "count_model": "Modèle de comptage : paramètres estimés par indicateur.",
    "count_model_calibration": "Calibration du modèle de comptage sur simulation.",
    "shrinkage_weights": "Poids médian de la donnée propre de la commune dans son taux classé.",
    "rates_effect": "Effet du modèle de comptage sur le palmarès (taux classés ou taux bruts).",
    "methods_comparison": "Ce que change l'autre méthode, classe par classe.",
    "treatment": "Traitement des valeurs extrêmes, par indicateur.",
    "correlations": "Corrélations de chaque élément avec son parent et avec le score.",
    "cronbach": "Cohérence interne des critères (alpha de Cronbach).",
    "pca": "Part de variance du premier axe de l'analyse en composantes principales.",
    "weight_removal": "Sensibilité à la pondération : retrait de chaque élément.",
    "rank_sets": "Ensembles de confiance des rangs des premières communes.",
    "robustness_laureates": "Robustesse des premières communes de chaque classe.",
    "robustness_classes": "Robustesse du classement, par classe.",
    "robustness_split": "Part de la variance due à l'aléa d'échantillonnage et aux choix de méthode.",
    "robustness_sobol": "Indices de Sobol' des hypothèses de construction.",
    "match_report": "Rattachement des enregistrements des sources aux communes.",
    "inputs": "Empreintes des fichiers d'entrée.",
}


def table_caption(name: str, class_labels: list[str]) -> str | None:
    """Caption of the report's table partial ``name`` (None: an unnumbered table)."""
    for label in class_labels:
        if name == f"palmares_{slug(label)}":
            return f"Palmarès : {label}."
    return TABLE_CAPTIONS.get(name)


def table_label(name: str) -> str:
    """Cross-reference label of a table partial: ``tbl-`` and the name (``tbl-count-model``)."""
    return "tbl-" + name.replace("_", "-")


def palmares_rule_sentence(config: EditionConfig, n_runs: int) -> str:
    """The decision rule of the palmarès in French, from the edition config."""
    rule, k = config.palmares_rule, config.palmares_size
    return (
        f"Une commune est lauréate lorsque sa probabilité d'être parmi les {k} premières de sa classe "
        f"— estimée sur {fr_number(n_runs)} scénarios qui combinent l'aléa d'échantillonnage des "
        f"comptages et les choix de méthode — atteint {fr_percent(rule.laureate_min_probability * 100, 0)} "
        f"et qu'elle appartient à l'ensemble des communes qui contient, avec une confiance de "
        f"{fr_percent(rule.tau_best_coverage * 100, 0)}, les {k} meilleures de la classe. Les autres "
        f"communes de cet ensemble dont la probabilité atteint "
        f"{fr_percent(rule.mention_min_probability * 100, 0)} reçoivent une mention. Une classe peut "
        f"donc décerner moins de {k} prix ; des lauréates dont les ensembles de confiance des rangs "
        f"({fr_percent(rule.simultaneous_coverage * 100, 0)}) se recouvrent sont ex aequo et citées "
        "par ordre alphabétique." + rank_bound_sentence(rule)
    )


def rank_bound_sentence(rule: PalmaresRule) -> str:
    """The optional bound on a laureate's rank set in French (empty when not applied)."""
    share, rank = rule.max_rank_upper_share, rule.max_rank_upper
    if share is None and rank is None:
        return ""
    if share is None:
        where = f"au {fr_number(rank)}e rang au plus"
    else:
        where = (
            f"dans les {fr_percent(share * 100, 0)} premières communes éligibles de sa classe"
            + (f" (ou au {fr_number(rank)}e rang si c'est plus loin)" if rank is not None else "")
        )
    return (
        " Une lauréate doit de plus avoir un ensemble de confiance simultané de son rang qui "
        f"s'arrête {where} : les données la placent alors parmi les meilleures de sa classe, "
        "pas seulement probablement ; sinon, elle reçoit une mention. Une classe où ces ensembles "
        "couvrent presque toute la classe ne décerne donc pas de prix."
    )


def eligibility_sentence(config: EditionConfig) -> str:
    """The eligibility rules in French, from the edition config (fixed before ranking)."""
    rules = config.eligibility
    parts = []
    if rules.min_population:
        parts.append(f"compter au moins {fr_number(rules.min_population)} habitants")
    if rules.min_information:
        parts.append(
            f"réunir au moins {fr_number(rules.min_information.minimum)} sources d'information distinctes "
            "(associations créées ou inscrites, associations ayant lancé des campagnes, missions de bénévolat)"
        )
    if rules.min_reliability:
        parts.append(
            f"avoir un score fiable à au moins {fr_percent(rules.min_reliability.minimum * 100, 0)}"
        )
    if rules.min_coverage:
        parts.append(
            f"disposer d'au moins {fr_percent(rules.min_coverage.minimum_share * 100, 0)} des indicateurs"
        )
    if not parts:
        return "Toutes les communes peuvent être classées."
    listed = ", ".join(parts[:-1]) + (" et " if len(parts) > 1 else "") + parts[-1]
    return f"Pour être classée, une commune doit {listed} ; ces règles sont fixées avant tout classement."


def write_report_artefacts(
    build_dir: Path, config: EditionConfig, meta: Mapping[str, Any], demo: bool
) -> list[Path]:
    """Write ``report/_variables.yml``, ``report/tables/*.md`` and ``report/figures/*.png``."""
    report = build_dir / "report"
    tables_dir, figures_dir = report / "tables", report / "figures"
    written: list[Path] = []
    for folder in (tables_dir, figures_dir):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    # figures made by earlier steps (robustness) travel with the report
    for figure in sorted((build_dir / "figures").glob("*.png")):
        shutil.copyfile(figure, figures_dir / figure.name)
        written.append(figures_dir / figure.name)
    communes = read_table(
        build_dir / "work" / "communes.csv"
    )  # exact values: figures and medians only
    palmares = read_table(build_dir / "tables" / "palmares.csv")
    matches = read_table(build_dir / "tables" / "match_report.csv")
    audit_dir = build_dir / "tables" / "audit"
    spec = load_spec(config.path(config.index_spec))
    labels = list(config.classes.labels)
    indicators = meta["indicators"]
    codes = [i["code"] for i in indicators]
    titles = {i["code"]: i["short"] for i in indicators}

    def table(name: str, frame: pd.DataFrame, **kwargs: Any) -> None:
        path = tables_dir / f"{name}.md"
        caption = table_caption(name, labels)
        if caption is not None:
            kwargs.setdefault("caption", caption)
            kwargs.setdefault("label", table_label(name))
        atomic_write_text(path, dataframe_to_markdown(frame, **kwargs) + "\n")
        written.append(path)

    def markdown(name: str, text: str) -> None:
        path = tables_dir / f"{name}.md"
        atomic_write_text(path, text.rstrip() + "\n")
        written.append(path)

    # the demo banner of the pages: a div on demo data, nothing on real extracts
    markdown("demo_mark", f"::: {{.demo-mark}}\n{DEMO_MARK}\n:::" if demo else "")

    # --- variables ------------------------------------------------------------------------
    # national figures over every commune of the geography (ranked or not)
    everyone = read_table(build_dir / "work" / "count_model_input.csv")
    totals = {
        c: everyone[c].sum()
        for c in (
            "rna_creations",
            "ha_new_organizations",
            "ha_campaigns",
            "ha_participants",
            "jva_matches",
        )
    }
    ranked = communes["score"].notna()
    classes = {}
    for n, label in enumerate(labels):
        members = communes[communes.population_class == label]
        low = config.classes.bounds[n - 1] if n > 0 else 0
        high = config.classes.bounds[n] if n < len(config.classes.bounds) else None
        classes[slug(label)] = {
            "label": label,
            "communes": fr_number(int((everyone["population_class"] == label).sum())),
            "ranked": fr_number(int(members["score"].notna().sum())),
            "bounds": (
                f"moins de {fr_number(high)} habitants"
                if n == 0
                else f"plus de {fr_number(low)} habitants"
                if high is None
                else f"de {fr_number(low)} à {fr_number(high - 1)} habitants"
            ),
            "median_score": fr_number(members["score"].median(), 1),
        }
    variables: dict[str, Any] = {
        "edition": str(config.edition),
        "title": config.title,
        "data_year": str(config.data_year),
        "cog_year": str(config.cog_year),
        "population_year": str(config.population_year),
        "seed": str(config.seed),
        "publication_date": fr_date(config.cover_date),
        "palmares_size": str(config.palmares_size),
        "laureates_count": fr_number(int((palmares["status"] == "Lauréat").sum())),
        "mentions_count": fr_number(int((palmares["status"] == "Mention").sum())),
        "classes_count": fr_number(len(labels)),
        "demo_mark": DEMO_MARK if demo else "aucune (données réelles)",
        "source_note": SOURCE_NOTE[demo],
        "national": {
            "communes": fr_number(len(everyone)),
            "communes_ranked": fr_number(int(ranked.sum())),
            "population": fr_number(everyone["population"].sum()),
            **{k: fr_number(v) for k, v in totals.items()},
            # the rate in the indicator's own unit (config/indicators.yml), never another scale
            "rna_creations_rate": (
                nombre(
                    totals["rna_creations"]
                    / everyone["population"].sum()
                    * spec.steps.denominate.scale,
                    CREATION,
                    decimals=1,
                )
                + f" pour {fr_number(spec.steps.denominate.scale)} habitants"
            ),
            "indicators": fr_number(len(indicators)),
            "indicators_exposure": exposure_phrase(meta),
            "criteria": fr_number(len(meta["criteria"])),
            "criteria_sentence": method_text.criteria_sentence(meta),
            # the key figure names the JeVeuxAider count by its indicator's title (the full
            # label is in the paragraph above it)
            "jva_key_label": next(
                i["title"][:1].lower() + i["title"][1:]
                for i in indicators
                if i["code"] == "jva_matches"
            ),
        },
        # how the pages name a count whose definition the edition chose (config/indicators.yml)
        "labels": count_labels(meta),
        "classes": classes,
        "method": {
            # every method fact of the pages, written from the index spec, the indicator
            # metadata and the edition config (barometre.publish.method_text)
            "summary": method_text.method_summary(
                spec, config.weights, meta, exposure_phrase(meta), len(labels)
            ),
            "criteria": method_text.criteria_sentence(meta),
            "normalisation": method_text.normalisation_phrase(spec.steps.normalise),
            "scale": method_text.scale_phrase(spec.steps.normalise),
            "aggregation": method_text.aggregation_sentence(spec, config.weights, meta),
            "treatment": method_text.treatment_sentence(spec.steps.treat),
            "rates": method_text.rates_sentence(spec, meta),
            "rate_scale": fr_number(spec.steps.denominate.scale),
            "scenarios": method_text.scenarios_sentence(
                assumptions_from_config(config.extra), meta
            ),
            "winmax": fr_number(spec.steps.treat.winmax),
            "skew_threshold": fr_number(spec.steps.treat.skew_threshold, 1),
            "kurt_threshold": fr_number(spec.steps.treat.kurt_threshold, 1),
            "min_share": fr_percent(spec.steps.aggregate.min_share_at(2) * 100, 0),
            "min_population": fr_number(config.eligibility.min_population or 0),
        },
    }

    # from 2025: the donations, when the edition has the indicator (an empty include otherwise)
    markdown(
        "national_donations",
        f"Les associations ont par ailleurs reçu {fr_number(everyone['ha_donations'].sum())} dons sur "
        "HelloAsso, que mesure le critère « "
        + next(
            (
                _lower(c["title"])
                for c in meta["criteria"]
                for i in indicators
                if i["code"] == "ha_donations" and i["criterion"] == c["code"]
            ),
            "",
        )
        + " »."
        if "ha_donations" in codes and "ha_donations" in everyone.columns
        else "",
    )

    # --- robustness (uncertainty and sensitivity analyses) ---------------------------------
    robustness_dir = build_dir / "tables" / "robustness"
    stability = read_table(robustness_dir / "laureate_stability.csv").set_index("code_commune")
    class_summary = read_table(robustness_dir / "class_summary.csv")
    analysis = read_table(robustness_dir / "analysis.csv").set_index("item")["value"]
    sobol = read_table(robustness_dir / "sobol.csv")
    top_k = config.palmares_size
    interval_text = fr_percent((UNCERTAINTY_QUANTILES[-1] - UNCERTAINTY_QUANTILES[0]) * 100, 0)
    table(
        "robustness_laureates",
        pd.DataFrame(
            {
                "Classe": stability["population_class"],
                "Rang": stability["nominal_rank"].astype(int),
                "Commune": stability["nom"],
                "Rang médian": stability["median_rank"],
                f"Rangs de {interval_text} des scénarios": [
                    f"{fr_number(a)}–{fr_number(b)}"
                    for a, b in zip(stability["rank_p05"], stability["rank_p95"], strict=True)
                ],
                f"Part des scénarios dans le top {top_k}": stability["stability"],
                "Hypothèse la plus influente": stability["driver_label"],
            }
        ),
        formats={
            "Rang médian": lambda v: fr_number(v, 1 if v % 1 else 0),
            f"Part des scénarios dans le top {top_k}": lambda v: fr_percent(v * 100, 0),
        },
        align={
            "Rang": "right",
            "Rang médian": "right",
            f"Rangs de {interval_text} des scénarios": "right",
            f"Part des scénarios dans le top {top_k}": "right",
        },
    )
    table(
        "robustness_classes",
        pd.DataFrame(
            {
                "Classe": class_summary["population_class"],
                "Communes": class_summary["n_units"],
                "Écart moyen de rang": class_summary["mean_abs_shift"],
                "Stabilité moyenne des lauréats": class_summary["laureate_stability_mean"],
                "Rang nominal dans l'intervalle": class_summary["share_nominal_in_interval"],
                "À ±3 rangs du nominal": class_summary["share_within_3"],
            }
        ),
        # a mean shift of hundreds of ranks is not known to the tenth: one decimal below 10 only
        formats={
            "Communes": fr_number,
            "Écart moyen de rang": lambda v: fr_number(v, 1 if abs(v) < 10 else 0),
            "Stabilité moyenne des lauréats": lambda v: fr_percent(v * 100, 0),
            "Rang nominal dans l'intervalle": lambda v: fr_percent(v * 100, 0),
            "À ±3 rangs du nominal": lambda v: fr_percent(v * 100, 0),
        },
        align={
            c: "right"
            for c in (
                "Communes",
                "Écart moyen de rang",
                "Stabilité moyenne des lauréats",
                "Rang nominal dans l'intervalle",
                "À ±3 rangs du nominal",
            )
        },
    )
    changed = sobol[sobol["output"] == "laureates_changed"]

    def with_interval(estimate: float, half_width: float) -> str:
        # an estimate below zero is sampling noise of the estimator (a Sobol' index is >= 0):
        # shown as 0, with its confidence interval bounded at 0 (note under the table)
        low, high = max(estimate - half_width, 0.0), max(estimate + half_width, 0.0)
        return f"{fr_number(max(estimate, 0.0), 2)} ({fr_number(low, 2)}–{fr_number(high, 2)})"

    sobol_frame = pd.DataFrame(
        {
            "Hypothèse": changed["factor_label"],
            "Indice de premier ordre (IC 95 %)": [
                with_interval(e, h) for e, h in zip(changed["S1"], changed["S1_conf"], strict=True)
            ],
            "Indice total (IC 95 %)": [
                with_interval(e, h) for e, h in zip(changed["ST"], changed["ST_conf"], strict=True)
            ],
        }
    )
    clipped = int(((changed["S1"] < 0) | (changed["ST"] < 0)).sum())
    markdown(
        "robustness_sobol",
        dataframe_to_markdown(
            sobol_frame,
            align={"Indice de premier ordre (IC 95 %)": "right", "Indice total (IC 95 %)": "right"},
        )
        + ("\n" + SOBOL_CLIP_NOTE if clipped else ""),
    )
    # per-class interval figures (a class without ranked communes has none)
    interval_figures = []
    from barometre.robustness.figures import slug as figure_slug

    for label in labels:
        # the robustness step names them with its own slug (« petite-ville »)
        name = f"robustness_intervals_{figure_slug(label)}.png"
        if (figures_dir / name).exists():
            interval_figures.append(
                f"![{label} : rangs des premières communes — médiane et intervalle 5–95 % sur "
                f"l'ensemble des scénarios.](figures/{name}){{#fig-intervals-{figure_slug(label)} width=90%}}\n"
            )
    markdown(
        "robustness_interval_figures",
        "\n".join(interval_figures) or "Aucune classe ne compte de commune classée.",
    )
    # sampling versus method: Sobol' indices of the mean rank shift of each class
    split_rows = []
    for label in labels:
        rows = sobol[sobol["output"] == f"mean_abs_shift:{label}"]
        if rows.empty:
            continue
        sampling_row = rows[rows["factor"] == "sampling"]
        method = rows[rows["factor"] != "sampling"]
        top_method = method.sort_values("ST", ascending=False).iloc[0] if len(method) else None
        split_rows.append(
            {
                "Classe": label,
                "Échantillonnage (1er ordre)": float(sampling_row["S1"].iloc[0])
                if len(sampling_row)
                else float("nan"),
                "Échantillonnage (total)": float(sampling_row["ST"].iloc[0])
                if len(sampling_row)
                else float("nan"),
                "Méthode (1ers ordres)": float(method["S1"].clip(lower=0).sum()),
                "Choix le plus influent": (
                    f"{top_method['factor_label']} ({fr_number(top_method['ST'], 2)})"
                    if top_method is not None
                    else "–"
                ),
            }
        )
    split = pd.DataFrame(split_rows)
    index_format = {
        c: (lambda v: fr_number(max(v, 0.0), 2))
        for c in split.columns
        if c not in ("Classe", "Choix le plus influent")
    }
    split_clipped = any((split[c] < 0).any() for c in index_format) if len(split) else False
    markdown(
        "robustness_split",
        dataframe_to_markdown(split, formats=index_format, align={c: "right" for c in index_format})
        + ("\n" + SOBOL_CLIP_NOTE if split_clipped else ""),
    )
    # confidence sets for ranks: the τ-best set of each class
    decision = read_table(build_dir / "work" / "palmares_decision.csv")
    set_rows = []
    for label in labels:
        members = decision[
            (decision["population_class"] == label) & decision["in_tau_best"].astype(bool)
        ]
        members = members.sort_values(["p_top", "nom"], ascending=[False, True]).head(10)
        for r in members.itertuples():
            set_rows.append(
                {
                    "Classe": label,
                    "Commune": r.nom,
                    "Statut": r.status if isinstance(r.status, str) else "",
                    f"Probabilité top {top_k}": r.p_top,
                    "Ensemble simultané": f"{fr_number(r.cs_lower)}–{fr_number(r.cs_upper)}"
                    if pd.notna(r.cs_lower)
                    else "–",
                    "Ensemble marginal": f"{fr_number(r.cs_marginal_lower)}–{fr_number(r.cs_marginal_upper)}"
                    if pd.notna(r.cs_marginal_lower)
                    else "–",
                }
            )
    table(
        "rank_sets",
        pd.DataFrame(set_rows) if set_rows else pd.DataFrame({"Classe": ["–"]}),
        formats={f"Probabilité top {top_k}": lambda v: fr_percent(v * 100, 0)},
        align={
            f"Probabilité top {top_k}": "right",
            "Ensemble simultané": "right",
            "Ensemble marginal": "right",
        },
    )
    tau_sizes = decision[decision["in_tau_best"].astype(bool)].groupby("population_class").size()
    variables["rank_sets"] = {
        "coverage": fr_percent(config.palmares_rule.tau_best_coverage * 100, 0),
        "simultaneous": fr_percent(config.palmares_rule.simultaneous_coverage * 100, 0),
        "sizes": ", ".join(
            f"{label.lower()} {fr_number(int(tau_sizes.get(label, 0)))}" for label in labels
        ),
    }
    # the count model: its main parameters per indicator
    params = read_table(build_dir / "tables" / "count_model.csv")
    wide = params.pivot_table(index="indicator", columns="term", values="estimate", aggfunc="first")
    wide = wide.reindex([c for c in codes if c in wide.index])
    model_frame = pd.DataFrame(
        {
            "Indicateur": [titles.get(c, c) for c in wide.index],
            "Pente log(population)": wide.get("log_population"),
            "Dispersion α": wide.get("dispersion α"),
            "Écart type département τ": wide.get("département sd (τ)"),
            "Effet de grappe moyen": wide.get("pooled design effect"),
        }
    )
    table(
        "count_model",
        model_frame.reset_index(drop=True),
        formats={c: (lambda v: fr_number(v, 2)) for c in model_frame.columns if c != "Indicateur"},
        align={c: "right" for c in model_frame.columns if c != "Indicateur"},
    )
    calibration = read_table(build_dir / "tables" / "count_model_calibration.csv")
    table(
        "count_model_calibration",
        pd.DataFrame(
            {
                "Classe": calibration["population_class"],
                "Communes simulées": calibration["communes"],
                f"Couverture des intervalles à {fr_percent(config.shrinkage.credible * 100, 0)}": calibration[
                    "coverage"
                ],
                "EQM taux bruts": calibration["mse_raw"],
                "EQM loi a priori par classe": calibration["mse_class_moments"],
                "EQM modèle de comptage": calibration["mse_count_model"],
            }
        ),
        formats={
            "Communes simulées": fr_number,
            f"Couverture des intervalles à {fr_percent(config.shrinkage.credible * 100, 0)}": lambda v: (
                fr_percent(v * 100, 1)
            ),
            "EQM taux bruts": lambda v: fr_number(v, 3),
            "EQM loi a priori par classe": lambda v: fr_number(v, 3),
            "EQM modèle de comptage": lambda v: fr_number(v, 3),
        },
        align={
            c: "right"
            for c in (
                "Communes simulées",
                f"Couverture des intervalles à {fr_percent(config.shrinkage.credible * 100, 0)}",
                "EQM taux bruts",
                "EQM loi a priori par classe",
                "EQM modèle de comptage",
            )
        },
    )
    methods = read_table(build_dir / "tables" / "methods_comparison.csv")
    if len(methods):
        table(
            "methods_comparison",
            pd.DataFrame(
                {
                    "Classe": methods["population_class"],
                    "Classées par les deux": methods["ranked_by_both"],
                    "Corrélation des rangs": methods["spearman"],
                    f"Lauréats {config.edition} (rang avec l'autre méthode)": methods["laureates"]
                    .fillna("")
                    .replace("", "–"),
                    f"Top {top_k} de l'autre méthode": methods["other_top"]
                    .fillna("")
                    .replace("", "–"),
                }
            ),
            formats={
                "Classées par les deux": fr_number,
                "Corrélation des rangs": lambda v: fr_number(v, 2),
            },
            align={"Classées par les deux": "right", "Corrélation des rangs": "right"},
        )
        variables["methods"] = {
            "this": str(methods["this_method"].iloc[0]),
            "other": str(methods["other_method"].iloc[0]),
        }
    else:
        markdown("methods_comparison", "Aucune commune n'est classée par l'autre méthode.")
        variables["methods"] = {"this": "n.d.", "other": "n.d."}
    n_laureates_total = int((palmares["status"] == "Lauréat").sum())
    n_mentions_total = int((palmares["status"] == "Mention").sum())
    variables["palmares"] = {
        "rule": palmares_rule_sentence(config, int(analysis["n_runs"])),
        "eligibility": eligibility_sentence(config),
        "counts": (
            f"Cette édition compte {nombre(n_laureates_total, LAUREATE)} et "
            f"{nombre(n_mentions_total, MENTION)}."
        ),
    }
    stable = stability[stability["stability"] >= 0.5]
    variables["robustness"] = {
        "n_runs": fr_number(int(analysis["n_runs"])),
        "sobol_runs": fr_number(int(analysis["sobol_runs"])),
        "sobol_base": fr_number(int(analysis["sobol_base_samples"])),
        "laureates_stable": fr_number(len(stable)),
        "laureates_total": fr_number(len(stability)),
        "top": str(top_k),
        # the rank interval of every commune: between the quantiles of barometre.robustness
        "interval": interval_text,
        "main_driver": changed.sort_values("ST", ascending=False)["factor_label"].iloc[0].lower()
        if len(changed)
        else "n.d.",
    }

    # --- palmarès tables and laureate cards -----------------------------------------------
    from barometre.geography import load_departements
    from barometre.publish import cards as palmares_pages

    awards = read_table(build_dir / "tables" / "palmares_awards.csv").set_index("population_class")
    rule = config.palmares_rule
    n_runs_text = fr_number(int(analysis["n_runs"]))
    # exact counts and their cluster statistics (confidential): printed only through disclosure
    counts = read_table(build_dir / "work" / "commune_counts.csv").set_index("code_commune")
    # the engine's counts: a structural gap (e.g. no RNA in Alsace-Moselle) is missing, not zero
    engine_counts = communes.set_index("code_commune")
    for column in [c for c in counts.columns if c in engine_counts.columns]:
        counts[column] = engine_counts[column].reindex(counts.index)
    rates = read_table(build_dir / "work" / "shrinkage.csv").set_index(
        ["code_commune", "indicator"]
    )
    department_names = load_departements(config.cog_year).set_index("code_departement")["nom"]
    laureate_threshold = fr_percent(rule.laureate_min_probability * 100, 0)
    cards = []
    for label in labels:
        rows = palmares[palmares.population_class == label]
        frame = pd.DataFrame(
            {
                "Statut": rows["status"],
                "Commune": rows["nom"],
                "Dép.": rows["code_departement"],
                "Population": rows["population"],
                f"Probabilité d'être dans le top {top_k}": rows["p_top"],
                f"Rang médian (rangs de {interval_text} des scénarios)": [
                    f"{fr_number(m)} ({fr_number(a)}–{fr_number(b)})"
                    for m, a, b in zip(
                        rows["rank_median"], rows["rank_p05"], rows["rank_p95"], strict=True
                    )
                ],
            }
        )
        table(
            f"palmares_{slug(label)}",
            frame,
            formats={
                "Population": fr_number,
                f"Probabilité d'être dans le top {top_k}": lambda v: fr_percent(v * 100, 0),
            },
            align={
                "Population": "right",
                f"Probabilité d'être dans le top {top_k}": "right",
                f"Rang médian (rangs de {interval_text} des scénarios)": "right",
            },
        )
        award = awards.loc[label] if label in awards.index else None
        eligible = int(award["eligible"]) if award is not None else 0
        n_laureates = int(award["laureates"]) if award is not None else 0
        # the class's introduction stays on the page of its chart (keep-with-next); each laureate's
        # fact sheet is a card, an unbreakable block never split across pages
        section = [
            f"## {label}\n",
            "::: {.keep-with-next}\n",
            palmares_pages.class_intro(classes[slug(label)]["bounds"], eligible)
            + " "
            + palmares_pages.awards_sentence(
                eligible,
                n_laureates,
                top_k,
                laureate_threshold,
                config.palmares_rule.rank_bound(eligible),
            )
            + (
                " " + palmares_pages.mentions_sentence(rows[rows["status"] == "Mention"], top_k)
                if (rows["status"] == "Mention").any()
                else ""
            )
            + "\n",
            ":::\n",
        ]
        chart = palmares_pages.figure_class_palmares(
            decision,
            label,
            figures_dir / f"palmares_{slug(label)}.png",
            top_k=top_k,
            laureate_min=rule.laureate_min_probability,
            mention_min=rule.mention_min_probability,
            source_note=SOURCE_NOTE[demo],
            interval=variables["robustness"]["interval"],
        )
        if chart is not None:
            written.append(chart)
            section.append(
                f"![{label} : les communes les plus susceptibles de figurer parmi les {top_k} premières "
                f"de la classe — probabilité sur {n_runs_text} scénarios et rangs occupés dans "
                f"{variables['robustness']['interval']} d'entre eux ; en couleur, les lauréates et les "
                f"mentions.](figures/{chart.name}){{#fig-palmares-{slug(label).replace('_', '-')} width=100%}}\n"
            )
        laureate_rows = rows[rows["status"] == "Lauréat"]
        ex_aequo = laureate_rows["ex_aequo_group"].value_counts()
        for row in laureate_rows.itertuples():
            department = f"{department_names.get(row.code_departement, row.code_departement)}, {row.code_departement}"
            section.append(
                "::: {.card}\n\n"
                + palmares_pages.laureate_card(
                    row,
                    department,
                    meta,
                    counts,
                    rates,
                    data_year=config.data_year,
                    top_k=top_k,
                    n_runs=n_runs_text,
                    interval=variables["robustness"]["interval"],
                    credible=fr_percent(config.shrinkage.credible * 100, 0),
                    simultaneous=fr_percent(rule.simultaneous_coverage * 100, 0),
                    tied=ex_aequo.get(row.ex_aequo_group, 0) > 1,
                )
                + "\n\n:::\n"
            )
        cards.append("\n".join(section))
    markdown("laureates", "\n".join(cards))
    summary = pd.DataFrame(
        {
            "Classe": labels,
            "Population": [classes[slug(l)]["bounds"] for l in labels],
            "Communes classées": [classes[slug(l)]["ranked"] for l in labels],
            "Score médian": [classes[slug(l)]["median_score"] for l in labels],
        }
    )
    table("classes", summary, align={"Communes classées": "right", "Score médian": "right"})

    # --- from 2025: departmental palmarès and year-over-year changes ------------------------
    extras: list[str] = []
    yoy_laureates_path = build_dir / "tables" / "yoy_laureates.csv"
    if yoy_laureates_path.exists():
        yoy = read_table(yoy_laureates_path)
        changes = read_table(build_dir / "tables" / "yoy_rank_changes.csv")
        previous = str(config.previous_edition)
        retained = yoy[yoy.status == "retained"]
        new = yoy[yoy.status == "new"]
        lines = [
            f"## Ce qui a changé depuis {previous}\n",
            (
                f"Parmi les {fr_number(len(retained) + len(new))} lauréats de {config.edition}, "
                + (
                    "aucun ne l'était"
                    if len(retained) == 0
                    else fr_number(len(retained))
                    + " "
                    + plural(len(retained), "l'était", "l'étaient")
                )
                + f" déjà en {previous} dans la même classe et "
                + (
                    "aucun ne fait son entrée"
                    if len(new) == 0
                    else f"{fr_number(len(new))} {plural(len(new), 'fait son', 'font leur')} entrée"
                )
                + " au palmarès. Sur les "
                f"{fr_number(int(changes['rank_change'].notna().sum()))} communes classées dans la même classe "
                f"les deux années, {fr_percent(float((changes['rank_change'].abs() <= 10).mean()) * 100, 0)} "
                "ont gagné ou perdu au plus 10 places.\n"
            ),
        ]
        frame = pd.DataFrame(
            {
                "Classe": yoy["population_class"],
                "Commune": yoy["nom"],
                f"Rang selon le score {config.edition}": yoy["rank_in_class"],
                "Statut": yoy["status"].map(
                    {
                        "retained": f"déjà lauréate en {previous}",
                        "new": "nouvelle lauréate",
                        "left": f"lauréate en {previous}, sortie du palmarès",
                    }
                ),
            }
        )
        lines.append(
            dataframe_to_markdown(
                frame,
                formats={
                    f"Rang selon le score {config.edition}": lambda v: (
                        fr_number(v) if pd.notna(v) else "non classée"
                    )
                },
                align={f"Rang selon le score {config.edition}": "right"},
            )
        )
        climbers = (
            changes.dropna(subset=["rank_change"])
            .sort_values(["rank_change", "code_commune"], ascending=[False, True])
            .head(10)
        )
        if len(climbers):
            lines.append("\n**Les plus fortes progressions dans leur classe.**\n")
            lines.append(
                dataframe_to_markdown(
                    pd.DataFrame(
                        {
                            "Commune": climbers["nom"],
                            "Classe": climbers["population_class"],
                            f"Rang {previous}": climbers["rank_in_class_previous"],
                            f"Rang {config.edition}": climbers["rank_in_class"],
                            "Progression": climbers["rank_change"],
                        }
                    ),
                    formats={
                        f"Rang {previous}": fr_number,
                        f"Rang {config.edition}": fr_number,
                        "Progression": lambda v: fr_number(v, signed=True),
                    },
                    align={
                        f"Rang {previous}": "right",
                        f"Rang {config.edition}": "right",
                        "Progression": "right",
                    },
                )
            )
        extras.append("\n".join(lines))
    departmental_path = build_dir / "tables" / "departmental_palmares.csv"
    if departmental_path.exists():
        from barometre.geography import load_departements

        dep_names = load_departements(config.cog_year).set_index("code_departement")["nom"]
        dep = read_table(departmental_path)
        size = config.departmental_palmares_size
        if "status" in dep.columns:
            frame = pd.DataFrame(
                {
                    "Département": [
                        f"{dep_names.get(c, c)} ({c})" for c in dep["code_departement"]
                    ],
                    "Statut": dep["status"],
                    "Commune": dep["nom"],
                    "Classe": dep["population_class"],
                    f"Probabilité d'être parmi les {size} premières": dep["p_top"],
                }
            )
            n_laureates = int((dep["status"] == "Lauréat").sum())
            intro = (
                "Dans chaque département, toutes classes de population confondues, la règle du "
                f"palmarès national s'applique : une commune éligible est lauréate lorsque sa probabilité "
                f"d'être parmi les {fr_number(size)} premières du département atteint "
                f"{fr_percent(config.palmares_rule.laureate_min_probability * 100, 0)} et qu'elle appartient "
                f"à l'ensemble de confiance des {fr_number(size)} meilleures (au plus {fr_number(size)} "
                "lauréates par département : les plus probables ; les autres communes qui remplissent ces "
                "conditions reçoivent une mention) ; "
                + (
                    "aucune commune n'est lauréate."
                    if n_laureates == 0
                    else f"{nombre(n_laureates, Noun('commune est lauréate', 'communes sont lauréates', feminine=True))} "
                    f"dans {nombre(dep.loc[dep['status'] == 'Lauréat', 'code_departement'].nunique(), Noun('département', 'départements'))}."
                )
            )
            formats = {
                f"Probabilité d'être parmi les {size} premières": lambda v: fr_percent(v * 100, 0)
            }
            align = {f"Probabilité d'être parmi les {size} premières": "right"}
        else:
            frame = pd.DataFrame(
                {
                    "Département": [
                        f"{dep_names.get(c, c)} ({c})" for c in dep["code_departement"]
                    ],
                    "Rang": dep["rank_in_departement"],
                    "Commune": dep["nom"],
                    "Classe": dep["population_class"],
                    "Score": dep["score"],
                }
            )
            intro = (
                f"Les {fr_number(size)} communes au meilleur score de chaque département, toutes "
                "classes de population confondues (classement nominal, sans analyse d'incertitude)."
            )
            formats = {"Rang": fr_number, "Score": lambda v: fr_number(v, 1)}
            align = {"Rang": "right", "Score": "right"}
        extras.append(
            f"## Le palmarès départemental\n\n{intro}\n\n"
            + dataframe_to_markdown(frame, formats=formats, align=align)
        )
    markdown("edition_extras", "\n\n".join(extras) if extras else "")

    # --- methodology tables -------------------------------------------------------------------
    crit_title = {c["code"]: c["title"] for c in meta["criteria"]}
    eff = read_table(audit_dir / "audit_effective_weights.csv").set_index("element")[
        "effective_weight"
    ]
    table(
        "indicators",
        pd.DataFrame(
            {
                "Critère": [crit_title[i["criterion"]] for i in indicators],
                "Indicateur": [i["title"] for i in indicators],
                "Unité": [i["unit"] for i in indicators],
                "Source": [i["source"] for i in indicators],
                "Poids effectif": [eff[i["code"]] for i in indicators],
            }
        ),
        formats={"Poids effectif": lambda v: fr_percent(v * 100, 1)},
        align={"Poids effectif": "right"},
    )
    markdown(
        "definitions",
        "\n".join(f"**{i['title']}.** {i['definition']}\n" for i in indicators),
    )
    treatment = read_table(build_dir / "work" / "stages" / "treatment_details.csv")
    applied = {"none": "aucun", "winsorised": "écrêtage", "log": "logarithme", "boxcox": "Box-Cox"}
    table(
        "treatment",
        pd.DataFrame(
            {
                "Indicateur": [capitalise(titles[c]) for c in treatment["indicator"]],
                "Asymétrie": treatment["skew_before"],
                "Aplatissement": treatment["kurt_before"],
                "Traitement": [applied.get(a, a) for a in treatment["applied"]],
                # no clipping tried: nothing to count (a dash, not « n.d. »)
                "Points écrêtés": [
                    fr_number(v) if pd.notna(v) else "–" for v in treatment["n_winsorised"]
                ],
            }
        ),
        formats={
            "Asymétrie": lambda v: fr_number(v, 2),
            "Aplatissement": lambda v: fr_number(v, 1),
            "Points écrêtés": str,
        },
        align={"Asymétrie": "right", "Aplatissement": "right", "Points écrêtés": "right"},
    )
    corr = read_table(audit_dir / "audit_correlations_pearson.csv")
    names = {**titles, **{c["code"]: c["title"] for c in meta["criteria"]}}
    table(
        "correlations",
        pd.DataFrame(
            {
                "Élément": [capitalise(names.get(e, e)) for e in corr["element"]],
                "Parent": [
                    names.get(p, "Score") if p != spec.root else "Score" for p in corr["parent"]
                ],
                "Corrélation avec le parent": corr["corr_with_parent"],
                "Corrélation avec le score": corr["corr_with_index"],
            }
        ),
        formats={
            "Corrélation avec le parent": lambda v: fr_number(v, 2),
            "Corrélation avec le score": lambda v: fr_number(v, 2),
        },
        align={"Corrélation avec le parent": "right", "Corrélation avec le score": "right"},
    )
    alpha = read_table(audit_dir / "audit_cronbach.csv")
    table(
        "cronbach",
        pd.DataFrame(
            {
                "Critère": [
                    names.get(a, "Score") if a != spec.root else "Score" for a in alpha["aggregate"]
                ],
                "Éléments": alpha["n_children"],
                # undefined for a single indicator: said in words, not « n.d. »
                "Alpha de Cronbach": [
                    fr_number(v, 2) if pd.notna(v) else "sans objet"
                    for v in alpha["cronbach_alpha"]
                ],
            }
        ),
        formats={"Alpha de Cronbach": str},
        align={"Éléments": "right", "Alpha de Cronbach": "right"},
    )
    pca = read_table(audit_dir / "audit_pca_variance.csv")
    first = pca[pca.component == 1]
    table(
        "pca",
        pd.DataFrame(
            {
                "Critère": [
                    names.get(a, "Score") if a != spec.root else "Score" for a in first["aggregate"]
                ],
                "Part de variance du 1er axe": first["variance_share"],
            }
        ),
        formats={"Part de variance du 1er axe": lambda v: fr_percent(v * 100, 1)},
        align={"Part de variance du 1er axe": "right"},
    )
    removal = read_table(audit_dir / "audit_weight_removal.csv")
    removal = removal[removal.removed != "Nominal"]
    # shifts in the national ranking of the ranked communes, as a share of their number: a rank
    # change of 300 places means little without the size of the ranking it happens in
    n_ranked = max(int(communes["score"].notna().sum()), 1)
    criteria_codes = {c["code"] for c in meta["criteria"]}
    table(
        "weight_removal",
        pd.DataFrame(
            {
                "Élément dont le poids est mis à zéro": [
                    f"{'Critère' if r in criteria_codes else 'Indicateur'} : {_lower(names.get(r, r))}"
                    for r in removal["removed"]
                ],
                "Déplacement moyen": removal["mean_abs_rank_change"] / n_ranked,
                "Déplacement maximal": removal["max_abs_rank_change"] / n_ranked,
            }
        ),
        formats={
            "Déplacement moyen": lambda v: fr_percent(v * 100, 1),
            "Déplacement maximal": lambda v: fr_percent(v * 100, 0),
        },
        align={"Déplacement moyen": "right", "Déplacement maximal": "right"},
    )
    quarantined = matches["quarantined"] if "quarantined" in matches.columns else 0
    out_of_scope = matches["out_of_scope"] if "out_of_scope" in matches.columns else 0
    match_frame = pd.DataFrame(
        {
            # labels from config/indicators.yml (`sources`), never the internal codes
            "Source": [meta.get("sources", {}).get(code, code) for code in matches["source"]],
            "Lignes lues": matches["rows_read"],
            "En quarantaine": quarantined,
            "Hors champ": out_of_scope,
            "Rattachées": matches["matched"],
            "Non rattachées": matches["unmatched"],
        }
    )
    numeric = [c for c in match_frame.columns if c != "Source"]
    table(
        "match_report",
        match_frame,
        formats={c: fr_number for c in numeric},
        align={c: "right" for c in numeric},
    )
    versions = package_versions()
    git = git_commit()
    raw_dir = build_dir / "raw"
    raw_files = sorted(p for p in raw_dir.rglob("*") if p.is_file()) if raw_dir.exists() else []
    table(
        "inputs",
        pd.DataFrame(
            {
                "Fichier": [str(p.relative_to(build_dir)) for p in raw_files],
                "SHA-256 (début)": [sha256_file(p)[:16] for p in raw_files],
            }
        ),
    )
    table(
        "versions",
        pd.DataFrame({"Logiciel": list(versions), "Version": list(versions.values())}),
    )
    variables["reproducibility"] = {
        "commit": (git["commit"] or "inconnu")[:12],
        "python": versions["python"],
    }

    # --- small communes: eligibility, structural gaps, shrinkage, raw vs shrunk --------------
    eligibility = read_table(build_dir / "tables" / "eligibility.csv")
    rule_names = {
        "removed_population": "Population minimale",
        "removed_activity": "Activité minimale",
        "removed_coverage": "Couverture des données",
        "removed_information": "Sources d'information distinctes",
        "removed_reliability": "Fiabilité du score",
    }
    elig = pd.DataFrame(
        {"Classe": eligibility["population_class"], "Communes": eligibility["total"]}
    )
    for column in eligibility.columns:
        if column.startswith("removed_"):
            elig[f"Écartées : {rule_names.get(column, column).lower()}"] = eligibility[column]
    elig["Éligibles"] = eligibility["eligible"]
    table(
        "eligibility",
        elig,
        formats={c: fr_number for c in elig.columns if c != "Classe"},
        align={c: "right" for c in elig.columns if c != "Classe"},
    )
    gaps = read_table(build_dir / "tables" / "structural_gaps.csv")
    gap_text = []
    for gap in config.structural_gaps:
        blanked = int(gaps.loc[gaps["gap"] == gap.name, "cells_blanked"].sum())
        columns = ", ".join(titles.get(c, c) for c in gap.columns)
        where = ", ".join(gap.departments + gap.communes)
        gap_text.append(
            f"- **{columns}** (départements ou communes : {where}) — {gap.reason} "
            f"{fr_number(blanked)} valeurs communales sont traitées comme manquantes."
        )
    markdown(
        "structural_gaps",
        "\n".join(gap_text)
        if gap_text
        else "Aucune lacune structurelle n'est déclarée pour cette édition.",
    )
    markdown(
        "limits_gaps",
        "\n".join(
            f"- **{capitalise(fr_list(titles.get(c, c) for c in gap.columns))} : une lacune, pas un zéro.** "
            f"{gap.reason}"
            for gap in config.structural_gaps
        ),
    )
    shrink = read_table(build_dir / "work" / "shrinkage.csv")
    shrink = shrink.merge(
        communes[["code_commune", "population_class"]], on="code_commune", how="left"
    )
    weights_by_class = shrink.pivot_table(
        index="indicator", columns="population_class", values="shrinkage_weight", aggfunc="median"
    )
    weights_by_class = weights_by_class.reindex(
        index=codes, columns=[l for l in labels if l in weights_by_class.columns]
    )
    weights_by_class.insert(0, "Indicateur", [titles[c] for c in weights_by_class.index])
    present = [l for l in labels if l in weights_by_class.columns]
    table(
        "shrinkage_weights",
        weights_by_class.reset_index(drop=True),
        formats={l: (lambda v: fr_percent(v * 100, 0)) for l in present},
        align={l: "right" for l in present},
    )
    effect = read_table(build_dir / "tables" / "rates_effect.csv")
    other = "raw" if config.rates == "shrunk" else "shrunk"
    table(
        "rates_effect",
        pd.DataFrame(
            {
                "Classe": effect["population_class"],
                "Corrélation de rang": effect["spearman"],
                "Lauréats inchangés": effect["laureates_kept"],
                "Lauréats seulement avec les taux classés": effect[f"laureates_only_{config.rates}"]
                .fillna("–")
                .replace("", "–"),
                f"Lauréats seulement avec les taux {'bruts' if other == 'raw' else 'lissés'}": effect[
                    f"laureates_only_{other}"
                ]
                .fillna("–")
                .replace("", "–"),
            }
        ),
        formats={"Corrélation de rang": lambda v: fr_number(v, 2), "Lauréats inchangés": fr_number},
        align={"Corrélation de rang": "right", "Lauréats inchangés": "right"},
    )
    variables["small"] = {
        "rates": "lissés (bayésien empirique)" if config.rates == "shrunk" else "bruts",
        "alternative": "bruts" if config.rates == "shrunk" else "lissés",
        "credible": fr_percent(config.shrinkage.credible * 100, 0),
        "credit": (
            "Les taux classés sont rapprochés du niveau de leur département."
            if config.shrinkage.credit_departement
            else "Les effets départementaux sont estimés pour ne pas fausser le reste du modèle, mais une "
            "commune n'en reçoit pas le crédit : son taux est rapproché du niveau national des "
            "communes de sa taille (loi a priori qui intègre la variance entre départements), de "
            "sorte qu'une commune sans activité n'est pas classée sur l'activité de ses voisines."
        ),
        "groups": ", ".join(
            {"population_class": "classe de population", "code_departement": "département"}.get(
                g, g
            )
            for g in config.shrinkage.groups
        )
        or "ensemble des communes",
        "laureates_changed": fr_number(int(effect["laureates_changed"].sum())),
        "eligible": fr_number(
            int(eligibility.loc[eligibility.population_class == "Total", "eligible"].iloc[0])
        ),
    }
    laureate_codes = set(palmares.loc[palmares["status"] == "Lauréat", "code_commune"])
    written.append(figure_funnels(communes, meta, figures_dir / "funnels.png", laureate_codes))

    # --- figures --------------------------------------------------------------------------
    status = palmares.set_index("code_commune")["status"]
    communes = communes.assign(status=communes["code_commune"].map(status).fillna(""))
    written.append(
        figure_scores_by_class(communes, labels, figures_dir / "scores_by_class.png", demo)
    )
    from barometre.publish.maps import department_choropleth, department_medians

    written.append(
        department_choropleth(
            department_medians(communes, "score"),
            figures_dir / "map_departments.png",
            "Score Cités Vives médian des communes, par département",
            "Score médian",
            SOURCE_NOTE[demo],
            laureates=palmares.loc[palmares["status"] == "Lauréat", ["code_commune"]],
        )
    )
    for label in labels:
        written.append(
            figure_class_top(communes, label, figures_dir / f"top_{slug(label)}.png", demo)
        )
    written.append(figure_correlations(communes, codes, titles, figures_dir / "correlations.png"))

    path = report / "_variables.yml"
    atomic_write_text(path, yaml.safe_dump(variables, allow_unicode=True, sort_keys=True))
    written.append(path)
    return written
