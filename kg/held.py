"""What an existing graph already holds, for validating records added to it.

:func:`known_ids` gives the :class:`kg.validate.KnownIds` of a graph: the ids of its users,
products and posts (references to them resolve), and a :class:`GraphHeld` that answers, one
record at a time, whether an event, a follow, a product or a user is already in the graph, so
that sending it again merges instead of counting twice (a product or user sent again with
other fields is a conflicting duplicate; a post sent again is rejected as existing: its
explicit tags cannot be told from mentions the nlp stage found in its text).

The graph keeps of an event its user, target, kind (the relation), time and weight
(:func:`kg.schema.event_weight`: a rating's value, else the kind's weight), not its text or a
non-rating's value; so "already held" means an edge of the same relation between the same
nodes with the same time (both unknown counts as the same) and the same weight. Each lookup
walks the user's edges of that relation once: O(degree), no copy of the graph's events.
"""

from __future__ import annotations

import math

import numpy as np

from kg.graph_store import GraphStore
from kg.records import Event, Follow, Post, Product, User
from kg.schema import EVENT_RELATIONS, event_weight
from kg.validate import KnownIds

_USER_FIELDS = ("name", "age", "gender", "location", "bio")
_PRODUCT_FIELDS = ("description", "brand", "price", "image", "year")


class GraphHeld:
    """:class:`kg.validate.HeldRecords` over a graph (read only)."""

    def __init__(self, graph: GraphStore) -> None:
        self.graph = graph

    def _edges(self, relation: str, src_type: str, src: str, dst_type: str, dst: str
               ) -> np.ndarray:
        """Positions (in the block's columns) of the edges ``src -relation-> dst``."""
        graph = self.graph
        block = graph._blocks.get((src_type, relation, dst_type))
        s = graph._index[src_type].get(src)
        d = graph._index[dst_type].get(dst)
        if block is None or s is None or d is None:
            return np.empty(0, np.int64)
        adj = block.adjacency("src")
        lo, hi = adj.span(s)
        return adj.order[lo:hi][adj.other[lo:hi] == d]

    def record(self, record: Product | User | Post) -> Product | User | None:
        """The product or user of ``record``'s id rebuilt from its node's attributes (None
        for a post, whose tags cannot be told from mentions found in its text, and for a
        product node that no record described)."""
        if isinstance(record, Post):
            return None
        node_type = "product" if isinstance(record, Product) else "user"
        i = self.graph._index[node_type].get(record.id)
        if i is None:
            return None
        attrs = self.graph._attrs[node_type][i] or {}
        if node_type == "user":
            return User(record.id, **{f: attrs.get(f) for f in _USER_FIELDS},
                        attributes=attrs.get("attributes") or {})
        if "title" not in attrs:
            return None
        return Product(record.id, attrs["title"], **{f: attrs.get(f) for f in _PRODUCT_FIELDS},
                       categories=tuple(attrs.get("categories") or ()),
                       attributes=attrs.get("attributes") or {})

    def holds_event(self, event: Event) -> bool:
        """Whether an edge of the event's relation joins its user and target with the same
        time and weight."""
        relation = EVENT_RELATIONS[event.kind]
        found = self._edges(relation, "user", event.user, event.target_type, event.target)
        if not len(found):
            return False
        c = self.graph._blocks[("user", relation, event.target_type)].columns()
        weight = np.float32(event_weight(event.kind, event.value))
        times = c.ts[found]
        same_time = np.isnan(times) if event.ts is None else times == event.ts
        return bool(np.any(same_time & (c.weight[found] == weight)))

    def follow(self, follower: str, followee: str) -> Follow | None:
        """The first ``follows`` edge between the two users, as a record."""
        found = self._edges("follows", "user", follower, "user", followee)
        if not len(found):
            return None
        ts = float(self.graph._blocks[("user", "follows", "user")].columns().ts[found[0]])
        return Follow(follower, followee, None if math.isnan(ts) else ts)


def known_ids(graph: GraphStore) -> KnownIds:
    """The ids ``graph`` holds (its own id indices, not copies: do not grow ``graph`` while
    validating against it) and a :class:`GraphHeld` over it."""
    index = graph._index
    return KnownIds(users=index["user"].keys(), products=index["product"].keys(),
                    posts=index["post"].keys(), held=GraphHeld(graph))
