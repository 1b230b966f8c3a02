"""The marketer's routes answer the CLI's JSON, under its privacy rules and the read guard."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi.testclient import TestClient

from recommend.paths.privacy import PERSONAL_RELATIONS
from recommend.recommender import Recommender
from recommend.serve.security import Access
from scripts.cli import main
from tests.serve.conftest import HEADERS, KEY


def _route_is_the_cli_json(client: TestClient, capsys, route: str, params: dict[str, int],
                          argv: list[str]) -> dict:
    """The route's 200 body, checked equal to the CLI's ``--json`` output for ``argv``."""
    got = client.get(route, params=params)
    assert got.status_code == 200
    assert main([*argv, "--json"]) == 0
    assert got.json() == json.loads(capsys.readouterr().out)
    return got.json()


def test_audience_is_the_cli_json(client: TestClient, small_demo_artifact, capsys) -> None:
    body = _route_is_the_cli_json(client, capsys, "/v1/items/p0004/audience", {"n": 9},
                                  ["audience", str(small_demo_artifact), "--item", "p0004",
                                   "-n", "9"])
    assert len(body["members"]) == 9 and body["summary"]["size"] == 9


def test_audience_members_show_no_private_act(client: TestClient, small_demo_artifact) -> None:
    rec = Recommender.load(small_demo_artifact)
    i = rec.graph.index("product:p0008")
    holders = {rec.graph.node_id("user", int(u)) for u in rec.model.seen_[:, [i]].tocoo().row}
    body = client.get("/v1/items/p0008/audience", params={"n": 60}).json()
    assert holders and not holders & {m["user"] for m in body["members"]}
    shown = 0
    for m in body["members"]:
        assert m["paths"] or m["withheld"], m["user"]
        for p in m["paths"]:
            shown += 1
            assert not any(rel in PERSONAL_RELATIONS and m["user"] in (a, b)
                           for a, rel, b in p["edges"])
            assert not p["text"].startswith("You")
    assert shown > 0


def test_audience_without_paths_and_its_bounds(client: TestClient) -> None:
    quick = client.get("/v1/items/p0004/audience", params={"n": 2000, "explain": "false"})
    assert quick.status_code == 200
    body = quick.json()
    assert len(body["members"]) == body["candidates"] < 120
    assert all(m["paths"] == [] and m["withheld"] == [] for m in body["members"])
    too_many = client.get("/v1/items/p0004/audience", params={"n": 2000})
    assert too_many.status_code == 422 and "explain=false" in too_many.json()["detail"]
    for n in (0, 10_001, "x"):
        assert client.get("/v1/items/p0004/audience", params={"n": n}).status_code == 422
    missing = client.get("/v1/items/nope/audience")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]
    assert client.get("/v1/items/%20p1/audience").status_code == 422


def test_influencers_are_the_cli_json(client: TestClient, small_demo_artifact, capsys) -> None:
    body = _route_is_the_cli_json(client, capsys, "/v1/items/p0004/influencers", {"k": 3},
                                  ["influencers", str(small_demo_artifact), "--item", "p0004",
                                   "-k", "3"])
    chosen = body["influencers"]
    assert len(chosen) == 3 and all(i["sentence"].endswith(".") for i in chosen)
    for k in (0, 21):
        assert client.get("/v1/items/p0004/influencers", params={"k": k}).status_code == 422
    assert client.get("/v1/items/nope/influencers").status_code == 404


def test_keyed_reads_guard_the_marketer(start: Callable[..., TestClient]) -> None:
    keyed = start(access=Access(KEY, keyed_reads=True))
    for route in ("audience", "influencers"):
        assert keyed.get(f"/v1/items/p0004/{route}").status_code == 401
        assert keyed.get(f"/v1/items/p0004/{route}", headers=HEADERS).status_code == 200


def test_the_panel_scores_the_audience_once(small_demo_artifact, monkeypatch) -> None:
    import recommend.marketer.audience as audience_module
    from recommend.serve.marketer_api import panel

    calls = []
    scores = audience_module.audience_scores
    monkeypatch.setattr(audience_module, "audience_scores",
                        lambda *a, **kw: calls.append(1) or scores(*a, **kw))
    rec = Recommender.load(small_demo_artifact)
    state = type("State", (), {"rec": rec})()
    out = panel(state, "p0004", 3)
    assert len(calls) == 1 and len(out["influencers"]) == 3


def test_product_page_marketer_panel(client: TestClient) -> None:
    page = client.get("/items/p0004").text
    assert 'id="marketer-form"' in page and "marketer.js" in page
    fragment = client.get("/ui/marketer", params={"item": "p0004"})
    assert fragment.status_code == 200
    text = fragment.text
    assert "Who should see this" in text and "shoppers most likely to take it next" in text
    assert "Influencers to work with" in text and "Together they reach" in text
    assert "user:" not in text.split("Influencers to work with")[0]  # no member named
    full = client.get("/items/p0004", params={"marketer": "1"}).text
    assert "Together they reach" in full and 'id="marketer-form"' not in full
    assert client.get("/ui/marketer", params={"item": "nope"}).status_code == 404
    everyone = client.get("/ui/marketer", params={"item": "p0017"}).text  # 21 of 120 have it
    assert "All 99 shoppers who do not have it yet" in everyone
