"""The artifact stage that fits the hybrid ranker and writes its models into the artifact.

Runs after the graph is built and enriched (profiles, mentions, depicts), inside the
artifact's atomic folder, so the models land together with the graph they were fitted on.
Files (all safe formats): ``hybrid.json`` (config, blend weights, shopgraph version),
``graph_scorers.json`` (meta-path weights), ``cf_model.npz``, ``session_transitions.npz``,
``content.faiss`` + ``content_index.json``, for the LSA encoder ``content_lsa.npz``, and
for a learned ranker ``hybrid_ranker.txt`` (LightGBM's text model). When the vision stage ran
before it, its product picture vectors (``image_embeddings.npz``) are offered to the content
index, joined with the text at the weight validation chooses (``info.content_images``).

>>> from kg.artifact import build_artifact                                  # doctest: +SKIP
>>> build_artifact("data/demo", "out", stages=[("models", model_stage())])  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from recommend.hybrid.config import HybridConfig

if TYPE_CHECKING:
    from kg.artifact import Stage, StageResult
    from kg.graph import KnowledgeGraph
    from kg.reader import ReadResult
    from recommend.content.images import ProductImages
    from recommend.hybrid.encoders import SentenceEncoder, TextEncoder

STAGE_NAME = "models"
PREFETCH_STAGE_NAME = "embed-ahead"


def model_stage(config: HybridConfig | None = None, *, encoder: TextEncoder | None = None,
                progress: bool = False) -> Stage:
    """A build stage that fits the hybrid ranker on the graph and saves it (module doc).

    ``encoder`` overrides the configured text encoder (anything with ``embed(texts)``).
    """
    cfg = config or HybridConfig()

    def run(graph: KnowledgeGraph, result: ReadResult, root: Path, tmp: Path) -> StageResult:
        from kg.artifact import StageResult
        from recommend.hybrid.fit import fit_hybrid

        log = (lambda msg: print(f"models: {msg}", flush=True)) if progress else None
        model = fit_hybrid(graph, cfg, encoder=encoder, images=_pictures(graph, tmp), log=log)
        written = model.save(tmp)
        manifest = {"components": list(model.components), "blend": model.blend.to_json(),
                    "config": model.config.to_dict(), "info": model.info}
        report = getattr(encoder, "report", None)
        if callable(report):  # the sentence encoder's share of the build
            manifest["encoder"] = report()
        return StageResult(manifest=manifest, written=written)

    return run


def prefetch_stage(encoder: SentenceEncoder) -> Stage:
    """A first build stage that starts embedding the catalogue's texts on a background thread
    (:meth:`recommend.hybrid.encoders.SentenceEncoder.prefetch`), so the models stage finds
    them embedded while the stages between ran."""

    def run(graph: KnowledgeGraph, result: ReadResult, root: Path, tmp: Path) -> StageResult:
        from kg.artifact import StageResult
        from recommend.content import product_texts

        texts = product_texts(graph)[1]
        encoder.prefetch(texts)
        return StageResult(manifest={"texts": len(texts)})

    return run


def _pictures(graph: KnowledgeGraph, tmp: Path) -> ProductImages | None:
    """The vision stage's product picture vectors in this build, if it wrote any."""
    from recommend.content.images import read_product_images
    from recommend.stages.vision_stage import IMAGE_EMBEDDINGS_FILE

    path = tmp / IMAGE_EMBEDDINGS_FILE
    return read_product_images(graph, path) if path.is_file() else None
