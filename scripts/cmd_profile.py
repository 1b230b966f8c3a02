"""``shopgraph profile ARTIFACT_DIR --user ID``: one user's profile, computed from the graph."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``profile`` sub-command."""
    parser = subparsers.add_parser("profile", help="print a user's profile", description=__doc__)
    parser.add_argument("artifact", type=Path, metavar="ARTIFACT_DIR")
    parser.add_argument("--user", required=True, help="user id (raw '42' or typed 'user:42')")
    parser.add_argument("--top", type=int, default=5, help="interests shown per kind")
    parser.add_argument(
        "--embedding",
        action="store_true",
        help="also train the interaction autoencoder and show the embedding",
    )
    parser.add_argument("--json", action="store_true", help="print the profile as JSON")
    parser.set_defaults(func=run_profile)


def run_profile(args: argparse.Namespace) -> int:
    """Load the artifact, build every profile (vectorised, seconds), print the user's."""
    import dataclasses
    import json

    from kg.artifact import load_artifact
    from recommend.profiles import build_profiles, inputs_from_graph
    from recommend.profiles.post_side import post_side
    from recommend.request import graph_id

    graph = load_artifact(args.artifact).graph
    user = graph_id(graph, args.user, "user")  # "user:7" may be a raw id (user:user:7)
    inputs = inputs_from_graph(graph)
    table = build_profiles(inputs)
    row = table.row(user)
    if args.embedding:
        from recommend.profiles.autoencoder import fit_embeddings

        fit_embeddings(inputs, table)
    prof = table.profile(user, top=args.top)
    segments = [e.dst for e in graph.neighbors(prof.user_id, "member_of")]
    side = post_side(graph, inputs, row, top=args.top)
    if args.json:
        print(
            json.dumps(
                {**dataclasses.asdict(prof), "segments": segments,
                 "posts": dataclasses.asdict(side)}, indent=2, ensure_ascii=False
            )
        )
        return 0
    print(
        f"{prof.user_id}  ({int(inputs.n_events[row])} events, "
        f"{int(inputs.followers[row])} followers)"
    )
    for label, interests in (
        ("categories", prof.categories),
        ("brands", prof.brands),
        ("concepts", prof.concepts),
    ):
        shown = ", ".join(f"{i.node_id.split(':', 1)[1]} {i.weight:.2f}" for i in interests)
        print(f"  {label:<15} {shown or '-'}")
    if any(side.counts.values()):  # what the posts say: the profile above is events' alone
        counts = ", ".join(f"{n} {_POST_VERBS[rel]}" for rel, n in side.counts.items())
        named = side.products_named
        print(f"  {'posts':<15} {counts}; they name {named} product{'' if named == 1 else 's'}")
        shown = ", ".join(f"{i.node_id.split(':', 1)[1]} {i.weight:.2f}" for i in side.categories)
        print(f"  {'post categories':<15} {shown or '-'}")
    spend = "-" if prof.spending_power is None else f"{prof.spending_power:.2f} price percentile"
    print(f"  {'spending power':<15} {spend} (from {prof.spending_basis})")
    print(f"  {'brand loyalty':<15} {prof.brand_loyalty:.2f}")
    print(
        f"  {'activity':<15} {prof.activity:.2f} log(1+events), {prof.active_days:.0f} active days"
    )
    print(f"  {'influence':<15} {prof.influence:.2f}")
    if segments:
        print(f"  {'segments':<15} {', '.join(segments)}")
    if prof.embedding:
        print(f"  {'embedding':<15} [{', '.join(f'{v:.2f}' for v in prof.embedding)}]")
    return 0


#: How the profile names each of :data:`kg.interactions.POST_ENGAGEMENTS`.
_POST_VERBS = {"authored": "written", "comments": "comments written", "liked": "liked",
               "commented": "commented on", "shared": "shared"}
