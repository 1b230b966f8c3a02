"""Meta-path scores per user by Spark SQL joins, each user's top K kept.

A meta-path's score matrix is the product of its step matrices
(:func:`recommend.paths.metapaths.metapath_matrix`). Each step's matrix is compiled in the
driver by :func:`recommend.paths.metapaths.step_matrices` (O(edges): the degree
normalisation, the privacy aggregates and the influencer weights are the in-process code),
and the chain runs as joins: the (user, node, score) frontier joined with the next step on
the node, summed per (user, reached node). A window keeps each user's ``k`` best products
(ties by the lower product index), so the table grows like users × k per meta-path.

The frontier before the last sum can reach users × (products in a category) rows (a
``same_category`` walk over a 100k catalogue), which is why the build writes this table
only when asked (``--spark-metapaths K``); the served graph scorer computes the same scores
per batch of users at request time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from sparkbuild.frames import to_frame

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from kg.graph import KnowledgeGraph
    from recommend.paths.metapaths import MetaPath, Normalize


def _cells(spark: SparkSession, m, a: str, b: str, value: str) -> DataFrame:
    coo = m.tocoo()
    return to_frame(spark, {a: coo.row.astype(np.int64), b: coo.col.astype(np.int64),
                            value: coo.data.astype(np.float64)})


def metapath_scores(spark: SparkSession, graph: KnowledgeGraph, metapath: MetaPath, *,
                    normalize: Normalize = "row") -> DataFrame | None:
    """(user, product, score) of ``metapath`` (non-zero scores only; None: no path)."""
    from pyspark.sql import functions as F

    from recommend.paths.metapaths import step_matrices

    mats = step_matrices(graph, metapath, normalize=normalize)
    if any(m.nnz == 0 for m in mats):
        return None
    frontier = _cells(spark, mats[0], "user", "node", "score")
    for m in mats[1:]:
        step = _cells(spark, m, "node", "next", "w")
        frontier = (frontier.join(step, "node")
                    .groupBy("user", F.col("next").alias("node"))
                    .agg(F.sum(F.col("score") * F.col("w")).alias("score")))
    return (frontier.where(F.col("score") != 0)
            .select("user", F.col("node").alias("product"), "score"))


def metapath_top_k(spark: SparkSession, graph: KnowledgeGraph, metapaths: Sequence[MetaPath],
                   *, k: int, normalize: Normalize = "row") -> DataFrame | None:
    """(metapath, user, product, score, rank) of each user's ``k`` best products per
    meta-path (rank 1 first); None when no meta-path reaches a product."""
    from functools import reduce

    from pyspark.sql import Window
    from pyspark.sql import functions as F

    parts = []
    for mp in metapaths:
        scores = metapath_scores(spark, graph, mp, normalize=normalize)
        if scores is not None:
            parts.append(scores.withColumn("metapath", F.lit(mp.name)))
    if not parts:
        return None
    order = Window.partitionBy("metapath", "user").orderBy(F.desc("score"), F.asc("product"))
    return (reduce(lambda a, b: a.unionByName(b), parts)
            .withColumn("rank", F.row_number().over(order)).where(F.col("rank") <= k)
            .select("metapath", "user", "product", "score", "rank"))
