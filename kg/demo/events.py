"""Behaviour: shopping sessions (view > click > cart > purchase > rate) and post reactions.

A session's product comes from the user's preferred categories, favourite brands, a
product an account they follow posted about (after that post, and with a boost), or the
popular catalogue. In the looks world, browsing a category or a brand, a shopper with a look
sees a few products (:data:`BROWSED`) and takes the first one in their look, if any. Each
funnel step's chance grows with taste fit (category, brand, price level, look), social
exposure and popularity, so purchases are predictable. A purchase is often followed by one of
its complementary category (shoes then socks), usually a fixed partner product, which gives
item-to-item co-purchase rules. Everything is numpy: a million events take a few seconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from kg.demo.catalogue import Catalogue
from kg.demo.lines import chunked_rows
from kg.demo.phrasing import COMMENTS
from kg.demo.posts import Feed
from kg.demo.sampling import csr, pick_in_rows
from kg.demo.social import SPAN_S, START_TS, Society
from kg.demo.vocabulary import COMPLEMENTS, LEAVES

KINDS: tuple[str, ...] = ("view", "click", "like", "comment", "share", "cart", "purchase", "rate")
_K = {k: i for i, k in enumerate(KINDS)}
END_TS = START_TS + SPAN_S
#: How many products a shopper browsing a category or a brand looks at before choosing.
BROWSED = 6


@dataclass(frozen=True)
class Behaviour:
    """All events as parallel arrays, sorted by time."""

    user: np.ndarray
    target: np.ndarray  # product or post index
    on_post: np.ndarray  # bool: target is a post
    kind: np.ndarray  # index into KINDS
    value: np.ndarray  # rating, NaN if none
    ts: np.ndarray
    comment: np.ndarray  # index into COMMENTS, -1 if none


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _sessions(
    rng: np.random.Generator, catalogue: Catalogue, society: Society, feed: Feed, n: int
) -> dict[str, np.ndarray]:
    """Session user, product, start time and taste score."""
    weight = np.where(society.spammer, 0.01, society.activity)
    user = rng.choice(len(society.users), size=n, p=weight / weight.sum())
    valid = society.prefs[user] >= 0
    col = (rng.random(n) * valid.sum(axis=1)).astype(np.int64)
    browsed = BROWSED if (society.look >= 0).any() else 1  # without looks: the one seen
    product = _browse(catalogue, society, user,
                      catalogue.sample_in_leaves(rng, np.repeat(society.prefs[user, col], browsed)))
    source = rng.random(n)
    by_brand = source >= 0.5
    brand_products = _browse(catalogue, society, user, catalogue.sample_of_brands(
        rng, np.repeat(society.fav_brands[user, rng.integers(0, 2, n)], browsed)))
    product = np.where(by_brand, brand_products, product)
    popular = source >= 0.9
    product = np.where(
        popular, catalogue.sample_in_leaves(rng, rng.integers(0, len(LEAVES), n)), product
    )
    ts = START_TS + rng.integers(0, SPAN_S, n).astype(np.float64)

    # social: a product that someone the user follows posted about, seen after the post
    social = (source >= 0.65) & (source < 0.9)
    follow_offsets, followees = society.follows_of()
    pos, has = pick_in_rows(rng, follow_offsets, user)
    followee = followees[np.minimum(pos, len(followees) - 1)] if len(followees) else user
    shown = np.flatnonzero(feed.product >= 0)
    post_offsets, post_order = csr(feed.author[shown], len(society.users))
    ppos, has_post = pick_in_rows(rng, post_offsets, followee)
    social &= has & has_post
    post = shown[post_order[np.minimum(ppos, len(post_order) - 1)]] if len(shown) else ppos
    product = np.where(social, feed.product[post] if len(shown) else product, product)
    delay = rng.exponential(2.5 * 86_400, n)
    ts = np.where(social, np.minimum(feed.ts[post] + delay if len(shown) else ts, END_TS - 1), ts)

    in_pref = (society.prefs[user] == catalogue.leaf[product][:, None]).any(axis=1)
    fav = (society.fav_brands[user] == catalogue.brand[product][:, None]).any(axis=1)
    gap = np.abs(catalogue.tier[product] - society.price_level[user])
    # +1 in the user's look, -1 out of it, 0 for users without a look
    look = 2 * society.in_look(user, catalogue.colour[product]) - (society.look[user] >= 0)
    score = (
        1.1 * in_pref
        + 0.9 * fav
        - 0.6 * gap
        + 1.2 * look
        + 0.9 * social
        + 0.25 * np.log(catalogue.popularity[product])
    )
    return {"user": user, "product": product, "ts": ts, "score": score}


def _browse(catalogue: Catalogue, society: Society, user: np.ndarray, seen: np.ndarray
            ) -> np.ndarray:
    """The product each user takes of those they saw (``seen``: as many per user, row-major):
    the first in their look, else the first."""
    seen = seen.reshape(len(user), -1)
    liked = society.in_look(np.repeat(user, seen.shape[1]), catalogue.colour[seen.ravel()])
    liked = liked.reshape(seen.shape)
    first = np.where(liked.any(axis=1), liked.argmax(axis=1), 0)
    return seen[np.arange(len(user)), first]


def _partner(rng: np.random.Generator, catalogue: Catalogue) -> np.ndarray:
    """Each product's complementary partner product (-1 if its category has none)."""
    comp = np.array(
        [
            next((j for j, m in enumerate(LEAVES) if m.slug == COMPLEMENTS.get(lf.slug)), -1)
            for lf in LEAVES
        ]
    )
    target = comp[catalogue.leaf]
    partner = catalogue.sample_in_leaves(rng, np.maximum(target, 0))
    return np.where(target >= 0, partner, -1)


