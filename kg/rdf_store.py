"""The artifact's persistent SPARQL store: the graph's triples in a pyoxigraph folder.

``shopgraph query`` used to turn the whole graph into an in-memory rdflib graph on every
call: at a million events, 3.3M direct triples took 270 s on the busy bench machine
(bench/sparql_store.py). The triples are now written once into an embedded Oxigraph store
(RocksDB files), :data:`STORE_DIR`, which a query opens read-only in about 9 ms of CPU
(:mod:`kg.sparql_store`): inside the artifact when built with ``--rdf-store``, else beside
it, made by the first query (:mod:`kg.rdf_cache`, which says why that is the default).

**Verification.** The store's files are ordinary artifact files: each is listed in the
manifest with its sha256, and :class:`kg.artifact_files.ArtifactFiles` checks them (listed,
regular, confined, hashed, nothing unlisted beside them) before the store is opened, so a
tampered or planted RocksDB file is refused before RocksDB's C++ reader parses it. This
works because the files do not change once the writer has closed the store, and opening it
read-only writes nothing into the folder (tested). The alternative, an N-Quads dump that is
hashed and loaded lazily into a cache folder, would pay the whole load (15M triples at a
million events: minutes) on the first query after every build or cache loss, and the cached
copy outside the artifact would then be trusted without a hash of its own. Hashing the
store's files costs what hashing any file does (4 s for 1.9 GB on the busy bench machine).

**Layout.** One graph holds every triple :func:`kg.rdf.triples` yields: each node's class,
``sg:index`` and attributes, one direct triple per edge, and the reified edge resources
(``sg:Edge`` with weight, ts and columns), with the terms :mod:`kg.rdf` makes (same IRIs,
same literal lexical forms). So the store answers as rdflib does over
:func:`kg.rdf.to_rdflib`, and its N-Triples export imports back to the same graph. Oxigraph
keeps a named graph's quads in six indexes and the default graph's triples in three, so
the edge resources (about 5 of every 6 triples) are not set apart in a named graph: at a
million events (bench/sparql_store.py) one graph takes 1.1 GB, while the named-graph layout
had passed 2.9 GB when its load was stopped.

**Writing.** Oxigraph's bulk loader is fastest on N-Triples text, so the edges (nearly all
of the triples) are written as text lines from IRIs made once per node; node triples go
through pyoxigraph's own terms, which check IRIs and escape literals. One ``bulk_load``
parses on the calling thread and sorts and writes each batch of a million triples on one
worker thread, a batch at a time. At a million events (14.9M lines; CPU seconds, measured at
load 14-24 where wall time means nothing) the load took 137 CPU s: the calling thread 58
(the Python text 23 of them), the worker 79, so on two idle cores the worker bounds it near
190k triples/s. Two loads at once (``streams=2``) split the worker's part but held 3.3 GB
and growing against 1.9 GB for one (graph included; stopped there), so one is the default
and ``bench/sparql_store.py --load-streams 2`` measures two. ``lenient`` loading saves 3-5%
of the loader's CPU (1M-line slices, interleaved). ``Store.optimize()`` after the load was
measured and left out: 21 CPU s more, 1.9 GB instead of 1.1 (41 files instead of 69), and
the guarded query no faster (the read-only open in its child 16 ms CPU instead of 9, the
query 0.6 ms instead of 3.3).
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
from rdflib import RDF, XSD, BNode, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.term import Node

from kg.artifact_files import ArtifactFiles
from kg.graph import EdgeColumns, KnowledgeGraph
from kg.rdf import COL, EDGE, PREFIXES, REL, SG, node_triples, node_uri
from kg.schema import NODE_TYPES

STORE_DIR = "rdf_store"
_CHUNK = 10_000  # items of store_lines encoded at a time (up to ~7 MB of text)
LOAD_STREAMS = 1  # bulk loads at once (load_text; the module docstring says why one)
_EXPORT_FORMATS = {".nt": "N_TRIPLES", ".ttl": "TURTLE"}


@dataclass(frozen=True, slots=True)
class StoreWritten:
    """What :func:`write_store` wrote: the store's files and how many triples it holds."""

    files: list[Path]
    triples: int

    def manifest_entry(self) -> dict[str, Any]:
        """The manifest's ``rdf_store`` entry."""
        import pyoxigraph

        return {"folder": STORE_DIR, "engine": f"pyoxigraph {pyoxigraph.__version__}",
                "triples": self.triples}


