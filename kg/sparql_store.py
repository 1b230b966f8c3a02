"""SPARQL over the artifact's persistent store (:mod:`kg.rdf_store`), under the same guard.

:func:`store_sparql` is :func:`kg.sparql.sparql` for a pyoxigraph store folder: the query is
checked first by :func:`kg.sparql_check.check_query` (read-only: updates, ``LOAD``,
``SERVICE``, ``FROM``, ``CONSTRUCT``/``DESCRIBE`` and unknown binding names are refused
before anything is opened; a check that passed is remembered per process and query text,
:func:`check_store_query`, since rdflib's parse costs about 12 ms of CPU, a third of a
guarded call at a million events, docs/scale.md), then evaluated in a forked child under
the same time, memory and row limits (:func:`kg.sparql.evaluate_in_child`). The child
opens the store itself, read-only, so no RocksDB handle or thread crosses a fork.

Bound values become pyoxigraph terms passed as ``substitutions`` (SEP-0007: the variable is
replaced by the term in the parsed query), never pasted into the query text. Oxigraph
substitutes only variables of the outer projection, so :func:`prepare_bound` adds a bound
variable's *name* to the projection (and to ``GROUP BY`` in a query that groups) and its
column is dropped from the answer: the only change ever made to the text. The answer's
values are converted as :mod:`kg.sparql` converts rdflib's (node IRIs as typed ids,
literals through rdflib's own ``toPython``), so both engines give equal rows (a test holds
them to it). A variable bound only inside a sub-select is not bound there (oxigraph keeps
a sub-select's variables its own), and an aggregate over all solutions must group by a
bound variable it does not project (a clear SparqlError says so).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from rdflib import Literal as RdfLiteral
from rdflib import URIRef
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import BNode, Identifier, Variable

from kg.rdf import PREFIXES, python_value, uri_node_id
from kg.rdf_store import open_store
from kg.sparql import (
    Answer,
    QueryLimits,
    SparqlResult,
    evaluate_in_child,
    send_answer,
    to_term,
)
from kg.sparql_check import SparqlError, check_query


def oxigraph_term(term: Identifier) -> Any:
    """An rdflib term as a pyoxigraph term (ValueError for an IRI that is not valid)."""
    import pyoxigraph as ox

    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, RdfLiteral):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    raise ValueError(f"cannot bind {term!r}: not an IRI or a literal")


def _value(term: Any) -> Any:
    """A pyoxigraph term as :mod:`kg.sparql` gives an rdflib term's value."""
    import pyoxigraph as ox

    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return uri_node_id(term.value) or term.value
    if isinstance(term, ox.Literal):
        if term.language:
            return python_value(RdfLiteral(term.value, lang=term.language))
        return python_value(RdfLiteral(term.value, datatype=URIRef(term.datatype.value)))
    return str(term.value) if isinstance(term, ox.BlankNode) else str(term)


# what may hold a brace, '#' or a keyword that is not code: strings, IRIs, comments
_LEXEMES = re.compile("|".join((
    r'"""(?:[^"\\]|\\.|"(?!""))*"""',
    r"'''(?:[^'\\]|\\.|'(?!''))*'''",
    r'"(?:[^"\\\n]|\\.)*"',
    r"'(?:[^'\\\n]|\\.)*'",
    r'<[^<>"{}|^`\\\x00-\x20]*>',
    r"#[^\n\r]*",
)))
_SELECT = re.compile(r"(?<![?$\w:])SELECT\b(?:\s+(?:DISTINCT|REDUCED)\b)?", re.IGNORECASE)
_GROUP_BY = re.compile(r"(?<![?$\w:])GROUP\s+BY\b", re.IGNORECASE)
_OUTER = ("Slice", "Project", "Distinct", "Reduced", "OrderBy", "Filter", "Extend")


def outer_code(text: str) -> str:
    """``text`` with strings, IRIs, comments and everything inside braces blanked out (same
    length), so a keyword found in it is one of the outer query."""
    blank = _LEXEMES.sub(lambda m: " " * len(m.group()), text)
    out, depth = [], 0
    for char in blank:
        depth -= char == "}"
        out.append(char if depth <= 0 else " ")
        depth += char == "{"
    return "".join(out)


def _outer_group(query: Query) -> Any:
    """The Group node of a SELECT's outer aggregation (None if it aggregates nothing),
    found down the chain of solution modifiers."""
    node = query.algebra.p
    while isinstance(node, CompValue) and node.name in _OUTER:
        node = node.p
    return node.p if isinstance(node, CompValue) and node.name == "AggregateJoin" else None


