"""Classes of a choropleth (quantile breaks, colours, French labels) and the department values
they class."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap, to_hex

from barometre.publish import PALETTE
from barometre.publish.fmt import fr_number

MISSING_COLOUR = "#D9D9D9"
# Sequential ramp from the palette's tint to its primary blue, through a mid blue, so that
# neighbouring classes differ in lightness (the property that survives grey printing).
SEQUENTIAL = LinearSegmentedColormap.from_list(
    "barometre_sequential", [PALETTE["primary-tint"], "#7FA6CB", PALETTE["primary"]]
)

# Diverging ramp for positions in class (0–100, 50 = the class average): orange below, neutral
# around the middle, blue above — an orange/blue pair that colour-blind readers tell apart.
POSITION_COLOURS: tuple[str, ...] = (
    PALETTE["alert"],
    "#F0A36B",
    "#C9D3DE",
    "#7FA6CB",
    PALETTE["primary"],
)


@dataclass(frozen=True)
class Classes:
    """Class breaks of a choropleth: ``edges`` (k + 1 increasing values), colours and labels.

    With ``decimals`` set, a value is classed by its value rounded as printed (half away from
    zero, as :func:`~barometre.publish.fmt.fr_number`), so that the legend's bounds, which never
    overlap at that precision (« 19,7 – 23,1 », « 23,2 – 23,7 »), say exactly which class a
    printed value belongs to.
    """

    edges: tuple[float, ...]
    colours: tuple[str, ...]
    labels: tuple[str, ...]
    decimals: int | None = None

    def colour_of(self, value: float) -> str:
        if value is None or not np.isfinite(value):
            return MISSING_COLOUR
        if self.decimals is not None:
            value = round_half_up(value, self.decimals)
        index = int(np.searchsorted(self.edges[1:-1], value, side="right"))
        return self.colours[index]


def round_half_up(value: float, decimals: int) -> float:
    """``value`` rounded to ``decimals`` half away from zero (how fr_number prints it)."""
    from decimal import ROUND_HALF_UP, Decimal

    return float(
        Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    )


def class_labels(edges: Sequence[float], decimals: int) -> tuple[str, ...]:
    """Legend labels of classes ``[a, b)`` (the last one closed) at ``decimals`` printed digits.

    Inner edges are multiples of ``10**-decimals`` and values are classed rounded (see
    :class:`Classes`), so a class holds the printed values from ``a`` to ``b − 10**-decimals``:
    its label's upper bound is that, and no two labels share a bound. A class holding a single
    printed value is labelled with it alone.
    """
    step = 10.0**-decimals
    labels = []
    last = len(edges) - 2
    for i, (a, b) in enumerate(itertools.pairwise(edges)):
        low = round_half_up(a, decimals)
        high = round_half_up(b, decimals) if i == last else round_half_up(b - step, decimals)
        if high <= low:
            labels.append(fr_number(low, decimals))
        else:
            labels.append(f"{fr_number(low, decimals)} – {fr_number(high, decimals)}")
    return tuple(labels)


def classify(
    values: pd.Series, k: int = 5, decimals: int | None = None, edges: Sequence[float] | None = None
) -> Classes:
    """Quantile classes of the non-missing values (or the given ``edges``), with distinct bounds.

    Inner edges are quantiles rounded to ``decimals`` (default: from the spread of the values),
    duplicates merged; the lowest and highest edges are the observed minimum and maximum. Values
    are classed as printed (rounded to ``decimals``); a value equal to an inner edge goes to the
    upper class (classes are [a, b), the last one closed), and the labels give each class its
    own bounds at the printed precision (« 19,7 – 23,1 », « 23,2 – 23,7 »: never a bound shared
    by two classes).
    """
    finite = pd.to_numeric(values, errors="coerce").astype(float)
    finite = finite[np.isfinite(finite)]
    if finite.empty:
        raise ValueError("no value to map: every department is missing")
    if decimals is None:
        spread = float(finite.max() - finite.min())
        decimals = 0 if spread >= 20 else 1 if spread >= 2 else 2
    low, high = float(finite.min()), float(finite.max())
    if edges is None:
        quantiles = np.quantile(finite.to_numpy(), np.linspace(0, 1, k + 1))
        inner = sorted({round_half_up(float(q), decimals) for q in quantiles[1:-1]})
        # a class must hold at least one printed value on each side of an inner edge
        inner = [
            q
            for q in inner
            if round_half_up(low, decimals) < q <= round_half_up(high, decimals) and q < high
        ]
        edges = [low, *inner, high]
    edges = [float(e) for e in edges]
    if len(edges) == 2 and edges[0] == edges[1]:
        # Every value equal (e.g. a single department): one class, labelled with that value.
        return Classes(
            tuple(edges), (to_hex(SEQUENTIAL(0.6)),), (fr_number(edges[0], decimals),), decimals
        )
    if any(b <= a for a, b in itertools.pairwise(edges)):
        raise ValueError(f"class edges must increase: {edges}")
    edges = [edges[0], *(round_half_up(e, decimals) for e in edges[1:-1]), edges[-1]]
    if any(b <= a for a, b in itertools.pairwise(edges[1:-1])):
        raise ValueError(f"class edges must differ at {decimals} decimals: {edges}")
    n = len(edges) - 1
    colours = tuple(to_hex(SEQUENTIAL(0.08 + 0.92 * i / max(n - 1, 1))) for i in range(n))
    return Classes(tuple(edges), colours, class_labels(edges, decimals), decimals)


# --------------------------------------------------------------------------- values


def department_medians(communes: pd.DataFrame, column: str) -> pd.Series:
    """Median of ``column`` over the communes of each department (index: department code)."""
    return communes.groupby("code_departement")[column].median()


def department_rates(communes: pd.DataFrame, count: str, per: float = 1000.0) -> pd.Series:
    """Population-weighted rate of a count per department: Σ count / Σ population × ``per``.

    Communes whose count is missing (structural gaps such as RNA creations in Alsace-Moselle)
    are left out of both sums; a department where it is missing everywhere gets NaN.
    """
    known = communes[communes[count].notna()]
    sums = known.groupby("code_departement")[[count, "population"]].sum()
    rates = sums[count] / sums["population"] * per
    return rates.reindex(sorted(communes["code_departement"].unique()))
