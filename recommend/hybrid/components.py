"""The ``cf`` and ``popularity`` components (the contract: :mod:`recommend.hybrid.component`).

- ``cf``: item-kNN, EASE or weighted ALS (:mod:`cf`) on the user x product interactions;
- ``popularity``: log(1 + distinct users who reached the product);
- both from the pairs of the fit's resolved ``split.target_relations``: with the post tier,
  also the products of the posts a user engaged with (:func:`kg.interactions.seen_matrix`).

The others: ``session`` (:mod:`recommend.hybrid.session`), ``content``
(:mod:`recommend.hybrid.content_component`), ``graph`` and ``social``
(:mod:`recommend.hybrid.path_component`). :func:`incremental_rows` is the test of an
incremental refresh that cf, popularity and content share.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from kg.atomic import atomic_write_bytes
from kg.delta import splice_rows
from kg.interactions import history_matrix, log_strength, seen_matrix, training_matrix
from recommend.hybrid.candidates import ColumnRow, RowOrder, SharedRow, take_columns
from recommend.hybrid.item_cells import history_split, matrix_column, one_product_scores

if TYPE_CHECKING:
    from cf.base import Recommender as CfRecommender
    from kg.delta import GraphDelta
    from kg.graph import KnowledgeGraph
    from recommend.hybrid.candidates import Scores
    from recommend.hybrid.component import FitShared
    from recommend.hybrid.config import HybridConfig

CF_FILE = "cf_model.npz"
CF_COLUMNS_FILE = "cf_columns.npz"
#: CF models that score history rows (:meth:`cf.base.HistoryRecommender.score_history`).
HISTORY_MODELS = ("EASE", "NeighbourItemKNN")


def csr_row(m: sp.csr_matrix, r: int) -> sp.csr_matrix:
    """Row ``r`` of ``m`` as a (1 x n) CSR over views of its arrays (read only), without
    scipy's row slicing, which copies and checks at several times the cost."""
    lo, hi = m.indptr[r], m.indptr[r + 1]
    return sp.csr_matrix((m.data[lo:hi], m.indices[lo:hi], np.array([0, hi - lo])),
                         shape=(1, m.shape[1]), copy=False)


def history_times(history: sp.csr_matrix, column: np.ndarray, n_users: int) -> np.ndarray:
    """``history @ column`` for ``n_users`` users (users past the history: 0)."""
    out = np.zeros(n_users)
    out[: history.shape[0]] = history @ column
    return out


def incremental_rows(delta: GraphDelta | None, current: Any, graph: KnowledgeGraph, *,
               axis: int | None = 0) -> bool:
    """Whether ``current`` (a per-user table, or with ``axis=None`` any state) may be
    updated in the rows of ``delta``'s users only: the delta added edges but no node, and
    the state exists (with one row per user of ``graph``)."""
    if delta is None or not delta.incremental or current is None:
        return False
    return axis is None or current.shape[0] == graph.num_nodes("user")


def untuned_kind(config: HybridConfig, n_active: int) -> str:
    """The CF family a config names without tuning: its ``cf.model``, and for ``"auto"``
    EASE when at most ``cf.ease_max_items`` products have interactions, else item-kNN."""
    if config.cf.model != "auto":
        return config.cf.model
    return "ease" if n_active <= config.cf.ease_max_items else "itemknn"