def prepare_bound(text: str, query: Query, names: Sequence[str]) -> tuple[str, list[str]]:
    """The query text to evaluate with ``names`` bound, and the bound names it adds to the
    projection (their columns are dropped from the answer).

    Oxigraph substitutes only variables of the outer projection. A bound variable is a
    constant, so projecting (and grouping by) it changes no row: a bound name the query
    does not project goes in front of its SELECT projection and, if it groups, after its
    ``GROUP BY``. The rest of the text is kept as written: oxigraph plans joins in the
    written order, and a bound variable first is what makes a query fast. Only names of
    variables of the query are added (checked by :func:`kg.sparql_check.check_query`),
    never a bound value.
    """
    if query.algebra.name != "SelectQuery":
        return text, []
    code = outer_code(text)
    select = _SELECT.search(code)
    shown = {str(v) for v in dict.get(query.algebra, "PV") or ()}
    missing = [n for n in names if n not in shown]
    if select is None or not missing or code[select.end():].lstrip().startswith("*"):
        return text, []
    group = _outer_group(query)
    grouped = {str(v) for v in (dict.get(group, "expr") or ()) if isinstance(v, Variable)
               } if group is not None else set()
    ungrouped = [n for n in missing if n not in grouped]
    group_by = _GROUP_BY.search(code)
    if group is not None and ungrouped and group_by is None:
        raise SparqlError(f"--bind {ungrouped[0]}: an aggregate over all solutions cannot "
                          f"bind a variable it does not project; add GROUP BY ?{ungrouped[0]}")
    edits = [(select.end(), "".join(f" ?{n}" for n in missing))]
    if group is not None and ungrouped and group_by is not None:
        edits.append((group_by.end(), "".join(f" ?{n}" for n in ungrouped)))
    for at, added in sorted(edits, reverse=True):
        text = f"{text[:at]}{added}{text[at:]}"
    return text, missing


@lru_cache(maxsize=64)
def _checked(text: str, names: frozenset[str]) -> Query:
    return check_query(text, PREFIXES, dict.fromkeys(names))


def check_store_query(text: str, bindings: Mapping[str, Any] | None = None) -> Query:
    """:func:`kg.sparql_check.check_query` with the store's prefixes, remembered by query text
    and bound names (the check reads no bound value): a process that asks the same query
    again, with the same or other values, parses it once. Only a query that passed is
    remembered; a refused one is parsed and refused anew every time. The parsed query is
    shared: read it, never change it."""
    return _checked(text, frozenset(bindings or ()))


def _evaluate(conn: Any, folder: str, query: str, added: list[str],
              substitutions: dict[str, Identifier], limits: QueryLimits) -> None:
    """The child: open the store and answer (:func:`kg.sparql.send_answer`) without the
    columns of the ``added`` names (:func:`prepare_bound`)."""
    import pyoxigraph as ox

    def answer() -> Answer:
        result = open_store(folder).query(
            query, prefixes={k: str(v) for k, v in PREFIXES.items()},
            substitutions={ox.Variable(k): oxigraph_term(v) for k, v in substitutions.items()})
        if isinstance(result, ox.QueryBoolean):
            return ["ask"], [(bool(result),)]
        kept = [i for i, v in enumerate(result.variables) if v.value not in added]
        return ([result.variables[i].value for i in kept],
                (tuple(_value(row[i]) for i in kept) for row in result))

    send_answer(conn, limits, answer)


def store_sparql(
    folder: str | Path,
    query: str,
    bindings: Mapping[str, Any] | None = None,
    *,
    limits: QueryLimits | None = None,
) -> SparqlResult:
    """Run a checked SPARQL SELECT/ASK over the store in ``folder`` under ``limits``.

    ``folder`` is a store written by :func:`kg.rdf_store.write_store` whose files were
    checked (an artifact's, through :class:`kg.artifact_files.ArtifactFiles`). Bindings as
    in :func:`kg.sparql.sparql` (:func:`kg.sparql.to_term`). The store holds the edge
    resources (``sg:Edge``, ``sg:weight``...) too. SparqlError for a refused or malformed
    query, QueryLimitError when the time or memory limit stops it.
    """
    limits = limits or QueryLimits()
    prepared = check_store_query(query, bindings)
    terms = {name: to_term(v) for name, v in (bindings or {}).items()}
    for term in terms.values():
        oxigraph_term(term)  # a bad IRI is the caller's error, raised here and not in the child
    text, added = prepare_bound(query, prepared, list(terms))
    return evaluate_in_child(_evaluate, (str(folder), text, added, terms, limits),
                             limits)
