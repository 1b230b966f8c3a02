"""Record validation: field and type checks (:func:`parse_record`), then references and
duplicates (:class:`Validator`).

The field and type rules, and :func:`parse_record` / :func:`event_fields` that apply them, live
in :mod:`kg.parse` and are re-exported here; this module holds the cross-record half: ids known
so far (:class:`KnownIds`), unknown references, merged repeats and conflicting duplicates.

>>> v = Validator()
>>> v.check(parse_record(User, {"id": "u1"})) is not None
True
>>> v.check(parse_record(Follow, {"follower": "u1", "followee": "u2"}))
Traceback (most recent call last):
...
kg.parse.RecordError: unknown user "u2" (follows.followee)
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

from kg.parse import (
    MAX_MAGNITUDE,
    RecordError,
    describe,
    event_fields,
    new_event,
    parse_record,
    quote,
)
from kg.records import Dataset, Event, Follow, Post, Product, Record, User
from kg.timewindow import TimeWindow, iso

__all__ = ["HeldRecords", "KnownIds", "RecordError", "Validator", "Where", "describe",
           "event_fields", "new_event", "parse_record", "quote", "where_text"]


Where = tuple[str, int] | str  # (file name, 1-based line), or free text such as "add() #3"
_EXISTING = "the existing graph"
_Entry = tuple[str, Record | None, Where]  # shared id string, first record (None: id only), where
_KINDS = ("product", "user", "post")  # the records keyed by id, as KnownIds.refused names them
MAX_REFUSED = 100_000  # rejected ids remembered per kind (for the reasons of references)


def where_text(where: Where) -> str:
    """``("products.jsonl", 3)`` as ``products.jsonl line 3``."""
    if isinstance(where, tuple):
        return f"{where[0]} line {where[1]}"
    return where or "an earlier record"


class HeldRecords(Protocol):
    """What an existing graph holds of the records it was built from, asked one record at a
    time (see :mod:`kg.held`): a re-sent one then merges instead of counting twice (or
    being rejected as an existing id), without loading the graph as records first."""

    def record(self, record: Product | User | Post) -> Record | None:
        """The graph's record of ``record``'s type and id, when it can be rebuilt."""
        ...

    def holds_event(self, event: Event) -> bool:
        """Whether the graph already holds ``event`` (its target resolved)."""
        ...

    def follow(self, follower: str, followee: str) -> Follow | None:
        """The graph's follow of ``follower`` -> ``followee`` as a record, or None."""
        ...


@dataclass(slots=True)
class KnownIds:
    """What an existing graph already holds, for validating records added to it.

    Ids alone make references resolve; a record that repeats an id known only as an id is
    rejected (there is nothing to compare it with). Known ``records`` (see
    :meth:`from_dataset`) also let an identical re-sent record merge instead, and so does
    ``held`` (one that differs is a conflicting duplicate, as in a file).
    """

    users: Collection[str] = field(default_factory=set)
    products: Collection[str] = field(default_factory=set)
    posts: Collection[str] = field(default_factory=set)
    records: Iterable[Record] = ()
    held: HeldRecords | None = None
    #: per kind ("user", "product", "post"), ids of rejected records -> why (see
    #: :meth:`Validator.refuse`): a reference to one says so instead of "no such id"
    refused: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def from_dataset(cls, dataset: Dataset) -> KnownIds:
        """Everything in ``dataset``, records included."""
        return cls(
            records=[
                *dataset.products,
                *dataset.users,
                *dataset.follows,
                *dataset.posts,
                *dataset.events,
            ]
        )


class _Table(dict[str, _Entry]):
    """Entries by id, the ids known only as ids (consulted on a miss, so that a big graph's
    ids need not be copied for each add), and the ids of rejected records with why."""

    __slots__ = ("known", "refused")

    def __init__(self, known: Collection[str] = (), refused: Mapping[str, str] | None = None
                 ) -> None:
        super().__init__()
        self.known = known
        self.refused: ChainMap[str, str] = ChainMap({}, *([refused] if refused else []))

    def why_unknown(self, key: str, otherwise: str = "") -> str:
        """What to add to an "unknown" reason for ``key``: the rejected line that had it
        (``: products.jsonl line 2 has this id but was rejected: ...``), else ``otherwise``."""
        note = self.refused.get(key)
        return otherwise if note is None else f": {note}"

    def find(self, key: str) -> _Entry | None:
        entry = self.get(key)
        if entry is None and key in self.known:
            return (key, None, _EXISTING)
        return entry


