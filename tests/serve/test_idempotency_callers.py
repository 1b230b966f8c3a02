"""Idempotency keys are scoped by the caller (the API key's name): two shops that pick the same
``Idempotency-Key`` each get their own write's answer, never the other's (a replay of
another tenant's write leaked it) and no 409; the log and the keys file name the caller,
never hold the key itself; files written before keys had a caller still load, their keys
belonging to the key given alone (``default``); the key file names several keys."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient as PlainClient

from recommend.serve.idempotency import (
    CALLER_HEADER,
    DEFAULT_CALLER,
    KEYS_FILE,
    IdempotencyKeys,
    Kept,
)
from recommend.serve.security import Access, read_key_file
from recommend.serve.state import ServedState
from recommend.serve.writer_app import WriterApp

CART = {"user": "u0001", "target": "p0002", "kind": "cart"}
VIEW = {"user": "u0003", "target": "p0004", "kind": "view"}
SHOPS = (("acme", "acme-secret-1"), ("globex", "globex-secret-2"))


def _post(client, api_key: str, key: str, body: object):  # type: ignore[no-untyped-def]
    return client.post("/v1/events", json=body,
                       headers={"X-API-Key": api_key, "Idempotency-Key": key})


def test_two_shops_with_the_same_key_get_their_own_answers(start, tmp_path: Path) -> None:
    client = start(access=Access(named=SHOPS))
    acme = _post(client, "acme-secret-1", "k-1", CART)
    globex = _post(client, "globex-secret-2", "k-1", VIEW)  # was 409 (another body)
    assert acme.status_code == globex.status_code == 200
    assert (acme.json()["seq"], globex.json()["seq"]) == (1, 2)
    assert "Idempotent-Replayed" not in globex.headers
    again = _post(client, "globex-secret-2", "k-1", VIEW)
    assert again.json() == globex.json() and again.headers["Idempotent-Replayed"] == "true"
    assert _post(client, "acme-secret-1", "k-1", CART).json() == acme.json()
    # the same body under the same key by the other shop is its own write, not a replay
    third = _post(client, "globex-secret-2", "k-2", CART)
    assert third.json()["seq"] == 3 and "Idempotent-Replayed" not in third.headers
    assert _post(client, "acme-secret-1", "k-1", VIEW).status_code == 409  # its own reuse
    state = client.app.state.served  # type: ignore[attr-defined]
    log = (state.state_dir / "log.jsonl").read_text()
    assert "secret" not in log and '"caller": "acme"' in log.replace('":"', '": "')
    state.snapshot()  # the keys file: callers' names, no key
    saved = (state.state_dir / KEYS_FILE).read_text()
    assert "secret" not in saved and "globex" in saved


def test_callers_survive_a_restart(small_demo_artifact: Path, tmp_path: Path) -> None:
    folder = tmp_path / "state"
    state = ServedState(small_demo_artifact, folder)
    first = state.write("events", CART, "k-1", caller="acme")
    state.detach()  # the key in the log only
    state = ServedState(small_demo_artifact, folder)
    assert state.write("events", CART, "k-1", caller="acme").replayed
    other = state.write("events", CART, "k-1", caller="globex")
    assert not other.replayed and other.seq == first.seq + 1
    state.close()  # the log compacted: the keys file holds them
    state = ServedState(small_demo_artifact, folder)
    try:
        assert state.write("events", CART, "k-1", caller="globex").to_json() == other.to_json()
        assert state.write("events", CART, "k-1", caller="acme").to_json() == first.to_json()
        assert state.log.last_seq == other.seq
    finally:
        state.detach()


def test_keys_without_a_caller_belong_to_the_key_given_alone(tmp_path: Path) -> None:
    t = time.time()
    rows = [["old-1", "body", t, {"accepted": 1, "seq": 4}]]  # written before callers
    (tmp_path / KEYS_FILE).write_text(json.dumps(rows))
    keys = IdempotencyKeys.load(tmp_path)
    assert keys.answer("old-1", "body") == {"accepted": 1, "seq": 4}
    assert keys.answer("old-1", "body", caller=DEFAULT_CALLER) is not None
    assert keys.answer("old-1", "other", caller="acme") is None  # no 409 either
    keys.note_entry({"seq": 5, "at": t, "idempotency": {  # a log entry written before callers
        "key": "old-2", "body": "b", "answer": {"accepted": 1}}})
    assert keys.answer("old-2", "b") == {"accepted": 1, "seq": 5}
    assert keys.answer("old-2", "b", caller="acme") is None
    keys.note("old-2", Kept("c", t, {"seq": 6}), caller="acme")
    assert keys.answer("old-2", "c", caller="acme") == {"seq": 6}
    keys.save(tmp_path)
    back = IdempotencyKeys.load(tmp_path)
    assert back.answer("old-2", "c", caller="acme") == {"seq": 6}
    assert back.answer("old-2", "b") == {"accepted": 1, "seq": 5}


def test_the_writer_app_scopes_by_the_readers_caller(small_demo_artifact: Path,
                                                     tmp_path: Path) -> None:
    state = ServedState(small_demo_artifact, tmp_path / "state", defer_model=True)
    try:
        client = PlainClient(WriterApp(state, readers=1))
        acme = {"Idempotency-Key": "k-1", CALLER_HEADER: "acme"}
        globex = {"Idempotency-Key": "k-1", CALLER_HEADER: "globex"}
        assert client.post("/write/events", json=CART, headers=acme).json()["seq"] == 1
        got = client.post("/write/events", json=VIEW, headers=globex)
        assert got.status_code == 200 and got.json()["seq"] == 2
        assert client.post("/write/events", json=CART, headers=acme).json()["replayed"]
    finally:
        state.detach()


def test_access_names_the_caller() -> None:
    access = Access("alone", named=SHOPS)
    assert access.caller("alone") == DEFAULT_CALLER
    assert access.caller("globex-secret-2") == "globex" and access.caller(b"acme-secret-1")
    assert access.caller("acme-secret") is None and access.caller(None) is None
    assert Access().caller("alone") is None and not Access().allows("alone")
    assert Access(named=SHOPS).allows("acme-secret-1")


def test_the_key_file_names_several_keys(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text("only-key\n")
    assert read_key_file(path) == ("only-key", ())
    path.write_text("# shops\nacme  acme-secret-1\n\nglobex globex-secret-2\n")
    assert read_key_file(path) == (None, SHOPS)
    for text, reason in [("acme k1\nk2\n", "line 2: NAME KEY"),
                         ("acme k1\nacme k2\n", "line 2: the name 'acme' is given twice"),
                         ("acme k1\nglobex k1\n", "line 2: the key of line 1 again"),
                         ("a/b k1\n", "line 1: the name 'a/b'"),
                         ("acme k1 k2\n", "line 1: NAME KEY"),
                         ("acme kéy\n", "line 1: the key"), ("\n# none\n", "empty")]:
        path.write_text(text)
        with pytest.raises(ValueError, match=reason) as err:
            read_key_file(path)
        assert str(path) in str(err.value)
