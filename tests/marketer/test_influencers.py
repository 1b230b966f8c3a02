"""Influencers for a product: engagement probabilities, the choice and its explanation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kg.graph import KnowledgeGraph
from recommend.marketer import cascade
from recommend.marketer.influencers import PRIOR_POSTS, _worlds, follow_probabilities
from recommend.recommender import Recommender
from scripts.cli import main


def test_probabilities_come_from_engagement() -> None:
    g = KnowledgeGraph()
    g.add_edges("follows", ["user:f1", "user:f2"], ["user:kol", "user:kol"])
    g.add_edges("authored", ["user:kol"] * 2, ["post:1", "post:2"])
    g.add_edges("liked", ["user:f1", "user:f1"], ["post:1", "post:2"])
    fg = follow_probabilities(g)
    rate = 2 / (2 * 2)  # 2 engagements over 2 posts x 2 followers
    by_follower = {g.node_id("user", int(d)): p for d, p in zip(fg.dst, fg.prob, strict=True)}
    assert fg.src.tolist() == [g.index("user:kol")] * 2
    assert by_follower["user:f1"] == pytest.approx((2 + PRIOR_POSTS * rate) / (2 + PRIOR_POSTS))
    assert by_follower["user:f2"] == pytest.approx(PRIOR_POSTS * rate / (2 + PRIOR_POSTS))


def test_without_posts_the_weighted_cascade() -> None:
    g = KnowledgeGraph()
    g.add_edges("follows", ["user:a", "user:a", "user:b"], ["user:x", "user:y", "user:x"])
    fg = follow_probabilities(g)
    assert "weighted cascade" in fg.method
    probs = {(g.node_id("user", int(s)), g.node_id("user", int(d))): p
             for s, d, p in zip(fg.src, fg.dst, fg.prob, strict=True)}
    assert probs[("user:x", "user:a")] == 0.5 and probs[("user:x", "user:b")] == 1.0


def test_worlds_are_sampled_once_per_graph_and_again_when_it_changes() -> None:
    g = KnowledgeGraph()
    g.add_edges("follows", ["user:a", "user:b", "user:c"], ["user:x", "user:x", "user:a"])
    fg = follow_probabilities(g)
    worlds = _worlds(g, fg, 10, 3)
    assert _worlds(g, fg, 10, 3) is worlds
    fresh = cascade.live_worlds(fg.src, fg.dst, fg.prob, g.num_nodes("user"), 10, 3)
    assert (worlds != fresh).nnz == 0
    g.add_edges("follows", ["user:d"], ["user:b"])
    changed = _worlds(g, follow_probabilities(g), 10, 3)
    assert changed.shape == (10 * g.num_nodes("user"),) * 2 != worlds.shape


@pytest.fixture(scope="module")
def rec(market_artifact):
    return Recommender.load(market_artifact)


def test_choice_is_explained_and_beats_nothing(rec) -> None:
    found = rec.choose_influencers("p0004", 4, runs=40)
    assert len(found.influencers) == 4 and found.audience_size == 100
    users = [i.user for i in found.influencers]
    assert len(set(users)) == 4
    gains = [i.gain for i in found.influencers]
    assert gains == sorted(gains, reverse=True) and gains[-1] > 0
    g = rec.graph
    follows = g.matrix("follows", "user", "user").tocsc()
    for inf in found.influencers:
        v = g.index(inf.user)
        assert inf.followers == follows.indptr[v + 1] - follows.indptr[v]
        assert 0 <= inf.followers_in_audience <= inf.followers
        assert inf.sentence and str(inf.followers_in_audience) in inf.sentence
        for other, shared in inf.overlap.items():
            twin = next(i for i in found.influencers if i.user == other)
            assert twin.overlap[inf.user] == shared
    mean, err = found.reach
    assert mean > 0 and err >= 0
    assert set(found.baselines) == {"top_followers", "degree_discount"}
    again = rec.choose_influencers("p0004", 4, runs=40)
    assert [i.user for i in again.influencers] == users  # seeded


def test_an_audience_given_is_not_scored_again(rec, monkeypatch) -> None:
    import recommend.marketer.audience as audience_module

    found = rec.audience("p0004", 100, explain=False)
    expected = rec.choose_influencers("p0004", 3, runs=20)
    calls = []
    scores = audience_module.audience_scores
    monkeypatch.setattr(audience_module, "audience_scores",
                        lambda *a, **kw: calls.append(1) or scores(*a, **kw))
    given = rec.choose_influencers("p0004", 3, runs=20, audience=found)
    assert not calls
    assert given.to_json() == expected.to_json()
    with pytest.raises(ValueError, match="p0005"):
        rec.choose_influencers("p0005", 3, runs=20, audience=found)
    with pytest.raises(ValueError, match="not both"):
        rec.choose_influencers("p0004", 3, runs=20, audience=found, audience_size=50)


def test_influencers_cli(market_artifact, capsys) -> None:
    assert main(["influencers", str(market_artifact), "--item", "p0004", "-k", "2",
                 "--runs", "20", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["influencers"]) == 2 and np.isfinite(out["reach"]["mean"])
    with pytest.raises(SystemExit) as exit_:
        main(["influencers", str(market_artifact), "--item", "p0004", "-k", "0"])
    assert exit_.value.code == 2
    assert main(["influencers", str(market_artifact), "--item", "nope"]) == 2


def test_a_user_without_handle_or_name_is_named_once(monkeypatch, capsys) -> None:
    """``user:u87: user:u87 adds ...`` said the id twice for a user with no handle."""
    from types import SimpleNamespace

    from recommend.marketer.influencers import Influencer, InfluencerChoice, _explained

    g = KnowledgeGraph()
    g.add_node("user:bare")
    g.add_node("user:named", name="Ann")
    g.add_node("user:handled", attributes={"handle": "ann_h"})
    g.add_node("product:p1", title="Mug")
    chosen = [_explained(g, Influencer(u, 1.0, 3, 2, 0, 0.0), 10, "product:p1")
              for u in ("user:bare", "user:named", "user:handled")]
    found = InfluencerChoice("product:p1", chosen, (1.0, 0.0), {}, 10, 3, "test")
    rec = SimpleNamespace(graph=g, choose_influencers=lambda *a, **kw: found)
    monkeypatch.setattr(Recommender, "load", lambda _path: rec)
    assert main(["influencers", "art", "--item", "p1"]) == 0
    lines = capsys.readouterr().out.splitlines()[:3]
    assert lines[0].startswith("1. user:bare adds an expected 1.0 of the 10 people")
    assert lines[1].startswith("2. user:named: Ann adds")
    assert lines[2].startswith("3. user:handled: @ann_h adds")
    assert all(line.count("user:") == 1 for line in lines)


def test_no_follows_says_why_there_is_no_influencer(monkeypatch, capsys) -> None:
    """A dataset without follows printed a blank line and "Expected audience reached: 0.0"
    (probe27: every world built without follows.jsonl)."""
    from types import SimpleNamespace

    from recommend.marketer.influencers import choose_influencers

    g = KnowledgeGraph()
    for u in ("user:a", "user:b"):
        g.add_node(u)
    g.add_node("product:p1", title="Mug")
    found = choose_influencers(g, "product:p1", np.array([0, 1]), 3, runs=5)
    assert found.influencers == [] and found.candidates == 0
    rec = SimpleNamespace(graph=g, choose_influencers=lambda *a, **kw: found)
    monkeypatch.setattr(Recommender, "load", lambda _path: rec)
    assert main(["influencers", "art", "--item", "p1"]) == 0
    assert capsys.readouterr().out.startswith(
        "No influencer for product:p1: no user in the graph has a follower (the dataset has no "
        "follows)\n\nExpected audience reached: 0.0")
