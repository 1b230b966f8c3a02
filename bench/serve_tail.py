"""Where the recommendations' tail comes from, for bench/serve_load.py: latency by ``X-Cache``
and by why the answer could not be a plain hit, in the seconds after the restart, and per
window of the run.

Each answered recommendation is a :class:`Timed`: when it was sent, its ``X-Cache`` (hit,
stale, miss, off), its latency, and its *reason*, from what the clients did before it
(:class:`Reasons`):

- ``after_write``: an event of the same user was acknowledged after the user's previous
  recommendation was sent and before this one was (the user's list must change);
  ``since`` is how long before this request that event was acknowledged;
- ``first``: the user's first recommendation of the run, with no write of theirs before it
  (what the server's warm-up should hold);
- ``other``: neither (a response expired or dropped, another user's write, a restart).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SLOW_MS = 50.0  # the p99 target: a recommendation slower than this counts as slow
AFTER_RESTART = 10.0  # seconds after the restart reported apart (the caches fill again)
#: Bounds (s) of the "since the write" shares reported for ``after_write`` requests.
SINCE_BOUNDS = (0.1, 0.3, 1.0)


@dataclass(frozen=True)
class Timed:
    """One answered recommendation (module doc); ``since`` is None unless ``after_write``."""

    at: float
    how: str
    seconds: float
    reason: str
    since: float | None = None


class Reasons:
    """Per user, when their last event was acknowledged and their last recommendation sent
    (clock: ``time.perf_counter``), to give each recommendation its reason (module doc)."""

    def __init__(self) -> None:
        self._wrote: dict[str, float] = {}
        self._asked: dict[str, float] = {}

    def wrote(self, user: str, acked: float) -> None:
        """An event of ``user`` was acknowledged at ``acked``."""
        self._wrote[user] = acked

    def asked(self, user: str, sent: float) -> tuple[str, float | None]:
        """The reason of ``user``'s recommendation sent at ``sent``, and (after a write) the
        seconds since that write's acknowledgement."""
        wrote, asked = self._wrote.get(user), self._asked.get(user)
        self._asked[user] = sent
        if wrote is not None and wrote <= sent and (asked is None or wrote > asked):
            return "after_write", sent - wrote
        return ("first" if asked is None else "other"), None


def _p(ms: np.ndarray) -> dict:
    return {"count": len(ms), **({"p50_ms": round(float(np.percentile(ms, 50)), 2),
                                   "p99_ms": round(float(np.percentile(ms, 99)), 2)}
                                  if len(ms) else {})}


def tail(timed: list[Timed], restarted_at: float | None, slow_ms: float = SLOW_MS,
         window: float = 5.0) -> dict:
    """p50/p99 by ``X-Cache`` (hit, stale, miss, off), by reason and ``X-Cache`` within it,
    in the :data:`AFTER_RESTART` s after the restart and outside them, and per ``window`` s
    of the run (how many answered, p99, how many over ``slow_ms``); for ``after_write``
    requests, the share sent within each of :data:`SINCE_BOUNDS` of the write."""
    if not timed:
        return {}
    at = np.array([t.at for t in timed])
    how = np.array([t.how for t in timed])
    why = np.array([t.reason for t in timed])
    ms = np.array([t.seconds for t in timed]) * 1000
    since = np.array([t.since for t in timed if t.since is not None])
    after = (np.zeros(len(at), bool) if restarted_at is None
             else (at >= restarted_at) & (at < restarted_at + AFTER_RESTART))
    slots = (at // window).astype(int)
    return {"by_cache": {h: _p(ms[how == h]) for h in sorted(set(how))},
            "by_reason": {r: {h: _p(ms[(why == r) & (how == h)])
                              for h in sorted(set(how[why == r]))} for r in sorted(set(why))},
            "after_write_since": {f"within_{b}s": round(float((since <= b).mean()), 4)
                                  for b in SINCE_BOUNDS} if len(since) else {},
            "after_restart": _p(ms[after]), "outside_restart": _p(ms[~after]),
            "slow_ms": slow_ms, "slow": int((ms > slow_ms).sum()),
            "slow_misses": int(((ms > slow_ms) & (how == "miss")).sum()),
            "windows": [[int(s * window), int((slots == s).sum()),
                         round(float(np.percentile(ms[slots == s], 99)), 1),
                         int((ms[slots == s] > slow_ms).sum())]
                        for s in np.unique(slots)]}
