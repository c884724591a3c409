"""Applying a contract to tables read in memory: accepted rows, quarantined rows and their
reasons, the tolerance that makes a file unusable, and the accepted records once typed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaError, SchemaErrors

from barometre.sources.common import SourceError
from barometre.sources.contracts.checks import contract_checks, text_schema
from barometre.sources.contracts.model import (
    DEFAULT_MAX_QUARANTINE_SHARE,
    MAX_ID,
    TEXT_DTYPE,
    Contract,
)
from barometre.sources.reading import RawTable


@dataclass
class Checked:
    """A table after its contract: accepted rows, quarantined rows and why."""

    contract: Contract
    files: list[str]
    rows_read: int
    accepted: pd.DataFrame
    """Accepted rows (text columns; ``file`` column when several files), indexed by data row."""
    quarantine: pd.DataFrame
    """One row per quarantined data row: ``file``, ``data_row``, ``reason`` and the contract's
    columns as read ("" for a malformed row, whose fields could not be told apart)."""
    failures: pd.DataFrame
    """One row per failing value: ``file``, ``data_row``, ``column``, ``message``, ``value``."""
    notes: list[str] = field(default_factory=list)
    layouts: list[str] = field(default_factory=list)
    encodings: list[str] = field(default_factory=list)

    @property
    def quarantined(self) -> int:
        return len(self.quarantine)

    def reasons(self, examples: int = 1) -> pd.DataFrame:
        """Failures grouped by (column, message): ``rows`` (data rows concerned) and the first
        ``example`` (file, data row, value), most frequent first."""
        return summarise_failures(self.failures, examples)


FAILURE_COLUMNS = ("file", "data_row", "column", "message", "value", "detail")


def summarise_failures(failures: pd.DataFrame, examples: int = 1) -> pd.DataFrame:
    """Failures grouped by (column, message), most frequent first, with examples."""
    if failures.empty:
        return pd.DataFrame(columns=["column", "message", "rows", "examples"])
    ordered = failures.sort_values(["file", "data_row"], kind="mergesort")
    groups = ordered.groupby(["column", "message"], sort=False)
    rows = groups["data_row"].size().rename("rows")

    def sample(group: pd.DataFrame) -> str:
        return ", ".join(
            f"data row {r}" + (f" of {f}" if f else "") + (f" ({v!r})" if c else "")
            for f, r, v, c in zip(group["file"], group["data_row"], group["value"], group["column"], strict=True)
        )  # fmt: skip

    shown = groups.head(examples).groupby(["column", "message"], sort=False)[list(ordered.columns)]
    example = shown.apply(sample).rename("examples")
    summary = pd.concat([rows, example], axis=1).reset_index()
    return summary.sort_values(["rows", "column", "message"], ascending=[False, True, True], kind="mergesort").reset_index(drop=True)  # fmt: skip


def describe_reason(column: str, message: str, value: str, detail: str = "") -> str:
    """``column 'value': message`` (or the message alone for a row that was not split)."""
    where = f"{column} {value!r}: " if column else ""
    return f"{where}{message}{detail}"


def check_table(
    raw: RawTable,
    contract: Contract,
    *,
    file_label: str = "",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the contract's pandera schema on one raw table: returns (``rows``, ``failures``)
    where ``rows`` is the raw text frame and ``failures`` one row per failing value or
    malformed record (:data:`FAILURE_COLUMNS`)."""
    frame = raw.frame
    schema = text_schema(contract, frame.columns)
    records = []
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as err:
        cases = err.failure_cases
        cases = cases[cases["index"].notna()]
        # A row's reasons in the contract's order of checks (pandera lists them as it goes).
        rank = {(c.column, c.message): i for i, c in enumerate(contract_checks(contract))}
        order = [rank.get((c, m), len(rank)) for c, m in zip(cases["column"].astype(str), cases["check"].astype(str), strict=True)]  # fmt: skip
        cases = cases.assign(
            _row=cases["index"].astype("int64").to_numpy(), _rank=order
        ).sort_values(["_row", "_rank"], kind="mergesort")
        records.append(
            pd.DataFrame(
                {
                    "file": file_label,
                    "data_row": cases["index"].astype("int64").to_numpy(),
                    "column": cases["column"].astype(str).to_numpy(),
                    "message": cases["check"].astype(str).to_numpy(),
                    "value": cases["failure_case"].astype(str).to_numpy(),
                    "detail": "",
                }
            )
        )
    if len(raw.malformed):
        records.append(
            pd.DataFrame(
                {
                    "file": file_label,
                    "data_row": raw.malformed["data_row"].to_numpy(),
                    "column": "",
                    "message": raw.malformed["reason"].to_numpy(),
                    "value": "",
                    "detail": "",
                }
            )
        )
    failures = (
        pd.concat(records, ignore_index=True)
        if records
        else pd.DataFrame({c: pd.Series([], dtype="int64" if c == "data_row" else object) for c in FAILURE_COLUMNS})
    )  # fmt: skip
    return frame, failures


