"""No accepted record can abort a build: each stage guards itself, bad lines are quarantined."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from kg.artifact import build_artifact, load_artifact
from kg.reader import read_dataset

NOW = 1_700_000_000  # 2023-11-14


def _write(folder: Path, name: str, rows: list) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n"
                                       for r in rows), encoding="utf-8")


def _rejected(art: Path) -> list[dict]:
    return [json.loads(line) for line in (art / "rejected.jsonl").open(encoding="utf-8")]


def test_post_of_a_million_characters_is_truncated_and_counted(tmp_path: Path) -> None:
    from recommend.stages import EnrichConfig, enrichment_stages

    data = tmp_path / "data"
    _write(data, "products.jsonl", [{"id": "p1", "title": "Lark Jacket", "brand": "Oakhart"}])
    _write(data, "users.jsonl", [{"id": "u1"}])
    text = "I love my Lark Jacket from Oakhart. " + "a" * 1_000_001
    _write(data, "posts.jsonl", [{"id": "q1", "author": "u1", "text": text, "ts": NOW}])
    _write(data, "events.jsonl", [{"user": "u1", "target": "p1", "kind": "comment", "ts": NOW,
                                   "text": "Oakhart " * 120_000}])  # under 1 MB
    manifest = build_artifact(data, tmp_path / "art", progress=False, stages=enrichment_stages(
        EnrichConfig(vision=False, profiles=False), progress=False))
    nlp = manifest["stages"]["nlp"]
    assert nlp["texts_truncated"] == {"posts": 1, "comments": 1, "products": 0,
                                      "max_chars": 20_000}
    assert nlp["mentions"] >= 1  # the start of the long post was still read
    graph = load_artifact(tmp_path / "art").graph
    assert graph.has_edge("post:q1", "mentions", "product:p1")
    assert len(graph.node_attrs("post:q1")["text"]) == len(text)  # the record itself is kept


def test_truncate_cuts_at_a_word_within_the_last_tenth() -> None:
    from nlp.clean import truncate

    assert truncate("word " * 10, 20) == "word word word word"  # space at 19
    assert truncate("x" * 50, 20) == "x" * 20
    assert truncate("short", 5) == "short"


@pytest.mark.parametrize(("line", "reason"), [
    ({"user": "u1", "target": "p1", "kind": "rate", "value": 3.5e38, "ts": NOW},
     '"value": number 3.5e+38 is outside -1e+12..1e+12'),
    ({"user": "u1", "target": "p1", "kind": "rate", "value": -1e300},
     '"value": number -1e+300 is outside -1e+12..1e+12'),
    ({"user": "u1", "target": "p1", "kind": "rate", "value": 10**400},
     '"value": expected a finite number, got a huge integer'),
])
def test_values_beyond_float32_are_rejected_with_a_reason(tmp_path: Path, line: dict,
                                                          reason: str) -> None:
    _write(tmp_path, "products.jsonl", [{"id": "p1", "title": "Mug", "price": 1e300},
                                        {"id": "p2", "title": "Cup", "price": 1e12}])
    _write(tmp_path, "users.jsonl", [{"id": "u1"}])
    _write(tmp_path, "events.jsonl", [line, {"user": "u1", "target": "p2", "kind": "rate",
                                             "value": 1e12}])
    result = read_dataset(tmp_path, progress=False)
    reasons = {(r.file, r.line): r.reason for r in result.rejections}
    assert reasons == {("events.jsonl", 1): reason}
    assert [e.value for e in result.dataset.events] == [1e12]
    # a price out of range is dropped (the product kept: an optional field), with a note
    assert [p.price for p in result.dataset.products] == [None, 1e12]
    assert [(n.line, n.reason) for n in result.dropped] == [
        (1, '"price": number 1e+300 is outside 0..1e+12')]


def test_bad_relation_lines_are_quarantined_not_fatal(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _write(data, "products.jsonl", [{"id": "A", "title": "Tea"}, {"id": "B", "title": "Mug"}])
    _write(data, "users.jsonl", [{"id": "u1"}])
    _write(data, "relations.jsonl", [
        {"relation": "also_bought", "src": "product:A", "dst": "product:B", "weight": 2},
        {"relation": "also_bought", "src": "A", "dst": "product:B"},
        {"relation": "teleports_to", "src": "product:A", "dst": "product:B"},
        {"relation": "also_bought", "src": "product:A", "dst": "user:u1"},
        {"relation": "also_bought", "src": "product:A", "dst": "product:B", "weight": 1e39},
        {"relation": "also_bought", "src": "product:A", "dst": "product:B", "ts": "2199-01-01"},
        "not json", "[1, 2]", "",
        {"relation": "also_viewed", "src": "product:B", "dst": "product:Z", "ts": NOW},
        {"relation": "also_bought", "src": "product:B", "dst": "product:A", "weight": 0},
        {"relation": "also_bought", "src": "product:B", "dst": "product:A", "weight": -3.5},
    ])
    manifest = build_artifact(data, tmp_path / "art", progress=False)
    counts = manifest["inputs"]["relations.jsonl"]
    assert (counts["read"], counts["accepted"], counts["rejected"]) == (11, 2, 9)
    reasons = {r["line"]: r["reason"] for r in _rejected(tmp_path / "art")
               if r["file"] == "relations.jsonl"}
    assert reasons[2] == '"src": "A" is not a typed node id "<type>:<id>"'
    assert reasons[3].startswith("\"relation\": unknown relation 'teleports_to'")
    assert reasons[4] == "relation 'also_bought' joins product -> product, not product -> user"
    assert reasons[5].startswith('"weight": expected a number above 0, at most 1e+12')
    assert all(reasons[line].startswith('"weight": expected a number above 0') for line in (11, 12))
    assert "in the future" in reasons[6]
    assert reasons[7].startswith("malformed JSON") and reasons[8].startswith("expected a JSON")
    graph = load_artifact(tmp_path / "art").graph
    assert graph.neighbors("product:A", "also_bought")[0].weight == 2.0
    assert graph.has_edge("product:B", "also_viewed", "product:Z")
    assert not graph.has_edge("product:B", "also_bought", "product:A")


def test_a_record_file_symlinked_outside_is_refused_alike(tmp_path: Path) -> None:
    """Whether the outside target exists must not show: the same error either way."""
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    errors = []
    for target in (secret, tmp_path / "missing.txt"):
        data = tmp_path / f"data-{target.stem}"
        _write(data, "users.jsonl", [{"id": "u1"}])
        (data / "products.jsonl").symlink_to(target)
        with pytest.raises(ValueError) as caught:
            read_dataset(data, progress=False)
        errors.append(str(caught.value).replace(str(data), "DATA"))
    assert errors[0] == errors[1] == ("DATA/products.jsonl: a symlink leading outside the "
                                      "dataset folder; dataset files must be regular files "
                                      "inside it")
    inside = tmp_path / "data-inside"
    _write(inside / "v2", "products.jsonl", [{"id": "p1", "title": "Mug"}])
    (inside / "products.jsonl").symlink_to(inside / "v2" / "products.jsonl")
    assert read_dataset(inside, progress=False).counts["products.jsonl"].accepted == 1
    (inside / "users.jsonl").mkdir()
    with pytest.raises(ValueError, match=r"users\.jsonl: not a regular file"):
        read_dataset(inside, progress=False)


def test_one_readable_product_image_makes_the_vision_stage_step_aside(tmp_path: Path) -> None:
    from recommend.stages import EnrichConfig, enrichment_stages

    data = tmp_path / "data"
    (data / "img").mkdir(parents=True)
    Image.new("RGB", (40, 40), (200, 0, 0)).save(data / "img" / "red.png")
    (data / "img" / "bad.png").write_bytes(b"not a png")
    _write(data, "products.jsonl", [
        {"id": "p1", "title": "Red mug", "categories": ["Mugs"], "image": "img/red.png"},
        {"id": "p2", "title": "Bad mug", "categories": ["Mugs"], "image": "img/bad.png"},
        {"id": "p3", "title": "Gone mug", "categories": ["Mugs"], "image": "img/gone.png"}])
    manifest = build_artifact(data, tmp_path / "art", progress=False, stages=enrichment_stages(
        EnrichConfig(nlp=False, profiles=False, clip_epochs=1, clip_heldout_fraction=0.0),
        progress=False))
    vision = manifest["stages"]["vision"]
    assert vision["skipped"].startswith("too few readable product images (need at least 2")
    assert vision["images_rejected"] == 2  # stepping aside still checks every image
    assert sorted(r["file"] for r in _rejected(tmp_path / "art")) == ["img/bad.png", "img/gone.png"]


def test_a_five_user_dataset_builds_with_models(tmp_path: Path) -> None:
    """Five users (the meta-path scorer and the blend's cross-validation had no candidates or
    no users in a fold and failed with "truth value of an array is ambiguous")."""
    from kg.demo import DemoConfig, generate_demo_world
    from recommend.hybrid.config import ContentConfig, HybridConfig
    from recommend.model_stage import model_stage
    from recommend.stages import EnrichConfig, enrichment_stages

    world = tmp_path / "world"
    generate_demo_world(world, DemoConfig(seed=1, n_users=12, n_products=40, n_posts=30,
                                          n_events=300, images=False), progress=False)
    data = tmp_path / "data"
    users = [json.loads(x) for x in (world / "users.jsonl").open()][:5]
    ids = {u["id"] for u in users}
    rows = {name: [json.loads(x) for x in (world / name).open()]
            for name in ("products.jsonl", "posts.jsonl", "follows.jsonl", "events.jsonl")}
    posts = [p for p in rows["posts.jsonl"] if p["author"] in ids]
    post_ids = {p["id"] for p in posts}
    _write(data, "products.jsonl", rows["products.jsonl"])
    _write(data, "users.jsonl", users)
    _write(data, "posts.jsonl", posts)
    _write(data, "follows.jsonl", [f for f in rows["follows.jsonl"]
                                   if f["follower"] in ids and f["followee"] in ids])
    _write(data, "events.jsonl", [e for e in rows["events.jsonl"] if e["user"] in ids and (
        not e["target"].startswith("post:") or e["target"][5:] in post_ids)])
    stages = enrichment_stages(EnrichConfig(vision=False), progress=False)
    stages.append(("models", model_stage(
        HybridConfig(content=ContentConfig(encoder="lsa", lsa_dim=8)))))
    manifest = build_artifact(data, tmp_path / "art", progress=False, stages=stages)
    assert manifest["records"]["rejected"] == 0
    assert "cf" in manifest["stages"]["models"]["components"]


def test_records_made_in_code_are_held_to_the_same_ranges() -> None:
    """``Recommender.add`` takes record objects: the validator bounds their values too, and
    their timestamps when given a window."""
    from kg.records import Event, Product
    from kg.timewindow import TimeWindow
    from kg.validate import KnownIds, RecordError, Validator

    known = KnownIds(users={"u1"}, products={"p1"})
    with pytest.raises(RecordError, match=r'"value": number 3\.5e\+38 is outside -1e\+12'):
        Validator(known).check(Event("u1", "p1", "product", "rate", value=3.5e38))
    with pytest.raises(RecordError, match=r'"price": an infinite number is outside'):
        Validator(known).check(Product("p2", "Mug", price=float("inf")))
    assert Validator(known).check(Event("u1", "p1", "product", "view", ts=7e9)) is not None
    with pytest.raises(RecordError, match=r'"ts": number 7000000000\.0 \(2191-.*in the future'):
        Validator(known, window=TimeWindow.until(NOW)).check(
            Event("u1", "p1", "product", "view", ts=7e9))


def test_a_dataset_without_interactions_builds_with_models(tmp_path: Path) -> None:
    """No events at all: the validation split had no edges and failed on an index."""
    from recommend.hybrid.config import ContentConfig, HybridConfig
    from recommend.model_stage import model_stage

    _write(tmp_path / "data", "products.jsonl", [{"id": "p1", "title": "Mug"},
                                                 {"id": "p2", "title": "Cup"}])
    _write(tmp_path / "data", "users.jsonl", [{"id": "u1"}])
    manifest = build_artifact(tmp_path / "data", tmp_path / "art", progress=False, stages=[
        ("models", model_stage(HybridConfig(content=ContentConfig(encoder="lsa", lsa_dim=2))))])
    assert "popularity" in manifest["stages"]["models"]["components"]
