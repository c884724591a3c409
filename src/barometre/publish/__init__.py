"""Publications of the baromètre: French formatting, the shared palette and the offline renderer.

- :mod:`barometre.publish.fmt`: French number, percentage, rank and date formats, Markdown
  tables with French cells (for partials written by the notebooks).
- :mod:`barometre.publish.render`: renders the report's Quarto sources (``report/*.qmd``) offline
  with pandoc and Typst, using the templates in ``templates/``; or with Quarto where installed.

``PALETTE`` is the colour set of the publications. The same hex values are written in
``templates/theme.typ`` and ``templates/barometre.css`` (a test keeps the three identical),
so figures drawn with matplotlib can match the page chrome. ``CATEGORICAL`` is the Okabe-Ito
colour-blind-safe sequence (Okabe & Ito 2008, *Color Universal Design*) for categorical figures.
"""

from __future__ import annotations

from barometre.publish.fmt import (
    NBSP,
    NNBSP,
    NOT_AVAILABLE,
    dataframe_to_markdown,
    fr_count,
    fr_date,
    fr_list,
    fr_number,
    fr_ordinal,
    fr_percent,
    fr_quote,
    fr_range,
    fr_rank,
    fr_share,
)

PALETTE: dict[str, str] = {
    "primary": "#123F6B",  # headings, table headers, cover (white text on it: 10.8:1)
    "primary-tint": "#E7EEF6",  # zebra rows, key-figure tiles
    "accent": "#D55E00",  # rules and graphic accents only (3.9:1: not for body text)
    "alert": "#A33A00",  # "important" callouts (6.6:1 on white)
    "highlight": "#F6C28B",  # edition number on the cover (6.7:1 on primary)
    "ink": "#1A1A1A",  # body text
    "muted": "#5B6770",  # captions, sources, running heads (5.8:1 on white)
    "rule": "#C9D3DE",  # hairlines
    "demo-bg": "#FFF1DB",  # demo-data mark background
    "demo-ink": "#7A3E00",  # demo-data mark text (7.5:1 on demo-bg)
}

CATEGORICAL: tuple[str, ...] = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#000000",
)


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG 2.1 contrast ratio of two ``#RRGGBB`` colours, from 1 to 21.

    Relative luminance with the sRGB transfer function, as defined in WCAG 2.1 §1.4.3.
    """

    def luminance(hex_colour: str) -> float:
        hex_colour = hex_colour.lstrip("#")
        channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


__all__ = [
    "CATEGORICAL",
    "NBSP",
    "NNBSP",
    "NOT_AVAILABLE",
    "PALETTE",
    "contrast_ratio",
    "dataframe_to_markdown",
    "fr_count",
    "fr_date",
    "fr_list",
    "fr_number",
    "fr_ordinal",
    "fr_percent",
    "fr_quote",
    "fr_range",
    "fr_rank",
    "fr_share",
]
