"""The profile stage: user profiles, segments and association rules become graph edges.

Adds ``interested_in`` (user → category/brand/concept), ``member_of`` (user → segment) and
``co_bought`` (product → product, rules with lift > 1) edges; see :mod:`recommend.profiles`.
"""

from __future__ import annotations

import math
from pathlib import Path

from kg.artifact import Stage, StageResult
from kg.graph import KnowledgeGraph
from kg.reader import ReadResult
from recommend.stages.config import EnrichConfig


def profile_stage(config: EnrichConfig) -> Stage:
    """A build stage that profiles users, segments them and mines co-purchase rules."""

    def run(graph: KnowledgeGraph, result: ReadResult, root: Path, tmp: Path) -> StageResult:
        from recommend.profiles import enrich_graph

        if graph.num_nodes("user") == 0:
            return StageResult(manifest={"skipped": "no users"})
        report = enrich_graph(graph, embeddings=config.profile_embeddings,
                              rules_min_support=config.rules_min_support,
                              rules_min_count=config.rules_min_baskets, seed=config.seed)
        seg = report.segmentation
        silhouette = None if math.isnan(seg.silhouette) else seg.silhouette  # JSON has no NaN
        manifest = {"segments": len(seg.segments), "silhouette": silhouette,
                    "rules": len(report.rules), "edges": report.edges_added}
        if seg.note:
            manifest["segments_skipped"] = seg.note
        return StageResult(manifest=manifest)

    return run
