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
loads no model. Nor does it import torch: a cache key carries the model's precision, and
asking torch whether the CPU multiplies bfloat16 natively (:func:`nlp.embed.native_bf16`)
cost each reader and the compute process ~2 s of CPU and ~180 MB of memory on the first new
product. The writer records its key (:data:`KEY_FILE`: the model id and that answer) when it
makes its embedder, before it embeds anything it logs; the others key their lookups by it
(:class:`SharedEncoder`), and ask torch only when there is no record or it names another
model. A text that changed between the writer's look and a reader's (a later request of the
same batch renaming the product) misses the cache and is embedded where it is applied, as
before: the cache only ever holds what the model gives for a text.

Each embedding call that embedded something leaves one more shard
(:class:`nlp.embed.EmbeddingCache`), so the writer merges them at every snapshot
(:func:`compact_embeddings`): the merged shard is written before the ones it holds are
removed, and a shard another process wrote since the writer's last look is left for the next
snapshot. A process killed in the middle of writing a shard leaves its temporary file
(``.shard-HEX.npz.XXXXXXXX.tmp``, :func:`kg.atomic.atomic_write_bytes`); the writer removes
them on start (:func:`remove_leftovers`), once it holds the state folder's lock and before it
starts any reader: only files of that pattern, and only those older than the lock.

The writer loads the model ahead (:func:`load_ahead`; ``shopgraph serve --encoder-load``): by
default on a thread of its own at start, so the first product write does not wait for the
load (answered after 16.0 s -> 2.3 s on odd-art at load ~8, 12.3 s -> 2.8 s on ML-100K at
load ~6), for ~480 MB of the writer's memory held from the start rather than from the first
product write. ``write`` starts it at the first write of any kind, ``product`` leaves it to
the first product write (a shop that never adds products pays nothing).
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.atomic import atomic_write_bytes
from recommend.hybrid.encoders import SentenceEncoder

if TYPE_CHECKING:
    import numpy as np

    from kg.graph import KnowledgeGraph
    from nlp.embed import Embedder, EmbeddingCache
    from recommend.hybrid.config import HybridConfig
    from recommend.recommender import Recommender

LOGGER = logging.getLogger("shopgraph.serve")
#: The state folder's embedding cache, shared by the writer, the readers and the compute process.
EMBED_DIR = ".embeddings"
#: In :data:`EMBED_DIR`: the writer's cache key, ``{"model_id": ..., "bf16": ...}``.
KEY_FILE = "writer-key.json"


class SharedEncoder(SentenceEncoder):
    """The artifact's sentence encoder embedding through the state folder's cache: the
    writer's records its key there when it makes its embedder, the others' read it (module
    doc)."""

    def __init__(self, config: HybridConfig, folder: Path, *, writer: bool) -> None:
        content = config.content
        super().__init__(content.embed_model, int8=content.embed_int8,
                         max_tokens=content.embed_max_tokens, cache_dir=folder)
        self.folder, self.writer = folder, writer
        self._lock = threading.Lock()  # one model load, whoever asks first

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit row per text (after a load under way, never beside it)."""
        with self._lock:
            return super().embed(texts)

    def load_model(self) -> None:
        """Load the sentence model now, and run it once (its first call sets torch up: ~0.6 s
        of CPU), so that a product write finds it ready."""
        with self._lock:
            self._load().encode(["warm up"], progress=False)

    def _load(self) -> Embedder:
        if self._embedder is not None:
            return self._embedder
        if self.writer:
            embedder = super()._load()
            record_key(self.folder, embedder.model_id, embedder.bf16_)
            return embedder
        key = recorded_key(self.folder)
        if key is not None:
            self.native = key["bf16"]
            embedder = super()._load()
            if embedder.model_id == key["model_id"]:
                return embedder
            LOGGER.warning("%s names model %s, not this one (%s): asking torch for the "
                           "precision", self.folder / KEY_FILE, key["model_id"], embedder.model_id)
            self._embedder = self.native = None
        return super()._load()

    @property
    def cache(self) -> EmbeddingCache | None:
        """The cache of the embedder made so far (None: none made yet)."""
        return None if self._embedder is None else self._embedder.cache_


def record_key(folder: Path, model_id: str, bf16: bool) -> None:
    """Write the writer's cache key to ``folder/KEY_FILE`` (atomically; only when it changed)."""
    key = {"model_id": model_id, "bf16": bool(bf16)}
    if recorded_key(folder) != key:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(folder / KEY_FILE, json.dumps(key).encode())


