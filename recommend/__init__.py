"""recommend: content index, graph paths, hybrid ranker, explanations and the Recommender API.

>>> from recommend import Recommender           # doctest: +SKIP
>>> rec = Recommender.load("artifacts/x")      # doctest: +SKIP
>>> rec.recommend("user:42", k=10)[0].paths    # doctest: +SKIP

Importing the package is light: :class:`Recommender` is loaded on first access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from recommend.results import ExplainedPath, Recommendation

if TYPE_CHECKING:
    from recommend.recommender import Recommender

__all__ = ["ExplainedPath", "Recommendation", "Recommender"]


def __getattr__(name: str) -> Any:
    if name == "Recommender":
        from recommend.recommender import Recommender

        return Recommender
    raise AttributeError(f"module 'recommend' has no attribute {name!r}")
