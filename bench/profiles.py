"""Benchmark: user profiles, embeddings and segments on a 1M-event kg.demo world.

Generates (or reuses, with ``--dataset``) a kg.demo world with 1,000,000 events, reads it,
then times each stage: profile inputs (sparse matrices from records), profiles, the
autoencoder embedding, and segmentation (K-Means, k by silhouette; agglomerative at the
chosen k). Segments are checked against the world's ``gold_profiles.jsonl`` personas by
adjusted Rand index. The profile time target (< 60 s for 1M events) covers inputs +
profiles + embeddings; reading the JSONL is kg.reader's cost and is reported apart.

Run: ``.venv/bin/python bench/profiles.py [--dataset DIR]``; writes bench/results/profiles.json.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from kg.atomic import atomic_write_json

RESULTS = Path(__file__).resolve().parent / "results" / "profiles.json"


def _timed(label: str, timings: dict[str, float], fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    timings[label] = round(time.perf_counter() - start, 3)
    print(f"  {label}: {timings[label]:.2f}s", flush=True)
    return out


def gold_agreement(table, gold: list[dict]) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """How often profiles name the world's latent tastes (leaf categories, brands, price)."""
    from scipy.stats import spearmanr

    cat_hits, brand_hits, spend, level = [], [], [], []
    for g in gold:
        p = table.profile(g["user"], top=10)
        leaves = [i.node_id.rsplit("/", 1)[-1] for i in p.categories if i.node_id.count("/") >= 2]
        cat_hits.append(bool(set(leaves[:3]) & set(g["categories"])))
        brand_hits.append(bool({i.node_id[6:] for i in p.brands[:2]} & set(g["brands"])))
        spend.append(np.nan if p.spending_power is None else p.spending_power)
        level.append(g["price_level"])
    from kg.demo.vocabulary import TIER_NAMES  # budget < mid < premium

    spend_arr, level_arr = np.array(spend), np.array(level)
    by_level = {n: float(np.nanmean(spend_arr[level_arr == n])) for n in TIER_NAMES}
    order = {n: r for r, n in enumerate(TIER_NAMES)}
    ok = ~np.isnan(spend_arr)
    return {
        "top3_leaf_category_in_gold": float(np.mean(cat_hits)),
        "top2_brand_in_gold": float(np.mean(brand_hits)),
        "mean_spending_power_by_gold_price_level": by_level,
        "spearman_spending_vs_price_level": float(
            spearmanr(spend_arr[ok], [order[x] for x in level_arr[ok]]).statistic
        ),
    }


def run(folder: Path, timings: dict[str, float], seed: int) -> dict[str, object]:
    from sklearn.metrics import adjusted_rand_score

    from kg.reader import read_dataset
    from recommend.profiles import build_profiles, inputs_from_dataset, segment_users
    from recommend.profiles.autoencoder import fit_embeddings

    dataset = _timed("read_jsonl", timings, read_dataset, folder, progress=False).dataset
    inputs = _timed("profile_inputs", timings, inputs_from_dataset, dataset)
    table = _timed("profiles", timings, build_profiles, inputs)
    model = _timed("autoencoder", timings, fit_embeddings, inputs, table, seed=seed)
    timings["profiles_total"] = round(
        timings["profile_inputs"] + timings["profiles"] + timings["autoencoder"], 3
    )
    lines = (folder / "gold_profiles.jsonl").read_text(encoding="utf-8").splitlines()
    gold = [json.loads(line) for line in lines]
    rows = np.array([table.row(g["user"]) for g in gold])
    truth = [g["segment"] for g in gold]
    kmeans = _timed("kmeans_segments", timings, segment_users, table, seed=seed)
    agg = _timed(
        "agglomerative_segments",
        timings,
        segment_users,
        table,
        method="agglomerative",
        k=kmeans.k,
        seed=seed,
    )
    prof = table.profile(gold[0]["user"], top=3)
    return {
        "gold_agreement": gold_agreement(table, gold),
        "users": len(table),
        "products": len(inputs.product_ids),
        "events": len(dataset.events),
        "autoencoder_loss": [round(x, 5) for x in model.loss_history_],
        "gold_personas": len(set(truth)),
        "kmeans": {
            "k": kmeans.k,
            "silhouette": kmeans.silhouette,
            "silhouette_by_k": kmeans.silhouette_by_k,
            "ari_vs_gold": adjusted_rand_score(truth, kmeans.labels[rows]),
            "segments": [
                {"id": s.node_id, "size": s.size, "top": [f.name for f in s.top_features]}
                for s in kmeans.segments
            ],
        },
        "agglomerative": {
            "k": agg.k,
            "silhouette": agg.silhouette,
            "ari_vs_gold": adjusted_rand_score(truth, agg.labels[rows]),
        },
        "example_profile": {
            "user": prof.user_id,
            "gold": gold[0],
            "categories": [i.node_id for i in prof.categories],
            "brands": [i.node_id for i in prof.brands],
            "spending_power": prof.spending_power,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, help="an existing kg.demo world folder")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.dataset
        config = None
        if folder is None:
            from kg.demo import DemoConfig, generate_demo_world

            config = DemoConfig(
                seed=args.seed,
                n_users=20_000,
                n_products=3_000,
                n_posts=20_000,
                n_events=args.events,
                images=False,
            )
            folder = Path(tmp) / "demo"
            _timed("generate_world", timings, generate_demo_world, folder, config, progress=False)
        result = run(folder, timings, args.seed)
    result["data"] = "kg.demo world " + (str(config) if config else str(args.dataset))
    result["seconds"] = timings
    result["load_average"] = os.getloadavg()
    print(
        f"users {result['users']:,}, events {result['events']:,}: profiles+embeddings "
        f"{timings['profiles_total']:.1f}s; k-means k={result['kmeans']['k']} silhouette "
        f"{result['kmeans']['silhouette']:.3f} ARI {result['kmeans']['ari_vs_gold']:.3f}; "
        f"agglomerative ARI {result['agglomerative']['ari_vs_gold']:.3f}"
    )
    atomic_write_json(RESULTS, result)
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
