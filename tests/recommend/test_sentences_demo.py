"""Every sentence of a demo world reads as words: no id, no relation name, no "group N"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kg.schema import RELATIONS
from recommend.paths.privacy import AGGREGATES
from recommend.paths.wording import when

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    """A demo world built with the nlp and profiles stages (segments, comments, mentions)."""
    from kg.artifact import build_artifact
    from kg.demo import DemoConfig, generate_demo_world
    from recommend.hybrid.config import ContentConfig, HybridConfig
    from recommend.model_stage import model_stage
    from recommend.recommender import Recommender
    from recommend.stages import EnrichConfig, enrichment_stages

    root: Path = tmp_path_factory.mktemp("sentences-demo")
    generate_demo_world(root / "data", DemoConfig(n_users=120, n_products=80, n_posts=300,
                                                  images=False))
    stages = enrichment_stages(EnrichConfig(vision=False), progress=False)
    build_artifact(root / "data", root / "art", progress=False,
                   stages=[*stages, ("models", model_stage(
                       HybridConfig(content=ContentConfig(encoder="lsa"))))])
    return Recommender.load(root / "art")


RELATION_NAMES = sorted({*RELATIONS, *AGGREGATES})
TYPED_ID = re.compile(r"\b(user|product|post|segment|brand|category|concept|image):")


def test_no_sentence_shows_an_id_a_relation_name_or_a_group_number(demo) -> None:
    g = demo.graph
    segments = g.nodes("segment")
    assert any(n.startswith("segment:cluster-") for n in segments)
    sentences = dated = members = 0
    for user in g.nodes("user"):
        for r in demo.recommend(user, 10):
            for p in r.paths:
                sentences += 1
                text = p.text
                assert not TYPED_ID.search(text), text
                assert not re.search(r"\bgroups? \d+|cluster", text, re.I), text
                assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), text  # snake_case names
                for rel in RELATION_NAMES:
                    if "_" in rel:
                        assert rel not in text, text
                for node in p.nodes:
                    kind, _, raw = node.partition(":")
                    if kind in ("user", "product", "post", "segment", "image"):
                        assert not re.search(rf"\b{re.escape(raw)}\b", text, re.I), text
                dated += any(w in text for w in ("ago", "last ", "today", "yesterday"))
                members += " of them " in text
    assert sentences >= 10 * g.num_nodes("user")
    assert dated > 0 and members > 0


@pytest.mark.parametrize(("days", "words"), [
    (0.5, "today"), (1.5, "yesterday"), (3, "3 days ago"), (8, "last week"),
    (20, "2 weeks ago"), (40, "last month"), (100, "3 months ago"), (500, "last year"),
    (1200, "3 years ago"), (-2, "today")])
def test_times_in_words(days: float, words: str) -> None:
    assert when(0.0, now=days * 86_400) == words


def test_a_request_s_kept_dates_and_names_say_the_same(demo) -> None:
    """render_path given the user's acts and a names memo shared across paths (as a request
    renders them) says what it says reading the graph for each path."""
    from recommend.paths.quality import user_interactions
    from recommend.paths.sentences import render_path

    g = demo.graph
    compared = dated = 0
    for user in g.nodes("user"):
        acts, known = user_interactions(g, user), {}
        for r in demo.recommend(user, 10):
            for p in r.paths:
                kols = demo.influencers(p.component)
                alone = render_path(g, p.nodes, p.edges, influencers=kols)
                assert render_path(g, p.nodes, p.edges, influencers=kols, acts=acts,
                                   known=known) == alone
                compared += 1
                dated += alone.split(";")[0].endswith(("ago", "week", "today", "yesterday"))
    assert compared > 500 and dated > 50 and known
