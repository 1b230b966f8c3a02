"""``shopgraph build DATASET_DIR --out ARTIFACT_DIR``: read, validate and build the graph artifact.

After the graph, the enrichment stages run (nlp mentions and concepts, CLIP image tags,
profiles, segments and co-purchase rules), then the recommender's models are fitted, unless
switched off (``--sentiment-head MODEL``: mentions take the sentiment of a head file or
fine-tuned folder written by ``shopgraph train-sentiment`` instead of VADER's); the artifact
then serves ``shopgraph recommend/explain/similar``. Writes the graph, ``manifest.json``
(counts, versions, hashes, what each stage did) and ``rejected.jsonl`` atomically: a build
killed at any moment leaves the previous artifact loadable. An existing ARTIFACT_DIR must be
empty or an artifact shopgraph wrote holding no other file, and must not be or hold
DATASET_DIR (:mod:`kg.ownership`); a second build into it waits for the first
(:func:`kg.atomic.folder_lock`).

``--engine spark [--spark-master URL]`` runs the same build with its heavy joins on Spark
(:mod:`sparkbuild`: Parquet edge tables, interaction and co-occurrence tables, item-kNN by
joins, text embeddings on the executors) and writes the same artifact; it needs the
``spark`` extra and Java 17.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from scripts.console import LOGGER
from scripts.options import aspect_ratio, iso_date, non_negative_float, positive_int


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``build`` sub-command."""
    parser = subparsers.add_parser("build", help="build the knowledge-graph artifact of a dataset",
                                   description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", type=Path, metavar="DATASET_DIR")
    parser.add_argument("--out", type=Path, required=True, metavar="ARTIFACT_DIR")
    parser.add_argument("--rdf-store", action="store_true",
                        help="also write the SPARQL store (rdf_store/) into the artifact; by "
                        "default the first `shopgraph query` makes it beside the artifact")
    add_enrichment_arguments(parser)
    add_engine_arguments(parser)
    parser.set_defaults(func=run_build)


def add_engine_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the build runs: in this process (default) or on Spark."""
    group = parser.add_argument_group("engine")
    group.add_argument("--engine", choices=("python", "spark"), default="python",
                       help="python: in this process (default); spark: the heavy joins on Spark"
                       " (needs the spark extra and Java 17)")
    group.add_argument("--spark-master", metavar="URL", default=None,
                       help="the Spark master with --engine spark (default local[2])")
    group.add_argument("--spark-driver-memory", metavar="SIZE", default=None,
                       help="spark.driver.memory with --engine spark (default 2g)")
    group.add_argument("--spark-scratch", type=Path, default=None, metavar="DIR",
                       help="with --engine spark, where executors write the validated tables:"
                       " storage every executor and the driver read (needed off local masters)")
    group.add_argument("--spark-metapaths", type=positive_int, default=None, metavar="K",
                       help="with --engine spark, also write each user's top K products per"
                       " meta-path (tables/metapaths; grows like users x catalogue fan-out)")


def add_time_arguments(parser: argparse.ArgumentParser) -> None:
    """Which timestamps records may carry (:class:`kg.timewindow.TimeWindow`)."""
    group = parser.add_argument_group("timestamps (others are quarantined)")
    group.add_argument("--earliest", type=iso_date, default=None, metavar="DATE",
                       help="the earliest accepted time, ISO 8601 (default 1990-01-01)")
    group.add_argument("--future-tolerance-days", type=non_negative_float, default=1.0,
                       metavar="DAYS", help="how far past the wall clock a timestamp may be"
                       " (default 1 day)")


def time_window(args: argparse.Namespace):  # -> kg.timewindow.TimeWindow
    """The accepted timestamps the parsed options ask for, measured from now."""
    from kg.timewindow import EARLIEST, TimeWindow

    earliest = EARLIEST if args.earliest is None else args.earliest
    try:
        return TimeWindow.until(tolerance=args.future_tolerance_days * 86_400.0,
                                earliest=earliest)
    except ValueError as err:
        raise ValueError(f"--earliest: {err}") from None


def add_enrichment_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the timestamps and the enrichment stages (shared with ``demo``)."""
    add_time_arguments(parser)
    group = parser.add_argument_group("enrichment (after the graph is built)")
    group.add_argument("--graph-only", action="store_true",
                       help="build the graph from the records only: no enrichment, no models")
    for stage in ("nlp", "vision", "profiles", "models"):
        group.add_argument(f"--no-{stage}", action="store_true", help=f"skip the {stage} stage")
    group.add_argument("--clip", metavar="NAME_OR_DIR",
                       help="a pretrained CLIP to tag images with (default: train a small one on"
                       " the catalogue's own image-title pairs)")
    group.add_argument("--clip-epochs", type=positive_int, default=40, metavar="N",
                       help="epochs when training the catalogue CLIP (default 40)")
    group.add_argument("--image-max-pixels", type=positive_int, default=40_000_000, metavar="N",
                       help="images claiming more pixels are not decoded (default 40,000,000)")
    group.add_argument("--image-max-side", type=positive_int, default=16_384, metavar="N",
                       help="nor those with a longer side (default 16,384)")
    group.add_argument("--image-max-aspect", type=aspect_ratio, default=20.0, metavar="R",
                       help="nor those longer than R times their short side (default 20)")
    group.add_argument("--max-text-chars", type=positive_int, default=20_000, metavar="N",
                       help="posts, comments and descriptions are parsed up to N characters"
                       " (default 20,000; at most 1,000,000)")
    group.add_argument("--config", type=Path, metavar="FILE",
                       help="hybrid settings (TOML or JSON, a table per HybridConfig section:"
                       " split, cf, session, content, blend, paths, privacy, audience) over the"
                       " defaults; the resolved config goes to the manifest")
    group.add_argument("--embed-cache", type=Path, metavar="DIR",
                       help="keep the product texts' sentence vectors in DIR (by model and"
                       " text hash): a rebuild embeds only the texts it has not embedded")
    group.add_argument("--sentiment-head", type=Path, metavar="MODEL",
                       help="score mention sentiment with this head file or fine-tuned folder"
                       " (from `shopgraph train-sentiment`) instead of VADER")


def stages_from_args(args: argparse.Namespace, encoder=None) -> list:
    """The enrichment stages the parsed options ask for, then the recommender's models
    (``encoder``: the models stage's text encoder instead of the configured one)."""
    from nlp.config import NlpConfig
    from recommend.hybrid.config import HybridConfig
    from recommend.hybrid.encoders import SentenceEncoder
    from recommend.hybrid.model import make_encoder
    from recommend.model_stage import PREFETCH_STAGE_NAME, STAGE_NAME, model_stage, prefetch_stage
    from recommend.stages import EnrichConfig, enrichment_stages

    head = args.sentiment_head
    if head is not None:
        if args.graph_only or args.no_nlp:
            raise ValueError("--sentiment-head needs the nlp stage (no --graph-only, --no-nlp)")
        check_sentiment_head(head)
    if args.graph_only:
        return []
    from vision.images import ImageLimits

    limits = ImageLimits(max_pixels=args.image_max_pixels, max_side=args.image_max_side,
                         max_aspect=args.image_max_aspect)
    config = EnrichConfig(nlp=not args.no_nlp, vision=not args.no_vision,
                          profiles=not args.no_profiles, clip=args.clip,
                          clip_epochs=args.clip_epochs, image_limits=limits)
    try:
        nlp = NlpConfig(sentiment_head=None if head is None else str(head),
                        max_text_chars=args.max_text_chars)
    except ValueError as err:
        raise ValueError(f"--max-text-chars: {err}") from None
    stages = enrichment_stages(config, nlp=nlp, progress=not args.no_progress)
    if not args.no_models:
        hybrid = HybridConfig() if args.config is None else HybridConfig.from_file(args.config)
        if encoder is None and "content" in hybrid.components:
            encoder = make_encoder(hybrid, cache_dir=getattr(args, "embed_cache", None))
        if isinstance(encoder, SentenceEncoder):  # embedded while the other stages run
            stages.insert(0, (PREFETCH_STAGE_NAME, prefetch_stage(encoder)))
        stages.append((STAGE_NAME, model_stage(hybrid, encoder=encoder,
                                               progress=not args.no_progress)))
    return stages


def check_sentiment_head(path: Path) -> None:
    """Fail before building (FileNotFoundError, ValueError) unless ``path`` is a sentiment model
    ``shopgraph train-sentiment`` wrote (a head file or a fine-tuned folder)."""
    import zipfile

    from nlp.sentiment import check_sentiment_model

    if not path.exists():
        raise FileNotFoundError(f"{path}: sentiment model not found")
    try:
        check_sentiment_model(path)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        reason = str(exc).removeprefix(f"{path}: ")
        raise ValueError(f"{path}: not a sentiment model written by `shopgraph train-sentiment`"
                         f" ({reason})") from None


def run_build(args: argparse.Namespace) -> int:
    """Build the artifact; print the record and graph counts and what each stage did."""
    build_and_report(args.dataset, args.out, args)
    return 0


def build_and_report(dataset: Path, out: Path, args: argparse.Namespace) -> dict:
    """Build ``dataset`` into ``out`` with the stages ``args`` ask for; print what came of it."""
    from kg.artifact import REJECTED_FILE, build_artifact
    from kg.graph import GraphSummary

    if getattr(args, "engine", "python") == "spark":
        manifest = spark_build(dataset, out, args)
    else:
        if any(getattr(args, f"spark_{name}", None) for name in
               ("master", "driver_memory", "metapaths", "scratch")):
            raise ValueError("--spark-master, --spark-driver-memory, --spark-metapaths and"
                             " --spark-scratch need --engine spark")
        manifest = build_artifact(dataset, out, progress=not args.no_progress,
                                  stages=stages_from_args(args), window=time_window(args),
                                  rdf_store=getattr(args, "rdf_store", False))
    records = manifest["records"]
    print(f"built {out} in {manifest['seconds']['total']:.1f} s from {dataset}: "
          f"{records['read']:,} read, {records['accepted']:,} accepted, "
          f"{records['rejected']:,} rejected (see {out / REJECTED_FILE})")
    print(GraphSummary(manifest["nodes"], manifest["edges"]))
    print_stage_reports(manifest)
    warn_rejections(dataset, out, manifest)
    return manifest


def warn_rejections(dataset: Path, out: Path, manifest: dict) -> None:
    """A notice on stderr for each input file the build mostly rejected, with the commonest
    reason (:mod:`kg.rejection_notes`), and one for optional fields dropped from kept records."""
    from kg.artifact import REJECTED_FILE
    from kg.optional_fields import DROPPED_FILE
    from kg.reader import dataset_file
    from kg.records import DATASET_FILES
    from kg.rejection_notes import rejection_notes

    present = {name: dataset_file(dataset, name) is not None for name, _ in DATASET_FILES}
    for note in rejection_notes(manifest.get("inputs", {}), out / REJECTED_FILE, present):
        LOGGER.warning("%s", note)
    if dropped := manifest.get("fields_dropped", 0):
        LOGGER.warning("%s bad optional fields dropped from records kept without them (see %s)",
                       f"{dropped:,}", out / DROPPED_FILE)
    if not manifest["records"]["read"]:
        LOGGER.warning("%s: every dataset file is empty: the artifact holds no record", dataset)


def spark_build(dataset: Path, out: Path, args: argparse.Namespace) -> dict:
    """The build on Spark (:mod:`sparkbuild.engine`); its manifest."""
    from recommend.hybrid.config import HybridConfig
    from sparkbuild.engine import SparkEngine
    from sparkbuild.session import DEFAULT_DRIVER_MEMORY, DEFAULT_MASTER

    engine = SparkEngine.start(args.spark_master or DEFAULT_MASTER,
                               driver_memory=args.spark_driver_memory or DEFAULT_DRIVER_MEMORY,
                               metapath_k=args.spark_metapaths)
    config = HybridConfig() if args.config is None else HybridConfig.from_file(args.config)
    stages = stages_from_args(args, encoder=engine.encoder(config))
    return engine.build(dataset, out, stages, config=config, window=time_window(args),
                        progress=not args.no_progress,
                        rdf_store=getattr(args, "rdf_store", False),
                        scratch=args.spark_scratch)


def print_stage_reports(manifest: dict) -> None:
    """One line per stage with what it reported (the models stage: what it chose; the whole
    record, every tuning trial included, is in the manifest)."""
    for name, report in manifest.get("stages", {}).items():
        seconds = manifest["seconds"].get(f"stage:{name}", 0.0)
        shown = (model_summary(report) if name == "models"
                 else spark_summary(report) if name == "spark" else report)
        print(f"stage {name} ({seconds:.1f} s): {json.dumps(shown, sort_keys=True)}")


def spark_summary(report: dict) -> dict:
    """The spark stage's counts (what ran where is listed in the manifest)."""
    return {"master": report.get("master"), "tables": len(report.get("tables", {})),
            **{k: report.get(k) for k in ("knn_fits", "knn_seconds", "embedded_texts")}}


def model_summary(report: dict) -> dict:
    """The models stage's choices: served ranker, CF model, validation split, candidates."""
    info = report.get("info", {})
    selection = info.get("selection", {})
    return {"components": report.get("components"),
            "blend": report.get("blend", {}).get("kind"),
            "served": selection.get("chosen"),
            "selection_ndcg@10": selection.get("ndcg@10"),
            "cf": info.get("cf_tuning", {}).get("chosen"),
            "validation": info.get("validation"),
            "candidates": info.get("candidates"),
            "seconds": info.get("seconds")}
