"""Validation per partition (sparkbuild.records, sparkbuild.assemble) against the in-process
reader: the same counts, the same rejections (file, line, reason, raw) in the same order,
the same graph, and the same records for the stages that read them."""

from __future__ import annotations

import codecs
import itertools
import json
from pathlib import Path

import pytest

from kg.build import build_graph
from kg.reader import read_dataset
from kg.records import Event
from kg.timewindow import TimeWindow
from sparkbuild.records import EVENTS, chunks, parse_chunk

pytestmark = pytest.mark.filterwarnings(
    "ignore:PySpark does not yet fully support pandas:FutureWarning")


def _bad_lines(path: Path) -> dict[int, str]:
    """line -> reason of the lines the in-process reader rejects in ``path`` alone (an
    events file without users: every parsed event is also an unknown user, so only the
    line-level reasons are compared)."""
    from kg.reader import ReadResult, _read_lines
    from kg.records import Dataset
    from kg.validate import Validator

    result = ReadResult(Dataset())
    with open(path, "rb") as handle:
        _read_lines(handle, path.name, path.stat().st_size, Event, Validator(), [], result,
                    False, TimeWindow.until())
    return {r.line: r.reason for r in result.rejections
            if not r.reason.startswith("unknown user")}


def test_chunks_cover_the_file_and_number_lines_like_the_reader(tmp_path) -> None:
    good = json.dumps({"user": "u1", "target": "p1", "kind": "view", "ts": 1.7e9})
    lines = [good, "", "{not json", b"\xff\xfe".decode("latin-1"), "x" * ((1 << 20) + 10),
             good, "   ", json.dumps({"user": "u1", "target": "p1", "kind": "fly"}), "[1]"]
    body = "\n".join(lines * 5) + "\n" + good  # the last line has no line end
    path = tmp_path / "events.jsonl"
    path.write_bytes(codecs.BOM_UTF8 + body.encode("latin-1"))
    parts = chunks(path, size=300)
    assert len(parts) >= 5
    assert parts[0].start == 0 and parts[-1].end == path.stat().st_size
    assert all(a.end == b.start for a, b in itertools.pairwise(parts))
    rows: dict[str, list] = {"line": [], "reason": []}
    for part in parts:
        cols = parse_chunk(part, EVENTS, TimeWindow.until())
        rows["line"] += cols["line"]
        rows["reason"] += cols["reason"]
    got = {line: reason for line, reason in zip(rows["line"], rows["reason"], strict=True)
           if reason is not None}
    assert got == _bad_lines(path)
    blank = {i + 1 for i, text in enumerate(body.split("\n")) if not text.strip()}
    assert set(rows["line"]) == set(range(1, body.count("\n") + 2)) - blank


def _planted_world(root: Path) -> Path:
    """A small demo world with bad, unknown, duplicate and conflicting follows and events,
    and some naming a rejected product or user."""
    from kg.demo import DemoConfig, generate_demo_world

    data = root / "data"
    generate_demo_world(data, DemoConfig(n_users=60, n_products=40, n_posts=80, images=False))
    follows = (data / "follows.jsonl").read_text().splitlines()
    events = (data / "events.jsonl").read_text().splitlines()
    f0, e0 = json.loads(follows[0]), json.loads(events[0])
    user = e0["user"]
    with open(data / "products.jsonl", "a") as products:  # rejected: its events say why
        products.write(json.dumps({"id": "pbad", "title": 5, "price": "9.99"}) + "\n")
    with open(data / "users.jsonl", "a") as users:  # kept without its age, with a note
        users.write(json.dumps({"id": "ubad", "age": "31"}) + "\n")
    bad_follows = ["", "{not json", json.dumps({"follower": "nobody", "followee": "ghost"}),
                   json.dumps({"follower": f0["follower"], "followee": "ubad"}),
                   json.dumps({"follower": f0["follower"], "followee": "ghost"}), follows[0],
                   json.dumps({**f0, "ts": 1.6e9})]
    bad_events = [
        "{not json", json.dumps({"user": "nobody", "target": "zzz", "kind": "view"}),
        json.dumps({"user": user, "target": "zzz", "kind": "view"}),
        json.dumps({"user": user, "target": "product:zzz", "kind": "view"}),
        json.dumps({"user": user, "target": "post:zzz", "kind": "view"}),
        json.dumps({"user": user, "target": "pbad", "kind": "view"}),
        json.dumps({"user": "ubad", "target": "product:pbad", "kind": "view"}),
        events[0], events[1], "", "[1]",
        json.dumps({"user": user, "target": e0["target"], "kind": "teleport"})]
    (data / "follows.jsonl").write_text("\n".join(follows[:3] + bad_follows + follows[3:]
                                                  + bad_follows) + "\n")
    (data / "events.jsonl").write_text("\n".join(events[:5] + bad_events + events[5:]
                                                 + bad_events) + "\n")
    return data


def test_spark_validation_equals_the_reader(spark, tmp_path) -> None:
    from kg.artifact import build_artifact
    from sparkbuild.assemble import Quarantine, SparkAssembler, TableRecords

    data = _planted_world(tmp_path)
    window = TimeWindow.until()
    want = read_dataset(data, progress=False, window=window)
    assert len(want.rejections) >= 20 and sum(c.merged for c in want.counts.values()) >= 4
    assert sum("has this id but was rejected" in r.reason for r in want.rejections) == 4
    assert [(n.file, n.field) for n in want.dropped] == [("users.jsonl", "age")]
    (tmp_path / "scratch").mkdir()
    got, graph = SparkAssembler(spark, tmp_path / "scratch", chunk_bytes=2048)(
        data, window, False)
    assert got.counts == want.counts and got.dropped == want.dropped
    assert isinstance(got.rejections, Quarantine)  # streamed from the Parquet tables
    assert list(got.rejections) == want.rejections and len(got.rejections) == len(want.rejections)
    assert got.rejections[-1] == want.rejections[-1] and got.rejections[3:5] == want.rejections[3:5]
    assert graph == build_graph(want.dataset, progress=False)
    assert isinstance(got.dataset.events, TableRecords)
    assert list(got.dataset.events) == want.dataset.events
    assert list(got.dataset.follows) == want.dataset.follows
    assert got.dataset.events[3] == want.dataset.events[3]
    assert (got.dataset.products, got.dataset.users, got.dataset.posts) == (
        want.dataset.products, want.dataset.users, want.dataset.posts)
    # a stage that reads the records (the profiles) gets the same inputs from the table
    from recommend.profiles.inputs import inputs_from_dataset

    a, b = inputs_from_dataset(got.dataset), inputs_from_dataset(want.dataset)
    assert a.user_ids == b.user_ids and a.interactions.nnz > 0
    assert (a.interactions != b.interactions).nnz == 0
    assert (a.n_events == b.n_events).all()
    # through the artifact writer: the same quarantine file, byte for byte
    build_artifact(data, tmp_path / "python", progress=False, window=window)
    build_artifact(data, tmp_path / "spark", progress=False, window=window,
                   assemble=SparkAssembler(spark, tmp_path / "scratch2"))
    for name in ("rejected.jsonl", "dropped_fields.jsonl"):
        assert (tmp_path / "python" / name).read_bytes() == (tmp_path / "spark" / name).read_bytes()
