"""Contrastive training of a CLIP on a catalogue's own image–text pairs.

Use it to fine-tune a pretrained CLIP (pass ``base``) or to train a small one from scratch
(no ``base``: :func:`vision.clip_model.new_clip` with a word-level tokenizer over the texts).

Each image may carry several texts (its title, its category, "colour + category"); every epoch
one is drawn at random and, with probability ``template_prob``, wrapped in a prompt template, so
the words of the tagging prompts are learned too. Loss: the symmetric CLIP cross-entropy, with
one change for catalogues: two pairs of a batch whose texts are identical ("sneakers") are both
correct matches, so the target is spread over them instead of calling one a negative.
Images are decoded once (safely: rejections are reported), augmented by random flips and shifts.
Curriculum: for the first ``free_first`` share of the epochs each image is paired only with its
colour-free texts (its category): colour is so easy to see that a small model trained on all
texts at once matches everything by colour and never learns what a category looks like.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from vision.clip_model import ClipBundle, new_clip
from vision.images import DEFAULT_MAX_PIXELS, ImageRejection, load_images
from vision.tagging import DEFAULT_TEMPLATES


@dataclass(frozen=True, slots=True)
class ImageText:
    """An image file and the texts that describe it (at least one).

    ``colour_free``: texts true of the image whatever its colours ("sneakers"), which the
    trainer's curriculum starts with (see ``free_first``).
    """

    image: str
    texts: tuple[str, ...]
    colour_free: tuple[str, ...] = ()


@dataclass(slots=True)
class TrainingReport:
    """What a training run did."""

    n_pairs: int
    n_rejected: int
    epochs: int
    steps: int
    final_loss: float
    seconds: float
    losses: list[float] = field(default_factory=list)  # mean loss per epoch
    rejections: list[ImageRejection] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """JSON-ready summary (no per-image rejections)."""
        out = asdict(self)
        out.pop("rejections")
        return out


class ClipTrainer:
    """Contrastive CLIP training with explicit hyper-parameters; ``fit`` sets ``bundle_``.

    ``model_config`` (from-scratch only) goes to :func:`vision.clip_model.small_clip_config`.
    ``num_threads`` caps torch's threads during ``fit`` (1 is much faster on a busy machine:
    two threads spin-wait on each other when other processes hold the cores).
    """

    def __init__(
        self,
        *,
        epochs: int = 40,
        batch_size: int = 16,
        learning_rate: float = 5e-4,
        weight_decay: float = 0.05,
        warmup_fraction: float = 0.1,
        template_prob: float = 0.5,
        templates: Sequence[str] = DEFAULT_TEMPLATES,
        augment: bool = True,
        free_first: float = 0.5,
        model_config: dict[str, Any] | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        seed: int = 0,
        num_threads: int | None = None,
        progress: bool = True,
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.warmup_fraction = warmup_fraction
        self.template_prob = template_prob
        self.templates = templates
        self.augment = augment
        self.free_first = free_first
        self.model_config = model_config
        self.max_pixels = max_pixels
        self.seed = seed
        self.num_threads = num_threads
        self.progress = progress

    def fit(
        self,
        pairs: Sequence[ImageText],
        *,
        base: ClipBundle | None = None,
        vocabulary: Sequence[str] = (),
    ) -> ClipTrainer:
        """Train on ``pairs``; ``base`` is fine-tuned, else a small CLIP is made from scratch.

        ``vocabulary``: extra texts whose words a from-scratch tokenizer must know (label names).
        """
        import torch

        threads = torch.get_num_threads()
        if self.num_threads:
            torch.set_num_threads(self.num_threads)
        try:
            return self._fit(pairs, base=base, vocabulary=vocabulary)
        finally:
            torch.set_num_threads(threads)

    def _fit(
        self, pairs: Sequence[ImageText], *, base: ClipBundle | None, vocabulary: Sequence[str]
    ) -> ClipTrainer:
        import torch
        from tqdm.auto import tqdm

        start = time.perf_counter()
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        loaded = load_images([p.image for p in pairs], max_pixels=self.max_pixels)
        kept = [pairs[i] for i in loaded.indices]
        if len(kept) < 2:
            raise ValueError(f"need at least 2 usable images to train, got {len(kept)}")
        if base is None:
            words = [t for p in kept for t in (*p.texts, *p.colour_free)]
            words += [*vocabulary, *self.templates]
            bundle = new_clip(words, seed=self.seed, **(self.model_config or {}))
            origin = "scratch"
        else:
            bundle = base
            origin = "scratch" if base.card.get("origin") == "scratch" else "fine-tuned"
        pixels = bundle.processor.image_processor(images=loaded.images,
                                                  return_tensors="pt")["pixel_values"]
        model = bundle.model.train()
        optimiser = torch.optim.AdamW(model.parameters(), lr=self.learning_rate,
                                      weight_decay=self.weight_decay)
        batch = min(self.batch_size, len(kept))
        per_epoch = len(kept) // batch
        total = per_epoch * self.epochs
        warmup = max(1, int(self.warmup_fraction * total))
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimiser, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + np.cos(np.pi * s / total))
        )
        losses: list[float] = []
        with tqdm(total=total, desc=f"train CLIP ({origin})", unit="step",
                  disable=not self.progress) as bar:
            for epoch in range(self.epochs):
                first = epoch < self.free_first * self.epochs  # colour-free texts only
                order = rng.permutation(len(kept))
                epoch_loss = 0.0
                for step in range(per_epoch):
                    idx = order[step * batch : (step + 1) * batch]
                    texts = [self._text(kept[i], rng, free=first) for i in idx]
                    images = pixels[torch.as_tensor(idx)]
                    if self.augment:
                        images = _augment(images, rng)
                    loss = _contrastive_loss(bundle, images, texts)
                    optimiser.zero_grad(set_to_none=True)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                    optimiser.step()
                    schedule.step()
                    with torch.no_grad():  # CLIP's clamp: keep the temperature sane
                        model.logit_scale.clamp_(0, float(np.log(100)))
                    epoch_loss += loss.item()
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss.item():.3f}")
                losses.append(epoch_loss / max(per_epoch, 1))
        model.eval()
        self.report_ = TrainingReport(
            n_pairs=len(kept),
            n_rejected=len(loaded.rejections),
            epochs=self.epochs,
            steps=total,
            final_loss=losses[-1] if losses else float("nan"),
            seconds=time.perf_counter() - start,
            losses=losses,
            rejections=loaded.rejections,
        )
        bundle.card = {**bundle.card, "origin": origin, "training": self.report_.summary()}
        self.bundle_ = bundle
        return self

    def _text(self, pair: ImageText, rng: np.random.Generator, *, free: bool = False) -> str:
        options = pair.colour_free if free and pair.colour_free else pair.texts
        text = options[int(rng.integers(len(options)))]
        if self.templates and rng.random() < self.template_prob:
            text = self.templates[int(rng.integers(len(self.templates)))].format(text)
        return text


def _augment(images: Any, rng: np.random.Generator) -> Any:
    """Random horizontal flips and shifts of up to 1/8 of the side (edge-replicated)."""
    import torch
    import torch.nn.functional as F

    n, _, h, w = images.shape
    pad = max(1, h // 8)
    padded = F.pad(images, (pad, pad, pad, pad), mode="replicate")
    dy = rng.integers(0, 2 * pad + 1, size=n)
    dx = rng.integers(0, 2 * pad + 1, size=n)
    out = torch.stack([padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(n)])
    flip = torch.as_tensor(rng.random(n) < 0.5)
    return torch.where(flip[:, None, None, None], out.flip(-1), out)


def _contrastive_loss(bundle: ClipBundle, pixel_values: Any, texts: list[str]) -> Any:
    """Symmetric CLIP loss with identical texts counted as matches of each other."""
    import torch
    import torch.nn.functional as F

    tokens = bundle.tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
    out = bundle.model(input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"],
                       pixel_values=pixel_values)
    logits = out.logits_per_image
    ids = {t: k for k, t in enumerate(dict.fromkeys(texts))}
    key = torch.as_tensor([ids[t] for t in texts])
    same = (key[:, None] == key[None, :]).float()
    target = same / same.sum(dim=1, keepdim=True)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))
