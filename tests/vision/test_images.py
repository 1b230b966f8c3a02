"""Safe image loading: each bad case is rejected with its reason, the good ones are untouched."""

from __future__ import annotations

import struct
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image

from vision.images import ImageRejectedError, load_images, open_image


def _png_claiming(path: Path, width: int, height: int) -> Path:
    """A small PNG whose header claims ``width``×``height`` (a decompression bomb's header)."""
    Image.new("L", (8, 8), 0).save(path)
    data = bytearray(path.read_bytes())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17]))
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    path.write_bytes(bytes(data))
    return path


def _reason(path: Path) -> str:
    with pytest.raises(ImageRejectedError) as caught:
        open_image(path)
    assert caught.value.rejection.path == str(path)
    return caught.value.rejection.reason


def test_missing_empty_and_not_an_image_are_rejected(tmp_path: Path) -> None:
    assert "missing" in _reason(tmp_path / "nope.png")
    (tmp_path / "empty.jpg").write_bytes(b"")
    assert "empty" in _reason(tmp_path / "empty.jpg")
    (tmp_path / "text.png").write_text("this is not a picture")
    assert "not an image" in _reason(tmp_path / "text.png")


def test_truncated_jpeg_is_rejected(tmp_path: Path) -> None:
    full = tmp_path / "full.jpg"
    Image.effect_noise((128, 128), 64).convert("RGB").save(full, quality=95)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    assert "truncated" in _reason(cut) or "corrupt" in _reason(cut)


def test_huge_image_rejected_from_header_without_decoding(tmp_path: Path) -> None:
    bomb = _png_claiming(tmp_path / "bomb.png", 20000, 20000)
    start = time.perf_counter()
    reason = _reason(bomb)
    assert time.perf_counter() - start < 0.5  # decoding 400 Mpx would take seconds and 400 MB
    assert "too large" in reason and "not decoded" in reason
    # Below Pillow's own bomb limit, our pixel limit (40 Mpx by default) still applies.
    big = _png_claiming(tmp_path / "big.png", 7000, 7000)
    assert "7000x7000" in _reason(big)


def test_modes_are_converted_or_rejected_per_policy(tmp_path: Path) -> None:
    cmyk = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (10, 10), (0, 255, 255, 0)).save(cmyk)  # red in print colours
    rgb = open_image(cmyk)
    assert rgb.mode == "RGB" and rgb.getpixel((5, 5))[0] > 200 > rgb.getpixel((5, 5))[1] + 150

    alpha = tmp_path / "alpha.png"
    cut_out = Image.new("RGBA", (10, 10), (0, 0, 0, 0))
    cut_out.paste((0, 0, 255, 255), (0, 0, 5, 10))
    alpha_img = cut_out
    alpha_img.save(alpha)
    out = open_image(alpha)
    assert out.getpixel((7, 5)) == (255, 255, 255)  # transparent -> white background
    assert out.getpixel((2, 5)) == (0, 0, 255)

    palette = tmp_path / "palette.gif"
    Image.new("RGB", (10, 10), (0, 200, 0)).convert("P").save(palette)
    assert open_image(palette).getpixel((3, 3))[1] > 150

    clear = tmp_path / "clear.png"
    Image.new("RGBA", (10, 10), (255, 0, 0, 0)).save(clear)
    assert "transparent" in _reason(clear)

    deep = tmp_path / "deep.png"
    Image.new("I;16", (10, 10), 40000).save(deep)
    assert "mode" in _reason(deep)


def test_batch_keeps_good_images_in_order_and_reports_bad_ones(tmp_path: Path) -> None:
    good = []
    for i, colour in enumerate(["red", "blue"]):
        path = tmp_path / f"good{i}.png"
        Image.new("RGB", (6, 6), colour).save(path)
        good.append(path)
    paths = [tmp_path / "missing.png", good[0], _png_claiming(tmp_path / "b.png", 20000, 20000),
             good[1]]
    loaded = load_images(paths)
    assert loaded.paths == [str(p) for p in good]
    assert loaded.indices == [1, 3]
    assert [r.path for r in loaded.rejections] == [str(paths[0]), str(paths[2])]
    assert loaded.images[1].getpixel((0, 0)) == (0, 0, 255)
