"""The hybrid ranker vs each of its components vs peers on MovieLens 100K (ranking protocol).

Per-user temporal 80/20 of ../shared/bench/PROTOCOL.md, checked by its fingerprint. The graph
is built from ``shopgraph import movielens`` without the test ratings; the build itself
holds the knowledge (:mod:`kg.build`): every genre of a movie and its decade as
``in_category`` edges, and each user's age band, gender and occupation as ``member_of``
segments. Ours: :func:`recommend.hybrid.fit.fit_hybrid` with ``HybridConfig()`` as
``shopgraph build`` runs it (no setting chosen for this dataset: the build cuts its own
validation split from train, tunes the CF family and the session window there, fits the
blend and picks the served ranker on a held-out fold); each single component ranks alone
with the same candidates machinery. Peers (implicit ALS / BPR / ItemKNN, LightFM WARP, our EASE)
are tuned on the validation split cut from train by the same recipe, as bench/cf_movielens.py.

Usage: ``HF_HUB_OFFLINE=1 .venv/bin/python bench/hybrid_movielens.py [--quick]``.
Prints a table; writes bench/results/hybrid_movielens.json.
"""

from __future__ import annotations

import argparse
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
SHARED = Path(os.environ.get("SHOPGRAPH_SHARED_DATA", ROOT.parent / "shared" / "data"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from cf_movielens import Peer, implicit_peers, lightfm_peers, tune  # noqa: E402

from cf.ease import EASE  # noqa: E402
from cf.popular import MostPopular  # noqa: E402
from kg.atomic import atomic_write_json  # noqa: E402
from recommend.evaluate import harness as h  # noqa: E402
from recommend.evaluate import protocols as p  # noqa: E402
from recommend.hybrid.config import HybridConfig  # noqa: E402

COLS = ("NDCG@10", "P@10", "R@10", "HR@10", "coverage@10")


def train_graph(ds: Path, split: p.Split):
    """The imported graph without the test ratings; its knowledge edges (counts).

    The build itself puts every movie in its genres and decade (``in_category``) and every
    user in their age band, gender and occupation segments (``member_of``): see kg.build.
    """
    from kg.build import build_graph
    from kg.reader import read_dataset
    from recommend.hybrid.split import graph_without_pairs

    graph = build_graph(read_dataset(ds, progress=False).dataset, progress=False)
    added = {rel: graph.num_edges(rel) for rel in ("in_category", "member_of")}
    u = np.array([graph.index(f"user:{x}") for x in split.test.user], np.int64)
    i = np.array([graph.index(f"product:{x}") for x in split.test.item], np.int64)
    out = graph_without_pairs(graph, u * graph.num_nodes("product") + i)
    assert out.num_edges("rated") == len(split.train), (out.num_edges("rated"), len(split.train))
    return out, added


def row_of(name: str, metrics: dict[str, float], fit: float, **extra: Any) -> dict[str, Any]:
    row = {"model": name, **{c: round(metrics[c], 4) for c in COLS}, "fit_seconds": fit, **extra}
    figures = "  ".join(f"{c} {row[c]:.4f}" for c in COLS)
    print(f"{name:34s} {figures}  fit {fit:6.1f}s", flush=True)
    return row


def evaluate_model(model, graph, task: h.RankingTask) -> dict[str, float]:
    """Top 10 of ``model`` for the task's users, in the task's item order."""
    ids = task.train.user_ids[task.users]
    users = np.array([graph.index(f"user:{x}") for x in ids], np.int64)
    top = model.top_k(users, 10)
    col = task.train.item_index([int(graph.node_id("product", j).partition(":")[2])
                                 for j in range(graph.num_nodes("product"))])
    recs = np.where(top >= 0, col[np.maximum(top, 0)], -1)
    return h.ranking_metrics(recs, task, ks=(10,))


def ours(graph, task: h.RankingTask) -> tuple[list[dict[str, Any]], Any]:
    """The hybrid and each of its components alone."""
    from recommend.hybrid.blend import Blend
    from recommend.hybrid.fit import fit_hybrid
    from recommend.hybrid.model import HybridModel

    config = HybridConfig()  # the build's defaults: nothing set for this dataset
    t0 = time.perf_counter()
    model = fit_hybrid(graph, config, log=lambda s: print(f"  [hybrid] {s}", flush=True))
    fit = time.perf_counter() - t0
    rows = [row_of("ours hybrid", evaluate_model(model, graph, task), fit,
                   blend=model.blend.to_json(), info=model.info,
                   config=model.config.to_dict())]
    for name, comp in model.components.items():
        single = HybridModel(graph, model.config, {name: comp}, Blend((name,), np.ones(1)))
        rows.append(row_of(f"ours {name} alone", evaluate_model(single, graph, task), 0.0))
    return rows, model


def peers(task: h.RankingTask, val: h.RankingTask, quick: bool) -> list[dict[str, Any]]:
    """Peers tuned on ``val``, measured on ``task``."""
    out = []

    def ndcg(model: Any) -> float:
        return h.run_our_ranking("v", model, val, 10).metrics["NDCG@10"]

    res = h.run_our_ranking("most popular", MostPopular(), task, 10)
    out.append(row_of(res.model, res.metrics, res.fit_seconds))
    for name, space in (("EASE", {"lam": [200.0, 500.0, 1000.0]}),
                        ("EASE recency", {"lam": [200.0, 500.0, 1000.0],
                                          "recency_tau": [5.0, 10.0, 20.0]})):
        space = {k: v[:1] for k, v in space.items()} if quick else space
        params, score = tune(EASE, space, ndcg)
        res = h.run_our_ranking(f"ours {name} (cf/ease)", EASE(**params), task, 10)
        out.append(row_of(res.model, res.metrics, res.fit_seconds, params=params,
                          validation_ndcg=score))
    for name, (make, space) in {**implicit_peers(), **lightfm_peers()}.items():
        kind = "implicit" if name.startswith("implicit") else "lightfm"
        space = {k: v[:1] for k, v in space.items()} if quick else space

        def score(kw: dict[str, Any], make=make, kind=kind) -> float:
            kw = dict(kw)
            tau = kw.pop("tau", None)
            peer = Peer(lambda: make(**kw), kind, tau)
            return h.run_ranking("v", peer.fit_ranking, peer.recommend, val, 10
                                 ).metrics["NDCG@10"]

        params, val_score = tune(lambda **kw: kw, space, score)
        fit_kw = {k: v for k, v in params.items() if k != "tau"}
        peer = Peer(lambda make=make, kw=fit_kw: make(**kw), kind, params.get("tau"))
        res = h.run_ranking(name, peer.fit_ranking, peer.recommend, task, 10, params=params)
        out.append(row_of(name, res.metrics, res.fit_seconds, params=params,
                          validation_ndcg=val_score))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED / "ml-100k")
    parser.add_argument("--out", type=Path,
                        default=ROOT / "bench" / "results" / "hybrid_movielens.json")
    parser.add_argument("--quick", action="store_true", help="first grid points only (peers)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="Method expects CSR input")
    import torch

    torch.set_num_threads(1)
    started = time.perf_counter()
    rows = p.read_udata(args.data)
    split = p.temporal_split(rows)
    if split.fingerprint != p.RANKING_FINGERPRINT:
        raise SystemExit(f"split fingerprint {split.fingerprint} != {p.RANKING_FINGERPRINT}")
    task = h.ranking_task(split)
    val = h.ranking_task(p.temporal_split(split.train, name="validation"))
    with tempfile.TemporaryDirectory(prefix="ml-") as tmp:
        subprocess.run([sys.executable, "-m", "scripts.cli", "import", "movielens",
                        str(args.data), "--out", f"{tmp}/ds"], check=True, cwd=ROOT)
        graph, added = train_graph(Path(tmp) / "ds", split)
    print(f"split {split.fingerprint}: train {len(split.train)}, test {len(split.test)}; "
          f"knowledge edges {added}", flush=True)
    mine, _ = ours(graph, task)
    others = peers(task, val, args.quick)
    hybrid = mine[0]["NDCG@10"]
    best_single = max(mine[1:], key=lambda r: r["NDCG@10"])
    # peers are the other libraries (and most popular); our own cf/ease rows are baselines
    best_peer = max((r for r in others if not r["model"].startswith("ours")),
                    key=lambda r: r["NDCG@10"])
    summary = {"hybrid_NDCG@10": hybrid,
               "best_single": best_single["model"], "best_single_NDCG@10": best_single["NDCG@10"],
               "ratio_vs_best_single": round(hybrid / best_single["NDCG@10"], 4),
               "best_peer": best_peer["model"], "best_peer_NDCG@10": best_peer["NDCG@10"],
               "ratio_vs_best_peer": round(hybrid / best_peer["NDCG@10"], 4),
               "target": "hybrid >= 1.05 x best single component and >= best peer"}
    print("\n== summary ==")
    for r in [*mine, *others]:
        print(f"{r['model']:34s} " + "  ".join(f"{c} {r[c]:.4f}" for c in COLS))
    print(summary)
    atomic_write_json(args.out, {
        "dataset": "ml-100k", "protocol": "ranking (per-user temporal 80/20)",
        "fingerprint": split.fingerprint, "quick": args.quick, "knowledge_edges": added,
        "tuning": "validation cut from train only (ours: HybridConfig() defaults, the "
                  "build's own validation split of the train graph)",
        "ours": mine, "peers": others, "summary": summary,
        "total_seconds": time.perf_counter() - started})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
