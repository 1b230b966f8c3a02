"""A reader's warm-up: every known user's default recommendations, computed before it listens.

A reader that starts (the server's start, a restart after a crash, a reader restarted by
its writer) has an empty cache, and the first request of each user was a miss: on ML-100K,
943 users at ~6.5 ms of CPU each, all at once when the load came back after a ``kill -9``,
held every request up for seconds. As Gorse materialises every user's list, each of the N
readers computes, before it listens, the default request (``GET
/v1/users/{id}/recommendations``: k=10, explained, no filter) of its share of the users
(every N-th, by id) that the level the readers share (:mod:`recommend.serve.shared_cache`)
does not already hold a right answer for (after a restart, those computed within
``--cache-seconds`` before it, and after the snapshot it started from), and stores each
there and in its own cache: the other readers find them there. It stops at
:data:`WARM_SECONDS` (a large world starts listening with part of its users warm, the rest
computed on their first request, as before).
"""

from __future__ import annotations

import logging
import time
from functools import partial
from pathlib import Path

from fastapi import HTTPException

from recommend.serve.api import RecsQuery, computed
from recommend.serve.reader import ReaderState

LOGGER = logging.getLogger("shopgraph.serve")
WARM_SECONDS = 10.0


def warm(state: ReaderState, images: Path | None, worker: int, readers: int,
         seconds: float = WARM_SECONDS) -> int:
    """Compute and keep the default recommendations of this reader's share of the users
    (module doc), for at most ``seconds``; how many it computed."""
    shared = state.shared
    if shared is None or not state.cache.enabled:
        return 0
    began = time.monotonic()
    deadline = began + seconds
    query = RecsQuery()
    users = sorted(state.rec.graph.raw_ids("user"))[worker - 1::readers]
    done = 0
    for raw in users:
        if time.monotonic() >= deadline:
            LOGGER.info("reader %d: warm-up stopped after %.0f s, %d of %d users computed",
                        worker, seconds, done, len(users))
            break
        uid = state.rec.user_id(raw)
        key = query.key(uid)
        if shared.get(key, uid) is not None:
            continue
        try:
            computed(state, key, uid, partial(query.body, state, uid, images))
        except HTTPException as err:  # a user the recommender refuses: its request says why
            LOGGER.debug("reader %d: %s not warmed: %s", worker, raw, err.detail)
            continue
        done += 1
    LOGGER.info("reader %d: warm-up computed %d of its %d users in %.1f s", worker, done,
                len(users), time.monotonic() - began)
    return done
