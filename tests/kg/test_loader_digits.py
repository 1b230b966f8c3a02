"""Digits ``int`` cannot read in a source row are that row's rejection, not a failed import.

``str.isdigit`` accepts superscripts (``"²"`` is byte 0xB2 of a latin-1 file such as
MovieLens's) and circled digits, on which ``int`` raises: one such cell aborted the whole
``shopgraph import`` with "invalid literal for int()", naming no file or line.
"""

from __future__ import annotations

import gzip
from pathlib import Path

from kg.loaders import load_amazon_beauty_kg, load_ciao, load_movielens
from kg.loaders.common import is_digits


def test_only_ascii_digits_are_digits() -> None:
    assert is_digits("0123456789")
    assert not any(is_digits(t) for t in ("", "²", "1²", "①", "٣", " 1", "-1", "1.0"))


def test_movielens_rows_with_superscript_digits_are_rejected(tmp_path: Path) -> None:
    ml = tmp_path / "ml"
    ml.mkdir()
    (ml / "u.genre").write_bytes(b"unknown|0\nAction|1\nOdd|\xb2\n")
    (ml / "u.user").write_bytes(b"1|24|M|technician|85711\n2|\xb2|F|other|1\n\xb3|30|F|x|2\n")
    (ml / "u.item").write_bytes(b"1|Heat (1995)|01-Jan-1995||url|0|1\n"
                                b"2|Odd|01-Jan-19\xb29||url|0|1\n\xb9|Three|||url|0|0\n")
    (ml / "u.data").write_bytes(b"1\t1\t5\t881250949\n1\t2\t\xb2\t881250950\n"
                                b"1\t2\t4\t88125095\xb3\n")
    result = load_movielens(ml)
    assert [(r.file, r.line) for r in result.rejected] == [
        ("u.genre", 3), ("u.user", 2), ("u.user", 3), ("u.item", 3), ("u.data", 2),
        ("u.data", 3)]
    assert [p.id for p in result.dataset.products] == ["1", "2"]
    assert result.dataset.products[1].year is None  # a release year int cannot read
    assert [(e.user, e.target) for e in result.dataset.events] == [("1", "1")]


def test_beauty_kg_label_with_a_superscript_is_rejected(tmp_path: Path) -> None:
    pgpr, cafe = tmp_path / "pgpr", tmp_path / "cafe"
    pgpr.mkdir()
    cafe.mkdir()

    def put(path: Path, text: str) -> None:
        path.write_bytes(gzip.compress(text.encode()))

    put(pgpr / "product.txt.gz", "P0\nP1\n")
    put(pgpr / "users.txt.gz", "U0\nU1\n")
    put(pgpr / "brand.txt.gz", "Acme\n")
    put(pgpr / "category.txt.gz", "Beauty\n")
    put(pgpr / "related_product.txt.gz", "R0\n")
    for name in ("brand_p_b", "category_p_c", "also_bought_p_p", "also_viewed_p_p",
                 "bought_together_p_p"):
        put(pgpr / f"{name}.txt.gz", "\n\n")
    put(cafe / "train_labels.txt.gz", "0\t0\n1\t\u00b2\n\u2460\t1\n")
    put(cafe / "test_labels.txt.gz", "0\t1\n")
    result = load_amazon_beauty_kg(tmp_path)
    assert [(r.file, r.line) for r in result.rejected] == [
        ("train_labels.txt.gz", 2), ("train_labels.txt.gz", 3)]
    assert [(e.user, e.target) for e in result.dataset.events] == [("U0", "P0")]


def test_ciao_category_id_with_a_superscript_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "categories.csv").write_bytes(b"category_id,category_name\n1,Beauty\n\xb2,Odd\n")
    (tmp_path / "ratings.csv.gz").write_bytes(gzip.compress(
        b"user_id,product_id,category_id,rating,helpfulness\n1,5,1,4,2\n"))
    (tmp_path / "trust.csv").write_text("truster_id,trustee_id\n")
    result = load_ciao(tmp_path)
    assert [(r.file, r.line) for r in result.rejected] == [("categories.csv", 3)]
    assert [p.categories for p in result.dataset.products] == [("Beauty",)]
