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
    assert len(linked) == nlp["mentions"]
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
