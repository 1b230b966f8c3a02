"""Sentiment of social text: VADER by default, or a learned head when one is configured.

VADER is a lexicon with rules made for social media, emoji included. A
:class:`nlp.sentiment_head.SentimentHead` trained on labelled posts (``NlpConfig.sentiment_head``
names its ``.npz``) replaces it: its score is p(positive) - p(negative) on the same [-1, 1]
scale, and its band (``sentiment_head.NEUTRAL_BAND``) replaces ``sentiment_neutral_band``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from nlp.config import NlpConfig
    from nlp.embed import Embedder
    from nlp.sentiment_head import SentimentHead

Polarity = Literal["positive", "negative", "neutral"]


class SentimentScorer:
    """Compound scores in [-1, 1] and their three-way polarity.

    >>> scorer = SentimentScorer()
    >>> scorer.polarity(scorer.score("I love it :)"))
    'positive'
    """

    def __init__(self, *, neutral_band: float = 0.05, cache_size: int = 65536,
                 head: SentimentHead | None = None, embedder: Embedder | None = None) -> None:
        if head is not None and embedder is None:
            raise ValueError("a sentiment head needs the embedder it was fitted with")
        self.head, self.embedder = head, embedder
        if head is not None:
            from nlp.sentiment_head import NEUTRAL_BAND

            neutral_band = NEUTRAL_BAND
        self.neutral_band = neutral_band
        self.cache_size = cache_size
        if head is not None:
            def compound(text: str) -> float:
                return float(head.score([text], embedder)[0])  # type: ignore[arg-type]
        else:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            analyzer = SentimentIntensityAnalyzer()

            def compound(text: str) -> float:
                return float(analyzer.polarity_scores(text)["compound"])
        # Sentences repeat a lot in social text (retweets, the same post's several mentions).
        self._compound = lru_cache(maxsize=cache_size)(compound)

    @classmethod
    def from_config(cls, config: NlpConfig) -> SentimentScorer:
        """VADER with the configured band, or the head ``config.sentiment_head`` names."""
        if config.sentiment_head is None:
            return cls(neutral_band=config.sentiment_neutral_band)
        from nlp.embed import Embedder
        from nlp.sentiment_head import SentimentHead

        return cls(head=SentimentHead.load(config.sentiment_head), embedder=Embedder(config))

    def score(self, text: str) -> float:
        """The compound score of ``text`` (0.0 for empty or unknown-script text with VADER)."""
        return self._compound(text) if text and text.strip() else 0.0

    def score_many(self, texts: Iterable[str]) -> list[float]:
        """:meth:`score` of each text (one batch through the head's embedder, if a head)."""
        texts = list(texts)
        if self.head is None or not texts:
            return [self.score(t) for t in texts]
        scores = self.head.score(texts, self.embedder)  # type: ignore[arg-type]
        return [float(s) if t and t.strip() else 0.0 for s, t in zip(scores, texts, strict=True)]

    def polarity(self, compound: float) -> Polarity:
        """``positive`` / ``negative`` outside the neutral band, else ``neutral``."""
        if compound >= self.neutral_band:
            return "positive"
        if compound <= -self.neutral_band:
            return "negative"
        return "neutral"
