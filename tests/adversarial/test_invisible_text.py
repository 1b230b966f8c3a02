"""A title, category or brand a shopper could not see (zero-width, format or control
characters only) is refused like a blank one, never shown as an empty name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.reader import read_dataset

INVISIBLE = ("\u200b", "\u200e\u200f", "\ufeff", "\u2060 \u00a0", "\u202e\u202c", "\x07\x00",
             "\u3000\u200d")


def _read(tmp_path: Path, rows: list[dict]) -> tuple[list, list]:
    return _read_all(tmp_path, rows)[:2]


def _read_all(tmp_path: Path, rows: list[dict]) -> tuple[list, list, list]:
    (tmp_path / "products.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = read_dataset(tmp_path, progress=False)
    return result.dataset.products, result.rejections, result.dropped


@pytest.mark.parametrize("text", INVISIBLE)
def test_an_invisible_title_is_rejected_as_blank(tmp_path: Path, text: str) -> None:
    products, rejected = _read(tmp_path, [{"id": "p1", "title": text}])
    assert products == []
    assert [(r.line, r.reason) for r in rejected] == [(1, '"title": must not be empty or blank')]


@pytest.mark.parametrize("text", INVISIBLE)
def test_an_invisible_category_level_is_refused(tmp_path: Path, text: str) -> None:
    """The path is dropped (an optional field, :mod:`kg.optional_fields`), the product kept."""
    products, rejected, dropped = _read_all(tmp_path, [{"id": "p1", "title": "Mug",
                                                        "categories": ["Home", text]}])
    assert rejected == [] and [p.categories for p in products] == [()]
    assert dropped[0].reason.startswith('"categories"[1]: expected a non-empty string')


@pytest.mark.parametrize("text", [*INVISIBLE, "   "])
def test_an_invisible_brand_is_no_brand(tmp_path: Path, text: str) -> None:
    products, rejected = _read(tmp_path, [{"id": "p1", "title": "Mug", "brand": text}])
    assert rejected == []
    assert products[0].brand is None


@pytest.mark.parametrize("text", ["🔥", "!!!", "a\u0301", "\u05d0\u05d1", "ﷺ", "mug\u200b", "🫨"])
def test_visible_text_is_kept(tmp_path: Path, text: str) -> None:
    products, rejected = _read(tmp_path, [{"id": "p1", "title": text, "brand": text,
                                           "categories": [text]}])
    assert rejected == []
    assert (products[0].title, products[0].brand, products[0].categories) == (text, text, (text,))
