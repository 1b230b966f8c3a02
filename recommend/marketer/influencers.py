"""Influencers for a product: whose followers cover its predicted audience, each choice explained.

The follow graph carries influence from a followee to their followers. The probability
that influencer ``v`` activates follower ``w`` comes from observed engagement:
``(e_vw + alpha * r) / (posts_v + alpha)``, with ``e_vw`` the number of ``v``'s posts that
``w`` liked, shared or commented on, ``posts_v`` how many ``v`` wrote and ``r`` the graph's
overall rate (engagements per post and follower), which stands in for a poster with few
posts (``alpha`` = :data:`PRIOR_POSTS`). A graph without posts (a trust network) has no
engagement to observe: it falls back to the weighted cascade, ``1 / (accounts w follows)``
(Kempe et al. 2003), and says so in ``method``.

Candidates are the :data:`CANDIDATES` users with the most followers. The targets are the
product's predicted audience (:func:`recommend.marketer.audience.audience_scores`, its top
``audience_size`` users). :func:`recommend.marketer.cascade.celf` picks ``k`` of them by
marginal gain in expected audience reached, over ``runs`` seeded independent-cascade
worlds; the reported ``reach`` of the chosen set, and of the two baselines (the ``k`` with
most followers; degree discount), is measured on a fresh set of worlds.

Per influencer: followers in the audience, posts about the product, its brand or its
categories, engagement rate (engagements per post and follower), the audience followers
shared with each other influencer chosen, and a sentence. Only public acts and counts are
shown (an influencer's posts and follower counts, how many audience members follow them),
never what any follower bought or viewed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from recommend.marketer import cascade
from recommend.shown import shown_name

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["Influencer", "InfluencerChoice", "choose_influencers", "follow_probabilities"]

ENGAGEMENTS = ("liked", "shared", "commented")
PRIOR_POSTS = 2.0
CANDIDATES = 1000


@dataclass(frozen=True)
class Influencer:
    """One chosen influencer and what explains the choice."""

    user: str
    gain: float  # expected audience newly reached when chosen (on the choosing worlds)
    followers: int
    followers_in_audience: int
    posts_about: int
    engagement_rate: float
    overlap: dict[str, int] = field(default_factory=dict)
    sentence: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"user": self.user, "gain": round(self.gain, 3), "followers": self.followers,
                "followers_in_audience": self.followers_in_audience,
                "posts_about": self.posts_about,
                "engagement_rate": round(self.engagement_rate, 4), "overlap": self.overlap,
                "sentence": self.sentence}


@dataclass(frozen=True)
class InfluencerChoice:
    """The chosen influencers, the expected audience they reach (mean, standard error, on
    fresh worlds), the baselines' reach, and how it was computed."""

    item: str
    influencers: list[Influencer]
    reach: tuple[float, float]
    baselines: dict[str, tuple[float, float]]
    audience_size: int
    candidates: int
    method: str

    def to_json(self) -> dict[str, Any]:
        return {"item": self.item, "audience_size": self.audience_size,
                "candidates": self.candidates, "method": self.method,
                "reach": {"mean": round(self.reach[0], 3), "stderr": round(self.reach[1], 3)},
                "baselines": {k: {"mean": round(m, 3), "stderr": round(s, 3)}
                              for k, (m, s) in self.baselines.items()},
                "influencers": [i.to_json() for i in self.influencers]}


@dataclass(frozen=True)
class FollowGraph:
    """Influence edges ``src -> dst`` (followee -> follower) with probabilities, and per user
    their posts and the engagements those posts received from followers."""

    src: np.ndarray
    dst: np.ndarray
    prob: np.ndarray
    posts: np.ndarray
    engagements: np.ndarray
    method: str


def follow_probabilities(graph: KnowledgeGraph) -> FollowGraph:
    """The follow graph's influence edges and probabilities (module docstring); cached."""
    def compute() -> FollowGraph:
        n = graph.num_nodes("user")
        follows = graph.matrix("follows", "user", "user").tocoo()  # follower -> followee
        src, dst = follows.col.astype(np.int64), follows.row.astype(np.int64)
        authored = (graph.matrix("authored", "post", "user") > 0).astype(np.float64).tocsr()
        posts = np.asarray(authored.sum(axis=1)).ravel()
        if authored.nnz == 0:
            indeg = np.bincount(dst, minlength=n).astype(np.float64)
            return FollowGraph(src, dst, 1.0 / indeg[dst], posts, np.zeros(n),
                               "weighted cascade (no posts: 1 / accounts the follower follows)")
        engaged = sp.csr_matrix((n, authored.shape[1]))
        for rel in ENGAGEMENTS:
            engaged = engaged + (graph.matrix(rel, "post", "user") > 0)
        engaged = (engaged > 0).astype(np.float64).tocsr()
        per_pair = (engaged @ authored.T).tocsr()  # (follower, author): posts engaged with
        e = np.asarray(per_pair[dst, src]).ravel()
        followers = np.bincount(src, minlength=n).astype(np.float64)
        engagements = np.bincount(src, weights=e, minlength=n)
        pairs = float((posts * followers).sum())
        rate = float(engagements.sum()) / pairs if pairs > 0 else 0.0
        prob = np.clip((e + PRIOR_POSTS * rate) / (posts[src] + PRIOR_POSTS), 0.0, 1.0)
        return FollowGraph(src, dst, prob, posts, engagements,
                           f"engagement (overall rate {rate:.3f}, prior {PRIOR_POSTS:g} posts)")

    return graph.cached("marketer.follow_probabilities", compute)


