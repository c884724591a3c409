"""Readers of the two real layouts of a Make.org-style consultation (contracts in ``data/README.md``).

* **counts** — the per-proposal counters of Make.org's data team: ``id, date_created,
  keywords`` and, for each counter c ∈ {``verified``, ``sequence``}, the three votes
  ``vote_<c>_{agree,disagree,neutral}`` and their nine qualifications; optional proposal text,
  author département, author postcode and segment (aliases: :data:`OPTIONAL_ALIASES`).
* **opendata** — the table Make.org publishes: ``proposition, auteur, age, votes, adhesion,
  engagement, score``.

Both go through the project's machinery (:mod:`barometre.sources.reading` and
:mod:`barometre.sources.contracts`): file-level defects are hard errors
(:class:`~barometre.sources.common.SourceError`), a row breaking its contract is quarantined
with its reason, ``rows_read = accepted + quarantined`` is checked on every read, and the file
is unusable above ``max_quarantine_share`` of quarantined rows.

Personal data: the author's first name (``auteur``) and age are read only to count, in memory,
the distinct authors of each age band (:data:`AGE_BANDS`; an author is a pair first name + age,
so two namesakes of the same age count once: a count that can only err low, on the safe side);
both columns are dropped as soon as the bands are counted, and only bands of at least
:data:`~barometre.disclosure.DEFAULT_THRESHOLD` authors are published
(:attr:`Consultation.age_bands`). Neither appears in the proposals, the quarantine or any
message.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from barometre.disclosure import DEFAULT_THRESHOLD
from barometre.sources.common import SourceError
from barometre.sources.contracts import (
    DEFAULT_MAX_QUARANTINE_SHARE,
    FAILURE_COLUMNS,
    PLATFORM_MAX_DATE,
    Contract,
    Field,
    apply_contract,
    enforce_tolerance,
    quarantine_rows,
    summarise_failures,
)
from barometre.sources.reading import detect_encoding, parquet_schema, read_header, read_table

Layout = Literal["counts", "opendata"]

COUNTERS = ("verified", "sequence")
"""The two counters of the counts layout: trusted votes, and votes cast in the random voting
sequence (12 proposals shown at random)."""
VOTES = ("agree", "disagree", "neutral")
QUALIFICATIONS: dict[str, tuple[str, ...]] = {
    "agree": ("like", "doable", "platitudeagree"),
    "disagree": ("noway", "impossible", "platitudedisagree"),
    "neutral": ("donotunderstand", "noopinion", "donotcare"),
}
"""Qualifications of each vote (platform labels: « Coup de cœur », « Réaliste », « Banalité »;
« Surtout pas ! », « Infaisable », « Banalité »; « Pas compris », « Pas d'avis »,
« Indifférent »)."""
QUALIFICATION_LABELS = {
    "like": "Coup de cœur", "doable": "Réaliste", "platitudeagree": "Banalité",
    "noway": "Surtout pas !", "impossible": "Infaisable", "platitudedisagree": "Banalité",
    "donotunderstand": "Pas compris", "noopinion": "Pas d'avis", "donotcare": "Indifférent",
}  # fmt: skip


def vote_column(counter: str, vote: str, qualification: str | None = None) -> str:
    """``vote_<counter>_<vote>[_<qualification>]``."""
    return f"vote_{counter}_{vote}" + (f"_{qualification}" if qualification else "")


VOTE_COLUMNS = [vote_column(c, v) for c in COUNTERS for v in VOTES]
QUALIFICATION_COLUMNS = [
    vote_column(c, v, q) for c in COUNTERS for v in VOTES for q in QUALIFICATIONS[v]
]
COUNT_COLUMNS = [*VOTE_COLUMNS, *QUALIFICATION_COLUMNS]

MAKEORG_MIN_DATE = "2016-01-01"
"""Make.org opened in 2016: an earlier creation date is out of range."""

OPTIONAL_ALIASES: dict[str, tuple[str, ...]] = {
    "content": ("content", "proposition", "proposal", "texte"),
    "author_department": ("author_department", "departement", "department", "code_departement"),
    "author_postal_code": ("author_postal_code", "code_postal", "postal_code", "author_postcode"),
    "segment": ("segment",),
}
"""Optional columns of the counts layout and the names accepted for them (the first found is
read, under the first name)."""

COUNTS_CONTRACT = Contract(
    name="consultation_counts",
    key="id",
    sep=",",
    fields=(
        Field("id", description="proposal id (Make.org: a UUID)"),
        Field("date_created", "datetime", nullable=True, min_date=MAKEORG_MIN_DATE,
              max_date=PLATFORM_MAX_DATE, min_date_label="before Make.org existed",
              description="creation of the proposal"),
        Field("keywords", nullable=True, description="pipe-separated keywords (themes)"),
        *(Field(c, "count", description="votes") for c in VOTE_COLUMNS),
        *(Field(c, "count", description="qualified votes") for c in QUALIFICATION_COLUMNS),
        Field("content", required=False, nullable=True, description="the proposal (« Il faut… »)"),
        Field("author_department", required=False, nullable=True,
              description="author's département (placed by matching, never quarantined)"),
        Field("author_postal_code", required=False, nullable=True, description="author's postcode"),
        Field("segment", required=False, nullable=True, description="a segment of the consultation"),
    ),
)  # fmt: skip
"""Contract of the counts layout (the data team's per-proposal export)."""

_SHARE_PATTERN = r"[0-9]{1,3}(?:[.,][0-9]+)?\s?%?"
_SCORE_PATTERN = r"-?[0-9]{1,6}(?:[.,][0-9]+)?"

OPENDATA_CONTRACT = Contract(
    name="consultation_opendata",
    key=None,
    sep=",",
    fields=(
        Field("proposition", description="the proposal (« Il faut… »)"),
        Field("votes", "count", description="votes on the proposal"),
        Field("adhesion", "code", pattern=_SHARE_PATTERN,
              pattern_label="a share (0–1, or a percentage)", description="share of « pour » votes"),
        Field("engagement", "code", nullable=True, pattern=_SHARE_PATTERN,
              pattern_label="a share (0–1, or a percentage)", description="Make.org's engagement rate"),
        Field("score", "code", nullable=True, pattern=_SCORE_PATTERN,
              pattern_label="a decimal number", description="Make.org's published score"),
    ),
)  # fmt: skip
"""Contract of the open-data layout. ``auteur`` (a first name) is never read; ``age`` is read
apart from the contract, straight into age bands (never checked with its value in a message)."""

OPENDATA_PERSONAL = ("auteur", "age")

AGE_BANDS: tuple[tuple[int, int, str], ...] = (
    (0, 17, "moins de 18 ans"),
    (18, 24, "18-24 ans"),
    (25, 34, "25-34 ans"),
    (35, 49, "35-49 ans"),
    (50, 64, "50-64 ans"),
    (65, 120, "65 ans et plus"),
)
"""Age bands of the authors (inclusive bounds); any other value, or none, is « non renseigné »."""
AGE_UNKNOWN = "non renseigné"


@dataclass
class Consultation:
    """A consultation read from one file: one row per accepted proposal, and what was left out.

    ``proposals`` (counts layout): ``id``, ``date_created``, ``keywords`` (text; "" when empty),
    the optional columns present, and :data:`COUNT_COLUMNS` as int64. (open-data layout): ``id``
    (``row-<data row>``), ``content``, ``votes`` (int64), ``adhesion``, ``engagement`` (shares
    in [0, 1], NaN when empty), ``score`` (float), ``agree`` (votes × adhesion, rounded).
    """

    layout: Layout
    path: Path
    proposals: pd.DataFrame
    rows_read: int
    quarantine: pd.DataFrame
    """``file``, ``data_row``, ``reason`` and the contract's columns as read (never the author's
    name or age)."""
    failures: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    age_bands: pd.DataFrame | None = None
    """Open-data layout: ``age_band``, ``authors``, ``proposals`` (text: a count, or ``< 11``)."""
    encoding: str = ""

    @property
    def quarantined(self) -> int:
        return len(self.quarantine)

    @property
    def accepted(self) -> int:
        return len(self.proposals)

    def reasons(self, examples: int = 1) -> pd.DataFrame:
        return summarise_failures(self.failures, examples)

    def lines(self) -> list[str]:
        """Rows read / accepted / quarantined with the reasons (as ``barometre validate``)."""
        from barometre.sources.report import format_reasons

        out = [
            f"consultation ({self.layout} layout): {self.path.name}",
            f"  rows read    {self.rows_read:,}",
            f"  accepted     {self.accepted:,}",
            f"  quarantined  {self.quarantined:,}",
        ]
        reasons = self.reasons()
        if len(reasons):
            out.append("  reasons:")
            out += [f"    {line}" for line in format_reasons(reasons, limit=10)]
        out += [f"  note: {n}" for n in self.notes]
        return out


def _columns_of(path: Path, sep: str) -> list[str]:
    if Path(path).suffix.lower() == ".parquet":
        return list(parquet_schema(path).names)
    if not Path(path).is_file():
        raise SourceError("file not found", file=path)
    if Path(path).stat().st_size == 0:
        raise SourceError("the file is empty", file=path)
    return read_header(path, sep, detect_encoding(path))


def detect_layout(path: Path) -> Layout:
    """``counts`` or ``opendata`` from the file's header; :class:`SourceError` when neither."""
    names = set(_columns_of(path, ","))
    if any(n.startswith("vote_") for n in names) or {"id", "date_created"} <= names:
        return "counts"
    if {"proposition", "votes"} <= names:
        return "opendata"
    shown = ", ".join(sorted(names)[:8]) + (", …" if len(names) > 8 else "")
    raise SourceError(
        "not a consultation export: expected the counts layout (id, vote_verified_agree, …) or "
        f"the open-data layout (proposition, votes, adhesion, …); found columns {shown}",
        file=path,
    )


def _resolve_aliases(names: list[str], contract: Contract) -> tuple[Contract, dict[str, str]]:
    """The contract with each optional field named as in the file (first alias found), and the
    renaming back to the contract's names."""
    fields, back = [], {}
    for spec in contract.fields:
        aliases = OPTIONAL_ALIASES.get(spec.name)
        if aliases and not spec.required:
            found = next((a for a in aliases if a in names), None)
            if found is not None and found != spec.name:
                back[found] = spec.name
                spec = replace(spec, name=found)
        fields.append(spec)
    return replace(contract, fields=tuple(fields)), back


def _qualification_failures(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    """One failure per qualification count larger than the votes it qualifies."""
    records = []
    for counter in COUNTERS:
        for vote in VOTES:
            total_col = vote_column(counter, vote)
            total = pd.to_numeric(frame[total_col], errors="coerce")
            for q in QUALIFICATIONS[vote]:
                col = vote_column(counter, vote, q)
                value = pd.to_numeric(frame[col], errors="coerce")
                bad = (value > total).to_numpy()
                if bad.any():
                    records.append(pd.DataFrame({
                        "file": label,
                        "data_row": frame.index.to_numpy()[bad],
                        "column": col,
                        "message": f"more qualified votes than {total_col}",
                        "value": frame[col].to_numpy()[bad].astype(str),
                        "detail": [f" ({t})" for t in frame[total_col].to_numpy()[bad]],
                    }))  # fmt: skip
    if not records:
        return pd.DataFrame({c: pd.Series([], dtype="int64" if c == "data_row" else object) for c in FAILURE_COLUMNS})  # fmt: skip
    return pd.concat(records, ignore_index=True)


def _duplicate_failures(frame: pd.DataFrame, ok: np.ndarray, key: str, label: str) -> pd.DataFrame:
    """Later repeats of the key among the rows that passed every check (the first is kept)."""
    passing = np.flatnonzero(ok)
    keys = frame[key].to_numpy()[passing]
    later = pd.Series(keys).duplicated(keep="first").to_numpy()
    rows = frame.index.to_numpy()[passing]
    first_at = {k: r for k, r in zip(keys[~later], rows[~later], strict=True)}
    where = f" of {label}" if label else ""
    return pd.DataFrame({
        "file": label,
        "data_row": rows[later].astype("int64"),
        "column": key,
        "message": "duplicated identifier",
        "value": keys[later].astype(str),
        "detail": [f" (first at data row {first_at[k]}{where})" for k in keys[later]],
    })  # fmt: skip


def read_counts(
    path: Path, *, max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE
) -> Consultation:
    """Read and check a consultation in the counts layout (CSV ``,`` or Parquet).

    Besides each column's check, a qualification count larger than the votes it qualifies
    (``vote_verified_agree_like`` > ``vote_verified_agree``) quarantines the row, and a repeated
    ``id`` among the rows that passed every check is quarantined (the first is kept).
    """
    path = Path(path)
    names = _columns_of(path, ",")
    contract, back = _resolve_aliases(names, COUNTS_CONTRACT)
    raw = read_table(path, contract.required, contract.optional, sep=contract.sep)
    label = path.name
    # Field checks first (no key, no tolerance: both are applied below, once the row-level
    # consistency checks are known).
    checked = apply_contract([(raw, label)], replace(contract, key=None), max_quarantine_share=1.0)
    rows = raw.frame
    failed = checked.failures
    passed = ~rows.index.isin(failed["data_row"].to_numpy())
    consistency = _qualification_failures(rows[passed], label)
    failed = pd.concat([failed, consistency], ignore_index=True)
    ok = ~rows.index.isin(failed["data_row"].to_numpy())
    duplicates = _duplicate_failures(rows, ok, "id", label)
    failed = pd.concat([failed, duplicates], ignore_index=True)
    failed = failed.sort_values(["file", "data_row"], kind="mergesort").reset_index(drop=True)
    ok = ~rows.index.isin(failed["data_row"].to_numpy())
    quarantine = quarantine_rows(failed, rows.assign(file=label), contract).rename(columns=back)
    enforce_tolerance(path, raw.rows_read, len(quarantine), summarise_failures(failed), max_quarantine_share)  # fmt: skip
    accepted = rows[ok].rename(columns=back).copy()
    for column in COUNT_COLUMNS:
        accepted[column] = accepted[column].astype("int64")
    for column in accepted.columns.difference(COUNT_COLUMNS):
        accepted[column] = accepted[column].astype(object)
    proposals = accepted.reset_index()
    consultation = Consultation(
        layout="counts", path=path, proposals=proposals, rows_read=raw.rows_read,
        quarantine=quarantine, failures=failed, notes=list(checked.notes),
        encoding=raw.encoding or raw.file_format,
    )  # fmt: skip
    if back:
        consultation.notes.append(
            "columns read under another name: " + ", ".join(f"{a} → {b}" for a, b in back.items())
        )
    _reconcile(consultation)
    return consultation


def share_scale(values: pd.Series) -> float:
    """100.0 when a column of shares is written in percent (a ``%`` sign, or a median above 1),
    else 1.0."""
    text = values.astype(str).str.strip()
    number = pd.to_numeric(text.str.rstrip("%").str.strip().str.replace(",", ".", regex=False), errors="coerce")  # fmt: skip
    return 100.0 if bool(text.str.endswith("%").any() or number.median() > 1) else 1.0


def _share(values: pd.Series, scale: float) -> pd.Series:
    """Text shares (``0.72``, ``72``, ``72,5 %``; "" → NaN) as floats divided by ``scale``."""
    text = (
        values.astype(str)
        .str.strip()
        .str.rstrip("%")
        .str.strip()
        .str.replace(",", ".", regex=False)
    )
    return pd.to_numeric(text, errors="coerce") / scale


def age_band(ages: pd.Series) -> pd.Series:
    """Age (text) → band label of :data:`AGE_BANDS` (« non renseigné » for anything else)."""
    number = pd.to_numeric(ages.astype(str).str.strip(), errors="coerce")
    integral = number.notna() & (number == np.floor(number.fillna(0)))
    out = pd.Series(AGE_UNKNOWN, index=ages.index, dtype=object)
    for low, high, label in AGE_BANDS:
        out[integral & (number >= low) & (number <= high)] = label
    return out


def protected_band_counts(
    bands: pd.Series, authors: pd.Series | None = None, threshold: int = DEFAULT_THRESHOLD
) -> pd.DataFrame:
    """``age_band``, ``authors``, ``proposals`` per age band, as published.

    ``bands``: the band of each proposal; ``authors``: a key of its author (first name + age;
    None when the file names no author: the authors column is then « n.d. » and the rule reads
    the proposals). A band of fewer than ``threshold`` authors shows ``< threshold`` for both
    counts; when exactly one band is suppressed the smallest other band is too (the total is
    known: it would give the suppressed one back)."""
    order = [label for *_, label in AGE_BANDS] + [AGE_UNKNOWN]
    proposals = bands.value_counts().reindex(order, fill_value=0)
    proposals = proposals[proposals > 0]
    if authors is not None:
        people = (
            pd.DataFrame({"band": bands, "author": authors}).groupby("band")["author"].nunique()
        )
        people = people.reindex(proposals.index, fill_value=0)
    else:
        people = proposals
    small = people < threshold
    if small.sum() == 1 and len(people) > 1:
        small[people[~small].idxmin()] = True
    hidden = f"< {threshold}"
    return pd.DataFrame({
        "age_band": proposals.index,
        "authors": [hidden if s else (str(int(c)) if authors is not None else "n.d.") for c, s in zip(people, small, strict=True)],
        "proposals": [hidden if s else str(int(c)) for c, s in zip(proposals, small, strict=True)],
    })  # fmt: skip


def _author_keys(names: pd.Series, ages: pd.Series) -> pd.Series:
    """A pseudonymous key per (first name, age) pair, used only to count distinct authors."""
    text = names.astype(str).str.strip().str.lower() + "\x00" + ages.astype(str).str.strip()
    return pd.Series(pd.util.hash_array(text.to_numpy(dtype=object)), index=names.index)


def read_opendata(
    path: Path, *, max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE
) -> Consultation:
    """Read and check a consultation in Make.org's open-data layout (CSV ``,`` or Parquet).

    ``auteur`` and ``age`` only serve to count the authors per age band on reading (in
    :attr:`Consultation.age_bands`, small bands suppressed), then are dropped. Shares are read on the column's
    scale (:func:`share_scale`: percent when a value carries ``%`` or the median is above 1);
    a proposal whose ``adhesion`` is then above 1 is quarantined.
    """
    path = Path(path)
    names = _columns_of(path, ",")
    contract = OPENDATA_CONTRACT
    with_age = "age" in names
    personal = [c for c in OPENDATA_PERSONAL if c in names] if with_age else []
    known = [*contract.columns, *OPENDATA_PERSONAL]
    raw = read_table(path, contract.required, [*contract.optional, *personal], sep=",", known=known)  # fmt: skip
    label = path.name
    ages = raw.frame.pop("age") if with_age else None
    keys = _author_keys(raw.frame.pop("auteur"), ages) if "auteur" in personal else None
    checked = apply_contract([(raw, label)], contract, max_quarantine_share=1.0)
    rows = raw.frame
    failed = checked.failures
    passed = ~rows.index.isin(failed["data_row"].to_numpy())
    scales = {c: share_scale(rows.loc[passed, c][rows.loc[passed, c] != ""]) for c in ("adhesion", "engagement") if c in rows}  # fmt: skip
    adhesion = _share(rows.loc[passed, "adhesion"], scales["adhesion"])
    over = adhesion > 1
    if over.any():
        failed = pd.concat([failed, pd.DataFrame({
            "file": label, "data_row": adhesion.index[over].to_numpy().astype("int64"),
            "column": "adhesion", "message": "a share above 1 (100 %)",
            "value": rows.loc[adhesion.index[over], "adhesion"].astype(str).to_numpy(), "detail": "",
        })], ignore_index=True)  # fmt: skip
    failed = failed.sort_values(["file", "data_row"], kind="mergesort").reset_index(drop=True)
    ok = ~rows.index.isin(failed["data_row"].to_numpy())
    quarantine = quarantine_rows(failed, rows.assign(file=label), contract)
    enforce_tolerance(path, raw.rows_read, len(quarantine), summarise_failures(failed), max_quarantine_share)  # fmt: skip
    accepted = rows[ok]
    votes = accepted["votes"].astype("int64")
    proposals = pd.DataFrame({
        "data_row": accepted.index.to_numpy(),
        "id": [f"row-{r}" for r in accepted.index],
        "content": accepted["proposition"].astype(object).to_numpy(),
        "votes": votes.to_numpy(),
        "adhesion": _share(accepted["adhesion"], scales["adhesion"]).to_numpy(dtype=float),
        "engagement": (_share(accepted["engagement"], scales["engagement"]).to_numpy(dtype=float) if "engagement" in accepted else np.nan),
        "score": (pd.to_numeric(accepted["score"].str.replace(",", ".", regex=False), errors="coerce").to_numpy(dtype=float) if "score" in accepted else np.nan),
    })  # fmt: skip
    proposals["agree"] = np.rint(proposals["votes"] * proposals["adhesion"]).astype("int64")
    notes = list(checked.notes)
    present = [c for c in OPENDATA_PERSONAL if c in names]
    if present:
        notes.insert(0, f"personal columns ({', '.join(present)}): read only to count the authors per age band, then dropped"
                     if with_age else "personal column 'auteur' never read (no age column: no age bands)")  # fmt: skip
    bands = protected_band_counts(
        age_band(ages.loc[accepted.index]), keys.loc[accepted.index] if keys is not None else None
    ) if ages is not None else None  # fmt: skip
    consultation = Consultation(
        layout="opendata", path=path, proposals=proposals, rows_read=raw.rows_read,
        quarantine=quarantine, failures=failed, notes=notes, age_bands=bands,
        encoding=raw.encoding or raw.file_format,
    )  # fmt: skip
    _reconcile(consultation)
    return consultation


def read_consultation(
    path: Path,
    layout: Layout | None = None,
    *,
    max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE,
) -> Consultation:
    """Read a consultation in ``layout`` (detected from the header when None)."""
    layout = layout or detect_layout(path)
    if layout == "counts":
        return read_counts(path, max_quarantine_share=max_quarantine_share)
    if layout == "opendata":
        return read_opendata(path, max_quarantine_share=max_quarantine_share)
    raise ValueError(f"unknown layout {layout!r}: counts or opendata")


def _reconcile(consultation: Consultation) -> None:
    """rows read = accepted + quarantined, every quarantined row once."""
    q = consultation.quarantine
    if consultation.rows_read != consultation.accepted + consultation.quarantined or q["data_row"].duplicated().any():  # fmt: skip
        raise AssertionError(
            f"{consultation.path.name}: counts do not reconcile ({consultation.rows_read} read, "
            f"{consultation.accepted} accepted, {consultation.quarantined} quarantined)"
        )
