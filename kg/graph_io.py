"""Saving and loading a :class:`kg.graph.KnowledgeGraph`: JSON nodes + ``.npz`` edge columns.

``graph_nodes.json`` holds the format version, the shopgraph version, per node type the raw
ids (index order) and attributes, and the list of edge blocks; ``graph_edges.npz`` holds each
block's numpy columns (``b{k}_src``, ``b{k}_dst``, ``b{k}_weight``, ``b{k}_ts``, ``b{k}_c{j}``),
loaded with ``allow_pickle=False``. A companion of :mod:`kg.graph`: it fills the store directly.
"""

from __future__ import annotations

import io
import json
import os
import warnings
from pathlib import Path

import numpy as np

from kg.atomic import atomic_write_bytes
from kg.graph import KnowledgeGraph, paused_gc
from kg.schema import NODE_TYPES
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
    with paused_gc():
        meta = json.loads((folder / NODES_FILE).read_bytes())
    if meta.get("format") != FORMAT_VERSION:
        raise ValueError(f"{folder / NODES_FILE}: graph format {meta.get('format')!r}, "
                         f"expected {FORMAT_VERSION}")
    if meta.get("shopgraph_version") != shopgraph_version():
        warnings.warn(f"{folder}: saved by shopgraph {meta.get('shopgraph_version')}, "
                      f"loading with {shopgraph_version()}", stacklevel=3)
    graph = cls()
    for t, entry in meta["nodes"].items():
        graph._ids[t] = entry["ids"]
        graph._attrs[t] = entry["attrs"]
        graph._index[t] = {raw: i for i, raw in enumerate(entry["ids"])}
    with np.load(folder / EDGES_FILE, allow_pickle=False) as data:
        for b, info in enumerate(meta["blocks"]):
            cols = {name: data[f"b{b}_c{j}"] for j, name in enumerate(info["columns"])}
            graph._append(info["src_type"], info["relation"], info["dst_type"],
                          data[f"b{b}_src"], data[f"b{b}_dst"], data[f"b{b}_weight"],
                          data[f"b{b}_ts"], cols)
    return graph
