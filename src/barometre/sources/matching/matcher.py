"""The matcher: :class:`CommuneMatcher` (see :mod:`barometre.sources.matching`), the cached
matcher of a COG vintage and :func:`harmonise_insee_codes`."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

import pandas as pd

from barometre.sources.common import PLM_ARRONDISSEMENTS
from barometre.sources.matching.names import (
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


def _add(index: dict, key: object, code: str) -> None:
    index.setdefault(key, set()).add(code)


def _freeze(index: dict) -> dict:
    return {k: tuple(sorted(v)) for k, v in index.items()}


class CommuneMatcher:
    """Postcode + city name, or INSEE code, → commune of the given commune table.

    ``communes``: the universe (``code_commune``, ``nom``, ``codes_postaux``,
    ``code_departement``), ideally the whole vintage (see :meth:`for_vintage`): a record placed
    in a commune outside the build's territory is then recognised as such instead of unmatched.
    ``links``: the vintage's commune links (``code``, ``type``, ``nom``,
    ``code_commune_parent``, as :func:`barometre.geography.load_commune_links`); ``later``:
    ``(communes, links)`` of later vintages; ``code_links``: extra ``{code: current code}``.
    ``national``: whether the universe is the whole of France (enables the "name unique in
    France" rule; default: at least 100 departments in the table).

    Rules for postcode + name, in order (the first that gives one commune wins):

    1. **exact** — the (postcode, name) pair is one commune's;
    2. **rule** — the name of a commune déléguée/associée or of a later vintage, with a postcode
       of its commune; the name without its article (``VILLE AUX DAMES`` → La Ville-aux-Dames);
    3. **rule** — the name is one commune's (or déléguée's) in the postcode's department (CEDEX
       postcodes ``<dep>9NN``, outdated postcodes; ``20xxx`` covers 2A and 2B);
    4. **rule** — close spelling among the postcode's communes (difflib ratio ≥ 0.85, or one
       name the word-prefix of the other), when exactly one fits;
    5. **rule** — the postcode serves a single commune;
    6. **rule** — no usable postcode and the name is unique in France (national universe only);
    7. otherwise **unmatched**: ``no location``, ``not a French postcode`` (e.g. ``L-1009``),
       ``ambiguous`` (several candidates, listed) or ``unknown``.

    INSEE codes (:meth:`match_codes`): **exact** when the code is a commune of the table;
    **rule** for a lost leading zero, an arrondissement municipal (751xx → 75056, 6938x →
    69123, 132xx → 13055), a commune déléguée/associée or former code (vintage links), a code
    created by a later vintage (mapped to the vintage's commune it comes from); otherwise the
    postcode + name rules (a blank or unknown code), with the rule prefixed accordingly.
    """

    def __init__(
        self,
        communes: pd.DataFrame,
        links: pd.DataFrame | None = None,
        later: Sequence[tuple[pd.DataFrame, pd.DataFrame]] = (),
        code_links: Mapping[str, str] | None = None,
        national: bool | None = None,
    ) -> None:
        for column in ("code_commune", "nom", "codes_postaux", "code_departement"):
            if column not in communes.columns:
                raise ValueError(f"the commune table lacks column {column!r}")
        codes = communes["code_commune"].astype(str).to_numpy()
        names = [normalise_city_name(n) for n in communes["nom"].astype(str)]
        deps = communes["code_departement"].astype(str).to_numpy()
        postcodes = [
            [p for p in str(v).split("|") if p] if isinstance(v, str) else []
            for v in communes["codes_postaux"]
        ]
        self.universe: frozenset[str] = frozenset(codes)
        self.national = (
            national if national is not None else communes["code_departement"].nunique() >= 100
        )
        self.names = dict(zip(codes, communes["nom"].astype(str), strict=True))
        self._postcodes_of = dict(zip(codes, postcodes, strict=True))
        self._dep_of = dict(zip(codes, deps, strict=True))
        self._index_names(codes, names, deps, postcodes)
        self._map_codes(links, later, code_links)

    def _index_names(
        self,
        codes: Sequence[str],
        names: Sequence[str],
        deps: Sequence[str],
        postcodes: Sequence[list[str]],
    ) -> None:
        """The indexes of the postcode + name rules: (postcode, name), (postcode, name without
        article), postcode, (department, name) with and without article, name in France."""
        pairs: dict = {}
        bare_pairs: dict = {}
        by_postcode: dict = {}
        dep_names: dict = {}
        bare_dep: dict = {}
        national_names: dict = {}
        for code, name, dep, pcs in zip(codes, names, deps, postcodes, strict=True):
            bare = strip_article(name)
            _add(dep_names, (dep, name), code)
            _add(bare_dep, (dep, bare), code)
            _add(national_names, name, code)
            for pc in pcs:
                _add(pairs, (pc, name), code)
                _add(bare_pairs, (pc, bare), code)
                _add(by_postcode, pc, code)
        self._pairs = _freeze(pairs)
        self._bare_pairs = _freeze(bare_pairs)
        self._by_postcode = _freeze(by_postcode)
        self._dep_names = _freeze(dep_names)
        self._bare_dep = _freeze(bare_dep)
        self._national_names = _freeze(national_names)
        self._postcode_names = {
            pc: tuple(sorted({(normalise_city_name(self.names[c]), c) for c in cs}))
            for pc, cs in self._by_postcode.items()
        }

    def _map_codes(
        self,
        links: pd.DataFrame | None,
        later: Sequence[tuple[pd.DataFrame, pd.DataFrame]],
        code_links: Mapping[str, str] | None,
    ) -> None:
        """Codes that are not communes of the table → (communes, rule), and the names of
        communes déléguées/associées and of later vintages → their communes."""
        code_map: dict[str, tuple[tuple[str, ...], str]] = {}
        for code, parent in PLM_ARRONDISSEMENTS.items():
            if parent in self.universe:
                code_map[code] = ((parent,), RULE_ARRONDISSEMENT)
        alias_pairs: dict = {}
        alias_dep: dict = {}
        if links is not None and len(links):
            for code, kind, nom, parent in zip(
                links["code"].astype(str), links["type"].astype(str),
                links["nom"].fillna("").astype(str), links["code_commune_parent"].astype(str),
                strict=True,
            ):  # fmt: skip
                if parent not in self.universe:
                    continue
                if code not in self.universe and code not in code_map:
                    rule = (
                        RULE_ARRONDISSEMENT if kind == "arrondissement-municipal"
                        else RULE_LINKED_CODE
                    )  # fmt: skip
                    code_map[code] = ((parent,), rule)
                if nom and kind != "arrondissement-municipal":
                    self._add_alias(alias_pairs, alias_dep, normalise_city_name(nom), (parent,))
        for code, parent in (code_links or {}).items():
            code, parent = str(code), str(parent)
            if code not in self.universe and code not in code_map and parent in self.universe:
                code_map[code] = ((parent,), RULE_LINKED_CODE)
        for later_communes, later_links in later:
            self._add_later_vintage(later_communes, later_links, code_map, alias_pairs, alias_dep)
        self._code_map = code_map
        self._alias_pairs = _freeze(alias_pairs)
        self._alias_dep = _freeze(alias_dep)

    # ---------------------------------------------------------------------------------------
    # Construction helpers

    @classmethod
    def for_vintage(
        cls, cog_year: int, code_links: Mapping[str, str] | None = None
    ) -> CommuneMatcher:
        """The matcher of a COG vintage of ``data/reference``: the whole of France as universe,
        the vintage's links, and the later vintages available (codes and names created since).
        Built once per (vintage, extra links) in a process: a matcher is never modified."""
        extra = tuple(sorted((str(k), str(v)) for k, v in (code_links or {}).items()))
        return _vintage_matcher(int(cog_year), extra)

    def _add_alias(
        self, alias_pairs: dict, alias_dep: dict, name: str, targets: tuple[str, ...]
    ) -> None:
        for target in targets:
            _add(alias_dep, (self._dep_of[target], name), target)
            for pc in self._postcodes_of[target]:
                _add(alias_pairs, (pc, name), target)

    def _resolve_code(self, code: str, code_map: Mapping) -> tuple[str, ...]:
        if code in self.universe:
            return (code,)
        if code in code_map:
            return code_map[code][0]
        return ()

    def _add_later_vintage(
        self,
        communes: pd.DataFrame,
        links: pd.DataFrame,
        code_map: dict,
        alias_pairs: dict,
        alias_dep: dict,
    ) -> None:
        """Codes and names of a later vintage, mapped back to this table's communes: a new code
        goes to the communes its members were (unique → rule; several → candidates)."""
        members: dict[str, set[str]] = {}
        for code, parent in zip(
            links["code"].astype(str), links["code_commune_parent"].astype(str), strict=True
        ):
            members.setdefault(parent, set()).update(self._resolve_code(code, code_map))
        for code, nom in zip(communes["code_commune"].astype(str), communes["nom"].astype(str), strict=True):  # fmt: skip
            targets = self._resolve_code(code, code_map) or tuple(sorted(members.get(code, ())))
            if not targets:
                continue
            if code not in self.universe and code not in code_map:
                code_map[code] = (targets, RULE_LATER_CODE)
            name = normalise_city_name(nom)
            if len(targets) == 1 and name != normalise_city_name(self.names[targets[0]]):
                self._add_alias(alias_pairs, alias_dep, name, targets)

    # ---------------------------------------------------------------------------------------
    # Matching

    def match(self, postcodes: pd.Series, cities: pd.Series) -> pd.DataFrame:
        """Place each (postcode, city) pair; a frame aligned on the inputs' index with
        :data:`RESULT_COLUMNS`. Work is done once per distinct pair."""
        keys = pd.DataFrame(
            {
                "postcode": postcodes.fillna("").astype(str).to_numpy(),
                "city": cities.fillna("").astype(str).to_numpy(),
            }
        )
        return self._apply(keys, lambda row: self.match_one(row[0], row[1]), postcodes.index)

    def match_codes(
        self,
        codes: pd.Series,
        postcodes: pd.Series | None = None,
        cities: pd.Series | None = None,
    ) -> pd.DataFrame:
        """Place records by INSEE code, with postcode + name as fallback (see the class
        docstring); a frame aligned on ``codes`` with :data:`RESULT_COLUMNS`."""
        empty = pd.Series("", index=codes.index)
        keys = pd.DataFrame(
            {
                "code": codes.fillna("").astype(str).to_numpy(),
                "postcode": (postcodes if postcodes is not None else empty).fillna("").astype(str).to_numpy(),
                "city": (cities if cities is not None else empty).fillna("").astype(str).to_numpy(),
            }
        )  # fmt: skip
        return self._apply(keys, lambda row: self.match_code_one(*row), codes.index)

    def _apply(self, keys: pd.DataFrame, one, index: pd.Index) -> pd.DataFrame:
        columns = list(keys.columns)
        distinct = keys.drop_duplicates().reset_index(drop=True)
        placements = [one(row) for row in distinct.itertuples(index=False, name=None)]
        distinct["code_commune"] = [p.code for p in placements]
        distinct["match"] = [p.match for p in placements]
        distinct["rule"] = [p.rule for p in placements]
        distinct["reason"] = [p.reason for p in placements]
        distinct["candidates"] = ["|".join(p.candidates) for p in placements]
        out = keys.merge(distinct, on=columns, how="left", validate="many_to_one")
        out.index = index
        return out[list(RESULT_COLUMNS)]

    def _unique(self, found: Iterable[str] | None) -> tuple[str | None, set[str]]:
        codes = set(found or ())
        return (next(iter(codes)) if len(codes) == 1 else None), codes

    def match_one(self, raw_postcode: str, raw_city: str) -> Placement:
        """Place one (postcode, city) pair (see the class docstring for the rules)."""
        postcode = normalise_postcode(raw_postcode)
        name = normalise_city_name(raw_city) if str(raw_city).strip() else ""
        written = re.sub(r"\s+", "", str(raw_postcode))
        # Letters or a foreign form (L-1009, CH-1200): abroad. Digits that are no postcode
        # (00000, 123): a placeholder, treated as no postcode.
        if written and not postcode and not written.isdigit():
            return Placement.none(REASON_NOT_FRENCH)
        if not postcode and not name:
            return Placement.none(REASON_NO_LOCATION)
        ambiguous: set[str] = set()
        if postcode and name:
            code, found = self._unique(self._pairs.get((postcode, name)))
            if code:
                return Placement.exact(code, RULE_PAIR)
            ambiguous |= found
            for index, key, rule in (
                (self._alias_pairs, (postcode, name), RULE_ALIAS),
                (self._bare_pairs, (postcode, strip_article(name)), RULE_ARTICLE),
            ):
                code, found = self._unique(index.get(key))
                if code and not ambiguous:
                    return Placement.by_rule(code, rule)
                ambiguous |= found
        if name and not ambiguous:
            departments = postcode_departments(postcode)
            for index, key_name, rule in (
                (self._dep_names, name, RULE_DEPARTMENT),
                (self._alias_dep, name, RULE_ALIAS),
                (self._bare_dep, strip_article(name), RULE_ARTICLE),
            ):
                found = {c for dep in departments for c in index.get((dep, key_name), ())}
                code, found = self._unique(found)
                if code:
                    return Placement.by_rule(code, rule)
                ambiguous |= found
                if found:
                    break
        candidates = self._by_postcode.get(postcode, ()) if postcode else ()
        if name and candidates and not ambiguous:
            code = self._close_spelling(postcode, name)
            if code:
                return Placement.by_rule(code, RULE_CLOSE)
        if len(candidates) == 1 and not ambiguous:
            return Placement.by_rule(candidates[0], RULE_SINGLE_POSTCODE)
        if len(candidates) > 1:
            ambiguous |= set(candidates)
        if name and self.national and not candidates and not ambiguous:
            code, found = self._unique(self._national_names.get(name))
            if code:
                return Placement.by_rule(code, RULE_UNIQUE_NAME)
            ambiguous |= found
        if ambiguous:
            return Placement.none(REASON_AMBIGUOUS, ambiguous)
        return Placement.none(REASON_UNKNOWN)

    def _close_spelling(self, postcode: str, name: str) -> str | None:
        fits = set()
        words = name.split()
        for candidate, code in self._postcode_names.get(postcode, ()):
            other = candidate.split()
            shorter = min(len(name), len(candidate))
            prefix = shorter >= 4 and (words[: len(other)] == other or other[: len(words)] == words)
            if prefix or difflib.SequenceMatcher(None, name, candidate).ratio() >= 0.85:
                fits.add(code)
        return next(iter(fits)) if len(fits) == 1 else None

    def match_code_one(
        self, raw_code: str, raw_postcode: str = "", raw_city: str = ""
    ) -> Placement:
        """Place one record by its INSEE code, falling back on postcode + name."""
        code = re.sub(r"\s+", "", str(raw_code)).upper()
        if code in self.universe:
            return Placement.exact(code, RULE_CODE)
        if re.fullmatch(r"\d{4}", code) and "0" + code in self.universe:
            return Placement.by_rule("0" + code, RULE_LEADING_ZERO)
        if code in self._code_map:
            targets, rule = self._code_map[code]
            if len(targets) == 1:
                return Placement.by_rule(targets[0], rule)
            by_name = self.match_one(raw_postcode, raw_city)
            if by_name.code in targets:
                return Placement.by_rule(by_name.code, f"{rule} + {by_name.rule}")
            return Placement.none(REASON_AMBIGUOUS, targets)
        by_name = self.match_one(raw_postcode, raw_city)
        prefix = UNKNOWN_CODE_PREFIX if code else NO_CODE_PREFIX
        if by_name.code is not None:
            return Placement.by_rule(by_name.code, prefix + by_name.rule)
        if code and by_name.reason in (REASON_NO_LOCATION, REASON_UNKNOWN):
            return Placement.none(REASON_UNKNOWN_CODE)
        return by_name


@lru_cache(maxsize=4)
def _vintage_matcher(cog_year: int, code_links: tuple[tuple[str, str], ...]) -> CommuneMatcher:
    from barometre import geography

    later = [
        (geography.load_communes(year), geography.load_commune_links(year))
        for year in geography.available_vintages()
        if year > cog_year
    ]
    return CommuneMatcher(
        geography.load_communes(cog_year),
        links=geography.load_commune_links(cog_year),
        later=later,
        code_links=dict(code_links),
        national=True,
    )


def harmonise_insee_codes(
    codes: pd.Series,
    communes: pd.DataFrame,
    code_links: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Place INSEE commune codes in the commune table (no postcode + name fallback).

    **exact** when the code is a commune of the table; **rule** for an arrondissement
    municipal, a lost leading zero or a code of ``code_links`` (``{code: current code}``, e.g.
    built from :func:`barometre.geography.load_commune_links`) whose commune is in the table;
    otherwise **unmatched** with reason ``no location`` (blank) or ``unknown code``.
    Returns a frame aligned on ``codes`` with :data:`RESULT_COLUMNS`.
    """
    matcher = CommuneMatcher(communes, code_links=code_links, national=False)
    return matcher.match_codes(codes)
