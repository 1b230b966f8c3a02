"""The bulk dataset files (follows, events) validated per partition in Spark.

The in-process reader checks a line in two halves (:mod:`kg.reader`): the line itself
(UTF-8, JSON, fields and types: stateless) and what needs the other records (unknown
references, duplicates: :class:`kg.validate.Validator`). Here:

- the driver cuts each file into byte ranges at line ends, each with the number of lines
  before it (:func:`chunks`: one streaming pass counting ``\\n``, no record is decoded);
- each range is parsed on an executor by the reader's own line loop
  (:func:`kg.reader.record_lines`, the same field parsers),
  so a line's number and its reason are the in-process reader's;
- references become left joins with the accepted ids (and their node indices), and
  duplicates a window over the record's key in line order: the first one stays, an equal
  repeat is merged, a different follow of the same pair is a conflicting duplicate;
- the reason of each record rejected by a join is written by the real :class:`Validator`,
  replayed on an executor on just the facts the joins found (which ids exist, the first
  record of the key): the same code, so the same words.

Nothing per line comes back to the driver. The parsed table keeps the quarantine's text of
the lines the parser refused and the byte offset of the others; the rejected records of
the joins and the window get their text re-read at that offset when their reason is
replayed. Accepted records stay Parquet (:class:`Accepted`), with node indices in place of
ids, sorted by line; so do the rejections, which the driver streams into ``rejected.jsonl``
(:mod:`sparkbuild.assemble`). The counts are the tables' row counts, read from the Parquet
footers.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.reader import FileCounts

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from kg.timewindow import TimeWindow

CHUNK_BYTES = 32 << 20
FOLLOWS, EVENTS = "follows.jsonl", "events.jsonl"
EDGE_FILES = (FOLLOWS, EVENTS)

_FIELDS = {
    FOLLOWS: [("follower", "string"), ("followee", "string"), ("ts", "double")],
    EVENTS: [("user", "string"), ("target", "string"), ("target_type", "string"),
             ("kind", "string"), ("value", "double"), ("ts", "double"), ("text", "string")],
}


@dataclass(frozen=True, slots=True)
class Chunk:
    """Bytes ``start``..``end`` of ``path``, beginning at a line start after ``first_line``
    lines."""

    path: str
    start: int
    end: int
    first_line: int


def chunks(path: Path, size: int = CHUNK_BYTES) -> list[Chunk]:
    """``path`` cut at line ends into ranges of about ``size`` bytes (module doc)."""
    out: list[Chunk] = []
    with open(path, "rb") as handle:
        total = handle.seek(0, io.SEEK_END)
        handle.seek(0)
        lines = begin = pos = 0
        while block := handle.read(size):
            cut = block.rfind(b"\n")
            if cut < 0:  # no line end in this block: the range goes on
                pos += len(block)
                continue
            end = pos + cut + 1
            out.append(Chunk(str(path), begin, end, lines))
            lines += block.count(b"\n", 0, cut + 1)
            begin = pos = end
            handle.seek(end)
        if begin < total:
            out.append(Chunk(str(path), begin, total, lines))
    return out


def parse_chunk(chunk: Chunk, name: str, window: TimeWindow) -> dict[str, list[Any]]:
    """Every non-blank line of ``chunk`` as columns: ``line``, ``offset`` (the byte where the
    line starts; null for a bad line), the record's fields (null for a bad line),
    ``reason`` and ``raw`` (the quarantine's text; both null for a good line)."""
    import functools

    from kg.reader import Refusal, raw_text, record_lines
    from kg.records import Follow
    from kg.validate import RecordError, event_fields, parse_record

    names = [n for n, _ in _FIELDS[name]]
    cols: dict[str, list[Any]] = {k: [] for k in ("line", "offset", *names, "reason", "raw")}
    empty = [None] * len(names)
    if name == EVENTS:
        parse = functools.partial(event_fields, window=window)
    else:
        def parse(obj: Any) -> tuple[Any, ...]:
            f = parse_record(Follow, obj, window)
            return f.follower, f.followee, f.ts
    with open(chunk.path, "rb") as handle:
        handle.seek(chunk.start)
        data = handle.read(chunk.end - chunk.start)
    handle = io.BufferedReader(io.BytesIO(data))
    for lineno, line, value in record_lines(handle, chunk.first_line,
                                            file_start=chunk.start == 0):
        fields, offset, reason = empty, None, None
        if type(value) is Refusal:
            reason = str(value)
        else:
            try:
                fields = parse(value)
                offset = chunk.start + handle.tell() - len(line)  # not over-long: read whole
            except RecordError as error:
                reason = str(error)
        cols["line"].append(lineno)
        cols["offset"].append(offset)
        for key, field in zip(names, fields, strict=True):
            cols[key].append(field)
        cols["reason"].append(reason)
        cols["raw"].append(None if reason is None else raw_text(line))
    return cols


def parsed_frame(spark: SparkSession, path: Path, name: str, window: TimeWindow,
                 chunk_bytes: int = CHUNK_BYTES) -> DataFrame:
    """The lines of ``path`` parsed on the executors (:func:`parse_chunk`), one task per
    chunk."""
    import pyarrow as pa

    parts = chunks(path, chunk_bytes)
    seeds = spark.sparkContext.parallelize(
        [(c.path, c.start, c.end, c.first_line) for c in parts], max(len(parts), 1)
    ).toDF("path string, start long, end long, first_line long")
    fields = ["line long", "offset long", *(f"{n} {t}" for n, t in _FIELDS[name]),
              "reason string", "raw string"]
    arrow_schema = _arrow_schema(fields)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for row in batch.to_pylist():
                cols = parse_chunk(Chunk(**row), name, window)
                yield pa.RecordBatch.from_pydict(cols, schema=arrow_schema)

    return seeds.mapInArrow(run, ", ".join(fields))


def _arrow_schema(fields: list[str]) -> Any:
    """``["line long", ...]`` as an Arrow schema (of long, double and string columns)."""
    import pyarrow as pa

    kinds = {"long": pa.int64(), "string": pa.string(), "double": pa.float64()}
    return pa.schema([(n, kinds[t]) for n, t in (f.split() for f in fields)])


@dataclass(frozen=True, slots=True)
class Accepted:
    """One edge file's accepted records as a Parquet folder sorted by line (columns of
    :data:`ACCEPTED_COLUMNS`), its counts, and its rejections as a Parquet folder sorted by
    line (:data:`REJECTED_COLUMNS`)."""

    folder: Path
    counts: FileCounts
    rejected: Path


#: Columns of the accepted tables: node indices in place of ids.
ACCEPTED_COLUMNS = {FOLLOWS: ("line", "src", "dst", "ts"),
                    EVENTS: ("line", "src", "dst", "code", "value", "ts", "text")}
_REJECTED_FIELDS = ["line long", "reason string", "raw string"]
#: Columns of the rejected tables: a :class:`kg.reader.Rejection` less its file.
REJECTED_COLUMNS = tuple(f.split()[0] for f in _REJECTED_FIELDS)


def validate_file(spark: SparkSession, path: Path, name: str, ids: dict[str, DataFrame],
                  window: TimeWindow, scratch: Path, chunk_bytes: int = CHUNK_BYTES,
                  refused: Mapping[str, Mapping[str, str]] | None = None) -> Accepted:
    """Validate one edge file (module doc) against ``ids`` (``user``, ``product``, ``post``:
    DataFrames of ``id``, ``index``, the accepted nodes); its accepted and rejected tables
    under ``scratch``. ``refused``: the rejected entities' ids with why
    (:attr:`kg.reader.ReadResult.refused`), which a reference's reason names."""
    from pyspark.sql import functions as F

    parsed_dir = scratch / f"parsed-{name}"
    parsed_frame(spark, path, name, window, chunk_bytes).write.parquet(str(parsed_dir))
    parsed = spark.read.parquet(str(parsed_dir))
    good = parsed.where(F.col("reason").isNull()).drop("reason", "raw")
    checked_dir = scratch / f"checked-{name}"  # written once: two jobs read it
    (_check_follows if name == FOLLOWS else _check_events)(good, ids).write.parquet(
        str(checked_dir))
    checked = spark.read.parquet(str(checked_dir))
    key = ["src", "dst", "ts"] if name == FOLLOWS else ["src", "dst", "code", "value", "ts",
                                                         "text"]
    first, conflicts = _first_of_key(checked.where(F.col("ok")), name, key)
    folder = scratch / f"accepted-{name}"
    first.select(*ACCEPTED_COLUMNS[name]).orderBy("line").write.parquet(str(folder))
    schema = ", ".join(_REJECTED_FIELDS)
    replayed = checked.where(~F.col("ok")).mapInArrow(
        _replay(functools.partial(_reason, refused=refused or {}), name, path), schema)
    if conflicts is not None:
        replayed = replayed.unionByName(
            conflicts.mapInArrow(_replay(_conflict_reason, name, path), schema))
    rejected = scratch / f"rejected-{name}"
    (parsed.where(F.col("reason").isNotNull()).select(*REJECTED_COLUMNS)
     .unionByName(replayed).orderBy("line").write.parquet(str(rejected)))
    read, kept, bad = (parquet_rows(d) for d in (parsed_dir, folder, rejected))
    accepted = read - bad
    return Accepted(folder, FileCounts(read=read, accepted=accepted, rejected=bad,
                                       merged=accepted - kept), rejected)


def parquet_parts(folder: Path) -> list[Path]:
    """The Parquet parts of ``folder`` in the order Spark wrote them (by partition: a table
    written sorted is in order)."""
    return sorted(folder.glob("part-*.parquet"))


def parquet_rows(folder: Path) -> int:
    """The rows of the Parquet table in ``folder``, from its parts' footers."""
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in parquet_parts(folder))


