"""GraphPathScorer: a weighted sum of meta-path scores, weights fitted on validation NDCG@10.

``score(u, i) = sum_k w_k M_k[u, i]`` with ``M_k`` the (row-normalised by default) meta-path
matrices of :mod:`recommend.paths.metapaths`. Weights are non-negative and found by coordinate
ascent: each weight in turn is multiplied by the factors of ``blend.grid`` (0 switches a
meta-path off) and the change is kept when NDCG@10 on the validation users improves (seen
items excluded), starting from the better of equal weights and the best single meta-path.
To keep fitting fast on big graphs the objective ranks, for at most ``split.max_fit_users``
users, the union of every meta-path's top ``candidates_per_path`` items: an item outside all
of those lists almost never reaches a weighted top 10. Scoring itself is exact and batched
over users.

>>> from kg.graph import KnowledgeGraph
>>> g = KnowledgeGraph()
>>> for p in "ABC":
...     _ = g.add_node(f"product:{p}", title=p)
>>> others = [f"user:{k}" for k in range(2, 7)]
>>> g.add_edges("purchased", ["user:1", *others, *others], ["product:A"] * 6 + ["product:B"] * 5)
>>> scorer = GraphPathScorer().fit(g, {"user:1": {"product:B"}})
>>> [g.node_id("product", int(i)) for i in scorer.top_n([0], 1).items[0]]
['product:B']
>>> scorer.explain("user:1", "product:B")[0].text
'You bought A; 5 people who bought A also bought B'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import scipy.sparse as sp
from tqdm.auto import tqdm

from recommend.evaluate.metrics import ndcg_at_k
from recommend.paths.metapaths import (
    MetaPath,
    Normalize,
    Step,
    available_metapaths,
    chain,
    shared_steps,
)
from recommend.paths.score_row import add_paths

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.paths.explain import Path
    from recommend.paths.privacy import Privacy
    from recommend.paths.social import KolWeights

__all__ = ["GraphPathScorer", "TopN"]


@dataclass(frozen=True)
class TopN:
    """Top items per user: product indices (-1 = none) and their graph scores, best first."""

    users: np.ndarray
    items: np.ndarray
    scores: np.ndarray


#: Up to this many users, :meth:`GraphPathScorer.score_dense` pushes dense rows.
DENSE_ROWS_USERS = 8


class GraphPathScorer:
    """Meta-path scorer; see the module docstring."""

    def __init__(
        self,
        metapaths: Sequence[MetaPath] | None = None,
        *,
        normalize: Normalize = "row",
        seen_relations: tuple[str, ...] = ("purchased", "rated"),
        k: int = 10,
        grid: tuple[float, ...] = (0.0, 0.25, 0.5, 2.0, 4.0),
        n_rounds: int = 2,
        max_fit_users: int = 2000,
        candidates_per_path: int = 100,
        batch_size: int = 512,
        random_state: int = 0,
        progress: bool = False,
    ) -> None:
        self.metapaths = metapaths
        self.normalize = normalize
        self.seen_relations = seen_relations
        self.k = k
        self.grid = grid
        self.n_rounds = n_rounds
        self.max_fit_users = max_fit_users
        self.candidates_per_path = candidates_per_path
        self.batch_size = batch_size
        self.random_state = random_state
        self.progress = progress

    # ----- fitting -----
    def prepare(self, graph: KnowledgeGraph, weights: Mapping[str, float] | None = None
                ) -> GraphPathScorer:
        """Compile the graph's meta-paths without fitting (weights given, or all 1)."""
        self.graph_ = graph
        self.metapaths_ = available_metapaths(graph, self.metapaths)
        if not self.metapaths_:
            raise ValueError("no meta-path of the catalogue has edges in this graph")
        names = [mp.name for mp in self.metapaths_]
        if len(set(names)) != len(names):
            raise ValueError(f"meta-path names must be unique: {sorted(names)}")
        self.kol_: KolWeights | None = None
        if any(s.reweight == "kol" for mp in self.metapaths_ for s in mp.steps):
            from recommend.paths.social import kol_weights

            self.kol_ = kol_weights(graph)
        kol = None if self.kol_ is None else self.kol_.weights
        self.steps_ = shared_steps(graph, self.metapaths_, self.normalize, kol)
        self.seen_ = self._seen(graph)
        self.allowed_ = graph.described("product")
        w = weights or {}
        self.weights_ = np.array([float(w.get(mp.name, 1.0)) for mp in self.metapaths_])
        if (self.weights_ < 0).any():
            raise ValueError("meta-path weights must be non-negative")
        return self

    def fit(
        self,
        graph: KnowledgeGraph,
        validation: Mapping[str, Iterable[str]] | sp.spmatrix,
    ) -> GraphPathScorer:
        """Learn non-negative per-meta-path weights maximising validation NDCG@k.

        ``validation`` maps user ids to held-out product ids (ids unknown to the graph are
        ignored), or is a (users x products) matrix in graph index order.
        """
        self.prepare(graph)
        relevant = self._relevant(graph, validation)
        users = np.flatnonzero(np.diff(relevant.indptr))
        if users.size == 0:
            raise ValueError("validation has no user with a held-out product in the graph")
        if users.size > self.max_fit_users:
            rng = np.random.default_rng(self.random_state)
            users = np.sort(rng.choice(users, self.max_fit_users, replace=False))
        objective = self._objective(users, relevant[users])
        eye = np.eye(len(self.metapaths_))
        self.single_ndcg_ = {mp.name: objective(eye[j]) for j, mp in enumerate(self.metapaths_)}
        # start from the better of "all equal" and the best single meta-path
        w = np.ones(len(self.metapaths_))
        best = objective(w)
        j_best = int(np.argmax(list(self.single_ndcg_.values())))
        if self.single_ndcg_[self.metapaths_[j_best].name] > best:
            w, best = eye[j_best].copy(), self.single_ndcg_[self.metapaths_[j_best].name]
        for _ in range(self.n_rounds):
            improved = False
            for j in range(len(w)):
                base = w[j] if w[j] > 0 else max(w[w > 0].mean(), 1e-3) if (w > 0).any() else 1
                for g in self.grid:
                    cand = w.copy()
                    cand[j] = base * g
                    if not cand.any() or np.isclose(cand[j], w[j]):
                        continue
                    value = objective(cand)
                    if value > best + 1e-9:
                        best, w, improved = value, cand, True
            if not improved:
                break
        self.weights_ = w / w.sum()
        self.validation_ndcg_ = best
        return self

    def _seen(self, graph: KnowledgeGraph) -> sp.csr_matrix:
        shape = (graph.num_nodes("user"), graph.num_nodes("product"))
        seen = sp.csr_matrix(shape, dtype=np.float64)
        for rel in self.seen_relations:
            if graph.num_edges(rel):
                seen = seen + graph.matrix(rel, dst_type="product", src_type="user")
        return (seen != 0).astype(np.float64).tocsr()

    @staticmethod
    def _relevant(
        graph: KnowledgeGraph, validation: Mapping[str, Iterable[str]] | sp.spmatrix
    ) -> sp.csr_matrix:
        shape = (graph.num_nodes("user"), graph.num_nodes("product"))
        if sp.issparse(validation):
            m = sp.csr_matrix(validation)
            if m.shape != shape:
                raise ValueError(f"validation matrix is {m.shape}, the graph needs {shape}")
            return (m != 0).astype(np.float64).tocsr()
        rows, cols = [], []
        for user, items in validation.items():
            if not graph.has_node(user):
                continue
            u = graph.index(user)
            for item in items:
                if graph.has_node(item):
                    rows.append(u)
                    cols.append(graph.index(item))
        data = np.ones(len(rows))
        return (sp.csr_matrix((data, (rows, cols)), shape=shape) != 0).astype(np.float64)

    def _masked(self, m: sp.csr_matrix, users: np.ndarray) -> sp.csr_matrix:
        """Scores with seen and undescribed products removed."""
        m = (m - m.multiply(self.seen_[users])) @ sp.diags(self.allowed_.astype(np.float64))
        m = sp.csr_matrix(m)
        m.eliminate_zeros()
        return m

    def _objective(
        self, users: np.ndarray, relevant: sp.csr_matrix
    ) -> Callable[[np.ndarray], float]:
        """NDCG@k of a weight vector over a fixed candidate set (see the module docstring)."""
        mats = [self._masked(m, users) for m in self._path_rows(users)]
        rows_l, cols_l = [], []
        for m in mats:
            r, c = _top_entries(m, self.candidates_per_path)
            rows_l.append(r)
            cols_l.append(c)
        n_items = self.graph_.num_nodes("product")
        key = np.unique(np.concatenate(rows_l) * n_items + np.concatenate(cols_l))
        rows, cols = key // n_items, key % n_items
        feats = (np.stack([np.asarray(m[rows, cols]).ravel() for m in mats], axis=1) if len(rows)
                 else np.zeros((0, len(mats))))  # scipy gives a sparse matrix for no index
        counts = np.bincount(rows, minlength=len(users))
        width = max(int(counts.max()), 1)
        starts = np.r_[0, np.cumsum(counts)[:-1]]
        pos = np.arange(len(rows)) - np.repeat(starts, counts)
        pad = np.full((len(users), width), len(rows), np.int64)
        pad[rows, pos] = np.arange(len(rows))
        items = np.r_[cols, -1][pad]
        k = self.k

        def objective(w: np.ndarray) -> float:
            s = np.r_[feats @ w, 0.0][pad]
            recs = _top_k(s, items, k)[0]
            return ndcg_at_k(recs, relevant, k)

        return objective

    def _path_rows(self, users: np.ndarray) -> list[sp.csr_matrix]:
        """Each meta-path's (users x products) rows."""
        return [chain(self.steps_[mp.name][0][users], self.steps_[mp.name][1:])
                for mp in self.metapaths_]

    # ----- scoring -----
    def score(self, user_indices: Sequence[int] | np.ndarray) -> sp.csr_matrix:
        """(users x products) CSR of graph scores (seen items included)."""
        users = np.asarray(user_indices, np.int64)
        out = sp.csr_matrix((len(users), self.graph_.num_nodes("product")))
        for w, mp in zip(self.weights_, self.metapaths_, strict=True):
            if w > 0:  # a meta-path weighted 0 is not computed at all
                steps = self.steps_[mp.name]
                out = out + w * chain(steps[0][users], steps[1:])
        return out.tocsr()

    def score_dense(self, user_indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """:meth:`score` as a dense array. Up to :data:`DENSE_ROWS_USERS` users (a request)
        each row walks the steps (:func:`~recommend.paths.walks.walk_on`), cheaper than
        sparse products; for more,
        whose dense intermediates would grow with users x nodes, the sparse products."""
        users = np.asarray(user_indices, np.int64)
        if len(users) > DENSE_ROWS_USERS:
            return self.score(users).toarray()
        out = np.zeros((len(users), self.graph_.num_nodes("product")))
        paths = [(self.steps_[mp.name], float(w))
                 for w, mp in zip(self.weights_, self.metapaths_, strict=True) if w > 0]
        for r, user in enumerate(users.tolist()):
            add_paths(paths, user, out[r])  # (out[r]: a view, written in place)
        return out

    @overload
    def parts(self, user: str, items: str) -> dict[str, float]: ...
    @overload
    def parts(self, user: str, items: Sequence[str]) -> dict[str, np.ndarray]: ...

    def parts(self, user: str, items: str | Sequence[str]) -> dict[str, Any]:
        """Weighted score of each meta-path (they sum to the graph score) for one user.

        One product id gives floats; a sequence of ids gives one array per meta-path.
        """
        one = isinstance(items, str)
        cols = [self.graph_.index(i) for i in ([items] if one else items)]
        rows = self._path_rows(np.array([self.graph_.index(user)]))
        out = {mp.name: w * m[[0]][:, cols].toarray().ravel()
               for mp, w, m in zip(self.metapaths_, self.weights_, rows, strict=True) if w > 0}
        return {k: float(v[0]) for k, v in out.items()} if one else out

    def top_n(self, users: Sequence[int] | np.ndarray, n: int = 10, *,
              exclude_seen: bool = True) -> TopN:
        """Top ``n`` described products per user index (items with score 0 are left out)."""
        users = np.asarray(users, np.int64)
        items = np.full((len(users), n), -1, np.int64)
        scores = np.zeros((len(users), n))
        batches = range(0, len(users), self.batch_size)
        cols = np.flatnonzero(self.allowed_)
        for a in tqdm(batches, desc="graph scores", disable=not self.progress, leave=False):
            batch = users[a:a + self.batch_size]
            # only described products become dense (Amazon graphs hold ~10x more endpoints)
            dense = self.score(batch)[:, cols].toarray()
            if exclude_seen:
                dense[self.seen_[batch][:, cols].toarray() > 0] = 0.0
            top, val = _top_k(dense, np.broadcast_to(cols, dense.shape), n)
            items[a:a + len(batch), : top.shape[1]] = top
            scores[a:a + len(batch), : top.shape[1]] = val
        return TopN(users, items, scores)

    def explain(self, user: str, item: str, *, max_paths: int = 3,
                privacy: Privacy | None = None, group: bool = False) -> list[Path]:
        """Up to ``max_paths`` paths that carry ``item``'s graph score for ``user``, none
        showing what ``privacy`` (default :class:`Privacy`) forbids (``group``: one path per
        shared entity, as the recommender shows them, :func:`~recommend.paths.explain.
        explain_paths_many`)."""
        from recommend.paths.explain import explain_paths_many

        return explain_paths_many(
            self.graph_, user, [item], self.metapaths_, self.weights_,
            max_paths=max_paths, steps=self.steps_,
            influencers=set() if self.kol_ is None else self.kol_.influencers(),
            privacy=privacy, group=group,
        )[0]

    # ----- state -----
    def state(self) -> dict[str, Any]:
        """JSON-able fitted state: the meta-paths and their weights."""
        return {
            "normalize": self.normalize,
            "metapaths": [
                {"name": mp.name, "weight": float(w),
                 "steps": [[s.relation, s.direction, s.node_type, s.reweight, s.min_people,
                            s.demographics] for s in mp.steps]}
                for mp, w in zip(self.metapaths_, self.weights_, strict=True)
            ],
        }

    @classmethod
    def from_state(cls, graph: KnowledgeGraph, state: Mapping[str, Any]) -> GraphPathScorer:
        """A scorer over ``graph`` with the meta-paths and weights of :meth:`state`."""
        mps = [MetaPath(d["name"], tuple(Step(*s) for s in d["steps"]))
               for d in state["metapaths"]]
        scorer = cls(mps, normalize=state["normalize"])
        return scorer.prepare(graph, {d["name"]: d["weight"] for d in state["metapaths"]})


def _top_entries(m: sp.csr_matrix, c: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of each row's ``c`` largest stored entries."""
    rows, cols = [], []
    for r in range(m.shape[0]):
        lo, hi = m.indptr[r], m.indptr[r + 1]
        if hi == lo:
            continue
        data = m.data[lo:hi]
        take = np.argpartition(-data, c)[:c] if hi - lo > c else np.arange(hi - lo)
        rows.append(np.full(len(take), r))
        cols.append(m.indices[lo:hi][take])
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(rows).astype(np.int64), np.concatenate(cols).astype(np.int64)


def _top_k(scores: np.ndarray, items: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Best ``k`` items per row by score (score <= 0 -> item -1), best first."""
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    val = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-val, axis=1, kind="stable")
    part = np.take_along_axis(part, order, axis=1)
    val = np.take_along_axis(val, order, axis=1)
    top = np.take_along_axis(items, part, axis=1)
    return np.where(val > 0, top, -1), np.where(val > 0, val, 0.0)