def recorded_key(folder: Path) -> dict[str, Any] | None:
    """The key :func:`record_key` wrote (None: none yet, or not such a record: logged)."""
    path = folder / KEY_FILE
    try:
        key = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except ValueError as err:
        LOGGER.warning("%s: not a key record (%s); ignored", path, err)
        return None
    if not (isinstance(key, dict) and isinstance(key.get("model_id"), str)
            and isinstance(key.get("bf16"), bool)):
        LOGGER.warning("%s: not a key record (model_id, bf16); ignored", path)
        return None
    return key


def share_encoder(rec: Recommender, state_dir: Path, *, writer: bool = False) -> None:
    """Make ``rec``'s sentence encoder (if it has one) embed through the state folder's
    cache (same model and settings: the artifact's config), keyed as the writer's
    (``writer``: this process is the writer, and records its key)."""
    content = rec.model.components.get("content")
    if content is not None and isinstance(content.encoder, SentenceEncoder):
        content.encoder = SharedEncoder(rec.model.config, state_dir / EMBED_DIR, writer=writer)


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


def load_ahead(rec: Recommender) -> threading.Thread | None:
    """Start loading ``rec``'s shared sentence model on a thread of its own, so that the first
    product write does not wait for it (module doc); the thread, or None when there is no
    such model. A failure is logged: the first product write then loads it, as without. Not
    niced: a product write arriving meanwhile waits for this load, which on a busy machine
    at nice 10 took longer than loading at once (odd-art, load ~9: a write 20 s after the
    start waited 18.7 s)."""
    content = rec.model.components.get("content")
    encoder = None if content is None else content.encoder
    if not isinstance(encoder, SharedEncoder):
        return None

    def run() -> None:
        try:
            encoder.load_model()
        except Exception:
            LOGGER.exception("loading the sentence model ahead failed; the first product "
                             "write loads it")

    thread = threading.Thread(target=run, name="encoder-load", daemon=True)
    thread.start()
    return thread


#: The temporary file of a shard being written (:func:`kg.atomic.atomic_write_bytes`).
SHARD_TEMP = re.compile(r"\.shard-[0-9a-f]{32}\.npz\.[a-z0-9_]{8}\.tmp")


def remove_leftovers(state_dir: Path, before: float) -> int:
    """Remove the shard temporaries (:data:`SHARD_TEMP`) in the state folder's caches last
    changed before ``before`` (the time the state folder's lock was taken: left by an earlier
    run killed mid-write); how many. Logged."""
    root, gone = state_dir / EMBED_DIR, 0
    for folder in (p for p in root.iterdir() if p.is_dir()) if root.is_dir() else ():
        for path in folder.iterdir():
            try:
                if SHARD_TEMP.fullmatch(path.name) and path.is_file() \
                        and os.stat(path).st_mtime < before:
                    path.unlink()
                    gone += 1
            except FileNotFoundError:  # gone meanwhile
                continue
    if gone:
        LOGGER.warning("%s: removed %d temporary shard files left by an earlier run "
                       "(killed while writing them)", root, gone)
    return gone


def compact_embeddings(rec: Recommender, state_dir: Path) -> int:
    """Merge the shards of each model's cache in the state folder into one (the writer, at a
    snapshot; module doc); how many shards went. ``rec``'s own cache, when its embedder is
    made, is merged from the rows it holds; another folder only when it has several shards."""
    from nlp.embed import EmbeddingCache

    content = rec.model.components.get("content")
    encoder = None if content is None else content.encoder
    live = encoder.cache if isinstance(encoder, SharedEncoder) else None
    root, gone = state_dir / EMBED_DIR, 0
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    for folder in folders:
        if live is not None and live.folder == folder:
            gone += live.compact()
        elif len(list(folder.glob("shard-*.npz"))) > 1:
            gone += EmbeddingCache(folder).compact()
    return gone
