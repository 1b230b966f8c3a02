"""``shopgraph serve --workers 2``: a writer and two readers, as real processes.

A write answered by one reader is seen by every reader within 1 s; a reader killed is
restarted; ``kill -9`` of the writer takes the readers with it and loses no acknowledged
write; SIGTERM stops everything, with a snapshot.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from recommend.serve.app import ServeConfig
from recommend.serve.state import ServedState
from recommend.serve.workers import bind_sockets
from tests.serve.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
KEY = "k-workers"



class Server:
    """``shopgraph serve ART --workers 2`` on a free port."""

    def __init__(self, artifact: Path, state: Path, port: int) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO), "SHOPGRAPH_API_KEY": KEY}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "scripts.cli", "serve", str(artifact), "--port", str(port),
             "--state", str(state), "--workers", "2", "--snapshot-every", "0"],
            cwd=REPO, env=env, stderr=subprocess.PIPE)
        self.url = f"http://127.0.0.1:{port}"

    def health(self) -> dict:
        """One fresh connection's health answer (the kernel picks the reader)."""
        return httpx.get(f"{self.url}/v1/health", headers={"Connection": "close"},
                         timeout=5).json()

    def readers(self, timeout: float = 180) -> dict[int, dict]:
        """Wait until both readers answer; each one's last health."""
        seen: dict[int, dict] = {}
        deadline = time.monotonic() + timeout
        while len(seen) < 2:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.fail("the readers did not both answer")
            try:
                got = self.health()
                seen[got["worker"]] = got
            except httpx.TransportError:
                time.sleep(0.2)
        return seen

    def children(self) -> list[int]:
        """The writer's child processes (started by its readers thread): the readers and the
        compute process."""
        return [int(p) for task in Path(f"/proc/{self.proc.pid}/task").iterdir()
                for p in (task / "children").read_text().split()]

    def reader_pids(self) -> list[int]:
        """The writer's readers (not its compute process)."""
        return [p for p in self.children() if b"reader_process" in _cmdline(p)]

    def fail(self, why: str) -> None:
        self.proc.kill()
        pytest.fail(f"{why}: {self.proc.communicate()[1].decode(errors='replace')[-3000:]}")


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/status").read_text().find("State:\tZ") < 0
    except FileNotFoundError:
        return False


def _seen_by_every_reader(server: Server, user: str, seq: int, limit: float) -> float:
    """Seconds until both readers hold log ``seq`` and find ``user``; fails after ``limit``."""
    start = time.perf_counter()
    done: set[int] = set()
    while len(done) < 2:
        if time.perf_counter() - start > limit:
            pytest.fail(f"readers {sorted(done)} of 2 saw log seq {seq} within {limit} s")
        got = server.health()
        found = httpx.get(f"{server.url}/v1/users", params={"q": user},
                          headers={"Connection": "close"}, timeout=5).json()
        if got["log_seq"] >= seq and any(u["id"] == user for u in found):
            done.add(got["worker"])
    return time.perf_counter() - start


def _a_purchase_leaves_both_readers_caches(server: Server, user: str) -> None:
    """Both readers keep ``user``'s recommendations, computed once (the other finds it in the
    level they share); after a purchase of the first one, no reader sends it again once 1 s
    has passed (each dropped its kept answer on applying the purchase, and the shared one is
    older than the purchase, long before its 60 s ran out)."""

    def fresh() -> tuple[list[str], str]:  # a new connection: either reader may answer
        got = httpx.get(f"{server.url}/v1/users/{user}/recommendations", params={"k": 5},
                        headers={"Connection": "close"}, timeout=30)
        assert got.status_code == 200, got.text
        return [r["item"] for r in got.json()], got.headers["X-Cache"]

    before = [fresh() for _ in range(30)]
    assert sum(how == "miss" for _, how in before) == 1  # computed once, for both readers
    item = before[0][0][0]
    bought = httpx.post(f"{server.url}/v1/events", headers={"X-API-Key": KEY}, timeout=60,
                        json={"user": user, "target": item.partition(":")[2],
                              "kind": "purchase"})
    assert bought.status_code == 200, bought.text
    time.sleep(1.0)
    after = [fresh() for _ in range(30)]
    assert not [how for items, how in after if item in items]


def _a_write_answer_leaves_its_list_fresh(server: Server, user: str) -> None:
    """On the connection that wrote (the same reader), the user's default list right after
    the event's answer is a hit computed from a model holding it (recommend.serve.api's
    refresh_written), not a stale list or a miss."""
    with httpx.Client(base_url=server.url, timeout=60) as http:
        got = http.get(f"/v1/users/{user}/recommendations")
        item = got.json()[0]["item"]
        wrote = http.post("/v1/events", headers={"X-API-Key": KEY},
                          json={"user": user, "target": item.partition(":")[2], "kind": "cart"})
        assert wrote.status_code == 200, wrote.text
        got = http.get(f"/v1/users/{user}/recommendations")
    assert got.headers["X-Cache"] == "hit", got.headers
    assert int(got.headers["X-Log-Seq"]) >= wrote.json()["seq"]
    assert len(got.json()) == 10 and item not in [r["item"] for r in got.json()]


