"""The graph as Parquet tables, and the tables Spark SQL derives from them.

Inside the artifact, under ``tables/``:

- ``nodes/<type>/``: ``index``, ``id`` (the typed id) per node type;
- ``edges/<source type>.<relation>.<destination type>/``: ``src``, ``dst`` (node indices
  of those types), ``weight``, ``ts`` (NaN: unknown), one table per edge block;
- ``interactions/``: ``user``, ``product``, ``weight`` (summed over every event relation,
  as :func:`kg.interactions.relation_matrix` sums them), ``events``, ``latest`` (the
  latest event time, NaN when none is known), from a union and a group-by of the event
  tables;
- ``co_occurrence/``: the product aggregates of :mod:`recommend.paths.privacy`
  (``co_purchased``, ``co_rated``, ...): ``relation``, ``src``, ``dst``, ``people``
  (distinct people who did it to both), ``weight`` (``Σ_u p_ua p_ub / deg_u``), only the
  pairs of at least ``min_people`` people, by a self-join of the interactions on the user.

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


def write_graph_tables(spark: SparkSession, graph: KnowledgeGraph, folder: Path
                       ) -> dict[str, int]:
    """Write the node and edge tables of ``graph`` under ``folder``; rows per table."""
    from kg.schema import NODE_TYPES

    rows: dict[str, int] = {}
    for node_type in NODE_TYPES:
        ids = graph.nodes(node_type)
        if ids:
            frame = to_frame(spark, {"index": np.arange(len(ids), dtype=np.int64), "id": ids})
            frame.coalesce(1).write.parquet(str(folder / "nodes" / node_type))
            rows[f"nodes/{node_type}"] = len(ids)
    for block in graph.edge_blocks():
        if not len(block):
            continue
        name = f"edges/{block.src_type}.{block.relation}.{block.dst_type}"
        frame = to_frame(spark, {"src": block.src.astype(np.int64),
                                 "dst": block.dst.astype(np.int64),
                                 "weight": block.weight.astype(np.float32),
                                 "ts": _times(block.ts)})
        frame.write.parquet(str(folder / name))
        rows[name] = len(block)
    return rows


def _times(ts: np.ndarray) -> np.ndarray:
    """Edge times with the store's "unknown" marker as NaN."""
    from kg.interactions import NO_TIME

    out = np.asarray(ts, np.float64).copy()
    out[out <= NO_TIME] = np.nan
    return out


def event_edges(spark: SparkSession, folder: Path, relations: tuple[str, ...]
                ) -> DataFrame | None:
    """The union of the user -> product edge tables of ``relations`` (None: none exist)."""
    from functools import reduce

    parts = [spark.read.parquet(str(folder / "edges" / f"user.{rel}.product"))
             for rel in relations if (folder / "edges" / f"user.{rel}.product").is_dir()]
    if not parts:
        return None
    return reduce(lambda a, b: a.unionByName(b), parts)


def interactions(spark: SparkSession, folder: Path,
                 relations: tuple[str, ...] = PRODUCT_RELATIONS) -> DataFrame | None:
    """(user, product) summed weight, event count and latest time over ``relations``."""
    from pyspark.sql import functions as F

    edges = event_edges(spark, folder, relations)
    if edges is None:
        return None
    return (edges.groupBy(F.col("src").alias("user"), F.col("dst").alias("product"))
            .agg(F.sum(F.col("weight").cast("double")).alias("weight"),
                 F.count(F.lit(1)).alias("events"), F.max("ts").alias("latest")))


def co_occurrence(spark: SparkSession, folder: Path, name: str, *, min_people: int
                  ) -> DataFrame | None:
    """The product aggregate ``name`` (module doc) by a self-join on the user."""
    from pyspark.sql import functions as F

    from recommend.paths.privacy import AGGREGATES, interactions_of

    p = interactions(spark, folder, interactions_of(AGGREGATES[name].interaction))
    if p is None:
        return None
    p = p.where(F.col("weight") != 0).select("user", "product", "weight")
    deg = p.groupBy("user").agg(F.sum("weight").alias("deg"))
    a = p.alias("a")
    b = p.join(deg, "user").select("user", "product", (F.col("weight") / F.col("deg"))
                                   .alias("share")).alias("b")
    return (a.join(b, (F.col("a.user") == F.col("b.user"))
                   & (F.col("a.product") != F.col("b.product")))
            .groupBy(F.col("a.product").alias("src"), F.col("b.product").alias("dst"))
            .agg(F.count(F.lit(1)).alias("people"),
                 F.sum(F.col("a.weight") * F.col("b.share")).alias("weight"))
            .where(F.col("people") >= min_people)
            .select(F.lit(name).alias("relation"), "src", "dst", "people", "weight"))


def write_derived_tables(spark: SparkSession, folder: Path, *, min_people: int
                         ) -> dict[str, int]:
    """Write ``interactions`` and ``co_occurrence`` under ``folder``; rows per table."""
    from recommend.paths.privacy import AGGREGATES

    rows: dict[str, int] = {}
    table = interactions(spark, folder)
    if table is None:
        return rows
    table.write.parquet(str(folder / "interactions"))
    rows["interactions"] = spark.read.parquet(str(folder / "interactions")).count()
    parts = [co_occurrence(spark, folder, name, min_people=min_people)
             for name, agg in AGGREGATES.items() if agg.src_type == "product"]
    present = [p for p in parts if p is not None]
    if present:
        from functools import reduce

        reduce(lambda a, b: a.unionByName(b), present).write.parquet(
            str(folder / "co_occurrence"))
        rows["co_occurrence"] = spark.read.parquet(str(folder / "co_occurrence")).count()
    return rows
