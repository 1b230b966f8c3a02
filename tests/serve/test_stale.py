"""Bounded staleness (:mod:`recommend.serve.stale`): right after a user's own write, their
kept list is sent with the write's direct effect applied, within the bound only; then the
fresh list, computed from a model holding the write."""

from __future__ import annotations

import json
import time
from functools import partial
from pathlib import Path

import pytest

from recommend.serve.reader import ReaderState
from recommend.serve.shared_cache import SharedResponses
from recommend.serve.stale import RecentWrites, entry_products
from recommend.serve.state import ServedState
from tests.serve.conftest import ask_default


def _typed(raw: object) -> str:
    if not isinstance(raw, str):
        raise TypeError(raw)
    return raw if raw.startswith("user:") else f"user:{raw}"


def _event(seq: int, target: str, at: float | None = None, **extra: object) -> dict:
    return {"seq": seq, "at": time.time() if at is None else at,
            "files": {"events.jsonl": [{"user": "a", "target": target, "kind": "cart",
                                        **extra}]}}


def test_what_a_write_takes_out() -> None:
    entry = {**_event(1, "p1"), "not_interested": [["user:a", "product:p9"],
                                                    ["user:b", "product:p8"]]}
    entry["files"]["events.jsonl"] += [{"user": "a", "target": "post:4", "kind": "like"},
                                       {"user": "a", "target": "p5", "target_type": "post"},
                                       {"user": "b", "target": "p6", "kind": "view"},
                                       {"user": "a", "target": "product:p7", "kind": "view"}]
    assert entry_products(entry, "user:a", _typed) == {"product:p1", "product:p7",
                                                       "product:p9"}
    with pytest.raises(ValueError, match="under 1 s"):
        RecentWrites(1.0)


def test_stale_within_the_bound_only(tmp_path: Path) -> None:
    shared = SharedResponses(tmp_path / "r.sqlite", 60, 100, stale_seconds=0.3)
    body = json.dumps([{"item": "product:p1"}, {"item": "product:p2"}]).encode()
    key = ("recs", "user:a")
    try:
        shared.put(key, "user:a", 5, body, time.time())
        shared.note([_event(6, "p1"), {"seq": 7, "at": time.time(),
                                       "not_interested": [["user:a", "product:p3"]]}], _typed)
        assert shared.get(key, "user:a") is None  # a wrote after seq 5
        stale = shared.stale(key, "user:a")
        assert stale is not None and stale.seq == 5
        assert json.loads(stale.body) == [{"item": "product:p2"}]  # the carted one out
        shared.put(("recs", "user:b"), "user:b", 5, body, time.time())
        shared.note([{"seq": 8, "at": time.time() - 0.5,
                      "files": {"events.jsonl": [{"user": "b", "target": "p2"}]}}], _typed)
        assert shared.stale(("recs", "user:b"), "user:b") is None  # written 0.5 s ago
        shared.note([{"seq": 9, "at": time.time(), "files": {"products.jsonl": [{"id": "p"}]}}],
                    _typed)
        assert shared.stale(key, "user:a") is None  # the catalogue changed
    finally:
        shared.close()


def test_served_stale_then_fresh(small_demo_artifact: Path, tmp_path: Path) -> None:
    bound = 0.8  # wide enough for a busy machine to read and apply the write within it
    state_dir = tmp_path / "state"
    writer = ServedState(small_demo_artifact, state_dir, defer_model=True)
    reader = ReaderState(small_demo_artifact, state_dir, tmp_path / "no-writer.sock",
                         shared=SharedResponses(tmp_path / "r.sqlite", 60, 100,
                                                stale_seconds=bound))
    uid = reader.rec.user_id("u0003")
    ask = partial(ask_default, reader, uid)

    try:
        how, before, items = ask()
        assert how == "miss" and len(items) == 10
        wrote = writer.write("events", {"user": "u0003", "target": items[0], "kind": "cart"})
        assert reader.wait_for(wrote.seq)
        how, seq, stale = ask()
        assert (how, seq, stale) == ("stale", before, items[1:])  # at once, the item out
        time.sleep(max(0.0, writer.log.entries()[-1]["at"] + bound - time.time()))
        how, seq, fresh = ask()  # after the bound: computed again, holding the write
        assert how == "miss" and seq >= wrote.seq and items[0] not in fresh
        assert len(fresh) == 10
    finally:
        reader.close()
        writer.detach()
