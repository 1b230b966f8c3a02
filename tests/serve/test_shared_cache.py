"""The response level the readers share: found across connections, hidden by log seq."""

from __future__ import annotations

import time

import pytest

from recommend.serve.shared_cache import SharedResponses


def _typed(raw: object) -> str:
    if not isinstance(raw, str):
        raise TypeError(raw)
    return f"user:{raw}"


def _event(seq: int, user: str) -> dict:
    return {"seq": seq, "files": {"events.jsonl": [{"user": user, "target": "p1",
                                                    "kind": "view"}]}}


def test_one_readers_response_is_found_by_another(tmp_path) -> None:
    one = SharedResponses(tmp_path / "r.sqlite", 60, 100)
    two = SharedResponses(tmp_path / "r.sqlite", 60, 100)
    try:
        one.put(("recs", "user:a", 10), "user:a", 3, b"[1]", time.time() - 2)
        hit = two.get(("recs", "user:a", 10), "user:a")
        assert hit is not None and hit.body == b"[1]" and 2 <= hit.age < 3
        assert two.get(("recs", "user:a", 5), "user:a") is None  # another query
        one.put(("recs", "user:a", 10), "user:a", 2, b"[old]", time.time())
        assert two.get(("recs", "user:a", 10), "user:a").body == b"[1]"  # older seq kept out
    finally:
        one.close()
        two.close()


def test_hidden_by_the_users_write_a_catalogue_write_age_and_the_floor(tmp_path) -> None:
    shared = SharedResponses(tmp_path / "r.sqlite", 60, 100)
    try:
        for user in ("user:a", "user:b"):
            shared.put(("recs", user), user, 5, b"x", time.time())
        shared.note([_event(6, "a"), {"seq": 7, "not_interested": [["user:c", "p:1"]]}],
                    _typed)
        assert shared.get(("recs", "user:a"), "user:a") is None  # a wrote after seq 5
        assert shared.get(("recs", "user:b"), "user:b") is not None  # others' writes: kept
        assert shared.user_seq["user:c"] == 7
        shared.put(("recs", "user:a"), "user:a", 6, b"y", time.time())
        assert shared.get(("recs", "user:a"), "user:a").body == b"y"
        shared.note([{"seq": 8, "files": {"products.jsonl": [{"id": "p9"}]}}], _typed)
        assert shared.get(("recs", "user:b"), "user:b") is None  # the catalogue changed
        shared.restart(9, [], _typed)  # no notes saved reach it: they begin there
        shared.put(("recs", "user:b"), "user:b", 8, b"z", time.time())
        assert shared.get(("recs", "user:b"), "user:b") is None  # before this start's floor
        shared.put(("recs", "user:b"), "user:b", 9, b"z", time.time() - 61)
        assert shared.get(("recs", "user:b"), "user:b") is None  # over its 60 s
    finally:
        shared.close()


def test_bounded_by_age_and_entries(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("recommend.serve.shared_cache.PURGE_EVERY", 10)
    shared = SharedResponses(tmp_path / "r.sqlite", 60, 5)
    try:
        for n in range(10):
            shared.put(("k", n), "user:a", 1, b"x", time.time() - (100 if n < 2 else 0))
        count = shared._look.execute("SELECT count(*) FROM responses").fetchone()[0]
        assert count == 5
        assert shared.get(("k", 9), "user:a") is not None
        assert shared.get(("k", 2), "user:a") is None  # the oldest past max_entries
    finally:
        shared.close()


def test_emptied_for_another_artifact_and_made_again_when_damaged(tmp_path) -> None:
    path = tmp_path / "r.sqlite"
    shared = SharedResponses(path, 60, 100, stamp="art-1 v1")
    shared.put(("k",), "user:a", 1, b"x", time.time())
    shared.close()
    again = SharedResponses(path, 60, 100, stamp="art-1 v1")  # a restart: kept
    assert again.get(("k",), "user:a") is not None
    again.close()
    other = SharedResponses(path, 60, 100, stamp="art-2 v1")
    assert other.get(("k",), "user:a") is None
    other.close()
    path.write_bytes(path.read_bytes()[:100] + b"torn" * 100)  # a crash's torn pages
    made = SharedResponses(path, 60, 100, stamp="art-2 v1")
    try:
        made.put(("k",), "user:a", 1, b"y", time.time())
        assert made.get(("k",), "user:a").body == b"y"
    finally:
        made.close()


def test_a_users_file_of_that_name_is_refused_and_kept(tmp_path) -> None:
    path = tmp_path / ".responses.sqlite"
    path.write_bytes(b"my notes, not a database" * 100)
    with pytest.raises(FileExistsError, match="not a file this server made"):
        SharedResponses(path, 60, 100)
    assert path.read_bytes() == b"my notes, not a database" * 100


def test_a_restart_takes_over_the_saved_notes_when_they_reach_its_snapshot(tmp_path) -> None:
    path = tmp_path / "r.sqlite"
    before = SharedResponses(path, 60, 100)
    before.restart(0, [_event(1, "c")], _typed)
    before.note([_event(2, "a"), _event(3, "c")], _typed)
    before.put(("recs", "user:a"), "user:a", 1, b"a", time.time())
    before.put(("recs", "user:b"), "user:b", 3, b"b", time.time())
    before.close()  # as a kill -9 leaves it
    after = SharedResponses(path, 60, 100)
    try:
        after.restart(3, [], _typed)
        assert after.floor == 0 and after.user_seq == {"user:a": 2, "user:c": 3}
        assert after.get(("recs", "user:a"), "user:a") is None  # a wrote after it
        assert after.get(("recs", "user:b"), "user:b").body == b"b"
        after.restart(5, [], _typed)  # the notes reach 3: a gap before the snapshot
        assert after.floor == 5 and after.get(("recs", "user:b"), "user:b") is None
    finally:
        after.close()
