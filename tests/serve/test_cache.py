"""The response cache: kept per user and query, dropped by the user's own writes at once,
by a catalogue write entirely, never kept when computed across a write, bounded, and off at
``--cache-seconds 0``."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from recommend.serve.cache import ResponseCache, concerned, forget
from tests.serve.conftest import HEADERS


def _typed(raw: object) -> str:
    if not isinstance(raw, str) or not raw:
        raise ValueError(raw)
    return raw if raw.startswith("user:") else f"user:{raw}"


def test_kept_until_its_seconds_pass() -> None:
    cache = ResponseCache(seconds=0.2)
    assert cache.put("a", "user:1", b"[1]", cache.token("user:1"))
    hit = cache.get("a")
    assert hit is not None and hit.body == b"[1]" and hit.age < 0.2
    time.sleep(0.25)
    assert cache.get("a") is None and len(cache) == 0
    assert (cache.hits, cache.misses) == (1, 1)


def test_least_recently_used_goes_first() -> None:
    cache = ResponseCache(seconds=60, max_entries=2)
    for key in "abc":
        if key == "c":
            assert cache.get("a") is not None  # "b" is now the oldest used
        cache.put(key, f"user:{key}", key.encode(), cache.token(f"user:{key}"))
    assert cache.get("b") is None and cache.get("a") is not None and len(cache) == 2
    small = ResponseCache(seconds=60, max_bytes=10)
    for key in "xyz":
        small.put(key, "user:1", b"1234", small.token("user:1"))
    assert [small.get(k) is not None for k in "xyz"] == [False, True, True] and small.bytes == 8
    assert not small.put("big", "user:1", b"x" * 11, small.token("user:1")) and len(small) == 2


def test_a_write_drops_its_users_and_refuses_a_response_computed_across_it() -> None:
    cache = ResponseCache(seconds=60)
    for user in ("user:1", "user:2"):
        cache.put(("recs", user, 5), user, b"old", cache.token(user))
        cache.put(("recs", user, 10), user, b"old", cache.token(user))
    token = cache.token("user:1")  # a request starts computing for user 1
    cache.drop_users(["user:1"])  # and a write of user 1 is applied meanwhile
    assert cache.get(("recs", "user:1", 5)) is None
    assert cache.get(("recs", "user:2", 5)) is not None
    assert not cache.put(("recs", "user:1", 5), "user:1", b"stale", token)
    assert cache.put(("recs", "user:1", 5), "user:1", b"new", cache.token("user:1"))
    token = cache.token("user:2")
    cache.clear()
    assert len(cache) == 0 and not cache.put("x", "user:2", b"stale", token)


def test_off_keeps_nothing() -> None:
    cache = ResponseCache(seconds=0)
    assert not cache.enabled and not cache.put("a", "user:1", b"x", cache.token("user:1"))
    with pytest.raises(ValueError, match="seconds"):
        ResponseCache(seconds=-1)


def test_which_writes_concern_whom() -> None:
    files = {"events.jsonl": [{"user": "u1", "target": "p1"}, None, {"user": 7}],
             "follows.jsonl": [{"follower": "u2", "followee": "user:u3"}],
             "posts.jsonl": [{"id": "x", "author": "u4"}],
             "users.jsonl": [{"id": "u5"}]}
    users, catalogue = concerned(files, _typed)
    assert users == {"user:u1", "user:u2", "user:u3", "user:u4", "user:u5"} and not catalogue
    assert concerned({"products.jsonl": [{"id": "p9"}]}, _typed) == (set(), True)
    cache = ResponseCache(seconds=60)
    for user in ("user:u1", "user:u8", "user:u9"):
        cache.put(user, user, b"x", cache.token(user))
    forget(cache, [{"files": {}, "not_interested": [["user:u8", "product:p1"]]}], _typed)
    assert cache.get("user:u8") is None and cache.get("user:u9") is not None
    forget(cache, [{"files": {"products.jsonl": [{"id": "p9"}]}}], _typed)
    assert len(cache) == 0


def _recs(client: TestClient, user: str, **params: object) -> tuple[list[str], str]:
    got = client.get(f"/v1/users/{user}/recommendations", params={"k": 5, **params})
    assert got.status_code == 200
    return [r["item"] for r in got.json()], got.headers["X-Cache"]


def test_served_again_until_the_users_own_write(client: TestClient) -> None:
    first, how = _recs(client, "u0001")
    assert how == "miss"
    again = client.get("/v1/users/u0001/recommendations", params={"k": 5})
    assert again.headers["X-Cache"] == "hit" and int(again.headers["Age"]) >= 0
    assert [r["item"] for r in again.json()] == first
    assert _recs(client, "u0001", k=6)[1] == "miss"  # every parameter is in the key
    assert _recs(client, "u0002")[1] == "miss"
    # another user's event: u0001's kept answer stays (bounded staleness)
    event = {"user": "u0002", "target": first[0].partition(":")[2], "kind": "view"}
    assert client.post("/v1/events", json=event, headers=HEADERS).status_code == 200
    assert _recs(client, "u0001")[1] == "hit"
    assert _recs(client, "u0002")[1] == "miss"
    # the user's own purchase: the next answer is computed again and leaves the item out
    event = {"user": "u0001", "target": first[0].partition(":")[2], "kind": "purchase"}
    assert client.post("/v1/events", json=event, headers=HEADERS).status_code == 200
    items, how = _recs(client, "u0001")
    assert how == "miss" and first[0] not in items
    # "not interested": dropped too
    gone = {"user": "u0001", "target": items[0].partition(":")[2], "kind": "not-interested"}
    assert client.post("/v1/events", json=gone, headers=HEADERS).status_code == 200
    after, how = _recs(client, "u0001")
    assert how == "miss" and items[0] not in after


def test_a_new_product_drops_everything_and_metrics_count(client: TestClient) -> None:
    for user in ("u0001", "u0002"):
        _recs(client, user)
        assert _recs(client, user)[1] == "hit"
    product = {"id": "fresh-1", "title": "A new lamp", "categories": ["Home"]}
    assert client.post("/v1/products", json=product, headers=HEADERS).status_code == 200
    assert _recs(client, "u0001")[1] == "miss" and _recs(client, "u0002")[1] == "miss"
    text = client.get("/metrics").text
    route = 'route="/v1/users/{user}/recommendations"'
    assert f'shopgraph_cache_lookups_total{{result="hit",{route}}} 2.0' in text
    assert f'shopgraph_cache_lookups_total{{result="miss",{route}}} 4.0' in text
    assert f"shopgraph_cache_hit_ratio{{{route}}} 0.333" in text
    assert "shopgraph_cache_entries 2.0" in text and "shopgraph_cache_seconds 60.0" in text


def test_off_computes_every_request(start, small_demo_artifact, tmp_path) -> None:
    from recommend.serve.app import create_app
    from recommend.serve.state import ServedState

    state = ServedState(small_demo_artifact, tmp_path / "off", cache=ResponseCache(0))
    with TestClient(create_app(state)) as client:
        assert [_recs(client, "u0001")[1] for _ in range(2)] == ["off", "off"]
        assert "shopgraph_cache_seconds 0.0" in client.get("/metrics").text
