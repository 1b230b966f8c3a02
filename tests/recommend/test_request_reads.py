"""What a request reads once and shares (session 25): each equals the computation it replaced,
made here the old way, on hand-made graphs and random data."""

from __future__ import annotations

import numpy as np
import pytest

from kg.graph import KnowledgeGraph
from recommend.hybrid.evidence import _content_terms
from recommend.paths.popular_paths import _interest_attribute
from recommend.paths.privacy import violations
from recommend.paths.quality import (
    UserActs,
    _ranks_smoothed,
    act_times,
    block_columns,
    interaction_recency,
    kept_act_times,
    normalised_ewma,
    user_interactions,
)
from recommend.paths.sentences import _TEMPLATES, _form, node_name, render_path
from recommend.paths.user_reasons import UserReasons, own_products


def busy_user() -> KnowledgeGraph:
    """user:1 acts on products and posts, some twice (the later time counts), some untimed,
    and follows and is into entities (untimed)."""
    g = KnowledgeGraph()
    for p in "ABCDE":
        g.add_node(f"product:{p}", title=f"Item {p}")
    g.add_edges("purchased", ["user:1"] * 4, ["product:A", "product:B", "product:A", "product:C"],
                ts=[1.0, 30.0, 7.0, 2.0])
    g.add_edges("purchased", ["user:1"], ["product:D"])  # untimed
    g.add_edges("clicked", ["user:1"] * 4, ["product:B", "product:C", "product:D", "product:B"],
                ts=[np.inf, -1e300, -np.inf, 1e300])  # only the last is a known time
    g.add_edges("viewed", ["user:1"] * 3, ["product:C", "product:E", "product:C"],
                ts=[2.0, 9.0, 1.5])
    g.add_edges("authored", ["user:1", "user:2"], ["post:1", "post:2"], ts=[4.0, 5.0])
    g.add_edges("liked", ["user:1"], ["post:2"], ts=[6.0])
    g.add_edges("follows", ["user:1"], ["user:2"])
    g.add_edges("interested_in", ["user:1", "user:1"], ["brand:x", "concept:y"])
    return g


def old_user_interactions(g: KnowledgeGraph, user: str) -> dict[tuple[str, str], float]:
    """Session 24's loop: every timed out-edge, each (relation, target)'s latest time."""
    found: dict[tuple[str, str], float] = {}
    if not g.has_node(user):
        return found
    for nb in g.neighbor_indices(user, direction="out"):
        ts = block_columns(g, nb.key).ts[nb.positions]
        for j, t in zip(nb.indices.tolist(), ts.tolist(), strict=True):
            if np.isfinite(t) and t > -1e299:
                key = (nb.relation, g.node_id(nb.dst_type, j))
                found[key] = max(found.get(key, -np.inf), t)
    return found


HOPS = [("purchased", "product"), ("viewed", "product"), ("authored", "post"),
        ("liked", "post"), ("follows", "user"), ("interested_in", "brand"),
        ("rated", "product"), ("purchased", "post")]


@pytest.mark.parametrize("user", ["user:1", "user:2", "user:unknown"])
def test_user_acts_are_the_interactions_and_each_hop_s_act_times(user) -> None:
    g = busy_user()
    acts = user_interactions(g, user)
    assert isinstance(acts, UserActs)
    assert acts == old_user_interactions(g, user)
    for hop in HOPS:  # held or not, the same arrays act_times reads alone
        want, got = act_times(g, user, *hop), acts.hops[hop]
        assert got[0].dtype == want[0].dtype == np.int64 and got[1].dtype == want[1].dtype
        assert np.array_equal(got[0], want[0]) and got[1].tobytes() == want[1].tobytes()
        assert kept_act_times(g, user, hop, acts.hops) is got  # kept: made once
    if user == "user:1":
        assert acts[("purchased", "product:A")] == 7.0 and ("purchased", "product:D") not in acts
        idx, ts = acts.hops[("viewed", "product")]
        assert idx.tolist() == [g.index("product:C"), g.index("product:E")]
        assert ts.tolist() == [2.0, 9.0]
        assert [k for k in acts if k[0] == "clicked"] == [("clicked", "product:B")]
        assert acts[("clicked", "product:B")] == 1e300


def test_recency_of_user_acts_is_the_same_bits_as_of_a_plain_dict() -> None:
    g = busy_user()
    acts = user_interactions(g, "user:1")
    plain = dict(reversed(list(acts.items())))  # another order: the same values
    for variant in ("original", "hopwise"):
        got = interaction_recency(g, "user:1", times=acts, variant=variant)
        want = interaction_recency(g, "user:1", times=plain, variant=variant)
        assert got.keys() == want.keys()
        assert all(np.float64(got[k]).tobytes() == np.float64(want[k]).tobytes() for k in got)
    lir = interaction_recency(g, "user:1", times=acts)
    values = list(acts.values())
    assert [lir[k] for k in acts] == normalised_ewma(np.array(values)).tolist()


