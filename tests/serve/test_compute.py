"""The ``--workers N`` compute process (:mod:`recommend.serve.compute`), in this process: a
reader's miss answered as the route would, a bad filter refused as the route would, a
write's user precomputed into the level the readers share, a user warmed while nothing
else waits, and a reader left to compute alone when nothing answers or its misses in flight
reach their bound."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import pytest

from recommend.serve.api import RecsQuery
from recommend.serve.compute import ComputeClient, ComputeServer
from recommend.serve.reader import ReaderState
from recommend.serve.served import ComputeUnavailable
from recommend.serve.shared_cache import SharedResponses
from recommend.serve.state import ServedState


def test_misses_precomputes_and_no_answer(small_demo_artifact: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("recommend.serve.compute.SEEN_TIMEOUT", 1.0)
    state_dir, shared_file = tmp_path / "state", tmp_path / "responses.sqlite"
    writer = ServedState(small_demo_artifact, state_dir, defer_model=True)
    computing = ReaderState(small_demo_artifact, state_dir, tmp_path / "no-writer.sock",
                            worker=3, shared=SharedResponses(shared_file, 60, 1000))
    idle = computing.rec.user_id("u0005")
    server = ComputeServer(computing, tmp_path / "compute.sock", None, warm=[idle])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    reader = SharedResponses(shared_file, 60, 1000)  # a reader's view of the shared level
    uid = computing.rec.user_id("u0003")
    default = RecsQuery().key(uid)
    try:
        async def misses() -> list[tuple[int, bytes, int]]:
            client = ComputeClient(tmp_path / "compute.sock", max_in_flight=1)
            try:
                asked = [await client.recommendations(query, uid, 0)
                         for query in (RecsQuery(k=5), RecsQuery(k=5), RecsQuery(diversity=2.0))]
                both = await asyncio.gather(*(client.recommendations(RecsQuery(k=k), uid, 0)
                                              for k in (3, 4)), return_exceptions=True)
                assert both[0][0] == 200 and isinstance(both[1], ComputeUnavailable), both
                other = ComputeClient(tmp_path / "compute.sock")  # a log seq never written
                ahead = asyncio.ensure_future(other.recommendations(RecsQuery(k=6), uid, 10**6))
                assert (await client.recommendations(RecsQuery(k=7), uid, 0))[0] == 200
                assert not ahead.done()  # waits for the log without holding others up
                assert (await ahead)[0] == 503  # then the reader computes it itself
                other.close()
                return asked
            finally:
                client.close()

        (status, body, seq), (again, same, _), (bad, why, _) = asyncio.run(misses())
        expected = RecsQuery(k=5).body(computing, uid, None)
        assert status == again == 200 and json.loads(body) == json.loads(expected)
        assert seq == computing.applied_seq  # the log seq its model held
        assert same == body  # the second from the compute process's own cache
        assert bad == 422 and "diversity" in json.loads(why)["detail"]
        assert reader.get(RecsQuery(k=5).key(uid), uid).body == body  # kept for the readers

        assert reader.get(default, uid) is None
        wrote = writer.write("events", {"user": "u0003", "target": "p0002", "kind": "purchase"})
        reader.note([{"seq": wrote.seq, "files": {"events.jsonl": [{"user": "u0003"}]}}],
                    computing.rec.user_id)  # the reader applied it: older answers are stale
        assert reader.get(RecsQuery(k=5).key(uid), uid) is None
        deadline = time.monotonic() + 10
        while (hit := reader.get(default, uid)) is None:  # precomputed after the write
            assert time.monotonic() < deadline, "the written user was not precomputed"
            time.sleep(0.05)
        assert json.loads(hit.body) == json.loads(RecsQuery().body(computing, uid, None))
        assert reader.get(RecsQuery().key(idle), idle) is not None  # warmed while idle
    finally:
        server.shutdown()
        server.close()
        computing.close()
        reader.close()
        writer.detach()

    async def nobody() -> None:
        await ComputeClient(tmp_path / "compute.sock").recommendations(RecsQuery(), uid, 0)

    with pytest.raises(ComputeUnavailable):  # the reader then computes the miss itself
        asyncio.run(nobody())


def test_an_answer_a_reader_stored_is_not_computed_again(small_demo_artifact: Path,
                                                         tmp_path: Path) -> None:
    from recommend.serve.compute import Computer, _Job

    state_dir, shared_file = tmp_path / "state", tmp_path / "responses.sqlite"
    ServedState(small_demo_artifact, state_dir).detach()
    computing = ReaderState(small_demo_artifact, state_dir, tmp_path / "no-writer.sock",
                            worker=3, shared=SharedResponses(shared_file, 60, 1000))
    computer = Computer(computing, None)
    reader = SharedResponses(shared_file, 60, 1000)
    uid = computing.rec.user_id("u0003")
    try:
        reader.put(RecsQuery().key(uid), uid, 4, b"[]", time.time())  # a reader's, at seq 4
        precompute = _Job(uid, RecsQuery(), 0)
        computer._compute(precompute)
        assert (precompute.status, precompute.body, precompute.computed_at) == (200, b"[]", 4)
        newer = _Job(uid, RecsQuery(), 5)  # a miss asking for more than the stored answer
        computer._compute(newer)
        assert newer.status == 200 and json.loads(newer.body)  # computed: a full list
    finally:
        computer.stop()
        computing.close()
        reader.close()


def test_the_newest_write_is_precomputed_first(small_demo_artifact: Path,
                                               tmp_path: Path) -> None:
    from recommend.serve.compute import Computer

    state_dir = tmp_path / "state"
    ServedState(small_demo_artifact, state_dir).detach()
    computing = ReaderState(small_demo_artifact, state_dir, tmp_path / "no-writer.sock",
                            worker=3)
    computer = Computer(computing, None)
    computer.stop()  # its thread takes nothing: the order is read here
    computer._stop = False
    typed = computing.rec.user_id
    try:
        computer.applied([{"seq": seq, "files": {"events.jsonl": [{"user": user}]}}
                          for seq, user in enumerate(("u0001", "u0002", "u0003", "u0001"), 1)])
        order = [computer._next().user for _ in range(3)]  # type: ignore[union-attr]
        # u0001 wrote again last: it moved to the end, and the newest goes first
        assert order == [typed("u0001"), typed("u0003"), typed("u0002")]
    finally:
        computing.close()
