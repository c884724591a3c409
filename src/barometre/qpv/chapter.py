"""The « Politique de la ville » chapter of a territorial report: inputs, profile, writers.

:func:`compute_qpv_profile` reads nothing and writes nothing: it takes the QPV list, the build's
confidential count table, the count models and the RNA's associations, and returns a
:class:`QpvProfile`. :func:`load_qpv_inputs` reads a build's inputs for it;
:func:`write_qpv_chapter` writes the chapter's Markdown (``tables/qpv.md``, included by
``report/territoire.qmd``), its map and its exports (CSV and XLSX with their data dictionary).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from barometre import geography
from barometre.config import PROJECT_ROOT, EditionConfig
from barometre.disclosure import hidden_cells, primary_mask, secondary_mask
from barometre.publish.fmt import (
    dataframe_to_markdown,
    escape_markdown,
    fr_count,
    fr_list,
    fr_number,
    fr_percent,
)
from barometre.qpv import profile as qp
from barometre.qpv.reader import QpvList, qpv_by_commune
from barometre.qpv.synthetic import LIST_NAME, load_contracts

NOMENCLATURE = PROJECT_ROOT / "data" / "reference" / "rna" / "waldec_nomenclature.csv"
#: Joint posterior draws behind the chapter's intervals.
N_DRAWS = 1000
#: Associations created in the year listed in the report (all of them in the export).
MAX_LISTED_CREATIONS = 24


@dataclass
class QpvInputs:
    """What the profile reads from a build: ``table`` (the count models' input: exact counts,
    population, class, département of every commune of the build), ``fits`` (the count models,
    refitted deterministically as the robustness step does), ``associations`` (the RNA's
    accepted rows placed in a commune: ``code_commune``, ``titre``, ``field``, ``date_creat``,
    ``position``; ``None`` when the raw RNA is not at hand)."""

    table: pd.DataFrame
    fits: Mapping[str, Any]
    associations: pd.DataFrame | None
    hidden: pd.DataFrame | None = None
    """What the published commune table says of each person count
    (:func:`barometre.disclosure.hidden_cells`); ``None``: recomputed from the exact counts."""


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


def default_qpv_file(build_dir: Path) -> Path | None:
    """The demo inputs' synthetic list of a build (``raw/qpv/``), when there is one."""
    path = Path(build_dir) / "raw" / "qpv" / LIST_NAME
    return path if path.is_file() else None


def raw_dir_of(build_dir: Path) -> Path | None:
    """The raw extracts folder a build read (its manifest's ``sources`` step), else ``raw/``."""
    build_dir = Path(build_dir)
    manifest = build_dir / "manifest.json"
    if manifest.is_file():
        for step in json.loads(manifest.read_text(encoding="utf-8")).get("steps", []):
            if step.get("name") == "sources" and step.get("params", {}).get("raw_dir"):
                raw = Path(step["params"]["raw_dir"])
                return raw if raw.is_absolute() else build_dir / raw
    return build_dir / "raw" if (build_dir / "raw").is_dir() else None


def read_associations(raw_dir: Path, cog_year: int) -> pd.DataFrame:
    """The RNA extract of ``raw_dir/rna`` read and checked as the sources step does
    (:func:`barometre.sources.rna.read_rna`), placed in communes by the same matcher, with each
    association's public title and field of action (WALDEC ``objet_social1`` → parent field)."""
    from barometre.sources import rna
    from barometre.sources.matching import CommuneMatcher
    from barometre.sources.reading import read_csv_table

    files = rna.rna_files(Path(raw_dir) / "rna")
    checked = rna.read_rna(files)
    accepted = checked.accepted.reset_index(drop=True)
    links = geography.load_commune_links(cog_year)
    placement = rna.locate_rna(
        accepted,
        CommuneMatcher.for_vintage(
            cog_year, dict(zip(links["code"], links["code_commune_parent"], strict=True))
        ),
    )
    # the public title and field: read apart, joined on the RNA number (never the leaders' data)
    extra = pd.concat(
        [read_csv_table(f.path, ("id",), ("titre", "objet_social1"), sep=";").frame for f in files]
    ).drop_duplicates("id")
    nomenclature = pd.read_csv(NOMENCLATURE, dtype=str)
    frame = pd.DataFrame(
        {
            "id": accepted["id"].to_numpy(),
            "code_commune": placement["code_commune"].to_numpy(),
            "date_creat": accepted["date_creat"].fillna("").astype(str).to_numpy(),
            "position": accepted["position"].astype(str).to_numpy(),
        }
    ).merge(extra.reindex(columns=["id", "titre", "objet_social1"]), on="id", how="left")
    frame["field"] = qp.field_of(frame["objet_social1"].fillna(""), nomenclature)
    return frame[frame["code_commune"].notna()].reset_index(drop=True)


