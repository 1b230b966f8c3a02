"""RDF export/import round trips and SPARQL with bound parameters."""

from __future__ import annotations

import pytest
from rdflib import Literal

from kg.graph import KnowledgeGraph
from kg.rdf import export_rdf, import_rdf, node_uri, to_rdflib, uri_node_id
from kg.sparql import sparql


def tricky_graph() -> KnowledgeGraph:
    g = KnowledgeGraph()
    g.add_node("user:1", name='Ann "the\nfirst"', age=31, vip=True)
    g.add_node("product:B 00/X?#", title="Ünïcode tea ☕", price=4.25,
               categories=["Food", "Tea"], attributes={"organic": True, "grams": 100})
    g.add_node("category:food/tea", name="Tea")
    g.add_edges("purchased", ["user:1", "user:1"], ["product:B 00/X?#"] * 2,
                weight=8.0, ts=[1.5e9, None])
    g.add_edges("rated", ["user:2"], ["product:B 00/X?#"], weight=0.3)
    g.add_edges("in_category", ["product:B 00/X?#"], ["category:food/tea"])
    g.add_edges("mentions", ["post:9"], ["product:B 00/X?#"], start=[2.0], end=[7.0])
    return g


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
@pytest.mark.parametrize("suffix", [".ttl", ".nt", ".jsonld"])
def test_export_import_round_trips(tmp_path, suffix):
    g = tricky_graph()
    path = export_rdf(g, tmp_path / f"graph{suffix}", progress=False)
    back = import_rdf(path)
    assert back == g
    for node_type in ("user", "product", "category", "post"):
        assert back.nodes(node_type) == g.nodes(node_type)
    assert back.node_attrs("product:B 00/X?#")["attributes"] == {"organic": True, "grams": 100}
    assert back.neighbors("post:9", "mentions")[0].columns == {"start": 2.0, "end": 7.0}


def test_node_uris_round_trip_and_foreign_uris_are_not_nodes():
    for node_id in ("product:B 00/X?#", "category:a/b", "brand:l-oréal"):
        assert uri_node_id(str(node_uri(node_id))) == node_id
    assert uri_node_id("http://example.org/user/1") is None


def test_sparql_with_bindings():
    g = tricky_graph()
    result = sparql(g, "SELECT ?p ?w WHERE { ?e sg:source ?u ; sg:target ?p ; sg:weight ?w }",
                    {"u": "user:1"})
    assert result.columns == ["p", "w"]
    assert sorted(result.rows) == [("product:B 00/X?#", 8.0)] * 2
    titles = sparql(g, "SELECT ?t WHERE { ?u rel:purchased ?p . ?p attr:title ?t }",
                    {"u": "user:1"})
    assert titles.rows == [("Ünïcode tea ☕",)]
    ask = sparql(g, "ASK { ?u rel:rated ?p }", {"u": "user:1"})
    assert ask.rows == [(False,)]
    assert "1 rows" in str(titles)


def test_an_injection_looking_value_is_only_a_literal():
    g = tricky_graph()
    rdf = to_rdflib(g)
    size = len(rdf)
    evil = 'Tea" } UNION { ?p ?x ?t } #'
    result = sparql(rdf, "SELECT ?p WHERE { ?p attr:title ?t }", {"t": evil})
    assert result.rows == []
    assert len(rdf) == size
    named = sparql(rdf, "SELECT ?p WHERE { ?p attr:title ?t }", {"t": "Ünïcode tea ☕"})
    assert named.rows == [("product:B 00/X?#",)]
    # a string that looks like a node id can still be bound as a literal explicitly
    assert sparql(rdf, "SELECT ?p WHERE { ?p attr:title ?t }", {"t": Literal("user:1")}).rows == []


def test_direct_only_view_is_smaller_and_answers_edge_queries():
    g = tricky_graph()
    full, direct = to_rdflib(g), to_rdflib(g, reified=False)
    assert len(direct) < len(full)
    query = "SELECT ?u ?p WHERE { ?u rel:purchased ?p }"
    assert sparql(direct, query).rows == sparql(full, query).rows == [
        ("user:1", "product:B 00/X?#")]
