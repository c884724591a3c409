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
from barometre.sources.matching.names import (
    MATCH_EXACT,
    MATCH_NONE,
    MATCH_RULE,
    NO_CODE_PREFIX,
    REASON_AMBIGUOUS,
    REASON_NO_LOCATION,
    REASON_NOT_FRENCH,
    REASON_UNKNOWN,
    REASON_UNKNOWN_CODE,
    RESULT_COLUMNS,
    RULE_ALIAS,
    RULE_ARRONDISSEMENT,
    RULE_ARTICLE,
    RULE_CLOSE,
    RULE_CODE,
    RULE_DEPARTMENT,
    RULE_LATER_CODE,
    RULE_LEADING_ZERO,
    RULE_LINKED_CODE,
    RULE_PAIR,
    RULE_SINGLE_POSTCODE,
    RULE_UNIQUE_NAME,
    UNKNOWN_CODE_PREFIX,
    Placement,
    normalise_city_name,
    normalise_postcode,
    postcode_departments,
    strip_article,
)

__all__ = [
    "COORDINATE_MAX_KM",
    "EARTH_RADIUS_KM",
    "MATCH_EXACT",
    "MATCH_NONE",
    "MATCH_RULE",
    "NO_CODE_PREFIX",
    "REASON_AMBIGUOUS",
    "REASON_NOT_FRENCH",
    "REASON_NO_LOCATION",
    "REASON_UNKNOWN",
    "REASON_UNKNOWN_CODE",
    "RESULT_COLUMNS",
    "RULE_ALIAS",
    "RULE_ARRONDISSEMENT",
    "RULE_ARTICLE",
    "RULE_CLOSE",
    "RULE_CODE",
    "RULE_COORDINATES",
    "RULE_DEPARTMENT",
    "RULE_LATER_CODE",
    "RULE_LEADING_ZERO",
    "RULE_LINKED_CODE",
    "RULE_PAIR",
    "RULE_SINGLE_POSTCODE",
    "RULE_UNIQUE_NAME",
    "UNKNOWN_CODE_PREFIX",
    "CommuneMatcher",
    "Placement",
    "_haversine_km",
    "commune_points",
    "harmonise_insee_codes",
    "nearest_points",
    "normalise_city_name",
    "normalise_postcode",
    "place_by_coordinates",
    "postcode_departments",
    "strip_article",
]
