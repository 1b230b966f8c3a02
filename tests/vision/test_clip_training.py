"""A tiny CLIP built, trained, saved, loaded and fine-tuned through the real code."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from vision.clip_model import CARD_FILE, load_clip, new_clip
from vision.embed import embed_texts
from vision.training import ClipTrainer, ImageText


def test_training_lowers_the_loss_and_saves_a_loadable_described_clip(trained) -> None:
    folder, result = trained
    assert result.report.losses[-1] < result.report.losses[0] - 0.3
    assert (folder / "model.safetensors").is_file() and (folder / CARD_FILE).is_file()
    assert not list(folder.glob("*.bin")) and not list(folder.glob("*.pkl"))
    loaded = load_clip(folder)
    text = loaded.describe()
    assert str(folder) in text and "scratch" in text and f"{result.report.n_pairs} image" in text
    vectors = embed_texts(loaded, ["red", "a photo of blue."])
    again = embed_texts(result.bundle, ["red", "a photo of blue."])
    np.testing.assert_allclose(vectors, again, atol=1e-5)


def test_load_falls_back_to_old_folder_after_a_crashed_swap(trained, tmp_path: Path) -> None:
    folder, _ = trained
    shutil.copytree(folder, tmp_path / "clip.old")
    assert load_clip(tmp_path / "clip").card["origin"] == "scratch"


def test_unknown_hub_name_fails_offline_with_an_error() -> None:
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    with pytest.raises(OSError):
        load_clip("no-such-org/no-such-clip")


def test_training_is_seeded(catalogue, tiny_config) -> None:
    root, products = catalogue
    pairs = [ImageText(str(root / p.image), (p.title,)) for p in products[:16]]

    def run() -> np.ndarray:
        trainer = ClipTrainer(epochs=2, batch_size=8, model_config=tiny_config, progress=False,
                              num_threads=1, seed=3)
        bundle = trainer.fit(pairs).bundle_
        return embed_texts(bundle, ["acme red circle"])

    np.testing.assert_array_equal(run(), run())


def test_a_plain_pretrained_folder_is_fine_tuned(catalogue, tiny_config, tmp_path: Path) -> None:
    root, products = catalogue
    bundle = new_clip([p.title for p in products], **tiny_config)
    bundle.model.save_pretrained(tmp_path / "hub-like")
    bundle.processor.save_pretrained(tmp_path / "hub-like")
    base = load_clip(tmp_path / "hub-like")
    assert base.card["origin"] == "pretrained"
    before = embed_texts(base, ["acme red circle"])
    pairs = [ImageText(str(root / p.image), (p.title,)) for p in products[:16]]
    pairs.append(ImageText(str(root / "missing.png"), ("nothing",)))
    trainer = ClipTrainer(epochs=2, batch_size=8, progress=False, num_threads=1)
    trainer.fit(pairs, base=base)
    assert trainer.bundle_.card["origin"] == "fine-tuned"
    assert trainer.report_.n_pairs == 16 and trainer.report_.n_rejected == 1
    assert "missing" in trainer.report_.rejections[0].reason
    assert not np.allclose(before, embed_texts(trainer.bundle_, ["acme red circle"]))


def test_card_records_the_training_run(trained) -> None:
    folder, result = trained
    card = json.loads((folder / CARD_FILE).read_text())
    assert card["training"]["steps"] == result.report.steps > 0
    assert card["heldout_products"] == len(result.heldout)


def test_word_tokenizer_knows_catalogue_words_and_always_ends_with_eos() -> None:
    from vision.text_tokenizer import build_word_tokenizer

    tok = build_word_tokenizer(["Acme Red Sneaker", "blue tote"], max_length=5)
    tokens = tok.convert_ids_to_tokens(tok("RED sneaker, green", truncation=True)["input_ids"])
    assert tokens == ["[BOS]", "red", "sneaker", "[UNK]", "[EOS]"]  # cut to 5, EOS kept


def test_the_curriculum_teaches_shapes_that_colour_texts_never_name(catalogue, tiny_config) -> None:
    from vision.embed import embed_image_files

    root, products = catalogue
    shapes = [p.categories[-1].lower() for p in products]
    pairs = [ImageText(str(root / p.image), (p.attributes["colour"],), colour_free=(shape,))
             for p, shape in zip(products, shapes, strict=True)]

    def shape_accuracy(free_first: float) -> float:
        trainer = ClipTrainer(epochs=30, batch_size=24, learning_rate=2e-3, free_first=free_first,
                              view_weight=0.0,  # the curriculum alone: views help shapes too
                              model_config=tiny_config, progress=False, num_threads=1)
        bundle = trainer.fit(pairs).bundle_
        images = embed_image_files(bundle, [p.image for p in pairs], progress=False).vectors
        names = sorted(set(shapes))
        guess = (images @ embed_texts(bundle, names).T).argmax(axis=1)
        return float(np.mean([names[g] == s for g, s in zip(guess, shapes, strict=True)]))

    learned, untaught = shape_accuracy(1.0), shape_accuracy(0.0)
    assert learned > 0.7 and learned > untaught + 0.15  # colour texts say nothing of shape


def test_draws_add_catalogue_negatives_never_a_drawn_text() -> None:
    trainer = ClipTrainer(negatives=3, template_prob=0.0)
    batch = [ImageText("a.png", ("red", "boots"), colour_free=("boots",)),
             ImageText("b.png", ("blue", "bags"), colour_free=("bags",))]
    pool = ["bags", "boots", "caps", "hats", "scarves", "socks"]
    drawn = trainer._draw(batch, pool, np.random.default_rng(0), free=True)
    assert [text for text, _ in drawn[:2]] == ["boots", "bags"]
    extra = [text for text, _ in drawn[2:]]
    assert len(extra) == 3 and set(extra) <= set(pool) - {"boots", "bags"}


def test_augmentation_moves_pixels_but_never_changes_colour() -> None:
    import torch

    from vision.views import augment

    flat = torch.ones(4, 3, 16, 16) * torch.tensor([0.9, -0.2, 0.4])[None, :, None, None]
    out = augment(flat, np.random.default_rng(0), scale=(0.8, 1.1))
    assert out.shape == flat.shape
    torch.testing.assert_close(out, flat)
    ramp = torch.linspace(0, 1, 16).expand(2, 3, 16, 16).contiguous()
    assert not torch.allclose(augment(ramp, np.random.default_rng(1)), ramp)


def test_conv_stem_is_described_and_needs_a_power_of_two_patch(trained) -> None:
    from vision.clip_model import conv_stem

    assert "conv stem" in load_clip(trained[0]).describe()
    with pytest.raises(ValueError, match="power-of-two"):
        conv_stem(32, 6)


def test_colour_draw_pairs_each_image_with_a_colour_only_text() -> None:
    from vision.training import colour_texts

    pair = ImageText("a.png", ("navy blue", "boots", "navy blue boots"), colour_free=("boots",))
    assert colour_texts(pair) == ("navy blue",)
    assert colour_texts(ImageText("b.png", ("red",))) == ()
    trainer = ClipTrainer(negatives=5, any_negatives=0, template_prob=0.0)
    batch = [pair, ImageText("b.png", ("red", "bags", "red bags"), colour_free=("bags",))]
    drawn = trainer._draw(batch, ["green", "navy blue", "red"], np.random.default_rng(0),
                          colour=True)
    assert [text for text, _ in drawn] == ["navy blue", "red", "green"]
    any_text = trainer._draw(batch, ["caps", "hats"], np.random.default_rng(0),
                             cap=trainer.any_negatives)
    assert len(any_text) == 2  # no catalogue negatives in the any-text draw


def test_a_colour_weighted_run_trains(catalogue, tiny_config, tmp_path: Path) -> None:
    from vision.catalogue import train_catalogue_clip

    root, products = catalogue
    trainer = ClipTrainer(epochs=1, batch_size=8, free_first=0.0, colour_weight=0.5,
                          model_config=tiny_config, progress=False)
    fitted = train_catalogue_clip(products[:10], root, trainer=trainer)
    assert np.isfinite(fitted.report.final_loss)


def test_an_image_of_unknown_colour_is_no_negative_for_any_colour(trained) -> None:
    import torch

    from vision.training import _contrastive_loss, unknown_texts

    _, result = trained
    pairs = [ImageText("a.png", ("red", "circle", "red circle"), colour_free=("circle",)),
             ImageText("b.png", ("square",), colour_free=("square",))]
    unknown = unknown_texts(pairs, ["circle", "red", "red circle", "square"])
    assert unknown == [frozenset(), frozenset({"red", "red circle"})]
    side = result.bundle.model.config.vision_config.image_size
    pixels = torch.rand(2, 3, side, side)
    truths = [frozenset((*p.texts, *p.colour_free)) for p in pairs]

    def loss(drawn: list[str], unknowns: list[frozenset[str]] | None) -> float:
        with torch.no_grad():
            return float(_contrastive_loss(result.bundle, pixels, [[(t, t) for t in drawn]],
                                           [1.0], truths, unknowns))

    # "red" drawn for the first image says nothing about the second: leaving it out of the
    # second's softmax is leaving the second out of "red"'s, and its row loses "red" alone
    masked = loss(["red", "square"], unknown)
    assert masked != loss(["red", "square"], None)
    assert np.isfinite(masked)
