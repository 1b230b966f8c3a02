"""Words a shopper understands for what the graph stores as ids, features and timestamps.

- :func:`segment_words`: a segment by what its members share, never by its number: a profile
  cluster by its strongest features ("the shoppers into Running and Hoka who spend more than
  most"), a facet segment by its facet ("the people whose occupation is technician"). A
  cluster smaller than the privacy threshold (:class:`recommend.paths.privacy.Privacy`'s
  ``min_people``) is not described: its features would say what a few people do;
- :func:`when`: a time in words relative to ``now`` ("today", "last week", "3 months ago");
- :func:`latest_time`: the graph's latest event time, the "now" of a dataset whose events
  stopped in the past (a live shop's latest event is about now);
- :func:`product_words`: a product whose data had no title (its "title" is an ASIN) by what
  it is: "a Mascara by Maybelline";
- :func:`readable`: an entity's id made words ("beauty/skin-care" -> "skin care"), or None
  when it is only a number or code.

>>> when(86_400 * 10, now=86_400 * 18)
'last week'
>>> readable("beauty/skin-care"), readable("B00X12"), readable("48213")
('skin care', None, None)
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from recommend.paths.privacy import Privacy

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

__all__ = ["LIKE_YOU", "latest_time", "product_words", "readable", "segment_words", "when"]

#: Profile features (recommend/profiles/features.py SCALARS) as what members share.
_TRAITS = {
    "spending_power": "spend more than most",
    "brand_loyalty": "stay loyal to their brands",
    "activity": "shop a lot",
    "active_days": "come back often",
    "influence": "have many followers",
}
_DAY = 86_400.0
#: A segment not described (too small, or nothing stands out).
LIKE_YOU = "the shoppers with habits like yours"


def readable(raw: str) -> str | None:
    """The last path part of an id, dashes and underscores made spaces; None for a code
    (no word of 3+ letters with a vowel: "B00X12", "48213")."""
    text = raw.rsplit("/", 1)[-1].replace("-", " ").replace("_", " ").strip()
    if not any(len(w) >= 3 and w.isalpha() and re.search("[aeiouy]", w, re.I)
               for w in text.split()):
        return None
    return text


def product_words(graph: KnowledgeGraph, node_id: str, attrs: dict[str, Any]) -> str:
    """A product's title; when the data had none (the loaders' ``title_fallback``: the title
    is an ASIN or id), what it is: "a Mascara by Maybelline", "a Mascara", "an item"."""
    extra = attrs.get("attributes") or {}
    title = attrs.get("title") or attrs.get("name")
    if title and not (isinstance(extra, dict) and extra.get("title_fallback")):
        return str(title)
    if not graph.has_node(node_id):
        return "an item"
    leaves = [e.dst for e in graph.neighbors(node_id, "in_category")]
    leaf = max(leaves, key=lambda c: (c.count("/"), c)) if leaves else ""
    kind = _name(graph, leaf) if leaf else None
    brands = [n for e in graph.neighbors(node_id, "made_by") if (n := _name(graph, e.dst))]
    if kind is None:
        text = "an item"
    else:  # a top-level category names a department, not a kind of product
        text = f"{_article(kind)} {kind}" if "/" in leaf else f"{_article(kind)} {kind} product"
    return f"{text} by {brands[0]}" if brands else text


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _name(graph: KnowledgeGraph, node_id: str) -> str | None:
    if not graph.has_node(node_id):
        return None
    attrs = graph.node_attrs(node_id)
    name = attrs.get("name") or attrs.get("title")
    return str(name) if name else readable(node_id.partition(":")[2])


def segment_words(graph: KnowledgeGraph, node_id: str, attrs: dict[str, Any]) -> str:
    """A segment as "the shoppers/people ..." (module doc)."""
    facet, value = attrs.get("facet"), attrs.get("value")
    if facet and value:
        return f"the people whose {facet} is {value}"
    size = attrs.get("size")
    features = attrs.get("top_features") or []
    if not isinstance(size, int) or size < Privacy().min_people or not features:
        return LIKE_YOU
    interests = [n for f in features if ":" in str(f) and (n := _name(graph, str(f)))]
    traits = [_TRAITS[f] for f in features if f in _TRAITS]
    text = "the shoppers"
    if interests:
        text += " into " + _and(interests[:2])
    if traits:
        text += " who " + _and(traits[:2])
    return text if (interests or traits) else LIKE_YOU


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def latest_time(graph: KnowledgeGraph) -> float | None:
    """The latest known edge time in the graph, None if none (the store keeps it as edges
    are appended: :meth:`kg.graph_store.GraphStore.latest_time`)."""
    return graph.latest_time()


def when(ts: float, *, now: float) -> str:
    """``ts`` in words relative to ``now`` (both unix seconds)."""
    days = max(now - ts, 0.0) / _DAY
    if days < 1:
        return "today"
    if days < 2:
        return "yesterday"
    if days < 7:
        return f"{int(days)} days ago"
    if days < 14:
        return "last week"
    if days < 30:
        return f"{int(days // 7)} weeks ago"
    if days < 61:
        return "last month"
    if days < 365:
        return f"{int(days // 30.4)} months ago"
    if days < 730:
        return "last year"
    return f"{int(days // 365)} years ago"
