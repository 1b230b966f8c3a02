"""``shopgraph build --engine spark``: the build's bulk validation and heavy joins on Spark,
the same artifact.

The bulk files (follows, events) are validated per partition (:mod:`sparkbuild.records`):
each line by the in-process reader's own parser on an executor, references by joins,
duplicates by a window, the reasons of refused records replayed by the in-process
:class:`kg.validate.Validator` on the executors, so the reasons and ``rejected.jsonl`` are
the in-process build's; their accepted records come back as Parquet columns of node indices
and the graph is assembled from arrays, their rejections as Parquet streamed into
``rejected.jsonl`` (:mod:`sparkbuild.assemble`). Products, users and posts, the
graph's node attributes, are read in the driver by the in-process reader. Spark then
writes the graph's edge tables as Parquet and computes, by Spark SQL joins, the interaction
table, the item-item co-occurrence over distinct people and the item-kNN similarity the CF
component serves; product texts are embedded by
``mapInPandas`` with the sentence-transformers model loaded once per executor. The
artifact is assembled by the in-process writer (:func:`kg.artifact.build_artifact`), so
``Recommender.load`` and the server read it unchanged. What is computed where is in the
manifest's ``stages.spark`` (:mod:`sparkbuild.engine`) and in docs/scale.md.

pyspark is the optional extra ``shopgraph[spark]``; importing this package loads none of it.
"""
