"""The ``cf``, ``content`` and ``popularity`` components (the contract:
:mod:`recommend.hybrid.component`).

- ``cf``: item-kNN, EASE or weighted ALS (:mod:`cf`) on the user x product interactions;
- ``content``: cosine of the user's content vector to each product's (FAISS index);
- ``popularity``: log(1 + distinct users who reached the product).

The others: ``session`` (:mod:`recommend.hybrid.session`), ``graph`` and ``social``
(:mod:`recommend.hybrid.path_component`).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from kg.atomic import atomic_write_bytes
from kg.delta import splice_rows
from kg.interactions import PRODUCT_RELATIONS, history_matrix, relation_matrix, seen_matrix

if TYPE_CHECKING:
    from cf.base import Recommender as CfRecommender
    from kg.delta import GraphDelta
    from kg.graph import KnowledgeGraph
    from recommend.content import ContentIndex
    from recommend.content.search import SearchedScores
    from recommend.hybrid.candidates import Scores
    from recommend.hybrid.component import FitShared
    from recommend.hybrid.config import HybridConfig
    from recommend.hybrid.encoders import TextEncoder

CF_FILE = "cf_model.npz"
CF_COLUMNS_FILE = "cf_columns.npz"
#: CF models that score history rows (:meth:`cf.base.HistoryRecommender.score_history`).
HISTORY_MODELS = ("EASE", "NeighbourItemKNN")


def _rows(matrix: np.ndarray | sp.spmatrix, users: np.ndarray, n_items: int) -> np.ndarray:
    """Dense rows of ``matrix`` for ``users`` (rows past its end are zero)."""
    out = np.zeros((len(users), n_items))
    known = users < matrix.shape[0]
    if known.any():
        block = matrix[users[known]]
        block = block.toarray() if sp.issparse(block) else np.asarray(block)
        out[known, : block.shape[1]] = block
    return out


def _rows_only(delta: GraphDelta | None, current: Any, graph: KnowledgeGraph, *,
               axis: int | None = 0) -> bool:
    """Whether ``current`` (a per-user table, or with ``axis=None`` any state) may be
    updated in the rows of ``delta``'s users only: the delta added edges but no node, and
    the state exists (with one row per user of ``graph``)."""
    if delta is None or not delta.incremental or current is None:
        return False
    return axis is None or current.shape[0] == graph.num_nodes("user")


class CfComponent:
    """A :mod:`cf` model over the graph's interactions: item-kNN, EASE or weighted ALS.

    The model is fitted over the products someone interacted with (``columns_``):
    knowledge graphs hold many more product nodes (link endpoints without a catalogue
    record) than products anyone bought. History models (item-kNN, EASE) score each user's
    current history row (sparse, recency weighted with ``recency_tau``: the product met
    ``r`` products before the user's latest weighs ``exp(-r / tau)``) against their sparse
    or pruned item x item matrix, so new history counts at once; ALS scores the users it
    was fitted on by their factors and folds in the others' histories.
    """

    name = "cf"
    cold = False

    def __init__(self, model: CfRecommender, graph: KnowledgeGraph, columns: np.ndarray, *,
                 recency_tau: float | None = None) -> None:
        self.model = model
        self.columns_ = np.asarray(columns, np.int64)
        self.recency_tau = recency_tau
        self.refresh(graph)

    @property
    def scores_history(self) -> bool:
        """Whether the model scores history rows (else factors fitted per user)."""
        return type(self.model).__name__ in HISTORY_MODELS

    @staticmethod
    def interactions(graph: KnowledgeGraph) -> tuple[Any, np.ndarray]:
        """The user x active-product events as :class:`cf.data.Interactions` (log weights),
        and the product indices of its columns."""
        from cf.data import Interactions

        x = relation_matrix(graph, PRODUCT_RELATIONS)
        columns = np.flatnonzero(np.diff(x.tocsc().indptr))
        x = x[:, columns].tocsr()
        x.data = np.log1p(x.data).astype(np.float32)
        return (Interactions(x.astype(np.float32), np.arange(x.shape[0]),
                             np.arange(x.shape[1])), columns)

    @classmethod
    def fit(cls, graph: KnowledgeGraph, *, kind: str, params: dict[str, Any]) -> CfComponent:
        """Fit ``kind`` ("itemknn", "ease" or "als") on the graph's interactions."""
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
        data, columns = cls.interactions(graph)
        return cls(model.fit(data), graph, columns, recency_tau=params.get("recency_tau"))

    @classmethod
    def from_graph(cls, graph: KnowledgeGraph, config: HybridConfig,
                   shared: FitShared) -> CfComponent | None:
        """The configured model (``"auto"`` untuned: EASE when at most ``ease_max_items``
        products have interactions, else item-kNN); None on a graph without any."""
        seen = seen_matrix(graph)
        if not seen.nnz:
            return None
        kind = config.cf_model
        if kind == "auto":
            active = int((np.diff(seen.tocsc().indptr) > 0).sum())
            kind = "ease" if active <= config.ease_max_items else "itemknn"
        return cls.fit(graph, kind=kind, params=config.cf_params())

    def refresh(self, graph: KnowledgeGraph, delta: GraphDelta | None = None) -> None:
        """Take the graph's current histories (products added after fitting: no column)."""
        self.n_items = graph.num_nodes("product")
        hist = history_matrix(graph, self.recency_tau)
        if _rows_only(delta, getattr(self, "history_", None), graph):
            users = delta.users  # type: ignore[union-attr]
            rows = hist[users][:, self.columns_].astype(np.float32).tocsr()
            self.history_ = splice_rows(self.history_, users, rows)
            return
        self.history_ = hist[:, self.columns_].astype(np.float32).tocsr()

    def scores(self, users: np.ndarray) -> np.ndarray:
        out = np.zeros((len(users), self.n_items))
        known = users < self.history_.shape[0]
        if not known.any():
            return out
        rows = users[known]
        if self.scores_history:
            block = self.model.score_history(self.history_[rows])
        else:  # factors for the users fitted, folded-in histories for later ones
            fitted = rows < self.model.train_.n_users
            block = np.zeros((len(rows), len(self.columns_)))
            if fitted.any():
                block[fitted] = self.model.score_rows(rows[fitted])
            if (~fitted).any():
                block[~fitted] = self.model.score_history(self.history_[rows[~fitted]])
        out[np.ix_(known, self.columns_)] = block
        return out

    def candidates(self, users: np.ndarray, columns: np.ndarray) -> Scores:
        return self.scores(users)[:, columns]

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
        return cls(Model.load(folder / CF_FILE), graph, columns, recency_tau=tau)


class ContentComponent:
    """Cosine between the user's content vector and each product's vector.

    When ranking, :meth:`candidates` proposes candidates by FAISS search over the index (exact
    below its size threshold, approximate at the calibrated recall above it) and scores
    only the candidates; :meth:`scores` is the dense form, for every product at once.
    """

    name = "content"
    cold = True  # the user's own posts make a content vector

    def __init__(self, index: ContentIndex, graph: KnowledgeGraph, *,
                 half_life_days: float | None, encoder: TextEncoder | None = None) -> None:
        self.index = index
        self.half_life_days = half_life_days
        self.encoder = encoder
        self.refresh(graph)

    @classmethod
    def fit(cls, graph: KnowledgeGraph, encoder: TextEncoder, *,
            half_life_days: float | None, exact_threshold: int | None = None,
            target_recall: float = 0.95, depth: int = 10) -> ContentComponent | None:
        """Embed the described products' text and index it (None: no product has text);
        exact search below ``exact_threshold`` products (None: the index's default), else
        approximate, calibrated to ``target_recall`` at recall@``depth`` (the deepest
        candidate list it will be asked for)."""
        from recommend.content import ContentIndex, product_texts
        from recommend.content.index import EXACT_THRESHOLD

        ids, texts = product_texts(graph)
        if not ids:
            return None
        if hasattr(encoder, "fit"):
            encoder.fit(texts)
        index = ContentIndex.build(
            ids, encoder.embed(texts), target_recall=target_recall, calibration_k=depth,
            exact_threshold=EXACT_THRESHOLD if exact_threshold is None else exact_threshold)
        return cls(index, graph, half_life_days=half_life_days, encoder=encoder)

    @classmethod
    def from_graph(cls, graph: KnowledgeGraph, config: HybridConfig,
                   shared: FitShared) -> ContentComponent | None:
        """The build's index (``shared.content``, embedded once) over ``graph``'s users."""
        if shared.content is None:
            return None
        return cls(shared.content.index, graph, half_life_days=config.content_half_life_days,
                   encoder=shared.content.encoder)

    def add_products(self, graph: KnowledgeGraph) -> int:
        """Embed and index products with text that the index lacks; how many were added.

        They get text only (a zero picture part where the index joins pictures): their
        pictures are embedded at the next build."""
        from recommend.content import product_texts
        from recommend.content.images import text_part

        if self.encoder is None:
            return 0
        ids, texts = product_texts(graph)
        new = [(i, t) for i, t in zip(ids, texts, strict=True) if i not in self.index]
        if new:
            vectors = self.encoder.embed([t for _, t in new])
            self.index.add([i for i, _ in new], text_part(self.index, vectors))
        return len(new)

    def refresh(self, graph: KnowledgeGraph, delta: GraphDelta | None = None) -> None:
        """Recompute the product vector table and every user's vector from the graph (with
        a ``delta`` of edges only: the vectors of its users)."""
        from kg.delta import splice_rows
        from recommend.content import user_vectors
        from recommend.content.user_vectors import user_vector_rows

        if _rows_only(delta, getattr(self, "user_vectors_", None), graph):
            users = delta.users  # type: ignore[union-attr]
            weights, rows = user_vector_rows(graph, self.index, users,
                                             half_life_days=self.half_life_days,
                                             column=self.columns_)
            matrix = self.user_vectors_.copy()
            matrix[users] = rows
            self.user_vectors_ = matrix
            self.user_weights_ = splice_rows(self.user_weights_, users, weights)
            return
        vectors = self.index.vectors()
        self.item_vectors_ = np.zeros((graph.num_nodes("product"), vectors.shape[1]), np.float32)
        pos = np.array([graph.index(i) for i in self.index.ids], np.int64)
        self.item_vectors_[pos] = vectors
        self.columns_ = np.full(graph.num_nodes("product"), -1, np.int64)  # graph -> index
        self.columns_[pos] = np.arange(len(pos))
        uv = user_vectors(graph, self.index, half_life_days=self.half_life_days)
        self.user_vectors_ = uv.matrix
        # kept to split a score over the user's products (recommend/hybrid/evidence.py)
        self.user_weights_, self.index_products_ = uv.weights, pos

    def scores(self, users: np.ndarray) -> np.ndarray:
        u = _rows(self.user_vectors_, users, self.user_vectors_.shape[1]).astype(np.float32)
        return (u @ self.item_vectors_.T).astype(np.float64)

    def candidates(self, users: np.ndarray, columns: np.ndarray) -> SearchedScores:
        """The scores of ``users`` over products ``columns``, proposed by index search."""
        from recommend.content.search import SearchedScores

        u = _rows(self.user_vectors_, users, self.user_vectors_.shape[1]).astype(np.float32)
        return SearchedScores(self.index, u, self.item_vectors_, self.columns_,
                              np.asarray(columns, np.int64))

    def product_vectors(self, items: np.ndarray) -> np.ndarray:
        """The content vectors of graph product indices ``items`` (zero: no text)."""
        return self.item_vectors_[items]

    def similarity(self, item: int) -> np.ndarray | None:
        """Every product's cosine to product ``item`` (None: ``item`` has no vector)."""
        vectors = self.item_vectors_
        if not np.any(vectors[item]):
            return None
        return (vectors @ vectors[item]).astype(np.float64)

    def save(self, folder: Path) -> list[Path]:
        written = self.index.save(folder)
        if hasattr(self.encoder, "save"):
            written.append(self.encoder.save(folder))
        return written

    @classmethod
    def load(cls, folder: Path, graph: KnowledgeGraph,
             config: HybridConfig) -> ContentComponent:
        """The saved index, with the saved LSA encoder or the configured sentence model."""
        from recommend.content import ContentIndex
        from recommend.hybrid.encoders import LSA_FILE, LsaEncoder
        from recommend.hybrid.model import make_encoder

        encoder: TextEncoder | None = None
        if config.content_encoder == "lsa" and (folder / LSA_FILE).is_file():
            encoder = LsaEncoder.load(folder)
        elif config.content_encoder == "sentence-transformers":
            encoder = make_encoder(config)
        return cls(ContentIndex.load(folder), graph,
                   half_life_days=config.content_half_life_days, encoder=encoder)


class PopularityComponent:
    """log(1 + number of distinct users with an event on the product): same for everyone."""

    name = "popularity"
    cold = True  # the same for everyone

    def __init__(self, graph: KnowledgeGraph) -> None:
        self.refresh(graph)

    @classmethod
    def from_graph(cls, graph: KnowledgeGraph, config: HybridConfig,
                   shared: FitShared) -> PopularityComponent:
        return cls(graph)

    def refresh(self, graph: KnowledgeGraph, delta: GraphDelta | None = None) -> None:
        """Count each product's distinct users (with a ``delta`` of edges only: the old
        counts corrected by its users' rows)."""
        seen = seen_matrix(graph)
        if _rows_only(delta, getattr(self, "counts_", None), graph, axis=None):
            users = delta.users  # type: ignore[union-attr]
            before = seen_matrix(delta.old)[users]  # type: ignore[union-attr, arg-type]
            counts = (self.counts_ + np.asarray(seen[users].sum(axis=0)).ravel()
                      - np.asarray(before.sum(axis=0)).ravel())
        else:
            counts = np.asarray(seen.sum(axis=0)).ravel()
        self.counts_ = counts
        self.popularity_ = np.log1p(counts)

    def scores(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.popularity_, (len(users), len(self.popularity_))).copy()

    def candidates(self, users: np.ndarray, columns: np.ndarray) -> Scores:
        return self.scores(users)[:, columns]

    def save(self, folder: Path) -> list[Path]:
        """Nothing: the counts are the graph's."""
        return []

    @classmethod
    def load(cls, folder: Path, graph: KnowledgeGraph,
             config: HybridConfig) -> PopularityComponent:
        return cls(graph)
