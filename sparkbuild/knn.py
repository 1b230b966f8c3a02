"""Pruned item-kNN similarity by Spark SQL joins: the backend of :mod:`cf.item_knn`.

``S = W Wᵀ`` of a weighted item × user matrix ``W`` is, as a join, the item pairs that
share a user: ``W`` joined with itself on the user, products summed per (item, item), each
item's ``top_k`` largest kept by a window (ties by the lower item index; the in-process
pruning breaks ties arbitrarily). The item itself stays, as in :func:`cf.item_knn.
neighbour_similarity`, whose result this equals up to float rounding and ties. The
weighting stays in the driver (:func:`cf.item_knn.item_weights`, O(nnz)): only the
quadratic part, the pairs, runs in Spark.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from sparkbuild.frames import to_columns, to_frame

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def similarity_by_joins(spark: SparkSession, w: sp.csr_matrix, top_k: int) -> sp.csr_matrix:
    """``W Wᵀ`` with each row's ``top_k`` largest non-zero entries kept (float32 CSR)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    n = w.shape[0]
    if w.nnz == 0:
        return sp.csr_matrix((n, n), dtype=np.float32)
    coo = w.tocoo()
    cells = to_frame(spark, {"item": coo.row.astype(np.int64), "user": coo.col.astype(np.int64),
                             "w": coo.data.astype(np.float64)})
    a, b = cells.alias("a"), cells.alias("b")
    pairs = (a.join(b, F.col("a.user") == F.col("b.user"))
             .groupBy(F.col("a.item").alias("i"), F.col("b.item").alias("j"))
             .agg(F.sum(F.col("a.w") * F.col("b.w")).alias("s"))
             .where(F.col("s") != 0))
    order = Window.partitionBy("i").orderBy(F.desc("s"), F.asc("j"))
    top = (pairs.withColumn("rank", F.row_number().over(order))
           .where(F.col("rank") <= top_k).select("i", "j", "s"))
    got = to_columns(top)
    out = sp.csr_matrix((got["s"].astype(np.float32), (got["i"], got["j"])), shape=(n, n))
    out.sort_indices()
    return out


def spark_similarity(spark: SparkSession) -> Callable[[sp.csr_matrix, int], sp.csr_matrix]:
    """:func:`similarity_by_joins` on ``spark``, as :func:`cf.item_knn.similarity_backend`
    takes it."""
    return lambda w, top_k: similarity_by_joins(spark, w, top_k)
