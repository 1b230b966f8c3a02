"""A reader's connections to the writer (:func:`recommend.serve.workers.writer_app`, on its
Unix socket), with the standard library's :mod:`http.client`.

Every write request a reader takes goes to the writer and back. With httpx's ``Client`` the
hop cost the reader ~1.6 ms of CPU per write on ML-100K (py-spy, one client writing in a
loop: a fifth of the reader's CPU then), held on the GIL its event loop needs for the hits;
:mod:`http.client` does the same exchange with a fraction of the Python.

Connections are kept open and reused, one per request in flight (a connection serves one
request at a time; the write route runs on many threads). A kept connection the writer has
closed meanwhile (its idle timeout) is seen before it is used (readable at once: the end of
the stream) and dropped, as httpx's pool does, so a request is never sent on it. A request
that gets no answer is never sent again: it raises
:class:`~recommend.serve.served.WriterUnavailable` (the write is not acknowledged; the
client sends it again).
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import threading
from pathlib import Path
from typing import Any

from recommend.serve.served import WriterUnavailable


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
        self._idle: list[_UnixConnection] = []
        self._lock = threading.Lock()

    def _take(self) -> _UnixConnection:
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if not _closed(conn):
                    return conn
                conn.close()
        return _UnixConnection(self.path, self.timeout)

    def post(self, target: str, body: Any = None,
             timeout: float | None = None) -> tuple[int, Any]:
        """POST ``body`` as JSON (None: no body) to ``target``; the answer's status and its
        JSON (its text when it is not JSON). :class:`WriterUnavailable` when the writer
        does not answer."""
        data = b"" if body is None else json.dumps(body).encode("utf-8")
        conn = self._take()
        try:
            if conn.sock is not None:
                conn.sock.settimeout(self.timeout if timeout is None else timeout)
            else:
                conn.timeout = self.timeout if timeout is None else timeout
            conn.request("POST", target, body=data,
                         headers={"Content-Type": "application/json"})
            got = conn.getresponse()
            status, raw = got.status, got.read()
        except (OSError, http.client.HTTPException) as err:
            conn.close()
            raise WriterUnavailable(f"the writer did not answer ({type(err).__name__}); "
                                    "the write is not acknowledged, send it again") from None
        if got.will_close:
            conn.close()
        else:
            with self._lock:
                self._idle.append(conn)
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode("utf-8", "replace")

    def close(self) -> None:
        """Close the kept connections."""
        with self._lock:
            for conn in self._idle:
                conn.close()
            self._idle.clear()
