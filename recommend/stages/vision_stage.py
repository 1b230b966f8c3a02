"""The vision stage: a CLIP tags product and post images; tags become ``depicts`` edges.

Without a configured pretrained CLIP the stage trains a small one on the catalogue's own
image–title pairs (minus a held-out share that calibrates the tag threshold and gives the
accuracy figures). A label group (categories, colours) whose held-out accuracy does not beat
always guessing its most common label adds no edges: such tags would be noise in the graph.
The manifest says plainly which CLIP was used. Images that cannot be read, break the
configured limits or lie outside the dataset folder are quarantined with their reason and the
file and line of the first record naming them; the rest of the build is untouched. With fewer
than 2 readable product images to train on, the stage steps aside: it adds nothing and says so
in the manifest, and still opens every product and post image it did not train on, so each bad
one is quarantined as it would have been (none is dropped unsaid).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kg.artifact import Stage, StageResult
from kg.graph import KnowledgeGraph
from kg.reader import ReadResult, Rejection, dataset_file, record_lines
from recommend.stages.config import EnrichConfig

if TYPE_CHECKING:
    from kg.records import Product
    from vision.images import ImageLimits, ImageRejection

CLIP_FOLDER = "clip"
IMAGE_EMBEDDINGS_FILE = "image_embeddings.npz"


def vision_stage(config: EnrichConfig, *, progress: bool = True) -> Stage:
    """A build stage that tags images with CLIP (see the module docstring)."""

    def run(graph: KnowledgeGraph, result: ReadResult, root: Path, tmp: Path) -> StageResult:
        from vision.catalogue import tag_catalogue, tag_group, train_catalogue_clip, with_images
        from vision.clip_model import load_clip
        from vision.images import ImageLimits
        from vision.training import ClipTrainer, TooFewImagesError

        products = result.dataset.products
        post_images = [path for post in result.dataset.posts for path in post.images]
        if not with_images(products) and not post_images:
            return StageResult(manifest={"skipped": "no images in the dataset"})
        heldout: list[str] = []
        written: list[Path] = []
        limits = config.image_limits or ImageLimits()
        if config.clip is not None:
            try:
                bundle = load_clip(config.clip)
            except Exception as err:  # transformers raises OSError, ValueError, its own kinds
                raise ValueError(f"the CLIP {config.clip} cannot be loaded: {err}") from err
            training = None
        else:
            trainer = ClipTrainer(epochs=config.clip_epochs, seed=config.seed, num_threads=1,
                                  limits=limits, progress=progress)
            try:
                trained = train_catalogue_clip(
                    products, root, tmp / CLIP_FOLDER, trainer=trainer,
                    heldout_fraction=config.clip_heldout_fraction, seed=config.seed,
                )
            except TooFewImagesError as err:
                return _stepped_aside(str(err), err.rejections, root, products, post_images,
                                      limits)
            bundle, heldout, training = trained.bundle, trained.heldout, trained.report
            written += sorted(p for p in (tmp / CLIP_FOLDER).rglob("*") if p.is_file())
        tagged = tag_catalogue(bundle, products, root, heldout=heldout,
                               extra_images=post_images, limits=limits, progress=progress)
        weak = _groups_no_better_than_majority(tagged.heldout_accuracy, tagged.heldout_baseline)
        known = [t for t in tagged.tags
                 if graph.has_node(t.image) and tag_group(t.label) not in weak]
        graph.add_edges("depicts", [t.image for t in known], [t.label for t in known],
                        weight=[t.score for t in known])
        tagged.embeddings.save(tmp / IMAGE_EMBEDDINGS_FILE)
        written.append(tmp / IMAGE_EMBEDDINGS_FILE)
        calibration = tagged.calibration
        manifest = {
            "clip": tagged.clip.replace(str(tmp), "<artifact>"),
            "trained_here": training is not None,
            "images_embedded": len(tagged.embeddings.ids),
            "depicts_edges": len(known),
            "images_rejected": len(tagged.rejections),
            "heldout_products": tagged.n_heldout,
            "heldout_accuracy": tagged.heldout_accuracy,
            "heldout_majority_baseline": tagged.heldout_baseline,
            "groups_left_out": sorted(weak),
            "threshold": None if calibration is None else calibration.threshold,
        }
        rejections = _quarantine(tagged.rejections, root)
        return StageResult(manifest=manifest, rejections=rejections, written=written)

    return run


def _stepped_aside(why: str, rejected: list[ImageRejection], root: Path,
                   products: Sequence[Product], post_images: list[str],
                   limits: ImageLimits) -> StageResult:
    """The stage's result when it has too little to work on: nothing added, and why; every
    image the training did not open (held-out products, posts) is checked and quarantined
    like the ones it did."""
    from vision.catalogue import locate_images, with_images
    from vision.images import check_images

    named = dict.fromkeys([p.image for p in with_images(products) if p.image] + post_images)
    done = {r.path for r in rejected}
    _, files, outside = locate_images(named, root)
    rejected = [*rejected, *(r for r in outside if r.path not in done),
                *check_images([f for f in files if f not in done], limits=limits)]
    return StageResult(manifest={"skipped": f"too few readable product images ({why})",
                                 "images_rejected": len(rejected)},
                       rejections=_quarantine(rejected, root))


def _quarantine(rejected: list[ImageRejection], root: Path) -> list[Rejection]:
    """Image rejections as quarantine lines (``line`` 0: not a line of a record file), each
    reason naming the file and line of the first record that names the image."""
    where = _naming_lines(root, {r.path for r in rejected}) if rejected else {}
    return [Rejection(file=_relative(r.path, root), line=0,
                      reason=f"image: {r.reason}{where.get(r.path, '')}", raw="")
            for r in rejected]


def _naming_lines(root: Path, paths: set[str]) -> dict[str, str]:
    """`` (named by posts.jsonl line 7)`` for each of ``paths`` (a record's path, or the file
    it resolves to) that a line of ``products.jsonl`` or ``posts.jsonl`` names first (read
    with the dataset reader's own line loop, :func:`kg.reader.record_lines`)."""
    from vision.images import ImageRejectedError, contained_path

    found: dict[str, str] = {}
    for name, key in (("products.jsonl", "image"), ("posts.jsonl", "images")):
        path = dataset_file(root, name)
        if path is None:
            continue
        with path.open("rb") as handle:
            for number, _, record in record_lines(handle):
                named = record.get(key) if isinstance(record, dict) else None
                for image in [named] if isinstance(named, str) else named or ():
                    if not isinstance(image, str):
                        continue
                    try:
                        keys = (image, str(contained_path(image, root)))
                    except (ImageRejectedError, OSError, ValueError):
                        keys = (image,)
                    for k in keys:
                        if k in paths and k not in found:
                            found[k] = f" (named by {name} line {number})"
                if len(found) == len(paths):
                    return found
    return found


def _relative(path: str, root: Path) -> str:
    """``path`` relative to the dataset folder where it lies inside it, as records name it."""
    resolved, base = Path(path), root.resolve()
    return resolved.relative_to(base).as_posix() if resolved.is_relative_to(base) else path


def _groups_no_better_than_majority(
    accuracy: dict[str, float], baseline: dict[str, float]
) -> set[str]:
    """Groups measured on held-out images whose accuracy is at most the majority baseline."""
    return {g for g, acc in accuracy.items() if acc <= baseline.get(g, 0.0)}