class FakeContent:
    """The content component's contract as _content_terms reads it."""

    name = "content"

    def __init__(self, vectors: np.ndarray, a: np.ndarray, w: np.ndarray) -> None:
        self.vectors, self.a, self.w = vectors, a, w

    def profile(self, u: int) -> tuple[np.ndarray, np.ndarray]:
        return self.a, self.w.copy()

    def product_vectors(self, items: np.ndarray) -> np.ndarray:
        return self.vectors[np.asarray(items, np.int64)]


def old_content_terms(comp: FakeContent, items: np.ndarray) -> tuple[np.ndarray, ...]:
    """Session 24's item-by-item leave-one-out drops."""
    a, w = comp.profile(0)
    vec = comp.product_vectors(a).astype(np.float64)
    w = w.astype(np.float64)
    s = w @ vec
    norm = float(np.linalg.norm(s))
    left = np.sqrt(np.maximum(norm**2 - 2 * w * (vec @ s) + w**2 * (vec * vec).sum(axis=1),
                              0.0))
    terms, dots = np.zeros((len(a), len(items))), np.zeros(len(items))
    targets = comp.product_vectors(items).astype(np.float64)
    apart = left > 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        for k, target in enumerate(targets):
            dots[k] = float(s @ target)
            without = np.where(apart, (dots[k] - w * (vec @ target)) / left, 0.0)
            terms[:, k] = dots[k] / norm - without
    return a, terms, dots / norm


@pytest.mark.parametrize("seed", range(6))
def test_content_terms_are_the_bits_of_the_item_by_item_loop(seed) -> None:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(40, 24)).astype(np.float32)
    vectors[3] = 0.0  # a product without text
    a = rng.choice(40, 1 + seed * 3, replace=False)
    w = rng.random(len(a)).astype(np.float32)
    if seed == 1:
        a, w = np.array([5]), np.array([1.0], np.float32)  # alone: taking it out leaves 0
    comp = FakeContent(vectors, a, w)
    items = rng.choice(40, 7, replace=False)
    items[0] = 3
    got, want = _content_terms(comp, 0, items), old_content_terms(comp, items)
    assert np.array_equal(got[0], want[0])
    assert got[1].tobytes() == want[1].tobytes() and got[2].tobytes() == want[2].tobytes()


def interest_shop() -> KnowledgeGraph:
    g = KnowledgeGraph()
    for p in "ABC":
        g.add_node(f"product:{p}", title=f"Item {p}")
    g.add_edges("made_by", ["product:A", "product:B", "product:C"], ["brand:x", "brand:y",
                                                                     "brand:y"])
    g.add_edges("about", ["product:A"] * 3 + ["product:B"],
                ["concept:p", "concept:q", "concept:r", "concept:q"])
    g.add_edges("about", ["product:C"] * 4, [f"concept:z{k}" for k in range(4)])  # popular
    g.add_edges("interested_in", ["user:1"] * 4 + ["user:2"],
                ["concept:r", "concept:q", "brand:y", "concept:q", "concept:p"])
    return g


def old_interest_attribute(context: UserReasons, item: str, i: int):
    """Session 24's: np.intersect1d of the user's row and the item's, per attribute."""
    g, user = context.graph, context.user_id
    u, best = g.index(user), None
    for rel, node_type, name, m, pop in context.attributes:
        if node_type == "category" or not context.has(("user", "interested_in", node_type)):
            continue
        into = g.matrix("interested_in", dst_type=node_type, src_type="user")
        if u >= into.shape[0] or i >= m.shape[0]:
            continue
        both = np.intersect1d(into.indices[into.indptr[u]:into.indptr[u + 1]],
                              m.indices[m.indptr[i]:m.indptr[i + 1]])
        if len(both):
            x = int(both[np.argmin(pop[both])])
            if best is None or pop[x] < best[0]:
                best = (float(pop[x]), name, rel, x, node_type)
    if best is None:
        return None
    _, name, rel, x, node_type = best
    node = g.node_id(node_type, x)
    return (f"popularity>interest_{name}", (user, node, item),
            ((user, "interested_in", node), (item, rel, node)))


@pytest.mark.parametrize("user", ["user:1", "user:2", "user:3"])
def test_interest_attribute_reads_the_user_s_interests_once_and_answers_the_same(user) -> None:
    g = interest_shop()
    g.add_node("user:3")  # into nothing
    context = UserReasons(g, user, own_products(g, user))
    for item in ("product:A", "product:B", "product:C"):
        i = g.index(item)
        assert _interest_attribute(context, item, i) == old_interest_attribute(context, item, i)
    if user == "user:1":  # A: q and r held; the less popular one (r: only A is about it)
        assert _interest_attribute(context, "product:A", g.index("product:A"))[1][1] == \
            "concept:r"
        assert context.interests("concept") == {g.index("concept:r"), g.index("concept:q")}
        assert context.interests("category") == set()


def old_side(template: str) -> int:
    if template.startswith("{s} ") and template.endswith(" {o}"):
        return 1
    if template.startswith("{o} ") and template.endswith(" {s}"):
        return 2
    return 0


