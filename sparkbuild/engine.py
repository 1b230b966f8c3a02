"""The Spark build: the in-process build's stages, with the heavy joins on Spark.

:class:`SparkEngine` holds a session. :meth:`SparkEngine.build` runs
:func:`kg.artifact.build_artifact` (the same stages and atomic writer) with three changes,
and records them in the manifest's ``stages.spark``:

- the dataset is read, validated and assembled by :class:`sparkbuild.assemble.SparkAssembler`
  (follows and events validated per partition in Spark, the graph built from arrays), its
  seconds under ``validation``;

- a ``spark`` stage, just before ``models``, writes the graph's Parquet tables and derives
  the interaction and co-occurrence tables by Spark SQL (:mod:`sparkbuild.tables`), and when
  asked each user's top K per meta-path (:mod:`sparkbuild.metapaths`);
- inside the build, every item-kNN fit (tuning trials and the served refit) computes its
  pruned ``W Wᵀ`` by joins (:mod:`sparkbuild.knn`), and the sentence-transformers content
  vectors are computed on the executors (:class:`sparkbuild.embed.SparkEncoder`, given to
  the models stage by :meth:`SparkEngine.encoder`).

Everything else runs in the driver, as listed in :data:`IN_DRIVER`; what the issue asks of
Spark and is not done yet is :data:`NOT_YET_IN_SPARK`. The manifest lists all three and
counts what Spark actually did (``knn_fits``, ``embedded_texts``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import scipy.sparse as sp

from sparkbuild.session import DEFAULT_DRIVER_MEMORY, DEFAULT_MASTER, start

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from kg.artifact import Stage, StageResult
    from kg.graph import KnowledgeGraph
    from kg.reader import ReadResult
    from kg.timewindow import TimeWindow
    from recommend.hybrid.config import HybridConfig
    from recommend.hybrid.encoders import TextEncoder

STAGE_NAME = "spark"
IN_SPARK = (
    "validation of follows.jsonl and events.jsonl per partition: the reader's line parser,"
    " references by joins, duplicates by a window, the refused records' reasons replayed by"
    " kg.validate; accepted and rejected records written as Parquet (sparkbuild.records)",
    "graph node and edge tables (Parquet, tables/nodes, tables/edges)",
    "interaction table: user x product summed weights by union + group-by (tables/interactions)",
    "item-item co-occurrence over distinct people by self-join (tables/co_occurrence)",
    "item-kNN similarity W W^T, top-K per item by join + window (cf component, every fit)",
    "sentence-transformers product-text embeddings by mapInPandas, one model per worker",
    "with --spark-metapaths K: each user's top K products per meta-path by joins"
    " (tables/metapaths)",
)
IN_DRIVER = (
    "reading and validation of products, users and posts (kg.reader, kg.validate: node"
    " attributes, O(nodes)); rejected.jsonl, streamed from Spark's rejected tables",
    "graph assembly: entity nodes from records, follow and event edges from Spark's Parquet"
    " columns (kg.build); enrichment stages (nlp, vision, profiles)",
    "validation split, tuning trials' scoring, blend fitting and choice",
    "EASE and weighted ALS fits (EASE needs a dense item x item inverse, not a join)",
    "session transitions; meta-path matrices of the graph and social scorers",
    "LSA content encoder (when configured instead of sentence-transformers)",
)

NOT_YET_IN_SPARK = (
    "the served graph and social scorers' meta-path matrices (sparse products in the driver and"
    " at load; tables/metapaths, top K per user by joins, only with --spark-metapaths K)",
    "CF by Spark MLlib ALS (the tuning's ALS trials run the in-process weighted ALS)",
    "the members_* segment aggregates",
)


class SparkEngine:
    """A Spark session and the record of what it computed for one build."""

    def __init__(self, spark: SparkSession, master: str, *, metapath_k: int | None = None
                 ) -> None:
        self.spark = spark
        self.master = master
        self.metapath_k = metapath_k
        self.report: dict[str, Any] = {}

    @classmethod
    def start(cls, master: str = DEFAULT_MASTER, *, driver_memory: str = DEFAULT_DRIVER_MEMORY,
              metapath_k: int | None = None) -> SparkEngine:
        """Start (or join) the session on ``master`` (RuntimeError when Spark cannot run);
        ``metapath_k``: also write each user's top K products per meta-path."""
        return cls(start(master, driver_memory=driver_memory), master, metapath_k=metapath_k)

    def encoder(self, config: HybridConfig) -> TextEncoder | None:
        """The models stage's text encoder: on the executors for sentence-transformers,
        None (the configured in-process one) otherwise."""
        if config.content.encoder != "sentence-transformers":
            return None
        from sparkbuild.embed import SparkEncoder

        return SparkEncoder(self.spark, config.content.embed_model, int8=config.content.embed_int8,
                            on_embed=self._embedded)

    def _embedded(self, n: int) -> None:
        self.report["embedded_texts"] = self.report.get("embedded_texts", 0) + n

    def _similarity(self, w: sp.csr_matrix, top_k: int) -> sp.csr_matrix:
        from sparkbuild.knn import similarity_by_joins

        began = time.perf_counter()
        out = similarity_by_joins(self.spark, w, top_k)
        self.report["knn_fits"] = self.report.get("knn_fits", 0) + 1
        self.report["knn_seconds"] = round(
            self.report.get("knn_seconds", 0.0) + time.perf_counter() - began, 3)
        return out

    def tables_stage(self, config: HybridConfig) -> Stage:
        """The ``spark`` stage: Parquet tables of the graph and the derived tables."""

        def run(graph: KnowledgeGraph, result: ReadResult, root: Path, tmp: Path
                ) -> StageResult:
            from kg.artifact import StageResult
            from sparkbuild.tables import TABLES_DIR, write_derived_tables, write_graph_tables

            folder = tmp / TABLES_DIR
            rows = write_graph_tables(graph, folder)
            rows.update(write_derived_tables(self.spark, folder,
                                             min_people=config.privacy.min_people))
            if self.metapath_k is not None:
                rows.update(self._write_metapaths(graph, config, folder))
            self.report.update({
                "engine": "spark", "master": self.master, "spark": self.spark.version,
                "tables": rows, "in_spark": list(IN_SPARK), "in_driver": list(IN_DRIVER),
                "not_yet_in_spark": list(NOT_YET_IN_SPARK)})
            for counter in ("knn_fits", "knn_seconds", "embedded_texts"):
                self.report.setdefault(counter, 0)  # fits of earlier stages stay counted
            written = sorted(p for p in folder.rglob("*") if p.is_file())
            # the report is the manifest entry itself: the models stage's counts land in it
            return StageResult(manifest=self.report, written=written)

        return run

    def _write_metapaths(self, graph: KnowledgeGraph, config: HybridConfig, folder: Path
                         ) -> dict[str, int]:
        """``tables/metapaths``: each user's top K per meta-path of the graph and social
        scorers (:mod:`sparkbuild.metapaths`)."""
        from recommend.hybrid.path_component import PathComponent
        from recommend.paths.privacy import Privacy
        from sparkbuild.metapaths import metapath_top_k

        groups = PathComponent.split_metapaths(graph, Privacy.from_config(config),
                                               described_like=config.paths.described_like)
        table = metapath_top_k(self.spark, graph, groups["graph"] + groups["social"],
                               k=int(self.metapath_k or 0), normalize=config.paths.normalize)
        if table is None:
            return {}
        table.write.parquet(str(folder / "metapaths"))
        return {"metapaths": self.spark.read.parquet(str(folder / "metapaths")).count()}

    def build(self, dataset: Path, out: Path, stages: list[tuple[str, Stage]], *,
              config: HybridConfig, window: TimeWindow | None = None,
              progress: bool = True, rdf_store: bool = False,
              scratch: Path | None = None) -> dict[str, Any]:
        """Build ``dataset`` into the artifact ``out`` (module doc; ``rdf_store``: write the
        SPARQL store, as the in-process build does); its manifest. The executors write their
        Parquet tables into a temporary folder under ``scratch``, which on a cluster must be
        storage every executor and the driver can read (default: the local temporary
        folder, refused for a non-local master)."""
        import tempfile

        if scratch is None and not self.master.startswith("local"):
            raise ValueError(f"master {self.master!r}: give --spark-scratch DIR on storage every"
                             " executor and the driver can read (the executors write the"
                             " validated tables there)")

        from cf.item_knn import similarity_backend
        from kg.artifact import build_artifact
        from sparkbuild.assemble import SparkAssembler

        names = [name for name, _ in stages]
        at = names.index("models") if "models" in names else len(stages)
        spark_stage = (STAGE_NAME, self.tables_stage(config))
        stages = [*stages[:at], spark_stage, *stages[at:]]
        with (tempfile.TemporaryDirectory(prefix="shopgraph-spark-", dir=scratch) as folder,
              similarity_backend(self._similarity)):
            assembler = SparkAssembler(self.spark, Path(folder))
            self.report = {"validation": assembler.report}  # the assembler fills it in
            return build_artifact(dataset, out, stages=stages, window=window, progress=progress,
                                  rdf_store=rdf_store, assemble=assembler)
