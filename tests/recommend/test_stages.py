"""The enrichment stages on a small demo world: what each adds lands in the artifact."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from kg.artifact import build_artifact, load_artifact
from kg.demo import DemoConfig, generate_demo_world
from kg.schema import CLUSTER_SEGMENT_PREFIX
from recommend.stages import EnrichConfig, enrichment_stages


@pytest.fixture(scope="module")
def enriched(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    root = tmp_path_factory.mktemp("stages")
    dataset = root / "dataset"
    generate_demo_world(dataset, DemoConfig(n_users=60, n_products=60, n_posts=200),
                        progress=False)
    (dataset / "images" / "products" / "broken.png").write_bytes(b"not an image at all")
    products = (dataset / "products.jsonl").read_text().splitlines()
    broken = json.loads(products[0])
    broken["image"] = "images/products/broken.png"
    (dataset / "products.jsonl").write_text("\n".join([json.dumps(broken), *products[1:]]) + "\n")
    config = EnrichConfig(clip_epochs=2)
    manifest = build_artifact(dataset, root / "artifact", progress=False,
                              stages=enrichment_stages(config, progress=False))
    return manifest, root / "artifact"


def test_nlp_stage_links_mentions_and_counts_merged_posts(enriched: tuple[dict, Path]) -> None:
    manifest, folder = enriched
    nlp = manifest["stages"]["nlp"]
    assert nlp["posts"]["read"] == nlp["posts"]["kept"] + nlp["posts"]["merged"]
    assert nlp["mentions"] > 0 and nlp["about_edges"] > 0
    graph = load_artifact(folder).graph
    # explicit product tags have no span (NaN); linked text mentions carry span and sentiment
    linked = [e for e in graph.edges("mentions") if math.isfinite(e.columns.get("start", math.nan))]
    comments = nlp["comments"]
    assert comments["read"] == comments["kept"] + comments["merged"] > 0
    assert len(linked) == nlp["mentions"] + comments["mentions"]
    assert comments["linked"] == sum(1 for p in graph.nodes("post")
                                     if graph.node_attrs(p).get("kind") == "comment")
    for edge in linked[:50]:
        attrs = graph.node_attrs(edge.src)
        text = attrs.get("clean_text", attrs["text"])
        assert text[int(edge.columns["start"]):int(edge.columns["end"])].strip()
        assert -1.0 <= edge.columns["sentiment"] <= 1.0


def test_vision_stage_tags_images_and_quarantines_the_broken_one(
    enriched: tuple[dict, Path],
) -> None:
    manifest, folder = enriched
    vision = manifest["stages"]["vision"]
    assert vision["trained_here"] and "CLIP" in vision["clip"]
    accuracy, baseline = vision["heldout_accuracy"], vision["heldout_majority_baseline"]
    assert vision["groups_left_out"] == sorted(g for g in accuracy if accuracy[g] <= baseline[g])
    tagging_groups = set(accuracy) - set(vision["groups_left_out"])
    assert (vision["depicts_edges"] > 0) == bool(tagging_groups)
    assert vision["images_rejected"] == 1
    rejected = [json.loads(line) for line in (folder / "rejected.jsonl").read_text().splitlines()]
    assert [r["file"] for r in rejected] == ["images/products/broken.png"]
    assert load_artifact(folder).graph.num_edges("depicts") == vision["depicts_edges"]


def test_profile_stage_adds_segments_and_interests(enriched: tuple[dict, Path]) -> None:
    manifest, folder = enriched
    profiles = manifest["stages"]["profiles"]
    assert profiles["segments"] >= 2
    graph = load_artifact(folder).graph
    clusters = [e.dst for u in graph.nodes("user") for e in graph.neighbors(u, "member_of")
                if e.dst.startswith(CLUSTER_SEGMENT_PREFIX)]
    assert len(clusters) == graph.num_nodes("user")  # one cluster each, beside demographics
    assert graph.num_edges("interested_in") > 0


def test_a_tag_group_no_better_than_its_majority_label_adds_no_edges() -> None:
    from recommend.stages.vision_stage import _groups_no_better_than_majority
    from vision.catalogue import tag_group

    weak = _groups_no_better_than_majority({"category": 0.03, "colour": 0.98},
                                           {"category": 0.05, "colour": 0.15})
    assert weak == {"category"}
    assert tag_group("category:fashion/shoes") == "category"
    assert tag_group("concept:red") == "colour"


def test_comments_that_mention_something_become_linked_posts_of_their_commenter(
    tmp_path: Path,
) -> None:
    from kg.jsonl import write_dataset
    from kg.records import Dataset, Event, Post, Product, User
    from recommend.paths.sentences import render_path
    from recommend.stages import nlp_stage

    said = [("2", "p1", "post", "Love my  Trail Mug &amp; more", 1.6e9 + 10),
            ("2", "p1", "post", "love my trail mug & more", 1.6e9 + 11),  # the same, merged
            ("3", "A", "product", "so jealous", 1.6e9 + 12),  # mentions nothing: no node
            ("3", "B", "product", "does Camp Co make a kettle?", 1.6e9 + 13)]
    write_dataset(Dataset(
        products=[Product("A", "Trail Mug", brand="Camp Co"), Product("B", "Camp Kettle")],
        users=[User("1"), User("2"), User("3")],
        posts=[Post("p1", "1", "new mug day")],
        events=[Event("1", "A", "product", "comment", ts=1.6e9),  # no text
                *(Event(u, t, k, "comment", ts=ts, text=x) for u, t, k, x, ts in said)],
    ), tmp_path / "data")
    manifests = [build_artifact(tmp_path / "data", tmp_path / name, progress=False,
                                stages=[("nlp", nlp_stage())])["stages"]["nlp"]
                 for name in ("a", "b")]
    assert manifests[0]["comments"] == {"read": 4, "kept": 3, "merged": 1, "exact": 1,
                                        "near_duplicate": 0, "spam": 0, "linked": 2,
                                        "mentions": 2}
    graph = load_artifact(tmp_path / "a").graph
    assert graph.nodes("post") == load_artifact(tmp_path / "b").graph.nodes("post")  # stable
    comments = [p for p in graph.nodes("post") if graph.node_attrs(p).get("kind") == "comment"]
    assert len(comments) == 2 and all(c.startswith("post:comment-") for c in comments)
    spans = {}
    for comment in comments:
        attrs = graph.node_attrs(comment)
        (author,) = graph.neighbors(comment, "authored", direction="in")
        (on,) = graph.neighbors(comment, "comments_on")
        (mention,) = graph.neighbors(comment, "mentions")
        start, end = int(mention.columns["start"]), int(mention.columns["end"])
        spans[attrs["text"]] = (author.src, on.dst, mention.dst, attrs["text"][start:end])
    assert spans == {
        "Love my Trail Mug & more": ("user:2", "post:p1", "product:A", "Trail Mug"),
        "does Camp Co make a kettle?": ("user:3", "product:B", "brand:camp-co", "Camp Co"),
    }
    mug = next(c for c in comments if spans[graph.node_attrs(c)["text"]][2] == "product:A")
    text = render_path(graph, ("user:2", mug, "post:p1"),
                       (("user:2", "authored", mug), (mug, "comments_on", "post:p1")))
    assert text.startswith("You wrote a comment") and " is a comment on " in text