def _posts_about(graph: KnowledgeGraph, item: str) -> np.ndarray:
    """Per user, their posts that mention the product, its brand, its categories or a
    product of that brand or category."""
    n_posts = graph.num_nodes("post")
    if n_posts == 0:
        return np.zeros(graph.num_nodes("user"))
    i = graph.index(item)
    hit = np.zeros(n_posts, bool)
    for t in ("brand", "category"):
        if not graph.num_nodes(t):
            continue
        rel = "made_by" if t == "brand" else "in_category"
        own = graph.matrix(rel, t, "product")[i].indices
        if len(own) == 0:
            continue
        products = np.flatnonzero(np.asarray(graph.matrix(rel, t, "product")[:, own]
                                             .sum(axis=1)).ravel())
        hit |= np.asarray(graph.matrix("mentions", t, "post")[:, own].sum(axis=1)).ravel() > 0
        hit |= np.asarray(graph.matrix("mentions", "product", "post")[:, products]
                          .sum(axis=1)).ravel() > 0
    hit |= graph.matrix("mentions", "product", "post")[:, [i]].toarray().ravel() > 0
    authored = (graph.matrix("authored", "post", "user") > 0).astype(np.float64)
    return np.asarray(authored @ hit.astype(np.float64)).ravel()


def choose_influencers(graph: KnowledgeGraph, item: str, audience: np.ndarray, k: int, *,
                       runs: int = 100, seed: int = 0, candidates: int = CANDIDATES
                       ) -> InfluencerChoice:
    """``k`` influencers for ``item`` whose cascades reach most of ``audience`` (user
    indices), explained (module docstring)."""
    n = graph.num_nodes("user")
    fg = follow_probabilities(graph)
    followers = np.bincount(fg.src, minlength=n)
    pool = np.flatnonzero(followers > 0)
    pool = pool[np.lexsort((pool, -followers[pool]))][:candidates]
    targets = np.unique(np.asarray(audience, np.int64))
    worlds = _worlds(graph, fg, runs, seed)
    reach = cascade.reach_sets(worlds, n, runs, pool, targets)
    cols, gains = cascade.celf(reach, runs, k)
    chosen = pool[cols]
    fresh = _worlds(graph, fg, runs, seed + 1)
    mean_p = float(fg.prob.mean()) if len(fg.prob) else 0.0
    baselines = {
        "top_followers": cascade.spread(fresh, n, runs, pool[:k], targets),
        "degree_discount": cascade.spread(
            fresh, n, runs, np.array(cascade.degree_discount(fg.src, fg.dst, mean_p, n, pool, k),
                                     np.int64), targets),
    }
    in_audience = np.zeros(n, bool)
    in_audience[targets] = True
    fans = {int(v): set(fg.dst[(fg.src == v) & in_audience[fg.dst]].tolist()) for v in chosen}
    about = _posts_about(graph, item)
    out = []
    for v, gain in zip(chosen.tolist(), gains, strict=True):
        uid = graph.node_id("user", v)
        pairs = fg.posts[v] * followers[v]
        rate = float(fg.engagements[v] / pairs) if pairs > 0 else 0.0
        overlap = {graph.node_id("user", w): len(fans[v] & fans[w])
                   for w in chosen.tolist() if w != v and fans[v] & fans[w]}
        out.append(Influencer(uid, gain, int(followers[v]), len(fans[v]), int(about[v]), rate,
                              overlap))
    out = [_explained(graph, inf, len(targets), item) for inf in out]
    return InfluencerChoice(item, out, cascade.spread(fresh, n, runs, chosen, targets),
                            baselines, len(targets), len(pool),
                            f"CELF over {runs} independent-cascade worlds (seed {seed}); "
                            f"probabilities: {fg.method}")


def _worlds(graph: KnowledgeGraph, fg: FollowGraph, runs: int, seed: int) -> sp.csr_matrix:
    """The live-edge worlds of ``seed``: the same for every product, so sampled once per
    graph (cached)."""
    n = graph.num_nodes("user")
    return graph.cached(("marketer.live_worlds", runs, seed),
                        lambda: cascade.live_worlds(fg.src, fg.dst, fg.prob, n, runs, seed))


def user_label(graph: KnowledgeGraph, uid: str) -> str:
    """How an influencer is named: @handle, else name, else the id itself (a list of
    influencers needs each told apart, so never "a shopper")."""
    attrs = graph.node_attrs(uid)
    extra = attrs.get("attributes")
    handle = extra.get("handle") if isinstance(extra, dict) else None
    return shown_name(f"@{handle}" if handle else attrs.get("name")) or uid


def _explained(graph: KnowledgeGraph, inf: Influencer, audience: int, item: str
               ) -> Influencer:
    title = shown_name(graph.node_attrs(item).get("title") or item)
    text = (f"{user_label(graph, inf.user)} adds an expected {inf.gain:.1f} of the {audience} "
            f"people most likely to want {title}: {inf.followers_in_audience} of their "
            f"{inf.followers} followers are among them")
    if inf.posts_about:
        times = "once" if inf.posts_about == 1 else f"{inf.posts_about} times"
        text += f", they posted {times} about it, its brand or its category"
    if inf.engagement_rate > 0:
        text += f", and a post of theirs is engaged with by {inf.engagement_rate:.1%} " \
                "of their followers"
    if inf.overlap:
        text += "; audience followers shared with " + ", ".join(
            f"{user_label(graph, u)} ({c})" for u, c in inf.overlap.items())
    return Influencer(inf.user, inf.gain, inf.followers, inf.followers_in_audience,
                      inf.posts_about, inf.engagement_rate, inf.overlap, text + ".")