class CfComponent:
    """A :mod:`cf` model over the graph's interactions: item-kNN, EASE or weighted ALS.

    The model is fitted over the products someone interacted with (``columns_``):
    knowledge graphs hold many more product nodes (link endpoints without a catalogue
    record) than products anyone bought. History models (item-kNN, EASE) score each user's
    current history row (sparse, recency weighted with ``recency_tau``: the product met
    ``r`` products before the user's latest weighs ``exp(-r / tau)``) against their sparse
    or pruned item x item matrix, so new history counts at once; ALS scores the users it
    was fitted on by their factors and folds in the others' histories (``targets``: above).
    """

    name = "cf"
    cold = False

    def __init__(self, model: CfRecommender, graph: KnowledgeGraph, columns: np.ndarray, *,
                 recency_tau: float | None = None, targets: Sequence[str] = ()) -> None:
        self.model, self.columns_ = model, np.asarray(columns, np.int64)
        self.recency_tau, self.targets = recency_tau, tuple(targets)
        self.refresh(graph)

    @property
    def scores_history(self) -> bool:
        """Whether the model scores history rows (else factors fitted per user)."""
        return type(self.model).__name__ in HISTORY_MODELS

    @staticmethod
    def interactions(graph: KnowledgeGraph, targets: Sequence[str] = ()
                     ) -> tuple[Any, np.ndarray]:
        """The user x active-product events (for ``targets``:
        :func:`kg.interactions.training_matrix`) as :class:`cf.data.Interactions` (log
        weights), and the product indices of its columns."""
        from cf.data import Interactions

        x = log_strength(training_matrix(graph, targets))
        columns = np.flatnonzero(np.diff(x.tocsc().indptr))
        x = x[:, columns].tocsr()
        return (Interactions(x.astype(np.float32), np.arange(x.shape[0]),
                             np.arange(x.shape[1])), columns)

    @classmethod
    def fit(cls, graph: KnowledgeGraph, *, kind: str, params: dict[str, Any],
            targets: Sequence[str] = ()) -> CfComponent:
        """Fit ``kind`` ("itemknn", "ease" or "als") on the interactions for ``targets``."""
        if kind == "itemknn":
            from cf.item_knn import NeighbourItemKNN

            model: CfRecommender = NeighbourItemKNN(weighting=params["weighting"],
                                                    top_k=params["neighbours"])
        elif kind == "ease":
            from cf.ease import EASE

            model = EASE(lam=params["lam"], top_k=params["keep"], max_items=None)
        elif kind == "als":
            from cf.implicit_mf import WeightedALS

            model = WeightedALS(factors=params["factors"], iterations=params["iterations"],
                                reg=params["reg"], alpha=params["alpha"],
                                offset=params.get("offset", 1.0), seed=params["seed"])
        else:
            raise ValueError(f"cf model must be 'itemknn', 'ease' or 'als', not {kind!r}")
        data, columns = cls.interactions(graph, targets)
        return cls(model.fit(data), graph, columns, recency_tau=params.get("recency_tau"),
                   targets=targets)

    @classmethod
    def from_graph(cls, graph: KnowledgeGraph, config: HybridConfig,
                   shared: FitShared) -> CfComponent | None:
        """The configured model (``"auto"`` untuned: EASE when at most ``cf.ease_max_items``
        products have interactions, else item-kNN); None on a graph without any."""
        seen = seen_matrix(graph, targets := config.split.target_relations)
        if not seen.nnz:
            return None
        active = int((np.diff(seen.tocsc().indptr) > 0).sum())
        return cls.fit(graph, kind=untuned_kind(config, active), params=config.cf_params(),
                       targets=targets)

    def refresh(self, graph: KnowledgeGraph, delta: GraphDelta | None = None) -> None:
        """Take the graph's current histories (products added after fitting: no column)."""
        self.n_items = graph.num_nodes("product")
        self.col_of_ = np.full(self.n_items, -1, np.int64)  # product index -> model column
        self.col_of_[self.columns_] = np.arange(len(self.columns_))
        # (a ColumnRow's columns: sorted, distinct, some)
        self.listed_ = bool(len(self.columns_) and (np.diff(self.columns_) > 0).all())
        hist = history_matrix(graph, self.recency_tau, self.targets)
        if incremental_rows(delta, getattr(self, "history_", None), graph):
            users = delta.users  # type: ignore[union-attr]
            rows = hist[users][:, self.columns_].astype(np.float32).tocsr()
            hist = splice_rows(self.history_, users, rows)
        else:
            hist = hist[:, self.columns_].astype(np.float32).tocsr()
        # a history model's form, checked here once: a request scores its row unchecked
        self.history_ = self.model.checked_history(hist) if self.scores_history else hist

    def _block(self, rows: np.ndarray) -> np.ndarray:
        """(len(rows) x model columns) scores of known user indices ``rows``."""
        if self.scores_history:  # (one row, a request: a view of it, not scipy's slice)
            h = self.history_
            return self.model.score_checked(csr_row(h, rows[0]) if len(rows) == 1 else h[rows])
        # factors for the users fitted, folded-in histories for later ones
        fitted = rows < self.model.train_.n_users
        if fitted.all():
            return self.model.score_rows(rows)
        block = np.zeros((len(rows), len(self.columns_)))
        if fitted.any():
            block[fitted] = self.model.score_rows(rows[fitted])
        if (~fitted).any():
            block[~fitted] = self.model.score_history(self.history_[rows[~fitted]])
        return block

    def scores(self, users: np.ndarray) -> np.ndarray:
        out = np.zeros((len(users), self.n_items))
        known = users < self.history_.shape[0]
        if known.any():
            out[np.ix_(known, self.columns_)] = self._block(users[known])
        return out

    def candidates(self, users: np.ndarray, columns: np.ndarray) -> Scores:
        """``scores(users)[:, columns]``, the model's block gathered straight into the
        columns asked for (no row over the whole catalogue); one known user's over every
        product (a request): the block's row as it is (:class:`ColumnRow`)."""
        known = users < self.history_.shape[0]
        if len(users) == 1 and known[0] and len(columns) == self.n_items and self.listed_:
            return ColumnRow(np.asarray(self._block(users)[0], np.float64), self.columns_,
                             self.col_of_)
        out = np.zeros((len(users), len(columns)))
        if known.all() and len(columns) == self.n_items:
            # (a request) every product (``columns`` sorted and distinct: all of them): the
            # block goes straight to the model's columns
            out[:, self.columns_] = self._block(users)
        elif known.any():
            cols = self.col_of_[columns]
            has = np.flatnonzero(cols >= 0)
            out[np.ix_(known, has)] = self._block(users[known])[:, cols[has]]
        return out

    def item_column(self, i: int, n_users: int) -> np.ndarray:
        """Every user's score of product ``i``: a history model's histories times one column
        of its item x item matrix; ALS's user factors times the item's (folded-in histories
        for users added after fitting)."""
        out = np.zeros(n_users)
        c = int(self.col_of_[i]) if i < len(self.col_of_) else -1
        if c < 0:  # a product nobody had touched when the model was fitted
            return out
        model, history = self.model, self.history_
        if self.scores_history:
            return history_times(history, matrix_column(self.item_item(), c), n_users)
        fitted = min(model.train_.n_users, history.shape[0], n_users)
        v = np.asarray(model.item_factors_[c], np.float64)
        out[:fitted] = np.asarray(model.user_factors_[:fitted], np.float64) @ v
        later = np.arange(fitted, min(history.shape[0], n_users))
        if len(later):
            out[later] = model.fold_in(history[later]) @ v
        return out

    def linear_history(self, u: int) -> sp.csr_matrix | None:
        """User ``u``'s history over the products (1 x n products) when the score is linear
        in it (a history model: it splits over the user's products), else None (ALS, a user
        unknown to the graph)."""
        if not self.scores_history or u >= self.history_.shape[0]:
            return None
        row = csr_row(self.history_, u)
        return sp.csr_matrix((row.data, self.columns_[row.indices], row.indptr),
                             shape=(1, self.n_items))

    def history_terms(self, u: int, items: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """:meth:`linear_history` split into one-product terms at products ``items`` (the
        user's products, the terms, their sums), read from the history row and the item x
        item matrix: the bits :meth:`history_scores` of the one-product rows gives. None
        where :meth:`linear_history` is, or the matrix stores a cell twice."""
        if not self.scores_history or u >= self.history_.shape[0]:
            return None
        lo, hi = self.history_.indptr[u], self.history_.indptr[u + 1]
        k, w = self.history_.indices[lo:hi], self.history_.data[lo:hi]
        return history_split(self.columns_[k], k, w, self.item_item(), self.col_of_[items])

    def history_scores(self, histories: sp.csr_matrix, items: np.ndarray) -> np.ndarray:
        """The scores of fresh histories (rows x products, as :meth:`linear_history`) at
        products ``items`` (0 for a product without a column). A history model scores
        ``h @ W``: only the rows of W the histories hold and the columns asked for are
        multiplied (the same sums in the same order), never a row per history over the
        whole catalogue."""
        col_of = self.col_of_
        h = histories.tocsr()
        col, keep = col_of[h.indices], col_of[h.indices] >= 0
        indptr = np.concatenate([[0], np.cumsum(keep)])[h.indptr]
        mapped = sp.csr_matrix((h.data[keep], col[keep], indptr),
                               shape=(h.shape[0], len(self.columns_)))
        cols = col_of[items]
        out = np.zeros((h.shape[0], len(items)))
        known = cols >= 0
        if not self.scores_history:
            out[:, known] = self.model.score_history(mapped)[:, cols[known]]
            return out
        if not mapped.has_canonical_format:  # as score_history sums and orders a history
            mapped.sum_duplicates()
        w = self.item_item()
        single = one_product_scores(mapped, w, cols[known])
        if single is not None:
            out[:, known] = single
            return out
        took = np.unique(mapped.indices)
        part = w[took][:, cols[known]] if sp.issparse(w) else w[np.ix_(took, cols[known])]
        scores = mapped[:, took] @ part
        out[:, known] = scores.toarray() if sp.issparse(scores) else scores
        return out

    def item_item(self) -> Any:
        """A history model's item x item matrix (item-kNN's similarities, EASE's weights)."""
        model = self.model
        return model.similarity_ if hasattr(model, "similarity_") else model.weights_

    def save(self, folder: Path) -> list[Path]:
        self.model.save(folder / CF_FILE)
        meta = {"recency_tau": self.recency_tau}
        buf = io.BytesIO()
        np.savez(buf, columns=self.columns_, meta=np.array(json.dumps(meta)))
        atomic_write_bytes(folder / CF_COLUMNS_FILE, buf.getvalue())
        return [folder / CF_FILE, folder / CF_COLUMNS_FILE]

    @classmethod
    def load(cls, folder: Path, graph: KnowledgeGraph, config: HybridConfig) -> CfComponent:
        with np.load(folder / CF_FILE, allow_pickle=False) as z:
            name = json.loads(str(z["meta"]))["class"]
        if name == "EASE":
            from cf.ease import EASE as Model
        elif name == "WeightedALS":
            from cf.implicit_mf import WeightedALS as Model
        elif name == "NeighbourItemKNN":
            from cf.item_knn import NeighbourItemKNN as Model
        else:
            raise ValueError(f"{folder / CF_FILE}: unsupported cf model {name}")
        with np.load(folder / CF_COLUMNS_FILE, allow_pickle=False) as z:
            columns = z["columns"]
            tau = json.loads(str(z["meta"]))["recency_tau"]
        return cls(Model.load(folder / CF_FILE), graph, columns, recency_tau=tau,
                   targets=config.split.target_relations)


class PopularityComponent:
    """log(1 + distinct users who saw the product, for ``targets``): the same for everyone."""

    name = "popularity"
    cold = True  # the same for everyone

    def __init__(self, graph: KnowledgeGraph, targets: Sequence[str] = ()) -> None:
        self.targets = tuple(targets)
        self.refresh(graph)

    @classmethod
    def from_graph(cls, graph: KnowledgeGraph, config: HybridConfig,
                   shared: FitShared) -> PopularityComponent:
        return cls(graph, config.split.target_relations)

    def refresh(self, graph: KnowledgeGraph, delta: GraphDelta | None = None) -> None:
        """Count each product's distinct users (with a ``delta`` of edges only: the old
        counts corrected by its users' rows)."""
        seen = seen_matrix(graph, self.targets)
        if incremental_rows(delta, getattr(self, "counts_", None), graph, axis=None):
            users, old = delta.users, delta.old  # type: ignore[union-attr]
            before = seen_matrix(old, self.targets)[users]  # type: ignore[arg-type]
            counts = (self.counts_ + np.asarray(seen[users].sum(axis=0)).ravel()
                      - np.asarray(before.sum(axis=0)).ravel())
        else:
            counts = np.asarray(seen.sum(axis=0)).ravel()
        self.counts_ = counts
        self.popularity_ = np.log1p(counts)
        self.order_ = RowOrder()  # its top N's order, made at the first request

    def scores(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.popularity_, (len(users), len(self.popularity_))).copy()

    def candidates(self, users: np.ndarray, columns: np.ndarray) -> Scores:
        """Over every product (a request): one row for all, its top N read from one order
        (:class:`recommend.hybrid.candidates.SharedRow`); else the rows, dense."""
        if len(columns) == len(self.popularity_):
            return SharedRow(self.popularity_, len(users), self.order_)
        return np.repeat(take_columns(self.popularity_[None], columns), len(users), axis=0)

    def item_column(self, i: int, n_users: int) -> np.ndarray:
        """The product's popularity, for every user alike."""
        return np.full(n_users, float(self.popularity_[i]))

    def save(self, folder: Path) -> list[Path]:
        """Nothing: the counts are the graph's."""
        return []

    @classmethod
    def load(cls, folder: Path, graph: KnowledgeGraph,
             config: HybridConfig) -> PopularityComponent:
        return cls(graph, config.split.target_relations)
