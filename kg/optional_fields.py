"""A product, user or post kept without the optional field that was bad, and a note saying so.

:func:`kg.parse.parse_record` rejects a record for any bad field. For an entity record that
costs more than its line: every event, follow, post or relation naming its id is then
rejected too ("unknown target"), so an export with a string price on a few product lines
loses most of its events. :func:`parse_keeping` instead drops the optional field the reason
names (:data:`OPTIONAL`), parses the rest again, and reports each dropped field with the
parser's own reason; a bad required field (an id, a product's title, a post's author) still
rejects the record. Follows and events are parsed as before: nothing refers to them, so a bad
field costs only their own line (the Spark build parses them the same way, see
:mod:`sparkbuild.records`; entity files are read by :mod:`kg.reader` in both builds).

>>> record, dropped = parse_keeping(Product, {"id": "p1", "title": "Mug", "price": "9.99"})
>>> record.price, dropped
(None, [('price', '"price": expected a number, got string "9.99"')])
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kg.atomic import atomic_write_chunks
from kg.jsonl import json_line
from kg.parse import RecordError, parse_record
from kg.records import Post, Product, Record, User
from kg.timewindow import TimeWindow

#: The artifact's file of dropped fields (beside ``rejected.jsonl``).
DROPPED_FILE = "dropped_fields.jsonl"
#: The fields dropped (with a note) rather than costing the record, per record type.
OPTIONAL: dict[type, frozenset[str]] = {
    Product: frozenset({"description", "brand", "categories", "price", "image", "attributes",
                        "year"}),
    User: frozenset({"name", "age", "gender", "location", "bio", "attributes"}),
    Post: frozenset({"text", "images", "ts", "products"}),
}
_FIELD = re.compile(r'"([a-z_]+)(?:\[\d+\])?"')  # "price", "categories"[2], "products[0]"


@dataclass(frozen=True, slots=True)
class FieldNote:
    """One optional field dropped from a kept record: where, which field, why."""

    file: str
    line: int
    field: str
    reason: str


def parse_keeping(kind: type[Record], obj: object, window: TimeWindow | None = None, *,
                  lenient: bool = True) -> tuple[Record, list[tuple[str, str]]]:
    """``parse_record(kind, obj, window)``, dropping each bad optional field of ``kind``.

    Returns the record and the dropped fields as (field, reason), in the order found.
    Raises :class:`RecordError` when a field that is not optional is bad (as
    :func:`kg.parse.parse_record` does), or any field is bad and not ``lenient``.
    """
    optional = OPTIONAL.get(kind, frozenset()) if lenient else frozenset()
    dropped: list[tuple[str, str]] = []
    current: Any = obj
    while True:
        try:
            return parse_record(kind, current, window), dropped
        except RecordError as error:
            reason = str(error)
            match = _FIELD.match(reason)
            name = match.group(1) if match else None
            if name not in optional or type(current) is not dict or name not in current:
                raise
            dropped.append((name, reason))
            current = {key: value for key, value in current.items() if key != name}


def write_notes(path: str | os.PathLike[str], notes: Iterable[FieldNote]) -> None:
    """Write ``notes`` atomically, one JSON object a line with file, line, field and reason."""
    atomic_write_chunks(path, (json_line({"file": n.file, "line": n.line, "field": n.field,
                                          "reason": n.reason}) for n in notes))
