"""A small HTTP/1.1 keep-alive client on asyncio streams: the load of ``bench/serve_load.py``.

The load runs on the machine it measures, so what the clients spend is taken from the server.
httpx's ``AsyncClient`` spent ~2.4 ms of CPU per explained recommendation there (32 clients on
2 cores, beside a server spending ~14.5 ms on it: a seventh of the machine went to the load
generator, which a shop's clients never take from its server). This client writes the request
itself and reads the answer by its ``Content-Length``, for a fraction of that. It speaks what
the bench needs and no more: GET, POST with a JSON body, answers with a ``Content-Length``
(uvicorn sends one with every JSON answer), one kept-alive connection per client, opened again
after the server closed it. Anything else is a :class:`TransportError`, as a connection that
failed, closed or timed out is. A first connection refused (a server still starting up) is
tried again for ``connect_retry`` seconds; once a connection was made, a refusal is an error
at once (the bench counts a server's dead window, it does not wait it out).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

MAX_HEAD = 64 * 1024
RETRY_SECONDS = 0.05  # between tries of a first connection refused


class TransportError(Exception):
    """The request got no answer this client reads (refused, closed, timed out, malformed)."""


@dataclass(frozen=True)
class Response:
    """An answer: status code, body and header fields (names lower-cased)."""

    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


class Connection:
    """One kept-alive connection to ``host:port`` (opened on the first request, and again
    after a failure or after the server closed it; the first one tried again while refused,
    for ``connect_retry`` seconds, within the request's ``timeout``)."""

    def __init__(self, host: str, port: int, *, timeout: float = 10.0,
                 connect_retry: float = 0.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.connect_retry = connect_retry
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._connected = False  # once: refusals are no longer tried again

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (the next request opens a new one)."""
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def get(self, target: str, *, headers: dict[str, str] | None = None) -> Response:
        """GET ``target`` (path and query)."""
        return await self.request("GET", target, headers=headers)

    async def post(self, target: str, payload: Any, *,
                   headers: dict[str, str] | None = None) -> Response:
        """POST ``payload`` as JSON to ``target``."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        return await self.request("POST", target, body=body,
                                  headers={"Content-Type": "application/json", **(headers or {})})

    async def request(self, method: str, target: str, *, body: bytes = b"",
                      headers: dict[str, str] | None = None) -> Response:
        """Send one request and read its answer; :class:`TransportError` when none came."""
        try:
            return await asyncio.wait_for(self._exchange(method, target, body, headers or {}),
                                          self.timeout)
        except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                asyncio.TimeoutError, ValueError) as err:
            self.close()
            raise TransportError(f"{type(err).__name__}: {err}") from None

    async def _exchange(self, method: str, target: str, body: bytes,
                        headers: dict[str, str]) -> Response:
        if self._reader is None or self._writer is None or self._reader.at_eof():
            self.close()  # never opened, or the server closed it while it was idle
            self._reader, self._writer = await self._open()
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}",
                 *(f"{k}: {v}" for k, v in headers.items())]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await self._writer.drain()
        status, fields = _head(await self._reader.readuntil(b"\r\n\r\n"))
        if "content-length" not in fields:
            raise ValueError(f"an answer without Content-Length ({status}): not read here")
        answer = await self._reader.readexactly(int(fields["content-length"]))
        if fields.get("connection", "").lower() == "close":
            self.close()
        return Response(status, answer, fields)


    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        deadline = time.monotonic() + (0.0 if self._connected else self.connect_retry)
        while True:
            try:
                opened = await asyncio.open_connection(self.host, self.port, limit=MAX_HEAD)
            except ConnectionRefusedError:
                if time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(RETRY_SECONDS)
                continue
            self._connected = True
            return opened


def _head(raw: bytes) -> tuple[int, dict[str, str]]:
    """The status code and the (lower-cased) header fields of an answer's head."""
    status_line, *rest = raw.decode("latin-1").split("\r\n")
    version, _, code = status_line.partition(" ")
    if not version.startswith("HTTP/1.") or not code[:3].isdigit():
        raise ValueError(f"not an HTTP/1.x status line: {status_line[:80]!r}")
    fields = {}
    for line in rest:
        if line:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
    return int(code[:3]), fields
