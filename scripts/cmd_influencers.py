"""``shopgraph influencers ARTIFACT_DIR --item ID -k 5 [--audience N] [--runs R] [--json]``.

Picks ``k`` influencers whose followers cover the product's predicted audience (its top
``--audience`` users, default 5% of users and at least 100): greedy CELF on the expected
audience reached in seeded independent-cascade simulations over the follow graph, with
probabilities from observed engagement on each influencer's posts
(:mod:`recommend.marketer.influencers`). Per influencer: followers in the audience, posts
about the product's brand or category, engagement rate, overlap with the others chosen, and
a sentence; then the set's simulated reach beside the ``k`` with the most followers and the
degree-discount heuristic.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from scripts.options import positive_int


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``influencers`` sub-command."""
    parser = subparsers.add_parser("influencers", help="influencers to promote a product, "
                                   "explained", description=__doc__.split("\n\n")[0])
    parser.add_argument("artifact", type=Path, metavar="ARTIFACT_DIR")
    parser.add_argument("--item", required=True, help="product id, typed or raw")
    parser.add_argument("-k", type=positive_int, default=5, help="how many (default 5)")
    parser.add_argument("--audience", type=positive_int, default=None, metavar="N",
                        help="audience size (default 5%% of users, at least 100)")
    parser.add_argument("--runs", type=positive_int, default=100,
                        help="simulated cascades (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run_influencers)


def run_influencers(args: argparse.Namespace) -> int:
    """Print the chosen influencers (text or JSON)."""
    from recommend.marketer.influencers import user_label
    from recommend.recommender import Recommender

    rec = Recommender.load(args.artifact)
    found = rec.choose_influencers(args.item, args.k, audience_size=args.audience,
                                   runs=args.runs, seed=args.seed)
    if args.json:
        print(json.dumps(found.to_json(), indent=2, ensure_ascii=False))
        return 0
    for n, inf in enumerate(found.influencers, start=1):
        # the sentence opens with the user's label: the id in front only when it says more
        named = user_label(rec.graph, inf.user) != inf.user
        print(f"{n}. {inf.user}: {inf.sentence}" if named else f"{n}. {inf.sentence}")
    if not found.influencers:  # (was: a blank line, then a reach of 0.0 with no word why)
        print(f"No influencer for {found.item}: " + (
            "no user in the graph has a follower (the dataset has no follows)"
            if not found.candidates else "none of the users with followers reaches its audience"))
    mean, err = found.reach
    print(f"\nExpected audience reached: {mean:.1f} ± {err:.1f} of {found.audience_size}; "
          + "; ".join(f"{name.replace('_', ' ')}: {m:.1f} ± {e:.1f}"
                      for name, (m, e) in found.baselines.items()))
    print(found.method)
    return 0
