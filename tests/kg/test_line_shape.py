"""Files that are not JSON Lines in three common ways: every line's reason says which
(probe27: a pretty-printed products.jsonl was "Extra data at character 9" 240 times, a JSON
array "got array of 900", bare CR line ends "Extra data at character 14")."""

from __future__ import annotations

import json
from pathlib import Path

from kg.reader import MAX_LINE_BYTES, read_dataset
from kg.relations import read_relations

_ROWS = [{"id": f"u{i}", "name": "a"} for i in range(3)]


def _reasons(folder: Path) -> list[str]:
    return [r.reason for r in read_dataset(folder, progress=False).rejections]


def test_a_pretty_printed_file_says_a_record_is_spread_over_lines(tmp_path: Path) -> None:
    (tmp_path / "users.jsonl").write_text(json.dumps(_ROWS, indent=2))
    reasons = _reasons(tmp_path)
    assert len(reasons) == 2 + 4 * 3  # "[", "]" and each record's "{", two keys, "}"
    assert all(r.startswith("malformed JSON: ") and r.endswith(
        "(a piece of a record spread over several lines, as in pretty-printed JSON: JSON Lines "
        "needs each record whole on one line)") for r in reasons)


def test_a_json_array_says_to_write_a_record_per_line(tmp_path: Path) -> None:
    (tmp_path / "users.jsonl").write_text(json.dumps(_ROWS) + "\n[1, 2]\n")
    hint = " (a JSON array of records: write each record on a line of its own, JSON Lines)"
    assert _reasons(tmp_path) == [f"expected a JSON object, got array of 3{hint}",
                                  "expected a JSON object, got array of 2"]
    big = [{"id": "x" * 1000}] * (MAX_LINE_BYTES // 1000)
    (tmp_path / "users.jsonl").write_text(json.dumps(big) + "\n")
    assert _reasons(tmp_path)[0].endswith(f" bytes){hint}")
    (tmp_path / "relations.jsonl").write_text(json.dumps(
        [{"relation": "also_bought", "src": "product:a", "dst": "product:b"}]) + "\n")
    refused = read_relations(tmp_path / "relations.jsonl").rejections
    assert refused[0].reason == f"expected a JSON object, got array of 1{hint}"


def test_bare_cr_line_ends_are_named(tmp_path: Path) -> None:
    hint = " (its lines end in a bare CR, \\r: save the file with LF or CRLF line ends)"
    (tmp_path / "users.jsonl").write_bytes(b"\r".join(json.dumps(r).encode() for r in _ROWS))
    assert _reasons(tmp_path) == [f"malformed JSON: Extra data at character 27{hint}"]
    rows = [json.dumps({"id": f"u{i}"}).encode() for i in range(MAX_LINE_BYTES // 10)]
    (tmp_path / "users.jsonl").write_bytes(b"\r".join(rows))
    assert _reasons(tmp_path)[0].endswith(hint)
    # CRLF line ends are fine, and a CR inside a string is no line end
    (tmp_path / "users.jsonl").write_bytes(b'{"id": "u1"}\r\n{"id": "u2", "bio": "a\\rb"}\r\n')
    assert _reasons(tmp_path) == []
