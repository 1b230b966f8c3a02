"""Benchmark: the content index's kinds (exact flat, IVF, HNSW) at 10k and 100k items, 384 dims.

Per size and kind: build time (including the recall calibration of the approximate kinds),
queries/s for 1,000 top-10 queries in one batch (through :meth:`ContentIndex.search`), and
recall@10 against exact search. ``auto`` marks what ``ContentIndex.build(kind="auto")`` picks.

Data: synthetic unit vectors shaped like real sentence embeddings: a mixture of Gaussians
(128 topics x 8 sub-topics, Zipf-sized) around a shared offset direction. Its parameters were
set so that its statistics match all-MiniLM-L6-v2 embeddings of 2,545 real Amazon 2023 product
titles (../shared/data/amazon2023_multicategory_user_histories), measured once on this machine:

==========================  ========  =========
at 2,545 vectors            real      synthetic
==========================  ========  =========
participation ratio         93.7      ~107
mean cosine to nearest      0.607     ~0.60
mean cosine to 10th nearest 0.446     ~0.44
mean pairwise cosine        0.125     ~0.13
==========================  ========  =========

(isotropic noise alone would be far harder for ANN; pure clusters far easier.) The synthetic
statistics are recomputed and written with the results. Queries mix two random items with a
random weight, as a user profile mixes the items they touched.

Run: ``.venv/bin/python bench/content_index.py [--sizes 10000 100000]``;
writes bench/results/content_index.json. About 3-4 minutes on 2 shared cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from kg.atomic import atomic_write_json
from recommend.content.index import (
    DEFAULT_APPROXIMATE,
    EXACT_THRESHOLD,
    ContentIndex,
    normalise_rows,
)

RESULTS = Path(__file__).resolve().parent / "results" / "content_index.json"
DIM = 384
N_QUERIES = 1000
K = 10


def embedding_like(
    n: int,
    *,
    dim: int = DIM,
    topics: int = 128,
    subtopics: int = 8,
    noise: float = 1.15,
    offset: float = 0.35,
    seed: int = 0,
) -> np.ndarray:
    """(n, dim) unit vectors from a hierarchical, Zipf-weighted mixture of Gaussians."""
    rng = np.random.default_rng(seed)
    shared = rng.standard_normal(dim)
    shared /= np.linalg.norm(shared)
    centres = normalise_rows(rng.standard_normal((topics, dim)))
    sub = centres[:, None, :] + 0.8 * rng.standard_normal((topics, subtopics, dim)) / np.sqrt(dim)
    sub = sub.reshape(-1, dim)
    p = 1.0 / np.arange(1, len(sub) + 1) ** 0.8
    which = rng.choice(len(sub), size=n, p=p / p.sum())
    x = sub[which] + noise * rng.standard_normal((n, dim)) / np.sqrt(dim)
    return normalise_rows(normalise_rows(x) + offset * shared)


def profile_queries(x: np.ndarray, n: int, seed: int = 1) -> np.ndarray:
    """Queries mixing two random items with a random weight."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, len(x), size=(2, n))
    w = rng.uniform(0.0, 1.0, size=(n, 1)).astype(np.float32)
    return normalise_rows(w * x[a] + (1 - w) * x[b])


def statistics(x: np.ndarray) -> dict[str, float]:
    """Participation ratio and neighbour cosines of (a sample of) ``x``."""
    s = x[:2545]
    eig = np.linalg.svd(s - s.mean(axis=0), compute_uv=False) ** 2
    gram = s @ s.T
    np.fill_diagonal(gram, -1.0)
    top = np.sort(gram, axis=1)[:, -10:]
    return {
        "participation_ratio": round(float(eig.sum() ** 2 / (eig**2).sum()), 1),
        "cos_nearest": round(float(top[:, -1].mean()), 3),
        "cos_10th_nearest": round(float(top[:, 0].mean()), 3),
        "cos_mean": round(float(gram[gram > -1].mean()), 3),
    }


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    hits = [len(np.intersect1d(f, t)) for f, t in zip(found, truth, strict=True)]
    return float(np.sum(hits) / truth.size)


def run_kind(x: np.ndarray, ids: list[str], queries: np.ndarray, kind: str) -> dict[str, Any]:
    start = time.perf_counter()
    index = ContentIndex.build(ids, x, kind=kind)  # type: ignore[arg-type]
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    result = index.search(queries, K)
    query_s = time.perf_counter() - start
    return {
        "kind": index.params["kind"],
        "params": index.params,
        "build_s": round(build_s, 2),
        "queries_per_s": round(len(queries) / query_s, 1),
        "indices": result.indices,
    }


def bench_size(n: int) -> dict[str, Any]:
    x = embedding_like(n)
    ids = [f"product:{i}" for i in range(n)]
    queries = profile_queries(x, N_QUERIES)
    auto = "flat" if n < EXACT_THRESHOLD else DEFAULT_APPROXIMATE
    rows = []
    truth = None
    for kind in ("flat", "ivf", "hnsw"):
        row = run_kind(x, ids, queries, kind)
        if kind == "flat":
            truth = row["indices"]
        row["recall_at_10"] = round(recall_at_k(row.pop("indices"), truth), 4)
        row["auto"] = kind == auto
        rows.append(row)
        print(f"  {n:>7,} {kind:<5} done in {row['build_s']} s", flush=True)
    return {"items": n, "dim": DIM, "queries": N_QUERIES, "k": K, "rows": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    import faiss

    load_before = os.getloadavg()
    start = time.perf_counter()
    sizes = [bench_size(n) for n in args.sizes]
    report = {
        "benchmark": "content_index",
        "exact_threshold": EXACT_THRESHOLD,
        "synthetic_statistics_at_2545": statistics(embedding_like(2545)),
        "real_minilm_statistics_at_2545": {
            "participation_ratio": 93.7,
            "cos_nearest": 0.607,
            "cos_10th_nearest": 0.446,
            "cos_mean": 0.125,
        },
        "sizes": sizes,
        "machine": {
            "cpus": os.cpu_count(),
            "faiss": faiss.__version__,
            "faiss_threads": faiss.omp_get_max_threads(),
            "python": platform.python_version(),
            "load_average_1min_before": round(load_before[0], 2),
            "load_average_1min_after": round(os.getloadavg()[0], 2),
        },
        "total_s": round(time.perf_counter() - start, 1),
    }
    print(f"\n{'items':>8} {'kind':<5} {'auto':<4} {'build s':>8} {'queries/s':>10} "
          f"{'recall@10':>9}  params")
    for size in sizes:
        for r in size["rows"]:
            extra = {k: v for k, v in r["params"].items() if k not in ("kind", "dim")}
            print(f"{size['items']:>8,} {r['kind']:<5} {'*' if r['auto'] else '':<4} "
                  f"{r['build_s']:>8.2f} {r['queries_per_s']:>10.1f} {r['recall_at_10']:>9.4f}"
                  f"  {extra}")
    print(f"synthetic vs real statistics: {report['synthetic_statistics_at_2545']} vs "
          f"{report['real_minilm_statistics_at_2545']}")
    print(f"load average before/after: {report['machine']['load_average_1min_before']} / "
          f"{report['machine']['load_average_1min_after']} on {os.cpu_count()} cores; "
          f"total {report['total_s']} s")
    atomic_write_json(RESULTS, report)
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
