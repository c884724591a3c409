"""The demo's synthetic list of quartiers prioritaires, in the official ANCT 2024 layout.

The official list is not shipped; the demo draws one, seeded from the edition seed, calibrated
on published magnitudes (:class:`QpvMagnitudes`, sources in its docstring) and on the real
EPCI-level QPV populations of the contrats de ville (``data/reference/qpv/contrats_de_ville.csv``):

- counts: 1 362 QPV in metropolitan France, 298 in Île-de-France, 204 in Hauts-de-France (94 in
  the Nord, 64 in the Pas-de-Calais), 145 in Auvergne-Rhône-Alpes; the other regions and
  départements share the rest in proportion to the population of their contrats' QPV;
- within a département, QPV go to the EPCI carrying a contrat de ville, in proportion to its QPV
  population, and within it to communes of an urban unit above 10 000 inhabitants (proxy: the
  commune has 10 000 inhabitants or more, or 3 500 or more in an EPCI that has such a commune),
  the larger communes more often;
- a QPV has at least 1 000 inhabitants and at most 45 % of its communes' population; the
  Hauts-de-France total is 753 100 inhabitants (13 % of the region), the Nord's QPV average
  4 600, the others 3 700;
- about 6 % of the QPV span two or three neighbouring communes of the same EPCI.

Every name says « synthétique » and every code ends in ``S``; the populations, which the
official list does not carry, go to a side file. Nothing here is a real QPV.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from barometre import catalogue, geography
from barometre.config import PROJECT_ROOT
from barometre.qpv.reader import QPV_COLUMNS

CONTRACTS_TABLE = catalogue.path(PROJECT_ROOT, "reference.qpv") / "contrats_de_ville.csv"
#: Spawn key of the QPV stream of the edition seed (the other demo sources keep theirs).
QPV_STREAM = 0x515056
LIST_NAME = "liste_qpv_2024_synthetique.csv"
POPULATION_NAME = "liste_qpv_2024_synthetique_population.csv"
OVERSEAS_PREFIX = "97"


@dataclass(frozen=True)
class QpvMagnitudes:
    """Published magnitudes of the 2024 generation of QPV.

    Décret n° 2023-1314 du 28 décembre 2023 (1 362 QPV in metropolitan France); Insee Analyses
    Hauts-de-France n° 178 (November 2024): 298 QPV in Île-de-France, 204 in Hauts-de-France
    (94 Nord, 64 Pas-de-Calais), 145 in Auvergne-Rhône-Alpes; 753 100 inhabitants in
    Hauts-de-France (RP 2020, 13 % of the region), 3 700 per QPV on average, 4 600 in the Nord;
    décret n° 2023-1312: urban units above 10 000 inhabitants, QPV of 1 000 inhabitants or more.
    """

    metro_qpv: int = 1362
    region_qpv: dict[str, int] = field(default_factory=lambda: {"11": 298, "32": 204, "84": 145})
    department_qpv: dict[str, int] = field(default_factory=lambda: {"59": 94, "62": 64})
    region_population: dict[str, int] = field(default_factory=lambda: {"32": 753_100})
    department_mean: dict[str, int] = field(default_factory=lambda: {"59": 4_600})
    mean_population: int = 3_700
    min_population: int = 1_000
    max_share_of_communes: float = 0.45
    urban_unit: int = 10_000
    urban_member: int = 3_500
    multi_commune_share: float = 0.06


def _largest_remainder(total: int, weights: pd.Series) -> pd.Series:
    """Integers summing to ``total``, proportional to ``weights`` (Hamilton's method)."""
    if total <= 0 or weights.sum() <= 0:
        return pd.Series(0, index=weights.index)
    exact = weights / weights.sum() * total
    floor = np.floor(exact).astype(int)
    left = total - int(floor.sum())
    order = (exact - floor).sort_values(ascending=False, kind="stable").index[:left]
    floor.loc[order] += 1
    return floor


def load_contracts(cog_year: int | None = None) -> pd.DataFrame:
    """The contrats de ville table (``data/reference/qpv/contrats_de_ville.csv``), codes as
    text; with ``cog_year``, a ``code_epci`` column: the EPCI carrying each contract in that COG."""
    table = pd.read_csv(CONTRACTS_TABLE, dtype=str).assign(
        pop_qpv_2015=lambda t: t["pop_qpv_2015"].astype(int)
    )
    if cog_year is not None:
        column = f"code_epci_cog{cog_year}"
        if column not in table.columns:
            raise ValueError(
                f"{CONTRACTS_TABLE.name} has no EPCI for COG {cog_year} (scripts/build_qpv_reference.py --cog)"
            )
        table["code_epci"] = table[column]
    return table


def department_targets(
    communes: pd.DataFrame, contracts: pd.DataFrame, magnitudes: QpvMagnitudes
) -> pd.Series:
    """QPV per metropolitan département: the published counts where known, the rest in
    proportion to the QPV population of the département's contrats de ville."""
    metro = communes[~communes["code_departement"].str.startswith(OVERSEAS_PREFIX)]
    region_of = metro.drop_duplicates("code_departement").set_index("code_departement")[
        "code_region"
    ]
    weight = (
        contracts.groupby("insee_dep")["pop_qpv_2015"]
        .sum()
        .reindex(region_of.index, fill_value=0)
        .astype(float)
    )
    regions = sorted(region_of.unique())
    region_weight = weight.groupby(region_of).sum().reindex(regions, fill_value=0.0)
    fixed = magnitudes.region_qpv
    free = region_weight.drop(list(fixed))
    per_region = pd.concat(
        [pd.Series(fixed), _largest_remainder(magnitudes.metro_qpv - sum(fixed.values()), free)]
    )
    targets = []
    for region, count in per_region.items():
        deps = region_of.index[region_of == region]
        known = {d: n for d, n in magnitudes.department_qpv.items() if d in deps}
        rest = weight.reindex(deps).drop(list(known))
        targets.append(
            pd.concat(
                [
                    pd.Series(known, dtype=int),
                    _largest_remainder(int(count) - sum(known.values()), rest),
                ]
            )
        )
    return pd.concat(targets).astype(int).sort_index()


def _candidates(members: pd.DataFrame, magnitudes: QpvMagnitudes) -> pd.DataFrame:
    """Communes of an urban unit above 10 000 inhabitants (proxy), weighted by population."""
    big = members["population"] >= magnitudes.urban_unit
    if big.any():
        chosen = members[members["population"] >= magnitudes.urban_member]
    else:
        chosen = members.nlargest(1, "population")
    return chosen.assign(
        weight=np.where(chosen["population"] >= magnitudes.urban_unit, 1.0, 0.3)
        * chosen["population"]
    )


def _sizes(
    rng: np.random.Generator, n: int, total: float, capacity: np.ndarray, minimum: int
) -> np.ndarray:
    """``n`` QPV populations summing to ``total`` (integers), each in [minimum, capacity],
    proportional to lognormal draws (water-filling of the clipped ones)."""
    draws = rng.lognormal(0.0, 0.6, size=n)
    capacity = np.maximum(capacity, minimum)
    total = float(min(total, capacity.sum()))
    sizes = np.full(n, float(minimum))
    free = np.ones(n, dtype=bool)
    for _ in range(50):
        left = total - sizes[~free].sum() - minimum * free.sum()
        share = np.where(free, draws, 0.0)
        proposal = np.where(free, minimum + left * share / share.sum(), sizes)
        over = free & (proposal > capacity)
        if not over.any():
            sizes = proposal
            break
        sizes = np.where(over, capacity, sizes)
        free &= ~over
    rounded = np.floor(sizes).astype(int)
    remainder = round(total) - int(rounded.sum())
    order = np.argsort(-(sizes - rounded), kind="stable")
    for i in order[: max(remainder, 0)]:
        rounded[i] += 1
    return rounded


def synthetic_qpv_list(
    cog_year: int, seed: int, magnitudes: QpvMagnitudes | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The synthetic list: (rows in the official layout, as text with :data:`QPV_COLUMNS`, with
    ``insee_com``/``lib_com`` « ; »-joined for a multi-commune QPV; populations ``code_qp``,
    ``population``, ``code_departement``). Deterministic for a seed."""
    magnitudes = magnitudes or QpvMagnitudes()
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(QPV_STREAM,)))
    communes = geography.load_communes(cog_year)
    names = _Names(
        communes.set_index("code_commune"),
        geography.load_regions(cog_year).set_index("code_region")["nom"],
        geography.load_departements(cog_year).set_index("code_departement")["nom"],
        geography.load_epci(cog_year).set_index("code_epci")["nom"],
    )
    contracts = load_contracts()
    epci_column = f"code_epci_cog{cog_year}"
    from barometre.publish.maps import load_commune_points

    xy = load_commune_points()[["lon", "lat"]]
    targets = department_targets(communes, contracts, magnitudes)
    rows, populations = [], []
    for dep, n_dep in targets.items():
        if n_dep == 0:
            continue
        members = communes[communes["code_departement"] == dep]
        per_epci = _epci_quotas(
            int(n_dep), members, contracts[contracts["insee_dep"] == dep], epci_column
        )
        placed = _place_qpv(rng, members, per_epci, xy, magnitudes)
        total = _department_total(dep, n_dep, communes, targets, magnitudes)
        capacity = _capacities(placed, members, magnitudes)
        sizes = _sizes(rng, len(placed), float(total), capacity, magnitudes.min_population)
        dep_rows, dep_populations = _department_rows(dep, placed, sizes, names)
        rows += dep_rows
        populations += dep_populations
    return pd.DataFrame(rows, columns=list(QPV_COLUMNS)), pd.DataFrame(populations)


@dataclass(frozen=True)
class _Names:
    """The COG's tables the list's rows read: communes (indexed by code, with their region and
    EPCI) and the names of regions, départements and EPCI by code."""

    communes: pd.DataFrame
    regions: pd.Series
    departements: pd.Series
    epci: pd.Series


def _epci_quotas(
    n_dep: int, members: pd.DataFrame, contracts: pd.DataFrame, epci_column: str
) -> pd.Series:
    """QPV per EPCI of a département (``members``: its communes; ``contracts``: its contrats de
    ville), in proportion to the contracts' QPV population, every contract keeping at least one
    QPV when there are enough; without any contract, its three largest towns' EPCI."""
    weights = contracts.groupby(epci_column)["pop_qpv_2015"].sum()
    weights = weights[weights.index.isin(set(members["code_epci"]))]
    if weights.empty:  # no contract in the file: the département's largest towns
        weights = members.groupby("code_epci")["population"].max().nlargest(3).astype(float)
    per_epci = _largest_remainder(n_dep, weights.astype(float))
    if len(weights) <= n_dep:  # every contract keeps at least one QPV
        per_epci = per_epci.clip(lower=1)
        while per_epci.sum() > n_dep:
            per_epci[per_epci.idxmax()] -= 1
    return per_epci


def _place_qpv(
    rng: np.random.Generator,
    members: pd.DataFrame,
    per_epci: pd.Series,
    xy: pd.DataFrame,
    magnitudes: QpvMagnitudes,
) -> list[list[str]]:
    """The communes of each QPV of a département, EPCI by EPCI: a main commune drawn among the
    EPCI's candidates (:func:`_candidates`) by weight; with probability
    ``multi_commune_share`` (when the EPCI has another candidate) one or two more, the nearest
    other candidates (``xy``: longitude and latitude by commune code)."""
    placed: list[list[str]] = []
    for code_epci, n_epci in per_epci[per_epci > 0].items():
        pool = _candidates(members[members["code_epci"] == code_epci], magnitudes)
        p = (pool["weight"] / pool["weight"].sum()).to_numpy()
        main = rng.choice(len(pool), size=int(n_epci), p=p)
        for i in main:
            codes = [str(pool.iloc[i]["code_commune"])]
            neighbours = pool[pool["code_commune"] != codes[0]]
            if len(neighbours) and rng.random() < magnitudes.multi_commune_share:
                here = xy.reindex([codes[0]]).to_numpy()[0]
                distance = ((xy.reindex(neighbours["code_commune"]).to_numpy() - here) ** 2).sum(
                    axis=1
                )
                extra = 1 + int(rng.random() < 0.35)
                codes += list(
                    neighbours["code_commune"].to_numpy()[
                        np.argsort(distance, kind="stable")[:extra]
                    ]
                )
            placed.append(codes)
    return placed


def _capacities(
    placed: list[list[str]], members: pd.DataFrame, magnitudes: QpvMagnitudes
) -> np.ndarray:
    """Largest population of each QPV: a commune's QPV hold at most ``max_share_of_communes``
    of it, shared equally among the QPV touching it."""
    population = members.set_index("code_commune")["population"]
    touching: dict[str, int] = {}
    for codes in placed:
        for code in codes:
            touching[code] = touching.get(code, 0) + 1
    return np.array(
        [
            sum(magnitudes.max_share_of_communes * population[c] / touching[c] for c in codes)
            for codes in placed
        ]
    )


def _department_total(
    dep: str,
    n_dep: int,
    communes: pd.DataFrame,
    targets: pd.Series,
    magnitudes: QpvMagnitudes,
) -> float:
    """Population of a département's ``n_dep`` QPV: ``mean_population`` each, or, in a region
    with a published total, the published département mean where known and the rest of the
    regional total shared among the other départements by their number of QPV (integer
    shares, the last département taking the remainder)."""
    region = str(communes.loc[communes["code_departement"] == dep, "code_region"].iloc[0])
    if region not in magnitudes.region_population:
        return magnitudes.mean_population * n_dep
    region_deps = targets[
        targets.index.isin(communes.loc[communes["code_region"] == region, "code_departement"])
    ]
    fixed = {
        d: magnitudes.department_mean[d] * targets[d]
        for d in magnitudes.department_mean
        if d in region_deps.index
    }
    if dep in fixed:
        return fixed[dep]
    others = region_deps.drop(list(fixed))
    rest = magnitudes.region_population[region] - sum(fixed.values())
    if dep != others.index[-1]:
        return int(rest * n_dep / others.sum())
    return rest - sum(int(rest * targets[d] / others.sum()) for d in others.index[:-1])


def _qpv_code(dep: str, rank: int) -> str:
    """Code of the ``rank``-th synthetic QPV of a département: ``QN`` + the département on three
    characters + ``01`` … ``99``, then ``A0`` … ``Z9`` (never one of the numbers) + ``S``."""
    dep3 = dep.zfill(3) if len(dep) < 3 else dep
    suffix = (
        f"{rank:02d}" if rank < 100 else f"{chr(ord('A') + (rank - 100) // 10)}{(rank - 100) % 10}"
    )
    return f"QN{dep3}{suffix}S"


def _department_rows(
    dep: str, placed: list[list[str]], sizes: np.ndarray, names: _Names
) -> tuple[list[dict[str, str]], list[dict[str, object]]]:
    """(rows of the list, populations) of a département's QPV, numbered by main commune code
    then decreasing population."""
    rows, populations = [], []
    order = sorted(range(len(placed)), key=lambda k: (placed[k][0], -sizes[k]))
    for rank, k in enumerate(order, start=1):
        codes = placed[k]
        communes = [str(names.communes.at[c, "nom"]) for c in codes]
        code_qp = _qpv_code(dep, rank)
        kind = "Quartier intercommunal synthétique" if len(codes) > 1 else "Quartier synthétique"
        main = names.communes.loc[codes[0]]
        rows.append(
            {
                "code_qp": code_qp,
                "lib_qp": f"{kind} n° {rank} — {' - '.join(communes)}",
                "insee_reg": str(main["code_region"]),
                "lib_reg": str(names.regions[main["code_region"]]),
                "insee_dep": dep,
                "lib_dep": str(names.departements[dep]),
                "insee_com": ";".join(codes),
                "lib_com": "; ".join(communes),
                "siren_epci": str(main["code_epci"]),
                "lib_epci": str(names.epci.get(main["code_epci"], "")),
            }
        )
        populations.append(
            {"code_qp": code_qp, "population": int(sizes[k]), "code_departement": dep}
        )
    return rows, populations


def format_qpv_list(rows: pd.DataFrame) -> str:
    """The official layout as text: ``;``-separated, ``insee_com`` protected for Excel
    (``="60057"``; a multi-commune cell, quoted, ``=""59512;59599""``), lib_com of a multi-commune
    QPV quoted."""

    def cell(value: str) -> str:
        return (
            f'"{value.replace(chr(34), chr(34) * 2)}"' if (";" in value or '"' in value) else value
        )

    lines = [";".join(QPV_COLUMNS)]
    for row in rows[list(QPV_COLUMNS)].itertuples(index=False):
        record = [str(v) for v in row]
        at = QPV_COLUMNS.index("insee_com")
        # ="60057" as is; a list of codes has a ';', so the protected cell is CSV-quoted
        record[at] = f'="{record[at]}"'
        lines.append(";".join(cell(v) if i != at or ";" in v else v for i, v in enumerate(record)))
    return "\n".join(lines) + "\n"


def write_synthetic_qpv_list(
    folder: Path, cog_year: int, seed: int, magnitudes: QpvMagnitudes | None = None
) -> dict[str, Path]:
    """Write the synthetic list (:data:`LIST_NAME`), its populations (:data:`POPULATION_NAME`)
    and a ``README.md`` saying they are synthetic into ``folder``; returns the paths."""
    from barometre.io import atomic_write_text

    rows, populations = synthetic_qpv_list(cog_year, seed, magnitudes)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = {
        "list": folder / LIST_NAME,
        "population": folder / POPULATION_NAME,
        "readme": folder / "README.md",
    }
    atomic_write_text(written["list"], format_qpv_list(rows))
    atomic_write_text(written["population"], populations.to_csv(index=False, lineterminator="\n"))
    hdf = populations[populations["code_departement"].isin(["02", "59", "60", "62", "80"])]
    atomic_write_text(
        written["readme"],
        "# Liste des QPV 2024 — SYNTHÉTIQUE (données de démonstration)\n\n"
        f"`{LIST_NAME}` is a synthetic list in the layout of ANCT's « liste des QPV 2024 » "
        "(barometre.qpv.synthetic, seeded from the edition seed "
        f"{seed}, COG {cog_year}): {len(rows)} QPV in metropolitan France, {len(hdf)} in "
        f"Hauts-de-France ({int(hdf['population'].sum())} inhabitants). Every name says "
        "« synthétique », every code ends in S: no row is a real quartier prioritaire. "
        f"`{POPULATION_NAME}` gives the drawn population of each (the official list has none).\n",
    )
    return written
