"""Fine-tuning a sentence encoder end to end with a linear layer over its mean-pooled states.

The shared core of :mod:`nlp.sentiment_finetune` (positive/negative/neutral) and
:mod:`nlp.target_finetune` (which of a text's candidate targets it is about). The encoder (by
default the packaged all-MiniLM-L6-v2, loaded with ``AutoModel`` from its folder) is trained
with AdamW, linear warm-up then decay, its word embeddings frozen (a third of the parameters,
and the words missing from the training text keep their pre-trained place). A text may be
restricted to some classes (``allowed``): its softmax is taken over those alone, in training
and in prediction.

Saved as ``encoder/`` (``save_pretrained``, safetensors, with its tokenizer) and
``classifier.safetensors`` (the linear layer) inside a folder the caller writes atomically with
its own JSON card. Nothing is pickled.
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

if TYPE_CHECKING:
    import torch

CLASSIFIER_FILE = "classifier.safetensors"
ENCODER_DIR = "encoder"


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


class EncoderClassifier:
    """An encoder, its tokenizer and a linear layer over ``classes``; ``view`` (if any) rewrites
    each text before tokenising."""

    def __init__(self, encoder: torch.nn.Module, tokenizer: Callable, classifier: torch.nn.Linear,
                 classes: Sequence[str], *, max_len: int = 64, base_model: str = "",
                 view: Callable[[str], str] | None = None) -> None:
        self.encoder, self.tokenizer, self.classifier = encoder, tokenizer, classifier
        self.classes_ = list(classes)
        self.max_len = max_len
        self.base_model = base_model
        self.view = view

    @classmethod
    def pretrained(cls, model: str | os.PathLike[str], classes: Sequence[str], *,
                   max_len: int = 64, view: Callable[[str], str] | None = None
                   ) -> EncoderClassifier:
        """The encoder at ``model`` (a folder or name) with a new linear layer."""
        import torch
        from transformers import AutoModel, AutoTokenizer

        encoder = AutoModel.from_pretrained(model)
        tokenizer = AutoTokenizer.from_pretrained(model)
        classifier = torch.nn.Linear(encoder.config.hidden_size, len(classes))
        return cls(encoder, tokenizer, classifier, classes, max_len=max_len,
                   base_model=str(model), view=view)

    def logits(self, batch: Sequence[str]) -> torch.Tensor:
        """The linear layer over the mean-pooled token states of ``batch``."""
        texts = [self.view(t) for t in batch] if self.view is not None else list(batch)
        enc = self.tokenizer(texts, padding=True, truncation=True, max_length=self.max_len,
                             return_tensors="pt")
        states = self.encoder(input_ids=enc["input_ids"],
                              attention_mask=enc["attention_mask"]).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(states.dtype)
        pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.classifier(pooled)

    def predict_proba(self, texts: Sequence[str], *, allowed: np.ndarray | None = None,
                      batch_size: int = 64) -> np.ndarray:
        """Class probabilities (columns in ``classes_`` order); with ``allowed`` (texts x
        classes, bool) each row's softmax is over its allowed classes (a zero row if none)."""
        import torch

        texts = [t if isinstance(t, str) else "" for t in texts]
        self.encoder.eval()
        rows = []
        with torch.inference_mode():
            for i in range(0, len(texts), batch_size):
                logits = self.logits(texts[i:i + batch_size])
                if allowed is not None:
                    logits = logits.masked_fill(
                        ~torch.as_tensor(allowed[i:i + batch_size]), float("-inf"))
                rows.append(torch.softmax(logits, -1).nan_to_num(0.0).numpy())
        proba = np.concatenate(rows) if rows else np.zeros((0, len(self.classes_)))
        return proba.astype(np.float32)

    def save_parts(self, folder: Path) -> None:
        """Write ``encoder/`` and the linear layer into ``folder`` (the caller's atomic dir)."""
        from safetensors.torch import save_file

        self.encoder.save_pretrained(folder / ENCODER_DIR, safe_serialization=True)
        self.tokenizer.save_pretrained(folder / ENCODER_DIR)
        save_file({k: v.detach().contiguous() for k, v in self.classifier.state_dict().items()},
                  str(folder / CLASSIFIER_FILE))

    @classmethod
    def load_parts(cls, folder: Path, classes: Sequence[str], *, max_len: int,
                   base_model: str = "", view: Callable[[str], str] | None = None
                   ) -> EncoderClassifier:
        """What :meth:`save_parts` wrote, for ``classes`` as the card lists them."""
        import torch
        from safetensors.torch import load_file
        from transformers import AutoModel, AutoTokenizer

        encoder = AutoModel.from_pretrained(folder / ENCODER_DIR).eval()
        tokenizer = AutoTokenizer.from_pretrained(folder / ENCODER_DIR)
        classifier = torch.nn.Linear(encoder.config.hidden_size, len(classes))
        classifier.load_state_dict(load_file(str(folder / CLASSIFIER_FILE)))
        return cls(encoder, tokenizer, classifier, classes, max_len=max_len,
                   base_model=base_model, view=view)


