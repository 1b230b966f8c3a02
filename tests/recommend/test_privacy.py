"""Private by default: no explanation shows another person's private acts or a demographic
segment; co-interaction evidence is an aggregate over at least k people, and it is what the
scorer uses (faithful), not a hidden walk through people."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.graph import KnowledgeGraph
from kg.links import LinkFinder
from recommend.hybrid.audit import path_is_valid
from recommend.hybrid.config import ContentConfig, HybridConfig, PrivacyConfig
from recommend.paths import GraphPathScorer, MetaPath, Privacy, Step, catalogue, metapath_matrix
from recommend.paths.connection import connection_path, link_rules
from recommend.paths.privacy import (
    PERSONAL_RELATIONS,
    PUBLIC_RELATIONS,
    aggregate_matrix,
    hop_exists,
    people,
    violations,
)

PEERS = MetaPath("peers", (Step("purchased", "out", "product"),
                           Step("purchased", "in", "user"), Step("purchased", "out", "product")))


def named(graph: KnowledgeGraph, you: str, edges) -> list[str]:
    """Independent check: users other than ``you`` a path shows, and how (private acts, or
    anyone ``you`` does not follow)."""
    follows = {e.dst for e in graph.neighbors(you, "follows")}
    out = []
    for src, rel, dst in edges:
        for end in (src, dst):
            if end.startswith("user:") and end != you:
                if end not in follows:
                    out.append(f"{end} not followed")
                elif rel in PERSONAL_RELATIONS:
                    out.append(f"{end} {rel}")
    return out


def co_world(n_both: int) -> KnowledgeGraph:
    """user:me bought A; ``n_both`` others bought A and B; two others bought A and C."""
    g = KnowledgeGraph()
    for p in "ABC":
        g.add_node(f"product:{p}", title=f"Item {p}")
    both = [f"user:b{k}" for k in range(n_both)]
    g.add_edges("purchased", ["user:me", *both, *both, "user:c0", "user:c1", "user:c0",
                              "user:c1"],
                ["product:A"] * (1 + n_both) + ["product:B"] * n_both
                + ["product:A", "product:A", "product:C", "product:C"])
    return g


def test_the_catalogue_walks_no_private_act_of_anyone_else() -> None:
    for privacy in (Privacy(), Privacy(3, demographics=True)):
        for mp in catalogue(privacy):
            types = mp.types
            for t, step in enumerate(mp.steps):
                if types[t + 1] == "user":  # only the people you follow
                    assert t == 0 and step.relation == "follows", mp.name
                if t > 0 and types[t] == "user":  # and only their public acts
                    assert step.relation in PUBLIC_RELATIONS, mp.name
                if step.relation == "member_of":
                    assert step.demographics == privacy.demographics
                if step.relation.startswith(("co_", "members_")):
                    assert step.min_people == privacy.min_people, mp.name


@pytest.mark.parametrize("n_both", [4, 5, 9])
def test_co_purchase_is_an_aggregate_over_at_least_k_people(n_both: int) -> None:
    g = co_world(n_both)
    a, b, c = (g.index(f"product:{p}") for p in "ABC")
    m = aggregate_matrix(g, "co_purchased", min_people=5).toarray()
    assert (m[a, b] > 0) == (n_both >= 5)
    assert m[a, c] == 0 and m[a, a] == 0  # two people only; never itself
    assert people(g, ("product:A", "co_purchased", "product:B")) == n_both
    assert hop_exists(g, ("product:A", "co_purchased", "product:B"))
    assert not hop_exists(g, ("product:B", "co_purchased", "product:C"))


def test_a_remembered_head_count_follows_the_graph_as_it_grows() -> None:
    g = co_world(4)
    hop = ("product:A", "co_purchased", "product:B")
    assert people(g, hop) == 4 and people(g, hop) == 4  # the second from the table
    g.add_edges("viewed", ["user:c0"], ["product:B"])  # another relation: still valid
    assert people(g, hop) == 4
    g.add_edges("purchased", ["user:c0"], ["product:B"])  # c0 bought A before
    assert people(g, hop) == 5


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 4)), min_size=1, max_size=60),
       st.integers(1, 4))
def test_the_aggregate_step_is_the_peer_walk_restricted_to_k_people(pairs, k) -> None:
    g = KnowledgeGraph()
    for p in range(5):
        g.add_node(f"product:{p}", title=str(p))
    g.add_edges("purchased", [f"user:{u}" for u, _ in pairs], [f"product:{p}" for _, p in pairs])
    walk = GraphPathScorer([PEERS]).prepare(g).steps_["peers"]
    old = (walk[1] @ walk[2]).toarray()  # product -> people -> product, row-normalised
    weights = g.matrix("purchased", dst_type="product", src_type="user").toarray()
    did = (weights > 0) * 1.0
    count = did.T @ did
    np.fill_diagonal(count, 0)
    agg = aggregate_matrix(g, "co_purchased", min_people=k).toarray()
    # the aggregate is the old walk up to its row normalisation, kept over >= k people
    expected = np.where(count >= k, old * weights.sum(axis=0)[:, None], 0.0)
    assert agg == pytest.approx(expected)


def test_scores_are_carried_by_shown_aggregate_paths_only() -> None:
    g = co_world(6)
    g.add_edges("purchased", ["user:c2", "user:c2"], ["product:A", "product:C"])
    scorer = GraphPathScorer().prepare(g)
    assert not any(n.startswith("user:") for mp in scorer.metapaths_ for n in mp.types[1:])
    score = scorer.score([g.index("user:me")]).toarray()[0]
    assert score[g.index("product:B")] > 0 and score[g.index("product:C")] == 0  # 3 < 5
    (path,) = scorer.explain("user:me", "product:B")
    assert path.text == "You bought Item A; 6 people who bought Item A also bought Item B"
    assert path.contribution == pytest.approx(1.0)  # the whole score
    assert not violations(g, "user:me", path.edges)
    assert scorer.explain("user:me", "product:C") == []  # no path: nothing scored, no link


def test_k_is_configurable() -> None:
    g = co_world(3)
    assert GraphPathScorer().prepare(g).score([0]).nnz == 0
    three = GraphPathScorer(catalogue(Privacy(min_people=3))).prepare(g)
    paths = three.explain("user:me", "product:B", privacy=Privacy(min_people=3))
    assert paths and all(p.text.startswith("You bought Item A; 3 people") for p in paths)
    assert Privacy.from_config(HybridConfig(privacy=PrivacyConfig(min_people=3))) == Privacy(3)
    with pytest.raises(ValueError, match=r"privacy\.min_people"):
        HybridConfig(privacy=PrivacyConfig(min_people=0))


def test_old_private_walks_are_never_shown() -> None:
    g = co_world(6)
    scorer = GraphPathScorer([PEERS]).prepare(g)
    assert scorer.score([0]).nnz  # the scorer was given a private walk...
    assert scorer.explain("user:me", "product:B") == []  # ...whose paths are not shown


def social_world() -> KnowledgeGraph:
    g = KnowledgeGraph()
    g.add_node("user:me", name="Me")
    g.add_node("user:mia", name="Mia", attributes={"handle": "mia"})
    g.add_node("user:zed", name="Zed", attributes={"handle": "zed"})
    for p in "ABCD":
        g.add_node(f"product:{p}", title=f"Item {p}")
    g.add_edges("follows", ["user:me"], ["user:mia"])
    g.add_edges("purchased", ["user:me", "user:zed", "user:zed", "user:mia"],
                ["product:A", "product:A", "product:B", "product:C"])
    g.add_edges("liked", ["user:mia"], ["product:D"])
    g.add_node("brand:hoka", name="Hoka")
    g.add_edges("interested_in", ["user:mia"], ["brand:hoka"])  # inferred: personal
    g.add_edges("made_by", ["product:E"], ["brand:hoka"])
    return g


def test_connections_walk_no_one_elses_private_acts() -> None:
    g = social_world()
    plain = LinkFinder(g, "user:me")
    assert plain.link("product:B").nodes == ("user:me", "product:A", "user:zed", "product:B")
    private = LinkFinder(g, "user:me", rules=link_rules(g))
    assert private.link("product:B") is None  # only through zed's purchases
    assert private.link("product:C") is None  # mia is followed, but her purchase is private
    assert plain.link("product:E").nodes == ("user:me", "user:mia", "brand:hoka", "product:E")
    assert private.link("product:E") is None  # and so is what she is into
    public = private.link("product:D")  # her like is public
    assert public is not None and public.nodes == ("user:me", "user:mia", "product:D")
    path = connection_path(g, "user:me", "product:D")
    assert path is not None and path.text.startswith("You follow @mia, who liked Item D")


def demographic_world(demographics: bool) -> tuple[KnowledgeGraph, GraphPathScorer]:
    g = KnowledgeGraph()
    g.add_node("segment:gender-male", name="gender: male", facet="gender", value="male")
    g.add_node("segment:occupation-chef", name="occupation: chef", facet="occupation")
    for p in "AB":
        g.add_node(f"product:{p}", title=f"Item {p}")
    men = [f"user:m{k}" for k in range(6)]  # (m6 bought nothing: see test_privacy_asker)
    g.add_edges("member_of", ["user:me", *men, "user:m6"], ["segment:gender-male"] * 8)
    g.add_edges("member_of", ["user:me"], ["segment:occupation-chef"])
    g.add_edges("purchased", men, ["product:A"] * 6)
    scorer = GraphPathScorer(catalogue(Privacy(demographics=demographics))).prepare(g)
    return g, scorer


def test_gender_and_age_stay_out_unless_asked_and_never_in_a_sentence() -> None:
    g, off = demographic_world(False)
    assert off.score([g.index("user:me")]).nnz == 0
    assert off.explain("user:me", "product:A") == []
    g, on = demographic_world(True)
    assert on.score([g.index("user:me")]).toarray()[0, g.index("product:A")] > 0
    assert on.explain("user:me", "product:A") == []  # it feeds the score, never a sentence
    assert LinkFinder(g, "user:me", rules=link_rules(g)).link("product:A") is None


@pytest.fixture(scope="module")
def demo_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo world (600 users, no images) built with the model stage (LSA content)."""
    from kg.artifact import build_artifact
    from kg.demo import DemoConfig, generate_demo_world
    from recommend.model_stage import model_stage

    root = tmp_path_factory.mktemp("privacy-demo")
    generate_demo_world(root / "data", DemoConfig(images=False))
    build_artifact(root / "data", root / "art", progress=False,
                   stages=[("models", model_stage(
                       HybridConfig(content=ContentConfig(encoder="lsa"))))])
    return root / "art"


