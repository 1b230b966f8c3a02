"""Product texts embedded on the executors: ``mapInPandas`` with one model per worker.

:class:`SparkEncoder` is a :class:`recommend.hybrid.encoders.TextEncoder`: ``embed(texts)``
sends the texts as a DataFrame of (position, text), and each Python worker embeds its
partitions in batches with :class:`recommend.hybrid.encoders.SentenceEncoder`, loaded once
per worker process (Spark reuses Python workers between tasks) and kept in a module global.
The rows come back in their positions, the same unit vectors the in-process encoder gives.
It has no ``save``: the artifact records the sentence-transformers encoder, which serving
loads in process (queries and new products are one text at a time).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from sparkbuild.frames import to_frame

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import SparkSession

_ENCODERS: dict[tuple[str | None, bool], Any] = {}  # per worker: (model, int8) -> encoder
_SCHEMA = "pos long, vector array<float>"


def _encoder(model: str | None, int8: bool) -> Any:
    if (model, int8) not in _ENCODERS:
        from recommend.hybrid.encoders import SentenceEncoder

        _ENCODERS[(model, int8)] = SentenceEncoder(model, int8=int8)
    return _ENCODERS[(model, int8)]


def embed_partitions(model: str | None, int8: bool, batches: Iterator[pd.DataFrame]
                     ) -> Iterator[pd.DataFrame]:
    """``mapInPandas`` body: (pos, text) batches to (pos, vector) batches."""
    import pandas as pd

    encoder = _encoder(model, int8)
    for batch in batches:
        if len(batch):
            vectors = encoder.embed(batch["text"].tolist()).astype(np.float32)
            yield pd.DataFrame({"pos": batch["pos"].to_numpy(), "vector": list(vectors)})


class SparkEncoder:
    """sentence-transformers embeddings computed on the Spark executors (module doc);
    ``on_embed(n)`` is told how many texts each call embeds; ``int8`` as for
    :class:`recommend.hybrid.encoders.SentenceEncoder`."""

    def __init__(self, spark: SparkSession, model: str | None = None, *, int8: bool = False,
                 partitions: int | None = None,
                 on_embed: Callable[[int], None] | None = None) -> None:
        self.spark = spark
        self.model = model
        self.int8 = int8
        self.partitions = partitions or spark.sparkContext.defaultParallelism
        self.on_embed = on_embed

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit row per text, in order."""
        from functools import partial

        from sparkbuild.frames import to_columns

        texts = list(texts)
        if self.on_embed is not None:
            self.on_embed(len(texts))
        if not texts:
            return np.zeros((0, 0), np.float32)
        frame = to_frame(self.spark, {"pos": np.arange(len(texts), dtype=np.int64),
                                      "text": texts})
        parts = max(1, min(self.partitions, len(texts)))
        out = to_columns(frame.repartition(parts)
                         .mapInPandas(partial(embed_partitions, self.model, self.int8),
                                             _SCHEMA))
        order = np.argsort(out["pos"])
        return np.stack([np.asarray(v, np.float32) for v in out["vector"][order]])
