"""Atomic file writes shared by every writer of the project, and the file checksum.

A reader (a later step, a resumed build, a user opening a table) must never see a half-written
file: each helper writes to a temporary file of the target's folder (``.<name>.<random>.tmp``,
so two writers never share it), then renames it over the target, which is atomic on POSIX file
systems. On any failure the temporary file is removed and the target is left as it was.

Files are created by :func:`tempfile.mkstemp`, hence readable and writable by their owner only
(mode ``0600``), as every output of the build has been since the first atomic writer.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: The process umask, read once (reading it means setting it): files written atomically get the
#: mode a plain ``open(..., "w")`` would give (0644 under the usual 022), not mkstemp's 0600.
_UMASK = os.umask(0)
os.umask(_UMASK)
FILE_MODE = 0o666 & ~_UMASK


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path next to ``path`` for a writer that wants a file name (``to_csv``,
    ``pyarrow.parquet.write_table``); renamed over ``path`` when the block succeeds, removed when
    it raises. Creates the parent folders; the file gets the umask's usual mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: Path, text: str) -> None:
    """Write a text file atomically, UTF-8 with the newlines of ``text`` untranslated (``\\n``)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes (hexadecimal), read in chunks of ``chunk`` bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
