"""Choosing the one target a text is about among the several it mentions, or those near them.

A tweet such as "the iPad 2 app store from Apple is great" links a product, an app category
and a brand; a per-post label ("which product is the emotion directed at?") names one. The
rule of thumb (most specific first) is a fixed guess; :class:`TargetChooser` learns the choice
from labelled texts with a logistic regression over features of each candidate target.

Candidates are the linked targets and, through ``related``, the targets a text that mentions
one of them may be about without naming it: a product's brand ("queue at the Apple Store" is
about Apple), the app category of a platform ("the SXSW app on my iPhone"). Features of a
candidate: its kind, whether it is linked or only related, how often and where it is mentioned
(first, last, in a hashtag or @handle), whether a product of it (a brand) or its brand (a
product) is mentioned too, the strength of the sentiment of its sentence; with ``words=True``
the text's words crossed with the candidate's kind (the word "app" speaks for a category); with
``by_target=True`` the target itself (a learned prior per target), crossed with the words when
both are on: a per-target bag of words, only for a chooser fitted and used on one catalogue.
Evaluate it with cross-validation: it is fitted on labels.

``confidence`` is a candidate's share of the softmax over the text's candidates; ``choose`` with
``min_confidence`` abstains below it, trading recall for precision.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from nlp.linker import Mention

_KINDS = ("category", "product", "brand", "concept")
_WORD = re.compile(r"[a-z0-9][a-z0-9']+")


def text_words(text: str) -> set[str]:
    """The distinct lower-cased words of ``text`` (hashtags and @handles without their sign)."""
    return set(_WORD.findall(text.lower()))


@dataclass(frozen=True, slots=True)
class _TextFacts:
    """What every candidate of one text is compared with: its length, candidate count, linked
    targets and their brands, where its mentions start and end, its strongest sentiment."""

    length: int
    n_candidates: int
    linked: frozenset[str]
    brands_of_linked: frozenset[str | None]
    first_start: int
    last_end: int
    strongest: float


@dataclass(frozen=True, slots=True)
class Candidates:
    """The candidate targets of one text and their feature rows (sparse, one row each)."""

    targets: list[str]
    features: sparse.csr_matrix


class TargetChooser:
    """Scores each candidate target of a text; ``choose`` returns the best one.

    ``brand_of`` maps product targets to their brand targets; ``related`` maps a target to the
    targets a text mentioning it may be about instead. ``fit`` learns ``coef_`` and
    ``intercept_``, and the vocabularies it needs (name -> column): ``targets_`` (``by_target``)
    and ``words_`` (``words``: words of at least ``min_word_count`` training texts).
    """

    def __init__(self, *, brand_of: Mapping[str, str] | None = None,
                 related: Mapping[str, Sequence[str]] | None = None, by_target: bool = False,
                 words: bool = False, min_word_count: int = 3, c: float = 1.0,
                 max_iter: int = 2000) -> None:
        self.brand_of = dict(brand_of or {})
        self.related = {k: tuple(v) for k, v in (related or {}).items()}
        self.by_target = by_target
        self.words = words
        self.min_word_count = min_word_count
        self.c = c
        self.max_iter = max_iter
        self.targets_: dict[str, int] = {}
        self.words_: dict[str, int] = {}

    def candidate_targets(self, mentions: Sequence[Mention]) -> list[str]:
        """The linked targets, then the targets related to them, each once."""
        linked = list(dict.fromkeys(m.target for m in mentions))
        return list(dict.fromkeys(linked + [r for t in linked for r in self.related.get(t, ())]))

    def _mention_features(self, target: str, mentions: Sequence[Mention],
                          text: _TextFacts) -> list[float]:
        own = [m for m in mentions if m.target == target]
        kind = target.partition(":")[0]
        row = [float(kind == k) for k in _KINDS]
        row += [
            float(bool(own)),
            float(target in text.brands_of_linked),  # a brand whose product is linked too
            float(self.brand_of.get(target) in text.linked),  # a product whose brand is too
            float(text.n_candidates),
        ]
        if not own:
            return row + [0.0] * 9
        feeling = max(abs(m.sentiment) for m in own)
        row += [
            np.log1p(len(own)),
            min(m.start for m in own) / text.length,
            max(m.end for m in own) / text.length,
            float(min(m.start for m in own) == text.first_start),
            float(max(m.end for m in own) == text.last_end),
            float(any(m.text.startswith("#") for m in own)),
            float(any(m.text.startswith("@") for m in own)),
            feeling,
            float(feeling == text.strongest),
        ]
        return row

    def candidates(self, text: str, mentions: Sequence[Mention]) -> Candidates:
        """The candidate targets of ``mentions`` (of one text) with their features."""
        targets = self.candidate_targets(mentions)
        facts = _TextFacts(
            length=max(len(text), 1), n_candidates=len(targets),
            linked=frozenset(m.target for m in mentions),
            brands_of_linked=frozenset(self.brand_of.get(m.target) for m in mentions),
            first_start=min((m.start for m in mentions), default=0),
            last_end=max((m.end for m in mentions), default=0),
            strongest=max((abs(m.sentiment) for m in mentions), default=0.0))
        dense = np.asarray([self._mention_features(t, mentions, facts) for t in targets],
                           dtype=np.float64).reshape(len(targets), -1)
        blocks = [sparse.csr_matrix(dense)]
        seen = [self.words_[w] for w in sorted(text_words(text)) if w in self.words_]
        if self.words:
            kinds = [_KINDS.index(t.partition(":")[0]) if t.partition(":")[0] in _KINDS
                     else None for t in targets]
            blocks.append(_crossed(seen, kinds, len(self.words_), len(_KINDS)))
        if self.by_target:
            ids = [self.targets_.get(t) for t in targets]
            blocks.append(_crossed([0], ids, 1, len(self.targets_)))
            if self.words:
                blocks.append(_crossed(seen, ids, len(self.words_), len(self.targets_)))
        return Candidates(targets, sparse.hstack(blocks, format="csr"))

    def fit(
        self,
        texts: Sequence[str],
        mentions: Sequence[Sequence[Mention]],
        correct: Sequence[Sequence[str]],
    ) -> TargetChooser:
        """Learn from texts, their mentions, and for each text the targets that are right.

        Texts whose candidates include no right target teach nothing and are skipped.
        """
        from sklearn.linear_model import LogisticRegression

        if not len(texts) == len(mentions) == len(correct):
            raise ValueError(f"{len(texts)} texts, {len(mentions)} mention lists and "
                             f"{len(correct)} answers: one each is needed")
        if self.by_target:
            seen = sorted({t for ms in mentions for t in self.candidate_targets(ms)})
            self.targets_ = {t: i for i, t in enumerate(seen)}
        if self.words:
            counts = Counter(w for text in texts for w in text_words(text))
            kept = sorted(w for w, n in counts.items() if n >= self.min_word_count)
            self.words_ = {w: i for i, w in enumerate(kept)}
        rows, labels = [], []
        for text, found, right in zip(texts, mentions, correct, strict=True):
            if not found or not set(right) & set(self.candidate_targets(found)):
                continue
            cands = self.candidates(text, found)
            rows.append(cands.features)
            labels += [t in right for t in cands.targets]
        if len(set(labels)) < 2:
            raise ValueError("need texts with both right and wrong candidate targets to fit")
        model = LogisticRegression(C=self.c, max_iter=self.max_iter)
        model.fit(sparse.vstack(rows, format="csr"), np.asarray(labels))
        self.coef_ = model.coef_[0]
        self.intercept_ = float(model.intercept_[0])
        return self

    def scores(self, text: str, mentions: Sequence[Mention]) -> dict[str, float]:
        """Each candidate target's score (a logit: higher is more likely the one meant)."""
        if not mentions:
            return {}
        cands = self.candidates(text, mentions)
        values = cands.features @ self.coef_ + self.intercept_
        return dict(zip(cands.targets, np.asarray(values).tolist(), strict=True))

    def confidence(self, text: str, mentions: Sequence[Mention]) -> dict[str, float]:
        """Each candidate's share of the softmax over the text's candidate scores."""
        scores = self.scores(text, mentions)
        if not scores:
            return {}
        values = np.fromiter(scores.values(), dtype=np.float64)
        shares = np.exp(values - values.max())
        return dict(zip(scores, (shares / shares.sum()).tolist(), strict=True))

    def choose(self, text: str, mentions: Sequence[Mention], *,
               min_confidence: float = 0.0) -> str | None:
        """The target ``text`` is most likely about; None when nothing is linked or the best
        candidate's confidence is below ``min_confidence``."""
        shares = self.confidence(text, mentions)
        if not shares:
            return None
        best = max(shares, key=shares.__getitem__)
        return best if shares[best] >= min_confidence else None


def _crossed(words: Sequence[int], columns: Sequence[int | None], n_words: int,
             n_columns: int) -> sparse.csr_matrix:
    """Rows of word x column indicator features: row r has ``words`` set in block ``columns[r]``
    (no features where the column is None)."""
    indptr, indices = [0], []
    for column in columns:
        if column is not None:
            indices.extend(column * n_words + w for w in words)
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.float64)
    return sparse.csr_matrix((data, indices, indptr), shape=(len(columns), n_words * n_columns))
