"""What the build's validation sees inside a test's training data, against the test itself.

bench/generalise.py cuts a test hold-out T (20% per user, at random) and builds on the rest;
the build then cuts its own validation hold-out V from that rest. This bench repeats both
cuts for several seeds and scores each CF model alone (as the CF tuning does): on V (what
the build judges by), on V and T together (the user's other true products, which the
validation cannot see and counts as misses), and on T (the test, the model fitted on the
build's graph). A model the validation ranks first but the test ranks last shows where the
build's choice among CF families cannot be right (Amazon 2018 fashion: 31 products).

Usage: ``.venv/bin/python bench/nested_validation.py DATASET_FOLDER [--seeds N]``
(an imported dataset, e.g. ``shopgraph import amazon-reviews .../AMAZON_FASHION_5.json.gz``).
Prints a table per seed and the mean over seeds; writes nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kg.build import build_graph  # noqa: E402
from kg.interactions import seen_matrix  # noqa: E402
from kg.reader import read_dataset  # noqa: E402
from recommend.evaluate.metrics import ndcg_per_user  # noqa: E402
from recommend.hybrid.components import CfComponent  # noqa: E402
from recommend.hybrid.config import HybridConfig  # noqa: E402
from recommend.hybrid.fit import _validation_splits  # noqa: E402
from recommend.hybrid.split import holdout_split  # noqa: E402
from recommend.hybrid.targets import resolve_targets  # noqa: E402
from recommend.hybrid.tune import alone_top_k  # noqa: E402

K = 10
#: name -> (kind, settings over HybridConfig().cf_params()); "popularity": counts
MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "als reg=30 alpha=0.5": ("als", {"reg": 30.0, "alpha": 0.5}),
    "als reg=10 alpha=1": ("als", {"reg": 10.0, "alpha": 1.0}),
    "ease lam=200": ("ease", {"lam": 200.0}),
    "ease lam=1000": ("ease", {"lam": 1000.0}),
    "itemknn cosine K=200": ("itemknn", {"weighting": "cosine", "neighbours": 200}),
    "popularity": ("popularity", {}),
}


class _Popularity:
    """Every user scores each product by how many people have it."""

    def __init__(self, graph: Any) -> None:
        self.counts = np.asarray(seen_matrix(graph).sum(axis=0), np.float64).ravel()

    def scores(self, users: np.ndarray) -> np.ndarray:
        return np.tile(self.counts, (len(users), 1))


def _fit(graph: Any, kind: str, settings: dict[str, Any]) -> Any:
    if kind == "popularity":
        return _Popularity(graph)
    return CfComponent.fit(graph, kind=kind, params={**HybridConfig().cf_params(), **settings})


def one_seed(graph: Any, seed: int) -> dict[str, tuple[float, float, float]]:
    """Per model: NDCG@10 on V, on V and T together, and on T (module docstring)."""
    config = HybridConfig().updated(seed=seed)
    targets, _ = resolve_targets(graph, config.split.target_relations, 2)
    test = holdout_split(graph, target_relations=targets, fraction=0.2, min_user_items=2,
                         seed=seed + 1000, derived=config.split.derived_relations,
                         mode="random")  # as recommend.evaluate.holdout cuts it
    val = _validation_splits(test.train_graph, config)[0]  # as the build cuts it
    both = ((val.relevant + test.relevant) > 0).astype(np.float64).tocsr()
    out = {}
    for name, (kind, settings) in MODELS.items():
        on_val = alone_top_k(_fit(val.train_graph, kind, settings), val.train_graph,
                             val.users, K)
        on_test = alone_top_k(_fit(test.train_graph, kind, settings), test.train_graph,
                              test.users, K)
        out[name] = (float(ndcg_per_user(on_val, val.relevant[val.users], K).mean()),
                     float(ndcg_per_user(on_val, both[val.users], K).mean()),
                     float(ndcg_per_user(on_test, test.relevant[test.users], K).mean()))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    graph = build_graph(read_dataset(args.dataset, progress=False).dataset, progress=False)
    runs = [one_seed(graph, seed) for seed in range(args.seeds)]
    for title, rows in [*((f"seed {s}", r) for s, r in enumerate(runs)),
                        (f"mean over {args.seeds} seeds",
                         {n: tuple(np.mean([r[n] for r in runs], axis=0)) for n in MODELS})]:
        print(f"{title}: {'V':>27s} {'V and T':>8s} {'T (test)':>8s}")
        for name, (v, vt, t) in sorted(rows.items(), key=lambda kv: -kv[1][0]):
            print(f"  {name:22s} {v:8.4f} {vt:8.4f} {t:8.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
