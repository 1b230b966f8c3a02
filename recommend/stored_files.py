"""Saved files that the next save of the same state may hard-link instead of writing again.

A served model is saved again and again (the server's snapshots, :mod:`recommend.saving`),
and some of its state never changes with events: the 1M-event world's content index is a
156 MB ``content.faiss`` that each snapshot would serialise, write, fsync and hash anew. A
:class:`StoredFiles` records where such a state lies on disk once it was loaded or saved:
each file's path, its stamp (device, inode, size, modification time) and its sha256 from the
manifest. :meth:`StoredFiles.link_into` hard-links the files into the folder being written
when each is still that same file (no save replaced it, nothing rewrote it: the stamp is
unchanged), and the saver records their known sha256 (:meth:`StoredFiles.digest`) instead of
hashing them. Anything else (a changed stamp, another filesystem, a missing file) writes
afresh. A linked file is never changed in place (every shopgraph write replaces files:
:mod:`kg.atomic`), and a load still checks every file against the manifest.
"""

from __future__ import annotations

import contextlib
import os
import stat as st_mode
from dataclasses import dataclass
from pathlib import Path

Stamp = tuple[int, int, int, int]


def stamp(path: Path) -> Stamp | None:
    """``path``'s device, inode, size and modification time (ns); None: not a file."""
    try:
        st = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    if not st_mode.S_ISREG(st.st_mode):
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


@dataclass(frozen=True)
class StoredFiles:
    """Files (by name) of one saved state: ``paths[i]`` had ``stamps[i]`` and ``sha256s[i]``
    when it was loaded or saved; ``state`` is the object they hold (a holder reuses them only
    while it still has that very object: :meth:`holds`)."""

    state: object
    paths: tuple[Path, ...]
    stamps: tuple[Stamp, ...]
    sha256s: tuple[str, ...]

    @classmethod
    def found(cls, state: object, folder: Path, names: tuple[str, ...],
              digests: dict[str, str]) -> StoredFiles | None:
        """The files ``names`` of ``folder`` holding ``state``, with their sha256 from
        ``digests`` (a manifest's ``files``); None when one is missing or not listed."""
        paths = tuple(Path(os.path.abspath(folder)) / name for name in names)
        stamps = tuple(stamp(p) for p in paths)
        if (any(s is None for s in stamps)
                or not all(isinstance(digests.get(n), str) for n in names)):
            return None
        return cls(state, paths, stamps, tuple(digests[n] for n in names))  # type: ignore[arg-type]

    def holds(self, state: object) -> bool:
        """Whether these files hold ``state`` (the very object they were saved from)."""
        return self.state is state

    def link_into(self, folder: Path) -> list[Path] | None:
        """Hard-link each file into ``folder`` under its name; the links, or None (and no
        link left) when a file changed since it was recorded or cannot be linked there."""
        made: list[Path] = []
        try:
            for path, recorded in zip(self.paths, self.stamps, strict=True):
                if stamp(path) != recorded:
                    raise FileNotFoundError(path)
                os.link(path, folder / path.name)
                made.append(folder / path.name)
        except OSError:
            for link in made:
                with contextlib.suppress(OSError):
                    link.unlink()
            return None
        return made

    def digest(self, path: Path) -> str | None:
        """The known sha256 of ``path`` when it is one of these files (the same stamp: a
        link of it), else None."""
        now = stamp(path)
        for recorded, sha in zip(self.stamps, self.sha256s, strict=True):
            if now is not None and now == recorded:
                return sha
        return None
