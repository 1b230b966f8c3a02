"""Writing records as a dataset folder of JSON Lines (the inverse of ``kg.reader``)."""

from __future__ import annotations

import dataclasses
import io
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from kg.atomic import atomic_write_bytes
from kg.records import DATASET_FILES, Dataset, Event, Record


def record_to_json(record: Record) -> dict[str, Any]:
    """A record as the JSON object of its dataset file; None fields are left out.

    Event targets are written typed (``product:B00X``) so they never resolve ambiguously.
    """
    obj: dict[str, Any] = {}
    for f in dataclasses.fields(record):
        value = getattr(record, f.name)
        if value is None or value == () or value == {}:
            continue
        obj[f.name] = list(value) if isinstance(value, tuple) else value
    if isinstance(record, Event):
        obj["target"] = f"{obj.pop('target_type')}:{record.target}"
    return obj


def write_jsonl(path: str | os.PathLike[str], objects: Iterable[Mapping[str, Any] | Record]) -> int:
    """Write dicts or records to ``path`` as JSON Lines, atomically; return the count."""
    buffer = io.BytesIO()
    count = 0
    for obj in objects:
        buffer.write(json_line(obj if isinstance(obj, Mapping) else record_to_json(obj)))
        count += 1
    atomic_write_bytes(path, buffer.getvalue())
    return count


def json_line(obj: Mapping[str, Any]) -> bytes:
    """``obj`` as one line of a JSON Lines file (compact, UTF-8)."""
    return (json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def write_dataset(dataset: Dataset, out_dir: str | os.PathLike[str]) -> dict[str, int]:
    """Write every record list of ``dataset`` into ``out_dir``; return rows per file."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for filename, _ in DATASET_FILES:
        records = getattr(dataset, filename.removesuffix(".jsonl"))
        counts[filename] = write_jsonl(out / filename, records)
    return counts
