"""Pillow-drawn pictures: the product's colour as the dominant colour, a per-category look.

Each leaf category has its own icon (a list of primitives in unit coordinates) and its own
print on the icon's main parts (:func:`mark_of`: stripes at one of four angles, a grid, a
diagonal grid or dots, at one of four spacings), so a small image model can tell every leaf
apart, including two that look alike (running shoes and sneakers). Pictures are drawn at twice
the size and reduced (anti-aliasing), then shifted, scaled, tinted and noised a little, and the
print starts at a random phase, so a model can learn colour and category but not memorise
pixels. A post's picture is another variant of its product's.
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from tqdm import tqdm

from kg.demo.catalogue import COLOUR_NAMES
from kg.demo.vocabulary import COLOURS, LEAVES

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
    "sneaker": (("poly", [(.12, .58), (.34, .56), (.4, .24), (.62, .22), (.7, .4), (.9, .6),
                          (.9, .72), (.12, .72)], "main"), ("rect", (.12, .72, .9, .8), "detail"),
                ("ellipse", (.44, .3, .56, .4), "detail")),
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
    "spray": (("rrect", (.3, .36, .7, .9), "main"), ("rect", (.4, .22, .6, .36), "detail"),
              ("rect", (.6, .24, .76, .3), "detail")),
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


#: Print kinds on a product's main parts; with four spacings, 28 distinct marks.
MARK_KINDS: tuple[str, ...] = ("stripes0", "stripes45", "stripes90", "stripes135", "grid",
                               "diagrid", "dots")
MARK_SPACINGS: tuple[float, ...] = (0.1, 0.14, 0.2, 0.28)  # period, as a share of the side


def mark_of(index: int) -> tuple[str, float]:
    """The print (kind, period) of leaf category ``index``: distinct for 28 leaves."""
    kind = MARK_KINDS[index % len(MARK_KINDS)]
    spacing = MARK_SPACINGS[(index // len(MARK_KINDS)) % len(MARK_SPACINGS)]
    return kind, spacing


def _print_mask(kind: str, period: float, phase: np.ndarray) -> np.ndarray:
    """Where (a _S x _S boolean array) the print of ``kind`` at ``period`` pixels is drawn."""
    y, x = np.mgrid[0:_S, 0:_S].astype(np.float64)
    x, y = x + phase[0], y + phase[1]

    def lines(u: np.ndarray) -> np.ndarray:
        return np.mod(u, period) < max(2.5, 0.15 * period)

    if kind.startswith("stripes"):
        angle = np.deg2rad(float(kind[7:]))
        return lines(x * np.cos(angle) + y * np.sin(angle))
    if kind == "grid":
        return lines(x) | lines(y)
    if kind == "diagrid":
        return lines((x + y) / np.sqrt(2)) | lines((x - y) / np.sqrt(2))
    cx, cy = np.mod(x, period) - period / 2, np.mod(y, period) - period / 2
    return cx**2 + cy**2 < (0.25 * period) ** 2  # dots


def draw_item(
    shape: str,
    colour: str,
    rng: np.random.Generator,
    *,
    jitter: float = 1.0,
    mark: tuple[str, float] | None = None,
) -> Image.Image:
    """A SIZE x SIZE RGB picture of ``shape`` in ``colour``, varied by ``rng``.

    ``mark`` (a :func:`mark_of` print) is drawn in the contrast colour over the main parts.
    """
    main = COLOURS[colour]
    light = _luma(main) > 150
    detail = (60, 60, 64) if light else (225, 225, 220)
    base = rng.integers(40, 80) if light else rng.integers(205, 245)
    tint = rng.integers(-12, 13, 3)
    background = tuple(int(np.clip(base + t, 0, 255)) for t in tint)
    scale = 1.3 * (1.0 - jitter * rng.uniform(0.0, 0.12))
    dx, dy = jitter * rng.uniform(-0.07, 0.07, 2)
    phase = rng.uniform(0.0, _S, 2)

    def xy(x: float, y: float) -> tuple[float, float]:
        return ((0.5 + (x - 0.5) * scale + dx) * _S, (0.5 + (y - 0.5) * scale + dy) * _S)

    def box(b: Box) -> tuple[float, float, float, float]:
        (x0, y0), (x1, y1) = xy(b[0], b[1]), xy(b[2], b[3])
        return (x0, y0, x1, y1)

    image = Image.new("RGB", (_S, _S), background)
    mask = Image.new("L", (_S, _S), 0)  # 255 where the main colour shows
    width = max(2, int(0.06 * _S * scale))
    for pen, on, off in ((ImageDraw.Draw(image), main, detail), (ImageDraw.Draw(mask), 255, 0)):
        for kind, geometry, part in SHAPES[shape]:
            fill = on if part == "main" else off
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
    if mark is not None:
        where = _print_mask(mark[0], mark[1] * _S * scale, phase) & (np.asarray(mask) > 0)
        canvas = np.asarray(image).copy()
        canvas[where] = detail
        image = Image.fromarray(canvas, "RGB")
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
    out_dir: Path, jobs: list[tuple[str, int, int, float]], seed: int, *, progress: bool = False
) -> int:
    """Draw and write each (relative path, leaf index, colour index, jitter); return the count.

    Each picture has its own generator seeded by (seed, its path), so a file does not
    depend on which other pictures are drawn.
    """
    for relative, leaf, colour, jitter in tqdm(
        jobs, desc="images", unit="img", leave=False, disable=not progress
    ):
        rng = np.random.default_rng([seed, zlib.crc32(relative.encode("utf-8"))])
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        picture = draw_item(LEAVES[leaf].shape, COLOUR_NAMES[colour], rng, jitter=jitter,
                            mark=mark_of(leaf))
        target.write_bytes(png_bytes(picture))
    return len(jobs)
