"""The Recommender API: build/load/save an artifact, recommend, explain, similar, add.

>>> from recommend import Recommender                                   # doctest: +SKIP
>>> rec = Recommender.build("path/to/dataset", "artifacts/x")            # doctest: +SKIP
>>> [r.item for r in rec.recommend("user:42", k=3)]                      # doctest: +SKIP
['product:B00X', 'product:B01Y', 'product:A7']

``build`` runs :func:`kg.artifact.build_artifact` with the given enrichment stages and the
model stage (:mod:`recommend.model_stage`) into ``out_dir`` (a fresh temporary folder when
None) and loads the result: what is served is always what is on disk. ``save`` writes the
current graph and models (after :meth:`Recommender.add`) atomically to another folder, with
the loaded artifact's other files (a vision stage's) and add()'s quarantine.

Threads: :meth:`Recommender.add` validates records as the dataset files are validated and
builds the next state beside the served one (:mod:`recommend.updates`); it is swapped in
whole, and every reading method pins one state for its whole call
(:mod:`recommend.snapshot`): a request answers from the old state or the new one.

Ids are accepted typed (``user:42``, ``product:B00X``) or raw (``42``, ``B00X``). A user
missing from the graph, or without any product event, gets a cold-start blend of the
components that know something of them (content from their posts, social from whom they
follow, popularity), reported in each recommendation's ``reason``; never an exception.
An unknown item in :meth:`explain` or :meth:`similar` is a ``KeyError`` naming it.
:meth:`similar` (scores and item-to-item paths) is :mod:`recommend.similar`; the
marketer's methods (audience, lookalikes, influencers) are :mod:`recommend.marketer.api`.

Serving cost: one request runs BLAS on one thread (:func:`single_threaded`); what is the
same for every request (prices, the influencer set) is kept until :meth:`Recommender.add`;
the paths of all ``k`` items come from one
:func:`recommend.paths.explain.scored_paths_many` call; an item whose score no graph path
carries gets a :func:`recommend.paths.connection_path` through one
:class:`kg.links.LinkFinder` made per request (the user's neighbourhood is
gathered once for all ``k`` items).
"""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import numpy as np

from recommend.hybrid.config import HybridConfig
from recommend.hybrid.evidence import no_path
from recommend.hybrid.filters import filter_mask, product_prices
from recommend.hybrid.path_component import PathComponent
from recommend.marketer.api import MarketerMixin
from recommend.request import check_diversity, check_k, graph_id, request_filters
from recommend.results import ExplainedPath, Recommendation
from recommend.snapshot import Serving, reads_snapshot, snapshot_field

if TYPE_CHECKING:
    from kg.artifact import Stage
    from kg.graph import KnowledgeGraph
    from kg.links import LinkFinder
    from kg.reader import Rejection
    from kg.records import Dataset, Record
    from recommend.hybrid.encoders import TextEncoder
    from recommend.hybrid.model import HybridModel

PATH_COMPONENTS = ("graph", "social")


@dataclass(frozen=True)
class AddResult:
    """What :meth:`Recommender.add` applied (``accepted`` records), quarantined (with
    reasons) and merged (records the graph or the call already held: nothing added)."""

    accepted: int
    rejected: list[Rejection] = field(default_factory=list)
    updated: tuple[str, ...] = ()
    merged: int = 0


P = ParamSpec("P")
R = TypeVar("R")


@functools.cache
def _blas_libraries() -> tuple[Any, ...]:
    """threadpoolctl's controllers of the BLAS libraries loaded (found once)."""
    from threadpoolctl import ThreadpoolController

    return tuple(ThreadpoolController().select(user_api="blas").lib_controllers)


