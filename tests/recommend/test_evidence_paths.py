"""Paths for cf, session, content and popularity, on hand-made graphs (the min-share floor:
test_path_floor.py)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp

from kg.graph import KnowledgeGraph
from recommend.hybrid.evidence import (
    NO_PATH,
    Evidence,
    component_evidence,
    evidence_fidelity,
    no_path,
)
from recommend.paths.privacy import hop_exists
from recommend.paths.reasons import evidence_paths, evidence_types
from recommend.paths.user_reasons import has_block, own_products
from tests.recommend.evidence_shop import CROWD, idx, shop


def paths_of(g: KnowledgeGraph, item: str, *evidence: Evidence, min_people: int = 5):
    return evidence_paths(g, "user:1", item, list(evidence), own_products(g, "user:1"),
                          min_people=min_people)


def test_own_products_keep_the_strongest_relation() -> None:
    g = shop()
    g.add_edges("viewed", ["user:1"], ["product:A"])
    assert own_products(g, "user:1") == {idx(g, "product:A"): "purchased",
                                         idx(g, "product:V"): "viewed"}


def test_cf_path_goes_through_an_aggregate_of_enough_people() -> None:
    g = shop(crowd=5)
    ev = Evidence("cf", 0.4, ((idx(g, "product:A"), 1.0),))
    [(name, share, (fraction, kind, nodes, edges, note))] = paths_of(g, "product:B", ev)
    assert (name, share, fraction, kind, note) == ("cf", 0.4, 1.0, "cf>co_purchased", "")
    assert nodes == ("user:1", "product:A", "product:B")
    assert edges == (("user:1", "purchased", "product:A"),
                     ("product:A", "co_purchased", "product:B"))
    assert all(hop_exists(g, e) for e in edges)


def test_cf_path_is_not_made_from_too_few_people() -> None:
    g = shop(crowd=4)
    ev = Evidence("cf", 0.4, ((idx(g, "product:A"), 1.0),))
    assert paths_of(g, "product:B", ev) == []
    assert [c[2][1] for c in paths_of(g, "product:B", ev, min_people=4)] == [
        "cf>co_purchased"]


def test_cf_path_falls_back_to_a_stored_link_and_skips_products_not_yours() -> None:
    g = shop(crowd=0)
    g.add_edges("also_bought", ["product:B"], ["product:A"])
    ev = Evidence("cf", 0.5, ((idx(g, "product:Z"), 0.7), (idx(g, "product:A"), 0.3)))
    [(_, _, (fraction, kind, _, edges, _))] = paths_of(g, "product:B", ev)
    assert (fraction, kind) == (0.3, "cf>also_bought")  # Z is not the user's: skipped
    assert edges[1] == ("product:B", "also_bought", "product:A")


def test_content_path_goes_through_the_most_specific_shared_attribute() -> None:
    g = shop()
    ev = Evidence("content", 0.3, ((idx(g, "product:A"), 0.6), (idx(g, "product:V"), 0.4)))
    found = {c[2][1]: c[2] for c in paths_of(g, "product:B", ev)}
    assert set(found) == {"content>same_brand", "content>same_category"}
    assert found["content>same_brand"][2] == ("user:1", "product:A", "brand:niche",
                                              "product:B")
    assert found["content>same_category"][2] == ("user:1", "product:V", "category:all",
                                                 "product:B")
    assert found["content>same_category"][3][0] == ("user:1", "viewed", "product:V")


def test_content_prefers_a_stored_similar_edge_and_makes_none_up() -> None:
    g = shop()
    g.add_edges("similar", ["product:A"], ["product:C"])
    ev = Evidence("content", 0.3, ((idx(g, "product:A"), 1.0),))
    [(_, _, (_, kind, nodes, _, _))] = paths_of(g, "product:C", ev)
    assert kind == "content>similar" and nodes == ("user:1", "product:A", "product:C")
    g2 = shop()  # C shares nothing with A and no similar edge is stored: no path
    assert paths_of(g2, "product:C", Evidence("content", 0.3, ((idx(g2, "product:A"), 1.0),))
                    ) == []


def test_popularity_path_goes_through_another_of_your_products_than_the_item() -> None:
    g = KnowledgeGraph()
    for p in "ZV":
        g.add_node(f"product:{p}", title=f"Item {p}")
    g.add_edges("purchased", ["user:1"], ["product:Z"])  # the item itself, your strongest
    g.add_edges("viewed", ["user:1"], ["product:V"])
    g.add_edges("in_category", ["product:Z", "product:V"], ["category:all", "category:all"])
    [(_, _, (_, kind, nodes, _, _))] = paths_of(g, "product:Z", Evidence("popularity", 0.2))
    assert kind == "popularity>category"
    assert nodes == ("user:1", "product:V", "category:all", "product:Z")  # V, not Z


def test_content_path_reaches_a_product_of_your_profile_through_your_post() -> None:
    g = shop()
    g.add_node("product:Q", title="Item Q")
    g.add_edges("made_by", ["product:Q"], ["brand:niche"])
    g.add_edges("mentions", ["post:7", "post:8"], ["product:Q", "product:Q"])
    g.add_edges("authored", ["user:mia", "user:mia"], ["post:7", "post:8"])
    q = idx(g, "product:Q")
    ev = Evidence("content", 0.3, ((q, 1.0),))
    assert paths_of(g, "product:B", ev) == []  # Q is in no post of user:1's: no path
    g.add_edges("viewed", ["user:1"], ["post:8"], ts=[3.0])
    g.add_edges("liked", ["user:1"], ["post:7"], ts=[2.0])
    [(_, _, (fraction, kind, nodes, edges, _))] = paths_of(g, "product:B", ev)
    assert (fraction, kind) == (1.0, "content>same_brand")
    # the strongest relation to a post that mentions Q: a like before a view
    assert nodes == ("user:1", "post:7", "product:Q", "brand:niche", "product:B")
    assert edges[:2] == (("user:1", "liked", "post:7"), ("post:7", "mentions", "product:Q"))
    assert all(hop_exists(g, e) for e in edges)
    # the item is in the post itself: the post is the whole path
    [(_, _, (_, kind, nodes_q, edges_q, _))] = paths_of(g, "product:Q", ev)
    assert kind == "content>post" and nodes_q == ("user:1", "post:7", "product:Q")
    assert edges_q == edges[:2]
    assert "content>post" in evidence_types(g, ["content"])
    from recommend.hybrid.evidence import _linking_product

    assert _linking_product(nodes) == "product:Q"
    assert _linking_product(nodes_q) == "product:Q"
    assert _linking_product(("user:1", "product:A", "product:B")) == "product:A"
    assert _linking_product(("user:1", "brand:niche", "product:B")) is None


def test_popularity_path_goes_through_a_brand_or_concept_you_are_into() -> None:
    g = shop()
    g.add_edges("about", ["product:C", "product:B"], ["concept:night", "concept:night"])
    assert paths_of(g, "product:C", Evidence("popularity", 0.2)) == []
    g.add_edges("interested_in", ["user:1", "user:1"], ["concept:night", "brand:other"])
    [(_, _, (_, kind, nodes, edges, _))] = paths_of(g, "product:C", Evidence("popularity", 0.2))
    assert kind == "popularity>interest_concept"
    assert nodes == ("user:1", "concept:night", "product:C")
    assert edges == (("user:1", "interested_in", "concept:night"),
                     ("product:C", "about", "concept:night"))
    assert all(hop_exists(g, e) for e in edges)
    types = evidence_types(g, ["popularity"])
    assert {"popularity>interest_concept", "popularity>interest_brand"} <= types


def test_popularity_path_goes_through_a_category_you_engage_with() -> None:
    g = shop()
    [(_, _, (fraction, kind, nodes, edges, note))] = paths_of(
        g, "product:Z", Evidence("popularity", 0.2))
    assert (fraction, kind) == (1.0, "popularity>category")
    assert nodes == ("user:1", "product:A", "category:all", "product:Z")
    assert all(hop_exists(g, e) for e in edges)
    assert note == ""  # only user:1 showed interest in Z: fewer than 5 people, no count
    g.add_edges("interested_in", ["user:1"], ["category:all"])
    g.add_edges("viewed", CROWD, ["product:Z"] * len(CROWD))
    [(_, _, (_, kind, nodes, _, note))] = paths_of(g, "product:Z",
                                                       Evidence("popularity", 0.2))
    assert kind == "popularity>interest" and nodes == ("user:1", "category:all", "product:Z")
    assert note == "; 6 people showed interest in it"
    assert paths_of(g, "product:C", Evidence("popularity", 0.2)) == []  # "rare": not yours
    g.add_edges("broader", ["category:rare"], ["category:all"])  # rare is a kind of all
    [(_, _, (_, kind, nodes, edges, _))] = paths_of(g, "product:C", Evidence("popularity", 0.2))
    assert kind == "popularity>interest_broader"
    assert edges == (("user:1", "interested_in", "category:all"),
                     ("category:rare", "broader", "category:all"),
                     ("product:C", "in_category", "category:rare"))
    assert all(hop_exists(g, e) for e in edges)


def test_evidence_types_list_what_the_graph_can_give() -> None:
    types = evidence_types(shop(), ["cf", "content", "popularity"])
    assert {"cf>co_purchased", "cf>co_viewed", "content>same_brand",
            "content>same_category", "popularity>category"} <= types
    assert "content>similar" not in types and "popularity>interest" not in types


def linear_model(g: KnowledgeGraph, h: sp.csr_matrix, w: np.ndarray):
    """A fake served model: a history cf and a session, both scoring ``history @ w``, asked
    only through the component contract's history methods."""

    def linear(name: str) -> SimpleNamespace:
        return SimpleNamespace(name=name, linear_history=lambda u: h[u],
                               history_scores=lambda x, items: np.asarray(x @ w)[:, items],
                               evidence_relation=lambda: "next_within_3600s_lag50")

    return SimpleNamespace(components={"cf": linear("cf"), "session": linear("session")})


