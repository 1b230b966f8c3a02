"""The server under test for bench/serve_load.py: ``shopgraph serve`` in a subprocess on a
loopback port (start, kill -9, stop), its memory and CPU, and the CPU spent while it was up."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
#: The API key the bench's server is started with.
KEY = "bench-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def kind(pid: int) -> str:
    """What a child process of the server is, by its command line: ``compute``, ``reader``,
    or ``starting`` (forked, its program not yet started)."""
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "starting"
    return ("compute" if b"recommend.serve.compute" in cmd
            else "reader" if b"recommend.serve.reader_process" in cmd else "starting")


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (of any of its threads)."""
    try:
        return [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                for c in (task / "children").read_text().split()]
    except OSError:
        return []


class Server:
    """``shopgraph serve`` in a subprocess on a loopback port."""

    def __init__(self, artifact: Path, state: Path, port: int, log: Path,
                 workers: int | None = None, cache_seconds: float | None = None,
                 options: list[str] | None = None) -> None:
        self.artifact, self.state, self.port, self.log = artifact, state, port, log
        self.workers, self.cache_seconds = workers, cache_seconds
        self.options = list(options or ())  # more arguments of `shopgraph serve`
        self.proc: subprocess.Popen[bytes] | None = None
        self.peak_rss_kb = 0
        self.cpu_ticks: dict[int, int] = {}  # per process ever seen, its last utime + stime
        self.kinds: dict[int, str] = {}  # per process ever seen: writer, or kind()
        self.writers: set[int] = set()  # the pids of the started servers (the writers)
        #: per start, the CPU seconds its processes had spent when /v1/health first answered
        #: (loading, replay, the readers' warm-up): start-up, not serving
        self.start_cpu: list[float] = []

    def start(self, timeout: float = 600.0) -> float:
        """Start and wait for /v1/health; the seconds it took."""
        import httpx

        env = {**os.environ, "SHOPGRAPH_API_KEY": KEY, "PYTHONPATH": str(REPO)}
        start = time.perf_counter()
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "scripts.cli", "serve", str(self.artifact),
                 "--state", str(self.state), "--port", str(self.port),
                 "--snapshot-every", "20", "--no-storefront",
                 *([] if self.workers is None else ["--workers", str(self.workers)]),
                 *([] if self.cache_seconds is None
                   else ["--cache-seconds", str(self.cache_seconds)]), *self.options],
                cwd=REPO, env=env, stdout=out, stderr=out)
        self.writers.add(self.proc.pid)
        with httpx.Client(timeout=2) as http:  # one client: a new one per look cost ~18 ms
            while time.perf_counter() - start < timeout:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the server exited ({self.proc.returncode}); see "
                                       f"{self.log}")
                try:
                    if http.get(f"{self.url}/v1/health").status_code == 200:
                        took = time.perf_counter() - start
                        self.start_cpu.append(self._start_cpu())
                        return took
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        raise RuntimeError(f"the server did not answer within {timeout} s")

    def _start_cpu(self) -> float:
        """CPU seconds of the running server's processes so far (sampled now)."""
        assert self.proc is not None
        self.sample()
        pids = [self.proc.pid, *children(self.proc.pid)]
        return sum(self.cpu_ticks.get(p, 0) for p in pids) / os.sysconf("SC_CLK_TCK")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sample(self) -> None:
        """Peak VmRSS of the server (the writer and its reader processes, summed) and the CPU
        time of each of its processes so far."""
        if self.proc is None:
            return
        total = 0
        for pid in [self.proc.pid, *children(self.proc.pid)]:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
                self.cpu_ticks[pid] = int(stat[11]) + int(stat[12])  # utime, stime
                if pid in self.writers:
                    self.kinds[pid] = "writer"
                elif self.kinds.get(pid, "starting") == "starting":
                    self.kinds[pid] = kind(pid)
            except OSError:
                pass
        self.peak_rss_kb = max(self.peak_rss_kb, total)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds its processes spent, as last sampled (a killed one's, up to its last
        sample), per kind of process (the writers, and :func:`kind` of the others)."""
        tick, out = os.sysconf("SC_CLK_TCK"), {}
        for pid, ticks in self.cpu_ticks.items():
            out[self.kinds[pid]] = out.get(self.kinds[pid], 0.0) + ticks / tick
        return out

    def cpu_split(self) -> dict[str, Any]:
        """CPU seconds of the started processes (with ``--workers N``, the writers) and of
        their children (the readers and the compute process), as last sampled, over the
        whole run; ``start_up``: of each start until its health answered (in order: the
        first start, the restart), and ``after_start_up`` the rest."""
        tick = os.sysconf("SC_CLK_TCK")
        own = sum(t for pid, t in self.cpu_ticks.items() if pid in self.writers)
        total = sum(self.cpu_ticks.values()) / tick
        return {"writer": round(own / tick, 2),
                "readers": round(total - own / tick, 2),
                "start_up": [round(c, 2) for c in self.start_cpu],
                "after_start_up": round(total - sum(self.start_cpu), 2)}

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=300)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise RuntimeError("the server did not stop within 300 s of SIGINT") from None


class CpuWhileUp:
    """CPU seconds this process (the load generator) and the server spent while the server
    was up: from the start to :meth:`pause` (the kill, the end), and from :meth:`resume` (the
    restarted server answering) on, so the restart's loading is not counted; the server's
    also per kind of process (``by_kind``: writer, reader, compute)."""

    def __init__(self, server: Server) -> None:
        self._server = server
        self.own = self.server = 0.0
        self.by_kind: dict[str, float] = {}
        self._since: tuple[float, dict[str, float]] | None = None
        self.resume()

    def _now(self) -> tuple[float, dict[str, float]]:
        self._server.sample()
        return time.process_time(), self._server.cpu_seconds()

    def resume(self) -> None:
        self._since = self._now()

    def pause(self) -> None:
        assert self._since is not None
        own, server = self._now()
        self.own += own - self._since[0]
        for name, seconds in server.items():
            spent = seconds - self._since[1].get(name, 0.0)
            self.by_kind[name] = self.by_kind.get(name, 0.0) + spent
            self.server += spent
        self._since = None

    def per_request(self, served: int) -> dict[str, Any]:
        """Milliseconds of CPU per one of ``served`` requests: this process's, the server's,
        and the server's per kind of process."""
        return {"load_generator": round(self.own / served * 1000, 3),
                "server": round(self.server / served * 1000, 3),
                "server_by_process": {k: round(v / served * 1000, 3)
                                      for k, v in sorted(self.by_kind.items())}}
