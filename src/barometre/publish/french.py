"""French agreement for the publications' sentences: plural, « aucun(e) », elision.

One helper for every generated sentence, so that the pages never print « 0 associations »,
« 1 associations » or « de associations »:

- :func:`plural` chooses the singular or the plural form of a noun phrase (French takes the
  singular below 2: « 1,5 habitant » is rare, but « 0,5 mise en relation » is the rule);
- :func:`nombre` writes a count with its noun phrase: « aucune association créée »,
  « 1 association créée », « 2 associations créées », « 1 234 associations créées »;
- :func:`de` and :func:`le` write the preposition or article with elision before a vowel or a
  mute h (« d'associations », « de campagnes », « l'association », « le hameau »… but « de
  hauts »: an aspirated h does not elide).

Numbers are written by :func:`barometre.publish.fmt.fr_number` (narrow no-break space between
thousands, decimal comma, half-up rounding). Babel's CLDR data agree on the separators (the
tests check it), but Babel rounds half-to-even and the publications round half-up, the rule a
reader checking a figure by hand applies: the formatting therefore stays in ``fmt``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from barometre.publish.fmt import NBSP, fr_number, is_missing

_VOWELS = frozenset("aeiouyæœ")

ASPIRATED_H: frozenset[str] = frozenset(
    {
        "hache",
        "haie",
        "haine",
        "hall",
        "halte",
        "hameau",
        "hameaux",
        "hanche",
        "handicap",
        "handicaps",
        "hangar",
        "hangars",
        "hardi",
        "hareng",
        "haricot",
        "hasard",
        "hâte",
        "haut",
        "haute",
        "hautes",
        "hauts",
        "hauteur",
        "hauts-de-france",
        "hauts-de-seine",
        "haute-garonne",
        "haute-loire",
        "haute-marne",
        "haute-saône",
        "haute-savoie",
        "haute-vienne",
        "hautes-alpes",
        "hautes-pyrénées",
        "haut-rhin",
        "hausse",
        "héron",
        "héros",
        "hérisson",
        "hêtre",
        "hibou",
        "hiérarchie",
        "hockey",
        "homard",
        "honte",
        "hors",
        "housse",
        "hublot",
        "huit",
        "huitième",
        "hurlement",
        "hutte",
    }
)
"""Words whose initial h is aspirated (« le hameau », « de hauts »): no elision before them."""


def _base_letter(ch: str) -> str:
    return unicodedata.normalize("NFKD", ch)[0].lower()


def elides(word: str) -> bool:
    """True when ``de``/``le``/``la`` elide before ``word``: an initial vowel, or a mute h.

    An initial y elides only before a consonant (« d'Yvelines », but « de yaourts »); an
    aspirated h (:data:`ASPIRATED_H`) never does.
    """
    text = word.strip()
    if not text:
        raise ValueError("no word to elide before")
    first = _base_letter(text[0])
    token = text.split()[0].lower().strip("«»\"'(")
    if first == "h":
        return token not in ASPIRATED_H
    if first == "y":
        return len(text) > 1 and _base_letter(text[1]) not in _VOWELS
    return first in _VOWELS


@dataclass(frozen=True)
class Noun:
    """A noun phrase with its two forms and its gender: ``Noun("association créée",
    "associations créées", feminine=True)``."""

    singular: str
    plural: str
    feminine: bool = False

    def form(self, n: Any) -> str:
        """The form that agrees with ``n`` (singular below 2)."""
        return plural(n, self.singular, self.plural)


def plural(n: Any, singular: str, plural_form: str) -> str:
    """``singular`` when ``|n| < 2`` (French: « 0 », « 1 » and « 1,5 » take the singular),
    else ``plural_form``. ``n`` must be a number."""
    if is_missing(n):
        raise ValueError("a missing count has no grammatical number: say the data is not available")
    return singular if abs(float(n)) < 2 else plural_form


def nombre(n: Any, noun: Noun, *, decimals: int = 0, zero: str | None = None) -> str:
    """A count and its noun phrase, agreed: « aucune association créée » (0),
    « 1 association créée », « 2 associations créées », « 1 234 campagnes ».

    Zero reads « aucun »/« aucune » (by the noun's gender) unless ``zero`` gives another
    wording (e.g. « pas de campagne »). A missing ``n`` raises: the caller says in a sentence,
    with a verb, that the data is not available.
    """
    if is_missing(n):
        raise ValueError("a missing count cannot be written as a number: say it is not available")
    if fr_number(n, decimals) == fr_number(0, decimals):
        return (
            zero
            if zero is not None
            else f"{'aucune' if noun.feminine else 'aucun'} {noun.singular}"
        )
    printed = fr_number(n, decimals)
    # the noun agrees with the number the reader sees (1,5 rounded to « 2 » is plural)
    shown = float(
        "".join(c for c in printed if c.isdigit() or c in ",-−").replace(",", ".").replace("−", "-")
    )
    return f"{printed}{NBSP}{noun.form(shown)}"


def de(phrase: str) -> str:
    """The preposition « de » before ``phrase``, elided when needed: « d'associations »,
    « de campagnes », « d'habitants », « de hauts lieux »."""
    return f"d'{phrase}" if elides(phrase) else f"de {phrase}"


def le(phrase: str, *, feminine: bool = False, plural_form: bool = False) -> str:
    """The definite article before ``phrase``: « l'association », « la campagne »,
    « le hameau », « les communes »."""
    if plural_form:
        return f"les {phrase}"
    if elides(phrase):
        return f"l'{phrase}"
    return f"{'la' if feminine else 'le'} {phrase}"


def capitalise(text: str) -> str:
    """First letter upper-case, the rest untouched (« mises en relation » → « Mises en relation »)."""
    return text[:1].upper() + text[1:]
