"""The hot read: a kept recommendation list sent without FastAPI's per-request machinery.

Under load nearly every request is ``GET /v1/users/{user}/recommendations`` answered from the
process's response cache (:mod:`recommend.serve.cache`). Through FastAPI such a hit cost
~150 us of CPU in the app alone on ML-100K (route matching over every route, the read
dependency, the query's validation, a Request and a Response object, a wrapper of ``send``
per layer), a hit's bytes being kept already. :class:`HotRecommendations`, an ASGI middleware
inside the app's own (body limit, metrics, CORS, which still see every request), sends such a
hit itself: ~20 us in the app, metrics included. It answers only what the route would answer
the same way:

- ``GET`` of that path (no ``root_path``), with no parameter but ``k`` (ASCII digits, 1 to
  :data:`~recommend.serve.api.MAX_K`), ``explain`` (read by pydantic's bool validation, as
  the route reads it) and any number of ``category`` and ``brand`` (a scalar given twice
  goes on to the route);
- reads open, or the valid key sent (:meth:`recommend.serve.security.Access.allows`);
- a user id the route takes (:func:`recommend.serve.security.checked_id`) whose response for
  exactly that request (:meth:`recommend.serve.api.RecsQuery.key`) this process keeps.

Anything else goes on to the route (a miss, a hit of the readers' shared level, a stale list,
a refusal with its reason). A hit is the route's answer byte for byte: the same body and
headers (:func:`recommend.serve.api.answer`: ``X-Cache: hit``, ``Age``, ``X-Log-Seq``), and the
metrics count it under the route's template (``scope["route"]``). OpenAPI still documents
the route, which FastAPI still serves for every other request.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import HTTPException
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from recommend.serve.api import MAX_K, RecsQuery, answer
from recommend.serve.security import API_KEY_HEADER, Access, checked_id
from recommend.serve.served import Served

#: The route answered here (under the ``/v1`` prefix).
PATH = "/v1/users/{user:path}/recommendations"
_HEAD, _TAIL = PATH.split("{user:path}")
#: A query value read as a bool the way the route's validation reads it (pydantic's own).
_BOOL = TypeAdapter(bool)
_KEY_HEADER = API_KEY_HEADER.lower().encode("latin-1")


def hot_query(query_string: bytes) -> RecsQuery | None:
    """The request ``query_string`` asks, when only ``k``, ``explain``, ``category`` and
    ``brand`` are in it, each scalar once, with values the route takes; else None (module
    doc). Parsed as Starlette parses a query."""
    k, explain, category, brand = None, None, [], []
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name == "category":
            category.append(value)
        elif name == "brand":
            brand.append(value)
        elif name == "k" and k is None and value.isascii() and value.isdigit():
            k = int(value)
            if not 1 <= k <= MAX_K:
                return None
        elif name == "explain" and explain is None:
            try:
                explain = _BOOL.validate_strings(value)
            except ValidationError:
                return None
        else:
            return None
    default = RecsQuery()
    return RecsQuery(default.k if k is None else k, tuple(category), tuple(brand),
                     explain=default.explain if explain is None else explain)


def route_of(routes: list[Any], path: str = PATH) -> APIRoute:
    """The FastAPI route of ``path`` among ``routes`` and the routers included in them;
    LookupError when there is none."""
    for route in routes:
        if isinstance(route, APIRoute) and route.path == path:
            return route
        included = getattr(route, "original_router", None)  # FastAPI's included router
        if included is not None:
            try:
                return route_of(included.routes, path)
            except LookupError:
                continue
    raise LookupError(f"no route {path}")


class HotRecommendations:
    """ASGI middleware: a kept recommendation list sent at once (module doc); everything else
    goes on to ``app``. ``route`` is the FastAPI route of :data:`PATH` (what the metrics
    name)."""

    def __init__(self, app: ASGIApp, state: Served, access: Access, route: Any) -> None:
        self.app, self.state, self.access, self.route = app, state, access, route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hit = self._hit(scope) if scope["type"] == "http" else None
        if hit is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route
        await hit(scope, receive, send)

    def _hit(self, scope: Scope) -> Any:
        """The response to send for ``scope`` when it is a kept hit (module doc), else None."""
        path = scope["path"]
        if (scope["method"] != "GET" or scope.get("root_path") or not path.startswith(_HEAD)
                or not path.endswith(_TAIL)):
            return None
        raw = path[len(_HEAD):len(path) - len(_TAIL)]
        if not raw or "/" in raw:  # an id holding "/" goes on to the route
            return None
        if self.access.keyed_reads and not self.access.allows(
                next((v for k, v in scope["headers"] if k == _KEY_HEADER), None)):
            return None
        query = hot_query(scope["query_string"])
        if query is None:
            return None
        try:
            user = self.state.rec.user_id(checked_id(raw, "user"))
        except (HTTPException, ValueError):
            return None
        found = self.state.cache.get(query.key(user), count_miss=False)
        return None if found is None else answer(found.body, "hit", found.seq, found.age)
