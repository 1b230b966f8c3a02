"""The bounds a record's fields must keep (:mod:`kg.parse` checks them; docs/dataset.md's
Limits table lists them with every other limit the readers enforce)."""

from __future__ import annotations

__all__ = ["AGE_RANGE", "MAX_CATEGORY_DEPTH", "MAX_ID_CHARS", "MAX_INT_BITS", "MAX_MAGNITUDE",
           "YEAR_RANGE"]

#: The largest |price| or |value| (and relation weight) accepted: weights are float32, which
#: a rating of 1e39 overflows.
MAX_MAGNITUDE = 1e12
#: A user's age, whole years.
AGE_RANGE = (0, 150)
#: A product's year.
YEAR_RANGE = (-9999, 9999)
#: A JSON integer read as a number must fit a float (2**1024 overflows).
MAX_INT_BITS = 1000
#: The most levels a ``categories`` path may have: each level is a category node whose id
#: spells the path down to it, so a 72 KB line of 8,000 levels took 1.1 GB to build.
MAX_CATEGORY_DEPTH = 32
#: The longest id, in characters: every id a dataset holds can be asked for on the command
#: line and in a URL (``shopgraph serve`` refuses longer ones before any lookup).
MAX_ID_CHARS = 1000
