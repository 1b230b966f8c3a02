"""A path group whose representative walks back through the item it explains.

A grouped 3-step meta-path (``You -bought-> A -made_by-> Oak <-made_by- item``) gathers every
instance through the shared entity (Oak) and shows its representative, the user's product A
chosen by :mod:`recommend.paths.instances` / :mod:`recommend.paths.group_batch` (the latest
act, then the largest instance). When the user has the item itself, A may be the item: "You
bought Mug; Oak makes Mug and Mug" says nothing, yet the group's other members (the user's
other Oak products) say something. :func:`mended` puts the group's next member in A's place,
by the same choice, and drops only a group that has no other member, or whose shared entity
is the item itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import scipy.sparse as sp

from recommend.paths.instances import _first_step, _into_middle
from recommend.paths.quality import times_at

__all__ = ["mended"]

Group = tuple[tuple[int, ...], float, int]


def mended(steps: Sequence[sp.csr_matrix], u: int, groups: Sequence[Group],
           same: Sequence[int],
           prefer: Callable[[], tuple[np.ndarray, np.ndarray]] | None) -> Iterator[Group]:
    """``groups`` (nodes, value, size) of one item, those whose nodes pass through the item
    at a position of ``same`` (the positions of the item's type) left out, save a 3-step
    group whose first product is the item and that has another member: it comes with that
    member in its place (module doc)."""
    for nodes, value, size in groups:
        back = [t for t in same if nodes[t] == nodes[-1]]
        if not back:
            yield nodes, value, size
        elif back == [1] and len(nodes) == 4 and size > 1:
            other = _next_member(steps, u, nodes, prefer)
            if other is not None:
                yield other, value, size


def _next_member(steps: Sequence[sp.csr_matrix], u: int, nodes: tuple[int, ...],
                 prefer: Callable[[], tuple[np.ndarray, np.ndarray]] | None
                 ) -> tuple[int, ...] | None:
    """The group's best instance (u, a, b, i) with a not the item i, or None."""
    _, _, b, item = nodes
    a, _, _, values = _into_middle(steps[1], _first_step(steps[0], u), np.array([b]),
                                   np.ones(1))
    keep = (a != item) & (values > 0)
    if not keep.any():
        return None
    a, values = a[keep], values[keep]
    if prefer is not None:  # the latest act first, then the largest instance
        when = times_at(prefer(), a)
        values = np.where(when == when.max(), values, -np.inf)
    return u, int(a[int(np.argmax(values))]), b, item
