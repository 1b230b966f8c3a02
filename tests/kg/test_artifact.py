"""Artifacts: manifest counts and hashes, the quarantine, load equality, atomicity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.artifact import MANIFEST_FILE, REJECTED_FILE, build_artifact, file_sha256, load_artifact
from kg.build import build_graph
from kg.graph import KnowledgeGraph
from kg.jsonl import write_dataset
from kg.records import Dataset, Event, Product, User


def write_world(folder, n_users: int = 3) -> Dataset:
    dataset = Dataset(
        products=[Product("A", "Tea", brand="Leafy", categories=("Food", "Tea")),
                  Product("B", "Mug")],
        users=[User(str(i)) for i in range(n_users)],
        events=[Event(str(i), "A", "product", "purchase", ts=1.6e9 + i) for i in range(n_users)],
    )
    write_dataset(dataset, folder)
    return dataset


def test_build_writes_graph_manifest_and_quarantine(tmp_path):
    data = tmp_path / "data"
    dataset = write_world(data)
    with open(data / "events.jsonl", "a") as handle:
        handle.write('{"user": "0", "target": "product:A", "kind": "teleport"}\n')
        handle.write("not json\n")
    manifest = build_artifact(data, tmp_path / "art", progress=False)
    art = tmp_path / "art"
    assert manifest == json.loads((art / MANIFEST_FILE).read_text())
    events = manifest["inputs"]["events.jsonl"]
    assert (events["read"], events["accepted"], events["rejected"]) == (5, 3, 2)
    assert manifest["records"]["read"] == manifest["records"]["accepted"] + 2
    assert events["sha256"] == file_sha256(data / "events.jsonl")
    assert manifest["nodes"]["product"] == 2 and manifest["edges"]["purchased"] == 3
    assert {"shopgraph", "python", "numpy"} <= set(manifest["versions"])
    for name, digest in manifest["files"].items():
        assert file_sha256(art / name) == digest
    rejected = [json.loads(line) for line in (art / REJECTED_FILE).read_text().splitlines()]
    assert [(r["file"], r["line"]) for r in rejected] == [("events.jsonl", 4), ("events.jsonl", 5)]
    assert all(r["reason"] for r in rejected)
    assert load_artifact(art).graph == build_graph(dataset, progress=False)


def test_load_detects_a_tampered_file(tmp_path):
    write_world(tmp_path / "data")
    build_artifact(tmp_path / "data", tmp_path / "art", progress=False)
    with open(tmp_path / "art" / "graph_nodes.json", "a") as handle:
        handle.write(" ")
    with pytest.raises(ValueError, match="sha256"):
        load_artifact(tmp_path / "art")


def test_a_build_aborted_mid_write_leaves_the_previous_artifact(tmp_path, monkeypatch):
    write_world(tmp_path / "v1", n_users=2)
    build_artifact(tmp_path / "v1", tmp_path / "art", progress=False)
    before = load_artifact(tmp_path / "art").graph
    write_world(tmp_path / "v2", n_users=5)
    real_save = KnowledgeGraph.save

    def save_then_crash(self, folder):
        real_save(self, folder)
        raise KeyboardInterrupt("killed mid-build")

    monkeypatch.setattr(KnowledgeGraph, "save", save_then_crash)
    with pytest.raises(KeyboardInterrupt):
        build_artifact(tmp_path / "v2", tmp_path / "art", progress=False)
    assert load_artifact(tmp_path / "art").graph == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".art.lock", "art", "v1", "v2"]  # no tmp
    monkeypatch.undo()
    build_artifact(tmp_path / "v2", tmp_path / "art", progress=False)
    assert load_artifact(tmp_path / "art").graph.num_nodes("user") == 5


def test_stages_enrich_the_graph_and_land_atomically(tmp_path: Path) -> None:
    from kg.artifact import StageResult
    from kg.demo import DemoConfig, generate_demo_world
    from kg.reader import Rejection

    dataset = tmp_path / "dataset"
    generate_demo_world(dataset, DemoConfig(n_users=20, n_products=30, n_posts=20, images=False),
                        progress=False)

    def tag_stage(graph, result, root, tmp):  # type: ignore[no-untyped-def]
        product = graph.nodes("product")[0]
        graph.add_edges("about", [product], ["concept:stage-made"], weight=[0.5])
        (tmp / "stage.txt").write_text("written by the stage")
        bad = Rejection(file="images/missing.png", line=0, reason="missing file", raw="")
        return StageResult(manifest={"tagged": 1}, rejections=[bad], written=[tmp / "stage.txt"])

    manifest = build_artifact(dataset, tmp_path / "art", progress=False,
                              stages=[("tagging", tag_stage)])
    assert manifest["stages"] == {"tagging": {"tagged": 1}}
    assert manifest["quarantined"] == 1
    artifact = load_artifact(tmp_path / "art")  # verifies every file's sha256, stage's included
    assert artifact.graph.has_node("concept:stage-made")
    assert "missing file" in (artifact.folder / "rejected.jsonl").read_text()

    def failing_stage(graph, result, root, tmp):  # type: ignore[no-untyped-def]
        raise RuntimeError("stage crashed")

    with pytest.raises(RuntimeError, match="stage crashed"):
        build_artifact(dataset, tmp_path / "art", progress=False,
                       stages=[("broken", failing_stage)])
    assert load_artifact(tmp_path / "art").manifest["stages"] == {"tagging": {"tagged": 1}}