def nt_term(term: Node) -> str:
    """An rdflib term in N-Triples syntax, checked and escaped by pyoxigraph (ValueError for
    an IRI that is not valid)."""
    import pyoxigraph as ox

    if isinstance(term, URIRef):
        return str(ox.NamedNode(str(term)))
    if isinstance(term, RdfLiteral):
        if term.language:
            return str(ox.Literal(str(term), language=term.language))
        datatype = ox.NamedNode(str(term.datatype or XSD.string))
        return str(ox.Literal(str(term), datatype=datatype))
    if isinstance(term, BNode):
        return str(ox.BlankNode(str(term)))
    raise TypeError(f"not an RDF term: {term!r}")


def _double(value: float) -> str:
    # rdflib writes a float as repr(value) (tests/kg/test_rdf_store.py holds it to that)
    return f'"{value!r}"^^<{XSD.double}>'


def _edge_lines(c: EdgeColumns, srcs: list[str], dsts: list[str]) -> Iterator[str]:
    """Direct triples of one block, then its edge resources."""
    predicate = nt_term(REL[c.relation])
    for s, o in zip(c.src.tolist(), c.dst.tolist(), strict=True):
        yield f"{srcs[s]} {predicate} {dsts[o]} .\n"
    base = nt_term(EDGE[f"{c.src_type}/{c.relation}/{c.dst_type}/0"])[:-2]  # '<...'
    a, edge, source, target = (nt_term(x) for x in (RDF.type, SG.Edge, SG.source, SG.target))
    relation, weight, ts = (nt_term(x) for x in (SG.relation, SG.weight, SG.ts))
    columns = [(nt_term(COL[name]), values.tolist()) for name, values in c.columns.items()]
    times = c.ts.tolist()
    for p, (s, o, w) in enumerate(zip(c.src.tolist(), c.dst.tolist(), c.weight.tolist(),
                                      strict=True)):
        e = f"{base}{p}>"
        yield (f"{e} {a} {edge} .\n{e} {source} {srcs[s]} .\n{e} {relation} {predicate} .\n"
               f"{e} {target} {dsts[o]} .\n{e} {weight} {_double(w)} .\n")
        if times[p] == times[p]:  # not NaN
            yield f"{e} {ts} {_double(times[p])} .\n"
        for name, values in columns:
            if values[p] == values[p]:
                yield f"{e} {name} {_double(values[p])} .\n"


def store_lines(graph: KnowledgeGraph) -> Iterator[str]:
    """The graph as N-Triples text, one or more whole lines per item (module docstring)."""
    known: dict[Node, str] = {}  # predicates and classes: a few dozen IRIs, each made once
    for node_type in NODE_TYPES:
        node, subject = None, ""
        for s, p, o in node_triples(graph, node_type):
            if s is not node:  # a node's triples come together, with one subject term
                node, subject = s, nt_term(s)
            predicate = known.get(p) or known.setdefault(p, nt_term(p))
            value = nt_term(o) if isinstance(o, RdfLiteral) else (
                known.get(o) or known.setdefault(o, nt_term(o)))
            yield f"{subject} {predicate} {value} .\n"
    uris: dict[str, list[str]] = {}
    for c in graph.edge_blocks():
        for node_type in (c.src_type, c.dst_type):
            if node_type not in uris:
                uris[node_type] = [nt_term(node_uri(n)) for n in graph.nodes(node_type)]
        yield from _edge_lines(c, uris[c.src_type], uris[c.dst_type])


class _TextStream(io.RawIOBase):
    """Text chunks as a binary stream, so that a bulk load reads the whole graph without its
    text ever being held whole (one load makes a third fewer bytes than loading it in chunks:
    measured 1.1 GB against 1.9 GB at a million events). ``next_text`` gives the next chunk
    of whole lines, "" at the end."""

    def __init__(self, next_text: Callable[[], str]) -> None:
        self._next, self._data, self._at, self.lines = next_text, b"", 0, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self._at >= len(self._data):
            text = self._next()
            if not text:
                return 0
            self.lines += text.count("\n")
            self._data, self._at = text.encode(), 0
        n = min(len(buffer), len(self._data) - self._at)
        buffer[:n] = self._data[self._at:self._at + n]
        self._at += n
        return n


