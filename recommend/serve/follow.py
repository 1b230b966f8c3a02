"""Following the write-ahead log from another process: what was appended since the last look.

The writer (:mod:`recommend.serve.wal`) only appends whole lines (fsync'd) and, after a
snapshot, compacts the log by writing a new file and renaming it over the old one. A follower
keeps the file open and an offset into it:

- it takes only complete lines (a line being appended shows up at the next look);
- when the name points at a new file (a compaction), the old file is final: the follower
  reads it to its end first, then opens the new one and skips the seqs it already has;
- seqs above the snapshot are consecutive in the log, so an entry that is not the next seq
  means the follower missed entries a compaction dropped (two compactions between two looks,
  or a snapshot newer than the one it loaded): :class:`LogGap`, and the follower must start
  again from the snapshot.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from recommend.serve.wal import Entry, parse_entry


class LogGap(RuntimeError):
    """The log no longer holds the entry after the last one applied."""


class LogFollower:
    """New entries of the log at ``path``, in order, each once (see the module doc)."""

    def __init__(self, path: str | os.PathLike[str], *, after: int = 0) -> None:
        """Follow ``path``; :meth:`poll` returns entries with seq above ``after`` (and every
        entry's refusals are for :meth:`read_all`)."""
        self.path = Path(path)
        self.last_seq = after
        self._handle: BinaryIO | None = None
        self._inode = -1
        self._pending = b""
        self._line = 0

    def read_all(self) -> tuple[list[Entry], list[Entry]]:
        """From the log's start: every complete entry now (those at or below ``after`` may
        hold refusals), and the ones above ``after``; :meth:`poll` goes on after them."""
        self._open()
        entries = self._lines()
        return entries, self._take(entries)

    def poll(self) -> list[Entry]:
        """Entries appended since the last look, seqs above the last one returned; LogGap
        when entries are missing (module doc)."""
        if self._handle is None:
            self._open()
            return self._take(self._lines())
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:  # not created yet
            return []
        got = self._take(self._lines())
        if inode != self._inode:  # compacted: the old file was complete before the rename
            self._open()
            got += self._take(self._lines())
        return got

    def _open(self) -> None:
        if self._handle is not None:
            self._handle.close()
        self._handle = open(self.path, "rb")  # noqa: SIM115 (kept open between looks)
        self._inode = os.fstat(self._handle.fileno()).st_ino
        self._pending, self._line = b"", 0

    def _lines(self) -> list[Entry]:
        """The complete lines after the handle's position, as entries."""
        assert self._handle is not None
        data = self._pending + self._handle.read()
        cut = data.rfind(b"\n") + 1
        self._pending = data[cut:]
        out = []
        for raw in data[:cut].split(b"\n")[:-1]:
            self._line += 1
            if raw.strip():
                out.append(parse_entry(self.path, self._line, raw))
        return out

    def _take(self, entries: list[Entry]) -> list[Entry]:
        """The entries above ``last_seq``, which must follow it without a gap."""
        out = []
        for entry in entries:
            if entry["seq"] <= self.last_seq:
                continue
            if entry["seq"] != self.last_seq + 1:
                raise LogGap(f"{self.path}: seq {entry['seq']} follows {self.last_seq}; the "
                             "entries between went into a newer snapshot")
            self.last_seq = entry["seq"]
            out.append(entry)
        return out

    def close(self) -> None:
        """Close the file."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