class Validator:
    """Checks references and duplicates of records met in dataset-file order.

    Products, users and posts are keyed by id, follows by (follower, followee), events by
    their whole content. A repeat equal to the first is merged (``check`` returns None); a
    repeat that differs is rejected as a conflicting duplicate and the first one stays.
    Accepted records share one string object per id, which keeps a million events small.
    :meth:`check` also holds records made in code (not parsed from JSON) to the parser's
    ranges: price and value bounded (:data:`kg.limits.MAX_MAGNITUDE`), and, when a ``window``
    is given, timestamps in it.
    """

    def __init__(self, known: KnownIds | None = None, *, window: TimeWindow | None = None) -> None:
        self._window = window
        ids = ((), (), ()) if known is None else (known.products, known.users, known.posts)
        refused = {} if known is None else known.refused
        self._products, self._users, self._posts = (
            _Table(k, refused.get(kind)) for k, kind in zip(ids, _KINDS, strict=True))
        self._follows: dict[tuple[str, str], tuple[Follow, Where]] = {}
        self._events: set[Event] = set()
        self._targets = {"product": self._products, "post": self._posts}
        self._held = None if known is None else known.held
        if known is None:
            return
        for record in known.records:
            self._remember(record)

    def _remember(self, record: Record) -> None:
        if isinstance(record, Event):
            self._events.add(record)
        elif isinstance(record, Follow):
            self._follows[record.follower, record.followee] = (record, _EXISTING)
        else:
            table = self._table(record)
            table[record.id] = (record.id, record, _EXISTING)

    def _table(self, record: Record) -> _Table:
        if isinstance(record, Product):
            return self._products
        return self._users if isinstance(record, User) else self._posts

    def refuse(self, kind: type[Record], obj: object, where: Where, reason: str) -> None:
        """Note that the ``kind`` line ``obj`` at ``where`` was rejected for ``reason``: a
        later record naming its id is told that line, not that nothing has the id (a product
        rejected for a string price took all its events with it, each "unknown")."""
        raw = obj.get("id") if type(obj) is dict else None
        key = str(raw) if type(raw) is int else raw if type(raw) is str else None
        table = {Product: self._products, User: self._users, Post: self._posts}.get(kind)
        if key is None or table is None or table.find(key) is not None \
                or key in table.refused or len(table.refused.maps[0]) >= MAX_REFUSED:
            return
        table.refused[key] = f"{where_text(where)} has this id but was rejected: {reason}"

    def refusals(self) -> dict[str, dict[str, str]]:
        """The rejected ids noted by :meth:`refuse`, per kind (for :attr:`KnownIds.refused`)."""
        tables = (self._products, self._users, self._posts)
        return {kind: dict(t.refused) for kind, t in zip(_KINDS, tables, strict=True)
                if t.refused}

    def check(self, record: Record, *, where: Where = "") -> Record | None:
        """Check ``record``'s references and duplicates; return it, or None if merged.

        ``where`` (file and line) is quoted when a later record conflicts with this one. An
        event with a raw target (``target_type`` None) comes back resolved. Raises
        :class:`RecordError`.
        """
        self._check_values(record)
        if isinstance(record, Event):
            return self.admit_event(*(getattr(record, f) for f in Event.__slots__))
        if isinstance(record, Follow):
            return self._admit_follow(record, where)
        if isinstance(record, Post):
            self._ref(self._users, record.author, "user", "posts.author")
            tags = tuple(self._tag(t) for t in record.products)
            if tags != record.products:
                record = replace(record, products=tags)
        elif not isinstance(record, (Product, User)):
            raise TypeError(f"not a record: {record!r}")
        table = self._table(record)
        entry = table.find(record.id)
        if entry is not None and entry[1] is None and self._held is not None:
            held = self._held.record(record)
            if held is not None:
                entry = table[record.id] = (record.id, held, _EXISTING)
        if entry is None:
            table[record.id] = (record.id, record, where)
            return record
        if entry[1] == record:
            return None
        if entry[1] is None:
            name = type(record).__name__.lower()
            raise RecordError(f"{name} {quote(record.id)} already exists in {_EXISTING}")
        raise RecordError(
            f"conflicting duplicate of {where_text(entry[2])} (id {quote(record.id)})"
        )

    def _check_values(self, record: Record) -> None:
        """The ranges :mod:`kg.parse` enforces on JSON, for a record made in code."""
        ts = getattr(record, "ts", None)
        if ts is not None and self._window is not None:
            refused = self._window.reason(ts) if ts == ts else "is not a number"
            if refused:
                raise RecordError(f'"ts": {describe(ts)} ({iso(ts)}) {refused}')
        for name in ("price", "value"):
            value = getattr(record, name, None)
            if value is not None and not abs(value) <= MAX_MAGNITUDE:
                raise RecordError(f'"{name}": {describe(value)} is outside '
                                  f"-{MAX_MAGNITUDE:g}..{MAX_MAGNITUDE:g}")

    @staticmethod
    def _ref(table: _Table, key: str, what: str, field_name: str) -> str:
        entry = table.find(key)
        if entry is None:
            raise RecordError(f"unknown {what} {quote(key)} ({field_name}){table.why_unknown(key)}")
        return entry[0]

    def _tag(self, tag: str) -> str:
        """A post's product tag as the product's id: as given, else a typed "product:ID" as
        ID (an export that typed its ids, as an event's target may be)."""
        entry = self._products.find(tag)
        if entry is None and tag.startswith("product:"):
            entry = self._products.find(tag[8:])
        if entry is None:
            raise RecordError(f"unknown product {quote(tag)} (posts.products)"
                              f"{self._products.why_unknown(tag)}")
        return entry[0]

    def _admit_follow(self, record: Follow, where: Where) -> Follow | None:
        follower = self._ref(self._users, record.follower, "user", "follows.follower")
        followee = self._ref(self._users, record.followee, "user", "follows.followee")
        seen = self._follows.get((follower, followee))
        if seen is None and self._held is not None:
            held = self._held.follow(follower, followee)
            if held is not None:
                seen = self._follows[follower, followee] = (held, _EXISTING)
        if seen is None:
            self._follows[follower, followee] = (record, where)
            return record
        if seen[0] == record:
            return None
        raise RecordError(
            f"conflicting duplicate of {where_text(seen[1])} "
            f"(follower {quote(follower)}, followee {quote(followee)})"
        )

    def admit_event(
        self,
        user: str,
        target: str,
        target_type: str | None,
        kind: str,
        value: float | None,
        ts: float | None,
        text: str | None,
    ) -> Event | None:
        """Resolve and check one event given as its fields; the reader's fast path."""
        entry = self._users.get(user) or self._users.find(user)  # find: ids known as ids
        if entry is None:
            raise RecordError(f"unknown user {quote(user)} (events.user)"
                              f"{self._users.why_unknown(user)}")
        if target_type is None:
            products, posts = self._products, self._posts
            found = products.get(target)
            if found is None and products.known:
                found = products.find(target)
            post = posts.get(target)
            if post is None and posts.known:
                post = posts.find(target)
            if found is not None:
                if post is not None:
                    raise RecordError(
                        f"ambiguous target {quote(target)} (events.target): both a product and "
                        f'a post have this id; write "product:{target}" or "post:{target}"'
                    )
                target_type = "product"
            elif post is not None:
                found, target_type = post, "post"
            else:
                why = products.why_unknown(target, posts.why_unknown(
                    target, ": no product or post has it"))
                raise RecordError(f"unknown target {quote(target)} (events.target){why}")
        else:
            table = self._targets.get(target_type)
            if table is None:
                raise RecordError(f"unknown target type {describe(target_type)} (events.target)")
            found = table.get(target) or table.find(target)
            if found is None:  # an export whose raw ids carry their type ("product:7")
                spelled = f"{target_type}:{target}"
                found = table.get(spelled) or table.find(spelled)
            if found is None:
                raise RecordError(f"unknown {target_type} {quote(target)} (events.target)"
                                  f"{table.why_unknown(target)}")
        event = new_event(entry[0], found[0], target_type, kind, value, ts, text)
        events = self._events
        size = len(events)
        events.add(event)
        if len(events) == size:
            return None
        held = self._held
        return None if held is not None and held.holds_event(event) else event
