"""Exports for partners: a table as CSV and as XLSX with a data-dictionary sheet.

The CSV is for machines: UTF-8, comma separator, dot decimals, one header row of stable column
identifiers (``code_commune``, ``score``…), commune codes as text. The XLSX is for people: a data
sheet (number formats written the Excel way — ``#,##0``, ``0.0`` — which Excel displays with the
reader's locale, so ``30 101`` and ``12,5`` in French; frozen header; codes stored as text so
``01001`` keeps its zero),
a « Dictionnaire » sheet (column, French title, unit, definition) and a « Lisez-moi » sheet
(what the file is, source, edition, demo-data warning).

Small counts of people (HelloAsso participations, JeVeuxAider matches) never leave: they and
the values revealing them are replaced by « < 11 » (:mod:`barometre.disclosure`).

Definitions of the indicator columns come from the indicator metadata
(``config/indicators.yml``): the export can never describe an indicator differently from the
methodology annex. Other columns are described in :data:`COLUMN_DOCS`; a column with no
description is refused rather than exported undocumented.

Both files are byte-identical across runs: floats are rounded to :data:`CSV_DECIMALS`, the XLSX
carries fixed document dates and its zip entries a fixed time stamp.
"""

from __future__ import annotations

import datetime as _dt
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from barometre.disclosure import DEFAULT_THRESHOLD, PERSON_COUNTS, protect_table, suppressed_label
from barometre.io import atomic_write_text

CSV_DECIMALS = 6
# Zip entries of the XLSX get this time stamp (ZIP cannot store dates before 1980).
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
DOCUMENT_DATE = _dt.datetime(2000, 1, 1)


@dataclass(frozen=True)
class ColumnDoc:
    """How one exported column is described in the dictionary sheet."""

    title: str
    unit: str
    definition: str
    number_format: str = "General"


COLUMN_DOCS: dict[str, ColumnDoc] = {
    "code_commune": ColumnDoc(
        "Code commune (INSEE)",
        "code",
        "Code officiel géographique de la commune (5 caractères, texte : 01001, 2A004), millésime du COG de l'édition.",
        "@",
    ),
    "nom": ColumnDoc(
        "Nom de la commune", "texte", "Nom de la commune dans le COG de l'édition.", "@"
    ),
    "code_departement": ColumnDoc(
        "Code du département", "code", "Code INSEE du département (texte : 01, 2A, 971).", "@"
    ),
    "nom_departement": ColumnDoc("Département", "texte", "Nom du département.", "@"),
    "code_region": ColumnDoc("Code de la région", "code", "Code INSEE de la région (texte).", "@"),
    "code_epci": ColumnDoc(
        "Code de l'EPCI",
        "code",
        "SIREN de l'établissement public de coopération intercommunale à fiscalité propre dont la commune est membre (vide si aucun).",
        "@",
    ),
    "nom_epci": ColumnDoc("EPCI", "texte", "Nom de l'EPCI à fiscalité propre.", "@"),
    "population": ColumnDoc(
        "Population",
        "habitants",
        "Population municipale légale INSEE du millésime retenu par l'édition.",
        "#,##0",
    ),
    "population_class": ColumnDoc(
        "Classe de population",
        "texte",
        "Classe du palmarès : Village (moins de 5 000 habitants), Petite ville (5 000 à 19 999), Ville moyenne (20 000 à 49 999), Grande ville (50 000 à 199 999), Métropole (200 000 et plus).",
        "@",
    ),
    "score": ColumnDoc(
        "Score Cités Vives",
        "points (0 à 100)",
        "Score composite du baromètre : moyenne pondérée des critères, eux-mêmes moyennes des indicateurs normalisés.",
        "0.0",
    ),
    "rank_in_class": ColumnDoc(
        "Rang dans la classe",
        "rang",
        "Rang national de la commune parmi les communes de sa classe de population (1 = meilleur score).",
        "0",
    ),
    "class_size": ColumnDoc(
        "Communes de la classe",
        "communes",
        "Nombre de communes classées dans la classe de population, en France.",
        "#,##0",
    ),
    "rank_national": ColumnDoc(
        "Rang national",
        "rang",
        "Rang de la commune parmi toutes les communes classées, toutes classes confondues.",
        "#,##0",
    ),
    "percentile_in_class": ColumnDoc(
        "Position dans la classe",
        "centile (0 à 100)",
        "Part des communes de la classe que la commune devance, en pourcentage : 100 pour la première, 0 pour la dernière, 50 pour la médiane.",
        "0.0",
    ),
    "rank_p05": ColumnDoc(
        "Rang, borne haute (90 %)",
        "rang",
        "Meilleur rang de l'intervalle qui contient le rang de la commune dans 90 % des scénarios de l'analyse d'incertitude (5e centile).",
        "0",
    ),
    "rank_p95": ColumnDoc(
        "Rang, borne basse (90 %)",
        "rang",
        "Moins bon rang de l'intervalle qui contient le rang de la commune dans 90 % des scénarios de l'analyse d'incertitude (95e centile).",
        "0",
    ),
    "laureate": ColumnDoc(
        "Lauréate",
        "oui/non",
        "La commune figure au palmarès national de l'édition (premières de chaque classe).",
        "@",
    ),
    "has_qpv": ColumnDoc(
        "Commune avec QPV",
        "oui/non",
        "La commune compte au moins un quartier prioritaire de la politique de la ville de la liste fournie.",
        "@",
    ),
    "n_qpv": ColumnDoc(
        "Nombre de QPV",
        "quartiers",
        "Nombre de quartiers prioritaires de la liste fournie qui touchent la commune (un quartier intercommunal compte dans chacune de ses communes).",
        "0",
    ),
}


