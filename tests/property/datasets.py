"""Hypothesis strategies for random *valid* datasets of every shape, and the shape of one.

Every optional field of every record may be missing; ids, titles, prices, timestamps and
texts are drawn from tiny pools so ties and repeats are the rule, not the exception. The
sizes stay tiny (at most 6 users, 6 products) so a few hundred datasets build in minutes.
"""

from __future__ import annotations

from hypothesis import strategies as st

from kg.records import EVENT_KINDS, Dataset, Event, Follow, Post, Product, User

_WORDS = ("red", "linen", "shirt", "lamp", "oak", "desk", "soft", "mug", "cotton", "blue")
_CATEGORIES = (("home",), ("home", "lighting"), ("fashion",), ("fashion", "tops", "shirts"))
_TIMES = (1_600_000_000.0, 1_600_000_000.0, 1_600_003_600.0, 1_600_500_000.0, 1_700_000_000.0)


def _maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy)


_text = st.lists(st.sampled_from((*_WORDS, "#cosy", "#ootd", "love", "hate")), max_size=6).map(
    " ".join)
_ts = _maybe(st.sampled_from(_TIMES))


@st.composite
def _product(draw: st.DrawFn, pid: str) -> Product:
    return Product(
        id=pid,
        title=draw(st.sampled_from(("Lamp", "Red shirt", "Oak desk", "Mug", "Lamp"))),
        description=draw(_maybe(_text)),
        brand=draw(_maybe(st.sampled_from(("Acme", "Nord")))),
        categories=draw(st.one_of(st.just(()), st.sampled_from(_CATEGORIES))),
        price=draw(_maybe(st.sampled_from((0.0, 9.5, 9.5, 120.0)))),
        attributes=draw(st.one_of(st.just({}), st.just({"colour": "red"}))),
        year=draw(_maybe(st.sampled_from((1999, 2020)))),
    )


@st.composite
def _user(draw: st.DrawFn, uid: str) -> User:
    return User(
        id=uid,
        name=draw(_maybe(st.just("Ann"))),
        age=draw(_maybe(st.sampled_from((0, 30, 30, 150)))),
        gender=draw(_maybe(st.sampled_from(("f", "m")))),
        location=draw(_maybe(st.just("Leeds"))),
        bio=draw(_maybe(_text)),
    )


@st.composite
def datasets(draw: st.DrawFn, max_users: int = 6, max_products: int = 6,
             max_events: int = 14) -> Dataset:
    """A valid dataset: any sizes from nothing up, any optional field missing anywhere."""
    n_users = draw(st.integers(0, max_users))
    n_products = draw(st.integers(0, max_products))
    users = [draw(_user(f"u{i}")) for i in range(n_users)]
    products = [draw(_product(f"p{i}")) for i in range(n_products)]
    uids = [u.id for u in users]
    pids = [p.id for p in products]
    follows: list[Follow] = []
    posts: list[Post] = []
    events: list[Event] = []
    if len(uids) >= 2:
        pairs = draw(st.lists(st.tuples(st.sampled_from(uids), st.sampled_from(uids))
                              .filter(lambda p: p[0] != p[1]), max_size=6, unique=True))
        follows = [Follow(a, b, draw(_ts)) for a, b in pairs]
    if uids:
        n_posts = draw(st.integers(0, 4))
        for i in range(n_posts):
            named = draw(st.sampled_from(products)).title if products else "lamp"
            text = draw(st.one_of(st.just(""), _text, st.just(f"my new {named} #ootd")))
            tagged = (tuple(draw(st.lists(st.sampled_from(pids), max_size=2, unique=True)))
                      if pids else ())
            posts.append(Post(f"s{i}", draw(st.sampled_from(uids)), text, ts=draw(_ts),
                              products=tagged))
        targets = [("product", p) for p in pids] + [("post", p.id) for p in posts]
        if targets:
            for _ in range(draw(st.integers(0, max_events))):
                kind = draw(st.sampled_from(EVENT_KINDS))
                ttype, target = draw(st.sampled_from(targets))
                value = draw(st.sampled_from((1.0, 3.0, 5.0))) if kind == "rate" else None
                text = draw(_maybe(_text)) if kind == "comment" else None
                events.append(Event(draw(st.sampled_from(uids)), target, ttype, kind, value,
                                    draw(_ts), text))
    return Dataset(products, users, follows, posts, list(dict.fromkeys(events)))
