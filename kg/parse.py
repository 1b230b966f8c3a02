"""Per-record parsing: field and type checks turning a decoded JSON object into a record.

The first half of validation (:func:`parse_record`, :func:`event_fields`); references and
duplicates are checked afterwards by :class:`kg.validate.Validator`, which also re-exports the
names here. Rules a JSON object must follow to become a record (see ``kg.records`` for the
fields):

- Only ids and a product's ``title`` are required (plus an event's ``kind``, which has no
  meaning without it); every other field may be absent or ``null``. Unknown keys are ignored.
- Ids are JSON strings or integers (an integer becomes its decimal string); an id must not be
  empty, blank, start or end with whitespace, or fail :func:`kg.visible.id_refusal`.
- Numbers (``price``, ``value``, ``ts``, attribute values) must be finite: NaN and infinities
  are rejected; ``price``, ``value``, ``age``, ``year`` and a ``categories`` path's depth keep
  the bounds of :mod:`kg.limits`.
- Timestamps are unix seconds (integer or float) or an ISO 8601 string (a naive one is UTC)
  in the read's :class:`kg.timewindow.TimeWindow` (1990 to the wall clock plus a day).
- ``categories`` is a list of visible strings (a single string: a one-element list); ``images``
  a list of strings, a post's ``products`` a list of ids; ``attributes`` an object of strings,
  numbers or booleans (nothing nested). A title must be visible too (:mod:`kg.visible`).
- An event's ``target`` is typed (``"product:B00X"``, ``"post:9"``) or raw (``"B00X"``); an
  optional ``target_type`` key may type a raw one. :func:`parse_record` leaves a raw target's
  ``target_type`` as ``None``; :meth:`kg.validate.Validator.check` resolves it to the product
  of that id if any, else to the post, and rejects one that is both (ambiguous) or neither.

>>> parse_record(Product, {"id": 7, "title": "Mug", "categories": "Kitchen"})
Product(id='7', title='Mug', description=None, brand=None, categories=('Kitchen',), \
price=None, image=None, attributes={}, year=None)
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from kg.limits import AGE_RANGE, MAX_CATEGORY_DEPTH, MAX_INT_BITS, MAX_MAGNITUDE, YEAR_RANGE
from kg.line_shape import array_hint
from kg.records import EVENT_KINDS, Event, Follow, Post, Product, Record, User
from kg.timewindow import TimeWindow, iso, quoted_number
from kg.visible import BIDI_CONTROLS, id_refusal, shown, visible


class RecordError(ValueError):
    """Why one record is rejected: a short reason a person can act on."""


_MISSING: Any = object()
_KINDS = {kind: kind for kind in EVENT_KINDS}  # also gives one shared str per kind
_TARGET_TYPES = {"product": "product", "post": "post"}


def quote(text: str, limit: int = 60) -> str:
    """``text`` as a JSON string literal, shortened past ``limit`` characters."""
    short = text if len(text) <= limit else text[:limit] + "…"
    return BIDI_CONTROLS.sub(lambda m: f"\\u{ord(m[0]):04x}",  # escaped: no reordering
                             json.dumps(short, ensure_ascii=False))


def describe(value: object) -> str:
    """A JSON value named for an error message: ``string "abc"``, ``null``, ``array of 2``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean true" if value else "boolean false"
    if isinstance(value, str):
        return f"string {quote(value)}"
    if isinstance(value, int):
        return f"integer {value}" if value.bit_length() <= 64 else "a huge integer"
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else (
            f"number {value!r}" if math.isfinite(value) else "an infinite number")
    if isinstance(value, list):
        return f"array of {len(value)}"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _required(name: str, value: object) -> RecordError:
    if value is _MISSING:
        return RecordError(f'missing required field "{name}"')
    return RecordError(f'"{name}": required, got null')


def _id(value: Any, name: str) -> str:
    if type(value) is str and value and not value[0].isspace() and not value[-1].isspace():
        if (why := id_refusal(value)) is None:
            return value
        raise RecordError(f'"{name}": id {quote(value)} {why}')
    if type(value) is int:
        return str(value)
    if value is None or value is _MISSING:
        raise _required(name, value)
    if type(value) is str:
        if not value.strip():
            raise RecordError(f'"{name}": id must not be empty or blank')
        raise RecordError(f'"{name}": id {quote(value)} starts or ends with whitespace')
    raise RecordError(f'"{name}": expected a string or integer id, got {describe(value)}')


def _opt_str(value: Any, name: str) -> str | None:
    if value is None or type(value) is str:
        return value
    raise RecordError(f'"{name}": expected a string, got {describe(value)}')


def _number(value: Any, name: str) -> float | None:
    if type(value) is float:
        if math.isfinite(value):
            return value
    elif type(value) is int:
        if value.bit_length() <= MAX_INT_BITS:
            return float(value)
    elif value is None:
        return None
    else:
        raise RecordError(f'"{name}": expected a number, got {describe(value)}')
    raise RecordError(f'"{name}": expected a finite number, got {describe(value)}')


