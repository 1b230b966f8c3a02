"""Zero-shot tags, the calibrated threshold, embeddings and the catalogue pipeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from kg.schema import image_id
from vision.catalogue import tag_catalogue, visual_labels, visual_truth
from vision.embed import ImageEmbeddings, embed_image_files
from vision.images import load_images
from vision.tagging import ClipTagger, best_f1_threshold, label_text


def _f1_at(scores: np.ndarray, truth: np.ndarray, cut: float) -> float:
    predicted = scores >= cut
    tp = int((predicted & truth).sum())
    return 2 * tp / (int(predicted.sum()) + int(truth.sum()))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.booleans()), min_size=1, max_size=40))
def test_calibrated_threshold_is_the_best_f1_cut(cells) -> None:
    scores = np.array([[c / 20 for c, _ in cells]])
    truth = np.array([[t for _, t in cells]])
    if not truth.any():
        return
    cal = best_f1_threshold(scores, truth)
    best = max(_f1_at(scores, truth, cut) for cut in np.unique(scores))
    assert abs(cal.f1 - best) < 1e-12
    assert abs(_f1_at(scores, truth, cal.threshold) - best) < 1e-12


def test_label_text_uses_the_leaf_words() -> None:
    assert label_text("category:fashion/shoes/running-shoes") == "running shoes"


def test_embeddings_are_unit_float32_and_skip_bad_files(trained, catalogue, tmp_path) -> None:
    _, result = trained
    root, products = catalogue
    bad = tmp_path / "bad.png"
    bad.write_text("not a png")
    paths = [str(root / products[0].image), str(bad), str(root / products[1].image)]
    emb = embed_image_files(result.bundle, paths, ids=["a", "b", "c"], batch_size=2,
                            progress=False)
    assert emb.ids == ["a", "c"] and emb.vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb.vectors, axis=1), 1.0, rtol=1e-5)
    assert [r.path for r in emb.rejections] == [str(bad)]
    emb.save(tmp_path / "emb.npz")
    back = ImageEmbeddings.load(tmp_path / "emb.npz")
    assert back.ids == emb.ids and np.array_equal(back.vectors, emb.vectors)


def test_trained_tags_name_the_colour_of_held_out_images(trained, catalogue) -> None:
    _, result = trained
    root, products = catalogue
    held = [p for p in products if p.id in set(result.heldout)]
    loaded = load_images([root / p.image for p in held])
    from vision.embed import embed_pil_images

    vectors = embed_pil_images(result.bundle, loaded.images)
    tagger = ClipTagger(result.bundle, visual_labels(products)).fit()
    predicted = tagger.predict(vectors, "concept")
    gold = [visual_truth(p)[1] for p in held]
    assert np.mean([a == b for a, b in zip(predicted, gold, strict=True)]) >= 0.8
    scores = tagger.scores(vectors)
    for g in range(len(tagger.group_names_)):
        np.testing.assert_allclose(scores[:, tagger.group_index_ == g].sum(axis=1), 1.0,
                                   rtol=1e-5)


def test_catalogue_pipeline_tags_embeds_and_quarantines(trained, catalogue, tmp_path) -> None:
    _, result = trained
    root, products = catalogue
    Image.new("RGB", (40, 40), "blue").save(root / "post.png")
    broken = root / "images" / "broken.png"
    broken.write_bytes((root / products[0].image).read_bytes()[:60])
    from kg.records import Product

    damaged = Product(id="bad", title="Broken", categories=("Shapes", "Squares"),
                      image="images/broken.png", attributes={"colour": "red"})
    out = tag_catalogue(result.bundle, [*products, damaged], root, heldout=result.heldout,
                        extra_images=["post.png"], progress=False)
    assert [r.path for r in out.rejections] == [str(broken)]
    assert len(out.embeddings.ids) == len(products) + 1
    assert image_id("post.png") in out.embeddings.ids
    assert out.calibration is not None and out.n_heldout == len(result.heldout)
    assert out.heldout_accuracy["colour"] >= 0.8
    assert "scratch" in out.clip
    assert all(t.score >= out.calibration.threshold for t in out.tags)
    assert {t.label.split(":")[0] for t in out.tags} <= {"category", "concept"}
    red = {t.image for t in out.tags if t.label == "concept:red"}
    red_truth = {image_id(p.image) for p in products if p.attributes["colour"] == "red"}
    assert len(red & red_truth) >= 0.8 * len(red_truth) and len(red - red_truth) <= 0.2 * len(red)


def test_fashion_photos_all_load(shared_dataset) -> None:
    folder = shared_dataset("fashion_product_images_sample")
    loaded = load_images(sorted(Path(folder, "images").glob("*.jpg")))
    assert len(loaded.images) == 207 and not loaded.rejections
    assert {im.mode for im in loaded.images} == {"RGB"}


def test_an_unlabelled_group_takes_no_part_in_the_calibration(trained, catalogue) -> None:
    _, result = trained
    root, products = catalogue
    held = [p for p in products if p.id in set(result.heldout)]
    from vision.embed import embed_pil_images

    vectors = embed_pil_images(result.bundle, load_images([root / p.image for p in held]).images)
    truth = [visual_truth(p) for p in held]
    # the first half's colours unknown (a record without a colour), as if they had no colour
    # columns at all: calibrating on their categories alone
    half = len(held) // 2
    partial = [[t for t in ts if not t.startswith("concept:")] if i < half else ts
               for i, ts in enumerate(truth)]
    tagger = ClipTagger(result.bundle, visual_labels(products)).fit(vectors, partial)
    scores = tagger.scores(vectors)
    colour = tagger.group_index_ == tagger.group_names_.index("concept")
    judged = np.ones_like(scores, dtype=bool)
    judged[:half, colour] = False
    expected = best_f1_threshold(scores[judged], tagger.truth_matrix(partial)[judged])
    assert tagger.calibration_.threshold == expected.threshold
    assert tagger.calibration_.n_images == len(held)
    unknown_as_negative = best_f1_threshold(scores, tagger.truth_matrix(partial))
    assert tagger.calibration_.f1 > unknown_as_negative.f1
