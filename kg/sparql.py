"""SPARQL over the graph: checked before evaluation, then evaluated under limits.

:func:`sparql` first checks the query (:mod:`kg.sparql_check`: read-only, no ``SERVICE``,
no ``FROM``, bindings must name query variables), then evaluates it in a forked child
process with three limits (:class:`QueryLimits`):

* time: the parent waits ``seconds`` and then kills the child (SIGKILL). A thread cannot be
  stopped in Python, and rdflib's ``ORDER BY`` sorts every solution before yielding the
  first one, so a deadline checked between rows would never fire on a runaway sort;
* memory: the child's address space is capped (``RLIMIT_AS``: what the child had at the
  fork plus ``memory_mb``), so a cartesian product fails with MemoryError in the child
  instead of growing the parent (a probe saw 4.85 GB in 60 s);
* rows: at most ``max_rows`` rows are taken (rdflib yields solutions lazily when there is
  no ``ORDER BY``, so the evaluation stops there); the result says it was cut.

A time or memory stop is a :class:`QueryLimitError` naming the limit. The child is a fork
of this process, so its rdflib graph is shared copy-on-write (nothing is serialised), and
its answer comes back over a pipe as plain Python values made by this module. The same
child and limits (:func:`evaluate_in_child`) run queries over an artifact's persistent
store (:mod:`kg.sparql_store`).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

from rdflib import Graph, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.term import Identifier, Node

from kg.graph import KnowledgeGraph
from kg.rdf import PREFIXES, node_uri, python_value, to_rdflib, uri_node_id
from kg.schema import NODE_TYPES
from kg.sparql_check import SparqlError, check_query, one_line


class QueryLimitError(SparqlError):
    """A query stopped by its time or memory limit."""


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """Bounds of one query: wall seconds, rows returned and extra memory of the evaluator."""

    seconds: float = 30.0
    max_rows: int = 10_000
    memory_mb: int = 2048

    def __post_init__(self) -> None:
        if not (self.seconds > 0 and self.max_rows > 0 and self.memory_mb > 0):
            raise ValueError(f"query limits must be positive: {self}")


@dataclass(frozen=True, slots=True)
class SparqlResult:
    """Columns and rows of a SELECT (node URIs as typed ids, literals as Python values).

    ``stopped`` says why rows are missing (the row limit), None for a complete answer.
    """

    columns: list[str]
    rows: list[tuple[Any, ...]]
    stopped: str | None = None

    def __str__(self) -> str:
        cells = [self.columns] + [["" if v is None else str(v) for v in r] for r in self.rows]
        widths = [max(len(row[j]) for row in cells) for j in range(len(self.columns))]
        lines = [
            "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
            for row in cells
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        footer = f"({len(self.rows)} rows)"
        if self.stopped:
            footer = f"({len(self.rows)} rows; {self.stopped})"
        return "\n".join([*lines, footer])


def to_term(value: Any) -> Identifier:
    """A bound value as an RDF term: rdflib terms as they are; ``<iri>`` -> URI; a typed node
    id (``user:42``) -> its node URI; numbers, booleans and any other string -> literals."""
    if isinstance(value, Identifier):
        return value
    if isinstance(value, str):
        if value.startswith("<") and value.endswith(">"):
            return URIRef(value[1:-1])
        node_type, sep, raw = value.partition(":")
        if sep and raw and node_type in NODE_TYPES:
            return node_uri(value)
    return RdfLiteral(value)


def _value(term: Node | None) -> Any:
    if term is None:
        return None
    if isinstance(term, URIRef):
        return uri_node_id(str(term)) or str(term)
    return python_value(term)


def cap_memory(extra_mb: int) -> None:
    """Cap this process's address space at its current size plus ``extra_mb`` (Linux; where
    /proc is absent only the time limit applies)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            pages = int(handle.read().split()[0])
    except OSError:
        return
    limit = pages * os.sysconf("SC_PAGE_SIZE") + extra_mb * (1 << 20)
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


#: What a child's engine answers: (columns, rows), rows lazily; ASK as (["ask"], [(bool,)]).
Answer = tuple[list[str], Iterable[tuple[Any, ...]]]


