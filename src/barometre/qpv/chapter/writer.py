"""The chapter's writer: ``tables/qpv.md`` (:func:`~barometre.qpv.chapter.text.chapter_markdown`),
``figures/qpv_map.png`` (:func:`figure_qpv_map`) and the exports
(:mod:`barometre.qpv.chapter.exports`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from barometre.qpv.chapter.compute import QpvProfile
from barometre.qpv.chapter.exports import write_chapter_exports
from barometre.qpv.chapter.text import chapter_markdown, chapter_variables


def figure_qpv_map(
    profile: QpvProfile,
    scores: pd.DataFrame,
    departments: Sequence[str],
    zoom: bool,
    path: Path,
    source: str,
) -> Path:
    """Map of the communes with QPV coloured by the position of their score in class (the
    baromètre's engagement measure), the other communes of the territory as small grey dots."""
    from barometre.publish.maps import POSITION_COLOURS, Classes, draw_territory_map, save_map
    from barometre.territory import MAP_SOURCE

    frame = profile.territory.merge(
        scores[["code_commune", "position"]], on="code_commune", how="left"
    )
    edges = (0.0, 20.0, 40.0, 60.0, 80.0, 100.0)
    labels = ("0 à 20 (dernières)", "20 à 40", "40 à 60", "60 à 80", "80 à 100 (premières)")
    # communes without QPV, or not ranked, drawn in the lightest class colour below a fixed value
    shown = frame.assign(
        value=np.where(frame["has_qpv"] & frame["position"].notna(), frame["position"], -1.0)
    )
    colours = (
        "#FFFFFF",
        *POSITION_COLOURS,
    )  # hollow dots: the communes without QPV stay in the background
    fig, _ = draw_territory_map(
        shown,
        "value",
        departments,
        legend_label="Communes avec QPV : position du score dans la classe de population",
        source_note=f"{source} {MAP_SOURCE} Disques proportionnels à la population ; cercles vides : communes sans QPV ou non classées.",
        classes=Classes((-1.5, *edges), colours, ("sans QPV ou non classée", *labels)),
        zoom_to_communes=zoom,
    )
    return save_map(fig, path, dpi=170, tight=True)


def write_qpv_chapter(
    profile: QpvProfile,
    out: Path,
    slug: str,
    meta: Mapping[str, Any],
    scores: pd.DataFrame,
    departments: Sequence[str],
    zoom: bool,
    source: str,
    readme: Sequence[tuple[str, str]],
) -> dict[str, Any]:
    """Write ``tables/qpv.md``, ``figures/qpv_map.png`` and the exports
    ``exports/territoire-<slug>-qpv-{engagement,domaines,associations,contrats}.csv|xlsx``;
    return the chapter's report variables (``qpv`` block of ``_variables.yml``) with the written
    paths under ``paths``."""
    from barometre import catalogue
    from barometre.io import atomic_write_text

    def part(name: str) -> Path:  # a part of the territory's folder, as the catalogue places it
        return out / catalogue.member(f"territory.{name}", "territory", slug=slug)

    figure_qpv_map(profile, scores, departments, zoom, part("figures") / "qpv_map.png", source)
    atomic_write_text(part("tables") / "qpv.md", chapter_markdown(profile, slug, source))
    written = write_chapter_exports(
        profile, meta, part("exports") / f"territoire-{slug}-qpv", readme
    )
    return chapter_variables(profile, written)
