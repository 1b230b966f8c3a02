"""What evidence paths read once (session 26: per request, or per graph version) equals what
reading it each time gives, and follows the graph when it changes (hand-made and random
shops)."""

from __future__ import annotations

import numpy as np
import pytest

from kg.graph import KnowledgeGraph
from recommend.paths.alike import _ancestors, ancestors, shared_path, shares_any, stored_link
from recommend.paths.privacy import ENGAGED, doers_matrix
from recommend.paths.user_reasons import UserReasons, own_products


def shop(seed: int = 0) -> KnowledgeGraph:
    """20 products with random brands, categories (some two) and concepts, a category tree,
    described_like links, and a few users' views and purchases."""
    rng = np.random.default_rng(seed)
    g = KnowledgeGraph()
    names = [f"product:p{j}" for j in range(20)]
    for name in names:
        g.add_node(name, title=name)
    tree = {"c1": "c0", "c2": "c0", "c3": "c1", "c4": "c1", "c5": "c2"}
    g.add_edges("broader", [f"category:{c}" for c in tree], [f"category:{p}" for p in
                                                               tree.values()])
    cats = [f"category:c{int(c)}" for c in rng.integers(1, 6, 20)]
    g.add_edges("in_category", names + names[:5], cats + ["category:c5"] * 5)
    g.add_edges("made_by", names, [f"brand:b{int(b)}" for b in rng.integers(0, 4, 20)])
    g.add_edges("about", names * 2, [f"concept:k{int(k)}" for k in rng.integers(0, 6, 40)])
    pairs = rng.integers(0, 20, (15, 2))
    g.add_edges("described_like", [names[a] for a, _ in pairs], [names[b] for _, b in pairs])
    for u in range(1, 5):
        picks = rng.choice(20, 6, replace=False)
        g.add_edges("viewed", [f"user:{u}"] * 6, [names[j] for j in picks],
                    ts=list(rng.random(6)))
        g.add_edges("purchased", [f"user:{u}"] * 2, [names[j] for j in picks[:2]],
                    ts=list(rng.random(2)))
    g.add_edges("interested_in", ["user:1", "user:2"], ["category:c1", "category:c3"])
    return g


def context(g: KnowledgeGraph, user: str = "user:1") -> UserReasons:
    return UserReasons(g, user, own_products(g, user))


def old_held(g: KnowledgeGraph, c: UserReasons, product: str) -> list[set[int]]:
    """Session 25's per-request sets."""
    i = g.index(product)
    return [set(m.indices[m.indptr[i]:m.indptr[i + 1]].tolist()) for _, _, _, m, _ in
            c.attributes]


def test_interest_counts_are_the_engaged_columns_and_follow_the_graph() -> None:
    g = shop(1)
    c = context(g)
    seen = doers_matrix(g, ENGAGED)
    for j in range(20):
        i = g.index(f"product:p{j}")
        assert c.interest_count(i) == int(seen.indptr[i + 1] - seen.indptr[i])
    assert c.interest_count(10_000) == 0 and c.interest_count(-1) == 0
    i = g.index("product:p3")
    before = context(g).interest_count(i)
    who = next(u for u in range(1, 5) if g.index(f"user:{u}") not in
               seen.indices[seen.indptr[i]:seen.indptr[i + 1]])
    g.add_edges("viewed", [f"user:{who}"], ["product:p3"], ts=[5.0])  # (no new node)
    assert context(g).interest_count(i) == before + 1


def test_ancestors_are_the_breadth_first_chains_read_again_by_the_next_request() -> None:
    g = shop(2)
    c = context(g)
    cats = g.matrix("in_category", dst_type="category", src_type="product")
    up = g.matrix("broader", dst_type="category", src_type="category")
    for j in range(20):
        i = g.index(f"product:p{j}")
        assert ancestors(c, i) == _ancestors(cats, up, i)
        assert ancestors(c, i) is ancestors(c, i)  # (kept for the request)
    assert ancestors(c, -1) == {}  # (a product the graph lacks: no category)
    i = g.index("product:p0")
    assert g.index("category:c4") not in ancestors(context(g), i)
    g.add_edges("in_category", ["product:p0"], ["category:c4"])  # (no new node)
    assert g.index("category:c4") in ancestors(context(g), i)
    assert ancestors(context(g), i) == _ancestors(
        g.matrix("in_category", dst_type="category", src_type="product"), up, i)


def test_index_and_link_matrix_read_the_graph() -> None:
    g = shop(0)
    c = context(g)
    assert c.index("product:p4") == g.index("product:p4") and c.index("product:absent") == -1
    m = c.link_matrix("described_like")
    assert m is c.link_matrix("described_like")
    assert (m != g.matrix("described_like", dst_type="product", src_type="product")).nnz == 0


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_shared_paths_are_session_25_s(seed) -> None:
    """The same paths as before: the least popular shared entity (first by index), else
    the stored described_like edge (either way, stored_link's), else the broader climb."""
    g = shop(seed)
    c = context(g)
    kinds = set()
    for a in range(20):
        for b in range(20):
            x, y = f"product:p{a}", f"product:p{b}"
            found = shared_path(c, x, y)
            assert shares_any(c, x, y) == (found is not None)
            if found is None:
                continue
            kinds.add(found[0])
            held = [sorted(m & t) for m, t in zip(old_held(g, c, x), old_held(g, c, y),
                                                  strict=True)]
            if any(held):
                best = min(((float(pop[min(h, key=pop.__getitem__)]), k)
                            for k, (h, (_, _, _, _, pop)) in enumerate(
                                zip(held, c.attributes, strict=True)) if h))
                assert found[0] == f"same_{c.attributes[best[1]][2]}"
            elif found[0] == "described_like":
                assert found[1][1] == (stored_link(g, "described_like", x, y),)
            else:
                assert found[0] == "broader_category"
    assert {"same_brand", "described_like"} <= kinds or {"same_category"} <= kinds


def test_a_described_like_edge_is_found_either_way_as_stored() -> None:
    """Products sharing nothing but a stored A -described_like-> B: the path from either
    side names the edge as stored."""
    g = KnowledgeGraph()
    for p in "ABC":
        g.add_node(f"product:{p}", title=p)
    g.add_edges("made_by", ["product:A", "product:B", "product:C"], ["brand:x", "brand:y",
                                                                     "brand:z"])
    g.add_edges("described_like", ["product:A"], ["product:B"])
    g.add_edges("viewed", ["user:1"] * 3, ["product:A", "product:B", "product:C"])
    c = context(g)
    edge = ("product:A", "described_like", "product:B")
    assert shared_path(c, "product:A", "product:B") == ("described_like",
                                                        (("product:B",), (edge,)))
    assert shared_path(c, "product:B", "product:A") == ("described_like",
                                                        (("product:A",), (edge,)))
    assert shared_path(c, "product:A", "product:C") is None
    assert not shares_any(c, "product:C", "product:B")
