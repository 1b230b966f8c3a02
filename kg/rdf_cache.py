"""The SPARQL store of an artifact built without one: a derived cache beside it, made once.

``shopgraph build`` no longer writes the store into the artifact by default (``--rdf-store``
still does). Measured on a 2k-user, 18k-product, 80k-post world (4.46M triples, 80% of them
the reified edge resources): the store was 325 MB of a 392 MB artifact, its write took 23 s
of the build and added about 1 GB to the build's peak memory, and nothing in serving reads
it. Pyoxigraph's ``optimize()`` made it larger (576 MB), not smaller; leaving out the edge
resources would change what a query answers (``sg:weight``, ``sg:ts``, parallel edges).
So the store is made on first use instead, from the artifact's own verified graph, with the
very triples the build would have written (:func:`kg.rdf_store.write_store`).

**Where.** In the folder ``NAME.sparql`` beside the artifact ``NAME``, written whole by
:func:`kg.atomic.atomic_dir` (locked, stamped as :data:`CACHE_KIND`, swapped in atomically;
a folder of another kind, or holding files shopgraph did not write, is never replaced).

**Trust.** The cache is as untrusted as the artifact. Its ``manifest.json`` names the
sha256 of the artifact manifest it was derived from and lists every store file with its
sha256; :class:`kg.artifact_files.ArtifactFiles` checks them (listed, regular, confined,
hashed, nothing unlisted) before RocksDB opens anything. An artifact rebuilt since has
another manifest hash, so its cache is made again: a stale store never answers.

A parent folder shopgraph cannot write into raises ``OSError``: the caller then converts
the graph as before (``shopgraph query``).
"""

from __future__ import annotations

import os
from pathlib import Path

from kg.artifact_files import MANIFEST_FILE, ArtifactError, ArtifactFiles, file_sha256, read_json
from kg.atomic import atomic_dir, atomic_write_json
from kg.rdf_store import store_folder, write_store

CACHE_KIND = "sparql-cache"
CACHE_SUFFIX = ".sparql"
CACHE_FORMAT = 1


def cache_dir(artifact: str | os.PathLike[str]) -> Path:
    """The cache folder of the artifact folder ``artifact``: ``NAME.sparql`` beside it."""
    root = Path(os.path.abspath(artifact))
    return root.with_name(root.name + CACHE_SUFFIX)


def artifact_store(files: ArtifactFiles, *, progress: bool = False) -> Path:
    """The store folder that answers for the checked artifact ``files``: its own
    ``rdf_store/`` when the build wrote one, else its cache, made now if missing or stale."""
    inside = store_folder(files)
    if inside is not None:
        return inside
    return cached_store(files, progress=progress)


def cached_store(files: ArtifactFiles, *, progress: bool = False) -> Path:
    """The checked cache store of the artifact ``files`` (module docstring); it is written
    first when missing, stale (another artifact manifest) or failing its checks."""
    source = file_sha256(files.folder / MANIFEST_FILE)
    target = cache_dir(files.folder)
    found = _checked(target, source, files.verified)
    if found is not None:
        return found
    from kg.graph_io import EDGES_FILE, NODES_FILE, read_graph

    if progress:
        print(f"shopgraph: writing the SPARQL store of {files.folder} into {target} "
              "(once per build of the artifact)", flush=True)
    graph = read_graph(files.path(NODES_FILE), files.path(EDGES_FILE))
    with atomic_dir(target, kind=CACHE_KIND, protect=[files.folder]) as tmp:
        written = write_store(graph, tmp)
        atomic_write_json(tmp / MANIFEST_FILE, {
            "format": CACHE_FORMAT, "kind": CACHE_KIND, "artifact_manifest_sha256": source,
            "rdf_store": written.manifest_entry(),
            "files": {p.relative_to(tmp).as_posix(): file_sha256(p) for p in written.files}})
    del graph
    checked = _checked(target, source, verify=True)
    if checked is None:  # replaced by another writer between the swap and this check
        raise ArtifactError(f"{target}: the SPARQL store just written does not match "
                            f"{files.folder}; run the command again")
    return checked


def _checked(target: Path, source: str, verify: bool) -> Path | None:
    """``target``'s store if its manifest names ``source`` and its files pass the gate;
    None when there is no usable cache (missing, stale, changed or planted files)."""
    manifest_path = target / MANIFEST_FILE
    if not manifest_path.is_file() or manifest_path.is_symlink():
        return None
    try:
        manifest = read_json(manifest_path)
        if not (isinstance(manifest, dict) and manifest.get("kind") == CACHE_KIND
                and manifest.get("artifact_manifest_sha256") == source):
            return None
        files = ArtifactFiles.open(target, manifest, verify=verify)
        return store_folder(files)
    except (ArtifactError, OSError):
        return None
