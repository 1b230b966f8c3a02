"""A product's title as the storefront shows it: capped, no control or bidi override
characters; the API's ``title`` keeps it as stored, ``name`` is what the pages show."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from recommend.shown import MAX_SHOWN
from tests.serve.conftest import HEADERS

TITLE = "Oak\u202e Lamp\x1b[2J " + "very " * 4_000
BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_a_hostile_title_is_shown_capped_and_kept_raw(client: TestClient) -> None:
    for route, body in (("products", {"id": "odd1", "title": TITLE, "brand": "Oak\u202e"}),
                        ("events", {"user": "u0001", "target": "odd1", "kind": "purchase"})):
        assert client.post(f"/v1/{route}", json=body, headers=HEADERS).status_code == 200
    facts = client.get("/v1/items/odd1").json()
    assert facts["title"] == TITLE
    assert facts["name"].startswith("Oak Lamp [2J very") and len(facts["name"]) <= MAX_SHOWN
    page = client.get("/items/odd1")
    assert page.status_code == 200
    assert not BAD.search(page.text) and "very " * 200 not in page.text
    assert "Oak Lamp [2J very" in page.text
