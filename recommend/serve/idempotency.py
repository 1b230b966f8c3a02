"""``Idempotency-Key``: a write sent again (its client lost the answer) is answered, not applied
twice.

A write request may carry an ``Idempotency-Key`` header (1 to :data:`MAX_KEY_CHARS`
printable ASCII characters, chosen by the client: a UUID per logical write). When a write
with that key was logged within :data:`WINDOW_SECONDS`, the server answers that write's
answer (200 and the same body, with ``Idempotent-Replayed: true``) and logs nothing; the same
key with another body (or route) is refused with 409. The key and the answer are recorded in
the write's log entry (``"idempotency"``), so they survive a restart: the writer notes them
again from the log on start, and from ``STATE/idempotency.json`` (written atomically at each
snapshot, before the log is compacted) for the entries a snapshot compacted away.

Bounds: a key is kept :data:`WINDOW_SECONDS` (24 h) after its write, and at most
:data:`MAX_KEYS` keys are kept (the oldest go first). Only logged writes are kept: a refused
write (422), or one that added nothing, was not applied, so sending it again is harmless.
Requests with the same key arriving together are checked one after the other under the write
lock: the first is logged, the others answered its answer.

Keys are scoped by the caller: the name of the API key the write came with
(:class:`recommend.serve.security.Access`), so two shops that pick the same key each have
their own write answered (a global key replayed one shop's answer, about its write, to the
other, or refused the other's write with 409). The log entry and the keys file record the
caller's name, never the API key. Keys recorded before they had a caller (log entries and
keys-file rows without one) belong to :data:`DEFAULT_CALLER`, the caller of the key given
alone (``SHOPGRAPH_API_KEY``, or a key file of one bare key): the one key a server had then.
A key file naming several keys keeps those replays by naming that key ``default``.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kg.atomic import atomic_write_json

#: How long (seconds) after its write a key is answered from the record.
WINDOW_SECONDS = 24 * 3600.0
#: At most this many keys are kept (~200 bytes each).
MAX_KEYS = 100_000
MAX_KEY_CHARS = 255
KEY_HEADER = "Idempotency-Key"
#: The header a reader tells the writer a write's caller in (on the writer's private socket).
CALLER_HEADER = "X-Shopgraph-Caller"
KEYS_FILE = "idempotency.json"
#: The caller of the API key given alone, and of every key recorded without a caller.
DEFAULT_CALLER = "default"


class KeyReused(ValueError):
    """An ``Idempotency-Key`` already used for another request (409)."""


def check_key(raw: str | None) -> str | None:
    """The request's key (None without one); ValueError saying what is wrong with it."""
    if raw is None:
        return None
    if not 0 < len(raw) <= MAX_KEY_CHARS or not all(" " < c <= "~" for c in raw):
        raise ValueError(f"Idempotency-Key: 1 to {MAX_KEY_CHARS} printable ASCII characters "
                         "without spaces (a UUID per write)")
    return raw


def fingerprint(route: str, body: Any) -> str:
    """What identifies a request's content: the sha256 of its route and canonical JSON body."""
    text = json.dumps([route, body], sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Kept:
    """A key's write: its fingerprint, when it was logged, and its answer."""

    body: str
    at: float
    answer: dict[str, Any]


class IdempotencyKeys:
    """The keys of the logged writes of the last window (module doc); thread-safe (the
    writer notes keys under its write lock while a snapshot saves them)."""

    def __init__(self, window: float = WINDOW_SECONDS, most: int = MAX_KEYS) -> None:
        self.window, self.most = window, most
        self._keys: OrderedDict[tuple[str, str], Kept] = OrderedDict()  # (caller, key)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._keys)

    def answer(self, key: str, body: str, now: float | None = None, *,
               caller: str = DEFAULT_CALLER) -> dict[str, Any] | None:
        """The answer of ``caller``'s write with ``key`` when it was logged within the window
        (None: a new key); :class:`KeyReused` when that write had another ``body``
        (fingerprint)."""
        with self._lock:
            kept = self._keys.get((caller, key))
        if kept is None or kept.at < (time.time() if now is None else now) - self.window:
            return None
        if kept.body != body:
            raise KeyReused(f"Idempotency-Key {key!r} was used for another request (another "
                            "body or route) at log seq "
                            f"{kept.answer.get('seq')}: use a new key for a new write")
        return kept.answer

    def note(self, key: str, kept: Kept, now: float | None = None, *,
             caller: str = DEFAULT_CALLER) -> None:
        """Keep ``caller``'s write with ``key``, and let the keys out of the window or over
        the count go."""
        oldest = (time.time() if now is None else now) - self.window
        with self._lock:
            self._keys[caller, key] = kept
            self._keys.move_to_end((caller, key))
            while self._keys and (len(self._keys) > self.most
                                  or next(iter(self._keys.values())).at < oldest):
                self._keys.popitem(last=False)

    def note_entry(self, entry: dict[str, Any]) -> None:
        """Keep the key a log entry records, if any (without a caller: the default's)."""
        held = entry.get("idempotency")
        if held:
            self.note(held["key"], Kept(held["body"], entry["at"],
                                        {**held["answer"], "seq": entry["seq"]}),
                      caller=held.get("caller", DEFAULT_CALLER))

    def save(self, folder: Path) -> None:
        """Write the keys to ``folder/idempotency.json`` atomically."""
        with self._lock:
            rows = [[k, v.body, v.at, v.answer, c] for (c, k), v in self._keys.items()]
        atomic_write_json(folder / KEYS_FILE, rows)

    @classmethod
    def load(cls, folder: Path) -> IdempotencyKeys:
        """The keys of ``folder/idempotency.json`` (none when it is missing; a row without
        a caller is the default's, module doc); ValueError naming the file and what is
        wrong."""
        keys, path = cls(), folder / KEYS_FILE
        if not path.exists():
            return keys
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
            kept = [(str(k), Kept(str(b), float(a), dict(ans)), str(c))
                    for k, b, a, ans, c in (_with_caller(row) for row in rows)]
        except (ValueError, TypeError) as err:
            raise ValueError(f"{path}: not a list of [key, fingerprint, time, answer, caller] "
                             f"rows ({err}); remove it to forget the keys") from None
        for key, value, caller in sorted(kept, key=lambda row: row[1].at):
            keys.note(key, value, caller=caller)
        return keys


def _with_caller(row: list[Any]) -> list[Any]:
    """A keys-file row with its caller (a row written before callers: the default)."""
    return [*row, DEFAULT_CALLER] if isinstance(row, list) and len(row) == 4 else row
