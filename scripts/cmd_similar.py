"""``shopgraph similar ARTIFACT_DIR --item ID -k 10 [--json]``: products like a product, explained.

Content similarity (text embeddings) and co-interaction (people who engaged with one also
engaged with the other), each scaled to [0, 1] and averaged; each product comes with up to
3 graph paths of at most 3 hops from the queried product to it (a shared buyer, brand,
category, concept ...). ``--json`` prints a JSON list of ``{"item", "score", "parts": {...},
"paths": [{"nodes", "edges": [[src, type, dst], ...], "text", ...}], "reason"}``, the shape of
``shopgraph recommend --json``. An unknown item is an error.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from scripts.console import LOGGER


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``similar`` sub-command."""
    parser = subparsers.add_parser("similar", help="products similar to a product, explained",
                                   description=__doc__.split("\n\n")[0])
    parser.add_argument("artifact", type=Path, metavar="ARTIFACT_DIR")
    parser.add_argument("--item", required=True, help="product id, typed or raw")
    parser.add_argument("-k", type=int, default=10, help="how many products (default 10)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--no-explain", action="store_true", help="skip the paths")
    parser.set_defaults(func=run_similar)


def run_similar(args: argparse.Namespace) -> int:
    """Print the similar products (text or JSON) with their paths."""
    from recommend.recommender import Recommender
    from recommend.shown import shown_name, shown_number

    rec = Recommender.load(args.artifact)
    found = rec.similar(args.item, k=args.k, explain=not args.no_explain)
    if not found:
        others = int(rec.graph.described("product").sum()) - 1
        LOGGER.warning("no product similar to %s: %s", rec.item_id(args.item),
                       "the catalogue holds no other product" if others < 1
                       else f"none of the {others:,} others shares text or people with it")
    if args.json:
        print(json.dumps([r.to_json() for r in found], indent=2, ensure_ascii=False))
        return 0
    for n, r in enumerate(found, start=1):
        title = shown_name(rec.graph.node_attrs(r.item).get("title"))
        parts = ", ".join(f"{k} {shown_number(v, 2):.2f}" for k, v in r.parts.items())
        print(f"{n:>2}. {r.item}  {title}  score {shown_number(r.score, 3):.3f}  ({parts})")
        for p in r.paths:
            print(f"    - {p.text}")
    return 0
