"""Who may call what, and how much they may send.

- Writes need an API key given at start, sent as ``X-API-Key`` (as Gorse does): 401 without
  it or with a wrong one (compared in constant time). With no key configured, writes are off
  (403 saying so). ``keyed_reads`` asks the same of reads. Each key has a caller's name (a
  shop's): the key given alone is ``default``'s, a key file may name several
  (:func:`read_key_file`); idempotency keys are scoped by it
  (:mod:`recommend.serve.idempotency`).
- :class:`BodyLimit` answers 413 to a body over the limit, by its Content-Length or, without
  one, as its bytes arrive, before any handler parses it.
- :func:`checked_id` refuses an id that is over-long or holds control or bidi characters. Ids only
  ever look up nodes of the graph: no request value becomes a file-system path.
- :func:`known_query` refuses a query parameter the route does not take (422 naming it: a
  misspelt ``catgory=`` was ignored, and the answer unfiltered).
- :class:`HeadAsGet` answers ``HEAD`` as ``GET`` without the body (was 405 on every route, so
  a monitor's ``HEAD /v1/health`` failed).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kg.limits import MAX_ID_CHARS  # every id a dataset may hold can be asked for
from kg.schema import NODE_TYPES
from kg.visible import BIDI_CONTROLS
from recommend.serve.idempotency import DEFAULT_CALLER

API_KEY_HEADER = "X-API-Key"
#: A caller's name in a key file.
CALLER_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True)
class Access:
    """The API key given alone (caller ``default``), the named ones ((caller, key) pairs;
    none of either: writes off), and whether reads need a key too."""

    api_key: str | None = None
    keyed_reads: bool = False
    named: tuple[tuple[str, str], ...] = ()

    def keys(self) -> tuple[tuple[str, str], ...]:
        """Every (caller, key) pair."""
        alone = () if self.api_key is None else ((DEFAULT_CALLER, self.api_key),)
        return alone + self.named

    def _check(self, request: Request) -> None:
        if not self.keys():
            raise HTTPException(403, "writes are off: the server was started without an API "
                                     "key (SHOPGRAPH_API_KEY or --api-key-file)")
        if not self.allows(request.headers.get(API_KEY_HEADER)):
            raise HTTPException(401, f"a valid {API_KEY_HEADER} header is required",
                                headers={"WWW-Authenticate": API_KEY_HEADER})

    def allows(self, sent: str | bytes | None) -> bool:
        """Whether ``sent`` (the ``X-API-Key`` header's value) is a key (:meth:`caller`)."""
        return self.caller(sent) is not None

    def caller(self, sent: str | bytes | None) -> str | None:
        """The name of the caller whose key ``sent`` is (None: no key's; every key compared,
        each in constant time)."""
        if sent is None:
            return None
        raw = sent.encode("latin-1") if isinstance(sent, str) else sent
        found = None
        for name, key in self.keys():
            if hmac.compare_digest(raw, key.encode()):
                found = name
        return found

    # async: a header check needs no thread (FastAPI runs a plain def dependency in its
    # thread pool, one more hand-off per request)
    async def write(self, request: Request) -> None:
        """FastAPI dependency: the request carries the key."""
        self._check(request)

    async def read(self, request: Request) -> None:
        """FastAPI dependency: the key when reads are keyed."""
        if self.keyed_reads:
            self._check(request)


def read_key_file(path: Path) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """The keys of a key file: one bare key (the key given alone, caller ``default``), or
    one ``NAME KEY`` line per caller (blank lines and ``#`` comments skipped); ValueError
    naming the file, the line and what is wrong."""
    lines = [(n, line.split()) for n, line in
             enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise ValueError(f"{path}: the API key file is empty")
    if len(lines) == 1 and len(lines[0][1]) == 1:
        return _key(path, lines[0][0], lines[0][1][0]), ()
    named: dict[str, str] = {}
    for n, words in lines:
        if len(words) != 2:
            raise ValueError(f"{path}: line {n}: NAME KEY (a caller's name, a space, its key) "
                             "on every line of a file of several keys")
        name, key = words[0], _key(path, n, words[1])
        if not CALLER_NAME.fullmatch(name):
            raise ValueError(f"{path}: line {n}: the name {name!r} is not 1 to 64 letters, "
                             "digits, '.', '_' or '-'")
        if name in named:
            raise ValueError(f"{path}: line {n}: the name {name!r} is given twice")
        if key in named.values():
            first = next(m for m, w in lines if len(w) == 2 and w[1] == key)
            raise ValueError(f"{path}: line {n}: the key of line {first} again")
        named[name] = key
    return None, tuple(named.items())


def _key(path: Path, line: int, key: str) -> str:
    if not all(" " < c <= "~" for c in key):
        raise ValueError(f"{path}: line {line}: the key holds a character that is not "
                         "printable ASCII (an HTTP header could not send it)")
    return key


async def known_query(request: Request) -> None:
    """FastAPI dependency: 422 naming each query parameter the matched route does not take."""
    route = request.scope.get("route")
    taken = _taken.get(id(route))
    if taken is None:
        dependant = getattr(route, "dependant", None)
        taken = _taken[id(route)] = frozenset(() if dependant is None
                                              else _query_names(dependant))
    unknown = sorted(set(request.query_params) - taken)
    if unknown:
        raise HTTPException(422, [{"type": "unknown_parameter", "loc": ["query", name],
                                   "msg": "not a parameter of this route (it takes: "
                                   f"{', '.join(sorted(taken)) or 'none'})", "input": name}
                                  for name in unknown])


#: The query parameters each route takes, by the route's id (known_query).
_taken: dict[int, frozenset[str]] = {}


def _query_names(dependant: Any) -> set[str]:
    """The query parameter names of a FastAPI ``Dependant`` and its dependencies."""
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


class HeadAsGet:
    """ASGI middleware: ``HEAD`` answered as ``GET`` with the same status and headers and no
    body (RFC 9110 9.3.2)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headless(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headless)


def checked_id(raw: str, what: str) -> str:
    """``raw`` as an id of a ``what`` (raw or typed: ``user:`` does not count in its length);
    422 when blank, over-long or holding control or bidi control chars."""
    if not raw.strip() or raw != raw.strip():
        raise HTTPException(422, f"{what} id must not be blank or start or end with spaces")
    head, typed, tail = raw.partition(":")
    if len(tail if typed and head in NODE_TYPES else raw) > MAX_ID_CHARS:
        raise HTTPException(422, f"{what} id is over {MAX_ID_CHARS} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in raw):
        raise HTTPException(422, f"{what} id holds a control character")
    if BIDI_CONTROLS.search(raw):  # no dataset id holds one (kg.visible.id_refusal)
        raise HTTPException(422, f"{what} id holds a bidi override, embedding or isolate")
    return raw


class BodyLimit:
    """ASGI middleware: 413 for a request body over ``max_bytes`` (``per_path`` may give a
    path its own limit, as the photo upload has)."""

    def __init__(self, app: ASGIApp, max_bytes: int,
                 per_path: dict[str, int] | None = None) -> None:
        self.app, self.max_bytes, self.per_path = app, max_bytes, per_path or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope["path"], self.max_bytes)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _too_large(send, limit)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(send, limit)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    body = (b'{"detail":"request body over ' + str(limit).encode() + b' bytes"}')
    headers: list[Any] = [(b"content-type", b"application/json"),
                          (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
