"""Hostile SPARQL: refused before evaluation, or stopped by its limits, always one line."""

from __future__ import annotations

import time

import pytest
import rdflib.plugins.sparql.evaluate as rdflib_evaluate

from kg.graph import KnowledgeGraph
from kg.rdf import to_rdflib
from kg.sparql import QueryLimitError, QueryLimits, sparql
from kg.sparql_check import SparqlError


@pytest.fixture(scope="module")
def rdf():
    g = KnowledgeGraph()
    users = [f"user:{i}" for i in range(40)]
    g.add_edges("purchased", users, [f"product:{i % 7}" for i in range(40)])
    g.add_edges("follows", users[1:], users[:-1])
    return to_rdflib(g)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Any attempt of rdflib to open a URL fails the test loudly (nothing is reached)."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"rdflib tried to open {args[:1]}")

    monkeypatch.setattr(rdflib_evaluate, "urlopen", refuse)


REFUSED = {
    "service http": ("SELECT * WHERE { SERVICE <http://127.0.0.1:8765/sparql> { ?s ?p ?o } }",
                     "SERVICE <http://127.0.0.1:8765/sparql> refused"),
    "service file": ("SELECT * WHERE { SERVICE <file:///etc/shadow> { ?s ?p ?o } }",
                     "SERVICE <file:///etc/shadow> refused"),
    "service silent in exists": (
        "ASK { ?s ?p ?o FILTER NOT EXISTS { SERVICE SILENT <file:///dev/zero> { ?s ?p ?x } } }",
        "SERVICE <file:///dev/zero> refused"),
    "service in subquery": (
        "SELECT ?s WHERE { { SELECT ?s WHERE { SERVICE <http://x.test/> { ?s ?p ?o } } } }",
        "SERVICE <http://x.test/> refused"),
    "service variable": ("SELECT * WHERE { ?e ?x ?y SERVICE ?e { ?s ?p ?o } }", "SERVICE"),
    "from": ("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }",
             "FROM <file:///etc/passwd> refused"),
    "from named": ("SELECT * FROM NAMED <http://127.0.0.1:1/g> WHERE { GRAPH ?g { ?s ?p ?o } }",
                   "FROM NAMED <http://127.0.0.1:1/g> refused"),
    "load": ("LOAD <file:///etc/passwd>", "updates"),
    "insert": ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "read-only"),
    "delete where": ("DELETE WHERE { ?s ?p ?o }", "read-only"),
    "clear": ("CLEAR ALL", "read-only"),
    "drop": ("DROP GRAPH <urn:g>", "read-only"),
    "construct": ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "CONSTRUCT queries are refused"),
    "describe": ("DESCRIBE <urn:a>", "DESCRIBE queries are refused"),
    "syntax": ("SELECT ?x WHERE { ?x ", "SPARQL syntax error at line 1, column"),
    "unknown prefix": ("SELECT ?x WHERE { ?x nope:p ?y }", "Unknown namespace prefix"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_before_evaluation_with_one_line(rdf, name):
    query, message = REFUSED[name]
    size = len(rdf)
    with pytest.raises(SparqlError, match=None) as caught:
        sparql(rdf, query)
    text = str(caught.value)
    assert message in text
    assert "\n" not in text
    assert len(rdf) == size


def test_unknown_bind_name_is_an_error(rdf):
    with pytest.raises(SparqlError, match=r"--bind v: the query has no variable \?v"):
        sparql(rdf, "SELECT ?p WHERE { ?u rel:purchased ?p }", {"v": "user:1"})
    assert sparql(rdf, "SELECT ?p WHERE { ?u rel:purchased ?p }", {"u": "user:1"}).rows == [
        ("product:1",)]


def test_runaway_order_by_is_stopped_by_the_time_limit(rdf):
    began = time.perf_counter()
    with pytest.raises(QueryLimitError, match="time limit of 1 s"):
        sparql(rdf, "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i",
               limits=QueryLimits(seconds=1))
    assert time.perf_counter() - began < 5


def test_runaway_query_is_stopped_by_the_memory_limit(rdf):
    with pytest.raises(QueryLimitError, match="memory limit of 64 MB"):
        sparql(rdf, "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i",
               limits=QueryLimits(seconds=60, memory_mb=64))


def test_row_limit_cuts_and_says_so(rdf):
    result = sparql(rdf, "SELECT ?s WHERE { ?s ?p ?o }", limits=QueryLimits(max_rows=3))
    assert len(result.rows) == 3
    assert "row limit of 3" in (result.stopped or "")
    assert "row limit of 3" in str(result)
    whole = sparql(rdf, "SELECT ?u WHERE { ?u rel:purchased <http://shopgraph.org/id/product/1> }")
    assert whole.stopped is None
    assert len(whole.rows) == 6


def test_limits_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        QueryLimits(seconds=0)


def test_evaluation_error_is_one_line(rdf):
    with pytest.raises(SparqlError, match="SPARQL evaluation error") as caught:
        sparql(rdf, 'SELECT ?s WHERE { ?s ?p ?o FILTER regex(str(?s), "(") }')
    assert "\n" not in str(caught.value)
