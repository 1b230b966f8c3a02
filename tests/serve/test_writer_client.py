"""A reader's client of the writer (:mod:`recommend.serve.writer_client`): JSON both ways,
a kept connection reused, one the writer closed or idle too long not used (a request sent
once), and no answer a WriterUnavailable."""

from __future__ import annotations

import json
import socketserver
import threading
import time
from pathlib import Path

import pytest

from recommend.serve.served import WriterUnavailable
from recommend.serve.writer_client import WriterClient


class _Writer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: Path) -> None:
        self.bodies: list[object] = []
        self.connections = 0
        super().__init__(str(path), _Handler)


class _Handler(socketserver.StreamRequestHandler):
    server: _Writer

    def handle(self) -> None:
        self.server.connections += 1
        while (line := self.rfile.readline()) and line.startswith(b"POST"):
            length = 0
            while (header := self.rfile.readline()) not in (b"\r\n", b""):
                name, _, value = header.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            body = self.rfile.read(length)
            self.server.bodies.append(json.loads(body) if body else None)
            status = b"422 Unprocessable" if self.server.bodies[-1] == "bad" else b"200 OK"
            answer = json.dumps({"got": self.server.bodies[-1]}).encode()
            self.wfile.write(b"HTTP/1.1 %s\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (status, len(answer), answer))
            if len(self.server.bodies) == 2:  # the writer's idle timeout closes this one
                return


@pytest.mark.parametrize("seen", [True, False])
def test_posts_reuse_a_connection_and_drop_one_the_writer_closed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seen: bool) -> None:
    if not seen:  # the writer closes it just after the look: the sending fails, sent again
        monkeypatch.setattr("recommend.serve.writer_client._closed", lambda conn: False)
    path = tmp_path / "writer.sock"
    server = _Writer(path)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = WriterClient(path, timeout=5)
    try:
        assert client.post("/write/events", {"user": "u1"}) == (200, {"got": {"user": "u1"}})
        assert client.post("/write/events", "bad") == (422, {"got": "bad"})
        assert server.connections == 1  # kept and reused
        time.sleep(0.2)  # the writer closed it meanwhile
        assert client.post("/ready/1") == (200, {"got": None})
        assert server.connections == 2 and server.bodies == [{"user": "u1"}, "bad", None]
        monkeypatch.setattr("recommend.serve.writer_client.KEEP_IDLE", 0.0)
        assert client.post("/ready/2", [2]) == (200, {"got": [2]})  # idle too long: new
        assert server.connections == 3
    finally:
        client.close()
        server.shutdown()
        server.server_close()
    with pytest.raises(WriterUnavailable, match="did not answer"):
        WriterClient(tmp_path / "nobody.sock", timeout=1).post("/write/events", {})
