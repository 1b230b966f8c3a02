"""The Amazon Reviews 2023 user-histories loader: the real sample in ../shared/data (skipped
when absent) and a small hand-made folder with broken and repeated reviews."""

from __future__ import annotations

import functools
import json
from collections import Counter
from pathlib import Path

import pytest

from kg.jsonl import write_dataset
from kg.loaders import LOADERS, LoadResult, load_amazon2023
from kg.reader import read_dataset
from scripts.cli import main

_NAME = "amazon2023_multicategory_user_histories"


@functools.cache
def _load(folder: Path) -> LoadResult:
    """The real sample is loaded once per test module."""
    return load_amazon2023(folder)


@pytest.fixture
def a23(shared_dataset) -> LoadResult:
    return _load(shared_dataset(_NAME))


def test_counts_match_the_source(a23):
    assert a23.rows_read == {"training.jsonl": 598, "validation.jsonl": 70, "test.jsonl": 23}
    assert a23.rejected == []
    data = a23.dataset
    assert (len(data.users), len(data.products)) == (354, 3_228)
    # every review of every line, history and held-out alike, is a post and a rate event
    assert len(data.posts) == len(data.events) == 3_455
    assert sum(p.id.endswith("-heldout") for p in data.posts) == 598 + 70 + 23
    assert {e.kind for e in data.events} == {"rate"}
    assert sum(p.attributes.get("title_fallback") == "asin" for p in data.products) == 74
    assert all(p.brand is None for p in data.products)
    assert sum(p.price is not None for p in data.products) == 2_331
    assert len({c for p in data.products for c in p.categories}) == 34
    assert not any("<br" in p.text for p in data.posts)


def test_known_records(a23, shared_dataset):
    first = json.loads(
        (shared_dataset(_NAME) / "training.jsonl").read_text().split("\n", 1)[0]
    )
    review = first["history"][0]
    post = next(p for p in a23.dataset.posts if p.id == "training-1-0")
    assert (post.author, post.products, post.ts) == (
        "AE3KLVXGZPANXE5XLXYKHTVAZ3FQ",
        ("B095RWJJB8",),
        1627679830.425,
    )
    assert post.text == review["review_excerpt"]
    event = a23.dataset.events[0]
    assert (event.user, event.target, event.kind, event.value, event.ts) == (
        "AE3KLVXGZPANXE5XLXYKHTVAZ3FQ", "B095RWJJB8", "rate", 4.0, 1627679830.425)
    product = next(p for p in a23.dataset.products if p.id == "B095RWJJB8")
    assert product.title == review["product"]["title"]
    assert (product.categories, product.price) == (("All Beauty",), None)
    heldout = next(p for p in a23.dataset.posts if p.id == "training-1-heldout")
    assert heldout.ts == first["heldout"]["timestamp_ms"] / 1000
    assert heldout.products == (first["heldout"]["parent_asin"],)


def test_output_passes_the_validator(a23, tmp_path):
    write_dataset(a23.dataset, tmp_path)
    assert read_dataset(tmp_path, progress=False).rejections == []


def _review(asin: str, ts_ms: int, **changes) -> dict:
    review = {
        "parent_asin": asin,
        "rating": 4.0,
        "timestamp_ms": ts_ms,
        "review_excerpt": f"Review of {asin}",
        "review_full": f"Review of {asin}, in full",
        "review_title": "Fine",
        "product": {"title": f"Item {asin}", "brand": None, "price": 9.5,
                    "main_category": "Toys & Games"},
    }
    return {**review, **changes}


def _write_sample(folder: Path) -> None:
    """training: a good line, broken lines, a line with bad reviews; validation repeats
    one training review; test holds a user seen in training, in another category."""
    folder.mkdir()
    good = {
        "user_id": "U1",
        "category": "Toys_and_Games",
        "history": [
            _review("A1", 1_600_000_000_000),
            _review("A2", 1_600_000_001_500, review_excerpt="Good<br />Really &amp; truly"),
        ],
        "heldout": _review("A3", 1_600_000_002_000, product={"title": None, "price": "$3",
                                                             "brand": "Acme",
                                                             "main_category": None}),
    }
    bad_reviews = {
        "user_id": "U2",
        "category": "Toys_and_Games",
        "history": [
            _review("A1", 1_600_000_000_000, rating=7),
            "not a review",
            _review("", 1_600_000_000_000),
            _review("A4", 1.6e12),
        ],
    }
    training = [
        json.dumps(good),
        "{not json",
        json.dumps({**good, "user_id": " "}),
        json.dumps({**good, "history": None}),
        json.dumps(bad_reviews),
    ]
    (folder / "training.jsonl").write_text("\n".join(training) + "\n")
    repeat = {
        "user_id": "U1",
        "category": "Toys_and_Games",
        "history": [_review("A1", 1_600_000_000_000)],
        "heldout": _review("A1", 1_600_000_000_000, rating=2.0),
    }
    (folder / "validation.jsonl").write_text(json.dumps(repeat) + "\n")
    other = {"user_id": "U1", "category": "Books", "history": [],
             "heldout": _review("A5", 1_700_000_000_000, product=None)}
    (folder / "test.jsonl").write_text(json.dumps(other) + "\n")


