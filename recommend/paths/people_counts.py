"""The kept counts of :func:`recommend.paths.privacy.people`, by kind of act.

A count asked again (a popular pair, the next request) comes from a table kept until the
acts it counts, the memberships (or, for the followees' aggregates, the follows) or the
nodes change; a pair is kept only once counted (by :func:`~recommend.paths.privacy.people`,
or read at once from the co-act table: :func:`recommend.paths.co_people.keep_co_people`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["MAX_KEPT", "keep_fresh", "people_counts"]

#: The most pairs a table of kept counts holds (this module's, and the session hops' of
#: :mod:`recommend.paths.sequence`); one more empties it: a long-running server asks many.
MAX_KEPT = 200_000


def people_counts(graph: KnowledgeGraph, interaction: str, by_follows: bool,
                  relations: Sequence[str]) -> dict[tuple[str, str], int]:
    """The ``(src, dst)`` counts of aggregates over ``interaction`` (stored as
    ``relations``; ``by_follows``: over the user's followees), kept as the module says."""
    kept = (*relations, "follows" if by_follows else "member_of")
    return graph.cached_for(("privacy people", interaction, by_follows), kept, dict)


def keep_fresh(counts: dict[tuple[str, str], int], pairs: Sequence[tuple[str, str]],
               read: Callable[[list[int]], list[int]]) -> None:
    """Keep in ``counts`` the count of each of ``pairs`` not kept yet, ``read`` giving them
    for those positions of ``pairs`` at once (emptied first when they would pass
    :data:`MAX_KEPT`, as counting them one by one would)."""
    fresh = [j for j, pair in enumerate(pairs) if pair not in counts]
    if not fresh:
        return
    if len(counts) + len(fresh) > MAX_KEPT:
        counts.clear()
    counts.update(zip([pairs[j] for j in fresh], read(fresh), strict=True))
