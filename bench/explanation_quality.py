"""Explanation quality before and after path selection: LIR, SEP, ETD, validity, fidelity.

Per dataset, the default hybrid (``HybridConfig()``) is fitted as the other benches fit it:

- ``amazon-beauty``: ``shopgraph import amazon-beauty-kg`` (PGPR/CAFE split), the graph with
  its also_* relations, trained on ``cafe/train_labels``; NDCG@10 over every user with test
  purchases (bench/kg_amazon_beauty.py);
- ``ml-100k``: the ranking protocol (per-user temporal 80/20, fingerprint checked), the graph
  without the test ratings; NDCG@10 over every test user (bench/hybrid_movielens.py);
- ``demo-7``, ``demo-8``, ``demo-9``: generated worlds (no images) built with the nlp and
  profiles stages; no test split, so no NDCG (the ranking identity below is the check).

Then for a sample of test users (``--users``) the top 10 with paths, twice: with every
selection weight 0 ("before": the largest shares, as served until now) and with the
defaults of :class:`recommend.hybrid.config.HybridConfig` ("after"):
:func:`recommend.evaluate.explanations.evaluate_explanations` on each, a check that both runs
rank the same items with the same scores (selection never touches the ranking), and 20 sample
explanations; ``etd_ceiling``, the ETD no selection can pass: the distinct types among every
path of each user's top 10 that carries at least ``paths.min_share`` of its item's score.
``without_valid_path`` lists the items shown with no valid path and what carried their score
(:func:`missing_paths`), counting apart those shown to a user with no product history and the
users with no stored edge at all. Both runs show the paths of every component (graph and
social meta-path instances; cf, session, content and popularity evidence,
:mod:`recommend.paths.reasons`), none carrying less than ``paths.min_share`` of the item's
score. With ``--tune``, a small
grid of weights is measured on other users (the validation sample) of ML-100K and Beauty,
and the test users are measured again at the validation's best when it is not the default:
how the defaults were chosen.

Usage: ``HF_HUB_OFFLINE=1 .venv/bin/python bench/explanation_quality.py [--only NAME ...]``;
each dataset's results are merged into bench/results/explanation_quality.json as it finishes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from kg.atomic import atomic_write_json  # noqa: E402
from recommend.evaluate import harness as h  # noqa: E402
from recommend.hybrid.config import HybridConfig  # noqa: E402

SHARED = Path(os.environ.get("SHOPGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data"))
OUT = ROOT / "bench" / "results" / "explanation_quality.json"
K = 10
DATASETS = ("amazon-beauty", "ml-100k", "demo-7", "demo-8", "demo-9")
WEIGHTS = ("recency_weight", "specificity_weight", "diversity_weight")  # HybridConfig.paths
GRID = {"recency_weight": (1.0, 2.0), "specificity_weight": (0.0, 0.5),
        "diversity_weight": (0.5, 1.0, 2.0)}
PUBLISHED = {"PGPR top-10 on ML-1M": {"LIR": 0.489, "SEP": 0.564, "ETD": 0.149},
             "SIGIR'22 re-ranking, alpha 0.05, ML-1M": {"LIR": 0.711, "SEP": 0.437,
                                                        "ETD": 0.273, "NDCG cost": "3%"}}


def log(text: str) -> None:
    print(text, flush=True)


def fit(graph) -> Any:
    from recommend.hybrid.fit import fit_hybrid
    from recommend.recommender import Recommender

    model = fit_hybrid(graph, HybridConfig(), log=lambda s: log(f"  [fit] {s}"))
    return Recommender(model)


def beauty(tmp: Path) -> tuple[Any, float, list[str]]:
    """The recommender, NDCG@10 over all test users, the test users' ids."""
    from kg_amazon_beauty import build, import_dataset, tasks, test_matrix

    ds = tmp / "beauty"
    import_dataset(SHARED / "amazon_beauty_kg", ds)
    graph = build(ds, with_also=True)
    columns = np.flatnonzero(graph.described("product"))
    task, _ = tasks(graph, test_matrix(graph, ds, columns), columns)
    rec = fit(graph)
    col_of = np.full(graph.num_nodes("product"), -1, np.int64)
    col_of[columns] = np.arange(len(columns))
    top = rec.model.top_k(task.users, K)
    recs = np.where(top >= 0, col_of[np.maximum(top, 0)], -1)
    ndcg = h.ranking_metrics(recs, task, ks=(K,))["NDCG@10"]
    return rec, ndcg, [graph.node_id("user", int(u)) for u in task.users]


