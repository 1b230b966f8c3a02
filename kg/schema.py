"""The knowledge graph's vocabulary: node types, typed ids, relations and edge weights.

Node ids are typed: ``"<type>:<raw id>"`` (``user:42``, ``product:B00X``). Brands,
concepts and categories are named by slugs (``brand:l-oreal``, ``category:beauty/skin-care``:
the slugs of a category path joined by ``/``, general to specific; a level holding a symbol
the slug drops, such as ``a:b``, gets a short hash of its name: :func:`category_slug`).
Demographic segments are named by facet and value (``segment:age-20-29``,
``segment:occupation-technician``: :func:`segment_id`).

A relation may connect several source and destination types (``has_image`` starts at a post
or a product; ``mentions`` ends at a product, brand, concept or category; event relations end
at a product or a post). A comment whose text the nlp stage links is a post of its own
(``post:comment-<hash>``, attribute ``kind="comment"``), ``authored`` by the commenter, that
``comments_on`` the post or product it was left on: its mentions are the commenter's. The
graph keeps one edge block per (source type, relation, destination type), so a compiled matrix
always has one row type and one column type.

Edge weights of events (:data:`EVENT_WEIGHTS`): view 1, click 2, like 3, comment 3,
share 4, cart 5, purchase 8; a rating weighs 1 for the act of rating plus its value (1-5 stars
give 2-6; a value at or below 0 gives 1), 1 if absent.
Record-made edges (follows, authored, mentions tags, made_by, in_category, broader,
has_image, loaded relations) weigh 1; a ``described_like`` edge (a product's nearest in
catalogue text, :mod:`kg.described_like`) weighs the two texts' cosine.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass

NODE_TYPES: tuple[str, ...] = (
    "user",
    "product",
    "brand",
    "category",
    "post",
    "image",
    "concept",
    "segment",
)


@dataclass(frozen=True, slots=True)
class Relation:
    """A relation name with the node types it may start from and end at."""

    name: str
    src_types: tuple[str, ...]
    dst_types: tuple[str, ...]


def _rel(name: str, src: str, dst: str) -> Relation:
    return Relation(name, tuple(src.split()), tuple(dst.split()))


_TARGETS = "product post"
RELATIONS: dict[str, Relation] = {
    r.name: r
    for r in (
        _rel("follows", "user", "user"),
        _rel("authored", "user", "post"),
        _rel("liked", "user", _TARGETS),
        _rel("commented", "user", _TARGETS),
        _rel("shared", "user", _TARGETS),
        _rel("viewed", "user", _TARGETS),
        _rel("clicked", "user", _TARGETS),
        _rel("carted", "user", _TARGETS),
        _rel("purchased", "user", _TARGETS),
        _rel("rated", "user", _TARGETS),
        _rel("mentions", "post", "product brand concept category"),
        _rel("comments_on", "post", _TARGETS),
        _rel("has_image", "post product", "image"),
        _rel("depicts", "image", "category concept"),
        _rel("made_by", "product", "brand"),
        _rel("in_category", "product", "category"),
        _rel("broader", "category", "category"),
        _rel("about", "product", "concept"),
        _rel("similar", "product", "product"),
        _rel("co_bought", "product", "product"),
        _rel("also_bought", "product", "product"),
        _rel("also_viewed", "product", "product"),
        _rel("bought_together", "product", "product"),
        # a product's nearest in catalogue text (kg.described_like): made from texts only
        _rel("described_like", "product", "product"),
        _rel("interested_in", "user", "concept category brand"),
        _rel("member_of", "user", "segment"),
    )
}

#: Event kind -> relation.
EVENT_RELATIONS: dict[str, str] = {
    "view": "viewed",
    "click": "clicked",
    "like": "liked",
    "comment": "commented",
    "share": "shared",
    "cart": "carted",
    "purchase": "purchased",
    "rate": "rated",
}
#: Event kind -> edge weight; ``rate`` adds its value to this (see :func:`event_weight`).
EVENT_WEIGHTS: dict[str, float] = {
    "view": 1.0,
    "click": 2.0,
    "like": 3.0,
    "comment": 3.0,
    "share": 4.0,
    "cart": 5.0,
    "purchase": 8.0,
    "rate": 1.0,
}


def event_weight(kind: str, value: float | None) -> float:
    """The edge weight of an event: its kind's weight, for a rating plus its value.

    A rating counts as an interaction whatever its value (someone chose to rate the product),
    and a higher value weighs more: ``1 + max(value, 0)``, the confidence ``1 + alpha * r``
    of Hu, Koren and Volinsky's implicit-feedback ALS with alpha 1. A rating of 0 (or below)
    weighs 1, as much as a view, never nothing or less.

    >>> event_weight("purchase", None), event_weight("rate", 4.0), event_weight("rate", 0.0)
    (8.0, 5.0, 1.0)
    """
    if kind == "rate" and value is not None:
        return EVENT_WEIGHTS["rate"] + max(float(value), 0.0)
    return EVENT_WEIGHTS[kind]


def relation(name: str) -> Relation:
    """The relation called ``name``; a ValueError names the known ones otherwise."""
    try:
        return RELATIONS[name]
    except KeyError:
        raise ValueError(f"unknown relation {name!r}; known: {', '.join(RELATIONS)}") from None


def check_endpoint_types(name: str, src_type: str, dst_type: str) -> None:
    """Raise ValueError unless relation ``name`` may join ``src_type`` to ``dst_type``."""
    rel = relation(name)
    if src_type not in rel.src_types or dst_type not in rel.dst_types:
        raise ValueError(
            f"relation {name!r} joins {'/'.join(rel.src_types)} -> {'/'.join(rel.dst_types)}, "
            f"not {src_type} -> {dst_type}"
        )


def split_id(node_id: str) -> tuple[str, str]:
    """``"product:B00X"`` -> ``("product", "B00X")``; ValueError on an untyped id.

    >>> split_id("category:beauty/skin-care")
    ('category', 'beauty/skin-care')
    """
    node_type, sep, raw = node_id.partition(":")
    if not sep or node_type not in NODE_TYPES or not raw:
        raise ValueError(
            f"{node_id!r} is not a typed node id '<type>:<id>' with type in {NODE_TYPES}"
        )
    return node_type, raw


def node_type_of(node_id: str) -> str:
    """The type of a typed node id."""
    return split_id(node_id)[0]


_NON_WORD = re.compile(r"[^\w]+")


@functools.lru_cache(maxsize=1 << 16)
def slug(text: str) -> str:
    """A lower-case, dash-separated form of ``text`` for brand/concept/category ids.

    Unicode letters are kept; text with no word character gets a short hash.

    >>> slug("L'Oréal Paris"), slug("Skin Care & Face")
    ('l-oréal-paris', 'skin-care-face')
    """
    text = unicodedata.normalize("NFC", text)  # "Cafe\u0301" is "Café" (its accent no "-")
    out = _NON_WORD.sub("-", text.casefold()).replace("_", "-").strip("-")
    return out or "h" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


#: What a category name's slug folds besides case: the spacing and punctuation of ordinary
#: names (``Bath & Body``, ``Children's``, ``Tops (Women)``). Any other symbol tells names
#: apart (:func:`category_slug`).
_COSMETIC = re.compile(r"[\s\-_.,&'\u2019()]+")
_TELLING = re.compile(r"[^\w\s\-.,&'\u2019()]")
_LETTER = re.compile(r"[^\W_]")  # a name without one has a hashed slug already
_HASHED = re.compile(r"[^\W_]+(?:-[^\W_]+)*~[0-9a-f]{8}")  # a level of a category id


@functools.lru_cache(maxsize=1 << 16)
def category_slug(name: str) -> str:
    """The slug of one category level: :func:`slug`, plus a short hash of the name when the
    name holds a symbol the slug drops that tells it from other names (``:``, ``/``, ``+``, an
    emoji), so ``a:b``, ``a/b`` and ``a-b`` are three categories while ``Bath & Body`` and
    ``bath body`` stay one. A function of the name alone: the same id in every build.

    >>> category_slug("Bath & Body"), category_slug("a-b"), category_slug("a:b")
    ('bath-body', 'a-b', 'a-b~dcea6d9c')
    >>> category_slug("a-b~dcea6d9c")  # a level of an id is its own slug
    'a-b~dcea6d9c'
    """
    name = unicodedata.normalize("NFC", name)
    if _HASHED.fullmatch(name):  # a level of a category id already (a filter's typed path)
        return name.casefold()
    base = slug(name)
    if not _TELLING.search(name) or not _LETTER.search(name):
        return base
    key = _COSMETIC.sub("-", name.casefold()).strip("-")
    return base + "~" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:8]


def category_id(path: tuple[str, ...] | list[str]) -> str:
    """The typed id of a category path (general -> specific).

    >>> category_id(("Beauty", "Skin Care"))
    'category:beauty/skin-care'
    """
    return "category:" + "/".join(category_slug(p) for p in path)


def brand_id(name: str) -> str:
    """The typed id of a brand name."""
    return "brand:" + slug(name)


def image_id(path: str) -> str:
    """The typed id of an image, by its path as a record writes it."""
    return f"image:{path}"


def concept_id(name: str) -> str:
    """The typed id of a concept (a phrase)."""
    return "concept:" + slug(name)


#: Product attributes that name further categories of a product, as ``"|"``-joined names
#: (:mod:`kg.build` adds an ``in_category`` edge to each). ``None``: the names sit beside the
#: product's own leaf category, under its parent (a movie with ``categories=("movie",
#: "Action")`` and ``genres`` ``"Action|Comedy"`` is in ``category:movie/action`` and
#: ``category:movie/comedy``); a path: the names sit under it (``decade`` ``"1990s"`` ->
#: ``category:decade/1990s``).
CATEGORY_ATTRIBUTES: dict[str, tuple[str, ...] | None] = {
    "genres": None,
    "other_categories": None,
    "decade": ("decade",),
}
#: User attributes that put a user in a segment (``member_of`` -> :func:`segment_id`), besides
#: the ``age`` (its :func:`age_band`) and ``gender`` fields.
SEGMENT_ATTRIBUTES: tuple[str, ...] = ("occupation",)


def segment_id(facet: str, value: str) -> str:
    """The typed id of the segment of users whose ``facet`` is ``value``.

    >>> segment_id("occupation", "Technician"), segment_id("age", age_band(67))
    ('segment:occupation-technician', 'segment:age-60')
    """
    return "segment:" + slug(f"{facet}-{value}")


#: Segment ids of the profile stage's user clusters start so (the build's are facet-value).
CLUSTER_SEGMENT_PREFIX = "segment:cluster-"


def cluster_segment_id(label: int) -> str:
    """The typed id of user cluster ``label``'s segment.

    >>> cluster_segment_id(3)
    'segment:cluster-3'
    """
    return f"{CLUSTER_SEGMENT_PREFIX}{label}"


def age_band(age: int) -> str:
    """The ten-year band of ``age``; 60 and over is one band.

    >>> age_band(7), age_band(34), age_band(60), age_band(81)
    ('0-9', '30-39', '60+', '60+')
    """
    low = min(age // 10 * 10, 60)
    return "60+" if low == 60 else f"{low}-{low + 9}"
