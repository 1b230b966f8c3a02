"""Recommender.add of edges only refreshes incrementally (kg.delta, recommend.paths.grow) and
gives exactly what a full refresh, or a model loaded fresh from a save, gives."""

from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from kg.records import Event, Follow
from recommend import Recommender
from recommend.hybrid.model import HybridModel

NOW = time.time() - 3600.0


def raw(node_id: str) -> str:
    return node_id.partition(":")[2]


@pytest.fixture(scope="module")
def base(small_demo_artifact: Path) -> Recommender:
    return Recommender.load(small_demo_artifact)


def fresh(base: Recommender) -> Recommender:
    """A Recommender serving ``base``'s model (add() never changes a served model)."""
    return Recommender(base.model, manifest=base.manifest, folder=base.folder)


def events(rec: Recommender, kind: str, n: int = 10, *, step: int = 7,
           value: float | None = None) -> list[Event]:
    users = [raw(u) for u in rec.graph.nodes("user")]
    products = [raw(p) for p in rec.graph.nodes("product")]
    return [Event(users[(5 * k) % len(users)], products[(step * k + 3) % len(products)],
                  "product", kind, value=value, ts=NOW + k) for k in range(n)]


BATCHES = {
    "one view": lambda r: events(r, "view", 1),
    "clicks": lambda r: events(r, "click"),
    "likes": lambda r: events(r, "like", step=3),
    "carts": lambda r: events(r, "cart", step=11),
    "purchases": lambda r: events(r, "purchase", 30, step=1),
    "ratings": lambda r: events(r, "rate", 30, step=2, value=4.0),
    "untimed": lambda r: [Event(e.user, e.target, "product", "purchase")
                          for e in events(r, "purchase", 5)],
    "post likes": lambda r: [Event(raw(u), raw(p), "post", "like", ts=NOW)
                             for u, p in zip(r.graph.nodes("user")[:6],
                                             r.graph.nodes("post")[::7], strict=False)],
    "follow": lambda r: [Follow(raw(r.graph.nodes("user")[3]), raw(r.graph.nodes("user")[40]),
                                ts=NOW)],
}


def full_refresh(model: HybridModel) -> HybridModel:
    """``model``'s components refreshed whole over a copy of its graph without caches."""
    graph = model.graph.fork()
    graph._derived = {}  # nothing carried over: everything derived afresh
    again = copy.copy(model)
    again.graph = graph
    again.components = {n: copy.copy(c) for n, c in model.components.items()}
    again.refresh()
    return again


def dense(m: object) -> np.ndarray:
    return m.toarray() if sp.issparse(m) else np.asarray(m)


def assert_same_state(got: HybridModel, want: HybridModel) -> None:
    assert np.array_equal(dense(got.seen_), dense(want.seen_))
    for name, comp in got.components.items():
        other = want.components[name]
        if name in ("cf", "session"):
            assert np.array_equal(dense(comp.history_), dense(other.history_))
        elif name == "content":
            assert np.array_equal(comp.user_vectors_.dense(), other.user_vectors_.dense())
            # what content explanations split a score by (recommend/hybrid/evidence.py)
            assert np.allclose(dense(comp.user_weights_), dense(other.user_weights_))
        elif name == "popularity":
            assert np.array_equal(comp.popularity_, other.popularity_)
        else:  # a path scorer: every step matrix, and what it counts as seen
            assert np.array_equal(dense(comp.scorer.seen_), dense(other.scorer.seen_))
            assert comp.scorer.graph_ is got.graph
            for mp in comp.scorer.metapaths_:
                for a, b in zip(comp.scorer.steps_[mp.name], other.scorer.steps_[mp.name],
                                strict=True):
                    assert a.shape == b.shape
                    assert np.array_equal(dense(a), dense(b)), (name, mp.name)


@pytest.mark.parametrize("batch", list(BATCHES))
def test_an_add_of_edges_equals_a_full_refresh(base, batch) -> None:
    rec = fresh(base)
    result = rec.add(BATCHES[batch](rec))
    assert result.accepted > 0 and not result.rejected
    assert_same_state(rec.model, full_refresh(rec.model))


