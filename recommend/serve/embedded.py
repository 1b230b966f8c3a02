"""New products' text vectors, embedded once by the writer and read by every other process.

A log entry with a new product makes each process that applies it embed the product's text
(:meth:`recommend.hybrid.content_component.ContentComponent.add_products`). With the
sentence-transformers encoder, the first such entry made every reader and the compute
process import torch and load the model (~8 s of CPU each, at load ~2; the readers run
niced, so on a busy machine a product write became visible ~50-60 s after its answer, past
the reader's 5 s wait). Instead, every serving process embeds through one embedding cache in
the state folder (:data:`EMBED_DIR`, :class:`nlp.embed.EmbeddingCache`, keyed by model and
text), and the writer embeds a request's new products into it *before* logging the request
(:func:`embed_new_products`): a process applying the entry finds every vector there and
loads no model (it still imports torch once, ~1.5 s of CPU, to key the cache:
:func:`nlp.embed.native_bf16`). A text that changed between the writer's look and a
reader's (a later request of the same batch renaming the product) misses the cache and is
embedded where it is applied, as before: the cache only ever holds what the model gives for a
text.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from recommend.hybrid.encoders import SentenceEncoder

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph
    from recommend.recommender import Recommender

#: The state folder's embedding cache, shared by the writer, the readers and the compute process.
EMBED_DIR = ".embeddings"


def share_encoder(rec: Recommender, state_dir: Path) -> None:
    """Make ``rec``'s sentence encoder (if it has one) embed through the state folder's
    cache (same model and settings: the artifact's config)."""
    from recommend.hybrid.model import make_encoder

    content = rec.model.components.get("content")
    if content is not None and isinstance(content.encoder, SentenceEncoder):
        content.encoder = make_encoder(rec.model.config, cache_dir=state_dir / EMBED_DIR)


def embed_new_products(rec: Recommender, graph: KnowledgeGraph) -> int:
    """Embed into the shared cache the texts of ``graph``'s products that ``rec``'s content
    index lacks (what applying the records to ``rec`` would embed); how many texts. Nothing
    without a cached sentence encoder."""
    content = rec.model.components.get("content")
    encoder = None if content is None else content.encoder
    if not isinstance(encoder, SentenceEncoder) or encoder.cache_dir is None:
        return 0
    texts = [text for _, text in content.unindexed_texts(graph)]
    if texts:
        encoder.embed(texts)
    return len(texts)
