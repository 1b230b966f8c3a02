"""Benchmark: the Spark build (`--engine spark`, local[2]) against the in-process build at
1M, 5M and 20M generated events.

Each case runs in a fresh subprocess: the build of the demo world (read + validate, graph,
for Spark its ``spark`` stage: Parquet graph tables, interaction table, co-occurrence over
distinct people), then the item-kNN fit on the whole interaction matrix (BM25, K 100; for
Spark by joins, :mod:`sparkbuild.knn`). No enrichment and no hybrid fit: those run in the
driver on both engines (docs/scale.md), so they would add the same time to both. While a
case runs the parent samples the RSS of the subprocess tree every 0.5 s: the Python driver,
the JVM (in local mode the driver and the executors are one JVM), the Python workers (sum).
Shuffle bytes are summed from Spark's event log (``Shuffle Bytes Written`` of every task).

Worlds: ``n_users = events / 20``, 100k products (events / 10 below 1M; the demo generator
at scale, no images), generated once into ``--work`` and reused. The in-process build runs
only up to ``--python-max-events`` (its reader holds every record as a Python object: ~1.3 GB per
million events measured by bench/build.py, so 20M does not fit in 24 GB).

Run: ``.venv/bin/python bench/spark_scale.py [--events 1000000,5000000,20000000]``;
writes bench/results/spark_scale.json (cases merged by name across runs).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from kg.atomic import atomic_write_json

RESULTS = Path(__file__).resolve().parent / "results" / "spark_scale.json"
REPO = Path(__file__).resolve().parents[1]
KNN_K = 100
_TICKS = os.sysconf("SC_CLK_TCK")


def run_case(dataset: Path, out: Path, engine: str, driver_memory: str) -> dict:
    """Build and fit item-kNN in this process; the figures (called in the subprocess)."""
    from cf.item_knn import item_weights, neighbour_similarity
    from kg.artifact import build_artifact, load_artifact
    from kg.interactions import PRODUCT_RELATIONS, relation_matrix
    from recommend.hybrid.config import HybridConfig

    log_dir = Path(tempfile.mkdtemp(prefix="spark-events-"))
    began = time.perf_counter()
    if engine == "spark":
        from sparkbuild.engine import SparkEngine
        from sparkbuild.knn import similarity_by_joins
        from sparkbuild.session import start

        session = start("local[2]", driver_memory=driver_memory, event_log=log_dir)
        started = time.perf_counter() - began
        manifest = SparkEngine(session, "local[2]").build(dataset, out, [],
                                                          config=HybridConfig(), progress=False)
    else:
        started = 0.0
        manifest = build_artifact(dataset, out, progress=False)
    build_s = time.perf_counter() - began
    build_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    graph = load_artifact(out, verify=False).graph
    x = relation_matrix(graph, PRODUCT_RELATIONS)
    x = x[:, (x.getnnz(axis=0) > 0)].tocsr()
    x.data = np.log1p(x.data)
    w = item_weights(x, "bm25")
    t = time.perf_counter()
    s = similarity_by_joins(session, w, KNN_K) if engine == "spark" else neighbour_similarity(
        w, KNN_K)
    knn_s = time.perf_counter() - t
    figures = {
        "engine": engine, "session_start_seconds": round(started, 3),
        "build_seconds": round(build_s, 3), "build_steps": manifest["seconds"],
        "driver_python_peak_mb_build": round(build_peak_mb, 1),
        "knn_seconds": round(knn_s, 3), "knn_items": int(w.shape[0]), "knn_nnz": int(s.nnz),
        "records": manifest["records"], "edges": sum(manifest["edges"].values()),
        "interactions": int(x.nnz),
        "artifact_mb": round(sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
                             / 2**20, 1),
    }
    if engine == "spark":
        figures["tables"] = manifest["stages"]["spark"]["tables"]
        figures["validation"] = manifest["stages"]["spark"]["validation"]
        session.stop()
        figures.update(shuffle_figures(log_dir))
    return figures


def shuffle_figures(log_dir: Path) -> dict:
    """Shuffle bytes written and read, and the largest task peak execution memory, from
    Spark's event log."""
    written = read = peak = 0
    for path in log_dir.rglob("*"):
        if not path.is_file():
            continue
        for line in path.open(encoding="utf-8"):
            if '"SparkListenerTaskEnd"' not in line:
                continue
            metrics = json.loads(line).get("Task Metrics") or {}
            written += metrics.get("Shuffle Write Metrics", {}).get("Shuffle Bytes Written", 0)
            shuffle_read = metrics.get("Shuffle Read Metrics", {})
            read += (shuffle_read.get("Remote Bytes Read", 0)
                     + shuffle_read.get("Local Bytes Read", 0))
            peak = max(peak, metrics.get("Peak Execution Memory", 0))
    return {"shuffle_written_mb": round(written / 2**20, 1),
            "shuffle_read_mb": round(read / 2**20, 1),
            "task_peak_execution_mb": round(peak / 2**20, 1)}


