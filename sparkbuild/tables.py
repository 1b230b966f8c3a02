"""The graph as Parquet tables, and the tables Spark SQL derives from them.

Inside the artifact, under ``tables/`` (Hive-style partitions: ``spark.read.parquet`` of a
table's folder gives the partition column back):

- ``nodes/type=<type>/``: ``index``, ``id`` (the typed id);
- ``edges/block=<source type>.<relation>.<destination type>/``: ``src``, ``dst`` (node
  indices of those types), ``weight``, ``ts`` (NaN: unknown), one partition per edge block;
- ``interactions/``: ``user``, ``product``, ``weight`` (summed over every event relation,
  as :func:`kg.interactions.relation_matrix` sums them), ``events``, ``latest`` (the
  latest known event time, NaN when none is), a union and a group-by of the event tables;
- ``co_occurrence/``: the product aggregates of :mod:`recommend.paths.privacy`
  (``co_purchased``, ``co_rated``, ...): ``relation``, ``src``, ``dst``, ``people``
  (distinct people who did it to both), ``weight`` (``Σ_u p_ua p_ub / deg_u``), only the
  pairs of at least ``min_people`` people; one self-join on (relation set, user) for all.

Serving reads the graph files, not these tables: they are for Spark jobs downstream and
they are what the equivalence tests compare with the in-process matrices.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kg.interactions import PRODUCT_RELATIONS
from sparkbuild.frames import to_frame

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from kg.graph import KnowledgeGraph

TABLES_DIR = "tables"
PART_FILE = "part-00000.zstd.parquet"


def write_graph_tables(graph: KnowledgeGraph, folder: Path) -> dict[str, int]:
    """Write the node and edge tables of ``graph`` under ``folder``; rows per partition.

    The graph is in the driver: each partition is written there by pyarrow, one block's
    columns at a time (no per-edge block name, no round trip through the JVM), in the
    layout Spark reads back with its partition column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from kg.schema import NODE_TYPES

    def write(table: pa.Table, part: Path) -> None:
        part.mkdir(parents=True)
        pq.write_table(table, part / PART_FILE, compression="zstd")

    rows: dict[str, int] = {}
    for t in NODE_TYPES:
        n = graph.num_nodes(t)
        if n:
            write(pa.table({"index": np.arange(n, dtype=np.int64),
                            "id": pa.array(graph.nodes(t), pa.string())}),
                  folder / "nodes" / f"type={t}")
            rows[f"nodes/{t}"] = n
    for b in graph.edge_blocks():
        if not len(b):
            continue
        name = f"{b.src_type}.{b.relation}.{b.dst_type}"
        write(pa.table({"src": b.src.astype(np.int64), "dst": b.dst.astype(np.int64),
                        "weight": b.weight.astype(np.float32), "ts": _times(b.ts)}),
              folder / "edges" / f"block={name}")
        rows[f"edges/{name}"] = len(b)
    return rows


def _times(ts: np.ndarray) -> np.ndarray:
    """Edge times with the store's "unknown" marker as NaN."""
    from kg.interactions import NO_TIME

    out = np.asarray(ts, np.float64).copy()
    out[out <= NO_TIME] = np.nan
    return out


def event_edges(spark: SparkSession, folder: Path, relations: tuple[str, ...]) -> DataFrame:
    """The user -> product edges of ``relations``, with their ``relation`` column."""
    from pyspark.sql import functions as F

    blocks = {f"user.{rel}.product": rel for rel in relations}
    edges = spark.read.parquet(str(folder / "edges")).where(F.col("block").isin(list(blocks)))
    relation = F.element_at(F.create_map(*[F.lit(x) for kv in blocks.items() for x in kv]),
                            F.col("block"))
    return edges.withColumn("relation", relation)


def interactions(spark: SparkSession, folder: Path,
                 relations: tuple[str, ...] = PRODUCT_RELATIONS) -> DataFrame:
    """(user, product) summed weight, event count and latest time over ``relations``."""
    from pyspark.sql import functions as F

    return (event_edges(spark, folder, relations)
            .groupBy(F.col("src").alias("user"), F.col("dst").alias("product"))
            .agg(F.sum(F.col("weight").cast("double")).alias("weight"),
                 F.count(F.lit(1)).alias("events"), F.max("ts").alias("latest")))


def co_occurrence(spark: SparkSession, folder: Path, *, min_people: int) -> DataFrame | None:
    """Every product aggregate of :mod:`recommend.paths.privacy` over events (module doc;
    ``co_posted``, over the post tier, is walked by no meta-path: it is only counted per hop),
    by one self-join on (relation set, user): aggregates over the same present relations (on
    ratings alone ``co_rated`` and ``co_engaged``) share their pairs."""
    from pyspark.sql import functions as F

    from recommend.paths.privacy import AGGREGATES, interactions_of

    present = {rel for rel in PRODUCT_RELATIONS
               if (folder / "edges" / f"block=user.{rel}.product").is_dir()}
    sets: dict[tuple[str, ...], list[str]] = {}
    for name, agg in AGGREGATES.items():
        rels = tuple(sorted(present & set(interactions_of(agg.interaction))))
        if agg.src_type == "product" and rels:
            sets.setdefault(rels, []).append(name)
    keys = list(sets)
    if not keys:  # no user -> product events
        return None
    edges = event_edges(spark, folder, tuple(sorted(present)))
    which = to_frame(spark, {"key": [k for k, rels in enumerate(keys) for _ in rels],
                             "relation": [r for rels in keys for r in rels]})
    named = to_frame(spark, {"key": [k for k, rels in enumerate(keys) for _ in sets[rels]],
                             "name": [n for rels in keys for n in sets[rels]]})
    p = (edges.join(F.broadcast(which), "relation")
         .groupBy("key", F.col("src").alias("user"), F.col("dst").alias("product"))
         .agg(F.sum(F.col("weight").cast("double")).alias("weight"))
         .where(F.col("weight") != 0))
    deg = p.groupBy("key", "user").agg(F.sum("weight").alias("deg"))
    a = p.alias("a")
    b = p.join(deg, ["key", "user"]).select(
        "key", "user", "product", (F.col("weight") / F.col("deg")).alias("share")).alias("b")
    pairs = (a.join(b, (F.col("a.key") == F.col("b.key")) & (F.col("a.user") == F.col("b.user"))
                    & (F.col("a.product") != F.col("b.product")))
             .groupBy(F.col("a.key").alias("key"), F.col("a.product").alias("src"),
                      F.col("b.product").alias("dst"))
             .agg(F.count(F.lit(1)).alias("people"),
                  F.sum(F.col("a.weight") * F.col("b.share")).alias("weight"))
             .where(F.col("people") >= min_people))
    return (pairs.join(F.broadcast(named), "key")
            .select(F.col("name").alias("relation"), "src", "dst", "people", "weight"))


def write_derived_tables(spark: SparkSession, folder: Path, *, min_people: int
                         ) -> dict[str, int]:
    """Write ``interactions`` and ``co_occurrence`` under ``folder``; rows per table."""
    rows: dict[str, int] = {}
    if not (folder / "edges").is_dir():  # a graph without edges
        return rows
    for name, table in (("interactions", interactions(spark, folder)),
                        ("co_occurrence", co_occurrence(spark, folder, min_people=min_people))):
        if table is None:
            continue
        table.write.parquet(str(folder / name))
        rows[name] = spark.read.parquet(str(folder / name)).count()
    return rows
