"""A post tagging one product twice (``"products": ["p1", "p2", "p1"]``) makes one
``mentions`` edge: a repeat is not a second mention (the mentions matrix would count it twice
in every walk and content profile through the post)."""

from __future__ import annotations

import json
from pathlib import Path

from kg.artifact import build_artifact, load_artifact


def _write(folder: Path, name: str, rows: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_a_repeated_tag_is_one_mention(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _write(data, "products.jsonl", [{"id": "p1", "title": "Oak Mug"},
                                    {"id": "p2", "title": "Elm Bowl"}])
    _write(data, "users.jsonl", [{"id": "u1"}])
    _write(data, "posts.jsonl", [{"id": "q1", "author": "u1", "text": "mugs",
                                  "products": ["p1", "p2", "p1", "p2", "p1"]}])
    build_artifact(data, tmp_path / "art", progress=False, stages=[])
    graph = load_artifact(tmp_path / "art").graph
    tagged = [(e.dst, float(e.weight)) for e in graph.neighbors("post:q1", "mentions")]
    assert sorted(tagged) == [("product:p1", 1.0), ("product:p2", 1.0)]
    assert graph.matrix("mentions", src_type="post", dst_type="product").sum() == 2.0


def test_a_tag_of_a_product_whose_raw_id_spells_its_type(tmp_path: Path) -> None:
    """A product whose own id is "product:7" (an export that typed its ids): a post's tag
    "product:7" names it, as an event's target does; it made a phantom product "7"."""
    data = tmp_path / "data"
    _write(data, "products.jsonl", [{"id": "product:7", "title": "Oak Mug"}])
    _write(data, "users.jsonl", [{"id": "u1"}])
    _write(data, "posts.jsonl", [{"id": "q1", "author": "u1", "text": "mug",
                                  "products": ["product:7"]}])
    _write(data, "events.jsonl", [{"user": "u1", "target": "product:7", "kind": "view"}])
    build_artifact(data, tmp_path / "art", progress=False, stages=[])
    graph = load_artifact(tmp_path / "art").graph
    assert graph.raw_ids("product") == ["product:7"]
    viewed = [e.dst for e in graph.neighbors("user:u1", "viewed")]
    assert [e.dst for e in graph.neighbors("post:q1", "mentions")] == viewed


def test_a_typed_tag_names_the_product_as_an_event_target_does(tmp_path: Path) -> None:
    """``"products": ["product:p8"]`` where the product's id is "p8": the post is kept, its
    tag read as p8 (an event's target "product:p8" is; the whole post was rejected), and a
    tag given both ways is one mention."""
    data = tmp_path / "data"
    _write(data, "products.jsonl", [{"id": "p8", "title": "Oak Mug"}])
    _write(data, "users.jsonl", [{"id": "u1"}])
    _write(data, "posts.jsonl", [{"id": "q1", "author": "u1", "text": "mug",
                                  "products": ["product:p8", "p8"]},
                                 {"id": "q2", "author": "u1", "text": "mug",
                                  "products": ["product:p9"]}])
    build_artifact(data, tmp_path / "art", progress=False, stages=[])
    graph = load_artifact(tmp_path / "art").graph
    assert [e.dst for e in graph.neighbors("post:q1", "mentions")] == ["product:p8"]
    rejected = [json.loads(line) for line in (tmp_path / "art" / "rejected.jsonl").open()]
    assert [(r["line"], r["reason"]) for r in rejected] == [
        (2, 'unknown product "product:p9" (posts.products)')]
