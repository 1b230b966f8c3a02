"""The API probed as a shop would: a write's body in another media type was a 500 (the raw
bytes reached the record check), a misspelt query parameter was ignored (an unfiltered
answer), ``HEAD`` was 405 on every route (a monitor's ``HEAD /v1/health`` failed), and a
shop's page could not send ``Idempotency-Key`` through CORS nor read the answer's headers.
Each is now a clear answer: a JSON error naming what is wrong, or the GET's headers."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.serve.conftest import HEADERS

EVENT = {"user": "u0001", "target": "p0002", "kind": "view"}


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/xml",
                                          "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_is_415_naming_the_content_type(client: TestClient,
                                                                content_type) -> None:
    headers = {**HEADERS, **({} if content_type is None else {"Content-Type": content_type})}
    got = client.post("/v1/events", content=json.dumps(EVENT), headers=headers)
    assert got.status_code == 415, got.text
    assert "Content-Type" in got.json()["detail"] and "application/json" in got.json()["detail"]
    assert str(content_type) in got.json()["detail"]
    assert client.get("/v1/health").json()["log_seq"] == 0  # nothing applied
    ok = client.post("/v1/events", content=json.dumps(EVENT),
                     headers={**HEADERS, "Content-Type": "application/json; charset=utf-8"})
    assert ok.status_code == 200


@pytest.mark.parametrize("path", ["/v1/users/u0001/recommendations?k=3&catgory=shoes",
                                  "/v1/items/p0002/similar?kk=3",
                                  "/v1/items/p0002/audience?n=5&explian=true",
                                  "/v1/users?q=u00&limt=3"])
def test_an_unknown_query_parameter_is_422_naming_it(client: TestClient, path: str) -> None:
    got = client.get(path)
    assert got.status_code == 422, got.text
    wrong = path.rsplit("&", 1)[-1].rsplit("?", 1)[-1].split("=")[0]
    (problem,) = got.json()["detail"]
    assert problem["loc"] == ["query", wrong] and "not a parameter" in problem["msg"]
    assert client.get(path.rsplit("&", 1)[0] if "&" in path else path.split("?")[0]
                      ).status_code == 200


def test_an_unknown_query_parameter_of_a_write_applies_nothing(client: TestClient) -> None:
    got = client.post("/v1/events?dry_run=1", json=EVENT, headers=HEADERS)
    assert got.status_code == 422 and got.json()["detail"][0]["loc"] == ["query", "dry_run"]
    assert client.get("/v1/health").json()["log_seq"] == 0


def test_head_is_answered_as_get_without_the_body(client: TestClient) -> None:
    for path in ("/v1/health", "/v1/users/u0001/recommendations?k=3", "/v1/items/p0002"):
        got, head = client.get(path), client.head(path)
        assert head.status_code == got.status_code == 200
        assert head.content == b"" and head.headers["content-type"] == "application/json"
        assert head.headers["content-length"] == str(len(got.content))
    # a kept list (the hot path) too, with its cache headers
    assert client.head("/v1/users/u0001/recommendations?k=3").headers["x-cache"] == "hit"
    assert client.head("/v1/users/u0001/recommendations?k=3&kk=1").status_code == 422
    assert client.post("/v1/events", json=EVENT).status_code == 401  # POST stays POST


def test_a_shops_page_may_send_idempotency_keys_and_read_the_answer(start) -> None:
    client = start(cors_origins=("https://shop.example",))
    asked = {"Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "content-type,x-api-key,idempotency-key"}
    preflight = client.options("/v1/events", headers=asked)
    assert preflight.status_code == 200, preflight.text
    assert "idempotency-key" in preflight.headers["access-control-allow-headers"].lower()
    got = client.post("/v1/events", json=EVENT, headers={
        **HEADERS, "Origin": "https://shop.example", "Idempotency-Key": "k-1"})
    exposed = got.headers["access-control-expose-headers"].lower()
    assert {"idempotent-replayed", "x-cache", "x-log-seq", "retry-after"} <= {
        h.strip() for h in exposed.split(",")}
