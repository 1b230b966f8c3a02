"""RDF export/import of the knowledge graph (Turtle, N-Triples, JSON-LD); SPARQL: kg.sparql.

Vocabulary (prefixes are pre-declared in :func:`kg.sparql.sparql` queries):

=========  ================================  ===============================================
prefix     namespace                         used for
=========  ================================  ===============================================
``node:``  ``http://shopgraph.org/id/``      a node ``TYPE:RAW`` is ``node:TYPE/RAW``
                                             (RAW percent-encoded)
``sg:``    ``http://shopgraph.org/vocab#``   classes ``sg:User``, ``sg:Product``...; ``sg:index``
                                             (position within the type); ``sg:Edge`` and its
                                             ``sg:source``, ``sg:target``, ``sg:relation``,
                                             ``sg:weight``, ``sg:ts`` (unix seconds, xsd:double)
``rel:``   ``http://shopgraph.org/rel/``     one direct triple per edge: ``?u rel:purchased ?p``
``attr:``  ``http://shopgraph.org/attr/``    node attributes: strings, numbers, booleans as
                                             typed literals; lists/dicts as ``rdf:JSON``
``col:``   ``http://shopgraph.org/col/``     extra edge columns (e.g. ``col:start``)
=========  ================================  ===============================================

Each edge is also a reified resource ``<http://shopgraph.org/edge/SRC/REL/DST/N>`` carrying
its weight, ts and columns: direct triples keep SPARQL simple, and the reified resources
keep parallel edges and their weights so that an import equals the exported graph (same
nodes, indices, attributes and edges). We chose reification over RDF-star because rdflib's
parsers and SPARQL engine do not fully support RDF-star.

N-Triples are written in chunks of triples, so exporting a big graph never holds it whole in
rdflib; Turtle and JSON-LD are serialised from a whole rdflib graph (small graphs).
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, unquote

import numpy as np
from rdflib import RDF, XSD, Graph, Namespace, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.term import Node
from tqdm.auto import tqdm

from kg.graph import EdgeColumns, KnowledgeGraph
from kg.schema import NODE_TYPES, split_id

RdfFormat = Literal["turtle", "nt", "json-ld"]
FORMAT_BY_SUFFIX: dict[str, RdfFormat] = {
    ".ttl": "turtle",
    ".nt": "nt",
    ".jsonld": "json-ld",
    ".json": "json-ld",
}
NODE = Namespace("http://shopgraph.org/id/")
SG = Namespace("http://shopgraph.org/vocab#")
REL = Namespace("http://shopgraph.org/rel/")
ATTR = Namespace("http://shopgraph.org/attr/")
COL = Namespace("http://shopgraph.org/col/")
EDGE = Namespace("http://shopgraph.org/edge/")
PREFIXES = {"node": NODE, "sg": SG, "rel": REL, "attr": ATTR, "col": COL, "rdf": RDF, "xsd": XSD}
_CLASS = {t: SG[t.capitalize()] for t in NODE_TYPES}
_TYPE_OF_CLASS = {c: t for t, c in _CLASS.items()}
_CHUNK = 50_000


def node_uri(node_id: str) -> URIRef:
    """The URI of a typed node id.

    >>> str(node_uri("category:beauty/skin care"))
    'http://shopgraph.org/id/category/beauty/skin%20care'
    """
    node_type, raw = split_id(node_id)
    return NODE[f"{node_type}/{quote(raw, safe='/-._~:')}"]


def uri_node_id(uri: str) -> str | None:
    """The typed node id of a node URI, None for any other URI."""
    if not uri.startswith(str(NODE)):
        return None
    node_type, _, raw = uri[len(NODE) :].partition("/")
    return f"{node_type}:{unquote(raw)}" if node_type in NODE_TYPES and raw else None


def _literal(value: Any) -> RdfLiteral:
    if isinstance(value, (bool, int, float, str)):
        return RdfLiteral(value)
    return RdfLiteral(json.dumps(value, ensure_ascii=False, sort_keys=True), datatype=RDF.JSON)


def python_value(term: Node) -> Any:
    """A term as a Python value: rdf:JSON literals decoded, literals via toPython, else str."""
    if isinstance(term, RdfLiteral) and term.datatype == RDF.JSON:
        return json.loads(str(term))
    if isinstance(term, RdfLiteral):
        return term.toPython()
    return str(term)


def triples(graph: KnowledgeGraph, *, reified: bool = True,
            progress: bool = False) -> Iterator[tuple[Node, Node, Node]]:
    """Every RDF triple of ``graph`` (see the module docstring for the vocabulary).

    ``reified=False`` leaves out the edge resources (weights, ts, parallel edges): about
    7x fewer triples, for queries over the direct triples only; it cannot be imported back.
    """
    total = graph.num_nodes() + graph.num_edges()
    bar = tqdm(
        total=total,
        desc="rdf",
        unit="item",
        disable=not progress,
        leave=False,
        miniters=max(1, total // 100),
    )
    with bar:
        for node_type in NODE_TYPES:
            yield from node_triples(graph, node_type)
            bar.update(graph.num_nodes(node_type))
        for c in graph.edge_blocks():
            srcs = [node_uri(n) for n in graph.nodes(c.src_type)]
            dsts = [node_uri(n) for n in graph.nodes(c.dst_type)]
            prefix, predicate = f"{c.src_type}/{c.relation}/{c.dst_type}/", REL[c.relation]
            for lo in range(0, len(c), 10_000):
                hi = min(lo + 10_000, len(c))
                for p in range(lo, hi):
                    s, o = srcs[c.src[p]], dsts[c.dst[p]]
                    yield s, predicate, o
                    if reified:
                        yield from _edge_resource(c, p, EDGE[f"{prefix}{p}"], s, predicate, o)
                bar.update(hi - lo)


def node_triples(graph: KnowledgeGraph, node_type: str) -> Iterator[tuple[Node, Node, Node]]:
    """The triples of every node of ``node_type``: its class, ``sg:index`` and attributes."""
    for i, node_id in enumerate(graph.nodes(node_type)):
        s = node_uri(node_id)
        yield s, RDF.type, _CLASS[node_type]
        yield s, SG["index"], RdfLiteral(i)
        for key, value in graph.node_attrs(node_id).items():
            yield s, ATTR[quote(key, safe="")], _literal(value)


def _edge_resource(c: EdgeColumns, p: int, e: URIRef, s: URIRef, predicate: URIRef,
                   o: URIRef) -> Iterator[tuple[Node, Node, Node]]:
    yield e, RDF.type, SG.Edge
    yield e, SG.source, s
    yield e, SG.relation, predicate
    yield e, SG.target, o
    yield e, SG.weight, RdfLiteral(float(c.weight[p]))
    if not math.isnan(c.ts[p]):
        yield e, SG.ts, RdfLiteral(float(c.ts[p]))
    for name, values in c.columns.items():
        if not math.isnan(values[p]):
            yield e, COL[name], RdfLiteral(float(values[p]))


def to_rdflib(graph: KnowledgeGraph, *, reified: bool = True, progress: bool = False) -> Graph:
    """The graph as an in-memory rdflib Graph (prefixes bound); see :func:`triples`."""
    out = Graph()
    for prefix, ns in PREFIXES.items():
        out.bind(prefix, ns)
    out.addN((s, p, o, out) for s, p, o in triples(graph, reified=reified, progress=progress))
    return out


def export_rdf(
    graph: KnowledgeGraph,
    path: str | os.PathLike[str],
    rdf_format: RdfFormat | None = None,
    *,
    progress: bool = True,
) -> Path:
    """Write ``graph`` as Turtle, N-Triples or JSON-LD (format from the suffix if not given)."""
    path = Path(path)
    fmt = rdf_format or FORMAT_BY_SUFFIX.get(path.suffix)
    if fmt is None:
        raise ValueError(f"{path}: give rdf_format or a suffix in {sorted(FORMAT_BY_SUFFIX)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt != "nt":
        to_rdflib(graph, progress=progress).serialize(path, format=fmt, encoding="utf-8")
        return path
    with open(path, "wb") as handle:
        chunk = Graph()
        for triple in triples(graph, progress=progress):
            chunk.add(triple)
            if len(chunk) >= _CHUNK:
                handle.write(chunk.serialize(format="nt", encoding="utf-8"))
                chunk = Graph()
        handle.write(chunk.serialize(format="nt", encoding="utf-8"))
    return path


def import_rdf(
    source: str | os.PathLike[str] | Graph, rdf_format: RdfFormat | None = None
) -> KnowledgeGraph:
    """A KnowledgeGraph from an RDF file (or rdflib Graph) written by :func:`export_rdf`."""
    if not isinstance(source, Graph):
        path = Path(source)
        fmt = rdf_format or FORMAT_BY_SUFFIX.get(path.suffix)
        source = Graph().parse(path, format=fmt)
    subjects: dict[Node, dict[Node, list[Node]]] = defaultdict(lambda: defaultdict(list))
    for s, p, o in source:
        if p != RDF.type or o in _TYPE_OF_CLASS or o == SG.Edge:
            subjects[s][p].append(o)
    nodes: dict[str, list[tuple[int, str, dict[str, Any]]]] = defaultdict(list)
    edges: dict[tuple[str, str, str], list[tuple[int, Mapping[Node, list[Node]]]]] = defaultdict(
        list
    )
    for s, props in subjects.items():
        kind = props[RDF.type][0] if RDF.type in props else None
        if kind == SG.Edge:
            block, _, pos = str(s)[len(EDGE) :].rpartition("/")
            src_type, rel, dst_type = block.split("/")
            edges[(src_type, rel, dst_type)].append((int(pos), props))
        elif kind in _TYPE_OF_CLASS:
            node_id = uri_node_id(str(s))
            if node_id is None:
                raise ValueError(f"{s}: a {kind} outside the node namespace {NODE}")
            attrs = {
                unquote(str(p)[len(ATTR) :]): python_value(v[0])
                for p, v in props.items()
                if str(p).startswith(str(ATTR))
            }
            nodes[_TYPE_OF_CLASS[kind]].append((int(props[SG["index"]][0]), node_id, attrs))
    graph = KnowledgeGraph()
    for node_type in NODE_TYPES:
        for _, node_id, attrs in sorted(nodes[node_type], key=lambda x: x[0]):
            graph.add_node(node_id, **attrs)
    for (src_type, rel, dst_type), rows in edges.items():
        rows.sort(key=lambda r: r[0])
        cols = {
            str(p)[len(COL) :] for _, props in rows for p in props if str(p).startswith(str(COL))
        }
        graph._append(
            src_type,
            rel,
            dst_type,
            np.array([graph.index(uri_node_id(str(p[SG.source][0])) or "") for _, p in rows]),
            np.array([graph.index(uri_node_id(str(p[SG.target][0])) or "") for _, p in rows]),
            np.array([_one(p, SG.weight) for _, p in rows], np.float32),
            np.array([_one(p, SG.ts) for _, p in rows]),
            {c: np.array([_one(p, COL[c]) for _, p in rows]) for c in sorted(cols)},
        )
    return graph


def _one(props: Mapping[Node, list[Node]], key: Node) -> float:
    return float(props[key][0]) if key in props else math.nan
