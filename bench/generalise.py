"""Generalisation: the default build on every dataset we have, against peers, on both splits.

Per dataset (imported with the loaders, or a generated demo world; ``size-world`` is the
issue's size case: 2k users, 18k products, 80k posts, 75k events, no images or prices):

1. ``shopgraph build`` with its defaults, in a subprocess: wall seconds, peak RSS,
   artifact MB, the content encoder's seconds; then ``recommend(k=10)`` with paths for
   200 users of the loaded artifact: p50 / p99 ms;
2. on the artifact's enriched graph, for each split (a random 20%-per-user hold-out, and
   by time where the timestamps allow it): :func:`recommend.evaluate.holdout.evaluate_graph`
   (the default hybrid, each component alone, popularity and item-kNN baselines, the
   explained share), and the peers of :mod:`bench.peers` on the same training
   interactions, each fitted in a child process of its own: implicit ItemKNN (cosine,
   K = 200), implicit ALS (small grid on a validation cut of train), EASE (lambda picked
   on that cut), popularity.

Nothing here is tuned per dataset: the hybrid is ``HybridConfig()``.
Usage: ``HF_HUB_OFFLINE=1 .venv/bin/python bench/generalise.py [--only NAME ...] [--keep DIR]``;
results of each dataset are merged into bench/results/generalise.json as they finish.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.paired import compare, described  # noqa: E402
from bench.peers import peers  # noqa: E402
from kg.atomic import atomic_write_json  # noqa: E402

SHARED = Path(os.environ.get("SHOPGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data"))
OUT = ROOT / "bench" / "results" / "generalise.json"
K = 10
#: name -> (import kind, source folder or file in ../shared/data, or a demo seed)
DATASETS: dict[str, tuple[str, str]] = {
    "ml-100k": ("movielens", "ml-100k"),
    "amazon-beauty-kg": ("amazon-beauty-kg", "amazon_beauty_kg"),
    # the folder as `shopgraph import amazon-reviews` reads it (both files), and each file
    "amazon2018-beauty-fashion": ("amazon-reviews", "amazon2018_5core_beauty_fashion"),
    "amazon2018-beauty": ("amazon-reviews", "amazon2018_5core_beauty_fashion/All_Beauty_5.json.gz"),
    "amazon2018-fashion": ("amazon-reviews",
                           "amazon2018_5core_beauty_fashion/AMAZON_FASHION_5.json.gz"),
    "amazon2023-histories": ("amazon2023", "amazon2023_multicategory_user_histories"),
    "ciao": ("ciao", "ciao_trust_ratings"),
    "demo-7": ("demo", "7"),
    "demo-8": ("demo", "8"),
    "demo-9": ("demo", "9"),
    # issue 13's "size" case: a platform's posts and events, no images or prices
    "size-world": ("demo-size", "11"),
}
#: the size case: 2k users, 18k products, 80k posts, 75k events
SIZE_WORLD = ("--users", "2000", "--products", "18000", "--posts", "80000", "--events", "75000")


def shopgraph(*args: str) -> list[str]:
    return [sys.executable, "-m", "scripts.cli", *args]


def import_dataset(kind: str, source: str, out: Path) -> None:
    if kind.startswith("demo"):
        args = ["import", "demo", "--out", str(out), "--no-images", "--seed", source,
                *(SIZE_WORLD if kind == "demo-size" else ())]
    else:
        args = ["import", kind, str(SHARED / source), "--out", str(out)]
    subprocess.run(shopgraph(*args), check=True, cwd=ROOT, capture_output=True)
    if kind == "demo-size":  # the products carry no prices
        products = out / "products.jsonl"
        rows = [json.loads(line) for line in products.open(encoding="utf-8")]
        products.write_text("".join(json.dumps({k: v for k, v in row.items() if k != "price"})
                                    + "\n" for row in rows), encoding="utf-8")


def measured_build(dataset: Path, artifact: Path, embed_cache: Path) -> dict[str, Any]:
    """``shopgraph build`` with its defaults in a child process: seconds, peak RSS.

    ``--embed-cache embed_cache`` only keeps the sentence vectors the build makes (an empty
    folder: the build embeds every text as a default build does, and writes them once) so
    that the evaluation's fits on each split read them instead of embedding the catalogue
    again (106 s of the size world's bench)."""
    if embed_cache.is_dir() and any(embed_cache.iterdir()):
        raise RuntimeError(f"{embed_cache} holds vectors of an earlier run: the build would not "
                           "embed its texts as a default build does; use a new --keep folder")
    code = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *shopgraph(
        "build", str(dataset), "--out", str(artifact), "--no-progress",
        "--embed-cache", str(embed_cache))],
        cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - began
    if done.returncode:
        raise RuntimeError(f"build failed: {done.stderr[-2000:]}")
    manifest = json.loads((artifact / "manifest.json").read_text())
    model = manifest.get("stages", {}).get("models", {})
    size = sum(p.stat().st_size for p in artifact.rglob("*") if p.is_file())
    return {"build_seconds": round(seconds, 1),
            "peak_rss_mb": round(int(done.stdout.split()[-1]) / 1024, 1),
            "artifact_mb": round(size / 2**20, 1),
            "encoder_seconds": model.get("info", {}).get("seconds", {}).get("content"),
            "stage_seconds": {k: round(v, 1) for k, v in manifest["seconds"].items()},
            "served": model.get("info", {}).get("selection", {}).get("chosen"),
            "cf": model.get("info", {}).get("cf_tuning", {}).get("chosen")}