def _repeated_keys(rows: pd.DataFrame, ok: np.ndarray, key: str) -> pd.DataFrame | None:
    """Failures of the rows that repeat the ``key`` of an earlier row (None when none does),
    and ``ok`` set to False for them. Only rows that passed their checks (``ok``) compete for
    the key; among them the first wins."""
    passing = np.flatnonzero(ok)
    keys = rows[key].to_numpy()[passing]
    later = pd.Series(keys).duplicated(keep="first").to_numpy()
    if not later.any():
        return None
    files = rows["file"].to_numpy()[passing]
    data_rows = rows.index.to_numpy()[passing]
    first_at = {
        k: (f, r) for k, f, r in zip(keys[~later], files[~later], data_rows[~later], strict=True)
    }
    details = [
        f" (first at data row {first_at[k][1]}"
        + (f" of {first_at[k][0]}" if first_at[k][0] else "")
        + ")"
        for k in keys[later]
    ]
    ok[passing[later]] = False
    return pd.DataFrame(
        {
            "file": files[later],
            "data_row": data_rows[later],
            "column": key,
            "message": "duplicated identifier",
            "value": keys[later],
            "detail": details,
        }
    )


def unread_column_notes(
    personal: Sequence[str], ignored: Sequence[str], label: str = ""
) -> list[str]:
    """Notes naming the columns of a file left unread: ``personal`` ones, and those ``ignored``
    (outside the contract); ``label``: the file, when a source has several."""
    where = f" ({label})" if label else ""
    notes = []
    if personal:
        notes.append(f"personal columns not read{where}: {', '.join(personal)}")
    if ignored:
        notes.append(f"columns outside the contract, ignored{where}: {', '.join(ignored)}")
    return notes


def _reading_notes(tables: Sequence[tuple[RawTable, str]]) -> list[str]:
    """The columns each table left unread (:func:`unread_column_notes`)."""
    return [
        note
        for raw, label in tables
        for note in unread_column_notes(raw.personal_columns, raw.ignored_columns, label)
    ]


def apply_contract(
    tables: Sequence[tuple[RawTable, str]],
    contract: Contract,
    *,
    max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE,
    layouts: Sequence[str] = (),
) -> Checked:
    """Check one or several raw tables of the same contract (e.g. RNA department files):
    quarantine failing rows and later repeats of the key, enforce the tolerance.

    ``tables``: (raw table, file label) pairs; the label ("" for a single file) is recorded
    with each row. Raises :class:`SourceError` when the result is unusable (see the module
    docstring).
    """
    frames, failures = [], []
    for raw, label in tables:
        frame, failed = check_table(raw, contract, file_label=label)
        frames.append(frame.assign(file=label))
        failures.append(failed)
    rows = pd.concat(frames) if len(frames) > 1 else frames[0]
    failed = pd.concat(failures, ignore_index=True)
    rows_read = sum(raw.rows_read for raw, _ in tables)
    bad = pd.MultiIndex.from_frame(failed[["file", "data_row"]]) if len(failed) else pd.MultiIndex.from_tuples([], names=["file", "data_row"])  # fmt: skip
    position = pd.MultiIndex.from_arrays([rows["file"].to_numpy(), rows.index.to_numpy()], names=["file", "data_row"])  # fmt: skip
    ok = ~position.isin(bad)
    if contract.key is not None and contract.key in rows.columns:
        duplicates = _repeated_keys(rows, ok, contract.key)
        if duplicates is not None:
            failed = pd.concat([failed, duplicates], ignore_index=True)
    failed = failed.sort_values(["file", "data_row"], kind="mergesort").reset_index(drop=True)
    accepted = rows[ok]
    if len(tables) == 1:
        accepted = accepted.drop(columns="file")
    quarantine = quarantine_rows(failed, rows, contract)
    checked = Checked(
        contract=contract,
        files=[raw.path.name for raw, _ in tables],
        rows_read=rows_read,
        accepted=accepted,
        quarantine=quarantine,
        failures=failed,
        notes=_reading_notes(tables),
        layouts=list(layouts),
        encodings=[raw.encoding or raw.file_format for raw, _ in tables],
    )
    enforce_tolerance(
        tables[0][0].path if len(tables) == 1 else tables[0][0].path.parent,
        rows_read,
        len(quarantine),
        checked.reasons(),
        max_quarantine_share,
    )
    return checked


