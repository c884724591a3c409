"""Raw extracts of the three sources (RNA, HelloAsso, JeVeuxAider) → records placed in communes.

This package holds what the three loaders share:

* :class:`SourceError`, the one exception a loader raises for an unusable input; its message
  names the file, the data row (1-based, header excluded), the column and the value;
* :func:`read_source_csv`, a CSV reader that reads only the columns of the contract (so any
  personal column an extract may carry — names, e-mails, phones, birth dates, payer addresses —
  is dropped at read and never reaches the build), every value as text;
* :class:`CommuneMatcher`, the first-version postcode + city name → INSEE commune matcher
  (accents, case, ``ST``/``SAINT``, hyphens, ``CEDEX``, Paris/Lyon/Marseille arrondissement
  suffixes), and :func:`harmonise_insee_codes` for sources that carry an INSEE code (RNA);
* :class:`MatchTally`, one line of the match report, whose counts reconcile:
  ``rows_read = out_of_scope + matched + unmatched`` and ``matched = exact + rule``.

The input contracts themselves are documented in ``data/README.md``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

ENCODINGS = ("utf-8-sig", "cp1252")
"""Encodings tried in order: UTF-8 (with or without BOM), then Windows-1252 (older RNA dumps)."""

PERSONAL_COLUMN_PATTERN = re.compile(
    r"(e-?mail|phone|mobile|telephone|first_?name|last_?name|prenom|birth|anniversaire|"
    r"payer|benevole|declarant|profile_id)",
    re.IGNORECASE,
)
"""Column names treated as personal data: never read, never written (issue 8's rule)."""

DATE_PATTERN = r"\d{4}-\d{2}-\d{2}"
DATETIME_PATTERN = (
    r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
NO_DATE = "0001-01-01"
"""The RNA's sentinel for "no date" (e.g. the dissolution date of a living association)."""

# Paris, Lyon and Marseille arrondissements municipaux → their commune (INSEE codes).
PLM_ARRONDISSEMENTS: dict[str, str] = {
    **{f"751{n:02d}": "75056" for n in range(1, 21)},
    **{f"6938{n}": "69123" for n in range(1, 10)},
    **{f"132{n:02d}": "13055" for n in range(1, 17)},
}


class SourceError(ValueError):
    """An input file that cannot be used as it is; the message says where and why.

    ``row`` is the 1-based data row (the header is not counted), so data row 1 is line 2 of a
    CSV file without embedded line breaks.
    """

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        self.value = value
        where = []
        if file is not None:
            where.append(f"file {Path(file).name}")
        if row is not None:
            where.append(f"data row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        if value is not None:
            where.append(f"value {value!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


# --------------------------------------------------------------------------------------------
# Reading


def _header(path: Path, sep: str) -> tuple[list[str], str]:
    """The header's column names and the encoding that decodes the file's first block."""
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if not head.strip():
        raise SourceError("the file is empty", file=path)
    for encoding in ENCODINGS:
        try:
            text = head.decode(encoding)
        except UnicodeDecodeError as err:
            # A multi-byte character cut at the block's end is not an encoding error.
            if err.start < len(head) - 4:
                continue
            text = head[: err.start].decode(encoding)
        first_line = text.splitlines()[0] if text.splitlines() else ""
        names = [name.strip().strip('"') for name in first_line.split(sep)]
        return names, encoding
    raise SourceError(f"cannot be decoded as {' or '.join(ENCODINGS)}", file=path)


def read_source_csv(
    path: Path,
    required: Sequence[str],
    optional: Sequence[str] = (),
    sep: str = ",",
) -> pd.DataFrame:
    """Read the contract's columns of a CSV extract, every value as text ("" when empty).

    Only ``required`` and the ``optional`` columns present are read: any other column,
    personal ones included, is dropped at read. Raises :class:`SourceError` for a missing
    or empty file, a wrong separator, a missing column or a malformed line.
    """
    path = Path(path)
    if not path.is_file():
        raise SourceError("file not found", file=path)
    if path.stat().st_size == 0:
        raise SourceError("the file is empty", file=path)
    names, encoding = _header(path, sep)
    missing = [c for c in required if c not in names]
    if missing:
        others = [s for s in (";", ",", "\t", "|") if s != sep]
        if len(names) == 1 and any(s in names[0] for s in others):
            raise SourceError(f"wrong separator: expected {sep!r} between columns", file=path)
        raise SourceError(
            f"missing column (expected columns: {list(required)}; found: {names})",
            file=path,
            column=missing[0],
        )
    columns = [*required, *(c for c in optional if c in names)]
    for encoding_try in dict.fromkeys((encoding, *ENCODINGS)):
        try:
            frame = pd.read_csv(
                path,
                sep=sep,
                usecols=columns,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                encoding=encoding_try,
                engine="c",
            )
            break
        except UnicodeDecodeError:
            continue
        except (pd.errors.ParserError, ValueError) as err:
            raise SourceError(f"unreadable CSV: {err}", file=path) from None
    else:
        raise SourceError(f"cannot be decoded as {' or '.join(ENCODINGS)}", file=path)
    return frame[columns]


def check_pattern(frame: pd.DataFrame, column: str, pattern: str, path: Path, what: str) -> None:
    """Raise :class:`SourceError` at the first non-empty value of ``column`` not matching."""
    values = frame[column]
    bad = (values != "") & ~values.str.fullmatch(pattern)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise SourceError(
            f"not a valid {what}", file=path, row=row + 1, column=column, value=values.iloc[row]
        )


def parse_ids(frame: pd.DataFrame, column: str, path: Path, unique: bool = True) -> pd.Series:
    """Integer identifiers of ``column`` (int64); non-integers and, if ``unique``, duplicates
    raise :class:`SourceError` naming the first offending row."""
    values = frame[column]
    bad = ~values.str.fullmatch(r"\d{1,18}")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise SourceError(
            "not an integer identifier",
            file=path,
            row=row + 1,
            column=column,
            value=values.iloc[row],
        )
    ids = values.astype("int64")
    if unique:
        duplicated = ids.duplicated()
        if duplicated.any():
            row = int(np.flatnonzero(duplicated.to_numpy())[0])
            raise SourceError(
                "duplicated identifier",
                file=path,
                row=row + 1,
                column=column,
                value=values.iloc[row],
            )
    return ids


def drop_personal_columns(columns: Iterable[str]) -> list[str]:
    """The columns that are not personal (see :data:`PERSONAL_COLUMN_PATTERN`)."""
    return [c for c in columns if not PERSONAL_COLUMN_PATTERN.search(c)]


# --------------------------------------------------------------------------------------------
# Commune matching

_CEDEX = re.compile(r"\bCEDEX\b(\s*\d+)?")
_ARRONDISSEMENT = re.compile(r"\s+\d{1,2}\s*(E|EME|ER|ERE)?(\s+ARRONDISSEMENT)?$")
_NON_ALNUM = re.compile(r"[^A-Z0-9]+")


def normalise_city_name(name: str) -> str:
    """Comparable form of a city name: ``"St-Étienne CEDEX 2"`` → ``"SAINT ETIENNE"``.

    Upper case, accents removed (NFKD), ``Œ`` → ``OE``, every run of non-alphanumeric
    characters (hyphens, apostrophes) → one space, ``CEDEX`` and its number removed, a trailing
    arrondissement number (``PARIS 15``, ``LYON 3E``, ``MARSEILLE 8EME ARRONDISSEMENT``) removed,
    leading ``ST``/``STE`` and inner `` ST ``/`` STE `` expanded to ``SAINT``/``SAINTE``.
    """
    text = str(name).upper().replace("Œ", "OE").replace("Æ", "AE")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = _NON_ALNUM.sub(" ", text).strip()
    text = _CEDEX.sub(" ", text).strip()
    text = _ARRONDISSEMENT.sub("", text).strip()
    words = ["SAINT" if w == "ST" else "SAINTE" if w == "STE" else w for w in text.split()]
    return " ".join(words)


def normalise_postcode(value: str) -> str:
    """Five-digit postcode or "" when the value is not a French postcode.

    Spaces are removed; a 4-digit value gets its leading zero back (a postcode of departments
    01–09 read as a number by a spreadsheet).
    """
    text = re.sub(r"\s+", "", str(value))
    if re.fullmatch(r"\d{5}", text):
        return text
    if re.fullmatch(r"\d{4}", text):
        return "0" + text
    return ""


def postcode_departments(postcode: str) -> tuple[str, ...]:
    """Department codes a postcode can belong to: ``20xxx`` → Corsica's two, ``97x`` → three
    characters, otherwise its first two digits."""
    if not postcode:
        return ()
    if postcode.startswith("20"):
        return ("2A", "2B")
    if postcode.startswith(("97", "98")):
        return (postcode[:3],)
    return (postcode[:2],)


MATCH_EXACT = "exact"
MATCH_RULE = "rule"
MATCH_NONE = "unmatched"


class CommuneMatcher:
    """Postcode + city name → INSEE commune code of the commune table given.

    Rules, in order (first version; issue 6 hardens them):

    1. **exact**: the normalised (postcode, name) pair belongs to exactly one commune
       (``codes_postaux`` × ``nom`` of the table);
    2. **rule — name in department**: the name is that of exactly one commune of the
       postcode's department (CEDEX or outdated postcodes, arrondissement postcodes);
    3. **rule — single-commune postcode**: the postcode serves exactly one commune
       (misspelt or abbreviated name);
    4. otherwise **unmatched**, with a reason: ``no location`` (no postcode and no name),
       ``ambiguous`` (several candidates) or ``unknown`` (no candidate).
    """

    def __init__(self, communes: pd.DataFrame) -> None:
        for column in ("code_commune", "nom", "codes_postaux", "code_departement"):
            if column not in communes.columns:
                raise ValueError(f"the commune table lacks column {column!r}")
        names = communes["nom"].map(normalise_city_name)
        pairs = pd.DataFrame(
            {
                "code_commune": communes["code_commune"].to_numpy(),
                "name": names.to_numpy(),
                "postcode": communes["codes_postaux"].fillna("").str.split("|").to_numpy(),
                "dep": communes["code_departement"].to_numpy(),
            }
        ).explode("postcode")
        pairs = pairs[pairs["postcode"].fillna("") != ""]
        self._by_pair = _unique_lookup(pairs, ["postcode", "name"])
        self._by_postcode = _unique_lookup(
            pairs.drop_duplicates(["postcode", "code_commune"]), ["postcode"]
        )
        by_dep = pd.DataFrame(
            {
                "dep": communes["code_departement"].to_numpy(),
                "name": names.to_numpy(),
                "code_commune": communes["code_commune"].to_numpy(),
            }
        )
        self._by_dep_name = _unique_lookup(by_dep, ["dep", "name"])

    def match(self, postcodes: pd.Series, cities: pd.Series) -> pd.DataFrame:
        """Match each (postcode, city) pair; returns a frame aligned on the inputs' index with
        ``code_commune`` (missing when unmatched), ``match`` (exact/rule/unmatched), ``reason``.

        Work is done once per distinct pair, so millions of rows cost little.
        """
        keys = pd.DataFrame(
            {
                "postcode": postcodes.fillna("").astype(str).to_numpy(),
                "city": cities.fillna("").astype(str).to_numpy(),
            }
        )
        distinct = keys.drop_duplicates().reset_index(drop=True)
        results = [
            self._match_one(p, c)
            for p, c in zip(distinct["postcode"], distinct["city"], strict=True)
        ]
        distinct["code_commune"] = [r[0] for r in results]
        distinct["match"] = [r[1] for r in results]
        distinct["reason"] = [r[2] for r in results]
        out = keys.merge(distinct, on=["postcode", "city"], how="left", validate="many_to_one")
        out.index = postcodes.index
        return out[["code_commune", "match", "reason"]]

    def _match_one(self, raw_postcode: str, raw_city: str) -> tuple[str | None, str, str]:
        postcode = normalise_postcode(raw_postcode)
        name = normalise_city_name(raw_city) if raw_city.strip() else ""
        if not postcode and not name:
            return None, MATCH_NONE, "no location"
        ambiguous = False
        if postcode and name:
            code = self._by_pair.get((postcode, name))
            if code is not None:
                return (code, MATCH_EXACT, "") if code else (None, MATCH_NONE, "ambiguous")
        if name:
            found = [self._by_dep_name.get((dep, name)) for dep in postcode_departments(postcode)]
            codes = {c for c in found if c}
            ambiguous |= any(c == "" for c in found)
            if len(codes) == 1 and not ambiguous:
                return codes.pop(), MATCH_RULE, ""
            ambiguous |= len(codes) > 1
        if postcode:
            code = self._by_postcode.get((postcode,))
            if code:
                return code, MATCH_RULE, ""
            ambiguous |= code == ""
        return None, MATCH_NONE, "ambiguous" if ambiguous else "unknown"


def _unique_lookup(frame: pd.DataFrame, key: list[str]) -> dict[tuple[str, ...], str]:
    """Key → commune code, or "" where the key is shared by several communes (ambiguous)."""
    grouped = frame.groupby(key, sort=False)["code_commune"]
    codes = grouped.first().where(grouped.nunique() == 1, "")
    return {
        k if isinstance(k, tuple) else (k,): v
        for k, v in zip(codes.index, codes.to_numpy(), strict=True)
    }


def harmonise_insee_codes(
    codes: pd.Series,
    communes: pd.DataFrame,
    code_links: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Place INSEE commune codes in the commune table.

    **exact** when the code is a commune of the table; **rule** when it is a Paris/Lyon/
    Marseille arrondissement (:data:`PLM_ARRONDISSEMENTS`) or a code of ``code_links`` (e.g.
    communes déléguées, former codes: ``{code: current code}``, such as built from
    :func:`barometre.geography.load_commune_links`) whose commune is in the table;
    otherwise **unmatched** with reason ``no code`` or ``code not in commune table``.
    Returns a frame aligned on ``codes``: ``code_commune``, ``match``, ``reason``.
    """
    known = set(communes["code_commune"])
    text = codes.fillna("").astype(str).str.strip()
    direct = text.where(text.isin(known))
    links = {**PLM_ARRONDISSEMENTS, **(dict(code_links) if code_links else {})}
    linked = text.map(links)
    linked = linked.where(linked.isin(known))
    out = pd.DataFrame(index=codes.index)
    out["code_commune"] = direct.fillna(linked)
    out["match"] = np.where(
        direct.notna(), MATCH_EXACT, np.where(linked.notna(), MATCH_RULE, MATCH_NONE)
    )
    out["reason"] = np.where(
        out["code_commune"].notna(),
        "",
        np.where(text == "", "no code", "code not in commune table"),
    )
    return out


# --------------------------------------------------------------------------------------------
# Match report


@dataclass
class MatchTally:
    """One line of the match report: what a count was built from, and what was left out.

    ``out_of_scope`` rows fall outside the count's definition (another year, a state or type
    that does not count); the others are ``matched`` to a commune (``exact`` or by ``rule``)
    or ``unmatched``. ``examples`` lists a few unmatched values with their reason.
    """

    source: str
    count: str
    file: str
    rows_read: int = 0
    out_of_scope: int = 0
    matched_exact: int = 0
    matched_rule: int = 0
    unmatched: int = 0
    examples: list[str] = field(default_factory=list)

    @property
    def matched(self) -> int:
        return self.matched_exact + self.matched_rule

    def check(self) -> None:
        if self.rows_read != self.out_of_scope + self.matched + self.unmatched:
            raise AssertionError(f"match report of {self.source} does not reconcile: {self}")

    def as_row(self) -> dict[str, object]:
        self.check()
        in_scope = self.matched + self.unmatched
        return {
            "source": self.source,
            "count": self.count,
            "file": self.file,
            "rows_read": self.rows_read,
            "out_of_scope": self.out_of_scope,
            "in_scope": in_scope,
            "matched": self.matched,
            "matched_exact": self.matched_exact,
            "matched_rule": self.matched_rule,
            "unmatched": self.unmatched,
            "match_rate": round(self.matched / in_scope, 6) if in_scope else None,
            "unmatched_examples": " | ".join(self.examples),
        }


def tally(
    source: str,
    count: str,
    file: str,
    rows_read: int,
    in_scope: pd.Series,
    match: pd.Series,
    labels: pd.Series | None = None,
    reasons: pd.Series | None = None,
    weights: pd.Series | None = None,
    n_examples: int = 5,
) -> MatchTally:
    """Build a :class:`MatchTally` from per-record flags (``weights``: rows per record, for
    pre-aggregated records such as participations grouped by organisation)."""
    w = weights if weights is not None else pd.Series(1, index=in_scope.index)
    w = w.astype("int64")
    scoped = in_scope.to_numpy(bool)
    kinds = match.to_numpy()
    exact = int(w[scoped & (kinds == MATCH_EXACT)].sum())
    rule = int(w[scoped & (kinds == MATCH_RULE)].sum())
    lost = scoped & (kinds == MATCH_NONE)
    unmatched = int(w[lost].sum())
    examples: list[str] = []
    if lost.any() and labels is not None:
        sample = pd.DataFrame(
            {
                "label": labels[lost].astype(str),
                "reason": reasons[lost] if reasons is not None else "",
            }
        )
        sample = sample.drop_duplicates().head(n_examples)
        examples = [
            f"{r}: {lab}" if r else lab
            for lab, r in zip(sample["label"], sample["reason"], strict=True)
        ]
    return MatchTally(
        source=source,
        count=count,
        file=file,
        rows_read=int(rows_read),
        out_of_scope=int(rows_read) - exact - rule - unmatched,
        matched_exact=exact,
        matched_rule=rule,
        unmatched=unmatched,
        examples=examples,
    )
