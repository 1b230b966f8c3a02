"""``shopgraph recommend ARTIFACT_DIR --user ID -k 10 [--json] [--html OUT.html]``: top products
with reasons.

``--json`` prints a JSON list of ``{"item", "score", "parts": {...}, "paths": [{"nodes",
"edges": [[src, type, dst], ...], "text", ...}], "reason"}``. An unknown user gets cold-start
recommendations (the ``reason`` says so). ``--html`` also writes a page of the same
recommendations with their paths drawn (:mod:`recommend.report`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``recommend`` sub-command."""
    parser = subparsers.add_parser("recommend", help="recommend products to a user, explained",
                                   description=__doc__.split("\n\n")[0])
    parser.add_argument("artifact", type=Path, metavar="ARTIFACT_DIR")
    parser.add_argument("--user", required=True, help="user id, typed (user:42) or raw (42)")
    parser.add_argument("-k", type=int, default=10, help="how many products (default 10)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--include-seen", action="store_true",
                        help="allow products the user already interacted with")
    parser.add_argument("--category", action="append", default=[],
                        help="keep products in this category or below (repeatable)")
    parser.add_argument("--brand", action="append", default=[],
                        help="keep products of this brand (repeatable)")
    parser.add_argument("--price-min", type=float, default=None)
    parser.add_argument("--price-max", type=float, default=None)
    parser.add_argument("--diversity", type=float, default=0.0,
                        help="0..1: trade score for variety (maximal marginal relevance)")
    parser.add_argument("--no-explain", action="store_true", help="skip the paths")
    parser.add_argument("--html", type=Path, default=None, metavar="OUT.html",
                        help="also write an HTML page with the paths drawn")
    parser.set_defaults(func=run_recommend)


def run_recommend(args: argparse.Namespace) -> int:
    """Print the recommendations (text or JSON)."""
    from recommend.recommender import Recommender

    if args.k < 1:
        raise ValueError(f"-k must be at least 1, not {args.k}")
    if not 0.0 <= args.diversity <= 1.0:
        raise ValueError(f"--diversity must be in [0, 1], not {args.diversity}")
    rec = Recommender.load(args.artifact)
    recs = rec.recommend(args.user, k=args.k, exclude_seen=not args.include_seen,
                         categories=args.category, brands=args.brand,
                         price_min=args.price_min, price_max=args.price_max,
                         diversity=args.diversity, explain=not args.no_explain)
    if args.html is not None:
        from recommend.report import write_report

        write_report(rec, {args.user: recs}, args.html)
    if args.json:
        print(json.dumps([r.to_json() for r in recs], indent=2, ensure_ascii=False))
        return 0
    if not recs:
        print(f"no product passes the filters for {rec.user_id(args.user)}")
    for n, r in enumerate(recs, start=1):
        title = rec.graph.node_attrs(r.item).get("title", "")
        parts = ", ".join(f"{k} {v:+.2f}" for k, v in r.parts.items() if abs(v) >= 0.005)
        print(f"{n:>2}. {r.item}  {title}  score {r.score:.3f}  ({parts})")
        if r.reason:
            print(f"    [{r.reason}]")
        for p in r.paths:
            print(f"    - {p.text}")
    return 0
