"""Drawing blocks shared by the maps: department patches, outlines, laureate dots, legend
entries, and the reproducible PNG writer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath

from barometre.publish import PALETTE
from barometre.publish.maps.classes import MISSING_COLOUR, Classes
from barometre.publish.maps.geometry import Department
from barometre.publish.maps.projection import Projection

BORDER_COLOUR = "#FFFFFF"
LAUREATE_COLOUR = PALETTE["accent"]


def department_path(department: Department, project: Projection) -> MplPath:
    """The outline of ``department``, projected, as one matplotlib path (rings closed)."""
    vertices: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for polygon in department.polygons:
        for ring in polygon:
            x, y = project(ring[:, 0], ring[:, 1])
            vertices.append(np.column_stack([x, y]))
            ring_codes = np.full(len(ring), MplPath.LINETO, dtype=np.uint8)
            ring_codes[0] = MplPath.MOVETO
            ring_codes[-1] = MplPath.CLOSEPOLY
            codes.append(ring_codes)
    return MplPath(np.vstack(vertices), np.concatenate(codes))


def add_department_patch(
    ax: plt.Axes, department: Department, project: Projection, gid: str, **style: Any
) -> PathPatch:
    """Add the projected outline of ``department`` to ``ax`` as a patch drawn with ``style``
    (matplotlib patch properties), with the gid ``<gid>-<code>`` (tests and SVG find it)."""
    patch = PathPatch(department_path(department, project), **style)
    patch.set_gid(f"{gid}-{department.code}")
    ax.add_patch(patch)
    return patch


def draw_legend(
    owner: plt.Axes | plt.Figure, handles: Sequence[Artist], title: str, **placement: Any
) -> None:
    """The maps' legend on ``owner`` (axes or figure) at ``placement`` (``loc``,
    ``bbox_to_anchor``, columns…): no frame, 7 pt entries under a bold 7.5 pt ``title``
    (none when empty), aligned left."""
    legend = owner.legend(
        handles=handles,
        title=title or None,
        frameon=False,
        fontsize=7,
        title_fontsize=7.5,
        alignment="left",
        **placement,
    )
    legend.get_title().set_fontweight("bold")


def draw_departments(
    ax: plt.Axes,
    departments: Sequence[Department],
    colours: Mapping[str, str],
    project: Projection,
    linewidth: float,
) -> None:
    """Fill ``departments`` with their ``colours`` (hatched grey when missing), white borders;
    each patch has the gid ``dep-<code>``."""
    for department in departments:
        colour = colours.get(department.code, MISSING_COLOUR)
        add_department_patch(
            ax,
            department,
            project,
            "dep",
            facecolor=colour,
            edgecolor=BORDER_COLOUR,
            linewidth=linewidth,
            hatch="////" if colour == MISSING_COLOUR else None,
        )
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_axis_off()


def outline_departments(
    ax: plt.Axes, departments: Sequence[Department], project: Projection
) -> None:
    """Black outlines over already-filled departments (the highlighted territory)."""
    for department in departments:
        add_department_patch(
            ax,
            department,
            project,
            "outline",
            facecolor="none",
            edgecolor=PALETTE["ink"],
            linewidth=1.3,
            zorder=4,
        )


def fill_frame(ax: plt.Axes, pad: float = 0.08) -> None:
    """Widen the data limits to the frame's proportions, so every inset frame keeps its size
    (equal aspect would otherwise shrink the frame around a narrow territory)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    box = ax.get_position(original=True)
    width_in, height_in = (
        box.width * ax.figure.get_figwidth(),
        box.height * ax.figure.get_figheight(),
    )
    dx, dy = (x1 - x0) * (1 + 2 * pad), (y1 - y0) * (1 + 2 * pad)
    if dy / dx < height_in / width_in:
        dy = dx * height_in / width_in
    else:
        dx = dy * width_in / height_in
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    ax.set_xlim(cx - dx / 2, cx + dx / 2)
    ax.set_ylim(cy - dy / 2, cy + dy / 2)


def laureate_points(
    ax: plt.Axes,
    laureates: pd.DataFrame,
    project: Projection,
    bounds: tuple[float, float, float, float] | None,
    size: float,
) -> int:
    """Orange dots of the laureates inside ``bounds`` (degrees); returns how many were drawn."""
    inside = laureates
    if bounds is not None:
        x0, y0, x1, y1 = bounds
        inside = laureates[laureates["lon"].between(x0, x1) & laureates["lat"].between(y0, y1)]
    if inside.empty:
        return 0
    x, y = project(inside["lon"].to_numpy(), inside["lat"].to_numpy())
    ax.scatter(x, y, s=size, facecolor=LAUREATE_COLOUR, edgecolor="white", linewidth=0.7, zorder=5)
    return len(inside)


def class_handles(classes: Classes) -> list[Patch]:
    """Legend entries of the classes: one colour patch per class, with its label."""
    return [
        Patch(facecolor=c, edgecolor="none", label=label)
        for c, label in zip(classes.colours, classes.labels)
    ]


def save_map(fig: plt.Figure, path: Path, dpi: int = 200, tight: bool = False) -> Path:
    """Write a PNG without time-dependent metadata (byte-identical across calls); ``tight``
    crops to the drawn content (legends placed outside the axes)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(
        path,
        dpi=dpi,
        metadata={"Software": None},
        facecolor="white",
        bbox_inches="tight" if tight else None,
        pad_inches=0.05,
    )
    plt.close(fig)
    return path
