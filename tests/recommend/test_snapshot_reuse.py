"""A save links the content index it loaded or saved when it is unchanged (events never
change it: recommend/stored_files.py), and the saved artifact still verifies and answers
the same; a changed index or a changed file is written afresh."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from kg.artifact_files import ArtifactError, file_sha256
from kg.records import Event, Product
from recommend import Recommender

CONTENT = ("content.faiss", "content_index.json")
NOW = time.time() - 3600.0


@pytest.fixture
def art(small_demo_artifact: Path, tmp_path: Path) -> Path:
    shutil.copytree(small_demo_artifact, tmp_path / "art")
    return tmp_path / "art"


def add_event(rec: Recommender, k: int) -> None:
    users, products = rec.graph.raw_ids("user"), rec.graph.raw_ids("product")
    assert rec.add([Event(users[3 * k], products[5 * k + 1], "product", "purchase",
                          ts=NOW + k)]).accepted == 1


def answers(rec: Recommender) -> list[list[dict]]:
    return [[r.to_json() for r in rec.recommend(u, k=5)] for u in rec.graph.nodes("user")[:12]]


def inodes(folder: Path) -> list[int]:
    return [(folder / name).stat().st_ino for name in CONTENT]


def assert_manifest_true(folder: Path) -> None:
    files = json.loads((folder / "manifest.json").read_text())["files"]
    for name in CONTENT:
        assert files[name] == file_sha256(folder / name)


def test_snapshots_link_the_unchanged_index_verify_and_answer_the_same(art, tmp_path) -> None:
    rec = Recommender.load(art)
    add_event(rec, 0)
    rec.save(tmp_path / "snap", rdf_store=False)
    assert inodes(tmp_path / "snap") == inodes(art)
    first = inodes(art)
    shutil.rmtree(art)  # the next snapshot links from the last one
    add_event(rec, 1)
    rec.save(tmp_path / "snap", rdf_store=False)
    assert inodes(tmp_path / "snap") == first
    assert_manifest_true(tmp_path / "snap")
    loaded = Recommender.load(tmp_path / "snap")  # every sha256 checked
    assert answers(loaded) == answers(rec)


def test_a_new_product_writes_the_index_afresh_and_the_next_save_links_it(art, tmp_path) -> None:
    rec = Recommender.load(art)
    rec.add([Product("p-new", "Striped Linen Shirt", description="a light summer shirt")])
    rec.save(tmp_path / "snap", rdf_store=False)
    written = inodes(tmp_path / "snap")
    assert not set(written) & set(inodes(art))
    assert_manifest_true(tmp_path / "snap")
    add_event(rec, 2)
    rec.save(tmp_path / "snap", rdf_store=False)
    assert inodes(tmp_path / "snap") == written
    assert answers(Recommender.load(tmp_path / "snap")) == answers(rec)


def test_an_index_file_touched_since_loading_is_written_afresh(art, tmp_path) -> None:
    rec = Recommender.load(art)
    st = (art / CONTENT[0]).stat()
    os.utime(art / CONTENT[0], ns=(st.st_atime_ns, st.st_mtime_ns + 1000))
    rec.save(tmp_path / "snap", rdf_store=False)
    assert not set(inodes(tmp_path / "snap")) & set(inodes(art))
    assert_manifest_true(tmp_path / "snap")
    Recommender.load(tmp_path / "snap")


def test_a_file_rewritten_behind_its_stamp_is_still_refused_at_load(art, tmp_path) -> None:
    rec = Recommender.load(art)
    path = art / CONTENT[1]
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[-3] = ord("0") if data[-3] != ord("0") else ord("1")  # same size, other bytes
    with open(path, "r+b") as handle:
        handle.write(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # the stamp as recorded
    rec.save(tmp_path / "snap", rdf_store=False)
    with pytest.raises(ArtifactError, match=r"content_index\.json"):
        Recommender.load(tmp_path / "snap")
