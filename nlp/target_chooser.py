"""Choosing the one target a text is about among the several it mentions.

A tweet such as "the iPad 2 app store from Apple is great" links a product, an app category
and a brand; a per-post label ("which product is the emotion directed at?") names one. The
rule of thumb (most specific first) is a fixed guess; :class:`TargetChooser` learns the choice
from labelled texts with a logistic regression over features of each candidate target: its
kind, how often and where it is mentioned (first, last, in a hashtag or @handle), whether a
product of it (a brand) or its brand (a product) is mentioned too, the strength of the
sentiment of its sentence, and, with ``by_target=True``, the target itself (a learned prior
per target: only for a chooser fitted and used on the same catalogue). Evaluate it with
cross-validation: it is fitted on labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from nlp.linker import Mention

_KINDS = ("category", "product", "brand", "concept")


@dataclass(frozen=True, slots=True)
class Candidates:
    """The distinct targets of one text's mentions and their feature rows."""

    targets: list[str]
    features: np.ndarray


class TargetChooser:
    """Scores each linked target of a text; ``choose`` returns the best one.

    ``brand_of`` maps product targets to their brand targets. ``fit`` learns ``coef_`` and
    ``intercept_`` (and, with ``by_target``, ``targets_``: the targets seen in training).
    """

    def __init__(self, *, brand_of: Mapping[str, str] | None = None, by_target: bool = False,
                 c: float = 1.0, max_iter: int = 2000) -> None:
        self.brand_of = dict(brand_of or {})
        self.by_target = by_target
        self.c = c
        self.max_iter = max_iter
        self.targets_: list[str] = []

    def candidates(self, text: str, mentions: Sequence[Mention]) -> Candidates:
        """The distinct targets of ``mentions`` (of one text) with their features."""
        targets = list(dict.fromkeys(m.target for m in mentions))
        length = max(len(text), 1)
        brands_of_linked = {self.brand_of.get(t) for t in targets}
        strongest = max((abs(m.sentiment) for m in mentions), default=0.0)
        index = {t: i for i, t in enumerate(self.targets_)}
        rows = []
        for target in targets:
            own = [m for m in mentions if m.target == target]
            kind = target.partition(":")[0]
            row = [float(kind == k) for k in _KINDS]
            row += [
                np.log1p(len(own)),
                min(m.start for m in own) / length,
                max(m.end for m in own) / length,
                float(min(m.start for m in own) == min(m.start for m in mentions)),
                float(max(m.end for m in own) == max(m.end for m in mentions)),
                float(any(m.text.startswith("#") for m in own)),
                float(any(m.text.startswith("@") for m in own)),
                float(target in brands_of_linked),  # a brand whose product is linked too
                float(self.brand_of.get(target) in targets),  # a product whose brand is too
                max(abs(m.sentiment) for m in own),
                float(max(abs(m.sentiment) for m in own) == strongest),
                float(len(targets)),
            ]
            if self.by_target:
                one_hot = np.zeros(len(self.targets_))
                if target in index:
                    one_hot[index[target]] = 1.0
                row += one_hot.tolist()
            rows.append(row)
        return Candidates(targets, np.asarray(rows, dtype=np.float64))

    def fit(
        self,
        texts: Sequence[str],
        mentions: Sequence[Sequence[Mention]],
        correct: Sequence[Sequence[str]],
    ) -> TargetChooser:
        """Learn from texts, their mentions, and for each text the targets that are right.

        Texts whose mentions include no right target teach nothing and are skipped.
        """
        from sklearn.linear_model import LogisticRegression

        if not len(texts) == len(mentions) == len(correct):
            raise ValueError(f"{len(texts)} texts, {len(mentions)} mention lists and "
                             f"{len(correct)} answers: one each is needed")
        if self.by_target:
            self.targets_ = sorted({m.target for ms in mentions for m in ms})
        rows, labels = [], []
        for text, found, right in zip(texts, mentions, correct, strict=True):
            if not found or not set(right) & {m.target for m in found}:
                continue
            cands = self.candidates(text, found)
            rows.append(cands.features)
            labels += [t in right for t in cands.targets]
        if len(set(labels)) < 2:
            raise ValueError("need texts with both right and wrong candidate targets to fit")
        model = LogisticRegression(C=self.c, max_iter=self.max_iter)
        model.fit(np.vstack(rows), np.asarray(labels))
        self.coef_ = model.coef_[0]
        self.intercept_ = float(model.intercept_[0])
        return self

    def scores(self, text: str, mentions: Sequence[Mention]) -> dict[str, float]:
        """Each linked target's score (a logit: higher is more likely the one meant)."""
        if not mentions:
            return {}
        cands = self.candidates(text, mentions)
        values = cands.features @ self.coef_ + self.intercept_
        return dict(zip(cands.targets, values.tolist(), strict=True))

    def choose(self, text: str, mentions: Sequence[Mention]) -> str | None:
        """The target ``text`` is most likely about, or None when nothing is linked."""
        scores = self.scores(text, mentions)
        return max(scores, key=scores.__getitem__) if scores else None