def test_cf_and_session_split_exactly_over_your_products() -> None:
    g = shop()
    a, v, b = idx(g, "product:A"), idx(g, "product:V"), idx(g, "product:B")
    n, u = g.num_nodes("product"), idx(g, "user:1")
    h = sp.csr_matrix((np.array([2.0, 1.0]), (np.array([u, u]), np.array([a, v]))),
                      shape=(g.num_nodes("user"), n))
    w = np.zeros((n, n))
    w[a, b], w[v, b] = 0.3, -0.5  # V pushes B down: not evidence for it
    model = linear_model(g, h, w)
    [[cf, session]] = component_evidence(model, u, np.array([b]),
                                         [{"cf": 0.5, "session": 0.1, "graph": 0.2}])
    assert cf == Evidence("cf", 0.5, ((a, 1.0),))
    assert session == Evidence("session", 0.1, ((a, 1.0),), "next_within_3600s_lag50")
    w[v, b] = 0.6
    model = linear_model(g, h, w)
    [[cf]] = component_evidence(model, u, np.array([b]), [{"cf": 0.5}])
    assert cf.links == ((a, pytest.approx(0.5)), (v, pytest.approx(0.5)))
    assert evidence_fidelity(model, u, b, "cf", a) == (pytest.approx(1.2), pytest.approx(0.6))
    assert evidence_fidelity(model, u, b, "session", v) == (pytest.approx(1.2),
                                                            pytest.approx(0.6))
    assert evidence_fidelity(model, u, b, "popularity", a) is None
    assert component_evidence(model, u, np.array([b]), [{"cf": 0.0}]) == [[]]


