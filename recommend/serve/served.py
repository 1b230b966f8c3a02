"""What every serving process shares: the model it starts from, how it applies log entries,
and the face the routes see (:class:`Served`).

Two kinds of process serve: the writer (:class:`recommend.serve.state.ServedState`, which owns
the write-ahead log and the snapshots, and alone with ``--workers 1`` answers HTTP too) and
the readers (:class:`recommend.serve.reader.ReaderState`, ``--workers N``), which follow the
log. Both start from the same model (:func:`load_served`: the state folder's snapshot, else
the artifact) and apply the same entries in the same order (:func:`replay`), so they serve
the same graph.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from recommend.recommender import Recommender
from recommend.serve.embedded import remove_leftovers, share_encoder
from recommend.serve.idempotency import DEFAULT_CALLER
from recommend.serve.writes import check_files

if TYPE_CHECKING:
    from collections.abc import Iterable

    from recommend.serve.cache import ResponseCache
    from recommend.serve.compute import ComputeClient
    from recommend.serve.feedback import Refusals
    from recommend.serve.shared_cache import SharedResponses
    from recommend.serve.wal import Entry

LOGGER = logging.getLogger("shopgraph.serve")
LOG_FILE = "log.jsonl"
SNAPSHOT_DIR = "snapshot"
REPLAY_BATCH = 200
SERVE_LOCK = ".serve.lock"


@dataclass(frozen=True)
class WriteResult:
    """What one write did: records added, merged, refusals noted, and its log seq;
    ``replayed``: the answer of an earlier write with the same Idempotency-Key (not in
    the body: the ``Idempotent-Replayed`` header says it)."""

    accepted: int
    merged: int
    not_interested: int
    seq: int | None
    replayed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "merged": self.merged,
                "not_interested": self.not_interested, "seq": self.seq}


class WriterUnavailable(RuntimeError):
    """The writer did not answer (stopping or restarting): the write is not acknowledged."""


class ComputeUnavailable(RuntimeError):
    """The compute process did not answer (:mod:`recommend.serve.compute`): the reader
    computes the miss itself."""


class Served(Protocol):
    """What the routes use of a serving process's state."""

    rec: Recommender
    refusals: Refusals
    cache: ResponseCache
    shared: SharedResponses | None  # the readers' shared response level
    compute: ComputeClient | None  # where a reader's misses are computed (None: here)
    applied: dict[str, int]
    applied_seq: int
    snapshot_seq: int
    worker: int

    def write(self, route: str, body: Any, key: str | None = None,
              caller: str = DEFAULT_CALLER) -> WriteResult:
        """Validate, log (fsync'd) and apply a write request (``key``: its Idempotency-Key,
        scoped by ``caller``, the API key's name); visible here when it returns."""

    def version(self) -> str:
        """The served folder and the last applied log seq."""

    def log_bytes(self) -> int:
        """The write-ahead log's size."""

    def snapshot(self) -> bool:
        """Save the served model (the writer); False when nothing was saved."""

    def close(self) -> None:
        """Stop serving this state (the writer snapshots first)."""


class PeriodicSnapshots:
    """``state.snapshot()`` every ``every`` seconds (it saves only when anything changed), on
    a thread, until :meth:`stop`; none when ``every`` <= 0. A failed snapshot is logged and
    serving goes on (the log still holds every write)."""

    def __init__(self, state: Served, every: float) -> None:
        self.state, self.every = state, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="snapshots", daemon=True)
        if every > 0:
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.state.snapshot()
            except Exception:  # a failed snapshot must not stop serving; the log holds it all
                LOGGER.exception("periodic snapshot failed")

    def stop(self) -> None:
        """Stop snapshotting (a snapshot under way finishes first)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def hold_folder(folder: Path) -> int:
    """An exclusive lock on ``folder/.serve.lock`` (the folder made if need be) held while
    serving (released by the OS when the process dies): two servers never share a state
    folder. A folder that cannot be written is refused, saying so. Once held, the embedding
    shards' temporary files an earlier run left are removed (:func:`remove_leftovers`)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / SERVE_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:  # read-only, full, not ours: say what the folder is for
        raise OSError(err.errno, f"{folder}: the state folder cannot be written "
                      f"({err.strerror}); the server keeps its write-ahead log and snapshots "
                      "there: give a writable --state folder") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise RuntimeError(f"{folder}: another server is serving this state folder") from None
    remove_leftovers(folder, time.time())  # ours now: what an earlier run left mid-write
    return fd


def base_id(artifact: Path) -> str:
    """How a snapshot names the artifact the server started from."""
    return str(artifact.resolve())


def load_served(artifact: Path, state_dir: Path, *,
                writer: bool = False) -> tuple[Recommender, int]:
    """The model to start from: ``state_dir/snapshot`` when there is one (with the log seq it
    holds), else ``artifact`` (seq 0). A snapshot of another artifact is refused. Its
    sentence encoder embeds through the state folder's cache (:mod:`recommend.serve.embedded`;
    ``writer``: this process is the writer, whose key the others' lookups take)."""
    snap = state_dir / SNAPSHOT_DIR
    seq = 0
    if snap.is_dir() or snap.with_name(SNAPSHOT_DIR + ".old").is_dir():
        rec = Recommender.load(snap)  # NAME.old after a crash mid-swap
        info = rec.manifest.get("serve", {})
        if info.get("base") != base_id(artifact):
            raise ValueError(f"{state_dir}: its snapshot was served from "
                             f"{info.get('base')!r}, not {artifact}; give another "
                             "--state folder")
        seq = int(info.get("log_seq", 0))
    else:
        rec = Recommender.load(artifact)
    share_encoder(rec, state_dir, writer=writer)
    return rec, seq


def apply_entries(rec: Recommender, entries: list[Entry]) -> bool:
    """Add the records of ``entries`` to ``rec`` in one atomic call; False (logged) if the
    graph refuses any."""
    files: dict[str, list[Any]] = {}
    for entry in entries:
        for name, objs in entry.get("files", {}).items():
            files.setdefault(name, []).extend(o for o in objs if o is not None)
    if not any(files.values()):
        return True
    label = f"log seq {entries[0]['seq']}..{entries[-1]['seq']}: "
    try:
        checked = check_files(rec.graph, files, label)
    except ValueError as err:
        LOGGER.warning("%s refused on replay: %s", label, err)
        return False
    return not rec.add(checked.dataset, atomic=True).rejected


def replay(rec: Recommender, entries: list[Entry]) -> None:
    """Apply ``entries`` in order, in batches; a refused batch entry by entry (an entry the
    graph refuses is logged and skipped, as on every start)."""
    for start in range(0, len(entries), REPLAY_BATCH):
        batch = entries[start:start + REPLAY_BATCH]
        if not apply_entries(rec, batch):
            for entry in batch:
                apply_entries(rec, [entry])


def note_entry(entry: Entry, refusals: Refusals, applied: dict[str, int] | None) -> None:
    """Keep ``entry``'s "not interested" pairs and count its feedback per kind."""
    for user, item in entry.get("not_interested", ()):
        refusals.add(user, item)
    if applied is None:
        return
    kinds: Iterable[Any] = (o.get("kind") for o in entry.get("files", {}).get("events.jsonl", ())
                            if isinstance(o, dict))
    for kind in kinds:
        applied[kind] = applied.get(kind, 0) + 1
    if entry.get("not_interested"):
        applied["not-interested"] = (applied.get("not-interested", 0)
                                     + len(entry["not_interested"]))


def log_size(path: Path) -> int:
    """A log file's size (0 while it does not exist)."""
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0
