"""`shopgraph build`, `summary` and `query` from the command line; a killed build."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kg.artifact import load_artifact
from kg.jsonl import write_dataset, write_jsonl
from kg.records import Dataset, Event, Product, User
from scripts.cli import main

REPO = Path(__file__).resolve().parents[2]


def small_dataset(folder: Path) -> None:
    write_dataset(Dataset(
        products=[Product("A", "Green tea", brand="Leafy"), Product("B", "Mug")],
        users=[User("1"), User("2")],
        events=[Event("1", "A", "product", "purchase", ts=1.6e9),
                Event("2", "B", "product", "rate", value=5.0)],
    ), folder)


def test_build_summary_and_query(tmp_path, capsys):
    small_dataset(tmp_path / "data")
    with open(tmp_path / "data" / "users.jsonl", "a") as handle:
        handle.write('{"name": "no id"}\n')
    art = tmp_path / "art"
    assert main(["build", str(tmp_path / "data"), "--out", str(art), "--no-progress",
                 "--graph-only"]) == 0
    out = capsys.readouterr().out
    assert "7 read, 6 accepted, 1 rejected" in out and "purchased" in out
    assert main(["summary", str(art)]) == 0
    out = capsys.readouterr().out
    assert "users.jsonl" in out and "made_by" in out
    query = "SELECT ?t WHERE { ?u rel:purchased ?p . ?p attr:title ?t }"
    assert main(["query", str(art), query, "--bind", "u=user:1", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "Green tea" in out and "(1 rows)" in out
    weights = "SELECT ?w WHERE { ?e sg:source ?u ; sg:weight ?w }"
    assert main(["query", str(art), weights, "--bind", "u=user:2", "--weights",
                 "--no-progress"]) == 0
    assert "6.0" in capsys.readouterr().out  # a 5-star rating: 1 + 5
    assert main(["query", str(art), query, "--bind", "oops", "--no-progress"]) == 2
    assert "NAME=VALUE" in capsys.readouterr().err


def big_dataset(folder: Path, n_events: int) -> None:
    folder.mkdir()
    write_jsonl(folder / "products.jsonl", ({"id": f"p{i}", "title": f"item {i}"}
                                            for i in range(500)))
    write_jsonl(folder / "users.jsonl", ({"id": f"u{i}"} for i in range(1000)))
    write_jsonl(folder / "events.jsonl", (
        {"user": f"u{i % 1000}", "target": f"product:p{i % 499}", "kind": "view", "ts": i}
        for i in range(n_events)))


def test_a_killed_build_leaves_the_previous_artifact_loadable(tmp_path):
    small_dataset(tmp_path / "old")
    art = tmp_path / "art"
    assert main(["build", str(tmp_path / "old"), "--out", str(art), "--no-progress",
                 "--graph-only"]) == 0
    before = load_artifact(art).graph
    big_dataset(tmp_path / "new", 60_000)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "scripts.cli", "build", str(tmp_path / "new"), "--out", str(art),
         "--no-progress", "--graph-only"], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if any(p.name.startswith(".art.") and p.name.endswith(".tmp")  # writing has begun
               for p in tmp_path.iterdir()):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.001)
    assert proc.wait(timeout=60) == -signal.SIGKILL, "the build finished before it was killed"
    assert load_artifact(art).graph == before
    leftover = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftover, "the killed build left its temporary folder"
    assert main(["build", str(tmp_path / "old"), "--out", str(art), "--no-progress",
                 "--graph-only"]) == 0
    assert not any(p.exists() for p in leftover)  # the next build into art removed it


def test_a_bad_sentiment_head_fails_before_building(tmp_path, capsys):
    small_dataset(tmp_path / "data")
    art = tmp_path / "art"
    not_npz = tmp_path / "head.npz"
    not_npz.write_text("not a head\n")
    cases = [([str(tmp_path / "missing.npz")], "missing.npz: sentiment model not found"),
             ([str(not_npz)], f"{not_npz}: not a sentiment model written by"),
             ([str(not_npz), "--no-nlp"], "--sentiment-head needs the nlp stage"),
             ([str(not_npz), "--graph-only"], "--sentiment-head needs the nlp stage")]
    for extra, message in cases:
        assert main(["build", str(tmp_path / "data"), "--out", str(art), "--no-progress",
                     "--sentiment-head", *extra]) == 2
        assert message in capsys.readouterr().err
    assert not art.exists()
