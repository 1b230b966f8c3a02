"""KOL weights are PageRank over follows; influencers' purchases count more for followers."""

from __future__ import annotations

import time

import numpy as np
import pytest

from kg.graph import KnowledgeGraph
from recommend.paths import GraphPathScorer, MetaPath, Step, kol_weights, metapath_matrix


def star_graph() -> KnowledgeGraph:
    g = KnowledgeGraph()
    g.add_node("user:me", name="Me")
    g.add_node("user:mia", name="Mia", attributes={"handle": "mia"})
    g.add_node("user:carl", name="Carl", attributes={"handle": "carl"})
    fans = [f"user:f{k}" for k in range(6)]
    g.add_edges("follows", [*fans, "user:me", "user:me"],
                ["user:mia"] * 6 + ["user:mia", "user:carl"])
    g.add_node("product:P", title="Clifton 9")
    g.add_node("product:Q", title="Plain Socks")
    g.add_edges("purchased", ["user:mia", "user:carl"], ["product:P", "product:Q"])
    g.add_edges("liked", ["user:mia", "user:carl"], ["product:P", "product:Q"])
    return g


def test_the_most_followed_user_is_the_influencer():
    k = kol_weights(star_graph())
    assert k.ranking()[0] == "user:mia"
    assert k.influencers() == {"user:mia"}
    assert k.weights.mean() == pytest.approx(1.0)


def test_weights_match_an_independent_power_iteration():
    rng = np.random.default_rng(3)
    n = 40
    src, dst = rng.integers(n, size=300), rng.integers(n, size=300)
    keep = src != dst
    g = KnowledgeGraph()
    for u in range(n):
        g.add_node(f"user:{u}", name=str(u))
    g.add_edges("follows", [f"user:{s}" for s in src[keep]], [f"user:{d}" for d in dst[keep]])
    a = g.matrix("follows").toarray().astype(float)
    out = a.sum(1)
    p = np.full(n, 1 / n)
    for _ in range(300):
        spread = np.divide(p, out, out=np.zeros(n), where=out > 0) @ a
        p = 0.85 * (spread + p[out == 0].sum() / n) + 0.15 / n
    assert kol_weights(g).weights == pytest.approx(p * n, rel=1e-4)


def test_no_follows_means_equal_weights():
    g = KnowledgeGraph()
    g.add_edges("purchased", ["user:1", "user:2"], ["product:A", "product:A"])
    k = kol_weights(g)
    assert k.weights.tolist() == [1.0, 1.0] and not k.influencers()


def test_an_influencers_purchase_outweighs_a_casual_followees():
    g = star_graph()
    me, p, q = g.index("user:me"), g.index("product:P"), g.index("product:Q")
    kol = MetaPath("follows>bought", (Step("follows", "out", "user", reweight="kol"),
                                      Step("purchased", "out", "product")))
    plain = MetaPath("plain", (Step("follows", "out", "user"),
                               Step("purchased", "out", "product")))
    weighted = metapath_matrix(g, kol).toarray()[me]
    assert weighted[p] > 2 * weighted[q]
    assert weighted[p] + weighted[q] == pytest.approx(1.0)
    unweighted = metapath_matrix(g, plain).toarray()[me]
    assert unweighted[p] == pytest.approx(unweighted[q])


def test_explanation_names_the_influencer():
    g = star_graph()
    scorer = GraphPathScorer().prepare(g)
    paths = scorer.explain("user:me", "product:P")
    assert paths[0].text == "You follow @mia (influencer), who liked Clifton 9"
    casual = scorer.explain("user:me", "product:Q")[0].text
    assert casual == "You follow @carl, who liked Plain Socks"  # never what they bought


def test_pagerank_is_fast_on_100k_follows():
    rng = np.random.default_rng(0)
    n = 10_000
    g = KnowledgeGraph()
    # preferential-ish: some accounts are followed far more often
    dst = np.minimum(rng.zipf(1.6, 100_000), n) - 1
    src = rng.integers(n, size=100_000)
    g.add_edges("follows", [f"user:{s}" for s in src], [f"user:{d}" for d in dst])
    start = time.perf_counter()
    k = kol_weights(g)
    assert time.perf_counter() - start < 10
    assert k.ranking()[0] == "user:0"


def test_pagerank_equals_networkx_on_a_random_follow_graph() -> None:
    import networkx as nx
    import numpy as np
    import scipy.sparse as sp

    from recommend.paths.social import _pagerank

    rng = np.random.default_rng(3)
    n = 300
    follows = sp.random(n, n, density=0.02, random_state=rng, format="csr")
    follows.setdiag(0)
    follows.eliminate_zeros()
    expected = nx.pagerank(nx.from_scipy_sparse_array(follows, create_using=nx.DiGraph),
                           alpha=0.85, weight="weight", tol=1e-10)
    ours = _pagerank(follows, alpha=0.85, tol=1e-10, max_iter=500)
    assert np.allclose(ours, [expected[i] for i in range(n)], atol=1e-8)
