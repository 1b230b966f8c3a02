"""``shopgraph rdf ARTIFACT_DIR --out FILE.nt``: export the artifact's graph as RDF.

Streams every triple out of the artifact's SPARQL store (its ``rdf_store/``, else the store
kept beside it, made on first use: :mod:`kg.rdf_cache`) after its files passed their sha256
checks: ``.nt`` writes N-Triples (what
:func:`kg.rdf.import_rdf` reads back into the same graph), ``.ttl`` Turtle with the
prefixes node:, sg:, rel:, attr:, col:. FILE must not exist: nothing is overwritten, and it
appears whole or not at all. JSON-LD comes from the Python API (:func:`kg.rdf.export_rdf`).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``rdf`` sub-command."""
    parser = subparsers.add_parser("rdf", help="export an artifact's graph as N-Triples or Turtle",
                                   description=__doc__.split("\n\n")[0],
                                   epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("artifact", type=Path, metavar="ARTIFACT_DIR")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE",
                        help="a new .nt or .ttl file")
    parser.add_argument("--no-verify", action="store_true",
                        help="skip the artifact's sha256 checks (benchmarks only)")
    parser.set_defaults(func=run_rdf)


def run_rdf(args: argparse.Namespace) -> int:
    """Check the artifact, stream its store's triples into ``--out``; say how many."""
    from kg.artifact import open_artifact
    from kg.ownership import check_new_file
    from kg.rdf_cache import artifact_store
    from kg.rdf_store import export_store

    if args.out.exists() or args.out.is_symlink():
        raise ValueError(f"{args.out}: exists; choose a new file (nothing is overwritten)")
    check_new_file(args.out)  # nor written into an artifact, which would then refuse to load
    _, files = open_artifact(args.artifact, verify=not args.no_verify)
    folder = artifact_store(files, progress=not args.no_progress)
    count = export_store(folder, args.out)
    print(f"wrote {count:,} triples to {args.out}")
    return 0
