"""bench/serve_process.py: the server's CPU split between start-up and serving, and per kind
of process (writer, reader, compute)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from serve_process import CpuWhileUp, Server, children, kind

#: burns argv[1] s of CPU, then sleeps (a stand-in for a server process)
BUSY = ("import sys, time\nt = time.process_time()\n"
        "while time.process_time() - t < float(sys.argv[1]): pass\ntime.sleep(60)\n")
#: a stand-in writer: starts a "reader" and a "compute" child (named so on their command
#: lines), then burns its own CPU
WRITER = ("import subprocess, sys\n"
          "for s, m in ((0.4, 'recommend.serve.reader_process'),\n"
          "             (0.2, 'recommend.serve.compute')):\n"
          "    subprocess.Popen([sys.executable, '-c', sys.argv[1], str(s), m])\n"
          "exec(sys.argv[1].replace('float(sys.argv[1])', '0.6'))\n")


def test_kinds_and_the_split(tmp_path: Path) -> None:
    server = Server(tmp_path, tmp_path / "state", 0, tmp_path / "log")
    server.proc = subprocess.Popen([sys.executable, "-c", WRITER, BUSY])
    server.writers.add(server.proc.pid)
    try:
        cpu = CpuWhileUp(server)  # from here on: the load's
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            server.sample()
            spent = server.cpu_seconds()
            if (spent.get("writer", 0) >= 0.6 and spent.get("reader", 0) >= 0.4
                    and spent.get("compute", 0) >= 0.2):
                break
            time.sleep(0.05)
        kids = children(server.proc.pid)
        assert sorted(kind(p) for p in kids) == ["compute", "reader"]
        server.start_cpu.append(0.25)  # as start() keeps it when health first answers
        cpu.pause()
        assert set(cpu.by_kind) >= {"writer", "reader", "compute"}
        assert cpu.by_kind["reader"] >= 0.39 and cpu.by_kind["compute"] >= 0.19
        assert cpu.by_kind["writer"] >= 0.5  # less what it spent before CpuWhileUp began
        assert abs(cpu.server - sum(cpu.by_kind.values())) < 1e-9
        per = cpu.per_request(10)
        assert per["server"] == round(cpu.server * 100, 3)
        assert per["server_by_process"]["reader"] == round(cpu.by_kind["reader"] * 100, 3)
        total = sum(server.cpu_seconds().values())
        split = server.cpu_split()
        assert split["start_up"] == [0.25]
        assert abs(split["after_start_up"] - (total - 0.25)) < 0.011
        assert abs(split["writer"] + split["readers"] - total) < 0.011
        assert split["readers"] >= 0.59  # the reader's and the compute process's
    finally:
        for pid in children(server.proc.pid):
            subprocess.run(["kill", str(pid)], check=False)
        server.proc.kill()
        server.proc.wait()
