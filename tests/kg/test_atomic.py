"""Atomic writes: readable results, and a failure leaves the previous content."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kg.atomic import atomic_dir, atomic_write_json, atomic_write_text, resolve_artifact_dir


def test_written_file_is_readable_by_others(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "hello")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644


def test_failed_dir_write_keeps_previous_artifact(tmp_path: Path) -> None:
    target = tmp_path / "artifact"
    with atomic_dir(target) as tmp:
        atomic_write_json(tmp / "manifest.json", {"version": 1})
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        atomic_write_json(tmp / "manifest.json", {"version": 2})
        raise RuntimeError("killed mid-build")
    assert (resolve_artifact_dir(target) / "manifest.json").read_text().count('"version": 1') == 1
    assert [p.name for p in tmp_path.iterdir()] == ["artifact"]


def test_crash_between_renames_leaves_old_copy_loadable(tmp_path: Path) -> None:
    old = tmp_path / "artifact.old"
    old.mkdir()
    (old / "manifest.json").write_text("{}")
    assert resolve_artifact_dir(tmp_path / "artifact") == old
    with pytest.raises(FileNotFoundError, match="no artifact"):
        resolve_artifact_dir(tmp_path / "missing")
