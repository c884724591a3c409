"""The map of one territory: its communes as dots (area ∝ population) coloured by class, over
the outlines of its departments."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from barometre.publish import PALETTE
from barometre.publish.maps.classes import MISSING_COLOUR, Classes, classify
from barometre.publish.maps.drawing import add_department_patch, class_handles, draw_legend
from barometre.publish.maps.geometry import DROM, Department, load_departments, locate_communes
from barometre.publish.maps.projection import Projection, local_projection, metro_projection

#: Height (inches) under the map for the legend and the source line.
_BELOW = 1.0


def draw_territory_map(
    communes: pd.DataFrame,
    value: str,
    departments: Sequence[str],
    title: str = "",
    legend_label: str = "",
    source_note: str = "",
    classes: Classes | None = None,
    highlight: Sequence[str] = (),
    width: float = 6.4,
    zoom_to_communes: bool = False,
) -> tuple[plt.Figure, plt.Axes]:
    """Communes of a territory as dots (area ∝ population) coloured by ``value`` classes, over
    the outlines of ``departments``; ``highlight`` codes (e.g. laureates) get a black ring.

    ``communes`` needs ``code_commune``, ``population`` and ``value``. Metropolitan territories
    are drawn in Lambert-93, an overseas department in its local plane. The figure is ``width``
    inches wide, its height follows the territory's shape; the legend and the source line sit
    under the map, so any territory shape leaves them room. ``zoom_to_communes`` frames the
    communes (with a margin) instead of whole departments: for an intercommunality or a list
    of communes, which cover a small part of their departments.
    """
    outlines = load_departments()
    shown = [outlines[c] for c in departments]
    overseas = [d for d in shown if d.code in DROM]
    project = local_projection(overseas[0]) if overseas else metro_projection
    located = locate_communes(communes["code_commune"])
    frame = communes.assign(lon=located["lon"].to_numpy(), lat=located["lat"].to_numpy()).dropna(
        subset=["lon", "lat"]
    )
    classes = classes or classify(frame[value])

    if zoom_to_communes:
        frame_x, frame_y = _communes_extent(frame, project, overseas=bool(overseas))
    else:
        frame_x, frame_y = _departments_extent(shown, project)
    fig, ax, legend_top = _territory_figure(frame_x, frame_y, width)
    for department in shown:
        add_department_patch(
            ax,
            department,
            project,
            "dep",
            facecolor="#FBFBFC",
            edgecolor=PALETTE["muted"],
            linewidth=0.6,
        )
    frame = frame.sort_values("population", ascending=False)  # small dots drawn over big ones
    marked = _draw_communes(ax, frame, value, classes, project, highlight)
    ax.set_aspect("equal")
    if zoom_to_communes:
        ax.set_xlim(*frame_x)
        ax.set_ylim(*frame_y)
    else:
        ax.autoscale_view()
    ax.set_axis_off()
    handles = _territory_handles(classes, frame[value].isna().any(), not marked.empty)
    # under the map, in one row when it holds six entries or fewer, else in three columns
    draw_legend(
        fig,
        handles,
        legend_label,
        loc="upper left",
        bbox_to_anchor=(0.0, legend_top),
        ncol=len(handles) if len(handles) <= 6 else 3,
        columnspacing=1.2,
    )
    if title:
        ax.set_title(title, loc="left", fontsize=10, fontweight="bold")
    if source_note:
        wrapped = "\n".join(textwrap.wrap(source_note, width=int(width * 19)))
        fig.text(0.0, 0.0, wrapped, fontsize=6.5, color=PALETTE["muted"], va="bottom")
    return fig, ax


def _communes_extent(
    frame: pd.DataFrame, project: Projection, overseas: bool
) -> tuple[tuple[float, float], tuple[float, float]]:
    """(x range, y range) framing the communes' points with a margin of 12 % of the larger
    side, at least 4 km (0.04° overseas), so that a lone commune is framed."""
    px, py = project(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    margin = max(0.12 * max(np.ptp(px), np.ptp(py)), 4000.0 if not overseas else 0.04)
    return (
        (float(px.min()) - margin, float(px.max()) + margin),
        (float(py.min()) - margin, float(py.max()) + margin),
    )


def _departments_extent(
    shown: Sequence[Department], project: Projection
) -> tuple[tuple[float, float], tuple[float, float]]:
    """(x range, y range) of the projected outlines of the departments ``shown``."""
    lon_lat = np.vstack([ring for d in shown for poly in d.polygons for ring in poly])
    px, py = project(lon_lat[:, 0], lon_lat[:, 1])
    return (float(px.min()), float(px.max())), (float(py.min()), float(py.max()))


def _territory_figure(
    frame_x: tuple[float, float], frame_y: tuple[float, float], width: float
) -> tuple[plt.Figure, plt.Axes, float]:
    """A figure ``width`` inches wide whose map axes keep the extent's proportions (height
    between 3 and 7.2 inches), centred above a band for the legend; also returns the top of
    that band as a fraction of the figure's height."""
    ratio = (frame_y[1] - frame_y[0]) / (frame_x[1] - frame_x[0])
    map_height = min(max(width * ratio, 3.0), 7.2)
    map_width = min(width, map_height / ratio)
    fig = plt.figure(figsize=(width, map_height + _BELOW))
    ax = fig.add_axes(
        (
            (1 - map_width / width) / 2,
            _BELOW / (map_height + _BELOW),
            map_width / width,
            map_height / (map_height + _BELOW),
        )
    )
    return fig, ax, _BELOW / (map_height + _BELOW)


def _dot_sizes(population: pd.Series) -> np.ndarray:
    """Marker areas of communes: ∝ population (√population / 6 points wide), clipped."""
    return np.clip(np.sqrt(population.to_numpy()) / 6, 1.5, 160)


def _draw_communes(
    ax: plt.Axes,
    frame: pd.DataFrame,
    value: str,
    classes: Classes,
    project: Projection,
    highlight: Sequence[str],
) -> pd.DataFrame:
    """The communes' dots in their class colours, the ``highlight`` ones ringed in black;
    returns the ringed communes."""
    x, y = project(frame["lon"].to_numpy(), frame["lat"].to_numpy())
    colours = [classes.colour_of(v) for v in frame[value]]
    sizes = _dot_sizes(frame["population"])
    ax.scatter(x, y, s=sizes, c=colours, edgecolor=PALETTE["muted"], linewidth=0.15, zorder=3)
    marked = frame[frame["code_commune"].isin(set(highlight))]
    if not marked.empty:
        mx, my = project(marked["lon"].to_numpy(), marked["lat"].to_numpy())
        ax.scatter(
            mx,
            my,
            s=_dot_sizes(marked["population"]) + 40,
            facecolor="none",
            edgecolor=PALETTE["ink"],
            linewidth=1.3,
            zorder=4,
        )
    return marked


def _territory_handles(
    classes: Classes, with_missing: bool, with_laureates: bool
) -> list[Patch | plt.Line2D]:
    """Legend entries: the classes, « Non disponible », the laureates' ring."""
    handles: list[Patch | plt.Line2D] = list(class_handles(classes))
    if with_missing:
        handles.append(Patch(facecolor=MISSING_COLOUR, edgecolor="none", label="Non disponible"))
    if with_laureates:
        handles.append(
            plt.Line2D(
                [],
                [],
                marker="o",
                linestyle="",
                markerfacecolor="none",
                markeredgecolor=PALETTE["ink"],
                markeredgewidth=1.3,
                markersize=7,
                label="Commune lauréate",
            )
        )
    return handles
