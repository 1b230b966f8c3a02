"""The columnar store behind :class:`kg.graph.KnowledgeGraph`: typed nodes and edge blocks.

Nodes: per node type, a list of raw ids (index order), an index dict and per-node JSON-able
attributes. Edges: per (source type, relation, destination type) an :class:`kg.edges.EdgeBlock`.
:meth:`GraphStore.add_edges` creates endpoint nodes that do not exist yet (without
attributes), so enrichment and loaded relations need no separate node pass; the endpoint
types are still checked against the relation table of :mod:`kg.schema`, and
:meth:`GraphStore.described` tells record-made nodes from such endpoint-only ones.
Relation matrices and neighbour queries over the store are in :mod:`kg.graph_index`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any, Self, TypeVar

import numpy as np

from kg.edges import EdgeBlock, EdgeColumns
from kg.schema import NODE_TYPES, check_endpoint_types, relation, split_id

T = TypeVar("T")


class GraphStore:
    """Node ids, indices and attributes per type, and edge columns per block."""

    def __init__(self) -> None:
        self._ids: dict[str, list[str]] = {t: [] for t in NODE_TYPES}
        self._index: dict[str, dict[str, int]] = {t: {} for t in NODE_TYPES}
        self._attrs: dict[str, list[dict[str, Any] | None]] = {t: [] for t in NODE_TYPES}
        self._blocks: dict[tuple[str, str, str], EdgeBlock] = {}
        self._node_version = 0  # bumped when a node or attribute is added; caches compare it
        self._edge_version = 0  # the sum of the blocks' versions, kept as blocks grow
        self._relation_versions: dict[str, int] = {}  # the same sum per relation
        self._latest_ts = -np.inf  # the latest known edge time, kept as edges are appended
        self._described: dict[str, tuple[int, int, np.ndarray]] = {}
        self._ranks: dict[str, tuple[int, int, np.ndarray]] = {}
        self._derived: dict[Hashable, tuple[Any, Any]] = {}  # key -> (stamp, value)
        #: node types whose id list, index and attribute list another store (a fork, or the
        #: store forked from) holds too: copied before this store changes them (:meth:`fork`)
        self._shared: set[str] = set()

    @property
    def version(self) -> tuple[int, int, int]:
        """Changes whenever a node, an attribute or an edge is added."""
        return (self._node_version, len(self._blocks), self._edge_version)

    def latest_time(self) -> float | None:
        """The latest known edge time (times at or below -1e299 and NaN are unknown), None
        if no edge has one; kept as edges are appended, O(1)."""
        return None if self._latest_ts == -np.inf else self._latest_ts

    def cached(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, kept until the graph changes (the caller must not modify it)."""
        hit = self._derived.get(key)
        if hit is not None and hit[0] == self.version:
            return hit[1]
        value = compute()
        self._derived[key] = (self.version, value)
        return value

    def cached_for(self, key: Hashable, relations: tuple[str, ...], compute: Callable[[], T]
                   ) -> T:
        """Like :meth:`cached`, but kept until a node or attribute is added or one of
        ``relations`` gains edges (edges of other relations leave it valid).

        The stamp is the node version and each relation's append count, both kept as the
        store grows: an ask costs O(len(relations)), not a pass over the blocks."""
        stamp = self._stamp(relations)
        hit = self._derived.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        value = compute()
        self._derived[key] = (stamp, value)
        return value

    def cached_grown(self, key: Hashable, relations: tuple[str, ...], compute: Callable[[], T],
                     grow: Callable[[T, dict[tuple[str, str, str], int]], T | None]) -> T:
        """Like :meth:`cached_for`, but a value kept at an older version is first offered to
        ``grow(value, seen)``, ``seen`` mapping each block of ``relations`` to how many of its
        edges the value was made from (edges only append: the rest came since; nodes may have
        been added too). ``grow`` returns the value for now, or None: ``compute()``."""
        stamp = self._stamp(relations)
        hit = self._derived.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1][1]
        seen = {k: len(b) for k, b in self._blocks.items() if k[1] in relations}
        value = None if hit is None else grow(hit[1][1], hit[1][0])
        if value is None:
            value = compute()
        self._derived[key] = (stamp, (seen, value))
        return value

    def _stamp(self, relations: tuple[str, ...]) -> tuple[int, tuple[int, ...]]:
        """What :meth:`cached_for` keeps a value for: the node version and each relation's
        append count."""
        versions = self._relation_versions
        return self._node_version, tuple([versions.get(r, 0) for r in relations])

    def remember(self, key: Hashable, value: Any) -> None:
        """Keep ``value`` as :meth:`cached`'s answer for ``key`` at the current version (for
        a caller that derived it from an older version's value and what changed since)."""
        self._derived[key] = (self.version, value)

    def cached_keys(self) -> list[Hashable]:
        """The keys of every value kept by :meth:`cached` or :meth:`cached_for`."""
        return list(self._derived)

    def cached_now(self, key: Hashable) -> Any | None:
        """The value :meth:`cached` kept for ``key`` if it was made at this version, else
        None (never computes it)."""
        hit = self._derived.get(key)
        return hit[1] if hit is not None and hit[0] == self.version else None

    def same_nodes(self, other: GraphStore) -> bool:
        """Whether ``other`` (a fork of this store, or this store's origin) holds the same
        nodes and attributes: neither added any since the fork."""
        return (self._node_version == other._node_version
                and all(len(ids) == len(other._ids[t]) for t, ids in self._ids.items()))

    def fork(self) -> Self:
        """A copy to grow while this store is being read: adding nodes, attributes or edges
        to the fork leaves this store unchanged (copy-on-write of the graph for
        :meth:`recommend.Recommender.add`).

        The id lists, indices and attribute lists of a node type are shared until either
        store adds a node or an attribute of that type (copy on write, :meth:`_own`: a fork
        that adds only edges, as an add of events does, copies none of them: on a world of
        150k nodes the copies were ~0.1 s of every add); attribute dicts and edge columns are
        shared, since neither is ever changed in place (:meth:`add_node` replaces a node's
        dict, edges append chunks). Caches are carried over: each checks the version or list
        it was made from (so the described masks and id ranks of the types neither changed
        stay valid in both).
        """
        other = copy.copy(self)
        other._ids, other._index, other._attrs = dict(self._ids), dict(self._index), dict(
            self._attrs)
        self._shared, other._shared = set(self._ids), set(self._ids)  # one set each
        other._blocks = {key: block.fork() for key, block in self._blocks.items()}
        other._described = dict(self._described)
        other._ranks = dict(self._ranks)
        other._derived = dict(self._derived)
        other._relation_versions = dict(self._relation_versions)
        return other

    def consolidate(self) -> None:
        """Concatenate every block's buffered appends now (:meth:`kg.edges.EdgeBlock.columns`),
        so that reading the store from several threads never rebinds a block's columns, and
        bring up to date the adjacencies that were built before edges were appended (merged,
        :meth:`kg.edges.EdgeBlock.adjacency`): the writer pays for them, not the next reader."""
        for block in self._blocks.values():
            block.columns()
            block.refresh_adjacency()

    # ----- nodes -----
    def _own(self, node_type: str) -> None:
        """Copy ``node_type``'s id list, index and attribute list before changing them when
        another store shares them (:meth:`fork`)."""
        if node_type in self._shared:
            self._ids[node_type] = list(self._ids[node_type])
            self._index[node_type] = dict(self._index[node_type])
            self._attrs[node_type] = list(self._attrs[node_type])
            self._shared.discard(node_type)

    def add_node(self, node_id: str, **attrs: Any) -> int:
        """Add ``node_id`` (or merge ``attrs`` into it); None values are skipped. Its index."""
        node_type, raw = split_id(node_id)
        i = self._intern_one(node_type, raw)
        values = {k: v for k, v in attrs.items() if v is not None}
        if values:
            self._own(node_type)
            current = self._attrs[node_type][i]
            self._attrs[node_type][i] = {**(current or {}), **values}
            self._node_version += 1
        return i

    def has_node(self, node_id: str) -> bool:
        node_type, _, raw = node_id.partition(":")
        return raw in self._index.get(node_type, {})

    def node_attrs(self, node_id: str) -> dict[str, Any]:
        """A copy of the node's attributes; KeyError if there is no such node."""
        node_type, i = self._locate(node_id)
        return dict(self._attrs[node_type][i] or {})

    def nodes(self, node_type: str) -> list[str]:
        """Typed ids of ``node_type`` in index order."""
        if node_type not in self._ids:
            raise ValueError(f"unknown node type {node_type!r}; known: {NODE_TYPES}")
        return [f"{node_type}:{raw}" for raw in self._ids[node_type]]

    def num_nodes(self, node_type: str | None = None) -> int:
        """Node count of one type, or of all."""
        if node_type is None:
            return sum(len(ids) for ids in self._ids.values())
        return len(self._ids[node_type])

    def index(self, node_id: str) -> int:
        """The node's index within its type; KeyError naming the id if absent."""
        return self._locate(node_id)[1]

    def _locate(self, node_id: str) -> tuple[str, int]:
        """The node's type and index within it; KeyError naming the id if absent."""
        node_type, raw = split_id(node_id)
        try:
            return node_type, self._index[node_type][raw]
        except KeyError:
            raise KeyError(f"no node {node_id!r} in the graph") from None

    def node_id(self, node_type: str, index: int) -> str:
        """The typed id of node ``index`` of ``node_type``."""
        return f"{node_type}:{self._ids[node_type][index]}"

    def raw_ids(self, node_type: str) -> list[str]:
        """Raw (untyped) ids of ``node_type`` in index order (the store's list: do not modify)."""
        return self._ids[node_type]

    def id_ranks(self, node_type: str) -> np.ndarray:
        """Each node's rank (index order) in the sorted order of its type's raw ids.

        Typed ids of one type sort as their raw ids: ``ids[argmin(ranks[js])]`` is the
        smallest of nodes ``js`` without making strings. Cached until a node is added.
        """
        ids = self._ids[node_type]
        cached = self._ranks.get(node_type)
        if cached is None or cached[:2] != (id(ids), len(ids)):
            ranks = np.empty(len(ids), np.int64)
            ranks[np.argsort(np.array(ids, dtype=str), kind="stable")] = np.arange(len(ids))
            cached = self._ranks[node_type] = (id(ids), len(ids), ranks)
        return cached[2]

    def described(self, node_type: str) -> np.ndarray:
        """Boolean mask (index order) of nodes that have attributes, i.e. came from a record.

        Nodes created only as edge endpoints (e.g. Amazon "related products" with no product
        record) are False: walk through them, but recommend only described products.
        Cached until a node or attribute is added; the result is a copy.
        """
        attrs = self._attrs[node_type]
        cached = self._described.get(node_type)
        if cached is None or cached[:2] != (self._node_version, id(attrs)):
            mask = np.fromiter((bool(a) for a in attrs), bool, len(attrs))
            cached = self._described[node_type] = (self._node_version, id(attrs), mask)
        return cached[2].copy()

    def _intern(self, node_type: str, raws: Sequence[str]) -> np.ndarray:
        """Indices of raw ids of one type, creating missing nodes (in order of appearance)."""
        found = list(map(self._index[node_type].get, raws))
        if None in found:
            for k, i in enumerate(found):
                if i is None:
                    found[k] = self._intern_one(node_type, raws[k])
        return np.array(found, dtype=np.int64)

    def _intern_one(self, node_type: str, raw: str) -> int:
        index = self._index[node_type]
        i = index.get(raw)
        if i is None:
            self._own(node_type)
            index = self._index[node_type]
            i = index[raw] = len(self._ids[node_type])
            self._ids[node_type].append(raw)
            self._attrs[node_type].append(None)
            self._node_version += 1
        return i

    # ----- edges -----
    def add_edges(
        self,
        relation_name: str,
        src: Sequence[str],
        dst: Sequence[str],
        weight: float | Sequence[float] | np.ndarray | None = None,
        ts: float | Sequence[float | None] | np.ndarray | None = None,
        **columns: Sequence[float] | np.ndarray,
    ) -> None:
        """Append edges ``src[i] -relation-> dst[i]`` (typed ids; missing nodes are created).

        ``weight`` defaults to 1 and ``ts`` to unknown (NaN); both may be scalars. Extra
        keyword columns are per-edge floats kept with the relation (e.g. ``start=[...]``).
        """
        n = len(src)
        if len(dst) != n:
            raise ValueError(f"{relation_name}: {n} sources but {len(dst)} destinations")
        relation(relation_name)
        w = np.broadcast_to(np.asarray(1.0 if weight is None else weight, np.float32), (n,))
        t = np.broadcast_to(_ts_array(ts, n), (n,))
        cols = {k: np.broadcast_to(np.asarray(v, np.float64), (n,)) for k, v in columns.items()}
        src_types, src_raws = _split_ids(src)
        dst_types, dst_raws = _split_ids(dst)
        groups: dict[tuple[str, str], list[int]] = {}
        if len(set(src_types)) == 1 and len(set(dst_types)) == 1:
            groups[(src_types[0], dst_types[0])] = list(range(n))
        else:
            for k, pair in enumerate(zip(src_types, dst_types, strict=True)):
                groups.setdefault(pair, []).append(k)
        for (stype, dtype), pos in groups.items():
            check_endpoint_types(relation_name, stype, dtype)
            take = np.asarray(pos, dtype=np.int64)
            self._append(
                stype, relation_name, dtype,
                self._intern(stype, [src_raws[k] for k in pos]),
                self._intern(dtype, [dst_raws[k] for k in pos]),
                w[take], t[take], {k: v[take] for k, v in cols.items()},
            )

    def _append(
        self,
        src_type: str,
        relation_name: str,
        dst_type: str,
        src: np.ndarray,
        dst: np.ndarray,
        weight: np.ndarray,
        ts: np.ndarray,
        columns: dict[str, np.ndarray] | None = None,
    ) -> None:
        """Append index-level edges to a block (types already checked)."""
        key = (src_type, relation_name, dst_type)
        block = self._blocks.get(key)
        if block is None:
            block = self._blocks[key] = EdgeBlock(*key)
        before = block.version
        block.append(src, dst, weight, ts, columns)
        known = ts[ts > -1e299]  # (NaN compares False)
        if len(known):
            self._latest_ts = max(self._latest_ts, float(known.max()))
        grown = block.version - before
        self._edge_version += grown
        self._relation_versions[relation_name] = (
            self._relation_versions.get(relation_name, 0) + grown)

    def edge_blocks(self, relation_name: str | None = None) -> Iterator[EdgeColumns]:
        """The consolidated edge columns of every block (of one relation if given)."""
        for key, block in self._blocks.items():
            if relation_name is None or key[1] == relation_name:
                yield block.columns()

    def edges_from(self, relation_name: str, src_type: str, sources: np.ndarray
                   ) -> Iterator[tuple[EdgeColumns, np.ndarray]]:
        """Per block of ``relation_name`` from ``src_type``: its consolidated columns and the
        positions (ascending) of its edges from ``sources`` (unique node indices), found
        through the block's source adjacency (:meth:`kg.edges.EdgeBlock.positions_of`)."""
        for key, block in self._blocks.items():
            if key[1] == relation_name and key[0] == src_type:
                yield block.columns(), block.positions_of("src", sources)

    def num_edges(self, relation_name: str | None = None) -> int:
        """Edge count of one relation, or of all."""
        return sum(
            len(b)
            for k, b in self._blocks.items()
            if relation_name is None or k[1] == relation_name
        )


def _split_ids(node_ids: Sequence[str]) -> tuple[list[str], list[str]]:
    """Types and raw ids of typed node ids; ValueError naming the first bad one."""
    parts = [x.partition(":") for x in node_ids]
    types = [p[0] for p in parts]
    raws = [p[2] for p in parts]
    if not set(types) <= set(NODE_TYPES) or "" in raws:
        for node_id in node_ids:
            split_id(node_id)  # raises with the offending id
    return types, raws


def _ts_array(ts: Any, n: int) -> np.ndarray:
    if ts is None:
        return np.full(n, np.nan)
    if np.isscalar(ts):
        return np.asarray(float(ts))
    if isinstance(ts, np.ndarray):
        return ts.astype(np.float64, copy=False)
    return np.asarray([np.nan if t is None else t for t in ts], np.float64)
