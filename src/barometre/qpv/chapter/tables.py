"""The chapter's Markdown tables (reconciliation, engagement, rates by class, contrats de ville)
and the cell formats they share: each function returns Markdown text and writes nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd

from barometre.publish.fmt import dataframe_to_markdown, escape_markdown, fr_number, fr_percent
from barometre.qpv import profile as qp
from barometre.qpv.chapter.compute import QpvProfile

#: Column headers of the wide tables (per 1 000 inhabitants), by indicator code.
SHORT_HEADERS = {
    "rna_creations": "Créations d'associations",
    "ha_new_organizations": "Nouvelles sur HelloAsso",
    "ha_campaigns": "Campagnes HelloAsso",
    "ha_participants": "Participants",
    "ha_participants_per_campaign": "Participants",
    "jva_matches": "Mises en relation",
    "ha_donations": "Dons",
}


#: Shorter still, for the contrats de ville table (nine columns).
CONTRACT_HEADERS = {
    "rna_creations": "Créations",
    "ha_new_organizations": "Nouvelles HelloAsso",
    "ha_campaigns": "Campagnes",
    "ha_participants": "Participants",
    "ha_participants_per_campaign": "Participants",
    "jva_matches": "Mises en relation",
}


SECRET = "secret"


def _header(measure: qp.Measure) -> str:
    return SHORT_HEADERS.get(measure.code, measure.label)


def _rate(value: float, decimals: int = 2) -> str:
    return SECRET if pd.isna(value) else fr_number(value, decimals)


def with_interval(value: float, lower: float, upper: float, decimals: int = 2) -> str:
    if pd.isna(value):
        return SECRET
    return f"{fr_number(value, decimals)} [{fr_number(lower, decimals)} ; {fr_number(upper, decimals)}]"


def reconciliation_markdown(profile: QpvProfile) -> str:
    """The table of communes with and without QPV by class (with + without = all)."""
    return dataframe_to_markdown(
        pd.DataFrame(
            {
                "Classe": profile.reconciliation["population_class"],
                "Communes": profile.reconciliation["communes"],
                "Avec QPV": profile.reconciliation["with_qpv"],
                "Sans QPV": profile.reconciliation["without_qpv"],
                "Population des communes avec QPV": profile.reconciliation["population_with_qpv"],
                "Part de la population": profile.reconciliation["share_population_with_qpv"],
            }
        ),
        formats={
            "Communes": fr_number,
            "Avec QPV": fr_number,
            "Sans QPV": fr_number,
            "Population des communes avec QPV": fr_number,
            "Part de la population": lambda v: fr_percent(v, 0),
        },
        align={
            c: "right"
            for c in (
                "Communes",
                "Avec QPV",
                "Sans QPV",
                "Population des communes avec QPV",
                "Part de la population",
            )
        },
    ).rstrip()


def engagement_markdown(engagement: pd.DataFrame) -> str:
    """The engagement table: each measure's rate with its interval for the communes with QPV and
    their comparison, their ratio, and the rate of the territory's communes without QPV."""
    return dataframe_to_markdown(
        pd.DataFrame(
            {
                "Mesure (pour 1 000 habitants)": engagement["label"].map(escape_markdown),
                "Communes avec QPV": [
                    with_interval(r.rate_with, r.lower_with, r.upper_with)
                    for r in engagement.itertuples()
                ],
                "Comparaison": [
                    with_interval(r.rate_comparison, r.lower_comparison, r.upper_comparison)
                    for r in engagement.itertuples()
                ],
                "Rapport": [
                    with_interval(r.ratio, r.ratio_lower, r.ratio_upper)
                    for r in engagement.itertuples()
                ],
                "Sans QPV (territoire)": [_rate(v) for v in engagement["rate_without"]],
            }
        ),
        align={
            c: "right"
            for c in (
                "Communes avec QPV",
                "Comparaison",
                "Rapport",
                "Sans QPV (territoire)",
            )
        },
    ).rstrip()


def class_rates_markdown(profile: QpvProfile) -> str:
    """The rates of the communes with and without QPV of each class, in the territory."""
    by_class = profile.class_rates
    codes = [m.code for m in profile.measures]
    return dataframe_to_markdown(
        pd.DataFrame(
            {
                "Classe": by_class["population_class"],
                "Groupe": by_class["group"].str.replace("Communes ", "", regex=False),
                "Communes": by_class["communes"],
                **{
                    _header(m): [_rate(v) for v in by_class[m.code]]
                    for m in profile.measures
                    if m.code in codes
                },
            }
        ),
        formats={"Communes": fr_number},
        align={c: "right" for c in ["Communes", *[_header(m) for m in profile.measures]]},
    ).rstrip()


def contracts_markdown(profile: QpvProfile) -> str:
    """The contrats de ville table: QPV, communes with QPV, 2015 QPV population and the rate of
    each measure of each signatory EPCI, then the territory's communes with QPV."""
    contracts = profile.contracts
    return dataframe_to_markdown(
        pd.DataFrame(
            {
                "Intercommunalité": contracts["epci"].map(escape_markdown),
                "QPV": contracts["n_qpv"],
                "Communes avec QPV": contracts["communes_with_qpv"],
                "Habitants des QPV (2015)": contracts.get(
                    "pop_qpv_2015", pd.Series(np.nan, index=contracts.index)
                ),
                **{
                    CONTRACT_HEADERS.get(m.code, _header(m)): [_rate(v) for v in contracts[m.code]]
                    for m in profile.measures
                },
            }
        ),
        formats={
            "QPV": fr_number,
            "Communes avec QPV": fr_number,
            "Habitants des QPV (2015)": lambda v: "–" if pd.isna(v) else fr_number(v),
        },
        align={
            c: "right"
            for c in [
                "QPV",
                "Communes avec QPV",
                "Habitants des QPV (2015)",
                *[CONTRACT_HEADERS.get(m.code, _header(m)) for m in profile.measures],
            ]
        },
    ).rstrip()
