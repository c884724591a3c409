"""Raw extracts of an edition → counts per commune, with the match report that reconciles them.

:func:`commune_counts` reads the three sources under one raw folder (layout in
``data/README.md``), places every record in a commune of the given table and counts, for the
data year:

=========================  ==================================================================
``rna_creations``          RNA associations whose creation date (``date_creat``; or JOAFE
                           publication date with ``rna_date="publication"``) falls in the year
``ha_new_organizations``   HelloAsso organisations of an association type created in the year
``ha_campaigns``           forms created in the year, in a counted state, by such organisations
``ha_participants``        items dated in the year, in a counted state, of such organisations
``jva_matches``            mises en relation on missions of the commune, in a counted state,
                           created up to the end of the data year (cumulative since the
                           platform's launch, the published definition "nombre cumulé à
                           date"); ``jva_cumulative=False`` counts the data year only
=========================  ==================================================================

Counts stay counts (ratios are the indicators step's business). HelloAsso campaigns and
participants are placed at their organisation's commune; JeVeuxAider matches at their
mission's commune.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from barometre.sources import (
    MATCH_NONE,
    CommuneMatcher,
    MatchTally,
    SourceError,
    helloasso,
    jeveuxaider,
    rna,
    tally,
)

COUNT_COLUMNS: tuple[str, ...] = (
    "rna_creations",
    "ha_new_organizations",
    "ha_campaigns",
    "ha_participants",
    "jva_matches",
)

DEFAULT_COUNTED_STATES: dict[str, tuple[str, ...]] = {
    "rna_positions": rna.POSITIONS,
    "helloasso_organizations": helloasso.ASSOCIATION_TYPES,
    "helloasso_forms": helloasso.DEFAULT_FORM_STATES,
    "helloasso_participations": helloasso.DEFAULT_ITEM_STATES,
    "jeveuxaider_participations": jeveuxaider.DEFAULT_PARTICIPATION_STATES,
}
"""Which values count, per key of an edition's ``counted_states`` (a key given in the edition
replaces its default; ``helloasso_organizations`` lists organisation *types*,
``rna_positions`` RNA positions, the others states)."""

REPORT_COLUMNS: tuple[str, ...] = (
    "source", "count", "file", "rows_read", "out_of_scope", "in_scope", "matched",
    "matched_exact", "matched_rule", "unmatched", "match_rate", "unmatched_examples",
)  # fmt: skip


def resolve_counted_states(
    counted_states: Mapping[str, Sequence[str]] | None,
) -> dict[str, list[str]]:
    """Defaults overridden by the edition's ``counted_states``; an unknown key raises
    ``ValueError`` (a misspelt key would otherwise silently count everything)."""
    resolved = {key: list(values) for key, values in DEFAULT_COUNTED_STATES.items()}
    for key, values in (counted_states or {}).items():
        if key not in resolved:
            raise ValueError(f"unknown counted_states key {key!r}; known keys: {sorted(resolved)}")
        if isinstance(values, str) or not values:
            raise ValueError(f"counted_states[{key!r}] must be a non-empty list, got {values!r}")
        resolved[key] = [str(v) for v in values]
    return resolved


def _per_commune(codes: pd.Series, weights: pd.Series | None = None) -> pd.Series:
    if weights is None:
        return codes.value_counts()
    return weights.groupby(codes).sum()


def _located_organizations(
    path: Path, matcher: CommuneMatcher, types: Sequence[str]
) -> pd.DataFrame:
    orgs = helloasso.read_organizations(path)
    located = matcher.match(orgs["postal_code"], orgs["city"])
    orgs = pd.concat([orgs, located], axis=1)
    orgs["counted_type"] = orgs["type"].isin(types)
    orgs["label"] = orgs["postal_code"] + " " + orgs["city"]
    return orgs


def _attach(
    records: pd.DataFrame, key: str, parents: pd.DataFrame, parent_key: str, what: str
) -> pd.DataFrame:
    """Bring a parent's place (code, match, reason, label, counted_type) to child records;
    orphans (parent unknown) are unmatched with reason ``unknown <what>``."""
    columns = ["code_commune", "match", "reason", "label"] + (
        ["counted_type"] if "counted_type" in parents else []
    )
    table = parents.set_index(parent_key)[columns]
    out = records.join(table, on=key)
    orphan = ~records[key].isin(table.index)
    out.loc[orphan, "match"] = MATCH_NONE
    out.loc[orphan, "reason"] = f"unknown {what}"
    out.loc[orphan, "label"] = records.loc[orphan, key].astype(str)
    if "counted_type" in out:
        # An orphan's type is unknown: it is kept in scope so that it shows as unmatched.
        out["counted_type"] = out["counted_type"].astype("boolean").fillna(True).astype(bool)
    return out


def commune_counts(
    raw_dir: Path,
    communes: pd.DataFrame,
    data_year: int,
    counted_states: Mapping[str, Sequence[str]] | None = None,
    *,
    rna_date: Literal["creation", "publication"] = "creation",
    jva_cumulative: bool = True,
    code_links: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts per commune of the table and the match report of the raw folder ``raw_dir``.

    Returns ``(counts, report)``: ``counts`` has one row per commune of ``communes`` (sorted by
    ``code_commune``; zero where nothing was placed) and the int64 columns
    :data:`COUNT_COLUMNS`; ``report`` has one row per count (:data:`REPORT_COLUMNS`) with
    ``rows_read = out_of_scope + matched + unmatched`` and ``matched`` equal to the count's
    national total. ``code_links`` maps non-current INSEE codes (communes déléguées, former
    codes) to current ones for the RNA. Raises :class:`~barometre.sources.SourceError` for an
    unusable file.
    """
    raw_dir = Path(raw_dir)
    states = resolve_counted_states(counted_states)
    if rna_date not in rna.DATE_COLUMNS:
        raise ValueError(f"rna_date must be one of {sorted(rna.DATE_COLUMNS)}")
    matcher = CommuneMatcher(communes)
    codes = pd.Index(communes["code_commune"].astype(str)).sort_values()
    if codes.duplicated().any():
        raise ValueError("duplicated code_commune in the commune table")
    totals: dict[str, pd.Series] = {}
    tallies: list[MatchTally] = []
    year_end = f"{data_year:04d}-12-31"

    # RNA --------------------------------------------------------------------------------
    files = rna.rna_files(raw_dir / "rna")
    frames = [rna.read_rna(path) for path in files]
    associations = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if len(frames) > 1 and associations["id"].duplicated().any():
        raise SourceError("an RNA number appears in several department files", file=files[0].parent, column="id",
                          value=associations.loc[associations["id"].duplicated(), "id"].iloc[0])  # fmt: skip
    located = rna.locate_rna(associations, communes, matcher, code_links)
    date_column = rna.DATE_COLUMNS[rna_date]
    scope = rna.in_year(associations[date_column], data_year) & associations["position"].isin(
        states["rna_positions"]
    )
    counted = scope & located["code_commune"].notna()
    totals["rna_creations"] = _per_commune(located.loc[counted, "code_commune"])
    labels = (
        associations["id"]
        + " ("
        + associations["adrs_codeinsee"]
        + " "
        + associations["adrs_codepostal"]
        + " "
        + associations["adrs_libcommune"]
        + ")"
    )
    tallies.append(tally("rna", "rna_creations", ", ".join(p.name for p in files), len(associations), scope,
                         located["match"], labels, located["reason"]))  # fmt: skip

    # HelloAsso --------------------------------------------------------------------------
    ha_dir = raw_dir / "helloasso"
    orgs = _located_organizations(
        ha_dir / helloasso.ORGANIZATIONS_FILE, matcher, states["helloasso_organizations"]
    )
    scope = orgs["counted_type"] & (orgs["created_at"].str[:4] == f"{data_year:04d}")
    totals["ha_new_organizations"] = _per_commune(
        orgs.loc[scope & orgs["code_commune"].notna(), "code_commune"]
    )
    tallies.append(tally("helloasso_organizations", "ha_new_organizations", helloasso.ORGANIZATIONS_FILE, len(orgs),
                         scope, orgs["match"], orgs["label"], orgs["reason"]))  # fmt: skip

    forms = _attach(
        helloasso.read_forms(ha_dir / helloasso.FORMS_FILE),
        "organization_id",
        orgs,
        "id",
        "organization_id",
    )
    scope = (
        forms["counted_type"]
        & (forms["created_at"].str[:4] == f"{data_year:04d}")
        & forms["state"].isin(states["helloasso_forms"])
    )
    totals["ha_campaigns"] = _per_commune(
        forms.loc[scope & forms["code_commune"].notna(), "code_commune"]
    )
    tallies.append(tally("helloasso_forms", "ha_campaigns", helloasso.FORMS_FILE, len(forms), scope,
                         forms["match"], forms["label"], forms["reason"]))  # fmt: skip

    per_org, rows_read = helloasso.participations_by_organization(
        ha_dir / helloasso.PARTICIPATIONS_FILE, data_year, states["helloasso_participations"]
    )
    per_org = _attach(per_org, "organization_id", orgs, "id", "organization_id")
    scope = per_org["counted_type"] & (per_org["in_scope"] > 0)
    weights = per_org["in_scope"].where(scope, 0)
    placed = scope & per_org["code_commune"].notna()
    totals["ha_participants"] = _per_commune(per_org.loc[placed, "code_commune"], weights[placed])
    tallies.append(tally("helloasso_participations", "ha_participants", helloasso.PARTICIPATIONS_FILE, rows_read,
                         scope, per_org["match"], per_org["label"], per_org["reason"], weights=weights))  # fmt: skip

    # JeVeuxAider ------------------------------------------------------------------------
    jva_dir = raw_dir / "jeveuxaider"
    missions = jeveuxaider.read_missions(jva_dir / jeveuxaider.MISSIONS_FILE)
    missions = pd.concat(
        [missions, matcher.match(missions["postal_code"], missions["city"])], axis=1
    )
    missions["label"] = (
        "mission "
        + missions["id"].astype(str)
        + " ("
        + missions["postal_code"]
        + " "
        + missions["city"]
        + ")"
    )
    matches = _attach(jeveuxaider.read_participations(jva_dir / jeveuxaider.PARTICIPATIONS_FILE), "mission_id",
                      missions, "id", "mission_id")  # fmt: skip
    created = matches["created_at"].str[:10]
    in_window = created <= year_end if jva_cumulative else created.str[:4] == f"{data_year:04d}"
    scope = in_window & matches["state"].isin(states["jeveuxaider_participations"])
    totals["jva_matches"] = _per_commune(
        matches.loc[scope & matches["code_commune"].notna(), "code_commune"]
    )
    tallies.append(tally("jeveuxaider_participations", "jva_matches", jeveuxaider.PARTICIPATIONS_FILE, len(matches),
                         scope, matches["match"], matches["label"], matches["reason"]))  # fmt: skip

    counts = pd.DataFrame({"code_commune": codes})
    for column in COUNT_COLUMNS:
        values = totals[column].reindex(codes, fill_value=0).to_numpy()
        counts[column] = np.asarray(values, dtype="int64")
    report = pd.DataFrame([t.as_row() for t in tallies], columns=list(REPORT_COLUMNS))
    # The report must reconcile with the counts: what was matched is what was counted.
    for source, column, matched in zip(
        report["source"], report["count"], report["matched"], strict=True
    ):
        if int(counts[column].sum()) != matched:
            raise AssertionError(f"{source}: {matched} matched but {counts[column].sum()} counted")
    return counts, report