def test_a_long_history_splits_the_same_in_one_call_or_in_chunks(monkeypatch) -> None:
    import recommend.hybrid.evidence as evidence

    rng = np.random.default_rng(3)
    n, items = 300, np.array([5, 17, 250])
    h = sp.csr_matrix(rng.random((1, n)) * (rng.random((1, n)) < 0.6))
    w = rng.normal(size=(n, n))
    calls: list[int] = []

    def model():
        comp = SimpleNamespace(name="cf", linear_history=lambda u: h[u],
                               history_scores=lambda x, its: calls.append(x.shape[0])
                               or np.asarray(x @ w)[:, its])
        return SimpleNamespace(components={"cf": comp})

    parts = [{"cf": 1.0}] * len(items)
    whole = component_evidence(model(), 0, items, parts, limit=500)
    assert calls == [h.nnz] and h.nnz > 64
    calls.clear()
    monkeypatch.setattr(evidence, "_CELLS", 1)  # chunks of _CHUNK rows
    assert component_evidence(model(), 0, items, parts, limit=500) == whole
    assert len(calls) > 1 and max(calls) == 64


def test_content_evidence_is_what_leaving_the_product_out_costs() -> None:
    g = shop()
    a, v, b = idx(g, "product:A"), idx(g, "product:V"), idx(g, "product:B")
    n, u = g.num_nodes("product"), idx(g, "user:1")
    vectors = np.zeros((n, 3), np.float32)
    vectors[a], vectors[v], vectors[b] = [1, 0, 0], [0, 1, 0], [0.9, 0.1, 0.4]
    index_products = np.array([a, v])
    weights = sp.csr_matrix((np.array([1.0, 3.0]), (np.array([u, u]), np.array([0, 1]))),
                            shape=(g.num_nodes("user"), 2))
    content = SimpleNamespace(
        name="content", product_vectors=lambda items: vectors[items],
        profile=lambda u: (index_products[weights[u].indices], weights[u].data))
    model = SimpleNamespace(components={"content": content})
    [[ev]] = component_evidence(model, u, np.array([b]), [{"content": 0.3}])

    def cosine(w_a: float, w_v: float) -> float:
        s = w_a * vectors[a].astype(float) + w_v * vectors[v].astype(float)
        return float(s @ vectors[b]) / float(np.linalg.norm(s))

    score = cosine(1.0, 3.0)
    drop_a, drop_v = score - cosine(0.0, 3.0), score - cosine(1.0, 0.0)
    assert drop_a > 0 > drop_v  # V points at B less than the profile does: no evidence
    assert ev.links == ((a, pytest.approx(drop_a / max(drop_a, score))),)
    before, after = evidence_fidelity(model, u, b, "content", a)
    assert before == pytest.approx(score) and after == pytest.approx(cosine(0.0, 3.0))


