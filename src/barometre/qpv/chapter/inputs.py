"""What the « Politique de la ville » chapter reads from a build: the count models' input table,
the count models refitted as the robustness step does, and the RNA's associations placed in
communes (:class:`QpvInputs`)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from barometre import catalogue, geography
from barometre.config import PROJECT_ROOT, EditionConfig
from barometre.disclosure import hidden_cells
from barometre.qpv import profile as qp
from barometre.qpv.synthetic import LIST_NAME

NOMENCLATURE = catalogue.path(PROJECT_ROOT, "reference.rna") / "waldec_nomenclature.csv"


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


def default_qpv_file(build_dir: Path) -> Path | None:
    """The demo inputs' synthetic list of a build (``raw/qpv/``), when there is one."""
    path = catalogue.path(build_dir, "raw.qpv_list", name=LIST_NAME)
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
    raw = catalogue.path(build_dir, "raw")
    return raw if raw.is_dir() else None


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

    build_dir = Path(build_dir)
    table = model_input_frame(
        catalogue.read(build_dir, "work.count_model_input"), config.classes.labels
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = fit_models(table, meta, config.shrinkage.credible)
    table = table.assign(population_class=table["population_class"].astype(str))
    raw = raw_dir or raw_dir_of(build_dir)
    associations = None
    if raw is not None and (Path(raw) / "rna").is_dir():
        associations = read_associations(Path(raw), config.cog_year)
    published = catalogue.path(build_dir, "tables.communes")
    hidden = None
    if published.exists():
        hidden = hidden_cells(pd.read_csv(published, dtype=str, keep_default_na=False))
    return QpvInputs(table, fits, associations, hidden)
