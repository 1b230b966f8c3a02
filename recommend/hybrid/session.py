"""The ``session`` component: what people took next, soon after what this user took last.

Wraps :func:`cf.session.transition_matrix` over the graph's user -> product events (each
pair's latest time; with the post tier among the fit's resolved ``split.target_relations``,
also the products named by the posts a user engaged with, at the engagement's time:
:func:`kg.interactions.learned_relations`): ``scores = history @ C`` with the
recency-weighted history of :func:`kg.interactions.history_matrix`, so new events count at
once. Graphs without event times have no such evidence (:meth:`SessionComponent.fit`
returns None). It
keeps the window and lag it counted under: its explanations show that very hop
(:meth:`SessionComponent.evidence_relation`, :mod:`recommend.paths.sequence`).
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from kg.atomic import atomic_write_bytes
from kg.interactions import NO_TIME, history_matrix, latest_times, learned_relations
from recommend.hybrid.components import csr_row, history_times
from recommend.hybrid.item_cells import history_split, matrix_column, one_product_scores
from recommend.paths.last_step import walk_last
from recommend.paths.listed_walks import list_walks, listed_last
from recommend.paths.walks import walk_start

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.hybrid.candidates import Scores
    from recommend.hybrid.component import FitShared
    from recommend.hybrid.config import HybridConfig

SESSION_FILE = "session_transitions.npz"
#: Up to this many users, :meth:`SessionComponent.candidates` walks each history row.
WALKED_USERS = 8


class SessionComponent:
    """Row-normalised ``j -> i`` transitions within a time window, scored from the history."""

    name = "session"
    cold = False

    def __init__(self, transitions: sp.csr_matrix, graph: KnowledgeGraph, *,
                 recency_tau: float | None, window: float, max_lag: int,
                 targets: Sequence[str] = ()) -> None:
        self.transitions_ = transitions.tocsr()
        self.recency_tau, self.targets = recency_tau, tuple(targets)
        self.window, self.max_lag = float(window), int(max_lag)
        self.refresh(graph)

    @classmethod
    def fit(cls, graph: KnowledgeGraph, *, window: float, max_lag: int,
            recency_tau: float | None, targets: Sequence[str] = ()) -> SessionComponent | None:
        """Count the graph's transitions (None: no two timed events fall within ``window``)
        over the pairs a model judged on ``targets`` learns from."""
        from cf.session import transition_matrix

        latest = latest_times(graph, learned_relations(targets))
        timed = latest.data > NO_TIME
        n = graph.num_nodes("product")
        c = transition_matrix(latest.row[timed], latest.col[timed],
                              latest.data[timed].astype(np.float64), n,
                              window=window, max_lag=max_lag)
        return cls(c, graph, recency_tau=recency_tau, window=window, max_lag=max_lag,
                   targets=targets) if c.nnz else None

    @classmethod
    def from_graph(cls, graph: KnowledgeGraph, config: HybridConfig,
                   shared: FitShared) -> SessionComponent | None:
        """At the configured window, lag and recency, on the configured targets (:meth:`fit`)."""
        return cls.fit(graph, window=config.session.window, max_lag=config.session.max_lag,
                       recency_tau=config.session.recency_tau,
                       targets=config.split.target_relations)

    def refresh(self, graph: KnowledgeGraph, delta: object = None) -> None:
        """Take the graph's current histories (products added since fitting: no transitions;
        a ``delta``'s rows are already in the graph's cached histories)."""
        self.n_items = graph.num_nodes("product")
        self.history_ = history_matrix(graph, self.recency_tau, self.targets).tocsr()
        fitted = self.transitions_.shape[0]
        if fitted < self.n_items:
            self.transitions_ = sp.block_diag(
                (self.transitions_, sp.csr_matrix((self.n_items - fitted,) * 2))).tocsr()

    def scores(self, users: np.ndarray) -> np.ndarray:
        out = np.zeros((len(users), self.n_items))
        known = users < self.history_.shape[0]
        if known.any():
            out[known] = (self.history_[users[known]] @ self.transitions_).toarray()
        return out

    def candidates(self, users: np.ndarray, columns: np.ndarray) -> Scores:
        """``scores(users)[:, columns]``; up to :data:`WALKED_USERS` users (a request) each
        history row gathers just its products' transitions rows (the sums scipy's product
        makes, in its order, without its per-call cost)."""
        if len(users) > WALKED_USERS:
            return self.scores(users)[:, columns]
        out = np.zeros((len(users), len(columns)))
        every = len(columns) == self.n_items  # every product: written in place
        row = np.zeros(self.n_items)
        steps = (self.history_, self.transitions_)
        for r, u in enumerate(users.tolist()):
            if u < self.history_.shape[0]:
                # made at load where listed (:mod:`recommend.paths.listed_walks`): the same walk
                idx, val, _ = (listed_last(steps, u)
                               or walk_last(walk_start(self.history_, u), self.transitions_))
                if every:
                    out[r, idx] = val
                    continue
                row[idx] = val
                out[r] = row[columns]
                row[idx] = 0.0
        return out

    def item_column(self, i: int, n_users: int) -> np.ndarray:
        """Every user's score of product ``i``: the histories times one transitions column."""
        if i >= self.transitions_.shape[1]:
            return np.zeros(n_users)
        return history_times(self.history_, matrix_column(self.transitions_, i), n_users)

    def linear_history(self, u: int) -> sp.csr_matrix | None:
        """User ``u``'s recency-weighted history (1 x n products), in which the score is
        linear (None: a user unknown to the graph)."""
        return csr_row(self.history_, u) if u < self.history_.shape[0] else None

    def history_terms(self, u: int, items: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """:meth:`linear_history` split into one-product terms at products ``items`` (the
        user's products, the terms, their sums), read from the history row and the
        transitions: the bits :meth:`history_scores` of the one-product rows gives. None for
        a user unknown to the graph, or transitions storing a cell twice."""
        if u >= self.history_.shape[0]:
            return None
        lo, hi = self.history_.indptr[u], self.history_.indptr[u + 1]
        k, w = self.history_.indices[lo:hi], self.history_.data[lo:hi]
        return history_split(k, k, w, self.transitions_, np.asarray(items, np.int64))

    def history_scores(self, histories: sp.csr_matrix, items: np.ndarray) -> np.ndarray:
        """The scores of fresh histories (rows x products) at products ``items``: only the
        transitions rows of the histories' products are sliced (a request's few), never a
        column slice of the whole matrix."""
        h = histories.tocsr()
        single = one_product_scores(h, self.transitions_, items)
        if single is not None:  # one product per history (a request's evidence)
            return single
        took = np.unique(h.indices)
        took = took[took < self.transitions_.shape[0]]
        return (h[:, took] @ self.transitions_[took][:, items]).toarray()

    def evidence_relation(self) -> str:
        """The relation of the hop ``A -> B`` that this component counted: B within its
        window and lag after A (:class:`recommend.paths.sequence.SequenceHop`)."""
        from recommend.paths.sequence import SequenceHop

        return SequenceHop(self.window, self.max_lag).relation

    def save(self, folder: Path) -> list[Path]:
        c = self.transitions_
        buf = io.BytesIO()
        np.savez(buf, data=c.data, indices=c.indices, indptr=c.indptr,
                 shape=np.array(c.shape), meta=np.array(json.dumps(
                     {"recency_tau": self.recency_tau, "window": self.window,
                      "max_lag": self.max_lag})))
        atomic_write_bytes(folder / SESSION_FILE, buf.getvalue())
        return [folder / SESSION_FILE]

    @classmethod
    def load(cls, folder: Path, graph: KnowledgeGraph, config: HybridConfig) -> SessionComponent:
        with np.load(folder / SESSION_FILE, allow_pickle=False) as z:
            c = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
            meta = json.loads(str(z["meta"]))
        # an artifact saved before the window was kept: its config holds the fitted one
        comp = cls(c, graph, recency_tau=meta["recency_tau"],
                   window=meta.get("window", config.session.window),
                   max_lag=meta.get("max_lag", config.session.max_lag),
                   targets=config.split.target_relations)
        list_walks([(comp.history_, comp.transitions_)], comp.history_.shape[0])  # for serving
        return comp
