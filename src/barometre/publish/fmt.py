"""French formatting of numbers, percentages, ranks, dates and tables for the publications.

Conventions (Imprimerie nationale, *Lexique des règles typographiques*; Office québécois de la
langue française for the narrow no-break space):

- thousands separator: narrow no-break space U+202F (``30 101``); decimal separator: comma;
- no-break space U+00A0 before ``%`` and ``:`` and inside guillemets (``12,5 %``, ``« mot »``);
- negative numbers take the true minus sign U+2212;
- rounding is half away from zero on the decimal representation of the value
  (``fr_number(2.675, 2) == "2,68"``), which is what a reader checking by hand expects; Python's
  ``format`` would round the binary value half-to-even instead;
- a missing value (None, NaN, pandas NA/NaT, ±inf) is written ``n.d.`` (non disponible), never
  ``nan`` or ``None``.

Every function returns plain text; Markdown output is only produced by
:func:`dataframe_to_markdown` and by ``superscript=True`` options.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from barometre.config import EditionConfig

NNBSP = "\u202f"  # narrow no-break space (espace fine insécable)
NBSP = "\u00a0"  # no-break space (espace insécable)
MINUS = "\u2212"  # minus sign
EN_DASH = "\u2013"
NOT_AVAILABLE = "n.d."

MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

_ORDINAL_WORDS = (
    "deuxième",
    "troisième",
    "quatrième",
    "cinquième",
    "sixième",
    "septième",
    "huitième",
    "neuvième",
    "dixième",
)


def is_missing(x: Any) -> bool:
    """True for None, NaN, pandas NA/NaT and infinite numbers: values printed as ``n.d.``."""
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return not math.isfinite(float(x))
    try:
        missing = pd.isna(x)
    except (TypeError, ValueError):
        return False
    return bool(missing) if isinstance(missing, bool | np.bool_) else False


def _to_decimal(x: Any) -> Decimal:
    if isinstance(x, bool):
        raise TypeError(f"a boolean is not a number to format: {x!r}")
    if isinstance(x, Decimal):
        return x
    if isinstance(x, numbers.Integral):
        return Decimal(int(x))
    if isinstance(x, numbers.Real):
        # repr() gives the shortest decimal that round-trips, so 2.675 stays "2.675".
        return Decimal(repr(float(x)))
    raise TypeError(f"not a number: {x!r} ({type(x).__name__})")


def _group_thousands(digits: str) -> str:
    groups = []
    while len(digits) > 3:
        groups.append(digits[-3:])
        digits = digits[:-3]
    groups.append(digits)
    return NNBSP.join(reversed(groups))


def fr_number(x: Any, decimals: int = 0, *, signed: bool = False) -> str:
    """Format a number the French way: ``30 101``, ``12,5``, ``−3,2`` (U+202F, comma, U+2212).

    ``decimals`` fixed digits after the comma, rounding half away from zero. ``signed=True``
    prefixes positive values with ``+`` (for changes); zero never carries a sign.
    Missing values give ``n.d.``.
    """
    if decimals < 0:
        raise ValueError(f"decimals must be >= 0, got {decimals}")
    if is_missing(x):
        return NOT_AVAILABLE
    value = _to_decimal(x)
    try:
        rounded = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:  # more digits than the decimal context holds
        raise ValueError(f"cannot round {x!r} to {decimals} decimals") from exc
    text = f"{abs(rounded):f}"
    integer_part, _, fraction = text.partition(".")
    body = _group_thousands(integer_part)
    if decimals:
        body += "," + fraction
    if rounded == 0:
        return body
    if rounded < 0:
        return MINUS + body
    return ("+" + body) if signed else body


def fr_percent(x: Any, decimals: int = 1, *, signed: bool = False) -> str:
    """Format a value already expressed in percent: ``12.5 -> "12,5 %"`` (U+00A0 before %).

    For a proportion between 0 and 1 use :func:`fr_share`.
    """
    if is_missing(x):
        return NOT_AVAILABLE
    return f"{fr_number(x, decimals, signed=signed)}{NBSP}%"


def fr_share(x: Any, decimals: int = 1, *, signed: bool = False) -> str:
    """Format a proportion as a percentage: ``0.125 -> "12,5 %"``."""
    if is_missing(x):
        return NOT_AVAILABLE
    return fr_percent(_to_decimal(x) * 100, decimals, signed=signed)


def fr_quote(s: str) -> str:
    """Put French guillemets around a text, with no-break spaces inside: ``« s »``."""
    return f"«{NBSP}{s}{NBSP}»"


def fr_rank(n: Any, *, feminine: bool = False, superscript: bool = False) -> str:
    """Abbreviated French ordinal: ``1er`` (``1re`` if feminine), ``2e``, ``3e``, ``21e``.

    ``superscript=True`` writes the suffix as Markdown superscript (``1^er^``), which pandoc and
    Quarto render raised. Missing values give ``n.d.``.
    """
    if is_missing(n):
        return NOT_AVAILABLE
    if isinstance(n, bool) or not float(n).is_integer() or int(n) < 1:
        raise ValueError(f"a rank is a positive integer, got {n!r}")
    n = int(n)
    suffix = ("re" if feminine else "er") if n == 1 else "e"
    number = fr_number(n)
    return f"{number}^{suffix}^" if superscript else f"{number}{suffix}"


def fr_ordinal(n: int, *, feminine: bool = False) -> str:
    """Ordinal in words up to ten (``premier``, ``première``, ``deuxième``…), then ``11e``…"""
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise ValueError(f"an ordinal is a positive integer, got {n!r}")
    if n == 1:
        return "première" if feminine else "premier"
    if n <= 10:
        return _ORDINAL_WORDS[n - 2]
    return fr_rank(n, feminine=feminine)


def fr_date(d: _dt.date | str, *, with_day: bool = True) -> str:
    """French long date: ``1er novembre 2024``, ``23 novembre 2024``; ``novembre 2024`` without day.

    Accepts a ``date``, a ``datetime`` or an ISO 8601 string (``2024-11-23``).
    """
    if d is None or is_missing(d):
        return NOT_AVAILABLE
    if isinstance(d, str):
        d = _dt.date.fromisoformat(d[:10])
    if isinstance(d, pd.Timestamp):
        d = d.to_pydatetime()
    month_year = f"{MONTHS_FR[d.month - 1]} {d.year}"
    if not with_day:
        return month_year
    day = "1er" if d.day == 1 else str(d.day)
    return f"{day} {month_year}"


def fr_range(low: Any, high: Any, decimals: int = 0) -> str:
    """A closed interval of numbers or ranks with an en dash: ``3–7``, ``12,5–13,1``.

    Equal bounds give a single number; a missing bound gives ``n.d.`` for the whole interval.
    """
    if is_missing(low) or is_missing(high):
        return NOT_AVAILABLE
    a, b = fr_number(low, decimals), fr_number(high, decimals)
    return a if a == b else f"{a}{EN_DASH}{b}"


def fr_count(n: Any, singular: str, plural: str | None = None, decimals: int = 0) -> str:
    """A count with its noun, French agreement: ``0 association``, ``1 association``,
    ``268 associations`` (French takes the singular below 2). ``plural`` defaults to
    ``singular + "s"``."""
    if is_missing(n):
        return f"{NOT_AVAILABLE} {plural or singular + 's'}"
    noun = singular if abs(float(n)) < 2 else (plural or singular + "s")
    return f"{fr_number(n, decimals)}{NBSP}{noun}"


def fr_list(items: Iterable[str], conjunction: str = "et") -> str:
    """Join words the French way: ``a``, ``a et b``, ``a, b et c`` (no serial comma)."""
    words = [str(item) for item in items]
    if not words:
        return ""
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


# --------------------------------------------------------------------------- tables

_MARKDOWN_SPECIALS = "\\`*_[]<>|$#"
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
_ALIGN_RULES = {"left": ":---", "right": "---:", "center": ":---:", "default": "---"}


def escape_markdown(text: str) -> str:
    """Backslash-escape characters that Markdown (pandoc or Quarto) would interpret in a cell."""
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIALS else ch for ch in text)


def _default_formatter(series: pd.Series) -> Callable[[Any], str]:
    if pd.api.types.is_bool_dtype(series):
        return lambda v: NOT_AVAILABLE if is_missing(v) else ("oui" if v else "non")
    if pd.api.types.is_integer_dtype(series):
        return fr_number
    if pd.api.types.is_float_dtype(series):
        # Floats holding only whole numbers (integers with NaN) are safe to print as integers;
        # anything else needs an explicit number of decimals from the caller.
        values = series.dropna()
        if ((values % 1) == 0).all():
            return fr_number
        raise ValueError(
            f"column {series.name!r} holds decimals: give it a formatter in `formats` "
            "(e.g. lambda v: fr_number(v, 1))"
        )
    return lambda v: NOT_AVAILABLE if is_missing(v) else escape_markdown(str(v))


def dataframe_to_markdown(
    df: pd.DataFrame,
    formats: Mapping[str, Callable[[Any], str]] | None = None,
    align: Mapping[str, str] | None = None,
    *,
    columns: Mapping[str, str] | None = None,
    caption: str | None = None,
    label: str | None = None,
) -> str:
    """Render a DataFrame as a pipe table (pandoc/Quarto Markdown) with French-formatted cells.

    - ``formats``: column -> function returning the cell text (e.g. ``fr_number``,
      ``lambda v: fr_percent(v, 1)``). Without one, integers use :func:`fr_number`, booleans
      ``oui``/``non``, text is escaped; decimal columns raise, since their precision is an
      editorial choice. Formatter output is inserted as Markdown (not escaped), so a formatter
      may emit ``1^er^``; missing values always give ``n.d.``.
    - ``align``: column -> ``left``/``right``/``center``; numeric columns default to right.
    - ``columns``: column -> header text (display names); the index is not written.
    - ``caption``: written as a pandoc table caption (``: caption``) after the table;
      ``label`` (``tbl-x``, needs a caption) makes it a numbered table both renderers number
      and ``@tbl-x`` refers to (``: caption {#tbl-x}``).

    The dashes of the separator row are proportional to the widest cell, so pandoc's relative
    column widths (used when a row is wider than 72 characters) follow the content.
    """
    formats = dict(formats or {})
    align = dict(align or {})
    headers = dict(columns or {})
    unknown = (set(formats) | set(align) | set(headers)) - set(map(str, df.columns))
    if unknown:
        raise KeyError(f"formats/align/columns name unknown columns: {sorted(unknown)}")
    if df.columns.duplicated().any():
        raise ValueError("duplicate column names cannot be written as a table")

    cells: list[list[str]] = []
    rules: list[str] = []
    header_row: list[str] = []
    for name in df.columns:
        series = df[name]
        formatter = formats.get(str(name)) or _default_formatter(series)
        texts = []
        for value in series.tolist():
            text = NOT_AVAILABLE if is_missing(value) else formatter(value)
            if not isinstance(text, str):
                raise TypeError(f"formatter of column {name!r} returned {type(text).__name__}")
            # A raw pipe or newline would break the row: escape the first, flatten the second.
            texts.append(_UNESCAPED_PIPE.sub(r"\\|", text.replace("\n", " ")))
        cells.append(texts)
        header_row.append(escape_markdown(headers.get(str(name), str(name))))
        numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        how = align.get(str(name), "right" if numeric else "left")
        if how not in _ALIGN_RULES:
            raise ValueError(
                f"align for {name!r} must be one of {sorted(_ALIGN_RULES)}, got {how!r}"
            )
        rules.append(how)

    widths = [max([3, len(header_row[j])] + [len(t) for t in cells[j]]) for j in range(len(cells))]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(header_row, widths)) + " |"]
    separator = []
    for how, width in zip(rules, widths):
        rule = _ALIGN_RULES[how]
        dashes = "-" * (width - (len(rule) - rule.count("-")))
        separator.append(rule.replace("---", dashes))
    lines.append("| " + " | ".join(separator) + " |")
    for i in range(len(df)):
        row = [cells[j][i].ljust(widths[j]) for j in range(len(cells))]
        lines.append("| " + " | ".join(row) + " |")
    text = "\n".join(lines) + "\n"
    if label is not None:
        if not caption:
            raise ValueError("a table label needs a caption")
        if not re.fullmatch(r"tbl-[\w-]+", label):
            raise ValueError(f"a table label is tbl- and a name, not {label!r}")
    if caption:
        text += f"\n: {caption}" + (f" {{#{label}}}" if label else "") + "\n"
    return text


def edition_facts(config: EditionConfig) -> dict[str, str]:
    """The edition's facts as every publication prints them (``_variables.yml`` of the
    baromètre, the annex and the territorial reports): edition, title, the years of the data,
    the COG and the populations, the publication date and the palmarès size."""
    return {
        "edition": str(config.edition),
        "title": config.title,
        "data_year": str(config.data_year),
        "cog_year": str(config.cog_year),
        "population_year": str(config.population_year),
        "publication_date": fr_date(config.cover_date),
        "palmares_size": str(config.palmares_size),
    }
