"""A tiny drawn catalogue (coloured circles and squares) and a tiny CLIP trained on it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from kg.records import Product

os.environ.setdefault("HF_HUB_OFFLINE", "1")

COLOURS = {"red": (210, 40, 40), "green": (50, 150, 60), "blue": (40, 110, 220)}
SHAPES = {"Circles": "ellipse", "Squares": "rectangle"}
TINY = {"image_size": 32, "patch_size": 8, "hidden_size": 32, "num_layers": 2, "num_heads": 2,
        "projection_dim": 32}


def draw_catalogue(root: Path, n: int = 96, seed: int = 0) -> list[Product]:
    """``n`` products: a coloured shape on an off-white background, drawn with jitter."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    products = []
    for i in range(n):
        colour = list(COLOURS)[i % 3]
        shape = list(SHAPES)[(i // 3) % 2]
        image = Image.new("RGB", (48, 48), (240, 240, 236))
        x, y, size = (int(v) for v in rng.integers([2, 2, 24], [12, 12, 34]))
        getattr(ImageDraw.Draw(image), SHAPES[shape])([x, y, x + size, y + size],
                                                       fill=COLOURS[colour])
        name = f"images/p{i}.png"
        image.save(root / name)
        products.append(Product(id=f"p{i}", title=f"Acme {colour} {shape[:-1].lower()} no {i}",
                                categories=("Shapes", shape), image=name,
                                attributes={"colour": colour}))
    return products


@pytest.fixture(scope="session")
def tiny_config() -> dict[str, int]:
    """Model sizes of a CLIP that trains in seconds."""
    return dict(TINY)


@pytest.fixture(scope="session")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Product]]:
    root = tmp_path_factory.mktemp("catalogue")
    return root, draw_catalogue(root)


@pytest.fixture(scope="session")
def trained(catalogue: tuple[Path, list[Product]], tmp_path_factory: pytest.TempPathFactory):
    """A tiny CLIP trained from scratch on the drawn catalogue, saved and loaded back."""
    from vision.catalogue import train_catalogue_clip
    from vision.training import ClipTrainer

    root, products = catalogue
    folder = tmp_path_factory.mktemp("models") / "clip"
    trainer = ClipTrainer(epochs=12, batch_size=24, learning_rate=2e-3, model_config=TINY,
                          free_first=0.0, progress=False, num_threads=1)  # curriculum: its own test
    result = train_catalogue_clip(products, root, folder, trainer=trainer, heldout_fraction=0.25)
    return folder, result
