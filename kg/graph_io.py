"""Saving and loading a :class:`kg.graph.KnowledgeGraph`: JSON nodes + ``.npz`` edge columns.

``graph_nodes.json`` holds the format version, the shopgraph version, per node type the raw
ids (index order) and attributes, and the list of edge blocks; ``graph_edges.npz`` holds each
block's numpy columns (``b{k}_src``, ``b{k}_dst``, ``b{k}_weight``, ``b{k}_ts``, ``b{k}_c{j}``),
loaded with ``allow_pickle=False``. Loading checks everything it reads (:func:`read_graph`):
the files come from disk and are untrusted. A companion of :mod:`kg.graph`: it fills the
store directly.
"""

from __future__ import annotations

import io
import json
import os
import warnings
from itertools import repeat
from pathlib import Path

import numpy as np

from kg.arrays import check_finite, check_index, load_arrays
from kg.artifact_files import ArtifactError, read_json
from kg.atomic import atomic_write_bytes
from kg.graph import KnowledgeGraph, paused_gc
from kg.memory import as_long_lived
from kg.schema import NODE_TYPES, check_endpoint_types, relation
from kg.version import shopgraph_version

NODES_FILE = "graph_nodes.json"
EDGES_FILE = "graph_edges.npz"
FORMAT_VERSION = 1


def save_graph(graph: KnowledgeGraph, folder: str | os.PathLike[str]) -> list[Path]:
    """Write ``graph_nodes.json`` + ``graph_edges.npz`` into ``folder``; the paths written.

    Each file is written atomically; wrap in :func:`kg.atomic.atomic_dir` to swap a whole
    artifact folder at once.
    """
    out = Path(folder)
    arrays: dict[str, np.ndarray] = {}
    blocks = []
    for b, c in enumerate(graph.edge_blocks()):
        blocks.append({"src_type": c.src_type, "relation": c.relation,
                       "dst_type": c.dst_type, "columns": list(c.columns)})
        for name in ("src", "dst", "weight", "ts"):
            arrays[f"b{b}_{name}"] = getattr(c, name)
        for j, values in enumerate(c.columns.values()):
            arrays[f"b{b}_c{j}"] = values
    meta = {
        "format": FORMAT_VERSION,
        "shopgraph_version": shopgraph_version(),
        "nodes": {t: {"ids": graph._ids[t], "attrs": graph._attrs[t]}
                  for t in NODE_TYPES if graph._ids[t]},
        "blocks": blocks,
    }
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write_bytes(out / EDGES_FILE, buffer.getvalue())
    # compact JSON: about half the size and time of atomic_write_json's indented form
    text = json.dumps(meta, ensure_ascii=False, separators=(",", ":"))
    atomic_write_bytes(out / NODES_FILE, text.encode("utf-8"))
    return [out / NODES_FILE, out / EDGES_FILE]


def load_graph(folder: str | os.PathLike[str],
               cls: type[KnowledgeGraph] = KnowledgeGraph) -> KnowledgeGraph:
    """Load a graph written by :func:`save_graph` (no pickle); warns on a version mismatch."""
    folder = Path(folder)
    return read_graph(folder / NODES_FILE, folder / EDGES_FILE, cls)


