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
mission's commune (the count of each table: :mod:`barometre.sources.counting`). Nothing is written unless the whole run succeeds (quarantine files are
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
    check_commune_table,
    counts_schema,
)
from barometre.sources.counting import count_sources
from barometre.sources.matching import CommuneMatcher
from barometre.sources.report import REPORT_COLUMNS, MatchTally, QuarantineStage

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
        totals, tallies = count_sources(
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
