"""Figures of the robustness annex: rank intervals, P(top k) heatmap, Sobol' indices.

Figures are built as :class:`matplotlib.figure.Figure` objects (no pyplot, so the caller's
backend is left alone; saving uses the Agg canvas); PNGs are written without the "Software"
metadata so that two runs on the same inputs give byte-identical files. Labels are in French (the annex's language).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

ASSUMPTION_LABELS_FR = {
    "weights_level1": "Poids des indicateurs",
    "weights_level2": "Poids des critères",
    "treatment": "Valeurs extrêmes",
    "normalisation": "Normalisation",
    "aggregation": "Agrégation",
    "exclusion": "Exclusion d'un indicateur",
    "rates": "Taux bruts ou lissés",
    "sampling": "Aléa d'échantillonnage (comptages)",
}
DPI = 150
#: Bars of the Sobol' chart: offset from the tick, index column, colour, French label.
SOBOL_BARS = (
    (-0.2, "S1", "#9db4d0", "Premier ordre"),
    (0.2, "ST", "#1f4e79", "Total"),
)


def assumption_label(name: str) -> str:
    """French label of an assumption (Sobol' group); weights of level N beyond 2 are generic."""
    if name in ASSUMPTION_LABELS_FR:
        return ASSUMPTION_LABELS_FR[name]
    match = re.fullmatch(r"weights_level(\d+)", name)
    return f"Poids de niveau {match.group(1)}" if match else name


def slug(label: str) -> str:
    """ASCII file-name slug: ``Petite ville`` → ``petite-ville``, ``Métropole`` → ``metropole``."""
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _fr(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    return path


def rank_interval_figure(communes: pd.DataFrame, title: str, path: Path, top_n: int = 15) -> Path:
    """The ``top_n`` best nominal ranks of one class: P5–P95 interval, median, nominal rank.

    ``communes`` has the columns of :attr:`UncertaintyResult.communes` for one class. The rank
    axis is logarithmic when the intervals reach beyond rank 50 (large classes).
    """
    table = (
        communes.dropna(subset=["nominal_rank"]).sort_values(["nominal_rank", "code"]).head(top_n)
    )
    labels = table["name"] if "name" in table.columns else table["code"]
    y = np.arange(len(table))[::-1]
    # compact rows: two classes' charts fit on one page
    fig = Figure(figsize=(7.0, 0.2 * len(table) + 1.3))
    ax = fig.subplots()
    ax.hlines(
        y,
        table["rank_p05"],
        table["rank_p95"],
        color="#9db4d0",
        linewidth=5,
        label="Intervalle 5 %–95 %",
    )
    ax.plot(table["median_rank"], y, "o", color="#1f4e79", markersize=5, label="Rang médian")
    ax.plot(
        table["nominal_rank"], y, "D", color="#c0392b", markersize=4, label="Rang publié (nominal)"
    )
    ax.set_yticks(
        y, [f"{int(r)}. {name}" for r, name in zip(table["nominal_rank"], labels, strict=True)]
    )
    if float(table["rank_p95"].max()) > 50:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.set_xlabel("Rang dans la classe")
    # the title starts at the figure's left edge: over the axes alone, long ones were cut
    fig.suptitle(title, fontsize=10, x=0.01, ha="left")
    ax.invert_xaxis()
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    # the legend goes under the axis, never over a row of data
    handles, names = ax.get_legend_handles_labels()
    fig.legend(handles, names, fontsize=7, loc="lower center", ncol=len(names), frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return _save(fig, path)


def wrap_name(name: str, width: int = 17) -> str:
    """A commune name on lines of at most about ``width`` characters, broken after a hyphen or
    at a space (``Saint-Christophe-du-Ligneron`` → ``Saint-Christophe-\\ndu-Ligneron``); never
    truncated. A single word longer than ``width`` stays whole."""
    parts = re.findall(r".+?(?:-|\s+|$)", name)
    lines, current = [], ""
    for part in parts:
        if current and len(current) + len(part.rstrip()) > width:
            lines.append(current.rstrip())
            current = ""
        current += part
    if current:
        lines.append(current.rstrip())
    return "\n".join(lines) if lines else name


def ptop_heatmap(
    communes: pd.DataFrame, class_order: Sequence[str], path: Path, top: int = 4, n_best: int = 8
) -> Path:
    """Heatmap of P(top k) (seaborn): for each class, the ``n_best`` communes most often in its
    top k, each cell annotated with the full commune name (wrapped, never truncated) and its
    probability; the nominal top ``top`` (edition's scores) in bold."""
    import seaborn as sns

    column = f"p_top{top}"
    values = np.full((len(class_order), n_best), np.nan)
    notes = np.full((len(class_order), n_best), "", dtype=object)
    bold = np.zeros((len(class_order), n_best), dtype=bool)
    for i, label in enumerate(class_order):
        best = communes[communes["class"] == label].sort_values(
            [column, "nominal_rank"], ascending=[False, True]
        )
        for j, (_, row) in enumerate(best.head(n_best).iterrows()):
            values[i, j] = row[column]
            name = str(row["name"] if "name" in row.index else row["code"])
            notes[i, j] = f"{wrap_name(name)}\n{_fr(row[column])}"
            bold[i, j] = pd.notna(row["nominal_rank"]) and row["nominal_rank"] <= top
    lines = max((str(n).count("\n") + 1 for n in notes.ravel()), default=2)
    fig = Figure(figsize=(7.4, (0.16 * lines + 0.25) * len(class_order) + 1.0))
    ax = fig.subplots()
    sns.heatmap(
        pd.DataFrame(values, index=list(class_order), columns=[str(j + 1) for j in range(n_best)]),
        ax=ax,
        cmap="Blues",
        vmin=0,
        vmax=1,
        annot=notes,
        fmt="",
        linewidths=0.6,
        linecolor="white",
        annot_kws={"fontsize": 5.4},
        cbar_kws={"label": f"P(top {top})", "fraction": 0.03, "pad": 0.02},
    )
    laureate_notes = set(notes[bold])
    for text in ax.texts:  # seaborn skips empty cells: match by text, not by position
        text.set_fontweight("bold" if text.get_text() in laureate_notes else "normal")
    ax.set_ylabel("")
    ax.tick_params(axis="y", rotation=0, labelsize=7)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_xlabel(
        f"Communes les plus souvent dans le top {top} (gras : les {top} premières selon le score de l'édition)",
        fontsize=7,
    )
    fig.tight_layout()
    return _save(fig, path)


def sobol_figure(
    indices: pd.DataFrame, outputs: Sequence[str], titles: Sequence[str], path: Path
) -> Path:
    """Bar chart of first-order and total Sobol' indices with their bootstrap intervals,
    one panel per output."""
    n = len(outputs)
    cols = min(3, n)
    rows = int(np.ceil(n / cols))
    fig = Figure(figsize=(4.2 * cols, 3.2 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for k, (output, title) in enumerate(zip(outputs, titles, strict=True)):
        ax = axes[k // cols][k % cols]
        sub = indices[indices["output"] == output]
        x = np.arange(len(sub))
        for offset, index, color, label in SOBOL_BARS:
            ax.bar(
                x + offset,
                sub[index].clip(lower=0),
                0.4,
                yerr=sub[f"{index}_conf"],
                capsize=2,
                color=color,
                label=label,
            )
        ax.set_xticks(
            x, [assumption_label(f) for f in sub["factor"]], rotation=40, ha="right", fontsize=7
        )
        ax.set_ylim(0, 1.05)
        ax.set_title(title, fontsize=9)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        if k == 0:
            ax.legend(fontsize=7, frameon=False)
    for k in range(n, rows * cols):
        axes[k // cols][k % cols].axis("off")
    fig.tight_layout()
    return _save(fig, path)
