"""Why a line of a dataset file is not one JSON object, when the file's shape says so.

A JSON Lines file holds one whole object per line. Three common exports break that for
every line, each with a JSON error that does not say why: a pretty-printed JSON document
(its lines are ``[``, ``{``, ``"id": "p1",``: "Extra data at character 9"), one JSON array
on one line ("got array of 900") and a file whose lines end in a bare CR, the old Mac line
end (the whole file is one line: "Extra data at character 14" or "longer than 1 MB"). Each
hint is read off the line alone, so a line means the same wherever it is read (the Spark
build reads a file in chunks).
"""

from __future__ import annotations

import re

#: a line of a pretty-printed document: a bracket alone, or a key and its colon first
_PIECE = re.compile(r'\s*(?:"(?:[^"\\]|\\.)*"\s*:|[\[\]{}]\s*,?\s*$)')
_CR = " (its lines end in a bare CR, \\r: save the file with LF or CRLF line ends)"
_SPREAD = (" (a piece of a record spread over several lines, as in pretty-printed JSON: JSON "
           "Lines needs each record whole on one line)")
_ARRAY = " (a JSON array of records: write each record on a line of its own, JSON Lines)"


def malformed_hint(text: str) -> str:
    """What to add to the reason of ``text``, a line that is not valid JSON: a bare CR
    inside it, or a piece of a spread-out document ("" when neither)."""
    if "\r" in text.rstrip("\r\n"):
        return _CR
    return _SPREAD if _PIECE.match(text) else ""


def long_line_hint(head: bytes) -> str:
    """What to add to the reason of a line over the length limit, from its first bytes."""
    if b"\r" in head.rstrip(b"\r\n"):
        return _CR
    return _ARRAY if head.lstrip().startswith(b"[") else ""


def array_hint(value: object) -> str:
    """What to add to "expected a JSON object, got array" when ``value`` holds records."""
    return _ARRAY if type(value) is list and value and type(value[0]) is dict else ""
