"""A three-way sentiment classifier learned from labelled posts, for when VADER is not enough.

Features are the sentence embedding (L2-normalised) of a text's :func:`sentiment_view` (no
handles, links or retweet marks) and its VADER scores (compound, positive, negative, neutral);
the model is a multinomial logistic regression (scikit-learn) with balanced class weights.
``score`` is a signed confidence in [-1, 1] like VADER's compound score: its sign is that of
p(positive) - p(negative), and |score| = (1 + max(p(pos), p(neg)) - p(neutral)) / 2, so
|score| > ``NEUTRAL_BAND`` (0.5) exactly when the most probable class is not neutral: the
linker's band rule gives the classifier's own decision. (A band calibrated for macro-F1 on
held-out source data did worse across domains: 0.444 vs 0.476 on SXSW.) Saved as ``.npz``
(coefficients, classes, the embedding model id), never pickled.

The defaults (``c=0.03``, all four VADER scores, the cleaned view) were chosen by
leave-one-source-out transfer between airline tweets and Amazon review summaries
(``bench/sentiment_transfer.py``), never on the text the head is tested on.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import Literal

import numpy as np

from kg.atomic import atomic_write_bytes
from nlp.embed import BF16_SUFFIX, Embedder
from nlp.sentiment_data import LABELS, sentiment_view

_FORMAT = "shopgraph.sentiment_head/2"
#: |score| above this is positive / negative: the most probable class is not neutral.
NEUTRAL_BAND = 0.5


def signed_confidence(proba: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """Per row of class probabilities, the sign of p(positive) - p(negative) times
    (1 + max(p(pos), p(neg)) - p(neutral)) / 2: above ``NEUTRAL_BAND`` in size exactly when
    neutral is not the most probable class."""
    col = {c: i for i, c in enumerate(classes)}
    pos, neg, neu = (proba[:, col[c]] for c in ("positive", "negative", "neutral"))
    strength = (1.0 + np.maximum(pos, neg) - neu) / 2
    return np.asarray(np.where(pos >= neg, strength, -strength), dtype=np.float32)


def vader_scores(texts: Sequence[str]) -> np.ndarray:
    """VADER (compound, pos, neg, neu) per text; zeros for empty text."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    rows = np.zeros((len(texts), 4), dtype=np.float32)
    for i, text in enumerate(texts):
        if text and text.strip():
            s = analyzer.polarity_scores(text)
            rows[i] = (s["compound"], s["pos"], s["neg"], s["neu"])
    return rows


def _vectors_of(embedder: Embedder) -> str:
    """The id of the embedding model whose vectors ``embedder`` gives (its precision aside)."""
    return embedder.model_id.replace(BF16_SUFFIX, "", 1)


class SentimentHead:
    """Logistic regression over [embedding, VADER scores] -> positive/negative/neutral.

    ``fit(texts, labels)`` learns ``coef_``, ``intercept_``, ``classes_`` and
    remembers the embedder's ``model_id_``; predicting with another embedding model is an error
    (bfloat16 and fp32 vectors of one model count as the same: cosine >= 0.9999, nlp.embed).
    ``vader="compound"`` with ``clean_view=False`` and ``c=1`` is the first version's recipe.
    """

    def __init__(self, *, c: float = 0.03, class_weight: str | None = "balanced",
                 max_iter: int = 3000, vader: Literal["all", "compound"] = "all",
                 clean_view: bool = True) -> None:
        self.c = c
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.vader = vader
        self.clean_view = clean_view

    def features(self, texts: Sequence[str], embedder: Embedder) -> np.ndarray:
        """The feature rows of ``texts``."""
        texts = [t if isinstance(t, str) else "" for t in texts]
        vectors = embedder.embed([sentiment_view(t) for t in texts] if self.clean_view else texts)
        vader = vader_scores(texts)
        return np.hstack([vectors, vader if self.vader == "all" else vader[:, :1]])

    def fit(self, texts: Sequence[str], labels: Sequence[str], embedder: Embedder) -> SentimentHead:
        """Learn from labelled texts (labels: positive, negative, neutral, all three present)."""
        from sklearn.linear_model import LogisticRegression

        missing = set(LABELS) - set(labels)
        if missing:
            raise ValueError(f"no training text labelled {sorted(missing)}")
        model = LogisticRegression(C=self.c, class_weight=self.class_weight,
                                   max_iter=self.max_iter)
        model.fit(self.features(texts, embedder), np.asarray(labels))
        self.coef_ = model.coef_.astype(np.float32)
        self.intercept_ = model.intercept_.astype(np.float32)
        self.classes_ = [str(c) for c in model.classes_]
        self.model_id_ = _vectors_of(embedder)
        return self

    def _proba(self, x: np.ndarray) -> np.ndarray:
        logits = x @ self.coef_.T + self.intercept_
        logits -= logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        return proba / proba.sum(axis=1, keepdims=True)

    def _check(self, embedder: Embedder) -> None:
        if _vectors_of(embedder) != self.model_id_:  # stored as _vectors_of gave it
            raise ValueError(
                f"head was fitted on embeddings of {self.model_id_!r}, not {embedder.model_id!r}")

    def predict_proba(self, texts: Sequence[str], embedder: Embedder) -> np.ndarray:
        """Class probabilities, columns in ``classes_`` order."""
        self._check(embedder)
        return self._proba(self.features(texts, embedder))

    def predict(self, texts: Sequence[str], embedder: Embedder) -> list[str]:
        """The most probable label of each text."""
        proba = self.predict_proba(texts, embedder)
        return [self.classes_[i] for i in proba.argmax(axis=1)]

    def score(self, texts: Sequence[str], embedder: Embedder) -> np.ndarray:
        """Signed confidence per text in [-1, 1]; |score| > ``NEUTRAL_BAND`` iff not neutral."""
        return signed_confidence(self.predict_proba(texts, embedder), self.classes_)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the fitted head as ``.npz``, atomically."""
        buffer = io.BytesIO()
        np.savez(buffer, format=np.asarray(_FORMAT), coef=self.coef_, intercept=self.intercept_,
                 classes=np.asarray(self.classes_), model_id=np.asarray(self.model_id_),
                 vader=np.asarray(self.vader), clean_view=np.asarray(self.clean_view))
        atomic_write_bytes(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SentimentHead:
        """A head written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as data:
            if "format" not in data or str(data["format"]) != _FORMAT:
                raise ValueError(f"{path}: not a {_FORMAT} file")
            vader = str(data["vader"])
            if vader not in ("all", "compound"):
                raise ValueError(f"{path}: unknown VADER feature set {vader!r}")
            head = cls(vader=vader, clean_view=bool(data["clean_view"]))  # type: ignore[arg-type]
            head.coef_, head.intercept_ = data["coef"], data["intercept"]
            head.classes_ = [str(c) for c in data["classes"]]
            head.model_id_ = str(data["model_id"])
        return head

