"""How good is the default build on this data? A hold-out test of the whole hybrid.

:func:`evaluate_graph` cuts a test hold-out from an enriched graph with the same
leak-free split the build validates with (:func:`recommend.hybrid.split.holdout_split`:
``"auto"``: by time when the timestamps allow it, else at random; every trace of a
held-out pair hidden), fits the hybrid with the given config (the defaults: what ``shopgraph build``
serves) on the rest, and scores on the held-out products:

- the served hybrid, each of its components alone, and two baselines on the same
  training interactions: popularity and item-kNN (cosine, K = 200, as implicit's). With
  the post tier as a target (:data:`kg.interactions.POST_TIER`: data whose events are all
  on posts), the baselines learn from what the tier is made of: the products named by the
  posts each user engaged with (:func:`kg.interactions.training_matrix`);
- NDCG / recall / HR at ``k``, over the users with something held out;
- the share of recommendations explained by a stored user -> item path (audited on a
  sample of users through a :class:`recommend.recommender.Recommender` over the model).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from kg.interactions import latest_times, training_matrix
from recommend.evaluate import metrics as m
from recommend.hybrid.config import HybridConfig
from recommend.hybrid.split import HoldoutMode, holdout_split, times_usable
from recommend.hybrid.targets import resolve_targets

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.hybrid.encoders import TextEncoder
    from recommend.hybrid.model import HybridModel

_BATCH = 256


@dataclass
class Evaluation:
    """Figures of every ranker on one hold-out, and how the hold-out was cut; ``per_user``:
    each row's NDCG@k per test user (``test_users``, in order), whose mean is the row's NDCG
    (for paired comparisons: ``bench/paired.py``; not in :meth:`to_json`)."""

    split: dict[str, Any]
    users: int
    rows: dict[str, dict[str, float]] = field(default_factory=dict)
    explained: float = 0.0
    audited_users: int = 0
    fit_seconds: float = 0.0
    model_info: dict[str, Any] = field(default_factory=dict)
    test_users: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)
    per_user: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The figures as plain JSON values (without the per-user arrays)."""
        out = asdict(replace(self, per_user={}))
        del out["per_user"], out["test_users"]
        return out

    def table(self, k: int = 10) -> str:
        """The rows as an aligned text table."""
        cols = (f"NDCG@{k}", f"R@{k}", f"HR@{k}")
        lines = [f"{'ranker':24s} " + " ".join(f"{c:>8s}" for c in cols)]
        for name, row in self.rows.items():
            lines.append(f"{name:24s} " + " ".join(f"{row[c]:8.4f}" for c in cols))
        return "\n".join(lines)


def ranking_figures(recs: np.ndarray, relevant: sp.csr_matrix, k: int) -> dict[str, float]:
    """NDCG, recall and hit rate at ``k`` of item-index ``recs`` (-1 pads) per row."""
    return {f"NDCG@{k}": m.ndcg_at_k(recs, relevant, k),
            f"R@{k}": m.recall_at_k(recs, relevant, k),
            f"HR@{k}": m.hit_rate_at_k(recs, relevant, k)}


