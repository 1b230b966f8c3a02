"""bench/load_client.py, the load of bench/serve_load.py: keep-alive, reconnects, failures."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from load_client import Connection, TransportError

from tests.serve.conftest import loopback_socket


class Server:
    """A loopback HTTP/1.1 server answering each request with ``answer(method, target, body)``
    (status, extra header lines, body); counts connections."""

    def __init__(self, answer) -> None:
        self.answer, self.connections = answer, 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode()
                method, target, _ = head.split(" ", 2)
                length = [int(line.split(":")[1]) for line in head.split("\r\n")
                          if line.lower().startswith("content-length:")]
                body = await reader.readexactly(length[0]) if length else b""
                status, extra, out = self.answer(method, target, body)
                writer.write(f"HTTP/1.1 {status} X\r\n{extra}".encode()
                             + (f"content-length: {len(out)}\r\n" if out is not None else "")
                             .encode() + b"\r\n" + (out or b""))
                await writer.drain()
                if "close" in extra:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


def serve(answer, client_steps) -> Server:
    server = Server(answer)

    async def main() -> None:
        listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = listening.sockets[0].getsockname()[1]
        async with Connection("127.0.0.1", port, timeout=5) as http:
            await client_steps(http)
        listening.close()

    asyncio.run(main())
    return server


def test_requests_share_one_connection_and_posts_carry_json() -> None:
    def answer(method, target, body):
        return 200, "", json.dumps({"method": method, "target": target,
                                    "got": json.loads(body) if body else None}).encode()

    async def steps(http: Connection) -> None:
        got = await http.get("/v1/users/7/recommendations?k=10")
        assert got.status == 200 and got.json()["target"] == "/v1/users/7/recommendations?k=10"
        posted = await http.post("/v1/events", {"user": "7", "kind": "view"},
                                 headers={"X-API-Key": "k"})
        assert posted.json() == {"method": "POST", "target": "/v1/events",
                                 "got": {"user": "7", "kind": "view"}}

    assert serve(answer, steps).connections == 1


def test_a_connection_the_server_closed_is_opened_again() -> None:
    def answer(method, target, body):
        return (200, "connection: close\r\n" if target == "/bye" else "", b"{}")

    async def steps(http: Connection) -> None:
        assert (await http.get("/bye")).status == 200
        await asyncio.sleep(0.05)
        assert (await http.get("/again")).status == 200
        assert (await http.get("/and-again")).status == 200

    assert serve(answer, steps).connections == 2


def test_what_it_cannot_read_is_a_transport_error() -> None:
    def answer(method, target, body):
        return (204, "", None) if target == "/no-length" else (404, "", b'{"detail":"no"}')

    async def steps(http: Connection) -> None:
        assert (await http.get("/missing")).status == 404
        with pytest.raises(TransportError, match="Content-Length"):
            await http.get("/no-length")
        assert (await http.get("/missing")).json() == {"detail": "no"}  # a fresh connection

    assert serve(answer, steps).connections == 2


def test_a_refused_connection_is_a_transport_error() -> None:
    with loopback_socket() as sock:
        port = sock.getsockname()[1]  # bound, not listening: refused

        async def main() -> None:
            async with Connection("127.0.0.1", port, timeout=2) as http:
                with pytest.raises(TransportError):
                    await http.get("/v1/health")

        asyncio.run(main())


def test_a_first_connection_refused_is_tried_again_a_later_one_is_not() -> None:
    def answer(method, target, body):
        return 200, "connection: close\r\n", b"{}"

    server = Server(answer)
    with loopback_socket() as sock:
        port = sock.getsockname()[1]  # bound, not listening yet: refused

        async def main() -> None:
            async def listen_later() -> asyncio.Server:
                await asyncio.sleep(0.3)
                sock.listen()
                return await asyncio.start_server(server.handle, sock=sock)

            later = asyncio.create_task(listen_later())
            async with Connection("127.0.0.1", port, timeout=5, connect_retry=3) as http:
                assert (await http.get("/up")).status == 200  # refused for 0.3 s, then served
                listening = await later
                listening.close()
                await listening.wait_closed()
                start = time.monotonic()
                with pytest.raises(TransportError):  # closed by the server, refused now
                    await http.get("/down")
                assert time.monotonic() - start < 1.0  # at once, not after connect_retry

        asyncio.run(main())
    assert server.connections == 1
