"""Several 1- and 2-step meta-paths' instances for one user's items, found in one pass.

:func:`~recommend.paths.instances.top_instances_many` of a meta-path of one or two steps
reads the last hops into the items, what the user's first step holds at each, their sums
per item and the largest: some twenty numpy calls on a few hundred entries.
:func:`top_instances_each` does it for several (``wrote_post>product``,
``segment>members_bought``, the followee counts) at once: each meta-path's own first step,
then one sum and one choice over them all (:func:`~recommend.paths.group_batch.
top_per_each`), the last hops shared with the grouped ones
(:class:`~recommend.paths.group_batch.LastHops`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from recommend.paths.group_batch import Groups, LastHops, as_items, top_per_each
from recommend.paths.instances import _first_step, values_at

__all__ = ["top_instances_each"]


def top_instances_each(batch: Sequence[tuple[Sequence[sp.csr_matrix], np.ndarray]], u: int,
                       k: int, lasts: LastHops | None = None) -> list[Groups]:
    """Per ``(steps, items)`` of ``batch`` (meta-paths of one or two steps),
    ``instances_as_groups(steps, u, items, k)``: each item's ``k`` largest instances (groups
    of one, the same floats in the same order) and its score. ``lasts``: the request's
    last hops, shared with other batches."""
    lasts = LastHops() if lasts is None else lasts
    out: list[Groups] = []
    live: list[tuple[int, int, list[int]]] = []  # (its place, its steps, its items)
    owners, nodes, values = [], [], []
    asked: dict[int, tuple[np.ndarray, list[int]]] = {}
    for m, (steps, items) in enumerate(batch):
        if len(steps) > 2:
            raise ValueError(f"top_instances_each takes 1 or 2 steps, not {len(steps)}")
        items, listed = as_items(items, asked)
        if (len(steps) == 1 and u >= steps[0].shape[0]) or not len(_first_step(steps[0], u)[0]):
            out.append([([], 0.0) for _ in listed])  # the user starts no instance
            continue
        out.append([])  # (its totals, below)
        owner, node, hop = lasts(steps[-1], items)
        live.append((m, len(steps), listed))
        owners.append(owner)
        nodes.append(node)
        values.append(np.where(node == u, hop, 0.0) if len(steps) == 1
                      else values_at(_first_step(steps[0], u), node) * hop)
    if not live:
        return out
    n = max(len(e[2]) for e in live)  # (part * n + owner: one slot per meta-path's item)
    part = np.arange(len(live)).repeat([len(o) for o in owners])
    owner, node, value = (np.concatenate(x) for x in (owners, nodes, values))
    totals = np.bincount(part * n + owner, value, len(live) * n).tolist()
    for t, (m, _, listed) in enumerate(live):
        out[m] = [([], s) for s in totals[t * n:t * n + len(listed)]]
    rows = [out[e[0]] for e in live]
    best = top_per_each(part, owner, value, k, n)
    # as Python numbers at once (the same ints and floats as one by one)
    for t, o, b, v in zip(part[best].tolist(), owner[best].tolist(), node[best].tolist(),
                          value[best].tolist(), strict=True):
        _, hops, listed = live[t]
        rows[t][o][0].append(((u, b, listed[o]) if hops == 2 else (u, listed[o]), v, 1))
    return out