def test_recommendations_after_adds_equal_a_fresh_load_of_the_snapshot(base, tmp_path) -> None:
    rec = fresh(base)
    for make in BATCHES.values():
        assert not rec.add(make(rec)).rejected
    users = [*rec.graph.nodes("user")[:40:3], rec.graph.nodes("user")[5]]
    answers = {u: [r.to_json() for r in rec.recommend(u, k=8)] for u in users}
    rec.save(tmp_path / "snap")
    loaded = Recommender.load(tmp_path / "snap")
    assert {u: [r.to_json() for r in loaded.recommend(u, k=8)] for u in users} == answers
    assert_same_state(rec.model, loaded.model)


def test_an_add_leaves_the_served_model_unchanged(base) -> None:
    rec = fresh(base)
    before = full_refresh(base.model)
    rec.add(BATCHES["ratings"](rec))
    rec.add(BATCHES["purchases"](rec))
    assert rec.model is not base.model
    assert_same_state(base.model, before)


def test_an_event_copies_only_its_users_block_of_content_vectors(
        small_demo_artifact, monkeypatch) -> None:
    from recommend.hybrid import row_blocks

    monkeypatch.setattr(row_blocks, "BLOCK", 16)  # the demo's 120 users in 8 blocks
    rec = Recommender.load(small_demo_artifact)
    served = rec.model.components["content"].user_vectors_
    before = served.dense().copy()
    event = events(rec, "purchase", 1)[0]
    assert rec.add([event]).accepted == 1
    grown = rec.model.components["content"].user_vectors_
    user = rec.graph.index(f"user:{event.user}")
    assert np.array_equal(served.dense(), before)  # the served version keeps its vectors
    assert not np.array_equal(grown.take(np.array([user])), before[[user]])
    assert [a is b for a, b in zip(served.blocks, grown.blocks, strict=True)] == [
        b != user // 16 for b in range(len(served.blocks))]


def test_unchanged_steps_are_shared_and_touched_ones_replaced(base) -> None:
    rec = fresh(base)
    rec.add(BATCHES["clicks"](rec))  # no meta-path of the demo build walks "clicked"
    old, new = base.model.components["graph"].scorer, rec.model.components["graph"].scorer
    assert all(a is b for mp in old.metapaths_
               for a, b in zip(old.steps_[mp.name], new.steps_[mp.name], strict=True))
    rec.add(BATCHES["ratings"](rec))
    newer = rec.model.components["graph"].scorer
    assert newer.steps_["rated>co_rated"][0] is not new.steps_["rated>co_rated"][0]
    assert newer.steps_["bought>same_brand"][1] is new.steps_["bought>same_brand"][1]


def test_the_snapshot_caches_survive_an_event_but_not_a_new_product(base) -> None:
    from kg.records import Product

    rec = fresh(base)
    user = rec.graph.nodes("user")[0]
    rec.recommend(user, k=3, price_max=1e9)  # (prices are read by a price filter only)
    rec.influencers()
    prices, influencers = rec._serving.current().prices, rec._serving.current().influencers
    assert prices is not None and influencers is not None
    rec.add(BATCHES["purchases"](rec))
    assert rec._serving.current().prices is prices
    assert rec._serving.current().influencers is influencers
    rec.add(BATCHES["follow"](rec))  # the KOL weights are recomputed
    assert rec._serving.current().prices is prices
    assert rec._serving.current().influencers is None
    rec.add([Product("p-cache", "Cache Mug", price=3.0)])
    assert rec._serving.current().prices is None
    rec.recommend(user, k=3, price_max=5.0)
    assert rec._serving.current().prices[rec.graph.index("product:p-cache")] == 3.0


def _content_state(comp: object) -> list[np.ndarray]:
    return [comp.user_vectors_.dense(), dense(comp.user_weights_), comp.item_vectors_,
            comp.columns_, comp.index_products_, np.array([comp.in_order_])]


def _same_content(got: object, want: object) -> None:
    for a, b in zip(_content_state(got), _content_state(want), strict=True):
        assert a.shape == b.shape and np.array_equal(a, b)


def test_a_new_product_recomputes_no_users_content_vector(base) -> None:
    from kg.records import Product

    rec = fresh(base)
    served = rec.model.components["content"]
    result = rec.add([Product("p-new", "Olive Wireless Headphones", description="foldable")])
    assert result.accepted == 1
    grown = rec.model.components["content"]
    assert "product:p-new" in grown.index and grown.index is not served.index
    # nobody interacted with it: every user's vector is the served one, not recomputed
    assert grown.user_vectors_ is served.user_vectors_
    _same_content(grown, full_refresh(rec.model).components["content"])
    assert_same_state(rec.model, full_refresh(rec.model))
    user = raw(rec.graph.nodes("user")[2])  # then an event on it: that user's row only
    assert rec.add([Event(user, "p-new", "product", "purchase", ts=NOW)]).accepted == 1
    _same_content(rec.model.components["content"], full_refresh(rec.model).components["content"])


def test_products_with_events_in_one_add_equal_a_full_refresh(base) -> None:
    from kg.records import Product

    rec = fresh(base)
    users = [raw(u) for u in rec.graph.nodes("user")[:5]]
    result = rec.add([Product("p-a", "Aluminium Studio Monitor"), Product("p-b", "Gym Earbuds"),
                      *(Event(u, "p-a", "product", "cart", ts=NOW) for u in users),
                      *events(rec, "like", 4)])
    assert result.accepted == 11 and not result.rejected
    assert_same_state(rec.model, full_refresh(rec.model))
    _same_content(rec.model.components["content"], full_refresh(rec.model).components["content"])


def test_a_product_the_index_gains_recomputes_the_users_reaching_it(base) -> None:
    """A product node the index lacked (a link endpoint given its text later) changes the
    vectors of the users who bought it or liked a post naming it: those, as the full refresh."""
    from kg.delta import GraphDelta
    from recommend.content import ContentIndex
    from recommend.hybrid.content_component import ContentComponent

    model, graph = base.model, base.model.graph
    full = model.components["content"]
    bought = graph.matrix("purchased", dst_type="product")
    item = int(np.argmax(np.diff(bought.tocsc().indptr)))  # the most bought product
    pid = graph.nodes("product")[item]
    keep = [i for i, p in enumerate(full.index.ids) if p != pid]
    lacking = ContentIndex.build([full.index.ids[i] for i in keep], full.index.vectors()[keep])
    comp = ContentComponent(lacking, graph, half_life_days=full.half_life_days,
                            encoder=full.encoder)
    grown = copy.copy(comp)
    grown.index = comp.index.copy()
    assert grown.add_products(graph) == 1
    grown.refresh(graph, GraphDelta(frozenset(), np.zeros(0, np.int64), True, graph))
    again = copy.copy(grown)
    again.refresh(graph)
    _same_content(grown, again)
    changed = np.flatnonzero(np.any(grown.user_vectors_.dense()
                                    != comp.user_vectors_.dense(), axis=1))
    assert set(bought[:, item].nonzero()[0]) <= set(changed.tolist()) and len(changed) > 0


def test_a_product_write_keeps_the_content_lists_and_their_answers(base, monkeypatch) -> None:
    """After a product write the users' content lists made at load still answer requests
    (the appended products scored on top): the same recommendations as the full search."""
    from kg.records import Product
    from recommend.hybrid.content_shortlist import Shortlists

    rec = fresh(base)
    served = rec.model.components["content"]
    assert served.shortlists_ is not None and served.shortlists_.index is served.index
    like = rec.graph.node_attrs(rec.graph.nodes("product")[4])  # a twin: offered to its fans
    rec.add([Product("p-twin", f"{like['title']} II", description=like.get("description")),
             Product("p-other", "Olive Wireless Headphones", description="foldable")])
    grown = rec.model.components["content"]
    lists = grown.shortlists_
    assert lists is not None and lists.index is grown.index and len(lists.added) == 2
    assert served.shortlists_.index is served.index  # the served model's are its own
    answered = []
    scored = Shortlists.scored
    monkeypatch.setattr(Shortlists, "scored", lambda self, *a: answered.append(
        (found := scored(self, *a)) is not None) or found)
    users = rec.graph.nodes("user")[:60]
    with_lists = {u: [r.to_json() for r in rec.recommend(u, k=10)] for u in users}
    assert sum(answered) >= 0.8 * len(users)
    grown.shortlists_ = None  # every request searches the grown index
    assert {u: [r.to_json() for r in rec.recommend(u, k=10)] for u in users} == with_lists
    assert any(r["item"] == "product:p-twin" for rows in with_lists.values() for r in rows)
