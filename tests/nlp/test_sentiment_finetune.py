from __future__ import annotations

import json

import numpy as np
import pytest

from nlp.sentiment_finetune import FineTuneConfig, FineTunedSentiment, fine_tune

WORDS = ["love", "great", "happy", "hate", "awful", "broken", "box", "tuesday", "size",
         "the", "it", "is", "a"]
TEXTS = {"positive": ["love it", "great", "happy happy", "it is great", "love the box"],
         "negative": ["hate it", "awful", "broken", "it is awful", "hate the box"],
         "neutral": ["the box", "tuesday", "a size", "it is tuesday", "the size"]}


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory):
    """A randomly initialised two-layer BERT with a 20-word vocabulary, saved as a folder."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]) + "\n")
    torch.manual_seed(0)
    config = BertConfig(vocab_size=5 + len(WORDS), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=32)
    BertModel(config).save_pretrained(folder, safe_serialization=True)
    BertTokenizerFast(vocab=str(vocab)).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tuned(tiny_bert):
    texts = [t for group in TEXTS.values() for t in group] * 2
    labels = [label for label, group in TEXTS.items() for _ in group] * 2
    config = FineTuneConfig(epochs=20, batch_size=15, lr=3e-3, head_lr=3e-2, max_len=16)
    lines: list[str] = []
    model, stats = fine_tune(texts, labels, tiny_bert, config, log=lines.append)
    return model, stats, lines


def test_fine_tuning_learns_the_toy_task(tuned):
    model, stats, lines = tuned
    assert stats["texts"] == 30 and stats["steps"] == 40 and lines[-1].startswith("step 40/40")
    assert model.predict(["love it", "hate it", "tuesday"]) == ["positive", "negative", "neutral"]
    scores = model.score(["@ann great {link}", "awful", "the size"])
    assert scores[0] > 0.5 and scores[1] < -0.5 and abs(scores[2]) < 0.5
    proba = model.predict_proba(["love it"] * 3 + ["the box"] * 20)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert model.predict_proba([]).shape == (0, 3)


def test_round_trip_through_a_safetensors_folder(tuned, tmp_path):
    model, _, _ = tuned
    model.save(tmp_path / "ft")
    files = {p.name for p in (tmp_path / "ft").rglob("*")}
    assert {"sentiment.json", "classifier.safetensors", "model.safetensors"} <= files
    assert not any(name.endswith((".bin", ".pkl", ".pt")) for name in files)
    loaded = FineTunedSentiment.load(tmp_path / "ft")
    texts = ["love the box", "broken", "我很喜欢", ""]
    np.testing.assert_allclose(loaded.predict_proba(texts), model.predict_proba(texts),
                               atol=1e-5)
    assert loaded.classes_ == model.classes_ and loaded.max_len == 16


def test_bad_folders_and_labels_are_named(tuned, tiny_bert, tmp_path):
    with pytest.raises(ValueError, match=r"no readable sentiment\.json"):
        FineTunedSentiment.load(tiny_bert)
    (tmp_path / "sentiment.json").write_text(json.dumps({"format": "other/1"}))
    with pytest.raises(ValueError, match=r"not a shopgraph\.sentiment_finetuned/1 folder"):
        FineTunedSentiment.load(tmp_path)
    with pytest.raises(ValueError, match=r"no training text labelled \['neutral'\]"):
        fine_tune(["good", "bad"], ["positive", "negative"], tiny_bert)
    with pytest.raises(ValueError, match="3 texts but 2 labels"):
        fine_tune(["a", "b", "c"], ["positive", "negative", "neutral"][:2], tiny_bert)


def test_train_sentiment_fine_tune_writes_a_loadable_folder(tiny_bert, tmp_path, monkeypatch,
                                                            capsys):
    from scripts.cli import main

    monkeypatch.setattr("nlp.embed.default_embed_model", lambda: str(tiny_bert))
    data = tmp_path / "labelled.jsonl"
    data.write_text("".join(json.dumps({"text": t, "label": label}) + "\n"
                            for label, group in TEXTS.items() for t in group))
    out = tmp_path / "model"
    assert main(["train-sentiment", str(data), "--out", str(out), "--fine-tune",
                 "--max-texts", "12", "--no-progress"]) == 0
    assert "fine-tuned a sentiment model on 15 texts" in capsys.readouterr().out
    assert FineTunedSentiment.load(out).predict_proba(["love it"]).shape == (1, 3)
    assert main(["train-sentiment", str(data), "--out", str(out), "--fine-tune",
                 "--epochs", "0"]) == 2


def test_a_fine_tuned_folder_scores_the_builds_mentions(tuned, tmp_path):
    from nlp.config import NlpConfig
    from nlp.sentiment import SentimentScorer
    from scripts.cmd_build import check_sentiment_head

    model, _, _ = tuned
    model.save(tmp_path / "ft")
    check_sentiment_head(tmp_path / "ft")  # accepted before a build starts
    scorer = SentimentScorer.from_config(NlpConfig(sentiment_head=str(tmp_path / "ft")))
    texts = ["love the box", "awful", "tuesday", ""]
    expected = [*model.score(texts[:3]).tolist(), 0.0]
    np.testing.assert_allclose(scorer.score_many(texts), expected, atol=1e-5)
    assert scorer.polarity(scorer.score("hate it")) == "negative"
    with pytest.raises(ValueError, match="not a sentiment model written by"):
        check_sentiment_head(tmp_path)