def read_folder_card(folder: str | os.PathLike[str], card: str, fmt: str) -> tuple[Path, dict]:
    """The model folder at ``folder`` and its JSON ``card`` (whose "format" must be ``fmt``),
    checked to hold what :meth:`EncoderClassifier.save_parts` writes, without loading the model
    (a ``ValueError`` naming the folder if it is not such a folder)."""
    from kg.atomic import resolve_artifact_dir

    root = resolve_artifact_dir(folder)
    try:
        meta = json.loads((root / card).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{folder}: no readable {card} ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != fmt:
        raise ValueError(f"{folder}: not a {fmt} folder")
    missing = [name for name in (CLASSIFIER_FILE, f"{ENCODER_DIR}/config.json")
               if not (root / name).is_file()]
    if missing:
        raise ValueError(f"{folder}: missing {', '.join(missing)}")
    return root, meta


def train(model: EncoderClassifier, texts: Sequence[str], y: np.ndarray,
          config: FineTuneConfig, rng: np.random.Generator, *,
          allowed: np.ndarray | None = None, class_weight: np.ndarray | None = None,
          log: Callable[[str], None] | None = None) -> dict:
    """Train ``model`` in place on ``texts`` with class indices ``y`` (cross-entropy, weighted
    by ``class_weight``; over each text's ``allowed`` classes if given); its stats.

    ``rng`` shuffles each epoch; seed torch before building ``model`` for a repeatable run.
    ``log`` receives a progress line about every 10% of the steps.
    """
    import torch

    start = time.perf_counter()
    encoder, classifier = model.encoder, model.classifier
    encoder.get_input_embeddings().weight.requires_grad_(False)
    optimiser = torch.optim.AdamW(
        [{"params": [p for p in encoder.parameters() if p.requires_grad], "lr": config.lr},
         {"params": classifier.parameters(), "lr": config.head_lr}],
        weight_decay=config.weight_decay)
    per_epoch = -(-len(texts) // config.batch_size)
    total = per_epoch * config.epochs
    warm = max(1, int(config.warmup * total))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    weight = None if class_weight is None else torch.tensor(class_weight, dtype=torch.float32)
    losses: list[float] = []
    encoder.train()
    for epoch in range(config.epochs):
        shuffle = rng.permutation(len(texts))
        for b in range(per_epoch):
            idx = shuffle[b * config.batch_size:(b + 1) * config.batch_size]
            logits = model.logits([texts[i] for i in idx])
            if allowed is not None:
                logits = logits.masked_fill(~torch.as_tensor(allowed[idx]), float("-inf"))
            loss = torch.nn.functional.cross_entropy(logits, torch.as_tensor(y[idx]),
                                                     weight=weight)
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
    return {"texts": len(texts), "steps": total, "config": asdict(config),
            "final_loss": round(float(np.mean(losses[-50:])), 4),
            "seconds": round(time.perf_counter() - start, 1)}
