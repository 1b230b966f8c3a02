"""Sentiment of social text: VADER by default, or a learned model when one is configured.

VADER is a lexicon with rules made for social media, emoji included. A model trained on labelled
posts by ``shopgraph train-sentiment`` replaces it when ``NlpConfig.sentiment_head`` names it:
a :class:`nlp.sentiment_head.SentimentHead` (``.npz``: a linear head over the packaged sentence
embedding) or a :class:`nlp.sentiment_finetune.FineTunedSentiment` (a folder: the encoder
fine-tuned too). Their score is a signed confidence on the same [-1, 1] scale, and their band
(``sentiment_head.NEUTRAL_BAND``) replaces ``sentiment_neutral_band``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import numpy as np

    from nlp.config import NlpConfig

Polarity = Literal["positive", "negative", "neutral"]
#: A learned model's batch scorer: texts -> signed confidences in [-1, 1].
BatchScorer = Callable[[Sequence[str]], "np.ndarray"]


def load_sentiment_model(path: str | Path, config: NlpConfig | None = None) -> BatchScorer:
    """The batch scorer of a model ``shopgraph train-sentiment`` wrote: a fine-tuned folder or
    a head ``.npz`` (scored over the embedding model of ``config``); ``ValueError`` if neither."""
    if Path(path).is_dir():
        from nlp.sentiment_finetune import FineTunedSentiment

        return FineTunedSentiment.load(path).score
    from nlp.embed import Embedder
    from nlp.sentiment_head import SentimentHead

    head = SentimentHead.load(path)
    embedder = Embedder(config)
    return lambda texts: head.score(texts, embedder)


def check_sentiment_model(path: str | Path) -> None:
    """Raise (``ValueError``, ``OSError``, ...) unless ``path`` is a model
    :func:`load_sentiment_model` can load; a fine-tuned folder is checked by its card and files,
    without loading it."""
    if Path(path).is_dir():
        from nlp.sentiment_finetune import read_card

        read_card(path)
        return
    from nlp.sentiment_head import SentimentHead

    SentimentHead.load(path)


class SentimentScorer:
    """Compound scores in [-1, 1] and their three-way polarity.

    >>> scorer = SentimentScorer()
    >>> scorer.polarity(scorer.score("I love it :)"))
    'positive'
    """

    def __init__(self, *, neutral_band: float = 0.05, cache_size: int = 65536,
                 model: BatchScorer | None = None) -> None:
        self.model = model
        if model is not None:
            from nlp.sentiment_head import NEUTRAL_BAND

            neutral_band = NEUTRAL_BAND
        self.neutral_band = neutral_band
        self.cache_size = cache_size
        if model is not None:
            def compound(text: str) -> float:
                return float(model([text])[0])
        else:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            analyzer = SentimentIntensityAnalyzer()

            def compound(text: str) -> float:
                return float(analyzer.polarity_scores(text)["compound"])
        # Sentences repeat a lot in social text (retweets, the same post's several mentions).
        self._compound = lru_cache(maxsize=cache_size)(compound)

    @classmethod
    def from_config(cls, config: NlpConfig) -> SentimentScorer:
        """VADER with the configured band, or the model ``config.sentiment_head`` names."""
        if config.sentiment_head is None:
            return cls(neutral_band=config.sentiment_neutral_band)
        return cls(model=load_sentiment_model(config.sentiment_head, config))

    def score(self, text: str) -> float:
        """The compound score of ``text`` (0.0 for empty or unknown-script text with VADER)."""
        return self._compound(text) if text and text.strip() else 0.0

    def score_many(self, texts: Iterable[str]) -> list[float]:
        """:meth:`score` of each text (one batch through the learned model, if any)."""
        texts = list(texts)
        if self.model is None or not texts:
            return [self.score(t) for t in texts]
        scores = self.model(texts)
        return [float(s) if t and t.strip() else 0.0 for s, t in zip(scores, texts, strict=True)]

    def polarity(self, compound: float) -> Polarity:
        """``positive`` / ``negative`` outside the neutral band, else ``neutral``."""
        if compound >= self.neutral_band:
            return "positive"
        if compound <= -self.neutral_band:
            return "negative"
        return "neutral"
