"""Reading an extract (CSV or Parquet) into text columns, with the file-level checks.

:func:`read_table` returns a :class:`RawTable`: the contract's columns as text (surrounding
spaces stripped, "" for empty), indexed by **data row** (1-based, header excluded, blank lines
skipped), plus the records that could not be split into the header's fields. Only the columns
asked for are read: any other column of the file, personal ones included, never leaves it.

Hard errors (:class:`~barometre.sources.common.SourceError`, nothing is read further):

* file missing, empty (0 bytes or blanks only), or a header without any data row;
* not a text CSV (ZIP/Excel or binary content), UTF-16/32, bytes that are neither UTF-8 nor
  Windows-1252, or UTF-8 and Windows-1252 mixed in one file (re-exported pieces);
* wrong separator, duplicated or missing column in the header;
* a quote left open (a record swallowing the following lines);
* a truncated last line (fewer fields than the header and no final line break: the file was
  cut short, so rows are missing);
* an unreadable Parquet file.

A record with too few or too many fields elsewhere in the file is *malformed*: it is returned
in :attr:`RawTable.malformed` (data row and reason, never its values, which may hold personal
columns) and goes to quarantine.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from barometre.sources.common import PERSONAL_COLUMN_PATTERN, SourceError
from barometre.sources.encoding import BLOCK_SIZE, detect_encoding, python_encoding

_BLOCK = BLOCK_SIZE
_SEPARATORS = (";", ",", "\t", "|")


@dataclass
class RawTable:
    """One extract read as text: the data of a contract before its row-level checks."""

    path: Path
    frame: pd.DataFrame
    """The contract's columns present in the file (text), indexed by data row."""
    rows_read: int
    """Data rows of the file, malformed ones included."""
    malformed: pd.DataFrame
    """``data_row``, ``reason`` of records that could not be split into the header's fields."""
    header: list[str]
    file_format: str
    """``csv`` or ``parquet``."""
    encoding: str = ""
    """``utf-8``, ``utf-8 (BOM)`` or ``cp1252`` for CSV files."""
    ignored_columns: list[str] = field(default_factory=list)
    """Columns of the file outside the contract and its layout (never read)."""
    personal_columns: list[str] = field(default_factory=list)
    """Columns of the file whose name marks personal data (never read)."""


def malformed_frame(data_rows: Sequence[int], reasons: Sequence[str]) -> pd.DataFrame:
    """``data_row`` (int64) and ``reason`` of records not split into the header's fields."""
    return pd.DataFrame(
        {
            "data_row": pd.Series(list(data_rows), dtype="int64"),
            "reason": pd.Series(list(reasons), dtype=object),
        }
    )


def read_header(path: Path, sep: str, encoding: str) -> list[str]:
    """Column names of the first line (quotes removed, spaces stripped)."""
    with path.open("r", encoding=python_encoding(encoding), newline="") as handle:
        first = handle.readline()
    names = next(csv.reader(io.StringIO(first), delimiter=sep), [])
    return [name.strip() for name in names]


def check_header(
    path: Path,
    names: Sequence[str],
    required: Sequence[str],
    sep: str,
) -> None:
    """Raise :class:`SourceError` for a wrong separator, a duplicated or a missing column."""
    if not names or names == [""]:
        raise SourceError("the first line (header) is empty", file=path)
    missing = [c for c in required if c not in names]
    if missing and len(names) == 1:
        used = [s for s in _SEPARATORS if s != sep and s in names[0]]
        if used:
            raise SourceError(
                f"wrong separator: expected {sep!r} between columns, the header uses {used[0]!r}",
                file=path,
            )
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise SourceError("duplicated column in the header", file=path, column=name)
        seen.add(name)
    if missing:
        raise SourceError(
            f"missing column (expected columns: {list(required)}; found: {list(names)})",
            file=path,
            column=missing[0],
        )


def classify_columns(names: Sequence[str], known: Sequence[str]) -> tuple[list[str], list[str]]:
    """(ignored, personal): the file's columns outside ``known`` and those named as personal
    data (:data:`PERSONAL_COLUMN_PATTERN`), which are never read either way."""
    personal = [c for c in names if PERSONAL_COLUMN_PATTERN.search(c)]
    ignored = [c for c in names if c not in known and c not in personal]
    return ignored, personal