def serving_latency(rec: Any, n: int = 200, seed: int = 0) -> dict[str, float]:
    """p50 / p99 ms of recommend(k=10) with paths for ``n`` users with a history."""
    seen = rec.model.seen_
    users = np.flatnonzero(np.diff(seen.indptr))
    rng = np.random.default_rng(seed)
    pick = rng.choice(users, min(n, len(users)), replace=False)
    ids = [rec.graph.node_id("user", int(u)) for u in pick]
    rec.recommend(ids[0], K)  # warm
    times = []
    for uid in ids:
        began = time.perf_counter()
        rec.recommend(uid, K, explain=True)
        times.append((time.perf_counter() - began) * 1000)
    return {"p50_ms": round(float(np.percentile(times, 50)), 2),
            "p99_ms": round(float(np.percentile(times, 99)), 2)}


def evaluate_split(graph: Any, mode: str, encoder: Any) -> dict[str, Any]:
    from recommend.evaluate.holdout import evaluate_graph
    from recommend.hybrid.config import HybridConfig
    from recommend.hybrid.split import holdout_split

    config = HybridConfig()
    result = evaluate_graph(graph, config, mode=mode, encoder=encoder,  # type: ignore[arg-type]
                            log=lambda s: print(f"    [{mode}] {s}", flush=True))
    out = result.to_json()
    if result.users:  # the same split again (seeded): peers on its training interactions
        split = holdout_split(graph, target_relations=config.split.target_relations, fraction=0.2,
                              min_user_items=2, seed=1000, derived=config.split.derived_relations,
                              mode=mode)  # type: ignore[arg-type]
        out["peers"] = peers(split.train_graph, split.relevant, split.users)
        out.update(paired(result, split.users, out["peers"]))
    return out


def paired(result: Any, users: np.ndarray, peer_figures: dict[str, Any]) -> dict[str, Any]:
    """The hybrid's paired per-user NDCG gap to its best part and best peer
    (:func:`bench.paired.compare`), once the peers' split is known to hold the evaluation's
    test users in the same order."""
    if not np.array_equal(users, result.test_users):
        raise RuntimeError(f"the peers' split holds other test users than the evaluation's "
                           f"({len(users)} and {len(result.test_users)}): no pairing")
    return compare(result.per_user, peer_figures)


