"""CLIP image and text embeddings: float32, L2-normalised, batched; saved as ``.npz``.

Both towers project into the same space, so an image vector's dot product with another image
vector is content similarity, and with a text vector it is the zero-shot match score.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kg.atomic import atomic_write_bytes
from vision.clip_model import ClipBundle, processor_side
from vision.images import DEFAULT_LIMITS, ImageLimits, ImageRejection, load_images


def _normalise(x: Any) -> np.ndarray:
    arr = x.detach().cpu().numpy().astype(np.float32, copy=False)
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    return arr / np.maximum(norms, 1e-12)


def _no_vectors(bundle: ClipBundle) -> np.ndarray:
    """The ``(0, projection_dim)`` embeddings of nothing."""
    return np.zeros((0, int(bundle.model.config.projection_dim)), dtype=np.float32)


def _embed_batches(bundle: ClipBundle, items: Sequence[Any], batch_size: int,
                   features: Callable[[list[Any]], Any]) -> np.ndarray:
    """``features`` (one batch -> the tower's output) over ``items`` ``batch_size`` at a time,
    without gradients, L2-normalised, shape ``(n, projection_dim)``."""
    import torch

    if not items:
        return _no_vectors(bundle)
    with torch.inference_mode():
        parts = [_normalise(features(list(items[start : start + batch_size])).pooler_output)
                 for start in range(0, len(items), batch_size)]
    return np.concatenate(parts)


def embed_pil_images(bundle: ClipBundle, images: Sequence[Any], *, batch_size: int = 64) -> (
    np.ndarray
):
    """Embeddings of RGB PIL images, shape ``(n, projection_dim)``."""

    def features(chunk: list[Any]) -> Any:
        pixels = bundle.processor.image_processor(images=chunk, return_tensors="pt")
        return bundle.model.get_image_features(pixel_values=pixels["pixel_values"])

    return _embed_batches(bundle, images, batch_size, features)


def embed_texts(bundle: ClipBundle, texts: Sequence[str], *, batch_size: int = 256) -> np.ndarray:
    """Embeddings of texts (prompts, titles), shape ``(n, projection_dim)``."""

    def features(chunk: list[str]) -> Any:
        tokens = bundle.tokenizer(chunk, padding=True, truncation=True, return_tensors="pt")
        return bundle.model.get_text_features(input_ids=tokens["input_ids"],
                                              attention_mask=tokens["attention_mask"])

    return _embed_batches(bundle, texts, batch_size, features)


@dataclass(slots=True)
class ImageEmbeddings:
    """Embedded images: ``vectors[i]`` belongs to ``ids[i]``; rejected images are listed apart."""

    ids: list[str]
    vectors: np.ndarray
    rejections: list[ImageRejection] = field(default_factory=list)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write ids and vectors as ``.npz`` (no pickle), atomically."""
        buffer = io.BytesIO()
        np.savez(buffer, ids=np.array(self.ids, dtype=str), vectors=self.vectors)
        atomic_write_bytes(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ImageEmbeddings:
        """Read what :meth:`save` wrote."""
        with np.load(path, allow_pickle=False) as data:
            return cls(ids=[str(x) for x in data["ids"]], vectors=data["vectors"])


def embed_image_files(
    bundle: ClipBundle,
    paths: Sequence[str],
    *,
    ids: Sequence[str] | None = None,
    batch_size: int = 64,
    limits: ImageLimits = DEFAULT_LIMITS,
    progress: bool = True,
) -> ImageEmbeddings:
    """Load (safely) and embed image files; ``ids`` default to the paths.

    Images are read one batch at a time, each reduced to about the model's input size as soon
    as it is decoded, so memory stays flat for a large catalogue of large photos.
    """
    from tqdm.auto import tqdm

    names = list(ids if ids is not None else paths)
    if len(names) != len(paths):
        raise ValueError(f"{len(names)} ids for {len(paths)} image paths")
    kept: list[str] = []
    vectors: list[np.ndarray] = []
    rejections: list[ImageRejection] = []
    fit = processor_side(bundle.processor.image_processor)
    with tqdm(total=len(paths), desc="embed images", unit="img", disable=not progress) as bar:
        for start in range(0, len(paths), batch_size):
            chunk = paths[start : start + batch_size]
            loaded = load_images(chunk, limits=limits, fit=fit)
            rejections.extend(loaded.rejections)
            vectors.append(embed_pil_images(bundle, loaded.images, batch_size=batch_size))
            kept.extend(names[start + i] for i in loaded.indices)
            bar.update(len(chunk))
    matrix = np.concatenate(vectors) if vectors else _no_vectors(bundle)
    return ImageEmbeddings(ids=kept, vectors=matrix, rejections=rejections)