def evaluate_graph(graph: KnowledgeGraph, config: HybridConfig | None = None, *,
                   mode: HoldoutMode = "auto", fraction: float = 0.2, min_user_items: int = 2,
                   seed: int = 0, k: int = 10, audit_users: int = 100,
                   encoder: TextEncoder | None = None,
                   log: Callable[[str], None] | None = None) -> Evaluation:
    """Hold out, fit the hybrid on the rest, and score every ranker (module docstring);
    ``encoder`` as in :func:`recommend.hybrid.fit.fit_hybrid` (one shared by several
    evaluations embeds the catalogue once when it caches)."""
    from recommend.hybrid.fit import fit_hybrid

    config = config or HybridConfig()
    say = log or (lambda _msg: None)
    targets, record = resolve_targets(graph, config.split.target_relations, min_user_items)
    if mode == "auto":  # a test is one protocol: by time when the times allow it
        times = latest_times(graph, targets)
        mode = "time" if times_usable(times, min_user_items)[0] else "random"
    say(f"cutting the test hold-out ({mode}, from {', '.join(targets)})")
    split = holdout_split(graph, target_relations=targets, fraction=fraction,
                          min_user_items=min_user_items, seed=seed + 1000,
                          derived=config.split.derived_relations, mode=mode)
    split.report["targets"] = record
    users = split.users
    result = Evaluation(split.report, len(users), test_users=users)
    if len(users) == 0:
        return result
    say(f"fitting the hybrid on the rest ({split.report['held_pairs']} pairs held out)")
    began = time.perf_counter()
    model = fit_hybrid(split.train_graph, config, encoder=encoder, log=log)
    result.fit_seconds = round(time.perf_counter() - began, 3)
    result.model_info = model.info
    relevant = split.relevant[users]

    def score(name: str, recs: np.ndarray) -> None:
        result.rows[name] = ranking_figures(recs, relevant, k)
        result.per_user[name] = m.ndcg_per_user(recs, relevant, k)

    score("hybrid", model.top_k(users, k))
    for name in model.components:
        score(f"{name} alone", _alone(model, name).top_k(users, k))
    for name, recs in baselines(model, targets, users, k).items():
        score(name, recs)
    say("auditing explanations")
    result.explained, result.audited_users = explained_share(model, users, k, audit_users, seed)
    return result


def _alone(model: HybridModel, name: str) -> HybridModel:
    """``model`` serving component ``name`` alone."""
    from recommend.hybrid.blend import Blend
    from recommend.hybrid.model import HybridModel

    return HybridModel(model.graph, model.config, {name: model.components[name]},
                       Blend((name,), np.ones(1)))


def baselines(model: HybridModel, targets: Sequence[str], users: np.ndarray, k: int
              ) -> dict[str, np.ndarray]:
    """Top ``k`` of popularity and of item-kNN (cosine, K = 200) on the model's training
    interactions for ``targets`` (:func:`kg.interactions.training_matrix`), among described
    products the user has not seen (for ``targets``: :func:`kg.interactions.seen_matrix`)."""
    from cf.item_knn import NeighbourItemKNN
    from recommend.hybrid.components import CfComponent
    from recommend.hybrid.tune import alone_top_k

    graph = model.graph
    history = training_matrix(graph, targets)
    history.data[:] = 1.0  # 0/1, as "seen" is (a rating summing to 0 or less included)
    data, columns = CfComponent.interactions(graph, targets)
    knn = NeighbourItemKNN(weighting="cosine", top_k=200).fit(data)
    return {"popularity baseline": alone_top_k(_Baseline(history), graph, users, k, targets),
            "item-kNN baseline": alone_top_k(_Baseline(history, knn, columns), graph, users,
                                             k, targets)}


@dataclass
class _Baseline:
    """A baseline scoring users from fixed 0/1 histories (users x products): a history
    model over the product indices ``columns``, or without one, log(1 + users per product)."""

    history: sp.csr_matrix
    model: Any = None
    columns: np.ndarray | None = None

    def scores(self, users: np.ndarray) -> np.ndarray:
        n = self.history.shape[1]
        if self.model is None or self.columns is None:
            popular = np.log1p(np.asarray(self.history.sum(axis=0)).ravel())
            return np.broadcast_to(popular, (len(users), n)).copy()
        out = np.zeros((len(users), n))
        rows = self.history[users][:, self.columns].astype(np.float32).tocsr()
        out[:, self.columns] = self.model.score_history(rows)
        return out


def explained_share(model: HybridModel, users: np.ndarray, k: int, n_users: int,
                    seed: int) -> tuple[float, int]:
    """Share of the top ``k`` of ``n_users`` sampled users with a valid stored path."""
    from recommend.hybrid.audit import audit_explanations
    from recommend.recommender import Recommender

    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(users, min(n_users, len(users)), replace=False))
    rec = Recommender(model)
    ids = [model.graph.node_id("user", int(u)) for u in sample]
    audit = audit_explanations(rec, ids, k=k, fidelity_every=10**9)
    return round(audit.with_valid_path, 4), len(ids)
