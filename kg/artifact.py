"""A built graph on disk: graph files, ``manifest.json`` and ``rejected.jsonl``, written atomically.

An artifact folder holds :data:`kg.graph_io.NODES_FILE` and :data:`kg.graph_io.EDGES_FILE` (the
graph), ``rejected.jsonl`` (the quarantine: ``file``, ``line``, ``reason``, ``raw`` per line)
and ``manifest.json``: per input file its sha256 and its ``read``/``accepted``/``rejected``/
``merged`` counts, nodes per type, edges per relation, the shopgraph, Python and numpy
versions, the sha256 of every file written and the seconds spent reading, building the
graph and writing (the manifest's own hash and write time are not in it). The folder is
written inside :func:`kg.atomic.atomic_dir`, so a build killed at any moment leaves the
previous artifact loadable (:func:`load_artifact` also finds ``NAME.old`` left by a crash
mid-swap).

The RDF form is not cached in the artifact: ``shopgraph query`` derives it from the loaded
graph, which is no slower than parsing a stored N-Triples file and cannot go stale.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kg.atomic import atomic_dir, atomic_write_json, resolve_artifact_dir
from kg.graph import KnowledgeGraph, paused_gc
from kg.reader import ReadResult, Rejection
from kg.records import DATASET_FILES
from kg.relations import RELATIONS_FILE
from kg.timewindow import TimeWindow
from kg.version import shopgraph_version

MANIFEST_FILE = "manifest.json"
REJECTED_FILE = "rejected.jsonl"
MANIFEST_FORMAT = 1


@dataclass(frozen=True, slots=True)
class Artifact:
    """A loaded artifact: its graph, manifest and folder."""

    graph: KnowledgeGraph
    manifest: dict[str, Any]
    folder: Path


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class StageResult:
    """What a post-graph stage reports: manifest entries, quarantined items, files it wrote.

    A stage's rejections that are not lines of a record file (an image, say) use ``line=0``.
    """

    manifest: dict[str, Any] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)


#: A stage after the graph is built: (graph, read result, dataset folder, artifact temp folder).
#: It may add edges to the graph and write files into the temp folder; all of it lands
#: atomically with the graph. kg defines the hook; enrichment and models live above kg.
Stage = Callable[[KnowledgeGraph, ReadResult, Path, Path], StageResult]


def build_artifact(
    dataset_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    progress: bool = True,
    stages: Sequence[tuple[str, Stage]] = (),
    window: TimeWindow | None = None,
) -> dict[str, Any]:
    """Read ``dataset_dir``, build its graph and write the artifact to ``out_dir``; the manifest.

    ``relations.jsonl`` in the dataset folder, if present, adds its edges (bad lines are
    quarantined like records, :mod:`kg.relations`). ``window``: the accepted timestamps
    (default 1990 to now plus a day; the manifest's ``time_window``). ``stages`` run in
    order after the graph is built and before it is saved, each named in the manifest's
    ``stages`` with what it reported and its time.
    """
    from kg.build import build_graph
    from kg.reader import dataset_file, read_dataset, write_rejections
    from kg.relations import RelationsRead, add_relations, read_relations

    start = time.perf_counter()
    root = Path(dataset_dir)
    with paused_gc():  # the reader makes millions of records; see paused_gc
        result = read_dataset(root, progress=progress, window=window)
    relations = dataset_file(root, RELATIONS_FILE)
    extra = read_relations(relations, window=result.window) if relations else RelationsRead()
    seconds = {"read": time.perf_counter() - start}
    graph = build_graph(result.dataset, progress=progress)
    add_relations(graph, extra.edges)
    seconds["graph"] = time.perf_counter() - start - seconds["read"]
    inputs: dict[str, dict[str, Any]] = {}
    for name, _ in DATASET_FILES:
        if (root / name).is_file():
            inputs[name] = {
                "sha256": file_sha256(root / name),
                **dataclasses.asdict(result.counts[name]),
            }
    if relations:
        inputs[RELATIONS_FILE] = {"sha256": file_sha256(relations),
                                  **dataclasses.asdict(extra.counts)}
    with atomic_dir(out_dir) as tmp:
        rejections = list(result.rejections) + extra.rejections
        stage_reports: dict[str, dict[str, Any]] = {}
        written: list[Path] = []
        for name, stage in stages:
            began = time.perf_counter()
            report = stage(graph, result, root, tmp)
            seconds[f"stage:{name}"] = time.perf_counter() - began
            stage_reports[name] = report.manifest
            rejections += report.rejections
            written += report.written
        began = time.perf_counter()
        written += graph.save(tmp)
        write_rejections(tmp / REJECTED_FILE, rejections)
        written.append(tmp / REJECTED_FILE)
        seconds["write"] = time.perf_counter() - began
        seconds["total"] = time.perf_counter() - start
        manifest = _manifest(graph, root, inputs, tmp, written, seconds)
        manifest["stages"] = stage_reports
        manifest["quarantined"] = len(rejections)
        manifest["time_window"] = result.window.describe()
        atomic_write_json(tmp / MANIFEST_FILE, manifest)
    return manifest


def _manifest(
    graph: KnowledgeGraph,
    root: Path,
    inputs: dict[str, dict[str, Any]],
    folder: Path,
    written: list[Path],
    seconds: dict[str, float],
) -> dict[str, Any]:
    summary = graph.summary()
    totals = {
        k: sum(v.get(k, 0) for v in inputs.values())
        for k in ("read", "accepted", "rejected", "merged")
    }
    return {
        "format": MANIFEST_FORMAT,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "dataset": str(root.resolve()),
        "versions": {
            "shopgraph": shopgraph_version(),
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
        "inputs": inputs,
        "records": totals,
        "nodes": summary.nodes,
        "edges": summary.edges,
        "files": {p.relative_to(folder).as_posix(): file_sha256(p) for p in written},
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
    }


def load_artifact(folder: str | os.PathLike[str], *, verify: bool = True) -> Artifact:
    """Load an artifact (or ``NAME.old`` after a crash mid-swap).

    With ``verify`` every file listed in the manifest must match its sha256 (ValueError).
    """
    root = resolve_artifact_dir(folder)
    manifest_path = root / MANIFEST_FILE
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{manifest_path}: no manifest, not a shopgraph artifact")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if verify:
        for name, digest in manifest["files"].items():
            if file_sha256(root / name) != digest:
                raise ValueError(f"{root / name}: sha256 differs from {manifest_path}")
    return Artifact(KnowledgeGraph.load(root), manifest, root)
