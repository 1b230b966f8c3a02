"""A sentiment classifier made by fine-tuning the sentence encoder itself, not only a head on it.

:class:`nlp.sentiment_head.SentimentHead` learns a linear map over frozen embeddings. Here the
transformer (by default the packaged all-MiniLM-L6-v2) is trained end to end with a linear
layer over its mean-pooled token states (:mod:`nlp.finetune`), with class-balanced
cross-entropy (so, like the head's balanced fit, its probabilities assume uniform class
priors). It reads each text's :func:`nlp.sentiment_data.sentiment_view`, truncated to
``max_len`` tokens.

Saved as a folder (written atomically): the encoder and linear layer of
:meth:`nlp.finetune.EncoderClassifier.save_parts` and ``sentiment.json`` (format, classes,
settings). Nothing is pickled. ``score`` follows the head's convention: sign of
p(positive) - p(negative), magnitude above ``NEUTRAL_BAND`` exactly when neutral is not the
most probable class.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from kg.atomic import atomic_dir
from nlp.finetune import EncoderClassifier, FineTuneConfig, read_folder_card, train
from nlp.sentiment_data import LABELS, sentiment_view
from nlp.sentiment_head import signed_confidence

__all__ = ["FineTuneConfig", "FineTunedSentiment", "fine_tune", "read_card"]

FORMAT = "shopgraph.sentiment_finetuned/1"
META_FILE = "sentiment.json"


class FineTunedSentiment(EncoderClassifier):
    """A fine-tuned encoder with a linear layer -> positive/negative/neutral probabilities."""

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The most probable label of each text."""
        proba = self.predict_proba(texts)
        return [self.classes_[i] for i in proba.argmax(axis=1)]

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """Signed confidence per text in [-1, 1], as :meth:`SentimentHead.score`."""
        return signed_confidence(self.predict_proba(texts), self.classes_)

    def save(self, folder: str | os.PathLike[str]) -> None:
        """Write the model as a folder, atomically (safetensors and JSON only)."""
        with atomic_dir(folder) as tmp:
            self.save_parts(tmp)
            (tmp / META_FILE).write_text(json.dumps(
                {"format": FORMAT, "classes": self.classes_, "max_len": self.max_len,
                 "base_model": self.base_model}, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> FineTunedSentiment:
        """A model written by :meth:`save`; a wrong folder is a ``ValueError`` naming it."""
        root, meta = read_card(folder)
        model = cls.load_parts(root, [str(c) for c in meta["classes"]],
                               max_len=int(meta["max_len"]),
                               base_model=str(meta.get("base_model", "")), view=sentiment_view)
        return model  # type: ignore[return-value]


def read_card(folder: str | os.PathLike[str]) -> tuple[Path, dict]:
    """The folder a :meth:`FineTunedSentiment.save` wrote and its ``sentiment.json``, checked
    without loading the model (a ``ValueError`` naming the folder if it is not one)."""
    root, meta = read_folder_card(folder, META_FILE, FORMAT)
    classes = [str(c) for c in meta.get("classes", [])]
    if sorted(classes) != sorted(LABELS):
        raise ValueError(f"{folder}: classes {classes} are not {list(LABELS)}")
    return root, meta


def fine_tune(texts: Sequence[str], labels: Sequence[str],
              model: str | os.PathLike[str] | FineTunedSentiment,
              config: FineTuneConfig | None = None,
              log: Callable[[str], None] | None = None) -> tuple[FineTunedSentiment, dict]:
    """Fine-tune the encoder at ``model`` (a folder) on labelled texts; the model and its stats.

    ``model`` may also be a :class:`FineTunedSentiment`: a copy of it is trained further (the
    original is left as it was). Labels are positive / negative / neutral, all three present.
    ``log`` receives a progress line about every 10% of the steps.
    """
    import torch

    config = config or FineTuneConfig()
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    missing = set(LABELS) - set(labels)
    if missing:
        raise ValueError(f"no training text labelled {sorted(missing)}")
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(len(texts))
    if config.max_texts is not None:
        order = order[:config.max_texts]
    classes = sorted(LABELS)
    y = np.searchsorted(classes, np.asarray(labels)[order])
    counts = np.bincount(y, minlength=len(classes))
    if np.any(counts == 0):
        raise ValueError(f"the subsample of {len(order)} texts misses a class ({counts})")
    torch.manual_seed(config.seed)
    if isinstance(model, FineTunedSentiment):
        if model.classes_ != classes:
            raise ValueError(f"the model's classes {model.classes_} are not {classes}")
        tuned = copy.deepcopy(model)
        tuned.max_len = config.max_len
    else:
        tuned = FineTunedSentiment.pretrained(model, classes, max_len=config.max_len,
                                              view=sentiment_view)  # type: ignore[assignment]
    stats = train(tuned, [texts[i] for i in order], y, config, rng,
                  class_weight=len(y) / (len(classes) * counts), log=log)
    return tuned, stats
