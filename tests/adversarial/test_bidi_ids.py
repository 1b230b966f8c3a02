"""Ids holding a bidi embedding, override or isolate character (U+202A-U+202E,
U+2066-U+2069) are refused by the reader, naming the file, line and reason: shown anywhere
(a recommendation list, an error message, a URL), such an id reorders the text around it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg.reader import read_dataset
from kg.relations import read_relations

BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]


def _write(folder: Path, name: str, rows: list[dict]) -> None:
    (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.mark.parametrize("mark", BIDI)
def test_an_id_with_a_bidi_control_is_refused_with_file_line_and_reason(tmp_path: Path,
                                                                        mark: str) -> None:
    bad = f"{mark}evil"
    _write(tmp_path, "products.jsonl", [{"id": "p1", "title": "Mug"},
                                        {"id": f"p{mark}2", "title": "Cup"}])
    _write(tmp_path, "users.jsonl", [{"id": "u1"}, {"id": bad}])
    _write(tmp_path, "posts.jsonl", [{"id": bad, "author": "u1", "text": "hi"}])
    _write(tmp_path, "events.jsonl", [{"user": "u1", "target": "p1", "kind": "view"},
                                      {"user": "u1", "target": f"product:{bad}", "kind": "view"}])
    result = read_dataset(tmp_path, progress=False)
    assert [p.id for p in result.dataset.products] == ["p1"]
    assert [u.id for u in result.dataset.users] == ["u1"]
    assert result.dataset.posts == [] and len(result.dataset.events) == 1
    where = sorted((r.file, r.line) for r in result.rejections)
    assert where == [("events.jsonl", 2), ("posts.jsonl", 1), ("products.jsonl", 2),
                     ("users.jsonl", 2)]
    for r in result.rejections:
        assert "bidi" in r.reason and "U+202A-U+202E" in r.reason, r.reason
        assert mark not in r.reason  # the quoted id is escaped: the reason reads in order
        assert f"\\u{ord(mark):04x}" in r.reason


def test_a_relation_endpoint_with_a_bidi_control_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "relations.jsonl"
    _write(tmp_path, "relations.jsonl", [
        {"relation": "also_bought", "src": "product:a", "dst": "product:b"},
        {"relation": "also_bought", "src": "product:a", "dst": "product:\u202eb"}])
    read = read_relations(path)
    assert read.counts.accepted == 1
    assert [(r.line, "bidi" in r.reason) for r in read.rejections] == [(2, True)]
