"""The ``content`` component: cosine between the user's content vector and each product's.

Product vectors come from the build's text encoder (joined with the pictures where the
tuning says they help: :mod:`recommend.content.images`), indexed once by
:class:`recommend.content.ContentIndex`; a user's vector is the weighted sum of their
products' and their posts' products' vectors (:mod:`recommend.content.user_vectors`).
Beside the contract (:mod:`recommend.hybrid.component`) it answers what the recommender's
diversity, :mod:`recommend.similar` and the evidence of :mod:`recommend.hybrid.evidence`
ask: :meth:`~ContentComponent.product_vectors`, :meth:`~ContentComponent.similarity` and
:meth:`~ContentComponent.profile`.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from recommend.exact_search import EXACT_THRESHOLD
from recommend.hybrid.components import incremental_rows
from recommend.hybrid.quotas import component_sizes
from recommend.hybrid.row_blocks import RowBlocks

if TYPE_CHECKING:
    from kg.delta import GraphDelta
    from kg.graph import KnowledgeGraph
    from recommend.content import ContentIndex
    from recommend.content.search import SearchedScores
    from recommend.hybrid.component import FitShared
    from recommend.hybrid.config import HybridConfig
    from recommend.hybrid.content_shortlist import Shortlists
    from recommend.hybrid.encoders import TextEncoder
    from recommend.stored_files import StoredFiles

#: How many more products than asked (and than the user has seen) a user's content list
#: holds (:mod:`recommend.hybrid.content_shortlist`), and at most how many times as many.
LIST_MARGIN, LIST_TIMES = 64, 4


def _rows(matrix: RowBlocks, users: np.ndarray) -> np.ndarray:
    """float32 rows of ``matrix`` for ``users`` (rows past its end are zero)."""
    out = np.zeros((len(users), matrix.shape[1]), np.float32)
    known = users < matrix.shape[0]
    if known.any():
        out[known] = matrix.take(users[known])
    return out


def _users_reaching(graph: KnowledgeGraph, products: np.ndarray) -> np.ndarray:
    """Graph indices (sorted) of the users with an interaction a content vector weighs on
    ``products`` (graph indices), or on a post that mentions one of them."""
    from recommend.content.user_vectors import DEFAULT_KIND_WEIGHTS, interaction_blocks

    if not len(products):
        return np.zeros(0, np.int64)
    posts = [c.src[np.isin(c.dst, products)] for c in graph.edge_blocks("mentions")
             if c.src_type == "post" and c.dst_type == "product"]
    targets = {"product": products, "post": np.unique(np.concatenate([np.zeros(0, np.int64),
                                                                      *posts]))}
    found = [e.src[np.isin(e.dst, targets[e.dst_type])]
             for _, _, e in interaction_blocks(graph, DEFAULT_KIND_WEIGHTS)]
    return np.unique(np.concatenate([np.zeros(0, np.int64), *found])).astype(np.int64)


class ContentComponent:
    """Cosine between the user's content vector and each product's vector.

    When ranking, :meth:`candidates` proposes candidates by FAISS search over the index (exact
    below its size threshold, approximate at the calibrated recall above it) and scores
    only the candidates; :meth:`scores` is the dense form, for every product at once. A
    loaded (served) component lists each user's nearest products once (:meth:`list_users`):
    a request's search is then answered from the list when it surely can.
    """

    name = "content"
    cold = True  # the user's own posts make a content vector

    def __init__(self, index: ContentIndex, graph: KnowledgeGraph, *,
                 half_life_days: float | None, encoder: TextEncoder | None = None) -> None:
        self.index = index
        self.half_life_days = half_life_days
        self.encoder = encoder
        self.shortlists_: Shortlists | None = None
        self.stored_: StoredFiles | None = None  # where the index lies saved (stored_in)
        self.refresh(graph)

    @classmethod
    def fit(cls, graph: KnowledgeGraph, encoder: TextEncoder, *,
            half_life_days: float | None, exact_threshold: int = EXACT_THRESHOLD,
            target_recall: float = 0.95, depth: int = 10) -> ContentComponent | None:
        """Embed the described products' text and index it (None: no product has text);
        exact search below ``exact_threshold`` products, else approximate, calibrated to
        ``target_recall`` at recall@``depth`` (the deepest candidate list it will be asked
        for)."""
        from recommend.content import ContentIndex, product_texts

        ids, texts = product_texts(graph)
        if not ids:
            return None
        if hasattr(encoder, "fit"):
            encoder.fit(texts)
        index = ContentIndex.build(
            ids, encoder.embed(texts), target_recall=target_recall, calibration_k=depth,
            exact_threshold=exact_threshold)
        return cls(index, graph, half_life_days=half_life_days, encoder=encoder)

    @classmethod
    def from_graph(cls, graph: KnowledgeGraph, config: HybridConfig,
                   shared: FitShared) -> ContentComponent | None:
        """The build's index (``shared.content``, embedded once) over ``graph``'s users."""
        if shared.content is None:
            return None
        return cls(shared.content.index, graph, half_life_days=config.content.half_life_days,
                   encoder=shared.content.encoder)

    def add_products(self, graph: KnowledgeGraph) -> int:
        """Embed products with text that the index lacks and index them in a copy of the
        index (a component it was copied from keeps its own); how many were added.

        They get text only (a zero picture part where the index joins pictures): their
        pictures are embedded at the next build. The users' content lists made for the
        index are kept for the copy (:meth:`recommend.hybrid.content_shortlist.Shortlists.grown`:
        without them every later request searched the whole index)."""
        from recommend.content.images import text_part

        if self.encoder is None:
            return 0
        new = self.unindexed_texts(graph)
        if new:
            vectors = self.encoder.embed([t for _, t in new])
            source, lists = self.index, self.shortlists_
            self.index = source.copy()
            self.index.add([i for i, _ in new], text_part(source, vectors))
            if lists is not None:
                self.shortlists_ = lists.grown(self.index) if lists.index is source else None
        return len(new)

    def unindexed_texts(self, graph: KnowledgeGraph) -> list[tuple[str, str]]:
        """(product id, text) of ``graph``'s products with text that the index lacks: what
        :meth:`add_products` embeds (:func:`recommend.content.product_texts`' texts, in its
        order). Only the products the index lacks are read: a write of a few products on a
        catalogue of 18k cost ~110 ms when every product's text was made first."""
        from recommend.content import product_text

        new = []
        for pid in graph.nodes("product"):
            if pid in self.index:
                continue
            attrs = graph.node_attrs(pid)
            if attrs.get("title") or attrs.get("description"):
                text = product_text(attrs)
                if text:
                    new.append((pid, text))
        return new

    def refresh(self, graph: KnowledgeGraph, delta: GraphDelta | None = None) -> None:
        """Recompute the product vector table and every user's vector from the graph (with
        a ``delta`` of edges only: the vectors of its users; of new products: the product
        tables and the vectors of the users they can change, :meth:`_refresh_catalogue`)."""
        from recommend.content import user_vectors

        if incremental_rows(delta, getattr(self, "user_vectors_", None), graph):
            self._refresh_users(graph, delta.users)  # type: ignore[union-attr]
            return
        if delta is not None and self._refresh_catalogue(graph, delta):
            return
        vectors = self.index.vectors()
        self.item_vectors_ = np.zeros((graph.num_nodes("product"), vectors.shape[1]), np.float32)
        pos = np.array([graph.index(i) for i in self.index.ids], np.int64)
        self.item_vectors_[pos] = vectors
        self.columns_ = np.full(graph.num_nodes("product"), -1, np.int64)  # graph -> index
        self.columns_[pos] = np.arange(len(pos))
        self.in_order_ = bool(np.array_equal(self.columns_, np.arange(len(self.columns_))))
        uv = user_vectors(graph, self.index, half_life_days=self.half_life_days)
        self.user_vectors_ = RowBlocks.of(uv.matrix)
        # kept to split a score over the user's products (recommend/hybrid/evidence.py)
        self.user_weights_, self.index_products_ = uv.weights, pos

    def _refresh_users(self, graph: KnowledgeGraph, users: np.ndarray) -> None:
        """Recompute the vectors and weights of ``users`` (sorted graph indices) only."""
        from kg.delta import splice_rows
        from recommend.content.user_vectors import user_vector_rows

        if not len(users):
            return
        weights, rows = user_vector_rows(graph, self.index, users,
                                         half_life_days=self.half_life_days,
                                         column=self.columns_)
        # only the blocks holding these users' rows are copied: an older version
        # (the served model this one was forked from) keeps its rows
        self.user_vectors_ = self.user_vectors_.with_rows(users, rows)
        self.user_weights_ = splice_rows(self.user_weights_, users, weights)

    def _refresh_catalogue(self, graph: KnowledgeGraph, delta: GraphDelta) -> bool:
        """:meth:`refresh` after records that added nodes but no user and no mention (a
        product write): the product tables anew, and the vectors of the users whose
        weights can change (the delta's, and those reaching a product the index gained,
        directly or through a post naming it; a new product has none), each as the full
        refresh makes it. False when that does not hold (the caller refreshes whole)."""
        old = getattr(self, "index_products_", None)
        users_now = getattr(self, "user_vectors_", None)
        if (old is None or users_now is None or delta.touches(("mentions",))
                or users_now.shape[0] != graph.num_nodes("user")):
            return False
        ids = self.index.ids  # the index only appends (ContentIndex.add): its new tail
        if len(ids) < len(old):
            return False
        added = np.array([graph.index(i) for i in ids[len(old):]], np.int64)
        pos = np.concatenate([old, added])
        n_products, before = graph.num_nodes("product"), self.item_vectors_
        # the products' rows kept (a fork appends nodes: old indices stay), the new ones set
        self.item_vectors_ = np.zeros((n_products, before.shape[1]), np.float32)
        self.item_vectors_[: len(before)] = before
        self.item_vectors_[added] = self.index.vectors_at(np.arange(len(old), len(ids)))
        self.columns_ = np.full(n_products, -1, np.int64)
        self.columns_[pos] = np.arange(len(pos))
        self.in_order_ = bool(np.array_equal(self.columns_, np.arange(n_products)))
        self.index_products_ = pos
        w = self.user_weights_  # the same rows, over the grown index's columns
        self.user_weights_ = sp.csr_matrix((w.data, w.indices, w.indptr),
                                           shape=(w.shape[0], len(pos)))
        self._refresh_users(graph, np.union1d(delta.users, _users_reaching(graph, added)))
        return True

    def scores(self, users: np.ndarray) -> np.ndarray:
        u = _rows(self.user_vectors_, users)
        return (u @ self.item_vectors_.T).astype(np.float64)

    def candidates(self, users: np.ndarray, columns: np.ndarray) -> SearchedScores:
        """The scores of ``users`` over products ``columns``, proposed by index search."""
        from recommend.content.search import SearchedScores

        u = _rows(self.user_vectors_, users)
        lists = self.shortlists_
        mine = len(users) == 1 and lists is not None and lists.index is self.index
        shortlist = partial(lists.scored, int(users[0]), u[0]) if mine else None
        row = lists.table_row(int(users[0]), u[0]) if mine else None
        return SearchedScores(self.index, u, self.item_vectors_, self.columns_,
                              np.asarray(columns, np.int64), self.in_order_, shortlist, row)

    def list_users(self, graph: KnowledgeGraph, n: int) -> None:
        """Make every user's content list for requests asking ``n`` candidates
        (:mod:`recommend.hybrid.content_shortlist`): ``n`` deep past the products they have
        seen (which they are not offered), with a margin, at most :data:`LIST_TIMES` times
        ``n`` and the margin."""
        from kg.interactions import seen_matrix
        from recommend.hybrid.content_shortlist import TABLE_CELLS, Shortlists, listable

        n_users = self.user_vectors_.shape[0]
        if not listable(self.index, n_users):
            return
        seen = np.zeros(n_users, np.int64)
        matrix = seen_matrix(graph).tocsr()
        counts = np.diff(matrix.indptr)[:n_users]
        seen[: len(counts)] = counts
        depth = np.minimum(n + seen + LIST_MARGIN, LIST_TIMES * n + LIST_MARGIN)
        users = _rows(self.user_vectors_, np.arange(n_users))
        # the most seen products get every user's score at load: popularity's candidates,
        # and as many more as the table holds (the other components' candidates are often
        # popular: on the size world the 1,048 most seen held 27% of the ~400 products a
        # request scored past its list and the 264 popular ones)
        most = np.argsort(-np.bincount(matrix.indices, minlength=len(self.columns_)),
                          kind="stable")[: max(n + LIST_MARGIN, TABLE_CELLS // max(n_users, 1))]
        common = self.columns_[most[most < len(self.columns_)]]
        self.shortlists_ = Shortlists.build(self.index, users, depth, common[common >= 0])

    def item_column(self, i: int, n_users: int) -> np.ndarray:
        """Every user's score of product ``i``: the user vectors times its vector."""
        u = self.user_vectors_.dense()
        out = np.zeros(n_users)
        out[: u.shape[0]] = (u @ self.item_vectors_[i]).astype(np.float64)[:n_users]
        return out

    def profile(self, u: int) -> tuple[np.ndarray, np.ndarray] | None:
        """User ``u``'s content profile: the products (graph indices) whose vectors it sums and
        their weights (None: a user unknown to the graph)."""
        weights = self.user_weights_
        if u >= weights.shape[0]:
            return None
        # straight from the CSR arrays (scipy's row slicing copies and checks at ~50x the cost)
        lo, hi = weights.indptr[u], weights.indptr[u + 1]
        return self.index_products_[weights.indices[lo:hi]], weights.data[lo:hi].copy()

    def product_vectors(self, items: np.ndarray) -> np.ndarray:
        """The content vectors of graph product indices ``items`` (zero: no text, or a
        product added after the fit)."""
        vectors = self.item_vectors_
        items = np.asarray(items, np.int64)
        out = np.zeros((len(items), vectors.shape[1]), vectors.dtype)
        known = items < len(vectors)
        out[known] = vectors[items[known]]
        return out

    def similarity(self, item: int) -> np.ndarray | None:
        """Every product's cosine to product ``item`` (None: ``item`` has no vector)."""
        vectors = self.item_vectors_
        if not np.any(vectors[item]):
            return None
        return (vectors @ vectors[item]).astype(np.float64)

    def save(self, folder: Path) -> list[Path]:
        """Write the index (and an LSA encoder) into ``folder``: an index unchanged since it
        was loaded or saved (:meth:`stored_in`) is hard-linked from those files when they
        are still as they were (:mod:`recommend.stored_files`)."""
        stored = self.stored_
        written = (stored.link_into(folder) if stored is not None and stored.holds(self.index)
                   else None)
        if written is None:
            written = self.index.save(folder)
        if hasattr(self.encoder, "save"):
            written.append(self.encoder.save(folder))
        return written

    def stored_in(self, folder: Path, digests: dict[str, str]) -> None:
        """Record that ``folder`` now holds this index, its files having the sha256 of
        ``digests`` (its manifest's ``files``): the next :meth:`save` may link them."""
        from recommend.content.index import INDEX_FILE, META_FILE
        from recommend.stored_files import StoredFiles

        self.stored_ = StoredFiles.found(self.index, folder, (INDEX_FILE, META_FILE), digests)

    @classmethod
    def load(cls, folder: Path, graph: KnowledgeGraph,
             config: HybridConfig) -> ContentComponent:
        """The saved index, with the saved LSA encoder or the configured sentence model
        (recorded as stored in ``folder`` with the sha256 of its manifest, if any)."""
        from kg.artifact_files import MANIFEST_FILE, read_json
        from recommend.content import ContentIndex
        from recommend.hybrid.encoders import LSA_FILE, LsaEncoder
        from recommend.hybrid.model import make_encoder

        encoder: TextEncoder | None = None
        if config.content.encoder == "lsa" and (folder / LSA_FILE).is_file():
            encoder = LsaEncoder.load(folder)
        elif config.content.encoder == "sentence-transformers":
            encoder = make_encoder(config)
        comp = cls(ContentIndex.load(folder), graph,
                   half_life_days=config.content.half_life_days, encoder=encoder)
        comp.list_users(graph, component_sizes(config, ("content",))[0])  # for serving
        manifest = read_json(folder / MANIFEST_FILE) if (folder / MANIFEST_FILE).is_file() else {}
        files = manifest.get("files") if isinstance(manifest, dict) else None
        comp.stored_in(folder, files if isinstance(files, dict) else {})
        return comp
