#!/usr/bin/env python3
"""Build the reference geography tables of ``data/reference/cog<YEAR>/`` from the npm registry.

Source: the npm package ``@etalab/decoupage-administratif`` (Etalab / DINUM; data under the
Licence Ouverte / Open Licence, code under MIT), one package version per COG vintage. Each
version's tarball is fetched with ``npm pack`` into a temporary folder, its JSON files are read
straight from the tarball, and compact derived tables are written:

* ``communes.csv[.gz]``  one row per current commune ("commune-actuelle") of metropolitan France
  and the five overseas departments (DROM); the overseas collectivities (COM: 975, 977, 978,
  984, 986-989) are left out, as in INSEE's COG commune list;
* ``commune_links.csv``  communes déléguées / associées, Paris-Lyon-Marseille arrondissements
  municipaux and former codes ("ancienne-commune", from the package's ``anciensCodes``), each
  with the current commune it belongs to;
* ``departements.csv``, ``regions.csv``, ``epci.csv``;
* ``provenance.json`` (machine-readable) and ``PROVENANCE.md`` (the same, for people).

The legal-population millésime a version carries is not stated in its data; it is identified by
comparing three communes (Paris, Grenoble, Lasalle) with figures known per millésime (see
``KNOWN_LEGAL_POPULATIONS``); an unknown combination stops the build rather than guess.

Reruns are byte-identical: tables are sorted, CSVs use ``\\n`` line ends, gzip headers carry no
time stamp or file name, and the retrieval date of a tarball is kept from the existing
provenance while its SHA-256 is unchanged.

Usage::

    python scripts/build_reference.py                      # the default vintages
    python scripts/build_reference.py --versions 2.3.1 4.1.0
"""

from __future__ import annotations

import argparse
import base64
import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGE = "@etalab/decoupage-administratif"
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "data" / "reference"

# COG vintage of each package version, as given by the table "Millésimes et versions de
# package" of the package README (6.0.0's README lists 2.3.1 … 6.0.0).
COG_YEAR_OF_VERSION: dict[str, int] = {
    "2.3.1": 2022,
    "3.1.1": 2023,
    "4.1.0": 2024,
    "5.3.0": 2025,
    "6.0.0": 2026,
}
DEFAULT_VERSIONS: tuple[str, ...] = tuple(COG_YEAR_OF_VERSION)

# INSEE "population municipale" of three communes per legal-population millésime (reference
# date 1 January of that year, published at the end of year + 2, in force on 1 January of
# year + 3). How they were established (see PROVENANCE.md of each vintage):
# - each package version was read for 75056 Paris, 38185 Grenoble, 30140 Lasalle; the figures
#   change exactly where the README's "Population légale" link moves to a newer INSEE
#   publication (6683035 = Dec. 2022 release of millésime 2020; 8290591 = Dec. 2024 release of
#   millésime 2022; 8680726 = Dec. 2025 release of millésime 2023);
# - independent quotes: Grenoble "population municipale 158 198 hab. (2019)" and
#   "158 240 hab. (2020)" (French Wikipedia infobox, two snapshots); Paris "2 113 705 habitants
#   au 1er janvier 2022" (press summary of INSEE); Grenoble "156 140 habitants en 2023" (press
#   summary of INSEE's December 2025 release).
# Millésime 2021 (package 4.0.0) is listed to recognise it; it is not shipped by default.
KNOWN_LEGAL_POPULATIONS: dict[int, dict[str, int]] = {
    2019: {"75056": 2_165_423, "38185": 158_198, "30140": 1_106},
    2020: {"75056": 2_145_906, "38185": 158_240, "30140": 1_093},
    2021: {"75056": 2_133_111, "38185": 157_477, "30140": 1_129},
    2022: {"75056": 2_113_705, "38185": 156_389, "30140": 1_166},
    2023: {"75056": 2_103_778, "38185": 156_140, "30140": 1_202},
}
CHECK_NAMES = {"75056": "Paris", "38185": "Grenoble", "30140": "Lasalle (Gard)"}

SOURCE_FILES = ("communes.json", "departements.json", "regions.json", "epci.json")
KEPT_ZONES = ("metro", "drom")
LINK_TYPES = ("commune-deleguee", "commune-associee", "arrondissement-municipal")
LICENCE = "Licence Ouverte / Open Licence (Etalab) for the data; MIT for the package code"
LICENCE_URL = "https://www.etalab.gouv.fr/licence-ouverte-open-licence"
# Tables above this size are gzipped, to keep the committed reference data small.
GZIP_THRESHOLD_BYTES = 1_500_000
MAX_FILE_BYTES = 8_000_000

