"""Engagement profile of the communes holding a quartier prioritaire (computation only).

Conventions:

- a commune is « avec QPV » when at least one QPV of the list touches it (an intercommunal QPV
  counts for each of its communes); every commune of the territory in the build's commune table
  (eligible to the palmarès or not: the profile reads counts, not scores) is either with or
  without, and :func:`reconciliation` checks ``with + without = all`` class by class;
- the **comparison** of a class is the communes of the same population class, in the
  territory's region(s), without QPV. Its rate is *standardised* on the QPV communes: the
  comparison rate of each class weighted by the QPV communes' population in that class, so both
  groups have the same mix of sizes (classes without any comparison commune are left out of
  both, and named);
- a group's rate is Σ count / Σ population × 1 000 (participants: Σ participants / Σ population
  × 1 000); its 90 % interval and the ratio's come from the joint posterior draws of the
  palmarès' count models (:mod:`barometre.countmodel`: one draw of every commune's rate at once,
  the group's rate being the population-weighted mean of its communes' drawn rates);
- person counts (participations, mises en relation) follow :mod:`barometre.disclosure`: a
  group's rate is withheld with its interval when the group's count is small, when the group's
  count minus the cells the per-commune tables publish would narrow a cell they hide (a
  « < 11 » or an ineligible commune's unpublished count), or when the complementary group (the
  other side of the same territory total) is withheld.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from barometre.countmodel import CountModelFit
from barometre.disclosure import (
    DEFAULT_THRESHOLD,
    PERSON_COUNTS,
    UNPUBLISHED,
    hidden_remainder_is_safe,
    is_small,
)

WITH, WITHOUT, COMPARISON = (
    "Communes avec QPV",
    "Communes sans QPV",
    "Comparaison (même classe, sans QPV)",
)
#: Fewest comparison communes of a class: below it in the region, the class is compared with
#: France (the whole build); below it there too, the class is left out.
MIN_COMPARISON = 5


@dataclass(frozen=True)
class Measure:
    """One engagement measure of the profile: ``code`` (indicator), ``count`` column, French
    ``label`` and ``model``: the count model's name; ``per`` the count column the model's rate
    multiplies (``None``: the population — a ratio model such as participants per campaign
    multiplies the observed campaigns)."""

    code: str
    count: str
    label: str
    model: str
    per: str | None = None
    short: str = ""


def measures_from_meta(meta: Mapping[str, object], columns: Sequence[str]) -> list[Measure]:
    """Per-inhabitant measures of the indicators of ``meta`` whose counts are in ``columns``:
    count indicators as they are, ratio indicators through their numerator (participants per
    1 000 inhabitants = participants per campaign × campaigns) unless a count indicator already
    measures that count per inhabitant (one measure per count)."""
    out: dict[str, Measure] = {}
    for indicator in meta["indicators"]:  # type: ignore[index]
        if "count" in indicator:
            count, per = indicator["count"], None
        else:
            count, per = indicator["numerator"], indicator["denominator_count"]
        if (
            count in columns
            and (per is None or per in columns)
            and (count not in out or per is None)
        ):
            short = str(indicator["short"])
            out[count] = Measure(
                indicator["code"],
                count,
                short[:1].upper() + short[1:],
                indicator["code"],
                per,
                short,
            )
    return list(out.values())


# --------------------------------------------------------------------------- communes


def flag_communes(communes: pd.DataFrame, by_commune: pd.DataFrame) -> pd.DataFrame:
    """``communes`` with ``n_qpv`` (0 without), ``has_qpv``, ``qpv_codes``, ``qpv_names``
    (empty without) from :func:`barometre.qpv.reader.qpv_by_commune`."""
    out = communes.drop(
        columns=[c for c in ("n_qpv", "has_qpv", "qpv_codes", "qpv_names") if c in communes.columns]
    )
    out = out.merge(by_commune, on="code_commune", how="left")
    out["n_qpv"] = out["n_qpv"].fillna(0).astype(int)
    out["has_qpv"] = out["n_qpv"] > 0
    out[["qpv_codes", "qpv_names"]] = out[["qpv_codes", "qpv_names"]].fillna("")
    return out


def reconciliation(territory: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """Communes and population of the territory by class: ``communes``, ``with_qpv``,
    ``without_qpv``, ``population``, ``population_with_qpv``, ``share_population_with_qpv``
    (%), then « Ensemble ». Raises ``AssertionError`` if with + without ≠ all."""
    rows = []
    for label in [*labels, "Ensemble"]:
        members = (
            territory if label == "Ensemble" else territory[territory["population_class"] == label]
        )
        if members.empty:
            continue
        with_qpv = members[members["has_qpv"]]
        row = {
            "population_class": label,
            "communes": len(members),
            "with_qpv": len(with_qpv),
            "without_qpv": int((~members["has_qpv"]).sum()),
            "population": int(members["population"].sum()),
            "population_with_qpv": int(with_qpv["population"].sum()),
        }
        if row["with_qpv"] + row["without_qpv"] != row["communes"]:
            raise AssertionError(
                f"{label}: {row['with_qpv']} with QPV + {row['without_qpv']} without ≠ {row['communes']}"
            )
        row["share_population_with_qpv"] = (
            100.0 * row["population_with_qpv"] / row["population"] if row["population"] else np.nan
        )
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- engagement


def comparison_communes(
    everywhere: pd.DataFrame,
    regions: Sequence[str],
    labels: Sequence[str],
    minimum: int = MIN_COMPARISON,
) -> tuple[pd.DataFrame, list[str]]:
    """The comparison pool: for each class, the communes without QPV of the ``regions``, or of
    the whole build (France in a national build) when the regions have fewer than ``minimum``
    of them. Returns (pool, classes compared at national level)."""
    without = everywhere[~everywhere["has_qpv"]]
    parts, national = [], []
    for label in labels:
        in_class = without[without["population_class"] == label]
        local = in_class[in_class["code_region"].isin(list(regions))]
        if len(local) >= minimum or len(in_class) == len(local):
            parts.append(local)
        else:
            parts.append(in_class)
            national.append(label)
    return pd.concat(parts, ignore_index=True), national


def group_weights(
    territory: pd.DataFrame, comparison_pool: pd.DataFrame, labels: Sequence[str], minimum: int = 1
) -> tuple[dict[str, pd.Series], list[str], list[str]]:
    """Population weights of the three groups, indexed by ``code_commune`` (summing to 1 within
    a group): the territory's communes with QPV, without QPV, and the class-standardised
    comparison (communes of ``comparison_pool`` without QPV, each class weighted by the QPV
    communes' population of that class; a class with fewer than ``minimum`` comparison communes
    is left out of both). Returns (weights, classes compared, classes left out)."""
    with_qpv = territory[territory["has_qpv"]]
    pool = comparison_pool[~comparison_pool["has_qpv"]]
    present = [label for label in labels if (with_qpv["population_class"] == label).any()]
    compared = [
        label
        for label in present
        if int((pool["population_class"] == label).sum()) >= max(minimum, 1)
    ]
    left_out = [label for label in present if label not in compared]
    kept = with_qpv[with_qpv["population_class"].isin(compared)]
    class_share = (
        kept.groupby("population_class", observed=True)["population"].sum()
        / kept["population"].sum()
    )
    parts = []
    for label in compared:
        members = pool[pool["population_class"] == label]
        parts.append(members["population"] / members["population"].sum() * class_share[label])
    standardised = pd.concat(parts) if parts else pd.Series(dtype=float)
    without = territory[~territory["has_qpv"]]

    def own(frame: pd.DataFrame) -> pd.Series:
        return (frame["population"] / frame["population"].sum()).set_axis(frame["code_commune"])

    weights = {
        WITH: own(kept),
        WITHOUT: own(without),
        COMPARISON: standardised.set_axis(pool.loc[standardised.index, "code_commune"])
        if len(standardised)
        else standardised,
    }
    return weights, compared, left_out


def observed_rate(table: pd.DataFrame, weights: pd.Series, measure: Measure) -> float:
    """The group's rate per 1 000 inhabitants from the exact counts: Σ_i w_i count_i / pop_i
    (= Σ count / Σ population for a group weighted by population)."""
    frame = table.set_index("code_commune").reindex(weights.index)
    rate = frame[measure.count] / frame["population"].where(frame["population"] > 0)
    return float((weights * rate).sum() * 1000.0)


def drawn_rates(
    fits: Mapping[str, CountModelFit],
    table: pd.DataFrame,
    measure: Measure,
    weights: Mapping[str, pd.Series],
    n_draws: int,
    seed: int,
    chunk: int = 100,
) -> pd.DataFrame:
    """Posterior draws of each group's rate per 1 000 inhabitants (one column per group).

    Draw ``d`` is draw ``d`` of ``seed`` of the fit (:meth:`CountModelFit.draws_for`), so the
    groups' rates of one row come from one joint draw of every commune's rate, and their ratio
    carries the correlation. A ratio model's drawn rate (per unit of its exposure) is multiplied
    by the observed exposure (campaigns) and divided by the population."""
    fit = fits[measure.model]
    codes = pd.Index(fit.index.astype(str))
    frame = table.set_index("code_commune").reindex(codes)
    if measure.per is None:
        multiplier = np.ones(len(codes))
    else:
        multiplier = (
            frame[measure.per] / frame["population"].where(frame["population"] > 0)
        ).to_numpy(dtype=float)
    matrix = np.column_stack(
        [weights[g].reindex(codes).fillna(0.0).to_numpy() * multiplier for g in weights]
    )
    out = []
    for start in range(0, n_draws, chunk):
        draws = fit.draws_for(range(start, min(start + chunk, n_draws)), seed, scale=1000.0)
        # renormalise over usable communes (an unusable commune has no drawn rate)
        usable = np.isfinite(draws)
        values = np.where(usable, draws, 0.0) @ matrix
        mass = usable.astype(float) @ np.column_stack(
            [weights[g].reindex(codes).fillna(0.0).to_numpy() for g in weights]
        )
        out.append(values / np.where(mass > 0, mass, np.nan))
    return pd.DataFrame(np.vstack(out), columns=list(weights))


def withhold(
    table: pd.DataFrame,
    codes: Sequence[str],
    count: str,
    suppressed: pd.DataFrame | None,
    threshold: int = DEFAULT_THRESHOLD,
) -> bool:
    """Whether a group's person count (and any rate giving it back) must be withheld: its total
    is small, or the total minus the cells the commune tables publish would narrow a hidden
    cell (:func:`barometre.disclosure.hidden_remainder_is_safe`). ``suppressed`` says, by
    ``code_commune``, which cells the tables hide: :func:`barometre.disclosure.hidden_cells`
    codes (1: « < 11 », 2: blank, the commune's counts are not published) or booleans (« < 11 »).
    Never for a count that is not of people."""
    if count not in PERSON_COUNTS:
        return False
    values = table.set_index("code_commune")[count].reindex(list(codes))
    if is_small(float(values.sum()), threshold):
        return True
    if suppressed is None or count not in suppressed.columns:
        return False
    codes_of = suppressed[count].reindex(list(codes)).fillna(0).astype(int).to_numpy()
    hidden = codes_of > 0
    return not hidden_remainder_is_safe(
        values.to_numpy()[hidden], codes_of[hidden] == UNPUBLISHED, threshold
    )


def _group_total(table: pd.DataFrame, codes: pd.Index, column: str) -> float:
    return float(table.set_index("code_commune").reindex(codes)[column].sum())


def engagement_table(
    table: pd.DataFrame,
    territory: pd.DataFrame,
    comparison_pool: pd.DataFrame,
    fits: Mapping[str, CountModelFit],
    measures: Sequence[Measure],
    labels: Sequence[str],
    *,
    n_draws: int = 1000,
    seed: int = 0,
    credible: float = 0.90,
    suppressed: pd.DataFrame | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    minimum: int = MIN_COMPARISON,
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """One row per measure: ``measure``, ``label``, the observed rates ``observed_with`` (QPV
    communes), ``observed_comparison`` (class-standardised comparison) and ``observed_ratio``;
    the model's posterior medians ``rate_with``, ``rate_comparison`` and ``ratio`` (QPV
    communes / comparison) with their credible bounds ``lower_*``/``upper_*`` and
    ``ratio_lower``/``ratio_upper``; ``rate_without`` (observed, the territory's communes
    without QPV); ``p_higher`` (posterior probability that the QPV
    communes' rate exceeds the comparison's), ``withheld`` (disclosure; the rates and intervals
    of a withheld row are NaN).

    ``table`` holds the exact counts and populations of every commune of the build (the count
    models' input); ``suppressed`` is the boolean mask of the person-count cells the per-commune
    export hides (indexed by ``code_commune``), used for the residual rule (module docstring).
    A class with fewer than ``minimum`` comparison communes is left out of both groups.
    Returns (table, classes compared, classes left out).
    """
    weights, compared, left_out = group_weights(territory, comparison_pool, labels, minimum)
    tail = (1.0 - credible) / 2.0
    rows = []
    for measure in measures:
        if weights[WITH].empty or weights[COMPARISON].empty:
            break
        observed = {group: observed_rate(table, w, measure) for group, w in weights.items()}
        draws = drawn_rates(fits, table, measure, weights, n_draws, seed)
        ratio_draws = draws[WITH] / draws[COMPARISON]
        withheld = False
        if measure.count in PERSON_COUNTS:
            for group in (WITH, WITHOUT):
                withheld |= withhold(
                    table, weights[group].index, measure.count, suppressed, threshold
                )
            # the comparison's classes: a class total small is a count that can be recovered
            pool = comparison_pool[
                ~comparison_pool["has_qpv"] & comparison_pool["population_class"].isin(compared)
            ]
            pool_counts = (
                table.set_index("code_commune")[measure.count]
                .reindex(pool["code_commune"])
                .to_numpy()
            )
            by_class = (
                pd.Series(pool_counts, index=pool["population_class"].to_numpy())
                .groupby(level=0)
                .sum()
            )
            withheld |= any(is_small(v, threshold) for v in by_class)
        lower, upper = draws.quantile([tail, 1 - tail]).to_numpy()
        median = draws.median().to_numpy()
        row = {
            "measure": measure.code,
            "label": measure.label,
            "observed_with": observed[WITH],
            "observed_comparison": observed[COMPARISON],
            "observed_ratio": observed[WITH] / observed[COMPARISON]
            if observed[COMPARISON] > 0
            else np.nan,
            "rate_with": median[0],
            "lower_with": lower[0],
            "upper_with": upper[0],
            "rate_without": observed[WITHOUT],
            "rate_comparison": median[2],
            "lower_comparison": lower[2],
            "upper_comparison": upper[2],
            "ratio": float(ratio_draws.median()),
            "ratio_lower": float(ratio_draws.quantile(tail)),
            "ratio_upper": float(ratio_draws.quantile(1 - tail)),
            "p_higher": float((ratio_draws > 1).mean()),
            "withheld": withheld,
        }
        if withheld:
            for key in row:
                if key not in ("measure", "label", "withheld"):
                    row[key] = np.nan
        rows.append(row)
    return pd.DataFrame(rows), compared, left_out


def class_rates(
    table: pd.DataFrame,
    territory: pd.DataFrame,
    measures: Sequence[Measure],
    labels: Sequence[str],
    threshold: int = DEFAULT_THRESHOLD,
    suppressed: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Observed rates per 1 000 inhabitants by class and group (``population_class``,
    ``group``, ``communes``, ``population``, one column per measure code); a person-count rate
    whose class-and-group count is small (or hides a small part, :func:`withhold`) is NaN, and so
    is the other group of its class (the pair sums to the class total)."""
    counts = table.set_index("code_commune")
    rows = []
    for label in labels:
        in_class = territory[territory["population_class"] == label]
        if not in_class["has_qpv"].any():
            continue
        pair = []
        for group, flag in ((WITH, True), (WITHOUT, False)):
            members = in_class[in_class["has_qpv"] == flag]
            if members.empty:
                continue
            sub = counts.reindex(members["code_commune"])
            row: dict[str, object] = {
                "population_class": label,
                "group": group,
                "communes": len(members),
                "population": int(members["population"].sum()),
            }
            for m in measures:
                total = float(sub[m.count].sum())
                row[m.code] = (
                    total / float(sub["population"].sum()) * 1000.0
                    if sub["population"].sum() > 0
                    else np.nan
                )
                row[f"_small_{m.code}"] = withhold(
                    table, list(members["code_commune"]), m.count, suppressed, threshold
                )
            pair.append(row)
        for m in measures:
            if any(r[f"_small_{m.code}"] for r in pair):
                for r in pair:
                    r[m.code] = np.nan
        rows += pair
    frame = pd.DataFrame(rows)
    return frame.drop(columns=[c for c in frame.columns if c.startswith("_small_")])


# --------------------------------------------------------------------------- associations


def field_of(codes: pd.Series, nomenclature: pd.DataFrame) -> pd.Series:
    """The field of action (WALDEC parent label, sentence case) of each ``objet_social`` code;
    « Non renseigné » for a missing or unknown code (``000000`` means none)."""
    parent = nomenclature.set_index("code")["parent_label"]
    labels = codes.astype("string").str.strip().map(parent)
    labels = labels.map(
        lambda text: text[:1].upper() + text[1:].lower() if isinstance(text, str) else text
    )
    return labels.fillna("Non renseigné").astype(str)


def fields_table(
    associations: pd.DataFrame,
    territory: pd.DataFrame,
    comparison_pool: pd.DataFrame,
    data_year: int,
    minimum: int = MIN_COMPARISON,
) -> pd.DataFrame:
    """Associations by field of action: one row per field (most frequent in the QPV communes
    first), then a « Toutes » row. ``active_with``: active associations (position A, created
    by the end of the data year) with their seat in a commune of the territory holding a QPV;
    ``share_with`` (%); ``created_with``: created in the data year there; ``per_1000_with`` and
    ``per_1000_comparison``: active associations per 1 000 inhabitants in the QPV communes of
    the compared classes and in the class-standardised comparison (as the engagement table).
    Associations are legal persons listed publicly in the RNA: not subject to the person-count
    threshold.

    ``associations``: ``code_commune``, ``field``, ``date_creat``, ``position``."""
    weights, _, _ = group_weights(
        territory, comparison_pool, list(dict.fromkeys(territory["population_class"])), minimum
    )
    alive = associations[
        (associations["position"] == "A") & (associations["date_creat"].str[:4] <= str(data_year))
    ]
    created = associations[associations["date_creat"].str[:4] == str(data_year)]
    population = (
        pd.concat([territory, comparison_pool])
        .drop_duplicates("code_commune")
        .set_index("code_commune")["population"]
    )
    all_with = set(territory.loc[territory["has_qpv"], "code_commune"])

    def rate(counts: pd.Series, group: pd.Series) -> float:
        """Σ_i w_i n_i / pop_i × 1 000 (Σ n / Σ pop for a group weighted by population)."""
        if group.empty:
            return np.nan
        return float(
            (group * counts.reindex(group.index).fillna(0) / population.reindex(group.index)).sum()
            * 1000
        )

    rows = []
    for fld in sorted(set(alive["field"]) | set(created["field"])):
        counts = alive[alive["field"] == fld].groupby("code_commune").size()
        rows.append(
            {
                "field": fld,
                "active_with": int(counts.reindex(list(all_with)).fillna(0).sum()),
                "created_with": int(
                    created[
                        (created["field"] == fld) & created["code_commune"].isin(all_with)
                    ].shape[0]
                ),
                "per_1000_with": rate(counts, weights[WITH]),
                "per_1000_comparison": rate(counts, weights[COMPARISON]),
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=["field", "active_with", "created_with", "per_1000_with", "per_1000_comparison"],
    )
    frame = frame.sort_values(["active_with", "field"], ascending=[False, True]).reset_index(
        drop=True
    )
    total = int(frame["active_with"].sum())
    frame["share_with"] = 100.0 * frame["active_with"] / total if total else np.nan
    all_row = {
        "field": "Toutes",
        "active_with": total,
        "created_with": int(frame["created_with"].sum()),
        "per_1000_with": float(frame["per_1000_with"].sum()),
        "per_1000_comparison": float(frame["per_1000_comparison"].sum()),
        "share_with": 100.0 if total else np.nan,
    }
    return pd.concat([frame, pd.DataFrame([all_row])], ignore_index=True)


def creations_list(
    associations: pd.DataFrame, territory: pd.DataFrame, data_year: int
) -> pd.DataFrame:
    """Associations created in the data year with their seat in a QPV commune of the territory:
    ``field``, ``name`` (the RNA title), ``commune``, ``code_commune`` — public RNA data; no
    person is named (the RNA's leaders are not read). Sorted by field, commune, name."""
    names = territory.set_index("code_commune")["nom"]
    with_codes = set(territory.loc[territory["has_qpv"], "code_commune"])
    created = associations[
        (associations["date_creat"].str[:4] == str(data_year))
        & associations["code_commune"].isin(with_codes)
    ]
    out = pd.DataFrame(
        {
            "field": created["field"].to_numpy(),
            "name": created["titre"].astype(str).str.strip().to_numpy(),
            "commune": created["code_commune"].map(names).to_numpy(),
            "code_commune": created["code_commune"].to_numpy(),
        }
    )
    return out.sort_values(["field", "commune", "name"]).reset_index(drop=True)


# --------------------------------------------------------------------------- contrats de ville


def contracts_table(
    territory: pd.DataFrame,
    table: pd.DataFrame,
    pairs: pd.DataFrame,
    measures: Sequence[Measure],
    epci_names: Mapping[str, str],
    contracts: pd.DataFrame | None = None,
    threshold: int = DEFAULT_THRESHOLD,
    suppressed: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per EPCI of the territory holding a QPV (the contrat de ville's signatory), most
    QPV first, then the territory (« Ensemble du territoire »): ``code_epci``, ``epci``,
    ``code_cv`` (contrats de ville of the 2015 generation carried by the EPCI, when
    ``contracts`` — :func:`barometre.qpv.synthetic.load_contracts` with a COG — is given),
    ``n_qpv`` (QPV touching its communes), ``communes_with_qpv``, ``population_with_qpv``
    (population of those communes), ``pop_qpv_2015`` (inhabitants of its QPV in the 2015
    generation, ANCT), then one rate per measure for its QPV communes (per 1 000 inhabitants; a
    person count to withhold, :func:`withhold`, is NaN, with a secondary suppression when a
    single EPCI is withheld)."""
    counts = table.set_index("code_commune")
    with_qpv = territory[territory["has_qpv"]]
    by_epci = contracts.groupby("code_epci") if contracts is not None else None
    rows = []
    groups = list(with_qpv.groupby("code_epci")) + [("Ensemble", with_qpv)]
    members_of = [list(members["code_commune"]) for _, members in groups]
    for code_epci, members in groups:
        sub = counts.reindex(members["code_commune"])
        row: dict[str, object] = {
            "code_epci": code_epci if code_epci != "Ensemble" else "",
            "epci": epci_names.get(code_epci, code_epci)
            if code_epci != "Ensemble"
            else "Ensemble du territoire",
            "n_qpv": int(
                pairs.loc[
                    pairs["code_commune"].isin(set(members["code_commune"])), "code_qp"
                ].nunique()
            ),
            "communes_with_qpv": len(members),
            "population_with_qpv": int(members["population"].sum()),
        }
        if by_epci is not None:
            if code_epci == "Ensemble":
                known = contracts[contracts["code_epci"].isin(set(with_qpv["code_epci"]))]
                row["code_cv"] = ""
                row["pop_qpv_2015"] = float(known["pop_qpv_2015"].sum()) if len(known) else np.nan
            elif code_epci in by_epci.groups:
                found = by_epci.get_group(code_epci)
                row["code_cv"] = ", ".join(sorted(set(found["code_cv"])))
                row["pop_qpv_2015"] = float(found["pop_qpv_2015"].sum())
            else:
                row["code_cv"], row["pop_qpv_2015"] = "", np.nan
        population = float(sub["population"].sum())
        for m in measures:
            total = float(sub[m.count].sum())
            small = withhold(table, list(members["code_commune"]), m.count, suppressed, threshold)
            row[m.code] = np.nan if small or population <= 0 else total / population * 1000.0
        rows.append(row)
    frame = pd.DataFrame(rows)
    # rows sum to the territory's: one withheld EPCI would be the total minus the others
    for m in measures:
        if m.count not in PERSON_COUNTS:
            continue
        body = frame.iloc[:-1]
        hidden = body[m.code].isna() & (body["population_with_qpv"] > 0)
        if int(hidden.sum()) == 1 and len(body) > 1:
            shown = body.loc[~hidden, m.code] * body.loc[~hidden, "population_with_qpv"]
            frame.loc[shown.idxmin(), m.code] = np.nan
        # the territory's row minus the published rows is the withheld rows' total: it must
        # not narrow a hidden cell of theirs either
        withheld = frame.iloc[:-1].index[frame.iloc[:-1][m.code].isna()]
        union = [c for i in withheld for c in members_of[i]]
        if union and withhold(table, union, m.count, suppressed, threshold):
            frame.loc[frame.index[-1], m.code] = np.nan
    body = frame.iloc[:-1].sort_values(["n_qpv", "population_with_qpv"], ascending=False)
    return pd.concat([body, frame.iloc[-1:]], ignore_index=True)
