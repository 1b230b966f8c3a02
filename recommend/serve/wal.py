"""The write-ahead log: one JSON object per line, fsync'd before a write is acknowledged.

Each entry carries a sequence number (``seq``, 1, 2, ...). :meth:`WriteAheadLog.append` writes
the line and calls ``os.fsync`` before it returns, so an acknowledged write survives a
``kill -9`` or a power cut. A process killed in the middle of an append leaves a last line
without its newline: that write was never acknowledged, and opening the log cuts it off
(logged) before anything is appended after it. A damaged line anywhere else is not a torn
append but a damaged file: opening refuses it, naming the line.

An append that fails (a full disk: ``ENOSPC`` after part of the line was written) is undone
before its error is raised: the file is cut back to where the line began. Appends went
through a buffered handle, which kept the failed line and wrote it again in front of the
next one: that write, never acknowledged, was logged after all, under the seq the next
acknowledged one took, and the log then refused to open ("seq 2 after 2"). When the cut
fails too, the log takes no more appends (each says why) until a compaction rewrites it or
the server is started again.

:meth:`WriteAheadLog.compact` rewrites the log atomically (:func:`kg.atomic.atomic_write_bytes`)
keeping only the entries a snapshot does not hold.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kg.atomic import atomic_write_bytes

LOGGER = logging.getLogger("shopgraph.serve")
Entry = dict[str, Any]


class LogDamagedError(ValueError):
    """A line of the log that is not a complete entry (and not a torn last append)."""


def _line(entry: Entry) -> bytes:
    return json.dumps(entry, separators=(",", ":"), ensure_ascii=True).encode() + b"\n"


def parse_entry(path: Path, number: int, raw: bytes) -> Entry:
    """Line ``number`` of the log at ``path`` as an entry; LogDamagedError naming it."""
    try:
        entry = json.loads(raw)
    except ValueError as err:
        raise LogDamagedError(f"{path}: line {number}: not JSON ({err})") from None
    if not isinstance(entry, dict) or not isinstance(entry.get("seq"), int):
        raise LogDamagedError(f"{path}: line {number}: not a log entry (no integer seq)")
    return entry


class WriteAheadLog:
    """An append-only JSON Lines log with fsync'd appends; thread-safe."""

    def __init__(self, path: str | os.PathLike[str], *, after: int = 0) -> None:
        """Open (or create) the log; appends get seqs above its last entry and above
        ``after`` (the seq a snapshot holds: the log may have been compacted empty)."""
        self.path = Path(path)
        self._lock = threading.Lock()
        self._cut_torn_tail()
        self._entries = list(self._read())
        self.last_seq = max(self._entries[-1]["seq"] if self._entries else 0, after)
        self._broken: str | None = None  # why appends are refused (a failed append not undone)
        self._open()

    def _open(self) -> None:
        """Open the file for appends, unbuffered (a failed write leaves nothing behind)."""
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        self._end = os.fstat(self._fd).st_size

    def _cut_torn_tail(self) -> None:
        if not self.path.exists():
            self.path.touch()
            fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)  # the new file's name is durable too
            finally:
                os.close(fd)
            return
        data = self.path.read_bytes()
        keep = data.rfind(b"\n") + 1
        if keep < len(data):
            LOGGER.warning("%s: cutting off a torn last line of %d bytes (a write killed before "
                           "it was acknowledged)", self.path, len(data) - keep)
            with open(self.path, "r+b") as handle:
                handle.truncate(keep)
                handle.flush()
                os.fsync(handle.fileno())

    def _read(self) -> Iterator[Entry]:
        with open(self.path, "rb") as handle:
            previous = 0
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                entry = parse_entry(self.path, number, raw)
                if entry["seq"] <= previous:
                    raise LogDamagedError(f"{self.path}: line {number}: seq {entry['seq']} "
                                          f"after {previous}")
                previous = entry["seq"]
                yield entry

    def entries(self) -> list[Entry]:
        """Every entry in the log, oldest first (read when opened, kept since)."""
        with self._lock:
            return list(self._entries)

    def append(self, entry: Entry) -> int:
        """Write ``entry`` with the next seq and fsync it; the seq. An OSError (the disk)
        leaves the log as it was (module doc)."""
        with self._lock:
            if self._broken is not None:
                raise OSError(f"{self.path}: no more appends: {self._broken}")
            seq = self.last_seq + 1
            full = {"seq": seq, **entry}
            data = _line(full)
            line = memoryview(data)
            try:
                while line:
                    line = line[os.write(self._fd, line):]
                os.fsync(self._fd)
            except OSError as err:
                self._undo(err)
                raise
            self._end += len(data)
            self.last_seq = seq
            self._entries.append(full)
            return seq

    def _undo(self, err: OSError) -> None:
        """Cut the file back to its last whole entry after a failed append."""
        try:
            os.ftruncate(self._fd, self._end)
            os.fsync(self._fd)
        except OSError as again:
            self._broken = (f"an append failed ({err}) and could not be undone ({again}); "
                            "start the server again (opening the log cuts a torn last line)")
            LOGGER.error("%s: %s", self.path, self._broken)

    def size(self) -> int:
        """The log's size in bytes."""
        return self.path.stat().st_size

    def compact(self, keep: Callable[[Entry], bool]) -> int:
        """Rewrite the log atomically with only the entries ``keep`` accepts; how many went."""
        with self._lock:
            kept = [e for e in self._entries if keep(e)]
            os.close(self._fd)
            try:
                atomic_write_bytes(self.path, b"".join(map(_line, kept)))
                self._broken = None  # a whole file again, made of acknowledged entries only
            finally:
                self._open()
            dropped, self._entries = len(self._entries) - len(kept), kept
            return dropped

    def close(self) -> None:
        """Close the append handle."""
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
