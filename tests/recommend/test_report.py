"""The HTML page of recommendations: every item, its parts, its path sentences and pictures."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from recommend import Recommender
from recommend.report import recommendations_page, write_report

VOID = {"meta", "img", "br"}


@pytest.fixture
def artifact(small_demo_artifact):
    return small_demo_artifact


class _Balance(HTMLParser):
    """Checks that every opened element is closed in order; collects img sources."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        elif tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, f"unbalanced </{tag}>"


def test_page_shows_every_item_its_sentences_and_a_picture_of_its_paths(artifact) -> None:
    rec = Recommender.load(artifact)
    user = "user:u0001"
    recs = rec.recommend(user, k=3)
    page = recommendations_page(rec, {u: rec.recommend(u, k=3) for u in (user, "user:stranger")})
    parser = _Balance()
    parser.feed(page)
    assert parser.stack == []
    for r in recs:
        assert r.item in page
        for p in r.paths:
            assert p.text.replace("'", "&#x27;").replace('"', "&quot;") in page
    explained = [r for r in recs if r.paths]
    assert explained and len(parser.images) == len(explained)
    for src in parser.images:
        svg = base64.b64decode(src.removeprefix("data:image/svg+xml;base64,"))
        assert ET.fromstring(svg).tag.endswith("svg")
    assert "cold start" in page  # the unknown user's section says why
    assert len(re.findall(r'class="card"', page)) == 3 + len(rec.recommend("stranger", k=3))


def test_graph_text_is_escaped(artifact) -> None:
    rec = Recommender.load(artifact)
    first = rec.recommend("u0001", k=1)[0].item
    rec.graph.add_node(first, title='<script>alert("x")</script>')
    page = recommendations_page(rec, {"u0001": rec.recommend("u0001", k=1)}, pictures=False)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_write_report_is_atomic(artifact, tmp_path) -> None:
    rec = Recommender.load(artifact)
    out = write_report(rec, {"u0002": rec.recommend("u0002", k=2)}, tmp_path / "why.html",
                       pictures=False)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["why.html"]
