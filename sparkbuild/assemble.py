"""The Spark build's read, validation and graph assembly, with no edge record in the driver.

:class:`SparkAssembler` is the :data:`kg.artifact.Assembler` of ``--engine spark``:

1. the entity files (products, users, posts) are read and validated in the driver by the
   in-process reader (:func:`kg.reader.read_dataset` with ``only``): their records become
   the graph's node attributes, which the driver holds anyway, so they are O(nodes);
2. the bulk files, ``follows.jsonl`` and ``events.jsonl`` (edges only: O(events), what grows
   to billions), are validated per partition in Spark (:mod:`sparkbuild.records`) against
   the accepted ids, and their accepted records come back as Parquet columns of node
   indices, appended to the graph as arrays (:func:`kg.build.add_follow_arrays`,
   :func:`kg.build.add_event_arrays`): a few bytes per edge, never a Python object each;
   their rejections stay Parquet too, streamed into ``rejected.jsonl`` in file and line
   order when the artifact is written (:class:`Quarantine`).

Files are handled in the reader's order (products, users, follows, posts, events), so node
indices, edge order and the quarantine's order are the in-process build's. The stages that
read records (nlp's comments, the profiles) get the follows and events as
:class:`TableRecords`, made from the Parquet table batch by batch while a stage iterates:
a graph-only build never makes them. The scratch folder holds the parsed and accepted
tables; on a cluster it, and the dataset folder, must be on storage every executor reads.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from sparkbuild.records import (
    CHUNK_BYTES,
    EDGE_FILES,
    EVENTS,
    FOLLOWS,
    REJECTED_COLUMNS,
    Accepted,
    parquet_parts,
    validate_file,
)

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

    from kg.graph import KnowledgeGraph
    from kg.reader import ReadResult, Rejection
    from kg.records import Event, Follow
    from kg.timewindow import TimeWindow

ENTITY_FILES = ("products.jsonl", "users.jsonl", "posts.jsonl")


class SparkAssembler:
    """Read + validate + assemble a dataset folder (module doc); ``report`` says what it
    did (seconds per step, accepted rows per edge file)."""

    def __init__(self, spark: SparkSession, scratch: Path, chunk_bytes: int = CHUNK_BYTES
                 ) -> None:
        self.spark, self.scratch, self.chunk_bytes = spark, scratch, chunk_bytes
        self.report: dict[str, Any] = {}

    def __call__(self, root: Path, window: TimeWindow | None, progress: bool
                 ) -> tuple[ReadResult, KnowledgeGraph]:
        from kg.build import add_dataset
        from kg.graph import KnowledgeGraph
        from kg.reader import dataset_file, read_dataset
        from kg.records import Dataset

        seconds: dict[str, float] = {}
        began = time.perf_counter()
        result = read_dataset(root, progress=progress, window=window, only=ENTITY_FILES)
        seconds["entities_read"] = time.perf_counter() - began
        entities = result.dataset
        graph = KnowledgeGraph()
        add_dataset(graph, Dataset(products=entities.products, users=entities.users),
                    progress=progress)
        tables: dict[str, Accepted] = {}
        ids = self._ids(graph, "user", "product")  # sent to Spark once, for both files
        for name in EDGE_FILES:
            if name == EVENTS:  # posts come after follows in the reader's order
                add_dataset(graph, Dataset(posts=entities.posts), progress=progress)
                ids.update(self._ids(graph, "post"))
            path = dataset_file(root, name)
            if path is None:
                continue
            began = time.perf_counter()
            tables[name] = validate_file(self.spark, path, name, ids, result.window,
                                         self.scratch, self.chunk_bytes, result.refused)
            seconds[f"validate:{name}"] = time.perf_counter() - began
            began = time.perf_counter()
            _append(graph, name, tables[name].folder)
            seconds[f"assemble:{name}"] = time.perf_counter() - began
        for frame in ids.values():
            frame.unpersist()
        self._merge(result, tables, graph)
        self.report.update({  # in place: the engine's manifest entry holds this dict
            "seconds": {k: round(v, 3) for k, v in seconds.items()},
            "validated_in_spark": {n: a.counts.read for n, a in tables.items()}})
        return result, graph

    def _ids(self, graph: KnowledgeGraph, *types: str) -> dict[str, DataFrame]:
        """The accepted nodes of ``types`` the edge files may refer to, as cached Spark
        tables of id, index."""
        import pandas as pd

        return {t: self.spark.createDataFrame(
            pd.DataFrame({"id": pd.Series(graph.raw_ids(t), dtype=object),
                          "index": np.arange(graph.num_nodes(t), dtype=np.int64)}),
            schema="id string, index long").cache() for t in types}

    @staticmethod
    def _merge(result: ReadResult, tables: dict[str, Accepted], graph: KnowledgeGraph) -> None:
        """Counts, rejections (in file order, streamed) and lazy records of the edge files
        into ``result``."""
        for name, accepted in tables.items():
            result.counts[name] = accepted.counts
        result.rejections = Quarantine(result.rejections, tables)
        if FOLLOWS in tables:
            result.dataset.follows = TableRecords(tables[FOLLOWS], _follows(graph))
        if EVENTS in tables:
            result.dataset.events = TableRecords(tables[EVENTS], _events(graph))


class Quarantine(Sequence["Rejection"]):
    """A read's rejections in the reader's file order: the entity files' (held) and the
    edge files' (their Parquet tables, read batch by batch on each iteration). Indexing
    reads only the part that holds the row: the parts before it are skipped by their
    footers' row counts."""

    def __init__(self, held: Sequence[Rejection], tables: dict[str, Accepted]) -> None:
        from kg.records import DATASET_FILES

        self._tables = tables
        self._held = {name: [r for r in held if r.file == name] for name, _ in DATASET_FILES}
        self._len = len(held) + sum(a.counts.rejected for a in tables.values())

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[Rejection]:
        return self._from(0)

    def _from(self, start: int) -> Iterator[Rejection]:
        """The rejections from index ``start`` (>= 0) on, skipping whole files and parts."""
        for name, held in self._held.items():
            table = self._tables.get(name)
            count = table.counts.rejected if table is not None else len(held)
            if start >= count:
                start -= count
                continue
            if table is not None:
                yield from _rejections(name, table.rejected, skip=start)
            else:
                yield from held[start:]
            start = 0

    @overload
    def __getitem__(self, index: int) -> Rejection: ...

    @overload
    def __getitem__(self, index: slice) -> list[Rejection]: ...

    def __getitem__(self, index: int | slice) -> Rejection | list[Rejection]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._len)
            if step < 0:
                return list(self)[index]
            return list(itertools.islice(self._from(start), 0, max(stop - start, 0), step))
        if not -self._len <= index < self._len:
            raise IndexError("rejection index out of range")
        return next(self._from(index % self._len))