def _bounded(value: float | None, name: str, low: float) -> float | None:
    if value is None or low <= value <= MAX_MAGNITUDE:
        return value
    raise RecordError(f'"{name}": {describe(value)} is outside {low:g}..{MAX_MAGNITUDE:g}')


def _int(value: Any, name: str, low: int, high: int) -> int | None:
    if value is None:
        return None
    if type(value) is not int:
        raise RecordError(f'"{name}": expected an integer, got {describe(value)}')
    if not low <= value <= high:
        raise RecordError(f'"{name}": {describe(value)} is outside {low}..{high}')
    return value


def parse_ts(value: Any, name: str, window: TimeWindow) -> float | None:
    """A timestamp field (unix seconds or ISO 8601) as unix seconds in ``window``; RecordError."""
    try:
        if type(value) is str:
            moment = datetime.fromisoformat(value.strip())
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=timezone.utc)
            seconds = moment.timestamp()
        elif (number := _number(value, name)) is None:
            return None
        else:
            seconds = number
    except (ValueError, OverflowError):  # (a RecordError is a ValueError)
        raise RecordError(f'"{name}": expected unix seconds or an ISO 8601 date, got '
                          f"{describe(value)}{quoted_number(value)}") from None
    refused = window.reason(seconds)
    if refused is None:
        return seconds
    raise RecordError(f'"{name}": {describe(value)} ({iso(seconds)}) {refused}')


def _strings(value: Any, name: str, *, single: bool = False) -> tuple[str, ...]:
    if value is None:
        return ()
    if single and type(value) is str:
        value = [value]
    if type(value) is not list:
        raise RecordError(f'"{name}": expected an array of strings, got {describe(value)}')
    for i, item in enumerate(value):
        if type(item) is not str or not visible(item):
            raise RecordError(f'"{name}"[{i}]: expected a non-empty string, got {describe(item)}')
    return tuple(value)


def _category_path(value: Any) -> tuple[str, ...]:
    if len(path := _strings(value, "categories", single=True)) <= MAX_CATEGORY_DEPTH:
        return path
    raise RecordError(f'"categories": a path of {len(path)} levels; at most '
                      f"{MAX_CATEGORY_DEPTH} (one path, general -> specific)")


