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
    fig = Figure(figsize=(7.0, 0.32 * len(table) + 1.4))
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
    ax.set_title(title, fontsize=10)
    ax.invert_xaxis()
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    ax.legend(fontsize=7, loc="lower left", frameon=False)
    fig.tight_layout()
    return _save(fig, path)


def ptop_heatmap(
    communes: pd.DataFrame, class_order: Sequence[str], path: Path, top: int = 4, n_best: int = 8
) -> Path:
    """Heatmap of P(top k): for each class, the ``n_best`` communes most often in its top k.

    Cells are annotated with the commune and its probability; nominal laureates are in bold.
    """
    column = f"p_top{top}"
    fig = Figure(figsize=(1.35 * n_best + 1.6, 0.75 * len(class_order) + 1.2))
    ax = fig.subplots()
    values = np.full((len(class_order), n_best), np.nan)
    for i, label in enumerate(class_order):
        best = communes[communes["class"] == label].sort_values(
            [column, "nominal_rank"], ascending=[False, True]
        )
        best = best.head(n_best)
        for j, (_, row) in enumerate(best.iterrows()):
            values[i, j] = row[column]
            name = str(row["name"] if "name" in row.index else row["code"])
            laureate = pd.notna(row["nominal_rank"]) and row["nominal_rank"] <= top
            ax.text(
                j,
                i,
                f"{name[:14]}\n{_fr(row[column])}",
                ha="center",
                va="center",
                fontsize=6,
                fontweight="bold" if laureate else "normal",
                color="white" if row[column] > 0.6 else "black",
            )
    image = ax.imshow(values, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_yticks(range(len(class_order)), list(class_order))
    ax.set_xticks(range(n_best), [str(j + 1) for j in range(n_best)])
    ax.set_xlabel(f"Communes les plus souvent dans le top {top} (gras : lauréates publiées)")
    cbar = fig.colorbar(image, ax=ax, fraction=0.03)
    cbar.set_label(f"P(top {top})")
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
        ax.bar(
            x - 0.2,
            sub["S1"].clip(lower=0),
            0.4,
            yerr=sub["S1_conf"],
            capsize=2,
            color="#9db4d0",
            label="Premier ordre",
        )
        ax.bar(
            x + 0.2,
            sub["ST"].clip(lower=0),
            0.4,
            yerr=sub["ST_conf"],
            capsize=2,
            color="#1f4e79",
            label="Total",
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
