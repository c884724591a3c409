"""Raw extracts of an edition → counts per commune, with the match report that reconciles them.

:func:`commune_counts` reads the three sources under one raw folder (layout in
``data/README.md``), checks every table against its contract (rows that break it go to
quarantine, files that cannot be used stop the run with a message naming file, row, column
and value), places every record in a commune and counts, for the data year:

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

For the counts that are sums over *clusters* (the model of the indicators step needs them:
participations come in campaigns, mises en relation in missions), the table also carries, with
exactly the count's scope, window and state filters, per commune: ``<count>_clusters`` (clusters
holding at least one counted record), ``<count>_cluster_sumsq`` (Σ size² over those clusters)
and ``<count>_cluster_max`` (the largest cluster), the clusters being those of
:data:`CLUSTERED_COUNTS`; plus ``ha_participants_organizations`` (organisations behind the
participants). The sizes of a commune's clusters sum to its count. These columns are as
confidential as the counts (the ``work`` area only).

Counts stay counts (ratios are the indicators step's business). HelloAsso campaigns and
participants are placed at their organisation's commune; JeVeuxAider matches at their
mission's commune. Nothing is written unless the whole run succeeds (quarantine files are
staged and committed at the end).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pandera.pandas as pa

from barometre.sources import helloasso, jeveuxaider, rna
from barometre.sources.contracts import (
    DEFAULT_MAX_QUARANTINE_SHARE,
    Checked,
    check_commune_table,
    counts_schema,
    typed_records,
)
from barometre.sources.matching import (
    MATCH_NONE,
    RESULT_COLUMNS,
    CommuneMatcher,
    commune_points,
    place_by_coordinates,
)
from barometre.sources.report import (
    REPORT_COLUMNS,
    MatchTally,
    QuarantineStage,
    format_reasons,
    tally,
)

COUNT_COLUMNS: tuple[str, ...] = (
    "rna_creations",
    "ha_new_organizations",
    "ha_campaigns",
    "ha_participants",
    "jva_matches",
    "ha_donations",
)

CLUSTERED_COUNTS: dict[str, str] = {
    "ha_campaigns": "organisation",
    "ha_participants": "campaign (form, within the item's organisation)",
    "jva_matches": "mission",
    "ha_donations": "campaign (Donation or CrowdFunding form)",
}
"""Counts that are sums over clusters, and the cluster of each."""
CLUSTER_STATISTICS: tuple[str, ...] = ("clusters", "cluster_sumsq", "cluster_max")
OTHER_DEFINITION_COUNTS: dict[str, str] = {"jva_matches_other": "mission"}
"""Counts under the definition the edition does not use (``jva_matches_other``: the flow of the
data year when the edition counts the stock, the stock when it counts the flow), with their
cluster statistics: the methodology comparison of the annex (« ce que change l'autre méthode »)
rebuilds the index with them. Confidential, like the cluster statistics."""
CLUSTER_COLUMNS: tuple[str, ...] = (
    *(f"{count}_{stat}" for count in CLUSTERED_COUNTS for stat in CLUSTER_STATISTICS),
    "ha_participants_organizations",
    *(
        c
        for count in OTHER_DEFINITION_COUNTS
        for c in (count, *(f"{count}_{stat}" for stat in CLUSTER_STATISTICS))
    ),
)
"""Cluster statistics per commune, after :data:`COUNT_COLUMNS` in the counts table."""

SOURCES: tuple[str, ...] = (
    "rna",
    "helloasso_organizations",
    "helloasso_forms",
    "helloasso_participations",
    "jeveuxaider_missions",
    "jeveuxaider_participations",
)
"""The source tables, in report order (one report row and one quarantine file each)."""

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

MATCH_REPORT_SCHEMA = pa.DataFrameSchema(
    {
        "source": pa.Column(str, pa.Check.isin(SOURCES), unique=True),
        "count": pa.Column(str),
        **{
            c: pa.Column("int64", pa.Check.ge(0))
            for c in (
                "rows_read", "quarantined", "accepted", "out_of_scope", "outside_territory",
                "in_scope", "matched", "matched_exact", "matched_rule", "ambiguous", "unmatched",
            )
        },
        "match_rate": pa.Column(float, pa.Check.in_range(0, 1), nullable=True),
    },
    checks=[
        pa.Check(lambda r: r["rows_read"] == r["quarantined"] + r["accepted"], error="rows_read = quarantined + accepted"),
        pa.Check(lambda r: r["accepted"] == r["out_of_scope"] + r["in_scope"], error="accepted = out_of_scope + in_scope"),
        pa.Check(lambda r: r["in_scope"] == r["matched"] + r["unmatched"], error="in_scope = matched + unmatched"),
        pa.Check(lambda r: r["matched"] == r["matched_exact"] + r["matched_rule"], error="matched = exact + rule"),
        pa.Check(lambda r: r["ambiguous"] <= r["unmatched"], error="ambiguous ≤ unmatched"),
    ],
    name="match report",
    strict=False,
)  # fmt: skip
"""The match report's contract: the identities that make it reconcile."""


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
    return weights.groupby(codes.to_numpy()).sum()


def _cluster_stats(
    name: str,
    codes: pd.Series,
    clusters: Sequence[pd.Series],
    weights: pd.Series | None = None,
) -> dict[str, pd.Series]:
    """Cluster statistics of the count ``name`` per commune: the records (one row each, or
    ``weights`` records per row) of commune ``codes`` grouped by the ``clusters`` keys.

    Returns ``{name}_clusters`` (clusters of positive size), ``{name}_cluster_sumsq`` (Σ size²)
    and ``{name}_cluster_max``, each a Series indexed by commune code."""
    frame = pd.DataFrame({"code_commune": codes.to_numpy()})
    keys = ["code_commune"]
    for n, key in enumerate(clusters):
        frame[f"k{n}"] = key.to_numpy()
        keys.append(f"k{n}")
    frame["size"] = 1 if weights is None else np.asarray(weights, dtype="int64")
    sizes = frame.groupby(keys, sort=False, dropna=False)["size"].sum()
    sizes = sizes[sizes > 0].astype("int64")
    per = sizes.groupby(level="code_commune")
    return {
        f"{name}_clusters": per.size(),
        f"{name}_cluster_sumsq": (sizes * sizes).groupby(level="code_commune").sum(),
        f"{name}_cluster_max": per.max(),
    }


def _label(frame: pd.DataFrame, what: str, key: str, *place: str) -> pd.Series:
    """``"<what> <key> (<place columns>)"`` for the records that are not placed ("" for the
    others: labels only serve as examples of unmatched records)."""
    labels = pd.Series("", index=frame.index, dtype=object)
    lost = (frame["match"] == MATCH_NONE).to_numpy()
    if lost.any():
        subset = frame.loc[lost]
        where = subset[list(place)].astype(str).agg(" ".join, axis=1).str.split().str.join(" ")
        text = (what + " " if what else "") + subset[key].astype(str)
        labels[lost] = (text + " (" + where.where(where != "", "no address") + ")").to_numpy()
    return labels


def _attach(
    records: pd.DataFrame,
    key: str,
    parents: pd.DataFrame,
    what: str,
    quarantined_ids: set[int],
) -> pd.DataFrame:
    """Bring a parent's placement (:data:`RESULT_COLUMNS`), ``label`` and ``counted_type`` to
    child records; a child of an unknown or quarantined parent is unmatched with that reason
    and kept in scope (so that it shows in the report instead of vanishing)."""
    columns = [*RESULT_COLUMNS, "label", "counted_type"]
    table = parents.set_index("id")[columns]
    out = records.join(table, on=key)
    orphan = ~records[key].isin(table.index)
    if orphan.any():
        quarantined = records[key].isin(quarantined_ids)
        out.loc[orphan, "code_commune"] = None
        out.loc[orphan, "match"] = MATCH_NONE
        out.loc[orphan, "rule"] = ""
        out.loc[orphan, "candidates"] = ""
        out.loc[orphan, "reason"] = np.where(
            quarantined[orphan], f"{what} quarantined", f"unknown {what}"
        )
        out.loc[orphan, "label"] = f"{what} " + records.loc[orphan, key].astype(str)
        out.loc[orphan, "counted_type"] = True
    out["counted_type"] = out["counted_type"].astype(bool)
    return out


def _quarantined_ids(checked: Checked, column: str) -> set[int]:
    values = checked.quarantine.get(column, pd.Series([], dtype=object)).astype(str)
    return {int(v) for v in values if v.isdigit() and len(v) <= 18}


def _source_notes(checked: Checked) -> list[str]:
    formats = sorted(set(checked.encodings))
    notes = [f"read as {', '.join(formats)}"]
    layouts = sorted(set(checked.layouts))
    if layouts:
        notes.append(f"layout {', '.join(layouts)}")
    return notes + checked.notes


def commune_counts(
    raw_dir: Path,
    communes: pd.DataFrame,
    data_year: int,
    counted_states: Mapping[str, Sequence[str]] | None = None,
    *,
    rna_date: Literal["creation", "publication"] = "creation",
    jva_cumulative: bool = True,
    code_links: Mapping[str, str] | None = None,
    cog_year: int | None = None,
    quarantine_dir: Path | None = None,
    max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts per commune of the table and the match report of the raw folder ``raw_dir``.

    Returns ``(counts, report)``: ``counts`` has one row per commune of ``communes`` (sorted by
    ``code_commune``; zero where nothing was placed) and the int64 columns
    :data:`COUNT_COLUMNS` then :data:`CLUSTER_COLUMNS`; ``report`` one row per source table of :data:`SOURCES`
    (:data:`~barometre.sources.report.REPORT_COLUMNS`), reconciling ``rows_read = quarantined
    + accepted``, ``accepted = out_of_scope + matched + unmatched`` and ``matched`` = the
    count's national total.

    ``cog_year``: the COG vintage of ``communes``; when given, records are matched against the
    whole vintage with its links and the later vintages' codes and names (a record placed
    outside ``communes``, e.g. in a subset build, is out of the territory rather than
    unmatched). ``code_links``: extra ``{former code: current code}``. ``quarantine_dir``:
    where to write one ``<source>.csv`` of quarantined rows per source (nothing is written when
    None, or when the run fails). ``max_quarantine_share``: above it a file is unusable.

    Raises :class:`~barometre.sources.SourceError` for an unusable input.
    """
    raw_dir = Path(raw_dir)
    states = resolve_counted_states(counted_states)
    if rna_date not in rna.DATE_COLUMNS:
        raise ValueError(f"rna_date must be one of {sorted(rna.DATE_COLUMNS)}")
    communes = check_commune_table(communes)
    codes = pd.Index(communes["code_commune"].astype(str)).sort_values()
    territory = frozenset(codes)
    matcher = (
        CommuneMatcher.for_vintage(cog_year, code_links)
        if cog_year is not None
        else CommuneMatcher(communes, code_links=code_links)
    )
    names = matcher.names
    stage = QuarantineStage(quarantine_dir)
    try:
        totals, tallies = _count_sources(
            raw_dir, matcher, territory, names, states, data_year, rna_date, jva_cumulative,
            stage, max_quarantine_share, cog_year,
        )  # fmt: skip
        schema = counts_schema(
            (*COUNT_COLUMNS, *OTHER_DEFINITION_COUNTS),
            clustered=(*CLUSTERED_COUNTS, *OTHER_DEFINITION_COUNTS),
        )
        counts = pd.DataFrame({"code_commune": codes})
        for column in schema.columns:  # the contract's column order
            if column != "code_commune":
                values = totals[column].reindex(codes, fill_value=0).to_numpy()
                counts[column] = np.asarray(values, dtype="int64")
        # validated in the schema's order, written in the table's: counts, then cluster columns
        counts = schema.validate(counts)[["code_commune", *COUNT_COLUMNS, *CLUSTER_COLUMNS]]
        _note_zero_population(communes, counts, tallies)
        report = pd.DataFrame([t.as_row() for t in tallies], columns=list(REPORT_COLUMNS))
        report = MATCH_REPORT_SCHEMA.validate(report)
        # What was matched is what was counted.
        for source, column, matched in zip(report["source"], report["count"], report["matched"], strict=True):  # fmt: skip
            if column and int(counts[column].sum()) != matched:
                raise AssertionError(
                    f"{source}: {matched} matched but {counts[column].sum()} counted"
                )
        stage.commit()
    except BaseException:
        stage.discard()
        raise
    return counts, report


def _note_zero_population(
    communes: pd.DataFrame, counts: pd.DataFrame, tallies: list[MatchTally]
) -> None:
    zero = set(communes.loc[communes["population"] == 0, "code_commune"].astype(str))
    if not zero:
        return
    names = dict(
        zip(communes["code_commune"].astype(str), communes["nom"].astype(str), strict=True)
    )
    table = counts.set_index("code_commune")
    for item in tallies:
        if not item.count:
            continue
        placed = table.loc[table.index.isin(zero), item.count]
        placed = placed[placed > 0]
        if len(placed):
            where = ", ".join(f"{c} {names.get(c, '')}" for c in placed.index[:5])
            item.notes.append(
                f"{int(placed.sum())} counted in communes of zero population ({where}): no rate "
                "per inhabitant there"
            )


def _count_sources(
    raw_dir: Path,
    matcher: CommuneMatcher,
    territory: frozenset[str],
    names: Mapping[str, str],
    states: dict[str, list[str]],
    data_year: int,
    rna_date: str,
    jva_cumulative: bool,
    stage: QuarantineStage,
    max_share: float,
    cog_year: int | None = None,
) -> tuple[dict[str, pd.Series], list[MatchTally]]:
    totals: dict[str, pd.Series] = {}
    tallies: list[MatchTally] = []
    year = f"{data_year:04d}"

    points = commune_points(cog_year) if cog_year is not None else None

    def locate(records: pd.DataFrame) -> pd.DataFrame:
        """Postcode + name, then the coordinate fallback where coordinates are present."""
        placed = matcher.match(records["postal_code"], records["city"])
        if points is not None and {"latitude", "longitude"} <= set(records.columns):
            placed = place_by_coordinates(
                placed, records["latitude"], records["longitude"], records["postal_code"], points
            )
        return placed

    def inside(placement: pd.DataFrame) -> pd.Series:
        return placement["code_commune"].isin(territory)

    # RNA ----------------------------------------------------------------------------------
    files = rna.rna_files(raw_dir / "rna")
    checked = rna.read_rna(files, max_quarantine_share=max_share)
    associations = checked.accepted.reset_index()
    placement = rna.locate_rna(associations, matcher)
    labels = _label(pd.concat([associations, placement], axis=1), "", "id", "adrs_codeinsee", "adrs_codepostal", "adrs_libcommune")  # fmt: skip
    scope = rna.creations_scope(associations, data_year, rna_date, states["rna_positions"])  # type: ignore[arg-type]
    totals["rna_creations"] = _per_commune(placement.loc[scope & inside(placement), "code_commune"])
    item = tally(
        "rna", "rna_creations", ", ".join(checked.files),
        rows_read=checked.rows_read, quarantined=checked.quarantined, in_scope=scope,
        placement=placement, labels=labels, territory=territory, names=names,
    )  # fmt: skip
    item.quarantine_reasons = format_reasons(checked.reasons())
    item.notes = _source_notes(checked)
    tallies.append(item)
    stage.add("rna", checked.quarantine)

    # HelloAsso ----------------------------------------------------------------------------
    ha_dir = raw_dir / "helloasso"
    org_path = helloasso.table_path(ha_dir, helloasso.ORGANIZATIONS)
    form_path = helloasso.table_path(ha_dir, helloasso.FORMS)
    item_path = helloasso.table_path(ha_dir, helloasso.PARTICIPATIONS)
    org_checked = helloasso.read_organizations(org_path, max_share)
    orgs = typed_records(org_checked).reset_index()
    orgs = pd.concat([orgs, locate(orgs)], axis=1)
    orgs["counted_type"] = orgs["type"].isin(states["helloasso_organizations"])
    orgs["label"] = _label(orgs, "organisation", "id", "postal_code", "city")
    scope = orgs["counted_type"] & (orgs["created_at"].str[:4] == year)
    totals["ha_new_organizations"] = _per_commune(orgs.loc[scope & inside(orgs), "code_commune"])
    item = tally(
        "helloasso_organizations", "ha_new_organizations", org_path.name,
        rows_read=org_checked.rows_read, quarantined=org_checked.quarantined, in_scope=scope,
        placement=orgs, labels=orgs["label"], territory=territory, names=names,
    )  # fmt: skip
    item.quarantine_reasons = format_reasons(org_checked.reasons())
    item.notes = _source_notes(org_checked)
    tallies.append(item)
    stage.add("helloasso_organizations", org_checked.quarantine)
    org_quarantined = _quarantined_ids(org_checked, "id")

    form_checked = helloasso.read_forms(form_path, max_share)
    forms = _attach(typed_records(form_checked).reset_index(), "organization_id", orgs, "organization", org_quarantined)  # fmt: skip
    scope = (
        forms["counted_type"]
        & (forms["created_at"].str[:4] == year)
        & forms["state"].isin(states["helloasso_forms"])
    )
    counted = forms.loc[scope & inside(forms)]
    totals["ha_campaigns"] = _per_commune(counted["code_commune"])
    totals.update(
        _cluster_stats("ha_campaigns", counted["code_commune"], [counted["organization_id"]])
    )
    item = tally(
        "helloasso_forms", "ha_campaigns", form_path.name,
        rows_read=form_checked.rows_read, quarantined=form_checked.quarantined, in_scope=scope,
        placement=forms, labels=forms["label"], territory=territory, names=names,
    )  # fmt: skip
    item.quarantine_reasons = format_reasons(form_checked.reasons())
    item.notes = _source_notes(form_checked)
    tallies.append(item)
    stage.add("helloasso_forms", form_checked.quarantine)

    staging = stage.staging_path("helloasso_participations")
    summary = helloasso.participations_by_organization(
        item_path, data_year, states["helloasso_participations"],
        max_quarantine_share=max_share, quarantine_path=staging,
    )  # fmt: skip
    if staging is not None and not staging.exists():
        present = [c for c in helloasso.PARTICIPATIONS_CONTRACT.columns]
        stage.add("helloasso_participations", pd.DataFrame({c: pd.Series([], dtype=object) for c in ["file", "data_row", "reason", *present]}))  # fmt: skip
    per_org = summary.per_org.rename(columns={"organization_id": "id_"})
    # Each organisation's rows split in two records: in scope (dated in the year, counted
    # state) and the rest, so that the tally weighs rows, not organisations.
    parts = pd.concat(
        [
            per_org.assign(weight=per_org["in_scope"], dated=True),
            per_org.assign(weight=per_org["rows"] - per_org["in_scope"], dated=False),
        ],
        ignore_index=True,
    )
    parts = parts[parts["weight"] > 0].reset_index(drop=True)
    parts = _attach(parts, "id_", orgs, "organization", org_quarantined)
    scope = parts["dated"] & parts["counted_type"]
    placed = scope & inside(parts)
    totals["ha_participants"] = _per_commune(
        parts.loc[placed, "code_commune"], parts.loc[placed, "weight"]
    )
    # organisations behind the count (one in-scope part per organisation)
    totals["ha_participants_organizations"] = _per_commune(parts.loc[placed, "code_commune"])
    # clusters: the same in-scope items by campaign, placed at their organisation's commune
    in_forms = summary.per_form.merge(
        parts.loc[placed, ["id_", "code_commune"]],
        left_on="organization_id", right_on="id_", how="inner", validate="many_to_one",
    )  # fmt: skip
    totals.update(_cluster_stats(
        "ha_participants", in_forms["code_commune"],
        [in_forms["organization_id"], in_forms["form_id"]], in_forms["in_scope"],
    ))  # fmt: skip
    item = tally(
        "helloasso_participations", "ha_participants", item_path.name,
        rows_read=summary.rows_read, quarantined=summary.quarantined, in_scope=scope,
        placement=parts, labels=parts["label"], weights=parts["weight"], territory=territory,
        names=names,
    )  # fmt: skip
    item.quarantine_reasons = format_reasons(summary.reasons)
    item.notes = [f"read as {summary.encoding}, aggregated with DuckDB", *summary.notes]
    tallies.append(item)

    # Donations (financial generosity, from the 2025 edition): participations of the year in
    # a counted state, in Donation and CrowdFunding forms of counted organisations, placed by
    # the organisation's commune.
    per_form = helloasso.participations_by_form(
        item_path, data_year, states["helloasso_participations"]
    )
    donation_forms = forms[
        forms["form_type"].isin(helloasso.DONATION_FORM_TYPES) & forms["counted_type"]
    ]
    donations = donation_forms.assign(form_id=donation_forms["form_id"].astype(str)).merge(
        per_form, on="form_id", how="inner"
    )
    placed_donations = donations[inside(donations)]
    totals["ha_donations"] = _per_commune(placed_donations["code_commune"], placed_donations["n"])
    totals.update(_cluster_stats(
        "ha_donations", placed_donations["code_commune"], [placed_donations["form_id"]],
        placed_donations["n"],
    ))  # fmt: skip

    # JeVeuxAider --------------------------------------------------------------------------
    jva_dir = raw_dir / "jeveuxaider"
    mission_path = helloasso.table_path(jva_dir, jeveuxaider.MISSIONS)
    match_path = helloasso.table_path(jva_dir, jeveuxaider.PARTICIPATIONS)
    mission_checked = jeveuxaider.read_missions(mission_path, max_share)
    missions = typed_records(mission_checked).reset_index()
    missions = pd.concat([missions, locate(missions)], axis=1)
    missions["counted_type"] = True
    missions["label"] = _label(missions, "mission", "id", "postal_code", "city")
    item = tally(
        "jeveuxaider_missions", "", mission_path.name,
        rows_read=mission_checked.rows_read, quarantined=mission_checked.quarantined,
        in_scope=pd.Series(True, index=missions.index), placement=missions,
        labels=missions["label"], territory=territory, names=names,
    )  # fmt: skip
    item.quarantine_reasons = format_reasons(mission_checked.reasons())
    item.notes = [*_source_notes(mission_checked), "missions place the mises en relation; all are in scope"]  # fmt: skip
    tallies.append(item)
    stage.add("jeveuxaider_missions", mission_checked.quarantine)

    match_checked = jeveuxaider.read_participations(match_path, max_share)
    matches = _attach(typed_records(match_checked).reset_index(), "mission_id", missions, "mission", _quarantined_ids(mission_checked, "id"))  # fmt: skip
    created = matches["created_at"].str[:10]
    window = created <= f"{year}-12-31" if jva_cumulative else created.str[:4] == year
    scope = window & matches["state"].isin(states["jeveuxaider_participations"])
    counted = matches.loc[scope & inside(matches)]
    totals["jva_matches"] = _per_commune(counted["code_commune"])
    totals.update(_cluster_stats("jva_matches", counted["code_commune"], [counted["mission_id"]]))
    # the other definition (flow if the edition counts the stock, stock if it counts the flow)
    other_window = created.str[:4] == year if jva_cumulative else created <= f"{year}-12-31"
    other = matches.loc[
        other_window & matches["state"].isin(states["jeveuxaider_participations"]) & inside(matches)
    ]
    totals["jva_matches_other"] = _per_commune(other["code_commune"])
    totals.update(_cluster_stats("jva_matches_other", other["code_commune"], [other["mission_id"]]))
    item = tally(
        "jeveuxaider_participations", "jva_matches", match_path.name,
        rows_read=match_checked.rows_read, quarantined=match_checked.quarantined, in_scope=scope,
        placement=matches, labels=matches["label"], territory=territory, names=names,
    )  # fmt: skip
    item.quarantine_reasons = format_reasons(match_checked.reasons())
    item.notes = _source_notes(match_checked)
    tallies.append(item)
    stage.add("jeveuxaider_participations", match_checked.quarantine)
    return totals, tallies