def test_template_forms_are_what_each_template_says() -> None:
    for pair in _TEMPLATES.values():
        for template in pair:
            first, side, counted, has_c = _form(template)
            assert first == template.startswith("{s} ") and side == old_side(template)
            assert counted == ("{n}" in template or "{c}" in template)
            assert has_c == ("{c}" in template)
    assert _form("{o} makes {s}")[1] == 2 and _form("{c} of {s} bought {o}")[2:] == (True, True)


def test_a_user_s_name_is_kept_until_the_graph_changes() -> None:
    g = KnowledgeGraph()
    g.add_node("user:1", name="Ann")
    g.add_node("user:2", attributes={"handle": "mia"})
    g.add_node("user:3")
    assert [node_name(g, u) for u in ("user:1", "user:2", "user:3", "user:9")] == [
        "Ann", "@mia", "a shopper", "a shopper"]
    assert node_name(g, "user:2", influencers={"user:2"}) == "@mia (influencer)"
    assert node_name(g, "user:2") == "@mia"  # the kept name has no influencer mark
    g.add_node("user:1", name="Bea")  # an attribute changes: named afresh
    assert node_name(g, "user:1") == "Bea"


def test_sentences_and_privacy_answers_on_a_social_path() -> None:
    """A followee's post: the rewritten loop's clauses, and violations' lazy follows."""
    g = busy_user()
    g.add_node("user:2", attributes={"handle": "mia"})
    g.add_edges("mentions", ["post:2"], ["product:B"])
    nodes = ("user:1", "user:2", "post:2", "product:B")
    edges = (("user:1", "follows", "user:2"), ("user:2", "authored", "post:2"),
             ("post:2", "mentions", "product:B"))
    assert render_path(g, nodes, edges) == "You follow @mia, who wrote a post about Item B"
    assert violations(g, "user:1", edges) == []
    assert violations(g, "user:3", edges) == ["names user:1, whom user:3 follows",
                                              "names user:2, whom user:3 follows",
                                              "names user:2, whom user:3 follows"]
    assert violations(g, "user:1", (("user:1", "purchased", "product:B"),)) == []


def ewma_with_groups(keys: np.ndarray) -> np.ndarray:
    """normalised_ewma's tie groups, every step taken (session 24's, ties or none)."""
    n = len(keys)
    order = keys.argsort(kind="stable")
    norm = _ranks_smoothed(n, 10.0)
    sorted_keys = keys[order]
    starts = np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])).nonzero()[0]
    sizes = np.concatenate((starts[1:], [n])) - starts
    out = np.empty(n)
    out[order] = (np.add.reduceat(norm, starts) / sizes)[np.arange(len(starts)).repeat(sizes)]
    return out


@pytest.mark.parametrize("n", [1, 2, 7, 88, 300])
def test_lir_without_ties_is_the_bits_of_the_grouped_sum(n) -> None:
    rng = np.random.default_rng(n)
    keys = rng.permutation(n).astype(np.float64) * 3.5  # distinct
    assert normalised_ewma(keys).tobytes() == ewma_with_groups(keys).tobytes()
    keys[: n // 2] = keys[0]  # ties: the grouped path
    assert normalised_ewma(keys).tobytes() == ewma_with_groups(keys).tobytes()


def old_own_products(g: KnowledgeGraph, user: str) -> dict[int, str]:
    """Session 24's: each relation's matrix asked per request."""
    from recommend.paths.user_reasons import OWN_RELATIONS, has_block

    out: dict[int, str] = {}
    u = g.index(user)
    for rel in OWN_RELATIONS:
        if has_block(g, "user", rel, "product"):
            m = g.matrix(rel, dst_type="product", src_type="user")
            if u < m.shape[0]:
                for a in m.indices[m.indptr[u]:m.indptr[u + 1]].tolist():
                    out.setdefault(a, rel)
    return out


def test_the_kept_matrices_of_a_request_follow_the_graph() -> None:
    """own_products, the attribute matrices and the posts read matrices kept per graph:
    an edge added is read by the next request."""
    g = busy_user()
    g.add_edges("made_by", ["product:A"], ["brand:x"])
    g.add_edges("mentions", ["post:2"], ["product:B"])
    assert own_products(g, "user:1") == old_own_products(g, "user:1")
    context = UserReasons(g, "user:1", own_products(g, "user:1"))
    assert [a[:3] for a in context.attributes] == [("made_by", "brand", "brand")]
    assert context.posts()[1] == {"authored": {g.index("post:1")}, "liked": {g.index("post:2")}}
    g.add_edges("rated", ["user:1"], ["product:E"], ts=[3.0])  # stronger than its view
    g.add_edges("about", ["product:B"], ["concept:y"])
    g.add_edges("shared", ["user:1"], ["post:2"])
    own = own_products(g, "user:1")
    assert own == old_own_products(g, "user:1") and own[g.index("product:E")] == "rated"
    context = UserReasons(g, "user:1", own)
    assert [a[:3] for a in context.attributes] == [("made_by", "brand", "brand"),
                                                    ("about", "concept", "concept")]
    assert {rel for rel, posts in context.posts()[1].items()
            if g.index("post:2") in posts} == {"liked", "shared"}
