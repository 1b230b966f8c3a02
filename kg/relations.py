"""``relations.jsonl``: a dataset's extra edges, validated and quarantined like its records.

One edge per line: ``{"relation", "src", "dst"}`` with optional ``weight`` and ``ts``, read by
the record reader's line loop (:func:`kg.reader.record_lines`).
A line is rejected (quarantined with the reason, like a record line) when it is over 1 MB, not
UTF-8, not a JSON object, holds an unpaired ``\\u`` surrogate escape, names an unknown relation,
an id that is not typed (``product:B00X``), endpoint types the relation does not join, a
weight that is not a number above 0 and at most 1e12 (an edge's strength), or a timestamp
outside the read's :class:`kg.timewindow.TimeWindow`.
Endpoints need no record: a ``product:Z`` only named here is walkable, not described.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.graph import KnowledgeGraph
from kg.line_shape import array_hint
from kg.parse import MAX_MAGNITUDE, RecordError, describe, parse_ts, quote
from kg.reader import FileCounts, Refusal, Rejection, raw_text, record_lines
from kg.schema import check_endpoint_types, relation, split_id
from kg.timewindow import TimeWindow
from kg.visible import id_refusal

RELATIONS_FILE = "relations.jsonl"

#: Per relation: sources, destinations, weights, timestamps (None: unknown).
Columns = tuple[list[str], list[str], list[float], list[float | None]]


@dataclass(slots=True)
class RelationsRead:
    """The accepted edges by relation, the quarantined lines and the file's counts."""

    edges: dict[str, Columns] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    counts: FileCounts = field(default_factory=FileCounts)


def _node(obj: dict[str, Any], key: str) -> tuple[str, str]:
    value = obj.get(key)
    if type(value) is not str:
        raise RecordError(f'"{key}": expected a typed node id string, got {describe(value)}')
    try:
        node_type, raw = split_id(value)
    except ValueError:
        raise RecordError(f'"{key}": {quote(value)} is not a typed node id "<type>:<id>"') from None
    if (why := id_refusal(raw)) is not None:
        raise RecordError(f'"{key}": id {quote(value)} {why}')
    return value, node_type


def parse_relation(obj: object, window: TimeWindow) -> tuple[str, str, str, float, float | None]:
    """One line's (relation, src, dst, weight, ts), or :class:`kg.parse.RecordError`."""
    if type(obj) is not dict:
        raise RecordError(f"expected a JSON object, got {describe(obj)}{array_hint(obj)}")
    name = obj.get("relation")
    if type(name) is not str:
        raise RecordError(f'"relation": expected a relation name, got {describe(name)}')
    try:
        relation(name)
    except ValueError as err:
        raise RecordError(f'"relation": {err}') from None
    (src, src_type), (dst, dst_type) = _node(obj, "src"), _node(obj, "dst")
    if src == dst:  # "people who bought A also bought A" says nothing
        raise RecordError(f'"src" and "dst" are the same node {quote(src)}: an edge joins two')
    try:
        check_endpoint_types(name, src_type, dst_type)
    except ValueError as err:
        raise RecordError(str(err)) from None
    weight = obj.get("weight", 1.0)
    if type(weight) not in (int, float) or not 0 < weight <= MAX_MAGNITUDE:  # NaN fails too
        raise RecordError(f'"weight": expected a number above 0, at most {MAX_MAGNITUDE:g} '
                          f"(an edge's strength), got {describe(weight)}")
    return name, src, dst, float(weight), parse_ts(obj.get("ts"), "ts", window)


def read_relations(path: str | os.PathLike[str], *, window: TimeWindow | None = None
                   ) -> RelationsRead:
    """Read and validate a ``relations.jsonl``; bad lines become rejections, never errors."""
    window = window or TimeWindow.until()
    out = RelationsRead()
    name = Path(path).name

    with open(path, "rb") as handle:
        for lineno, line, value in record_lines(handle):
            out.counts.read += 1
            reason = str(value) if type(value) is Refusal else None
            if reason is None:
                try:
                    rel, src, dst, weight, ts = parse_relation(value, window)
                except RecordError as error:
                    reason = str(error)
            if reason is not None:
                out.rejections.append(Rejection(name, lineno, reason, raw_text(line)))
                continue
            cols = out.edges.setdefault(rel, ([], [], [], []))
            cols[0].append(src)
            cols[1].append(dst)
            cols[2].append(weight)
            cols[3].append(ts)
            out.counts.accepted += 1
    out.counts.rejected = len(out.rejections)
    return out


def add_relations(graph: KnowledgeGraph, edges: dict[str, Columns]) -> int:
    """Add validated edges (:attr:`RelationsRead.edges`) to ``graph``; the number added."""
    for rel, (src, dst, weight, ts) in edges.items():
        graph.add_edges(rel, src, dst, weight=weight, ts=ts)
    return sum(len(c[0]) for c in edges.values())