def _replay(reason: Callable[[str, dict[str, Any]], str], name: str, path: Path
            ) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """A ``mapInArrow`` function: each refused record's ``line``, the validator's
    ``reason(name, row)`` and its quarantine text, re-read at its ``offset`` in ``path``."""
    schema = _arrow_schema(_REJECTED_FIELDS)

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        from kg.reader import RAW_CHARS, raw_text

        with open(path, "rb") as handle:
            for batch in batches:
                rows = batch.to_pylist()
                raws = []
                for row in rows:
                    handle.seek(row["offset"])
                    raws.append(raw_text(handle.readline(RAW_CHARS * 4)))
                yield pa.RecordBatch.from_pydict(
                    {"line": [r["line"] for r in rows],
                     "reason": [reason(name, r) for r in rows], "raw": raws}, schema=schema)

    return run


def _lookup(frame: DataFrame, ids: DataFrame, column: str, prefix: str) -> DataFrame:
    """``frame`` with ``<prefix>`` the node index of ``column``'s id (null: unknown)."""
    from pyspark.sql import functions as F

    found = ids.select(F.col("id").alias(f"_{prefix}_id"), F.col("index").alias(prefix))
    return frame.join(found, frame[column] == found[f"_{prefix}_id"], "left").drop(
        f"_{prefix}_id")