def test_two_readers_see_every_write_and_survive_kill_9(small_demo_artifact, tmp_path) -> None:
    state, port = tmp_path / "state", free_port()
    server = Server(small_demo_artifact, state, port)
    try:
        server.readers()
        nice = sorted(int(Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()[16])
                      for p in server.children())
        nice_readers = ServeConfig().reader_nice  # the compute process comes first
        assert nice == [0, nice_readers, nice_readers]
        for user in ("u0007", "u0008"):  # each reader warmed its share before it listened
            got = httpx.get(f"{server.url}/v1/users/{user}/recommendations",
                            headers={"Connection": "close"}, timeout=30)
            assert got.status_code == 200 and got.headers["X-Cache"] == "hit", got.text
        with pytest.raises(OSError, match="another server"):  # no second server joins
            bind_sockets("127.0.0.1", port, 1)
        for n in range(3):  # visible on both readers within 1 s of each answer
            write = httpx.post(f"{server.url}/v1/users", headers={"X-API-Key": KEY},
                               json={"id": f"newcomer{n}"}, timeout=60)
            assert write.status_code == 200, write.text
            assert _seen_by_every_reader(server, f"newcomer{n}", write.json()["seq"], 1.0) < 1
        _a_purchase_leaves_both_readers_caches(server, "u0003")
        _a_write_answer_leaves_its_list_fresh(server, "u0004")
        bad = httpx.post(f"{server.url}/v1/events", headers={"X-API-Key": KEY}, timeout=60,
                         json={"user": "u0001", "target": "p0002", "kind": "teleport"})
        assert bad.status_code == 422 and "teleport" in bad.text  # the writer's reasons
        assert httpx.post(f"{server.url}/v1/users", json={"id": "x"}).status_code == 401
        metrics = httpx.get(f"{server.url}/metrics").text
        assert 'shopgraph_requests_total{method="POST",route="/v1/users",status="200"} 3.0' \
            in metrics  # summed over both readers

        first, _ = server.reader_pids()  # a reader killed is started again
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 120
        while first in server.reader_pids() or len(server.reader_pids()) < 2:
            assert time.monotonic() < deadline, "the killed reader was not restarted"
            time.sleep(0.2)
        assert len(server.readers()) == 2

        acked: list[dict] = []
        stop = threading.Event()

        def post_events() -> None:
            with httpx.Client(base_url=server.url, timeout=30) as http:
                for i in range(10_000):
                    if stop.is_set():
                        return
                    event = {"user": f"u{1 + i % 9:04d}", "target": f"p{1 + i % 50:04d}",
                             "kind": "view", "ts": 1_700_000_000 + i}
                    try:
                        got = http.post("/v1/events", json=event, headers={"X-API-Key": KEY})
                    except httpx.TransportError:
                        return
                    if got.status_code == 200:
                        acked.append(event)

        thread = threading.Thread(target=post_events)
        thread.start()
        deadline = time.monotonic() + 60
        while len(acked) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        readers = server.children()
        assert len(readers) == 3  # two readers and the compute process
        server.proc.send_signal(signal.SIGKILL)  # the writer, mid-run
        server.proc.wait()
        thread.join(timeout=60)
        stop.set()
        assert len(acked) >= 5
        deadline = time.monotonic() + 10
        while any(map(_alive, readers)):  # the readers die with their writer
            assert time.monotonic() < deadline, "readers outlived their writer"
            time.sleep(0.1)
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
        server.proc.wait()

    again = Server(small_demo_artifact, state, port)  # same port: nothing holds it
    try:
        for answer in again.readers().values():  # both replayed the log
            assert answer["log_seq"] >= len(acked) + 3
        pids = again.children()
    finally:
        again.proc.send_signal(signal.SIGTERM)  # (SIGINT: tests/serve/test_cmd_serve.py)
        code = again.proc.wait(timeout=120)
    assert code in (0, -signal.SIGTERM), again.proc.communicate()[1].decode()[-3000:]
    assert not any(map(_alive, pids))
    assert not (state / ".workers").exists()
    manifest = json.loads((state / "snapshot" / "manifest.json").read_text())
    assert manifest["serve"]["log_seq"] >= len(acked) + 3
    loaded = ServedState(small_demo_artifact, state)
    graph = loaded.rec.graph
    lost = [e for e in acked if not any(
        x.dst == f"product:{e['target']}" and x.ts == e["ts"]
        for x in graph.neighbors(f"user:{e['user']}", "viewed"))]
    loaded.detach()
    assert lost == []


def test_the_readers_metric_files_live_off_the_state_folder(tmp_path, monkeypatch) -> None:
    """prometheus_client maps the readers' metric files: kept in the state folder, a full
    disk there made a reader growing one die of SIGBUS (and after three, the server stop)."""
    from recommend.serve import workers

    memory = tmp_path / "shm"
    memory.mkdir()
    monkeypatch.setattr(workers, "MEMORY_DIR", memory)
    state = tmp_path / "state"
    private = state / ".workers"
    private.mkdir(parents=True)
    folder = workers._metrics_folder(state, private)
    assert folder.parent == memory and folder.is_dir() and not any(folder.iterdir())
    (folder / "counter_1.db").write_bytes(b"x")  # what a killed run left
    assert workers._metrics_folder(state, private) == folder and not any(folder.iterdir())
    assert workers._metrics_folder(tmp_path / "other", private) != folder  # one per state
    folder.rmdir()
    folder.write_text("not ours")
    with pytest.raises(FileExistsError, match="not a folder this server made"):
        workers._metrics_folder(state, private)
    monkeypatch.setattr(workers, "MEMORY_DIR", tmp_path / "no-memory-fs")
    assert workers._metrics_folder(state, private) == private / "metrics"
