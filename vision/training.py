"""Contrastive training of a CLIP on a catalogue's own image–text pairs.

Use it to fine-tune a pretrained CLIP (pass ``base``) or to train a small one from scratch
(no ``base``: :func:`vision.clip_model.new_clip` with a word-level tokenizer over the texts).

Each image may carry several texts (its category, its colour, "colour + category"); each step
draws one per image and, with probability ``template_prob``, wraps it in a prompt template, so
the words of the tagging prompts are learned too. Loss: the symmetric CLIP cross-entropy with two
changes for catalogues. A text is a correct match for every image of the batch it is true of
("red" drawn for one red image is no negative for another red image), and each image is also
scored against up to ``negatives`` other texts of the catalogue, so rare labels are pushed away
too, not only the few a batch of 16 happens to hold. An image whose texts name no colour (all
its texts are colour-free) is of unknown colour, not of none: no text naming a colour is a
negative for it (:func:`unknown_texts`), so a catalogue that names the colour of only some
products does not teach that the others have none of the colours.
Images are decoded once (safely: rejections are reported), a batch at a time, each reduced
right after decoding and turned into the model's pixel tensors before the next batch is read,
so memory holds pixel tensors, never a catalogue of decoded photos; they are augmented by small
random zooms, shifts and flips (no colour changes: colour is a label, :mod:`vision.views`).
Each image is also seen in a second such view, and the two views must pick each other out of
the batch (:func:`vision.views.view_loss`, weight ``view_weight`` beside the text draws'):
that teaches colour from every image, named or not. Looks demo world (half unnamed;
build defaults, seed 0, held out): colour accuracy 0.60 -> 0.97 (0.95 where the record names
none), an image's 10 nearest sharing its colour 57% -> 84%, category 0.33 -> 0.35 (weight 1:
colour 0.89, category 0.21); a second image-tower pass: CPU 55 -> 93 s.

Curriculum: for the first ``free_first`` share of the epochs each image is paired only with its
colour-free texts (its category): colour is so easy to see that a small model trained on all
texts at once matches everything by colour and never learns what a category looks like. After
that each step scores three draws on one pass of the image tower, each in its own softmax: a
colour-free one (weight ``1 - any_weight``), which keeps the categories, one of any text
(weight ``any_weight``), and a colour-only one against all the catalogue's colour texts (weight
``colour_weight``; see :func:`colour_texts`), which keeps colour in the image embeddings. The
weights are relative (divided by their sum). ``any_negatives`` caps the any-text draw's
catalogue negatives (default ``negatives``).

The defaults were chosen on validation splits of the bench's training images (never its
held-out ones; bench/vision_tags.py --validate, mean of 3 seeds): negatives, the draws, the
conv stem of :mod:`vision.clip_model` and the learning rate help only together; larger zooms with
rotations, 16-pixel patches and 16 negatives cost categories; the colour-only draw at 0.25 (vs
none / 0.5) gave fashion category, fashion colour, demo category, demo colour 0.231 0.410 0.211
0.922 (vs 0.256 0.350 0.235 0.858 / 0.239 0.410 0.176 0.961). Held out, against the recipe
before these changes (one draw, no negatives or stem): fashion category 0.244 vs 0.160 (majority
0.173), colour 0.462 vs 0.365; demo category 0.267 vs 0.278, colour 0.878 vs 0.896.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from vision.clip_model import (
    SMALL_IMAGE_SIZE,
    ClipBundle,
    image_processor,
    new_clip,
    processor_side,
)
from vision.images import DEFAULT_LIMITS, ImageLimits, ImageRejection, load_images
from vision.tagging import DEFAULT_TEMPLATES
from vision.views import augment, view_loss


@dataclass(frozen=True, slots=True)
class ImageText:
    """An image file and the texts that describe it (at least one).

    ``colour_free``: texts true of the image whatever its colours ("sneakers"), which the
    trainer's curriculum starts with (see ``free_first``). Texts that are all colour-free
    leave the image's colour unknown (:func:`unknown_texts`).
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
    ``limits`` bound what an image header may claim (:class:`vision.images.ImageLimits`).
    ``num_threads`` caps torch's threads during ``fit`` (1 is much faster on a busy machine:
    two threads spin-wait on each other when other processes hold the cores).
    """

    def __init__(
        self,
        *,
        epochs: int = 40,
        batch_size: int = 16,
        learning_rate: float = 1e-3,
        weight_decay: float = 0.05,
        warmup_fraction: float = 0.1,
        template_prob: float = 0.5,
        templates: Sequence[str] = DEFAULT_TEMPLATES,
        augment: bool = True,
        crop_scale: tuple[float, float] = (0.9, 1.05),
        free_first: float = 0.5,
        any_weight: float = 0.75,
        colour_weight: float = 0.25,
        negatives: int = 32,
        any_negatives: int | None = None,
        view_weight: float = 0.5,
        view_temperature: float = 0.1,
        model_config: dict[str, Any] | None = None,
        limits: ImageLimits = DEFAULT_LIMITS,
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
        self.crop_scale = crop_scale
        self.free_first = free_first
        self.any_weight = any_weight
        self.colour_weight = colour_weight
        self.negatives = negatives
        self.any_negatives = negatives if any_negatives is None else any_negatives
        self.view_weight = view_weight
        self.view_temperature = view_temperature
        self.model_config = model_config
        self.limits = limits
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
        processor = base.processor.image_processor if base is not None else image_processor(
            int((self.model_config or {}).get("image_size", SMALL_IMAGE_SIZE)))
        indices, pixels, rejections = _pixel_values(
            [p.image for p in pairs], processor, self.limits, max(self.batch_size, 64))
        kept = [pairs[i] for i in indices]
        if len(kept) < 2:
            raise TooFewImagesError(
                f"need at least 2 usable images to train, got {len(kept)} of {len(pairs)}",
                rejections)
        if base is None:
            words = [t for p in kept for t in (*p.texts, *p.colour_free)]
            words += [*vocabulary, *self.templates]
            bundle = new_clip(words, seed=self.seed, **(self.model_config or {}))
            origin = "scratch"
        else:
            bundle = base
            origin = "scratch" if base.card.get("origin") == "scratch" else "fine-tuned"
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
        pools = (sorted({t for p in kept for t in (p.colour_free or p.texts)}),
                 sorted({t for p in kept for t in (*p.texts, *p.colour_free)}),
                 sorted({t for p in kept for t in colour_texts(p)}))
        truth_of = [frozenset((*p.texts, *p.colour_free)) for p in kept]
        unknown_of = unknown_texts(kept, pools[1])
        losses: list[float] = []
        with tqdm(total=total, desc=f"train CLIP ({origin})", unit="step",
                  disable=not self.progress) as bar:
            for epoch in range(self.epochs):
                first = epoch < self.free_first * self.epochs  # colour-free texts only
                order = rng.permutation(len(kept))
                epoch_loss = 0.0
                for step in range(per_epoch):
                    idx = order[step * batch : (step + 1) * batch]
                    items = [kept[i] for i in idx]
                    draws, weights = [], []
                    if first or self.any_weight < 1.0:
                        draws.append(self._draw(items, pools[0], rng, free=True))
                        weights.append(1.0 if first else 1.0 - self.any_weight)
                    if not first:
                        draws.append(self._draw(items, pools[1], rng, cap=self.any_negatives))
                        weights.append(self.any_weight)
                    if not first and self.colour_weight > 0 and pools[2]:
                        draws.append(self._draw(items, pools[2], rng, colour=True))
                        weights.append(self.colour_weight)
                    images = pixels[torch.as_tensor(idx)]
                    views = (augment(images, rng, scale=self.crop_scale)
                             if self.view_weight > 0 else None)
                    if self.augment:
                        images = augment(images, rng, scale=self.crop_scale)
                    loss = _contrastive_loss(bundle, images, draws, weights,
                                             [truth_of[i] for i in idx],
                                             [unknown_of[i] for i in idx],
                                             views=views, view_weight=self.view_weight,
                                             view_temperature=self.view_temperature)
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
            n_rejected=len(rejections),
            epochs=self.epochs,
            steps=total,
            final_loss=losses[-1] if losses else float("nan"),
            seconds=time.perf_counter() - start,
            losses=losses,
            rejections=rejections,
        )
        bundle.card = {**bundle.card, "origin": origin, "training": self.report_.summary()}
        self.bundle_ = bundle
        return self

    def _draw(self, batch: list[ImageText], pool: list[str], rng: np.random.Generator, *,
              free: bool = False, colour: bool = False,
              cap: int | None = None) -> list[tuple[str, str]]:
        """One text per image of ``batch`` (a colour-free one if ``free``, a colour-only one if
        ``colour``), then up to ``cap`` (default ``negatives``) other texts of ``pool``."""
        drawn = [self._text(pair, rng, free=free, colour=colour) for pair in batch]
        taken = {text for text, _ in drawn}
        others = [t for t in pool if t not in taken]
        cap = self.negatives if cap is None else cap
        if len(others) > cap:
            others = [others[k] for k in rng.choice(len(others), cap, replace=False)]
        return drawn + [self._prompt(text, rng) for text in others]

    def _prompt(self, text: str, rng: np.random.Generator) -> tuple[str, str]:
        if self.templates and rng.random() < self.template_prob:
            return text, self.templates[int(rng.integers(len(self.templates)))].format(text)
        return text, text

    def _text(self, pair: ImageText, rng: np.random.Generator, *,
              free: bool = False, colour: bool = False) -> tuple[str, str]:
        """A random text of ``pair``: (the text itself, as fed to the model)."""
        options = pair.colour_free if free and pair.colour_free else pair.texts
        if colour:
            options = colour_texts(pair) or options
        return self._prompt(options[int(rng.integers(len(options)))], rng)


class TooFewImagesError(ValueError):
    """Fewer than 2 of the training images could be read: there is nothing to contrast.

    ``rejections``: why the others could not.
    """

    def __init__(self, message: str, rejections: list[ImageRejection]) -> None:
        super().__init__(message)
        self.rejections = rejections


def _pixel_values(paths: Sequence[str], processor: Any, limits: ImageLimits,
                  batch: int) -> tuple[list[int], Any, list[ImageRejection]]:
    """The usable images' positions, their pixel tensors and the rejections, read a batch at a
    time (each batch decoded, reduced to the processor's size and released)."""
    import torch

    fit = processor_side(processor)
    indices: list[int] = []
    parts: list[Any] = []
    rejections: list[ImageRejection] = []
    for start in range(0, len(paths), batch):
        loaded = load_images(paths[start : start + batch], limits=limits, fit=fit)
        rejections += loaded.rejections
        if loaded.images:
            indices += [start + i for i in loaded.indices]
            parts.append(processor(images=loaded.images, return_tensors="pt")["pixel_values"])
    return indices, (torch.cat(parts) if parts else None), rejections


def colour_texts(pair: ImageText) -> tuple[str, ...]:
    """The texts of ``pair`` that name none of its colour-free texts ("red", not "red boots");
    none when ``pair`` has no colour-free texts to tell them by."""
    if not pair.colour_free:
        return ()
    free = [set(f.split()) for f in pair.colour_free]
    return tuple(t for t in pair.texts if not any(f <= set(t.split()) for f in free))


def unknown_texts(pairs: Sequence[ImageText], texts: Collection[str]
                  ) -> list[frozenset[str]]:
    """For each pair, the ``texts`` whose truth for its image is unknown: where the pair has
    colour-free texts but none naming a colour, every text that names one of the colours
    other pairs name ("red", "red boots"); nothing otherwise.

    >>> pairs = [ImageText("a.png", ("red", "boots", "red boots"), colour_free=("boots",)),
    ...          ImageText("b.png", ("bags",), colour_free=("bags",))]
    >>> [sorted(u) for u in unknown_texts(pairs, ["bags", "boots", "red", "red boots"])]
    [[], ['red', 'red boots']]
    """
    colours = [set(c.split()) for c in {c for p in pairs for c in colour_texts(p)}]
    naming = frozenset(t for t in texts if any(c <= set(t.split()) for c in colours))
    return [naming if p.colour_free and not colour_texts(p) else frozenset() for p in pairs]


def _contrastive_loss(bundle: ClipBundle, pixel_values: Any, draws: list[list[tuple[str, str]]],
                      weights: list[float], truths: Sequence[Collection[str]],
                      unknowns: Sequence[Collection[str]] | None = None, *,
                      views: Any | None = None, view_weight: float = 0.0,
                      view_temperature: float = 0.1) -> Any:
    """Weighted mean of symmetric CLIP losses of the images against each list of drawn texts.

    ``draws``: lists of (text, prompt fed to the model), the first ``len(truths)`` one per image
    and the rest extra negatives; ``truths``: each image's true texts. A text matches every image
    of the batch it is true of ("red" drawn for one red image is no negative for another red
    image). ``unknowns``: each image's texts of unknown truth, left out of both softmaxes for
    that image. ``views``: a second view of each image (:func:`vision.views.augment`), whose
    :func:`vision.views.view_loss` joins the mean at ``view_weight``. The image tower runs once
    for all lists and views.
    """
    import torch
    import torch.nn.functional as F

    model = bundle.model
    n = len(truths)
    both = pixel_values if views is None else torch.cat([pixel_values, views])
    images = F.normalize(model.get_image_features(pixel_values=both).pooler_output, dim=-1)
    images, second = images[:n], images[n:]
    total = images.new_zeros(())
    for drawn, weight in zip(draws, weights, strict=True):
        tokens = bundle.tokenizer([prompt for _, prompt in drawn], padding=True,
                                  truncation=True, return_tensors="pt")
        texts = F.normalize(model.get_text_features(
            input_ids=tokens["input_ids"], attention_mask=tokens["attention_mask"]
        ).pooler_output, dim=-1)
        logits = model.logit_scale.exp() * images @ texts.T
        same = torch.as_tensor([[text in truth for text, _ in drawn] for truth in truths]).float()
        if unknowns is not None:  # a large negative, not -inf: a 0 target times -inf is nan
            hidden = torch.as_tensor([[text in u for text, _ in drawn] for u in unknowns])
            logits = logits.masked_fill(hidden, -1e4)
        to_text = same / same.sum(dim=1, keepdim=True)
        to_image = same[:, :n].T / same[:, :n].T.sum(dim=1, keepdim=True)
        total = total + weight * 0.5 * (
            F.cross_entropy(logits, to_text) + F.cross_entropy(logits[:, :n].T, to_image))
    if views is not None and view_weight > 0:
        total = total + view_weight * view_loss(images, second, temperature=view_temperature)
        return total / (sum(weights) + view_weight)
    return total / sum(weights)