def _check_follows(good: DataFrame, ids: dict[str, DataFrame]) -> DataFrame:
    from pyspark.sql import functions as F

    out = _lookup(_lookup(good, ids["user"], "follower", "src"), ids["user"], "followee", "dst")
    return out.withColumn("ok", F.col("src").isNotNull() & F.col("dst").isNotNull())


def _check_events(good: DataFrame, ids: dict[str, DataFrame]) -> DataFrame:
    from pyspark.sql import functions as F

    from kg.build import event_codes

    out = _lookup(_lookup(_lookup(good, ids["user"], "user", "src"), ids["product"], "target",
                          "p"), ids["post"], "target", "q")
    declared = F.col("target_type")
    # a typed target unknown by its tail is looked up as the raw id spelling it ("product:7",
    # an export whose ids carry their type), as kg.validate does
    spelled = F.when(F.col("p").isNull() & F.col("q").isNull(),
                     F.concat(declared, F.lit(":"), F.col("target")))
    out = _lookup(_lookup(out.withColumn("_spelled", spelled), ids["product"], "_spelled",
                          "_p"), ids["post"], "_spelled", "_q").drop("_spelled")
    out = (out.withColumn("p", F.when(declared == "product", F.coalesce("p", "_p"))
                          .otherwise(F.col("p")))
           .withColumn("q", F.when(declared == "post", F.coalesce("q", "_q"))
                       .otherwise(F.col("q"))).drop("_p", "_q"))
    resolved = (F.when(declared.isNull() & F.col("p").isNotNull() & F.col("q").isNull(),
                       F.lit("product"))
                .when(declared.isNull() & F.col("q").isNotNull() & F.col("p").isNull(),
                      F.lit("post"))
                .when((declared == "product") & F.col("p").isNotNull(), F.lit("product"))
                .when((declared == "post") & F.col("q").isNotNull(), F.lit("post")))
    codes = event_codes()
    code = F.try_element_at(F.create_map(*[F.lit(x) for (k, t), c in codes.items()
                                       for x in (f"{k}|{t}", c)]),
                        F.concat_ws("|", F.col("kind"), resolved))
    return (out.withColumn("resolved", resolved)
            .withColumn("dst", F.when(F.col("resolved") == "product", F.col("p"))
                        .otherwise(F.col("q")))
            .withColumn("code", code)
            .withColumn("ok", F.col("src").isNotNull() & F.col("resolved").isNotNull()))


