"""Each serving process's cache of the responses it served (``--cache-seconds``).

A recommendation computed from scratch costs milliseconds of CPU; the same answer sent again
costs microseconds (Gorse's "cached recommendations 0.26 ms" is such a cache). A response is
kept under its route, its user and every query parameter, in each process that answers
HTTP, and sent again while it is right:

- **The user's own writes drop it at once.** When a process applies a log entry (the
  reader following the log, the one-process server committing a write), every entry of a
  user it concerns is dropped before the entry counts as applied: an event's user, both ends
  of a follow, a post's author, a user record, a "not interested" (:func:`concerned`). So the
  write's answer, and the user's next recommendation from any process after it applied the
  write, reflect it, as without the cache.
- **A catalogue write (a product record) drops everything**, as does a reload of the model.
- **Others' writes** change a user's scores only through what everyone shares (popularity,
  co-occurrence, a followed user's acts): a kept response misses them for at most
  ``seconds`` (its ``Age`` header says how old it is; ``X-Cache`` says hit or miss).
- **A response computed while a write was being applied is not kept**: each store carries
  the generation of its user's slot and of the whole cache taken before the computing began,
  and is refused when either moved meanwhile (it may have read the model before the write).
- Bounded: at most ``max_entries`` responses and ``max_bytes`` of bodies (an explained
  answer of k=10 is ~6 KB on ML-100K, of k=100 ten times that), least recently used dropped
  first. Keys are values compared in memory: nothing of a request reaches a file path.

``seconds`` = 0 turns the cache off (every request computed, ``X-Cache: off``). The default,
60 s, bounds only how late others' acts reach a user's list (a popularity shift a minute
late); the user's own acts never wait for it. With N readers, a response one of them
computed is found by the others in the level they share
(:mod:`recommend.serve.shared_cache`), so a user's first request after a write is computed
once, not once per reader.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any

DEFAULT_SECONDS = 60.0
DEFAULT_ENTRIES = 20_000
MAX_BYTES = 64 << 20
SLOTS = 4096  # user generation slots (a user's slot is its hash's; sharing one costs a store)


@dataclass(frozen=True)
class Token:
    """The generations a response was computed under (see :meth:`ResponseCache.token`)."""

    slot: int
    user_generation: int
    generation: int


@dataclass(frozen=True)
class Hit:
    """A kept response: its body, how many seconds ago it was computed, and the log seq the
    model it was computed from held (None: not known)."""

    body: bytes
    age: float
    seq: int | None = None


class ResponseCache:
    """The responses of one process (module doc); thread-safe."""

    def __init__(self, seconds: float = DEFAULT_SECONDS, max_entries: int = DEFAULT_ENTRIES,
                 max_bytes: int = MAX_BYTES) -> None:
        if seconds < 0 or max_entries < 1:
            raise ValueError(f"cache of {seconds} s and {max_entries} entries: the seconds "
                             "must be >= 0 (0: off) and the entries >= 1")
        self.seconds, self.max_entries, self.max_bytes = float(seconds), max_entries, max_bytes
        self.bytes = 0  # of the bodies kept
        self._entries: OrderedDict[Hashable, tuple[str, bytes, float, int | None]] = OrderedDict()
        self._by_user: dict[str, set[Hashable]] = {}
        self._slots = [0] * SLOTS
        self._generation = 0
        self._lock = threading.Lock()
        self.hits = self.misses = self.dropped = 0

    @property
    def enabled(self) -> bool:
        """Whether responses are kept at all."""
        return self.seconds > 0

    def token(self, user: str) -> Token:
        """The generations now, to hand to :meth:`put` with the response computed next."""
        slot = hash(user) % SLOTS
        with self._lock:
            return Token(slot, self._slots[slot], self._generation)

    def get(self, key: Hashable, *, count_miss: bool = True) -> Hit | None:
        """The response kept under ``key`` when younger than ``seconds`` (counted as a hit, or
        as a miss unless ``count_miss`` is False: a look that another follows)."""
        now = time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found is not None and now - found[2] < self.seconds:
                self._entries.move_to_end(key)
                self.hits += 1
                return Hit(found[1], now - found[2], found[3])
            if found is not None:
                self._remove(key)
            self.misses += count_miss
            return None

    def put(self, key: Hashable, user: str, body: bytes, token: Token,
            age: float = 0.0, seq: int | None = None) -> bool:
        """Keep ``body`` for ``user`` under ``key`` (computed ``age`` seconds ago, from a
        model holding log ``seq``) unless a write concerning ``user`` (or a drop of
        everything) came since ``token`` was taken; whether it was kept."""
        if not self.enabled or len(body) > self.max_bytes:
            return False
        with self._lock:
            if (self._slots[token.slot] != token.user_generation
                    or self._generation != token.generation):
                return False
            if key in self._entries:
                self._remove(key)
            self._entries[key] = (user, body, time.monotonic() - age, seq)
            self._by_user.setdefault(user, set()).add(key)
            self.bytes += len(body)
            while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
                self._remove(next(iter(self._entries)))
            return key in self._entries

    def drop_users(self, users: Iterable[str]) -> None:
        """Drop every response of ``users`` and refuse the ones being computed for them."""
        with self._lock:
            for user in users:
                self._slots[hash(user) % SLOTS] += 1
                for key in self._by_user.pop(user, ()):
                    self.bytes -= len(self._entries.pop(key)[1])
                    self.dropped += 1

    def clear(self) -> None:
        """Drop everything, and refuse every response being computed."""
        with self._lock:
            self._generation += 1
            self.dropped += len(self._entries)
            self._entries.clear()
            self._by_user.clear()
            self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _remove(self, key: Hashable) -> None:
        user, body, _, _ = self._entries.pop(key)
        self.bytes -= len(body)
        keys = self._by_user.get(user)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._by_user[user]


#: The fields naming a user in each dataset file a write may carry.
USER_FIELDS = {"events.jsonl": ("user",), "follows.jsonl": ("follower", "followee"),
               "posts.jsonl": ("author",), "users.jsonl": ("id",)}


def concerned(files: dict[str, list[Any]], typed: Any) -> tuple[set[str], bool]:
    """The typed users whose responses a write's records change directly, and whether it
    changes the catalogue (a product record: every response). ``files`` is a log entry's
    (dataset file name -> its JSON objects); ``typed(raw)`` types a raw user id (a value
    it refuses concerns no served user)."""
    raw = [obj.get(name) for file, names in USER_FIELDS.items()
           for obj in files.get(file, ()) if isinstance(obj, dict) for name in names]
    users = set()
    for value in raw:
        try:
            users.add(typed(value))
        except (TypeError, ValueError):
            continue
    return users, any(o is not None for o in files.get("products.jsonl", ()))


def forget(cache: ResponseCache, entries: Iterable[dict[str, Any]], typed: Any) -> None:
    """Drop what applying log ``entries`` made stale (:func:`concerned`, and every
    not-interested user)."""
    users: set[str] = set()
    for entry in entries:
        found, catalogue = entry_users(entry, typed)
        if catalogue:
            cache.clear()
            return
        users |= found
    if users:
        cache.drop_users(users)


def entry_users(entry: dict[str, Any], typed: Any) -> tuple[set[str], bool]:
    """:func:`concerned` of a log entry's records, with the users it says are not
    interested in something."""
    users, catalogue = concerned(entry.get("files", {}), typed)
    users.update(user for user, _ in entry.get("not_interested", ()))
    return users, catalogue
