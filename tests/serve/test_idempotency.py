"""Idempotency-Key on writes (:mod:`recommend.serve.idempotency`): a write sent again with
its key is answered its first answer and not logged (an event without ``ts``, stamped on
arrival, was logged and counted twice: 2 log entries, ``{"purchase": 2}``), the
key with another body is 409, keys survive a restart (from the log, and from the snapshot's
keys file once the log is compacted), are bounded, and a full disk answers 507."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import TestClient as PlainClient

from recommend.serve.idempotency import KEYS_FILE, IdempotencyKeys, Kept, KeyReused
from recommend.serve.state import ServedState
from recommend.serve.writer_app import WriterApp
from tests.serve.conftest import HEADERS

CART = {"user": "u0001", "target": "p0002", "kind": "cart"}  # no ts: the server stamps it


def _post(client: TestClient, key: str | None, body: object = CART):  # type: ignore[no-untyped-def]
    headers = HEADERS if key is None else {**HEADERS, "Idempotency-Key": key}
    return client.post("/v1/events", headers=headers, json=body)


def test_a_write_sent_again_is_answered_not_applied_twice(client: TestClient) -> None:
    state = client.app.state.served  # type: ignore[attr-defined]
    first = _post(client, "k-1")
    again = _post(client, "k-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and first.json()["seq"] == 1
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert state.log.last_seq == 1 and state.applied == {"cart": 1}  # counted once
    other = _post(client, "k-1", {**CART, "kind": "purchase"})
    assert other.status_code == 409 and "another request" in other.json()["detail"]
    assert _post(client, "k-2", {**CART, "kind": "view"}).json()["seq"] == 2  # another key
    assert _post(client, None, {**CART, "kind": "like"}).json()["seq"] == 3  # none: as before
    assert _post(client, "x" * 256).status_code == 400
    assert _post(client, "with space").status_code == 400
    assert state.log.last_seq == 3


def test_keys_survive_a_crash_and_a_snapshot(small_demo_artifact: Path, tmp_path: Path) -> None:
    folder = tmp_path / "state"
    state = ServedState(small_demo_artifact, folder)
    first = state.write("events", CART, "k-1")
    state.detach()  # as after kill -9: the key is in the log only
    state = ServedState(small_demo_artifact, folder)
    again = state.write("events", CART, "k-1")
    assert again.replayed and again.to_json() == first.to_json()
    assert state.log.last_seq == 1
    state.close()  # a snapshot: the log compacted empty, the key kept in the keys file
    assert state.log.entries() == [] and (folder / KEYS_FILE).exists()
    state = ServedState(small_demo_artifact, folder)
    try:
        assert state.write("events", CART, "k-1").to_json() == first.to_json()
        with pytest.raises(KeyReused):
            state.write("events", {**CART, "kind": "view"}, "k-1")
        assert state.log.last_seq == 1
    finally:
        state.detach()


def test_the_writer_app_forwards_the_key(small_demo_artifact: Path, tmp_path: Path) -> None:
    state = ServedState(small_demo_artifact, tmp_path / "state", defer_model=True)
    try:
        client = PlainClient(WriterApp(state, readers=1))
        headers = {"Idempotency-Key": "k-1"}
        first = client.post("/write/events", json=CART, headers=headers)
        again = client.post("/write/events", json=CART, headers=headers)
        assert first.json() == {"accepted": 1, "merged": 0, "not_interested": 0, "seq": 1}
        assert again.json() == {**first.json(), "replayed": True}
        assert client.post("/write/events", json=[CART], headers=headers).status_code == 409
        assert state.log.last_seq == 1
    finally:
        state.detach()


def test_keys_are_bounded_by_count_and_window() -> None:
    keys = IdempotencyKeys(window=100.0, most=2)
    for n, key in enumerate(("a", "b", "c")):
        keys.note(key, Kept("body", 1000.0 + n, {"seq": n}), now=1000.0)
    assert len(keys) == 2 and keys.answer("a", "body", now=1003.0) is None
    assert keys.answer("c", "body", now=1003.0) == {"seq": 2}
    assert keys.answer("c", "body", now=1103.0) is None  # out of the window


def test_a_damaged_keys_file_is_named(tmp_path: Path) -> None:
    (tmp_path / KEYS_FILE).write_text('[["k", "b"]]')
    with pytest.raises(ValueError, match=KEYS_FILE):
        IdempotencyKeys.load(tmp_path)


def test_a_full_disk_is_507_with_retry_after(client: TestClient,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    state = client.app.state.served  # type: ignore[attr-defined]

    def full(entry: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(state.log, "append", full)
    got = _post(client, "k-1")
    assert got.status_code == 507 and got.headers["Retry-After"] == "60"
    assert "nothing of the request was applied" in got.json()["detail"]
    monkeypatch.undo()
    assert _post(client, "k-1").json()["seq"] == 1  # sent again: applied once


class _Writer:
    """A stand-in for the writer's socket: answers each post with the next given answer."""

    def __init__(self, *answers: tuple[int, object]) -> None:
        self.answers, self.headers = list(answers), []  # type: ignore[var-annotated]

    def post(self, target: str, body: object, timeout: float | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, object]:
        self.headers.append(headers)
        return self.answers.pop(0)

    def close(self) -> None:
        """Nothing kept open."""


def test_a_reader_sends_the_key_and_says_the_writers_answer(small_demo_artifact: Path,
                                                           tmp_path: Path) -> None:
    from recommend.serve.reader import ReaderState

    state_dir = tmp_path / "state"
    ServedState(small_demo_artifact, state_dir).detach()
    reader = ReaderState(small_demo_artifact, state_dir, tmp_path / "no.sock")
    try:
        reader._writer = _Writer(  # type: ignore[assignment]
            (200, {"accepted": 1, "merged": 0, "not_interested": 0, "seq": None,
                   "replayed": True}),
            (409, {"detail": "used for another request"}),
            (507, {"detail": "no room"}))
        assert reader.write("events", CART, "k-1").replayed
        with pytest.raises(KeyReused, match="another request"):
            reader.write("events", CART, "k-1", caller="acme")
        with pytest.raises(OSError, match="No space left") as full:
            reader.write("events", CART)
        assert full.value.errno == errno.ENOSPC
        assert reader._writer.headers == [  # the key with its scope, the API key's name
            {"Idempotency-Key": "k-1", "X-Shopgraph-Caller": caller}
            for caller in ("default", "acme")] + [None]
    finally:
        reader.close()


def test_the_same_key_sent_together_is_logged_once(small_demo_artifact: Path,
                                                   tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    state = ServedState(small_demo_artifact, tmp_path / "state")
    try:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: state.write("events", CART, "k-1"), range(8)))
        assert {a.to_json()["seq"] for a in answers} == {1}
        assert sum(not a.replayed for a in answers) == 1
        assert state.log.last_seq == 1 and state.applied == {"cart": 1}
    finally:
        state.detach()
