"""The artifact's SPARQL store: the same triples and answers as rdflib, read-only, bound
values kept bound, limits, and a tampered store refused before it is opened."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import Graph, Literal

import kg.sparql_store
from kg.artifact import load_artifact, open_artifact
from kg.artifact_files import ArtifactError, file_sha256
from kg.graph import KnowledgeGraph
from kg.rdf import import_rdf, to_rdflib
from kg.rdf_store import (
    STORE_DIR,
    export_store,
    load_text,
    store_folder,
    store_lines,
    write_store,
)
from kg.sparql import QueryLimitError, QueryLimits, sparql
from kg.sparql_check import SparqlError
from kg.sparql_store import outer_code, store_sparql
from scripts.cmd_demo import FOLLOWED_BRANDS_QUERY
from tests.kg.test_rdf import tricky_graph


@pytest.fixture(scope="module")
def tricky_store(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tricky")
    write_store(tricky_graph(), folder)
    return folder / STORE_DIR


def _rows(result) -> list:
    return sorted(result.rows, key=repr)


def test_store_holds_exactly_rdflibs_triples(tmp_path):
    g = tricky_graph()
    written = write_store(g, tmp_path)
    assert written.triples == len(to_rdflib(g))
    count = export_store(tmp_path / STORE_DIR, tmp_path / "all.nt")
    assert count == len(to_rdflib(g))
    assert set(Graph().parse(tmp_path / "all.nt", format="nt")) == set(to_rdflib(g))
    assert import_rdf(tmp_path / "all.nt") == g
    export_store(tmp_path / STORE_DIR, tmp_path / "all.ttl")
    assert "@prefix rel:" in (tmp_path / "all.ttl").read_text()
    assert import_rdf(tmp_path / "all.ttl") == g


def test_export_never_overwrites_and_names_its_formats(tricky_store, tmp_path):
    (tmp_path / "there.nt").write_text("mine\n")
    with pytest.raises(FileExistsError, match=r"there\.nt: exists"):
        export_store(tricky_store, tmp_path / "there.nt")
    assert (tmp_path / "there.nt").read_text() == "mine\n"
    with pytest.raises(ValueError, match=r"\.ttl"):
        export_store(tricky_store, tmp_path / "out.jsonld")
    with pytest.raises(FileExistsError):
        write_store(tricky_graph(), tricky_store.parent)
    assert not list(tmp_path.glob(".*.tmp"))


@settings(max_examples=25, deadline=None)
@given(weights=st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32),
                        min_size=1, max_size=4),
       stamps=st.lists(st.one_of(st.none(), st.floats(0, 4e9)), min_size=4, max_size=4))
def test_store_lines_are_rdflibs_terms(weights, stamps):
    """Weights, times and columns are written with rdflib's lexical forms (repr of a float)."""
    g = KnowledgeGraph()
    n = len(weights)
    g.add_edges("purchased", [f"user:{i}" for i in range(n)], ["product:A"] * n,
                weight=weights, ts=stamps[:n], start=[stamps[-1] or 0.5] * n)
    assert set(Graph().parse(data="".join(store_lines(g)), format="nt")) == set(to_rdflib(g))


QUERIES = [
    ("SELECT ?p ?w WHERE { ?e sg:source ?u ; sg:target ?p ; sg:weight ?w }", {"u": "user:1"}),
    ("SELECT ?t WHERE { ?u rel:purchased ?p . ?p attr:title ?t }", {"u": "user:1"}),
    ("PREFIX x: <http://a/SELECT#> # SELECT {\nselect distinct ?t WHERE { ?u rel:purchased ?p"
     " . ?p attr:title ?t FILTER(?t != \"} GROUP BY\") }", {"u": "user:1"}),
    ("SELECT (COUNT(?p) AS ?n) WHERE { ?u rel:purchased ?p } GROUP BY ?u", {"u": "user:1"}),
    ("SELECT ?c (COUNT(?p) AS ?n) WHERE { ?u rel:purchased ?p . ?p rel:in_category ?c } "
     "group by ?c ORDER BY DESC(?n) LIMIT 3", {"u": "user:1"}),
    ("ASK { ?u rel:rated ?p }", {"u": "user:1"}),
    ("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", {}),
    ("SELECT ?p WHERE { ?p attr:title ?t }", {"t": "Ünïcode tea ☕"}),
    ("SELECT ?p ?s WHERE { ?e col:start ?s ; sg:target ?p }", {}),
]


@pytest.mark.parametrize("case", range(len(QUERIES)))
def test_store_answers_as_rdflib(tricky_store, case):
    query, bindings = QUERIES[case]
    store = store_sparql(tricky_store, query, bindings)
    rdflib = sparql(to_rdflib(tricky_graph()), query, bindings)
    assert store.columns == rdflib.columns
    assert _rows(store) == _rows(rdflib)
    assert store.rows or query.startswith("SELECT ?p WHERE")


