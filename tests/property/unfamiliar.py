"""Unfamiliar dataset shapes written as raw JSONL folders, as a stranger's export would be.

Where :mod:`tests.property.datasets` draws tiny *valid* :class:`~kg.records.Dataset` objects,
each shape here is one realistic way a hidden dataset may differ from those we tuned on (only
ratings, no purchases, tied or missing timestamps, one giant user, non-English text, ids
repeated across files, prices as strings, a ``relations.jsonl``, ...). They are written line by
line, so a shape may hold lines the contract rejects (docs/dataset.md); :func:`expected_lines`
says how many lines each file holds, so a test can check that every line was either accepted
or quarantined. Sizes are small (tens of users and products) so every shape builds in seconds.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

Line = dict[str, Any] | str  # a record, or a raw line written as it is
Files = dict[str, list[Line]]

T0 = 1_650_000_000
_ZH = ("红色", "连衣裙", "咖啡杯", "台灯", "真皮", "钱包", "运动鞋", "夏季")
_AR = ("فستان", "أحمر", "كوب", "قهوة", "مصباح", "حذاء", "رياضي", "صيف")
_EMOJI = ("🔥", "😍", "👗", "☕", "💡", "👟", "🇯🇵", "👩🏽‍💻")
_EN = ("red", "dress", "mug", "lamp", "leather", "wallet", "runner", "summer")


def _products(n: int, rng: random.Random, **extra: Callable[[int], Any]) -> list[Line]:
    rows: list[Line] = []
    for i in range(n):
        row: dict[str, Any] = {"id": f"p{i}", "title": f"{rng.choice(_EN)} {rng.choice(_EN)} {i}"}
        row.update({k: f(i) for k, f in extra.items()})
        rows.append(row)
    return rows


def _users(n: int) -> list[Line]:
    return [{"id": f"u{i}"} for i in range(n)]


def _events(rng: random.Random, n: int, users: int, products: int, kinds: tuple[str, ...],
            ts: Callable[[int], Any] = lambda i: T0 + 3600 * i) -> list[Line]:
    rows: list[Line] = []
    for i in range(n):
        kind = rng.choice(kinds)
        row: dict[str, Any] = {"user": f"u{rng.randrange(users)}",
                               "target": f"p{rng.randrange(products)}", "kind": kind}
        if kind == "rate":
            row["value"] = rng.choice((1, 2, 3, 4, 5, 4.5))
        stamp = ts(i)
        if stamp is not None:
            row["ts"] = stamp
        rows.append(row)
    return rows


def only_ratings(rng: random.Random) -> Files:
    """Ratings and nothing else: titles only, no categories, brands, posts or follows."""
    return {"products.jsonl": _products(40, rng), "users.jsonl": _users(30),
            "events.jsonl": _events(rng, 300, 30, 40, ("rate",))}


def views_and_clicks(rng: random.Random) -> Files:
    """Browsing only: views and clicks, not one purchase, cart or rating."""
    return {"products.jsonl": _products(40, rng, categories=lambda i: ["shop", f"c{i % 4}"]),
            "users.jsonl": _users(30),
            "events.jsonl": _events(rng, 300, 30, 40, ("view", "view", "click"))}


def tied_timestamps(rng: random.Random) -> Files:
    """Every event at the same second (a nightly batch export)."""
    return {"products.jsonl": _products(30, rng), "users.jsonl": _users(25),
            "events.jsonl": _events(rng, 250, 25, 30, ("purchase", "view"), ts=lambda i: T0)}


def no_timestamps(rng: random.Random) -> Files:
    """No ``ts`` anywhere; purchases and carts."""
    return {"products.jsonl": _products(30, rng, brand=lambda i: f"B{i % 3}"),
            "users.jsonl": _users(25),
            "events.jsonl": _events(rng, 250, 25, 30, ("purchase", "cart"), ts=lambda i: None)}


def giant_user(rng: random.Random) -> Files:
    """One user bought every product; each of the others bought one or two."""
    events = [{"user": "u0", "target": f"p{i}", "kind": "purchase", "ts": T0 + i}
              for i in range(50)]
    events += _events(rng, 40, 30, 50, ("purchase",))
    return {"products.jsonl": _products(50, rng), "users.jsonl": _users(30), "events.jsonl": events}


def single_event_users(rng: random.Random) -> Files:
    """Nine users in ten have a single event; a few have many."""
    events = [{"user": f"u{i}", "target": f"p{rng.randrange(30)}", "kind": "purchase",
               "ts": T0 + i} for i in range(5, 60)]
    events += [{"user": f"u{i % 5}", "target": f"p{rng.randrange(30)}", "kind": "purchase",
                "ts": T0 + 100 + i} for i in range(60)]
    return {"products.jsonl": _products(30, rng), "users.jsonl": _users(60), "events.jsonl": events}


def bare_products(rng: random.Random) -> Files:
    """Products with no category, brand or description, titles without words."""
    titles = ("12345", "-", "???", "#", "…", "0", "X", "%%")
    products: list[Line] = [{"id": f"p{i}", "title": titles[i % len(titles)]} for i in range(30)]
    return {"products.jsonl": products, "users.jsonl": _users(20),
            "events.jsonl": _events(rng, 200, 20, 30, ("purchase", "like"))}


def multilingual(rng: random.Random) -> Files:
    """Chinese, Arabic and emoji titles, descriptions, brands, categories, posts and comments."""
    def words(k: int) -> str:
        return " ".join(rng.choice(rng.choice((_ZH, _AR, _EMOJI))) for _ in range(k))
    products: list[Line] = [
        {"id": f"p{i}", "title": words(3), "description": words(12), "brand": rng.choice(_ZH),
         "categories": [rng.choice(_AR), rng.choice(_ZH)]} for i in range(30)]
    users = [{"id": f"u{i}", "name": rng.choice(_ZH), "bio": words(5),
              "location": rng.choice(_AR)} for i in range(20)]
    posts: list[Line] = [{"id": f"s{i}", "author": f"u{i % 20}", "text": words(15) + " #" +
                          rng.choice(_ZH), "products": [f"p{rng.randrange(30)}"], "ts": T0 + i}
                         for i in range(40)]
    events = _events(rng, 200, 20, 30, ("purchase", "view", "like"))
    events += [{"user": f"u{i % 20}", "target": f"p{i % 30}", "kind": "comment",
                "text": words(6), "ts": T0 + i} for i in range(30)]
    return {"products.jsonl": products, "users.jsonl": users, "posts.jsonl": posts,
            "events.jsonl": events}


def long_texts(rng: random.Random) -> Files:
    """Descriptions, bios and posts of 30k-60k characters (over ``--max-text-chars``)."""
    def essay(n: int) -> str:
        return " ".join(rng.choice(_EN) for _ in range(n // 6))
    products = _products(20, rng, description=lambda i: essay(30_000 + 1000 * i))
    posts: list[Line] = [{"id": f"s{i}", "author": f"u{i % 15}", "text": essay(60_000),
                          "products": [f"p{i % 20}"]} for i in range(6)]
    return {"products.jsonl": products, "users.jsonl": _users(15), "posts.jsonl": posts,
            "events.jsonl": _events(rng, 150, 15, 20, ("purchase", "view"))}


def catalogue_heavy(rng: random.Random) -> Files:
    """Far more products (400) than events (25)."""
    return {"products.jsonl": _products(400, rng, categories=lambda i: [f"c{i % 9}"]),
            "users.jsonl": _users(12), "events.jsonl": _events(rng, 25, 12, 400, ("purchase",))}


def social_non_buyers(rng: random.Random) -> Files:
    """Follows only among users who never buy; posts tag products nobody buys."""
    follows: list[Line] = [{"follower": f"u{i}", "followee": f"u{20 + (i + 1) % 10}"}
                           for i in range(20, 30)]
    posts: list[Line] = [{"id": f"s{i}", "author": f"u{20 + i % 10}", "text": "look at this",
                          "products": [f"p{30 + i % 10}"]} for i in range(20)]
    buys = [{"user": f"u{rng.randrange(20)}", "target": f"p{rng.randrange(30)}",
             "kind": "purchase", "ts": T0 + i} for i in range(120)]
    likes = [{"user": f"u{20 + i % 10}", "target": f"s{i % 20}", "target_type": "post",
              "kind": "like"} for i in range(30)]
    return {"products.jsonl": _products(40, rng), "users.jsonl": _users(30),
            "follows.jsonl": follows, "posts.jsonl": posts, "events.jsonl": buys + likes}


def mixed_types(rng: random.Random) -> Files:
    """Prices as strings (dropped with a note) and numbers, integer ids, ISO and unix
    timestamps, ratings of zero and below, one category as a bare string."""
    products: list[Line] = []
    for i in range(30):
        price: Any = (f"{i}.99" if i % 5 == 0 else i * 1.5 if i % 2 else i)
        products.append({"id": i, "title": f"item {i}", "price": price,
                         "categories": "Misc" if i % 3 else ["A", "B"]})
    users = [{"id": i, "age": 20 + i} for i in range(20)]
    events: list[Line] = []
    for i in range(200):
        ts: Any = T0 + i if i % 2 else f"2023-03-0{1 + i % 9}T10:00:00"
        events.append({"user": rng.randrange(20), "target": str(1 + rng.randrange(29)),
                       "kind": "rate", "value": rng.choice((-2, 0, 0.5, 5)), "ts": ts})
    return {"products.jsonl": products, "users.jsonl": users, "events.jsonl": events}


def shared_ids(rng: random.Random) -> Files:
    """The same raw ids for users, products and posts, conflicting and identical repeats, and
    events whose raw target is ambiguous."""
    products = _products(20, rng)
    products.append(dict(products[3]))  # identical repeat: merged
    products.append({"id": "p4", "title": "another title"})  # conflicting: rejected
    users = [{"id": f"p{i}"} for i in range(15)]
    posts: list[Line] = [{"id": f"p{i}", "author": f"p{i % 15}", "text": "mine",
                          "products": [f"p{i}"]} for i in range(5)]
    events: list[Line] = [{"user": f"p{rng.randrange(15)}", "kind": "purchase", "ts": T0 + i,
                           "target": f"product:p{rng.randrange(20)}"} for i in range(120)]
    events.append({"user": "p1", "target": "p2", "kind": "like"})  # ambiguous: rejected
    events.append({"user": "p1", "target": "p9", "kind": "view"})  # product only: accepted
    return {"products.jsonl": products, "users.jsonl": users, "posts.jsonl": posts,
            "events.jsonl": events}


def with_relations(rng: random.Random) -> Files:
    """A ``relations.jsonl`` (also_bought to described and undescribed products, bad lines)."""
    relations: list[Line] = [{"relation": "also_bought", "src": f"product:p{i}",
                              "dst": f"product:p{(i * 7) % 30}" if i % 4 else f"product:x{i}",
                              "weight": 1 + i % 3} for i in range(1, 30)]
    relations += [{"relation": "also_viewed", "src": "product:p1", "dst": "product:p2",
                   "weight": float("nan")},
                  {"relation": "follows", "src": "product:p1", "dst": "product:p2"}, "{oops"]
    return {"products.jsonl": _products(30, rng), "users.jsonl": _users(20),
            "events.jsonl": _events(rng, 150, 20, 30, ("purchase", "view")),
            "relations.jsonl": relations}


def broken_lines(rng: random.Random) -> Files:
    """Garbage between good lines: not JSON, arrays, nulls, unknown users, missing fields."""
    events = _events(rng, 150, 20, 30, ("purchase", "cart"))
    events += ["not json", "[1, 2]", "null", '{"user": "nobody", "target": "p1", "kind": "view"}',
               '{"user": "u1", "target": "p1"}',
               '{"user": "u1", "target": "p1", "kind": "teleport"}',
               '{"user": "u1", "target": "p1", "kind": "view", "ts": 99}']
    products = [*_products(30, rng), '{"id": "p99"}', '{"id": " ", "title": "x"}']
    return {"products.jsonl": products, "users.jsonl": _users(20), "events.jsonl": events}


def post_events_only(rng: random.Random) -> Files:
    """Users only like and share posts that tag products; no event names a product."""
    posts: list[Line] = [{"id": f"s{i}", "author": f"u{i % 10}", "text": f"wearing my p{i % 25}",
                          "products": [f"p{i % 25}"], "ts": T0 + i} for i in range(40)]
    events: list[Line] = [{"user": f"u{rng.randrange(20)}", "target": f"post:s{rng.randrange(40)}",
                           "kind": rng.choice(("like", "share")), "ts": T0 + i} for i in range(200)]
    return {"products.jsonl": _products(25, rng), "users.jsonl": _users(20), "posts.jsonl": posts,
            "events.jsonl": events}


def heavy_buyers(rng: random.Random) -> Files:
    """Every user buys half the catalogue on one day (dense baskets: the co_bought rules'
    itemsets explode unless only pairs are mined)."""
    events: list[Line] = [{"user": f"u{u}", "target": f"p{p}", "kind": "purchase",
                           "ts": T0 + 86400 * (u % 3) + p}
                          for u in range(40) for p in rng.sample(range(40), 20)]
    return {"products.jsonl": _products(40, rng), "users.jsonl": _users(40),
            "events.jsonl": events}


#: ids a stranger's export may hold: URL and path syntax, right-to-left and zero-width marks,
#: combining accents, an emoji sequence, words JSON and Windows treat specially, a long one
_ODD_IDS = ("מוצר/1?x=#", "a:b", "a/b", "a#b", "%20", "..", "a b", "\u200b", "e\u0301",
            "👩🏽‍💻", "\u202eevil", "a\\b", "<b>", "'\"", "NaN", "null", "0", "-1", "CON",
            "x" * 3000)


def odd_ids(rng: random.Random) -> Files:
    """Users and products share the same odd raw ids (".." and the bidi override refused);
    one id with a leading space (refused) and the event naming it (refused with it)."""
    products: list[Line] = [{"id": w, "title": f"{rng.choice(_EN)} {i}"}
                            for i, w in enumerate(_ODD_IDS)]
    products.append({"id": " x", "title": "spaced"})
    events: list[Line] = [{"user": rng.choice(_ODD_IDS), "kind": "purchase", "ts": T0 + i,
                           "target": f"product:{rng.choice(_ODD_IDS)}"} for i in range(200)]
    events.append({"user": "0", "target": "product: x", "kind": "view"})
    return {"products.jsonl": products, "users.jsonl": [{"id": w} for w in _ODD_IDS],
            "events.jsonl": events}


def follow_cycles(rng: random.Random) -> Files:
    """A ring of follows, mutual pairs, a clique of five, three self-follows (refused), an
    identical repeat (merged) and a repeat with another time (a conflicting duplicate)."""
    follows: list[Line] = [{"follower": f"u{i}", "followee": f"u{(i + 1) % 20}"}
                           for i in range(20)]
    follows += [{"follower": f"u{a}", "followee": f"u{b}"}
                for a in range(5) for b in range(5) if b not in (a, (a + 1) % 20)]
    follows += [{"follower": f"u{i}", "followee": f"u{i}"} for i in range(3)]
    follows += [{"follower": "u0", "followee": "u1"}, {"follower": "u0", "followee": "u1",
                                                       "ts": T0}]
    return {"products.jsonl": _products(20, rng), "users.jsonl": _users(20),
            "follows.jsonl": follows, "events.jsonl": _events(rng, 150, 20, 20, ("purchase",))}


def missing_images(rng: random.Random) -> Files:
    """Products and posts name images that are missing, absolute or lead out of the folder
    (each quarantined with line 0, the records kept)."""
    paths = ("img/{i}.jpg", "/etc/passwd", "../x{i}.png", "img")
    products = _products(20, rng, image=lambda i: paths[i % 4].format(i=i))
    posts: list[Line] = [{"id": f"s{i}", "author": f"u{i % 15}", "text": "new pic",
                          "images": [f"nope{i}.png"], "products": [f"p{i}"]} for i in range(10)]
    return {"products.jsonl": products, "users.jsonl": _users(15), "posts.jsonl": posts,
            "events.jsonl": _events(rng, 150, 15, 20, ("purchase", "view"))}


def one_event_each(rng: random.Random) -> Files:
    """Every user has exactly one event: nobody has two products to hold one out from."""
    events: list[Line] = [{"user": f"u{i}", "target": f"p{rng.randrange(20)}",
                           "kind": "purchase", "ts": T0 + i} for i in range(40)]
    return {"products.jsonl": _products(20, rng), "users.jsonl": _users(40),
            "events.jsonl": events}


def everyone_bought_everything(rng: random.Random) -> Files:
    """Every user bought every product: nothing is left to recommend to anyone."""
    events: list[Line] = [{"user": f"u{u}", "target": f"p{p}", "kind": "purchase",
                           "ts": T0 + 100 * u + p} for u in range(25) for p in range(12)]
    return {"products.jsonl": _products(12, rng), "users.jsonl": _users(25),
            "events.jsonl": events}


SHAPES: dict[str, Callable[[random.Random], Files]] = {
    f.__name__: f for f in (
        only_ratings, views_and_clicks, tied_timestamps, no_timestamps, giant_user,
        single_event_users, bare_products, multilingual, long_texts, catalogue_heavy,
        social_non_buyers, mixed_types, shared_ids, with_relations, broken_lines,
        post_events_only, heavy_buyers, odd_ids, follow_cycles, missing_images, one_event_each,
        everyone_bought_everything)}


def _line(row: Line) -> str:
    return row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)


def write_shape(name: str, folder: Path, seed: int = 0) -> dict[str, int]:
    """Write shape ``name`` as a dataset folder; the number of lines of each file."""
    from tests.property.unfamiliar_extra import EXTRA_SHAPES

    files = {**SHAPES, **EXTRA_SHAPES}[name](random.Random(seed))
    folder.mkdir(parents=True, exist_ok=True)
    for file, rows in files.items():
        (folder / file).write_text("".join(_line(r) + "\n" for r in rows), encoding="utf-8")
    return expected_lines(files)


def expected_lines(files: Files) -> dict[str, int]:
    """How many non-blank lines each file of a shape holds."""
    return {file: len(rows) for file, rows in files.items()}
