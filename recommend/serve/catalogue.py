"""What the API adds to the recommender's answers: product facts, user search, a profile.

- :func:`product_info`: a product's title, price, brand, category path and image URL. The
  URL is the product's own when it is an ``http(s)`` address, else the server's
  ``/v1/items/{id}/image`` when the server was given the image folder (``--images``), else
  None. :func:`image_file` finds that file from the *graph's* ``has_image`` edge (never from
  the request) and only inside the folder.
- :func:`find_users`: users whose id, name or handle contains the query (the storefront's
  search box).
- :func:`profile`: what the graph says a user likes, in words: their ``interested_in``
  categories, brands and concepts (the profiles stage), else the categories of the products
  they acted on; and their shopper groups (``member_of`` cluster segments). Age and gender
  segments are left out, as they are from every sentence.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from recommend.shown import shown_name

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
_ACTS = ("purchased", "carted", "rated", "liked", "clicked", "viewed")
_PRIVATE_SEGMENTS = ("segment:age-", "segment:gender-")


def _image_node(graph: KnowledgeGraph, item: str) -> str | None:
    images = graph.neighbors(item, "has_image")
    return images[0].dst if images else None


def image_url(graph: KnowledgeGraph, item: str, images_dir: Path | None) -> str | None:
    """Where a client can fetch ``item``'s picture, or None."""
    node = _image_node(graph, item)
    if node is None:
        return None
    path = node.partition(":")[2]
    if path.startswith(("http://", "https://")):
        return path
    if images_dir is None:
        return None
    return f"/v1/items/{quote(item.partition(':')[2], safe='')}/image"


def image_file(graph: KnowledgeGraph, item: str, images_dir: Path) -> Path | None:
    """The image file of ``item`` inside ``images_dir``, or None (no image, outside the folder,
    not a regular file, or not a JPEG/PNG/WebP name)."""
    node = _image_node(graph, item)
    if node is None:
        return None
    root = images_dir.resolve()
    target = (root / node.partition(":")[2]).resolve()
    if root not in target.parents or target.suffix.lower() not in IMAGE_SUFFIXES:
        return None
    return target if target.is_file() else None


def product_info(graph: KnowledgeGraph, item: str, images_dir: Path | None) -> dict[str, Any]:
    """``{"title", "name", "price", "brand", "categories", "image_url"}`` of a typed product
    id: ``title`` as stored, ``name`` as a shopper sees it (:func:`recommend.shown.shown_name`:
    capped, control and bidi characters out), None without a title."""
    attrs = graph.node_attrs(item) if graph.has_node(item) else {}
    title = attrs.get("title")
    return {"title": title, "name": shown_name(title) if title else None,
            "price": attrs.get("price"), "brand": attrs.get("brand"),
            "categories": list(attrs.get("categories") or []),
            "image_url": image_url(graph, item, images_dir)}


def find_users(graph: KnowledgeGraph, query: str, limit: int = 10) -> list[dict[str, Any]]:
    """Up to ``limit`` users whose raw id, name or handle contains ``query`` (any case)."""
    from recommend.paths.sentences import node_name

    needle = query.strip().lower()
    found = []
    for raw in graph.raw_ids("user"):
        uid = f"user:{raw}"
        name = node_name(graph, uid)
        attrs = graph.node_attrs(uid)
        if not needle or needle in raw.lower() or needle in name.lower() or \
                needle in str(attrs.get("name") or "").lower():
            found.append({"id": raw, "name": name})
            if len(found) >= limit:
                break
    return found


def profile(graph: KnowledgeGraph, user: str, top: int = 5) -> dict[str, Any]:
    """The user's interests and shopper groups, in words (module doc)."""
    from recommend.paths.sentences import node_name

    if not graph.has_node(user):
        return {"user": user, "known": False, "name": None, "interests": [], "groups": []}
    interests = [(e.dst, float(e.weight)) for e in graph.neighbors(user, "interested_in")]
    source = "profile"
    if not interests:
        source = "activity"
        counts: Counter[str] = Counter()
        for relation in _ACTS:
            for edge in graph.neighbors(user, relation):
                if edge.dst.startswith("product:"):
                    for cat in graph.neighbors(edge.dst, "in_category"):
                        counts[cat.dst] += 1
        interests = [(node, float(n)) for node, n in counts.items()]
    interests.sort(key=lambda p: (-p[1], p[0]))
    groups = [e.dst for e in graph.neighbors(user, "member_of")
              if not e.dst.startswith(_PRIVATE_SEGMENTS)]
    return {"user": user, "known": True, "name": node_name(graph, user), "source": source,
            "interests": [{"id": node, "kind": node.partition(":")[0],
                           "name": node_name(graph, node), "weight": round(w, 4)}
                          for node, w in interests[:top]],
            "groups": [{"id": g, "name": node_name(graph, g)} for g in groups]}