def read_graph(nodes_path: Path, edges_path: Path,
               cls: type[KnowledgeGraph] = KnowledgeGraph) -> KnowledgeGraph:
    """The graph in ``nodes_path`` + ``edges_path``, every part checked before it is used.

    The node file's structure (types, unique string ids, one attribute object or null per
    id, block types and relations from the schema) and each block's arrays (1-d, equal
    lengths, endpoint indices within their node types, finite weights, times and extra
    columns finite or NaN): ArtifactError naming the file and what is wrong.
    """
    with paused_gc():
        meta = read_json(nodes_path)
        as_long_lived()  # not walked by the young collections after it (kg.memory)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION:
        found = meta.get("format") if isinstance(meta, dict) else meta
        raise ArtifactError(f"{nodes_path}: graph format {found!r}, expected {FORMAT_VERSION}")
    if meta.get("shopgraph_version") != shopgraph_version():
        warnings.warn(f"{nodes_path.parent}: saved by shopgraph {meta.get('shopgraph_version')}, "
                      f"loading with {shopgraph_version()}", stacklevel=3)
    graph = cls()
    nodes, blocks = meta.get("nodes"), meta.get("blocks")
    if not isinstance(nodes, dict) or not isinstance(blocks, list):
        raise ArtifactError(f"{nodes_path}: \"nodes\" must be an object, \"blocks\" a list")
    for t, entry in nodes.items():
        graph._ids[t], graph._attrs[t], graph._index[t] = _checked_nodes(nodes_path, t, entry)
    arrays = load_arrays(edges_path, {})
    for b, info in enumerate(blocks):
        where = f"{edges_path}: block {b}"
        src_type, relation_name, dst_type, columns = _check_block(nodes_path, b, info)
        names = ["src", "dst", "weight", "ts", *(f"c{j}" for j in range(len(columns)))]
        got = {}
        for name in names:
            array = arrays.get(f"b{b}_{name}")
            if array is None or array.ndim != 1:
                raise ArtifactError(f"{where}: array b{b}_{name} missing or not 1-d")
            got[name] = array
        if len({len(a) for a in got.values()}) != 1:
            raise ArtifactError(f"{where}: arrays of unequal lengths")
        check_index(got["src"], graph.num_nodes(src_type), f"{where} src ({src_type})")
        check_index(got["dst"], graph.num_nodes(dst_type), f"{where} dst ({dst_type})")
        check_finite(got["weight"], f"{where} weight")
        for name in names[3:]:
            values = got[name]
            if values.dtype.kind != "f" or np.isinf(values).any():
                raise ArtifactError(f"{where} {name}: values must be floats, finite or NaN")
        graph._append(src_type, relation_name, dst_type, got["src"], got["dst"],
                      got["weight"], got["ts"],
                      {c: got[f"c{j}"] for j, c in enumerate(columns)})
    return graph


def _checked_nodes(path: Path, node_type: object, entry: object
                   ) -> tuple[list[str], list[dict | None], dict[str, int]]:
    """``entry``'s ids, attrs and each id's index; ArtifactError unless it holds unique
    non-empty string ids and one attrs object (or null) per id. (The checks loop in C:
    ``map`` over ``isinstance``, the index dict counting the distinct ids.)"""
    if node_type not in NODE_TYPES:
        raise ArtifactError(f"{path}: unknown node type {node_type!r}")
    ids = entry.get("ids") if isinstance(entry, dict) else None
    attrs = entry.get("attrs") if isinstance(entry, dict) else None
    if not isinstance(ids, list) or not isinstance(attrs, list) or len(ids) != len(attrs):
        raise ArtifactError(f"{path}: {node_type} nodes need lists \"ids\" and \"attrs\" of "
                            "equal length")
    strings = all(map(isinstance, ids, repeat(str)))
    index = dict(zip(ids, range(len(ids)), strict=True)) if strings else {}
    if len(index) != len(ids) or "" in index:
        raise ArtifactError(f"{path}: {node_type} ids must be unique non-empty strings")
    if not all(map(isinstance, attrs, repeat((dict, type(None))))):
        raise ArtifactError(f"{path}: {node_type} attrs must be objects or null")
    return ids, attrs, index


def _check_block(path: Path, b: int, info: object) -> tuple[str, str, str, list[str]]:
    """A block's (source type, relation, destination type, extra columns), checked."""
    if not isinstance(info, dict):
        raise ArtifactError(f"{path}: block {b} is not an object")
    src_type, rel, dst_type = (info.get(k) for k in ("src_type", "relation", "dst_type"))
    columns = info.get("columns", [])
    try:
        relation(str(rel))
        check_endpoint_types(str(rel), str(src_type), str(dst_type))
    except (KeyError, ValueError) as err:
        raise ArtifactError(f"{path}: block {b}: {err}") from None
    if not isinstance(columns, list) or not all(isinstance(c, str) and c.isidentifier()
                                                for c in columns):
        raise ArtifactError(f"{path}: block {b}: \"columns\" must be a list of names")
    return str(src_type), str(rel), str(dst_type), columns
