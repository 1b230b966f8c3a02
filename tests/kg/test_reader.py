"""Reading a dataset folder: quarantine of bad lines, counts, the rejections file (the
properties, with the write/read round trip: test_reader_properties.py)."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from kg.reader import MAX_LINE_BYTES, RAW_CHARS, read_dataset, write_rejections
from kg.records import DATASET_FILES, Event, Product
from kg.validate import KnownIds

FILE_NAMES = [name for name, _ in DATASET_FILES]


def write(folder: Path, name: str, *lines: str | bytes) -> None:
    data = b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in lines)
    (folder / name).write_bytes(data)


def reasons(result) -> dict[tuple[str, int], str]:
    return {(r.file, r.line): r.reason for r in result.rejections}


@pytest.fixture
def small(tmp_path: Path) -> Path:
    write(
        tmp_path, "products.jsonl", '{"id": "p1", "title": "Mug"}', '{"id": "p2", "title": "Cup"}'
    )
    write(tmp_path, "users.jsonl", '{"id": "u1"}', '{"id": "u2"}')
    return tmp_path


def test_every_bad_line_is_quarantined_with_file_line_and_reason(small: Path):
    view = '{"user": "u1", "target": "p1", "kind": "view"}'
    not_utf8 = b'{"user": "u1", "target": "p\xff1", "kind": "view"}'
    write(
        small,
        "events.jsonl",
        view,
        view[:-1] + ", ",
        not_utf8,
        "[1, 2]",
        '{"user": "u9", "target": "p1", "kind": "view"}',
        '{"user": "u1", "target": "p1", "kind": "rate", "value": NaN}',
        view,
        view + ' {"extra": 1}',
    )
    result = read_dataset(small, progress=False)
    assert reasons(result) == {
        ("events.jsonl", 2): "malformed JSON: Expecting property name enclosed in double quotes "
        f"at character {len(view) + 3}",  # the end of the line
        ("events.jsonl", 3): f"not UTF-8: invalid byte 0xff at byte offset {not_utf8.index(255)}",
        ("events.jsonl", 4): "expected a JSON object, got array of 2",
        ("events.jsonl", 5): 'unknown user "u9" (events.user)',
        ("events.jsonl", 6): '"value": expected a finite number, got NaN',
        ("events.jsonl", 8): f"malformed JSON: Extra data at character {len(view) + 2}",
    }
    counts = result.counts["events.jsonl"]
    assert (counts.read, counts.accepted, counts.rejected, counts.merged) == (8, 2, 6, 1)
    assert result.dataset.events == [Event("u1", "p1", "product", "view")]
    bad_bytes = next(r for r in result.rejections if r.line == 3)
    assert bad_bytes.raw == '{"user": "u1", "target": "p\\xff1", "kind": "view"}'


def test_conflicting_duplicates_keep_the_first(tmp_path: Path):
    write(
        tmp_path,
        "products.jsonl",
        '{"id": "p1", "title": "Mug"}',
        '{"id": "p1", "title": "Mug"}',
        '{"id": "p1", "title": "Cup"}',
    )
    result = read_dataset(tmp_path, progress=False)
    assert reasons(result) == {
        ("products.jsonl", 3): 'conflicting duplicate of products.jsonl line 1 (id "p1")'
    }
    assert result.dataset.products == [Product(id="p1", title="Mug")]
    assert result.counts["products.jsonl"].merged == 1


def test_references_follow_file_order(small: Path):
    write(
        small,
        "follows.jsonl",
        '{"follower": "u1", "followee": "u9"}',
        '{"follower": 1, "followee": "u2"}',
    )
    write(
        small,
        "posts.jsonl",
        '{"id": "q1", "author": "u2", "products": ["p1", "p3"]}',
        '{"id": "p1", "author": "u2"}',
    )
    write(
        small,
        "events.jsonl",
        '{"user": "u1", "target": "q1", "kind": "like"}',
        '{"user": "u1", "target": "p1", "kind": "like"}',
        '{"user": "u1", "target": "post:p1", "kind": "like"}',
    )
    result = read_dataset(small, progress=False)
    assert reasons(result) == {
        ("follows.jsonl", 1): 'unknown user "u9" (follows.followee)',
        ("follows.jsonl", 2): 'unknown user "1" (follows.follower)',
        ("posts.jsonl", 1): 'unknown product "p3" (posts.products)',
        ("events.jsonl", 1): 'unknown target "q1" (events.target): posts.jsonl line 1 has '
                             'this id but was rejected: unknown product "p3" (posts.products)',
        ("events.jsonl", 2): 'ambiguous target "p1" (events.target): both a product and a post '
        'have this id; write "product:p1" or "post:p1"',
    }
    assert result.dataset.events == [Event("u1", "p1", "post", "like")]


def test_long_lines_are_rejected_and_reading_goes_on(tmp_path: Path):
    exact = '{"id": "u1", "bio": "' + "x" * (MAX_LINE_BYTES - 23) + '"}'
    assert len(exact) == MAX_LINE_BYTES
    too_long = '{"id": "u2", "bio": "' + "x" * (3 * MAX_LINE_BYTES) + '"}'
    write(tmp_path, "users.jsonl", exact, too_long, '{"id": "u3"}')
    result = read_dataset(tmp_path, progress=False)
    assert [u.id for u in result.dataset.users] == ["u1", "u3"]
    (rejection,) = result.rejections
    assert rejection.line == 2
    assert rejection.reason == f"line is longer than 1 MB ({len(too_long):,} bytes)"
    assert rejection.raw.startswith('{"id": "u2"') and len(rejection.raw) < RAW_CHARS + 20


def test_a_huge_line_is_never_held_in_memory_whole(tmp_path: Path):
    huge = b'{"id": "u1", "bio": "' + b"x" * (60 * MAX_LINE_BYTES) + b'"}'
    write(tmp_path, "users.jsonl", huge, '{"id": "u2"}')
    tracemalloc.start()
    try:
        result = read_dataset(tmp_path, progress=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [u.id for u in result.dataset.users] == ["u2"]
    assert result.rejections[0].reason == f"line is longer than 1 MB ({len(huge):,} bytes)"
    assert peak < 10 * MAX_LINE_BYTES  # a few 1 MB chunks, not the 60 MB line


def test_a_category_path_deeper_than_the_limit_is_dropped_not_built(tmp_path: Path):
    """Each level of a ``categories`` path is a node whose id spells the path down to it: a
    72 KB line of 8,000 levels took 1.1 GB to build, a 1 MB one would not fit in memory. The
    product is kept without categories (an optional field, :mod:`kg.optional_fields`)."""
    from kg.build import build_graph
    from kg.limits import MAX_CATEGORY_DEPTH

    deep = {"id": "p1", "title": "t", "categories": ["a"] * 200_000}  # 800 KB: under 1 MB
    limit = {"id": "p2", "title": "t", "categories": [f"c{k}" for k in range(MAX_CATEGORY_DEPTH)]}
    write(tmp_path, "products.jsonl", json.dumps(deep, separators=(",", ":")), json.dumps(limit))
    result = read_dataset(tmp_path, progress=False)
    assert [(p.id, len(p.categories)) for p in result.dataset.products] == [
        ("p1", 0), ("p2", MAX_CATEGORY_DEPTH)]
    assert not result.rejections
    (note,) = result.dropped
    assert (note.line, note.field) == (1, "categories") and note.reason == (
        f'"categories": a path of 200000 levels; at most {MAX_CATEGORY_DEPTH} (one path, '
        "general -> specific)")
    graph = build_graph(result.dataset, progress=False)
    assert graph.num_nodes("category") == MAX_CATEGORY_DEPTH


def test_blank_lines_crlf_and_bom(tmp_path: Path):
    data = b'\xef\xbb\xbf{"id": "u1"}\r\n\r\n   \n{"id": ""}\r\n\n{"id": "u3"}'
    (tmp_path / "users.jsonl").write_bytes(data)
    result = read_dataset(tmp_path, progress=False)
    assert [u.id for u in result.dataset.users] == ["u1", "u3"]
    assert reasons(result) == {("users.jsonl", 4): '"id": id must not be empty or blank'}
    counts = result.counts["users.jsonl"]
    assert (counts.read, counts.accepted, counts.rejected) == (3, 2, 1)  # blank lines not counted


def test_json_that_python_would_choke_on(small: Path):
    write(
        small,
        "users.jsonl",
        "[" * 100_000,
        '{"id": "u\\ud800"}',
        '{"id": "u\\ud83d\\ude00"}',
        '{"id": "u5", "age": ' + "9" * 5000 + "}",
    )
    result = read_dataset(small, progress=False)
    got = reasons(result)
    assert got[("users.jsonl", 1)] == "malformed JSON: nested too deeply"
    assert got[("users.jsonl", 2)] == "invalid JSON string: an unpaired \\u surrogate escape"
    assert got[("users.jsonl", 4)].startswith("malformed JSON: Exceeds the limit")
    assert [u.id for u in result.dataset.users] == ["u😀"]


def test_known_ids_let_a_partial_dataset_refer_to_an_existing_graph(tmp_path: Path):
    write(
        tmp_path,
        "events.jsonl",
        '{"user": "u1", "target": "p1", "kind": "cart"}',
        '{"user": "u2", "target": "p1", "kind": "cart"}',
    )
    result = read_dataset(tmp_path, known=KnownIds(users={"u1"}, products={"p1"}), progress=False)
    assert result.dataset.events == [Event("u1", "p1", "product", "cart")]
    assert reasons(result) == {("events.jsonl", 2): 'unknown user "u2" (events.user)'}


def test_missing_files_count_zero_and_extra_files_are_ignored(small: Path):
    (small / "notes.txt").write_text("not a dataset file\n")
    result = read_dataset(small, progress=False)
    assert set(result.counts) == set(FILE_NAMES)
    assert result.counts["events.jsonl"].read == 0
    assert len(result.dataset.products) == 2 and not result.rejections


def test_a_folder_without_dataset_files_is_an_error(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("hello\n")
    with pytest.raises(FileNotFoundError, match=r"none of products\.jsonl, users\.jsonl"):
        read_dataset(tmp_path, progress=False)
    with pytest.raises(FileNotFoundError, match="no such dataset folder"):
        read_dataset(tmp_path / "absent", progress=False)


def test_progress_bars_name_each_file(small: Path, capsys):
    read_dataset(small, progress=True)
    err = capsys.readouterr().err
    assert "products.jsonl" in err and "users.jsonl" in err


def test_write_rejections_round_trips(small: Path, tmp_path_factory):
    write(small, "follows.jsonl", b'{"follower": "u1", "followee": "\xc3"}', '{"follower": "u1"}')
    result = read_dataset(small, progress=False)
    out = tmp_path_factory.mktemp("q") / "rejected.jsonl"
    write_rejections(out, result.rejections)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["file"], r["line"]) for r in rows] == [("follows.jsonl", 1), ("follows.jsonl", 2)]
    assert rows[0]["raw"] == '{"follower": "u1", "followee": "\\xc3"}'
    assert rows[1]["reason"] == 'missing required field "followee"'


def test_record_lines_numbers_refuses_and_skips_like_the_reader():
    import io

    from kg.reader import Refusal, record_lines

    data = (b'\xef\xbb\xbf{"id": "u1"}\n\n  \r\n"text"\n{bad\n\xff\n'
            + b'{"a": "' + b"x" * MAX_LINE_BYTES + b'"}\n[1]')
    got = list(record_lines(io.BufferedReader(io.BytesIO(data))))
    assert [(n, v) for n, _, v in got] == [
        (1, {"id": "u1"}), (4, "text"),
        (5, "malformed JSON: Expecting property name enclosed in double quotes at character 2"),
        (6, "not UTF-8: invalid byte 0xff at byte offset 0"),
        (7, f"line is longer than 1 MB ({MAX_LINE_BYTES + 9:,} bytes)"), (8, [1])]
    assert [type(v) is Refusal for _, _, v in got] == [False, False, True, True, True, False]
    assert got[0][1] == b'{"id": "u1"}\n' and got[-1][1] == b"[1]"
    # numbering from a range's first line; a byte-order mark counts only at a file's start
    (only,) = record_lines(io.BufferedReader(io.BytesIO(data[:16])), 41, file_start=False)
    assert only[0] == 42 and type(only[2]) is Refusal and "BOM" in only[2]


def test_relations_and_records_refuse_a_line_for_the_same_reason(tmp_path: Path):
    from kg.relations import read_relations

    bad = ["{not json", '{"x": "\\udc00"}', "[]", "x" * (MAX_LINE_BYTES + 1), "{} {}"]
    write(tmp_path, "users.jsonl", *bad)
    write(tmp_path, "relations.jsonl", *bad)
    users = read_dataset(tmp_path, progress=False).rejections
    relations = read_relations(tmp_path / "relations.jsonl").rejections
    line_level = [(r.line, r.reason, r.raw) for r in users if r.line != 3]  # [] fails later
    assert [(r.line, r.reason, r.raw) for r in relations if r.line != 3] == line_level
    assert len(line_level) == 4


def test_write_rejections_streams_its_lines(tmp_path: Path):
    from kg.reader import Rejection

    def many():
        for i in range(200_000):
            yield Rejection("events.jsonl", i + 1, "unknown user", "x" * 40)

    tracemalloc.start()
    try:
        write_rejections(tmp_path / "rejected.jsonl", many())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    lines = (tmp_path / "rejected.jsonl").read_bytes().splitlines()
    assert len(lines) == 200_000 and json.loads(lines[-1])["line"] == 200_000
    assert peak < 2_000_000  # the file is ~20 MB: written as it comes, never held