def movielens(tmp: Path) -> tuple[Any, float, list[str]]:
    from hybrid_movielens import evaluate_model, train_graph

    from recommend.evaluate import protocols as p

    split = p.temporal_split(p.read_udata(SHARED / "ml-100k"))
    if split.fingerprint != p.RANKING_FINGERPRINT:
        raise SystemExit(f"split fingerprint {split.fingerprint} != {p.RANKING_FINGERPRINT}")
    task = h.ranking_task(split)
    subprocess.run([sys.executable, "-m", "scripts.cli", "import", "movielens",
                    str(SHARED / "ml-100k"), "--out", str(tmp / "ml")], check=True, cwd=ROOT)
    graph, _ = train_graph(tmp / "ml", split)
    rec = fit(graph)
    ndcg = evaluate_model(rec.model, graph, task)["NDCG@10"]
    ids = task.train.user_ids[task.users]
    return rec, ndcg, [f"user:{x}" for x in ids]


def demo(tmp: Path, seed: int) -> tuple[Any, None, list[str]]:
    from kg.artifact import build_artifact
    from kg.demo import DemoConfig, generate_demo_world
    from recommend.model_stage import model_stage
    from recommend.recommender import Recommender
    from recommend.stages import EnrichConfig, enrichment_stages

    root = tmp / f"demo-{seed}"
    generate_demo_world(root / "data", DemoConfig(seed=seed, images=False))
    stages = enrichment_stages(EnrichConfig(vision=False), progress=False)
    build_artifact(root / "data", root / "art", progress=False,
                   stages=[*stages, ("models", model_stage(HybridConfig()))])
    rec = Recommender.load(root / "art")
    return rec, None, rec.graph.nodes("user")


def with_weights(rec, **weights: float) -> None:
    rec.model.config = rec.model.config.updated(paths=weights)


def run_lists(rec, users: list[str]) -> list[tuple[str, list]]:
    return [(u, rec.recommend(u, K)) for u in users]


def measure(rec, users: list[str], weights: dict[str, float], fidelity: bool = True
            ) -> tuple[dict[str, Any], list[tuple[str, list]]]:
    from recommend.evaluate.explanations import evaluate_explanations

    saved = rec.model.config
    with_weights(rec, **weights)
    t0 = time.perf_counter()
    lists = run_lists(rec, users)
    seconds = time.perf_counter() - t0
    rec.model.config = saved
    quality = evaluate_explanations(rec, lists, k=K, fidelity_every=1 if fidelity else 10**9)
    return {**quality.to_json(), "weights": weights,
            "recommend_ms_per_user": round(1000 * seconds / max(len(users), 1), 2)}, lists


def etd_ceiling(rec, users: list[str], every: int = 40) -> float:
    """The highest ETD any selection could reach: per user, the ETD
    (:func:`recommend.evaluate.explanations.etd`) of the types of all the paths of the top 10
    that carry at least ``paths.min_share`` (up to ``every`` per item), at most 1 (one type
    per item's headline)."""
    from recommend.evaluate.explanations import etd, n_path_types, path_type

    saved = rec.model.config
    with_weights(rec, max_paths=every)
    try:
        n_types = n_path_types(rec)
        return float(np.mean([min(etd([path_type(p) for r in recs for p in r.paths], n_types,
                                      K), 1.0) for _, recs in run_lists(rec, users)]))
    finally:
        rec.model.config = saved


def missing_paths(rec, lists: list[tuple[str, list]], limit: int = 30) -> dict[str, Any]:
    """The items shown with no valid path and why: per item, the components with a positive
    part, how many of the user's products each evidence component named (its links), the
    item's stored relations (what any path could go through) and the reason said.
    ``cold_start_items`` counts those shown to a user with no product of their own (no
    cf, session or content path can start there), ``cold_start_users`` lists each such
    user's stored edges (relation counts: what a path could start with) and
    ``no_edge_users`` those with none at all (no path can exist)."""
    from collections import Counter

    from recommend.hybrid.audit import path_is_valid
    from recommend.hybrid.evidence import component_evidence
    from recommend.paths.user_reasons import own_products

    graph, rows, largest = rec.graph, [], Counter()
    cold: dict[str, dict[str, int]] = {}
    n_cold = 0
    for user, recs in lists:
        uid = rec.user_id(user)
        for r in recs:
            if any(path_is_valid(graph, p) for p in r.paths):
                continue
            parts = {k: round(v, 4) for k, v in r.parts.items() if v > 0}
            largest[max(parts, key=parts.get) if parts else "none"] += 1
            evidence = component_evidence(rec.model, graph.index(uid),
                                          np.array([graph.index(r.item)]), [r.parts])[0]
            relations = Counter(f"{d}:{e.relation}" for d in ("out", "in")
                                for e in graph.neighbors(r.item, direction=d))
            rows.append({"user": user, "item": r.item, "parts": parts, "reason": r.reason,
                         "evidence_links": {e.component: len(e.links) for e in evidence},
                         "item_relations": dict(sorted(relations.items()))})
            if graph.has_node(uid) and own_products(graph, uid):
                continue
            n_cold += 1
            cold[user] = dict(sorted(Counter(
                f"{d}:{e.relation}" for d in ("out", "in")
                for e in (graph.neighbors(uid, direction=d) if graph.has_node(uid) else ())
            ).items()))
    return {"items": len(rows), "by_largest_part": dict(largest), "cold_start_items": n_cold,
            "cold_start_users": cold, "no_edge_users": sorted(u for u, e in cold.items() if not e),
            "sample": rows[:limit]}


