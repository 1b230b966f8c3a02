"""One request's memo of the tables the graph keeps: asked once per request, not per path.

A request explains ``k`` items through some hundred candidate paths, and each path's
privacy check, words and quality ask the graph for the same kept tables (the people behind
an aggregate hop, the demographic segments, the entities' popularity, the latest time).
Each ask of :meth:`kg.graph_store.GraphStore.cached` or ``cached_for`` first stamps the
graph's version over every edge block: on ML-100K that stamping was ~190 asks and about a
tenth of a request. Inside :func:`request_scope` (one request's read of one pinned graph,
which nothing changes meanwhile: :mod:`recommend.snapshot`) the first answer per (graph,
key) is kept for the rest of the scope; outside one, :func:`kept` asks the graph every time,
as before. The answers are the graph's own either way.

>>> calls = []
>>> graph = object()
>>> def fetch():
...     calls.append(1)
...     return 42
>>> with request_scope():
...     kept(graph, "answer", fetch), kept(graph, "answer", fetch)
(42, 42)
>>> kept(graph, "answer", fetch), len(calls)
(42, 2)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

__all__ = ["kept", "request_scope"]

T = TypeVar("T")

#: (id(graph), key) -> (graph, answer) while a scope is open in this thread or task.
_MEMO: ContextVar[dict[tuple[int, Hashable], tuple[Any, Any]] | None] = ContextVar(
    "shopgraph_request_scope", default=None)


@contextlib.contextmanager
def request_scope() -> Iterator[None]:
    """Keep :func:`kept`'s answers until the block ends (a scope inside one is the same
    scope)."""
    if _MEMO.get() is not None:
        yield
        return
    token = _MEMO.set({})
    try:
        yield
    finally:
        _MEMO.reset(token)


def kept(graph: object, key: Hashable, fetch: Callable[[], T]) -> T:
    """``fetch()`` (a lookup of what ``graph`` keeps under ``key``), asked once per
    :func:`request_scope`; outside a scope, every time."""
    memo = _MEMO.get()
    if memo is None:
        return fetch()
    slot = (id(graph), key)
    hit = memo.get(slot)
    if hit is None or hit[0] is not graph:  # the graph is held: its id is not reused
        hit = memo[slot] = (graph, fetch())
    return hit[1]
