"""``shopgraph build DATASET_DIR --out ARTIFACT_DIR``: read, validate and build the graph artifact.

Writes the graph, ``manifest.json`` (counts, versions, hashes) and ``rejected.jsonl``
atomically: a build killed at any moment leaves the previous artifact loadable.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``build`` sub-command."""
    parser = subparsers.add_parser("build", help="build the knowledge-graph artifact of a dataset",
                                   description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", type=Path, metavar="DATASET_DIR")
    parser.add_argument("--out", type=Path, required=True, metavar="ARTIFACT_DIR")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")
    parser.set_defaults(func=run_build)


def run_build(args: argparse.Namespace) -> int:
    """Build the artifact; print the record and graph counts."""
    from kg.artifact import REJECTED_FILE, build_artifact
    from kg.graph import GraphSummary

    manifest = build_artifact(args.dataset, args.out, progress=not args.no_progress)
    records = manifest["records"]
    print(f"built {args.out} in {manifest['seconds']['total']:.1f} s from {args.dataset}: "
          f"{records['read']:,} read, {records['accepted']:,} accepted, "
          f"{records['rejected']:,} rejected (see {args.out / REJECTED_FILE})")
    print(GraphSummary(manifest["nodes"], manifest["edges"]))
    return 0
