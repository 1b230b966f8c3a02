"""Loaders that turn public datasets into shopgraph records (see :mod:`kg.loaders.common`).

Each ``load_<kind>(src) -> LoadResult`` reads one dataset's own files, keeps its raw ids,
and lists every source row it could not convert. :data:`LOADERS` maps the ``shopgraph
import`` kinds to them; ``import table`` (a shop's own CSV or Parquet exports, read through a
column mapping) is :mod:`kg.loaders.table`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kg.loaders.amazon2023 import load_amazon2023
from kg.loaders.amazon_beauty_kg import load_amazon_beauty_kg
from kg.loaders.amazon_reviews import load_amazon_reviews
from kg.loaders.ciao import load_ciao
from kg.loaders.common import (
    ImportCounts,
    LoadResult,
    Rejection,
    RelationEdges,
    write_load_result,
)
from kg.loaders.movielens import load_movielens

LOADERS: dict[str, Callable[[Path], LoadResult]] = {
    "movielens": load_movielens,
    "amazon-beauty-kg": load_amazon_beauty_kg,
    "amazon-reviews": load_amazon_reviews,
    "ciao": load_ciao,
    "amazon2023": load_amazon2023,
}

__all__ = [
    "LOADERS",
    "ImportCounts",
    "LoadResult",
    "Rejection",
    "RelationEdges",
    "load_amazon2023",
    "load_amazon_beauty_kg",
    "load_amazon_reviews",
    "load_ciao",
    "load_movielens",
    "write_load_result",
]
