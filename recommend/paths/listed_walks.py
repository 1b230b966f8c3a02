"""Each user's walks through a scorer's meta-paths, made once at load and read by requests.

A request walks the user through each weighted meta-path (:mod:`recommend.paths.score_row`):
the middle layer of a 3-step one (:func:`recommend.paths.instances.reach_state`, which
explaining reads too) and the last step's walk (:func:`recommend.paths.last_step.last_term`),
~10-200 us each (the size world's ``follows>posted``: some 1,600 posts of the people a
user follows, then their ~600 products). They depend on the user and the step matrices only, so a
loaded scorer walks every user once (:func:`list_walks`) with the very functions a request
calls, and a request reads the walk back (:func:`listed_reach`, :func:`listed_last`): the
same arrays, so the same floats. A walk the last step takes as a pass over its columns
(:func:`recommend.paths.last_step.by_columns`: a category's products) is not listed (it is
a dense row; the request makes it). The lists are dropped with any of their step matrices
(a refresh compiles new ones: their walks are made per request again), and made only up to
:data:`MAX_WALKS` walks and :data:`MAX_ENTRIES` listed entries (a bigger world's load would
take too long: the 1M world's 50,000 users are not listed). Measured against 91cfe2d: the
size world lists 1.25 million entries (load CPU +0.25-1.0 s on a busy VM, RSS +2 MB); ML-100K
3.9 million, with the session component's lists (:mod:`recommend.hybrid.session`), load CPU
1.7 -> 2.5 s, RSS +38 MB, for a plain request at 0.64x.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from recommend.paths.last_step import by_columns, walk_last
from recommend.paths.walks import WalkState, walk_on, walk_start

__all__ = ["MAX_ENTRIES", "MAX_WALKS", "list_walks", "listed_last", "listed_reach"]

#: At most this many walks (users x listed meta-path parts, ~20 us each) are made at load.
MAX_WALKS = 24_000
#: At most this many entries (an index and a float64 each, ~12 bytes) are listed in all.
MAX_ENTRIES = 1 << 22
#: The first users walked to judge a list's size before walking the others.
SAMPLE = 64

#: Per tuple of step matrices (by identity): weak references to them and each user's walk
#: (None: not listed). "reach": a 3-step meta-path's first two steps; "last": a meta-path's
#: steps, walked to its end.
_lists: dict[tuple[str, tuple[int, ...]], tuple[list[weakref.ref], list[WalkState | None]]] = {}
_lock = threading.Lock()


def list_walks(paths: Sequence[Sequence[sp.csr_matrix]], n_users: int) -> int:
    """Walk users ``0 .. n_users - 1`` through each of ``paths`` (step matrices) of two steps
    or more (module doc): first to their ends (what a plain request reads), then to the
    middle layers of the 3-step ones, each list kept while :data:`MAX_WALKS` walks and
    :data:`MAX_ENTRIES` entries allow; how many walks were listed."""
    parts = [("last", steps) for steps in paths if len(steps) > 1]
    parts += [("reach", steps[:2]) for steps in paths if len(steps) == 3]
    made, entries = 0, 0
    for kind, mats in parts:
        key = (kind, tuple(id(m) for m in mats))
        if key in _lists or made + n_users > MAX_WALKS:
            continue
        walks = [_walk(kind, mats, u) for u in range(min(n_users, SAMPLE))]
        size = sum(len(w[0]) for w in walks if w is not None)
        # judged from the first users, not walked for nothing: too big, or mostly a pass
        # over the columns (a category's products: not listed)
        if (entries + size * n_users / max(len(walks), 1) > MAX_ENTRIES
                or 2 * sum(w is None for w in walks) > len(walks)):
            continue
        walks += [_walk(kind, mats, u) for u in range(len(walks), n_users)]
        made += n_users
        size = sum(len(w[0]) for w in walks if w is not None)
        if entries + size <= MAX_ENTRIES:
            entries += size
            _keep(key, mats, walks)
    return made


def _walk(kind: str, steps: Sequence[sp.csr_matrix], u: int) -> WalkState | None:
    """User ``u``'s walk: through the first two steps ("reach"), or to the end ("last";
    None where the last step goes by its columns), as a request makes it (the end's indices
    kept as int32 where they fit: the same positions, 4 bytes fewer each)."""
    if u >= steps[0].shape[0]:
        return None
    if kind == "reach":
        return walk_on(walk_start(steps[0], u), steps[1:2])
    if len(steps) == 3:
        state = listed_reach(steps, u) or walk_on(walk_start(steps[0], u), steps[1:2])
    else:
        state = walk_on(walk_start(steps[0], u), steps[1:-1])
    if by_columns(state, steps[-1]):
        return None
    idx, val, width = walk_last(state, steps[-1])
    return (idx.astype(np.int32) if width < 2**31 else idx), val, width


def _keep(key: tuple[str, tuple[int, ...]], mats: Sequence[sp.csr_matrix],
          walks: list[WalkState | None]) -> None:
    """List ``walks`` under ``key`` while every one of ``mats`` lives."""
    with _lock:
        _lists[key] = ([weakref.ref(m) for m in mats], walks)
    for m in mats:
        weakref.finalize(m, _lists.pop, key, None)


def _listed(kind: str, mats: Sequence[sp.csr_matrix], u: int) -> WalkState | None:
    hit = _lists.get((kind, tuple(id(m) for m in mats)))
    if hit is None or u >= len(hit[1]):
        return None
    refs, walks = hit
    if any(r() is not m for r, m in zip(refs, mats, strict=True)):
        return None  # (an id reused before a finaliser ran)
    return walks[u]


def listed_reach(steps: Sequence[sp.csr_matrix], u: int) -> WalkState | None:
    """User ``u``'s listed walk through the first two of ``steps`` (a 3-step meta-path's
    middle layer), or None."""
    return _listed("reach", steps[:2], u)


def listed_last(steps: Sequence[sp.csr_matrix], u: int) -> WalkState | None:
    """User ``u``'s listed walk through every one of ``steps`` (the last one's
    :func:`recommend.paths.last_step.walk_last`), or None: not listed, or its last step
    goes by the columns."""
    return _listed("last", steps, u)
