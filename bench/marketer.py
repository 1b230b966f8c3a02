"""Marketer benchmark: a product's audience, and influencers to reach it.

**Audience** (:mod:`bench.marketer_audience`, which argues the method). Per dataset with
event times (two demo worlds of 5,000 users, MovieLens 100K (943 users: n = 1000 is everyone
there), Amazon 2018 beauty + fashion 5-core; Amazon 2023's histories have no product with 5
buyers in any test period): a global time cut at the 80th percentile of the purchase / cart /
rating times. The training graph keeps no edge from at or after the cut and drops every
(user, product) pair whose first event is at or after it
(:func:`recommend.hybrid.split.graph_without_pairs`, with the posts that name them and the
profile stage's relations recomputed, as the build's validation does); the test
takers of a product are the users whose first purchase / cart / rating of it is after the
cut. The hybrid is fitted on the training graph with the build's defaults
(``HybridConfig()``), which also chooses the audience's category and activity weights on its
validation split. For up to ``--products`` products with at least 5 test takers: recall@n and
precision@n of the audience (n = 100, 1000 and 5% of users; an n listing at least half
the candidates is reported as not informative: every method then reaches nearly all
takers) against two baselines, each ranking the users who
do not have the product:

- ``category_buyers``: users by their purchases / carts / ratings in the product's
  categories (ties: overall activity);
- ``neighbour_buyers``: users by the summed co-interaction cosine of the product's 20
  nearest products that they took.

Also the share of audience members (top 100) explained by a shown path or by named private
evidence, and the share with a shown path; and time per query (scores only, and with the
paths of 100 members).

**Influencers.** On the fitted demo worlds (audience: the product's top 5% of users) and on
the Ciao trust network (no posts, so the weighted cascade; no hybrid is fitted on Ciao's
105k products: the audience is the product's category's most active raters, 5% of users),
the expected audience reached by the 5 chosen (CELF, 100 worlds) against the 5 with the
most followers and degree discount, all measured on fresh worlds; and seconds per choice
over up to 1,000 candidates.

**Scale** (``--big``): a demo world of 100k users; audience p50 (wall and CPU) over 20
products, at the served weights and with the take rate off (what the build served before its
time-cut choice) and on; the fit's steps in seconds (``audience_time_cut``: that choice).

Usage: ``HF_HUB_OFFLINE=1 .venv/bin/python bench/marketer.py [--products 100] [--big]``;
writes bench/results/marketer.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.marketer_audience import (  # noqa: E402
    AUDIENCE_SETS,
    TARGETS,
    audience_case,
    category_buyers,
    import_dataset,
    load_graph,
    ranked,
)
from kg.atomic import atomic_write_json  # noqa: E402

OUT = ROOT / "bench" / "results" / "marketer.json"


def influencer_case(graph: Any, audiences: list[tuple[str, np.ndarray]], runs: int = 100
                    ) -> dict[str, Any]:
    from recommend.marketer.influencers import choose_influencers

    ratios_f, ratios_d, secs, cpu, rows = [], [], [], [], []
    for item, audience in audiences:
        t0, c0 = time.perf_counter(), time.process_time()
        found = choose_influencers(graph, item, audience, 5, runs=runs, seed=0)
        secs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        mine = found.reach[0]
        top, dd = found.baselines["top_followers"][0], found.baselines["degree_discount"][0]
        ratios_f.append(mine / top if top > 0 else float("nan"))
        ratios_d.append(mine / dd if dd > 0 else float("nan"))
        rows.append({"item": item, "reach": round(mine, 2), "top_followers": round(top, 2),
                     "degree_discount": round(dd, 2), "seconds": round(secs[-1], 2),
                     "cpu_seconds": round(cpu[-1], 3)})
    return {"products": len(rows), "candidates": found.candidates if rows else 0,
            "method": found.method if rows else None,
            "reach_vs_top_followers": round(float(np.nanmean(ratios_f)), 3),
            "reach_vs_degree_discount": round(float(np.nanmean(ratios_d)), 3),
            "seconds_p50": round(float(np.median(secs)), 2),
            "seconds_max": round(float(np.max(secs)), 2),
            # CPU time, not inflated by a loaded machine; the first product also samples the
            # live-edge worlds every later product reuses
            "cpu_seconds_p50": round(float(np.median(cpu)), 3),
            "cpu_seconds_max": round(float(np.max(cpu)), 3), "per_product": rows}


def ciao_case(work: Path, n_products: int) -> dict[str, Any]:
    from kg.interactions import relation_matrix

    folder = work / "ciao"
    import_dataset("ciao", "ciao_trust_ratings", folder)
    graph = load_graph(folder)
    n_users = graph.num_nodes("user")
    takes = relation_matrix(graph, TARGETS).tocsc()
    counts = np.diff(takes.indptr)
    rng = np.random.default_rng(0)
    items = rng.choice(np.flatnonzero(counts >= 5), n_products, replace=False)
    size = max(1, n_users // 20)
    auds = [(graph.node_id("product", int(i)),
             ranked(category_buyers(graph, int(i)), np.zeros(0, np.int64), size))
            for i in items]
    out = influencer_case(graph, auds)
    out["note"] = (f"whole trust network ({n_users} users, {graph.num_edges('follows')} "
                   f"trust edges); audience: the product category's {size} most active raters")
    return out


def big_case(work: Path) -> dict[str, Any]:
    from kg.artifact import build_artifact
    from kg.demo import DemoConfig, generate_demo_world
    from recommend.hybrid.config import HybridConfig
    from recommend.marketer.audience import activity, audience_scores, top_users
    from recommend.model_stage import model_stage
    from recommend.recommender import Recommender

    generate_demo_world(work / "big", DemoConfig(n_users=100_000, n_products=5_000,
                                                 n_posts=20_000, n_events=600_000,
                                                 images=False))
    t0 = time.perf_counter()
    build_artifact(work / "big", work / "big-art", progress=False,
                   stages=[("models", model_stage(HybridConfig()))])
    build_s = time.perf_counter() - t0
    rec = Recommender.load(work / "big-art", verify=False)
    rng = np.random.default_rng(0)
    described = np.flatnonzero(rec.graph.described("product"))
    items = rng.choice(described, 21, replace=False).tolist()
    served = rec.model.config
    # the served weights, then the take rate off (the audience before it) and on (a = 1)
    variants = {"served": served,
                "without_rate": served.updated(audience={"activity_weight": 0.0}),
                "with_rate": served.updated(audience={
                    "activity_weight": served.audience.activity_weight or 1.0})}
    out: dict[str, Any] = {"users": rec.graph.num_nodes("user"),
                           "build_seconds": round(build_s, 1), "blend": rec.model.blend.kind,
                           "components": list(rec.model.blend.names),
                           "activity_weight": served.audience.activity_weight,
                           "category_weight": served.audience.category_weight,
                           # the fit's steps in seconds, the time-cut choice among them
                           "fit_seconds": rec.model.info.get("seconds"),
                           "audience_choice": rec.model.info.get("audience")}
    for name, config in variants.items():
        model = dataclasses.replace(rec.model, config=config)
        times, cpu = [], []
        for i in items:
            t, c = time.perf_counter(), time.process_time()
            top_users(audience_scores(model, i)[0], 1000, activity(model))
            times.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        # the first query also pays what is cached per graph (seen columns, take rate)
        key = "audience_1000_ms" if name == "served" else f"audience_1000_ms_{name}"
        out[key] = {"p50": round(1000 * float(np.median(times[1:])), 1),
                    "p95": round(1000 * float(np.quantile(times[1:], 0.95)), 1),
                    "cpu_p50": round(1000 * float(np.median(cpu[1:])), 1),
                    "first": round(1000 * times[0], 1)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--big", action="store_true")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    results: dict[str, Any] = {"audience": {}, "influencers": {}}
    with tempfile.TemporaryDirectory(prefix="marketer-") as tmp:
        work = Path(tmp)
        for name, (kind, source) in AUDIENCE_SETS.items():
            if args.only and name not in args.only:
                continue
            print(f"[audience] {name}", flush=True)
            res, model, items = audience_case(name, kind, source, work, args.products)
            results["audience"][name] = res
            print(f"  {res['metrics']}", flush=True)
            if kind == "demo":
                from recommend.marketer.audience import activity, audience_scores, top_users

                size = max(100, model.graph.num_nodes("user") // 20)
                auds = [(model.graph.node_id("product", i),
                         top_users(audience_scores(model, i)[0], size, activity(model)))
                        for i in items[:20]]
                results["influencers"][name] = influencer_case(model.graph, auds)
                print(f"  influencers {results['influencers'][name]['reach_vs_top_followers']}",
                      flush=True)
        if not args.only or "ciao" in args.only:
            print("[influencers] ciao", flush=True)
            results["influencers"]["ciao"] = ciao_case(work, 10)
        if args.big:
            print("[scale] 100k users", flush=True)
            results["scale"] = big_case(work)
    merged: dict[str, Any] = {}
    if args.out.is_file():  # a partial run (--only, --big) updates what it measured
        import json

        merged = json.loads(args.out.read_text(encoding="utf-8"))
    for key, value in results.items():  # per-dataset sections merge; "scale" is one run
        if key != "scale" and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key].update(value)
        else:
            merged[key] = value
    atomic_write_json(args.out, merged)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
