"""Records -> knowledge graph: nodes, attributes and the record-made edges of DESIGN.md.

==============  =========================================================================
record          nodes and edges
==============  =========================================================================
Product         ``product:ID`` (title, description, price, brand, categories, image,
                attributes, year); ``made_by`` -> ``brand:SLUG``; ``in_category`` -> the leaf
                ``category:PATH`` and each category a declared attribute lists (below);
                ``broader`` from each category to its parent; ``has_image`` -> ``image:PATH``
User            ``user:ID`` (name, age, gender, location, bio, attributes); ``member_of`` ->
                its demographic segments (below)
Follow          ``follows`` user -> user (ts)
Post            ``post:ID`` (text, ts); ``authored`` user -> post (ts); ``has_image``;
                ``mentions`` -> each tagged product (weight 1, once however often tagged)
Event           ``viewed``/``clicked``/.../``rated`` user -> product or post, weighted by
                :func:`kg.schema.event_weight`, with the event's ts
==============  =========================================================================

Knowledge kept in attributes becomes edges by two declared rules of :mod:`kg.schema`:

- a product attribute of :data:`~kg.schema.CATEGORY_ATTRIBUTES` (``genres``,
  ``other_categories``, ``decade``) lists further categories, ``"|"``-joined: each name is
  a category beside the product's leaf (under its parent) or under the declared path, made
  like a ``categories`` path (nodes, ``broader``) and joined by ``in_category`` (once per
  product: a name equal to the leaf adds nothing);
- a user's ``age`` band (:func:`~kg.schema.age_band`), ``gender`` and each attribute of
  :data:`~kg.schema.SEGMENT_ATTRIBUTES` (``occupation``) make ``member_of`` edges to
  ``segment:FACET-VALUE`` nodes (:func:`~kg.schema.segment_id`, named e.g.
  ``"occupation: technician"``).

Adding records to an existing graph (:func:`add_dataset`) appends; nothing is rebuilt. A
product already in the graph as a catalogue entry only merges its attributes (its brand,
category and image edges are not added twice), and so does a user (its segment edges are
not added twice); a category's ``broader`` edge is added when the category is first seen.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import numpy as np
from tqdm.auto import tqdm

from kg.graph import KnowledgeGraph, paused_gc
from kg.records import Dataset, Event, Product, User
from kg.schema import (
    CATEGORY_ATTRIBUTES,
    EVENT_RELATIONS,
    SEGMENT_ATTRIBUTES,
    age_band,
    brand_id,
    category_id,
    check_endpoint_types,
    event_weight,
    image_id,
    segment_id,
)

T = TypeVar("T")


def build_graph(
    dataset: Dataset, *, relations_file: Path | None = None, progress: bool = True
) -> KnowledgeGraph:
    """A new graph from ``dataset`` (plus a ``relations.jsonl`` of extra edges if given).

    >>> from kg.records import Dataset, Event, Product, User, Event
    >>> ds = Dataset(products=[Product("A", "Tea", brand="Leafy")], users=[User("1")],
    ...              events=[Event("1", "A", "product", "purchase", ts=5.0)])
    >>> build_graph(ds, progress=False).summary().edges
    {'made_by': 1, 'purchased': 1}
    """
    graph = KnowledgeGraph()
    add_dataset(graph, dataset, progress=progress)
    if relations_file is not None:
        add_relations_file(graph, relations_file)
    return graph


def _bar(items: Iterable[T], total: int, desc: str, progress: bool) -> Iterator[T]:
    return iter(
        tqdm(
            items,
            total=total,
            desc=desc,
            unit="rec",
            disable=not progress or total == 0,
            leave=False,
            miniters=max(1, total // 100),
        )
    )


def add_dataset(graph: KnowledgeGraph, dataset: Dataset, *, progress: bool = True) -> None:
    """Append ``dataset``'s nodes and edges to ``graph`` (incremental: no rebuild)."""
    with paused_gc():
        _add_products(graph, dataset.products, progress)
        _add_users(graph, dataset.users, progress)
        if dataset.follows:
            add_follow_arrays(graph,
                              graph._intern("user", [f.follower for f in dataset.follows]),
                              graph._intern("user", [f.followee for f in dataset.follows]),
                              np.array([f.ts for f in dataset.follows], np.float64))
        _add_posts(graph, dataset, progress)
        _add_events(graph, dataset.events, progress)


def add_follow_arrays(graph: KnowledgeGraph, followers: np.ndarray, followees: np.ndarray,
                      ts: np.ndarray) -> None:
    """Append ``follows`` edges given as user node indices and times (NaN: none)."""
    graph._append("user", "follows", "user", followers, followees,
                  np.ones(len(followers), np.float32), ts)


