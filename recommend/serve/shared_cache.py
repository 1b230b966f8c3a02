"""The responses the ``--workers N`` readers share, so a response one computed is a hit in all.

Each reader keeps its own :class:`~recommend.serve.cache.ResponseCache` (a dict: the cheapest
hit). Without a level below it, a user's first request to each reader after a write of theirs
was computed once per reader: with 2 readers, half the misses on ML-100K were a response the
other reader had just computed. :class:`SharedResponses` is that level: a SQLite file in the
state folder (:data:`FILE`), read on a local miss, written after each computed response (and
by each reader's warm-up, :mod:`recommend.serve.warm`). It is checked by log seq, not by
generations (the readers apply the log apart, each at its own pace):

- each response is stored with the log seq its reader had applied before it began computing
  it (the model it read held at least that much) and the wall-clock time it was computed;
- each reader notes, for every log entry it applies, the seq of the last entry concerning each
  user (:func:`recommend.serve.cache.concerned`, refusals too), and of the last catalogue
  write (a product record) ahead of the entry counting as applied;
- a stored response is sent for ``user`` only when its seq is at least the user's last one and
  the catalogue's, at least :attr:`SharedResponses.floor` (where the reader's notes begin),
  and younger than ``seconds``.

So the user's own write, once the answering reader applied it, is reflected as without the
cache, and others' writes within ``seconds``, as in each reader's own cache. The file outlives
the server, and so do the notes (saved in it with how far they reach, before the entries
count as applied): a reader starting from a snapshot the saved notes reach takes them over
(its floor is theirs; the log after the snapshot it notes again), else its notes begin at the
snapshot. So a restart after a ``kill -9`` still sends the answers computed within ``seconds``
before it that no write has made stale, instead of computing every user's at once (the log
seqs go on across a restart). The file is emptied when the served artifact or shopgraph's
version is not the one it was filled from (its ``stamp``), and made again when damaged (a file
of that name that is no SQLite database is a user's: the server refuses to start over it).
The file is bounded: entries older than ``seconds`` are deleted, and the oldest beyond
``max_entries``, every :data:`PURGE_EVERY` stores. A store or a look that SQLite cannot make
at once (the other reader holds the file) is skipped: the level is an optimisation, never a
reason to fail. Keys are the local cache's tuples as text (``repr``): nothing of a request
reaches a file path.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Hashable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from recommend.serve.cache import Hit, entry_users
from recommend.serve.stale import RecentWrites, without

LOGGER = logging.getLogger("shopgraph.serve")
FILE = ".responses.sqlite"  # in the state folder
SQLITE_HEADER = b"SQLite format 3\x00"  # the first bytes of every SQLite database
CATALOGUE = ""  # the notes' row of the last catalogue write (no user id is blank)
PURGE_EVERY = 500  # stores between two purges
#: Seconds a look (on the event loop) and a store (on a worker thread) wait for a lock of
#: the other reader's (in WAL mode a look waits only on a checkpoint).
LOOK_WAIT, STORE_WAIT = 0.02, 0.1


@contextmanager
def _immediate(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction on ``db`` (autocommit connection): committed, or rolled back
    on any error."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _sqlite_file(path: Path) -> bool:
    """Whether ``path`` begins as every SQLite database does (what this module made, though
    damaged), so it may be made again; anything else is not ours to replace."""
    with path.open("rb") as file:
        return file.read(len(SQLITE_HEADER)) == SQLITE_HEADER


class SharedResponses:
    """One reader's view of the shared response file (module doc); thread-safe."""

    def __init__(self, path: str | Path, seconds: float, max_entries: int,
                 stamp: str = "", stale_seconds: float = 0.0) -> None:
        self.path, self.seconds, self.max_entries = Path(path), float(seconds), max_entries
        #: the users' writes of the last ``stale_seconds`` (:meth:`stale`; 0: never stale)
        self.recent = RecentWrites(stale_seconds)
        self.floor = 0
        self.catalogue_seq = 0
        self.user_seq: dict[str, int] = {}
        self._unsaved: dict[str, int] = {}  # notes not yet in the file
        self._saved_upto = 0  # the file's notes reach this seq (-1: this reader keeps its own)
        self.hits = self.stores = self.skipped = 0
        self._lock = threading.Lock()  # the notes
        # one connection (and lock) for looks, one for stores: a look never waits on a store
        self._store_lock, self._look_lock = threading.Lock(), threading.Lock()
        try:
            self._store = self._open(stamp)
        except sqlite3.DatabaseError as err:  # damaged (a machine crash: synchronous=OFF)
            if not _sqlite_file(self.path):  # a user's file of that name: never replaced
                raise FileExistsError(f"{self.path}: not a file this server made ({err}); "
                                      "move it away") from err
            LOGGER.warning("%s: %s; made again", self.path, err)
            for suffix in ("", "-wal", "-shm"):  # this module's file and SQLite's beside it
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            self._store = self._open(stamp)
        self._look = self._connect(LOOK_WAIT)

    def _open(self, stamp: str) -> sqlite3.Connection:
        """The storing connection, the tables made, and emptied when ``stamp`` (what the
        responses were computed from) is not the file's."""
        db = self._connect(STORE_WAIT)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, "
                   "user TEXT NOT NULL, seq INTEGER NOT NULL, at REAL NOT NULL, "
                   "body BLOB NOT NULL)")
        db.execute("CREATE INDEX IF NOT EXISTS responses_at ON responses (at)")
        db.execute("CREATE TABLE IF NOT EXISTS stamp (one INTEGER PRIMARY KEY CHECK (one = 1),"
                   " stamp TEXT NOT NULL)")
        db.execute("CREATE TABLE IF NOT EXISTS notes (user TEXT PRIMARY KEY, "
                   "seq INTEGER NOT NULL)")
        db.execute("CREATE TABLE IF NOT EXISTS noted (one INTEGER PRIMARY KEY CHECK (one = 1),"
                   " since INTEGER NOT NULL, upto INTEGER NOT NULL)")
        with _immediate(db):
            if db.execute("SELECT stamp FROM stamp").fetchone() != (stamp,):
                for table in ("responses", "notes", "noted"):
                    db.execute(f"DELETE FROM {table}")
                db.execute("INSERT OR REPLACE INTO stamp VALUES (1, ?)", (stamp,))
        return db

    def _connect(self, wait: float) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=wait, isolation_level=None,
                             check_same_thread=False)
        db.execute("PRAGMA synchronous=OFF")  # a cache: lost on a crash with the server
        return db

    def restart(self, snapshot_seq: int, entries: list[dict[str, Any]], typed: Any) -> None:
        """This reader (re)starts from the snapshot at log ``snapshot_seq`` and the log
        ``entries`` after it: take the notes the file holds when they reach the snapshot (the
        floor: where they begin), else begin them there, and note ``entries`` (:meth:`note`;
        all at once: no look meanwhile sees the notes without them)."""
        with self._lock, self._store_lock:
            self.catalogue_seq, self._unsaved = 0, {}
            self.recent.restart(snapshot_seq)
            self.user_seq.clear()
            self._saved_upto = snapshot_seq
            try:
                with _immediate(self._store):
                    row = self._store.execute("SELECT since, upto FROM noted").fetchone()
                    if row is not None and row[0] <= snapshot_seq <= row[1]:
                        self.floor = row[0]
                        notes = self._store.execute("SELECT user, seq FROM notes").fetchall()
                        self.user_seq.update(notes)
                        self.catalogue_seq = self.user_seq.pop(CATALOGUE, 0)
                    else:  # none, or a gap between the notes and the snapshot
                        self.floor = snapshot_seq
                        self._store.execute("INSERT OR REPLACE INTO noted VALUES (1, ?, ?)",
                                            (snapshot_seq, snapshot_seq))
            except sqlite3.Error as err:
                self._skip("start", err)
                self.floor, self._saved_upto = snapshot_seq, -1  # kept to itself
            self._note(entries, typed)
        if entries and self._saved_upto >= 0:
            self._save(entries[-1]["seq"])
        LOGGER.info("shared responses: notes from log seq %d", self.floor)

    def note(self, entries: Iterable[dict[str, Any]], typed: Any) -> None:
        """Note the users and catalogue writes of log ``entries``, in order and after the
        ones noted before (call before they count as applied); ``typed`` types a raw user
        id. Saved in the file for a later start, with how far they reach (a note it could
        not save is tried again with the next ones)."""
        entries = list(entries)
        with self._lock:
            self._note(entries, typed)
        if entries and self._saved_upto >= 0:
            self._save(entries[-1]["seq"])

    def _note(self, entries: list[dict[str, Any]], typed: Any) -> None:
        """:meth:`note` in memory (caller holds ``self._lock``)."""
        for entry in entries:
            users, catalogue = entry_users(entry, typed)
            self.recent.note(entry, users, typed)
            seq = entry["seq"]
            for user in users:
                self.user_seq[user] = self._unsaved[user] = max(self.user_seq.get(user, 0),
                                                                seq)
            if catalogue:
                self.catalogue_seq = self._unsaved[CATALOGUE] = seq

    def _save(self, upto: int) -> None:
        with self._lock:
            unsaved = dict(self._unsaved)
        try:
            with self._store_lock, _immediate(self._store):
                self._store.executemany(
                    "INSERT INTO notes VALUES (?, ?) ON CONFLICT (user) DO UPDATE "
                    "SET seq = max(seq, excluded.seq)", list(unsaved.items()))
                self._store.execute("UPDATE noted SET upto = max(upto, ?)", (upto,))
        except sqlite3.Error as err:
            self._skip("note", err)
            return
        with self._lock:
            for user, seq in unsaved.items():
                if self._unsaved.get(user) == seq:
                    del self._unsaved[user]
            self._saved_upto = upto

    def get(self, key: Hashable, user: str) -> Hit | None:
        """The response stored under ``key`` when still right for ``user`` (module doc)."""
        row = self._row(key)
        if row is None:
            return None
        seq, at, body = row
        age = time.time() - at
        if seq < self.least(user) or not 0 <= age < self.seconds:
            return None
        self.hits += 1
        return Hit(bytes(body), age, seq)

    def stale(self, key: Hashable, user: str) -> Hit | None:
        """The response stored under ``key`` when only ``user``'s own writes of the last
        ``stale_seconds`` made it wrong, with their direct effect applied
        (:mod:`recommend.serve.stale`): no catalogue write since, after the floor, younger
        than ``seconds``."""
        row = self._row(key)
        if row is None:
            return None
        seq, at, body = row
        now = time.time()
        with self._lock:
            if seq < max(self.floor, self.catalogue_seq):
                return None
        taken = self.recent.taken_out(user, seq, now)
        if taken is None or not 0 <= now - at < self.seconds:
            return None
        return Hit(without(bytes(body), taken), now - at, seq)

    def _row(self, key: Hashable) -> tuple[int, float, bytes] | None:
        try:
            with self._look_lock:
                return self._look.execute("SELECT seq, at, body FROM responses WHERE key = ?",
                                          (repr(key),)).fetchone()
        except sqlite3.Error as err:
            self._skip("look", err)
            return None

    def least(self, user: str) -> int:
        """The least log seq a response for ``user`` must have been computed at to be right
        (module doc)."""
        with self._lock:
            return max(self.floor, self.catalogue_seq, self.user_seq.get(user, 0))

    def put(self, key: Hashable, user: str, seq: int, body: bytes, at: float) -> None:
        """Store ``body`` for ``user``, computed at wall-clock ``at`` from a model holding log
        ``seq``, unless a newer response is stored under ``key``."""
        try:
            with self._store_lock:
                self._store.execute(
                    "INSERT INTO responses VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE "
                    "SET user = excluded.user, seq = excluded.seq, at = excluded.at, "
                    "body = excluded.body WHERE excluded.seq >= responses.seq",
                    (repr(key), user, seq, at, body))
                self.stores += 1
                if self.stores % PURGE_EVERY == 0:
                    self._purge()
        except sqlite3.Error as err:
            self._skip("store", err)

    def _purge(self) -> None:
        self._store.execute("DELETE FROM responses WHERE at < ?",
                            (time.time() - self.seconds,))
        self._store.execute("DELETE FROM responses WHERE key IN (SELECT key FROM responses "
                         "ORDER BY at DESC LIMIT -1 OFFSET ?)", (self.max_entries,))

    def _skip(self, what: str, err: sqlite3.Error) -> None:
        self.skipped += 1
        if self.skipped in (1, 100, 10_000):
            LOGGER.warning("shared response cache: a %s skipped (%s; %d so far)", what, err,
                           self.skipped)

    def close(self) -> None:
        """Close this reader's connection to the file."""
        with self._look_lock, self._store_lock:
            self._look.close()
            self._store.close()
