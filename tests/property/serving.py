"""Build a dataset with the default stages and ask every serving question of the artifact.

The stages are the defaults of ``shopgraph build`` (nlp, vision, profiles, models) with the
quick LSA content encoder; vision steps aside here because the generated datasets carry no
images. Every user (plus one the graph does not know) gets ``recommend`` and ``explain``,
every product ``similar``, every user ``shopgraph profile``, and ``shopgraph segments`` runs.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
from pathlib import Path
from typing import Any

from kg.artifact import build_artifact
from kg.jsonl import write_dataset
from kg.records import Dataset


@functools.cache
def _stages(profiles: bool = True) -> list:
    from recommend.hybrid.config import HybridConfig
    from recommend.model_stage import STAGE_NAME, model_stage
    from recommend.stages import EnrichConfig, enrichment_stages

    stages = enrichment_stages(EnrichConfig(clip_epochs=1, profiles=profiles), progress=False)
    return [*stages, (STAGE_NAME, model_stage(HybridConfig(content_encoder="lsa")))]


@functools.cache
def _parser() -> Any:
    from scripts.cli import build_parser

    return build_parser()


def _command(*argv: str) -> str:
    """Run a ``shopgraph`` sub-command's function (exceptions propagate); its output."""
    args = _parser().parse_args(list(argv))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert args.func(args) == 0
    return out.getvalue()


def _no_constant(name: str) -> None:
    raise ValueError(f"manifest.json holds {name}, which is not JSON")


def build_and_serve(dataset: Dataset, folder: Path, *, profiles: bool = True) -> dict[str, Any]:
    """Write, build (``profiles``: with the profile stage) and serve ``dataset`` under
    ``folder``; the build's manifest."""
    from recommend.recommender import Recommender

    write_dataset(dataset, folder / "data")
    art = folder / "art"
    manifest = build_artifact(folder / "data", art, progress=False, stages=_stages(profiles))
    json.loads((art / "manifest.json").read_text(), parse_constant=_no_constant)
    rec = Recommender.load(art)
    users = [u.id for u in dataset.users]
    products = [p.id for p in dataset.products]
    for user in [*users, "nobody-knows-me"]:
        recs = rec.recommend(user, k=3)
        assert len(recs) <= min(3, len(products))
        assert all(r.item.removeprefix("product:") in products for r in recs)
        for item in products:
            rec.explain(user, item)
    for item in products:
        rec.similar(item, k=3)
    for user in users:
        _command("profile", str(art), "--user", user, "--json")
        _command("profile", str(art), "--user", user)
    _command("segments", str(art))
    _command("segments", str(art), "--json")
    return manifest
