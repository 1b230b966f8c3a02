"""Our cf models and peer libraries on the same MovieLens 100K splits, in one run.

Rating protocol (random 80/20; RMSE, MAE) and ranking protocol (per-user temporal 80/20;
P/R/NDCG/HR at 10 and 20, MAP@10, coverage, mean popularity) of ../shared/bench/PROTOCOL.md,
both checked by fingerprint. Hyper-parameters are tuned on a validation split cut from
train only by the same recipe, then the model is refit on the full train for the test
figure. Peers: implicit (ALS, BPR, ItemKNN), scikit-surprise (SVD, KNNWithMeans user and
item, KNNBaseline) and LightFM, each where it imports (``make bench-venv``).

Usage: ``.venv/bin/python bench/cf_movielens.py [--data DIR] [--out FILE] [--quick]``.
Prints one table; writes bench/results/cf_movielens.json.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cf.base import top_k  # noqa: E402
from cf.ease import EASE, recency_weights  # noqa: E402
from cf.implicit_mf import BPR, WeightedALS  # noqa: E402
from cf.knn import ItemKNN, UserKNN  # noqa: E402
from cf.mf import MatrixFactorization  # noqa: E402
from cf.neural import AutoencoderRec, NeuralCF  # noqa: E402
from cf.popular import MostPopular  # noqa: E402
from cf.sequential import SelfAttentiveRec  # noqa: E402
from kg.atomic import atomic_write_json  # noqa: E402
from recommend.evaluate import harness as h  # noqa: E402
from recommend.evaluate import protocols as p  # noqa: E402

Grid = dict[str, list[Any]]


def grid(space: Grid) -> list[dict[str, Any]]:
    keys = list(space)
    return [dict(zip(keys, vals, strict=True)) for vals in itertools.product(*space.values())]


def tune(
    make: Callable[..., Any], space: Grid, score: Callable[[Any], float], better: str = "max"
) -> tuple[dict[str, Any], float]:
    """Best params on the validation task by ``score(make(**params))``."""
    best: tuple[dict[str, Any], float] | None = None
    for params in grid(space):
        value = score(make(**params))
        if best is None or (value > best[1] if better == "max" else value < best[1]):
            best = (params, value)
    assert best is not None
    return best


# -- peers ---------------------------------------------------------------------------
class Peer:
    """Adapter: fit on a task, recommend indices or predict ratings."""

    def __init__(self, factory: Callable[[], Any], kind: str, tau: float | None = None) -> None:
        self.factory, self.kind, self.model, self.tau = factory, kind, None, tau

    def fit_ranking(self, task: h.RankingTask) -> None:
        self.model = self.factory()
        ui = task.train.matrix.astype(np.float32).tocsr()
        if self.kind == "implicit":
            self.model.fit(ui, show_progress=False)
        else:  # lightfm
            self.model.fit(ui.tocoo(), epochs=30, num_threads=2)

    def recommend(self, task: h.RankingTask, k: int) -> np.ndarray:
        ui = task.train.matrix.astype(np.float32).tocsr()
        if self.kind == "implicit":
            # with tau: the same recency weighting of the history as our EASE recency
            hist = recency_weights(task.train, self.tau).astype(np.float32) if self.tau else ui
            ids, scores = self.model.recommend(task.users, hist[task.users], N=k)
            return np.where(np.isfinite(scores), ids, -1)
        n_items = task.train.n_items
        users = np.repeat(task.users, n_items).astype(np.int32)
        items = np.tile(np.arange(n_items, dtype=np.int32), len(task.users))
        scores = self.model.predict(users, items, num_threads=2).reshape(len(task.users), -1)
        seen = ui[task.users].toarray() > 0
        scores[seen] = -np.inf
        return top_k(scores, k)[0]


def _optional(library: str, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``make()``, or no peers (and a line saying why) when ``library`` is not installed."""
    try:
        return make()
    except ImportError as exc:  # pragma: no cover - optional peer
        print(f"{library} unavailable: {exc}")
        return {}


def implicit_peers() -> dict[str, tuple[Callable[..., Any], Grid]]:
    def make() -> dict[str, tuple[Callable[..., Any], Grid]]:
        from implicit.cpu.als import AlternatingLeastSquares
        from implicit.cpu.bpr import BayesianPersonalizedRanking
        from implicit.nearest_neighbours import CosineRecommender

        return {
            "implicit ALS": (
                lambda **kw: AlternatingLeastSquares(random_state=0, **kw),
                {
                    "factors": [64, 128],
                    "regularization": [0.1, 1.0, 10.0],
                    "alpha": [1.0, 5.0, 20.0],
                    "iterations": [15],
                },
            ),
            "implicit BPR": (
                lambda **kw: BayesianPersonalizedRanking(random_state=0, **kw),
                {"factors": [64], "learning_rate": [0.01, 0.05], "iterations": [100, 300]},
            ),
            "implicit ItemKNN": (lambda **kw: CosineRecommender(**kw), {"K": [20, 50, 100, 200]}),
            "implicit ItemKNN + recency": (
                lambda **kw: CosineRecommender(**kw),
                {"K": [50, 100, 200], "tau": [5.0, 10.0, 20.0]},
            ),
        }

    return _optional("implicit", make)