@pytest.mark.parametrize("streams", [1, 2, 3])
def test_load_text_counts_its_lines_and_never_writes_into_an_existing_folder(tmp_path, streams):
    text = list(store_lines(tricky_graph())) * 40  # a repeated line is one triple
    lines = load_text(tmp_path / "store", iter(text), streams=streams)
    assert lines == sum(item.count("\n") for item in text) > 0
    export_store(tmp_path / "store", tmp_path / "all.nt")
    assert set(Graph().parse(tmp_path / "all.nt", format="nt")) == set(to_rdflib(tricky_graph()))
    before = sorted(p.name for p in (tmp_path / "store").iterdir())
    with pytest.raises(FileExistsError, match="exists"):
        load_text(tmp_path / "store", iter(text))
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == before


def test_a_bad_line_stops_every_load_and_is_raised(tmp_path):
    good = "<urn:a> <urn:b> <urn:c> .\n"
    with pytest.raises(SyntaxError):
        load_text(tmp_path / "store", iter([good] * 50_000 + ["not a triple\n"] + [good] * 50_000))


def test_a_passed_check_is_remembered_and_a_refusal_never(tricky_store, monkeypatch):
    """The same query text with the same bound names is parsed once per process; other names
    are checked anew, and a refused query is refused every time."""
    parsed = []
    check = kg.sparql_store.check_query
    monkeypatch.setattr(kg.sparql_store, "check_query",
                        lambda text, *rest: parsed.append(text) or check(text, *rest))
    kg.sparql_store._checked.cache_clear()
    query = "SELECT ?t WHERE { ?u rel:purchased ?p . ?p attr:title ?t }"
    rdf = to_rdflib(tricky_graph())
    for user in ("user:1", "user:2", "user:1"):
        assert _rows(store_sparql(tricky_store, query, {"u": user})) == _rows(
            sparql(rdf, query, {"u": user}))
    assert parsed == [query]
    with pytest.raises(SparqlError, match=r"--bind v: the query has no variable \?v"):
        store_sparql(tricky_store, query, {"v": "user:1"})
    insert = "INSERT DATA { <urn:a> <urn:b> <urn:c> }"
    for _ in range(2):
        with pytest.raises(SparqlError, match="read-only"):
            store_sparql(tricky_store, insert)
    assert parsed == [query, query, insert, insert]
    kg.sparql_store._checked.cache_clear()


def test_select_star_keeps_the_bound_column(tricky_store):
    query = "SELECT * WHERE { ?u rel:purchased ?p . ?p attr:title ?t }"
    store = store_sparql(tricky_store, query, {"u": "user:1"})
    rdflib = sparql(to_rdflib(tricky_graph()), query, {"u": "user:1"})
    as_dicts = [dict(zip(r.columns, row, strict=True)) for r in (store, rdflib)
                for row in r.rows]
    assert as_dicts[0] == as_dicts[1] == {"u": "user:1", "p": "product:B 00/X?#",
                                          "t": "Ünïcode tea ☕"}


def test_demo_queries_answer_as_rdflib(small_demo_artifact):
    art = load_artifact(small_demo_artifact)
    folder = store_folder(art.files)
    assert folder is not None and art.manifest["rdf_store"]["triples"] > 0
    rdf = to_rdflib(art.graph, reified=False)
    users = [u for u in art.graph.nodes("user") if art.graph.neighbors(u, "follows")][:4]
    assert users
    for user in users:
        store = store_sparql(folder, FOLLOWED_BRANDS_QUERY, {"user": user})
        assert store.rows == sparql(rdf, FOLLOWED_BRANDS_QUERY, {"user": user}).rows
    product = art.graph.nodes("product")[0]
    query = ("SELECT ?other WHERE { ?p rel:in_category ?c . ?other rel:in_category ?c . "
             "?other rel:made_by ?b }")
    assert _rows(store_sparql(folder, query, {"p": product})) == _rows(
        sparql(rdf, query, {"p": product}))


def test_bound_values_stay_values(tricky_store):
    evil = 'Tea" } UNION { ?p ?x ?t } #'
    assert store_sparql(tricky_store, "SELECT ?p WHERE { ?p attr:title ?t }",
                        {"t": evil}).rows == []
    assert store_sparql(tricky_store, "SELECT ?p WHERE { ?p attr:title ?t }",
                        {"t": Literal("user:1")}).rows == []
    # the bound variable is bound everywhere, not only where it is projected
    query = "SELECT ?p WHERE { ?u ?rel ?p . ?p attr:title ?title }"
    assert store_sparql(tricky_store, query, {"u": "user:2"}).rows == [("product:B 00/X?#",)]
    assert store_sparql(tricky_store, query, {"u": "user:3"}).rows == []


