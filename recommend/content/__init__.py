"""Content side of the recommender: a FAISS index over product vectors, and user vectors.

>>> from recommend.content import ContentIndex, item_vectors, user_vectors  # doctest: +SKIP
>>> index = ContentIndex.build(items.ids, items.vectors)                   # doctest: +SKIP
>>> users = user_vectors(graph, index)                                      # doctest: +SKIP
>>> index.search(users.matrix, k=100)                                       # doctest: +SKIP
"""

from recommend.content.index import ContentIndex, IndexKind, SearchResult, normalise_rows
from recommend.content.item_vectors import ItemVectors, item_vectors, product_text, product_texts
from recommend.content.user_vectors import (
    DEFAULT_KIND_WEIGHTS,
    UserVectors,
    interaction_weights,
    user_vectors,
)

__all__ = [
    "DEFAULT_KIND_WEIGHTS",
    "ContentIndex",
    "IndexKind",
    "ItemVectors",
    "SearchResult",
    "UserVectors",
    "interaction_weights",
    "item_vectors",
    "normalise_rows",
    "product_text",
    "product_texts",
    "user_vectors",
]