COMMUNE_COLUMNS = (
    "code_commune",
    "nom",
    "population",
    "code_departement",
    "code_region",
    "code_epci",
    "codes_postaux",
)
LINK_COLUMNS = ("code", "type", "nom", "code_commune_parent")
DEPARTEMENT_COLUMNS = ("code_departement", "nom", "code_region", "chef_lieu", "zone")
REGION_COLUMNS = ("code_region", "nom", "chef_lieu", "zone")
EPCI_COLUMNS = ("code_epci", "nom", "type", "mode_financement", "n_communes")


class BuildError(RuntimeError):
    """The source does not have the shape or content this build relies on."""


@dataclass(frozen=True)
class Tarball:
    """One fetched package version: its bytes and the registry's own metadata."""

    version: str
    content: bytes
    npm_integrity: str
    npm_shasum: str
    filename: str


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch_tarball(version: str, cache_dir: Path | None) -> Tarball:
    """Fetch ``PACKAGE@version`` with ``npm pack`` (or reuse it from ``cache_dir``)."""
    with tempfile.TemporaryDirectory(prefix="decoupage-") as tmp:
        tmp_path = Path(tmp)
        cached = None
        if cache_dir is not None:
            cached = next(
                iter(sorted(cache_dir.glob(f"*decoupage-administratif-{version}.tgz"))), None
            )
        # npm pack --json gives the registry's integrity even for a cached tarball
        # (--dry-run does not download the file again when it is in npm's cache).
        cmd = ["npm", "pack", f"{PACKAGE}@{version}", "--json", "--pack-destination", tmp]
        if cached is not None:
            cmd.append("--dry-run")
        result = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise BuildError(f"npm pack {PACKAGE}@{version} failed:\n{result.stderr}")
        meta = json.loads(result.stdout)[0]
        if meta["version"] != version:
            raise BuildError(f"npm returned version {meta['version']} for {version}")
        path = cached if cached is not None else tmp_path / meta["filename"]
        content = path.read_bytes()
        if cache_dir is not None and cached is None:
            cache_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, cache_dir / meta["filename"])
    expected = meta["integrity"]
    algo, _, digest = expected.partition("-")
    actual = base64.b64encode(hashlib.new(algo, content).digest()).decode()
    if actual != digest:
        raise BuildError(
            f"integrity mismatch for {PACKAGE}@{version}: {expected} != {algo}-{actual}"
        )
    return Tarball(version, content, expected, meta["shasum"], meta["filename"])


def read_package_files(tarball: Tarball) -> dict[str, bytes]:
    """Raw bytes of package.json, README.md and the data files used, read from the tarball."""
    wanted = {f"package/data/{name}": name for name in SOURCE_FILES}
    wanted |= {"package/package.json": "package.json", "package/README.md": "README.md"}
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball.content), mode="r:gz") as archive:
        for member in archive.getmembers():
            if member.name in wanted:
                handle = archive.extractfile(member)
                if handle is None:
                    raise BuildError(f"{member.name} is not a regular file")
                out[wanted[member.name]] = handle.read()
    missing = sorted(set(wanted.values()) - set(out))
    if missing:
        raise BuildError(f"{PACKAGE}@{tarball.version} lacks {missing}")
    package_json = json.loads(out["package.json"])
    if package_json.get("version") != tarball.version:
        raise BuildError(
            f"package.json says {package_json.get('version')}, expected {tarball.version}"
        )
    return out


def identify_population_year(communes: dict[str, dict[str, Any]]) -> int:
    """The legal-population millésime whose check figures all match the package's communes."""
    observed = {code: communes[code].get("population") for code in CHECK_NAMES}
    for year, figures in KNOWN_LEGAL_POPULATIONS.items():
        if observed == figures:
            return year
    raise BuildError(
        f"unknown population millésime: {observed}; verify the figures against INSEE and add "
        "them to KNOWN_LEGAL_POPULATIONS"
    )


def readme_population_url(readme: str) -> str | None:
    """The INSEE page the package README cites for its legal populations."""
    match = re.search(r"\[Population légale\]\((https://www\.insee\.fr/[^)\s]+)\)", readme)
    return match.group(1) if match else None


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise BuildError(message)