def build_behaviour(
    rng: np.random.Generator, catalogue: Catalogue, society: Society, feed: Feed, n_events: int
) -> Behaviour:
    """Exactly ``n_events`` events: shopping funnels first, post reactions fill the rest."""
    s = _sessions(rng, catalogue, society, feed, max(1, int(0.42 * n_events)))
    n = len(s["user"])
    score = s["score"]
    click = rng.random(n) < _sigmoid(-0.9 + score)
    cart = click & (rng.random(n) < _sigmoid(-1.6 + score))
    buy = cart & (rng.random(n) < _sigmoid(-0.2 + score))
    rate = buy & (rng.random(n) < 0.5)
    t0 = s["ts"]
    t_buy = np.minimum(t0 + rng.integers(300, 86_400, n), END_TS - 1)
    stars = np.clip(np.rint(3.0 + 0.8 * score + rng.normal(0, 0.8, n)), 1, 5)

    partner = _partner(rng, catalogue)
    p = s["product"]
    extra = buy & (partner[p] >= 0) & (rng.random(n) < 0.45)
    # keep the sessions (in their random order) whose events fit 72 % of the budget
    size = 1 + click.astype(np.int64) + cart + buy + rate + 3 * extra
    m = int(np.searchsorted(np.cumsum(size), 0.72 * n_events, side="right"))
    kept = np.arange(n) < max(1, m)
    click, cart, buy, rate, extra = (x & kept for x in (click, cart, buy, rate, extra))
    comp_leaf_any = catalogue.sample_in_leaves(rng, catalogue.leaf[np.maximum(partner[p], 0)])
    comp = np.where(rng.random(n) < 0.65, partner[p], comp_leaf_any)[extra]
    t_comp = np.minimum(t_buy[extra] + rng.integers(600, 3 * 86_400, len(comp)), END_TS - 1)

    u = s["user"]
    parts = [  # (user, product, kind, value, ts)
        (u[kept], p[kept], "view", None, t0[kept]),
        (u[click], p[click], "click", None, t0[click] + rng.integers(5, 120, click.sum())),
        (u[cart], p[cart], "cart", None, t0[cart] + rng.integers(120, 1800, cart.sum())),
        (u[buy], p[buy], "purchase", None, t_buy[buy]),
        (
            u[rate],
            p[rate],
            "rate",
            stars[rate],
            np.minimum(t_buy[rate] + rng.integers(86_400, 14 * 86_400, rate.sum()), END_TS),
        ),
        (u[extra], comp, "view", None, t_comp - 900),
        (u[extra], comp, "cart", None, t_comp - 300),
        (u[extra], comp, "purchase", None, t_comp),
    ]
    n_prod = sum(len(x[0]) for x in parts)
    n_post = max(0, n_events - n_prod) + n_events // 50 + 10  # slack for duplicates
    pu, pt, pk, pts, pc = _reactions(rng, catalogue, society, feed, n_post)
    # compact dtypes: at a million events the arrays below dominate the memory
    users = np.concatenate([*(x[0] for x in parts), pu], dtype=np.int32)
    targets = np.concatenate([*(x[1] for x in parts), pt], dtype=np.int32)
    kinds = np.concatenate([*(np.full(len(x[0]), _K[x[2]]) for x in parts), pk], dtype=np.int8)
    nan = np.float32(np.nan)
    values = np.concatenate(
        [*(np.full(len(x[0]), nan) if x[3] is None else x[3] for x in parts), np.full(n_post, nan)],
        dtype=np.float32,
    )
    times = np.rint(np.concatenate([*(x[4] for x in parts), pts], dtype=np.float64))
    del parts, pu, pt, pk, pts
    on_post = np.concatenate([np.zeros(n_prod, bool), np.ones(n_post, bool)])
    comment = np.concatenate([np.full(n_prod, -1), pc], dtype=np.int8)
    # by time, user, funnel step; a repeated (user, target, kind, time) is dropped
    order = np.lexsort((targets, on_post, kinds, users, times))
    keys = (times, users, kinds, on_post, targets)
    same = np.ones(len(order) - 1, dtype=bool)
    for key in keys:
        same &= key[order[1:]] == key[order[:-1]]
    order = order[np.concatenate(([True], ~same))]
    surplus = len(order) - n_events
    if surplus > 0:
        reactions = np.flatnonzero(order >= n_prod)
        drop = rng.choice(reactions, size=min(surplus, len(reactions)), replace=False)
        order = np.delete(order, drop)[:n_events]
    return Behaviour(
        users[order],
        targets[order],
        on_post[order],
        kinds[order],
        values[order],
        times[order],
        comment[order],
    )