def lightfm_peers() -> dict[str, tuple[Callable[..., Any], Grid]]:
    def make() -> dict[str, tuple[Callable[..., Any], Grid]]:
        from lightfm import LightFM

        return {
            "LightFM WARP": (
                lambda **kw: LightFM(loss="warp", random_state=0, **kw),
                {"no_components": [32, 64], "learning_rate": [0.05]},
            )
        }

    return _optional("lightfm", make)


def surprise_peers() -> dict[str, Callable[[], Any]]:
    def make() -> dict[str, Callable[[], Any]]:
        import surprise as s

        quiet = {"verbose": False}
        return {
            "Surprise SVD": lambda: s.SVD(random_state=0),
            "Surprise KNNWithMeans user": lambda: s.KNNWithMeans(
                sim_options={"name": "pearson", "user_based": True}, **quiet
            ),
            "Surprise KNNWithMeans item": lambda: s.KNNWithMeans(
                sim_options={"name": "pearson", "user_based": False}, **quiet
            ),
            "Surprise KNNBaseline": lambda: s.KNNBaseline(
                sim_options={"name": "pearson_baseline", "user_based": False}, **quiet
            ),
        }

    return _optional("surprise", make)


def surprise_run(name: str, factory: Callable[[], Any], task: h.RatingTask, split: p.Split):
    import pandas as pd
    import surprise as s

    frame = pd.DataFrame({"u": split.train.user, "i": split.train.item, "r": split.train.rating})
    trainset = s.Dataset.load_from_df(frame, s.Reader(rating_scale=(1, 5))).build_full_trainset()
    algo = factory()
    pairs = list(zip(split.test.user.tolist(), split.test.item.tolist(), strict=True))
    return h.run_rating(
        name,
        lambda t: algo.fit(trainset),
        lambda t: np.array([algo.predict(u, i).est for u, i in pairs]),
        task,
    )


# -- runs -------------------------------------------------------------------------------
def rating_section(rows: p.Rows, quick: bool) -> list[h.Result]:
    split = p.rating_split(rows)
    assert split.fingerprint == p.RATING_FINGERPRINT, split.fingerprint
    task = h.rating_task(split)
    val_split = p.rating_split(split.train)
    val = h.rating_task(val_split)

    def val_rmse(model: Any) -> float:
        return h.run_our_rating("val", model, val).metrics["RMSE"]

    ours: dict[str, tuple[Callable[..., Any], Grid]] = {
        "ours MF (ALS)": (
            lambda **kw: MatrixFactorization(solver="als", **kw),
            {"factors": [20, 50], "reg": [0.05, 0.1, 0.15], "epochs": [10]},
        ),
        "ours MF (SGD)": (
            lambda **kw: MatrixFactorization(solver="sgd", **kw),
            {"factors": [50], "lr": [0.005, 0.01], "reg": [0.05, 0.1], "epochs": [20]},
        ),
        "ours UserKNN": (UserKNN, {"k": [20, 40, 80], "similarity": ["pearson", "cosine"]}),
        "ours ItemKNN": (
            ItemKNN,
            {"k": [20, 40, 80], "similarity": ["adjusted_cosine", "baseline_pearson"]},
        ),
    }
    results = []
    for name, (make, space) in ours.items():
        if quick:
            space = {k: v[:1] for k, v in space.items()}
        params, score = tune(make, space, val_rmse, better="min")
        res = h.run_our_rating(name, make(**params), task)
        res.params = {**params, "validation_RMSE": score}
        results.append(res)
        print_row(res, ("RMSE", "MAE"))
    for name, factory in surprise_peers().items():
        res = surprise_run(name, factory, task, split)
        results.append(res)
        print_row(res, ("RMSE", "MAE"))
    return results


