#!/usr/bin/env python3
"""Vendor the two small public tables the politique-de-la-ville lens needs into ``data/reference``.

* ``data/reference/rna/waldec_nomenclature.csv``: the RNA's WALDEC « objet social » nomenclature
  (297 codes, their parent field), from the table Orléans Métropole publishes on data.gouv.fr
  (Licence Ouverte), as kept in ``../shared/data/rna/waldec_nomenclature/``. Two parents have no
  label in that table (``033000``, ``037000``): they take the label of the parent whose codes
  they hold (``032000`` Logement, ``036000`` Sécurité, protection civile).
* ``data/reference/qpv/contrats_de_ville.csv``: the 434 contrats de ville of the 2015 generation
  with the population living in their QPV (ANCT, ``anct-carto/ci-ville``,
  ``src/assets/geom_cv_ctr.json``, Licence Ouverte 2.0), plus the EPCI of the edition's COG that
  carries each contract today: the EPCI of the commune nearest to the contract's centroid (EPCI
  mergers since 2015 changed many SIRENs).

Both folders get a ``PROVENANCE.md`` (source, licence, checksums). The project builds from these
files alone; this script is only needed to regenerate them, and needs ``../shared``.

Usage::

    python scripts/build_qpv_reference.py [--shared ../shared] [--cog 2022 2023 2024 2025 2026]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
NOMENCLATURE = Path(
    "data/rna/waldec_nomenclature/rna-associations-nomenclature-waldec@orleansmetropole.csv"
)
CONTRACTS = Path("data/qpv/anct_ci_ville_contrats_de_ville/geom_cv_ctr.json")
UNLABELLED_PARENTS = {"033000": "032000", "037000": "036000"}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def build_nomenclature(shared: Path, out: Path) -> int:
    source = shared / NOMENCLATURE
    with source.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))[1:]
    parents = {r[0]: r[1].strip() for r in rows if r[1].strip()}
    for unlabelled, donor in UNLABELLED_PARENTS.items():
        parents.setdefault(unlabelled, parents[donor])
    table = sorted(
        {(r[2], " ".join(r[3].split()), r[0], " ".join(parents[r[0]].split())) for r in rows}
    )
    _write_csv(
        out / "waldec_nomenclature.csv",
        ["code", "label", "parent_code", "parent_label"],
        [list(t) for t in table],
    )
    (out / "PROVENANCE.md").write_text(
        "# WALDEC « objet social » nomenclature\n\n"
        "`waldec_nomenclature.csv`: one row per WALDEC code of the RNA's `objet_social1/2` columns "
        "(`code`, `label`, `parent_code`, `parent_label`), "
        f"{len(table)} codes.\n\n"
        "- Source: « Répertoire national des associations — nomenclature WALDEC », published on "
        "data.gouv.fr by Orléans Métropole (file "
        "`rna-associations-nomenclature-waldec@orleansmetropole.csv`, as copied in the public "
        "repository MelodyDuplaix/application_associations, commit "
        "f4c8087e6db916ccf59811ddd631f41fd6b95bab).\n"
        "- Licence: Licence Ouverte / Open Licence (Etalab).\n"
        f"- Source SHA-256: `{_sha256(source)}`.\n"
        "- Derivation (`scripts/build_qpv_reference.py`): whitespace normalised; parents `033000` "
        "and `037000`, unlabelled in the source, take the label of `032000` (logement) and "
        "`036000` (sécurité, protection civile), whose codes they hold.\n"
        f"- Table SHA-256: `{_sha256(out / 'waldec_nomenclature.csv')}`.\n",
        encoding="utf-8",
    )
    return len(table)


def _nearest_epci(lon: float, lat: float, points: list[tuple[float, float, str]]) -> str:
    import math

    scale = math.cos(math.radians(lat))
    return min(points, key=lambda p: ((p[0] - lon) * scale) ** 2 + (p[1] - lat) ** 2)[2]


def build_contracts(shared: Path, out: Path, cogs: list[int]) -> int:
    source = shared / CONTRACTS
    features = json.loads(source.read_text(encoding="utf-8"))["features"]
    with gzip.open(
        REPO_ROOT / "data" / "reference" / "geo" / "communes_points.csv.gz", "rt", encoding="utf-8"
    ) as handle:
        located = [
            (float(r["lon"]), float(r["lat"]), r["code_commune"]) for r in csv.DictReader(handle)
        ]
    points_by_cog = {}
    for cog in cogs:
        with gzip.open(
            REPO_ROOT / "data" / "reference" / f"cog{cog}" / "communes.csv.gz",
            "rt",
            encoding="utf-8",
        ) as handle:
            epci_of = {r["code_commune"]: r["code_epci"] for r in csv.DictReader(handle)}
        points_by_cog[cog] = [
            (lon, lat, epci_of[code]) for lon, lat, code in located if epci_of.get(code)
        ]
    rows = []
    for feature in features:
        p = feature["properties"]
        lon, lat = feature["geometry"]["coordinates"]
        rows.append(
            [
                p["code_cv"],
                " ".join(str(p["lib_cv"]).split()),
                p["insee_dep"],
                p["codgeo"],
                round(float(p["pop"])),
                round(lon, 5),
                round(lat, 5),
                *(_nearest_epci(lon, lat, points_by_cog[cog]) for cog in cogs),
            ]
        )
    rows.sort()
    _write_csv(
        out / "contrats_de_ville.csv",
        [
            "code_cv",
            "lib_cv",
            "insee_dep",
            "siren_epci_2015",
            "pop_qpv_2015",
            "lon",
            "lat",
            *(f"code_epci_cog{cog}" for cog in cogs),
        ],
        rows,
    )
    cog = "/".join(str(c) for c in cogs)
    (out / "PROVENANCE.md").write_text(
        "# Contrats de ville (2015 generation) and the population of their QPV\n\n"
        f"`contrats_de_ville.csv`: {len(rows)} contrats de ville, one row each: `code_cv` (CV001…), "
        "`lib_cv`, `insee_dep`, `siren_epci_2015` (SIREN of the EPCI that signed it), "
        "`pop_qpv_2015` (inhabitants of the contract's QPV, 2015 generation), `lon`/`lat` (centroid, "
        f"WGS84), `code_epci_cogYYYY` (derived: the EPCI, in COG {cog}, of the commune nearest to "
        "the centroid — EPCI mergers since 2015 changed many SIRENs).\n\n"
        "- Source: ANCT, public repository anct-carto/ci-ville, `src/assets/geom_cv_ctr.json` "
        "(commit be4d5b220e15a040470a7a7624115f67178d712d, « ajout geom population qpv », "
        "2022-06-20).\n"
        "- Licence: Licence Ouverte 2.0 (Etalab); the licence text is in the source repository.\n"
        f"- Source SHA-256: `{_sha256(source)}`.\n"
        "- Use: real EPCI-level QPV populations, to calibrate the synthetic QPV list of the demo and "
        "to name contrats de ville (`barometre territory contrat:CV192`). Not per commune, not "
        "per QPV; the 2024 generation of contracts (« Engagements Quartiers 2030 ») is not in it.\n"
        f"- Table SHA-256: `{_sha256(out / 'contrats_de_ville.csv')}`.\n",
        encoding="utf-8",
    )
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO_ROOT.parent / "shared")
    parser.add_argument("--cog", type=int, nargs="+", default=[2022, 2023, 2024, 2025, 2026])
    args = parser.parse_args()
    reference = REPO_ROOT / "data" / "reference"
    print("nomenclature codes:", build_nomenclature(args.shared, reference / "rna"))
    print("contrats de ville:", build_contracts(args.shared, reference / "qpv", args.cog))


if __name__ == "__main__":
    main()
