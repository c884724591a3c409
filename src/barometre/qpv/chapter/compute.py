"""The chapter's numbers: :func:`compute_qpv_profile` takes the QPV list, the build's inputs
(:class:`~barometre.qpv.chapter.inputs.QpvInputs`) and the reference geography, and returns a
:class:`QpvProfile`; it writes nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from barometre import geography
from barometre.config import EditionConfig
from barometre.disclosure import primary_mask, secondary_mask
from barometre.qpv import profile as qp
from barometre.qpv.chapter.inputs import QpvInputs
from barometre.qpv.reader import QpvList, qpv_by_commune
from barometre.qpv.synthetic import load_contracts

#: Joint posterior draws behind the chapter's intervals.
N_DRAWS = 1000


@dataclass
class QpvProfile:
    """The chapter's numbers (each a table of :mod:`barometre.qpv.profile`)."""

    qpv: QpvList
    territory: pd.DataFrame
    reconciliation: pd.DataFrame
    engagement: pd.DataFrame
    compared_classes: list[str]
    left_out_classes: list[str]
    class_rates: pd.DataFrame
    fields: pd.DataFrame | None
    creations: pd.DataFrame | None
    contracts: pd.DataFrame
    region_names: list[str]
    measures: list[qp.Measure]
    national_classes: list[str]
    qpv_in_territory: int
    data_year: int
    credible: float


def territory_codes(kind: str, codes: Sequence[str], reference: pd.DataFrame) -> set[str]:
    """Commune codes of a territory of :mod:`barometre.territory` (region, département, EPCI,
    contrat de ville through its EPCI, list of communes)."""
    column = {
        "region": "code_region",
        "departement": "code_departement",
        "epci": "code_epci",
        "contrat": "code_epci",
    }.get(kind)
    if column is None:
        return set(codes)
    return set(reference.loc[reference[column].isin(set(codes)), "code_commune"])


def hidden_counts(
    inputs: QpvInputs, territory: pd.DataFrame, measures: Sequence[qp.Measure]
) -> pd.DataFrame:
    """Which person-count cells of the ``measures`` the commune tables hide: « < 11 » (primary
    and secondary) and the blank counts of ineligible communes, as published
    (``inputs.hidden``); recomputed on the ``territory``'s exact counts when no table is at hand."""
    table = inputs.table
    columns = list(dict.fromkeys(m.count for m in measures))
    if inputs.hidden is not None:
        suppressed = inputs.hidden.reindex(columns=[c for c in columns if c in inputs.hidden])
    else:
        counts = table.set_index("code_commune").loc[territory["code_commune"], columns]
        suppressed = secondary_mask(counts, primary_mask(counts), None)
    return suppressed


def compute_qpv_profile(
    qpv: QpvList,
    inputs: QpvInputs,
    codes: set[str],
    config: EditionConfig,
    meta: Mapping[str, Any],
    reference: pd.DataFrame,
    epci_names: Mapping[str, str],
    *,
    n_draws: int = N_DRAWS,
) -> QpvProfile:
    """The chapter's numbers for the territory of commune ``codes`` (module docstring of
    :mod:`barometre.qpv.profile` for the conventions)."""
    labels = list(config.classes.labels)
    table = inputs.table
    base = table[
        ["code_commune", "nom", "population", "population_class", "code_departement", "code_region"]
    ].merge(reference[["code_commune", "code_epci"]], on="code_commune", how="left")
    flagged = qp.flag_communes(base, qpv_by_commune(qpv.pairs))
    territory = flagged[flagged["code_commune"].isin(codes)].reset_index(drop=True)
    if territory.empty:
        raise ValueError("no commune of the territory in the build's commune table")
    regions = sorted(territory["code_region"].unique())
    pool, national = qp.comparison_communes(flagged, regions, labels)
    measures = qp.measures_from_meta(meta, list(table.columns))
    suppressed = hidden_counts(inputs, territory, measures)
    engagement, compared, left_out = qp.engagement_table(
        table,
        territory,
        pool,
        inputs.fits,
        measures,
        labels,
        n_draws=n_draws,
        seed=config.seed,
        credible=config.shrinkage.credible,
        suppressed=suppressed,
    )
    fields = creations = None
    if inputs.associations is not None:
        fields = qp.fields_table(inputs.associations, territory, pool, config.data_year)
        creations = qp.creations_list(inputs.associations, territory, config.data_year)
    contracts = qp.contracts_table(
        territory,
        table,
        qpv.pairs,
        measures,
        epci_names,
        load_contracts(config.cog_year),
        suppressed=suppressed,
    )
    region_table = geography.load_regions(config.cog_year).set_index("code_region")["nom"]
    return QpvProfile(
        qpv=qpv,
        territory=territory,
        reconciliation=qp.reconciliation(territory, labels),
        engagement=engagement,
        compared_classes=compared,
        left_out_classes=left_out,
        class_rates=qp.class_rates(table, territory, measures, labels, suppressed=suppressed),
        fields=fields,
        creations=creations,
        contracts=contracts,
        region_names=[str(region_table.get(r, r)) for r in regions],
        measures=measures,
        qpv_in_territory=int(
            qpv.pairs.loc[
                qpv.pairs["code_commune"].isin(set(territory["code_commune"])), "code_qp"
            ].nunique()
        ),
        national_classes=national,
        data_year=config.data_year,
        credible=config.shrinkage.credible,
    )
