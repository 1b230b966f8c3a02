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
    from recommend.hybrid.config import ContentConfig, HybridConfig
    from recommend.model_stage import STAGE_NAME, model_stage
    from recommend.stages import EnrichConfig, enrichment_stages

    stages = enrichment_stages(EnrichConfig(clip_epochs=1, profiles=profiles), progress=False)
    return [*stages, (STAGE_NAME, model_stage(HybridConfig(content=ContentConfig(encoder="lsa"))))]


@functools.cache
def _parser() -> Any:
    from scripts.cli import build_parser

    return build_parser()


def command(*argv: str) -> str:
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
    write_dataset(dataset, folder / "data")
    return build_and_serve_folder(folder / "data", folder / "art", profiles=profiles)


def build_and_serve_folder(data: Path, art: Path, *, profiles: bool = True,
                           explained_users: int | None = None) -> dict[str, Any]:
    """Build the dataset folder ``data`` into ``art`` and ask every serving question of it
    for the users and products it accepted (every product explained to the first
    ``explained_users`` users, all if None); the build's manifest (strict JSON)."""
    from kg.reader import read_dataset
    from recommend.recommender import Recommender

    manifest = build_artifact(data, art, progress=False, stages=_stages(profiles))
    json.loads((art / "manifest.json").read_text(), parse_constant=_no_constant)
    dataset = read_dataset(data, progress=False).dataset
    rec = Recommender.load(art)
    users = [u.id for u in dataset.users]
    products = [p.id for p in dataset.products]
    for n, user in enumerate(["nobody-knows-me", *users]):
        recs = rec.recommend(user, k=3)
        assert len(recs) <= min(3, len(products))
        assert all(r.item.removeprefix("product:") in products for r in recs)
        if explained_users is None or n <= explained_users:
            for item in products:
                rec.explain(user, item)
    for item in products:
        rec.similar(item, k=3)
    for user in users:
        command("profile", str(art), "--user", user, "--json")
        command("profile", str(art), "--user", user)
    command("segments", str(art))
    command("segments", str(art), "--json")
    return manifest


def strict_json(text: str) -> Any:
    """``text`` parsed as JSON; NaN or infinities fail (they are not JSON)."""
    return json.loads(text, parse_constant=_no_constant)
