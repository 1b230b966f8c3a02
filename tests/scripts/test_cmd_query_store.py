"""`shopgraph query` and `shopgraph rdf` over the artifact's SPARQL store (written by
``--rdf-store``, else made beside the artifact on first use); a saved Recommender's store
follows its graph."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kg.artifact import load_artifact, open_artifact
from kg.rdf import import_rdf
from kg.rdf_cache import cache_dir
from kg.rdf_store import STORE_DIR, store_folder
from kg.records import Event
from kg.sparql_store import store_sparql
from scripts.cli import main
from tests.scripts.test_cmd_build import small_dataset

QUERY = "SELECT ?t WHERE { ?u rel:purchased ?p . ?p attr:title ?t }"


@pytest.fixture
def built(tmp_path) -> Path:
    small_dataset(tmp_path / "data")
    art = tmp_path / "art"
    assert main(["build", str(tmp_path / "data"), "--out", str(art), "--no-progress",
                 "--graph-only", "--rdf-store"]) == 0
    return art


def test_query_answers_from_the_store(built, capsys):
    capsys.readouterr()
    manifest = load_artifact(built).manifest
    assert manifest["rdf_store"]["triples"] > 0
    assert any(name.startswith(f"{STORE_DIR}/") for name in manifest["files"])
    assert main(["query", str(built), QUERY, "--bind", "u=user:1", "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert "Green tea" in out and "(1 rows)" in out and "converting" not in err
    weights = "SELECT ?w WHERE { ?e sg:source ?u ; sg:weight ?w }"
    assert main(["query", str(built), weights, "--bind", "u=user:2", "--no-progress"]) == 0
    assert "6.0" in capsys.readouterr().out  # the store holds the edge resources (1 + 5 stars)


def test_by_default_the_first_query_makes_the_store_beside_the_artifact(tmp_path, capsys):
    small_dataset(tmp_path / "data")
    art = tmp_path / "art"
    assert main(["build", str(tmp_path / "data"), "--out", str(art), "--no-progress",
                 "--graph-only"]) == 0
    assert not (art / STORE_DIR).exists()
    assert "rdf_store" not in load_artifact(art).manifest
    capsys.readouterr()
    assert main(["query", str(art), QUERY, "--bind", "u=user:1", "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert "Green tea" in out and "converting" not in err
    store = cache_dir(art) / STORE_DIR
    made = {p.name: p.stat().st_mtime_ns for p in store.iterdir()}
    weights = "SELECT ?w WHERE { ?e sg:source ?u ; sg:weight ?w }"
    assert main(["query", str(art), weights, "--bind", "u=user:2", "--no-progress"]) == 0
    assert "6.0" in capsys.readouterr().out  # the edge resources, as in the build's store
    assert {p.name: p.stat().st_mtime_ns for p in store.iterdir()} == made  # made once
    out_nt = tmp_path / "g.nt"
    assert main(["rdf", str(art), "--out", str(out_nt)]) == 0
    assert import_rdf(out_nt) == load_artifact(art).graph


def test_the_command_parses_its_query_once(built, monkeypatch, capsys):
    import kg.sparql_check
    import kg.sparql_store

    parsed = []
    check = kg.sparql_check.check_query
    for module in (kg.sparql_check, kg.sparql_store):  # wherever it is looked up from
        monkeypatch.setattr(module, "check_query",
                            lambda text, *rest: parsed.append(text) or check(text, *rest))
    kg.sparql_store._checked.cache_clear()
    assert main(["query", str(built), QUERY, "--bind", "u=user:1", "--no-progress"]) == 0
    assert "Green tea" in capsys.readouterr().out and parsed == [QUERY]
    insert = "INSERT DATA { <urn:a> <urn:b> <urn:c> }"
    assert main(["query", str(built), insert, "--no-progress"]) == 2
    assert "read-only" in capsys.readouterr().err and parsed == [QUERY, insert]
    kg.sparql_store._checked.cache_clear()


def test_a_tampered_store_stops_the_query(built, capsys):
    current = built / STORE_DIR / "CURRENT"
    current.write_bytes(current.read_bytes() + b"x")
    capsys.readouterr()
    assert main(["query", str(built), QUERY, "--bind", "u=user:1", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "CURRENT: sha256 differs" in err[0]


def test_rdf_export_reads_back_as_the_graph(built, tmp_path, capsys):
    out = tmp_path / "graph.nt"
    assert main(["rdf", str(built), "--out", str(out)]) == 0
    assert "triples to" in capsys.readouterr().out
    assert import_rdf(out) == load_artifact(built).graph
    assert main(["rdf", str(built), "--out", str(out)]) == 2  # never overwritten
    assert "exists" in capsys.readouterr().err


def test_a_saved_recommender_store_follows_its_graph(small_demo_artifact, tmp_path):
    from recommend import Recommender

    source = tmp_path / "source"
    shutil.copytree(small_demo_artifact, source)
    rec = Recommender.load(source)
    user = rec.graph.nodes("user")[0]
    product = next(p for p in rec.graph.nodes("product")
                   if p not in {e.dst for e in rec.graph.neighbors(user, "purchased")})
    ask = "ASK { ?u rel:purchased ?p }"
    bound = {"u": user, "p": product}
    assert store_sparql(store_folder(open_artifact(source)[1]), ask, bound).rows == [(False,)]
    result = rec.add([Event(user.partition(":")[2], product.partition(":")[2], "product",
                            "purchase", ts=1.7e9)])
    assert result.accepted == 1
    rec.save(tmp_path / "saved")
    manifest, files = open_artifact(tmp_path / "saved")
    assert store_sparql(store_folder(files), ask, bound).rows == [(True,)]
    assert manifest["rdf_store"]["triples"] > 0
