"""Vision over a catalogue: train a CLIP on its images, tag and embed every image.

This is what the build calls. Labels are the catalogue's own visual vocabulary: the *leaf*
category of each product (``kg.schema.category_id`` of its full path; general categories follow
from the graph's ``broader`` edges, and letting "shoes" compete with "sneakers" in one softmax
would split the score) and its colour attribute as a concept (``concept:red``).

- :func:`train_catalogue_clip`: hold out a seeded fraction of the products with images, train
  (from scratch, or fine-tune ``base``) on the rest, save atomically.
- :func:`tag_catalogue`: embed every image once, calibrate the tag threshold on the held-out
  products (micro-F1), report held-out top-1 category and colour accuracy, and return
  ``depicts`` tags (``image:<path>`` → node, score as weight), embeddings and rejections.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from kg.records import Product
from kg.schema import category_id, concept_id, image_id
from vision.clip_model import ClipBundle, save_clip
from vision.embed import ImageEmbeddings, embed_image_files
from vision.images import (
    DEFAULT_LIMITS,
    ImageLimits,
    ImageRejectedError,
    ImageRejection,
    contained_path,
)
from vision.tagging import Calibration, ClipTagger, ImageTag
from vision.training import ClipTrainer, ImageText, TooFewImagesError, TrainingReport

COLOUR_KEYS: tuple[str, ...] = ("colour", "color", "baseColour")


#: The label groups tags are measured in: (group name, label prefix).
TAG_GROUPS: tuple[tuple[str, str], ...] = (("category", "category:"), ("colour", "concept:"))


def tag_group(label: str) -> str | None:
    """The group of a tag label (``concept:red`` -> colour), None outside the groups."""
    return next((group for group, prefix in TAG_GROUPS if label.startswith(prefix)), None)


def _colour(product: Product) -> str | None:
    for key in COLOUR_KEYS:
        value = product.attributes.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def visual_truth(product: Product) -> list[str]:
    """The node ids an image of ``product`` should depict: its leaf category and colour."""
    out = [category_id(product.categories)] if product.categories else []
    colour = _colour(product)
    if colour:
        out.append(concept_id(colour))
    return out


def visual_labels(products: Iterable[Product]) -> dict[str, str]:
    """Label node id → prompt text over the catalogue (leaf categories, colours), sorted."""
    labels: dict[str, str] = {}
    for p in products:
        if p.categories:
            labels[category_id(p.categories)] = p.categories[-1].lower()
        colour = _colour(p)
        if colour:
            labels[concept_id(colour)] = colour.lower()
    return dict(sorted(labels.items()))


def product_texts(product: Product) -> tuple[str, ...]:
    """The texts a product's image is trained against: its leaf category, colour, and both.

    Not the title: a title names one product, and a small CLIP trained from scratch spends
    its few hundred images on memorising titles (demo world, held-out: colour accuracy 0.53
    with titles, 0.80 without, category 0.46 and 0.43).
    """
    leaf = product.categories[-1].lower() if product.categories else None
    colour = _colour(product)
    colour = colour.lower() if colour else None
    texts = [t for t in (leaf, colour) if t]
    if leaf and colour:
        texts.append(f"{colour} {leaf}")
    return tuple(texts) or (product.title,)


def locate_images(paths: Iterable[str], root: str | os.PathLike[str]
                  ) -> tuple[list[str], list[str], list[ImageRejection]]:
    """Record image paths inside the dataset folder ``root``: (record paths, file paths) of the
    ones that stay inside, and a rejection for each that leads out
    (:func:`vision.images.contained_path`)."""
    kept: list[str] = []
    files: list[str] = []
    rejected: list[ImageRejection] = []
    for path in paths:
        try:
            files.append(str(contained_path(path, root)))
        except ImageRejectedError as err:
            rejected.append(err.rejection)
            continue
        kept.append(path)
    return kept, files, rejected


def with_images(products: Iterable[Product]) -> list[Product]:
    """The products that name an image."""
    return [p for p in products if p.image]


def split_products(
    products: Sequence[Product], *, heldout_fraction: float = 0.2, seed: int = 0
) -> tuple[list[Product], list[Product]]:
    """A seeded (train, held-out) split of the products with images."""
    items = with_images(products)
    order = np.random.default_rng(seed).permutation(len(items))
    n_held = max(1, round(heldout_fraction * len(items))) if len(items) > 1 else 0
    return [items[i] for i in order[n_held:]], [items[i] for i in order[:n_held]]


@dataclass(slots=True)
class TrainedClip:
    """A CLIP trained on a catalogue, with its run report and the held-out product ids."""

    bundle: ClipBundle
    report: TrainingReport
    heldout: list[str]


def train_catalogue_clip(
    products: Sequence[Product],
    root: str | os.PathLike[str],
    out_dir: str | os.PathLike[str] | None = None,
    *,
    trainer: ClipTrainer | None = None,
    base: ClipBundle | None = None,
    heldout_fraction: float = 0.2,
    seed: int = 0,
) -> TrainedClip:
    """Train a CLIP on the catalogue's image–text pairs minus a held-out split; save if asked.

    Images whose path leads out of ``root`` are not trained on (:func:`tag_catalogue`
    quarantines them); raises :class:`vision.training.TooFewImagesError` (with every training
    image's rejection) when fewer than 2 images can be read.
    """
    train, held = split_products(products, heldout_fraction=heldout_fraction, seed=seed)
    images, files, outside = locate_images([p.image or "" for p in train], root)
    file_of = dict(zip(images, files, strict=True))
    pairs = [ImageText(file_of[p.image], product_texts(p),
                       colour_free=tuple(c.lower() for c in p.categories[-1:]))
             for p in train if p.image in file_of]
    try:
        fitted = (trainer or ClipTrainer(seed=seed)).fit(
            pairs, base=base, vocabulary=list(visual_labels(products).values())
        )
    except TooFewImagesError as err:
        err.rejections[:0] = outside
        raise
    bundle = fitted.bundle_
    bundle.card["heldout_products"] = len(held)
    if out_dir is not None:
        save_clip(bundle, out_dir)
    return TrainedClip(bundle=bundle, report=fitted.report_, heldout=[p.id for p in held])


@dataclass(slots=True)
class VisionResult:
    """Everything vision adds to a build; ``clip`` says plainly which CLIP made it."""

    clip: str
    tags: list[ImageTag]
    embeddings: ImageEmbeddings
    rejections: list[ImageRejection]
    calibration: Calibration | None
    heldout_accuracy: dict[str, float] = field(default_factory=dict)
    heldout_baseline: dict[str, float] = field(default_factory=dict)  # majority-label share
    n_heldout: int = 0


def tag_catalogue(
    bundle: ClipBundle,
    products: Sequence[Product],
    root: str | os.PathLike[str],
    *,
    heldout: Iterable[str] = (),
    extra_images: Sequence[str] = (),
    labels: dict[str, str] | None = None,
    batch_size: int = 64,
    limits: ImageLimits = DEFAULT_LIMITS,
    progress: bool = True,
) -> VisionResult:
    """Embed and tag every product image (and ``extra_images``, e.g. post photos).

    ``heldout``: product ids not trained on; their labels calibrate the threshold and give the
    accuracy figures. Without them the tagger keeps its default threshold. An image whose path
    leads out of ``root``, or that cannot be read or breaks ``limits``, is a rejection.
    """
    paths, files, outside = locate_images(
        dict.fromkeys([p.image for p in with_images(products) if p.image] + list(extra_images)),
        root)
    embeddings = embed_image_files(
        bundle, files, ids=[image_id(p) for p in paths], batch_size=batch_size, limits=limits,
        progress=progress,
    )
    embeddings.rejections[:0] = outside
    tagger = ClipTagger(bundle, labels or visual_labels(products))
    row_of = {node: i for i, node in enumerate(embeddings.ids)}
    held_ids = set(heldout)
    held = [p for p in with_images(products)
            if p.id in held_ids and image_id(p.image or "") in row_of]
    accuracy: dict[str, float] = {}
    baseline: dict[str, float] = {}
    if held:
        rows = np.array([row_of[image_id(p.image or "")] for p in held])
        truth = [visual_truth(p) for p in held]
        tagger.fit(embeddings.vectors[rows], truth)
        for group, prefix in TAG_GROUPS:
            gold = [next((t for t in ts if t.startswith(prefix)), None) for ts in truth]
            if prefix[:-1] in tagger.group_names_ and any(gold):
                guess = tagger.predict(embeddings.vectors[rows], prefix[:-1])
                scored = [(g, y) for g, y in zip(guess, gold, strict=True) if y]
                accuracy[group] = float(np.mean([g == y for g, y in scored]))
                majority = Counter(y for _, y in scored).most_common(1)[0][1]
                baseline[group] = majority / len(scored)
    else:
        tagger.fit()
    return VisionResult(
        clip=bundle.describe(),
        tags=tagger.tags(embeddings.ids, embeddings.vectors),
        embeddings=embeddings,
        rejections=embeddings.rejections,
        calibration=tagger.calibration_,
        heldout_accuracy=accuracy,
        heldout_baseline=baseline,
        n_heldout=len(held),
    )
