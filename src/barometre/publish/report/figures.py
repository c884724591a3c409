"""The report's figures drawn from the communes table (PNG, byte-identical across builds).

Each function draws one figure and saves it with :func:`save_figure` (no time-dependent
metadata); what it shows is computed from its arguments only.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from barometre.publish import PALETTE
from barometre.publish.fmt import NBSP, fr_number, fr_percent
from barometre.publish.report.common import ACCENT, HIGHLIGHT, MUTED, SOURCE_NOTE, TINT


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


def funnel_upper_limit(rates: pd.Series, target: float, is_laureate: pd.Series) -> float:
    """Top of a funnel panel's y axis (per 1 000 inhabitants): the 99,5 % quantile of the rates,
    three times the national rate, or 12 % above the highest laureate, whichever is highest;
    1 when all three are zero (an indicator at zero everywhere)."""
    top = max(
        np.nanquantile(rates, 0.995),
        target * 3,
        (rates[is_laureate].max() if is_laureate.any() else 0) * 1.12,
    )
    return top if top > 0 else 1.0


def _funnel_panel(
    ax: plt.Axes, communes: pd.DataFrame, ind: Mapping[str, Any], laureates: set[str], first: bool
) -> None:
    """One indicator's funnel plot on ``ax`` (turned off when no commune can be drawn)."""
    from barometre.smallarea.funnels import estimate_overdispersion, plot_funnel

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
        return
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
    ax.set_ylim(0, funnel_upper_limit(rates, target, is_laureate))
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
    ax.get_legend().remove() if not first and ax.get_legend() else None


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
    _style()
    count_indicators = [i for i in meta["indicators"] if "count" in i]
    ncols = 2
    nrows = -(-len(count_indicators) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(7.0, 3.0 * nrows))
    flat = np.atleast_1d(axes).ravel()
    for ax, ind in zip(flat, count_indicators, strict=False):
        _funnel_panel(ax, communes, ind, laureates, first=ax is flat[0])
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


def class_chart_rows(decision: pd.DataFrame, label: str, n: int = 15) -> pd.DataFrame:
    """The class's ``n`` communes most likely to be in its top (by decreasing probability, then
    median rank, then name), in drawing order (the most likely last, at the top of the chart);
    empty when the class has no ranked commune."""
    members = decision[(decision["population_class"] == label) & decision["p_top"].notna()]
    top = members.sort_values(["p_top", "rank_median", "nom"], ascending=[False, True, True]).head(
        n
    )
    return top.iloc[::-1]


def _probability_panel(
    ax: plt.Axes,
    top: pd.DataFrame,
    colour: list[str],
    top_k: int,
    laureate_min: float,
    mention_min: float,
) -> None:
    """Bars of the probability of being in the top ``top_k``, with the two thresholds."""
    y = np.arange(len(top))
    ax.barh(y, top["p_top"] * 100, color=colour)
    for value, yy in zip(top["p_top"], y, strict=True):
        # a probability that rounds to 0 % is not zero: « < 1 % »
        label = fr_percent(value * 100, 0) if value >= 0.005 or value == 0 else f"<{NBSP}1{NBSP}%"
        ax.text(value * 100 + 1.5, yy, label, va="center", fontsize=7)
    ax.axvline(laureate_min * 100, color=PALETTE["muted"], lw=0.8, ls="--")
    ax.axvline(mention_min * 100, color=PALETTE["muted"], lw=0.8, ls=":")
    ax.set_xlim(0, 112)
    ax.set_yticks(y, [str(v) for v in top["nom"]])
    ax.set_title(
        f"Probabilité d'être parmi les {top_k} premières", loc="left", fontsize=8, fontweight="bold"
    )
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fr_percent(v, 0)))


def _rank_panel(ax: plt.Axes, top: pd.DataFrame, colour: list[str], interval: str) -> None:
    """Rank intervals (lines) and median ranks (dots) on a logarithmic axis."""
    y = np.arange(len(top))
    ax.hlines(y, top["rank_p05"], top["rank_p95"], color=colour, lw=2.2)
    ax.scatter(top["rank_median"], y, color="black", s=10, zorder=3)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fr_number(v)))
    ax.set_title(
        "Rang dans la classe (échelle logarithmique)", loc="left", fontsize=8, fontweight="bold"
    )
    ax.set_xlabel(f"point : rang médian ; trait : rangs de {interval} des scénarios", fontsize=7)
    ax.tick_params(axis="y", length=0)


def _palmares_legend(fig: plt.Figure, laureate_min: float, mention_min: float) -> None:
    """One legend above both panels: statuses and thresholds."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [
        Patch(color=PALETTE["accent"], label="Lauréat"),
        Patch(color=PALETTE["highlight"], label="Mention"),
        Line2D(
            [],
            [],
            color=PALETTE["muted"],
            ls="--",
            label=f"Seuil des lauréats ({fr_percent(laureate_min * 100, 0)})",
        ),
        Line2D(
            [],
            [],
            color=PALETTE["muted"],
            ls=":",
            label=f"Seuil des mentions ({fr_percent(mention_min * 100, 0)})",
        ),
    ]
    fig.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncol=4,
        frameon=False,
        fontsize=7,
    )


def figure_class_palmares(
    decision: pd.DataFrame,
    label: str,
    path: Path,
    *,
    top_k: int,
    laureate_min: float,
    mention_min: float,
    source_note: str,
    interval: str,
    n: int = 15,
) -> Path | None:
    """The class's ``n`` communes most likely to be in its top ``top_k``: their probability
    (bars, with the laureate and mention thresholds) and their rank interval (5th–95th
    percentile of the scenarios, median as a dot), laureates and mentions in colour. None when
    the class has no ranked commune."""
    top = class_chart_rows(decision, label, n)
    if top.empty:
        return None
    colours = {"Lauréat": PALETTE["accent"], "Mention": PALETTE["highlight"]}
    colour = [colours.get(s, PALETTE["rule"]) for s in top["status"].fillna("")]
    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 8})
    height = 0.26 * len(top) + 1.2
    fig, (left, right) = plt.subplots(
        1,
        2,
        figsize=(7.0, height),
        sharey=True,
        gridspec_kw={"width_ratios": [1, 1.15], "wspace": 0.12},
    )
    _probability_panel(left, top, colour, top_k, laureate_min, mention_min)
    _rank_panel(right, top, colour, interval)
    for ax in (left, right):
        ax.spines[["top", "right"]].set_visible(False)
    _palmares_legend(fig, laureate_min, mention_min)
    fig.text(0, -0.02, source_note, fontsize=6.5, color=PALETTE["muted"], va="top")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=160, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return path