def quarantine_rows(failed: pd.DataFrame, rows: pd.DataFrame, contract: Contract) -> pd.DataFrame:
    """One row per quarantined data row, with its reasons joined and its values as read."""
    columns = ["file", "data_row", "reason", *[c for c in contract.columns if c in rows.columns]]
    if failed.empty:
        return pd.DataFrame(
            {c: pd.Series([], dtype="int64" if c == "data_row" else object) for c in columns}
        )
    text = [
        describe_reason(c, m, v, d)
        for c, m, v, d in zip(failed["column"], failed["message"], failed["value"], failed["detail"], strict=True)
    ]  # fmt: skip
    reasons = (
        failed.assign(text=text)
        .groupby(["file", "data_row"], sort=True)["text"]
        .agg("; ".join)
        .rename("reason")
        .reset_index()
    )
    values = rows.reset_index().drop_duplicates(["file", "data_row"])
    out = reasons.merge(values, on=["file", "data_row"], how="left").fillna("")
    return out[columns]


def enforce_tolerance(
    path: object,
    rows_read: int,
    quarantined: int,
    reasons: pd.DataFrame,
    max_quarantine_share: float,
) -> None:
    """Raise :class:`SourceError` when no row is accepted or too many are quarantined."""
    if not 0 <= max_quarantine_share <= 1:
        raise ValueError("max_quarantine_share must be between 0 and 1")
    top = "; ".join(
        f"{r.rows} × {r.column + ': ' if r.column else ''}{r.message} (e.g. {r.examples})"
        for r in reasons.head(3).itertuples(index=False)
    )
    if rows_read and quarantined == rows_read:
        raise SourceError(
            f"no data row passes the contract ({rows_read} quarantined): {top}", file=str(path)
        )
    if rows_read and quarantined / rows_read > max_quarantine_share:
        raise SourceError(
            f"{quarantined} of {rows_read} data rows ({quarantined / rows_read:.1%}) break the "
            f"contract, more than the {max_quarantine_share:.0%} tolerated — the file is "
            f"probably misread or mis-exported: {top}",
            file=str(path),
        )


# --------------------------------------------------------------------------------------------
# Accepted records, typed


def accepted_schema(contract: Contract, columns: Sequence[str]) -> pa.DataFrameSchema:
    """Pandera schema of accepted records once typed: identifiers int64 (the key unique),
    everything else text."""
    schema_columns = {}
    for spec in contract.fields:
        if spec.name not in columns:
            continue
        if spec.kind == "id":
            nullable = spec.nullable
            schema_columns[spec.name] = pa.Column(
                "Int64" if nullable else "int64",
                pa.Check.in_range(0, MAX_ID),
                nullable=nullable,
                unique=spec.name == contract.key,
            )
        else:
            schema_columns[spec.name] = pa.Column(TEXT_DTYPE, unique=spec.name == contract.key)
    return pa.DataFrameSchema(schema_columns, name=f"{contract.name} (accepted)", strict=False)


def typed_records(checked: Checked) -> pd.DataFrame:
    """The accepted records with identifiers as integers, checked by :func:`accepted_schema`."""
    frame = checked.accepted.copy()
    for spec in checked.contract.fields:
        if spec.kind == "id" and spec.name in frame.columns:
            values = frame[spec.name]
            if spec.nullable:
                frame[spec.name] = pd.array(values.where(values != "", None), dtype="Int64")
            else:
                frame[spec.name] = values.astype("int64")
    try:
        return accepted_schema(checked.contract, frame.columns).validate(frame)
    except (SchemaError, SchemaErrors) as err:  # a bug of the checks, not of the data
        raise AssertionError(
            f"accepted {checked.contract.name} records break their schema: {err}"
        ) from None
