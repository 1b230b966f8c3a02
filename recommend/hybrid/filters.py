"""Catalogue filters: which products may be recommended (category, brand, price range).

Only described products (from catalogue records) are ever recommended. A category filter
keeps products whose leaf category is the given one or below it (``category:home`` keeps
``category:home/kitchen/mugs``); a plain name matches any level (``"Kitchen"``). A brand is a
typed id or a name. Products without a price fail a price filter.

>>> Filters(price_max=20.0).active
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kg.graph import KnowledgeGraph
from kg.schema import brand_id, category_slug


@dataclass(frozen=True)
class Filters:
    """What to keep; None or empty means no constraint."""

    categories: Sequence[str] = ()
    brands: Sequence[str] = ()
    price_min: float | None = None
    price_max: float | None = None

    @property
    def active(self) -> bool:
        return bool(self.categories or self.brands or self.price_min is not None
                    or self.price_max is not None)


def _category_match(cat_id: str, wanted: str) -> bool:
    path = cat_id.partition(":")[2]
    if wanted.startswith("category:"):
        want = wanted.partition(":")[2]
        return path == want or path.startswith(want + "/")
    return category_slug(wanted) in path.split("/")


def filter_mask(graph: KnowledgeGraph, filters: Filters, *,
                prices: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask over the graph's products: described and passing ``filters``.

    ``prices`` (:func:`product_prices`, cached by the caller) saves reading every node.
    """
    mask = graph.described("product").copy()
    if not filters.active:
        return mask
    if filters.categories:
        cats = graph.nodes("category")
        keep = np.array([any(_category_match(c, w) for w in filters.categories) for c in cats],
                        bool)
        m = graph.matrix("in_category", dst_type="category", src_type="product")
        mask &= np.asarray(m[:, np.flatnonzero(keep)].sum(axis=1)).ravel() > 0 \
            if keep.any() else False
    if filters.brands:
        wanted = {b if b.startswith("brand:") else brand_id(b) for b in filters.brands}
        cols = [graph.index(b) for b in wanted if graph.has_node(b)]
        m = graph.matrix("made_by", dst_type="brand", src_type="product")
        mask &= np.asarray(m[:, cols].sum(axis=1)).ravel() > 0 if cols else False
    if filters.price_min is not None or filters.price_max is not None:
        prices = product_prices(graph) if prices is None else prices
        lo = -np.inf if filters.price_min is None else filters.price_min
        hi = np.inf if filters.price_max is None else filters.price_max
        mask &= (prices >= lo) & (prices <= hi)  # NaN prices compare False
    return mask


def product_prices(graph: KnowledgeGraph) -> np.ndarray:
    """Each product's price (NaN when unknown), in index order."""
    out = np.full(graph.num_nodes("product"), np.nan)
    for i, p in enumerate(graph.nodes("product")):
        value = graph.node_attrs(p).get("price")
        if isinstance(value, (int, float)):
            out[i] = float(value)
    return out
