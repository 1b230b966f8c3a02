"""A record naming a product, user or post whose own line was rejected is told which line
and why, not that nothing has the id (probe27: a catalogue with string prices lost every
product and each of its events was quarantined as naming an "unknown target")."""

from __future__ import annotations

import json
from pathlib import Path

from kg.reader import read_buffers, read_dataset
from kg.records import Product
from kg.validate import MAX_REFUSED, Validator


def _lines(*rows: object) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


_FILES = {
    "products.jsonl": _lines({"id": "p1", "title": "mug", "price": "9.99"},
                             {"id": "p2", "title": "cup"}),
    "users.jsonl": _lines({"id": "u1"}, {"id": "u2", "age": "31"}),
    "follows.jsonl": _lines({"follower": "u1", "followee": "u2"}),
    "posts.jsonl": _lines({"id": "s1", "author": "u1", "products": ["p1"]},
                          {"id": "s2", "author": "u2"}, {"id": 7, "author": "u1", "text": 5}),
    "events.jsonl": _lines({"user": "u1", "target": "p1", "kind": "view"},
                           {"user": "u1", "target": "product:p1", "kind": "view"},
                           {"user": "u2", "target": "p2", "kind": "view"},
                           {"user": "u1", "target": "7", "kind": "like"},
                           {"user": "u1", "target": "p9", "kind": "view"}),
}


def test_references_to_rejected_records_name_the_rejected_line() -> None:
    """Recommender.add's buffers are strict: a bad optional field rejects its record."""
    result = read_buffers({k: v.encode() for k, v in _FILES.items()}, label="add():")
    got = {(r.file.removeprefix("add():"), r.line): r.reason.replace("add():", "")
           for r in result.rejections}
    price = 'products.jsonl line 1 has this id but was rejected: "price": expected a number, ' \
            'got string "9.99"'
    age = 'users.jsonl line 2 has this id but was rejected: "age": expected an integer, got ' \
          'string "31"'
    assert got["follows.jsonl", 1] == f'unknown user "u2" (follows.followee): {age}'
    assert got["posts.jsonl", 1] == f'unknown product "p1" (posts.products): {price}'
    assert got["posts.jsonl", 2] == f'unknown user "u2" (posts.author): {age}'
    assert got["events.jsonl", 1] == f'unknown target "p1" (events.target): {price}'
    assert got["events.jsonl", 2] == f'unknown product "p1" (events.target): {price}'
    assert got["events.jsonl", 3] == f'unknown user "u2" (events.user): {age}'
    assert got["events.jsonl", 4] == ('unknown target "7" (events.target): posts.jsonl line 3 has '
                                      'this id but was rejected: "text": expected a string, got '
                                      'integer 5')
    # an id nothing ever had keeps the plain reason
    assert got["events.jsonl", 5] == ('unknown target "p9" (events.target): no product or '
                                      'post has it')
    assert not result.dropped


def test_a_dataset_folder_keeps_those_records_without_the_bad_field(tmp_path: Path) -> None:
    """The same lines read from a folder: only the fields go; what refers to them stays."""
    for name, text in _FILES.items():
        (tmp_path / name).write_text(text)
    result = read_dataset(tmp_path, progress=False)
    assert [(r.file, r.line) for r in result.rejections] == [("events.jsonl", 5)]
    assert [(n.file, n.line, n.field) for n in result.dropped] == [
        ("products.jsonl", 1, "price"), ("users.jsonl", 2, "age"), ("posts.jsonl", 3, "text")]
    assert result.counts["events.jsonl"].accepted == 4  # the second one merged: same view
    assert len(result.dataset.follows) == 1 and len(result.dataset.posts) == 3
    assert not result.refused


def test_a_bad_required_field_still_costs_the_references(tmp_path: Path) -> None:
    (tmp_path / "products.jsonl").write_text(_lines({"id": "p1", "title": 5, "price": 2}))
    (tmp_path / "users.jsonl").write_text(_lines({"id": "u1"}))
    (tmp_path / "events.jsonl").write_text(_lines({"user": "u1", "target": "p1", "kind": "view"}))
    result = read_dataset(tmp_path, progress=False)
    assert [r.reason for r in result.rejections] == [
        '"title": expected a string, got integer 5',
        'unknown target "p1" (events.target): products.jsonl line 1 has this id but was '
        'rejected: "title": expected a string, got integer 5']
    assert not result.dropped


def test_a_later_accepted_record_of_the_id_wins_and_the_memory_is_bounded() -> None:
    v = Validator()
    v.refuse(Product, {"id": "p1", "price": "x"}, ("products.jsonl", 1), "bad")
    v.check(Product("p1", "mug"), where=("products.jsonl", 2))
    v.refuse(Product, {"id": "p1", "price": "y"}, ("products.jsonl", 3), "worse")
    assert v.refusals() == {"product": {"p1": "products.jsonl line 1 has this id but was "
                                              "rejected: bad"}}
    for i in range(MAX_REFUSED + 5):
        v.refuse(Product, {"id": i}, ("products.jsonl", i), "bad")
    assert len(v.refusals()["product"]) == MAX_REFUSED
