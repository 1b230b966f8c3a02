"""``shopgraph query ARTIFACT_DIR 'SPARQL' [--bind NAME=VALUE ...]``: answer a SPARQL query.

The artifact's SPARQL store answers, after its files passed their sha256 checks: the
``rdf_store/`` a build with ``--rdf-store`` wrote into it, else the store made from its graph
on the first query and kept beside it as ``NAME.sparql`` (:mod:`kg.rdf_cache`). Where that
cannot be written (a read-only folder), the graph is converted into rdflib instead. Bound
values are passed as substitutions (rdflib's initial bindings for a converted graph), never
pasted into the query. A value ``user:42`` (a typed node id) binds that node,
``<http://...>`` an IRI, anything else a literal (``--bind title='"user:1"'`` forces a
string literal). Prefixes node:, sg:, rel:, attr:, col:, rdf:, xsd: are declared; see
:mod:`kg.rdf` for the vocabulary. The store holds every triple, the edge resources
(``sg:Edge`` with ``sg:weight``, ``sg:ts``, ``col:*``) included; a converted graph has only
node triples and direct edge triples (``?u rel:purchased ?p``) unless ``--weights``.

The query is checked before the artifact is even loaded: updates (LOAD, INSERT...), SERVICE,
FROM / FROM NAMED, CONSTRUCT/DESCRIBE and a --bind name that is not a variable of the query
are refused with a one-line error (exit 2), as is a syntax error. Evaluation runs in a child
process under --timeout, --max-memory-mb and --max-rows (see :mod:`kg.sparql`); a query
stopped by time or memory is an error, a cut at --max-rows prints the rows and says so.
Example:

    shopgraph query art 'SELECT ?p WHERE { ?u rel:purchased ?p }' --bind u=user:42
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

#: The defaults of :class:`kg.sparql.QueryLimits` (kept here so ``--help`` imports no rdflib).
TIMEOUT, MAX_ROWS, MAX_MEMORY_MB = 30.0, 10_000, 2048


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``query`` sub-command."""
    parser = subparsers.add_parser("query", help="run a SPARQL query over a built artifact",
                                   description=__doc__.split("\n\n")[0],
                                   formatter_class=argparse.RawDescriptionHelpFormatter,
                                   epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("artifact", type=Path, metavar="ARTIFACT_DIR")
    parser.add_argument("query", metavar="SPARQL")
    parser.add_argument("--bind", action="append", default=[], metavar="NAME=VALUE",
                        help="bind ?NAME to VALUE (repeatable)")
    parser.add_argument("--weights", action="store_true",
                        help="a graph converted for want of a store: also convert the edge "
                        "resources (sg:Edge with sg:weight, sg:ts, col:*; about 7x more "
                        "triples, so slower); the store always holds them")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, metavar="SECONDS",
                        help="stop the query after this many seconds (default %(default)s)")
    parser.add_argument("--max-rows", type=int, default=MAX_ROWS, metavar="N",
                        help="return at most N rows (default %(default)s)")
    parser.add_argument("--max-memory-mb", type=int, default=MAX_MEMORY_MB,
                        metavar="MB", help="stop the query when its evaluation needs more than "
                        "MB megabytes (default %(default)s)")
    parser.add_argument("--no-verify", action="store_true",
                        help="skip the artifact's sha256 checks (benchmarks only)")
    parser.set_defaults(func=run_query)


def parse_binding(text: str) -> tuple[str, object]:
    """``name=value`` -> (name, value); a double-quoted value stays a string literal."""
    name, sep, value = text.partition("=")
    name = name.strip().lstrip("?$")
    if not sep or not name.isidentifier():
        raise ValueError(f"--bind {text!r}: expected NAME=VALUE")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        from rdflib import Literal

        return name, Literal(value[1:-1])
    return name, value


def run_query(args: argparse.Namespace) -> int:
    """Check the query, open the artifact's store (or convert its graph), run the query,
    print a table."""
    from kg.artifact import open_artifact
    from kg.graph_io import EDGES_FILE, NODES_FILE, read_graph
    from kg.rdf import to_rdflib
    from kg.rdf_cache import artifact_store
    from kg.sparql import QueryLimits, sparql
    from kg.sparql_store import check_store_query, store_sparql

    limits = QueryLimits(args.timeout, args.max_rows, args.max_memory_mb)
    bindings = dict(parse_binding(b) for b in args.bind)
    check_store_query(args.query, bindings)  # refuse before loading anything (parsed once)
    _, files = open_artifact(args.artifact, verify=not args.no_verify)
    try:
        folder = artifact_store(files, progress=not args.no_progress)
    except OSError as err:
        print(f"shopgraph query: cannot write the SPARQL store of {args.artifact} ({err}): "
              "converting its graph", file=sys.stderr)
        folder = None
    if folder is not None:
        result = store_sparql(folder, args.query, bindings, limits=limits)
    else:
        graph = read_graph(files.path(NODES_FILE), files.path(EDGES_FILE))
        rdf = to_rdflib(graph, reified=args.weights, progress=not args.no_progress)
        result = sparql(rdf, args.query, bindings, limits=limits)
    print(result)
    if result.stopped:
        print(f"shopgraph query: {result.stopped}", file=sys.stderr)
    return 0
