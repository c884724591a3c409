"""The French agreement helper: plural, « aucun(e) », elision (barometre.publish.french)."""

from __future__ import annotations

import math

import pytest
from babel.numbers import format_decimal
from hypothesis import given
from hypothesis import strategies as st

from barometre.publish.fmt import NBSP, NNBSP, fr_number
from barometre.publish.french import Noun, capitalise, de, elides, le, nombre, plural

CREATED = Noun("association créée", "associations créées", feminine=True)
MATCH = Noun("mise en relation", "mises en relation", feminine=True)
CAMPAIGN = Noun("campagne", "campagnes", feminine=True)
MISSION = Noun("mission", "missions", feminine=True)
HABITANT = Noun("habitant", "habitants")


def test_exact_forms():
    assert nombre(0, CREATED) == "aucune association créée"
    assert nombre(0, HABITANT) == "aucun habitant"
    assert nombre(1, CREATED) == f"1{NBSP}association créée"
    assert nombre(2, CREATED) == f"2{NBSP}associations créées"
    assert nombre(1234, CREATED) == f"1{NNBSP}234{NBSP}associations créées"
    assert nombre(0, CAMPAIGN, zero="pas de campagne") == "pas de campagne"
    assert nombre(1.5, MATCH, decimals=1) == f"1,5{NBSP}mise en relation"
    # a value that rounds to zero is written as zero
    assert nombre(0.04, MATCH, decimals=1) == "aucune mise en relation"


def test_missing_count_refuses():
    with pytest.raises(ValueError):
        nombre(float("nan"), CREATED)
    with pytest.raises(ValueError):
        plural(None, "a", "b")


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("associations", "d'associations"),
        ("campagnes", "de campagnes"),
        ("habitants", "d'habitants"),
        ("hauts lieux", "de hauts lieux"),
        ("Hauts-de-France", "de Hauts-de-France"),
        ("Yvelines", "d'Yvelines"),
        ("yaourts", "de yaourts"),
        ("Évry", "d'Évry"),
        ("œuvres", "d'œuvres"),
        ("mises en relation", "de mises en relation"),
    ],
)
def test_de(phrase, expected):
    assert de(phrase) == expected


def test_le():
    assert le("association", feminine=True) == "l'association"
    assert le("campagne", feminine=True) == "la campagne"
    assert le("hameau") == "le hameau"
    assert le("habitant") == "l'habitant"
    assert le("rang") == "le rang"
    assert le("communes", plural_form=True) == "les communes"
    assert capitalise("mises en relation") == "Mises en relation"
    with pytest.raises(ValueError):
        elides("  ")


NOUNS = st.sampled_from([CREATED, MATCH, CAMPAIGN, MISSION, HABITANT])


@given(st.integers(min_value=0, max_value=10**9), NOUNS)
def test_never_a_wrong_agreement(n, noun):
    text = nombre(n, noun)
    assert not text.startswith("0")
    if n == 0:
        assert text.startswith("aucune " if noun.feminine else "aucun ")
        assert text.endswith(noun.singular)
    elif n == 1:
        assert text == f"1{NBSP}{noun.singular}"
    else:
        assert text.endswith(noun.plural)
        assert text.replace(NNBSP, "").startswith(str(n))


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False), st.integers(0, 2), NOUNS)
def test_decimal_counts_agree_with_the_printed_number(x, decimals, noun):
    text = nombre(x, noun, decimals=decimals)
    printed = fr_number(x, decimals)
    if printed == fr_number(0, decimals):
        assert text.startswith("aucun")
    else:
        value = float(printed.replace(NNBSP, "").replace(",", "."))
        assert text.startswith(printed)
        assert text.endswith(noun.singular if value < 2 else noun.plural)


VOWEL_START = st.sampled_from(list("aeiouéèêàâîôûœAEIOUÉÈ"))
CONSONANT_START = st.sampled_from(list("bcdfgjklmnpqrstvwxzBCDFGMPS"))
TAIL = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéè", min_size=1, max_size=12)


@given(VOWEL_START, TAIL)
def test_elision_before_a_vowel(first, tail):
    word = first + tail
    assert de(word) == f"d'{word}"
    assert le(word, feminine=True) == f"l'{word}"


@given(CONSONANT_START, TAIL)
def test_no_elision_before_a_consonant(first, tail):
    word = first + tail
    assert de(word) == f"de {word}"
    assert le(word, feminine=True) == f"la {word}"


@given(TAIL)
def test_mute_h_elides_unless_aspirated(tail):
    word = "h" + tail
    from barometre.publish.french import ASPIRATED_H

    expected = f"de {word}" if word in ASPIRATED_H else f"d'{word}"
    assert de(word) == expected


@given(
    st.decimals(
        min_value=-(10**7), max_value=10**7, places=3, allow_nan=False, allow_infinity=False
    )
)
def test_fr_number_separators_match_cldr(value):
    """Babel's CLDR French data and fr_number agree on separators and the minus sign, away from
    rounding ties (where the publications round half-up and Babel half-to-even)."""
    scaled = abs(value) * 100
    if math.isclose(float(scaled - int(scaled)), 0.5, abs_tol=1e-9):
        return
    ours = fr_number(value, 2)
    theirs = format_decimal(value, format="#,##0.00", locale="fr_FR")
    assert ours == theirs.replace("-", "\u2212").replace("\u2212" + "0,00", "0,00")