def single_threaded(func: Callable[P, R]) -> Callable[P, R]:
    """Run ``func`` with BLAS limited to one thread.

    One request multiplies a single row by a matrix: threads gain nothing there, and on a
    busy machine OpenBLAS's waiting threads make a (1 x 384) @ (384 x 1682) product take
    ~8 ms instead of ~0.2 ms. Each library's thread count is set to 1 and back on return
    (threadpoolctl's ``limit`` context did the same through checks: ~50 us a request).
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        before = [(lib, lib.get_num_threads()) for lib in _blas_libraries()]
        for lib, _ in before:
            lib.set_num_threads(1)
        try:
            return func(*args, **kwargs)
        finally:
            for lib, n in before:
                lib.set_num_threads(n)

    return wrapper


def _through(parts_of: Callable[[np.ndarray], np.ndarray], positions: np.ndarray
             ) -> Callable[[np.ndarray], np.ndarray]:
    """``parts_of`` for candidates renumbered by ``positions`` (a kept subset)."""
    return lambda rows: parts_of(positions[rows])


class Recommender(MarketerMixin):
    """Hybrid recommendations with explanations over a knowledge-graph artifact."""

    def __init__(self, model: HybridModel, *, manifest: dict[str, Any] | None = None,
                 folder: Path | None = None) -> None:
        self._serving = Serving(model)
        self.manifest = manifest or {}
        self.folder = folder
        self._quarantine: list[Rejection] = []  # add()'s rejections since load or save

    # the served state (recommend.snapshot): inside a @reads_snapshot call, the one it pinned
    _prices = snapshot_field("prices")
    _influencers = snapshot_field("influencers")

    @property
    def model(self) -> HybridModel:
        return self._serving.current().model

    @property
    def graph(self) -> KnowledgeGraph:
        return self.model.graph

    # ----- building and persistence -----
    @classmethod
    def build(
        cls,
        dataset_dir: str | os.PathLike[str],
        out_dir: str | os.PathLike[str] | None = None,
        *,
        config: HybridConfig | None = None,
        stages: Sequence[tuple[str, Stage]] | None = None,
        encoder: TextEncoder | None = None,
        progress: bool = False,
    ) -> Recommender:
        """Build the artifact of ``dataset_dir``: enrichment ``stages``, then the models.

        ``stages=None`` runs the default enrichment (:func:`recommend.stages.enrichment_stages`:
        nlp, vision, profiles); ``()`` runs none.
        """
        from kg.artifact import build_artifact
        from recommend.model_stage import STAGE_NAME, model_stage

        out = (Path(out_dir) if out_dir is not None
               else Path(tempfile.mkdtemp(prefix="shopgraph-")) / "artifact")
        if stages is None:
            from recommend.stages import enrichment_stages

            stages = enrichment_stages(progress=progress)
        all_stages = [*stages, (STAGE_NAME, model_stage(config, encoder=encoder,
                                                        progress=progress))]
        build_artifact(dataset_dir, out, progress=progress, stages=all_stages)
        return cls.load(out, encoder=encoder)

    @classmethod
    def load(cls, folder: str | os.PathLike[str], *, verify: bool = True,
             encoder: TextEncoder | None = None) -> Recommender:
        """Load an artifact's graph and models, refusing a tampered artifact
        (:func:`kg.artifact.load_artifact`; ``verify=False`` skips the sha256 checks: only
        for benchmarks)."""
        from kg.artifact import load_artifact
        from recommend.hybrid.model import HybridModel

        art = load_artifact(folder, verify=verify)
        model = HybridModel.load(art.folder, art.graph)
        content = model.components.get("content")
        if encoder is not None and content is not None:
            content.encoder = encoder
        return cls(model, manifest=art.manifest, folder=art.folder)

    def save(self, folder: str | os.PathLike[str], *, rdf_store: bool = True) -> Path:
        """Write graph, models and manifest to ``folder`` atomically; the folder.

        The loaded artifact's other files (a vision stage's) are carried over, its SPARQL
        store rewritten (unless ``rdf_store=False``) and add()'s rejections join its
        quarantine (:mod:`recommend.saving`). This Recommender then stands for the saved
        artifact."""
        from recommend.saving import save_artifact

        with self._serving.write_lock:  # no add() meanwhile; readers go on
            self.manifest = save_artifact(self._serving.latest().model, folder,
                                          manifest=self.manifest, source=self.folder,
                                          quarantine=self._quarantine, rdf_store=rdf_store)
            self.folder, self._quarantine = Path(folder), []
        return Path(folder)

    # ----- ids -----
    def user_id(self, user: object) -> str:
        """The typed user id of ``user`` (typed or raw; :func:`recommend.request.graph_id`)."""
        return graph_id(self.graph, user, "user")

    def item_id(self, item: object) -> str:
        """The typed product id of ``item``; KeyError naming it if the graph lacks it."""
        typed = graph_id(self.graph, item, "product")
        if not self.graph.has_node(typed):
            raise KeyError(f"unknown item {item!r}: no product {typed!r} in the graph")
        return typed

    def _user_index(self, user_id: str) -> int:
        """Graph index of the user, or one past the last user when unknown."""
        g = self.graph
        return g.index(user_id) if g.has_node(user_id) else g.num_nodes("user")

    # ----- recommending -----
    @reads_snapshot
    @single_threaded
    def recommend(
        self,
        user: object,
        k: int = 10,
        *,
        exclude_seen: bool = True,
        categories: str | Sequence[str] = (),
        brands: str | Sequence[str] = (),
        price_min: float | None = None,
        price_max: float | None = None,
        diversity: float = 0.0,
        explain: bool = True,
    ) -> list[Recommendation]:
        """Top ``k`` products for ``user`` with parts and (``explain``) up to 3 paths each.

        Filters keep products in a category (or below), of a brand, in a price range;
        ``diversity`` in [0, 1] re-ranks by maximal marginal relevance over content vectors;
        bad values are ValueErrors (:mod:`recommend.request`). The candidates the model ranks
        are its components' top products for the user, each component's top ``k`` at least
        when ``k`` is more than they hold; fewer than ``k`` when fewer products pass the
        filters (or remain unseen) or no component scores them.
        """
        k, diversity = check_k(k), check_diversity(diversity)
        filters = request_filters(categories, brands, price_min, price_max)
        uid = self.user_id(user)
        u = self._user_index(uid)
        if self._prices is None and (price_min is not None or price_max is not None):
            self._prices = product_prices(self.graph)  # read only by a price filter
        users = np.array([u])
        pool = self.model.allowed(users, self.graph.described("product"), exclude_seen)
        mask = filter_mask(self.graph, filters, prices=self._prices) if filters.active else None
        # filters pick from the ranking and never re-score it: the pool is the unfiltered
        # one, and the filter's matches are scored on its scale
        extra = None if mask is None else pool & mask
        ranked = self.model.rank(users, pool, extra=extra)
        found = ranked.candidates.items if mask is None else \
            ranked.candidates.items[mask[ranked.candidates.items]]
        if len(found) < k and (pool if extra is None else extra).sum() > len(found):
            # more asked for than the candidates hold: each component's top k is ranked
            ranked = self.model.rank(users, pool, extra=extra, least=k)
        items, scores, parts_of, reason = self.model.row_scores(u, ranked)
        if mask is not None:
            kept = np.flatnonzero(mask[items])
            items, scores = items[kept], scores[kept]
            parts_of = _through(parts_of, kept)
        if len(items) == 0:
            return []
        if diversity > 0 and "content" in self.model.components:
            keep = np.argsort(-scores, kind="stable")[: max(5 * k, 50)]
            vecs = self.model.components["content"].product_vectors(items[keep])
            from recommend.hybrid.blend import diversify

            order = keep[diversify(items[keep], scores[keep], vecs, k, diversity)]
        else:
            order = np.argsort(-scores, kind="stable")[:k]
        finder = self._finder(uid) if explain else None
        chosen = [self.graph.node_id("product", int(items[j])) for j in order]
        parts = [{n: float(v) for n, v in zip(self.model.blend.names, row, strict=True)}
                 for row in parts_of(order)]
        paths = (self._paths(finder, chosen, parts) if finder is not None
                 else [[] for _ in chosen])
        return [Recommendation(item, float(scores[j]), part, item_paths,
                               reason if item_paths or not explain else no_path(reason))
                for item, j, part, item_paths in zip(chosen, order, parts, paths, strict=True)]

    # ----- explaining -----
    def _finder(self, user_id: str) -> LinkFinder | None:
        """The connection finder of a known user (None for a user not in the graph), under the
        privacy rules (:func:`recommend.paths.explain.link_rules`)."""
        from kg.links import LinkFinder
        from recommend.paths.connection import link_rules

        if not self.graph.has_node(user_id):
            return None
        return LinkFinder(self.graph, user_id, rules=link_rules(self.graph))

    @reads_snapshot
    def influencers(self, component: str | None = None) -> frozenset[str]:
        """Users flagged as influencers by one path component, or by any (kept until
        :meth:`add`)."""
        if self._influencers is None:
            sets = {}
            for name in PATH_COMPONENTS:
                comp = self.model.components.get(name)
                if isinstance(comp, PathComponent):
                    sets[name] = comp.influencers()
            self._influencers = {**sets, "": frozenset().union(*sets.values())}
        return self._influencers.get(component or "", frozenset())

    def _paths(self, finder: LinkFinder, item_ids: list[str], parts: list[dict[str, float]],
               max_paths: int | None = None) -> list[list[ExplainedPath]]:
        """Per item, up to ``max_paths`` paths carrying its score, else a link
        (:func:`recommend.hybrid.evidence.served_paths`)."""
        from recommend.hybrid.evidence import served_paths

        return served_paths(self.model, self.graph, finder, item_ids, parts,
                            self.influencers, max_paths)

    @reads_snapshot
    def explain(self, user: object, item: object, *, max_paths: int | None = None
                ) -> list[ExplainedPath]:
        """Paths from ``user`` to ``item`` (KeyError for an unknown item)."""
        return self.explain_item(user, item, max_paths=max_paths).paths

    @reads_snapshot
    @single_threaded
    def explain_item(self, user: object, item: object, *, max_paths: int | None = None
                     ) -> Recommendation:
        """``item`` scored for ``user`` as a :class:`Recommendation`, with its paths (chosen
        for the item alone: in :meth:`recommend`, an item's paths also vary from the
        types the items above it show)."""
        iid = self.item_id(item)
        uid = self.user_id(user)
        u = self._user_index(uid)
        i = self.graph.index(iid)
        users = np.array([u])
        pool = self.model.allowed(users, self.graph.described("product"), True)
        ranked = self.model.rank(users, pool,
                                 force=np.array([i]))
        items, scores, parts_of, reason = self.model.row_scores(u, ranked)
        j = int(np.flatnonzero(items == i)[0])
        part = {n: float(v) for n, v in
                zip(self.model.blend.names, parts_of(np.array([j]))[0], strict=True)}
        finder = self._finder(uid)
        paths = self._paths(finder, [iid], [part], max_paths)[0] if finder is not None else []
        return Recommendation(iid, float(scores[j]), part, paths,
                              reason if paths else no_path(reason))

    @reads_snapshot
    def draw(self, user: object, item: object, out: str | os.PathLike[str]) -> Path:
        """Draw the explanation paths of (user, item) to ``out`` (.svg or .png)."""
        from recommend.paths.drawing import draw_paths

        paths = self.explain(user, item)
        if not paths:
            raise ValueError(f"no path joins {self.user_id(user)} and {self.item_id(item)}")
        return draw_paths(paths, out, graph=self.graph,  # type: ignore[arg-type]
                          title=f"Why {self.item_id(item)} for {self.user_id(user)}")

    # ----- similar items -----
    @reads_snapshot
    @single_threaded
    def similar(self, item: object, k: int = 10, *, max_paths: int | None = None,
                explain: bool = True) -> list[Recommendation]:
        """Products like ``item``, each with up to ``max_paths`` (default: config) graph paths
        from ``item`` to it when ``explain`` (:mod:`recommend.similar`)."""
        from recommend.similar import similar_items

        return similar_items(self.model, self.item_id(item), check_k(k), max_paths=max_paths,
                             explain=explain)

    # ----- incremental update -----
    def add(self, records: Dataset | Iterable[Record], *, atomic: bool = False) -> AddResult:
        """Validate records as dataset files are (:mod:`recommend.updates`); apply the valid
        ones, or with ``atomic`` none if any is rejected. Rejections carry the files' reasons;
        a record the graph or the call already holds merges; a failure applies nothing.

        Updated at once: the graph, seen products, popularity, content user vectors (and new
        products' content vectors), EASE scores of changed histories, meta-path matrices.
        Not until a rebuild: CF model weights (an ALS user's factors; new products have no
        CF score), meta-path and blend weights, KOL weights are recomputed but not refitted.
        """
        from recommend.updates import check, grow, still_valid

        with self._serving.write_lock:
            served = self._serving.latest()
            checked = check(served.model.graph, records)
            applied, updated = checked.count > 0 and not (atomic and checked.rejected), ()
            if applied:
                model, updated = grow(served.model, checked.dataset)
                self._serving.publish(model, keep=still_valid(served.model, model))
            self._quarantine += checked.rejected  # once the call has succeeded
        return AddResult(checked.count if applied else 0, checked.rejected, updated,
                         checked.merged)
