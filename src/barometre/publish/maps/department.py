"""The national department choropleth: metropolitan France in Lambert-93, Paris and its inner
ring and the five overseas departments in a column of insets, laureates as dots."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from barometre.publish import PALETTE
from barometre.publish.maps.classes import MISSING_COLOUR, Classes, classify
from barometre.publish.maps.drawing import (
    LAUREATE_COLOUR,
    class_handles,
    draw_departments,
    draw_legend,
    fill_frame,
    laureate_points,
    outline_departments,
    save_map,
)
from barometre.publish.maps.geometry import (
    DROM,
    PETITE_COURONNE,
    Department,
    load_departments,
    locate_communes,
    lon_lat_bounds,
)
from barometre.publish.maps.projection import local_projection, metro_projection

#: Width of the inset column, as a fraction of the figure (the main map takes the rest).
_INSET_COLUMN = 0.205


def draw_department_map(
    values: pd.Series,
    title: str = "",
    legend_label: str = "",
    source_note: str = "",
    laureates: pd.DataFrame | None = None,
    classes: Classes | None = None,
    figsize: tuple[float, float] = (7.0, 6.3),
    highlight: Sequence[str] = (),
    highlight_label: str = "",
) -> tuple[plt.Figure, dict[str, plt.Axes]]:
    """Draw the choropleth and return the figure and its axes (``metro``, ``idf``, ``971``…).

    ``highlight``: department codes outlined in black (e.g. the territory of an analysis),
    named ``highlight_label`` in the legend.

    ``values``: one value per department code (missing codes and NaN are « Non disponible »).
    ``laureates``: a frame with ``code_commune`` (located with :func:`locate_communes`) or with
    ``lon``/``lat``; drawn as orange dots on the main map and in the insets.
    Every patch carries the gid ``dep-<code>`` (tests and SVG output can find them).
    """
    departments = load_departments()
    values = pd.Series(values, dtype=float)
    values.index = values.index.astype(str)
    unknown = sorted(set(values.index) - set(departments))
    if unknown:
        raise KeyError(f"unknown department codes in the values: {unknown}")
    classes = classes or classify(values)
    colours = {code: classes.colour_of(values.get(code, np.nan)) for code in departments}
    laureates = _located_laureates(laureates)
    with_laureates = laureates is not None and not laureates.empty

    fig = plt.figure(figsize=figsize)
    axes: dict[str, plt.Axes] = {}
    main = fig.add_axes((_INSET_COLUMN, 0.07, 1 - _INSET_COLUMN, 0.86))
    metro = [d for code, d in sorted(departments.items()) if code not in DROM]
    draw_departments(main, metro, colours, metro_projection, linewidth=0.35)
    outline_departments(main, [d for d in metro if d.code in set(highlight)], metro_projection)
    axes["metro"] = main
    # Inset column: Paris and the inner ring, then the five DROM, each framed and named.
    for i, key in enumerate(["idf", *DROM]):
        axes[key] = _draw_inset(fig, i, key, departments, colours, highlight, laureates)
    main.set_label("metro")
    if with_laureates:
        laureate_points(main, laureates, metro_projection, lon_lat_bounds(metro), size=26)

    handles = class_handles(classes)
    if any(colour == MISSING_COLOUR for colour in colours.values()):
        handles.append(
            Patch(facecolor=MISSING_COLOUR, edgecolor="white", hatch="////", label="Non disponible")
        )
    handles += _marker_handles(highlight, highlight_label, with_laureates)
    draw_legend(
        main, handles, legend_label, loc="upper left", bbox_to_anchor=(0.0, 1.0), handlelength=1.6
    )
    if title:
        fig.text(0.0, 0.985, title, fontsize=10, fontweight="bold", va="top", color=PALETTE["ink"])
    if source_note:
        fig.text(0.0, 0.005, source_note, fontsize=6.5, color=PALETTE["muted"], va="bottom")
    return fig, axes


def _located_laureates(laureates: pd.DataFrame | None) -> pd.DataFrame | None:
    """The laureates with ``lon``/``lat`` (located by ``code_commune`` when absent), those
    without a point left out."""
    if (
        laureates is not None
        and not laureates.empty
        and not {"lon", "lat"} <= set(laureates.columns)
    ):
        located = locate_communes(laureates["code_commune"])
        laureates = laureates.assign(lon=located["lon"].to_numpy(), lat=located["lat"].to_numpy())
    if laureates is not None:
        laureates = laureates.dropna(subset=["lon", "lat"])
    return laureates


def _draw_inset(
    fig: plt.Figure,
    index: int,
    key: str,
    departments: Mapping[str, Department],
    colours: Mapping[str, str],
    highlight: Sequence[str],
    laureates: pd.DataFrame | None,
) -> plt.Axes:
    """The ``index``-th inset of the column: ``idf`` (Paris and its inner ring, in Lambert-93)
    or an overseas department (its local plane), framed, named, with its laureates."""
    height, gap, top = 0.128, 0.022, 0.93
    ax = fig.add_axes(
        (0.0, top - (index + 1) * height - index * gap, _INSET_COLUMN - 0.025, height)
    )
    if key == "idf":
        shown = [departments[c] for c in PETITE_COURONNE]
        project = metro_projection
        name = "Paris et petite couronne"
    else:
        shown = [departments[key]]
        project = local_projection(departments[key])
        name = DROM[key]
    draw_departments(ax, shown, colours, project, linewidth=0.5 if key == "idf" else 0.35)
    outline_departments(ax, [d for d in shown if d.code in set(highlight)], project)
    ax.set_axis_on()
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_edgecolor(PALETTE["rule"])
        spine.set_linewidth(0.7)
    ax.set_title(name, fontsize=6.5, color=PALETTE["muted"], pad=2, fontweight="normal")
    fill_frame(ax)
    ax.set_label(f"inset-{key}")
    if laureates is not None and not laureates.empty:
        laureate_points(ax, laureates, project, lon_lat_bounds(shown), size=18)
    return ax


def _marker_handles(
    highlight: Sequence[str], highlight_label: str, with_laureates: bool
) -> list[Patch | plt.Line2D]:
    """Legend entries after the classes: the outlined territory, the laureates' dot."""
    handles: list[Patch | plt.Line2D] = []
    if highlight:
        handles.append(
            Patch(
                facecolor="none",
                edgecolor=PALETTE["ink"],
                linewidth=1.3,
                label=highlight_label or "Territoire",
            )
        )
    if with_laureates:
        handles.append(
            plt.Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markerfacecolor=LAUREATE_COLOUR,
                markeredgecolor="white",
                markersize=6,
                label="Commune lauréate",
            )
        )
    return handles


def department_choropleth(
    values: pd.Series,
    path: Path,
    title: str,
    legend_label: str,
    source_note: str,
    laureates: pd.DataFrame | None = None,
    classes: Classes | None = None,
    highlight: Sequence[str] = (),
    highlight_label: str = "",
) -> Path:
    """Department choropleth of ``values`` (index: department code) written as a PNG at ``path``.

    Metropolitan France in Lambert-93, Paris and its inner ring and the five overseas
    departments in insets, quantile classes in the sequential palette with a French legend,
    laureates (``code_commune`` column) as dots, ``highlight`` departments outlined, the source
    line at the bottom.
    """
    fig, _ = draw_department_map(
        values,
        title,
        legend_label,
        source_note,
        laureates,
        classes,
        highlight=highlight,
        highlight_label=highlight_label,
    )
    return save_map(fig, path)