class TreeSampler:
    """Peak RSS of a process tree by role, sampled from /proc every ``every`` seconds."""

    def __init__(self, root: int, every: float = 0.5) -> None:
        self.root, self.every = root, every
        self.peaks = {"driver_python_mb": 0.0, "jvm_mb": 0.0, "python_workers_mb": 0.0,
                      "tree_mb": 0.0}
        self._cpu: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds (user + system) per role, as last sampled of each process."""
        out = {"driver_python": 0.0, "jvm": 0.0, "python_workers": 0.0}
        for role, seconds in self._cpu.values():
            out[role] += seconds
        return {k: round(v, 1) for k, v in out.items()}

    def sample(self) -> None:
        parents: dict[int, int] = {}
        ticks: dict[int, float] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                parents[int(entry.name)] = int(fields[1])
                ticks[int(entry.name)] = (int(fields[11]) + int(fields[12])) / _TICKS
        tree, changed = {self.root}, True
        while changed:
            grown = tree | {p for p, pp in parents.items() if pp in tree}
            changed, tree = grown != tree, grown
        now = {"driver_python_mb": 0.0, "jvm_mb": 0.0, "python_workers_mb": 0.0}
        for pid in tree:
            rss, name = _rss_mb(pid)
            role = ("driver_python_mb" if pid == self.root else
                    "jvm_mb" if name == "java" else "python_workers_mb")
            now[role] += rss
            if pid in ticks:
                self._cpu[pid] = (role.removesuffix("_mb"), ticks[pid])
        for key, value in {**now, "tree_mb": sum(now.values())}.items():
            self.peaks[key] = max(self.peaks[key], round(value, 1))


def _rss_mb(pid: int) -> tuple[float, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0, ""
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    rss_kb = float(fields.get("VmRSS", "0 kB").split()[0])
    return rss_kb / 1024, fields.get("Name", "").strip()


def in_subprocess(dataset: Path, out: Path, engine: str, driver_memory: str) -> dict:
    """:func:`run_case` in a fresh interpreter, its tree's memory sampled; the figures."""
    cmd = [sys.executable, __file__, "--case", str(dataset), "--out", str(out),
           "--engine", engine, "--driver-memory", driver_memory]
    began = time.perf_counter()
    load_before = os.getloadavg()[0]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    with TreeSampler(proc.pid) as sampler:
        stdout, stderr = proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"{engine} case failed:\n{stderr[-4000:]}")
    figures = json.loads(stdout.strip().splitlines()[-1])
    millions = figures["records"]["read"] / 1e6
    figures["driver_python_build_mb_per_million_records"] = round(
        figures["driver_python_peak_mb_build"] / millions, 1)
    return {**figures, "wall_seconds": round(time.perf_counter() - began, 3),
            "peak_rss": sampler.peaks, "cpu_seconds": sampler.cpu_seconds(),
            "driver_python_mb_per_million_records": round(
                sampler.peaks["driver_python_mb"] / millions, 1),
            "load_average_1min": {"start": round(load_before, 1),
                                  "end": round(os.getloadavg()[0], 1)}}


def prepare(work: Path, n_events: int) -> Path:
    """The demo world of ``n_events`` (generated unless cached)."""
    from kg.demo import DemoConfig, generate_demo_world

    folder = work / f"demo-{n_events}"
    if not (folder / "events.jsonl").is_file():
        generate_demo_world(folder, DemoConfig(n_products=min(100_000, max(n_events // 10, 40)),
                                               n_users=max(n_events // 20, 10),
                                               n_events=n_events, images=False))
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", default="1000000,5000000,20000000")
    parser.add_argument("--python-max-events", type=int, default=5_000_000)
    parser.add_argument("--driver-memory", default="6g")
    parser.add_argument("--work", type=Path, default=Path("/tmp/sg_bench_spark"))
    parser.add_argument("--case", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--engine", choices=("python", "spark"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case is not None:
        print(json.dumps(run_case(args.case, args.out, args.engine, args.driver_memory)))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    previous = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    cases: dict[str, dict] = previous.get("cases", {})
    for n in (int(v) for v in args.events.split(",")):
        dataset = prepare(args.work, n)
        engines = ("python", "spark") if n <= args.python_max_events else ("spark",)
        for engine in engines:
            name = f"{n / 1e6:g}M-events-{engine}"
            cases[name] = in_subprocess(dataset, args.work / f"art-{n}-{engine}", engine,
                                        args.driver_memory)
            print(name, json.dumps(cases[name]), flush=True)
    atomic_write_json(RESULTS, {
        "command": "python bench/spark_scale.py " + " ".join(sys.argv[1:]),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cores": os.cpu_count(),
                    "load_average_1min_at_end": round(os.getloadavg()[0], 1),
                    "note": "2 cores shared with other jobs: wall seconds are inflated by "
                            "contention"},
        "cases": dict(sorted(cases.items())),
    })


if __name__ == "__main__":
    main()
