"""What a territory is: its specification (``kind:code[,code…]``) resolved against the COG, and
its communes among the ranked ones.

A territory is given as text, the papermill parameter of ``notebooks/06_territory.ipynb``:
``region:32``, ``departement:59`` (or ``department:59``), ``epci:200093201``, ``contrat:CV192``
(a contrat de ville, through the EPCI that carries it) or ``communes:59350,59512``.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass

import pandas as pd

from barometre import geography
from barometre.publish.fmt import fr_list

KINDS: dict[str, str] = {
    "region": "Région",
    "departement": "Département",
    "epci": "Intercommunalité",
    "contrat": "Contrat de ville",
    "communes": "Sélection de communes",
}
_KIND_ALIASES = {
    "region": "region",
    "région": "region",
    "reg": "region",
    "departement": "departement",
    "département": "departement",
    "dep": "departement",
    "department": "departement",
    "epci": "epci",
    "interco": "epci",
    "contrat": "contrat",
    "contrat_de_ville": "contrat",
    "cv": "contrat",
    "communes": "communes",
    "commune": "communes",
    "com": "communes",
}


class TerritoryError(ValueError):
    """A territory specification that cannot be resolved, or a territory with no commune."""


# --------------------------------------------------------------------------- territory


@dataclass(frozen=True)
class Territory:
    """A resolved territory: kind, codes, French name, folder slug, its departments and, for a
    contrat de ville, the EPCI that carries it."""

    kind: str
    codes: tuple[str, ...]
    name: str
    slug: str
    departments: tuple[str, ...]
    epci: str | None = None  # a contrat de ville: the EPCI carrying it

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def spec(self) -> str:
        return f"{self.kind}:{','.join(self.codes)}"


def _slug_text(text: str) -> str:
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def parse_territory(spec: str, cog_year: int) -> Territory:
    """Resolve ``kind:code[,code…]`` against the COG vintage (names, departments covered).

    Unknown kinds or codes raise :class:`TerritoryError` naming what is accepted.
    """
    if ":" not in spec:
        raise TerritoryError(
            f"territory {spec!r}: expected kind:code, e.g. region:32, departement:59, epci:200093201, communes:59350,59512"
        )
    raw_kind, _, raw_codes = spec.partition(":")
    kind = _KIND_ALIASES.get(raw_kind.strip().lower())
    if kind is None:
        raise TerritoryError(f"territory kind {raw_kind!r} unknown; use one of {', '.join(KINDS)}")
    codes = tuple(c.strip() for c in raw_codes.split(",") if c.strip())
    if not codes:
        raise TerritoryError(f"territory {spec!r} names no code")
    communes = geography.load_communes(cog_year)
    if kind == "region":
        regions = geography.load_regions(cog_year).set_index("code_region")
        if len(codes) != 1 or codes[0] not in regions.index:
            raise TerritoryError(
                f"region {raw_codes!r} unknown in COG {cog_year}; codes: {', '.join(regions.index)}"
            )
        name = str(regions.at[codes[0], "nom"])
        members = communes[communes["code_region"] == codes[0]]
    elif kind == "departement":
        departements = geography.load_departements(cog_year).set_index("code_departement")
        if len(codes) != 1 or codes[0] not in departements.index:
            raise TerritoryError(f"department {raw_codes!r} unknown in COG {cog_year}")
        name = f"{departements.at[codes[0], 'nom']} ({codes[0]})"
        members = communes[communes["code_departement"] == codes[0]]
    elif kind == "epci":
        epci = geography.load_epci(cog_year).set_index("code_epci")
        if len(codes) != 1 or codes[0] not in epci.index:
            raise TerritoryError(
                f"EPCI {raw_codes!r} unknown in COG {cog_year} (give its SIREN, 9 digits)"
            )
        name = str(epci.at[codes[0], "nom"])
        members = communes[communes["code_epci"] == codes[0]]
    elif kind == "contrat":
        from barometre.qpv.synthetic import load_contracts

        # a contract over two départements has a row in each (CV043): same EPCI, same name
        contracts = load_contracts(cog_year).drop_duplicates("code_cv").set_index("code_cv")
        code = codes[0].upper()
        if len(codes) != 1 or code not in contracts.index:
            raise TerritoryError(
                f"contrat de ville {raw_codes!r} unknown (codes CV001…CV434 of data/reference/qpv/contrats_de_ville.csv)"
            )
        codes = (code,)
        name = f"Contrat de ville {str(contracts.at[code, 'lib_cv']).split(' - ', 1)[-1]}"
        members = communes[communes["code_epci"] == contracts.at[code, "code_epci"]]
    else:
        known = communes.set_index("code_commune")
        unknown = [c for c in codes if c not in known.index]
        if unknown:
            raise TerritoryError(f"communes unknown in COG {cog_year}: {unknown}")
        codes = tuple(sorted(set(codes), key=codes.index))
        names = [str(known.at[c, "nom"]) for c in codes]
        name = (
            fr_list(names)
            if len(names) <= 3
            else f"{fr_list(names[:3][:2])} et {len(names) - 2} autres communes"
        )
        members = communes[communes["code_commune"].isin(codes)]
    if kind == "communes":
        joined = "-".join(codes)
        slug = (
            f"communes-{joined}"
            if len(codes) <= 3
            else f"communes-{hashlib.sha256(','.join(sorted(codes)).encode()).hexdigest()[:10]}"
        )
    else:
        slug = f"{kind}-{codes[0]}-{_slug_text(name.split(' (')[0])}"
    departments = tuple(sorted(members["code_departement"].unique()))
    if members.empty:
        raise TerritoryError(f"territory {spec!r} has no commune in COG {cog_year}")
    epci_code = str(members["code_epci"].iloc[0]) if kind == "contrat" else None
    return Territory(kind, codes, name, slug, departments, epci_code)


def select_communes(
    ranked: pd.DataFrame, territory: Territory, reference: pd.DataFrame
) -> pd.DataFrame:
    """The territory's communes among the ranked communes (``tables/communes.csv``), by code.

    ``reference`` is the COG commune table (:func:`barometre.geography.load_communes`), which
    gives EPCI membership. Communes of the territory absent from the ranked table (ineligible)
    are named in a warning; a territory with no ranked commune raises :class:`TerritoryError`.
    """
    if territory.kind == "region":
        wanted = reference.loc[reference["code_region"] == territory.codes[0], "code_commune"]
    elif territory.kind == "departement":
        wanted = reference.loc[reference["code_departement"] == territory.codes[0], "code_commune"]
    elif territory.kind == "epci":
        wanted = reference.loc[reference["code_epci"] == territory.codes[0], "code_commune"]
    elif territory.kind == "contrat":
        wanted = reference.loc[reference["code_epci"] == territory.epci, "code_commune"]
    else:
        wanted = pd.Series(territory.codes)
    wanted_set = set(wanted)
    selected = (
        ranked[ranked["code_commune"].isin(wanted_set)]
        .sort_values("code_commune")
        .reset_index(drop=True)
    )
    absent = sorted(wanted_set - set(selected["code_commune"]))
    if absent:
        warnings.warn(
            f"{len(absent)} communes of {territory.name} are not ranked: {absent[:10]}",
            stacklevel=2,
        )
    if selected.empty:
        raise TerritoryError(f"no ranked commune in {territory.name} ({territory.spec})")
    return selected
