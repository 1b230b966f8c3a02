"""A name put in front of a shopper (sentence, HTML report, CLI text) is capped, holds no
control character and no bidi override, whatever the data stored: a 20k-character title, a
newline or a terminal escape in it, or U+202E reordering the sentence around it."""

from __future__ import annotations

import re

import pytest

from kg.graph import KnowledgeGraph
from recommend.paths.sentences import node_name, render_path
from recommend.shown import MAX_SHOWN, shown_name

HOSTILE = "Mug\n\x1b[2J\u202eevil\u2066 " + "long " * 4_000
BAD = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _shop(title: str) -> KnowledgeGraph:
    g = KnowledgeGraph()
    g.add_node("user:1", name="Ann\u202e", attributes={"handle": "ann\u202ex\x07"})
    g.add_node("product:A", title=title)
    g.add_node("product:B", title="Camp Kettle")
    g.add_edges("purchased", ["user:1"] + [f"user:{k}" for k in range(2, 8)] * 2,
                ["product:A"] + ["product:A"] * 6 + ["product:B"] * 6)
    return g


def test_a_hostile_title_is_capped_and_cleaned_in_a_sentence() -> None:
    g = _shop(HOSTILE)
    text = render_path(g, ("user:1", "product:A", "product:B"),
                       (("user:1", "purchased", "product:A"),
                        ("product:A", "co_purchased", "product:B")))
    assert not BAD.search(text), repr(text[:200])
    assert len(text) < 2 * MAX_SHOWN + 80
    assert text.startswith("You bought Mug [2Jevil long long") and "…;" in text
    assert text.endswith("also bought Camp Kettle")
    assert len(g.node_attrs("product:A")["title"]) == len(HOSTILE)  # the graph keeps it whole


def test_a_handle_cannot_reorder_the_sentence() -> None:
    assert node_name(_shop("Mug"), "user:1") == "@annx"


@pytest.mark.parametrize("text", ["Trail Mug", "🔥 Mug", "\u05d0\u05d1 Mug", "a\u0301",
                                  "👨\u200d👩\u200d👧", "x" * MAX_SHOWN])
def test_a_plain_name_is_shown_as_it_is(text: str) -> None:
    assert shown_name(text) == text


def test_a_cut_keeps_a_letter_with_its_accent_and_an_emoji_whole() -> None:
    for tail in ("e\u0301", "👨\u200d👩\u200d👧", "👍\U0001f3fd"):
        shown = shown_name("x" * (MAX_SHOWN - 2) + tail + "rest")
        assert shown == "x" * (MAX_SHOWN - 2) + "…"


def test_the_html_report_shows_the_capped_name() -> None:
    from types import SimpleNamespace

    from recommend.report import recommendations_page
    from recommend.results import Recommendation

    g = _shop(HOSTILE)
    rec = SimpleNamespace(graph=g, user_id=lambda u: u, influencers=lambda: frozenset())
    page = recommendations_page(rec, {"user:1": [Recommendation("product:A", 1.0, {})]},
                                pictures=False)
    assert not BAD.search(page.replace("\n", ""))
    assert "Mug [2Jevil long" in page and "long " * 100 not in page


def test_a_picture_of_names_in_scripts_the_fonts_lack_warns_nothing() -> None:
    """A title of emoji or CJK draws (as boxes where the fonts lack them) without printing
    matplotlib's "Glyph missing from font" warning on the shopper's terminal."""
    import warnings

    from recommend.paths.drawing import paths_figure
    from recommend.results import ExplainedPath

    g = _shop("🔥🫨 连衣裙 " + "long " * 50)
    path = ExplainedPath(("user:1", "product:A"), (("user:1", "purchased", "product:A"),),
                         "You bought it")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        svg = paths_figure([path], "svg", graph=g)
    assert svg.startswith(b"<?xml") and not [str(w.message) for w in caught]


def test_a_run_of_spaces_is_shown_as_one() -> None:
    """A title whose words were blank ("🔥🔥  😀 serum") reads with single spaces; the name is
    kept whole in the graph."""
    assert shown_name("🔥🔥  😀 serum") == "🔥🔥 😀 serum"
    assert shown_name("mug \u2002\u00a0 red") == "mug red"
    assert shown_name("10\u00a0ml") == "10\u00a0ml"  # one space of any kind stays as it is
