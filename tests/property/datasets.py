"""Hypothesis strategies for random *valid* datasets of every shape, and the shape of one.

Every optional field of every record may be missing; ids, titles, prices, timestamps and
texts are drawn from tiny pools so ties and repeats are the rule, not the exception. Ids may
be non-ASCII, right-to-left or hold ``:`` and ``/``, and users and products may share them;
a dataset's timestamps may all be missing or all equal. :func:`datasets` stays tiny (at most
6 users, 6 products) so a few hundred build in minutes; :func:`medium_datasets` crosses the
sizes where the build starts to validate (20+ users), often with one kind of event only.
"""

from __future__ import annotations

from hypothesis import strategies as st

from kg.records import EVENT_KINDS, Dataset, Event, Follow, Post, Product, User

_WORDS = ("red", "linen", "shirt", "lamp", "oak", "desk", "soft", "mug", "cotton", "blue")
_CATEGORIES = (("home",), ("home", "lighting"), ("fashion",), ("fashion", "tops", "shirts"))
_TIMES = (1_600_000_000.0, 1_600_000_000.0, 1_600_003_600.0, 1_600_500_000.0, 1_700_000_000.0)
#: how a dataset names its users and products: {kind} is "u" or "p" (empty: shared raw ids)
_ID_STYLES = ("{kind}{i}", "{kind}{i}", "{i}", "מוצר-{kind}{i}", "منتج {kind}{i}", "🛍{kind}{i}",
              "a:b/{kind}{i}", "Ünï {kind}{i}")
_TITLES = ("Lamp", "Red shirt", "Oak desk", "Mug", "Lamp", "فستان أحمر", "红色 连衣裙", "🔥🔥")
#: ``datasets(rarer=True)`` (a local SHOPGRAPH_PROPERTY_EXAMPLES run; CI's draws stay as they
#: were): ids alike but for case, normalisation form (NFC "é" / NFD "e" + accent), a
#: zero-width joiner or a right-to-left mark; ratings of 0, below 0 and fractions
_RARER_ID_STYLES = ("{kind}{i}", "{KIND}{i}", "\u00e9{kind}{i}", "e\u0301{kind}{i}",
                    "{kind}\u200d{i}", "\u200f{kind}{i}")
_RATINGS = (1.0, 3.0, 5.0)
_RARER_RATINGS = (0.0, 0.0, -2.0, 0.5, 5.0, 1e12)


def _maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy)


_text = st.lists(st.sampled_from((*_WORDS, "#cosy", "#ootd", "love", "hate", "أحمر", "咖啡杯",
                                   "😍")), max_size=6).map(" ".join)
#: a dataset's timestamps: drawn from the pool, all missing, or all the same second
_TIME_MODES = (st.sampled_from(_TIMES), st.none(), st.just(_TIMES[0]))


def _ts_strategy(draw: st.DrawFn) -> st.SearchStrategy:
    mode = draw(st.integers(0, 4))  # the pool (with None) 3 times in 5, else one mode
    return _maybe(_TIME_MODES[0]) if mode < 3 else _TIME_MODES[mode - 2]


def _ids(draw: st.DrawFn, kind: str, n: int, rarer: bool = False) -> list[str]:
    if rarer:  # ids i and i + 1 share a number: twins that differ by case or form only
        styles = draw(st.lists(st.sampled_from(_RARER_ID_STYLES), min_size=n, max_size=n))
        ids = [style.format(kind=kind, KIND=kind.upper(), i=i // 2)
               for i, style in enumerate(styles)]
        return list(dict.fromkeys(ids))  # a twin drawn in the same style is one id
    style = draw(st.sampled_from(_ID_STYLES))
    return [style.format(kind=kind, i=i) for i in range(n)]


@st.composite
def _product(draw: st.DrawFn, pid: str) -> Product:
    return Product(
        id=pid,
        title=draw(st.sampled_from(_TITLES)),
        description=draw(_maybe(_text)),
        brand=draw(_maybe(st.sampled_from(("Acme", "Nord")))),
        categories=draw(st.one_of(st.just(()), st.sampled_from(_CATEGORIES))),
        price=draw(_maybe(st.sampled_from((0.0, 9.5, 9.5, 120.0, 0.01, 1e12)))),
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
             max_events: int = 14, min_users: int = 0, min_products: int = 0,
             min_events: int = 0, rarer: bool = False) -> Dataset:
    """A valid dataset: any sizes from the minimum up, any optional field missing anywhere
    (``rarer``: also ids alike but for case or form, ratings of 0 and below)."""
    n_users = draw(st.integers(min_users, max_users))
    n_products = draw(st.integers(min_products, max_products))
    users = [draw(_user(uid)) for uid in _ids(draw, "u", n_users, rarer)]
    products = [draw(_product(pid)) for pid in _ids(draw, "p", n_products, rarer)]
    uids = [u.id for u in users]
    pids = [p.id for p in products]
    ts = _ts_strategy(draw)
    kinds = draw(st.sampled_from((EVENT_KINDS, EVENT_KINDS, EVENT_KINDS, ("view",), ("rate",),
                                  ("purchase",), ("like", "share"))))
    follows: list[Follow] = []
    posts: list[Post] = []
    events: list[Event] = []
    if len(uids) >= 2:
        pairs = draw(st.lists(st.tuples(st.sampled_from(uids), st.sampled_from(uids))
                              .filter(lambda p: p[0] != p[1]), max_size=6, unique=True))
        follows = [Follow(a, b, draw(ts)) for a, b in pairs]
    if uids:
        n_posts = draw(st.integers(0, 4))
        for i in range(n_posts):
            named = draw(st.sampled_from(products)).title if products else "lamp"
            text = draw(st.one_of(st.just(""), _text, st.just(f"my new {named} #ootd")))
            tagged = (tuple(draw(st.lists(st.sampled_from(pids), max_size=2, unique=True)))
                      if pids else ())
            posts.append(Post(f"s{i}", draw(st.sampled_from(uids)), text, ts=draw(ts),
                              products=tagged))
        targets = [("product", p) for p in pids] + [("post", p.id) for p in posts]
        if targets:
            for _ in range(draw(st.integers(min_events, max_events))):
                kind = draw(st.sampled_from(kinds))
                ttype, target = draw(st.sampled_from(targets))
                value = (draw(st.sampled_from(_RARER_RATINGS if rarer else _RATINGS))
                         if kind == "rate" else None)
                text = draw(_maybe(_text)) if kind == "comment" else None
                events.append(Event(draw(st.sampled_from(uids)), target, ttype, kind, value,
                                    draw(ts), text))
    return Dataset(products, users, follows, posts, list(dict.fromkeys(events)))


def medium_datasets(rarer: bool = False) -> st.SearchStrategy[Dataset]:
    """A valid dataset of 20-30 users, 4-16 products and 40-120 events: enough users for the
    build to validate, choose what it serves and fit its blend on tiny folds."""
    return datasets(max_users=30, max_products=16, max_events=120, min_users=20,
                    min_products=4, min_events=40, rarer=rarer)
