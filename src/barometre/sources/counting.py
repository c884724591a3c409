"""The count of each source table: records read and checked, placed in communes, counted per
commune in the data year's scope, and tallied for the match report (the steps of
:func:`barometre.sources.counts.commune_counts`, in report order)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from barometre.sources import helloasso, jeveuxaider, rna
from barometre.sources.contracts import Checked, typed_records
from barometre.sources.matching import (
    MATCH_NONE,
    RESULT_COLUMNS,
    CommuneMatcher,
    commune_points,
    place_by_coordinates,
)
from barometre.sources.report import MatchTally, QuarantineStage, format_reasons, tally


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


@dataclass
class _Run:
    """What the count of every source table needs, and what they add up: ``totals`` (a Series
    per commune for each count and cluster statistic) and ``tallies`` (the report's rows)."""

    raw_dir: Path
    matcher: CommuneMatcher
    territory: frozenset[str]
    names: Mapping[str, str]
    states: dict[str, list[str]]
    data_year: int
    rna_date: str
    jva_cumulative: bool
    stage: QuarantineStage
    max_share: float
    points: pd.DataFrame | None
    totals: dict[str, pd.Series] = field(default_factory=dict)
    tallies: list[MatchTally] = field(default_factory=list)

    @property
    def year(self) -> str:
        return f"{self.data_year:04d}"

    def locate(self, records: pd.DataFrame) -> pd.DataFrame:
        """Postcode + name, then the coordinate fallback where coordinates are present."""
        placed = self.matcher.match(records["postal_code"], records["city"])
        if self.points is not None and {"latitude", "longitude"} <= set(records.columns):
            placed = place_by_coordinates(
                placed, records["latitude"], records["longitude"], records["postal_code"],
                self.points,
            )  # fmt: skip
        return placed

    def inside(self, placement: pd.DataFrame) -> pd.Series:
        """Whether each record is placed in a commune of the build's territory."""
        return placement["code_commune"].isin(self.territory)

    def report(
        self,
        source: str,
        count: str,
        file: str,
        checked: Checked,
        in_scope: pd.Series,
        placement: pd.DataFrame,
        labels: pd.Series,
        notes: list[str] | None = None,
    ) -> None:
        """Tally a table checked in memory (:class:`Checked`) for the match report and stage
        its quarantined rows; ``notes``: the report's notes (by default how it was read)."""
        item = tally(
            source, count, file,
            rows_read=checked.rows_read, quarantined=checked.quarantined, in_scope=in_scope,
            placement=placement, labels=labels, territory=self.territory, names=self.names,
        )  # fmt: skip
        item.quarantine_reasons = format_reasons(checked.reasons())
        item.notes = _source_notes(checked) if notes is None else notes
        self.tallies.append(item)
        self.stage.add(source, checked.quarantine)


def _count_rna(run: _Run) -> None:
    """``rna_creations``: associations created (or published) in the year, by INSEE code."""
    checked = rna.read_rna(rna.rna_files(run.raw_dir / "rna"), max_quarantine_share=run.max_share)
    associations = checked.accepted.reset_index()
    placement = rna.locate_rna(associations, run.matcher)
    labels = _label(pd.concat([associations, placement], axis=1), "", "id", "adrs_codeinsee", "adrs_codepostal", "adrs_libcommune")  # fmt: skip
    scope = rna.creations_scope(associations, run.data_year, run.rna_date, run.states["rna_positions"])  # type: ignore[arg-type]  # fmt: skip
    run.totals["rna_creations"] = _per_commune(
        placement.loc[scope & run.inside(placement), "code_commune"]
    )
    run.report("rna", "rna_creations", ", ".join(checked.files), checked, scope, placement, labels)


def _count_ha_organizations(run: _Run, path: Path) -> tuple[pd.DataFrame, set[int]]:
    """``ha_new_organizations``; returns the organisations placed (with ``label`` and
    ``counted_type``) and the ids of the quarantined ones."""
    checked = helloasso.read_organizations(path, run.max_share)
    orgs = typed_records(checked).reset_index()
    orgs = pd.concat([orgs, run.locate(orgs)], axis=1)
    orgs["counted_type"] = orgs["type"].isin(run.states["helloasso_organizations"])
    orgs["label"] = _label(orgs, "organisation", "id", "postal_code", "city")
    scope = orgs["counted_type"] & (orgs["created_at"].str[:4] == run.year)
    run.totals["ha_new_organizations"] = _per_commune(
        orgs.loc[scope & run.inside(orgs), "code_commune"]
    )
    run.report("helloasso_organizations", "ha_new_organizations", path.name, checked, scope, orgs, orgs["label"])  # fmt: skip
    return orgs, _quarantined_ids(checked, "id")


def _count_ha_forms(
    run: _Run, path: Path, orgs: pd.DataFrame, org_quarantined: set[int]
) -> pd.DataFrame:
    """``ha_campaigns`` and its clusters (organisations); returns the forms placed at their
    organisation's commune."""
    checked = helloasso.read_forms(path, run.max_share)
    forms = _attach(typed_records(checked).reset_index(), "organization_id", orgs, "organization", org_quarantined)  # fmt: skip
    scope = (
        forms["counted_type"]
        & (forms["created_at"].str[:4] == run.year)
        & forms["state"].isin(run.states["helloasso_forms"])
    )
    counted = forms.loc[scope & run.inside(forms)]
    run.totals["ha_campaigns"] = _per_commune(counted["code_commune"])
    run.totals.update(
        _cluster_stats("ha_campaigns", counted["code_commune"], [counted["organization_id"]])
    )
    run.report("helloasso_forms", "ha_campaigns", path.name, checked, scope, forms, forms["label"])
    return forms


def _count_ha_participations(
    run: _Run, path: Path, orgs: pd.DataFrame, org_quarantined: set[int]
) -> None:
    """``ha_participants`` (streamed, aggregated by organisation), its organisations and its
    clusters (campaigns within the organisation)."""
    staging = run.stage.staging_path("helloasso_participations")
    summary = helloasso.participations_by_organization(
        path, run.data_year, run.states["helloasso_participations"],
        max_quarantine_share=run.max_share, quarantine_path=staging,
    )  # fmt: skip
    if staging is not None and not staging.exists():
        present = [c for c in helloasso.PARTICIPATIONS_CONTRACT.columns]
        run.stage.add("helloasso_participations", pd.DataFrame({c: pd.Series([], dtype=object) for c in ["file", "data_row", "reason", *present]}))  # fmt: skip
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
    placed = scope & run.inside(parts)
    run.totals["ha_participants"] = _per_commune(
        parts.loc[placed, "code_commune"], parts.loc[placed, "weight"]
    )
    # organisations behind the count (one in-scope part per organisation)
    run.totals["ha_participants_organizations"] = _per_commune(parts.loc[placed, "code_commune"])
    # clusters: the same in-scope items by campaign, placed at their organisation's commune
    in_forms = summary.per_form.merge(
        parts.loc[placed, ["id_", "code_commune"]],
        left_on="organization_id", right_on="id_", how="inner", validate="many_to_one",
    )  # fmt: skip
    run.totals.update(_cluster_stats(
        "ha_participants", in_forms["code_commune"],
        [in_forms["organization_id"], in_forms["form_id"]], in_forms["in_scope"],
    ))  # fmt: skip
    item = tally(
        "helloasso_participations", "ha_participants", path.name,
        rows_read=summary.rows_read, quarantined=summary.quarantined, in_scope=scope,
        placement=parts, labels=parts["label"], weights=parts["weight"], territory=run.territory,
        names=run.names,
    )  # fmt: skip
    item.quarantine_reasons = format_reasons(summary.reasons)
    item.notes = [f"read as {summary.encoding}, aggregated with DuckDB", *summary.notes]
    run.tallies.append(item)


def _count_ha_donations(run: _Run, path: Path, forms: pd.DataFrame) -> None:
    """``ha_donations`` (financial generosity, from the 2025 edition) and its clusters:
    participations of the year in a counted state, in Donation and CrowdFunding forms of
    counted organisations, placed by the organisation's commune."""
    per_form = helloasso.participations_by_form(
        path, run.data_year, run.states["helloasso_participations"]
    )
    donation_forms = forms[
        forms["form_type"].isin(helloasso.DONATION_FORM_TYPES) & forms["counted_type"]
    ]
    donations = donation_forms.assign(form_id=donation_forms["form_id"].astype(str)).merge(
        per_form, on="form_id", how="inner"
    )
    placed = donations[run.inside(donations)]
    run.totals["ha_donations"] = _per_commune(placed["code_commune"], placed["n"])
    run.totals.update(
        _cluster_stats("ha_donations", placed["code_commune"], [placed["form_id"]], placed["n"])
    )


def _count_jva_missions(run: _Run, path: Path) -> tuple[pd.DataFrame, set[int]]:
    """The missions placed (they place the mises en relation; no count of their own) and the
    ids of the quarantined ones."""
    checked = jeveuxaider.read_missions(path, run.max_share)
    missions = typed_records(checked).reset_index()
    missions = pd.concat([missions, run.locate(missions)], axis=1)
    missions["counted_type"] = True
    missions["label"] = _label(missions, "mission", "id", "postal_code", "city")
    run.report(
        "jeveuxaider_missions", "", path.name, checked, pd.Series(True, index=missions.index),
        missions, missions["label"],
        notes=[*_source_notes(checked), "missions place the mises en relation; all are in scope"],
    )  # fmt: skip
    return missions, _quarantined_ids(checked, "id")


def _count_jva_matches(
    run: _Run, path: Path, missions: pd.DataFrame, mission_quarantined: set[int]
) -> None:
    """``jva_matches`` under the edition's definition (stock or flow), ``jva_matches_other``
    under the other, and their clusters (missions)."""
    checked = jeveuxaider.read_participations(path, run.max_share)
    matches = _attach(typed_records(checked).reset_index(), "mission_id", missions, "mission", mission_quarantined)  # fmt: skip
    created = matches["created_at"].str[:10]
    stock = created <= f"{run.year}-12-31"
    flow = created.str[:4] == run.year
    counted_state = matches["state"].isin(run.states["jeveuxaider_participations"])
    scope = (stock if run.jva_cumulative else flow) & counted_state
    counted = matches.loc[scope & run.inside(matches)]
    run.totals["jva_matches"] = _per_commune(counted["code_commune"])
    run.totals.update(
        _cluster_stats("jva_matches", counted["code_commune"], [counted["mission_id"]])
    )
    # the other definition (flow if the edition counts the stock, stock if it counts the flow)
    other_window = flow if run.jva_cumulative else stock
    other = matches.loc[other_window & counted_state & run.inside(matches)]
    run.totals["jva_matches_other"] = _per_commune(other["code_commune"])
    run.totals.update(
        _cluster_stats("jva_matches_other", other["code_commune"], [other["mission_id"]])
    )
    run.report("jeveuxaider_participations", "jva_matches", path.name, checked, scope, matches, matches["label"])  # fmt: skip


def count_sources(
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
    """Count every source table of ``raw_dir`` in report order: ``(totals, tallies)``, a
    Series per commune for each count and cluster statistic, and the match report's rows.
    ``cog_year``: the vintage whose reference points place records by coordinates."""
    run = _Run(
        raw_dir, matcher, territory, names, states, data_year, rna_date, jva_cumulative,
        stage, max_share, commune_points(cog_year) if cog_year is not None else None,
    )  # fmt: skip
    _count_rna(run)
    ha_dir = raw_dir / "helloasso"
    org_path = helloasso.table_path(ha_dir, helloasso.ORGANIZATIONS)
    form_path = helloasso.table_path(ha_dir, helloasso.FORMS)
    item_path = helloasso.table_path(ha_dir, helloasso.PARTICIPATIONS)
    orgs, org_quarantined = _count_ha_organizations(run, org_path)
    forms = _count_ha_forms(run, form_path, orgs, org_quarantined)
    _count_ha_participations(run, item_path, orgs, org_quarantined)
    _count_ha_donations(run, item_path, forms)
    jva_dir = raw_dir / "jeveuxaider"
    mission_path = helloasso.table_path(jva_dir, jeveuxaider.MISSIONS)
    match_path = helloasso.table_path(jva_dir, jeveuxaider.PARTICIPATIONS)
    missions, mission_quarantined = _count_jva_missions(run, mission_path)
    _count_jva_matches(run, match_path, missions, mission_quarantined)
    return run.totals, run.tallies
