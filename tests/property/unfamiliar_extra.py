"""More unfamiliar shapes (:mod:`tests.property.unfamiliar`), heavier or rarer: ids alike but
for case or normalisation, category paths that loop, one user with 100,000 events, a follow
clique, every event at the window's edge, ratings of zero, every field at its limit.

They run only with ``SHOPGRAPH_PROPERTY_EXAMPLES`` set (CI's property budget stays as it
was); a crash one of them found has its own quick regression test beside the code it fixed.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from tests.property.unfamiliar import _EN, T0, Files, Line, _events, _products, _users


def alike_ids(rng: random.Random) -> Files:
    """Ids that differ only by case, Unicode normalisation (NFC "é" and NFD "e" + accent),
    a ligature, full width or a zero-width mark: each is its own user and product."""
    stems = ("Ab", "ab", "AB", "\u00e9", "e\u0301", "\ufb01", "fi", "\uff21", "A", "A\u200d",
             "\u0130", "i\u0307", "\u03a3", "\u03c3", "\u03c2", "ß", "SS", "ss")
    events: list[Line] = [{"user": rng.choice(stems), "target": f"product:{rng.choice(stems)}",
                           "kind": rng.choice(("purchase", "view", "rate")), "value": 4,
                           "ts": T0 + i} for i in range(240)]
    return {"products.jsonl": [{"id": w, "title": f"{rng.choice(_EN)} {w}",
                                "brand": w, "categories": [w, "x"]} for w in stems],
            "users.jsonl": [{"id": w, "name": w} for w in stems], "events.jsonl": events}


def category_cycles(rng: random.Random) -> Files:
    """Category paths that loop: a > b and b > a, a category under itself, names that
    differ only by case, and one path as deep as the contract allows (32 levels)."""
    paths = (["a", "b"], ["b", "a"], ["x", "x"], ["Home", "home"], ["a", "b", "a", "b"],
             [f"level {k}" for k in range(32)])
    products = _products(30, rng, categories=lambda i: paths[i % len(paths)])
    return {"products.jsonl": products, "users.jsonl": _users(25),
            "events.jsonl": _events(rng, 250, 25, 30, ("purchase", "view"))}


def one_user_100k_events(rng: random.Random) -> Files:
    """One user with 100,000 events over 60 products; each other user has a few."""
    events: list[Line] = [{"user": "u0", "target": f"p{i % 60}", "kind": ("view", "click",
                           "purchase")[i % 3], "ts": T0 + i} for i in range(100_000)]
    events += _events(rng, 200, 40, 60, ("purchase", "view"))
    return {"products.jsonl": _products(60, rng), "users.jsonl": _users(40),
            "events.jsonl": events}


def follow_clique(rng: random.Random) -> Files:
    """Seventy users who all follow each other (4,830 follows), posting and buying."""
    follows: list[Line] = [{"follower": f"u{a}", "followee": f"u{b}"}
                           for a in range(70) for b in range(70) if a != b]
    posts: list[Line] = [{"id": f"s{i}", "author": f"u{i % 70}", "text": "love it",
                          "products": [f"p{i % 30}"]} for i in range(60)]
    return {"products.jsonl": _products(30, rng), "users.jsonl": _users(70),
            "follows.jsonl": follows, "posts.jsonl": posts,
            "events.jsonl": _events(rng, 400, 70, 30, ("purchase", "like", "view"))}


def far_timestamps(rng: random.Random) -> Files:
    """Every event at one instant: the earliest the window takes (1990-01-01), and a second
    set of users whose events are all dated past it by a day (quarantined, with the users
    kept and served cold)."""
    events = _events(rng, 200, 20, 30, ("purchase", "view"), ts=lambda i: "1990-01-01T00:00:00Z")
    events += _events(rng, 10, 20, 30, ("purchase",), ts=lambda i: "1989-12-31T00:00:00Z")
    return {"products.jsonl": _products(30, rng), "users.jsonl": _users(20),
            "events.jsonl": events}


def zero_ratings(rng: random.Random) -> Files:
    """Ratings only, every one of 0 (or below): each still says the user rated it."""
    events = _events(rng, 300, 30, 40, ("rate",))
    for i, row in enumerate(events):
        if isinstance(row, dict):
            row["value"] = (0, 0, -1, 0.0)[i % 4]
    return {"products.jsonl": _products(40, rng), "users.jsonl": _users(30),
            "events.jsonl": events}


def huge_values(rng: random.Random) -> Files:
    """Every field at its documented limit: price and values 1e12, age 150, year 9999 and
    -9999, an attribute integer of 4,000 digits, a 200,000-character id and title."""
    products = _products(25, rng, price=lambda i: 1e12 if i % 2 else 0,
                         year=lambda i: 9999 if i % 2 else -9999,
                         attributes=lambda i: {"n": 10 ** 4000, "x": -1e308})
    products.append({"id": "p" + "9" * 200_000, "title": "t" * 200_000})
    events = _events(rng, 200, 20, 25, ("rate", "purchase"))
    for row in events:
        if isinstance(row, dict) and row["kind"] == "rate":
            row["value"] = 1e12
    events.append({"user": "u1", "target": "p" + "9" * 200_000, "kind": "purchase"})
    return {"products.jsonl": products,
            "users.jsonl": [{"id": f"u{i}", "age": 150 if i % 2 else 0} for i in range(20)],
            "events.jsonl": events}


#: Shapes run only with ``SHOPGRAPH_PROPERTY_EXAMPLES`` set (CI keeps its time budget).
EXTRA_SHAPES: dict[str, Callable[[random.Random], Files]] = {
    f.__name__: f for f in (alike_ids, category_cycles, one_user_100k_events, follow_clique,
                            far_timestamps, zero_ratings, huge_values)}
