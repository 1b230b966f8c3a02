"""bench/sparql_store.py: each section runs alone, and a section not run keeps its figures
and the run they come from."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bench import sparql_store as bench
from kg.demo import DemoConfig, generate_demo_world


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("bench-world") / "world"
    generate_demo_world(folder, DemoConfig(n_users=40, n_products=30, n_posts=20,
                                           n_events=400, images=False), progress=False)
    return folder


def _run(monkeypatch, *argv: str) -> None:
    monkeypatch.setattr(sys, "argv", ["sparql_store.py", *argv])
    assert bench.main() == 0


def test_sections_run_alone_and_keep_the_others(world, tmp_path, monkeypatch):
    out, kept = tmp_path / "results.json", tmp_path / "kept"
    common = ["--out", str(out), "--bindings", "2", "--skip-rdflib"]
    _run(monkeypatch, "--world", str(world), "--keep-store", str(kept), *common)
    first = json.loads(out.read_text())
    assert {"graph", "load", "queries"} <= set(first) and "rdflib" not in first
    assert first["load"]["triples"] > 0 and first["load"]["write_store"]["cpu_seconds"] >= 0
    query = first["queries"]["followed_brands"]
    assert query["store_sparql_guarded_lean_process"]["n"] == 2
    assert query["store_sparql_guarded_lean_process_check_each_call"]["n"] == 2
    assert "--keep-store" in first["queries"]["run"]["command"]

    _run(monkeypatch, "--only", "queries", "--store", str(kept), *common)
    second = json.loads(out.read_text())
    assert second["load"] == first["load"] and second["graph"] == first["graph"]
    assert second["queries"]["run"]["command"].split()[2:4] == ["--only", "queries"]
    assert second["queries"]["store"] == str(kept)

    _run(monkeypatch, "--world", str(world), "--only", "load", "--slice", "500", *common)
    third = json.loads(out.read_text())
    assert third["queries"] == second["queries"]
    assert third["load"]["first_lines_only"] == 500 and 500 <= third["load"]["lines"] < 510


@pytest.mark.parametrize("argv", [
    ["--slice", "10"],                                  # a cut store answers no query
    ["--only", "load", "--store", "x"],                 # --store goes with --only queries
    ["--only", "load", "--slice", "10", "--keep-store", "y"],
])
def test_contradictory_flags_are_refused(monkeypatch, argv, capsys):
    monkeypatch.setattr(sys, "argv", ["sparql_store.py", *argv])
    with pytest.raises(SystemExit) as caught:
        bench.main()
    assert caught.value.code == 2 and "error:" in capsys.readouterr().err
