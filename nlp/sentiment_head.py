"""A three-way sentiment classifier learned from labelled posts, for when VADER is not enough.

Features are a text's sentence embedding (L2-normalised) and its VADER compound score; the
model is a multinomial logistic regression (scikit-learn). Saved as ``.npz`` (coefficients,
classes, the embedding model id), never pickled. ``score`` gives p(positive) - p(negative)
in [-1, 1], on the same scale as VADER's compound score.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence

import numpy as np

from kg.atomic import atomic_write_bytes
from nlp.embed import Embedder
from nlp.sentiment import SentimentScorer

_FORMAT = "shopgraph.sentiment_head/1"


class SentimentHead:
    """Logistic regression over [embedding, VADER compound] -> positive/negative/neutral.

    ``fit(texts, labels)`` learns ``coef_``, ``intercept_``, ``classes_`` and remembers the
    embedder's ``model_id_``; predicting with another embedding model is an error.
    """

    def __init__(self, *, c: float = 1.0, class_weight: str | None = "balanced",
                 max_iter: int = 2000, vader_scale: float = 1.0) -> None:
        self.c = c
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.vader_scale = vader_scale

    def features(self, texts: Sequence[str], embedder: Embedder) -> np.ndarray:
        """The feature rows of ``texts``."""
        vectors = embedder.embed(texts)
        vader = np.asarray(SentimentScorer().score_many(texts), dtype=np.float32)
        return np.hstack([vectors, self.vader_scale * vader[:, None]])

    def fit(self, texts: Sequence[str], labels: Sequence[str], embedder: Embedder) -> SentimentHead:
        """Learn from labelled texts (labels among positive / negative / neutral)."""
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=self.c, class_weight=self.class_weight,
                                   max_iter=self.max_iter)
        model.fit(self.features(texts, embedder), np.asarray(labels))
        self.coef_ = model.coef_.astype(np.float32)
        self.intercept_ = model.intercept_.astype(np.float32)
        self.classes_ = [str(c) for c in model.classes_]
        self.model_id_ = embedder.model_id
        return self

    def predict_proba(self, texts: Sequence[str], embedder: Embedder) -> np.ndarray:
        """Class probabilities, columns in ``classes_`` order."""
        if embedder.model_id != self.model_id_:
            raise ValueError(
                f"head was fitted on embeddings of {self.model_id_!r}, not {embedder.model_id!r}")
        logits = self.features(texts, embedder) @ self.coef_.T + self.intercept_
        if logits.shape[1] == 1:  # two classes: sklearn keeps one column
            logits = np.hstack([-logits, logits]) / 2
        logits -= logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, texts: Sequence[str], embedder: Embedder) -> list[str]:
        """The most probable label of each text."""
        proba = self.predict_proba(texts, embedder)
        return [self.classes_[i] for i in proba.argmax(axis=1)]

    def score(self, texts: Sequence[str], embedder: Embedder) -> np.ndarray:
        """p(positive) - p(negative) per text, in [-1, 1]."""
        proba = self.predict_proba(texts, embedder)
        col = {c: i for i, c in enumerate(self.classes_)}
        pos = proba[:, col["positive"]] if "positive" in col else 0.0
        neg = proba[:, col["negative"]] if "negative" in col else 0.0
        return np.asarray(pos - neg, dtype=np.float32)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the fitted head as ``.npz``, atomically."""
        buffer = io.BytesIO()
        np.savez(buffer, format=np.asarray(_FORMAT), coef=self.coef_, intercept=self.intercept_,
                 classes=np.asarray(self.classes_), model_id=np.asarray(self.model_id_),
                 vader_scale=np.asarray(self.vader_scale))
        atomic_write_bytes(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SentimentHead:
        """A head written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            if str(data["format"]) != _FORMAT:
                raise ValueError(f"{path}: not a {_FORMAT} file")
            head = cls(vader_scale=float(data["vader_scale"]))
            head.coef_, head.intercept_ = data["coef"], data["intercept"]
            head.classes_ = [str(c) for c in data["classes"]]
            head.model_id_ = str(data["model_id"])
        return head