def _add_products(graph: KnowledgeGraph, products: list[Product], progress: bool) -> None:
    made_by: tuple[list[str], list[str]] = ([], [])
    in_category: tuple[list[str], list[str]] = ([], [])
    images: tuple[list[str], list[str]] = ([], [])
    broader: tuple[list[str], list[str]] = ([], [])
    leaf_of: dict[tuple[str, ...], str] = {}  # category path -> leaf id, built once per path
    for p in _bar(products, len(products), "products", progress):
        pid = f"product:{p.id}"
        is_new = _put_record_node(
            graph,
            pid,
            title=p.title,
            description=p.description,
            brand=p.brand,
            categories=list(p.categories) or None,
            price=p.price,
            image=p.image,
            attributes=p.attributes or None,
            year=p.year,
        )
        if not is_new:
            continue
        if p.brand:
            made_by[0].append(pid)
            made_by[1].append(_add_named(graph, brand_id(p.brand), p.brand.strip()))
        paths = [p.categories] if p.categories else []
        if p.attributes:
            paths += _listed_categories(p)
        leaves: set[str] = set()
        for path in paths:
            leaf = leaf_of.get(path)
            if leaf is None:
                leaf = leaf_of[path] = _add_category_path(graph, path, broader)
            if leaf not in leaves:
                leaves.add(leaf)
                in_category[0].append(pid)
                in_category[1].append(leaf)
        if p.image:
            images[0].append(pid)
            images[1].append(_add_image(graph, p.image))
    for name, (src, dst) in (
        ("made_by", made_by),
        ("in_category", in_category),
        ("broader", broader),
        ("has_image", images),
    ):
        if src:
            graph.add_edges(name, src, dst)


def _listed_categories(product: Product) -> list[tuple[str, ...]]:
    """The category paths ``product``'s :data:`~kg.schema.CATEGORY_ATTRIBUTES` list."""
    out: list[tuple[str, ...]] = []
    for key, under in CATEGORY_ATTRIBUTES.items():
        value = product.attributes.get(key)
        if value is None or isinstance(value, bool):
            continue
        parent = product.categories[:-1] if under is None else under
        out += [(*parent, name) for name in (n.strip() for n in str(value).split("|")) if name]
    return out


def _add_users(graph: KnowledgeGraph, users: list[User], progress: bool) -> None:
    members: tuple[list[str], list[str]] = ([], [])
    for user in _bar(users, len(users), "users", progress):
        uid = f"user:{user.id}"
        is_new = _put_record_node(
            graph,
            uid,
            name=user.name,
            age=user.age,
            gender=user.gender,
            location=user.location,
            bio=user.bio,
            attributes=user.attributes or None,
        )
        if is_new:
            for facet, value in _demographics(user):
                members[0].append(uid)
                members[1].append(_add_segment(graph, facet, value))
    if members[0]:
        graph.add_edges("member_of", *members)


def _demographics(user: User) -> list[tuple[str, str]]:
    """(facet, value) of each demographic segment of ``user`` (see the module doc)."""
    out = []
    if user.age is not None:
        out.append(("age", age_band(user.age)))
    if user.gender:
        out.append(("gender", user.gender))
    for key in SEGMENT_ATTRIBUTES:
        value = user.attributes.get(key)
        if value is not None and value != "":
            out.append((key, str(value)))
    return out


def _put_record_node(graph: KnowledgeGraph, node_id: str, **attrs: object) -> bool:
    """Add ``node_id`` with a record's attributes (merged into any it has); True when the
    record is new to the graph: the node was absent or only referenced (no attributes)."""
    is_new = not graph.has_node(node_id) or not graph.node_attrs(node_id)
    graph.add_node(node_id, **attrs)
    return is_new


def _add_segment(graph: KnowledgeGraph, facet: str, value: str) -> str:
    node_id = segment_id(facet, value)
    if not graph.has_node(node_id):
        graph.add_node(node_id, name=f"{facet}: {value}", facet=facet, value=value)
    return node_id


def _add_named(graph: KnowledgeGraph, node_id: str, name: str) -> str:
    if not graph.has_node(node_id):
        graph.add_node(node_id, name=name)
    return node_id


def _add_image(graph: KnowledgeGraph, path: str) -> str:
    node_id = image_id(path)
    if not graph.has_node(node_id):
        graph.add_node(node_id, path=path)
    return node_id


