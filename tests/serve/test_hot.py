"""The hot read (recommend.serve.hot): a kept list sent without the router, exactly as the
route sends it; everything else left to the route."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import astuple

import pytest
from fastapi.testclient import TestClient

from recommend.serve import api
from recommend.serve.api import RecsQuery
from recommend.serve.hot import hot_query
from recommend.serve.security import Access

from .conftest import KEY

URL = "/v1/users/u0001/recommendations"


def test_the_key_holds_every_field() -> None:
    query = RecsQuery(7, ("A",), ("B",), 1.0, 2.0, 0.5, False)
    assert query.key("user:u1") == ("recommendations", "user:u1", *astuple(query))


@pytest.mark.parametrize(("raw", "expected"), [
    (b"", RecsQuery()),
    (b"k=10&explain=true", RecsQuery()),
    (b"k=007&explain=FALSE", RecsQuery(7, explain=False)),
    (b"explain=0&k=100", RecsQuery(100, explain=False)),
    (b"category=Home&category=&brand=Acme+Co", RecsQuery(category=("Home", ""),
                                                         brand=("Acme Co",))),
])
def test_the_queries_it_reads(raw: bytes, expected: RecsQuery) -> None:
    assert hot_query(raw) == expected


@pytest.mark.parametrize("raw", [
    b"k=0", b"k=101", b"k=", b"k=+5", b"k=5.0", b"k=%EF%BC%95", b"k=5&k=6", b"explain=maybe",
    b"explain=1&explain=0", b"max_price=5", b"min_price=1", b"diversity=0.5", b"other=1",
])
def test_the_queries_it_leaves_to_the_route(raw: bytes) -> None:
    assert hot_query(raw) is None


def _no_route(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the route's own cache path fail: only the hot read can answer after this."""
    async def refused(*_: object, **__: object) -> None:
        raise AssertionError("the route answered")

    monkeypatch.setattr(api, "cached", refused)


def test_a_hit_is_the_routes_answer_byte_for_byte(client: TestClient,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    first = client.get(URL, params={"k": 5})
    assert first.headers["X-Cache"] == "miss"
    by_route = client.get(URL, params=[("k", 5), ("k", 5)])  # the route: k given twice
    assert by_route.headers["X-Cache"] == "hit"
    _no_route(monkeypatch)
    hot = client.get(URL, params={"k": "5", "explain": "true"})
    assert hot.status_code == 200 and hot.content == by_route.content == first.content
    drop = {"age", "date"}
    assert ({k: v for k, v in hot.headers.items() if k not in drop}
            == {k: v for k, v in by_route.headers.items() if k not in drop})
    assert list(hot.headers) == list(by_route.headers)
    with pytest.raises(AssertionError, match="the route answered"):
        client.get(URL, params={"k": 6})  # not kept: the route computes it


def test_refusals_and_other_users_go_to_the_route(client: TestClient) -> None:
    assert client.get(URL, params={"k": 5}).status_code == 200
    for params in ({"k": 0}, {"k": 101}, {"explain": "maybe"}):
        got = client.get(URL, params=params)
        assert got.status_code == 422, params
    assert client.get("/v1/users/u%01/recommendations").status_code == 422
    assert client.get("/v1/users/u0002/recommendations").headers["X-Cache"] == "miss"


def test_keyed_reads_need_the_key_before_a_hit(start: Callable[..., TestClient],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    client = start(access=Access(KEY, keyed_reads=True))
    headers = {"X-API-Key": KEY}
    assert client.get(URL, headers=headers).headers["X-Cache"] == "miss"
    _no_route(monkeypatch)
    assert client.get(URL, headers=headers).headers["X-Cache"] == "hit"
    for wrong in ({}, {"X-API-Key": "not-it"}):
        assert client.get(URL, headers=wrong).status_code == 401


def test_a_hit_keeps_cors_and_the_metrics(start: Callable[..., TestClient],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    client = start(cors_origins=("https://shop.example",))
    assert client.get(URL).status_code == 200
    _no_route(monkeypatch)
    got = client.get(URL, headers={"Origin": "https://shop.example"})
    assert got.headers["X-Cache"] == "hit"
    assert got.headers["access-control-allow-origin"] == "https://shop.example"
    text = client.get("/metrics").text
    route = 'route="/v1/users/{user}/recommendations"'
    assert f'shopgraph_cache_lookups_total{{result="hit",{route}}} 1.0' in text
    assert f'shopgraph_requests_total{{method="GET",{route},status="200"}} 2.0' in text
