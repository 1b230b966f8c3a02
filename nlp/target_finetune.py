"""Choosing the one target a text is about with a fine-tuned encoder.

:class:`nlp.target_chooser.TargetChooser` scores each candidate target of a text with a logistic
regression over hand-made features. :class:`FineTunedTargetChooser` reads the whole text
instead: the sentence encoder is fine-tuned end to end (:mod:`nlp.finetune`) as a classifier
over the targets seen in training, its softmax taken over the text's candidates alone (the
targets linked in it and those related to them, as the caller lists them). A training text
whose right target is not among its candidates is trained over all classes.

The classes are ids the caller picks: node ids, or the labels of a per-post annotation. A
fixed set of classes suits a chooser fitted and used on one catalogue: a candidate unseen in
training gets no share, and a text with no known candidate gets none (``confidence`` is
empty; fall back to :class:`~nlp.target_chooser.TargetChooser` there). ``confidence`` is a
candidate's softmax share; ``choose`` with ``min_confidence`` abstains below it. Evaluate it
with cross-validation (``bench/chooser_finetune.py``): it is fitted on labels.

Saved as a folder (written atomically): the encoder and linear layer
(:meth:`~nlp.finetune.EncoderClassifier.save_parts`) and ``target_chooser.json``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection, Sequence

import numpy as np

from kg.atomic import atomic_dir
from nlp.finetune import EncoderClassifier, FineTuneConfig, read_folder_card, train

__all__ = ["FineTunedTargetChooser", "fine_tune_chooser"]

FORMAT = "shopgraph.target_chooser_finetuned/1"
META_FILE = "target_chooser.json"


class FineTunedTargetChooser:
    """Shares of a text's candidate targets from a fine-tuned encoder (module docstring)."""

    def __init__(self, model: EncoderClassifier) -> None:
        self.model = model
        self._column = {c: j for j, c in enumerate(model.classes_)}

    @property
    def classes_(self) -> list[str]:
        return self.model.classes_

    def allowed(self, candidates: Sequence[Collection[str]]) -> np.ndarray:
        """(texts x classes) bool: which classes each text's candidates name."""
        out = np.zeros((len(candidates), len(self.classes_)), dtype=bool)
        for row, cands in enumerate(candidates):
            out[row, [self._column[c] for c in cands if c in self._column]] = True
        return out

    def confidence_many(self, texts: Sequence[str], candidates: Sequence[Collection[str]],
                        *, batch_size: int = 64) -> list[dict[str, float]]:
        """Per text, each known candidate's share (they sum to 1; empty if none is known)."""
        if len(texts) != len(candidates):
            raise ValueError(f"{len(texts)} texts but {len(candidates)} candidate lists")
        allowed = self.allowed(candidates)
        proba = self.model.predict_proba(texts, allowed=allowed, batch_size=batch_size)
        return [{self.classes_[j]: float(p[j]) for j in np.flatnonzero(row)}
                for p, row in zip(proba, allowed, strict=True)]

    def confidence(self, text: str, candidates: Collection[str]) -> dict[str, float]:
        """Each known candidate's share for one text."""
        return self.confidence_many([text], [candidates])[0]

    def choose(self, text: str, candidates: Collection[str], *,
               min_confidence: float = 0.0) -> str | None:
        """The most likely candidate, or None if none is known or its share is below
        ``min_confidence``."""
        shares = self.confidence(text, candidates)
        if not shares:
            return None
        best = max(shares, key=shares.__getitem__)
        return best if shares[best] >= min_confidence else None

    def save(self, folder: str | os.PathLike[str]) -> None:
        """Write the chooser as a folder, atomically (safetensors and JSON only)."""
        with atomic_dir(folder) as tmp:
            self.model.save_parts(tmp)
            (tmp / META_FILE).write_text(json.dumps(
                {"format": FORMAT, "classes": self.classes_, "max_len": self.model.max_len,
                 "base_model": self.model.base_model}, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> FineTunedTargetChooser:
        """A chooser written by :meth:`save`; a wrong folder is a ``ValueError`` naming it."""
        root, meta = read_folder_card(folder, META_FILE, FORMAT)
        return cls(EncoderClassifier.load_parts(
            root, [str(c) for c in meta["classes"]], max_len=int(meta["max_len"]),
            base_model=str(meta.get("base_model", ""))))


def fine_tune_chooser(texts: Sequence[str], candidates: Sequence[Collection[str]],
                      targets: Sequence[str], model: str | os.PathLike[str],
                      config: FineTuneConfig | None = None,
                      log: Callable[[str], None] | None = None
                      ) -> tuple[FineTunedTargetChooser, dict]:
    """Fine-tune the encoder at ``model`` (a folder) to pick ``targets[i]`` among
    ``candidates[i]`` for ``texts[i]``; the chooser and its training stats.

    The classes are the distinct ``targets`` (at least two); ``config.max_texts`` subsamples.
    """
    import torch

    config = config or FineTuneConfig()
    if not len(texts) == len(candidates) == len(targets):
        raise ValueError(f"{len(texts)} texts, {len(candidates)} candidate lists and "
                         f"{len(targets)} targets: one each per text")
    classes = sorted(set(targets))
    if len(classes) < 2:
        raise ValueError(f"at least two distinct targets are needed to learn a choice, "
                         f"not {classes}")
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(len(texts))
    if config.max_texts is not None:
        order = order[:config.max_texts]
    torch.manual_seed(config.seed)
    chooser = FineTunedTargetChooser(
        EncoderClassifier.pretrained(model, classes, max_len=config.max_len))
    column = {c: j for j, c in enumerate(classes)}
    y = np.array([column[targets[i]] for i in order], dtype=np.int64)
    allowed = chooser.allowed([candidates[i] for i in order])
    allowed[~allowed[np.arange(len(y)), y]] = True  # right target not a candidate: all classes
    stats = train(chooser.model, [texts[i] for i in order], y, config, rng, allowed=allowed,
                  log=log)
    return chooser, stats | {"classes": len(classes)}
