"""``shopgraph segments ARTIFACT_DIR``: cluster the users' profiles and describe each segment
(one of fewer than ``privacy.min_people`` users is not described: its reader is another
person, and its traits would be a few people's acts)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``segments`` sub-command."""
    parser = subparsers.add_parser("segments", help="summarise user segments", description=__doc__)
    parser.add_argument("artifact", type=Path, metavar="ARTIFACT_DIR")
    parser.add_argument("--method", choices=("kmeans", "agglomerative"), default="kmeans")
    parser.add_argument("--k", type=int, help="number of segments (default: best silhouette "
                        "of the k leaving no segment under 3 users or 1%% of them)")
    parser.add_argument("--k-min", type=int, default=2)
    parser.add_argument("--k-max", type=int, default=10)
    parser.add_argument(
        "--embedding",
        action="store_true",
        help="add the autoencoder embedding to the clustering features",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the segments as JSON")
    parser.set_defaults(func=run_segments)


def run_segments(args: argparse.Namespace) -> int:
    """Build profiles from the artifact's graph, cluster them, print each segment."""
    import dataclasses
    import json

    from kg.artifact import load_artifact
    from recommend.profiles import build_profiles, inputs_from_graph, segment_users

    loaded = load_artifact(args.artifact)
    inputs = inputs_from_graph(loaded.graph)
    table = build_profiles(inputs)
    if args.embedding:
        from recommend.profiles.autoencoder import fit_embeddings

        fit_embeddings(inputs, table, seed=args.seed)
    seg = segment_users(
        table,
        method=args.method,
        k=args.k,
        k_range=(args.k_min, args.k_max),
        use_embeddings=args.embedding,
        seed=args.seed,
    )
    fewest = min_people(loaded.manifest)
    segments = [s if s.size >= fewest else dataclasses.replace(s, top_features=[])
                for s in seg.segments]
    if args.json:
        print(
            json.dumps(
                {
                    "method": seg.method,
                    "k": seg.k,
                    "silhouette": seg.silhouette,
                    "silhouette_by_k": seg.silhouette_by_k,
                    "segments": [dataclasses.asdict(s) for s in segments],
                    "note": seg.note,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    if seg.note:
        print(f"no segments: {seg.note}")
        return 0
    fit = f"silhouette {seg.silhouette:.3f}" if seg.k > 1 else "no silhouette for one segment"
    plural = "s" if seg.k > 1 else ""
    print(f"{len(table):,} users -> {seg.k} segment{plural} ({seg.method}), {fit}")
    if len(seg.silhouette_by_k) > 1:
        print(
            "  silhouette by k: "
            + ", ".join(f"{k}: {s:.3f}" for k, s in seg.silhouette_by_k.items())
        )
    for s in segments:
        top = ", ".join(f"{f.name} ({f.z:+.1f} sd)" for f in s.top_features)
        if s.size < fewest:
            top = f"traits not shown: fewer than {fewest} users (privacy.min_people)"
        users = "user " if s.size == 1 else "users"
        print(f"  {s.node_id:<12} {s.size:>7,} {users}  {top or 'no trait above the average'}")
    return 0


def min_people(manifest: dict[str, Any]) -> int:
    """The artifact's ``privacy.min_people`` (its models stage's config), else the default:
    a segment of fewer users is not described, its traits being a few people's acts."""
    from recommend.paths.privacy import Privacy

    config = manifest.get("stages", {}).get("models", {}).get("config", {})
    return int(config.get("privacy", {}).get("min_people", Privacy().min_people))