def send_answer(conn: Any, limits: QueryLimits, answer: Callable[[], Answer]) -> None:
    """The child's part common to every engine: cap memory, run ``answer``, send ("ok",
    columns, the first ``limits.max_rows`` rows, cut) or ("error"/"memory", text)."""
    try:
        cap_memory(limits.memory_mb)
        columns, rows = answer()
        kept = list(islice(rows, limits.max_rows + 1))
        conn.send(("ok", columns, kept[: limits.max_rows], len(kept) > limits.max_rows))
    except MemoryError:
        conn.send(("memory", ""))
    except Exception as err:  # the engine's own errors (a bad regex, a type error...)
        conn.send(("error", one_line(err)))
    finally:
        conn.close()


def _evaluate(conn: Any, rdf: Graph, query: Any, terms: dict[str, Identifier],
              limits: QueryLimits) -> None:
    """The child over rdflib (:func:`send_answer`)."""
    import rdflib.plugins.sparql

    rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False  # a second guard behind check_query

    def answer() -> Answer:
        result = rdf.query(query, initBindings=terms)
        if result.type == "ASK":
            return ["ask"], [(bool(result.askAnswer),)]
        return ([str(v) for v in result.vars or []],
                (tuple(_value(t) for t in row) for row in result))

    send_answer(conn, limits, answer)


def sparql(
    source: KnowledgeGraph | Graph,
    query: str,
    bindings: Mapping[str, Any] | None = None,
    *,
    limits: QueryLimits | None = None,
) -> SparqlResult:
    """Run a checked SPARQL SELECT/ASK under ``limits`` (module docstring).

    Bound values are RDF terms (see :func:`to_term`) passed as rdflib initBindings, never
    pasted into the query text, so a value cannot change the query. Prefixes
    ``node: sg: rel: attr: col: rdf: xsd:`` are declared. SparqlError for a refused or
    malformed query, QueryLimitError when the time or memory limit stops it.

    >>> g = KnowledgeGraph(); g.add_edges("purchased", ["user:1"], ["product:A"])
    >>> sparql(g, "SELECT ?p WHERE { ?u rel:purchased ?p }", {"u": "user:1"}).rows
    [('product:A',)]
    """
    limits = limits or QueryLimits()
    prepared = check_query(query, PREFIXES, bindings)
    rdf = to_rdflib(source) if isinstance(source, KnowledgeGraph) else source
    terms = {name: to_term(v) for name, v in (bindings or {}).items()}
    return evaluate_in_child(_evaluate, (rdf, prepared, terms, limits), limits)


def evaluate_in_child(target: Callable[..., None], args: tuple[Any, ...],
                      limits: QueryLimits) -> SparqlResult:
    """Run ``target(conn, *args)`` in a forked child under ``limits`` (module docstring); its
    answer. ``target`` sends ("ok", columns, rows, cut), ("memory", "") or ("error", text)
    on ``conn``; a child still running after ``limits.seconds`` is killed."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=target, args=(send, *args), daemon=True)
    child.start()
    send.close()
    try:
        if not receive.poll(limits.seconds):
            raise QueryLimitError(f"query stopped: still running after the time limit of "
                                  f"{limits.seconds:g} s (raise it with --timeout)")
        try:
            message = receive.recv()
        except EOFError:
            child.join(5)
            raise QueryLimitError(f"query stopped: its process ended with code "
                                  f"{child.exitcode} (out of memory? the memory limit is "
                                  f"{limits.memory_mb} MB, raise it with --max-memory-mb)"
                                  ) from None
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receive.close()
    if message[0] == "memory":
        raise QueryLimitError(f"query stopped: it needed more than the memory limit of "
                              f"{limits.memory_mb} MB (raise it with --max-memory-mb)")
    if message[0] == "error":
        raise SparqlError(f"SPARQL evaluation error: {message[1]}")
    _, columns, rows, cut = message
    stopped = (f"stopped at the row limit of {limits.max_rows:,} (raise it with --max-rows)"
               if cut else None)
    return SparqlResult(columns, rows, stopped)
