"""Benchmark: Recommender load time and recommend(k=10) latency, with and without explanations.

Two artifacts: MovieLens 100K and a generated world of 100k products, 50k users and 1M events
(:func:`kg.demo.generate_demo_world`, no images). Each is built in a subprocess (timed) unless
``--reuse`` finds it, with what ``shopgraph build`` does by default: every enrichment stage and
the default hybrid (the big world's 100k product texts are embedded with MiniLM: expect an hour
of the build on 2 shared cores).

Then, in this process: load time (``Recommender.load(verify=False)``, what serving pays
after the hashes were checked once; the load that verifies every file's sha256 is timed
too, as ``load_verified_seconds``), and for ``--users`` random known users (seed 0) plus a few
unknown ones, the wall and CPU (thread) time of ``recommend(user, k=10)`` with explanations and
without, as p50/p95/p99; and the share of recommended items of known users with at least one
valid path (first node the user, last the item, every edge checked with ``graph.has_edge``).
Also ``similar(item, k=10)`` (explained) for as many random products: latency and the share of
answers whose every path edge is stored.

Targets (the "heart" issue): ML-100K with explanations p50 <= 5 ms, p99 <= 25 ms; the 1M-event
world p99 <= 50 ms and load <= 5 s.

Run: ``.venv/bin/python bench/recommend_speed.py [--reuse] [--users 500] [--skip-big]``;
writes bench/results/recommend_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from kg.atomic import atomic_write_json
from recommend.paths.privacy import hop_exists

RESULTS = Path(__file__).resolve().parent / "results" / "recommend_speed.json"
REPO = Path(__file__).resolve().parents[1]
ML_100K = Path(os.environ.get("SHOPGRAPH_SHARED_DATA", REPO.parent / "shared" / "data")) / "ml-100k"
BIG = {"n_products": 100_000, "n_users": 50_000, "n_events": 1_000_000}


def build_case(dataset: Path, out: Path) -> dict:
    """Build one artifact in this process (the subprocess side) with the stages and options
    ``shopgraph build DATASET --out OUT --no-progress`` takes by default (among them the
    ``embed-ahead`` stage: the catalogue is embedded on a thread while the nlp stage runs);
    its timings."""
    from kg.artifact import build_artifact
    from recommend.model_stage import STAGE_NAME
    from scripts.cli import build_parser
    from scripts.cmd_build import stages_from_args, time_window

    args = build_parser().parse_args(["build", str(dataset), "--out", str(out), "--no-progress"])
    stages = stages_from_args(args)
    start, cpu = time.perf_counter(), time.process_time()
    manifest = build_artifact(dataset, out, progress=False, stages=stages,
                              window=time_window(args), rdf_store=args.rdf_store)
    return {"build_seconds": round(time.perf_counter() - start, 1),
            "build_cpu_seconds": round(time.process_time() - cpu, 1),
            "stage_seconds": manifest["seconds"],
            "model": manifest.get("stages", {}).get(STAGE_NAME, {})}


def build_in_subprocess(dataset: Path, out: Path, timeout: float) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--build", str(dataset), str(out)],
        check=True, capture_output=True, text=True, cwd=REPO, timeout=timeout,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def prepare(work: Path, big: bool) -> dict[str, Path]:
    """The datasets (imported / generated unless already in ``work``)."""
    from kg.demo import DemoConfig, generate_demo_world
    from kg.loaders import write_load_result
    from kg.loaders.movielens import load_movielens

    out = {}
    if ML_100K.is_dir():
        out["ml-100k"] = work / "ml-100k"
        if not (out["ml-100k"] / "events.jsonl").is_file():
            write_load_result(load_movielens(ML_100K), out["ml-100k"])
    if not big:
        return out
    out["demo-1M"] = work / "demo-1M"
    if not (out["demo-1M"] / "events.jsonl").is_file():
        generate_demo_world(out["demo-1M"], DemoConfig(**BIG, images=False), progress=False)
    return out


def _percentiles(ms: list[float]) -> dict[str, float]:
    a = np.asarray(ms)
    return {f"p{q}": round(float(np.percentile(a, q)), 2) for q in (50, 95, 99)} | {
        "mean": round(float(a.mean()), 2), "max": round(float(a.max()), 2)}


def _valid(graph, user: str, rec) -> bool:
    """At least one path from the user to the item made of stored edges."""
    return any(p.nodes[0] == user and p.nodes[-1] == rec.item and len(p.edges) >= 1
               and all(hop_exists(graph, e) for e in p.edges) for p in rec.paths)


def measure(artifact: Path, n_users: int, n_unknown: int = 5, seed: int = 0) -> dict:
    """Load time, latency percentiles and path validity of one artifact."""
    from recommend import Recommender

    start = time.perf_counter()
    Recommender.load(artifact)  # verify=True (the default): every file's sha256 checked
    verified = round(time.perf_counter() - start, 3)
    start, cpu = time.perf_counter(), time.process_time()
    rec = Recommender.load(artifact, verify=False)  # serving's load, without the hashing
    load = {"load_seconds": round(time.perf_counter() - start, 3),
            "load_cpu_seconds": round(time.process_time() - cpu, 3),
            "load_verified_seconds": verified}
    users = rec.graph.nodes("user")
    rng = np.random.default_rng(seed)
    sample = [users[j] for j in rng.choice(len(users), min(n_users, len(users)), replace=False)]
    unknown = [f"user:bench-unknown-{j}" for j in range(n_unknown)]
    for u in sample[:5]:  # warm-up: lazy caches (adjacency, prices, ...) are built once
        rec.recommend(u, k=10)
    out: dict = {**load, "users": len(sample), "unknown_users": len(unknown)}
    for explain in (True, False):
        wall, cpu_ms, items, valid = [], [], 0, 0
        for u in sample + unknown:
            t0, c0 = time.perf_counter(), time.thread_time()
            recs = rec.recommend(u, k=10, explain=explain)
            wall.append((time.perf_counter() - t0) * 1e3)
            cpu_ms.append((time.thread_time() - c0) * 1e3)
            if explain and not u.startswith("user:bench-unknown-"):
                items += len(recs)
                valid += sum(_valid(rec.graph, u, r) for r in recs)
        key = "with_explanations" if explain else "without_explanations"
        out[key] = {"wall_ms": _percentiles(wall), "cpu_ms": _percentiles(cpu_ms)}
        if explain:
            out[key]["items"] = items
            out[key]["share_with_valid_path"] = round(valid / max(items, 1), 4)
    out["similar_explained"] = _measure_similar(rec, n_users, rng)
    return out


def _measure_similar(rec, n_items: int, rng: np.random.Generator) -> dict:
    """Latency of ``similar`` (k 10, explained) for a sample of the catalogue's products, and
    the share of answers whose item-to-item paths are all made of stored edges."""
    products = rec.graph.nodes("product")
    sample = [products[j] for j in rng.choice(len(products), min(n_items, len(products)),
                                              replace=False)]
    for item in sample[:5]:
        rec.similar(item, k=10)
    wall, cpu_ms, items, valid = [], [], 0, 0
    for item in sample:
        t0, c0 = time.perf_counter(), time.thread_time()
        found = rec.similar(item, k=10)
        wall.append((time.perf_counter() - t0) * 1e3)
        cpu_ms.append((time.thread_time() - c0) * 1e3)
        items += len(found)
        valid += sum(bool(r.paths) and all(hop_exists(rec.graph, e) for p in r.paths
                                           for e in p.edges) for r in found)
    return {"items_asked": len(sample), "wall_ms": _percentiles(wall),
            "cpu_ms": _percentiles(cpu_ms), "answers": items,
            "share_with_valid_path": round(valid / max(items, 1), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/sg_bench_recommend_speed"))
    parser.add_argument("--reuse", action="store_true", help="reuse built artifacts in --work")
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--skip-big", action="store_true", help="ML-100K only")
    parser.add_argument("--build-timeout", type=float, default=3600.0)
    parser.add_argument("--build", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build is not None:
        dataset, out = args.build
        print(json.dumps(build_case(Path(dataset), Path(out))))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    cases: dict[str, dict] = {}
    datasets = prepare(args.work, not args.skip_big)
    if not datasets:
        sys.exit(f"ML-100K not found at {ML_100K} (set SHOPGRAPH_SHARED_DATA): nothing measured")
    for name, dataset in datasets.items():
        art = args.work / f"art-{name}"
        case: dict = {}
        if not (args.reuse and (art / "hybrid.json").is_file()):
            case["build"] = build_in_subprocess(dataset, art, args.build_timeout)
        else:
            manifest = json.loads((art / "manifest.json").read_text(encoding="utf-8"))
            case["build"] = {"reused": True, "stage_seconds": manifest["seconds"]}
        case.update(measure(art, args.users))
        cases[name] = case
        print(name, json.dumps(case, indent=1))
    rows = [("case", "load s", "expl p50", "p95", "p99", "cpu p99", "plain p50", "p99",
             "valid")]
    for name, c in cases.items():
        e, p = c["with_explanations"], c["without_explanations"]
        rows.append((name, f"{c['load_seconds']:.2f}", *(f"{e['wall_ms'][q]:.1f}" for q in
                    ("p50", "p95", "p99")), f"{e['cpu_ms']['p99']:.1f}",
                     f"{p['wall_ms']['p50']:.1f}", f"{p['wall_ms']['p99']:.1f}",
                     f"{e['share_with_valid_path']:.3f}"))
    for row in rows:
        print("  ".join(f"{x:>10}" for x in row))
    ml, bg = cases.get("ml-100k"), cases.get("demo-1M")
    targets = {}
    if ml:
        targets["ml-100k explained p50 <= 5 ms"] = ml["with_explanations"]["wall_ms"]["p50"] <= 5
        targets["ml-100k explained p99 <= 25 ms"] = ml["with_explanations"]["wall_ms"]["p99"] <= 25
    if bg:
        targets["1M events explained p99 <= 50 ms"] = \
            bg["with_explanations"]["wall_ms"]["p99"] <= 50
        targets["1M events load <= 5 s"] = bg["load_seconds"] <= 5
    for target, met in targets.items():
        print(f"{'MET' if met else 'MISSED'}: {target}")
    atomic_write_json(RESULTS, {
        "command": "python bench/recommend_speed.py " + " ".join(sys.argv[1:]),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(),
                    "load_average_at_start": [round(x, 2) for x in load_before],
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
                    "note": "cores shared with other jobs: wall ms include contention; cpu_ms "
                            "is the serving thread's own CPU time"},
        "cases": cases,
        "targets_met": targets,
    })


if __name__ == "__main__":
    main()
