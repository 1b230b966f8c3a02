"""CLIP image and text embeddings: float32, L2-normalised, batched; saved as ``.npz``.

Both towers project into the same space, so an image vector's dot product with another image
vector is content similarity, and with a text vector it is the zero-shot match score.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
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


def embed_pil_images(bundle: ClipBundle, images: Sequence[Any], *, batch_size: int = 64) -> (
    np.ndarray
):
    """Embeddings of RGB PIL images, shape ``(n, projection_dim)``."""
    import torch

    dim = int(bundle.model.config.projection_dim)
    if not images:
        return np.zeros((0, dim), dtype=np.float32)
    parts = []
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            chunk = list(images[start : start + batch_size])
            pixels = bundle.processor.image_processor(images=chunk, return_tensors="pt")
            out = bundle.model.get_image_features(pixel_values=pixels["pixel_values"])
            parts.append(_normalise(out.pooler_output))
    return np.concatenate(parts)


def embed_texts(bundle: ClipBundle, texts: Sequence[str], *, batch_size: int = 256) -> np.ndarray:
    """Embeddings of texts (prompts, titles), shape ``(n, projection_dim)``."""
    import torch

    dim = int(bundle.model.config.projection_dim)
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    parts = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            tokens = bundle.tokenizer(list(texts[start : start + batch_size]), padding=True,
                                      truncation=True, return_tensors="pt")
            out = bundle.model.get_text_features(input_ids=tokens["input_ids"],
                                                 attention_mask=tokens["attention_mask"])
            parts.append(_normalise(out.pooler_output))
    return np.concatenate(parts)


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
    dim = int(bundle.model.config.projection_dim)
    matrix = np.concatenate(vectors) if vectors else np.zeros((0, dim), dtype=np.float32)
    return ImageEmbeddings(ids=kept, vectors=matrix, rejections=rejections)
