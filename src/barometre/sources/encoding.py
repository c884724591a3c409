"""Text encoding of a CSV extract: UTF-8 (with or without BOM) or Windows-1252, detected in
blocks (bounded memory), with the hard errors of :mod:`barometre.sources.reading` that concern
bytes: UTF-16/32 text, ZIP/Excel or binary content, undecodable or mixed encodings."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from barometre.sources.common import SourceError

BLOCK_SIZE = 1 << 24
"""Bytes read at a time."""
# Bytes that Windows-1252 leaves undefined: a file holding them is in neither encoding.
_CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
# A well-formed non-ASCII UTF-8 sequence (2 to 4 bytes).
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _line_of(path: Path, offset: int) -> int:
    """1-based physical line of a byte offset (counting line breaks before it)."""
    lines = 1
    with path.open("rb") as handle:
        remaining = offset
        while remaining > 0:
            block = handle.read(min(BLOCK_SIZE, remaining))
            if not block:
                break
            lines += block.count(b"\n")
            remaining -= len(block)
    return lines


def detect_encoding(path: Path) -> str:
    """``utf-8``, ``utf-8 (BOM)`` or ``cp1252``, read in blocks (bounded memory).

    UTF-8 is tried first; a file that is not valid UTF-8 is Windows-1252 when it holds no byte
    undefined in Windows-1252 and no well-formed multi-byte UTF-8 sequence (which would mean
    two encodings mixed, e.g. department files of two exports concatenated). Raises
    :class:`SourceError` for UTF-16/32 text, binary content and undecodable or mixed bytes.
    """
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise SourceError("UTF-32 text is not supported: save the file as UTF-8", file=path)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise SourceError("UTF-16 text is not supported: save the file as UTF-8", file=path)
    if head.startswith(b"PK\x03\x04"):
        raise SourceError(
            "this is a ZIP archive (or an Excel workbook), not a CSV file: extract or export "
            "the CSV first",
            file=path,
        )
    bom = head.startswith(codecs.BOM_UTF8)
    decoder = codecs.getincrementaldecoder("utf-8")()
    first_bad: int | None = None
    first_utf8: int | None = None
    undefined: int | None = None
    offset = 0
    with path.open("rb") as handle:
        while block := handle.read(BLOCK_SIZE):
            nul = block.find(b"\x00")
            if nul >= 0:
                raise SourceError(
                    f"binary content (NUL byte) at line {_line_of(path, offset + nul)}: not a "
                    "text CSV file",
                    file=path,
                )
            if first_bad is None:
                try:
                    decoder.decode(block, final=False)
                except UnicodeDecodeError as err:
                    first_bad = offset + err.start
            if first_utf8 is None and (found := _UTF8_SEQUENCE.search(block)):
                first_utf8 = offset + found.start()
            if undefined is None and (found := _CP1252_UNDEFINED.search(block)):
                undefined = offset + found.start()
            offset += len(block)
    if first_bad is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            first_bad = offset - 1
    if first_bad is None:
        return "utf-8 (BOM)" if bom else "utf-8"
    line = _line_of(path, first_bad)
    if first_utf8 is not None:
        raise SourceError(
            f"mixed encodings: line {_line_of(path, first_utf8)} is UTF-8 but line {line} is "
            "not (e.g. Windows-1252): re-export the file in one encoding (UTF-8)",
            file=path,
        )
    if undefined is not None:
        raise SourceError(
            f"bad encoding: line {_line_of(path, undefined)} holds a byte that is neither "
            "UTF-8 nor Windows-1252",
            file=path,
        )
    return "cp1252"


def python_encoding(encoding: str) -> str:
    """Python codec of an encoding as :func:`detect_encoding` names it."""
    return {"utf-8": "utf-8", "utf-8 (BOM)": "utf-8-sig", "cp1252": "cp1252"}[encoding]
