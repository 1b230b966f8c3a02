"""A built graph on disk: graph files, ``manifest.json`` and ``rejected.jsonl``, written atomically.

An artifact folder holds :data:`kg.graph_io.NODES_FILE` and :data:`kg.graph_io.EDGES_FILE` (the
graph), ``rejected.jsonl`` (the quarantine: ``file``, ``line``, ``reason``, ``raw`` per line)
and ``manifest.json``: per input file its sha256 and its ``read``/``accepted``/``rejected``/
``merged`` counts, nodes per type, edges per relation, the shopgraph, Python and numpy
versions, the sha256 of every file written and the seconds spent reading, building the
graph and writing (the manifest's own hash and write time are not in it). The folder is
written inside :func:`kg.atomic.atomic_dir`, so a build killed at any moment leaves the
previous artifact loadable (:func:`load_artifact` also finds ``NAME.old`` left by a crash
mid-swap), and an existing folder that is not a shopgraph artifact is refused, never
replaced (:mod:`kg.ownership`).

Loading treats the folder as untrusted input: every file goes through the
:class:`kg.artifact_files.ArtifactFiles` gate (listed, confined, regular, sha256-checked)
and the graph's contents are checked as they are read (:func:`kg.graph_io.read_graph`).

With ``rdf_store=True`` the graph's RDF triples are also written into a pyoxigraph store,
the folder :data:`kg.rdf_store.STORE_DIR` (each of its files listed and hashed like any
other), which ``shopgraph query`` and ``shopgraph rdf`` read (see :mod:`kg.rdf_store` for
why the store is verified file by file). By default it is not: the first query makes the
same store beside the artifact (:mod:`kg.rdf_cache` says why).
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import platform
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kg.artifact_files import MANIFEST_FILE, ArtifactError, ArtifactFiles, file_sha256, read_json
from kg.atomic import atomic_dir, atomic_write_json, resolve_artifact_dir
from kg.graph import KnowledgeGraph, paused_gc
from kg.memory import collect_only_new, release_memory
from kg.ownership import ARTIFACT_KIND
from kg.reader import ReadResult, Rejection
from kg.records import DATASET_FILES
from kg.relations import RELATIONS_FILE
from kg.timewindow import TimeWindow
from kg.version import shopgraph_version

REJECTED_FILE = "rejected.jsonl"
MANIFEST_FORMAT = 1


@dataclass(frozen=True, slots=True)
class Artifact:
    """A loaded artifact: its graph, manifest, folder and the gate to its other files."""

    graph: KnowledgeGraph
    manifest: dict[str, Any]
    folder: Path
    files: ArtifactFiles


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

#: Another way to read and validate a dataset folder and assemble its graph: (dataset
#: folder, time window or None, progress) -> (read result, graph). The Spark build's
#: (:mod:`sparkbuild.assemble`) validates the bulk files per partition.
Assembler = Callable[[Path, TimeWindow | None, bool], tuple[ReadResult, KnowledgeGraph]]


def build_artifact(
    dataset_dir: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    progress: bool = True,
    stages: Sequence[tuple[str, Stage]] = (),
    window: TimeWindow | None = None,
    rdf_store: bool = False,
    assemble: Assembler | None = None,
) -> dict[str, Any]:
    """Read ``dataset_dir``, build its graph and write the artifact to ``out_dir``; the manifest.

    ``relations.jsonl`` in the dataset folder, if present, adds its edges (bad lines are
    quarantined like records, :mod:`kg.relations`). ``window``: the accepted timestamps
    (default 1990 to now plus a day; the manifest's ``time_window``). ``stages`` run in
    order after the graph is built and before it is saved, each named in the manifest's
    ``stages`` with what it reported and its time. ``out_dir`` is held locked from the
    start, and refused before anything is read if replacing it could destroy a file shopgraph
    did not write, or if it is or holds the dataset folder (:func:`kg.atomic.atomic_dir`).
    ``rdf_store``: also write the graph's triples into a SPARQL store (:mod:`kg.rdf_store`,
    the manifest's ``rdf_store``); without it the first ``shopgraph query`` makes the store
    beside the artifact (:mod:`kg.rdf_cache`). ``assemble``: read and build the graph that
    way instead (the manifest's ``seconds`` then has ``assemble`` for ``read`` + ``graph``).
    """
    from kg.build import build_graph
    from kg.optional_fields import DROPPED_FILE, write_notes
    from kg.reader import dataset_file, read_dataset, write_rejections
    from kg.relations import RelationsRead, add_relations, read_relations

    start = time.perf_counter()
    root = Path(dataset_dir)
    with (collect_only_new(),
          atomic_dir(out_dir, kind=ARTIFACT_KIND, protect=[root]) as tmp):
        if assemble is None:
            with paused_gc():  # the reader makes millions of records; see paused_gc
                result = read_dataset(root, progress=progress, window=window)
            seconds = {"read": time.perf_counter() - start}
            graph = build_graph(result.dataset, progress=progress)
            seconds["graph"] = time.perf_counter() - start - seconds["read"]
        else:
            result, graph = assemble(root, window, progress)
            seconds = {"assemble": time.perf_counter() - start}
        relations = dataset_file(root, RELATIONS_FILE)
        extra = (read_relations(relations, window=result.window) if relations
                 else RelationsRead())
        add_relations(graph, extra.edges)
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
        rejections: list[Sequence[Rejection]] = [result.rejections, extra.rejections]
        stage_reports: dict[str, dict[str, Any]] = {}
        written: list[Path] = []
        for name, stage in stages:
            began = time.perf_counter()
            report = stage(graph, result, root, tmp)
            seconds[f"stage:{name}"] = time.perf_counter() - began
            stage_reports[name] = report.manifest
            rejections.append(report.rejections)
            written += report.written
            del report
            release_memory()  # what the stage dropped, before the next one's peak
        began = time.perf_counter()
        written += graph.save(tmp)
        write_rejections(tmp / REJECTED_FILE, itertools.chain.from_iterable(rejections))
        write_notes(tmp / DROPPED_FILE, result.dropped)
        written += [tmp / REJECTED_FILE, tmp / DROPPED_FILE]
        seconds["write"] = time.perf_counter() - began
        store = None
        if rdf_store:
            from kg.rdf_store import write_store

            began = time.perf_counter()
            store = write_store(graph, tmp)
            written += store.files
            seconds["rdf_store"] = time.perf_counter() - began
        seconds["total"] = time.perf_counter() - start
        manifest = _manifest(graph, root, inputs, tmp, written, seconds)
        manifest["stages"] = stage_reports
        manifest["quarantined"] = sum(map(len, rejections))
        manifest["fields_dropped"] = len(result.dropped)
        manifest["time_window"] = result.window.describe()
        if store is not None:
            manifest["rdf_store"] = store.manifest_entry()
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


def carry_files(source: Path | None, manifest: dict[str, Any], dest: Path,
                written: set[str]) -> list[Path]:
    """Copy into ``dest`` the files ``manifest`` lists for the artifact in ``source`` other
    than ``written`` ones and its own manifest and quarantine (a stage's model folder, say);
    the copies. Each copy must match its sha256 in ``manifest`` (ValueError naming it: the
    artifact changed since it was loaded). The RDF store's files are never carried: the
    saver writes the store afresh from the graph it saves. Nothing when ``source`` is None."""
    from kg.rdf_store import STORE_DIR

    if source is None:
        return []
    copies = []
    for name, digest in manifest.get("files", {}).items():
        if (name in written or name in (MANIFEST_FILE, REJECTED_FILE)
                or name.startswith(f"{STORE_DIR}/")):
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, target)
        if file_sha256(target) != digest:
            raise ValueError(f"{source / name}: sha256 differs from the manifest of the "
                             "loaded artifact (it changed since): load it again to save")
        copies.append(target)
    return copies


def load_artifact(folder: str | os.PathLike[str], *, verify: bool = True) -> Artifact:
    """Load an artifact (or ``NAME.old`` after a crash mid-swap), refusing a tampered one.

    Every file is checked through :class:`kg.artifact_files.ArtifactFiles`: listed in the
    manifest, a regular file inside the folder and (``verify``) matching its sha256; no
    unlisted file may sit beside them. The graph's arrays are checked as they are read
    (:func:`kg.graph_io.read_graph`). ``verify=False`` skips only the hashing: benchmarks.
    ArtifactError (a ValueError) names the refused file and why.
    """
    from kg.graph_io import EDGES_FILE, NODES_FILE, read_graph

    manifest, files = open_artifact(folder, verify=verify)
    graph = read_graph(files.path(NODES_FILE), files.path(EDGES_FILE))
    return Artifact(graph, manifest, files.folder, files)


def open_artifact(folder: str | os.PathLike[str], *, verify: bool = True
                  ) -> tuple[dict[str, Any], ArtifactFiles]:
    """An artifact's manifest and checked files, without reading its graph (what
    :func:`load_artifact` does first; ``shopgraph query`` needs no more)."""
    root = resolve_artifact_dir(folder)
    manifest_path = root / MANIFEST_FILE
    if not manifest_path.exists() and not manifest_path.is_symlink():
        raise FileNotFoundError(f"{manifest_path}: no manifest, not a shopgraph artifact")
    manifest = read_json(manifest_path)
    if not isinstance(manifest, dict):
        raise ArtifactError(f"{manifest_path}: not a JSON object")
    return manifest, ArtifactFiles.open(root, manifest, verify=verify)