def _rejections(name: str, folder: Path, skip: int = 0) -> Iterator[Rejection]:
    """The rejected table of edge file ``name`` in ``folder`` as rejections, in line order
    (checked), from row ``skip`` on (the parts wholly before it are not read)."""
    import pyarrow.parquet as pq

    from kg.reader import Rejection

    last = 0
    for path in parquet_parts(folder):
        part = pq.ParquetFile(path)
        if skip >= part.metadata.num_rows:
            skip -= part.metadata.num_rows
            continue
        for batch in part.iter_batches(columns=list(REJECTED_COLUMNS)):
            if skip >= batch.num_rows:
                skip -= batch.num_rows
                continue
            cols = batch.slice(skip).to_pydict()
            skip = 0
            for line, reason, raw in zip(*(cols[c] for c in REJECTED_COLUMNS), strict=True):
                if line <= last:
                    raise RuntimeError(f"{folder}: rejections are not in line order")
                last = line
                yield Rejection(name, line, reason, raw)


def _read(folder: Path, columns: list[str]) -> pa.Table:
    """``columns`` of the accepted table in ``folder``, checked to be in line order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    parts = [pq.read_table(p, columns=["line", *columns]) for p in parquet_parts(folder)]
    table = pa.concat_tables(parts) if parts else None
    if table is None:
        return pa.table({c: [] for c in columns})
    lines = table.column("line").to_numpy()
    if np.any(np.diff(lines) <= 0):
        raise RuntimeError(f"{folder}: accepted records are not in line order")
    return table.drop_columns(["line"])


def _append(graph: KnowledgeGraph, name: str, folder: Path) -> None:
    """Append the accepted table's edges to ``graph`` as arrays, in line order."""
    from kg.build import add_event_arrays, add_follow_arrays

    def column(table: pa.Table, key: str, dtype: Any) -> np.ndarray:
        return table.column(key).to_numpy().astype(dtype, copy=False)

    if name == FOLLOWS:
        t = _read(folder, ["src", "dst", "ts"])
        add_follow_arrays(graph, column(t, "src", np.int64), column(t, "dst", np.int64),
                          column(t, "ts", np.float64))
        return
    t = _read(folder, ["src", "dst", "code", "value", "ts"])
    add_event_arrays(graph, column(t, "code", np.int64), column(t, "src", np.int64),
                     column(t, "dst", np.int64), column(t, "value", np.float64),
                     column(t, "ts", np.float64))


class TableRecords(Sequence[Any]):
    """An edge file's accepted records, made from its Parquet table batch by batch on each
    iteration (indexing makes them all once, and keeps them)."""

    def __init__(self, accepted: Accepted, make: Callable[[dict[str, list[Any]]], list[Any]]
                 ) -> None:
        self._folder, self._make = accepted.folder, make
        self._len = accepted.counts.accepted - accepted.counts.merged
        self._all: list[Any] | None = None

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[Any]:
        import pyarrow.parquet as pq

        for path in parquet_parts(self._folder):
            for batch in pq.ParquetFile(path).iter_batches():
                yield from self._make(batch.to_pydict())

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> list[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if self._all is None:
            self._all = list(self)
        return self._all[index]


def _follows(graph: KnowledgeGraph) -> Callable[[dict[str, list[Any]]], list[Follow]]:
    from kg.records import Follow

    users = graph.raw_ids("user")

    def make(cols: dict[str, list[Any]]) -> list[Follow]:
        return [Follow(users[s], users[d], None if t != t else t)
                for s, d, t in zip(cols["src"], cols["dst"], cols["ts"], strict=True)]

    return make


def _events(graph: KnowledgeGraph) -> Callable[[dict[str, list[Any]]], list[Event]]:
    from kg.records import Event
    from kg.schema import EVENT_RELATIONS

    kinds = list(EVENT_RELATIONS)
    users = graph.raw_ids("user")
    targets = (graph.raw_ids("product"), graph.raw_ids("post"))

    def make(cols: dict[str, list[Any]]) -> list[Event]:
        return [Event(users[s], targets[c % 2][d], ("product", "post")[c % 2], kinds[c // 2],
                      v, t, x)
                for s, d, c, v, t, x in zip(cols["src"], cols["dst"], cols["code"],
                                            cols["value"], cols["ts"], cols["text"], strict=True)]

    return make
