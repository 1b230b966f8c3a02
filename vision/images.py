"""Safe image loading: every image is either an RGB ``PIL.Image`` or an :class:`ImageRejection`.

Policy (each case is tested):

- missing file, empty (0-byte) file, a file Pillow cannot identify, a truncated or corrupt file:
  rejected with the reason.
- too many pixels (default 40 megapixels), a side too long (default 16,384) or too thin a shape
  (default 20:1): rejected from the *header*, before any pixel is decoded (:class:`ImageLimits`).
  A decompression bomb costs nothing, and neither does a 200000×1 strip that a CLIP processor
  would scale up to 12.8 million × 64 pixels.
- ``fit`` (the model's input side): a decoded image of more than ``(4 * fit)²`` pixels is
  box-reduced by an integer factor right away, to about that many pixels but a short side of
  at least ``fit``, so a batch of large photos holds small images, never the full decodes
  (JPEGs are even decoded at a reduced scale). Smaller images are untouched, so the model
  sees exactly what it saw before (the bench's 224-pixel photos at a 64-pixel CLIP).
- paths come from records: :func:`contained_path` keeps them inside the dataset folder (no
  absolute paths, no ``..``, no symlink leading out), so a record cannot make the build read and
  embed a file elsewhere; what it rejects never depends on whether an outside file exists.
- ``CMYK`` (print photos), ``L``/``1``/``YCbCr``/``LAB``/``HSV``: converted to RGB. Pillow's
  conversion is exact for these up to rounding; a CMYK image without a colour profile is
  converted naively, which keeps hue well enough for tagging.
- alpha (``RGBA``, ``LA``, ``PA``, ``La``, ``RGBa``) and palette (``P``, with or without a
  transparent index): composited over white, which is how a catalogue shows a cut-out product.
  An image whose every pixel is fully transparent shows nothing and is rejected.
- 16/32-bit integer and float modes (``I``, ``I;16``, ``F``…): rejected, because mapping
  them to 8 bits needs a display range the file does not carry (clipping would invent a picture).
- EXIF orientation is applied; an animated image contributes its first frame.

A rejection never raises past :func:`load_images`: the rest of the batch is untouched.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

DEFAULT_MAX_PIXELS = 40_000_000
DEFAULT_MAX_SIDE = 16_384
DEFAULT_MAX_ASPECT = 20.0

_DIRECT_RGB = frozenset({"RGB", "L", "1", "CMYK", "YCbCr", "LAB", "HSV"})
_ALPHA = frozenset({"RGBA", "LA", "PA", "La", "RGBa"})


@dataclass(frozen=True, slots=True)
class ImageLimits:
    """What an image's header may claim before it is decoded: pixels, each side, long:short."""

    max_pixels: int = DEFAULT_MAX_PIXELS
    max_side: int = DEFAULT_MAX_SIDE
    max_aspect: float = DEFAULT_MAX_ASPECT

    def __post_init__(self) -> None:
        for name in ("max_pixels", "max_side"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"ImageLimits.{name} must be a positive integer, got {value!r}")
        aspect = self.max_aspect
        if isinstance(aspect, bool) or not isinstance(aspect, (int, float)) or not (
            1.0 <= aspect < float("inf")
        ):
            raise ValueError(f"ImageLimits.max_aspect must be a finite number >= 1 (long side:"
                             f" short side), got {aspect!r}")

    def check(self, width: int, height: int) -> str | None:
        """Why an image of this size is refused, or None if it is within the limits."""
        if width <= 0 or height <= 0:
            return f"zero-size image ({width}x{height})"
        size = f"{width}x{height}"
        if width * height > self.max_pixels:
            return (f"too large: {size} = {width * height:,} pixels > limit "
                    f"{self.max_pixels:,} (not decoded)")
        if max(width, height) > self.max_side:
            return f"too large: {size}, a side over the limit {self.max_side:,} (not decoded)"
        if max(width, height) > self.max_aspect * min(width, height):
            return (f"too elongated: {size} is over {self.max_aspect:g}:1 (not decoded; a model"
                    " would scale its short side up)")
        return None


DEFAULT_LIMITS = ImageLimits()


@dataclass(frozen=True, slots=True)
class ImageRejection:
    """An image that was not used, and why (goes to the quarantine)."""

    path: str
    reason: str


class ImageRejectedError(ValueError):
    """Raised by :func:`open_image`; carries the :class:`ImageRejection`."""

    def __init__(self, rejection: ImageRejection) -> None:
        super().__init__(f"{rejection.path}: {rejection.reason}")
        self.rejection = rejection


@dataclass(slots=True)
class LoadedImages:
    """The usable images of a batch (``paths[i]`` ↔ ``images[i]``) and the rejected ones.

    ``indices[i]`` is the position of ``paths[i]`` in the input.
    """

    indices: list[int] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    images: list[Image.Image] = field(default_factory=list)
    rejections: list[ImageRejection] = field(default_factory=list)


def _reject(path: str, reason: str) -> ImageRejectedError:
    return ImageRejectedError(ImageRejection(path=path, reason=reason))


