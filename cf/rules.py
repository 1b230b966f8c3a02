"""Association rules over shopping baskets (FP-growth, via mlxtend).

A basket is one user's purchases within a session window: purchases are sorted by user
and time, and a new basket starts at a new user or when a purchase comes more than
``window_seconds`` after the basket's previous one (undated purchases of a user form one
basket). Baskets become a sparse one-hot matrix; items below ``min_support`` are dropped
before mining (no itemset containing them can be frequent), then mlxtend's FP-growth
finds the frequent itemsets and its ``association_rules`` computes support, confidence
and lift. Rules with lift > 1 feed the graph's ``co_bought`` edges
(:func:`recommend.profiles.edges.co_bought_edges`).

>>> b = baskets_from_arrays(["u1", "u1", "u2", "u2", "u3"], ["a", "b", "a", "b", "c"],
...                         [0, 60, 0, 60, 0])
>>> [(r.antecedent, r.consequent, round(r.lift, 2)) for r in mine_rules(b, min_support=0.5)]
[(('product:a',), ('product:b',), 1.5), (('product:b',), ('product:a',), 1.5)]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from kg.records import Event


@dataclass(frozen=True, slots=True)
class Rule:
    """``antecedent → consequent`` (typed product ids) with its support, confidence, lift."""

    antecedent: tuple[str, ...]
    consequent: tuple[str, ...]
    support: float
    confidence: float
    lift: float


@dataclass(frozen=True)
class Baskets:
    """Baskets × items one-hot (CSR, bool), with item ids and each basket's user."""

    matrix: sp.csr_matrix
    item_ids: list[str]
    basket_user: np.ndarray

    def __len__(self) -> int:
        return self.matrix.shape[0]


def _typed(item: str) -> str:
    return item if item.startswith("product:") else f"product:{item}"


def baskets_from_arrays(
    users: Sequence[str],
    items: Sequence[str],
    ts: Sequence[float | None] | np.ndarray,
    *,
    window_seconds: float = 86400.0,
) -> Baskets:
    """Baskets from parallel purchase arrays (user, item, unix time or None/NaN)."""
    if not (len(users) == len(items) == len(ts)):
        raise ValueError("baskets_from_arrays: users, items and ts differ in length")
    if len(users) == 0:
        return Baskets(sp.csr_matrix((0, 0), dtype=bool), [], np.zeros(0, dtype=object))
    user_vocab, u = np.unique(np.asarray(users, dtype=str), return_inverse=True)
    item_vocab, it = np.unique(np.asarray(items, dtype=str), return_inverse=True)
    t = np.array([np.nan if x is None else x for x in ts], dtype=float)
    t = np.where(np.isnan(t), -np.inf, t)  # undated purchases: one basket, before the rest
    order = np.lexsort((t, u))
    u, it, t = u[order], it[order], t[order]
    with np.errstate(invalid="ignore"):  # -inf - -inf: two undated purchases, no gap
        gap = np.diff(t, prepend=-np.inf)
        new = np.r_[True, u[1:] != u[:-1]] | (gap > window_seconds)
    basket = np.cumsum(new) - 1
    m = sp.csr_matrix(
        (np.ones(len(it), bool), (basket, it)),
        shape=(int(basket[-1]) + 1, len(item_vocab)),
        dtype=bool,
    )
    return Baskets(m, [_typed(x) for x in item_vocab.tolist()], user_vocab[u[new]])


def baskets_from_events(events: Sequence[Event], *, window_seconds: float = 86400.0) -> Baskets:
    """Baskets of the purchase events on products."""
    bought = [e for e in events if e.kind == "purchase" and e.target_type == "product"]
    return baskets_from_arrays(
        [e.user for e in bought],
        [e.target for e in bought],
        [e.ts for e in bought],
        window_seconds=window_seconds,
    )


def mine_rules(
    baskets: Baskets,
    *,
    min_support: float = 0.01,
    min_count: int = 0,
    min_confidence: float = 0.0,
    min_lift: float = 1.0,
    max_len: int = 3,
) -> list[Rule]:
    """Rules with support ≥ ``min_support`` and in ≥ ``min_count`` baskets, confidence ≥
    ``min_confidence`` and lift > ``min_lift`` (strictly), sorted by lift, confidence, ids."""
    import pandas as pd
    from mlxtend.frequent_patterns import association_rules, fpgrowth

    n = len(baskets)
    if n == 0:
        return []
    min_support = max(min_support, min_count / n)
    m = baskets.matrix.tocsc()
    keep = np.flatnonzero(np.diff(m.indptr) >= min_support * n)
    if len(keep) < 2:
        return []
    columns = [str(i) for i in keep]  # pandas wants string names on a sparse frame
    frame = pd.DataFrame.sparse.from_spmatrix(m[:, keep].astype(bool), columns=columns)
    itemsets = fpgrowth(frame, min_support=min_support, max_len=max_len, use_colnames=True)
    if itemsets.empty or itemsets["itemsets"].map(len).max() < 2:
        return []
    table = association_rules(
        itemsets,
        num_itemsets=n,
        metric="lift",
        min_threshold=min_lift,
        return_metrics=["support", "confidence", "lift"],
    )
    ids = baskets.item_ids
    rules = [
        Rule(
            tuple(sorted(ids[int(i)] for i in a)),
            tuple(sorted(ids[int(i)] for i in c)),
            float(s),
            float(conf),
            float(lift),
        )
        for a, c, s, conf, lift in zip(
            table["antecedents"],
            table["consequents"],
            table["support"],
            table["confidence"],
            table["lift"],
            strict=True,
        )
        if lift > min_lift and conf >= min_confidence
    ]
    rules.sort(key=lambda r: (-r.lift, -r.confidence, r.antecedent, r.consequent))
    return rules


def mine_pair_rules(
    baskets: Baskets,
    *,
    min_support: float = 0.01,
    min_count: int = 0,
    min_confidence: float = 0.0,
    min_lift: float = 1.0,
) -> list[Rule]:
    """The single-item rules ``a → b`` of :func:`mine_rules` (``max_len=2``), counted with
    one sparse product (baskets × items)ᵀ (baskets × items): seconds where FP-growth over
    dense baskets (a shop's heavy buyers) takes minutes for pairs and hours for triples."""
    n = len(baskets)
    if n == 0:
        return []
    min_support = max(min_support, min_count / n)
    m = sp.csr_matrix(baskets.matrix, dtype=np.float64)
    count = np.asarray(m.sum(axis=0)).ravel()
    keep = np.flatnonzero(count >= min_support * n)
    if len(keep) < 2:
        return []
    m, count = m[:, keep], count[keep]
    co = sp.triu(sp.csr_matrix(m.T @ m), k=1).tocoo()
    ok = co.data >= min_support * n
    a, b, c = co.row[ok], co.col[ok], co.data[ok]
    src, dst, both = np.r_[a, b], np.r_[b, a], np.r_[c, c]
    confidence = both / count[src]
    lift = confidence / (count[dst] / n)
    ok = (lift > min_lift) & (confidence >= min_confidence)
    ids = baskets.item_ids
    rules = [Rule((ids[int(keep[s])],), (ids[int(keep[d])],), float(x / n), float(conf),
                  float(li))
             for s, d, x, conf, li in zip(src[ok], dst[ok], both[ok], confidence[ok], lift[ok],
                                          strict=True)]
    rules.sort(key=lambda r: (-r.lift, -r.confidence, r.antecedent, r.consequent))
    return rules
