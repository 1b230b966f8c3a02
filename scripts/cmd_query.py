"""``shopgraph query ARTIFACT_DIR 'SPARQL' [--bind NAME=VALUE ...]``: answer a SPARQL query.

Bound values are passed to rdflib as initial bindings, never pasted into the query. A value
``user:42`` (a typed node id) binds that node, ``<http://...>`` an IRI, anything else a
literal (``--bind title='"user:1"'`` forces a string literal). Prefixes node:, sg:, rel:,
attr:, col:, rdf:, xsd: are declared; see :mod:`kg.rdf` for the vocabulary. Only node
triples and direct edge triples (``?u rel:purchased ?p``) are loaded unless ``--weights``
asks for the edge resources too. Example:

    shopgraph query art 'SELECT ?p WHERE { ?u rel:purchased ?p }' --bind u=user:42
"""

from __future__ import annotations

import argparse
from pathlib import Path


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
                        help="also load the edge resources (sg:Edge with sg:weight, sg:ts, col:*);"
                        " about 7x more triples, so slower")
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
    """Load the artifact's graph into rdflib, run the query and print a table."""
    from kg.artifact import load_artifact
    from kg.rdf import sparql, to_rdflib

    bindings = dict(parse_binding(b) for b in args.bind)
    graph = load_artifact(args.artifact, verify=False).graph
    rdf = to_rdflib(graph, reified=args.weights, progress=not args.no_progress)
    print(sparql(rdf, args.query, bindings))
    return 0
