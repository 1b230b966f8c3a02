"""Every pair's co-act count at once (recommend.paths.co_people.co_table): the counts
people() makes pair by pair, kept for the request's cf links before its paths ask them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.graph import KnowledgeGraph
from recommend.hybrid.evidence import Evidence
from recommend.paths import co_people
from recommend.paths.co_people import co_table, keep_co_people
from recommend.paths.people_counts import people_counts
from recommend.paths.precount import count_co_people
from recommend.paths.privacy import interactions_of, people
from recommend.paths.reasons import evidence_paths
from recommend.paths.user_reasons import own_products

NAMES = {"rated": "co_rated", "purchased": "co_purchased", "engaged": "co_engaged"}


def shop(events: list[tuple[int, int, str, float]]) -> KnowledgeGraph:
    g = KnowledgeGraph()
    for p in range(6):
        g.add_node(f"product:{p}")
    for u, p, rel, w in events:  # (a pair may be stored twice; a weight may be 0)
        g.add_edges(rel, [f"user:{u}"], [f"product:{p}"], weight=[w])
    return g


EVENTS = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 5),
                            st.sampled_from(["rated", "purchased", "viewed"]),
                            st.sampled_from([1.0, 2.0, 0.0])), min_size=1, max_size=50)


@settings(max_examples=40, deadline=None)
@given(EVENTS)
def test_the_table_holds_the_count_people_makes_of_every_pair(events) -> None:
    g = shop(events)
    for interaction, name in NAMES.items():
        table = co_table(g, interaction)
        assert table is not None
        for a in range(6):
            for b in range(6):
                pa, pb = f"product:{a}", f"product:{b}"
                assert table[g.index(pa), g.index(pb)] == people(g, (pa, name, pb))


def test_no_table_past_its_bounds(monkeypatch) -> None:
    g = shop([(u, p, "rated", 1.0) for u in range(4) for p in range(3)])
    monkeypatch.setattr(co_people, "TABLE_WIDTH", 5)  # 6 products
    assert co_table(g, "rated") is None
    keep_co_people(g, "rated", [("product:0", "product:1")], np.array([0]), np.array([1]))
    assert not people_counts(g, "rated", False, interactions_of("rated"))  # nothing kept
    monkeypatch.setattr(co_people, "TABLE_WIDTH", 4096)
    monkeypatch.setattr(co_people, "TABLE_TERMS", 4 * 9 - 1)  # 4 people, 3 acts each
    g = shop([(u, p, "rated", 1.0) for u in range(4) for p in range(3)])
    assert co_table(g, "rated") is None
    monkeypatch.setattr(co_people, "TABLE_TERMS", 4 * 9)
    g = shop([(u, p, "rated", 1.0) for u in range(4) for p in range(3)])
    assert co_table(g, "rated") is not None


@pytest.mark.parametrize("width", [0, 4096])  # no table: counted pair by pair; a table
def test_kept_counts_give_the_same_cf_paths(monkeypatch, width) -> None:
    monkeypatch.setattr(co_people, "TABLE_WIDTH", width)
    crowd = [(u, p, "rated", 1.0) for u in range(2, 9) for p in (0, 1, 2)]
    crowd += [(u, 3, "rated", 1.0) for u in range(2, 5)]  # only 3 people rated 3 and 1
    events = [(1, 0, "rated", 1.0), (1, 3, "rated", 1.0), (1, 2, "purchased", 1.0), *crowd]
    fresh, g = shop(events), shop(events)
    own = own_products(g, "user:1")
    links = tuple((g.index(f"product:{p}"), 0.5) for p in (0, 3, 2))
    ev = [[Evidence("cf", 0.6, links)]]
    count_co_people(g, ["product:1"], ev, own)
    kept = people_counts(g, "rated", False, interactions_of("rated"))
    assert (kept == {}) == (width == 0)
    if width:  # each rated link's pair, read at once
        assert kept == {("product:0", "product:1"): 7, ("product:3", "product:1"): 3}
    found = evidence_paths(g, "user:1", "product:1", ev[0], own, min_people=5)
    assert found == evidence_paths(fresh, "user:1", "product:1", ev[0],
                                   own_products(fresh, "user:1"), min_people=5)
    assert [c[2][3][1][1] for c in found][:1] == ["co_rated"]


def test_a_pair_stored_twice_or_as_zero_counts_as_people_counts_it(monkeypatch) -> None:
    """A doers matrix holding a pair twice (one person, once) or a stored 0 (not a doer)."""
    import scipy.sparse as sp

    from recommend.paths import privacy

    g = shop([(u, p, "rated", 1.0) for u in range(5) for p in range(6)])
    # product 0: user 0 twice, users 1 and 2, user 4 stored as 0; product 1: users 4, 0, 3
    # (unsorted) and user 2 stored as 0
    odd = sp.csc_matrix((np.array([1.0, 1.0, 2.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0]),
                         np.array([0, 0, 1, 2, 4, 4, 0, 2, 3]),
                         np.array([0, 5, 9, 9, 9, 9, 9])), shape=(5, 6))
    assert not odd.has_canonical_format
    monkeypatch.setattr(privacy, "doers_matrix", lambda graph, interaction: odd)
    monkeypatch.setattr(co_people, "doers_matrix", lambda graph, interaction: odd)
    table = co_table(g, "rated")
    assert table is not None
    ids = [g.index(f"product:{p}") for p in range(6)]
    assert (ids[0], ids[1]) == (0, 1)  # (the products' indices are the matrix's columns)
    assert table[0, 0] == people(g, ("product:0", "co_rated", "product:0")) == 3
    assert table[0, 1] == people(g, ("product:0", "co_rated", "product:1")) == 1  # user 0
    assert table[1, 1] == people(g, ("product:1", "co_rated", "product:1")) == 3


@settings(max_examples=40, deadline=None)
@given(EVENTS, st.lists(st.integers(-1, 7), max_size=12), st.integers(-1, 7))
def test_co_acting_of_one_item_is_co_acting_of_each_pair(events, products, b) -> None:
    """One item's counts against many products (its people marked once) are the pair-by-pair
    counts (an index past the graph's, or -1, counts nobody); each bounds every kind's."""
    g = shop(events)
    with_b = co_people.CoActing(g, b)
    many = np.array([with_b(a) for a in products], np.int64)
    assert many.tolist() == [co_people.co_acting(g, a, b) for a in products]
    for n in range(4):
        assert [with_b.at_least(a, n) for a in products] == [c >= n for c in many.tolist()]
    for a, both in zip(products, many.tolist(), strict=True):
        if 0 <= a < 6 and 0 <= b < 6:
            pa, pb = f"product:{a}", f"product:{b}"
            assert max(people(g, (pa, n, pb)) for n in NAMES.values()) <= both


def test_kept_count_is_the_count_people_kept() -> None:
    """A pair's count is read back only once people() counted it (nothing is counted)."""
    g = shop([(u, p, "rated", 1.0) for u in range(6) for p in range(2)])
    edge = ("product:0", "co_rated", "product:1")
    assert co_people.kept_count(g, edge) is None
    assert co_people.kept_count(g, edge) is None  # (asking counts nothing)
    assert people(g, edge) == 6 == co_people.kept_count(g, edge)
    assert co_people.kept_count(g, ("product:0", "co_purchased", "product:1")) is None


@settings(max_examples=60, deadline=None)
@given(EVENTS, st.lists(st.integers(-1, 7), max_size=8), st.lists(st.integers(-1, 7), max_size=8),
       st.integers(0, 3), st.sampled_from([(), ("rated",), ("rated", "purchased")]),
       st.integers(1, 3))
def test_co_acting_any_is_some_pair_reaching_n(events, products, items, n, kinds, chunk
                                               ) -> None:
    """Whether some product has n people in common with each item: as pair by pair, with the
    kinds' co-act tables read first or not, in chunks of any size."""
    g = shop(events)
    found = co_people.co_acting_any(g, np.array(products, np.int64), np.array(items, np.int64),
                                    n, kinds=kinds, chunk=chunk)
    assert found.tolist() == [any(co_people.co_acting(g, a, i) >= n for a in products)
                              for i in items]


@settings(max_examples=40, deadline=None)
@given(EVENTS, st.integers(1, 3))
def test_an_item_cf_may_not_link_gets_no_cf_path(events, min_people) -> None:
    """cf_may_link is a necessary condition: an item it rules out gets no cf evidence path
    from any of the user's products, whatever their terms."""
    from recommend.paths.reasons import cf_may_link

    g = shop(events)
    for u in range(7):
        user = f"user:{u}"
        if not g.has_node(user):
            continue
        own = own_products(g, user)
        items = np.arange(6, dtype=np.int64)
        may = cf_may_link(g, user, items, min_people)
        for i in items.tolist():
            ev = Evidence("cf", 1.0, tuple((a, 1.0) for a in own))
            found = evidence_paths(g, user, g.node_id("product", i), [ev], own,
                                   min_people=min_people, per_component=len(own) or 1)
            assert may[i] or not found
