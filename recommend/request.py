"""What a caller asks :meth:`recommend.Recommender.recommend` for, checked before any scoring.

A bad value is a ``ValueError`` naming it: ``k`` not a whole number >= 1, ``diversity`` not in
[0, 1], a price bound that is not a finite number or a minimum above the maximum, a user id
that is None or blank. A bare string given for ``categories`` or ``brands`` is one name, not
its letters. A category is matched by name at any level (``"Kitchen"``) or by its path as
``shopgraph profile`` prints it (``"home/kitchen"``, the same as ``"category:home/kitchen"``),
see :mod:`recommend.hybrid.filters`.

>>> request_filters("Beauty", (), None, 20).categories
('Beauty',)
>>> request_filters(["Home/Kitchen"], (), None, None).categories
('category:home/kitchen',)
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable
from typing import Protocol

from kg.schema import NODE_TYPES, category_slug
from recommend.hybrid.filters import Filters


class HasNode(Protocol):
    """A graph as :func:`graph_id` needs it."""

    def has_node(self, node: str) -> bool: ...


_SHOWN_IDS = 3  # similar ids suggested for an unknown one
_NON_DIGIT = re.compile(r"\D")


def check_id(raw: object, what: str) -> str:
    """``raw`` as id text; ValueError for None or blank."""
    if raw is None or not str(raw).strip():
        raise ValueError(f"{what} id must be given, not {raw!r}")
    return str(raw)


def typed_id(raw: object, node_type: str) -> str:
    """``raw`` as a typed id of ``node_type`` ("42" -> "product:42"); ValueError for None,
    blank, or an id typed as another node type."""
    text = check_id(raw, node_type)
    head, sep, _ = text.partition(":")
    if sep and head in NODE_TYPES:
        if head != node_type:
            raise ValueError(f"{text!r} is a {head} id, expected a {node_type}")
        return text
    return f"{node_type}:{text}"


def graph_id(graph: HasNode, raw: object, node_type: str) -> str:
    """:func:`typed_id` of ``raw``, or the node of a raw id that itself reads typed (an export
    whose user ids are ``"user:7"`` has the node ``user:user:7``) when only that one is in
    ``graph``."""
    spelled = f"{node_type}:{check_id(raw, node_type)}"
    try:
        typed = typed_id(raw, node_type)
    except ValueError:
        if graph.has_node(spelled):
            return spelled
        raise
    if typed != spelled and not graph.has_node(typed) and graph.has_node(spelled):
        return spelled
    return typed


def check_k(k: object) -> int:
    """``k`` as an int >= 1 (ValueError naming it otherwise)."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"k must be a whole number >= 1, not {k!r}")
    return int(k)


def check_diversity(diversity: object) -> float:
    """``diversity`` as a float in [0, 1] (ValueError naming it otherwise)."""
    if (isinstance(diversity, bool) or not isinstance(diversity, numbers.Real)
            or not 0.0 <= float(diversity) <= 1.0):  # NaN fails the comparison
        raise ValueError(f"diversity must be a number in [0, 1], not {diversity!r}")
    return float(diversity)


def _price(value: object, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not math.isfinite(float(value)):
        raise ValueError(f"{what} must be a finite number or None, not {value!r}")
    return float(value)


def _names(value: str | Iterable[str] | None, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    names = (value,) if isinstance(value, str) else tuple(value)
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{what}: each must be a non-empty name, not {name!r}")
    return names


def _category(name: str) -> str:
    """A path (``home/kitchen``, typed or not) as its category id; a plain name as given."""
    head, sep, rest = name.partition(":")
    path = rest if sep and head == "category" else name
    if path is name and "/" not in name:
        return name
    return "category:" + "/".join(category_slug(part) for part in path.split("/") if part.strip())


def request_filters(categories: str | Iterable[str] | None, brands: str | Iterable[str] | None,
                    price_min: object, price_max: object) -> Filters:
    """The checked :class:`recommend.hybrid.filters.Filters` of a request."""
    low, high = _price(price_min, "price_min"), _price(price_max, "price_max")
    if low is not None and high is not None and low > high:
        raise ValueError(f"price_min {low:g} is above price_max {high:g}")
    cats = tuple(_category(c) for c in _names(categories, "categories"))
    return Filters(cats, _names(brands, "brands"), low, high)


def similar_ids(known: list[str], raw: str) -> list[str]:
    """Up to 3 of the ``known`` raw ids ``raw`` may have meant: the same text but for case,
    or the same number (``42`` -> ``u0042``)."""
    folded = raw.casefold()
    digits = _NON_DIGIT.sub("", raw).lstrip("0")
    found = []
    for candidate in known:
        if candidate.casefold() == folded or (digits and digits in candidate and (
                _NON_DIGIT.sub("", candidate).lstrip("0") == digits)):
            found.append(candidate)
            if len(found) == _SHOWN_IDS:
                break
    return found
