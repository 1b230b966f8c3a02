"""A bad optional field of a product, user or post costs that field, not the record and all
that refers to it (issue 13; probe27's format_quirks world lost 861 of 1,040 lines to 15)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from kg.optional_fields import DROPPED_FILE, OPTIONAL, parse_keeping
from kg.parse import RecordError
from kg.reader import read_dataset
from kg.records import Post, Product, User


def _write(folder: Path, name: str, *rows: object) -> None:
    (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows))


def _quirky(folder: Path) -> None:
    _write(folder, "products.jsonl",
           {"id": "p1", "title": "mug", "price": "9.99", "brand": "Acme"},
           {"id": "p2", "title": "cup", "year": "1999", "categories": ["Home", ""]},
           {"id": "p3", "title": 7, "price": 1.0})  # a bad title: required
    _write(folder, "users.jsonl", {"id": "u1", "age": 200, "name": "Ann"}, {"id": "u2"})
    _write(folder, "posts.jsonl", {"id": "s1", "author": "u1", "ts": "yesterday", "text": "hi"})
    _write(folder, "events.jsonl",
           {"user": "u1", "target": "p1", "kind": "purchase"},
           {"user": "u2", "target": "p2", "kind": "view"},
           {"user": "u2", "target": "s1", "kind": "like"},
           {"user": "u2", "target": "p3", "kind": "view"})


def test_a_product_with_a_bad_price_is_kept_without_it_and_its_events_accepted(tmp_path):
    _quirky(tmp_path)
    result = read_dataset(tmp_path, progress=False)
    products = {p.id: p for p in result.dataset.products}
    assert set(products) == {"p1", "p2"}
    assert products["p1"].price is None and products["p1"].brand == "Acme"
    assert products["p2"].year is None and products["p2"].categories == ()
    assert [u.age for u in result.dataset.users] == [None, None]
    assert result.dataset.users[0].name == "Ann"
    assert result.dataset.posts[0].ts is None and result.dataset.posts[0].text == "hi"
    assert [(e.user, e.target) for e in result.dataset.events] == [
        ("u1", "p1"), ("u2", "p2"), ("u2", "s1")]
    assert [(n.file, n.line, n.field, n.reason) for n in result.dropped] == [
        ("products.jsonl", 1, "price", '"price": expected a number, got string "9.99"'),
        ("products.jsonl", 2, "categories",
         '"categories"[1]: expected a non-empty string, got string ""'),
        ("products.jsonl", 2, "year", '"year": expected an integer, got string "1999"'),
        ("users.jsonl", 1, "age", '"age": integer 200 is outside 0..150'),
        ("posts.jsonl", 1, "ts", '"ts": expected unix seconds or an ISO 8601 date, got '
                                 'string "yesterday"'),
    ]
    counts = result.counts
    assert (counts["products.jsonl"].accepted, counts["products.jsonl"].rejected,
            counts["products.jsonl"].fields_dropped) == (2, 1, 3)
    assert counts["events.jsonl"].rejected == 1  # p3, whose title was bad


@pytest.mark.parametrize("kind, obj", [
    (Product, {"id": "p1", "title": "", "price": "x"}),
    (Product, {"id": 1.5, "title": "t"}),
    (User, {"id": " u1", "age": "x"}),
    (Post, {"id": "s1", "author": None, "ts": "x"}),
])
def test_a_bad_required_field_still_rejects(kind, obj):
    with pytest.raises(RecordError):
        parse_keeping(kind, obj)


def test_strict_parsing_rejects_an_optional_field_too():
    with pytest.raises(RecordError, match='"price"'):
        parse_keeping(Product, {"id": "p1", "title": "t", "price": "9.99"}, lenient=False)


def test_every_optional_field_is_a_parsed_field_not_required():
    """OPTIONAL names only fields the records have, never an id or a title."""
    for kind, names in OPTIONAL.items():
        assert names <= set(kind.__dataclass_fields__) and not names & {"id", "title", "author"}


def test_the_build_writes_the_notes_and_says_so(tmp_path, caplog):
    from kg.artifact import build_artifact
    from scripts.cmd_build import warn_rejections

    data = tmp_path / "data"
    data.mkdir()
    _quirky(data)
    manifest = build_artifact(data, tmp_path / "art", progress=False)
    notes = [json.loads(line) for line in (tmp_path / "art" / DROPPED_FILE).open()]
    assert notes[0] == {"file": "products.jsonl", "line": 1, "field": "price",
                        "reason": '"price": expected a number, got string "9.99"'}
    assert len(notes) == manifest["fields_dropped"] == 5
    assert manifest["inputs"]["products.jsonl"]["fields_dropped"] == 3
    assert DROPPED_FILE in manifest["files"]
    with caplog.at_level(logging.WARNING):
        warn_rejections(data, tmp_path / "art", manifest)
    assert f"5 bad optional fields dropped from records kept without them (see " \
           f"{tmp_path / 'art' / DROPPED_FILE})" in caplog.text
