"""The people behind the session hops a request's evidence paths will try, counted for all
its items at once.

:func:`recommend.paths.reasons.evidence_paths` tries an item's session links in order, each
by the session's own sequence hop, until ``per_component`` of them have at least
``min_people``; each hop's count is kept in a table (:func:`recommend.paths.sequence.
sequence_people`). Counted one by one, a request explaining ten items pays a search per hop;
here every item's hops are counted in one pass per round (:func:`~recommend.paths.sequence.
count_pairs`), and the paths then find them in the table: the same counts, so the same
paths. Only hops the paths will ask are counted (every link's, read at once, when the graph
keeps every pair's count: :func:`~recommend.paths.sequence.pair_table`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from recommend.paths.co_people import co_table, keep_co_people
from recommend.paths.privacy import AGGREGATES, LINK_AGGREGATES
from recommend.paths.sequence import (
    SequenceHop,
    count_pairs,
    keep_from_table,
    pair_table,
    sequence_people,
)

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.hybrid.evidence import Evidence

__all__ = ["count_co_people", "count_session_people"]


def count_session_people(graph: KnowledgeGraph, item_ids: Sequence[str],
                         evidence: Sequence[Sequence[Evidence]], own: dict[int, str], *,
                         min_people: int, per_component: int = 3) -> None:
    """The people behind the session links of every item that :func:`~recommend.paths.
    reasons.evidence_paths` (over the same ``own``, ``min_people`` and ``per_component``)
    will try, counted for all the items at once (:func:`~recommend.paths.sequence.
    count_pairs`) and kept: its calls then find them, instead of counting each hop alone.

    It tries an item's links in order (those of the user's own products) until
    ``per_component`` of them have ``min_people``: each round counts every item's next links,
    as many as it still needs, so no link it never tries is counted."""
    todo: list[tuple[str, SequenceHop, list[str], int]] = []  # item, hop, its links, need
    # hops whose every pair's count the graph keeps: the pairs and indices of each item's
    # first links, read at once (a link tried past them is counted when asked)
    whole: dict[SequenceHop, tuple[list[tuple[str, str]], list[int], list[int]]] = {}
    for item_id, found in zip(item_ids, evidence, strict=True):
        for ev in found:
            hop = None if ev.relation is None else SequenceHop.parse(ev.relation)
            if ev.component == "session" and hop is not None:
                mine = [a for a, _ in ev.links if a in own]
                links = [graph.node_id("product", a) for a in mine]
                if pair_table(graph, hop) is None:
                    todo.append((item_id, hop, links, per_component))
                    continue
                pairs, a_at, b_at = whole.setdefault(hop, ([], [], []))  # the links it
                pairs += [(a, item_id) for a in links[:per_component]]  # tries first
                a_at += mine[:per_component]
                b_at += [graph.index(item_id)] * len(mine[:per_component])
    for hop, (pairs, a_at, b_at) in whole.items():
        keep_from_table(graph, pairs, np.array(a_at, np.int64), np.array(b_at, np.int64), hop)
    while todo:
        asked: dict[SequenceHop, list[tuple[str, str]]] = {}
        for item_id, hop, links, need in todo:
            asked.setdefault(hop, []).extend((a, item_id) for a in links[:need])
        for hop, pairs in asked.items():
            count_pairs(graph, pairs, hop)
        left = []
        for item_id, hop, links, need in todo:
            tried, rest = links[:need], links[need:]
            need -= sum(sequence_people(graph, a, item_id, hop) >= min_people for a in tried)
            if need > 0 and rest:
                left.append((item_id, hop, rest, need))
        todo = left


#: The acts a cf link's own aggregate counts ("9 people who viewed A also viewed B").
_LINKED = frozenset(AGGREGATES[n].interaction for n in LINK_AGGREGATES)


def count_co_people(graph: KnowledgeGraph, item_ids: Sequence[str],
                    evidence: Sequence[Sequence[Evidence]], own: dict[int, str], *,
                    per_component: int = 3) -> None:
    """The people behind the first co-act hop :func:`~recommend.paths.reasons.evidence_paths`
    tries for the first ``per_component`` cf links of the user's own products of every item
    (the aggregate of the user's act on the linked product), read at once from
    :func:`~recommend.paths.co_people.co_table` (kept: its counts are then found, not
    counted pair by pair; a link tried past them is counted when asked); nothing where
    there is no table."""
    asked: dict[str, tuple[list[tuple[str, str]], list[int], list[int]]] = {}
    tables = {act: co_table(graph, act) is not None for act in set(own.values()) & _LINKED}
    for item_id, found in zip(item_ids, evidence, strict=True):
        for ev in found:
            if ev.component in ("session", "content", "popularity"):
                continue
            for a in [a for a, _ in ev.links if a in own][:per_component]:
                act = own[a]
                if tables.get(act):
                    pairs, a_at, b_at = asked.setdefault(act, ([], [], []))
                    pairs.append((graph.node_id("product", a), item_id))
                    a_at.append(a)
                    b_at.append(graph.index(item_id))
    for act, (pairs, a_at, b_at) in asked.items():
        keep_co_people(graph, act, pairs, np.array(a_at, np.int64), np.array(b_at, np.int64))
