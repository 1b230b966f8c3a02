"""Bounded staleness: a user's list right after their own write, sent while the fresh one is
computed (``--stale-seconds``).

With ``--workers N``, a user's write makes their kept recommendations wrong
(:mod:`recommend.serve.shared_cache`), and the compute process computes their default list
again at once (:mod:`recommend.serve.compute`). A request arriving before it is ready used to
wait for it (a miss, queued behind the others on busy cores). Within ``bound`` seconds of
the write (by the log entry's time), the reader instead sends the list kept from before the
write with the write's direct effect applied: every product the user's new events name
(viewed, clicked, liked, carted, purchased, rated: the recommender leaves out what a user
has seen) and every product they marked "not interested" is taken out, so the list holds
fewer than ``k`` items until the fresh one replaces it. What the write changes beyond that
(scores, the items like a refused one moving down, a follow's effect) shows once the
fresh list is sent: it is computed from a model holding the write, and a request after the
bound waits for it. The answer says ``X-Cache: stale`` and, as every recommendation does,
``X-Log-Seq``: the log seq the list was computed at (older than the write's, for a stale one).

:class:`RecentWrites` keeps, per user, the products each of their log entries of the last
``bound`` seconds takes out, in the order the reader applies them; :func:`without` takes
them out of a kept JSON answer.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from typing import Any

from recommend.request import typed_id

DEFAULT_BOUND = 0.3  # seconds: well under the 1 s in which a write must be reflected in full


def entry_products(entry: dict[str, Any], user: str, typed: Any) -> set[str]:
    """The typed products log ``entry`` takes out of typed ``user``'s list: their events'
    product targets and their "not interested" ones (a post target takes nothing out)."""
    out = set()
    for obj in entry.get("files", {}).get("events.jsonl", ()):
        if not isinstance(obj, dict) or obj.get("target_type") == "post":
            continue
        try:
            if typed(obj.get("user")) != user:
                continue
        except (TypeError, ValueError):
            continue
        try:
            out.add(typed_id(obj.get("target"), "product"))
        except ValueError:  # a post's id (or none): takes nothing out
            continue
    out.update(item for who, item in entry.get("not_interested", ()) if who == user)
    return out


class RecentWrites:
    """Per user, their log entries of the last ``bound`` seconds: seq, time, and the
    products each takes out of their list (module doc); thread-safe."""

    def __init__(self, bound: float) -> None:
        if not 0 <= bound < 1:
            raise ValueError(f"a staleness bound of {bound} s: from 0 (off) to under 1 s")
        self.bound = float(bound)
        self._since = 0  # every entry after this seq is noted
        self._by_user: dict[str, list[tuple[int, float, frozenset[str]]]] = {}
        self._order: deque[tuple[float, str]] = deque()  # (time, user) in log order
        self._dropped: dict[str, int] = {}  # per user, the last seq dropped for its age
        self._lock = threading.Lock()

    def restart(self, seq: int) -> None:
        """Forget everything: entries after log ``seq`` are noted from now on."""
        with self._lock:
            self._since = seq
            self._by_user.clear()
            self._order.clear()
            self._dropped.clear()

    def note(self, entry: dict[str, Any], users: set[str], typed: Any) -> None:
        """Note log ``entry`` (its ``seq`` and ``at``) for each of the typed ``users`` it
        concerns (:func:`recommend.serve.cache.entry_users`), after those noted before."""
        if self.bound <= 0:
            return
        at = float(entry.get("at", 0.0))
        with self._lock:
            for user in users:
                taken = frozenset(entry_products(entry, user, typed))
                self._by_user.setdefault(user, []).append((entry["seq"], at, taken))
                self._order.append((at, user))
            self._drop(at - self.bound)

    def _drop(self, before: float) -> None:
        """Drop the entries older than ``before`` (caller holds the lock)."""
        while self._order and self._order[0][0] < before:
            _, user = self._order.popleft()
            kept = self._by_user[user]
            self._dropped[user] = kept.pop(0)[0]
            if not kept:
                del self._by_user[user]

    def taken_out(self, user: str, seq: int, now: float) -> frozenset[str] | None:
        """The products to take out of ``user``'s list computed at log ``seq``, when every
        entry of theirs after ``seq`` is noted and the first came less than ``bound``
        seconds before ``now``; None when the list may not be sent stale."""
        if self.bound <= 0:
            return None
        with self._lock:
            if seq < self._since or self._dropped.get(user, 0) > seq:
                return None
            after = [(at, taken) for s, at, taken in self._by_user.get(user, ()) if s > seq]
        if not after or now - after[0][0] >= self.bound:
            return None
        return frozenset().union(*(taken for _, taken in after))


def without(body: bytes, products: frozenset[str]) -> bytes:
    """A JSON list of recommendations without the ones of ``products`` (a body unchanged
    when none is in it)."""
    rows = json.loads(body)
    kept = [row for row in rows if row.get("item") not in products]
    if len(kept) == len(rows):
        return body
    return json.dumps(kept, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
