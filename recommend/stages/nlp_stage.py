"""The nlp stage: clean and de-duplicate posts, link mentions, derive product concepts.

Posts are normalised and merged (exact, near-duplicate, spam copies) before parsing; a merged
post keeps its node (nothing accepted is lost) with ``duplicate_of`` naming the kept post,
but only kept posts are parsed, so a spammer's hundred copies count once. Kept posts yield
``mentions`` edges post → product/brand/category/concept carrying ``start``/``end`` (offsets
into the cleaned text, stored on the node as ``clean_text`` where cleaning changed it) and
VADER ``sentiment``; product descriptions and attributes yield ``about`` edges
product → concept. Comment texts are not linked yet: a comment's mention is the commenter's,
and the graph has no comment nodes to hang it on.
"""

from __future__ import annotations

from pathlib import Path

from kg.artifact import Stage, StageResult
from kg.graph import KnowledgeGraph
from kg.reader import ReadResult
from nlp.config import NlpConfig


def nlp_stage(config: NlpConfig | None = None) -> Stage:
    """A build stage that links the posts' mentions and the products' concepts."""
    config = config or NlpConfig()

    def run(graph: KnowledgeGraph, result: ReadResult, root: Path, tmp: Path) -> StageResult:
        from nlp.clean import clean_posts
        from nlp.concepts import product_concepts
        from nlp.linker import MentionLinker
        from nlp.pipeline import load_pipeline

        products, posts = result.dataset.products, result.dataset.posts
        if not products:
            return StageResult(manifest={"skipped": "no products to link to"})
        pipeline = load_pipeline(config)
        concepts = product_concepts(products, nlp=pipeline.nlp, config=config)
        graph.add_edges("about", [e.product for e in concepts.edges],
                        [e.concept for e in concepts.edges],
                        weight=[e.weight for e in concepts.edges])
        for concept, name in concepts.names.items():
            graph.add_node(concept, name=name)

        cleaned = clean_posts(posts, config)
        originals = {p.id: p.text for p in posts}
        for post in cleaned.posts:
            if post.text != originals[post.id]:
                graph.add_node(f"post:{post.id}", clean_text=post.text)
        for dup, kept in cleaned.merged_into.items():
            graph.add_node(f"post:{dup}", duplicate_of=f"post:{kept}")
        linker = MentionLinker.from_catalogue(products, nlp=pipeline.nlp, config=config,
                                              concepts=concepts.names.values())
        mentions = linker.link([p.text for p in cleaned.posts],
                               [f"post:{p.id}" for p in cleaned.posts])
        graph.add_edges("mentions", [m.source for m in mentions], [m.target for m in mentions],
                        start=[m.start for m in mentions], end=[m.end for m in mentions],
                        sentiment=[m.sentiment for m in mentions])
        report = cleaned.report
        return StageResult(manifest={
            "spacy": pipeline.name,
            "spacy_fallback_reason": pipeline.fallback_reason,
            "posts": {"read": report.read, "kept": report.kept, "merged": report.merged,
                      "exact": report.exact, "near_duplicate": report.near_duplicate,
                      "spam": report.spam},
            "mentions": len(mentions),
            "about_edges": len(concepts.edges),
        })

    return run
