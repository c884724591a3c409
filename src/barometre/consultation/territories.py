"""Crossing a consultation with territories: who proposes where, against the baromètre's
engagement of the same territory.

* **Author location.** ``author_department`` (a département code, ``1`` → ``01``, ``2a`` →
  ``2A``) or, failing it, ``author_postal_code`` (its département; a Corsican ``20xxx`` postcode
  cannot tell 2A from 2B and stays unplaced). A proposal whose author is not located, or located
  outside the COG's départements, is counted as such, never dropped silently.
* **Participation** per département and region: proposals of its residents per 100 000
  inhabitants (legal populations of the COG vintage). The layouts carry no voter location, so
  votes cannot be placed: ``votes_received`` is the number of votes *received* by the
  proposals of the territory's residents (from everywhere), reported for what it is.
* **Engagement** of the same territory: the population-weighted mean of the baromètre's commune
  score (``score`` of an edition's ``communes.csv``; any other column may be named).
* **Rank correlation** (Spearman) between the two over the territories, with a Fisher-z
  interval of Bonett–Wright variance (1 + ρ²/2)/(n − 3) (Bonett & Wright 2000,
  *Psychometrika* 65: 23–28).

Disclosure: a count of proposals is a count of people's acts; in published tables a count
below 11 is shown ``< 11`` (and its rate withheld); the correlation reads the exact counts
internally, as the baromètre's rankings do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from barometre import geography
from barometre.disclosure import DEFAULT_THRESHOLD
from barometre.sources.matching import postcode_departments

PER = 100_000
NOT_LOCATED = "non localisé"
OUTSIDE = "hors départements du COG"


def normalise_department(code: object) -> str:
    """A département code as the COG writes it (``01``, ``2A``, ``971``), or "" when empty."""
    text = str(code if code is not None else "").strip().upper()
    if not text or text in ("NAN", "NONE"):
        return ""
    if text.isdigit() and len(text) == 1:
        return "0" + text
    return text


def author_departments(proposals: pd.DataFrame, cog_year: int) -> pd.DataFrame:
    """``id``, ``code_departement`` ("" when not located), ``status`` (``located``,
    ``not located``, ``unknown code``, ``ambiguous postcode``) for each proposal."""
    known = set(geography.load_departements(cog_year)["code_departement"])
    n = len(proposals)
    dep = proposals["author_department"].map(normalise_department) if "author_department" in proposals else pd.Series([""] * n, index=proposals.index)  # fmt: skip
    postcodes = proposals["author_postal_code"].fillna("").astype(str).str.strip() if "author_postal_code" in proposals else pd.Series([""] * n, index=proposals.index)  # fmt: skip
    codes, status = [], []
    for d, pc in zip(dep, postcodes, strict=True):
        if not d and pc:
            pc = pc.zfill(5) if pc.isdigit() and len(pc) == 4 else pc
            candidates = postcode_departments(pc) if pc.isdigit() and len(pc) == 5 else ()
            if len(candidates) > 1:
                codes.append("")
                status.append("ambiguous postcode")
                continue
            d = candidates[0] if candidates else ""
        if not d:
            codes.append("")
            status.append("not located")
        elif d in known:
            codes.append(d)
            status.append("located")
        else:
            codes.append("")
            status.append("unknown code")
    return pd.DataFrame(
        {"id": proposals["id"].to_numpy(), "code_departement": codes, "status": status}
    )


def territory_populations(cog_year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(départements, regions): code, name, region (départements), population."""
    communes = geography.load_communes(cog_year)
    deps = geography.load_departements(cog_year)
    regions = geography.load_regions(cog_year)
    pop = communes.groupby("code_departement")["population"].sum()
    deps = deps[["code_departement", "nom", "code_region"]].assign(
        population=deps["code_departement"].map(pop).fillna(0).astype("int64")
    )
    reg_pop = deps.groupby("code_region")["population"].sum()
    regions = regions[["code_region", "nom"]].assign(
        population=regions["code_region"].map(reg_pop).fillna(0).astype("int64")
    )
    return deps, regions


