"""Atomic writes: a crash at any moment leaves either the old file or the new one.

Files are written to a temporary sibling, flushed and fsynced, then renamed over the
target (``os.replace`` is atomic on POSIX). A whole artifact folder is written into a
temporary sibling folder and swapped in with two renames; the previous folder is kept
as ``NAME.old`` until the swap has finished, so a loader finds a complete artifact
under NAME, or under ``NAME.old`` after a crash between the two renames.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _umask_mode(base: int) -> int:
    """``base`` permissions less the process umask (mkstemp/mkdtemp create 0600/0700)."""
    umask = os.umask(0)
    os.umask(umask)
    return base & ~umask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
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


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a fresh temporary folder; on success it replaces ``path`` whole.

    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_dir(root / "artifact") as tmp:
    ...     _ = (tmp / "a.txt").write_text("hello")
    >>> (root / "artifact" / "a.txt").read_text()
    'hello'
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    os.chmod(tmp, _umask_mode(0o777))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def resolve_artifact_dir(path: str | os.PathLike[str]) -> Path:
    """The folder to load: ``path``, or ``path.old`` left by a crash mid-swap."""
    target = Path(path)
    if target.is_dir():
        return target
    old = target.with_name(target.name + ".old")
    if old.is_dir():
        return old
    raise FileNotFoundError(f"{target}: no artifact folder here")
