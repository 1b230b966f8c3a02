"""Adding records to a served model: the files' validation, then the next state beside it.

:meth:`recommend.Recommender.add` takes typed records; they are checked by exactly the code
that checks a dataset folder (:func:`kg.reader.read_buffers` runs :func:`kg.reader.read_dataset`'s
line loop): each record is written as the JSON line it would be in its dataset file and read
back, so a wrong type anywhere (``kind="buy"``, ``ts="yesterday"``, ``value="abc"``) is a
rejection with the file's reason, never an exception. Rejections name the file the record
would be in, prefixed ``add():``, and its line there: the call's records of one type are
numbered in the order given (products first, as the files are read). References resolve
against the served graph and the call's own records; a record the graph already holds, or
that repeats an earlier one of the call, merges (:mod:`kg.held`): sending an event twice
counts it once.

The accepted records are applied to a *fork* of the served state (:func:`grow`): the graph's
:meth:`~kg.graph_store.GraphStore.fork` (id lists and indices copied, edge columns shared),
shallow copies of the components (the content index copied only when products are added, as
adding to it is the one in-place change), then :meth:`HybridModel.refresh` over the fork. The
served model is never touched, so a failure anywhere leaves it as it was, and the caller
publishes the result with one reference swap (:mod:`recommend.snapshot`).

Incremental: when the records added only edges (events of known users on known products,
follows), the fork's :class:`kg.delta.GraphDelta` says which users they touch; the graph's
cached seen matrix, pair times and histories are carried over with only those rows
recomputed (:func:`kg.interactions.grow_interactions`) and each component refreshes only
what the delta reaches (the users' rows, the meta-path steps built on the grown relations):
an event costs milliseconds instead of a rebuild of every derived matrix, with the same
result as the full refresh (tested). A new product, user or post refreshes everything.

Contract for components: ``refresh(graph, delta)`` rebinds what it derives from the graph
(never changes arrays in place), so a shallow copy refreshed over the fork shares nothing
that changes with the served one.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from kg.delta import graph_delta
from kg.held import known_ids
from kg.interactions import grow_interactions
from kg.reader import Rejection, read_buffers
from kg.records import DATASET_FILES, Dataset, Record
from recommend.hybrid.path_component import PathComponent

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.hybrid.model import HybridModel

LABEL = "add():"
_FILE_OF = {kind: name for name, kind in DATASET_FILES}


@dataclass
class Checked:
    """The records a call may apply, what it quarantined, and how many merged."""

    dataset: Dataset
    rejected: list[Rejection] = field(default_factory=list)
    merged: int = 0

    @property
    def count(self) -> int:
        """How many records the call may apply."""
        return sum(len(getattr(self.dataset, name[:-6])) for name, _ in DATASET_FILES)


class _NotJson(ValueError):
    pass


def _json_value(value: Any, name: str) -> Any:
    """``value`` as it would be decoded from JSON: tuples as lists, numpy scalars as numbers.
    Anything JSON cannot hold is a :class:`_NotJson` naming the field."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_json_value(v, f"{name}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise _NotJson(f'"{name}": an object\'s keys must be strings')
        return {k: _json_value(v, f"{name}[{json.dumps(k)}]") for k, v in value.items()}
    raise _NotJson(f'"{name}": expected a JSON value, got a Python {type(value).__name__}')


def _json_line(record: Record) -> bytes:
    """The record as one line of its dataset file (an event's target stays raw, with its
    ``target_type`` beside it, so a wrong type is judged by the file's rules)."""
    obj = {f.name: _json_value(getattr(record, f.name), f.name)
           for f in dataclasses.fields(record)}
    # ASCII escapes keep a lone surrogate visible to the reader, which rejects it
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def to_buffers(records: Dataset | Iterable[object]) -> tuple[dict[str, bytes], list[Rejection]]:
    """The records as dataset files in memory, and the ones that cannot be written.

    A record holding a value JSON cannot (a set, a datetime) is rejected at its line (a blank
    line keeps the file's numbering); an object that is no record, at its position in the
    call (file ``add()``).
    """
    items: Iterable[object]
    if isinstance(records, Dataset):
        items = [r for name, _ in DATASET_FILES for r in getattr(records, name[:-6])]
    elif isinstance(records, (str, bytes)) or type(records) in _FILE_OF:
        raise TypeError(f"add() takes an iterable of records or a Dataset, not {records!r:.80}")
    else:
        items = records
    lines: dict[str, list[bytes]] = {name: [] for name, _ in DATASET_FILES}
    rejected: list[Rejection] = []
    for position, record in enumerate(items, start=1):
        name = _FILE_OF.get(type(record))
        if name is None:
            rejected.append(Rejection(LABEL.rstrip(":"), position,
                                      f"not a shopgraph record: a {type(record).__name__}",
                                      repr(record)[:2000]))
            continue
        try:
            lines[name].append(_json_line(record))  # type: ignore[arg-type]
        except _NotJson as err:
            lines[name].append(b"\n")
            rejected.append(Rejection(LABEL + name, len(lines[name]), str(err),
                                      repr(record)[:2000]))
    return {name: b"".join(rows) for name, rows in lines.items() if rows}, rejected


def check(graph: KnowledgeGraph, records: Dataset | Iterable[object]) -> Checked:
    """Validate ``records`` against ``graph`` as a dataset folder's files are validated."""
    files, rejected = to_buffers(records)
    result = read_buffers(files, known=known_ids(graph), label=LABEL)
    merged = sum(c.merged for c in result.counts.values())
    return Checked(result.dataset, rejected + result.rejections, merged)


def grow(model: HybridModel, dataset: Dataset) -> tuple[HybridModel, tuple[str, ...]]:
    """The model over its graph plus ``dataset``, built beside ``model`` (left unchanged),
    and what was updated."""
    graph = model.graph.fork()
    graph.add_records(dataset)
    components = {name: copy.copy(comp) for name, comp in model.components.items()}
    updated: list[str] = []
    content = components.get("content")
    # (into a copy of its index: the served model keeps its own)
    if content is not None and dataset.products and content.add_products(graph):
        updated.append("content index")
    delta = graph_delta(model.graph, graph)
    if delta.incremental:
        grow_interactions(model.graph, graph, delta.users)
    grown = copy.copy(model)  # a dataclass copy: no __post_init__ (refresh does it below)
    grown.graph, grown.components = graph, components
    grown.refresh(delta)
    return grown, tuple(dict.fromkeys((*updated, "graph", "seen", *components)))


def still_valid(old: HybridModel, new: HybridModel) -> tuple[str, ...]:
    """The served snapshot's caches (:class:`recommend.snapshot.Snapshot`) that growing
    ``old`` into ``new`` leaves valid: prices when no node or attribute was added,
    influencers when every path scorer kept its KOL weights (no follow was added)."""
    keep = []
    if old.graph.same_nodes(new.graph):
        keep.append("prices")
    if all(comp.same_influencers(old.components[name])
           for name, comp in new.components.items() if isinstance(comp, PathComponent)):
        keep.append("influencers")
    return tuple(keep)
