"""The audience of a product (:meth:`recommend.Recommender.audience`): who should see it, and why.

Scoring is the served hybrid seen from the item's side. Every component gives the product's
column over all users at once (:mod:`recommend.marketer.columns`, sparse mat-vecs: no
``recommend`` per user); users who already have the product (any event on it: the
recommender's "seen") are left out. Two things differ from a row, and are honest
equivalents rather than the same number:

- normalisation: a row is min-max scaled over that user's candidates, which needs the
  user's whole row; here each component's column is min-max scaled over the candidate
  users, so a user stands high when the component rates the product high *for them
  compared with other people*;
- the blend: a linear blend's weights apply as they are; a ``gbdt`` blend scores
  within-user ranks, which one column cannot give, so the item side weighs each component
  (with evidence: a spread over the candidates) by its share of the trees' split gain
  (:func:`gbdt_weights`), how much the fitted trees lean on it.

The hybrid ranks a user's products against each other: it answers "which product, if they
take one?", not "who will take one at all?". From the item side that misses the people's own
appetite: a heavy buyer of the category whose history makes this product only one option of
several scores lower than a stranger. So the audience blends the hybrid's column with each
user's activity in the product's categories (:func:`recommend.marketer.columns.category_activity`,
min-max over the candidates): ``(1 - b) * hybrid + b * category``, the hybrid's total scaled
to span 1 over the candidates (a common factor: its parts keep their proportions). ``b`` is
the config's ``audience.category_weight``, which the build chooses per artifact on its own
validation split (:mod:`recommend.marketer.tune`), then on its time cut (below); ``b = 0`` is
the hybrid alone.

That blend, the *taste*, still answers "which product, if they take one?". Who takes one at
all in the coming period is the person's own pace: ``P(u takes i) ~ P(u active) x P(i |
u)``. So the score is ``log(taste + e) + a * log(rate + e)`` (``e`` = :data:`FLOOR`, the
taste shifted to start at 0 over the candidates), ``rate`` each user's expected number of
takes in the coming period (:func:`recommend.marketer.propensity.take_rate`: a return model
of their recency, frequency and age, fitted on the graph's own past; scaled to [0, 1]) and
``a`` the config's ``audience.activity_weight`` (1: the product of the two; 0 leaves the
taste's order as it was). The build chooses ``a`` and ``b`` together on a time cut of its own
graph (:mod:`recommend.marketer.cut_choice`): ``bench/marketer.py`` shows the rate helps on
ML-100K and hurts on the demo worlds, so no fixed weight fits.

Explanations (``explain``): each member's paths are those that carry the product's graph and
social scores for them
(:meth:`recommend.hybrid.path_component.PathComponent.explained_paths`), told in the third
person. The reader is the marketer, another person, so on top of the recommender's
privacy rules (:func:`recommend.paths.privacy.violations` as seen by the member) a path may
not show the member's own personal acts (:data:`~recommend.paths.privacy.PERSONAL_RELATIONS`:
purchases, views, ratings, inferred interests and segments). Such a path is withheld; only
its kind (the meta-path's name, no node) is reported in ``withheld``, and so is each
history-based component that scores the member (:data:`HISTORY_KINDS`: their own history of
products and posts): every member is explained, by a path or by the kinds of private
evidence behind the score, without showing any of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from recommend.marketer.columns import category_activity, item_columns
from recommend.marketer.propensity import take_rate
from recommend.marketer.summary import AudienceSummary, summarise
from recommend.paths.privacy import PERSONAL_RELATIONS, Privacy, demographic_ids, violations
from recommend.results import ExplainedPath
from recommend.shown import shown_number

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.hybrid.model import HybridModel

__all__ = ["ACTIVITY", "CATEGORY", "FLOOR", "Audience", "AudienceMember", "AudienceParts",
           "activity", "audience_parts", "audience_scores", "find_audience", "marketer_paths",
           "part_names", "top_users"]

PATH_COMPONENTS = ("graph", "social")
#: The part name of the users' activity in the product's categories.
CATEGORY = "category"
#: The part name of the users' own take rate (:mod:`recommend.marketer.propensity`).
ACTIVITY = "activity"
#: What the taste and the rate each keep at their lowest: 1% of the best's odds.
FLOOR = 0.01
#: What a part of a member's score rests on, when it is their own history.
HISTORY_KINDS = {"cf": "cf: their own history, like other people's",
                 "session": "session: what they took last",
                 "content": "content: text of what they took or wrote",
                 CATEGORY: "category: how much they took in its categories",
                 ACTIVITY: "activity: how many products they took, and how recently"}


@dataclass(frozen=True)
class AudienceMember:
    """One user of an audience: score, per-component parts, paths shown and kinds withheld."""

    user: str
    score: float
    parts: dict[str, float]
    paths: list[ExplainedPath] = field(default_factory=list)
    withheld: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The member for the marketer: their take rate (their own pace of buying) is left
        out of the parts it scored."""
        return {"user": self.user, "score": shown_number(self.score),
                "parts": {k: shown_number(v) for k, v in self.parts.items() if k != ACTIVITY},
                "paths": [p.to_json() for p in self.paths], "withheld": list(self.withheld)}


