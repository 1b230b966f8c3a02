"""The sparse matrices profiles are computed from, read from records or from a built graph.

Both sources give the same :class:`ProfileInputs`, so one profile computation serves the
build pipeline (records in memory) and the CLI (an artifact's graph). Everything is
built with numpy/scipy over index arrays (``np.unique`` + COO), never a Python loop per
event: that is what keeps 1M events within seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from kg.schema import EVENT_RELATIONS, EVENT_WEIGHTS, brand_id, category_id, concept_id

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from kg.records import Dataset

_HASHTAG = re.compile(r"#(\w[\w-]*)")


@dataclass(frozen=True)
class ProfileInputs:
    """Users × products interactions plus product side-information (typed node ids)."""

    user_ids: list[str]
    product_ids: list[str]
    interactions: sp.csr_matrix  # users × products, summed event weights
    purchases: sp.csr_matrix  # users × products, purchase counts
    product_brand: sp.csr_matrix  # products × brands
    brand_ids: list[str]
    product_category: sp.csr_matrix  # products × categories (a leaf and its ancestors)
    product_leaf: np.ndarray  # (n_products,) column of the product's leaf category, -1 if none
    category_ids: list[str]
    product_price: np.ndarray  # (n_products,), NaN when unknown
    user_concept: sp.csr_matrix  # users × concepts, from posts written or engaged with
    concept_ids: list[str]
    n_events: np.ndarray  # (n_users,)
    active_days: np.ndarray  # (n_users,) distinct days with an event
    followers: np.ndarray  # (n_users,)
    engagement_received: np.ndarray  # (n_users,) events on the user's posts


def _codes(values: list[str], vocab: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Integer codes of ``values`` within ``vocab`` (built, sorted, when not given)."""
    if vocab is None:
        uniq, codes = np.unique(np.asarray(values, dtype=object).astype(str), return_inverse=True)
        return codes.astype(np.int64), uniq.tolist()
    index = {v: i for i, v in enumerate(vocab)}
    return np.fromiter((index.get(v, -1) for v in values), np.int64, len(values)), vocab


def _coo(
    rows: np.ndarray, cols: np.ndarray, w: np.ndarray, shape: tuple[int, int]
) -> sp.csr_matrix:
    keep = (rows >= 0) & (cols >= 0)
    m = sp.csr_matrix((w[keep], (rows[keep], cols[keep])), shape=shape, dtype=np.float64)
    m.sum_duplicates()
    return m