def load_text(target: str | os.PathLike[str], items: Iterator[str], *,
              streams: int = LOAD_STREAMS) -> int:
    """Bulk-load N-Triples text ``items`` (whole lines each, as :func:`store_lines` makes
    them) into a new store at ``target`` and close it; the number of lines read.
    FileExistsError if ``target`` exists (it is never overwritten).

    ``streams`` bulk loads run at once on threads (pyoxigraph releases the GIL while it
    parses, sorts and writes), each taking the next chunk of ``items`` when it needs one
    (the module docstring says what one and two cost). The loads are ``lenient``: every
    IRI and literal of the text was made by pyoxigraph's own terms (:func:`nt_term`), so
    the loader's second check of them is skipped."""
    import pyoxigraph as ox

    target = Path(target)
    if target.exists() or target.is_symlink():
        raise FileExistsError(f"{target}: exists; a store is written only into a new folder")
    lock = threading.Lock()
    failed: list[BaseException] = []

    def next_text() -> str:
        with lock:
            return "" if failed else "".join(islice(items, _CHUNK))

    store = ox.Store(str(target))
    readers = [_TextStream(next_text) for _ in range(streams)]

    def load(store: Any, reader: _TextStream) -> None:
        try:
            store.bulk_load(io.BufferedReader(reader, 1 << 20), format=ox.RdfFormat.N_TRIPLES,
                            lenient=True)
        except BaseException as err:  # raised below, in the caller's thread; the other
            failed.append(err)  # loads then read no more text

    threads = [threading.Thread(target=load, args=(store, r), daemon=True)
               for r in readers[1:]]
    try:
        for thread in threads:
            thread.start()
        load(store, readers[0])
        for thread in threads:
            thread.join()
        if failed:
            raise failed[0]
        store.flush()
    finally:
        del store  # closes RocksDB: its files are final from here on
    return sum(r.lines for r in readers)


def write_store(graph: KnowledgeGraph, folder: str | os.PathLike[str], *,
                streams: int = LOAD_STREAMS) -> StoreWritten:
    """Write ``graph``'s triples into a new store ``folder/STORE_DIR`` (:func:`load_text`)
    and close it; what was written. FileExistsError if that folder exists (it is never
    overwritten)."""
    target = Path(folder) / STORE_DIR
    loaded = load_text(target, store_lines(graph), streams=streams)
    files = sorted(p for p in target.rglob("*") if p.is_file() and not p.is_symlink())
    # every line is a distinct triple but a parallel edge's repeated direct triple
    repeats = sum(len(c) - len(np.unique(c.src.astype(np.int64) * graph.num_nodes(c.dst_type)
                                         + c.dst)) for c in graph.edge_blocks())
    return StoreWritten(files, loaded - repeats)


def store_folder(files: ArtifactFiles) -> Path | None:
    """The artifact's store folder once each of its files passed the gate again (regular,
    listed; hashed when the gate was opened); None for an artifact without a store."""
    names = [name for name in files.digests if name.startswith(f"{STORE_DIR}/")]
    for name in names:
        files.path(name)
    return files.folder / STORE_DIR if names else None


def open_store(path: str | os.PathLike[str]) -> Any:
    """The store at ``path`` opened read-only (a ``pyoxigraph.Store``); open it only after its
    files passed the artifact's checks (:class:`kg.artifact_files.ArtifactFiles`)."""
    import pyoxigraph as ox

    return ox.Store.read_only(str(path))


def export_store(store_dir: str | os.PathLike[str], out: str | os.PathLike[str]) -> int:
    """Write every triple of the store at ``store_dir`` to ``out``, streamed: N-Triples
    (``.nt``, what :func:`kg.rdf.import_rdf` reads back into the same graph) or Turtle
    (``.ttl``, with the prefixes of :data:`kg.rdf.PREFIXES`). ``out`` must not exist
    (FileExistsError): it is written under a temporary name and linked into place. The
    number of triples written."""
    import pyoxigraph as ox

    out = Path(out)
    kind = _EXPORT_FORMATS.get(out.suffix)
    if kind is None:
        raise ValueError(f"{out}: the store exports as {sorted(_EXPORT_FORMATS)}")
    if out.exists() or out.is_symlink():
        raise FileExistsError(f"{out}: exists; choose a new file (nothing is overwritten)")
    store = open_store(store_dir)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    prefixes = {k: str(v) for k, v in PREFIXES.items()} if kind == "TURTLE" else None
    try:
        with open(tmp, "xb") as handle:
            store.dump(handle, format=getattr(ox.RdfFormat, kind),
                       from_graph=ox.DefaultGraph(), prefixes=prefixes)
        os.link(tmp, out)  # unlike a rename, never replaces a file made meanwhile
    finally:
        tmp.unlink(missing_ok=True)
    return len(store)
