"""``shopgraph build --engine spark``: the build's heavy joins on Spark, the same artifact.

Read and validation run in the driver with the same code as the in-process build
(:mod:`kg.reader`, :mod:`kg.validate`): the validator's checks need every earlier record
(references, duplicates), so running it per partition would need the same global state
by joins, and the driver-side code is what guarantees the same reasons and the same
``rejected.jsonl``. Spark then writes the graph's edge tables as Parquet and computes,
by Spark SQL joins, the interaction table, the item-item co-occurrence over distinct
people and the item-kNN similarity the CF component serves; product texts are embedded by
``mapInPandas`` with the sentence-transformers model loaded once per executor. The
artifact is assembled by the in-process writer (:func:`kg.artifact.build_artifact`), so
``Recommender.load`` and the server read it unchanged. What is computed where is in the
manifest's ``stages.spark`` (:mod:`sparkbuild.engine`) and in docs/scale.md.

pyspark is the optional extra ``shopgraph[spark]``; importing this package loads none of it.
"""
