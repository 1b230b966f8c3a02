"""kg.relations: relations.jsonl lines go through the record reader's checks."""

from __future__ import annotations

from pathlib import Path

from kg.relations import read_relations


def test_an_unpaired_surrogate_line_is_quarantined_like_a_record_line(tmp_path: Path) -> None:
    path = tmp_path / "relations.jsonl"
    path.write_text(
        '{"relation": "also_bought", "src": "product:A\\ud800", "dst": "product:B"}\n'
        '{"relation": "also_bought", "src": "product:A\\ud83d\\ude00", "dst": "product:B"}\n',
        encoding="utf-8")
    read = read_relations(path)
    assert [(r.file, r.line, r.reason) for r in read.rejections] == [
        ("relations.jsonl", 1, "invalid JSON string: an unpaired \\u surrogate escape")]
    assert read.edges["also_bought"][0] == ["product:A😀"]
    assert (read.counts.read, read.counts.accepted, read.counts.rejected) == (2, 1, 1)
