"""Tests of the atomic writers of barometre.io."""

from __future__ import annotations

from pathlib import Path

import pytest

from barometre.io import atomic_path, atomic_write_bytes, atomic_write_text


def test_text_is_utf8_with_untranslated_newlines(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "t.md"
    atomic_write_text(target, "Île-de-France\u202f: 1,5\nfin\r\n")
    assert target.read_bytes() == "Île-de-France\u202f: 1,5\nfin\r\n".encode()
    assert sorted(p.name for p in target.parent.iterdir()) == ["t.md"]


def test_bytes_replace_an_existing_file(tmp_path: Path) -> None:
    target = tmp_path / "x.bin"
    target.write_bytes(b"old content, longer than the new one")
    atomic_write_bytes(target, b"\x00new")
    assert target.read_bytes() == b"\x00new"


def test_a_failed_write_leaves_the_target_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "keep.csv"
    target.write_text("a\n1\n")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "a\n1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.csv"]
    with pytest.raises(UnicodeEncodeError):
        atomic_write_text(target, "\ud800")  # a lone surrogate cannot be written
    assert target.read_text() == "a\n1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.csv"]


def test_a_written_file_has_the_mode_a_plain_write_gives(tmp_path: Path) -> None:
    """mkstemp creates 0600 files; a published table must be readable like any file the user
    writes (0644 under the usual umask 022), whatever the umask is."""
    plain = tmp_path / "plain.txt"
    plain.write_text("x", encoding="utf-8")
    target = tmp_path / "atomic.txt"
    atomic_write_text(target, "x")
    assert target.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777
