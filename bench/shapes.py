"""Data shapes nobody tuned on: the default build on datasets derived to look unlike ours.

Every shape is a dataset in the documented JSONL form (docs/dataset.md), derived in a
temporary folder from a small generated demo world (seed 7) or from ML-100K, never copied
into the repository:

- ``control``: the small demo world as generated (the reference for the others);
- ``engagement-only``: no purchase, cart or rate events, only views, clicks, likes,
  shares, comments, and the posts;
- ``ratings-explicit``: 150 users of ML-100K: only ``rate`` events of 1-5 stars (low
  stars mean dislike), no posts or follows;
- ``ratings-zero``: the same ratings, every one of 0 stars (a rating still says the user
  rated the product);
- ``sparse``: 80% of the users keep the events of 1-3 products only (a long tail);
- ``posts-heavy``: a tenth of the events, all the posts (the mention linker's path);
- ``no-timestamps`` / ``equal-timestamps``: every ``ts`` removed / set to one instant;
- ``tiny``: a generated world of 30 users and 50 products;
- ``no-follows``: the control world without ``follows.jsonl``;
- ``bare-catalogue``: products with an id and a title only (no brand, categories, text);
- ``post-events-only``: only the events on posts: products are reached through the posts.

Per shape: ``shopgraph build`` with its defaults (:func:`bench.generalise.measured_build`:
a crash is recorded, not raised), the served model and validation targets from the
manifest, then on the artifact's graph for a random 20%-per-user hold-out (and by time
where the timestamps allow it) the hybrid, each component alone, the baselines and the
explained share (:func:`recommend.evaluate.holdout.evaluate_graph`; its ``model_info``: what
that split's build chose, summed up in ``chose``), and the peers of :mod:`bench.peers` on the
same split. The targets the evaluation holds out are the ones
:func:`recommend.hybrid.targets.resolve_targets` chooses from what the data has (the peers
use the same, and with the post tier, learn from it as the baselines do: for
``post-events-only``, the products named by the posts each user engaged with). Flags: the
build crashed, the hybrid is below its best component or best peer, or fewer than 95% of
recommendations are explained; and where the 95% interval of the hybrid's paired per-user gap
to its best part or peer (``vs_best_part``, ``vs_best_peer``: :mod:`bench.paired`) lies
below 0, "beyond noise".

Usage: ``HF_HUB_OFFLINE=1 .venv/bin/python bench/shapes.py [--only NAME ...]``; results are
merged into bench/results/shapes.json shape by shape.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.generalise import K, import_dataset, measured_build, paired  # noqa: E402
from bench.paired import described  # noqa: E402
from bench.peers import peers  # noqa: E402
from kg.atomic import atomic_write_json  # noqa: E402

OUT = ROOT / "bench" / "results" / "shapes.json"
#: the small generated world the demo shapes derive from
DEMO = ("--users", "300", "--products", "200", "--posts", "1500", "--events", "7000")
TINY = ("--users", "30", "--products", "50", "--posts", "100", "--events", "400")
FILES = ("products", "users", "follows", "posts", "events")
#: explained share below which a shape is flagged
EXPLAINED_TARGET = 0.95

Rows = dict[str, list[dict[str, Any]]]


def read_rows(folder: Path) -> Rows:
    """The five record files of a dataset folder (absent ones empty)."""
    out: Rows = {}
    for name in FILES:
        path = folder / f"{name}.jsonl"
        out[name] = ([json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
                     if path.is_file() else [])
    return out


def write_rows(rows: Rows, folder: Path) -> None:
    """Write the record files of ``rows`` (a key absent from ``rows``: no file)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, items in rows.items():
        (folder / f"{name}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in items), encoding="utf-8")


def generate(out: Path, seed: int, sizes: tuple[str, ...]) -> Rows:
    """A generated demo world of ``sizes`` (no images), read back."""
    from bench.generalise import shopgraph

    subprocess.run(shopgraph("import", "demo", "--out", str(out), "--no-images",
                             "--seed", str(seed), *sizes), check=True, cwd=ROOT,
                   capture_output=True)
    return read_rows(out)


def product_of(event: dict[str, Any]) -> str | None:
    """The product id an event targets, or None (a post)."""
    target = str(event["target"])
    if target.startswith("post:") or event.get("target_type") == "post":
        return None
    return target.removeprefix("product:")


def engagement_only(rows: Rows) -> Rows:
    keep = {"view", "click", "like", "share", "comment"}
    return {**rows, "events": [e for e in rows["events"] if e["kind"] in keep]}


def sparse(rows: Rows, rng: random.Random) -> Rows:
    """80% of users keep the events of 1-3 of their products (their post events stay)."""
    by_user: dict[str, list[str]] = {}
    for e in rows["events"]:
        p = product_of(e)
        if p is not None and p not in by_user.setdefault(e["user"], []):
            by_user[e["user"]].append(p)
    kept = {u: (set(ps) if rng.random() < 0.2 else set(rng.sample(ps, min(len(ps),
                                                                    rng.randint(1, 3)))))
            for u, ps in sorted(by_user.items())}
    events = [e for e in rows["events"]
              if (p := product_of(e)) is None or p in kept.get(e["user"], ())]
    return {**rows, "events": events}


def bare_catalogue(rows: Rows) -> Rows:
    """Products with an id and a title only: no brand, categories, description, attributes."""
    return {**rows, "products": [{"id": p["id"], "title": p["title"]} for p in rows["products"]]}


def post_events_only(rows: Rows) -> Rows:
    """Only the events on posts (likes, shares, comments, views): products are reached
    through what the posts name."""
    return {**rows, "events": [e for e in rows["events"] if product_of(e) is None]}


def posts_heavy(rows: Rows, rng: random.Random) -> Rows:
    return {**rows, "events": [e for e in rows["events"] if rng.random() < 0.1]}


def without_times(rows: Rows, instant: float | None) -> Rows:
    """Every ``ts`` dropped (``instant`` None) or set to ``instant``."""
    def fix(r: dict[str, Any]) -> dict[str, Any]:
        r = {k: v for k, v in r.items() if k != "ts"}
        return r if instant is None else {**r, "ts": instant}
    return {name: [fix(r) for r in items] for name, items in rows.items()}


def ratings_subset(source: Path, n_users: int) -> Rows:
    """The first ``n_users`` users of an imported ML-100K and their ratings."""
    rows = read_rows(source)
    users = rows["users"][:n_users]
    ids = {str(u["id"]) for u in users}
    events = [e for e in rows["events"] if str(e["user"]) in ids]
    return {"products": rows["products"], "users": users, "events": events}


def derive(name: str, work: Path) -> Path:
    """The dataset folder of shape ``name`` (derived under ``work``)."""
    rng = random.Random(0)
    out = work / name
    if name in ("ratings-explicit", "ratings-zero"):
        ml = work / "ml-100k-import"
        if not ml.is_dir():
            import_dataset("movielens", "ml-100k", ml)
        rows = ratings_subset(ml, 150)
        if name == "ratings-zero":
            rows["events"] = [{**e, "value": 0} for e in rows["events"]]
        write_rows(rows, out)
        return out
    if name == "tiny":
        generate(out, 7, TINY)
        return out
    base = work / "demo-base"
    rows = read_rows(base) if base.is_dir() else generate(base, 7, DEMO)
    shapes: dict[str, Callable[[], Rows]] = {
        "control": lambda: rows,
        "engagement-only": lambda: engagement_only(rows),
        "sparse": lambda: sparse(rows, rng),
        "posts-heavy": lambda: posts_heavy(rows, rng),
        "no-timestamps": lambda: without_times(rows, None),
        "equal-timestamps": lambda: without_times(rows, 1.7e9),
        "no-follows": lambda: {k: v for k, v in rows.items() if k != "follows"},
        "bare-catalogue": lambda: bare_catalogue(rows),
        "post-events-only": lambda: post_events_only(rows),
    }
    write_rows(shapes[name](), out)
    return out


SHAPES = ("control", "engagement-only", "ratings-explicit", "ratings-zero", "sparse", "posts-heavy",
          "no-timestamps", "equal-timestamps", "tiny", "no-follows", "bare-catalogue",
          "post-events-only")


def evaluate_split(graph: Any, mode: str, encoder: Any) -> dict[str, Any]:
    """The default hybrid's evaluation and the peers on the same split, the targets resolved
    from what the data has (as :func:`recommend.evaluate.holdout.evaluate_graph` does)."""
    from recommend.evaluate.holdout import evaluate_graph
    from recommend.hybrid.config import HybridConfig
    from recommend.hybrid.split import holdout_split
    from recommend.hybrid.targets import resolve_targets

    config = HybridConfig()
    result = evaluate_graph(graph, config, mode=mode, encoder=encoder,  # type: ignore[arg-type]
                            log=lambda s: print(f"    [{mode}] {s}", flush=True))
    out = result.to_json()  # model_info: what this split's build chose, as generalise.json
    out["served"] = result.model_info.get("selection", {}).get("chosen")
    out["chose"] = chosen(result.model_info)
    if result.users:
        targets, _ = resolve_targets(graph, config.split.target_relations, 2)
        split = holdout_split(graph, target_relations=targets, fraction=0.2,
                              min_user_items=2, seed=1000, derived=config.split.derived_relations,
                              mode=mode)  # type: ignore[arg-type]
        out["peers"] = peers(split.train_graph, split.relevant, split.users, targets)
        out.update(paired(result, split.users, out["peers"]))
    return out


def chosen(info: dict[str, Any]) -> dict[str, Any]:
    """What a build chose, from its model info: the CF family and its parameters (and the
    contenders the blend judged), the blend's fitter, the served ranker, the candidate pool
    and its recall, the selection users and the tuning's seconds."""
    tuning, selection = info.get("cf_tuning", {}), info.get("selection", {})
    candidates = info.get("candidates", {})
    return {"cf": tuning.get("chosen"),
            "cf_by_blend": sorted(tuning.get("by_blend", {}).get("contenders", {})),
            "fitter": selection.get("fitter"), "served": selection.get("chosen"),
            "judged": selection.get("judged"), "selection_users": selection.get("users"),
            "candidate_recall": round(selection["candidate_recall"], 4)
            if "candidate_recall" in selection else None,
            "per_component": candidates.get("per_component"),
            "tune_seconds": tuning.get("seconds"), "tune_cpu_seconds": tuning.get("cpu_seconds")}


def verdict(ev: dict[str, Any]) -> dict[str, Any]:
    """The hybrid against its best component and best peer, and the explained share."""
    rows, key = ev.get("rows", {}), f"NDCG@{K}"
    if not rows:
        return {"flags": ["nothing held out"]}
    hyb = rows["hybrid"][key]
    parts = {n: r[key] for n, r in rows.items() if n.endswith(" alone")}
    peer = {n: r[key] for n, r in ev.get("peers", {}).items() if key in r}
    out: dict[str, Any] = {"hybrid": round(hyb, 4), "flags": []}
    for label, pool in (("part", parts), ("peer", peer)):
        if pool:
            best = max(pool, key=pool.get)  # type: ignore[arg-type]
            out[f"best_{label}"] = [best, round(pool[best], 4)]
            out[f"vs_{label}"] = round(hyb / max(pool[best], 1e-9), 3)
            if hyb < pool[best]:
                out["flags"].append(f"below best {label} {best}")
            paired = ev.get(f"vs_best_{label}") or {}
            if paired.get("hi") is not None and paired["hi"] < 0:  # 95% interval below 0
                out["flags"].append(f"below best {label} {paired['name']} beyond noise")
    if ev.get("explained", 1.0) < EXPLAINED_TARGET:
        out["flags"].append(f"explained {ev['explained']:.3f}")
    return out


def run_shape(name: str, work: Path) -> dict[str, Any]:
    from kg.artifact import load_artifact
    from kg.interactions import latest_times
    from recommend.hybrid.config import HybridConfig
    from recommend.hybrid.model import make_encoder
    from recommend.hybrid.split import times_usable
    from recommend.hybrid.targets import resolve_targets

    print(f"== {name}: deriving", flush=True)
    ds, art = derive(name, work), work / f"{name}-art"
    counts = {f: sum(1 for line in (ds / f"{f}.jsonl").open() if line.strip())
              if (ds / f"{f}.jsonl").is_file() else 0 for f in FILES}
    res: dict[str, Any] = {"records": counts}
    print(f"== {name}: building with the defaults {counts}", flush=True)
    try:
        res["build"] = measured_build(ds, art, work / f"{name}-embeddings")
    except RuntimeError as exc:
        res["crashed"] = {"stage": "build", "error": str(exc)[-1500:]}
        return res
    manifest = json.loads((art / "manifest.json").read_text())
    info = manifest["stages"]["models"].get("info", {})
    res["validation"] = {k: info.get(k) for k in ("validation", "validation_users",
                                                  "candidates", "selection") if k in info}
    res["validation"]["cf"] = info.get("cf_tuning", {}).get("chosen")
    res["validation"]["blend"] = manifest["stages"]["models"].get("blend", {}).get("kind")
    graph = load_artifact(art).graph
    targets, record = resolve_targets(graph, HybridConfig().split.target_relations, 2)
    usable, stats = times_usable(latest_times(graph, targets), 2)
    res["test_targets"] = record
    res["timestamps"] = {"usable": usable, **stats}
    encoder = make_encoder(HybridConfig(), cache_dir=work / f"{name}-embeddings")
    res["splits"] = {}
    for mode in ("random", "time") if usable else ("random",):
        print(f"== {name}: {mode} hold-out", flush=True)
        try:
            ev = evaluate_split(graph, mode, encoder)
        except Exception:  # a crash of the evaluation is a finding, recorded
            res["crashed"] = {"stage": f"evaluate {mode}", "error": traceback.format_exc()[-1500:]}
            break
        ev["verdict"] = verdict(ev)
        res["splits"][mode] = ev
    return res


def summarise(name: str, res: dict[str, Any]) -> None:
    if "crashed" in res:
        print(f"{name:18s} CRASHED in {res['crashed']['stage']}: "
              f"{res['crashed']['error'].strip().splitlines()[-1]}")
    for mode, ev in res.get("splits", {}).items():
        v = ev["verdict"]
        print(f"{name:18s} {mode:6s} hybrid {v.get('hybrid', 0):.4f} "
              f"part {v.get('best_part')} ({v.get('vs_part')}x) peer {v.get('best_peer')} "
              f"({v.get('vs_peer')}x) explained {ev.get('explained', 0):.3f} "
              f"served {ev.get('served')} cf {ev.get('chose', {}).get('cf')} "
              f"flags {v['flags']}", flush=True)
        if "vs_best_part" in ev:
            print(f"{'':25s} vs part {described(ev.get('vs_best_part'))}; "
                  f"vs peer {described(ev.get('vs_best_peer'))}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=SHAPES, default=None)
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR",
                        help="derive and build in DIR (kept; default a temporary folder)")
    args = parser.parse_args()
    results = json.loads(OUT.read_text()) if OUT.is_file() else {"shapes": {}}
    work = args.keep or Path(tempfile.mkdtemp(prefix="shapes-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        for name in args.only or SHAPES:
            began, load_before = time.perf_counter(), os.getloadavg()
            res = run_shape(name, work)
            res["seconds"] = round(time.perf_counter() - began, 1)
            res["load_average"] = {"began": [round(v, 2) for v in load_before],
                                   "ended": [round(v, 2) for v in os.getloadavg()]}
            results["shapes"][name] = res
            atomic_write_json(OUT, results)
            summarise(name, res)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    for name, res in results["shapes"].items():
        summarise(name, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
