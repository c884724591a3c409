"""The vocabulary of a placement (kinds, rules, reasons, :data:`RESULT_COLUMNS`,
:class:`Placement`) and the comparable forms of city names and postcodes."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
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
    "RULE_DEPARTMENT",
    "RULE_LATER_CODE",
    "RULE_LEADING_ZERO",
    "RULE_LINKED_CODE",
    "RULE_PAIR",
    "RULE_SINGLE_POSTCODE",
    "RULE_UNIQUE_NAME",
    "UNKNOWN_CODE_PREFIX",
    "Placement",
    "normalise_city_name",
    "normalise_postcode",
    "postcode_departments",
    "strip_article",
]

MATCH_EXACT = "exact"
MATCH_RULE = "rule"
MATCH_NONE = "unmatched"

# How a record was placed (``rule`` column): exact placements ...
RULE_CODE = "INSEE code"
RULE_PAIR = "postcode + name"
# ... and placements by rule.
RULE_LEADING_ZERO = "INSEE code, leading zero restored"
RULE_ARRONDISSEMENT = "arrondissement municipal code"
RULE_LINKED_CODE = "code of a commune déléguée, associée or former commune"
RULE_LATER_CODE = "code of a later COG"
RULE_ALIAS = "name of a commune déléguée or of a later COG"
RULE_ARTICLE = "article omitted or misplaced"
RULE_DEPARTMENT = "name in the postcode's department (CEDEX or outdated postcode)"
RULE_CLOSE = "close spelling among the postcode's communes"
RULE_SINGLE_POSTCODE = "postcode of a single commune"
RULE_UNIQUE_NAME = "name unique in France (no usable postcode)"
NO_CODE_PREFIX = "no INSEE code: "
UNKNOWN_CODE_PREFIX = "unknown INSEE code: "

# Why a record was not placed (``reason`` column).
REASON_NO_LOCATION = "no location"
REASON_NOT_FRENCH = "not a French postcode"
REASON_AMBIGUOUS = "ambiguous"
REASON_UNKNOWN = "unknown"
REASON_UNKNOWN_CODE = "unknown code"

RESULT_COLUMNS = ("code_commune", "match", "rule", "reason", "candidates")
"""Columns of a matching result: commune code (missing when unmatched), ``exact``/``rule``/
``unmatched``, the rule applied, the reason of a failure, ``|``-joined candidate codes of an
ambiguous record."""

_CEDEX = re.compile(r"\bCEDEX\s*\d*\b")
_ARRONDISSEMENT = re.compile(r"\s+\d{1,2}\s*(?:E|EME|ER|ERE)?(?:\s+ARRONDISSEMENT)?$")
_ARTICLE_SUFFIX = re.compile(r"^(?P<rest>.*\S)\s*\((?P<article>LES|LE|LA|L')\)\s*$")
_LEADING_ARTICLE = re.compile(r"^(?:LES|LE|LA|L)\s+")
_NON_ALNUM = re.compile(r"[^A-Z0-9]+")
_POSTCODE_PREFIX = re.compile(r"^(?:FR?-?)(?=\d{5}$)")


@lru_cache(maxsize=1 << 18)
def normalise_city_name(name: str) -> str:
    """Comparable form of a city name: ``"St-Étienne CEDEX 2"`` → ``"SAINT ETIENNE"``.

    Upper case, accents removed (NFKD), ``Œ`` → ``OE``, ``Æ`` → ``AE``; an article written
    after the name (``"MANS (LE)"``, the old INSEE style) moved before it; every run of
    non-alphanumeric characters (hyphens, apostrophes) → one space; ``CEDEX`` and its number,
    and a trailing arrondissement number (``PARIS 15``, ``LYON 3E``, ``MARSEILLE 8EME
    ARRONDISSEMENT``), removed until none is left (so the function is idempotent); every word
    ``ST``/``STE`` expanded to ``SAINT``/``SAINTE``.
    """
    text = str(name).upper().replace("Œ", "OE").replace("Æ", "AE")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    suffix = _ARTICLE_SUFFIX.match(text.strip())
    if suffix:
        text = f"{suffix.group('article')} {suffix.group('rest')}"
    text = _NON_ALNUM.sub(" ", text).strip()
    while True:
        stripped = _ARRONDISSEMENT.sub("", _CEDEX.sub(" ", text).strip()).strip()
        stripped = " ".join(stripped.split())
        if stripped == text:
            break
        text = stripped
    words = ["SAINT" if w == "ST" else "SAINTE" if w == "STE" else w for w in text.split()]
    return " ".join(words)


def strip_article(name: str) -> str:
    """A normalised name without its leading article (``LES SABLES D OLONNE`` → ``SABLES D
    OLONNE``): old INSEE and La Poste lists often drop or move the article."""
    return _LEADING_ARTICLE.sub("", name)


def normalise_postcode(value: str) -> str:
    """Five-digit French postcode, or "" when the value is not one.

    Spaces are removed, an ``F-``/``FR-`` prefix dropped, and a 4-digit value gets its leading
    zero back (a postcode of departments 01–09 read as a number by a spreadsheet). Values
    starting with ``00`` are not postcodes.
    """
    text = _POSTCODE_PREFIX.sub("", re.sub(r"\s+", "", str(value)).upper())
    if re.fullmatch(r"\d{4}", text):
        text = "0" + text
    if re.fullmatch(r"\d{5}", text) and not text.startswith("00"):
        return text
    return ""


def postcode_departments(postcode: str) -> tuple[str, ...]:
    """Department codes a postcode can belong to: ``20xxx`` → Corsica's two, ``97x`` and
    ``98x`` → three characters, otherwise its first two digits."""
    if not postcode:
        return ()
    if postcode.startswith("20"):
        return ("2A", "2B")
    if postcode.startswith(("97", "98")):
        return (postcode[:3],)
    return (postcode[:2],)


@dataclass(frozen=True)
class Placement:
    """Where one record goes: ``code`` (None when unmatched), kind, rule, reason, candidates."""

    code: str | None
    match: str
    rule: str = ""
    reason: str = ""
    candidates: tuple[str, ...] = ()

    @staticmethod
    def exact(code: str, rule: str) -> Placement:
        return Placement(code, MATCH_EXACT, rule)

    @staticmethod
    def by_rule(code: str, rule: str) -> Placement:
        return Placement(code, MATCH_RULE, rule)

    @staticmethod
    def none(reason: str, candidates: Iterable[str] = ()) -> Placement:
        return Placement(None, MATCH_NONE, "", reason, tuple(sorted(set(candidates))))
