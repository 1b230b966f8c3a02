"""Safe image loading: every image is either an RGB ``PIL.Image`` or an :class:`ImageRejection`.

Policy (each case is tested):

- missing file, empty (0-byte) file, a file Pillow cannot identify, a truncated or corrupt file:
  rejected with the reason.
- too many pixels (default limit 40 megapixels, e.g. 20000×20000): rejected from the *header*,
  before any pixel is decoded, so a decompression bomb costs nothing.
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

import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

DEFAULT_MAX_PIXELS = 40_000_000

_DIRECT_RGB = frozenset({"RGB", "L", "1", "CMYK", "YCbCr", "LAB", "HSV"})
_ALPHA = frozenset({"RGBA", "LA", "PA", "La", "RGBa"})


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
    path: str | os.PathLike[str], *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Image.Image:
    """Open ``path`` as a fully decoded RGB image, or raise :class:`ImageRejectedError`.

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
                width, height = handle.size
                if width <= 0 or height <= 0:
                    raise _reject(name, f"zero-size image ({width}x{height})")
                if width * height > max_pixels:
                    raise _reject(
                        name,
                        f"too large: {width}x{height} = {width * height:,} pixels "
                        f"> limit {max_pixels:,} (not decoded)",
                    )
                handle.load()
                image = ImageOps.exif_transpose(handle)
                return _to_rgb(image, name)
    except ImageRejectedError:
        raise
    except Image.DecompressionBombError as err:
        raise _reject(name, f"too large: {err} (not decoded)") from err
    except UnidentifiedImageError as err:
        raise _reject(name, "not an image (Pillow cannot identify the format)") from err
    except (OSError, SyntaxError, ValueError, EOFError) as err:
        raise _reject(name, f"corrupt or truncated image: {err}") from err


def load_images(
    paths: Iterable[str | os.PathLike[str]], *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> LoadedImages:
    """Open every path; good images are kept in order, bad ones become rejections."""
    loaded = LoadedImages()
    for index, path in enumerate(paths):
        try:
            image = open_image(path, max_pixels=max_pixels)
        except ImageRejectedError as err:
            loaded.rejections.append(err.rejection)
            continue
        loaded.indices.append(index)
        loaded.paths.append(str(path))
        loaded.images.append(image)
    return loaded


def resolve_image_path(image: str, root: str | os.PathLike[str]) -> str:
    """A record's image path: absolute as given, else relative to the dataset folder ``root``."""
    candidate = Path(image)
    return str(candidate if candidate.is_absolute() else Path(root) / candidate)