def summarise(name: str, res: dict[str, Any]) -> None:
    for mode, ev in res.get("splits", {}).items():
        rows = ev.get("rows", {})
        if not rows:
            continue
        hyb = rows["hybrid"][f"NDCG@{K}"]
        parts = {n: r[f"NDCG@{K}"] for n, r in rows.items() if n.endswith(" alone")}
        peer = {n: r[f"NDCG@{K}"] for n, r in ev.get("peers", {}).items()
                if f"NDCG@{K}" in r}
        best_part = max(parts, key=parts.get)
        best_peer = max(peer, key=peer.get) if peer else None
        line = (f"{name:28s} {mode:6s} hybrid {hyb:.4f}  best part {best_part} "
                f"{parts[best_part]:.4f}")
        if best_peer:
            ratio = hyb / max(peer[best_peer], 1e-9)
            line += f"  best peer {best_peer} {peer[best_peer]:.4f} ({ratio:.3f}x)"
        print(line + f"  explained {ev.get('explained', 0):.3f}", flush=True)
        if "vs_best_part" in ev:
            print(f"{'':35s} vs part {described(ev.get('vs_best_part'))}; "
                  f"vs peer {described(ev.get('vs_best_peer'))}", flush=True)


def run_dataset(name: str, kind: str, source: str, work: Path) -> dict[str, Any]:
    from kg.artifact import load_artifact
    from recommend.hybrid.split import times_usable
    from recommend.recommender import Recommender

    ds, art = work / f"{name}-data", work / f"{name}-art"
    print(f"== {name}: importing", flush=True)
    import_dataset(kind, source, ds)
    print(f"== {name}: building with the defaults", flush=True)
    res: dict[str, Any] = {"build": measured_build(ds, art, work / f"{name}-embeddings")}
    rec = Recommender.load(art)
    res["serving"] = serving_latency(rec)
    graph = load_artifact(art).graph
    del rec
    from kg.interactions import latest_times

    usable, stats = times_usable(latest_times(graph, ("purchased", "carted", "rated")), 2)
    res["timestamps"] = {"usable": usable, **stats}
    res["splits"] = {}
    # the default config's encoder reading the vectors the build kept: the splits hold the
    # same catalogue, so its texts are embedded once, by the build
    from recommend.hybrid.config import HybridConfig
    from recommend.hybrid.model import make_encoder

    encoder = make_encoder(HybridConfig(), cache_dir=work / f"{name}-embeddings")
    for mode in ("random", "time") if usable else ("random",):
        print(f"== {name}: {mode} hold-out", flush=True)
        res["splits"][mode] = evaluate_split(graph, mode, encoder)
    return res


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="dataset names to run")
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR",
                        help="build each dataset in DIR/NAME and keep it (default: a "
                        "temporary folder, removed)")
    args = parser.parse_args()
    results = json.loads(OUT.read_text()) if OUT.is_file() else {"datasets": {}}
    names = args.only or list(DATASETS)
    for name in names:
        kind, source = DATASETS[name]
        if not kind.startswith("demo") and not (SHARED / source).exists():
            print(f"skip {name}: {SHARED / source} absent")
            continue
        with contextlib.ExitStack() as stack:
            if args.keep is None:
                work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="generalise-")))
            else:
                work = args.keep / name
                work.mkdir(parents=True, exist_ok=False)
            began, load_before = time.perf_counter(), os.getloadavg()
            res = run_dataset(name, kind, source, work)
            res["seconds"] = round(time.perf_counter() - began, 1)
            # the 1/5/15-minute load averages as the run began and ended: runs merged from
            # several invocations each keep the load they were measured under
            res["load_average"] = {"began": [round(v, 2) for v in load_before],
                                   "ended": [round(v, 2) for v in os.getloadavg()]}
        results["datasets"][name] = res
        results["load_average"] = os.getloadavg()
        results["cpu_seconds"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_utime, 1)
        atomic_write_json(OUT, results)
        summarise(name, res)
    for name, res in results["datasets"].items():
        summarise(name, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
