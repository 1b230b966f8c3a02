"""Atomic writes: readable results, and a failure leaves the previous content."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kg.atomic import (
    FolderLockedError,
    atomic_dir,
    atomic_write_json,
    atomic_write_text,
    folder_lock,
    resolve_artifact_dir,
)
from kg.ownership import STAMP_FILE, RefusedFolderError, stamped_kind


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
    assert sorted(p.name for p in tmp_path.iterdir()) == [".artifact.lock", "artifact"]


def test_crash_between_renames_leaves_old_copy_loadable(tmp_path: Path) -> None:
    old = tmp_path / "artifact.old"
    old.mkdir()
    (old / "manifest.json").write_text("{}")
    assert resolve_artifact_dir(tmp_path / "artifact") == old
    with pytest.raises(FileNotFoundError, match="no artifact"):
        resolve_artifact_dir(tmp_path / "missing")


def _replace(path: Path | str, **options: object) -> None:
    with atomic_dir(path, **options):  # type: ignore[arg-type]
        pass


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_folder_shopgraph_did_not_write_is_refused_untouched(tmp_path: Path) -> None:
    mine = tmp_path / "my_project"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    before = _tree(tmp_path)
    with pytest.raises(RefusedFolderError, match=r"my_project: exists and is not a shopgraph"):
        _replace(mine, kind="artifact")
    assert _tree(tmp_path) == before


def test_replacing_needs_the_same_kind_and_no_foreign_file(tmp_path: Path) -> None:
    target = tmp_path / "art"
    with atomic_dir(target, kind="artifact") as tmp:
        (tmp / "sub").mkdir()
        (tmp / "sub" / "a.bin").write_bytes(b"1")
    assert stamped_kind(target) == "artifact"
    with pytest.raises(RefusedFolderError, match="is a shopgraph artifact, not a dataset"):
        _replace(target, kind="dataset")
    (target / "sub" / "notes.txt").write_text("mine")
    with pytest.raises(RefusedFolderError, match=r"holds 1 file\(s\) shopgraph did not write "
                                                 r"\(sub/notes.txt\)"):
        _replace(target, kind="artifact")
    (target / "sub" / "notes.txt").unlink()
    with atomic_dir(target, kind="artifact") as tmp:
        (tmp / "b.bin").write_bytes(b"2")
    assert sorted(_tree(target)) == [STAMP_FILE, "b.bin"]


def test_an_empty_folder_is_used_a_file_or_a_link_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with atomic_dir(tmp_path / "empty") as tmp:
        (tmp / "a").write_text("a")
    assert (tmp_path / "empty" / "a").read_text() == "a"
    (tmp_path / "file").write_text("x")
    with pytest.raises(RefusedFolderError, match="is a file, not a folder"):
        _replace(tmp_path / "file")
    (tmp_path / "link").symlink_to(tmp_path / "empty")
    with pytest.raises(RefusedFolderError, match="symbolic link"):
        _replace(tmp_path / "link")
    assert (tmp_path / "file").read_text() == "x" and (tmp_path / "link").is_symlink()


def test_the_protected_folder_and_its_ancestors_are_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "project" / "data"
    data.mkdir(parents=True)
    for out, why in ((data, "is the input"), (tmp_path / "project", "contains the input"),
                     (data / ".." / ".", "contains the input")):
        with pytest.raises(RefusedFolderError, match=why):
            _replace(out, protect=[data])
    monkeypatch.chdir(data)
    with pytest.raises(RefusedFolderError, match="is the working directory"):
        _replace(".")
    with atomic_dir(data / "artifact", protect=[data]) as tmp:  # inside the input is fine
        (tmp / "a").write_text("a")
    assert data.is_dir() and (data / "artifact" / "a").is_file()


def test_a_foreign_name_old_is_refused(tmp_path: Path) -> None:
    (tmp_path / "art.old").mkdir()
    (tmp_path / "art.old" / "thesis.tex").write_text("years of work")
    with pytest.raises(RefusedFolderError, match=r"art.old: exists and is not"):
        _replace(tmp_path / "art")
    assert (tmp_path / "art.old" / "thesis.tex").read_text() == "years of work"


def test_a_second_writer_waits_then_fails_cleanly(tmp_path: Path) -> None:
    target = tmp_path / "art"
    busy = r"art: another shopgraph process is writing it"
    with folder_lock(target), pytest.raises(FolderLockedError, match=busy):
        _replace(target, lock_timeout=0.3)
    assert not target.exists()
    with atomic_dir(target, lock_timeout=0.3) as tmp:  # released: the next writer gets in
        (tmp / "a").write_text("a")


def test_the_lock_is_held_across_processes(tmp_path: Path) -> None:
    import subprocess
    import sys

    target = tmp_path / "art"
    code = ("import sys, time; from pathlib import Path; from kg.atomic import folder_lock\n"
            "with folder_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(30)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(Path.cwd())})
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with pytest.raises(FolderLockedError), atomic_dir(target, lock_timeout=0.2):
            pass
    finally:
        proc.kill()
        proc.wait()
    with atomic_dir(target, lock_timeout=5) as tmp:  # a killed holder's lock is released
        (tmp / "a").write_text("a")


def test_leftovers_of_killed_writers_are_removed_and_only_those(tmp_path: Path) -> None:
    for name in (".art.abcd1234.tmp", ".art.zz_99xyz.tmp"):  # mkdtemp names of "art"
        (tmp_path / name).mkdir()
        (tmp_path / name / "graph.npz").write_bytes(b"half")
    kept = [".art.x.abcd1234.tmp", ".other.abcd1234.tmp", "art.abcd1234.tmp"]
    for name in kept:
        (tmp_path / name).mkdir()
    (tmp_path / ".art.qwer5678.tmp").write_text("a file, not our folder")
    with atomic_dir(tmp_path / "art") as tmp:
        (tmp / "a").write_text("a")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [".art.lock", ".art.qwer5678.tmp", "art", *kept])


@pytest.mark.parametrize("crashed_mid_swap", [False, True])
def test_no_moment_without_a_complete_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             crashed_mid_swap: bool) -> None:
    with atomic_dir(tmp_path / "art") as tmp:
        (tmp / "v").write_text("1")
    if crashed_mid_swap:  # killed between the two renames: only NAME.old is there
        (tmp_path / "art").rename(tmp_path / "art.old")
    seen: list[str] = []
    real_replace = os.replace

    def version() -> str:
        found = resolve_artifact_dir(tmp_path / "art")
        return f"{found.name}={(found / 'v').read_text()}"

    def watching_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        seen.append(version())  # before and after each rename a complete version is found
        real_replace(src, dst)
        seen.append(version())

    monkeypatch.setattr(os, "replace", watching_replace)
    with atomic_dir(tmp_path / "art") as tmp:
        (tmp / "v").write_text("2")
    monkeypatch.undo()
    assert seen[0] == ("art.old=1" if crashed_mid_swap else "art=1") and seen[-1] == "art=2"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".art.lock", "art"]
