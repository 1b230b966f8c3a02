from __future__ import annotations

from kg.records import Post
from nlp.clean import canonical_key, clean_posts, normalise_text
from nlp.config import NlpConfig


def _post(i: int, text: str, author: str = "a") -> Post:
    return Post(id=str(i), author=author, text=text)


def test_normalise_unescapes_and_collapses_space():
    assert normalise_text("  Fish &amp; chips\u200b\n\tnow &quot;yum&quot; ") == (
        'Fish & chips now "yum"')
    assert normalise_text("ｉＰａｄ") == "iPad"  # NFKC folds full-width letters


def test_retweets_links_and_handles_do_not_hide_a_duplicate():
    assert canonical_key("RT @bob: Love my #iPad http://t.co/x") == canonical_key(
        "love my ipad {link}")


def test_exact_near_and_spam_are_counted_and_merged():
    base = "The new running jacket from Nike keeps me dry on every single trail run"
    posts = [
        _post(0, base, "ann"),
        _post(1, base.replace(" ", "  "), "bob"),  # exact after normalising
        _post(2, "RT @ann: " + base + " http://t.co/1", "cat"),  # near: retweet with a link
        _post(3, base + " today", "dan"),  # near: one word more
        *[_post(10 + i, "WIN a FREE iPad now click here", "spammer") for i in range(6)],
        _post(20, "Completely different words about a silk scarf", "eve"),
        _post(21, "", "fay"),
        _post(22, "", "gus"),
    ]
    result = clean_posts(posts, NlpConfig(spam_min_copies=5))
    report = result.report
    assert (report.exact, report.near_duplicate, report.spam) == (1, 2, 5)
    assert report.read == report.kept + report.merged == len(posts)
    assert [p.id for p in result.posts] == ["0", "10", "20", "21", "22"]
    assert result.merged_into == {"1": "0", "2": "0", "3": "0", **{str(i): "10" for i in
                                                                  range(11, 16)}}


def test_threshold_controls_near_duplicates():
    posts = [_post(0, "a b c d e f g h"), _post(1, "a b c d e f x y")]
    assert clean_posts(posts, NlpConfig(near_duplicate_threshold=0.3)).report.near_duplicate == 1
    assert clean_posts(posts, NlpConfig(near_duplicate_threshold=0.9)).report.near_duplicate == 0


def test_real_tweets_have_retweet_duplicates(shared_dataset):
    import csv

    path = shared_dataset("sxsw_brand_product_tweets") / (
        "judge-1377884607_tweet_product_company.csv")
    with path.open(encoding="latin-1", newline="") as handle:
        rows = [r["tweet_text"] for r in csv.DictReader(handle)][:2000]
    result = clean_posts([_post(i, t, author=f"u{i}") for i, t in enumerate(rows)])
    assert result.report.near_duplicate + result.report.exact > 100
    assert result.report.spam == 0  # every tweet has its own (anonymised) author here
    # two kept posts share a key only when both are short originals of different people
    by_key: dict[str, list[str]] = {}
    for p in result.posts:
        if p.text:
            by_key.setdefault(canonical_key(p.text), []).append(p.text)
    for key, texts in by_key.items():
        if len(texts) > 1:
            assert len(key.split()) < 8, texts
            assert not any(t.lower().startswith("rt @") for t in texts), texts


def test_short_stock_phrases_of_different_people_are_not_merged() -> None:
    from kg.records import Post
    from nlp.clean import clean_posts

    posts = [
        Post(id="1", author="ann", text="Love my new Strydon Raptor 4!"),
        Post(id="2", author="bob", text="love my new Strydon Raptor 4"),
        Post(id="3", author="ann", text="Love my new Strydon Raptor 4!!"),
        Post(id="4", author="cy", text="Honest review: the Raptor 4 strap broke after two weeks of "
                                       "light running, would not buy again"),
        Post(id="5", author="dee", text="RT @cy: Honest review: the Raptor 4 strap broke after two "
                                        "weeks of light running, would not buy again"),
    ]
    result = clean_posts(posts)
    assert result.merged_into == {"3": "1", "5": "4"}
    assert [p.id for p in result.posts] == ["1", "2", "4"]
