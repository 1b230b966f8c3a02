"""Pillow-drawn pictures: the product's colour as the dominant colour, a per-category icon.

Shapes are lists of primitives in unit coordinates, drawn at twice the size and reduced
(anti-aliasing), then shifted, scaled, tinted and noised a little per picture, so an image
model can learn colour and category but not memorise pixels. A post's picture is another
variant of its product's.
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from tqdm import tqdm

from kg.demo.catalogue import COLOUR_NAMES
from kg.demo.vocabulary import COLOURS

SIZE = 64
_S = SIZE * 2
Box = tuple[float, float, float, float]
# (primitive, geometry, part) where part is "main" (product colour) or "detail" (contrast)
Shape = tuple[tuple[str, object, str], ...]

# fmt: off
SHAPES: dict[str, Shape] = {
    "shoe": (("poly", [(.1, .55), (.45, .5), (.6, .33), (.75, .36), (.9, .6), (.9, .7),
                       (.1, .7)], "main"), ("rect", (.1, .7, .9, .77), "detail")),
    "sock": (("poly", [(.4, .15), (.6, .15), (.6, .6), (.82, .7), (.82, .86), (.45, .86),
                       (.4, .75)], "main"), ("rect", (.4, .15, .6, .25), "detail")),
    "watch": (("rect", (.42, .08, .58, .92), "main"), ("ellipse", (.28, .3, .72, .7), "main"),
              ("ellipse", (.36, .38, .64, .62), "detail")),
    "mat": (("rect", (.12, .4, .8, .66), "main"), ("ellipse", (.72, .36, .9, .7), "detail")),
    "bottle": (("rrect", (.34, .3, .66, .9), "main"), ("rect", (.42, .14, .58, .3), "detail")),
    "boot": (("poly", [(.25, .12), (.5, .12), (.5, .52), (.86, .6), (.86, .78), (.25, .78)],
              "main"), ("rect", (.25, .78, .86, .85), "detail")),
    "jacket": (("poly", [(.3, .15), (.7, .15), (.9, .45), (.8, .5), (.72, .36), (.72, .88),
                         (.28, .88), (.28, .36), (.2, .5), (.1, .45)], "main"),
               ("line", [(.5, .17), (.5, .88)], "detail")),
    "shirt": (("poly", [(.3, .2), (.42, .2), (.5, .27), (.58, .2), (.7, .2), (.88, .35),
                        (.78, .45), (.7, .4), (.7, .86), (.3, .86), (.3, .4), (.22, .45),
                        (.12, .35)], "main"),),
    "bag": (("rect", (.2, .42, .8, .86), "main"), ("arc", (.34, .2, .66, .6), "detail")),
    "glasses": (("ellipse", (.1, .38, .45, .64), "main"), ("ellipse", (.55, .38, .9, .64), "main"),
                ("line", [(.45, .46), (.55, .46)], "detail")),
    "jar": (("rrect", (.24, .46, .76, .86), "main"), ("rect", (.21, .34, .79, .47), "detail")),
    "tube": (("poly", [(.34, .12), (.66, .12), (.6, .74), (.4, .74)], "main"),
             ("rect", (.42, .74, .58, .88), "detail")),
    "dropper": (("rrect", (.34, .46, .66, .88), "main"), ("rect", (.44, .35, .56, .46), "detail"),
                ("ellipse", (.41, .13, .59, .37), "detail")),
    "lipstick": (("poly", [(.38, .62), (.38, .22), (.62, .1), (.62, .62)], "main"),
                 ("rect", (.36, .62, .64, .9), "detail")),
    "coffee": (("rect", (.24, .12, .76, .88), "main"), ("rect", (.34, .5, .66, .76), "detail")),
    "beans": (("poly", [(.28, .18), (.72, .18), (.8, .88), (.2, .88)], "main"),
              ("ellipse", (.41, .44, .59, .66), "detail")),
    "mug": (("rect", (.22, .3, .64, .82), "main"), ("ring", (.56, .4, .84, .7), "main")),
    "knife": (("poly", [(.06, .47), (.55, .4), (.55, .58), (.12, .56)], "detail"),
              ("rrect", (.55, .38, .94, .6), "main")),
    "pan": (("ellipse", (.06, .26, .62, .82), "main"), ("rect", (.6, .5, .96, .6), "main"),
            ("ellipse", (.16, .36, .52, .72), "detail")),
    "headphones": (("ring", (.18, .12, .82, .8), "main"), ("ellipse", (.12, .45, .36, .82), "main"),
                   ("ellipse", (.64, .45, .88, .82), "main")),
    "speaker": (("rrect", (.24, .12, .76, .88), "main"),
                ("ellipse", (.34, .44, .66, .76), "detail"),
                ("ellipse", (.43, .2, .57, .34), "detail")),
    "mouse": (("ellipse", (.28, .12, .72, .88), "main"), ("line", [(.5, .12), (.5, .4)], "detail")),
    "keyboard": (("rrect", (.06, .32, .94, .72), "main"),
                 *(("rect", (.12 + .1 * i, .4 + .1 * j, .19 + .1 * i, .47 + .1 * j), "detail")
                   for i in range(8) for j in range(3))),
    "controller": (("ellipse", (.14, .32, .86, .68), "main"),
                   ("ellipse", (.1, .44, .38, .86), "main"),
                   ("ellipse", (.62, .44, .9, .86), "main"),
                   ("ellipse", (.64, .42, .72, .5), "detail"),
                   ("rect", (.24, .44, .34, .5), "detail")),
    "case": (("rrect", (.3, .08, .7, .92), "main"), ("rrect", (.35, .14, .5, .3), "detail")),
    "charger": (("rrect", (.28, .36, .72, .76), "main"), ("rect", (.39, .2, .45, .36), "detail"),
                ("rect", (.55, .2, .61, .36), "detail"), ("line", [(.5, .76), (.5, .95)], "main")),
}
# fmt: on


def _luma(rgb: tuple[int, int, int]) -> float:
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


def draw_item(
    shape: str, colour: str, rng: np.random.Generator, *, jitter: float = 1.0
) -> Image.Image:
    """A SIZE x SIZE RGB picture of ``shape`` in ``colour``, varied by ``rng``."""
    main = COLOURS[colour]
    light = _luma(main) > 150
    detail = (60, 60, 64) if light else (225, 225, 220)
    base = rng.integers(40, 80) if light else rng.integers(205, 245)
    tint = rng.integers(-12, 13, 3)
    background = tuple(int(np.clip(base + t, 0, 255)) for t in tint)
    scale = 1.2 * (1.0 - jitter * rng.uniform(0.0, 0.12))
    dx, dy = jitter * rng.uniform(-0.07, 0.07, 2)

    def xy(x: float, y: float) -> tuple[float, float]:
        return ((0.5 + (x - 0.5) * scale + dx) * _S, (0.5 + (y - 0.5) * scale + dy) * _S)

    def box(b: Box) -> tuple[float, float, float, float]:
        (x0, y0), (x1, y1) = xy(b[0], b[1]), xy(b[2], b[3])
        return (x0, y0, x1, y1)

    image = Image.new("RGB", (_S, _S), background)
    pen = ImageDraw.Draw(image)
    width = max(2, int(0.06 * _S * scale))
    for kind, geometry, part in SHAPES[shape]:
        fill = main if part == "main" else detail
        if kind == "poly":
            pen.polygon([xy(*p) for p in geometry], fill=fill)  # type: ignore[union-attr]
        elif kind == "rect":
            pen.rectangle(box(geometry), fill=fill)  # type: ignore[arg-type]
        elif kind == "rrect":
            pen.rounded_rectangle(box(geometry), radius=_S * 0.06 * scale, fill=fill)  # type: ignore[arg-type]
        elif kind == "ellipse":
            pen.ellipse(box(geometry), fill=fill)  # type: ignore[arg-type]
        elif kind == "ring":
            pen.ellipse(box(geometry), outline=fill, width=width)  # type: ignore[arg-type]
        elif kind == "arc":
            pen.arc(box(geometry), 180, 360, fill=fill, width=width)  # type: ignore[arg-type]
        elif kind == "line":
            pen.line([xy(*p) for p in geometry], fill=fill, width=width)  # type: ignore[union-attr]
    small = image.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    noise = rng.normal(0.0, 5.0 * jitter, (SIZE, SIZE, 3))
    pixels = np.clip(np.asarray(small, dtype=np.float64) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, "RGB")


def png_bytes(image: Image.Image) -> bytes:
    """The PNG encoding of ``image`` (deterministic: no timestamps or metadata)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def write_images(
    out_dir: Path, jobs: list[tuple[str, str, int, float]], seed: int, *, progress: bool = False
) -> int:
    """Draw and write each (relative path, shape, colour index, jitter); return the count.

    Each picture has its own generator seeded by (seed, its path), so a file does not
    depend on which other pictures are drawn.
    """
    for relative, shape, colour, jitter in tqdm(
        jobs, desc="images", unit="img", leave=False, disable=not progress
    ):
        rng = np.random.default_rng([seed, zlib.crc32(relative.encode("utf-8"))])
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(png_bytes(draw_item(shape, COLOUR_NAMES[colour], rng, jitter=jitter)))
    return len(jobs)