def _ids(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if type(value) is not list:
        raise RecordError(f'"{name}": expected an array of ids, got {describe(value)}')
    return tuple(_id(item, f"{name}[{i}]") for i, item in enumerate(value))


def _attributes(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if type(value) is not dict:
        raise RecordError(f'"{name}": expected an object, got {describe(value)}')
    for key, item in value.items():
        kind = type(item)
        if kind is str or kind is bool or kind is int:
            continue
        if kind is float and math.isfinite(item):
            continue
        raise RecordError(
            f'"{name}"[{quote(key)}]: expected a string, number or boolean, got {describe(item)}'
        )
    return value


def _object(obj: object) -> dict[str, Any]:
    if type(obj) is dict:
        return obj
    raise RecordError(f"expected a JSON object, got {describe(obj)}{array_hint(obj)}")


def _parse_product(obj: object, window: TimeWindow) -> Product:
    get = _object(obj).get
    title = get("title", _MISSING)
    if type(title) is not str or not visible(title):
        if title is None or title is _MISSING:
            raise _required("title", title)
        if type(title) is str:
            raise RecordError('"title": must not be empty or blank')
        raise RecordError(f'"title": expected a string, got {describe(title)}')
    price = _number(get("price"), "price")
    if price is not None and price < 0:
        raise RecordError(f'"price": must be at least 0, got {describe(price)}')
    price = _bounded(price, "price", 0.0)
    return Product(
        id=_id(get("id", _MISSING), "id"),
        title=title,
        description=_opt_str(get("description"), "description"),
        brand=shown(_opt_str(get("brand"), "brand")),
        categories=_category_path(get("categories")),
        price=price,
        image=_opt_str(get("image"), "image"),
        attributes=_attributes(get("attributes"), "attributes"),
        year=_int(get("year"), "year", *YEAR_RANGE),
    )


def _parse_user(obj: object, window: TimeWindow) -> User:
    get = _object(obj).get
    return User(
        id=_id(get("id", _MISSING), "id"),
        name=_opt_str(get("name"), "name"),
        age=_int(get("age"), "age", *AGE_RANGE),
        gender=_opt_str(get("gender"), "gender"),
        location=_opt_str(get("location"), "location"),
        bio=_opt_str(get("bio"), "bio"),
        attributes=_attributes(get("attributes"), "attributes"),
    )


def _parse_follow(obj: object, window: TimeWindow) -> Follow:
    get = _object(obj).get
    follower = _id(get("follower", _MISSING), "follower")
    followee = _id(get("followee", _MISSING), "followee")
    if follower == followee:
        raise RecordError(f"self-follow: user {quote(follower)} follows themself")
    return Follow(follower, followee, parse_ts(get("ts"), "ts", window))


def _parse_post(obj: object, window: TimeWindow) -> Post:
    get = _object(obj).get
    return Post(
        id=_id(get("id", _MISSING), "id"),
        author=_id(get("author", _MISSING), "author"),
        text=_opt_str(get("text"), "text") or "",
        images=_strings(get("images"), "images"),
        ts=parse_ts(get("ts"), "ts", window),
        products=_ids(get("products"), "products"),
    )


def _target(value: Any, declared: Any) -> tuple[str, str | None]:
    if type(value) is str:
        head, sep, tail = value.partition(":")
        if sep and head in _TARGET_TYPES:
            target_id = _id(tail, "target")
            if declared is not None and declared != head:
                raise RecordError(f'"target_type": {describe(declared)} contradicts "target"')
            return target_id, _TARGET_TYPES[head]
    target_id = _id(value, "target")
    if declared is None:
        return target_id, None
    target_type = _TARGET_TYPES.get(declared) if type(declared) is str else None
    if target_type is None:
        raise RecordError(f'"target_type": expected "product" or "post", got {describe(declared)}')
    return target_id, target_type


def event_fields(obj: object, window: TimeWindow | None = None) -> tuple[Any, ...]:
    """An event object's checked fields in :class:`Event` order (``target_type`` may be None).

    ``window``: the accepted timestamps (default: from 1990 to now plus a day). The common
    case (string ids, int or absent timestamp) is checked inline: this runs once per event
    line, a million times for a mid-sized dataset; the helpers give the reasons.
    """
    if type(obj) is not dict:
        raise RecordError(f"expected a JSON object, got {describe(obj)}{array_hint(obj)}")
    get = obj.get
    user = get("user")
    if type(user) is not str or not user or user.strip() is not user \
            or not (user.isascii() or user.isprintable()):
        user = _id(get("user", _MISSING), "user")  # non-ASCII unprintable: checked (a bidi control)
    target = get("target")
    declared = get("target_type")
    target_type: str | None = None
    if type(target) is str and declared is None:
        if target.startswith("product:"):
            target, target_type = target[8:], "product"
        elif target.startswith("post:"):
            target, target_type = target[5:], "post"
        if not target or target.strip() is not target \
                or not (target.isascii() or target.isprintable()):
            target, target_type = _target(get("target"), declared)
    else:
        target, target_type = _target(get("target", _MISSING), declared)
    raw_kind = get("kind", _MISSING)
    kind = _KINDS.get(raw_kind) if type(raw_kind) is str else None
    if kind is None:
        if raw_kind is None or raw_kind is _MISSING:
            raise _required("kind", raw_kind)
        expected = ", ".join(EVENT_KINDS)
        raise RecordError(f'"kind": expected one of {expected}, got {describe(raw_kind)}')
    value = get("value")
    if value is not None:
        value = _bounded(_number(value, "value"), "value", -MAX_MAGNITUDE)
    elif kind == "rate":
        raise RecordError('"value": a "rate" event needs a finite number, got null')
    ts = get("ts")
    if ts is not None:
        if window is None:
            window = TimeWindow.until()
        if type(ts) is int and window.earliest <= ts <= window.latest:
            ts = float(ts)
        else:
            ts = parse_ts(ts, "ts", window)
    text = get("text")
    if text is not None and type(text) is not str:
        text = _opt_str(text, "text")
    return user, target, target_type, kind, value, ts, text


def _event_constructor() -> Callable[..., Event]:
    """``Event(...)`` minus the frozen dataclass's per-field ``object.__setattr__`` calls.

    Setting the slots through their descriptors is about twice as fast, which matters at a
    million events; it is used only while Event stays a plain slotted dataclass of these
    fields (no ``__post_init__``), else this falls back to the class itself.
    """
    if Event.__slots__ != ("user", "target", "target_type", "kind", "value", "ts", "text"):
        return Event
    if hasattr(Event, "__post_init__"):
        return Event
    new = object.__new__
    s0, s1, s2, s3, s4, s5, s6 = (getattr(Event, name).__set__ for name in Event.__slots__)

    def make(user: str, target: str, target_type: str, kind: str, value: float | None,
             ts: float | None, text: str | None) -> Event:
        event = new(Event)
        s0(event, user)
        s1(event, target)
        s2(event, target_type)
        s3(event, kind)
        s4(event, value)
        s5(event, ts)
        s6(event, text)
        return event

    return make


new_event = _event_constructor()


def _parse_event(obj: object, window: TimeWindow) -> Event:
    return Event(*event_fields(obj, window))


_PARSERS: dict[type, Callable[[object, TimeWindow], Record]] = {
    Product: _parse_product,
    User: _parse_user,
    Follow: _parse_follow,
    Post: _parse_post,
    Event: _parse_event,
}


def parse_record(kind: type[Record], obj: object, window: TimeWindow | None = None) -> Record:
    """Check one decoded JSON object's fields and types; return the ``kind`` record.

    ``window``: the accepted timestamps (default: from 1990 to now plus a day).

    Raises :class:`RecordError` with a reason naming the field. References (unknown users,
    products, posts) and duplicates are the :class:`kg.validate.Validator`'s job.
    """
    try:
        parser = _PARSERS[kind]
    except KeyError:
        raise TypeError(f"not a record type: {kind!r}") from None
    return parser(obj, window or TimeWindow.until())