def test_bad_lines_and_reviews_are_reported(tmp_path):
    _write_sample(tmp_path / "src")
    result = load_amazon2023(tmp_path / "src")
    assert result.rows_read == {"training.jsonl": 5, "validation.jsonl": 1, "test.jsonl": 1}
    assert [(r.file, r.line, r.reason.split(",")[0]) for r in result.rejected] == [
        ("training.jsonl", 2, "invalid JSON: Expecting property name enclosed in double quotes"),
        ("training.jsonl", 3, "missing or empty 'user_id'"),
        ("training.jsonl", 4, "'history' must be a list of reviews"),
        ("training.jsonl", 5, "history[0]: 'rating' must be a rating 1-5"),
        ("training.jsonl", 5, "history[1]: not a review object"),
        ("training.jsonl", 5, "history[2]: missing or empty 'parent_asin'"),
        ("training.jsonl", 5, "history[3]: 'timestamp_ms' must be integer milliseconds"),
        ("training.jsonl", 5, "heldout: not a review object"),
        ("validation.jsonl", 1,
         "history[0]: exact duplicate of training.jsonl line 1 history[0]"),
    ]
    data = result.dataset
    assert [p.id for p in data.posts] == [
        "training-1-0", "training-1-1", "training-1-heldout", "validation-1-heldout",
        "test-1-heldout"]
    # the same user and product at the same time with another rating is another review
    assert [(e.target, e.value) for e in data.events if e.target == "A1"] == [
        ("A1", 4.0), ("A1", 2.0)]
    assert data.posts[1].text == "Good\nReally & truly"
    assert data.posts[1].ts == 1_600_000_001.5
    assert [u.id for u in data.users] == ["U1"]


def test_product_metadata_mapping(tmp_path):
    _write_sample(tmp_path / "src")
    products = {p.id: p for p in load_amazon2023(tmp_path / "src").dataset.products}
    assert list(products) == ["A1", "A2", "A3", "A5"]
    a1 = products["A1"]
    assert (a1.title, a1.price, a1.categories, a1.brand, a1.attributes) == (
        "Item A1", 9.5, ("Toys & Games",), None, {})
    a3 = products["A3"]  # null title, non-numeric price, null category, a brand
    assert (a3.title, a3.price, a3.categories, a3.brand, a3.attributes) == (
        "A3", None, (), "Acme", {"title_fallback": "asin"})
    assert products["A5"].title == "A5"  # no product metadata at all


def test_one_file_can_be_loaded_and_a_missing_file_is_named(tmp_path):
    _write_sample(tmp_path / "src")
    assert len(load_amazon2023(tmp_path / "src" / "test.jsonl").dataset.posts) == 1
    (tmp_path / "src" / "validation.jsonl").unlink()
    with pytest.raises(FileNotFoundError, match=r"validation\.jsonl"):
        load_amazon2023(tmp_path / "src")


def test_import_command_writes_a_valid_dataset(tmp_path, capsys):
    assert LOADERS["amazon2023"] is load_amazon2023
    _write_sample(tmp_path / "src")
    out = tmp_path / "out"
    assert main(["import", "amazon2023", str(tmp_path / "src"), "--out", str(out)]) == 0
    summary = capsys.readouterr().out
    assert "posts.jsonl 5" in summary and "events.jsonl 5" in summary and "rejected 9" in summary
    lines = (out / "import_rejected.jsonl").read_text().splitlines()
    rejected = [json.loads(line) for line in lines]
    assert Counter(r["file"] for r in rejected) == {"training.jsonl": 8, "validation.jsonl": 1}
    read = read_dataset(out, progress=False)
    assert read.rejections == []
    assert len(read.dataset.events) == 5