def test_every_demo_explanation_is_private_valid_and_aggregated(demo_artifact: Path) -> None:
    from recommend.recommender import Recommender

    rec = Recommender.load(demo_artifact)
    g = rec.graph
    k = rec.model.config.privacy.min_people
    items = valid = sentences = 0
    for user in g.nodes("user"):
        for r in rec.recommend(user, 10):
            items += 1
            valid += any(path_is_valid(g, p) for p in r.paths)
            for p in r.paths:
                sentences += 1
                assert not named(g, user, p.edges), p.text
                assert not any(n.startswith(("segment:age-", "segment:gender-"))
                               for n in p.nodes), p.text
                assert not violations(g, user, p.edges, min_people=k), p.text
                for src, rel, dst in p.edges:
                    if rel.startswith(("co_", "members_", "next_within_")):
                        assert people(g, (src, rel, dst)) >= k
                        n = people(g, (src, rel, dst))
                        assert f"{n} people" in p.text or f"{n} of " in p.text
    assert items == 10 * g.num_nodes("user") and sentences >= items
    assert valid / items >= 0.95


def test_a_step_matrix_keeps_demographic_segments_out_by_default() -> None:
    g, _ = demographic_world(False)
    step = Step("member_of", "out", "segment")
    m = metapath_matrix(g, MetaPath("s", (step, Step("members_bought", min_people=1))))
    assert isinstance(m, sp.csr_matrix) and m.nnz == 0
