"""`shopgraph train-sentiment` and `shopgraph build --sentiment-head`: the head scores mentions."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from kg.artifact import load_artifact
from kg.jsonl import write_dataset
from kg.records import Dataset, Event, Post, Product, User
from nlp.config import NlpConfig
from nlp.sentiment import SentimentScorer
from nlp.sentiment_head import SentimentHead
from scripts.cli import main

LABELLED = [
    ("love these shoes", "positive"), ("great jacket, so happy", "positive"),
    ("best mug ever", "positive"), ("really comfy and stylish", "positive"),
    ("broke after a week", "negative"), ("terrible, worst purchase ever", "negative"),
    ("cheap plastic, disappointed", "negative"), ("it leaks everywhere, hate it", "negative"),
    ("arrives on tuesday", "neutral"), ("it comes in three sizes", "neutral"),
    ("the store opens at nine", "neutral"), ("ordered one yesterday", "neutral"),
]
POSTS = ["I adore my Trail Mug", "The Trail Mug leaks everywhere", "Got a Trail Mug on tuesday"]


@pytest.fixture()
def packaged_model(st_model, monkeypatch):
    """The session's loaded MiniLM stands in for the packaged one (same model, no reload)."""
    monkeypatch.setattr("nlp.embed.Embedder.load", lambda self: st_model)


def train(folder: Path) -> Path:
    """Write the labelled lines as JSON Lines and train a head on them from the command line."""
    data = folder / "labelled.jsonl"
    data.write_text("".join(json.dumps({"review": t, "sentiment": s}) + "\n"
                            for t, s in LABELLED))
    out = folder / "heads" / "head.npz"
    assert main(["train-sentiment", str(data), "--out", str(out), "--c", "1",
                 "--no-progress"]) == 0
    return out


@pytest.fixture()
def head_file(packaged_model, tmp_path: Path) -> Path:
    return train(tmp_path)


def test_train_sentiment_round_trip(packaged_model, tmp_path: Path, capsys, st_model) -> None:
    from nlp.embed import Embedder

    head_file = train(tmp_path)
    assert "trained a sentiment head on 12 texts" in capsys.readouterr().out
    head = SentimentHead.load(head_file)
    assert sorted(head.classes_) == ["negative", "neutral", "positive"]
    texts = [t for t, _ in LABELLED]
    predicted = head.predict(texts, Embedder(model=st_model))
    assert sum(p == label for p, (_, label) in zip(predicted, LABELLED, strict=True)) >= 10
    assert not list(head_file.parent.glob(".*.tmp"))  # written atomically, nothing left over


def test_build_with_a_head_scores_post_and_comment_mentions_with_it(
        head_file: Path, tmp_path: Path, capsys) -> None:
    write_dataset(Dataset(
        products=[Product("A", "Trail Mug", brand="Camp Co")],
        users=[User("1"), User("2")],
        posts=[Post(f"p{i}", "1", text) for i, text in enumerate(POSTS)],
        events=[Event("2", "p0", "post", "comment", ts=1.6e9, text="my Trail Mug is awful")],
    ), tmp_path / "data")
    art = tmp_path / "art"
    assert main(["build", str(tmp_path / "data"), "--out", str(art), "--no-progress",
                 "--no-vision", "--no-profiles", "--no-models",
                 "--sentiment-head", str(head_file)]) == 0
    manifest = json.loads((art / "manifest.json").read_text())
    assert manifest["stages"]["nlp"]["sentiment"] == f"head {head_file}"
    graph = load_artifact(art).graph
    scorer = SentimentScorer.from_config(NlpConfig(sentiment_head=str(head_file)))
    linked = [e for e in graph.edges("mentions") if math.isfinite(e.columns["start"])]
    assert len(linked) == 4  # three posts, one comment
    vader = SentimentScorer()
    for edge in linked:
        text = graph.node_attrs(edge.src)["text"]
        assert edge.columns["sentiment"] == pytest.approx(scorer.score(text), abs=1e-4)
        assert abs(edge.columns["sentiment"]) <= 1.0
    assert any(abs(e.columns["sentiment"] - vader.score(graph.node_attrs(e.src)["text"])) > 0.05
               for e in linked)  # not VADER's scores
    comment = next(e.src for e in linked if e.src.startswith("post:comment-"))
    assert scorer.polarity(next(e.columns["sentiment"] for e in linked
                                if e.src == comment)) == "negative"


def test_bad_labelled_files_exit_2_naming_file_and_line(
        packaged_model, tmp_path: Path, capsys) -> None:
    bad_label = tmp_path / "bad.csv"
    bad_label.write_text("text,label\nlove it,positive\nmeh,sorta\n")
    one_class = tmp_path / "one.jsonl"
    one_class.write_text('{"text": "love it", "rating": 5}\n{"text": "wow", "rating": 4}\n')
    binary = tmp_path / "blob.csv"
    binary.write_bytes(b"\xff\xfe\x00\x01text")
    out = tmp_path / "head.npz"
    cases = [(bad_label, f"{bad_label}:3: label 'sorta'"),
             (one_class, f"{one_class}: no training text labelled ['negative', 'neutral']"),
             (binary, f"{binary}: not UTF-8 text"),
             (tmp_path / "missing.csv", "labelled file not found")]
    for path, message in cases:
        assert main(["train-sentiment", str(path), "--out", str(out), "--no-progress"]) == 2
        assert message in capsys.readouterr().err
    assert main(["train-sentiment", str(bad_label), "--out", str(out), "--label-field", "nope",
                 "--no-progress"]) == 2
    assert "label '' is not one of" in capsys.readouterr().err
    assert not out.exists()
