"""Item x item models kept to top-K neighbours: quality vs implicit and dense EASE, size, speed.

1. ``cf.item_knn.NeighbourItemKNN`` (cosine / TF-IDF / BM25) against implicit's
   CosineRecommender / TFIDFRecommender / BM25Recommender at the same K, on MovieLens 100K
   with a random 20% of each user's rows held out (seed 0, binary values): NDCG@10 of
   both, the share of identical top-10 lists, fit seconds (both on one thread).
2. EASE dense against EASE pruned to K = 100, 200, 500 per history item: NDCG@10 on the
   same split and the saved artifact's bytes.
3. Scoring one user (40 history items) over an 18,000-item synthetic catalogue with the
   pruned CSR ``S`` (K = 100, 200, 500): median microseconds of ``history @ S`` and of
   ``score_history``. Timings are for a quiet machine: the lead reruns them there.

Usage: ``.venv/bin/python bench/cf_item_knn.py [--data DIR] [--out FILE]``; writes
bench/results/cf_item_knn.json.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cf.base import Recommender  # noqa: E402
from cf.data import Interactions  # noqa: E402
from cf.ease import EASE  # noqa: E402
from cf.item_knn import NeighbourItemKNN, neighbour_similarity  # noqa: E402
from kg.atomic import atomic_write_json  # noqa: E402
from recommend.evaluate import harness as h  # noqa: E402
from recommend.evaluate import metrics as m  # noqa: E402
from recommend.evaluate import protocols as p  # noqa: E402

KS = (20, 50, 100, 200)
EASE_KS = (100, 200, 500)
EASE_LAM = 500.0


def random_per_user_split(rows: p.Rows, fraction: float = 0.2, seed: int = 0) -> p.Split:
    """Each user's ``ceil(fraction n_u)`` rows drawn at random are test."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(rows), bool)
    for user in np.unique(rows.user):
        mine = np.flatnonzero(rows.user == user)
        mask[rng.choice(mine, math.ceil(fraction * len(mine)), replace=False)] = True
    return p.Split("random-per-user", rows.take(~mask), rows.take(mask))


def ndcg(recs: np.ndarray, task: h.RankingTask) -> float:
    return m.ndcg_at_k(recs, task.test[task.users], 10)


def timed_fit(model: Recommender, x: Interactions) -> float:
    start = time.perf_counter()
    model.fit(x)
    return time.perf_counter() - start


def knn_section(task: h.RankingTask) -> list[dict[str, Any]]:
    from implicit.nearest_neighbours import BM25Recommender, CosineRecommender, TFIDFRecommender

    peers = {"cosine": CosineRecommender, "tfidf": TFIDFRecommender, "bm25": BM25Recommender}
    ui = task.train.matrix.astype(np.float32).tocsr()
    out = []
    for weighting, peer_class in peers.items():
        for k in KS:
            ours = NeighbourItemKNN(weighting=weighting, top_k=k)  # type: ignore[arg-type]
            fit_ours = timed_fit(ours, task.train)
            recs = ours.recommend_rows(task.users, k=10).item_indices
            peer = peer_class(K=k, num_threads=1)
            start = time.perf_counter()
            peer.fit(ui, show_progress=False)
            fit_peer = time.perf_counter() - start
            ids, _ = peer.recommend(task.users, ui[task.users], N=10)
            row = {
                "weighting": weighting,
                "K": k,
                "ndcg@10_ours": ndcg(recs, task),
                "ndcg@10_implicit": ndcg(ids, task),
                "identical_top10_lists": float(np.mean((recs == ids).all(axis=1))),
                "fit_seconds_ours": fit_ours,
                "fit_seconds_implicit": fit_peer,
            }
            print(row, flush=True)
            out.append(row)
    return out


def ease_section(task: h.RankingTask) -> list[dict[str, Any]]:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in (None, *EASE_KS):
            model = EASE(lam=EASE_LAM, top_k=k)
            fit = timed_fit(model, task.train)
            recs = model.recommend_rows(task.users, k=10).item_indices
            path = Path(tmp) / f"ease_{k}.npz"
            model.save(path)
            w = model.weights_
            row = {
                "top_k": k,
                "lam": EASE_LAM,
                "ndcg@10": ndcg(recs, task),
                "fit_seconds": fit,
                "artifact_bytes": path.stat().st_size,
                "weights_bytes": int(w.nbytes if isinstance(w, np.ndarray)
                                     else w.data.nbytes + w.indices.nbytes + w.indptr.nbytes),
            }
            print(row, flush=True)
            out.append(row)
    return out


def synthetic_catalogue(
    n_users: int = 30_000, n_items: int = 18_000, per_user: int = 40, seed: int = 0
) -> sp.csr_matrix:
    """Users with ``per_user`` distinct items drawn by a Zipf(1) item popularity."""
    rng = np.random.default_rng(seed)
    pop = 1.0 / np.arange(1, n_items + 1)
    pop /= pop.sum()
    cols = np.concatenate([
        rng.choice(n_items, per_user, replace=False, p=pop) for _ in range(n_users)
    ])
    rows = np.repeat(np.arange(n_users), per_user)
    return sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), (n_users, n_items))


def median_us(fn: Any, repeats: int = 300) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e6)


def speed_section() -> list[dict[str, Any]]:
    from cf.item_knn import item_weights

    x = synthetic_catalogue()
    inter = Interactions(x, np.arange(x.shape[0]), np.arange(x.shape[1]))
    w = item_weights(x, "cosine")
    history = x[[7]]  # 40 items
    out = []
    for k in EASE_KS:
        start = time.perf_counter()
        sim = neighbour_similarity(w, k)
        fit = time.perf_counter() - start
        model = NeighbourItemKNN(weighting="cosine", top_k=k)
        model.train_, model.similarity_ = inter, sim
        row = {
            "n_items": x.shape[1],
            "history_items": int(history.nnz),
            "K": k,
            "similarity_nnz": int(sim.nnz),
            "similarity_bytes": int(sim.data.nbytes + sim.indices.nbytes + sim.indptr.nbytes),
            "build_seconds": fit,
            "history_at_S_us": median_us(lambda s=sim: history @ s),
            "score_history_us": median_us(lambda mm=model: mm.score_history(history)),
        }
        print(row, flush=True)
        out.append(row)
    return out


def main() -> int:
    shared = Path(os.environ.get("SHOPGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data"))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(shared / "ml-100k"))
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "cf_item_knn.json"))
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="Method expects CSR input")  # implicit's own coo
    started = time.perf_counter()
    split = random_per_user_split(p.read_udata(args.data))
    task = h.ranking_task(split, values="binary")
    result = {
        "dataset": "ml-100k",
        "split": "random 20% of each user's rows (ceil), seed 0; binary values",
        "split_fingerprint": split.fingerprint,
        "item_knn_vs_implicit": knn_section(task),
        "ease_dense_vs_pruned": ease_section(task),
        "scoring_speed_18k_items": speed_section(),
        "total_seconds": time.perf_counter() - started,
    }
    atomic_write_json(args.out, result)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