def _to_rgb(image: Image.Image, path: str) -> Image.Image:
    mode = image.mode
    if mode == "P":
        image = image.convert("RGBA") if "transparency" in image.info else image.convert("RGB")
        mode = image.mode
    if mode in _ALPHA:
        rgba = image.convert("RGBA")
        alpha = rgba.getchannel("A")
        if alpha.getextrema()[1] == 0:
            raise _reject(path, f"fully transparent {image.width}x{image.height} image")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=alpha)
        return canvas
    if mode in _DIRECT_RGB:
        return image if mode == "RGB" else image.convert("RGB")
    raise _reject(path, f"unsupported pixel mode {mode!r} (high bit depth: no display range)")


def open_image(
    path: str | os.PathLike[str], *, limits: ImageLimits = DEFAULT_LIMITS, fit: int | None = None
) -> Image.Image:
    """Open ``path`` as a fully decoded RGB image, or raise :class:`ImageRejectedError`.

    ``limits`` are checked on the header; ``fit`` reduces a large image (module docstring).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.png"
    >>> Image.new("RGBA", (4, 3), (255, 0, 0, 128)).save(p)
    >>> open_image(p).mode, open_image(p).size
    ('RGB', (4, 3))
    """
    name = str(path)
    file = Path(path)
    if not file.is_file():
        raise _reject(name, "missing file" if not file.exists() else "not a regular file")
    if file.stat().st_size == 0:
        raise _reject(name, "empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            # Pillow warns past its own bomb limit; we decide from the header instead.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(file) as handle:
                refused = limits.check(*handle.size)
                if refused:
                    raise _reject(name, refused)
                factor = _reduction(handle.size, fit)
                if factor >= 2:  # JPEG: decode at 1/2, 1/4 or 1/8 scale where that is enough
                    handle.draft(None, (handle.size[0] // factor, handle.size[1] // factor))
                handle.load()
                return _reduce(_to_rgb(ImageOps.exif_transpose(handle), name), fit)
    except ImageRejectedError:
        raise
    except Image.DecompressionBombError as err:
        raise _reject(name, f"too large: {err} (not decoded)") from err
    except UnidentifiedImageError as err:
        raise _reject(name, "not an image (Pillow cannot identify the format)") from err
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise _reject(name, f"corrupt or truncated image: {err}") from err


def _reduction(size: tuple[int, int], fit: int | None) -> int:
    """The integer factor bringing ``size`` to about ``(4 * fit)²`` pixels, its short side
    staying at least ``fit``; 1 for no reduction."""
    if not fit:
        return 1
    width, height = size
    return max(1, min(min(width, height) // fit, math.isqrt(width * height // (4 * fit) ** 2)))


def _reduce(image: Image.Image, fit: int | None) -> Image.Image:
    """RGB ``image`` box-reduced by :func:`_reduction` when that is at least 2."""
    factor = _reduction(image.size, fit)
    return image.reduce(factor) if factor >= 2 else image


def load_images(
    paths: Iterable[str | os.PathLike[str]], *, limits: ImageLimits = DEFAULT_LIMITS,
    fit: int | None = None,
) -> LoadedImages:
    """Open every path; good images are kept in order, bad ones become rejections.

    With ``fit`` each image is reduced as soon as it is decoded (see :func:`open_image`).
    """
    loaded = LoadedImages()
    for index, path in enumerate(paths):
        try:
            image = open_image(path, limits=limits, fit=fit)
        except ImageRejectedError as err:
            loaded.rejections.append(err.rejection)
            continue
        loaded.indices.append(index)
        loaded.paths.append(str(path))
        loaded.images.append(image)
    return loaded


def check_images(paths: Iterable[str | os.PathLike[str]], *,
                 limits: ImageLimits = DEFAULT_LIMITS) -> list[ImageRejection]:
    """The rejection of each path :func:`open_image` refuses; every image is decoded (reduced
    as for a 32-pixel model: a truncated file only fails when decoded) and dropped at once."""
    rejected: list[ImageRejection] = []
    for path in paths:
        try:
            open_image(path, limits=limits, fit=32).close()
        except ImageRejectedError as err:
            rejected.append(err.rejection)
    return rejected


def contained_path(image: str, root: str | os.PathLike[str]) -> Path:
    """A record's image path inside the dataset folder ``root``, or :class:`ImageRejectedError`.

    Refused without touching the file: an absolute path, a ``..`` component, and a path whose
    resolution (symlinks followed) leaves ``root``. The reason never says whether a file
    outside exists.

    >>> contained_path("img/a.png", "/data").as_posix()
    '/data/img/a.png'
    >>> contained_path("../etc/passwd", "/data")
    Traceback (most recent call last):
    ...
    vision.images.ImageRejectedError: ../etc/passwd: outside the dataset folder ('..' in the path)
    """
    relative = Path(image)
    if relative.is_absolute() or relative.drive:
        raise _reject(image, "outside the dataset folder (an absolute path)")
    if ".." in relative.parts:
        raise _reject(image, "outside the dataset folder ('..' in the path)")
    base = Path(root).resolve()
    candidate = base / relative
    if not candidate.resolve().is_relative_to(base):
        raise _reject(image, "outside the dataset folder (a symlink leading out)")
    return candidate
