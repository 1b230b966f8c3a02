"""A reader's connections to the writer (:class:`recommend.serve.writer_app.WriterApp`, on its
Unix socket), with the standard library's :mod:`http.client`.

Every write request a reader takes goes to the writer and back. With httpx's ``Client`` the
hop cost the reader ~1.6 ms of CPU per write on ML-100K (py-spy, one client writing in a
loop: a fifth of the reader's CPU then), held on the GIL its event loop needs for the hits;
:mod:`http.client` does the same exchange with a fraction of the Python.

Connections are kept open and reused, one per request in flight (a connection serves one
request at a time; the write route runs on many threads). The writer closes a connection
idle for 5 s (uvicorn's keep-alive timeout), so a connection idle over :data:`KEEP_IDLE` s
is not used again, and a kept one the writer closed anyway is seen before it is used
(readable at once: the end of the stream) and dropped, as httpx's pool does. A request
whose sending failed on a kept connection (the writer had closed it: it read none of it) is
sent once more on a new one; a request sent that gets no answer is never sent again: it
raises :class:`~recommend.serve.served.WriterUnavailable` (the write is not acknowledged;
the client sends it again).
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import threading
import time
from pathlib import Path
from typing import Any

from recommend.serve.served import WriterUnavailable

#: Seconds a kept connection may have been idle to be used again (the writer closes one
#: idle for 5 s: module doc).
KEEP_IDLE = 1.0


class _UnixConnection(http.client.HTTPConnection):
    """An HTTP/1.1 connection over a Unix socket."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("writer", timeout=timeout)
        self.unix_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.unix_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def _closed(conn: _UnixConnection) -> bool:
    """Whether a kept connection can no longer be used: no socket, or readable while no
    request is on it (the writer closed it, or sent what nobody asked for)."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class WriterClient:
    """POSTs to the writer's socket at ``path``, answered within ``timeout`` s (module
    doc); thread-safe."""

    def __init__(self, path: str | Path, timeout: float) -> None:
        self.path, self.timeout = str(path), timeout
        self._idle: list[tuple[float, _UnixConnection]] = []  # (when it was last used, it)
        self._lock = threading.Lock()

    def _take(self) -> _UnixConnection | None:
        """A kept connection still fit for use (module doc), else None."""
        with self._lock:
            while self._idle:
                used, conn = self._idle.pop()
                if time.monotonic() - used < KEEP_IDLE and not _closed(conn):
                    return conn
                conn.close()
        return None

    def post(self, target: str, body: Any = None, timeout: float | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """POST ``body`` as JSON (None: no body) to ``target``, with ``headers`` besides;
        the answer's status and its JSON (its text when it is not JSON).
        :class:`WriterUnavailable` when the writer does not answer."""
        data = b"" if body is None else json.dumps(body).encode("utf-8")
        wait = self.timeout if timeout is None else timeout
        conn = self._take()
        try:
            if conn is not None:
                try:
                    self._send(conn, target, data, wait, headers)
                except OSError:  # the writer had closed it: it read none of the request
                    conn.close()
                    conn = None
            if conn is None:
                conn = _UnixConnection(self.path, wait)
                self._send(conn, target, data, wait, headers)
            got = conn.getresponse()
            status, raw = got.status, got.read()
        except (OSError, http.client.HTTPException) as err:
            if conn is not None:
                conn.close()
            raise WriterUnavailable(f"the writer did not answer ({type(err).__name__}); "
                                    "the write is not acknowledged, send it again") from None
        if got.will_close:
            conn.close()
        else:
            with self._lock:
                self._idle.append((time.monotonic(), conn))
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode("utf-8", "replace")

    @staticmethod
    def _send(conn: _UnixConnection, target: str, data: bytes, wait: float,
              headers: dict[str, str] | None) -> None:
        if conn.sock is None:
            conn.timeout = wait
        else:
            conn.sock.settimeout(wait)
        conn.request("POST", target, body=data,
                     headers={"Content-Type": "application/json", **(headers or {})})

    def close(self) -> None:
        """Close the kept connections."""
        with self._lock:
            for _, conn in self._idle:
                conn.close()
            self._idle.clear()
