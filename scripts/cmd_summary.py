"""``shopgraph summary ARTIFACT_DIR``: the counts of a built artifact (from its manifest)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``summary`` sub-command."""
    parser = subparsers.add_parser("summary", help="print the counts of a built artifact",
                                   description=__doc__)
    parser.add_argument("artifact", type=Path, metavar="ARTIFACT_DIR")
    parser.set_defaults(func=run_summary)


def run_summary(args: argparse.Namespace) -> int:
    """Print records read/accepted/rejected per input file, then nodes and edges per type."""
    import json

    from kg.artifact import MANIFEST_FILE
    from kg.atomic import resolve_artifact_dir
    from kg.graph import GraphSummary

    root = resolve_artifact_dir(args.artifact)
    manifest = json.loads((root / MANIFEST_FILE).read_text(encoding="utf-8"))
    print(f"{root} (shopgraph {manifest['versions']['shopgraph']}, {manifest['created']})")
    print(f"{'input':<18} {'read':>10} {'accepted':>10} {'rejected':>10} {'merged':>8}")
    for name, c in manifest["inputs"].items():
        if "read" in c:
            print(f"{name:<18} {c['read']:>10,} {c['accepted']:>10,} {c['rejected']:>10,} "
                  f"{c['merged']:>8,}")
    print(GraphSummary(manifest["nodes"], manifest["edges"]))
    return 0
