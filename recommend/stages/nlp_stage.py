"""The nlp stage: clean and de-duplicate posts and comments, link mentions, derive concepts.

Posts are normalised and merged (exact, near-duplicate, spam copies) before parsing; a merged
post keeps its node (nothing accepted is lost) with ``duplicate_of`` naming the kept post,
but only kept posts are parsed, so a spammer's hundred copies count once. Kept posts yield
``mentions`` edges post → product/brand/category/concept carrying ``start``/``end`` (offsets
into the cleaned text, stored on the node as ``clean_text`` where cleaning changed it) and the
``sentiment`` of their sentence (VADER, or the head ``NlpConfig.sentiment_head`` names);
product descriptions and attributes yield ``about`` edges product → concept.

The text of a ``comment`` event is cleaned and de-duplicated the same way (its commenter is its
author). A kept comment that mentions something becomes a post of its own, ``post:comment-<id>``
(``kind="comment"``, its cleaned ``text``, ``ts``), so its mentions are the commenter's:
``authored`` by the commenter, ``comments_on`` the post or product it was left on, and
``mentions`` edges like a post's (offsets into its ``text``). The id hashes the event (user,
target, ts, text), so a rebuild gives the same ids. A comment that mentions nothing adds no node:
the event's ``commented`` edge already says it was made.

Texts longer than ``NlpConfig.max_text_chars`` are parsed only up to it (spaCy refuses a text
of over a million characters and needs about 1 GB per 100,000): the manifest's
``texts_truncated`` counts them per kind, so a huge post cannot stop the build.

spaCy's matrix products run on numpy's BLAS (:mod:`nlp.pipeline`) held to one thread here: the
products are small, the build embeds the catalogue on the other core meanwhile, and a second
BLAS thread only spun. With the lemmatizer's word sets (:mod:`nlp.pipeline`), the stage's CPU
time on the size world fell from 174 s (BLIS, two threads) to 133 s (numpy's BLAS alone: 169 s).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from kg.artifact import Stage, StageResult
from kg.graph import KnowledgeGraph
from kg.reader import ReadResult
from kg.records import Event, Post
from nlp.clean import CleanReport
from nlp.config import NlpConfig

#: Comment posts' raw ids start so (``post:comment-<16 hex>``).
COMMENT_PREFIX = "comment-"


def comment_posts(events: list[Event]) -> tuple[list[Post], dict[str, Event]]:
    """Each ``comment`` event with text as a :class:`Post` by its commenter, and id -> event."""
    posts: list[Post] = []
    of: dict[str, Event] = {}
    for event in events:
        if event.kind != "comment" or not (event.text or "").strip():
            continue
        key = json.dumps([event.user, event.target_type, event.target, event.ts, event.text])
        raw = COMMENT_PREFIX + hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
        posts.append(Post(raw, event.user, event.text or "", ts=event.ts))
        of[raw] = event
    return posts, of


def _counts(report: CleanReport) -> dict[str, int]:
    return {"read": report.read, "kept": report.kept, "merged": report.merged,
            "exact": report.exact, "near_duplicate": report.near_duplicate, "spam": report.spam}


def nlp_stage(config: NlpConfig | None = None, *, progress: bool = True) -> Stage:
    """A build stage that links the posts' and comments' mentions and the products' concepts
    (``progress``: the linking bar)."""
    config = config or NlpConfig()

    def run(graph: KnowledgeGraph, result: ReadResult, root: Path, tmp: Path) -> StageResult:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):  # module doc
            return _run(graph, result)

    def _run(graph: KnowledgeGraph, result: ReadResult) -> StageResult:
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
        comments, event_of = comment_posts(result.dataset.events)
        said = clean_posts(comments, config)
        texts = [*cleaned.posts, *said.posts]
        mentions = []
        if texts:  # the linker's patterns cost ~0.7 ms of CPU a product (Ciao's 105k: 73 s)
            linker = MentionLinker.from_catalogue(products, nlp=pipeline.nlp, config=config,
                                                  concepts=concepts.names.values())
            mentions = linker.link([p.text for p in texts], [f"post:{p.id}" for p in texts],
                                   progress=progress)
        linked = _add_comment_posts(graph, said.posts, event_of,
                                    {m.source for m in mentions})
        graph.add_edges("mentions", [m.source for m in mentions], [m.target for m in mentions],
                        start=[m.start for m in mentions], end=[m.end for m in mentions],
                        sentiment=[m.sentiment for m in mentions])
        in_comments = sum(m.source in linked for m in mentions)
        limit = config.max_text_chars
        truncated = {"posts": sum(len(p.text) > limit for p in cleaned.posts),
                     "comments": sum(len(p.text) > limit for p in said.posts),
                     "products": concepts.truncated}
        return StageResult(manifest={
            "spacy": pipeline.name,
            "spacy_fallback_reason": pipeline.fallback_reason,
            "sentiment": f"head {config.sentiment_head}" if config.sentiment_head else "vader",
            "posts": _counts(cleaned.report),
            "mentions": len(mentions) - in_comments,
            "comments": {**_counts(said.report), "linked": len(linked),
                         "mentions": in_comments},
            "about_edges": len(concepts.edges),
            "texts_truncated": {**truncated, "max_chars": limit},
        })

    return run


def _add_comment_posts(graph: KnowledgeGraph, kept: list[Post], event_of: dict[str, Event],
                       sources: set[str]) -> set[str]:
    """Nodes and ``authored`` / ``comments_on`` edges of the kept comments among ``sources``."""
    linked = [p for p in kept if f"post:{p.id}" in sources]
    for post in linked:
        graph.add_node(f"post:{post.id}", text=post.text, ts=post.ts, kind="comment")
    ids = [f"post:{p.id}" for p in linked]
    ts = [p.ts for p in linked]
    graph.add_edges("authored", [f"user:{p.author}" for p in linked], ids, ts=ts)
    on = [event_of[p.id] for p in linked]
    graph.add_edges("comments_on", ids, [f"{e.target_type}:{e.target}" for e in on], ts=ts)
    return set(ids)
