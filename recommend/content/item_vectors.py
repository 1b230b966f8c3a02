"""Product content vectors: a text embedding, joined with an image embedding where there is one.

Why concatenate rather than average: the text vector (a sentence-transformers model) and the
image vector (a CLIP image tower) live in different spaces made by different models; their
coordinates mean unrelated things, so averaging would add unrelated numbers (and needs equal
dimensions besides). Concatenating the two unit-normalised parts, scaled by ``√(1-w)`` and
``√w``, keeps each space intact, and for two products that both have an image the cosine of
the joined vectors is exactly ``(1-w)·cos_text + w·cos_image``: ``image_weight`` is the share
of similarity that comes from the picture. A product without an image gets a zero image part;
after re-normalisation its similarity to others rests on text alone (scaled by ``√(1-w)``
against products that do have an image), so it stays searchable.

>>> import numpy as np
>>> iv = item_vectors(["product:a", "product:b"], np.eye(2), image_ids=["product:a"],
...                   image_vectors=np.array([[1.0, 0.0, 0.0]]), image_weight=0.25)
>>> iv.vectors.shape, iv.has_image.tolist()
((2, 5), [True, False])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kg.records import TITLE_FALLBACK, stand_in_title
from recommend.content.index import normalise_rows

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["ItemVectors", "item_vectors", "product_text", "product_texts"]

#: At most this many catalogue attributes go into the text (in their given order).
_MAX_ATTRIBUTES = 8


@dataclass(frozen=True, slots=True)
class ItemVectors:
    """``vectors[i]`` (a unit row) belongs to ``ids[i]``; ``has_image[i]``: a picture helped."""

    ids: list[str]
    vectors: np.ndarray
    has_image: np.ndarray


def product_text(attrs: Mapping[str, Any]) -> str:
    """The text to embed for a product: title, brand, categories, key attributes, description.

    Short, discriminative fields come first: sentence encoders truncate long inputs
    (all-MiniLM-L6-v2 reads 256 word pieces), so the description is last.

    >>> product_text({"title": "Trail Runner", "brand": "Nike", "categories": ["Shoes", "Running"],
    ...               "attributes": {"colour": "red", "waterproof": True}, "description": "Light."})
    'Trail Runner. Brand: Nike. Category: Shoes > Running. colour: red; waterproof. Light.'
    """
    parts: list[str] = []
    extra = attrs.get("attributes") or {}
    # a loader's stand-in title (the id) tells nothing: embedded, it made 105k distinct
    # noise texts on Ciao where 600-odd category texts remain
    if attrs.get("title") and not stand_in_title(extra):
        parts.append(str(attrs["title"]).strip())
    if attrs.get("brand"):
        parts.append(f"Brand: {attrs['brand']}")
    categories = [str(c) for c in attrs.get("categories") or () if str(c).strip()]
    if categories:
        parts.append("Category: " + " > ".join(categories))
    described = []
    for key, value in [kv for kv in extra.items() if kv[0] != TITLE_FALLBACK][:_MAX_ATTRIBUTES]:
        if value is True:
            described.append(str(key))
        elif value not in (False, None, ""):
            described.append(f"{key}: {value}")
    if described:
        parts.append("; ".join(described))
    if attrs.get("description"):
        parts.append(str(attrs["description"]).strip())
    return ". ".join(p.rstrip(".") for p in parts if p) + ("." if parts else "")


def product_texts(graph: KnowledgeGraph) -> tuple[list[str], list[str]]:
    """(product ids, texts) for every product node with a title or description and a
    non-empty :func:`product_text`.

    Products known only from events (no catalogue entry) have nothing to embed and are left
    out: they are not in the content index, and the ranker scores them by other means.
    """
    ids, texts = [], []
    for pid in graph.nodes("product"):
        attrs = graph.node_attrs(pid)
        if attrs.get("title") or attrs.get("description"):
            text = product_text(attrs)
            if text:
                ids.append(pid)
                texts.append(text)
    return ids, texts


def item_vectors(
    ids: Sequence[str],
    text_vectors: np.ndarray,
    *,
    image_ids: Sequence[str] = (),
    image_vectors: np.ndarray | None = None,
    image_weight: float = 0.3,
) -> ItemVectors:
    """Join text vectors (row i for ``ids[i]``) with image vectors (row j for ``image_ids[j]``).

    See the module docstring for the weighting. With no image vectors at all the result is
    the normalised text vectors alone.
    """
    ids = list(ids)
    text = np.asarray(text_vectors, dtype=np.float32)
    if text.ndim != 2 or len(text) != len(ids):
        raise ValueError(f"text vectors of shape {text.shape} for {len(ids)} ids")
    if not 0.0 <= image_weight < 1.0:  # at 1, an item without an image would have no vector
        raise ValueError(f"image_weight must be in [0, 1), not {image_weight}")
    has_image = np.zeros(len(ids), dtype=bool)
    if image_vectors is None or len(image_ids) == 0:
        return ItemVectors(ids, normalise_rows(text), has_image)
    images = np.asarray(image_vectors, dtype=np.float32)
    if images.ndim != 2 or len(images) != len(image_ids):
        raise ValueError(f"image vectors of shape {images.shape} for {len(image_ids)} image ids")
    position = {item: i for i, item in enumerate(ids)}
    unknown = [i for i in image_ids if i not in position]
    if unknown:
        raise ValueError(
            f"{len(unknown)} image vectors belong to no listed item, e.g. {unknown[:3]}"
        )
    rows = np.fromiter((position[i] for i in image_ids), dtype=np.int64, count=len(image_ids))
    image_part = np.zeros((len(ids), images.shape[1]), dtype=np.float32)
    image_part[rows] = normalise_rows(images)
    has_image[rows] = np.linalg.norm(image_part[rows], axis=1) > 0
    joined = np.hstack(
        [np.sqrt(1.0 - image_weight) * normalise_rows(text), np.sqrt(image_weight) * image_part]
    )
    return ItemVectors(ids, normalise_rows(joined), has_image)
