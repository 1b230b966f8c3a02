"""Any JSON body to a write route is a 2xx or a 4xx naming why; a 4xx applies nothing."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.serve.conftest import HEADERS

ROUTES = ("/v1/events", "/v1/products", "/v1/users", "/v1/follows", "/v1/posts")
FIELDS = ("id", "title", "user", "target", "kind", "value", "ts", "author", "follower",
          "followee", "price", "categories", "images", "products", "target_type", "text")
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**15, 10**15),
                     st.floats(allow_nan=False), st.text(max_size=20),
                     st.sampled_from(["u0001", "p0002", "product:p0002", "not-interested",
                                      "purchase", "view", "rate", "post:1", ""]))
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)
_records = st.dictionaries(st.sampled_from(FIELDS), _values, max_size=6)
_bodies = st.one_of(_records, st.lists(_records, max_size=4), _values)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), body=_bodies)
def test_hostile_bodies_never_break_the_server(client, route, body) -> None:
    before = client.get("/v1/health").json()
    got = client.post(route, content=json.dumps(body),
                      headers={**HEADERS, "Content-Type": "application/json"})
    assert got.status_code in (200, 422), got.text
    after = client.get("/v1/health").json()
    if got.status_code == 422:
        detail = got.json()["detail"]
        assert detail["rejections"] and all(r["reason"] for r in detail["rejections"])
        assert after["log_seq"] == before["log_seq"]
    assert client.get("/v1/users/u0001/recommendations", params={"k": 2}).status_code == 200