def load_qpv_inputs(
    build_dir: Path, config: EditionConfig, meta: Mapping[str, Any], raw_dir: Path | None = None
) -> QpvInputs:
    """Read a build's inputs for the profile (see :class:`QpvInputs`)."""
    from barometre.indicators import fit_models, model_input_frame
    from barometre.tables import read_table

    build_dir = Path(build_dir)
    table = model_input_frame(
        read_table(build_dir / "work" / "count_model_input.csv"), config.classes.labels
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = fit_models(table, meta, config.shrinkage.credible)
    table = table.assign(population_class=table["population_class"].astype(str))
    raw = raw_dir or raw_dir_of(build_dir)
    associations = None
    if raw is not None and (Path(raw) / "rna").is_dir():
        associations = read_associations(Path(raw), config.cog_year)
    published = build_dir / "tables" / "communes.csv"
    hidden = None
    if published.exists():
        hidden = hidden_cells(pd.read_csv(published, dtype=str, keep_default_na=False))
    return QpvInputs(table, fits, associations, hidden)


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
    # cells of person counts the commune tables hide: « < 11 » (primary and secondary) and the
    # blank counts of ineligible communes, as published; recomputed when no table is at hand
    columns = list(dict.fromkeys(m.count for m in measures))
    if inputs.hidden is not None:
        suppressed = inputs.hidden.reindex(columns=[c for c in columns if c in inputs.hidden])
    else:
        counts = table.set_index("code_commune").loc[territory["code_commune"], columns]
        suppressed = secondary_mask(counts, primary_mask(counts), None)
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


# --------------------------------------------------------------------------- writers


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


def _key(value: int, singular: str, plural: str) -> str:
    """A key-figure line: the number in bold, then its noun (singular for 0 and 1)."""
    return f"- **{fr_number(value)}** {singular if value < 2 else plural}"


def _header(measure: qp.Measure) -> str:
    return SHORT_HEADERS.get(measure.code, measure.label)


def _rate(value: float, decimals: int = 2) -> str:
    return SECRET if pd.isna(value) else fr_number(value, decimals)


def _with_interval(value: float, lower: float, upper: float, decimals: int = 2) -> str:
    if pd.isna(value):
        return SECRET
    return f"{fr_number(value, decimals)} [{fr_number(lower, decimals)} ; {fr_number(upper, decimals)}]"


def _short(profile: QpvProfile, code: str) -> str:
    return next(m.short or m.label.lower() for m in profile.measures if m.code == code)


def engagement_sentence(profile: QpvProfile) -> str:
    """The reading of the engagement table in one or two French sentences (computed)."""
    shown = profile.engagement[~profile.engagement["withheld"]]
    if shown.empty:
        return ""
    higher = shown[shown["ratio_lower"] > 1]
    lower = shown[shown["ratio_upper"] < 1]

    def listing(rows: pd.DataFrame) -> str:
        return fr_list(
            f"les {escape_markdown(_short(profile, r.measure))} (rapport {fr_number(r.ratio, 2)})"
            for r in rows.itertuples()
        )

    parts = []
    if len(lower):
        parts.append(f"sont en retrait de la comparaison pour {listing(lower)}")
    if len(higher):
        parts.append(
            f"dépassent la comparaison pour {listing(higher)}"
            if not parts
            else f"la dépassent pour {listing(higher)}"
        )
    text = ""
    if parts:
        text = (
            "Les communes avec QPV "
            + " ; elles ".join(parts)
            + " : l'intervalle du rapport exclut 1."
        )
    unclear = len(shown) - len(higher) - len(lower)
    if unclear:
        if text:
            subject = (
                "l'autre mesure" if unclear == 1 else f"les {fr_number(unclear)} autres mesures"
            )
        else:
            subject = "la mesure" if unclear == 1 else f"les {fr_number(unclear)} mesures"
        text += (
            " " if text else ""
        ) + f"Pour {subject}, l'intervalle contient 1 : l'écart n'est pas établi."
    return text


def creations_digest(creations: pd.DataFrame, limit: int) -> pd.DataFrame:
    """At most ``limit`` lines of the creations list for the report: identical (field, name,
    commune) rows merged with their ``count``, then the fields taken in turn (largest first), a
    few lines each, so that every field shows up."""
    merged = (
        creations.groupby(["field", "name", "commune"], as_index=False)
        .size()
        .rename(columns={"size": "count"})
    )
    order = creations["field"].value_counts().index
    per_field = max(1, limit // max(len(order), 1))
    parts = [
        merged[merged["field"] == f]
        .sort_values(["count", "commune", "name"], ascending=[False, True, True])
        .head(per_field)
        for f in order
    ]
    return pd.concat(parts, ignore_index=True).head(limit) if parts else merged.head(0)


def figure_qpv_map(
    profile: QpvProfile,
    scores: pd.DataFrame,
    departments: Sequence[str],
    zoom: bool,
    path: Path,
    source: str,
) -> Path:
    """Map of the communes with QPV coloured by the position of their score in class (the
    baromètre's engagement measure), the other communes of the territory as small grey dots."""
    from barometre.publish.maps import POSITION_COLOURS, Classes, draw_territory_map, save_map
    from barometre.territory import MAP_SOURCE

    frame = profile.territory.merge(
        scores[["code_commune", "position"]], on="code_commune", how="left"
    )
    edges = (0.0, 20.0, 40.0, 60.0, 80.0, 100.0)
    labels = ("0 à 20 (dernières)", "20 à 40", "40 à 60", "60 à 80", "80 à 100 (premières)")
    # communes without QPV, or not ranked, drawn in the lightest class colour below a fixed value
    shown = frame.assign(
        value=np.where(frame["has_qpv"] & frame["position"].notna(), frame["position"], -1.0)
    )
    colours = (
        "#FFFFFF",
        *POSITION_COLOURS,
    )  # hollow dots: the communes without QPV stay in the background
    fig, _ = draw_territory_map(
        shown,
        "value",
        departments,
        legend_label="Communes avec QPV : position du score dans la classe de population",
        source_note=f"{source} {MAP_SOURCE} Disques proportionnels à la population ; cercles vides : communes sans QPV ou non classées.",
        classes=Classes((-1.5, *edges), colours, ("sans QPV ou non classée", *labels)),
        zoom_to_communes=zoom,
    )
    return save_map(fig, path, dpi=170, tight=True)


EXPORT_DOCS_SPEC: dict[str, tuple[str, str, str, str]] = {
    # column: (title, unit, definition, number format)
    "measure": (
        "Mesure",
        "code",
        "Code de l'indicateur du baromètre (config/indicators.yml).",
        "@",
    ),
    "label": ("Libellé", "texte", "Nom de la mesure.", "@"),
    "observed_with": (
        "Communes avec QPV, taux observé",
        "pour 1 000 habitants",
        "Total de la mesure dans les communes avec QPV du territoire rapporté à leur population (classes comparées).",
        "0.00",
    ),
    "observed_comparison": (
        "Comparaison, taux observé",
        "pour 1 000 habitants",
        "Taux observé de la comparaison standardisée.",
        "0.00",
    ),
    "observed_ratio": (
        "Rapport observé",
        "rapport",
        "Taux observés : communes avec QPV divisé par comparaison.",
        "0.00",
    ),
    "rate_with": (
        "Communes avec QPV, estimation",
        "pour 1 000 habitants",
        "Médiane a posteriori (modèles de comptage du palmarès) du taux du groupe des communes du territoire comptant au moins un QPV : total de la mesure rapporté à leur population (classes sans commune de comparaison exclues).",
        "0.00",
    ),
    "lower_with": (
        "Communes avec QPV, borne basse",
        "pour 1 000 habitants",
        "Borne basse de l'intervalle de crédibilité (tirages a posteriori des modèles de comptage du palmarès).",
        "0.00",
    ),
    "upper_with": (
        "Communes avec QPV, borne haute",
        "pour 1 000 habitants",
        "Borne haute de l'intervalle de crédibilité.",
        "0.00",
    ),
    "rate_without": (
        "Communes sans QPV du territoire",
        "pour 1 000 habitants",
        "Taux des communes du territoire sans QPV (toutes classes).",
        "0.00",
    ),
    "rate_comparison": (
        "Comparaison, estimation",
        "pour 1 000 habitants",
        "Médiane a posteriori du taux des communes sans QPV de la même classe de population dans la région, chaque classe pondérée par la population des communes avec QPV (standardisation directe).",
        "0.00",
    ),
    "lower_comparison": (
        "Comparaison, borne basse",
        "pour 1 000 habitants",
        "Borne basse de l'intervalle de crédibilité du taux de comparaison.",
        "0.00",
    ),
    "upper_comparison": (
        "Comparaison, borne haute",
        "pour 1 000 habitants",
        "Borne haute de l'intervalle de crédibilité du taux de comparaison.",
        "0.00",
    ),
    "ratio": (
        "Rapport, estimation",
        "rapport",
        "Médiane a posteriori du rapport : taux des communes avec QPV divisé par le taux de comparaison (mêmes tirages conjoints).",
        "0.00",
    ),
    "ratio_lower": (
        "Rapport, borne basse",
        "rapport",
        "Borne basse de l'intervalle de crédibilité du rapport (mêmes tirages conjoints).",
        "0.00",
    ),
    "ratio_upper": (
        "Rapport, borne haute",
        "rapport",
        "Borne haute de l'intervalle de crédibilité du rapport.",
        "0.00",
    ),
    "p_higher": (
        "Probabilité d'un taux supérieur",
        "probabilité",
        "Part des tirages a posteriori où le taux des communes avec QPV dépasse celui de la comparaison.",
        "0.00",
    ),
    "withheld": (
        "Secret statistique",
        "oui/non",
        "Valeurs retenues : le comptage de personnes sous-jacent est inférieur au seuil de diffusion, ou le permettrait de retrouver.",
        "@",
    ),
    "field": (
        "Domaine d'action",
        "texte",
        "Domaine de la nomenclature WALDEC du RNA (objet social principal, niveau parent).",
        "@",
    ),
    "active_with": (
        "Associations actives, communes avec QPV",
        "associations",
        "Associations en activité (position A) créées au plus tard l'année de données, dont le siège est dans une commune avec QPV du territoire.",
        "#,##0",
    ),
    "per_1000_with": (
        "Associations pour 1 000 habitants, communes avec QPV",
        "pour 1 000 habitants",
        "Associations actives rapportées à la population des communes avec QPV des classes comparées.",
        "0.00",
    ),
    "share_with": (
        "Part des associations",
        "%",
        "Part du domaine parmi les associations actives des communes avec QPV.",
        "0.0",
    ),
    "created_with": (
        "Créées dans l'année, communes avec QPV",
        "associations",
        "Associations créées l'année de données (date de création au RNA) dans les communes avec QPV.",
        "#,##0",
    ),
    "per_1000_comparison": (
        "Associations pour 1 000 habitants, comparaison",
        "pour 1 000 habitants",
        "Même taux dans les communes de comparaison (même classe, sans QPV, région), standardisé.",
        "0.00",
    ),
    "name": ("Association", "texte", "Titre de l'association au RNA (donnée publique).", "@"),
    "commune": ("Commune", "texte", "Commune du siège de l'association.", "@"),
    "epci": ("EPCI", "texte", "Intercommunalité signataire du contrat de ville.", "@"),
    "code_cv": (
        "Contrat de ville (2015)",
        "code",
        "Code du contrat de ville de la génération 2015 porté par l'EPCI (ANCT).",
        "@",
    ),
    "communes_with_qpv": (
        "Communes avec QPV",
        "communes",
        "Communes de l'EPCI (dans le territoire) comptant au moins un QPV.",
        "#,##0",
    ),
    "population_with_qpv": (
        "Population des communes avec QPV",
        "habitants",
        "Population légale des communes avec QPV de l'EPCI.",
        "#,##0",
    ),
    "pop_qpv_2015": (
        "Population des QPV (2015)",
        "habitants",
        "Habitants des QPV du contrat de ville, génération 2015 (ANCT) : ordre de grandeur réel, hors liste fournie.",
        "#,##0",
    ),
    "qpv_codes": (
        "Codes des QPV",
        "codes",
        "Codes des quartiers prioritaires qui touchent la commune, séparés par « ; ».",
        "@",
    ),
    "qpv_names": (
        "Noms des QPV",
        "texte",
        "Noms des quartiers prioritaires qui touchent la commune.",
        "@",
    ),
    "n_qpv_total": (
        "QPV",
        "quartiers",
        "Quartiers prioritaires qui touchent les communes de l'EPCI.",
        "0",
    ),
}


def export_docs(columns: Sequence[str], meta: Mapping[str, Any]) -> dict[str, Any]:
    """Data-dictionary entries of the chapter's export columns (and the per-measure rate
    columns ``<measure>_per_1000`` of the contracts table, documented by the indicators)."""
    from barometre.publish.exports import ColumnDoc

    docs = {c: ColumnDoc(*EXPORT_DOCS_SPEC[c]) for c in columns if c in EXPORT_DOCS_SPEC}
    return docs


def write_qpv_chapter(
    profile: QpvProfile,
    out: Path,
    slug: str,
    meta: Mapping[str, Any],
    scores: pd.DataFrame,
    departments: Sequence[str],
    zoom: bool,
    source: str,
    readme: Sequence[tuple[str, str]],
) -> dict[str, Any]:
    """Write ``tables/qpv.md``, ``figures/qpv_map.png`` and the exports
    ``exports/territoire-<slug>-qpv-{engagement,domaines,associations,contrats}.csv|xlsx``;
    return the chapter's report variables (``qpv`` block of ``_variables.yml``) with the written
    paths under ``paths``."""
    from barometre.io import atomic_write_text
    from barometre.publish.exports import export_table

    tables, figures, exports = out / "tables", out / "figures", out / "exports"
    rec = profile.reconciliation.set_index("population_class")
    total = rec.loc["Ensemble"]
    year = profile.data_year
    level = fr_percent(profile.credible * 100, 0)
    synthetic = profile.qpv.synthetic
    lines = [
        (
            f"La liste des quartiers prioritaires utilisée ({escape_markdown(profile.qpv.path.name)}"
            + (
                ", **liste synthétique de démonstration** au format officiel de l'ANCT"
                if synthetic
                else ", format officiel de l'ANCT"
            )
            + f") compte {fr_count(profile.qpv.n_qpv, 'quartier')}"
            + (
                f" ({fr_count(profile.qpv.rows_quarantined, 'ligne écartée', 'lignes écartées')} à la lecture)"
                if profile.qpv.rows_quarantined
                else ""
            )
            + f". {fr_count(profile.qpv_in_territory, 'quartier touche', 'quartiers touchent')} le territoire : "
            f"{fr_count(int(total['with_qpv']), 'commune compte', 'communes comptent')} au moins un QPV, sur "
            f"{fr_number(int(total['communes']))} communes ; elles réunissent {fr_number(int(total['population_with_qpv']))} habitants, "
            f"{fr_percent(total['share_population_with_qpv'], 0)} de la population du territoire."
        ),
        "",
        "::: {.key-figures}",
        _key(profile.qpv_in_territory, "quartier prioritaire", "quartiers prioritaires"),
        _key(int(total["with_qpv"]), "commune avec QPV", "communes avec QPV"),
        f"- **{fr_percent(total['share_population_with_qpv'], 0)}** de la population dans "
        + ("cette commune" if int(total["with_qpv"]) == 1 else "ces communes"),
        _key(
            len(profile.contracts) - 1,
            "intercommunalité signataire",
            "intercommunalités signataires",
        ),
        ":::",
        "",
        (
            "Une commune compte comme « avec QPV » si au moins un quartier la touche (un quartier "
            "intercommunal compte pour chacune de ses communes). Les chiffres de ce chapitre portent sur "
            "les communes entières : les sources situent une association ou une mission à la commune, pas "
            "au quartier."
        ),
        "",
        "## Communes avec et sans quartier prioritaire",
        "",
        dataframe_to_markdown(
            pd.DataFrame(
                {
                    "Classe": profile.reconciliation["population_class"],
                    "Communes": profile.reconciliation["communes"],
                    "Avec QPV": profile.reconciliation["with_qpv"],
                    "Sans QPV": profile.reconciliation["without_qpv"],
                    "Population des communes avec QPV": profile.reconciliation[
                        "population_with_qpv"
                    ],
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
        ).rstrip(),
        "",
        "::: {.source}",
        (
            "Toutes les communes du territoire présentes dans la table communale de l'édition, classées ou "
            "non au palmarès : avec QPV + sans QPV = ensemble."
        ),
        ":::",
        "",
        "## L'engagement dans les communes avec QPV",
        "",
    ]
    engagement = profile.engagement
    if engagement.empty:
        lines.append(
            "Aucune commune de comparaison (même classe de population, sans QPV) n'existe dans la région : la comparaison n'est pas calculée."
        )
    else:
        region = " et ".join(profile.region_names)
        compared = set(profile.compared_classes)
        national = [c for c in profile.national_classes if c in compared]
        lines += [
            (
                f"Chaque mesure est rapportée à la population. La **comparaison** réunit les communes "
                f"sans QPV de la même classe de population en {escape_markdown(region)}"
                + (
                    f" (en France pour {fr_list(c.lower() for c in national)}, faute de {qp.MIN_COMPARISON} communes comparables dans la région)"
                    if national
                    else ""
                )
                + ", chaque classe pesant autant que dans les communes avec QPV : l'écart ne tient donc pas à la "
                "taille des communes. Les taux sont les estimations du modèle de comptage du palmarès (médiane "
                f"de {fr_number(N_DRAWS)} tirages conjoints de toutes les communes), entre crochets leur intervalle "
                f"de crédibilité à {level} ; le rapport divise le taux des communes avec QPV par celui de la comparaison."
                + (
                    f" Classes laissées de côté, faute de {qp.MIN_COMPARISON} communes de comparaison : {fr_list(c.lower() for c in profile.left_out_classes)}."
                    if profile.left_out_classes
                    else ""
                )
            ),
            "",
            "::: {.small}",
            dataframe_to_markdown(
                pd.DataFrame(
                    {
                        "Mesure (pour 1 000 habitants)": engagement["label"].map(escape_markdown),
                        "Communes avec QPV": [
                            _with_interval(r.rate_with, r.lower_with, r.upper_with)
                            for r in engagement.itertuples()
                        ],
                        "Comparaison": [
                            _with_interval(
                                r.rate_comparison, r.lower_comparison, r.upper_comparison
                            )
                            for r in engagement.itertuples()
                        ],
                        "Rapport": [
                            _with_interval(r.ratio, r.ratio_lower, r.ratio_upper)
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
            ).rstrip(),
            ":::",
            "",
            engagement_sentence(profile),
            "",
        ]
        if engagement["withheld"].any():
            lines += [
                "::: {.source}",
                "« secret » : le nombre de personnes en jeu est trop faible pour être diffusé, ou se déduirait des autres chiffres publiés.",
                ":::",
                "",
            ]
        by_class = profile.class_rates
        if not by_class.empty:
            codes = [m.code for m in profile.measures]
            lines += [
                "Par classe de population, dans le territoire (taux pour 1 000 habitants) :",
                "",
                "::: {.small}",
                dataframe_to_markdown(
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
                    align={
                        c: "right" for c in ["Communes", *[_header(m) for m in profile.measures]]
                    },
                ).rstrip(),
                ":::",
                "",
            ]
    figure_qpv_map(profile, scores, departments, zoom, figures / "qpv_map.png", source)
    lines += [
        "![Communes avec quartier prioritaire, colorées selon la position de leur score Cités Vives dans leur classe de population.](figures/qpv_map.png){#fig-qpv-map width=92%}",
        "",
        "## Qui agit : les associations par domaine",
        "",
    ]
    fields = profile.fields
    if fields is None:
        lines.append(
            "Le fichier du Répertoire national des associations n'est pas disponible pour cette analyse : les domaines d'action ne sont pas calculés."
        )
    else:
        top = fields[fields["field"] != "Toutes"].head(1)
        lines += [
            (
                f"Associations en activité fin {year} dont le siège est dans une commune avec QPV, par domaine "
                "d'action (nomenclature WALDEC du Répertoire national des associations, objet social principal). "
                "Les taux pour 1 000 habitants portent sur les classes comparées, face aux communes de comparaison."
                + (
                    f" Premier domaine : {escape_markdown(top['field'].iloc[0].lower())} ({fr_percent(top['share_with'].iloc[0], 0)} des associations)."
                    if len(top)
                    else ""
                )
            ),
            "",
            "::: {.small}",
            dataframe_to_markdown(
                pd.DataFrame(
                    {
                        "Domaine d'action": fields["field"].map(escape_markdown),
                        "Associations actives": fields["active_with"],
                        "Part": fields["share_with"],
                        "Pour 1 000 hab.": fields["per_1000_with"],
                        "Comparaison, pour 1 000 hab.": fields["per_1000_comparison"],
                        f"Créées en {year}": fields["created_with"],
                    }
                ),
                formats={
                    "Associations actives": fr_number,
                    "Part": lambda v: fr_percent(v, 0),
                    "Pour 1 000 hab.": lambda v: fr_number(v, 2),
                    "Comparaison, pour 1 000 hab.": lambda v: fr_number(v, 2),
                    f"Créées en {year}": fr_number,
                },
                align={
                    c: "right"
                    for c in (
                        "Associations actives",
                        "Part",
                        "Pour 1 000 hab.",
                        "Comparaison, pour 1 000 hab.",
                        f"Créées en {year}",
                    )
                },
            ).rstrip(),
            ":::",
            "",
        ]
    creations = profile.creations
    lines += [f"## Les associations créées en {year} dans les communes avec QPV", ""]
    if creations is None:
        lines.append("Liste non disponible (fichier du RNA absent).")
    elif creations.empty:
        lines.append(
            f"Aucune association créée en {year} n'a son siège dans une commune avec QPV du territoire."
        )
    else:
        listed = creations_digest(creations, MAX_LISTED_CREATIONS)
        lines += [
            (
                f"{fr_count(len(creations), 'association créée', 'associations créées')} en {year} "
                f"{'a son' if len(creations) < 2 else 'ont leur'} siège dans une commune avec QPV (données publiques du RNA : nom, "
                "domaine, commune ; aucune personne n'est nommée)."
                + (
                    f" Le tableau en donne {fr_number(int(listed['count'].sum()))}, quelques-unes par domaine (les homonymes d'une "
                    f"commune sur une ligne) ; l'export `exports/territoire-{slug}-qpv-associations.csv` les donne toutes."
                    if int(listed["count"].sum()) < len(creations)
                    else ""
                )
            ),
            "",
            "::: {.small}",
            dataframe_to_markdown(
                pd.DataFrame(
                    {
                        "Domaine": listed["field"].map(escape_markdown),
                        "Association": listed["name"].map(escape_markdown),
                        "Commune": listed["commune"].map(escape_markdown),
                        "Nombre": listed["count"],
                    }
                ),
                formats={"Nombre": fr_number},
                align={"Nombre": "right"},
            ).rstrip(),
            ":::",
            "",
        ]
    contracts = profile.contracts
    lines += [
        "## Les contrats de ville",
        "",
        (
            "Par intercommunalité signataire d'un contrat de ville : ses quartiers, ses communes avec QPV et "
            "leur engagement (pour 1 000 habitants), à lire face à la dernière ligne, l'ensemble des communes "
            "avec QPV du territoire. La population des QPV de la génération 2015 (ANCT) donne l'ordre de "
            "grandeur réel de chaque contrat."
        ),
        "",
        "::: {.small}",
        dataframe_to_markdown(
            pd.DataFrame(
                {
                    "Intercommunalité": contracts["epci"].map(escape_markdown),
                    "QPV": contracts["n_qpv"],
                    "Communes avec QPV": contracts["communes_with_qpv"],
                    "Habitants des QPV (2015)": contracts.get(
                        "pop_qpv_2015", pd.Series(np.nan, index=contracts.index)
                    ),
                    **{
                        CONTRACT_HEADERS.get(m.code, _header(m)): [
                            _rate(v) for v in contracts[m.code]
                        ]
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
        ).rstrip(),
        ":::",
        "",
        "::: {.source}",
        (
            "Quartiers : liste fournie"
            + (
                " (synthétique, tirée par le générateur de démonstration sur des ordres de grandeur publiés : 1 362 QPV en France "
                "métropolitaine, 204 en Hauts-de-France)"
                if synthetic
                else " (ANCT, QPV 2024)"
            )
            + ". Population des QPV 2015 : ANCT, contrats de ville (Licence Ouverte). Engagement : "
            + source.split(" : ", 1)[-1]
        ),
        ":::",
    ]
    atomic_write_text(tables / "qpv.md", "\n".join(lines).rstrip() + "\n")

    written: dict[str, Path] = {}
    stem = exports / f"territoire-{slug}-qpv"
    frames = {
        "engagement": engagement,
        "domaines": fields,
        "associations": creations[["field", "name", "commune", "code_commune"]]
        if creations is not None
        else None,
        "contrats": contracts.rename(
            columns={
                "n_qpv": "n_qpv_total",
                **{m.code: f"{m.code}_per_1000" for m in profile.measures},
            }
        ),
    }
    for name, frame in frames.items():
        if frame is None:
            continue
        docs = export_docs(list(frame.columns), meta)
        files = export_table(
            frame,
            meta,
            Path(f"{stem}-{name}"),
            readme,
            sheet_name=name.capitalize(),
            extra_docs=docs,
        )
        written.update({f"qpv_{name}_{kind}": path for kind, path in files.items()})
    shown = engagement[~engagement["withheld"]] if not engagement.empty else engagement
    variables: dict[str, Any] = {
        "provided": "oui",
        "synthetic": "oui" if synthetic else "non",
        "list_qpv": fr_number(profile.qpv.n_qpv),
        "quartiers": fr_number(profile.qpv_in_territory),
        "communes": fr_number(int(total["with_qpv"])),
        "communes_without": fr_number(int(total["without_qpv"])),
        "population_share": fr_percent(total["share_population_with_qpv"], 0),
        "contracts": fr_number(len(contracts) - 1),
        "ratios": {
            r.measure: _with_interval(r.ratio, r.ratio_lower, r.ratio_upper)
            for r in shown.itertuples()
        },
        "paths": {k: str(v) for k, v in written.items()},
    }
    return variables
