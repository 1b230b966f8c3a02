"""Sentiment of social text with VADER (lexicon and rules made for social media, emoji included)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Literal

Polarity = Literal["positive", "negative", "neutral"]


class SentimentScorer:
    """VADER compound scores in [-1, 1] and their three-way polarity.

    >>> scorer = SentimentScorer()
    >>> scorer.polarity(scorer.score("I love it :)"))
    'positive'
    """

    def __init__(self, *, neutral_band: float = 0.05, cache_size: int = 65536) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self.neutral_band = neutral_band
        self.cache_size = cache_size
        analyzer = SentimentIntensityAnalyzer()
        # Sentences repeat a lot in social text (retweets, the same post's several mentions).
        self._compound = lru_cache(maxsize=cache_size)(
            lambda text: float(analyzer.polarity_scores(text)["compound"])
        )

    def score(self, text: str) -> float:
        """The VADER compound score of ``text`` (0.0 for empty or unknown-script text)."""
        return self._compound(text) if text and text.strip() else 0.0

    def score_many(self, texts: Iterable[str]) -> list[float]:
        """:meth:`score` of each text."""
        return [self.score(t) for t in texts]

    def polarity(self, compound: float) -> Polarity:
        """``positive`` / ``negative`` outside the neutral band, else ``neutral``."""
        if compound >= self.neutral_band:
            return "positive"
        if compound <= -self.neutral_band:
            return "negative"
        return "neutral"
