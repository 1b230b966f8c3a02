"""The ``--workers N`` compute process (:mod:`recommend.serve.compute`), in this process: a
reader's miss answered as the route would, a bad filter refused as the route would, a
write's user precomputed into the level the readers share, a user warmed while nothing
else waits, and a reader left to compute alone when nothing answers or its misses in flight
reach their bound."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from recommend.serve.api import RecsQuery
from recommend.serve.compute import ComputeClient, ComputeServer
from recommend.serve.reader import ReaderState
from recommend.serve.served import ComputeUnavailable
from recommend.serve.shared_cache import SharedResponses
from recommend.serve.state import ServedState

SHARED = "responses.sqlite"  # the level the readers share, in tmp_path


@contextlib.contextmanager
def serving_computer(artifact: Path, tmp_path: Path,
                     warm: tuple[str, ...] = ()) -> Iterator[tuple[ServedState, ReaderState]]:
    """The writer's state and a compute process's reader state over a fresh state folder of
    ``artifact`` in ``tmp_path``, its server answering on ``compute.sock`` in a thread
    (warming the users ``warm`` when idle); all closed after."""
    state_dir = tmp_path / "state"
    writer = ServedState(artifact, state_dir, defer_model=True)
    computing = ReaderState(artifact, state_dir, tmp_path / "no-writer.sock", worker=3,
                            shared=SharedResponses(tmp_path / SHARED, 60, 1000))
    server = ComputeServer(computing, tmp_path / "compute.sock", None,
                           warm=[computing.rec.user_id(u) for u in warm])
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield writer, computing
    finally:
        server.shutdown()
        server.close()
        computing.close()
        writer.detach()


def test_misses_precomputes_and_no_answer(small_demo_artifact: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("recommend.serve.compute.SEEN_TIMEOUT", 1.0)
    with (serving_computer(small_demo_artifact, tmp_path, warm=("u0005",))
          as (writer, computing),
          contextlib.closing(SharedResponses(tmp_path / SHARED, 60, 1000)) as reader):
        # reader: a reader's view of the shared level
        idle = computing.rec.user_id("u0005")
        uid = computing.rec.user_id("u0003")
        default = RecsQuery().key(uid)

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


@contextlib.contextmanager
def idle_computer(artifact: Path, tmp_path: Path) -> Iterator[Any]:
    """A compute process's :class:`~recommend.serve.compute.Computer` whose thread takes
    nothing (the order of its queue is read by the test), over a fresh state of
    ``artifact``."""
    from recommend.serve.compute import Computer

    state_dir = tmp_path / "state"
    ServedState(artifact, state_dir).detach()
    computing = ReaderState(artifact, state_dir, tmp_path / "no-writer.sock", worker=3)
    computer = Computer(computing, None)
    computer.stop()
    computer._stop = False
    try:
        yield computer
    finally:
        computing.close()


def test_the_newest_write_is_precomputed_first(small_demo_artifact: Path,
                                               tmp_path: Path) -> None:
    with idle_computer(small_demo_artifact, tmp_path) as computer:
        typed = computer.state.rec.user_id
        computer.applied([{"seq": seq, "files": {"events.jsonl": [{"user": user}]}}
                          for seq, user in enumerate(("u0001", "u0002", "u0003", "u0001"), 1)])
        order = [computer._next().user for _ in range(3)]  # type: ignore[union-attr]
        # u0001 wrote again last: it moved to the end, and the newest goes first
        assert order == [typed("u0001"), typed("u0003"), typed("u0002")]


def test_refreshes_go_after_misses_and_before_precomputes(small_demo_artifact: Path,
                                                          tmp_path: Path) -> None:
    with idle_computer(small_demo_artifact, tmp_path) as computer:
        typed = computer.state.rec.user_id
        computer.applied([{"seq": seq, "files": {"events.jsonl": [{"user": user}]}}
                          for seq, user in enumerate(("u0001", "u0002"), 1)])
        computer.miss(typed("u0003"), RecsQuery(), 0, refresh=True)
        computer.miss(typed("u0002"), RecsQuery(), 0, refresh=True)  # its precompute dropped
        computer.miss(typed("u0004"), RecsQuery(k=5), 0)
        jobs = [computer._next() for _ in range(4)]
        assert [(j.user, j.query.k) for j in jobs] == [  # type: ignore[union-attr]
            (typed("u0004"), 5), (typed("u0003"), 10), (typed("u0002"), 10),
            (typed("u0001"), 10)]
        assert not computer._ahead and not computer._refreshes


def test_a_write_answer_leaves_its_user_fresh(small_demo_artifact: Path, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from recommend.serve.api import refresh_written

    event = {"user": "u0003", "target": "p0002", "kind": "purchase"}
    with (serving_computer(small_demo_artifact, tmp_path) as (writer, _),
          contextlib.closing(ReaderState(
              small_demo_artifact, tmp_path / "state", tmp_path / "no-writer.sock", worker=1,
              shared=SharedResponses(tmp_path / SHARED, 60, 1000))) as reader):
        uid = reader.rec.user_id("u0003")
        default = RecsQuery().key(uid)

        async def refresh(route: str, body: object) -> None:
            reader.compute = ComputeClient(tmp_path / "compute.sock")
            try:
                await refresh_written(reader, route, body)
            finally:
                reader.compute.close()

        wrote = writer.write("events", event)
        assert reader.wait_for(wrote.seq)
        assert reader.cache.get(default) is None
        asyncio.run(refresh("events", event))
        hit = reader.cache.get(default)
        assert hit is not None and hit.seq is not None and hit.seq >= wrote.seq
        assert json.loads(hit.body) == json.loads(RecsQuery().body(reader, uid, None))
        assert "p0002" not in {row["item"].partition(":")[2] for row in json.loads(hit.body)}
        assert reader.shared.get(default, uid).body == hit.body  # kept for every reader

        many = [{**event, "user": f"u{i:04d}"} for i in range(1, 7)]  # over REFRESH_USERS
        wrote = writer.write("events", many)
        assert reader.wait_for(wrote.seq)
        monkeypatch.setattr("recommend.serve.api.REFRESH_USERS", 5)
        asyncio.run(refresh("events", many))  # answered without: nobody refreshed here
        assert reader.cache.get(default) is None

    async def nobody() -> None:  # no compute process: the write is answered all the same
        reader.compute = ComputeClient(tmp_path / "compute.sock")
        await refresh_written(reader, "events", event)

    asyncio.run(nobody())
