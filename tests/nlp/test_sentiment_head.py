from __future__ import annotations

import numpy as np
import pytest

from nlp.embed import Embedder
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
    return SentimentHead().fit(texts, labels, embedder), embedder


def test_learned_head_separates_unseen_posts(fitted):
    head, embedder = fitted
    unseen = ["I absolutely love my new jacket", "awful, it broke on day one",
              "delivery is expected on friday"]
    assert head.predict(unseen, embedder) == ["positive", "negative", "neutral"]
    scores = head.score(unseen, embedder)
    assert scores[0] > 0.3 and scores[1] < -0.3 and abs(scores[2]) < scores[0]


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