def ranking_section(rows: p.Rows, quick: bool) -> tuple[list[h.Result], dict[str, Any]]:
    split = p.temporal_split(rows)
    assert split.fingerprint == p.RANKING_FINGERPRINT, split.fingerprint
    task = h.ranking_task(split)
    val = h.ranking_task(p.temporal_split(split.train, name="validation"))

    def val_ndcg(model: Any) -> float:
        return h.run_our_ranking("val", model, val).metrics["NDCG@10"]

    ours: dict[str, tuple[Callable[..., Any], Grid]] = {
        "ours most popular": (MostPopular, {}),
        "ours EASE": (EASE, {"lam": [200.0, 500.0, 1000.0]}),
        "ours EASE recency": (
            EASE,
            {"lam": [200.0, 500.0, 1000.0], "recency_tau": [5.0, 10.0, 20.0]},
        ),
        "ours WALS": (
            WeightedALS,
            {"factors": [64, 128], "reg": [0.1, 1.0, 10.0], "alpha": [1.0, 5.0, 20.0]},
        ),
        "ours BPR": (BPR, {"factors": [64], "lr": [0.02, 0.05], "epochs": [30]}),
        "ours NeuralCF": (NeuralCF, {}),
        "ours Autoencoder": (AutoencoderRec, {}),
        "ours Autoencoder recency": (AutoencoderRec, {"recency_tau": [10.0]}),
        "ours SASRec": (SelfAttentiveRec, {}),
    }
    results = []
    for name, (make, space) in ours.items():
        if quick:
            space = {k: v[:1] for k, v in space.items()}
        # models with no grid run at their documented defaults (not tuned): score None
        params, score = tune(make, space, val_ndcg) if space else ({}, None)
        res = h.run_our_ranking(name, make(**params), task)
        res.params = {**res.params, "validation_NDCG@10": score}
        results.append(res)
        print_row(res, RANK_COLS)

    peers = {**implicit_peers(), **lightfm_peers()}
    for name, (make, space) in peers.items():
        kind = "implicit" if name.startswith("implicit") else "lightfm"
        if quick:
            space = {k: v[:1] for k, v in space.items()}

        def peer_val(kw: dict[str, Any], kind: str = kind, make=make) -> float:
            kw = dict(kw)
            tau = kw.pop("tau", None)
            peer = Peer(lambda: make(**kw), kind, tau)
            return h.run_ranking("val", peer.fit_ranking, peer.recommend, val).metrics["NDCG@10"]

        params, score = tune(lambda **kw: kw, space, peer_val)
        fit_params = {k: v for k, v in params.items() if k != "tau"}
        peer = Peer(lambda make=make, kw=fit_params: make(**kw), kind, params.get("tau"))
        res = h.run_ranking(name, peer.fit_ranking, peer.recommend, task, params=params)
        res.params["validation_NDCG@10"] = score
        results.append(res)
        print_row(res, RANK_COLS)
    return results, als_timing(task, quick)


def als_timing(task: h.RankingTask, quick: bool) -> dict[str, Any]:
    """Fit time of our ALS and implicit's at the same factors and iterations (median of 3)."""
    out: dict[str, Any] = {"factors": 64, "iterations": 15, "repeats": 1 if quick else 3}
    ours, theirs = [], []
    try:
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits
    except ImportError:
        AlternatingLeastSquares = None
    ui = task.train.matrix.astype(np.float32).tocsr()
    for _ in range(out["repeats"]):
        t = time.perf_counter()
        model = WeightedALS(factors=64, iterations=15).fit(task.train)
        ours.append(time.perf_counter() - t)
        if AlternatingLeastSquares is not None:
            with threadpool_limits(1, "blas"):  # implicit's own advice for its solver
                t = time.perf_counter()
                AlternatingLeastSquares(factors=64, iterations=15, random_state=0).fit(
                    ui, show_progress=False
                )
                theirs.append(time.perf_counter() - t)
    t = time.perf_counter()
    model.recommend_rows(np.arange(task.train.n_users), k=10)
    out["ours_recommend_all_users_seconds"] = time.perf_counter() - t
    out["ours_fit_seconds"] = float(np.median(ours))
    if theirs:
        out["implicit_fit_seconds"] = float(np.median(theirs))
        out["ratio"] = out["ours_fit_seconds"] / out["implicit_fit_seconds"]
    print(f"ALS fit time at 64 factors, 15 iterations: {out}")
    return out


RANK_COLS = ("NDCG@10", "P@10", "R@10", "HR@10", "NDCG@20", "MAP@10", "coverage@10")


def print_row(res: h.Result, cols: tuple[str, ...]) -> None:
    figures = "  ".join(f"{c} {res.metrics[c]:.4f}" for c in cols)
    print(
        f"{res.model:28s} {figures}  fit {res.fit_seconds:7.2f}s  rec {res.predict_seconds:6.3f}s",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "ml-100k"))
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "cf_movielens.json"))
    parser.add_argument("--quick", action="store_true", help="first grid point only")
    args = parser.parse_args()
    import torch

    warnings.filterwarnings("ignore", message="Method expects CSR input")  # implicit's kNN
    torch.set_num_threads(1)  # a shared 2-core box: more threads only add contention
    rows = p.read_udata(args.data)
    started = time.perf_counter()
    print("== rating protocol (random 80/20) ==")
    rating = rating_section(rows, args.quick)
    print("== ranking protocol (per-user temporal 80/20) ==")
    ranking, timing = ranking_section(rows, args.quick)
    print("\n== summary ==")
    for res in rating:
        print_row(res, ("RMSE", "MAE"))
    for res in ranking:
        print_row(res, RANK_COLS)
    atomic_write_json(
        args.out,
        {
            "dataset": "ml-100k",
            "fingerprints": {
                "rating": p.RATING_FINGERPRINT,
                "ranking": p.RANKING_FINGERPRINT,
            },
            "tuning": "validation split cut from train only (same recipe), then refit on train",
            "quick": args.quick,
            "torch_threads": 1,
            "rating": [asdict(r) for r in rating],
            "ranking": [asdict(r) for r in ranking],
            "als_fit_time": timing,
            "total_seconds": time.perf_counter() - started,
        },
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
