"""Recommender.save writes everything the artifact had: files of stages the models do not
rewrite (a vision stage's clip/ folder and image embeddings) are carried over."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kg.artifact import StageResult, build_artifact
from kg.demo import DemoConfig, generate_demo_world
from kg.records import Event
from recommend import Recommender
from recommend.hybrid.config import ContentConfig, HybridConfig
from recommend.model_stage import model_stage

CARRIED = ("clip/config.json", "clip/weights.bin", "image_embeddings.npz")


def vision_like_stage(graph, result, root: Path, tmp: Path) -> StageResult:
    """Writes what the vision stage writes beside the graph (a model folder, embeddings)."""
    (tmp / "clip").mkdir()
    (tmp / "clip" / "config.json").write_text('{"dim": 4}')
    (tmp / "clip" / "weights.bin").write_bytes(bytes(range(256)) * 8)
    np.savez(tmp / "image_embeddings.npz", ids=np.array(["image:a"]), vectors=np.ones((1, 4)))
    return StageResult(manifest={"clip": "<artifact>/clip", "images_embedded": 1},
                       written=[tmp / name for name in CARRIED])


@pytest.fixture(scope="module")
def artifact(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("vision-art")
    generate_demo_world(root / "data", DemoConfig(n_users=60, n_products=40, n_posts=100,
                                                  images=False))
    build_artifact(root / "data", root / "art", progress=False, rdf_store=True,
                   stages=[("vision", vision_like_stage),
                           ("models", model_stage(
                               HybridConfig(content=ContentConfig(encoder="lsa"))))])
    return root / "art"


def recommendations(rec: Recommender) -> list[list[dict]]:
    return [[r.to_json() for r in rec.recommend(u, k=5)] for u in rec.graph.nodes("user")[:15]]


def test_save_carries_the_stage_files_and_the_manifest_stays_true(artifact, tmp_path) -> None:
    rec = Recommender.load(artifact, verify=True)
    users = rec.graph.nodes("user")
    products = rec.graph.nodes("product")
    rec.add([Event(users[k].partition(":")[2], products[k].partition(":")[2], "product",
                   "purchase", ts=2e9) for k in range(6)])
    rec.add([Event("ghost", "nothing", "product", "view")])
    before = recommendations(rec)
    rec.save(tmp_path / "saved")
    saved = json.loads((tmp_path / "saved" / "manifest.json").read_text())
    for name in CARRIED:
        assert (tmp_path / "saved" / name).read_bytes() == (artifact / name).read_bytes()
        assert name in saved["files"]
    assert "vision" in saved["stages"]
    again = Recommender.load(tmp_path / "saved", verify=True)
    assert recommendations(again) == before
    # saving the loaded copy again keeps everything, and counts the quarantine once
    quarantined = saved["quarantined"]
    again.save(tmp_path / "twice")
    twice = json.loads((tmp_path / "twice" / "manifest.json").read_text())
    assert set(twice["files"]) == set(saved["files"]) and twice["quarantined"] == quarantined
    lines = (tmp_path / "twice" / "rejected.jsonl").read_text().splitlines()
    assert len(lines) == quarantined and json.loads(lines[-1])["file"] == "add():events.jsonl"


def test_a_stage_file_changed_since_loading_stops_the_save(artifact, tmp_path) -> None:
    import shutil

    copy = tmp_path / "art"
    shutil.copytree(artifact, copy)
    rec = Recommender.load(copy)
    (copy / "clip" / "weights.bin").write_bytes(b"another model")
    with pytest.raises(ValueError, match=r"clip/weights.bin: sha256 differs"):
        rec.save(tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_save_without_the_sparql_store_loads_and_answers_the_same(artifact, tmp_path) -> None:
    rec = Recommender.load(artifact)
    assert "rdf_store" in rec.manifest
    rec.add([Event(rec.graph.raw_ids("user")[0], rec.graph.raw_ids("product")[3], "product",
                   "purchase", ts=1.6e9)])
    before = recommendations(rec)
    rec.save(tmp_path / "snap", rdf_store=False)
    assert not (tmp_path / "snap" / "rdf_store").exists()
    again = Recommender.load(tmp_path / "snap")
    assert "rdf_store" not in again.manifest
    assert not any(name.startswith("rdf_store/") for name in again.manifest["files"])
    assert recommendations(again) == before
    again.save(tmp_path / "resaved")  # an artifact without a store saves without one
    assert not (tmp_path / "resaved" / "rdf_store").exists()
