"""Zero-shot CLIP tags over the graph's category and concept vocabulary.

Each label is a graph node id (``category:fashion/shoes/sneakers``, ``concept:red``); its text is
the node's last path segment with dashes as spaces ("sneakers"), or a text you give. A label's
text embedding is the mean of its prompt-template embeddings (CLIP's prompt ensembling).

Scores. Raw CLIP cosines are not comparable across labels, so an image's scores are a softmax
over the labels of one *group* (by default the node type: categories compete with categories,
concepts with concepts), at the model's own logit scale. A score is then "how much more this
label fits than its rivals", in [0, 1].

Threshold. One global threshold, calibrated on a held-out split to maximise micro-F1 over all
(image, label) decisions (:meth:`ClipTagger.fit`). Global rather than per-label because a
catalogue's held-out split has only a few positives per label; a per-label threshold would fit
those few images. Tags at or above it become ``depicts`` edges with the score as weight.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from vision.clip_model import ClipBundle
from vision.embed import embed_texts

DEFAULT_TEMPLATES: tuple[str, ...] = (
    "a photo of {}.",
    "a product photo of a {}.",
    "{}",
)


@dataclass(frozen=True, slots=True)
class ImageTag:
    """``image`` depicts the node ``label`` with confidence ``score``."""

    image: str
    label: str
    score: float


@dataclass(frozen=True, slots=True)
class Calibration:
    """The threshold chosen on held-out images and the micro-F1 it reached there."""

    threshold: float
    f1: float
    precision: float
    recall: float
    n_images: int


def label_text(node_id: str) -> str:
    """The words a node id stands for.

    >>> label_text("category:fashion/shoes/running-shoes"), label_text("concept:red")
    ('running shoes', 'red')
    """
    raw = node_id.partition(":")[2] or node_id
    return raw.rsplit("/", 1)[-1].replace("-", " ").replace("_", " ")


def best_f1_threshold(scores: np.ndarray, truth: np.ndarray) -> Calibration:
    """The score cut maximising micro-F1 of ``scores >= cut`` against boolean ``truth``."""
    flat, gold = scores.ravel(), truth.ravel().astype(bool)
    n_pos = int(gold.sum())
    if n_pos == 0 or flat.size == 0:
        raise ValueError("calibration needs at least one true (image, label) pair")
    order = np.argsort(-flat, kind="stable")
    sorted_scores, hits = flat[order], gold[order]
    tp = np.cumsum(hits)
    predicted = np.arange(1, flat.size + 1)
    # Only cut between distinct scores: ties are all in or all out.
    last_of_run = np.r_[sorted_scores[1:] != sorted_scores[:-1], True]
    f1 = np.where(last_of_run, 2 * tp / (predicted + n_pos), -1.0)
    best = int(np.argmax(f1))
    return Calibration(
        threshold=float(sorted_scores[best]),
        f1=float(f1[best]),
        precision=float(tp[best] / predicted[best]),
        recall=float(tp[best] / n_pos),
        n_images=int(scores.shape[0]),
    )


class ClipTagger:
    """Zero-shot tagger: label prompts are embedded once, images are scored by embedding.

    >>> # tagger = ClipTagger(bundle, ["category:shoes", "concept:red"]).fit(emb, true_ids)
    >>> # tagger.tags(image_ids, emb) -> [ImageTag(...), ...]
    """

    def __init__(
        self,
        bundle: ClipBundle,
        labels: Sequence[str] | Mapping[str, str],
        *,
        templates: Sequence[str] = DEFAULT_TEMPLATES,
        threshold: float = 0.5,
        groups: Mapping[str, str] | None = None,
    ) -> None:
        self.bundle = bundle
        self.labels = labels
        self.templates = templates
        self.threshold = threshold
        self.groups = groups

    def fit(
        self,
        image_vectors: np.ndarray | None = None,
        true_labels: Sequence[Sequence[str]] | None = None,
    ) -> ClipTagger:
        """Embed the label prompts; given held-out images and their true node ids, calibrate.

        Without held-out data ``threshold_`` is the constructor's ``threshold``. An image with
        no true label in a group (a product whose record names no colour) is of unknown truth
        there: that group's scores of the image take no part in the calibration.
        """
        labels = self.labels
        texts = labels if isinstance(labels, Mapping) else {n: label_text(n) for n in labels}
        if not texts:
            raise ValueError("ClipTagger needs at least one label")
        self.label_ids_: list[str] = list(texts)
        group_of = self.groups or {n: n.partition(":")[0] for n in self.label_ids_}
        self.group_names_: list[str] = sorted({group_of[n] for n in self.label_ids_})
        self.group_index_ = np.array([self.group_names_.index(group_of[n])
                                      for n in self.label_ids_])
        self.label_vectors_ = self._embed_labels([texts[n] for n in self.label_ids_])
        self.threshold_ = float(self.threshold)
        self.calibration_: Calibration | None = None
        if image_vectors is not None and true_labels is not None:
            truth = self.truth_matrix(true_labels)
            known = np.zeros((len(truth), len(self.group_names_)), dtype=bool)
            rows, cols = np.nonzero(truth)
            known[rows, self.group_index_[cols]] = True
            judged = known[:, self.group_index_]
            calibration = best_f1_threshold(self.scores(image_vectors)[judged], truth[judged])
            self.calibration_ = replace(calibration, n_images=len(truth))
            self.threshold_ = self.calibration_.threshold
        return self

    def _embed_labels(self, texts: list[str]) -> np.ndarray:
        prompts = [t.format(text) for text in texts for t in self.templates]
        vectors = embed_texts(self.bundle, prompts).reshape(len(texts), len(self.templates), -1)
        mean = vectors.mean(axis=1)
        return (mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)).astype(
            np.float32
        )

    def scores(self, image_vectors: np.ndarray) -> np.ndarray:
        """Per-group softmax scores, shape ``(n_images, n_labels)``."""
        scale = float(self.bundle.model.logit_scale.detach().exp())
        logits = scale * (image_vectors @ self.label_vectors_.T)
        out = np.empty_like(logits)
        for g in range(len(self.group_names_)):
            cols = self.group_index_ == g
            block = logits[:, cols]
            block = np.exp(block - block.max(axis=1, keepdims=True))
            out[:, cols] = block / block.sum(axis=1, keepdims=True)
        return out

    def truth_matrix(self, true_labels: Sequence[Sequence[str]]) -> np.ndarray:
        """Boolean ``(n_images, n_labels)`` from true node ids per image (unknown ids ignored)."""
        column = {n: j for j, n in enumerate(self.label_ids_)}
        truth = np.zeros((len(true_labels), len(self.label_ids_)), dtype=bool)
        for i, labels in enumerate(true_labels):
            for label in labels:
                if label in column:
                    truth[i, column[label]] = True
        return truth

    def predict(self, image_vectors: np.ndarray, group: str) -> list[str]:
        """The best label of ``group`` for each image (for accuracy figures)."""
        cols = np.flatnonzero(self.group_index_ == self.group_names_.index(group))
        best = cols[np.argmax(self.scores(image_vectors)[:, cols], axis=1)]
        return [self.label_ids_[j] for j in best]

    def tags(self, image_ids: Sequence[str], image_vectors: np.ndarray) -> list[ImageTag]:
        """Every (image, label) whose score is at least ``threshold_``, best first per image."""
        scores = self.scores(image_vectors)
        out: list[ImageTag] = []
        for i, image in enumerate(image_ids):
            row = scores[i]
            for j in np.argsort(-row, kind="stable"):
                if row[j] < self.threshold_:
                    break
                out.append(ImageTag(image=image, label=self.label_ids_[j], score=float(row[j])))
        return out
