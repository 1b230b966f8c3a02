"""The hybrid ranker vs peer libraries on the Amazon Beauty knowledge graph (PGPR/CAFE split).

Protocol of ../shared/bench/PROTOCOL.md: train on ``cafe/train_labels`` (+ the product
graph), rank for every user with test purchases a top 10 excluding train purchases, and
report NDCG/Recall/HR/Precision@10 in %, averaged over all of them (none dropped).

- ours: ``shopgraph build`` with its defaults, in a subprocess (read, the nlp and profile
  stages, then the models stage's :func:`recommend.hybrid.fit.fit_hybrid` with
  ``HybridConfig()``: nothing set for this dataset; the build cuts its own validation split
  from train, tunes the CF family there, fits the blend and picks the served ranker on a
  held-out fold), on the folder ``shopgraph import amazon-beauty-kg`` writes; the test users
  are ranked by the artifact's loaded model. Built twice: with all relations, and from a copy
  of the folder without ``relations.jsonl`` (also_bought / also_viewed / bought_together);
- peers (cf/ease EASE, implicit ALS / BPR / ItemKNN, LightFM WARP, most popular): tuned on
  a validation split of ``max(1, floor(0.3 n_u))`` random train purchases per user (cut
  from train only), refit on the whole train;
- explanations: for a sample of users, the share of recommended items with at least one
  valid path (every edge stored) and a fidelity check (masking the best path's edges lowers
  the item's graph score).

Usage: ``.venv/bin/python bench/kg_amazon_beauty.py [--data DIR] [--quick]``.
Prints a table; writes bench/results/kg_amazon_beauty.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHOPGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from cf_movielens import Peer, tune  # noqa: E402

from cf.data import Interactions  # noqa: E402
from cf.ease import EASE  # noqa: E402
from cf.popular import MostPopular  # noqa: E402
from kg.atomic import atomic_write_json  # noqa: E402
from kg.interactions import seen_matrix  # noqa: E402
from recommend.evaluate import harness as h  # noqa: E402
from recommend.evaluate import metrics as m  # noqa: E402

ALSO = ("also_bought", "also_viewed", "bought_together")
METRICS = ("NDCG@10", "R@10", "HR@10", "P@10")
PUBLISHED = {"PGPR": [5.449, 8.324, 14.401, 1.707], "CAFE": [6.868, 10.281, 17.676, 1.888]}


# -- data ---------------------------------------------------------------------------------
def import_dataset(src: Path, out: Path) -> None:
    """``shopgraph import amazon-beauty-kg SRC --out OUT`` (the project's own importer)."""
    cmd = [sys.executable, "-m", "scripts.cli", "import", "amazon-beauty-kg", str(src),
           "--out", str(out)]
    subprocess.run(cmd, check=True, cwd=ROOT)


def shopgraph_build(ds: Path, art: Path) -> float:
    """``shopgraph build DS --out ART`` with its defaults, in a subprocess; wall seconds."""
    began = time.perf_counter()
    cmd = [sys.executable, "-m", "scripts.cli", "build", str(ds), "--out", str(art),
           "--no-progress"]
    subprocess.run(cmd, check=True, cwd=ROOT)
    return time.perf_counter() - began


def without_also(ds: Path, out: Path) -> Path:
    """A copy of the dataset files of ``ds`` in ``out``, without ``relations.jsonl`` (the
    only file that carries the also_* relations)."""
    from kg.records import DATASET_FILES

    out.mkdir()
    for name, _ in DATASET_FILES:
        if (ds / name).is_file():
            shutil.copyfile(ds / name, out / name)
    return out


def test_matrix(graph, ds: Path, columns: np.ndarray) -> sp.csr_matrix:
    """(users x columns) held-out purchases; a pair outside the graph is an error."""
    col_of = np.full(graph.num_nodes("product"), -1, np.int64)
    col_of[columns] = np.arange(len(columns))
    rows, cols = [], []
    path = ds / "heldout" / "test_purchases.jsonl"
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            rec = json.loads(line)
            u, p = f"user:{rec['user']}", f"product:{rec['product']}"
            if not (graph.has_node(u) and graph.has_node(p)) or col_of[graph.index(p)] < 0:
                raise ValueError(f"{path}:{n}: {u} / {p} not a user / described product")
            rows.append(graph.index(u))
            cols.append(col_of[graph.index(p)])
    shape = (graph.num_nodes("user"), len(columns))
    out = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
    out.data[:] = 1.0  # a repeated pair counts once
    return out


def tasks(graph, test: sp.csr_matrix, columns: np.ndarray, seed: int = 0):
    """The test task and the peers' validation task (0.3 of each user's train, random)."""
    x = seen_matrix(graph)[:, columns].tocsr().astype(np.float32)
    ids_u, ids_i = np.arange(x.shape[0]), np.arange(x.shape[1])
    task = h.RankingTask(Interactions(x, ids_u, ids_i), test,
                         np.flatnonzero(np.diff(test.indptr)))
    rng = np.random.default_rng(seed)
    held = np.zeros(x.nnz, bool)
    for u in range(x.shape[0]):
        lo, hi = x.indptr[u], x.indptr[u + 1]
        if hi > lo:
            n_val = max(1, (hi - lo) * 3 // 10)
            held[lo + rng.choice(hi - lo, n_val, replace=False)] = True
    coo = x.tocoo()
    keep = sp.csr_matrix((coo.data[~held], (coo.row[~held], coo.col[~held])), shape=x.shape)
    val = sp.csr_matrix((np.ones(held.sum()), (coo.row[held], coo.col[held])), shape=x.shape)
    vtask = h.RankingTask(Interactions(keep.astype(np.float32), ids_u, ids_i), val,
                          np.flatnonzero(np.diff(val.indptr)))
    return task, vtask


def percent(metrics: dict[str, float]) -> dict[str, float]:
    return {k: round(100 * metrics[k], 3) for k in METRICS}


# -- peers --------------------------------------------------------------------------------
def peer_grids(quick: bool) -> dict[str, tuple[Any, dict[str, list[Any]], str]]:
    from implicit.cpu.als import AlternatingLeastSquares
    from implicit.cpu.bpr import BayesianPersonalizedRanking
    from implicit.nearest_neighbours import CosineRecommender
    from lightfm import LightFM

    grids = {
        "implicit ALS": (lambda **kw: AlternatingLeastSquares(random_state=0, **kw),
                         {"factors": [256], "regularization": [10.0, 50.0],
                          "alpha": [10.0, 50.0], "iterations": [15]}, "implicit"),
        "implicit BPR": (lambda **kw: BayesianPersonalizedRanking(random_state=0, **kw),
                         {"factors": [128], "learning_rate": [0.01, 0.05],
                          "iterations": [100]}, "implicit"),
        "implicit ItemKNN": (lambda **kw: CosineRecommender(**kw),
                             {"K": [100, 1000]}, "implicit"),
        "LightFM WARP": (lambda **kw: LightFM(loss="warp", random_state=0, **kw),
                         {"no_components": [64], "learning_rate": [0.05]}, "lightfm"),
    }
    if quick:
        grids = {k: (f, {a: v[:1] for a, v in g.items()}, kind)
                 for k, (f, g, kind) in grids.items()}
    return grids


def run_peers(task: h.RankingTask, vtask: h.RankingTask, quick: bool) -> list[dict[str, Any]]:
    """Every peer tuned on ``vtask`` then refit and measured on ``task``."""
    out = []

    def record(res: h.Result, val: float | None) -> None:
        row = {"model": res.model, **percent(res.metrics), "fit_seconds": res.fit_seconds,
               "params": res.params, "validation_NDCG@10": val}
        out.append(row)
        print_row(row)

    record(h.run_our_ranking("most popular", MostPopular(), task, k=10), None)
    lams = [30.0] if quick else [10.0, 30.0, 100.0]
    (params, val) = tune(EASE, {"lam": lams},
                         lambda mdl: h.run_our_ranking("v", mdl, vtask, 10).metrics["NDCG@10"])
    record(h.run_our_ranking("EASE (cf/ease)", EASE(**params), task, k=10), val)
    for name, (make, space, kind) in peer_grids(quick).items():
        def score(kw: dict[str, Any], make=make, kind=kind) -> float:
            peer = Peer(lambda: make(**kw), kind)
            return h.run_ranking("v", peer.fit_ranking, peer.recommend, vtask, 10
                                 ).metrics["NDCG@10"]

        params, val = tune(lambda **kw: kw, space, score)
        peer = Peer(lambda make=make, kw=params: make(**kw), kind)
        res = h.run_ranking(name, peer.fit_ranking, peer.recommend, task, 10, params=params)
        record(res, val)
    return out


# -- ours ---------------------------------------------------------------------------------
def run_hybrid(rec, build_seconds: float, task: h.RankingTask, user_ids: list[str],
               column_ids: list[str], name: str, audit_users: int, alone: bool
               ) -> dict[str, Any]:
    """The built artifact's model (``rec``, a loaded Recommender) ranks every test user
    (``user_ids``, in ``task.users`` order; products mapped to ``task``'s columns by id);
    explanations audited on a sample; with ``alone``, also each component ranking alone."""
    from recommend.hybrid.audit import audit_explanations
    from recommend.hybrid.blend import Blend
    from recommend.hybrid.model import HybridModel
    from recommend.hybrid.path_component import PathComponent

    model, graph = rec.model, rec.graph
    col_of = np.full(graph.num_nodes("product"), -1, np.int64)
    for c, pid in enumerate(column_ids):
        col_of[graph.index(pid)] = c
    users = np.array([graph.index(uid) for uid in user_ids], np.int64)
    t0 = time.perf_counter()
    top = model.top_k(users, 10)
    recs = np.where(top >= 0, col_of[np.maximum(top, 0)], -1)
    rec_seconds = time.perf_counter() - t0
    metrics = h.ranking_metrics(recs, task, ks=(10,))
    rng = np.random.default_rng(1)
    sample = rng.choice(len(user_ids), min(audit_users, len(user_ids)), replace=False)
    t0 = time.perf_counter()
    audit = audit_explanations(rec, [user_ids[i] for i in sample], k=10)
    row = {"model": name, **percent(metrics),
           "fit_seconds": rec.manifest["seconds"]["stage:models"],
           "build_seconds": round(build_seconds, 1), "recommend_seconds": rec_seconds,
           "coverage@10": round(m.catalogue_coverage(recs, len(column_ids), 10), 4),
           "blend": model.blend.to_json(), "info": model.info,
           "graph_weights": {n: c.state() for n, c in model.components.items()
                             if isinstance(c, PathComponent)},
           "config": model.config.to_dict(),
           "explanations": {**audit.to_json(), "seconds": time.perf_counter() - t0}}
    print_row(row)
    print(f"    blend: {json.dumps(row['blend'])}\n    info: {json.dumps(model.info)}\n"
          f"    explanations: {audit}", flush=True)
    row["components_alone"] = {}
    for comp_name, comp in model.components.items() if alone else ():
        one = HybridModel(graph, model.config, {comp_name: comp}, Blend((comp_name,), np.ones(1)))
        top = one.top_k(users, 10)
        recs = np.where(top >= 0, col_of[np.maximum(top, 0)], -1)
        row["components_alone"][comp_name] = percent(h.ranking_metrics(recs, task, ks=(10,)))
        print(f"    {comp_name} alone: {row['components_alone'][comp_name]}", flush=True)
    return row


def print_row(row: dict[str, Any]) -> None:
    figures = "  ".join(f"{k} {row[k]:6.3f}" for k in METRICS)
    print(f"{row['model']:34s} {figures}  fit {row['fit_seconds']:7.1f}s", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=SHARED / "amazon_beauty_kg")
    parser.add_argument("--dataset", type=Path, default=None,
                        help="an already imported dataset folder (default: import to a tmp dir)")
    parser.add_argument("--out", type=Path,
                        default=ROOT / "bench" / "results" / "kg_amazon_beauty.json")
    parser.add_argument("--quick", action="store_true", help="first grid points only (peers)")
    parser.add_argument("--audit-users", type=int, default=200)
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--only-all", action="store_true", help="skip the run without also_*")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="Method expects CSR input")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="beauty-") as tmp:
        ds = args.dataset
        if ds is None:
            ds = Path(tmp) / "ds"
            import_dataset(args.data, ds)
        from recommend.recommender import Recommender

        runs = {"ours hybrid (all relations)": ds,
                "ours hybrid (without also_*)": without_also(ds, Path(tmp) / "ds-plain")}
        ours, task, vtask, n_columns = [], None, None, 0
        for i, (name, folder) in enumerate(runs.items()):
            art = Path(tmp) / f"art-{i}"
            seconds = shopgraph_build(folder, art)
            rec = Recommender.load(art)
            if task is None:  # the test task on the first artifact's graph, ids kept
                graph = rec.graph
                columns = np.flatnonzero(graph.described("product"))
                test = test_matrix(graph, ds, columns)
                task, vtask = tasks(graph, test, columns)
                user_ids = [graph.node_id("user", int(u)) for u in task.users]
                column_ids = [graph.node_id("product", int(c)) for c in columns]
                n_columns = len(columns)
                print(f"users with test purchases: {len(task.users)}; products "
                      f"{n_columns}; train {task.train.matrix.nnz}; test {test.nnz}",
                      flush=True)
                del graph
            ours.append(run_hybrid(rec, seconds, task, user_ids, column_ids, name,
                                   args.audit_users, alone=i == 0))
            del rec
            shutil.rmtree(art)
            if args.only_all:
                return 0
        peers = [] if args.skip_peers else run_peers(task, vtask, args.quick)
    best = max(peers, key=lambda r: r["NDCG@10"]) if peers else None
    alone = ours[0]["components_alone"]
    best_single = max(alone, key=lambda n: alone[n]["NDCG@10"]) if alone else None
    summary = {
        "best_single_all": best_single,
        "best_single_all_NDCG@10": best_single and alone[best_single]["NDCG@10"],
        "ours_all_NDCG@10": ours[0]["NDCG@10"], "ours_without_also_NDCG@10": ours[1]["NDCG@10"],
        "best_peer": best and best["model"], "best_peer_NDCG@10": best and best["NDCG@10"],
        "ratio_all_vs_best_peer": best and round(ours[0]["NDCG@10"] / best["NDCG@10"], 4),
        "ratio_without_also_vs_best_peer":
            best and round(ours[1]["NDCG@10"] / best["NDCG@10"], 4),
        "target": "NDCG@10 >= 7.5 and >= 1.05 x best peer; every recommendation explained",
    }
    print("\n== summary (%, all users with test purchases) ==")
    for row in [*ours, *peers]:
        print_row(row)
    for name, fig in PUBLISHED.items():
        print(f"{name + ' (published)':34s} " + "  ".join(
            f"{k} {v:6.3f}" for k, v in zip(METRICS, fig, strict=True)))
    print(json.dumps(summary, indent=1))
    atomic_write_json(args.out, {
        "dataset": "amazon_beauty_kg (PGPR/CAFE split)", "users": len(task.users),
        "products": n_columns, "quick": args.quick, "metrics_unit": "%",
        "peer_tuning": "validation = max(1, floor(0.3 n_u)) random train purchases per user",
        "ours_tuning": "shopgraph build with its defaults (HybridConfig()): the build's own "
                       "validation split cut from train",
        "ours": ours, "peers": peers, "published": PUBLISHED, "summary": summary,
        "total_seconds": time.perf_counter() - started,
    })
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