def criterion_doc(criterion: Mapping[str, Any]) -> ColumnDoc:
    return ColumnDoc(
        f"Critère : {criterion['title']}",
        "points (0 à 100)",
        " ".join(str(criterion.get("description", "")).split()) or criterion["title"],
        "0.0",
    )


def indicator_docs(meta: Mapping[str, Any]) -> dict[str, ColumnDoc]:
    """Dictionary entries of the indicator columns, from the indicator metadata.

    For each indicator ``code``: ``code`` (the count of the year, or the ratio), and
    ``code_per_1000`` (the raw rate in the indicator's unit: per 1 000 inhabitants, or per
    campaign for a ratio whose exposure is the campaigns), plus the criteria columns.
    """
    docs: dict[str, ColumnDoc] = {}
    for indicator in meta["indicators"]:
        definition = " ".join(str(indicator["definition"]).split())
        source = indicator["source"]
        code = indicator["code"]
        if "count" in indicator:
            docs[code] = ColumnDoc(
                f"{indicator['title']} (nombre)",
                indicator["unit"].split(" pour ")[0],
                f"Nombre brut, avant rapport à la population. Indicateur : {definition} Source : {source}.",
                "#,##0",
            )
        else:
            per_inhabitant = indicator.get("exposure", "population") == "population"
            docs[code] = ColumnDoc(
                f"{indicator['title']} (rapport brut)",
                indicator["unit"].split(" pour ")[0],
                (
                    "Rapport avant division par la population."
                    if per_inhabitant
                    else "Rapport, non divisé par la population."
                )
                + f" Indicateur : {definition} Source : {source}.",
                "0.00",
            )
        docs[f"{code}_per_1000"] = ColumnDoc(
            indicator["title"],
            indicator["unit"],
            f"{definition} Taux brut, avant lissage des petits nombres. Source : {source}.",
            "0.00",
        )
    for criterion in meta.get("criteria", []):
        docs[criterion["code"]] = criterion_doc(criterion)
    return docs


def data_dictionary(
    columns: Sequence[str], meta: Mapping[str, Any], extra: Mapping[str, ColumnDoc] | None = None
) -> pd.DataFrame:
    """The dictionary of ``columns`` in order: ``colonne``, ``titre``, ``unite``, ``definition``.

    Raises ``KeyError`` naming the columns that have no description.
    """
    docs = {**COLUMN_DOCS, **indicator_docs(meta), **dict(extra or {})}
    missing = [c for c in columns if c not in docs]
    if missing:
        raise KeyError(f"columns without a dictionary entry: {missing}")
    return pd.DataFrame(
        {
            "colonne": list(columns),
            "titre": [docs[c].title for c in columns],
            "unite": [docs[c].unit for c in columns],
            "definition": [docs[c].definition for c in columns],
        }
    )


