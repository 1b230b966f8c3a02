"""Writing a served state as an artifact folder, with everything the loaded artifact had.

The graph and the models write their own files; the loaded artifact's other files that its
manifest lists (a vision stage's ``clip/`` model and ``image_embeddings.npz``, say) are
copied over and checked against that manifest (:func:`kg.artifact.carry_files`), so the
manifest's stages stay true; the SPARQL store, if the artifact had one, is written afresh
from the saved graph (:mod:`kg.rdf_store`), which :meth:`recommend.Recommender.add` may
have changed since, unless ``rdf_store=False`` (the server's snapshots: it exposes no
SPARQL, and on ML-100K the store is ~15 s of a snapshot's ~16; the saved artifact is then
one without a store, as ``shopgraph build`` makes by default). The quarantine is the
loaded one plus the rejections of :meth:`recommend.Recommender.add` since. The content index,
which events never change, is hard-linked from the folder that holds it already, with its
recorded sha256 (:mod:`recommend.stored_files`), rather than written and hashed again.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kg.reader import Rejection
    from recommend.hybrid.model import HybridModel


def save_artifact(model: HybridModel, folder: str | os.PathLike[str], *,
                  manifest: dict[str, Any], source: Path | None,
                  quarantine: Sequence[Rejection], rdf_store: bool = True) -> dict[str, Any]:
    """Write ``model`` (its graph included) to ``folder`` atomically; the new manifest.

    ``manifest`` and ``source`` are the loaded artifact's (None: nothing to carry over),
    ``quarantine`` what was rejected since it was loaded; ``rdf_store=False`` writes no
    SPARQL store even if the artifact had one (module doc).
    """
    from kg.artifact import MANIFEST_FILE, REJECTED_FILE, carry_files, file_sha256
    from kg.atomic import atomic_dir, atomic_write_bytes, atomic_write_json
    from kg.ownership import ARTIFACT_KIND, absolute
    from kg.reader import rejection_lines
    from recommend.hybrid.content_component import ContentComponent

    content = model.components.get("content")
    content = content if isinstance(content, ContentComponent) else None
    stored = None if content is None else content.stored_

    def sha256(path: Path) -> str:
        known = None if stored is None else stored.digest(path)
        return file_sha256(path) if known is None else known

    with atomic_dir(folder, kind=ARTIFACT_KIND) as tmp:
        written = list(model.graph.save(tmp)) + model.save(tmp)
        store = None
        if rdf_store and "rdf_store" in manifest:  # rewritten from the saved graph
            from kg.rdf_store import write_store

            store = write_store(model.graph, tmp)
            written += store.files
        written += carry_files(source, manifest, tmp,
                               {p.relative_to(tmp).as_posix() for p in written})
        old = None if source is None else source / REJECTED_FILE
        data = old.read_bytes() if old is not None and old.is_file() else b""
        atomic_write_bytes(tmp / REJECTED_FILE, data + rejection_lines(quarantine))
        written.append(tmp / REJECTED_FILE)
        summary = model.graph.summary()
        saved = {**{k: v for k, v in manifest.items() if k != "rdf_store"},
                 "nodes": summary.nodes, "edges": summary.edges,
                 "saved": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 "files": {p.relative_to(tmp).as_posix(): sha256(p) for p in written}}
        if store is not None:
            saved["rdf_store"] = store.manifest_entry()
        if quarantine:
            saved["quarantined"] = manifest.get("quarantined", 0) + len(quarantine)
        atomic_write_json(tmp / MANIFEST_FILE, saved)
    if content is not None:  # the next save may link what this one wrote or linked
        content.stored_in(absolute(folder), saved["files"])
    return saved