def samples(lists: list[tuple[str, list]], n: int = 20) -> list[dict[str, Any]]:
    """The first path of the first items of the first users: ``n`` explanations."""
    out = []
    for user, recs in lists:
        for r in recs[:2]:
            if r.paths and len(out) < n:
                out.append({"user": user, "item": r.item, "rank_score": round(r.score, 4),
                            "paths": [{"text": p.text, "type": p.metapath or p.kind,
                                       "contribution": round(p.contribution, 4)}
                                      for p in r.paths]})
    return out


def tune(rec, users: list[str]) -> list[dict[str, Any]]:
    """The grid on validation users: LIR, SEP, ETD per weight setting (no fidelity)."""
    rows = []
    for values in itertools.product(*GRID.values()):
        weights = dict(zip(GRID, values, strict=True))
        q, _ = measure(rec, users, weights, fidelity=False)
        rows.append({"weights": weights, "LIR": q["lir"] and round(q["lir"], 4),
                     "SEP": q["sep"] and round(q["sep"], 4),
                     "ETD": round(q["etd"], 4),
                     "objective": round((q["lir"] or 0.0) + q["etd"]
                                        + 0.5 * (1 - (q["sep"] or 0.0)), 4)})
        log(f"    tune {values}: {rows[-1]}")
    return rows


def run(name: str, tmp: Path, n_users: int, n_val: int, do_tune: bool) -> dict[str, Any]:
    t0 = time.perf_counter()
    if name == "amazon-beauty":
        rec, ndcg, users = beauty(tmp)
    elif name == "ml-100k":
        rec, ndcg, users = movielens(tmp)
    else:
        rec, ndcg, users = demo(tmp, int(name.split("-")[1]))
    build_seconds = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    order = rng.permutation(len(users))
    test = [users[j] for j in order[:n_users]]
    val = [users[j] for j in order[n_users:n_users + n_val]]
    off = dict.fromkeys(WEIGHTS, 0.0)
    defaults = {w: getattr(HybridConfig().paths, w) for w in WEIGHTS}
    before, lists_before = measure(rec, test, off)
    log(f"  before: {before}")
    after, lists_after = measure(rec, test, defaults)
    log(f"  after:  {after}")
    missing = missing_paths(rec, lists_after)
    log(f"  without a valid path: {missing['items']} items, {missing['cold_start_items']} of "
        f"them to users with no product history {missing['cold_start_users']}")
    same = all([(r.item, r.score) for r in a] == [(r.item, r.score) for r in b]
               for (_, a), (_, b) in zip(lists_before, lists_after, strict=True))
    ceiling = etd_ceiling(rec, test)
    log(f"  ETD ceiling (every path above the floor): {ceiling:.4f}")
    row = {"dataset": name, "content_encoder": rec.model.config.content.encoder,
           "path_min_share": rec.model.config.paths.min_share,
           "NDCG@10": ndcg, "ranking_unchanged_by_selection": same,
           "users_audited": len(test), "build_seconds": round(build_seconds, 1),
           "etd_ceiling": ceiling,
           "before_selection": before, "after_selection": after,
           "samples_after": samples(lists_after), "samples_before": samples(lists_before),
           "without_valid_path": missing}
    if do_tune and val:
        grid = tune(rec, val)
        best = max(grid, key=lambda r: r["objective"])["weights"]
        row["tuning_on_validation_users"] = {
            "users": len(val), "objective": "LIR + ETD + 0.5 (1 - SEP)", "best": best,
            "grid": grid}
        if best != defaults:
            row["after_selection_at_best"], _ = measure(rec, test, best)
            log(f"  after at the validation best {best}: {row['after_selection_at_best']}")
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--users", type=int, default=200, help="audited test users")
    parser.add_argument("--val-users", type=int, default=60, help="tuning users (--tune)")
    parser.add_argument("--tune", action="store_true", help="the weight grid on validation")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="Method expects CSR input")
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    results.setdefault("datasets", {})
    results["published"] = PUBLISHED
    results["definitions"] = ("LIR, SEP: EWMA span 10 over rank positions, min-max normalised "
                              "(SIGIR'22 original; lir_hopwise: ewm(span=n) over timestamps); "
                              "ETD over each item's first path; fidelity: masking each shown "
                              "score path lowers the item's graph/social score")
    for name in args.only:
        log(f"== {name}")
        with tempfile.TemporaryDirectory(prefix="explain-") as tmp:
            results["datasets"][name] = run(name, Path(tmp), args.users, args.val_users,
                                            args.tune and not name.startswith("demo"))
        atomic_write_json(args.out, results)
        log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