def test_an_aggregate_over_everything_asks_for_a_group(tricky_store):
    with pytest.raises(SparqlError, match=r"--bind u: .* add GROUP BY \?u"):
        store_sparql(tricky_store, "SELECT (COUNT(?p) AS ?n) WHERE { ?u rel:purchased ?p }",
                     {"u": "user:1"})


def test_outer_code_blanks_strings_iris_comments_and_groups():
    text = 'PREFIX x: <http://a/SELECT#> # GROUP BY\nSELECT ?a { ?a x:p "}" } GROUP BY ?a'
    code = outer_code(text)
    assert len(code) == len(text)
    assert code.count("SELECT") == 1 and code.count("GROUP BY") == 1
    assert "}" in code and '"' not in code and "x:p" not in code


@pytest.mark.parametrize("query, message", [
    ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "read-only"),
    ("LOAD <file:///etc/passwd>", "updates"),
    ("SELECT * WHERE { SERVICE <http://127.0.0.1:8765/sparql> { ?s ?p ?o } }",
     "SERVICE <http://127.0.0.1:8765/sparql> refused"),
    ("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }", "FROM <file:///etc/passwd>"),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "CONSTRUCT queries are refused"),
])
def test_refused_before_the_store_is_opened(tmp_path, query, message):
    with pytest.raises(SparqlError) as caught:
        store_sparql(tmp_path / "no-store-here", query)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_unknown_binding_is_refused(tricky_store):
    with pytest.raises(SparqlError, match=r"--bind v: the query has no variable \?v"):
        store_sparql(tricky_store, "SELECT ?p WHERE { ?u rel:purchased ?p }", {"v": "user:1"})


def test_time_memory_and_row_limits(tricky_store):
    runaway = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l } ORDER BY ?c ?f ?i"
    began = time.perf_counter()
    with pytest.raises(QueryLimitError, match="time limit of 1 s"):
        store_sparql(tricky_store, runaway, limits=QueryLimits(seconds=1))
    assert time.perf_counter() - began < 5
    bigger = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n ?o } ORDER BY ?c"
    began = time.perf_counter()
    with pytest.raises(QueryLimitError, match=r"memory limit (of|is) 512 MB"):
        store_sparql(tricky_store, bigger, limits=QueryLimits(seconds=60, memory_mb=512))
    assert time.perf_counter() - began < 50  # stopped by memory, not by time
    with pytest.raises(QueryLimitError, match="time limit of 1 s"):
        store_sparql(tricky_store, runaway, limits=QueryLimits(seconds=1))  # check remembered
    cut = store_sparql(tricky_store, "SELECT ?s WHERE { ?s ?p ?o }",
                       limits=QueryLimits(max_rows=3))
    assert len(cut.rows) == 3 and "row limit of 3" in (cut.stopped or "")


@pytest.fixture
def art(small_demo_artifact, tmp_path) -> Path:
    folder = tmp_path / "art"
    shutil.copytree(small_demo_artifact, folder)
    return folder


def _store_files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): file_sha256(p)
            for p in sorted((folder / STORE_DIR).rglob("*")) if p.is_file()}


def test_querying_changes_no_store_file(art):
    before = _store_files(art)
    manifest, files = open_artifact(art)
    assert set(before) <= set(manifest["files"])
    store_sparql(store_folder(files), "SELECT ?s WHERE { ?s ?p ?o } LIMIT 5")
    assert _store_files(art) == before
    open_artifact(art)  # every hash still matches, nothing unlisted appeared


def test_a_tampered_store_is_refused_before_it_is_opened(art):
    sst = max((art / STORE_DIR).glob("*.sst"), key=lambda p: p.stat().st_size)
    data = bytearray(sst.read_bytes())
    data[len(data) // 2] ^= 0xFF
    sst.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match=rf"{sst.name}: sha256 differs"):
        open_artifact(art)
    sst.write_bytes(bytes(data[:100]))
    with pytest.raises(ArtifactError, match="sha256 differs"):
        open_artifact(art)


def test_a_planted_store_file_is_refused(art):
    (art / STORE_DIR / "000999.sst").write_bytes(b"planted")
    with pytest.raises(ArtifactError, match=r"000999\.sst: not listed"):
        open_artifact(art)


def test_a_store_file_swapped_for_a_symlink_is_refused(art, tmp_path):
    current = art / STORE_DIR / "CURRENT"
    (tmp_path / "elsewhere").write_bytes(current.read_bytes())
    current.unlink()
    current.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ArtifactError, match="symbolic link"):
        open_artifact(art)