def _leaf_columns(leaf_ids: list[str], vocab: list[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(vocab)}
    return np.fromiter((index.get(c, -1) for c in leaf_ids), np.int64, len(leaf_ids))


def _leaf_of_rows(in_category: sp.csr_matrix) -> np.ndarray:
    """Per product the column of its (first) category, -1 for none; a catalogue may have no
    categories at all (argmax over zero columns is undefined)."""
    if in_category.shape[1] == 0 or in_category.shape[0] == 0:
        return np.full(in_category.shape[0], -1, np.int64)
    return np.where(np.diff(in_category.indptr) > 0, in_category.argmax(axis=1).A1, -1)


def _distinct_days(users: np.ndarray, ts: np.ndarray, n_users: int) -> np.ndarray:
    ok = ~np.isnan(ts)
    days = np.floor(ts[ok] / 86400.0).astype(np.int64)
    pairs = np.unique(users[ok] * (days.max(initial=0) + 1) + days)
    return np.bincount(pairs // (days.max(initial=0) + 1), minlength=n_users).astype(float)


def inputs_from_dataset(dataset: Dataset) -> ProfileInputs:
    """Profile inputs from validated records (events, posts, follows, products)."""
    prods = dataset.products
    product_raw = [p.id for p in prods]
    product_ids = [f"product:{p}" for p in product_raw]
    user_raw = sorted(
        {u.id for u in dataset.users}
        | {e.user for e in dataset.events}
        | {p.author for p in dataset.posts}
        | {f.follower for f in dataset.follows}
        | {f.followee for f in dataset.follows}
    )
    n_u, n_p = len(user_raw), len(prods)
    ev = dataset.events
    users, _ = _codes([e.user for e in ev], user_raw)
    kinds = [e.kind for e in ev]
    weights = np.array(
        [
            e.value if k == "rate" and e.value is not None else EVENT_WEIGHTS[k]
            for e, k in zip(ev, kinds, strict=True)
        ],
        dtype=float,
    )
    ts = np.array([np.nan if e.ts is None else e.ts for e in ev], dtype=float)
    is_product = np.array([e.target_type == "product" for e in ev], dtype=bool)
    targets, _ = _codes(
        [e.target if p else "" for e, p in zip(ev, is_product, strict=True)], product_raw
    )
    purchase = np.array([k == "purchase" for k in kinds], dtype=bool)
    interactions = _coo(users[is_product], targets[is_product], weights[is_product], (n_u, n_p))
    purchases = _coo(
        users[purchase & is_product],
        targets[purchase & is_product],
        np.ones(int((purchase & is_product).sum())),
        (n_u, n_p),
    )

    brands, brand_vocab = _codes([brand_id(p.brand) if p.brand else "" for p in prods])
    has_brand = np.array([bool(p.brand) for p in prods])
    product_brand = _coo(
        np.flatnonzero(has_brand),
        brands[has_brand],
        np.ones(int(has_brand.sum())),
        (n_p, len(brand_vocab)),
    )
    cat_rows = [i for i, p in enumerate(prods) for _ in p.categories]
    cat_vals = [category_id(p.categories[: d + 1]) for p in prods for d in range(len(p.categories))]
    cats, cat_vocab = _codes(cat_vals) if cat_vals else (np.zeros(0, np.int64), [])
    product_category = _coo(
        np.asarray(cat_rows, np.int64), cats, np.ones(len(cats)), (n_p, len(cat_vocab))
    )
    price = np.array([np.nan if p.price is None else p.price for p in prods], dtype=float)

    # concepts: hashtags of posts a user wrote (weight 2) or engaged with (the event weight)
    posts = dataset.posts
    post_index = {p.id: i for i, p in enumerate(posts)}
    tag_rows = [(i, concept_id(t)) for i, p in enumerate(posts) for t in _HASHTAG.findall(p.text)]
    c_codes, concept_vocab = (
        _codes([t for _, t in tag_rows]) if tag_rows else (np.zeros(0, np.int64), [])
    )
    post_concept = _coo(
        np.array([i for i, _ in tag_rows], np.int64),
        c_codes,
        np.ones(len(tag_rows)),
        (len(posts), len(concept_vocab)),
    )
    authors, _ = _codes([p.author for p in posts], user_raw)
    on_post = ~is_product
    post_targets = np.fromiter(
        (
            post_index.get(e.target, -1) if not p else -1
            for e, p in zip(ev, is_product, strict=True)
        ),
        np.int64,
        len(ev),
    )
    user_post = _coo(
        np.concatenate([users[on_post], authors]),
        np.concatenate([post_targets[on_post], np.arange(len(posts))]),
        np.concatenate([weights[on_post], np.full(len(posts), 2.0)]),
        (n_u, len(posts)),
    )
    ok_post = on_post & (post_targets >= 0)
    received = np.bincount(authors[post_targets[ok_post]], minlength=n_u).astype(float)
    followees, _ = _codes([f.followee for f in dataset.follows], user_raw)
    return ProfileInputs(
        user_ids=[f"user:{u}" for u in user_raw],
        product_ids=product_ids,
        interactions=interactions,
        purchases=purchases,
        product_brand=product_brand,
        brand_ids=brand_vocab,
        product_category=product_category,
        product_leaf=_leaf_columns(
            [category_id(p.categories) if p.categories else "" for p in prods], cat_vocab
        ),
        category_ids=cat_vocab,
        product_price=price,
        user_concept=(user_post @ post_concept).tocsr(),
        concept_ids=concept_vocab,
        n_events=np.bincount(users, minlength=n_u).astype(float),
        active_days=_distinct_days(users, ts, n_u),
        followers=np.bincount(followees, minlength=n_u).astype(float),
        engagement_received=received,
    )


def _ancestor_closure(broader: sp.csr_matrix) -> sp.csr_matrix:
    """(I + B + B² + …) over the category → parent matrix: each category and its ancestors."""
    n = broader.shape[0]
    closure = sp.identity(n, format="csr")
    step = sp.identity(n, format="csr")
    for _ in range(32):
        step = (step @ broader).tocsr()
        if step.nnz == 0:
            break
        closure = closure + step
    return (closure > 0).astype(np.float64).tocsr()


def _edge_counts(
    graph: KnowledgeGraph, relations: list[str], dst_type: str, side: str, n: int
) -> np.ndarray:
    """Number of ``relations`` edges per source (``side="src"``) or destination node."""
    counts = np.zeros(n)
    for rel in relations:
        for c in graph.edge_blocks(rel):
            if c.dst_type == dst_type:
                counts += np.bincount(getattr(c, side), minlength=n)
    return counts


def inputs_from_graph(graph: KnowledgeGraph) -> ProfileInputs:
    """Profile inputs from a built knowledge graph (event, post and catalogue relations)."""
    n_u, n_p, n_posts = (graph.num_nodes(t) for t in ("user", "product", "post"))
    events = list(EVENT_RELATIONS.values())
    interactions = sp.csr_matrix((n_u, n_p))
    user_post = sp.csr_matrix((n_u, n_posts))
    users, ts = [np.zeros(0, np.int64)], [np.zeros(0)]
    for rel in events:
        interactions = interactions + graph.matrix(rel, "product").astype(np.float64)
        user_post = user_post + graph.matrix(rel, "post").astype(np.float64)
        for c in graph.edge_blocks(rel):
            users.append(c.src)
            ts.append(c.ts)
    user_codes, ts_all = np.concatenate(users), np.concatenate(ts)
    bought = [c for c in graph.edge_blocks("purchased") if c.dst_type == "product"]
    src = np.concatenate([np.zeros(0, np.int64), *(c.src for c in bought)])
    dst = np.concatenate([np.zeros(0, np.int64), *(c.dst for c in bought)])
    purchases = _coo(src, dst, np.ones(len(src)), (n_u, n_p))
    closure = _ancestor_closure(graph.matrix("broader").astype(np.float64))
    in_category = graph.matrix("in_category", "category")
    leaf = _leaf_of_rows(in_category)
    product_category = in_category.astype(np.float64) @ closure
    authored = graph.matrix("authored").astype(np.float64)
    per_post = _edge_counts(graph, events, "post", "dst", n_posts)
    post_concept = graph.matrix("mentions", "concept", "post").astype(np.float64)
    price = np.array(
        [graph.node_attrs(p).get("price") for p in graph.nodes("product")], dtype=float
    )
    return ProfileInputs(
        user_ids=graph.nodes("user"),
        product_ids=graph.nodes("product"),
        interactions=interactions.tocsr(),
        purchases=purchases,
        product_brand=graph.matrix("made_by").astype(np.float64),
        brand_ids=graph.nodes("brand"),
        product_category=(product_category > 0).astype(np.float64).tocsr(),
        product_leaf=leaf.astype(np.int64),
        category_ids=graph.nodes("category"),
        product_price=price,
        user_concept=((user_post + 2.0 * (authored > 0)) @ post_concept).tocsr(),
        concept_ids=graph.nodes("concept"),
        n_events=np.bincount(user_codes, minlength=n_u).astype(float),
        active_days=_distinct_days(user_codes, ts_all, n_u),
        followers=np.asarray(graph.matrix("follows").sum(axis=0)).ravel().astype(float),
        engagement_received=authored @ per_post,
    )