def _reactions(
    rng: np.random.Generator, catalogue: Catalogue, society: Society, feed: Feed, n: int
) -> tuple[np.ndarray, ...]:
    """Views, likes, comments and shares of posts by followers and like-minded users."""
    n_posts = len(feed.ts)
    user = rng.choice(len(society.users), size=n, p=society.activity / society.activity.sum())
    follow_offsets, followees = society.follows_of()
    pos, has = pick_in_rows(rng, follow_offsets, user)
    author = followees[np.minimum(pos, max(0, len(followees) - 1))] if len(followees) else user
    by_author_offsets, by_author = csr(feed.author, len(society.users))
    apos, has_post = pick_in_rows(rng, by_author_offsets, author)
    post = by_author[np.minimum(apos, n_posts - 1)]
    followed = has & has_post & (rng.random(n) < 0.55)

    about = np.flatnonzero(feed.product >= 0)
    leaf_offsets, by_leaf = csr(catalogue.leaf[feed.product[about]], len(LEAVES))
    valid = society.prefs[user] >= 0
    col = (rng.random(n) * valid.sum(axis=1)).astype(np.int64)
    lpos, has_leaf = pick_in_rows(rng, leaf_offsets, society.prefs[user, col])
    liked_leaf = about[by_leaf[np.minimum(lpos, len(by_leaf) - 1)]] if len(about) else post
    anywhere = rng.integers(0, n_posts, n)
    post = np.where(
        followed, post, np.where(has_leaf & (rng.random(n) < 0.8), liked_leaf, anywhere)
    )
    positive = feed.sentiment[post] == 2
    kind = rng.choice(
        [_K["view"], _K["like"], _K["comment"], _K["share"]], size=n, p=[0.45, 0.33, 0.12, 0.10]
    )
    kind = np.where((kind == _K["view"]) & positive & (rng.random(n) < 0.2), _K["like"], kind)
    ts = np.minimum(feed.ts[post] + rng.exponential(1.5 * 86_400, n), END_TS)
    comment = np.where(kind == _K["comment"], rng.integers(0, len(COMMENTS), n), -1)
    return user, post, kind, ts, comment


def event_lines(
    behaviour: Behaviour, product_ids: list[str], user_ids: list[str], post_ids: list[str]
) -> Iterator[str]:
    """The events as JSON Lines, byte for byte what :func:`kg.jsonl.write_jsonl` writes for
    :class:`kg.records.Event` records (typed targets), formatted without per-row dicts."""
    users = [json.dumps(u) for u in user_ids]
    products = [json.dumps(f"product:{p}") for p in product_ids]
    posts = [json.dumps(f"post:{p}") for p in post_ids]
    kinds = [json.dumps(k) for k in KINDS]
    comments = [json.dumps(c, ensure_ascii=False) for c in COMMENTS]
    b = behaviour
    columns = (b.user, b.target, b.on_post, b.kind, b.value, b.ts, b.comment)
    for u, t, on_post, k, v, ts, c in chunked_rows(columns):
        target = posts[t] if on_post else products[t]
        value = f',"value":{v!r}' if v == v else ""  # v != v only for NaN
        text = f',"text":{comments[c]}' if c >= 0 else ""
        head = f'{{"user":{users[u]},"target":{target},"kind":{kinds[k]}'
        yield f'{head}{value},"ts":{ts!r}{text}}}\n'