def participation(
    scored: pd.DataFrame, located: pd.DataFrame, cog_year: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per département, per region): ``proposals``, ``proposals_per_100k``,
    ``votes_received`` (votes on these proposals), ``consensus`` (Make zone) — exact counts."""
    deps, regions = territory_populations(cog_year)
    frame = located.merge(scored[["id", "n_votes", "zone"]], on="id", how="left")
    frame = frame[frame["code_departement"] != ""]
    by_dep = frame.groupby("code_departement").agg(
        proposals=("id", "size"), votes_received=("n_votes", "sum"),
        consensus=("zone", lambda z: int((z == "consensus").sum())),
    )  # fmt: skip
    out_dep = deps.join(by_dep, on="code_departement")
    for column in ("proposals", "votes_received", "consensus"):
        out_dep[column] = out_dep[column].fillna(0).astype("int64")
    by_reg = out_dep.groupby("code_region")[["proposals", "votes_received", "consensus"]].sum()
    out_reg = regions.join(by_reg, on="code_region")
    for table in (out_dep, out_reg):
        for column in ("proposals", "votes_received", "consensus"):
            table[column] = table[column].fillna(0).astype("int64")
        with np.errstate(divide="ignore", invalid="ignore"):
            table["proposals_per_100k"] = np.where(
                table["population"] > 0, table["proposals"] / table["population"] * PER, np.nan
            )
    return out_dep.reset_index(drop=True), out_reg.reset_index(drop=True)


def engagement(communes: pd.DataFrame, column: str = "score") -> tuple[pd.Series, pd.Series]:
    """(per département, per region) population-weighted mean of ``column`` over the communes
    where it is known (``communes`` needs ``code_departement``, ``code_region``,
    ``population``)."""
    missing = [c for c in ("code_departement", "code_region", "population", column) if c not in communes]  # fmt: skip
    if missing:
        raise ValueError(f"the communes table lacks the columns {missing}")
    table = communes[["code_departement", "code_region", "population", column]].copy()
    table["code_departement"] = table["code_departement"].map(normalise_department)
    table["code_region"] = table["code_region"].astype(str).str.zfill(2)
    table = table[pd.to_numeric(table[column], errors="coerce").notna()]
    table[column] = pd.to_numeric(table[column])
    weighted = table.assign(w=table[column] * table["population"])

    def mean(group: str) -> pd.Series:
        sums = weighted.groupby(group)[["w", "population"]].sum()
        return (
            (sums["w"] / sums["population"])
            .where(sums["population"] > 0)
            .rename(f"engagement_{column}")
        )

    return mean("code_departement"), mean("code_region")


@dataclass(frozen=True)
class Correlation:
    level: str
    measure: str
    n: int
    rho: float
    low: float
    high: float
    coverage: float

    def as_row(self) -> dict[str, object]:
        return {"level": self.level, "measure": self.measure, "n": self.n, "spearman_rho": self.rho,
                "low": self.low, "high": self.high, "coverage": self.coverage}  # fmt: skip


def rank_correlation(
    x: pd.Series | np.ndarray,
    y: pd.Series | np.ndarray,
    *,
    coverage: float = 0.95,
    level: str = "",
    measure: str = "",
) -> Correlation:
    """Spearman's ρ of the pairs where both are known, with its Fisher-z interval (variance
    (1 + ρ²/2)/(n − 3), Bonett–Wright); NaN bounds when n < 4."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = np.isfinite(x) & np.isfinite(y)
    n = int(keep.sum())
    if n < 3:
        return Correlation(level, measure, n, math.nan, math.nan, math.nan, coverage)
    rho = float(stats.spearmanr(x[keep], y[keep]).statistic)
    if n < 4 or not math.isfinite(rho) or abs(rho) >= 1:
        return Correlation(level, measure, n, rho, math.nan, math.nan, coverage)
    z = math.atanh(rho)
    se = math.sqrt((1 + rho**2 / 2) / (n - 3))
    q = stats.norm.ppf(0.5 + coverage / 2)
    return Correlation(
        level, measure, n, rho, math.tanh(z - q * se), math.tanh(z + q * se), coverage
    )


def protect_counts(
    table: pd.DataFrame,
    columns: tuple[str, ...] = ("proposals", "consensus"),
    rate: str = "proposals_per_100k",
    threshold: int = DEFAULT_THRESHOLD,
) -> pd.DataFrame:
    """The table as published: counts below ``threshold`` (but not 0) shown ``< 11``, and the
    rate of a suppressed count withheld (rate × population gives the count back)."""
    out = table.copy()
    small = (out["proposals"] > 0) & (out["proposals"] < threshold)
    for column in columns:
        if column in out:
            values = out[column]
            out[column] = np.where(
                (values > 0) & (values < threshold), f"< {threshold}", values.astype(str)
            )
    if rate in out:
        out[rate] = np.where(small, "", out[rate].map(lambda v: "" if pd.isna(v) else f"{v:.2f}"))
    return out


def top_of_territory(
    scored: pd.DataFrame, located: pd.DataFrame, departments: list[str] | set[str], n: int = 10
) -> pd.DataFrame:
    """The proposals of the residents of ``departments``, best first: most probable consensus
    (``p_consensus``), then the Make top score."""
    ids = set(located.loc[located["code_departement"].isin(set(departments)), "id"])
    chosen = scored[scored["id"].isin(ids)]
    order = ["p_consensus", "top_score"] if "p_consensus" in chosen else ["top_score"]
    return (
        chosen.sort_values(order, ascending=False, kind="mergesort").head(n).reset_index(drop=True)
    )
