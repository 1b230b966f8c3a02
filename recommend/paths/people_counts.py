"""The kept counts of :func:`recommend.paths.privacy.people`, by kind of act.

A count asked again (a popular pair, the next request) comes from a table kept until the
acts it counts, the memberships (or, for the followees' aggregates, the follows) or the
nodes change; a pair is kept only once counted (by :func:`~recommend.paths.privacy.people`,
or read at once from the co-act table: :func:`recommend.paths.co_people.keep_co_people`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["MAX_KEPT", "people_counts"]

#: The most pairs a table of kept counts holds (this module's, and the session hops' of
#: :mod:`recommend.paths.sequence`); one more empties it: a long-running server asks many.
MAX_KEPT = 200_000


def people_counts(graph: KnowledgeGraph, interaction: str, by_follows: bool,
                  relations: Sequence[str]) -> dict[tuple[str, str], int]:
    """The ``(src, dst)`` counts of aggregates over ``interaction`` (stored as
    ``relations``; ``by_follows``: over the user's followees), kept as the module says."""
    kept = (*relations, "follows" if by_follows else "member_of")
    return graph.cached_for(("privacy people", interaction, by_follows), kept, dict)