def _layout(
    known: Sequence[str] | None, required: Sequence[str], optional: Sequence[str]
) -> Sequence[str]:
    """The columns of the expected layout: ``known`` when given, else the contract's."""
    return known if known is not None else [*required, *optional]


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(0, 2)
        if handle.tell() == 0:
            return False
        handle.seek(-1, 2)
        return handle.read(1) in (b"\n", b"\r")


def _text_columns(table: pa.Table) -> dict[str, pa.ChunkedArray]:
    """Each column as stripped text, "" for null; integral floats written as integers (an
    integer column with missing values saved by pandas is a float column); time-zone-aware
    timestamps in French local time."""
    out = {}
    for name in table.column_names:
        column = table.column(name)
        kind = column.type
        if pa.types.is_dictionary(kind):
            column = column.cast(kind.value_type)
            kind = column.type
        if pa.types.is_timestamp(kind) and kind.tz:
            # An instant is read in French local time (the year and the day of an item are
            # those of France), as the streamed participations are.
            column = pc.local_timestamp(column.cast(pa.timestamp(kind.unit, tz="Europe/Paris")))
            kind = column.type
        if pa.types.is_floating(kind):
            values = column.to_numpy(zero_copy_only=False)
            finite = np.isfinite(values)
            safe = np.where(finite, values, 0.0)
            integral = finite & (np.floor(safe) == safe) & (np.abs(safe) < 1e18)
            text = np.where(integral, safe.astype(np.int64).astype(str), values.astype(str))
            text = text.astype(object)
            text[~finite] = ""
            column = pa.chunked_array([pa.array(text, pa.string())])
        elif not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            column = column.cast(pa.string())
        column = pc.utf8_trim_whitespace(column.fill_null(""))
        out[name] = column
    return out


def _to_frame(table: pa.Table) -> pd.DataFrame:
    """Text columns as pandas ``string[pyarrow]`` (the contract's regular expressions then run
    in Arrow, several times faster than on Python objects)."""
    return table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)


def _existing_file(path: Path) -> Path:
    """``path`` as a :class:`~pathlib.Path`; :class:`SourceError` when it is missing or empty."""
    path = Path(path)
    if not path.is_file():
        raise SourceError("file not found", file=path)
    if path.stat().st_size == 0:
        raise SourceError("the file is empty", file=path)
    return path


class _InvalidRows(list):
    """The records Arrow could not split into the header's fields, as
    (record number, expected fields, actual fields, text); :meth:`skip` is the CSV reader's
    ``invalid_row_handler``."""

    def skip(self, row: pacsv.InvalidRow) -> str:
        self.append((row.number or 0, row.expected_columns, row.actual_columns, row.text))
        return "skip"


