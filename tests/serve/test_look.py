"""POST /v1/look: photos checked before decoding, searched in the build's image vectors."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from recommend.serve.look import PhotoRefused, photo_format


def _png(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (its pixels are never there)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def test_photo_format_by_first_bytes() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "WEBP")
    assert photo_format(buffer.getvalue()) == "webp"
    assert photo_format(_png(2, 2)) == "png"
    assert photo_format(b"\xff\xd8\xff\xe0rest") == "jpeg"
    for bad, why in ((b"", "no photo"), (b"GIF89a....", "not a JPEG"),
                     (_png(2, 2), "at most 10")):
        with pytest.raises(PhotoRefused, match=why):
            photo_format(bad, max_bytes=10 if why == "at most 10" else 1 << 20)


def test_no_image_vectors_is_409(client) -> None:
    got = client.post("/v1/look", content=_png(8, 8), headers={"Content-Type": "image/png"})
    assert got.status_code == 409 and "vision stage" in got.json()["detail"]
    assert 'id="look-photo"' not in client.get("/").text  # no upload box without vectors


@pytest.fixture
def looking(start, image_demo, tmp_path):
    data, art = image_demo
    return data, start(tmp_path / "look-state", artifact=art, images_dir=data,
                       max_image_bytes=200_000)


def test_own_photo_finds_the_product(looking) -> None:
    data, client = looking
    photo = (data / "images" / "products" / "p0001.png").read_bytes()
    got = client.post("/v1/look", params={"k": 5}, content=photo,
                      headers={"Content-Type": "image/png"})
    assert got.status_code == 200
    rows = got.json()
    assert "product:p0001" in [r["item"] for r in rows]
    assert all(r["title"] and r["text"].startswith("Looks like your photo") for r in rows)
    assert rows[0]["image_url"].startswith("/v1/items/")
    assert client.get(rows[0]["image_url"]).headers["content-type"] == "image/png"
    with_user = client.post("/v1/look", params={"k": 5, "user": "u0001"}, content=photo,
                            headers={"Content-Type": "image/png"}).json()
    assert len(with_user) == 5 and any(r["taste"] > 0 for r in with_user)
    assert 'id="look-photo"' in client.get("/").text


def test_bad_uploads_are_refused_before_decoding(looking) -> None:
    _, client = looking
    png = {"Content-Type": "image/png"}
    bomb = client.post("/v1/look", content=_png(100_000, 100_000), headers=png)
    assert bomb.status_code == 422 and "not decoded" in bomb.json()["detail"]
    corrupt = client.post("/v1/look", content=_png(8, 8)[:40], headers=png)
    assert corrupt.status_code == 422
    assert client.post("/v1/look", content=b"GIF89a", headers=png).status_code == 422
    assert client.post("/v1/look", content=_png(8, 8),
                       headers={"Content-Type": "image/gif"}).status_code == 415
    big = client.post("/v1/look", content=b"\x89PNG\r\n\x1a\n" + b"0" * 300_000, headers=png)
    assert big.status_code == 413
