"""The contrats de ville table of the QPV profile: one row per EPCI of the territory holding a
QPV, with the person-count rates withheld as :func:`barometre.qpv.groups.withhold` says (and a
secondary suppression so that no withheld row can be recovered from the others). Part of the QPV
profile (:mod:`barometre.qpv.profile` re-exports :func:`contracts_table`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from barometre.disclosure import DEFAULT_THRESHOLD, PERSON_COUNTS
from barometre.qpv.groups import Measure, withhold


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
