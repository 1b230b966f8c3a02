"""The command line behaves: exit codes, no traceback unless --debug, a closed pipe, --version,
messages on stderr, progress bars only on a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kg.version import shopgraph_version
from scripts import console
from scripts.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_version_and_usage_errors(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"shopgraph {shopgraph_version()}"
    for argv in ([], ["no-such-command"], ["recommend"], ["recommend", "art", "--user", "1",
                                                          "-k", "many"]):
        with pytest.raises(SystemExit) as done:
            main(argv)
        assert done.value.code == 2
        assert "usage:" in capsys.readouterr().err


def test_errors_are_one_line_unless_debug(tmp_path: Path, capsys) -> None:
    art = tmp_path / "art"
    art.mkdir()
    (art / "manifest.json").write_text("{not json")
    assert main(["summary", str(art)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("shopgraph summary: error: ") and len(err.splitlines()) == 1
    assert main(["--debug", "summary", str(art)]) == 2
    assert "Traceback" in capsys.readouterr().err
    assert main(["summary", str(art), "--debug"]) == 2  # after the command as well
    assert "Traceback" in capsys.readouterr().err


def test_an_unexpected_failure_exits_1_without_a_traceback(monkeypatch, capsys) -> None:
    import scripts.cmd_summary

    def fail(_args: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(scripts.cmd_summary, "run_summary", fail)
    assert main(["summary", "art"]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err


def test_a_closed_pipe_ends_quietly(small_demo_artifact: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "scripts.cli", "recommend", str(small_demo_artifact), "--user",
         "u0001", "-k", "20"], env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `| head -0`: the reader is gone before anything is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert err == ""


def test_progress_only_on_a_terminal_and_no_progress_switches_libraries(
        monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert console.progress_wanted(False) and not console.progress_wanted(True)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert not console.progress_wanted(False)
    from huggingface_hub.utils import are_progress_bars_disabled

    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    argv = ["import", "demo", "--out", str(tmp_path / "w"), "--users", "20", "--products", "30",
            "--posts", "10", "--no-images"]
    assert main(argv) == 0  # stderr is no terminal here: no bars
    captured = capsys.readouterr()
    assert captured.err == "" and "demo world" in captured.out
    assert are_progress_bars_disabled() and os.environ["TQDM_DISABLE"] == "1"
    console.set_progress(True)
    assert not are_progress_bars_disabled()
    console.set_progress(False)


def test_an_unknown_item_whose_line_was_rejected_says_why(tmp_path: Path, monkeypatch,
                                                          capsys) -> None:
    """probe27: 'explain --item p0' said only "no product 'product:p0' in the graph" while
    products.jsonl held p0 (rejected for its price)."""
    import json
    from types import SimpleNamespace

    from recommend.recommender import Recommender

    def similar(item: str, **_: object) -> None:
        raise KeyError(f"unknown item {item!r}: no product 'product:p0' in the graph")

    monkeypatch.setattr(Recommender, "load", lambda _path: SimpleNamespace(similar=similar))
    rows = [{"file": "events.jsonl", "line": 1, "reason": "x", "raw": '{"id": "p0"}'},
            {"file": "products.jsonl", "line": 2, "reason": "cut", "raw": '{"id": "p0", "ti'},
            {"file": "products.jsonl", "line": 3, "reason": "bad", "raw": '{"id": null}'},
            {"file": "products.jsonl", "line": 4, "reason": '"price": no', "raw": '{"id": "p0"}'}]
    (tmp_path / "rejected.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    for item in ("p0", "product:p0"):
        assert main(["similar", str(tmp_path), "--item", item]) == 2
        assert capsys.readouterr().err.endswith(
            "in the graph; products.jsonl line 4 was rejected: \"price\": no\n")
    assert main(["similar", str(tmp_path), "--item", "None"]) == 2
    assert capsys.readouterr().err.endswith("in the graph\n")
