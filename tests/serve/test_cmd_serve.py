"""``shopgraph serve``: options checked, a real server answers, and SIGINT snapshots."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from scripts.cli import main
from scripts.cmd_serve import api_keys
from tests.serve.conftest import free_port

REPO = Path(__file__).resolve().parents[2]


def test_bad_options_exit_2(small_demo_artifact, tmp_path, capsys) -> None:
    assert main(["serve", str(small_demo_artifact), "--port", "70000"]) == 2
    assert "--port 70000" in capsys.readouterr().err
    assert main(["serve", str(small_demo_artifact), "--workers", "0"]) == 2
    assert "--workers 0" in capsys.readouterr().err
    assert main(["serve", str(small_demo_artifact), "--cache-seconds", "-1"]) == 2
    assert "--cache-seconds -1" in capsys.readouterr().err
    empty = tmp_path / "key"
    empty.write_text("\n")
    assert main(["serve", str(small_demo_artifact), "--api-key-file", str(empty)]) == 2
    assert "empty" in capsys.readouterr().err


def test_api_key_from_file_or_environment(tmp_path, monkeypatch) -> None:
    key = tmp_path / "key"
    key.write_text("s3cret\n")
    assert api_keys(key) == ("s3cret", ())
    key.write_text("acme s3cret\nglobex other\n")
    assert api_keys(key) == (None, (("acme", "s3cret"), ("globex", "other")))
    monkeypatch.setenv("SHOPGRAPH_API_KEY", " env-key ")
    assert api_keys(None) == ("env-key", ())
    monkeypatch.delenv("SHOPGRAPH_API_KEY")
    assert api_keys(None) == (None, ())



@pytest.mark.parametrize("workers", ["1", "2"])  # one process; a writer and two readers
def test_serve_answers_and_snapshots_on_sigint(small_demo_artifact, tmp_path, workers) -> None:
    key = tmp_path / "key"  # with readers: named keys, handed on to them
    key.write_text("k-123" if workers == "1" else "acme k-123\nglobex k-456\n")
    port, state = free_port(), tmp_path / "state"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("SHOPGRAPH_API_KEY", None)
    proc = subprocess.Popen([sys.executable, "-m", "scripts.cli", "serve",
                             str(small_demo_artifact), "--port", str(port), "--state",
                             str(state), "--api-key-file", str(key), "--workers", workers],
                            cwd=REPO, env=env, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail(f"no server: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.2)
        got = httpx.post(f"{url}/v1/events", headers={"X-API-Key": "k-123",
                                                      "Idempotency-Key": "i-1"},
                         json={"user": "u0001", "target": "p0002", "kind": "cart"})
        assert got.status_code == 200 and got.json()["seq"] == 1
        if workers == "2":  # the same Idempotency-Key from another shop: its own write
            other = httpx.post(f"{url}/v1/events", headers={"X-API-Key": "k-456",
                                                            "Idempotency-Key": "i-1"},
                               json={"user": "u0003", "target": "p0004", "kind": "view"})
            assert other.status_code == 200 and other.json()["seq"] == 2
        assert httpx.get(f"{url}/docs").status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=120)
    manifest = json.loads((state / "snapshot" / "manifest.json").read_text())
    assert manifest["serve"]["log_seq"] == int(workers)
    assert (state / "log.jsonl").read_bytes() == b""  # compacted: the snapshot holds it


def test_importing_recommend_and_the_cli_loads_no_server() -> None:
    code = ("import sys, recommend, scripts.cli; scripts.cli.build_parser(); "
            "print(sorted(m for m in ('fastapi', 'uvicorn', 'jinja2', 'prometheus_client', "
            "'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
    assert out.stdout.strip() == "[]"
