"""Ids a dataset may hold are reachable over HTTP: a slash in a product or user id ("sku/12",
a URL) is sent percent-encoded and must reach the route, not a bare 404."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.testclient import TestClient

from tests.serve.conftest import HEADERS

ITEM, USER = "sku/12:x y", "team/7"


def _add(client: TestClient) -> tuple[str, str]:
    for route, body in (("users", {"id": USER}),
                        ("products", {"id": ITEM, "title": "Oak Lamp", "price": 12.0}),
                        ("events", {"user": USER, "target": ITEM, "kind": "purchase"}),
                        ("events", {"user": "u0001", "target": ITEM, "kind": "purchase"})):
        got = client.post(f"/v1/{route}", json=body, headers=HEADERS)
        assert got.status_code == 200, got.text
    return quote(USER, safe=""), quote(ITEM, safe="")


def test_every_read_route_finds_an_id_with_a_slash(client: TestClient) -> None:
    user, item = _add(client)
    got = client.get(f"/v1/items/{item}")
    assert got.status_code == 200 and got.json()["item"] == f"product:{ITEM}"
    for path in (f"/v1/items/{item}/similar", f"/v1/items/{item}/audience",
                 f"/v1/items/{item}/influencers", f"/v1/users/{user}/recommendations",
                 f"/v1/users/{user}/profile", f"/v1/users/u0001/explanations/{item}",
                 f"/items/{item}"):
        got = client.get(path)
        assert got.status_code == 200, (path, got.status_code, got.text[:200])
    image = client.get(f"/v1/items/{item}/image")  # the route's own 404, not "Not Found"
    assert image.status_code == 404 and image.json()["detail"].startswith("no image served")


def test_an_unknown_id_with_a_slash_is_named(client: TestClient) -> None:
    got = client.get("/v1/items/no%2Fsuch")
    assert got.status_code == 404 and "no/such" in got.json()["detail"]


def test_the_longest_id_a_dataset_may_hold_is_served(client: TestClient) -> None:
    user = "u" * 1000
    assert client.post("/v1/users", json={"id": user}, headers=HEADERS).status_code == 200
    assert client.get(f"/v1/users/{user}/recommendations", params={"k": 2}).status_code == 200
    assert client.get(f"/ui/feed?user={user}").status_code == 200
