"""The read endpoints answer the CLI's JSON shapes plus product facts."""

from __future__ import annotations

from fastapi.testclient import TestClient

from recommend.recommender import Recommender


def test_recommendations_match_the_recommender(client: TestClient, small_demo_artifact) -> None:
    got = client.get("/v1/users/u0001/recommendations", params={"k": 5})
    assert got.status_code == 200
    rows = got.json()
    want = [r.to_json() for r in Recommender.load(small_demo_artifact).recommend("u0001", k=5)]
    assert [r["item"] for r in rows] == [w["item"] for w in want]
    for row, w in zip(rows, want, strict=True):
        assert {k: row[k] for k in w} == w
        assert row["title"] and isinstance(row["price"], float)
        assert "image_url" in row and row["categories"]


def test_filters_and_no_explain(client: TestClient) -> None:
    rows = client.get("/v1/users/u0001/recommendations",
                      params={"k": 5, "max_price": 30, "explain": "false"}).json()
    assert rows and all(r["price"] <= 30 for r in rows)
    assert all(r["paths"] == [] for r in rows)


def test_bad_values_are_422_with_the_reason(client: TestClient) -> None:
    bad = client.get("/v1/users/u0001/recommendations", params={"min_price": 9, "max_price": 1})
    assert bad.status_code == 422 and "price_max" in bad.json()["detail"]
    assert client.get("/v1/users/u0001/recommendations", params={"k": 0}).status_code == 422
    assert client.get("/v1/users/%20u1/recommendations").status_code == 422
    assert client.get(f"/v1/users/{'x' * 1001}/recommendations").status_code == 422
    bidi = client.get("/v1/users/%E2%80%AEevil/recommendations")  # U+202E: no id holds it
    assert bidi.status_code == 422 and "bidi" in bidi.json()["detail"]


def test_unknown_user_gets_a_cold_start(client: TestClient) -> None:
    rows = client.get("/v1/users/nobody/recommendations", params={"k": 3}).json()
    assert len(rows) == 3 and all(r["reason"] for r in rows)


def test_explanation_has_paths_and_svg(client: TestClient) -> None:
    item = client.get("/v1/users/u0001/recommendations", params={"k": 1}).json()[0]["item"]
    got = client.get(f"/v1/users/u0001/explanations/{item}").json()
    assert got["item"] == item and got["paths"] and got["title"]
    assert got["svg"].lstrip().startswith(("<?xml", "<svg"))
    assert client.get(f"/v1/users/u0001/explanations/{item}",
                      params={"picture": "false"}).json()["svg"] is None
    missing = client.get("/v1/users/u0001/explanations/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]


def test_similar_items_and_item_facts(client: TestClient) -> None:
    rows = client.get("/v1/items/p0001/similar", params={"k": 4}).json()
    assert len(rows) == 4 and "product:p0001" not in [r["item"] for r in rows]
    assert all(r["title"] for r in rows)
    assert client.get("/v1/items/p0001").json()["title"]
    assert client.get("/v1/items/zz/similar").status_code == 404
    assert client.get("/v1/items/p0001/image").status_code == 404  # no image folder given


def test_user_search_and_profile(client: TestClient) -> None:
    found = client.get("/v1/users", params={"q": "u000"}).json()
    assert found and all("u000" in u["id"] for u in found)
    prof = client.get("/v1/users/u0001/profile").json()
    assert prof["known"] and prof["interests"]
    assert all(not g["id"].startswith(("segment:age-", "segment:gender-"))
               for g in prof["groups"])
    assert client.get("/v1/users/nobody/profile").json()["known"] is False


def test_health_metrics_and_no_sparql(client: TestClient) -> None:
    health = client.get("/v1/health").json()
    assert health["status"] == "ok" and health["products"] == 80
    client.get("/v1/users/u0001/recommendations")
    text = client.get("/metrics").text
    assert 'shopgraph_requests_total{method="GET",route="/v1/users/{user}/recommendations"' \
           ',status="200"}' in text
    assert 'shopgraph_request_seconds_bucket{le="0.05",route="/v1/users/{user}/' \
           'recommendations"}' in text
    assert "shopgraph_log_bytes" in text and "shopgraph_artifact_info{version=" in text
    assert client.get("/sparql").status_code == 404
    assert "/v1/users/{user}/recommendations" in client.get("/openapi.json").json()["paths"]


def test_storefront_pages(client: TestClient) -> None:
    home = client.get("/")
    assert home.status_code == 200 and 'for="user-query"' in home.text
    assert "u0001" in client.get("/", params={"q": "u0001"}).text
    page = client.get("/", params={"user": "u0001"}).text
    assert page.count('class="card"') == 8 and "Not interested" in page
    assert "Interested in" in page
    product = client.get("/items/p0001", params={"user": "u0001"})
    assert product.status_code == 200 and "Similar items" in product.text
    assert client.get("/static/shop.js").status_code == 200


def test_storefront_feedback_needs_the_page_token(client: TestClient) -> None:
    import re

    page = client.get("/", params={"user": "u0001"}).text
    token = re.search(r'name="storefront-token" content="([^"]+)"', page).group(1)
    first = re.search(r'class="card" data-item="([^"]+)"', page).group(1)
    body = {"user": "u0001", "item": first, "kind": "not-interested"}
    assert client.post("/ui/feedback", json=body).status_code == 403
    assert client.post("/ui/feedback", json={**body, "kind": "purchase"},
                       headers={"X-Storefront-Token": token}).status_code == 422
    assert client.post("/ui/feedback", json=body,
                       headers={"X-Storefront-Token": token}).status_code == 200
    feed = client.get("/ui/feed", params={"user": "u0001"}).text
    assert f'data-item="{first}"' not in feed and feed.count('class="card"') == 8
    why = client.get("/ui/why", params={"user": "u0001", "item": "p0001"}).json()
    assert "svg" in why