def _first_of_key(admitted: DataFrame, name: str, key: list[str]
                  ) -> tuple[DataFrame, DataFrame | None]:
    """(the first record of each key, the conflicting duplicates): a follow's key is its
    pair (a repeat with another ``ts`` conflicts, an equal one merges), an event's its whole
    content (a repeat merges)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    pair = key[:2] if name == FOLLOWS else key
    window = Window.partitionBy(*pair).orderBy("line")  # nulls group, as None == None
    ranked = admitted.withColumn("_first", F.first("line").over(window))
    first = ranked.where(F.col("line") == F.col("_first")).drop("_first")
    if name != FOLLOWS:
        return first, None
    firsts = first.select(F.col("src").alias("_s"), F.col("dst").alias("_d"),
                          F.col("ts").alias("first_ts"), F.col("line").alias("first_line"))
    later = ranked.where(F.col("line") != F.col("_first")).join(
        firsts, (F.col("src") == F.col("_s")) & (F.col("dst") == F.col("_d")))
    return first, later.where(~F.col("ts").eqNullSafe(F.col("first_ts")))


def _reason(name: str, row: Any, refused: Mapping[str, Mapping[str, str]]) -> str:
    """The validator's reason for a record a reference join refused, replayed on the facts
    the joins found (and the rejected entities' ids, ``refused``)."""
    from kg.records import Follow
    from kg.validate import KnownIds, RecordError, Validator

    if name == FOLLOWS:
        users = {x for x, at in ((row["follower"], row["src"]), (row["followee"], row["dst"]))
                 if at is not None}
        replay = lambda: Validator(KnownIds(users=users, refused=refused)).check(  # noqa: E731
            Follow(row["follower"], row["followee"], row["ts"]), where=(name, row["line"]))
    else:
        target = row["target"]
        known = KnownIds(users={row["user"]} if row["src"] is not None else set(),
                         products={target} if row["p"] is not None else set(),
                         posts={target} if row["q"] is not None else set(), refused=refused)
        replay = lambda: Validator(known).admit_event(  # noqa: E731
            row["user"], target, row["target_type"], row["kind"], row["value"], row["ts"],
            row["text"])
    try:
        replay()
    except RecordError as error:
        return str(error)
    raise AssertionError(f"{name} line {row['line']}: refused by a join, not by the validator")


def _conflict_reason(name: str, row: Any) -> str:
    """The validator's conflicting-duplicate reason for a follow, replayed on the first
    follow of its pair and this one."""
    from kg.records import Follow
    from kg.validate import KnownIds, RecordError, Validator

    validator = Validator(KnownIds(users={row["follower"], row["followee"]}))
    validator.check(Follow(row["follower"], row["followee"], row["first_ts"]),
                    where=(FOLLOWS, row["first_line"]))
    try:
        validator.check(Follow(row["follower"], row["followee"], row["ts"]),
                        where=(FOLLOWS, row["line"]))
    except RecordError as error:
        return str(error)
    raise AssertionError(f"{FOLLOWS} line {row['line']}: not a conflicting duplicate")
