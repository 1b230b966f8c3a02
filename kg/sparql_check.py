"""Read-only SPARQL: a query is parsed and checked before anything is evaluated.

A query comes from a person or a script we do not control, and rdflib's engine will follow
IRIs if asked: ``SERVICE <http://...>`` sends HTTP requests (a probe saw 2,030 POSTs from one
query), ``SERVICE <file:///etc/shadow>`` and ``FROM <file:///...>`` open local files, and
``LOAD``/``INSERT``/``DELETE`` change or fetch data. So :func:`check_query` parses the text
with rdflib's own parser, translates it to algebra and walks every node of it (filters,
``EXISTS``, sub-queries included) before evaluation, refusing:

* any update (``LOAD``, ``INSERT``, ``DELETE``, ``CLEAR``, ``DROP``...): the store is read-only;
* ``SERVICE`` anywhere: no other endpoint or file is reached;
* dataset clauses ``FROM`` / ``FROM NAMED``: rdflib would load those IRIs;
* ``CONSTRUCT`` and ``DESCRIBE``: only ``SELECT`` and ``ASK`` are answered;
* a binding whose name is not a variable of the query (rdflib would silently ignore it).

Every refusal and every syntax error is a one-line :class:`SparqlError` (a ``ValueError``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Variable

ANSWERED = ("SelectQuery", "AskQuery")


class SparqlError(ValueError):
    """A query that is refused or cannot be parsed (one line, says why)."""


def one_line(err: BaseException) -> str:
    """An exception's text on one line."""
    text = " ".join(str(err).split())
    return text or type(err).__name__


def _syntax_error(err: Exception) -> SparqlError:
    line, col, msg = (getattr(err, k, None) for k in ("lineno", "col", "msg"))
    if line is not None and col is not None and msg:
        return SparqlError(f"SPARQL syntax error at line {line}, column {col}: {msg}")
    return SparqlError(f"SPARQL syntax error: {one_line(err)}")


def _nodes(value: Any) -> Iterator[Any]:
    """Every value reachable from an algebra node (CompValues, lists, sets, terms)."""
    stack = [value]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        if isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)) or type(item).__name__ == \
                "ParseResults":
            stack.extend(item)


def _refuse(query: Query) -> None:
    """SparqlError if the algebra reaches outside the store (see the module docstring)."""
    kind = query.algebra.name
    if kind not in ANSWERED:
        asked = kind.removesuffix("Query").upper()
        raise SparqlError(f"{asked} queries are refused: only SELECT and ASK are answered")
    for node in _nodes(query.algebra):
        if not isinstance(node, CompValue):
            continue
        if node.name == "ServiceGraphPattern":
            raise SparqlError(f"SERVICE {_show(dict.get(node, 'term'))} refused: a query may "
                              "not reach another endpoint or a file, only this artifact's graph")
        clauses = dict.get(node, "datasetClause")  # CompValue.get answers a missing key
        if clauses:  # with the key itself, hence dict.get
            named = dict.get(clauses[0], "named")
            keyword = "FROM NAMED" if named is not None else "FROM"
            iri = named if named is not None else dict.get(clauses[0], "default")
            raise SparqlError(f"{keyword} {_show(iri)} refused: a query may not load other "
                              "graphs or files, only this artifact's graph is queried")


def _show(term: object) -> str:
    return f"?{term}" if isinstance(term, Variable) else f"<{term}>"


def query_variables(query: Query) -> set[str]:
    """Names of every variable that appears in the query's algebra."""
    return {str(v) for v in _nodes(query.algebra) if isinstance(v, Variable)}


def check_query(text: str, prefixes: Mapping[str, Any],
                bindings: Mapping[str, Any] | None = None) -> Query:
    """The parsed, checked query: SparqlError for a syntax error, an update, SERVICE, FROM,
    CONSTRUCT/DESCRIBE or a binding that names no variable of the query."""
    try:
        parsed = parseQuery(text)
    except Exception as err:  # pyparsing's errors; an update is a valid text of another kind
        try:
            parseUpdate(text)
        except Exception:
            raise _syntax_error(err) from None
        raise SparqlError("SPARQL updates (LOAD, INSERT, DELETE, CLEAR, DROP, CREATE...) are "
                          "refused: the graph is read-only") from None
    try:
        query = translateQuery(parsed, initNs=dict(prefixes))
    except Exception as err:  # e.g. an undeclared prefix
        raise SparqlError(f"SPARQL error: {one_line(err)}") from None
    _refuse(query)
    unknown = sorted(set(bindings or ()) - query_variables(query))
    if unknown:
        raise SparqlError(f"--bind {unknown[0]}: the query has no variable ?{unknown[0]}")
    return query
