"""A sentiment classifier made by fine-tuning the sentence encoder itself, not only a head on it.

:class:`nlp.sentiment_head.SentimentHead` learns a linear map over frozen embeddings. Here the
transformer (by default the packaged all-MiniLM-L6-v2, loaded with ``AutoModel`` from its
folder) is trained end to end with a linear layer over its mean-pooled token states: AdamW,
linear warm-up then decay, class-balanced cross-entropy (so, like the head's balanced fit, its
probabilities assume uniform class priors), word embeddings frozen (a third of the parameters,
and the words missing from the training text keep their pre-trained place). It reads each
text's :func:`nlp.sentiment_data.sentiment_view`, truncated to ``max_len`` tokens.

Saved as a folder (written atomically): ``encoder/`` (``save_pretrained``, safetensors, with
its tokenizer), ``classifier.safetensors`` (the linear layer) and ``sentiment.json`` (format,
classes, settings). Nothing is pickled. ``score`` follows the head's convention: sign of
p(positive) - p(negative), magnitude above ``NEUTRAL_BAND`` exactly when neutral is not the
most probable class.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kg.atomic import atomic_dir, resolve_artifact_dir
from nlp.sentiment_data import LABELS, sentiment_view
from nlp.sentiment_head import signed_confidence

if TYPE_CHECKING:
    import torch

FORMAT = "shopgraph.sentiment_finetuned/1"
META_FILE = "sentiment.json"


@dataclass(frozen=True, slots=True)
class FineTuneConfig:
    """Training settings; ``max_texts`` subsamples the training set (seeded) to bound time."""

    epochs: int = 1
    batch_size: int = 32
    max_len: int = 64
    lr: float = 5e-5
    head_lr: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.1
    max_texts: int | None = None
    seed: int = 0


class FineTunedSentiment:
    """A fine-tuned encoder with a linear layer -> positive/negative/neutral probabilities."""

    def __init__(self, encoder: torch.nn.Module, tokenizer: Callable, classifier: torch.nn.Linear,
                 classes: list[str], *, max_len: int = 64, base_model: str = "") -> None:
        self.encoder, self.tokenizer, self.classifier = encoder, tokenizer, classifier
        self.classes_ = list(classes)
        self.max_len = max_len
        self.base_model = base_model

    def _logits(self, batch: list[str]) -> torch.Tensor:
        enc = self.tokenizer([sentiment_view(t) for t in batch], padding=True, truncation=True,
                             max_length=self.max_len, return_tensors="pt")
        states = self.encoder(input_ids=enc["input_ids"],
                              attention_mask=enc["attention_mask"]).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(states.dtype)
        pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.classifier(pooled)

    def predict_proba(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """Class probabilities, columns in ``classes_`` order."""
        import torch

        texts = [t if isinstance(t, str) else "" for t in texts]
        self.encoder.eval()
        rows = []
        with torch.inference_mode():
            for i in range(0, len(texts), batch_size):
                rows.append(torch.softmax(self._logits(texts[i:i + batch_size]), -1).numpy())
        proba = np.concatenate(rows) if rows else np.zeros((0, len(self.classes_)))
        return proba.astype(np.float32)

    def predict(self, texts: Sequence[str]) -> list[str]:
        """The most probable label of each text."""
        proba = self.predict_proba(texts)
        return [self.classes_[i] for i in proba.argmax(axis=1)]

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """Signed confidence per text in [-1, 1], as :meth:`SentimentHead.score`."""
        return signed_confidence(self.predict_proba(texts), self.classes_)

    def save(self, folder: str | os.PathLike[str]) -> None:
        """Write the model as a folder, atomically (safetensors and JSON only)."""
        from safetensors.torch import save_file

        with atomic_dir(folder) as tmp:
            self.encoder.save_pretrained(tmp / "encoder", safe_serialization=True)
            self.tokenizer.save_pretrained(tmp / "encoder")
            save_file({k: v.detach().contiguous() for k, v in self.classifier.state_dict().items()},
                      str(tmp / "classifier.safetensors"))
            (tmp / META_FILE).write_text(json.dumps(
                {"format": FORMAT, "classes": self.classes_, "max_len": self.max_len,
                 "base_model": self.base_model}, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, folder: str | os.PathLike[str]) -> FineTunedSentiment:
        """A model written by :meth:`save`; a wrong folder is a ``ValueError`` naming it."""
        import torch
        from safetensors.torch import load_file
        from transformers import AutoModel, AutoTokenizer

        root, meta = read_card(folder)
        classes = [str(c) for c in meta["classes"]]
        encoder = AutoModel.from_pretrained(root / "encoder").eval()
        tokenizer = AutoTokenizer.from_pretrained(root / "encoder")
        weights = load_file(str(root / "classifier.safetensors"))
        classifier = torch.nn.Linear(encoder.config.hidden_size, len(classes))
        classifier.load_state_dict(weights)
        return cls(encoder, tokenizer, classifier, classes, max_len=int(meta["max_len"]),
                   base_model=str(meta.get("base_model", "")))


def read_card(folder: str | os.PathLike[str]) -> tuple[Path, dict]:
    """The folder a :meth:`FineTunedSentiment.save` wrote and its ``sentiment.json``, checked
    without loading the model (a ``ValueError`` naming the folder if it is not one)."""
    root = resolve_artifact_dir(folder)
    try:
        meta = json.loads((root / META_FILE).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{folder}: no readable {META_FILE} ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{folder}: not a {FORMAT} folder")
    classes = [str(c) for c in meta.get("classes", [])]
    if sorted(classes) != sorted(LABELS):
        raise ValueError(f"{folder}: classes {classes} are not {list(LABELS)}")
    missing = [name for name in ("classifier.safetensors", "encoder/config.json")
               if not (root / name).is_file()]
    if missing:
        raise ValueError(f"{folder}: missing {', '.join(missing)}")
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
    import copy

    import torch
    from transformers import AutoModel, AutoTokenizer

    config = config or FineTuneConfig()
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    missing = set(LABELS) - set(labels)
    if missing:
        raise ValueError(f"no training text labelled {sorted(missing)}")
    start = time.perf_counter()
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
        encoder, classifier = tuned.encoder, tuned.classifier
    else:
        encoder = AutoModel.from_pretrained(model)
        tokenizer = AutoTokenizer.from_pretrained(model)
        classifier = torch.nn.Linear(encoder.config.hidden_size, len(classes))
        tuned = FineTunedSentiment(encoder, tokenizer, classifier, classes,
                                   max_len=config.max_len, base_model=str(model))
    encoder.get_input_embeddings().weight.requires_grad_(False)
    optimiser = torch.optim.AdamW(
        [{"params": [p for p in encoder.parameters() if p.requires_grad], "lr": config.lr},
         {"params": classifier.parameters(), "lr": config.head_lr}],
        weight_decay=config.weight_decay)
    per_epoch = -(-len(order) // config.batch_size)
    total = per_epoch * config.epochs
    warm = max(1, int(config.warmup * total))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    loss_fn = torch.nn.CrossEntropyLoss(
        weight=torch.tensor(len(y) / (len(classes) * counts), dtype=torch.float32))
    picked = [texts[i] for i in order]
    losses: list[float] = []
    encoder.train()
    for epoch in range(config.epochs):
        shuffle = rng.permutation(len(order))
        for b in range(per_epoch):
            idx = shuffle[b * config.batch_size:(b + 1) * config.batch_size]
            loss = loss_fn(tuned._logits([picked[i] for i in idx]), torch.as_tensor(y[idx]))
            loss.backward()
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            losses.append(loss.item())
            step = epoch * per_epoch + b + 1
            if log is not None and (step % max(1, total // 10) == 0 or step == total):
                log(f"step {step}/{total} loss {np.mean(losses[-50:]):.3f} "
                    f"{time.perf_counter() - start:.0f} s")
    encoder.eval()
    stats = {"texts": len(order), "steps": total, "config": asdict(config),
             "final_loss": round(float(np.mean(losses[-50:])), 4),
             "seconds": round(time.perf_counter() - start, 1)}
    return tuned, stats