@dataclass(frozen=True)
class Audience:
    """The users most likely to take ``item`` next (best first), and their summary."""

    item: str
    members: list[AudienceMember]
    candidates: int  # users who could be in it (those without the product)
    summary: AudienceSummary
    method: str

    def to_json(self) -> dict[str, Any]:
        return {"item": self.item, "candidates": self.candidates, "method": self.method,
                "summary": self.summary.to_json(),
                "members": [m.to_json() for m in self.members]}


def part_names(model: HybridModel) -> tuple[str, ...]:
    """The names of an audience score's parts: the blend's components, :data:`CATEGORY`,
    then :data:`ACTIVITY`."""
    return (*model.blend.names, CATEGORY, ACTIVITY)


@dataclass(frozen=True)
class AudienceParts:
    """Product ``i``'s item-side evidence over all users, before the category weight ``b``:
    ``hybrid`` (users x blend components, its row sums spanning 1 over the candidates),
    ``category`` (the users' activity in its categories, min-max over the candidates),
    ``cand`` (users who do not have it) and ``rate`` (the users' take rate, or None when the
    activity weight is 0)."""

    hybrid: np.ndarray
    category: np.ndarray
    cand: np.ndarray
    method: str
    rate: np.ndarray | None = None

    def scores(self, category_weight: float, activity_weight: float = 0.0,
               rate: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Every user's :meth:`score` and its parts (users x :func:`part_names`: the taste's
        additive parts, then the rate when ``a`` > 0, else 0)."""
        score = self.score(category_weight, activity_weight, rate)
        taste = np.column_stack([self.hybrid * (1.0 - category_weight),
                                 self.category * category_weight])
        last = (self.rate if rate is None else rate) if activity_weight > 0 else None
        return score, np.column_stack([taste, np.zeros(len(taste)) if last is None else last])

    def score(self, category_weight: float, activity_weight: float = 0.0,
              rate: np.ndarray | None = None) -> np.ndarray:
        """Every user's score at category weight ``b`` and activity weight ``a`` (-inf for
        non-candidates; module docstring). ``rate``: the take rate to use (default: the
        users' ``rate``, the same for every product)."""
        if not 0.0 <= category_weight <= 1.0:
            raise ValueError(f"category_weight must be in [0, 1], not {category_weight}")
        rate = self.rate if rate is None else rate
        if activity_weight < 0 or (activity_weight > 0 and rate is None):
            raise ValueError(f"activity_weight {activity_weight} needs a take rate and >= 0")
        total = self.hybrid.sum(axis=1) * (1.0 - category_weight) \
            + self.category * category_weight
        if activity_weight == 0:
            return np.where(self.cand, total, -np.inf)
        low = float(total[self.cand].min()) if self.cand.any() else 0.0
        score = (np.log(np.maximum(total - low, 0.0) + FLOOR)
                 + activity_weight * np.log(rate + FLOOR))
        return np.where(self.cand, score, -np.inf)


def audience_parts(model: HybridModel, i: int) -> AudienceParts:
    """Product index ``i``'s :class:`AudienceParts` (module docstring)."""
    raw = item_columns(model, i)
    seen = model.graph.cached("marketer.seen_csc", model.seen_.tocsc)  # columns: O(takers)
    cand = np.ones(raw.shape[0], bool)
    if i < seen.shape[1]:
        takers = seen.indices[seen.indptr[i]:seen.indptr[i + 1]]
        cand[takers[takers < len(cand)]] = False
    norm = np.zeros_like(raw)
    if cand.any():
        lo, hi = raw[cand].min(axis=0), raw[cand].max(axis=0)
        span = hi - lo
        np.divide(raw - lo, span, out=norm, where=span > 1e-12)
    blend = model.blend
    if blend.kind == "gbdt":
        evidence = (norm[cand].max(axis=0) > 0) if cand.any() else np.zeros(raw.shape[1], bool)
        w = gbdt_weights(blend) * evidence
        w = w / w.sum() if w.sum() > 0 else evidence / max(int(evidence.sum()), 1)
        method = "item column, min-max over users; gbdt blend: its trees' gain shares " + (
            ", ".join(f"{n} {x:.2f}" for n, x in zip(blend.names, w, strict=True) if x > 0)
            or "of nothing")
    else:
        w = np.asarray(blend.weights, np.float64)
        method = f"item column, min-max over users; {blend.kind} blend weights"
    hybrid = norm * w
    total = hybrid[cand].sum(axis=1)
    span = float(total.max() - total.min()) if len(total) else 0.0
    hybrid *= 1.0 / span if span > 1e-12 else 0.0
    category = _min_max(category_activity(model.graph, i), cand)
    rate = take_rate(model.graph) if model.config.audience.activity_weight > 0 else None
    return AudienceParts(hybrid, category, cand, method, rate)


def audience_scores(model: HybridModel, i: int, category_weight: float | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Every user's item-side score of product index ``i``: (scores, parts (users x
    :func:`part_names`), candidate mask, method). Non-candidates (they have it) score -inf.
    ``category_weight``: ``b`` (None: the one the build chose, ``audience.category_weight``
    of the model's config)."""
    config = model.config
    b = config.audience.category_weight if category_weight is None else category_weight
    a = config.audience.activity_weight
    found = audience_parts(model, i)
    scores, parts = found.scores(b, a)
    method = f"{found.method}; blended with their activity in its categories, weight {b:g}"
    if a > 0:
        method += (f"; times their take rate (their expected takes in the coming period, "
                   f"from their recency, frequency and age) to the power {a:g}")
    return scores, parts, found.cand, method


def _min_max(values: np.ndarray, cand: np.ndarray) -> np.ndarray:
    """``values`` scaled to [0, 1] over the candidates (zeros when they are all equal)."""
    if not cand.any():
        return np.zeros_like(values)
    lo, hi = values[cand].min(), values[cand].max()
    return (values - lo) / (hi - lo) if hi - lo > 1e-12 else np.zeros_like(values)


def gbdt_weights(blend: Any) -> np.ndarray:
    """Each component's share of a ``gbdt`` blend's total split gain, over its normalised,
    raw and rank features (:func:`recommend.hybrid.ranker.design_matrix`)."""
    c = len(blend.names)
    gain = np.asarray(blend.booster.feature_importance(importance_type="gain"), np.float64)
    per = gain[:c] + gain[c:2 * c] + gain[2 * c:3 * c]
    return per / per.sum() if per.sum() > 0 else np.full(c, 1.0 / c)


def find_audience(model: HybridModel, item_id: str, n: int, *, explain: bool = True,
                  influencers: frozenset[str] = frozenset()) -> Audience:
    """The ``n`` users most likely to take ``item_id`` next (module docstring)."""
    graph = model.graph
    i = graph.index(item_id)
    scores, parts, cand, method = audience_scores(model, i)
    top = top_users(scores, n, activity(model))
    users = [graph.node_id("user", int(u)) for u in top]
    names = part_names(model)
    privacy = Privacy.from_config(model.config)
    members = []
    for u, uid in zip(top.tolist(), users, strict=True):
        part = {n_: float(v) for n_, v in zip(names, parts[u], strict=True)}
        shown, withheld = (marketer_paths(model, uid, item_id, part, privacy, influencers)
                           if explain else ([], ()))
        members.append(AudienceMember(uid, float(scores[u]), part, shown, withheld))
    summary = summarise(graph, top, min_people=privacy.min_people, among=np.flatnonzero(cand))
    return Audience(item_id, members, int(cand.sum()), summary, method)


def activity(model: HybridModel) -> np.ndarray:
    """How many products each graph user has seen."""
    return model.history_sizes(np.arange(model.graph.num_nodes("user")))


def top_users(scores: np.ndarray, n: int, activity: np.ndarray | None = None) -> np.ndarray:
    """Indices of the ``n`` best finite scores, best first; ties (users without evidence all
    score 0) go to the more active users (``activity``: products seen), then by index."""
    ok = np.flatnonzero(np.isfinite(scores))
    if len(ok) > n:
        nth = np.partition(-scores[ok], n - 1)[n - 1]
        ok = ok[-scores[ok] <= nth]  # the n best and everyone tied with the last of them
    act = np.zeros(len(ok)) if activity is None else activity[ok]
    return ok[np.lexsort((ok, -act, -scores[ok]))][:n]


def marketer_paths(model: HybridModel, user_id: str, item_id: str, parts: dict[str, float],
                   privacy: Privacy, influencers: frozenset[str]
                   ) -> tuple[list[ExplainedPath], tuple[str, ...]]:
    """The paths carrying ``item_id``'s graph and social scores for ``user_id`` that a
    marketer may be shown (best share first, at most the config's ``paths.max_paths``), and the
    kinds of those withheld (module docstring)."""
    from recommend.paths.sentences import render_path

    graph = model.graph
    demographic = demographic_ids(graph)
    found: list[tuple[float, str, Any]] = []
    for name in PATH_COMPONENTS:
        comp = model.components.get(name)
        if comp is None or parts.get(name, 0.0) <= 0:
            continue
        paths = comp.explained_paths(graph, user_id, [item_id],
                                     max_paths=model.config.paths.max_paths, privacy=privacy)[0]
        found += [(parts[name] * p.contribution, name, p) for p in paths]
    found.sort(key=lambda e: -e[0])
    shown, withheld = [], []
    for share, name, p in found:
        if private_to_marketer(graph, user_id, p.edges, privacy, demographic):
            withheld.append(p.metapath)
        elif len(shown) < model.config.paths.max_paths:
            text = render_path(graph, p.nodes, p.edges, influencers=influencers,
                               first_person=False)
            shown.append(ExplainedPath(p.nodes, p.edges, text, name, p.metapath, share))
    total = sum(p.contribution for p in shown)
    shown = [ExplainedPath(p.nodes, p.edges, p.text, p.component, p.metapath,
                           p.contribution / total if total > 0 else 0.0) for p in shown]
    withheld += [kind for name, kind in HISTORY_KINDS.items() if parts.get(name, 0.0) > 0]
    return shown, tuple(dict.fromkeys(w for w in withheld if w))


def private_to_marketer(graph: KnowledgeGraph, user_id: str, edges: Any, privacy: Privacy,
                        demographic: frozenset[str]) -> bool:
    """Whether a path about ``user_id`` shows anything a third party may not see: what the
    recommender's rules forbid the member to be shown, or the member's own personal acts."""
    if violations(graph, user_id, edges, min_people=privacy.min_people,
                  demographic=demographic):
        return True
    return any(rel in PERSONAL_RELATIONS and user_id in (src, dst) for src, rel, dst in edges)