def _csv_options(
    encoding: str, sep: str, columns: Sequence[str], block_size: int, invalid: _InvalidRows
) -> dict[str, object]:
    """Keyword arguments of :func:`pyarrow.csv.read_csv` and :func:`pyarrow.csv.open_csv`:
    ``columns`` read as text ("" for empty, never null), quoted fields over several lines
    allowed, invalid records collected in ``invalid`` and skipped."""
    return {
        "read_options": pacsv.ReadOptions(
            encoding="utf8" if encoding.startswith("utf-8") else "cp1252",
            use_threads=False,
            block_size=block_size,
        ),
        "parse_options": pacsv.ParseOptions(
            delimiter=sep, quote_char='"', double_quote=True, newlines_in_values=True,
            invalid_row_handler=invalid.skip,
        ),
        "convert_options": pacsv.ConvertOptions(
            include_columns=list(columns),
            column_types={c: pa.string() for c in columns},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    }  # fmt: skip


def _malformed_records(
    path: Path, invalid: Sequence[tuple[int, int, int, str]], rows_read: int
) -> pd.DataFrame:
    """The :func:`malformed_frame` of the invalid records; :class:`SourceError` for a quote
    left open or a truncated last line (see the module docstring)."""
    if rows_read == 0:
        raise SourceError("no data row: the file holds a header only", file=path)
    malformed_rows, reasons = [], []
    for number, expected, actual, text in invalid:
        data_row = number - 1
        if "\n" in text.rstrip("\r\n") or "\r" in text.rstrip("\r\n"):
            raise SourceError(
                "a quote is left open: the record runs over several lines and swallows the "
                "following rows (fix the quoting of this row)",
                file=path,
                row=data_row,
            )
        if data_row == rows_read and actual < expected and not _ends_with_newline(path):
            raise SourceError(
                f"truncated last line ({actual} fields instead of {expected} and no final line "
                "break): the file looks cut short, rows may be missing — download or export it "
                "again",
                file=path,
                row=data_row,
            )
        malformed_rows.append(data_row)
        reasons.append(f"{actual} fields instead of {expected} (row not split into columns)")
    return malformed_frame(malformed_rows, reasons)


def read_csv_table(
    path: Path,
    required: Sequence[str],
    optional: Sequence[str] = (),
    sep: str = ",",
    known: Sequence[str] | None = None,
    rename: Mapping[str, str] | None = None,
) -> RawTable:
    """Read the ``required`` and present ``optional`` columns of a CSV extract as text.

    ``known``: every column of the expected layout (the others are reported as ignored);
    ``rename``: file column → contract column (e.g. an older layout's name), applied to the
    header before the checks. See the module docstring for the hard errors.
    """
    path = _existing_file(path)
    encoding = detect_encoding(path)
    file_names = read_header(path, sep, encoding)
    if not any(n for n in file_names) and not path.read_bytes().strip():
        raise SourceError("the file is empty", file=path)
    rename = dict(rename or {})
    names = [rename.get(n, n) for n in file_names]
    check_header(path, names, required, sep)
    wanted = [*required, *(c for c in optional if c in names and c not in required)]
    inverse = {v: k for k, v in rename.items()}
    read_names = [inverse.get(c, c) if inverse.get(c, c) in file_names else c for c in wanted]
    invalid = _InvalidRows()
    try:
        table = pacsv.read_csv(path, **_csv_options(encoding, sep, read_names, _BLOCK, invalid))
    except (pa.ArrowInvalid, pa.ArrowException, UnicodeDecodeError) as err:
        raise SourceError(f"unreadable CSV: {err}", file=path) from None
    rows_read = table.num_rows + len(invalid)
    malformed = _malformed_records(path, invalid, rows_read)
    text = _text_columns(table)
    frame = _to_frame(pa.table([text[name] for name in read_names], names=wanted))
    valid_rows = np.setdiff1d(
        np.arange(1, rows_read + 1), malformed["data_row"].to_numpy(dtype=np.int64)
    )
    frame.index = pd.Index(valid_rows, name="data_row")
    ignored, personal = classify_columns(names, _layout(known, required, optional))
    return RawTable(
        path=path,
        frame=frame,
        rows_read=rows_read,
        malformed=malformed,
        header=list(file_names),
        file_format="csv",
        encoding=encoding,
        ignored_columns=ignored,
        personal_columns=personal,
    )


def parquet_schema(path: Path) -> pa.Schema:
    """The Parquet file's schema; :class:`SourceError` when the file is missing or unreadable."""
    path = _existing_file(path)
    try:
        return pq.read_schema(path)
    except (OSError, ValueError, pa.ArrowException) as err:
        raise SourceError(f"unreadable Parquet file: {err}", file=path) from None


def read_parquet_table(
    path: Path,
    required: Sequence[str],
    optional: Sequence[str] = (),
    known: Sequence[str] | None = None,
) -> RawTable:
    """Read the ``required`` and present ``optional`` columns of a Parquet extract as text
    (integers and timestamps written in ISO form), indexed by data row (1-based)."""
    path = Path(path)
    schema = parquet_schema(path)
    names = list(schema.names)
    check_header(path, names, required, ",")
    wanted = [*required, *(c for c in optional if c in names and c not in required)]
    try:
        table = pq.read_table(path, columns=wanted)
    except (OSError, ValueError, pa.ArrowException) as err:
        raise SourceError(f"unreadable Parquet file: {err}", file=path) from None
    if table.num_rows == 0:
        raise SourceError("no data row: the file holds a schema only", file=path)
    text = _text_columns(table)
    frame = _to_frame(pa.table([text[c] for c in wanted], names=wanted))
    frame.index = pd.Index(np.arange(1, table.num_rows + 1), name="data_row")
    ignored, personal = classify_columns(names, _layout(known, required, optional))
    return RawTable(
        path=path,
        frame=frame,
        rows_read=table.num_rows,
        malformed=malformed_frame([], []),
        header=names,
        file_format="parquet",
        ignored_columns=ignored,
        personal_columns=personal,
    )


def read_table(
    path: Path,
    required: Sequence[str],
    optional: Sequence[str] = (),
    sep: str = ",",
    known: Sequence[str] | None = None,
    rename: Mapping[str, str] | None = None,
) -> RawTable:
    """:func:`read_parquet_table` for ``.parquet`` files, :func:`read_csv_table` otherwise."""
    if Path(path).suffix.lower() == ".parquet":
        return read_parquet_table(path, required, optional, known)
    return read_csv_table(path, required, optional, sep, known, rename)


@dataclass
class StreamedCsv:
    """A CSV extract copied, streaming, to a Parquet file of text columns plus ``_data_row``."""

    parquet: Path
    rows_read: int
    malformed: pd.DataFrame
    header: list[str]
    encoding: str
    ignored_columns: list[str]
    personal_columns: list[str]


def _next_valid(last: int, count: int, invalid: np.ndarray) -> np.ndarray:
    """The ``count`` record numbers after ``last`` that are not in the sorted ``invalid``."""
    end = last + count
    while True:
        extra = int(
            np.searchsorted(invalid, end, side="right")
            - np.searchsorted(invalid, last, side="right")
        )
        if last + count + extra == end:
            break
        end = last + count + extra
    numbers = np.arange(last + 1, end + 1)
    return numbers[~np.isin(numbers, invalid)]


def _copy_batches(
    reader: pacsv.CSVStreamingReader,
    writer: pq.ParquetWriter,
    schema: pa.Schema,
    wanted: Sequence[str],
    invalid: _InvalidRows,
) -> int:
    """Write each batch of ``reader`` as text columns plus ``_data_row`` (the record numbers
    the skipped ``invalid`` records leave to the batch's rows); returns the rows written."""
    last = 1  # record number of the header
    valid_rows = 0
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        if batch.num_rows == 0:
            continue
        bad = np.array(sorted(n for n, *_ in invalid), dtype=np.int64)
        numbers = _next_valid(last, batch.num_rows, bad)
        last = int(numbers[-1])
        text = _text_columns(pa.Table.from_batches([batch]))
        columns = [text[c] for c in wanted] + [pa.chunked_array([pa.array(numbers - 1)])]
        writer.write_table(pa.Table.from_arrays(columns, schema=schema))
        valid_rows += batch.num_rows
    return valid_rows


def stream_csv_to_parquet(
    path: Path,
    out: Path,
    required: Sequence[str],
    optional: Sequence[str] = (),
    sep: str = ",",
    known: Sequence[str] | None = None,
    block_size: int = _BLOCK,
) -> StreamedCsv:
    """Copy the contract's columns of a large CSV extract to ``out`` (Parquet, text columns and
    the 1-based ``_data_row``), block by block: bounded memory whatever the file's size. The
    file-level checks and the malformed records are those of :func:`read_csv_table`."""
    path = _existing_file(path)
    encoding = detect_encoding(path)
    names = read_header(path, sep, encoding)
    check_header(path, names, required, sep)
    wanted = [*required, *(c for c in optional if c in names and c not in required)]
    invalid = _InvalidRows()
    writer: pq.ParquetWriter | None = None
    schema = pa.schema(
        [*(pa.field(c, pa.string()) for c in wanted), pa.field("_data_row", pa.int64())]
    )
    try:
        reader = pacsv.open_csv(path, **_csv_options(encoding, sep, wanted, block_size, invalid))
        writer = pq.ParquetWriter(out, schema, compression="zstd")
        valid_rows = _copy_batches(reader, writer, schema, wanted, invalid)
    except (pa.ArrowInvalid, pa.ArrowException, UnicodeDecodeError) as err:
        if writer is not None:
            writer.close()
        out.unlink(missing_ok=True)
        raise SourceError(f"unreadable CSV: {err}", file=path) from None
    writer.close()
    rows_read = valid_rows + len(invalid)
    try:
        malformed = _malformed_records(path, invalid, rows_read)
    except SourceError:
        out.unlink(missing_ok=True)
        raise
    ignored, personal = classify_columns(names, _layout(known, required, optional))
    return StreamedCsv(
        parquet=out,
        rows_read=rows_read,
        malformed=malformed,
        header=list(names),
        encoding=encoding,
        ignored_columns=ignored,
        personal_columns=personal,
    )


def drop_personal_columns(columns: Sequence[str]) -> list[str]:
    """The columns that are not personal (see :data:`PERSONAL_COLUMN_PATTERN`)."""
    return [c for c in columns if not PERSONAL_COLUMN_PATTERN.search(c)]
