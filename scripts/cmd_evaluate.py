"""``shopgraph evaluate DATASET_DIR``: how good is the default build on this data?

Builds the dataset's enriched graph (the same stages as ``shopgraph build``) in a
temporary folder, holds out 20% of each user's purchases, carts and ratings (by time when
the timestamps allow it, else at random; every trace of a held-out pair hidden: see
:mod:`recommend.hybrid.split`), fits the hybrid with the build's defaults on the rest and
prints NDCG / recall / HR @10 of the hybrid, each component alone, and the popularity and
item-kNN baselines, with the share of recommendations explained by a stored path.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` sub-command."""
    parser = subparsers.add_parser("evaluate", help="hold out part of a dataset and measure "
                                   "the default build on it",
                                   description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", type=Path, metavar="DATASET_DIR")
    parser.add_argument("--split", choices=("auto", "time", "random"), default="auto",
                        help="hold out the latest products (time), random ones, or decide "
                        "from the timestamps (auto, default)")
    parser.add_argument("--fraction", type=float, default=0.2,
                        help="share of each user's products held out (default 0.2)")
    parser.add_argument("-k", type=int, default=10, help="list length (default 10)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--no-vision", action="store_true", help="skip the vision stage")
    parser.set_defaults(func=run_evaluate)


def run_evaluate(args: argparse.Namespace) -> int:
    """Build the graph, evaluate, print the table (or JSON)."""
    from kg.artifact import build_artifact, load_artifact
    from recommend.evaluate.holdout import evaluate_graph
    from recommend.stages import EnrichConfig, enrichment_stages

    if not 0.0 < args.fraction < 1.0:
        raise ValueError(f"--fraction must be in (0, 1), not {args.fraction}")
    if args.k < 1:
        raise ValueError(f"-k must be at least 1, not {args.k}")
    progress = not args.no_progress
    stages = enrichment_stages(EnrichConfig(vision=not args.no_vision), progress=progress)
    with tempfile.TemporaryDirectory(prefix="shopgraph-evaluate-") as tmp:
        build_artifact(args.dataset, Path(tmp) / "graph", progress=progress, stages=stages,
                       rdf_store=False)
        graph = load_artifact(Path(tmp) / "graph").graph
    log = (lambda msg: print(f"evaluate: {msg}", flush=True)) if progress else None
    result = evaluate_graph(graph, mode=args.split, fraction=args.fraction, seed=args.seed,
                            k=args.k, log=log)
    if args.json:
        print(json.dumps(result.to_json(), indent=2, sort_keys=True, default=str))
        return 0
    split = result.split
    record = split.get("targets", {})
    targets = ", ".join(record.get("relations", ()))
    pairs = split.get("held_pairs", 0)
    print(f"hold-out: {split.get('mode', 'none')} ({counted(pairs, 'pair')} of "
          f"{counted(result.users, 'user')}, from {targets}); fit {result.fit_seconds:.1f} s")
    if record.get("widened"):
        print(f"targets widened: {record['why']}")
    if not result.users:
        print("no user has enough products (bought, carted, rated, liked, clicked, viewed, "
              "or named by posts they wrote, liked, commented on or shared) to hold any out")
        return 0
    print(result.table(args.k))
    served = result.model_info.get("selection", {}).get("chosen", "blend")
    print(f"served: {served}; explained by a stored path: {result.explained:.1%} "
          f"of the top {args.k} of {result.audited_users} users")
    return 0


def counted(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1: "1 pair", "36 pairs".

    >>> counted(1, "pair"), counted(36, "user")
    ('1 pair', '36 users')
    """
    return f"{n:,} {noun}" + ("" if n == 1 else "s")
