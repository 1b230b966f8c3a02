"""Benchmark: `shopgraph build` time and peak RSS on MovieLens 100K and a 1M-event demo world.

Each case runs in a fresh subprocess (so its peak RSS is its own) that calls
:func:`kg.artifact.build_artifact` (read + validate, graph build, atomic write), then loads the
artifact back and compiles one relation matrix. The datasets are prepared first and not timed:
ML-100K through :func:`kg.loaders.movielens.load_movielens`, the demo world through
:func:`kg.demo.generate_demo_world` (100k products, 50k users, 1M events, no images).

Targets: ML-100K graph build < 10 s; 1M events < 60 s and < 2 GB peak RSS.

Run: ``.venv/bin/python bench/build.py [--events 1000000] [--work /tmp/sg_bench_build]``;
writes bench/results/build.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

from kg.atomic import atomic_write_json

RESULTS = Path(__file__).resolve().parent / "results" / "build.json"
REPO = Path(__file__).resolve().parents[1]
ML_100K = REPO.parent / "shared" / "data" / "ml-100k"


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_case(dataset: Path, out: Path) -> dict:
    """Build, load and compile in this process; the figures (called in the subprocess)."""
    from kg.artifact import build_artifact, load_artifact

    cpu0 = _cpu_seconds()
    manifest = build_artifact(dataset, out, progress=False)
    build_cpu = _cpu_seconds() - cpu0
    start, cpu0 = time.perf_counter(), _cpu_seconds()
    graph = load_artifact(out).graph
    load_s, load_cpu = time.perf_counter() - start, _cpu_seconds() - cpu0
    relation = max(manifest["edges"], key=manifest["edges"].get)
    dst = "product" if relation in ("rated", "viewed", "purchased", "clicked", "carted") else None
    start = time.perf_counter()
    graph.matrix(relation, dst)
    matrix_s = time.perf_counter() - start
    return {
        "seconds": manifest["seconds"],
        "build_cpu_seconds": round(build_cpu, 3),
        "load_seconds": round(load_s, 3),
        "load_cpu_seconds": round(load_cpu, 3),
        f"matrix_seconds_{relation}": round(matrix_s, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "records": manifest["records"],
        "nodes": sum(manifest["nodes"].values()),
        "edges": sum(manifest["edges"].values()),
        "edges_per_relation": manifest["edges"],
        "artifact_mb": round(sum(p.stat().st_size for p in out.iterdir()) / 2**20, 1),
    }


def in_subprocess(dataset: Path, out: Path) -> dict:
    """Run :func:`run_case` in a fresh interpreter; its JSON result."""
    proc = subprocess.run(
        [sys.executable, __file__, "--case", str(dataset), "--out", str(out)],
        check=True, capture_output=True, text=True, cwd=REPO,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def prepare_ml100k(work: Path) -> Path:
    """ML-100K as a dataset folder (imported unless cached)."""
    from kg.loaders import write_load_result
    from kg.loaders.movielens import load_movielens

    folder = work / "ml-100k"
    if not (folder / "events.jsonl").is_file():
        write_load_result(load_movielens(ML_100K), folder)
    return folder


def prepare_demo(work: Path, n_events: int, n_products: int,
                 n_users: int) -> tuple[Path, float | None]:
    """The demo world's folder (generated unless cached) and the seconds generating took."""
    from kg.demo import DemoConfig, generate_demo_world

    folder = work / f"demo-{n_events}-{n_products}-{n_users}"
    if (folder / "events.jsonl").is_file():
        return folder, None
    start = time.perf_counter()
    generate_demo_world(folder, DemoConfig(n_products=n_products, n_users=n_users,
                                           n_events=n_events, images=False))
    return folder, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/sg_bench_build"))
    parser.add_argument("--case", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case is not None:
        print(json.dumps(run_case(args.case, args.out)))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    cases: dict[str, dict] = {}
    if ML_100K.is_dir():
        cases["ml-100k"] = in_subprocess(prepare_ml100k(args.work), args.work / "art-ml-100k")
        print("ml-100k", json.dumps(cases["ml-100k"], indent=1))
    demo, gen_s = prepare_demo(args.work, args.events, args.products, args.users)
    name = f"demo-{args.events // 1000}k-events"
    cases[name] = {**in_subprocess(demo, args.work / "art-demo"),
                   "generate_seconds": None if gen_s is None else round(gen_s, 1)}
    print(name, json.dumps(cases[name], indent=1))
    big = cases[name]
    targets = {
        "ml-100k graph build < 10 s": cases.get("ml-100k", {}).get("seconds", {}).get("graph", 99)
        < 10,
        "1M events full build < 60 s": big["seconds"]["total"] < 60,
        "1M events peak RSS < 2048 MB": big["peak_rss_mb"] < 2048,
    }
    for target, met in targets.items():
        print(f"{'MET' if met else 'MISSED'}: {target}")
    atomic_write_json(RESULTS, {
        "command": "python bench/build.py " + " ".join(sys.argv[1:]),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "load_average_1min_at_end": round(os.getloadavg()[0], 1),
                    "note": "2 cores shared with other jobs: wall seconds are inflated by "
                            "contention; build_cpu_seconds is this process's own CPU time"},
        "cases": cases,
        "targets_met": targets,
    })


if __name__ == "__main__":
    main()
