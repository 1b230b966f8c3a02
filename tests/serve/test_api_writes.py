"""Writes: keyed, validated like dataset files, all or nothing, logged, visible at once."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from recommend.serve.security import Access
from tests.serve.conftest import HEADERS


def _items(client: TestClient, user: str = "u0001", k: int = 5) -> list[str]:
    return [r["item"] for r in client.get(f"/v1/users/{user}/recommendations",
                                          params={"k": k}).json()]


def test_writes_need_the_key(client: TestClient) -> None:
    event = {"user": "u0001", "target": "p0002", "kind": "view"}
    assert client.post("/v1/events", json=event).status_code == 401
    assert client.post("/v1/events", json=event,
                       headers={"X-API-Key": "wrong"}).status_code == 401
    assert client.post("/v1/events", json=event, headers=HEADERS).status_code == 200


def test_no_key_configured_means_read_only(start) -> None:
    client = start(access=Access(None))
    got = client.post("/v1/events", json={"user": "u0001", "target": "p0002", "kind": "view"},
                      headers=HEADERS)
    assert got.status_code == 403 and "API key" in got.json()["detail"]


def test_keyed_reads(start) -> None:
    client = start(access=Access("k2", keyed_reads=True))
    assert client.get("/v1/users/u0001/recommendations").status_code == 401
    assert client.get("/v1/users/u0001/recommendations",
                      headers={"X-API-Key": "k2"}).status_code == 200
    assert client.get("/").status_code == 404  # no storefront when reads are keyed


def test_a_bad_record_applies_nothing(client: TestClient) -> None:
    before = client.get("/v1/health").json()
    batch = [{"user": "u0001", "target": "p0002", "kind": "purchase"},
             {"user": "u0001", "target": "p0003", "kind": "buy"}]
    got = client.post("/v1/events", json=batch, headers=HEADERS)
    assert got.status_code == 422
    (rejection,) = got.json()["detail"]["rejections"]
    assert rejection["record"] == 2 and "kind" in rejection["reason"]
    assert client.get("/v1/health").json()["log_seq"] == before["log_seq"]


def test_records_are_checked_like_files(client: TestClient) -> None:
    cases = {"/v1/products": {"id": "n1", "title": "  "},
             "/v1/users": {"id": 7.5},
             "/v1/follows": {"follower": "u0001", "followee": "ghost"},
             "/v1/posts": {"id": "x", "author": "u0001", "ts": "yesterday"}}
    for route, body in cases.items():
        got = client.post(route, json=body, headers=HEADERS)
        assert got.status_code == 422, route
        assert got.json()["detail"]["rejections"][0]["reason"], route


def test_a_purchase_is_seen_by_the_next_request(client: TestClient) -> None:
    item = _items(client)[0]
    got = client.post("/v1/events", json={"user": "u0001", "target": item, "kind": "purchase"},
                      headers=HEADERS)
    assert got.status_code == 200 and got.json()["accepted"] == 1
    assert item not in _items(client, k=20)  # bought: now seen, so no longer recommended


def test_new_product_user_follow_post(client: TestClient) -> None:
    writes = [("/v1/products", {"id": "new1", "title": "Stoneware Travel Mug", "price": 9.5,
                                "brand": "Hearthstone", "categories": ["Home", "Kitchen"]}),
              ("/v1/users", [{"id": "newbie"}, {"id": "newbie2", "name": "N. Two"}]),
              ("/v1/follows", {"follower": "newbie", "followee": "u0001"}),
              ("/v1/posts", {"id": "np1", "author": "newbie", "text": "love my mug",
                             "products": ["new1"]})]
    for route, body in writes:
        got = client.post(route, json=body, headers=HEADERS)
        assert got.status_code == 200, (route, got.json())
    assert client.get("/v1/items/new1").json()["title"] == "Stoneware Travel Mug"
    assert client.get("/v1/users/newbie/recommendations", params={"k": 3}).status_code == 200


def test_a_repeated_event_merges(client: TestClient) -> None:
    event = {"user": "u0001", "target": "p0002", "kind": "like", "ts": 1746073196.0}
    assert client.post("/v1/events", json=event, headers=HEADERS).json()["accepted"] == 1
    again = client.post("/v1/events", json=event, headers=HEADERS).json()
    assert again["accepted"] == 0 and again["merged"] == 1 and again["seq"] is None


def test_not_interested_removes_and_lowers(client: TestClient) -> None:
    before = _items(client, k=5)
    got = client.post("/v1/events", headers=HEADERS,
                      json={"user": "u0001", "target": before[0], "kind": "not-interested"})
    assert got.status_code == 200 and got.json()["not_interested"] == 1
    rows = client.get("/v1/users/u0001/recommendations", params={"k": 5}).json()
    assert len(rows) == 5 and before[0] not in [r["item"] for r in rows]
    assert any(r.get("feedback_penalty", 0) > 0 for r in rows)
    assert before[0] in _items(client, user="u0002", k=80)  # only that user's feed
    bad = client.post("/v1/events", headers=HEADERS,
                      json={"user": "u0001", "target": "ghost", "kind": "not-interested"})
    assert bad.status_code == 422


def test_body_limits(start) -> None:
    client = start(max_body_bytes=2048)
    big = [{"user": "u0001", "target": "p0002", "kind": "view"}] * 100
    got = client.post("/v1/events", content=json.dumps(big), headers={
        **HEADERS, "Content-Type": "application/json"})
    assert got.status_code == 413
    many = client.post("/v1/events", headers=HEADERS, json=[{}] * 1001)
    assert many.status_code in (413, 422)


def test_too_many_records_is_422(start) -> None:
    client = start(max_body_bytes=1 << 22)
    got = client.post("/v1/events", headers=HEADERS,
                      json=[{"user": "u0001", "target": "p0002", "kind": "view"}] * 1001)
    assert got.status_code == 422 and "at most 1000" in got.text


def test_cors_is_off_unless_asked(start, tmp_path) -> None:
    asked = {"Origin": "https://shop.example", "Access-Control-Request-Method": "GET"}
    plain = start()
    assert "access-control-allow-origin" not in plain.options(
        "/v1/health", headers=asked).headers
    cors = start(tmp_path / "other", cors_origins=("https://shop.example",))
    allowed = cors.options("/v1/health", headers=asked)
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
