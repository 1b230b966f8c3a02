"""Enrichment stages of a build: nlp, vision and profiles add edges to the built graph.

Each stage is a :data:`kg.artifact.Stage` run by :func:`kg.artifact.build_artifact` after
the graph is built and inside the atomic artifact folder, so what a stage adds lands with
the graph or not at all. Importing this package loads no model.
"""

from __future__ import annotations

from kg.artifact import Stage
from nlp.config import NlpConfig
from recommend.stages.config import EnrichConfig
from recommend.stages.nlp_stage import nlp_stage
from recommend.stages.profile_stage import profile_stage
from recommend.stages.vision_stage import vision_stage

__all__ = ["EnrichConfig", "enrichment_stages", "nlp_stage", "profile_stage", "vision_stage"]


def enrichment_stages(
    config: EnrichConfig | None = None, *, nlp: NlpConfig | None = None, progress: bool = True
) -> list[tuple[str, Stage]]:
    """The enabled stages in order: nlp (mentions feed the profiles), vision, profiles."""
    config = config or EnrichConfig()
    stages: list[tuple[str, Stage]] = []
    if config.nlp:
        stages.append(("nlp", nlp_stage(nlp, progress=progress)))
    if config.vision:
        stages.append(("vision", vision_stage(config, progress=progress)))
    if config.profiles:
        stages.append(("profiles", profile_stage(config)))
    return stages
