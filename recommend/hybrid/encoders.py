"""Text encoders for product content: the sentence-transformers model, or LSA without torch.

Both turn texts into L2-normalised float32 rows. :class:`SentenceEncoder` is the real path
(:class:`nlp.embed.Embedder`, the packaged all-MiniLM-L6-v2 unless a model is configured;
loading it costs ~5 s). :class:`LsaEncoder` is TF-IDF over hashed word uni- and bigrams,
reduced by truncated SVD: no model to load, fitted on the catalogue itself, saved as two
arrays; good enough for small catalogues and quick tests, weaker on paraphrase.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from kg.atomic import atomic_write_bytes

if TYPE_CHECKING:
    from nlp.embed import Embedder
    from nlp.shared_encode import ChunkedWork

LSA_FILE = "content_lsa.npz"


class TextEncoder(Protocol):
    """Anything that embeds texts into unit rows."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class SentenceEncoder:
    """sentence-transformers embeddings through :class:`nlp.embed.Embedder` (loaded lazily;
    ``int8``: its Linear layers quantised, :func:`nlp.embed.quantized`; ``bf16``: bfloat16
    products where the CPU has them, :func:`nlp.embed.native_bf16`).

    :meth:`prefetch` embeds texts known early (the catalogue, right after the graph is read)
    on a background thread while the build's spaCy stage runs on the main one: the model's
    matrix products release the GIL, so the second core does the embedding that the models
    stage would otherwise wait for (through the embedder's cache when ``cache_dir`` is set: a
    rebuild's prefetch then embeds only texts it has not seen). :meth:`embed` takes the
    prefetched rows it can and embeds only the rest; ``prefetched_`` counts the rows it
    took. Once it has taken them, the model is let go (:meth:`nlp.embed.Embedder.unload`): a
    build embeds its catalogue once, and the fitting that follows needs the memory; a later
    call loads it again. The prefetch embeds in chunks (:mod:`nlp.shared_encode`), on torch
    threads of its own, all cores but one; :meth:`embed` called before it is done takes the
    chunks left on one torch thread of its own instead of waiting (the same rows).
    :meth:`report` says how many texts the model embedded (the prefetch's by thread), in how
    many wall seconds (in the background, helping it, on demand), and at which precision: the
    build's manifest carries it.
    """

    def __init__(self, model: str | None = None, *, int8: bool = False, bf16: bool = True,
                 max_tokens: int | None = None, embedder: Embedder | None = None,
                 cache_dir: str | os.PathLike[str] | None = None,
                 native: bool | None = None) -> None:
        self.model = model
        self.int8 = int8
        self.bf16 = bf16
        self.max_tokens = max_tokens
        self.cache_dir = cache_dir
        self.native = native  # nlp.embed.Embedder's, when known
        self._embedder = embedder
        self._ahead: dict[str, np.ndarray] = {}
        self._thread: threading.Thread | None = None
        self._work: ChunkedWork | None = None
        self.prefetched_ = 0
        self.seconds_ = {"ahead": 0.0, "helped": 0.0, "on_demand": 0.0}

    def _load(self) -> Embedder:
        if self._embedder is None:
            from nlp.config import NlpConfig
            from nlp.embed import Embedder

            self._embedder = Embedder(NlpConfig(embed_model=self.model, embed_int8=self.int8,
                                                embed_bf16=self.bf16,
                                                embed_max_tokens=self.max_tokens),
                                      cache_dir=self.cache_dir, native=self.native)
        return self._embedder

    def prefetch(self, texts: Sequence[str]) -> None:
        """Start embedding ``texts`` in the background (one prefetch at a time)."""
        if self._thread is not None:
            raise RuntimeError("a prefetch is already running or unused")
        from nlp.shared_encode import ChunkedWork, settle_torch_threads, spare_cores, torch_threads

        settle_torch_threads()  # this thread's own count, before the prefetch sets its own
        unique = list(dict.fromkeys(texts))
        shared = self._work = ChunkedWork()

        def work() -> None:
            # a failure here is not raised: embed() then embeds the texts itself
            start = time.perf_counter()
            with contextlib.suppress(Exception):  # through the cache, when there is one
                embedder = self._load()
                with torch_threads(spare_cores()):  # the main thread keeps a core
                    vectors = embedder.embed(unique, progress=False, work=shared)
                self._ahead = dict(zip(unique, vectors, strict=True))
            self.seconds_["ahead"] += time.perf_counter() - start

        self._thread = threading.Thread(target=work, name="shopgraph-prefetch", daemon=True)
        self._thread.start()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit row per text."""
        if self._thread is not None:
            if self._work is not None and self._work.pending():  # take chunks, not wait
                from nlp.shared_encode import torch_threads

                start = time.perf_counter()
                with torch_threads(1):
                    self._work.help()
                self.seconds_["helped"] += time.perf_counter() - start
            self._thread.join()
            self._thread = None
        texts = list(texts)
        ahead, self._ahead = self._ahead, {}  # used once: the rows are not kept twice
        missing = [t for t in texts if t not in ahead]
        start = time.perf_counter()
        if len(missing) == len(texts):
            rows = self._load().embed(texts)
            self.seconds_["on_demand"] += time.perf_counter() - start
            return rows
        embedder = self._load()
        fresh = dict(zip(missing, embedder.embed(missing), strict=True)) if missing else {}
        self.seconds_["on_demand"] += time.perf_counter() - start
        self.prefetched_ += len(texts) - len(missing)
        embedder.unload()
        return np.stack([ahead[t] if t in ahead else fresh[t] for t in texts])


    def report(self) -> dict[str, object]:
        """Texts the model embedded (the prefetch's by thread), wall seconds spent
        (background, helping it, on demand), precision."""
        embedder = self._embedder
        if embedder is None:
            return {"texts": 0, "seconds": dict(self.seconds_), "precision": None}
        from nlp.embed import Embedder

        precision = ("int8" if embedder.int8_ else "bf16" if embedder.bf16_ else "fp32") if (
            isinstance(embedder, Embedder)) else None
        by_thread = dict(self._work.taken_) if self._work is not None else {}
        return {"texts": embedder.calls_, "precision": precision, "max_tokens": self.max_tokens,
                "prefetch_texts_by_thread": by_thread,
                "seconds": {k: round(v, 3) for k, v in self.seconds_.items()}}


class LsaEncoder:
    """Hashed TF-IDF + truncated SVD, fitted on the texts given to :meth:`fit`."""

    def __init__(self, *, dim: int = 64, n_features: int = 2**18, seed: int = 0) -> None:
        self.dim = dim
        self.n_features = n_features
        self.seed = seed

    def _counts(self, texts: Sequence[str]):  # scipy sparse (n, n_features)
        from sklearn.feature_extraction.text import HashingVectorizer

        vec = HashingVectorizer(n_features=self.n_features, ngram_range=(1, 2),
                                alternate_sign=False, norm=None, stop_words="english")
        return vec.transform(list(texts))

    def fit(self, texts: Sequence[str]) -> LsaEncoder:
        """Learn IDF weights and the SVD basis from ``texts``."""
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfTransformer

        counts = self._counts(texts)
        # only the hashed columns the corpus uses matter: fitting over all of them is slow
        # (texts of stop words only use none: one empty column keeps the shapes valid)
        used = np.unique(counts.indices) if counts.nnz else np.zeros(1)
        self.columns_ = used.astype(np.int64)
        counts = counts[:, self.columns_]
        tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
        self.idf_ = tfidf.idf_.astype(np.float32)
        x = self._tfidf(counts)
        if min(x.shape) < 2:  # one text, or under two distinct words: TF-IDF is the basis
            self.components_ = np.eye(max(x.shape[1], 1), x.shape[1], dtype=np.float32)
            return self
        dim = min(self.dim, x.shape[0] - 1, x.shape[1] - 1)
        svd = TruncatedSVD(n_components=dim, random_state=self.seed).fit(x)
        self.components_ = svd.components_.astype(np.float32)
        return self

    def _tfidf(self, counts):
        from sklearn.preprocessing import normalize

        x = counts.astype(np.float32)
        x.data = 1.0 + np.log(x.data)
        return normalize(x.multiply(self.idf_).tocsr())

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit row per text (a text with no known word gets a tiny constant row)."""
        counts = self._counts(texts)[:, self.columns_]
        z = np.asarray(self._tfidf(counts) @ self.components_.T, np.float32)
        norms = np.linalg.norm(z, axis=1, keepdims=True)
        z = np.where(norms > 0, z, 1e-6)  # a zero vector cannot be indexed
        return z / np.linalg.norm(z, axis=1, keepdims=True)

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write the fitted arrays (npz, no pickle)."""
        buf = io.BytesIO()
        np.savez(buf, idf=self.idf_, components=self.components_, columns=self.columns_,
                 params=np.array([self.dim, self.n_features, self.seed]))
        path = Path(folder) / LSA_FILE
        atomic_write_bytes(path, buf.getvalue())
        return path

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> LsaEncoder:
        """Read what :meth:`save` wrote."""
        with np.load(Path(folder) / LSA_FILE, allow_pickle=False) as z:
            dim, n_features, seed = (int(v) for v in z["params"])
            enc = cls(dim=dim, n_features=n_features, seed=seed)
            enc.idf_, enc.components_ = z["idf"], z["components"]
            enc.columns_ = z["columns"]
        return enc