def derive_tables(
    files: dict[str, bytes],
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """The derived tables (rows as dicts, sorted) and facts about them for the provenance."""
    raw_communes: list[dict[str, Any]] = json.loads(files["communes.json"])
    raw_departements: list[dict[str, Any]] = json.loads(files["departements.json"])
    raw_regions: list[dict[str, Any]] = json.loads(files["regions.json"])
    raw_epci: list[dict[str, Any]] = json.loads(files["epci.json"])

    type_counts = Counter(c["type"] for c in raw_communes)
    actuelles_all = [c for c in raw_communes if c["type"] == "commune-actuelle"]
    kept = {c["code"]: c for c in actuelles_all if c.get("zone") in KEPT_ZONES}
    _require(
        len(kept) == sum(c.get("zone") in KEPT_ZONES for c in actuelles_all),
        "duplicate commune codes",
    )
    excluded_com = len(actuelles_all) - len(kept)

    # EPCI membership: each commune belongs to at most one EPCI à fiscalité propre.
    epci_of: dict[str, str] = {}
    epci_rows = []
    for epci in raw_epci:
        members = [m["code"] for m in epci["membres"]]
        for code in members:
            _require(code not in epci_of, f"commune {code} in two EPCI")
            _require(code in kept, f"EPCI {epci['code']} lists {code}, not a current commune")
            epci_of[code] = epci["code"]
        epci_rows.append(
            {
                "code_epci": epci["code"],
                "nom": epci["nom"],
                "type": epci["type"],
                "mode_financement": epci.get("modeFinancement", ""),
                "n_communes": len(members),
            }
        )

    commune_rows = []
    for code in sorted(kept):
        c = kept[code]
        _require(len(code) == 5, f"commune code {code!r} is not 5 characters")
        population = c.get("population")
        _require(
            isinstance(population, int) and population >= 0, f"commune {code} has no population"
        )
        postcodes = sorted(set(c.get("codesPostaux", [])))
        _require(bool(postcodes), f"commune {code} has no postcode")
        commune_rows.append(
            {
                "code_commune": code,
                "nom": c["nom"],
                "population": population,
                "code_departement": c["departement"],
                "code_region": c["region"],
                "code_epci": epci_of.get(code, ""),
                "codes_postaux": "|".join(postcodes),
            }
        )

    # Links to the current commune. Explicit rows (délégué, associée, arrondissement) take
    # precedence over ``anciensCodes``: in a few cases a code was reused, and the explicit
    # row describes the code as it exists in this vintage.
    links: dict[tuple[str, str], dict[str, str]] = {}
    parent_of: dict[str, str] = {}
    for c in raw_communes:
        if c["type"] not in LINK_TYPES or c.get("zone") not in KEPT_ZONES:
            continue
        parent = c["commune"] if c["type"] == "arrondissement-municipal" else c["chefLieu"]
        _require(
            parent in kept, f"{c['type']} {c['code']} points to {parent}, not a current commune"
        )
        _require(parent_of.get(c["code"], parent) == parent, f"code {c['code']} has two parents")
        _require((c["code"], c["type"]) not in links, f"duplicate link {c['code']} {c['type']}")
        parent_of[c["code"]] = parent
        links[(c["code"], c["type"])] = {
            "code": c["code"],
            "type": c["type"],
            "nom": c["nom"],
            "code_commune_parent": parent,
        }
    former_conflicts = []
    former_parent: dict[str, str] = {}
    for code in sorted(kept):
        for former in kept[code].get("anciensCodes", []):
            _require(former not in kept, f"former code {former} of {code} is a current commune")
            _require(
                former_parent.get(former, code) == code, f"former code {former} has two parents"
            )
            former_parent[former] = code
            if former in parent_of:
                if parent_of[former] != code:
                    former_conflicts.append(
                        {
                            "code": former,
                            "explicit_parent": parent_of[former],
                            "anciens_codes_of": code,
                        }
                    )
                continue
            links[(former, "ancienne-commune")] = {
                "code": former,
                "type": "ancienne-commune",
                "nom": "",
                "code_commune_parent": code,
            }
    link_rows = [links[key] for key in sorted(links)]

    departement_rows = [
        {
            "code_departement": d["code"],
            "nom": d["nom"],
            "code_region": d["region"],
            "chef_lieu": d["chefLieu"],
            "zone": d["zone"],
        }
        for d in sorted(raw_departements, key=lambda d: d["code"])
        if d.get("zone") in KEPT_ZONES
    ]
    region_rows = [
        {"code_region": r["code"], "nom": r["nom"], "chef_lieu": r["chefLieu"], "zone": r["zone"]}
        for r in sorted(raw_regions, key=lambda r: r["code"])
        if r.get("zone") in KEPT_ZONES
    ]
    dep_codes = {d["code_departement"] for d in departement_rows}
    reg_codes = {r["code_region"] for r in region_rows}
    _require(
        {c["code_departement"] for c in commune_rows} == dep_codes,
        "departments and communes disagree",
    )
    _require({c["code_region"] for c in commune_rows} == reg_codes, "regions and communes disagree")
    _require(
        {d["code_region"] for d in departement_rows} <= reg_codes,
        "a department has an unknown region",
    )
    epci_rows.sort(key=lambda e: e["code_epci"])

    tables = {
        "communes": commune_rows,
        "commune_links": link_rows,
        "departements": departement_rows,
        "regions": region_rows,
        "epci": epci_rows,
    }
    facts = {
        "source_type_counts": dict(sorted(type_counts.items())),
        "excluded_com_communes": excluded_com,
        "communes_without_epci": sorted(
            c["code_commune"] for c in commune_rows if not c["code_epci"]
        ),
        "link_type_counts": dict(sorted(Counter(r["type"] for r in link_rows).items())),
        "former_code_conflicts": former_conflicts,
        "population_total": sum(c["population"] for c in commune_rows),
    }
    return tables, facts


def native_version_of(population_year: int) -> str | None:
    """The package version whose COG is the geography INSEE published this millésime in.

    INSEE publishes the legal populations of millésime P at the end of P + 2, in the
    geography of 1 January P + 2 (COG P + 2).
    """
    for version, cog_year in COG_YEAR_OF_VERSION.items():
        if cog_year == population_year + 2:
            return version
    return None


def reaggregate_populations(
    tables: dict[str, list[dict[str, Any]]], native_communes: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Give each commune nouvelle of ``tables`` the sum of the populations of its constituents.

    Used when a package version carries populations published in an older geography: for the
    communes merged since, the package keeps the population of the seat only (e.g. 3.1.1 gives
    Culoz-Béon 2 987 inhabitants, Culoz alone, where Culoz + Béon = 3 426). The population
    municipale is additive, so summing the constituents of the publication's geography gives
    the population of the merged commune. Only communes with two or more constituents are
    changed; the corrections are returned for the provenance. A commune with no constituent
    (created by a split) would make the neighbouring sums unreliable: the build stops then.
    """
    current = {c["code_commune"]: c for c in tables["communes"]}
    parent = {code: code for code in current}
    explicit = [r for r in tables["commune_links"] if r["type"] != "ancienne-commune"]
    former = [r for r in tables["commune_links"] if r["type"] == "ancienne-commune"]
    for row in [*explicit, *former]:
        parent.setdefault(row["code"], row["code_commune_parent"])
    constituents: dict[str, list[dict[str, Any]]] = {}
    for old in native_communes:
        target = parent.get(old["code_commune"])
        _require(target is not None, f"native commune {old['code_commune']} has no current commune")
        constituents.setdefault(target, []).append(old)
    orphans = sorted(set(current) - set(constituents))
    _require(not orphans, f"communes without a constituent in the native geography: {orphans}")
    corrections = []
    for code, parts in sorted(constituents.items()):
        total = sum(p["population"] for p in parts)
        if len(parts) >= 2 and total != current[code]["population"]:
            corrections.append(
                {
                    "code_commune": code,
                    "nom": current[code]["nom"],
                    "package_population": current[code]["population"],
                    "population": total,
                    "constituents": [p["code_commune"] for p in parts],
                }
            )
            current[code]["population"] = total
    return corrections


def csv_bytes(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=list(columns), lineterminator="\n", extrasaction="raise"
    )
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def gzip_bytes(data: bytes) -> bytes:
    """Deterministic gzip: no file name and a zero time stamp in the header."""
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=9, mtime=0) as handle:
        handle.write(data)
    return out.getvalue()


def previous_retrieval_date(vintage_dir: Path, tarball_sha256: str) -> str | None:
    path = vintage_dir / "provenance.json"
    if not path.exists():
        return None
    previous = json.loads(path.read_text(encoding="utf-8"))
    if previous.get("source", {}).get("tarball_sha256") == tarball_sha256:
        return previous.get("source", {}).get("retrieved_on")
    return None


def population_geography_md(geo: dict[str, Any]) -> list[str]:
    if not geo["corrections"] and "tarball_sha256" not in geo:
        return [
            f"- These populations were published by INSEE in this COG's geography (COG {geo['cog_year']})."
        ]
    lines = [
        (
            f"- These populations were published in the geography of COG {geo['cog_year']} (package "
            f"`{geo['package_version']}`, tarball SHA-256 `{geo['tarball_sha256']}`). For communes merged "
            "since, the package keeps the population of the seat only; the build sums the constituents "
            f"(population municipale is additive). Corrections: {len(geo['corrections'])}."
        ),
    ]
    for c in geo["corrections"]:
        lines.append(
            f"  - {c['nom']} ({c['code_commune']}): {c['package_population']} in the package → "
            f"{c['population']} = sum of {', '.join(c['constituents'])}"
        )
    return lines


def render_provenance_md(prov: dict[str, Any]) -> str:
    src = prov["source"]
    pop = prov["population"]
    lines = [
        f"# Reference geography, COG {prov['cog_year']}",
        "",
        (
            "Derived by `scripts/build_reference.py` from the npm registry package "
            f"`{src['package']}@{src['version']}` (do not edit by hand: rerun the script)."
        ),
        "",
        "## Source",
        "",
        f"- Package: `{src['package']}@{src['version']}`, tarball `{src['tarball']}`",
        f"  ({src['tarball_url']}).",
        f"- Tarball SHA-256: `{src['tarball_sha256']}`; npm integrity `{src['npm_integrity']}`.",
        f"- Retrieved on: {src['retrieved_on']}.",
        f"- Licence: {src['licence']} ({src['licence_url']}).",
        f"- Upstream: {src['upstream']}.",
        "",
        "| source file (in the tarball) | bytes | SHA-256 |",
        "|---|---:|---|",
    ]
    for name, info in src["files"].items():
        lines.append(f"| `package/data/{name}` | {info['bytes']} | `{info['sha256']}` |")
    lines += [
        "",
        "## Populations",
        "",
        (
            f"- INSEE legal populations, **population municipale, millésime {pop['year']}** "
            f"(reference date 1 January {pop['year']}, census surveys {pop['year'] - 2}–{pop['year'] + 2}, "
            f"published at the end of {pop['year'] + 2}, in force on 1 January {pop['in_force']})."
        ),
        f"- Page cited by the package README: {pop['source_url']}.",
        (
            "- Identified by these figures in the package (matched against "
            "`KNOWN_LEGAL_POPULATIONS` of the build script):"
        ),
        "",
    ]
    for code, info in pop["check"].items():
        lines.append(f"  - {info['nom']} ({code}): {info['population']:,}".replace(",", " "))
    lines += [
        "",
        f"- {pop['verification']}",
        *population_geography_md(pop["geography"]),
        f"- Caveat: {pop['caveats']}",
        "",
        "## Tables",
        "",
        "| file | rows | bytes | SHA-256 |",
        "|---|---:|---:|---|",
    ]
    for name, info in prov["tables"].items():
        lines.append(
            f"| `{info['file']}` | {info['rows']} | {info['bytes']} | `{info['sha256']}` |"
        )
    facts = prov["facts"]
    lines += [
        "",
        "## Scope and conventions",
        "",
        (
            f'- `communes`: the {prov["tables"]["communes"]["rows"]} current communes ("commune-actuelle") '
            "of metropolitan France and the DROM (971, 972, 973, 974, 976); "
            f"{facts['excluded_com_communes']} communes of the overseas collectivities (COM) are left out, "
            "as in INSEE's COG commune list. Codes are 5-character strings (`2A004`, `97101`)."
        ),
        f"- Total population of the table: {facts['population_total']:,}.".replace(",", " "),
        "- `codes_postaux`: La Poste postcodes of the commune, sorted, joined by `|`.",
        (
            "- `code_epci`: SIREN of the EPCI à fiscalité propre (DGCL list); empty for the "
            f"{len(facts['communes_without_epci'])} communes outside any EPCI "
            f"({', '.join(facts['communes_without_epci'])})."
        ),
        "- `commune_links`: "
        + ", ".join(f"{k} {v}" for k, v in facts["link_type_counts"].items())
        + ". `ancienne-commune` rows come from the package's `anciensCodes` (no name). A code can "
        "equal its parent's (the commune déléguée that holds the seat of a commune nouvelle).",
        (
            f"- Former codes also present as an explicit link to another commune (explicit link kept): "
            f"{', '.join(c['code'] for c in facts['former_code_conflicts']) or 'none'}."
        ),
        "- No commune centre coordinates are published by this package version: none are shipped.",
        "",
    ]
    return "\n".join(lines)


def build_version(
    version: str, out_dir: Path, cache_dir: Path | None, retrieved_on: str | None
) -> dict[str, Any]:
    """Fetch one package version and write its vintage folder; return its provenance."""
    if version not in COG_YEAR_OF_VERSION:
        raise BuildError(f"no COG year known for version {version}; add it to COG_YEAR_OF_VERSION")
    cog_year = COG_YEAR_OF_VERSION[version]
    tarball = fetch_tarball(version, cache_dir)
    files = read_package_files(tarball)
    tables, facts = derive_tables(files)
    communes_by_code = {c["code_commune"]: c for c in tables["communes"]}
    population_year = identify_population_year(communes_by_code)

    # Populations published in an older geography than the package's COG: re-aggregate the
    # communes nouvelles from the publication's geography (see reaggregate_populations).
    native = native_version_of(population_year)
    population_geography: dict[str, Any] = {
        "cog_year": population_year + 2,
        "package_version": native,
    }
    if native is None:
        raise BuildError(
            f"no package version known for COG {population_year + 2}, the geography of "
            f"the {population_year} populations"
        )
    if native != version:
        native_tarball = fetch_tarball(native, cache_dir)
        native_files = read_package_files(native_tarball)
        native_tables, _ = derive_tables(native_files)
        _require(
            identify_population_year({c["code_commune"]: c for c in native_tables["communes"]})
            == population_year,
            f"{native} does not carry the {population_year} populations",
        )
        corrections = reaggregate_populations(tables, native_tables["communes"])
        population_geography |= {
            "tarball_sha256": sha256_hex(native_tarball.content),
            "communes_json_sha256": sha256_hex(native_files["communes.json"]),
            "corrections": corrections,
        }
        facts["population_total"] = sum(c["population"] for c in tables["communes"])
    else:
        population_geography["corrections"] = []

    vintage_dir = out_dir / f"cog{cog_year}"
    tarball_sha = sha256_hex(tarball.content)
    retrieved = (
        retrieved_on
        or previous_retrieval_date(vintage_dir, tarball_sha)
        or dt.date.today().isoformat()
    )

    columns = {
        "communes": COMMUNE_COLUMNS,
        "commune_links": LINK_COLUMNS,
        "departements": DEPARTEMENT_COLUMNS,
        "regions": REGION_COLUMNS,
        "epci": EPCI_COLUMNS,
    }
    outputs: dict[str, tuple[str, bytes]] = {}
    table_info: dict[str, dict[str, Any]] = {}
    for name, rows in tables.items():
        data = csv_bytes(rows, columns[name])
        filename = f"{name}.csv"
        if len(data) > GZIP_THRESHOLD_BYTES:
            data, filename = gzip_bytes(data), f"{name}.csv.gz"
        _require(len(data) <= MAX_FILE_BYTES, f"{filename} is {len(data)} bytes")
        outputs[name] = (filename, data)
        table_info[name] = {
            "file": filename,
            "rows": len(rows),
            "bytes": len(data),
            "sha256": sha256_hex(data),
            "columns": list(columns[name]),
            "key": [columns[name][0]] if name != "commune_links" else ["code", "type"],
        }

    readme = files["README.md"].decode("utf-8")
    provenance = {
        "cog_year": cog_year,
        "source": {
            "package": PACKAGE,
            "version": version,
            "tarball": tarball.filename,
            "tarball_url": f"https://registry.npmjs.org/{PACKAGE}/-/decoupage-administratif-{version}.tgz",
            "tarball_sha256": tarball_sha,
            "npm_integrity": tarball.npm_integrity,
            "npm_shasum": tarball.npm_shasum,
            "retrieved_on": retrieved,
            "retrieved_with": "npm pack",
            "licence": LICENCE,
            "licence_url": LICENCE_URL,
            "upstream": "https://github.com/datagouv/decoupage-administratif (INSEE COG, INSEE legal "
            "populations, DGCL EPCI list, La Poste postcodes)",
            "files": {
                name: {"sha256": sha256_hex(files[name]), "bytes": len(files[name])}
                for name in SOURCE_FILES
            },
        },
        "population": {
            "year": population_year,
            "in_force": population_year + 3,
            "kind": "population municipale",
            "source_url": readme_population_url(readme),
            "check": {
                code: {"nom": CHECK_NAMES[code], "population": communes_by_code[code]["population"]}
                for code in CHECK_NAMES
            },
            "verification": (
                "Millésime identified by matching Paris, Grenoble and Lasalle with "
                "KNOWN_LEGAL_POPULATIONS (build script), whose figures change between package versions "
                "exactly where the README's INSEE link moves to a newer release, and agree with "
                "independent quotes (Grenoble 158 198 in 2019 and 158 240 in 2020, Paris 2 113 705 on "
                "1 January 2022, Grenoble 156 140 in 2023)."
            ),
            "geography": population_geography,
            "caveats": (
                "Mayotte (976) carries the INSEE 2017 census population in every package version "
                "(Mamoudzou 71 437), not the millésime of the rest of France."
            ),
        },
        "tables": table_info,
        "facts": facts,
    }

    vintage_dir.mkdir(parents=True, exist_ok=True)
    # Remove the other spelling of a table (.csv vs .csv.gz) so a size change leaves no stale file.
    for name, (filename, _) in outputs.items():
        for stale in (f"{name}.csv", f"{name}.csv.gz"):
            if stale != filename and (vintage_dir / stale).exists():
                (vintage_dir / stale).unlink()
    for filename, data in outputs.values():
        (vintage_dir / filename).write_bytes(data)
    (vintage_dir / "provenance.json").write_text(
        json.dumps(provenance, ensure_ascii=False, indent=2, sort_keys=False) + "\n",
        encoding="utf-8",
    )
    (vintage_dir / "PROVENANCE.md").write_text(render_provenance_md(provenance), encoding="utf-8")
    return provenance


def write_index(out_dir: Path) -> None:
    """``data/reference/README.md``: one line per vintage present on disk."""
    rows = []
    for path in sorted(out_dir.glob("cog[0-9][0-9][0-9][0-9]/provenance.json")):
        prov = json.loads(path.read_text(encoding="utf-8"))
        rows.append(
            f"| `{path.parent.name}/` | {prov['source']['package']}@{prov['source']['version']} "
            f"| {prov['population']['year']} (in force {prov['population']['in_force']}) "
            f"| {prov['tables']['communes']['rows']} | {prov['tables']['commune_links']['rows']} |"
        )
    text = "\n".join(
        [
            "# Reference geography and legal populations",
            "",
            "Derived tables, one folder per COG vintage, written by `scripts/build_reference.py`",
            "from the npm package `@etalab/decoupage-administratif` (Licence Ouverte). Each folder",
            "has `PROVENANCE.md` and `provenance.json` (source checksums, licence, retrieval date,",
            "population millésime, row counts and checksums of the tables). Read them with",
            "`barometre.geography`.",
            "",
            "| folder | source | population millésime | communes | links |",
            "|---|---|---|---:|---:|",
            *rows,
            "",
        ]
    )
    (out_dir / "README.md").write_text(text, encoding="utf-8")


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--versions", nargs="+", default=list(DEFAULT_VERSIONS), help="package versions"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (data/reference)"
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="keep/reuse fetched tarballs here"
    )
    parser.add_argument(
        "--retrieved-on", default=None, help="retrieval date to record (YYYY-MM-DD)"
    )
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.retrieved_on is not None:
        dt.date.fromisoformat(args.retrieved_on)
    for version in args.versions:
        prov = build_version(version, args.out, args.cache_dir, args.retrieved_on)
        t = prov["tables"]
        print(
            f"{PACKAGE}@{version} → cog{prov['cog_year']}: {t['communes']['rows']} communes, "
            f"{t['commune_links']['rows']} links, populations {prov['population']['year']}",
            file=sys.stderr,
        )
    write_index(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
