"""Shop the look: products whose pictures look like an uploaded photo, explained by tags.

Needs an artifact built with the vision stage (``clip/`` and ``image_embeddings.npz``, listed
in its manifest and verified when it was loaded); else :class:`NoImageVectors` (the API says
409, with why). On first use (torch loads then, a few seconds) the build's CLIP is loaded,
the product image vectors go into a FAISS inner-product index, and a zero-shot tagger is made
over the labels the build's ``depicts`` edges use, at the build's calibrated threshold.

A photo is checked before any pixel is decoded: at most ``max_bytes``, a JPEG, PNG or WebP
by its first bytes, and within :class:`vision.images.ImageLimits` read from its header (no
decompression bomb is ever decoded; :func:`vision.images.open_image`). The upload goes to a
temporary file this module names; nothing of the request becomes a path.

Each result carries its visual similarity (cosine) and the tags the photo and the product's
picture share (``depicts`` edges of the product's image, tags of the photo above the
threshold) as a sentence. With a user, the score is ``(1 - taste) * visual + taste * fit``,
``fit`` being the product's min-max scaled score in that user's top 200 recommendations
(0 outside them), so the look stays first and taste breaks near-ties. Products added after
the build have no picture vector until a rebuild.
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from recommend.recommender import Recommender

CLIP_FOLDER = "clip"
EMBEDDINGS_FILE = "image_embeddings.npz"
MAX_BYTES = 8 << 20
TASTE = 0.3
TASTE_POOL = 200
POOL = 50
_MAGIC = {"jpeg": (b"\xff\xd8\xff",), "png": (b"\x89PNG\r\n\x1a\n",)}


class NoImageVectors(LookupError):
    """The served artifact has no product image vectors to search."""


class PhotoRefused(ValueError):
    """An upload that is not a usable JPEG/PNG/WebP photo within the limits."""


def photo_format(data: bytes, max_bytes: int = MAX_BYTES) -> str:
    """``"jpeg"``, ``"png"`` or ``"webp"`` from the first bytes; :class:`PhotoRefused`
    otherwise, or when ``data`` is empty or over ``max_bytes``."""
    if not data:
        raise PhotoRefused("no photo in the request body")
    if len(data) > max_bytes:
        raise PhotoRefused(f"the photo is {len(data):,} bytes; at most {max_bytes:,}")
    for name, heads in _MAGIC.items():
        if data.startswith(heads):
            return name
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    raise PhotoRefused("not a JPEG, PNG or WebP image (by its first bytes)")


@dataclass
class _Index:
    bundle: Any
    faiss: Any
    products: list[str]
    tags: dict[str, set[str]]  # product -> labels its picture depicts
    tagger: Any
    fit: int | None


class ShopTheLook:
    """Photo search over the served artifact's product pictures (module doc)."""

    def __init__(self, rec: Recommender) -> None:
        self.rec = rec
        self._index: _Index | None = None
        self._lock = threading.Lock()

    def available(self) -> bool:
        """Whether the artifact has what the search needs."""
        files = self.rec.manifest.get("files") or {}
        return EMBEDDINGS_FILE in files and any(n.startswith(CLIP_FOLDER + "/") for n in files)

    def _load(self) -> _Index:
        with self._lock:
            if self._index is None:
                self._index = self._build()
            return self._index

    def _build(self) -> _Index:
        if not self.available() or self.rec.folder is None:
            raise NoImageVectors("the served artifact has no product image vectors: build it "
                                 "with the vision stage from a dataset with product images")
        import faiss

        from kg.artifact_files import ArtifactFiles
        from vision.clip_model import load_clip, processor_side
        from vision.embed import ImageEmbeddings
        from vision.tagging import ClipTagger

        files = ArtifactFiles.open(self.rec.folder, self.rec.manifest, verify=False)
        embeddings = ImageEmbeddings.load(files.path(EMBEDDINGS_FILE))
        graph = self.rec.graph
        rows, products, tags = [], [], {}
        for i, image in enumerate(embeddings.ids):
            if not graph.has_node(image):
                continue
            owners = [e.src for e in graph.neighbors(image, "has_image", direction="in")
                      if e.src.startswith("product:")]
            for product in owners:
                rows.append(i)
                products.append(product)
                tags[product] = {e.dst for e in graph.neighbors(image, "depicts")}
        if not rows:
            raise NoImageVectors("the served artifact's image vectors belong to no product")
        vectors = np.ascontiguousarray(embeddings.vectors[rows], dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors)
        bundle = load_clip(files.path("clip/config.json").parent)
        labels = sorted({t for found in tags.values() for t in found})
        threshold = (self.rec.manifest.get("stages", {}).get("vision", {}).get("threshold")
                     or 0.5)
        tagger = ClipTagger(bundle, labels, threshold=float(threshold)).fit() if labels else None
        return _Index(bundle, index, products, tags, tagger,
                      processor_side(bundle.processor.image_processor))

    def embed(self, data: bytes, *, max_bytes: int = MAX_BYTES) -> tuple[np.ndarray, set[str]]:
        """The photo's unit vector and its tags; :class:`PhotoRefused` for a bad upload."""
        from vision.embed import embed_pil_images
        from vision.images import ImageRejectedError, open_image

        kind = photo_format(data, max_bytes)
        idx = self._load()
        fd, name = tempfile.mkstemp(prefix="shopgraph-look-", suffix=f".{kind}")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            image = open_image(name, fit=idx.fit)
        except ImageRejectedError as err:
            raise PhotoRefused(str(err).replace(name, "the photo")) from None
        finally:
            os.unlink(name)
        vector = embed_pil_images(idx.bundle, [image])[0].astype(np.float32)
        vector /= max(float(np.linalg.norm(vector)), 1e-12)
        found = ({t.label for t in idx.tagger.tags(["photo"], vector[None, :])}
                 if idx.tagger is not None else set())
        return vector, found

    def search(self, data: bytes, k: int = 10, *, user: str | None = None,
               max_bytes: int = MAX_BYTES) -> list[dict[str, Any]]:
        """Up to ``k`` products that look like the photo, best first (module doc)."""
        from recommend.paths.sentences import node_name

        vector, photo_tags = self.embed(data, max_bytes=max_bytes)
        idx = self._load()
        sims, rows = idx.faiss.search(vector[None, :], min(max(POOL, k), len(idx.products)))
        hits = [(idx.products[r], float(s)) for r, s in zip(rows[0], sims[0], strict=True)
                if r >= 0]
        fit = self._taste(user) if user is not None else {}
        low = min(s for _, s in hits)
        span = (max(s for _, s in hits) - low) or 1.0
        scored = [(p, (1 - TASTE) * (s - low) / span + TASTE * fit.get(p, 0.0) if fit else s, s)
                  for p, s in hits]
        scored.sort(key=lambda t: -t[1])
        graph = self.rec.graph
        out = []
        for product, score, visual in scored[:k]:
            shared = sorted(photo_tags & idx.tags.get(product, set()))
            names = [node_name(graph, t) for t in shared]
            text = (f"Looks like your photo: both show {', '.join(names)}" if names
                    else f"Looks like your photo (visual similarity {visual:.2f})")
            out.append({"item": product, "score": round(score, 6),
                        "visual": round(visual, 6), "taste": round(fit.get(product, 0.0), 6),
                        "shared_tags": shared, "text": text})
        return out

    def _taste(self, user: str) -> dict[str, float]:
        recs = self.rec.recommend(user, k=TASTE_POOL, explain=False)
        if not recs:
            return {}
        scores = np.array([r.score for r in recs])
        low, span = float(scores.min()), float(np.ptp(scores)) or 1.0
        return {r.item: (r.score - low) / span for r in recs}
