"""Atomic writes: a crash at any moment leaves either the old file or the new one.

Files are written to a temporary sibling, flushed and fsynced, then renamed over the
target (``os.replace`` is atomic on POSIX). A whole artifact folder is written into a
temporary sibling folder and swapped in with two renames; the previous folder is kept
as ``NAME.old`` until the swap has finished, so a loader finds a complete artifact
under NAME, or under ``NAME.old`` after a crash between the two renames; the parent folder
is fsynced after the swap. Only folders that replacing cannot destroy anything in are
replaced (:mod:`kg.ownership`), and one writer at a time holds a folder's lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from kg.ownership import absolute, check_replaceable, stamp


def _umask_mode(base: int) -> int:
    """``base`` permissions less the process umask (mkstemp/mkdtemp create 0600/0700)."""
    umask = os.umask(0)
    os.umask(umask)
    return base & ~umask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    atomic_write_chunks(path, (data,))


def atomic_write_chunks(path: str | os.PathLike[str], chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` one after another to ``path`` atomically, never holding them all."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _umask_mode(0o666))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=True) + "\n")


#: Seconds a writer waits for another process writing the same folder (then FolderLockedError).
LOCK_TIMEOUT = 30.0


class FolderLockedError(TimeoutError):
    """Another process holds the lock of the folder to write."""


def lock_path(target: Path) -> Path:
    """The lock file of ``target``: the hidden sibling ``.NAME.lock`` (kept, never deleted)."""
    return target.with_name(f".{target.name}.lock")


@contextlib.contextmanager
def folder_lock(target: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``target``'s lock file; wait up to ``timeout`` seconds
    (default :data:`LOCK_TIMEOUT`)."""
    timeout = LOCK_TIMEOUT if timeout is None else timeout
    lock = lock_path(target)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, _umask_mode(0o666))
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise FolderLockedError(
                        f"{target}: another shopgraph process is writing it (lock {lock} held); "
                        f"gave up after {timeout:g} s, try again when it has finished") from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _leftovers(target: Path) -> list[Path]:
    """Temporary folders of ``target`` left by a killed writer (only ours: mkdtemp's name)."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.[a-z0-9_]{{8}}\.tmp")
    return [p for p in target.parent.iterdir()
            if pattern.fullmatch(p.name) and p.is_dir() and not p.is_symlink()]


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_dir(
    path: str | os.PathLike[str],
    *,
    kind: str = "folder",
    protect: Iterable[str | os.PathLike[str]] = (),
    lock_timeout: float | None = None,
) -> Iterator[Path]:
    """Yield a fresh temporary folder; on success it replaces ``path`` whole.

    Refuses (:class:`kg.ownership.RefusedFolderError`) a ``path`` whose replacement could
    destroy files shopgraph did not write, or that is or holds a ``protect`` folder
    (:func:`kg.ownership.check_replaceable`); the new folder is stamped as ``kind``. An
    exclusive lock on ``path`` is held throughout (:func:`folder_lock`); under it, temporary
    folders of ``path`` left by killed writers are removed first.

    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_dir(root / "artifact") as tmp:
    ...     _ = (tmp / "a.txt").write_text("hello")
    >>> (root / "artifact" / "a.txt").read_text()
    'hello'
    """
    target = absolute(path)
    protect = list(protect)
    check_replaceable(target, kind, protect=protect)
    target.parent.mkdir(parents=True, exist_ok=True)
    with folder_lock(target, lock_timeout):
        check_replaceable(target, kind, protect=protect)  # another writer may have been first
        for stale in _leftovers(target):
            shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
        os.chmod(tmp, _umask_mode(0o777))
        try:
            yield tmp
            stamp(tmp, kind)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _swap(tmp, target)


def _swap(tmp: Path, target: Path) -> None:
    """``tmp`` becomes ``target``; a complete folder is under NAME or NAME.old at every moment."""
    old = target.with_name(target.name + ".old")
    if target.exists():
        _discard(old, target)  # NAME is complete: a stale NAME.old can go
        os.replace(target, old)
    os.replace(tmp, target)  # when only NAME.old existed (a crash mid-swap), it stays until now
    _fsync_dir(target.parent)
    _discard(old, target)


def _discard(folder: Path, target: Path) -> None:
    """Remove ``folder``: first renamed to a temporary name of ``target``, so a removal cut
    short leaves a leftover the next writer removes, never a half-deleted ``NAME.old``."""
    if not folder.is_dir():
        return
    trash = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    os.replace(folder, trash)  # onto the empty folder mkdtemp made
    shutil.rmtree(trash, ignore_errors=True)


def resolve_artifact_dir(path: str | os.PathLike[str]) -> Path:
    """The folder to load: ``path``, or ``path.old`` left by a crash mid-swap."""
    target = Path(path)
    if target.is_dir():
        return target
    old = target.with_name(target.name + ".old")
    if old.is_dir():
        return old
    raise FileNotFoundError(f"{target}: no artifact folder here")