def _add_category_path(
    graph: KnowledgeGraph, path: tuple[str, ...], broader: tuple[list[str], list[str]]
) -> str:
    """Create the categories of ``path`` (general -> specific); the leaf's id."""
    parent = None
    for depth in range(1, len(path) + 1):
        node_id = category_id(path[:depth])
        if not graph.has_node(node_id):
            graph.add_node(node_id, name=path[depth - 1], path=list(path[:depth]))
            if parent is not None:
                broader[0].append(node_id)
                broader[1].append(parent)
        parent = node_id
    assert parent is not None
    return parent


def _add_posts(graph: KnowledgeGraph, dataset: Dataset, progress: bool) -> None:
    authored: tuple[list[str], list[str], list[float | None]] = ([], [], [])
    images: tuple[list[str], list[str]] = ([], [])
    mentions: tuple[list[str], list[str]] = ([], [])
    for post in _bar(dataset.posts, len(dataset.posts), "posts", progress):
        pid = f"post:{post.id}"
        graph.add_node(pid, text=post.text, ts=post.ts)
        authored[0].append(f"user:{post.author}")
        authored[1].append(pid)
        authored[2].append(post.ts)
        for path in post.images:
            images[0].append(pid)
            images[1].append(_add_image(graph, path))
        # one edge per (post, product): a tag repeated is one; a tag is a raw id (the reader
        # checked it names a product), "product:7" too when that is the product's own id
        for target in dict.fromkeys(f"product:{t}" for t in post.products):
            mentions[0].append(pid)
            mentions[1].append(target)
    if authored[0]:
        graph.add_edges("authored", authored[0], authored[1], ts=authored[2])
    if images[0]:
        graph.add_edges("has_image", *images)
    if mentions[0]:
        graph.add_edges("mentions", *mentions)


def event_codes() -> dict[tuple[str, str], int]:
    """Each event (kind, target type) as the code :func:`add_event_arrays` takes: twice the
    kind's position in :data:`kg.schema.EVENT_RELATIONS`, plus one for a post target."""
    return {(k, t): 2 * i + (t == "post") for i, k in enumerate(EVENT_RELATIONS)
            for t in ("product", "post")}


def _add_events(graph: KnowledgeGraph, events: list[Event], progress: bool) -> None:
    """Events as index columns, grouped by (kind, target type) with numpy (fast for 1M)."""
    if not events:
        return
    code_of = event_codes()
    with tqdm(total=3, desc="events", unit="step", disable=not progress, leave=False) as bar:
        codes = np.fromiter((code_of[(e.kind, e.target_type)] for e in events), np.int64,
                            len(events))
        users = graph._intern("user", [e.user for e in events])
        bar.update()
        targets = np.empty(len(events), np.int64)
        for target_type, mask in (("product", codes % 2 == 0), ("post", codes % 2 == 1)):
            pos = np.flatnonzero(mask).tolist()
            if pos:
                targets[pos] = graph._intern(target_type, [events[k].target for k in pos])
        bar.update()
        add_event_arrays(graph, codes, users, targets,
                         np.array([e.value for e in events], np.float64),  # None -> NaN
                         np.array([e.ts for e in events], np.float64))
        bar.update()


def add_event_arrays(graph: KnowledgeGraph, codes: np.ndarray, users: np.ndarray,
                     targets: np.ndarray, values: np.ndarray, ts: np.ndarray) -> None:
    """Append events given as columns in event order: ``codes`` (:func:`event_codes`), user
    and target node indices, ``values`` and ``ts`` (NaN: none); one edge per event, weighted
    by :func:`kg.schema.event_weight`, grouped into blocks by code."""
    kinds = list(EVENT_RELATIONS)
    weights = np.array([event_weight(k, None) for k in kinds], np.float32)[codes // 2]
    rated = (codes // 2 == kinds.index("rate")) & ~np.isnan(values)
    # a rating weighs the act plus its value (see event_weight)
    weights[rated] += np.maximum(values[rated], 0.0)
    for code in np.unique(codes).tolist():
        kind, target_type = kinds[code // 2], ("product", "post")[code % 2]
        check_endpoint_types(EVENT_RELATIONS[kind], "user", target_type)
        sel = np.flatnonzero(codes == code)
        graph._append("user", EVENT_RELATIONS[kind], target_type, users[sel],
                      targets[sel], weights[sel], ts[sel])


def add_relations_file(graph: KnowledgeGraph, path: Path) -> int:
    """Add the edges of a ``relations.jsonl`` (:mod:`kg.relations`); the number added.

    Strict: a bad line raises ValueError naming file and line, and nothing is added. A build
    quarantines bad lines instead (:func:`kg.artifact.build_artifact`).
    """
    from kg.relations import add_relations, read_relations

    read = read_relations(path)
    if read.rejections:
        bad = read.rejections[0]
        raise ValueError(f"{path}:{bad.line}: bad relation line: {bad.reason}")
    return add_relations(graph, read.edges)
