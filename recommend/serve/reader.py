"""A reader process's state: its own model, kept up to date by following the writer's log.

With ``shopgraph serve --workers N`` one process (the writer, :mod:`recommend.serve.workers`)
owns the state folder, the write-ahead log and the snapshots, and N reader processes answer
HTTP, each with its own :class:`ReaderState`:

- **Start.** Load the model the writer started from (:func:`recommend.serve.served.load_served`:
  the snapshot, else the artifact), read the whole log (every "not interested", and the
  entries the snapshot lacks, applied in order).
- **Follow.** A thread looks at the log every :data:`POLL_SECONDS` (and at once when asked)
  and applies what was appended (:class:`recommend.serve.follow.LogFollower`), in one
  :meth:`Recommender.add` per look, after a gap of the last add's duration over
  :data:`ADD_SHARE`, at most :data:`APPLY_GAP` (an add of events
  costs ~3.5 ms of CPU plus ~0.2 ms per event on ML-100K: at 50 writes/s, one add per write
  would take ~0.2 s of CPU a second from each reader, ten adds a second ~0.05 s). A write
  thus reaches every reader within about ``APPLY_GAP`` plus the add; the reader's response
  cache drops what the entries make stale before they count as applied
  (:mod:`recommend.serve.cache`), and notes which users they concern for the level the
  readers share (:mod:`recommend.serve.shared_cache`). Reads never wait: the add publishes
  the next model with one reference swap (as in the writer). Entries a compaction dropped
  before this reader saw them (:class:`~recommend.serve.follow.LogGap`) make it start again
  from the newer snapshot, serving the old model meanwhile.
- **Writes** (:meth:`ReaderState.write`) go to the writer over its Unix socket: the writer
  validates, logs, fsyncs and applies; its answer names the log seq, and the reader answers
  only once it has applied that seq itself, so the client's next read (to any reader within
  about ``APPLY_GAP``, to this one at once) reflects the write. A refusal is the writer's 422;
  a writer that does not answer is :class:`~recommend.serve.served.WriterUnavailable` (503).
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recommend.serve.cache import ResponseCache, forget
from recommend.serve.feedback import Refusals
from recommend.serve.follow import LogFollower, LogGap
from recommend.serve.idempotency import CALLER_HEADER, DEFAULT_CALLER, KEY_HEADER, KeyReused
from recommend.serve.served import (
    LOG_FILE,
    WriteResult,
    WriterUnavailable,
    load_served,
    log_size,
    note_entry,
    replay,
)
from recommend.serve.shared_cache import SharedResponses
from recommend.serve.writer_client import WriterClient
from recommend.serve.writes import WriteRefused

if TYPE_CHECKING:
    from recommend.serve.compute import ComputeClient
    from recommend.serve.wal import Entry

LOGGER = logging.getLogger("shopgraph.serve")
POLL_SECONDS = 0.02
APPLY_GAP = 0.1  # at most seconds between two adds: writes arriving meanwhile are added together
#: The share of its time the follower may spend adding: the gap after an add is its duration
#: over this, up to APPLY_GAP (an add of ~3.5 ms: 35 ms; a lone client's event, sent back
#: to back, was answered after ~104 ms with a fixed 0.1 s; under load an add takes longer and
#: the gap reaches APPLY_GAP).
ADD_SHARE = 0.1
WRITE_TIMEOUT = 60.0  # a write waits this long for the writer (group commit under load)
SEEN_TIMEOUT = 5.0  # and this long for this reader to apply it
LOAD_TRIES = 3
READY_WAIT = 120.0  # seconds a loaded reader waits for the others before it listens


class ReaderState:
    """A reader's model, refusals and log position (module doc); :class:`Served`."""

    def __init__(self, artifact: str | Path, state_dir: str | Path, writer_socket: str | Path,
                 *, worker: int = 1, cache: ResponseCache | None = None,
                 shared: SharedResponses | None = None) -> None:
        self.artifact, self.state_dir = Path(artifact), Path(state_dir)
        self.worker = worker
        self.cache = ResponseCache() if cache is None else cache
        self.shared = shared
        self.compute: ComputeClient | None = None  # where misses go (recommend.serve.compute)
        #: called with the log entries the follower applied, once they count as applied
        self.on_applied: Callable[[list[Entry]], None] | None = None
        self.applied: dict[str, int] = {}  # feedback applied since start (after the catch-up)
        self._writer = WriterClient(writer_socket, WRITE_TIMEOUT)
        self._seen = threading.Condition()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._start()
        self._thread = threading.Thread(target=self._follow, name="log-follower", daemon=True)
        self._thread.start()

    def _start(self) -> None:
        """Load the start model and apply the log after it (also after a LogGap)."""
        for attempt in range(LOAD_TRIES):  # the writer may be swapping the snapshot in, or
            try:  # have compacted the log past the one loaded (LogGap): load it again
                rec, snapshot_seq = load_served(self.artifact, self.state_dir)
                follower = LogFollower(self.state_dir / LOG_FILE, after=snapshot_seq)
                try:
                    everything, pending = follower.read_all()
                except BaseException:
                    follower.close()
                    raise
                break
            except (OSError, ValueError, LogGap):
                if attempt == LOAD_TRIES - 1:
                    raise
                time.sleep(0.5)
        refusals = Refusals()
        for entry in everything:
            note_entry(entry, refusals, None)
        replay(rec, pending)
        if self.shared is not None:  # what the log says of users, before it counts as applied
            self.shared.restart(snapshot_seq, pending, rec.user_id)
        with self._seen:
            self.rec, self.refusals, self._follower = rec, refusals, follower
            self.cache.clear()
            self.snapshot_seq, self.applied_seq = snapshot_seq, follower.last_seq
            self._seen.notify_all()
        LOGGER.info("reader %d: from log seq %d, %d entries applied", self.worker,
                    snapshot_seq, len(pending))

    # ----- following -----
    def _follow(self) -> None:
        last_add, gap = 0.0, APPLY_GAP
        while not self._stop.is_set():
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()
            self._stop.wait(last_add + gap - time.monotonic())  # returns at once if <= 0
            try:
                began = time.monotonic()
                if self._catch_up():
                    last_add = time.monotonic()
                    gap = min(APPLY_GAP, (last_add - began) / ADD_SHARE)
            except Exception:  # a reader that cannot follow must say so, and keep trying
                LOGGER.exception("reader %d: following the log failed; starting again from "
                                 "the snapshot", self.worker)
                self._stop.wait(1.0)
                try:
                    if not self._stop.is_set():
                        self._restart()
                except Exception:
                    LOGGER.exception("reader %d: could not start again", self.worker)

    def _catch_up(self) -> bool:
        """Apply what the log gained since the last look; whether anything was added."""
        try:
            new = self._follower.poll()
        except LogGap as gap:
            LOGGER.warning("reader %d: %s; starting again from the snapshot", self.worker, gap)
            self._restart()
            return True
        if not new:
            return False
        replay(self.rec, new)
        for entry in new:
            note_entry(entry, self.refusals, self.applied)
        if self.shared is not None:
            self.shared.note(new, self.rec.user_id)
        forget(self.cache, new, self.rec.user_id)  # before the entries count as applied
        with self._seen:
            self.applied_seq = new[-1]["seq"]
            self._seen.notify_all()
        if self.on_applied is not None:
            self.on_applied(new)
        return True

    def _restart(self) -> None:
        self._follower.close()
        self._start()

    def wait_for(self, seq: int, timeout: float = SEEN_TIMEOUT) -> bool:
        """Wait until this reader has applied log ``seq``; False after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._seen:
            while self.applied_seq < seq:
                self._wake.set()
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._seen.wait(min(left, POLL_SECONDS))
        return True

    def nudge(self) -> None:
        """Look at the log now (not after the poll)."""
        self._wake.set()

    def ready(self) -> None:
        """Tell the writer this reader has loaded; return once every reader has (or the
        writer stopped waiting, or does not answer)."""
        try:
            self._writer.post(f"/ready/{self.worker}", timeout=READY_WAIT + 10)
        except WriterUnavailable as err:
            LOGGER.warning("reader %d: %s; listening anyway", self.worker, err)

    # ----- writes -----
    def write(self, route: str, body: Any, key: str | None = None,
              caller: str = DEFAULT_CALLER) -> WriteResult:
        """Send a write request (and its Idempotency-Key, with its ``caller``) to the writer
        (module doc); the writer's result once this reader has applied it
        (:class:`WriterUnavailable` when the writer does not answer)."""
        status, got = self._writer.post(
            f"/write/{route}", body,
            headers=None if key is None else {KEY_HEADER: key, CALLER_HEADER: caller})
        if status == 422 and isinstance(got, dict) and "rejections" in got:
            raise WriteRefused(got["rejections"])
        if status == 409 and isinstance(got, dict) and "detail" in got:
            raise KeyReused(got["detail"])
        if status == 507:  # the writer's disk is full (it logged why): 507 here too
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        if status != 200 or not isinstance(got, dict):
            raise WriterUnavailable(f"the writer answered {status}: {str(got)[:300]}")
        result = WriteResult(**got)
        if result.seq is not None and not self.wait_for(result.seq):
            LOGGER.warning("reader %d: log seq %d not applied within %.0f s of its answer",
                           self.worker, result.seq, SEEN_TIMEOUT)
        return result

    # ----- the rest of Served -----
    def snapshot(self) -> bool:
        """Readers never snapshot (the writer does)."""
        return False

    def log_bytes(self) -> int:
        """The write-ahead log's size in bytes."""
        return log_size(self.state_dir / LOG_FILE)

    def version(self) -> str:
        """The served folder and the last applied log seq."""
        return f"{self.rec.folder.name if self.rec.folder else '-'}+{self.applied_seq}"

    def close(self) -> None:
        """Stop following the log."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=30)
        self._follower.close()
        self._writer.close()
        if self.shared is not None:
            self.shared.close()
