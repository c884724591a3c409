"""Placing records in communes: INSEE codes, or postcode + city name, → a commune of the vintage.

The sources locate their records in two ways: the RNA by the INSEE code of the seat's commune
(with postcode and city as well), the platforms by postcode and city name only, as their users
typed them. :class:`CommuneMatcher` turns both into a commune of the edition's COG vintage and
says *how* (``exact``, or ``rule`` with the rule's name) or *why not* (``unmatched`` with a
reason and, when several communes fit, the candidates).

Conventions and references:

* names are compared after :func:`normalise_city_name` (case, accents, ``Œ``, hyphens and
  apostrophes, ``ST``/``STE``, ``CEDEX``, arrondissement numbers, ``(LE)`` suffixes);
* postcodes after :func:`normalise_postcode` (a 4-digit postcode gets its leading zero back);
  a postcode serves several communes (La Poste), a commune may have several postcodes;
* codes that are not communes of the vintage are mapped by the geography links of the vintage
  (arrondissements municipaux of Paris/Lyon/Marseille, communes déléguées and associées,
  former codes) and, when later COG vintages are given, by theirs (a code or name created
  after the vintage maps back to the vintage's commune(s) it comes from);
* coordinates are **not** used: the reference geography has no commune centre or outline, so
  a point cannot be placed in a commune; they are validated (range) and left for a later
  version with commune geometry.

The package: :mod:`~barometre.sources.matching.names` (vocabulary of a placement, normalised
names and postcodes), :mod:`~barometre.sources.matching.matcher` (:class:`CommuneMatcher`) and
:mod:`~barometre.sources.matching.coordinates` (the coordinate fallback).
"""

from __future__ import annotations

from barometre.sources.matching import names
from barometre.sources.matching.coordinates import (
    COORDINATE_MAX_KM,
    EARTH_RADIUS_KM,
    RULE_COORDINATES,
    _haversine_km,
    commune_points,
    nearest_points,
    place_by_coordinates,
)
from barometre.sources.matching.matcher import (
    CommuneMatcher,
    harmonise_insee_codes,
)
from barometre.sources.matching.names import *  # the vocabulary of a placement: names.__all__

__all__ = [
    "COORDINATE_MAX_KM",
    "EARTH_RADIUS_KM",
    "RULE_COORDINATES",
    "CommuneMatcher",
    "_haversine_km",
    "commune_points",
    "harmonise_insee_codes",
    "nearest_points",
    "place_by_coordinates",
]
__all__ += names.__all__
