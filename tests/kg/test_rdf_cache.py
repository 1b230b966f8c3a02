"""The SPARQL store made beside an artifact built without one: made once, the build's very
triples, remade when the artifact changes or the cache fails its checks, never replacing
what shopgraph did not write."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.artifact import build_artifact, open_artifact
from kg.artifact_files import file_sha256
from kg.ownership import RefusedFolderError
from kg.rdf_cache import artifact_store, cache_dir, cached_store
from kg.rdf_store import STORE_DIR
from kg.sparql_store import store_sparql
from tests.scripts.test_cmd_build import small_dataset

ALL = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


@pytest.fixture
def plain(tmp_path) -> Path:
    small_dataset(tmp_path / "data")
    build_artifact(tmp_path / "data", tmp_path / "art", progress=False)
    return tmp_path / "art"


def _count(folder: Path) -> int:
    return store_sparql(folder, ALL).rows[0][0]


def test_the_cache_holds_the_triples_the_build_would_have_written(plain, tmp_path):
    assert not (plain / STORE_DIR).exists()
    build_artifact(tmp_path / "data", tmp_path / "with", progress=False, rdf_store=True)
    inside = artifact_store(open_artifact(tmp_path / "with")[1])
    assert inside == tmp_path / "with" / STORE_DIR
    cached = artifact_store(open_artifact(plain)[1])
    assert cached == cache_dir(plain) / STORE_DIR
    assert _count(cached) == _count(inside) > 0


def test_the_cache_is_reused_then_remade_for_a_rebuilt_artifact(plain, tmp_path):
    first = cached_store(open_artifact(plain)[1])
    stamp = {p.name: p.stat().st_mtime_ns for p in first.iterdir()}
    assert cached_store(open_artifact(plain)[1]) == first
    assert {p.name: p.stat().st_mtime_ns for p in first.iterdir()} == stamp
    with open(tmp_path / "data" / "events.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"user": "2", "target": "product:A", "kind": "purchase", "ts": 1.7e9}\n')
    build_artifact(tmp_path / "data", plain, progress=False)
    again = cached_store(open_artifact(plain)[1])
    query = "SELECT ?u WHERE { ?u rel:purchased ?p }"
    bought = store_sparql(again, query, {"p": "product:A"}).rows
    assert {row[0] for row in bought} == {"user:1", "user:2"}


def test_a_tampered_cache_is_remade_not_used(plain):
    store = cached_store(open_artifact(plain)[1])
    current = store / "CURRENT"
    good = file_sha256(current)
    current.write_bytes(current.read_bytes() + b"x")
    assert cached_store(open_artifact(plain)[1]) == store
    assert file_sha256(current) == good


def test_a_planted_file_in_the_cache_is_never_replaced(plain):
    store = cached_store(open_artifact(plain)[1])
    (store / "000999.sst").write_bytes(b"planted")
    with pytest.raises(RefusedFolderError):
        cached_store(open_artifact(plain)[1])
    assert (store / "000999.sst").read_bytes() == b"planted"


def test_a_foreign_folder_in_the_cache_place_is_refused(plain):
    foreign = cache_dir(plain)
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(RefusedFolderError):
        cached_store(open_artifact(plain)[1])
    assert (foreign / "notes.txt").read_text() == "mine"