def test_an_item_shown_without_a_path_says_so() -> None:
    assert no_path(None) == NO_PATH
    assert no_path("cold start") == f"cold start; {NO_PATH}"


def test_has_block_follows_the_graph_as_it_grows() -> None:
    g = shop()
    assert has_block(g, "user", "purchased", "product")
    assert not has_block(g, "user", "liked", "product")
    g.add_edges("liked", ["user:1"], ["product:B"])
    assert has_block(g, "user", "liked", "product")
    assert not has_block(g, "product", "liked", "user")


def test_one_product_scores_are_scipy_s_bit_for_bit() -> None:
    """The evidence splits a history into one product per row: those rows' scores at the
    items, read from the matrix's columns, are the very bits of scipy's product (float32
    and float64, sparse and dense, a product without the item's cell, zero weights); rows
    of several products, or a matrix storing a cell twice, are left to scipy (None)."""
    from recommend.hybrid.item_cells import one_product_scores

    rng = np.random.default_rng(5)
    for dtype in (np.float32, np.float64):
        w = sp.random(60, 60, density=0.2, format="csr", random_state=rng, dtype=dtype)
        w.data -= dtype(0.3)  # some negative weights
        h = sp.random(1, 60, density=0.5, format="csr", random_state=rng, dtype=dtype)
        h.data[0] = 0.0
        one = sp.csr_matrix((h.data, h.indices, np.arange(h.nnz + 1)), shape=(h.nnz, 60))
        items = np.array([5, 0, 59, 5, 17])
        for m in (w, w.toarray()):
            want = one @ m
            want = (want.toarray() if sp.issparse(want) else want)[:, items]
            got = one_product_scores(one, m, items)
            assert got is not None and got.dtype == want.dtype
            assert got.tobytes() == want.tobytes()
        assert one_product_scores(h, w, items) is None  # several products a row
    twice = sp.csr_matrix((np.ones(2), np.array([3, 3]), np.array([0, 2])), shape=(1, 5))
    assert not twice.has_canonical_format
    assert one_product_scores(sp.csr_matrix(np.eye(1, 1)), twice, np.array([3])) \
        is None


def test_column_form_is_kept_by_the_matrix_across_a_served_add(small_demo_artifact) -> None:
    """A served model's add() shallow-copies its components, which keep their matrices: the
    session transitions' column form made before the add is the one used after it (it was
    kept per holder, so the first request after each write made it again), and it goes
    when its matrix does."""
    import gc

    from kg.records import Event
    from recommend.hybrid import item_cells
    from recommend.recommender import Recommender

    rec = Recommender.load(small_demo_artifact)
    before = rec.model.components["session"]
    user = sorted(rec.graph.raw_ids("user"))[0]
    rec.recommend(rec.user_id(user), k=5)
    form = item_cells._csc(before.transitions_)[0]
    product = sorted(rec.graph.raw_ids("product"))[0]
    assert rec.add([Event(user, product, "product", "purchase", ts=1.7e9)]).accepted == 1
    after = rec.model.components["session"]
    assert after is not before and after.transitions_ is before.transitions_
    assert item_cells._csc(after.transitions_)[0] is form
    m = sp.random(20, 20, density=0.3, format="csr", random_state=3)
    key = id(m)
    item_cells._csc(m)
    assert key in item_cells._CSC
    del m
    gc.collect()
    assert key not in item_cells._CSC
