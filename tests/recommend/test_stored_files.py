"""StoredFiles links files only while they are the very files recorded."""

from __future__ import annotations

import os
from pathlib import Path

from recommend.stored_files import StoredFiles


def stored(tmp_path: Path, state: object) -> StoredFiles:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.bin").write_bytes(b"x" * 10)
    (tmp_path / "a" / "y.json").write_text("{}")
    found = StoredFiles.found(state, tmp_path / "a", ("x.bin", "y.json"),
                              {"x.bin": "sha-x", "y.json": "sha-y"})
    assert found is not None
    return found


def test_links_carry_the_recorded_digests(tmp_path) -> None:
    state = object()
    files = stored(tmp_path, state)
    assert files.holds(state) and not files.holds(object())
    (tmp_path / "b").mkdir()
    links = files.link_into(tmp_path / "b")
    assert links == [tmp_path / "b" / "x.bin", tmp_path / "b" / "y.json"]
    assert [files.digest(p) for p in links] == ["sha-x", "sha-y"]
    (tmp_path / "b" / "z").write_bytes(b"x" * 10)
    assert files.digest(tmp_path / "b" / "z") is None


def test_a_changed_file_links_nothing(tmp_path) -> None:
    files = stored(tmp_path, object())
    (tmp_path / "a" / "y.tmp").write_text("[]")
    os.replace(tmp_path / "a" / "y.tmp", tmp_path / "a" / "y.json")  # as every save replaces
    (tmp_path / "b").mkdir()
    assert files.link_into(tmp_path / "b") is None
    assert os.listdir(tmp_path / "b") == []  # the first file's link was taken back
    assert files.digest(tmp_path / "a" / "y.json") is None


def test_unlisted_or_missing_files_are_not_recorded(tmp_path) -> None:
    stored(tmp_path, object())
    folder = tmp_path / "a"
    assert StoredFiles.found(object(), folder, ("x.bin",), {}) is None
    assert StoredFiles.found(object(), folder, ("gone",), {"gone": "sha"}) is None
