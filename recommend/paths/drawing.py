"""A picture (SVG or PNG) of a user's explanation paths: nodes coloured by type, edges labelled.

Nodes are laid out in columns by hop (the user on the left, the item on the right), one row
per path; a node shared by several paths is drawn once. Written atomically.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Collection, Sequence
from pathlib import Path as FilePath
from typing import TYPE_CHECKING, Protocol

from kg.atomic import atomic_write_bytes

if TYPE_CHECKING:
    from kg.graph import KnowledgeGraph


class PathLike(Protocol):
    """Anything with typed ``nodes`` and stored ``(src, relation, dst)`` ``edges``."""

    @property
    def nodes(self) -> tuple[str, ...]: ...
    @property
    def edges(self) -> tuple[tuple[str, str, str], ...]: ...

__all__ = ["TYPE_COLOURS", "PathLike", "draw_paths", "paths_figure"]

TYPE_COLOURS: dict[str, str] = {
    "user": "#4C72B0", "product": "#DD8452", "brand": "#55A868", "category": "#C44E52",
    "post": "#8172B3", "image": "#937860", "concept": "#DA8BC3", "segment": "#8C8C8C",
}


def draw_paths(
    paths: Sequence[PathLike],
    out: str | os.PathLike[str],
    *,
    graph: KnowledgeGraph | None = None,
    title: str | None = None,
    influencers: Collection[str] = (),
) -> FilePath:
    """Draw ``paths`` to ``out`` (format from its suffix: .svg or .png); the path written.

    With ``graph``, nodes are labelled with readable names instead of ids.
    """
    target = FilePath(out)
    fmt = target.suffix.lower().lstrip(".")
    if fmt not in ("svg", "png"):
        raise ValueError(f"{target}: draw_paths writes .svg or .png, not {target.suffix!r}")
    atomic_write_bytes(target, paths_figure(paths, fmt, graph=graph, title=title,
                                            influencers=influencers))
    return target


def paths_figure(
    paths: Sequence[PathLike],
    fmt: str,
    *,
    graph: KnowledgeGraph | None = None,
    title: str | None = None,
    influencers: Collection[str] = (),
) -> bytes:
    """The picture of ``paths`` as ``fmt`` ("svg" or "png") bytes (see :func:`draw_paths`)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import networkx as nx

    from recommend.paths.sentences import node_name

    if fmt not in ("svg", "png"):
        raise ValueError(f"paths_figure draws svg or png, not {fmt!r}")
    if not paths:
        raise ValueError("draw_paths: no path to draw")
    g = nx.MultiDiGraph()
    pos: dict[str, tuple[float, float]] = {}
    width = max(len(p.edges) for p in paths)
    for row, p in enumerate(paths):
        for t, node in enumerate(p.nodes):
            x = 0.0 if t == 0 else width if t == len(p.nodes) - 1 else float(t)
            pos.setdefault(node, (x, 0.0 if t in (0, len(p.nodes) - 1) else -float(row)))
            g.add_node(node)
        for src, rel, dst in p.edges:
            g.add_edge(src, dst, label=rel)
    labels = {
        n: _wrap(node_name(graph, n, influencers=influencers) if graph is not None else n)
        for n in g.nodes
    }
    colours = [TYPE_COLOURS.get(n.partition(":")[0], "#cccccc") for n in g.nodes]
    fig, ax = plt.subplots(figsize=(3.2 * (width + 1), 1.8 * (len(paths) + 1)))
    try:
        nx.draw_networkx_nodes(g, pos, ax=ax, node_color=colours, node_size=900, alpha=0.9)
        for node, (x, y) in pos.items():  # names under their nodes, a fixed distance away
            ax.annotate(labels[node], (x, y), xytext=(0, -19), textcoords="offset points",
                        ha="center", va="top", fontsize=8)
        nx.draw_networkx_edges(g, pos, ax=ax, arrows=True, arrowsize=14, node_size=900)
        edge_labels = {(u, v): d["label"] for u, v, d in g.edges(data=True)}
        nx.draw_networkx_edge_labels(g, pos, edge_labels=edge_labels, ax=ax, font_size=7)
        for kind, colour in TYPE_COLOURS.items():
            if any(n.startswith(kind + ":") for n in g.nodes):
                ax.scatter([], [], c=colour, label=kind)
        ax.legend(loc="lower right", fontsize=7, frameon=False)
        if title:
            ax.set_title(title, fontsize=9)
        ax.axis("off")
        ax.margins(0.15)
        buf = io.BytesIO()
        with warnings.catch_warnings():  # a name in a script or emoji the fonts lack: boxes,
            warnings.filterwarnings("ignore", "Glyph .* missing from", UserWarning)  # not noise
            fig.savefig(buf, format=fmt, bbox_inches="tight")
    finally:
        plt.close(fig)
    return buf.getvalue()


def _wrap(text: str, width: int = 18) -> str:
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + len(w) + 1 > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "\n".join(lines)
