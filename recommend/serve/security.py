"""Who may call what, and how much they may send.

- Writes need the API key given at start, sent as ``X-API-Key`` (as Gorse does): 401 without
  it or with a wrong one (compared in constant time). With no key configured, writes are off
  (403 saying so). ``keyed_reads`` asks the same of reads.
- :class:`BodyLimit` answers 413 to a body over the limit, by its Content-Length or, without
  one, as its bytes arrive, before any handler parses it.
- :func:`checked_id` refuses an id that is over-long or holds control or bidi characters. Ids only
  ever look up nodes of the graph: no request value becomes a file-system path.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kg.limits import MAX_ID_CHARS  # every id a dataset may hold can be asked for
from kg.schema import NODE_TYPES
from kg.visible import BIDI_CONTROLS

API_KEY_HEADER = "X-API-Key"


@dataclass(frozen=True)
class Access:
    """The API key (None: writes off) and whether reads need it too."""

    api_key: str | None = None
    keyed_reads: bool = False

    def _check(self, request: Request) -> None:
        if self.api_key is None:
            raise HTTPException(403, "writes are off: the server was started without an API "
                                     "key (SHOPGRAPH_API_KEY or --api-key-file)")
        if not self.allows(request.headers.get(API_KEY_HEADER)):
            raise HTTPException(401, f"a valid {API_KEY_HEADER} header is required",
                                headers={"WWW-Authenticate": API_KEY_HEADER})

    def allows(self, sent: str | bytes | None) -> bool:
        """Whether ``sent`` (the ``X-API-Key`` header's value) is the key (compared in
        constant time; never with no key configured)."""
        if sent is None or self.api_key is None:
            return False
        raw = sent.encode("latin-1") if isinstance(sent, str) else sent
        return hmac.compare_digest(raw, self.api_key.encode())

    # async: a header check needs no thread (FastAPI runs a plain def dependency in its
    # thread pool, one more hand-off per request)
    async def write(self, request: Request) -> None:
        """FastAPI dependency: the request carries the key."""
        self._check(request)

    async def read(self, request: Request) -> None:
        """FastAPI dependency: the key when reads are keyed."""
        if self.keyed_reads:
            self._check(request)


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