def csv_values(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` as the CSV files print it: floats rounded to :data:`CSV_DECIMALS`,
    booleans written ``oui``/``non``."""
    frame = table.copy()
    for column in frame.columns:
        if pd.api.types.is_float_dtype(frame[column]):
            frame[column] = frame[column].round(CSV_DECIMALS)
        elif pd.api.types.is_bool_dtype(frame[column]):
            frame[column] = frame[column].map({True: "oui", False: "non"})
    return frame


def write_csv(table: pd.DataFrame, path: Path) -> Path:
    """UTF-8 CSV, comma-separated, dot decimals rounded to :data:`CSV_DECIMALS`, ``\\n`` line ends."""
    frame = csv_values(table)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, frame.to_csv(index=False, lineterminator="\n"))
    return path


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite an XLSX zip reproducibly: fixed entry time stamps, entries in their original
    order, and the document's « modified » date (which openpyxl sets to now when saving) fixed
    to :data:`DOCUMENT_DATE`."""
    source = zipfile.ZipFile(io.BytesIO(data))
    stamp = DOCUMENT_DATE.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + stamp.encode() + rb"\g<2>",
                    content,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIMESTAMP)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, content)
    return out.getvalue()


def write_xlsx(
    table: pd.DataFrame,
    dictionary: pd.DataFrame,
    path: Path,
    readme: Sequence[tuple[str, str]],
    sheet_name: str = "Communes",
    number_formats: Mapping[str, str] | None = None,
) -> Path:
    """XLSX with the data sheet, « Dictionnaire » and « Lisez-moi » (``readme``: label, text)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from barometre.publish import PALETTE

    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor=PALETTE["primary"].lstrip("#"))
    formats = dict(number_formats or {})
    workbook = Workbook()
    workbook.properties.creator = "barometre"
    workbook.properties.created = DOCUMENT_DATE
    workbook.properties.modified = DOCUMENT_DATE
    workbook.properties.lastModifiedBy = "barometre"

    sheet = workbook.active
    sheet.title = sheet_name
    sheet.append(list(table.columns))
    for row in table.itertuples(index=False):
        sheet.append(
            [
                None if pd.isna(v) else (("oui" if v else "non") if isinstance(v, bool) else v)
                for v in row
            ]
        )
    for j, column in enumerate(table.columns, start=1):
        cell = sheet.cell(row=1, column=j)
        cell.font, cell.fill = header_font, header_fill
        fmt = formats.get(column, "General")
        if fmt != "General":
            for (data_cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
                data_cell.number_format = fmt
        width = max([len(str(column))] + [len(str(v)) for v in table[column].head(200).tolist()])
        sheet.column_dimensions[get_column_letter(j)].width = min(max(width + 2, 8), 42)
    sheet.freeze_panes = "C2" if table.shape[1] > 2 else "A2"
    sheet.auto_filter.ref = sheet.dimensions

    glossary = workbook.create_sheet("Dictionnaire")
    glossary.append(["Colonne", "Titre", "Unité", "Définition"])
    for row in dictionary.itertuples(index=False):
        glossary.append(list(row))
    for j, width in enumerate((30, 42, 26, 100), start=1):
        glossary.column_dimensions[get_column_letter(j)].width = width
        cell = glossary.cell(row=1, column=j)
        cell.font, cell.fill = header_font, header_fill
    for (cell,) in glossary.iter_rows(min_row=2, min_col=4, max_col=4):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    glossary.freeze_panes = "A2"

    notes = workbook.create_sheet("Lisez-moi")
    for label, text in readme:
        notes.append([label, text])
    notes.column_dimensions["A"].width = 24
    notes.column_dimensions["B"].width = 110
    for label_cell, text_cell in notes.iter_rows(min_row=1, max_col=2):
        label_cell.font = Font(bold=True)
        text_cell.alignment = Alignment(wrap_text=True, vertical="top")

    buffer = io.BytesIO()
    workbook.save(buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_normalise_zip(buffer.getvalue()))
    return path


def protect_export(
    table: pd.DataFrame, meta: Mapping[str, Any], threshold: int = DEFAULT_THRESHOLD
) -> pd.DataFrame:
    """The table as it may leave the project (:mod:`barometre.disclosure`).

    Floats are rounded to :data:`CSV_DECIMALS` and booleans written ``oui``/``non``; small
    person counts and the raw rates derived from them become ``"< 11"``
    (:func:`~barometre.disclosure.protect_table`, with secondary suppression since partners can
    sum the column). A ratio indicator whose numerator is a suppressed person count (participants
    per campaign) is suppressed with it, and so is its rate: multiplied by the published number
    of campaigns it would give the count back.
    """
    frame = csv_values(table)
    protected = protect_table(frame, threshold=threshold, totals_published=True)
    label = suppressed_label(threshold)
    for indicator in meta["indicators"]:
        numerator = indicator.get("numerator")
        if numerator in PERSON_COUNTS and numerator in protected.columns:
            hidden = protected[numerator] == label
            for column in (indicator["code"], f"{indicator['code']}_per_1000"):
                if column in protected.columns:
                    protected.loc[hidden, column] = label
    return protected


def export_table(
    table: pd.DataFrame,
    meta: Mapping[str, Any],
    stem: Path,
    readme: Sequence[tuple[str, str]],
    sheet_name: str = "Communes",
    extra_docs: Mapping[str, ColumnDoc] | None = None,
) -> dict[str, Path]:
    """Write ``stem.csv`` and ``stem.xlsx`` (data, dictionary, read-me) and return their paths.

    Every column must be documented (:data:`COLUMN_DOCS`, the indicator metadata or
    ``extra_docs``); the XLSX number formats come from the same descriptions. Values pass
    through :func:`protect_export` first: no small person count leaves in an export.
    """
    dictionary = data_dictionary(list(table.columns), meta, extra_docs)
    table = protect_export(table, meta)
    docs = {**COLUMN_DOCS, **indicator_docs(meta), **dict(extra_docs or {})}
    formats = {c: docs[c].number_format for c in table.columns}
    stem = Path(stem)
    return {
        "csv": write_csv(table, stem.with_suffix(".csv")),
        "xlsx": write_xlsx(
            table, dictionary, stem.with_suffix(".xlsx"), readme, sheet_name, formats
        ),
    }
