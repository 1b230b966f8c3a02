"""Numbers a loader cannot convert are that source row's rejection, not a failed import.

- ``str.isdigit`` accepts superscripts (``"²"`` is byte 0xB2 of a latin-1 file such as
  MovieLens's) and circled digits, on which ``int`` raises: one such cell aborted the whole
  ``shopgraph import`` with "invalid literal for int()", naming no file or line;
- a run of digits too long for int64 (numpy raised OverflowError reading Ciao) or for ``int``
  (more than 4,300 digits);
- a JSON line with an integer too large for a float (a timestamp, a price), one of more than
  4,300 digits, or nested too deeply raised OverflowError, ValueError or RecursionError out
  of the Amazon review loaders.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from kg.loaders import (
    load_amazon2023,
    load_amazon_beauty_kg,
    load_amazon_reviews,
    load_ciao,
    load_movielens,
)
from kg.loaders.common import is_digits, json_object, missing_text, read_lines
from tests.kg.test_loaders import write_beauty_kg


def test_only_ascii_digits_int64_holds_are_digits() -> None:
    assert is_digits("0123456789") and is_digits("9" * 18)
    assert not any(is_digits(t) for t in ("", "²", "1²", "①", "٣", " 1", "-1", "1.0", "1" * 19))


def test_a_json_line_is_an_object_or_the_reason_it_is_not() -> None:
    assert json_object('{"a": 1}') == ({"a": 1}, "")
    assert json_object("[1, 2]") == (None, "not a JSON object")
    assert json_object("{not json")[1].startswith("invalid JSON: ")
    assert json_object("[" * 100_000) == (None, "invalid JSON: nested too deeply")
    record = {"id": "x", "blank": "  ", "n": 3}
    assert missing_text(record, "id") == ""
    assert missing_text(record, "id", "blank", "n") == "missing or empty 'blank'"
    assert missing_text(record, "n") == "missing or empty 'n'"
    assert missing_text(record, "absent") == "missing or empty 'absent'"
    assert json_object('{"id": "x", "n": 3}', "id") == ({"id": "x", "n": 3}, "")
    assert json_object('{"id": "x", "n": 3}', "id", "n") == (None, "missing or empty 'n'")


def test_movielens_rows_with_superscript_digits_are_rejected(tmp_path: Path) -> None:
    ml = tmp_path / "ml"
    ml.mkdir()
    (ml / "u.genre").write_bytes(b"unknown|0\nAction|1\nOdd|\xb2\n")
    (ml / "u.user").write_bytes(b"1|24|M|technician|85711\n2|\xb2|F|other|1\n\xb3|30|F|x|2\n")
    (ml / "u.item").write_bytes(b"1|Heat (1995)|01-Jan-1995||url|0|1\n"
                                b"2|Odd|01-Jan-19\xb29||url|0|1\n\xb9|Three|||url|0|0\n")
    (ml / "u.data").write_bytes(b"1\t1\t5\t881250949\n1\t2\t\xb2\t881250950\n"
                                b"1\t2\t4\t88125095\xb3\n1\t2\t" + b"4" * 5000 + b"\t1\n")
    result = load_movielens(ml)
    assert [(r.file, r.line) for r in result.rejected] == [
        ("u.genre", 3), ("u.user", 2), ("u.user", 3), ("u.item", 3), ("u.data", 2),
        ("u.data", 3), ("u.data", 4)]
    assert [p.id for p in result.dataset.products] == ["1", "2"]
    assert result.dataset.products[1].year is None  # a release year int cannot read
    assert [(e.user, e.target) for e in result.dataset.events] == [("1", "1")]


def test_beauty_kg_superscripts_and_long_indices_are_rejected(tmp_path: Path) -> None:
    empty = dict.fromkeys(("brand_p_b", "category_p_c", "also_viewed_p_p",
                           "bought_together_p_p"), "\n\n")
    write_beauty_kg(tmp_path, {
        "product": "P0\nP1\n", "users": "U0\nU1\n", "brand": "Acme\n",
        "category": "Beauty\n", "related_product": "R0\n", **empty,
        "also_bought_p_p": f"0 {'7' * 30}\n0\n",
    }, {"train_labels": "0\t0\n1\t\u00b2\n\u2460\t1\n", "test_labels": "0\t1\n"})
    result = load_amazon_beauty_kg(tmp_path)
    assert [(r.file, r.line) for r in result.rejected] == [
        ("also_bought_p_p.txt.gz", 1), ("train_labels.txt.gz", 2), ("train_labels.txt.gz", 3)]
    assert [(e.user, e.target) for e in result.dataset.events] == [("U0", "P0")]


def test_ciao_superscripts_and_ids_past_int64_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "categories.csv").write_bytes(b"category_id,category_name\n1,Beauty\n\xb2,Odd\n")
    (tmp_path / "ratings.csv.gz").write_bytes(gzip.compress(
        b"user_id,product_id,category_id,rating,helpfulness\n1,5,1,4,2\n"
        b"99999999999999999999999,5,1,4,2\n"))
    (tmp_path / "trust.csv").write_text("truster_id,trustee_id\n1,2\n1," + "2" * 19 + "\n")
    result = load_ciao(tmp_path)
    assert [(r.file, r.line) for r in result.rejected] == [
        ("categories.csv", 3), ("ratings.csv.gz", 3), ("trust.csv", 3)]
    assert [p.categories for p in result.dataset.products] == [("Beauty",)]


_HUGE = "1" + "0" * 400  # an integer JSON reads and float() cannot hold
_BAD_JSON = ['{"x": 1' + "0" * 5000 + "}", "[" * 100_000 + "]" * 100_000]


def test_amazon2023_huge_numbers_and_bad_json_are_rejected(tmp_path: Path) -> None:
    review = {"parent_asin": "B1", "rating": 5, "timestamp_ms": 1_600_000_000_000,
              "product": {"title": "Mug", "price": 3.5}}
    lines = [json.dumps({"user_id": "A", "history": [review], "heldout": review}),
             json.dumps({"user_id": "B", "history": [], "heldout": review}).replace(
                 "1600000000000", _HUGE),
             json.dumps({"user_id": "C", "history": [], "heldout": dict(
                 review, parent_asin="B2", product={"title": "Cup", "price": 1})}).replace(
                 '"price": 1}', f'"price": {_HUGE}}}'),
             *_BAD_JSON]
    (tmp_path / "training.jsonl").write_text("\n".join(lines) + "\n")
    result = load_amazon2023(tmp_path / "training.jsonl")
    assert [(r.line, r.reason.split(":")[0]) for r in result.rejected] == [
        (1, "heldout"), (2, "heldout"), (4, "invalid JSON"), (5, "invalid JSON")]
    assert {p.id: p.price for p in result.dataset.products} == {"B1": 3.5, "B2": None}


def test_amazon_reviews_huge_time_and_bad_json_are_rejected(tmp_path: Path) -> None:
    review = {"reviewerID": "A", "asin": "B1", "overall": 5.0, "unixReviewTime": 1_600_000_000}
    lines = [json.dumps(review), json.dumps(dict(review, asin="B2")).replace(
        "1600000000", _HUGE), *_BAD_JSON]
    (tmp_path / "All_Beauty_5.json").write_text("\n".join(lines) + "\n")
    result = load_amazon_reviews(tmp_path / "All_Beauty_5.json")
    assert [r.line for r in result.rejected] == [2, 3, 4]
    assert "unixReviewTime" in result.rejected[0].reason
    assert [e.target for e in result.dataset.events] == ["B1"]


def test_a_source_file_that_is_not_gzip_or_not_text_is_named(tmp_path: Path) -> None:
    """A corrupt or truncated ``.gz`` raised gzip's own error ("Not a gzipped file (b'x')",
    exit 1: a bug) naming no file; bytes that are not the file's encoding, the codec's."""
    (tmp_path / "a.gz").write_bytes(b"x")
    (tmp_path / "b.gz").write_bytes(gzip.compress(b"1,2\n")[:-10])
    (tmp_path / "c.json").write_bytes(b'{"a": 1}\n{"b": "\xff"}\n')
    for name in ("a.gz", "b.gz"):
        with pytest.raises(ValueError, match=rf"{name}: not a readable gzip file"):
            read_lines(tmp_path / name)
    with pytest.raises(ValueError, match=r"c\.json line 2: not utf-8 text \(byte 0xff"):
        read_lines(tmp_path / "c.json")
