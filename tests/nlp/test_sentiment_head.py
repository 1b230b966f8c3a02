from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from nlp.config import NlpConfig
from nlp.embed import BF16_SUFFIX, INT8_SUFFIX, Embedder
from nlp.sentiment_data import label_from_rating, read_labelled, sentiment_view
from nlp.sentiment_head import SentimentHead

TRAIN = {
    "positive": ["love these shoes", "great jacket, so happy", "best mug ever",
                 "amazing sound quality", "really comfy and stylish", "so glad I bought it",
                 "fantastic fit, recommend", "beautiful colour, love it"],
    "negative": ["broke after a week", "terrible customer service", "worst purchase ever",
                 "the zip fell off, awful", "refund please, it is useless",
                 "cheap plastic, disappointed", "it leaks everywhere, hate it",
                 "never buying this brand again"],
    "neutral": ["arrives on tuesday", "it comes in three sizes", "the store opens at nine",
                "is this available in blue?", "ordered one yesterday", "what size should I get",
                "the box says 500 ml", "shipping to canada takes a week"],
}


@pytest.fixture(scope="module")
def fitted(st_model):
    embedder = Embedder(model=st_model)
    texts = [t for texts in TRAIN.values() for t in texts]
    labels = [label for label, texts in TRAIN.items() for _ in texts]
    return SentimentHead(c=1.0).fit(texts, labels, embedder), embedder


def test_learned_head_separates_unseen_posts(fitted):
    head, embedder = fitted
    unseen = ["I absolutely love my new jacket", "awful, it broke on day one",
              "delivery is expected on friday"]
    assert head.predict(unseen, embedder) == ["positive", "negative", "neutral"]
    scores = head.score(unseen, embedder)
    assert scores[0] > 0.3 and scores[1] < -0.3 and abs(scores[2]) < scores[0]
    assert scores[0] > 0.5 > abs(scores[2]) and scores[1] < -0.5  # band 0.5 = argmax
    with pytest.raises(ValueError, match=r"no training text labelled \['neutral'\]"):
        SentimentHead().fit(TRAIN["positive"] + TRAIN["negative"], ["positive"] * 8
                            + ["negative"] * 8, embedder)


def test_handles_and_links_do_not_change_the_features(fitted):
    head, embedder = fitted
    a, b = head.features(["RT @ann: love it #iPad {link}", "love it iPad"], embedder)
    np.testing.assert_allclose(a[:-4], b[:-4], atol=1e-6)  # same embedding; VADER sees all


def test_head_round_trips_through_npz_and_checks_the_model(fitted, tmp_path):
    head, embedder = fitted
    head.save(tmp_path / "head.npz")
    loaded = SentimentHead.load(tmp_path / "head.npz")
    texts = ["nice", "我很喜欢", ""]
    np.testing.assert_allclose(loaded.predict_proba(texts, embedder),
                               head.predict_proba(texts, embedder), rtol=1e-5)
    other = Embedder(model=embedder.model_)
    other.model_id = "another/model"
    with pytest.raises(ValueError, match="fitted on embeddings of"):
        loaded.predict(["nice"], other)
    for bf16 in (False, True):  # one model's fp32 and bfloat16 vectors are the same model's
        precision = Embedder(NlpConfig(embed_bf16=bf16), model=embedder.model_)
        precision.model_id = embedder.model_id.removesuffix(BF16_SUFFIX) + BF16_SUFFIX * bf16
        assert loaded.predict(["I absolutely love it"], precision) == ["positive"]
    int8 = Embedder(model=embedder.model_)
    int8.model_id = embedder.model_id.removesuffix(BF16_SUFFIX) + INT8_SUFFIX
    with pytest.raises(ValueError, match="fitted on embeddings of"):
        loaded.predict(["nice"], int8)
    np.savez(tmp_path / "bad.npz", format=np.asarray("something/else"))
    with pytest.raises(ValueError, match=r"not a shopgraph\.sentiment_head/2 file"):
        SentimentHead.load(tmp_path / "bad.npz")


def test_sentiment_view_drops_who_and_where():
    text = "RT @mention: Love the #iPad2! {link} https://t.co/x"
    assert sentiment_view(text) == "Love the iPad2!"
    assert sentiment_view("@united worst. flight. ever") == "worst. flight. ever"
    assert sentiment_view("mail me at a@b.com") == "mail me at a@b.com"


def test_labelled_csv_and_star_rated_jsonl(tmp_path):
    csv_path = tmp_path / "posts.csv"
    csv_path.write_text("id,text,sentiment\n1,love it,Positive\n2,,neutral\n3,meh,neutral\n")
    data = read_labelled(csv_path)
    assert data.texts == ["love it", "meh"] and data.labels == ["positive", "neutral"]
    gz = tmp_path / "reviews.jsonl.gz"
    with gzip.open(gz, "wt") as handle:
        for summary, stars in (("Five Stars", 5), ("Broke fast", 1), ("It's ok", 3.0)):
            handle.write(json.dumps({"summary": summary, "overall": stars}) + "\n")
    data = read_labelled(gz, text_field="summary", skip_texts=("five stars",))
    assert data.labels == ["negative", "neutral"]
    assert data.counts() == {"positive": 0, "negative": 1, "neutral": 1}
    assert [label_from_rating(r) for r in (1, 2, 3, 4, 5)] == [
        "negative", "negative", "neutral", "positive", "positive"]


@pytest.mark.parametrize(("content", "message"), [
    ("text,label\nfine,positive\nbad,angry\n", r"posts.csv:3: label 'angry'"),
    ("text,rating\nfine,7\n", r"posts.csv:2: bad rating '7'"),
    ("body,when\nx,y\n", r"posts.csv:2: no text and label/rating fields"),
])
def test_bad_labelled_rows_name_file_and_line(tmp_path, content, message):
    path = tmp_path / "posts.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        read_labelled(path)


def test_bad_jsonl_names_the_line(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_text('{"text": "ok", "label": "positive"}\n{oops\n')
    with pytest.raises(ValueError, match=r"posts.jsonl:2: not JSON"):
        read_labelled(path)
