"""Product pictures in the content index: read, matched to products, joined with the text.

The vision stage (:mod:`recommend.stages.vision_stage`) embeds every readable product and
post picture with the build's CLIP and saves ``image_embeddings.npz`` (ids ``image:PATH``,
one row each). A product's picture vector is the normalised mean of the vectors of the
images it has (``has_image`` edges); a product without an embedded picture has none and
keeps its text vector alone (:func:`recommend.content.item_vectors`). :func:`joined_index`
rebuilds a content index over text and picture at a given image weight, the share of
similarity between two pictured products that comes from the picture; at weight 0 the index
is the text index, unchanged. The build chooses the weight on its validation split
(:func:`recommend.hybrid.image_weight.tune_content_images`) and the index records it, so products
added later (text only) get vectors of the same shape (:func:`text_part`).

>>> import numpy as np
>>> from recommend.content.index import ContentIndex
>>> text = ContentIndex.build(["product:a", "product:b"], np.eye(2))
>>> pics = ProductImages(["product:a"], np.array([[0.0, 1.0, 0.0]]))
>>> joined = joined_index(text, pics, 0.25)
>>> joined.dim, joined.params["image_weight"], joined.params["pictured"]
(5, 0.25, 1)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from recommend.content.index import ContentIndex, normalise_rows
from recommend.content.item_vectors import item_vectors

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["ProductImages", "joined_index", "product_images", "read_product_images",
           "text_part"]


@dataclass(frozen=True)
class ProductImages:
    """``vectors[i]`` (a unit row) is the picture vector of product ``ids[i]``."""

    ids: list[str]
    vectors: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def product_images(graph: KnowledgeGraph, image_ids: list[str],
                   image_vectors: np.ndarray) -> ProductImages:
    """The picture vector of each product of ``graph`` with an embedded image (module doc).

    ``image_ids[j]`` (an ``image:PATH`` node id) owns row j of ``image_vectors``; ids the
    graph does not hold (post pictures of other datasets, say) are ignored.
    """
    vectors = np.asarray(image_vectors, np.float32)
    if vectors.ndim != 2 or len(vectors) != len(image_ids):
        raise ValueError(f"image vectors of shape {vectors.shape} for {len(image_ids)} ids")
    n_images = graph.num_nodes("image")
    if n_images == 0 or len(image_ids) == 0:
        return ProductImages([], np.zeros((0, vectors.shape[1]), np.float32))
    row = np.full(n_images, -1, np.int64)
    for j, node in enumerate(image_ids):
        if graph.has_node(node) and node.startswith("image:"):
            row[graph.index(node)] = j
    has = graph.matrix("has_image", dst_type="image", src_type="product").tocoo()
    keep = row[has.col] >= 0
    owners = sp.csr_matrix((np.ones(int(keep.sum()), np.float32),
                            (has.row[keep], row[has.col[keep]])),
                           shape=(has.shape[0], len(image_ids)))
    owners.data[:] = 1.0  # an image listed twice for a product counts once
    pictured = np.flatnonzero(np.diff(owners.indptr))
    mean = normalise_rows(np.asarray(owners[pictured] @ normalise_rows(vectors)))
    ok = np.linalg.norm(mean, axis=1) > 0
    return ProductImages([graph.node_id("product", int(i)) for i in pictured[ok]], mean[ok])


def read_product_images(graph: KnowledgeGraph, path: str | os.PathLike[str]
                        ) -> ProductImages:
    """The product picture vectors of the vision stage's ``image_embeddings.npz`` at ``path``
    (read without pickle and checked: an artifact file is untrusted input)."""
    from kg.arrays import check_finite, load_arrays
    from kg.artifact_files import ArtifactError

    arrays = load_arrays(path, {"ids": ("str", 1), "vectors": ("float", 2)})
    ids, vectors = arrays["ids"], arrays["vectors"]
    if len(ids) != len(vectors):
        raise ArtifactError(f"{path}: {len(ids)} image ids for {len(vectors)} vectors")
    check_finite(vectors, f"{path}: vectors")
    return product_images(graph, [str(i) for i in ids], vectors)


def joined_index(index: ContentIndex, images: ProductImages, weight: float,
                 **build: Any) -> ContentIndex:
    """``index`` (a text index) rebuilt over text joined with the pictures at ``weight``.

    ``build`` goes to :meth:`ContentIndex.build` (kind, threshold, calibration). At weight 0,
    or when no indexed product has a picture, ``index`` itself is returned.
    """
    if index.params.get("image_weight", 0.0):
        raise ValueError("joined_index needs a text-only index; this one joins pictures")
    inside = [j for j, item in enumerate(images.ids) if item in index]
    if weight == 0.0 or not inside:
        return index
    text = index.vectors()
    joined = item_vectors(index.ids, text, image_ids=[images.ids[j] for j in inside],
                          image_vectors=images.vectors[inside], image_weight=weight)
    built = ContentIndex.build(index.ids, joined.vectors, **build)
    built.params.update(image_weight=float(weight), text_dim=int(text.shape[1]),
                        pictured=int(joined.has_image.sum()))
    return built


def text_part(index: ContentIndex, text_vectors: np.ndarray) -> np.ndarray:
    """Text vectors of products without a picture, shaped for ``index``: when the index joins
    pictures, a zero picture part follows the text (so their cosine to pictured products is
    ``√(1-w)·cos_text``, as at build time)."""
    text = np.asarray(text_vectors, np.float32)
    extra = index.dim - text.shape[1]
    if extra == 0:
        return text
    if extra < 0 or text.shape[1] != index.params.get("text_dim"):
        raise ValueError(f"text vectors of dimension {text.shape[1]} for an index of "
                         f"{index.dim} joining text of {index.params.get('text_dim')}")
    return np.hstack([normalise_rows(text), np.zeros((len(text), extra), np.float32)])
