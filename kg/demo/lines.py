"""Streaming JSON Lines output for the large demo files (events, follows, products).

``kg.jsonl.write_jsonl`` builds each file in memory; at benchmark scale (a million events)
that doubles the peak memory, so the demo streams lines in chunks instead. The lines are
byte for byte what ``write_jsonl`` writes for the same records (the tests check it by
reading the folder back with ``kg.reader`` and writing it again with ``kg.jsonl``).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from kg.jsonl import record_to_json
from kg.records import Record

CHUNK = 65_536


def chunked_rows(columns: tuple[np.ndarray, ...], size: int = CHUNK) -> Iterator[tuple[Any, ...]]:
    """The rows of parallel arrays as tuples of Python values, converting a chunk at a time."""
    for start in range(0, len(columns[0]), size):
        yield from zip(*(c[start : start + size].tolist() for c in columns), strict=True)


def write_lines(path: Path, lines: Iterable[str]) -> int:
    """Write newline-terminated ``lines`` to ``path`` in chunks; return how many.

    Not atomic by itself: the demo writes into a folder that is swapped in whole.
    """
    count = 0
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        iterator = iter(lines)
        while chunk := list(itertools.islice(iterator, CHUNK)):
            handle.write("".join(chunk))
            count += len(chunk)
    return count


def record_lines(records: Iterable[Record]) -> Iterator[str]:
    """Records as the JSON Lines :func:`kg.jsonl.write_jsonl` writes, one at a time."""
    for record in records:
        yield json.dumps(record_to_json(record), ensure_ascii=False, separators=(",", ":")) + "\n"
