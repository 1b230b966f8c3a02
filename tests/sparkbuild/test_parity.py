"""Spark's reference checks (the joins of :mod:`sparkbuild.records`) against the in-process
:class:`kg.validate.Validator` on every event and follow case: a user, product or post
target, typed or raw or declared, unknown ids, ids of the wrong kind, an id both a product
and a post have, every kind on both target types, rates without or with bad values, and
repeats that are equal only once resolved. The reason replay catches a refusal the
validator would not make; this catches a record Spark accepts and the validator does not
(or merges differently)."""

from __future__ import annotations

import codecs
import itertools
import json
from pathlib import Path

import pytest

from kg.reader import read_dataset
from kg.records import EVENT_KINDS
from kg.timewindow import TimeWindow

pytestmark = pytest.mark.filterwarnings(
    "ignore:PySpark does not yet fully support pandas:FutureWarning")

TS = 1_700_000_000
USERS = ["u1", "u2", "p2"]  # "p2" is also a product's id
PRODUCTS = ["p1", "p2", "both", "product:p9"]  # "product:p9": an export's ids typed already
POSTS = ["q1", "both", "post:q9"]  # "both" is a product's id too
TARGETS = [  # (target, declared target_type or None)
    *((t, None) for t in ["p1", "q1", "both", "nobody", "u1", "p2"]),
    *((f"{kind}:{t}", None) for kind in ("product", "post")
      for t in ["p1", "q1", "both", "nobody", "u1"]),
    ("p1", "product"), ("p1", "post"), ("q1", "post"), ("q1", "product"), ("both", "post"),
    ("both", "product"), ("nobody", "post"), ("product:p1", "product"),
    ("product:p1", "post"), ("p1", "user"),
    ("product:p9", None), ("post:q9", None), ("p9", "product"), ("q9", "post"), ("p9", "post"),
]


def _lines(rows: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def _events() -> list[dict]:
    rows = []
    for user, (target, declared), kind in itertools.product(
            ["nobody", "u1", "p1", "p2"], TARGETS, EVENT_KINDS):
        row = {"user": user, "target": target, "kind": kind, "ts": TS}
        if declared is not None:
            row["target_type"] = declared
        if kind == "rate":
            row["value"] = 4
        rows.append(row)
    base = {"user": "u1", "target": "p1", "kind": "rate", "ts": TS}
    rows += [
        {**base, "value": None}, {key: v for key, v in base.items()}, {**base, "value": "x"},
        {**base, "value": 1e13}, {**base, "value": 2, "kind": "view"},  # a value on a view
        # repeats equal only once resolved or parsed: merged by both, or by neither
        {**base, "value": 0.0}, {**base, "value": -0.0}, {**base, "value": 0},
        {**base, "value": 3, "target": "product:p1"}, {**base, "value": 3},
        {**base, "value": 3, "target_type": "product"},
        {**base, "value": 3, "ts": TS + 0.0}, {**base, "value": 3, "ts": "2023-11-14T22:13:20Z"},
        {**base, "value": 3, "ts": TS + 1}, {**base, "value": 3, "ts": None},
        {**base, "value": 3, "ts": None}, {**base, "value": 3, "text": ""},
        {**base, "value": 3, "text": "ok"}, {**base, "value": 3, "text": "ok"},
        {"user": "u1", "target": "q1", "kind": "like", "ts": TS},
        {"user": "u1", "target": "post:q1", "kind": "like", "ts": TS},
        {"user": "u1", "target": "q1", "kind": "like", "ts": TS, "target_type": "post"},
        {"user": "u1", "target": "product:both", "kind": "like", "ts": TS},
        {"user": "u1", "target": "post:both", "kind": "like", "ts": TS},
        # bidi controls in a user or target id (kg.visible.id_refusal): refused by both
        {"user": "u\u202e1", "target": "p1", "kind": "view", "ts": TS},
        {"user": "u1", "target": "product:p\u20661", "kind": "view", "ts": TS},
        {"user": "u1", "target": "\u202ap1", "kind": "view", "ts": TS},
    ]
    return rows


def _follows() -> list[dict]:
    rows = [{"follower": a, "followee": b, "ts": TS}
            for a, b in itertools.product(["u1", "u2", "p2", "p1", "nobody"], repeat=2)]
    pair = {"follower": "u2", "followee": "u1"}
    rows += [{**pair}, {**pair}, {**pair, "ts": TS}, {**pair, "ts": TS},  # none, then a time
             {**pair, "ts": float(TS)}, {"follower": "p2", "followee": "u2", "ts": TS + 0.0},
             {"follower": "p2", "followee": "u2", "ts": TS + 5}]
    return rows


def test_spark_accepts_refuses_and_merges_what_the_validator_does(spark, tmp_path: Path):
    from sparkbuild.assemble import SparkAssembler

    data = tmp_path / "data"
    data.mkdir()
    (data / "products.jsonl").write_text(_lines([{"id": p, "title": p} for p in PRODUCTS]))
    (data / "users.jsonl").write_text(_lines([{"id": u} for u in USERS]))
    (data / "posts.jsonl").write_text(_lines([{"id": q, "author": "u1"} for q in POSTS]))
    (data / "follows.jsonl").write_text(_lines(_follows()))
    # a byte-order mark before a refused first line, and CRLF endings: the quarantine's
    # text of a refused record is re-read at its offset
    (data / "events.jsonl").write_bytes(codecs.BOM_UTF8 + _lines(_events()).replace(
        "}\n", "}\r\n", 100).encode())
    window = TimeWindow.until(TS + 86_400)
    want = read_dataset(data, progress=False, window=window)
    (tmp_path / "scratch").mkdir()
    got, _ = SparkAssembler(spark, tmp_path / "scratch", chunk_bytes=4096)(data, window, False)
    events, follows = want.counts["events.jsonl"], want.counts["follows.jsonl"]
    # every outcome is exercised: accepted, merged, refused by a reference and by a field
    assert events.accepted > 100 and events.merged >= 8 and events.rejected > 300
    assert follows.accepted >= 5 and follows.merged >= 3 and follows.rejected >= 18
    reasons = {r.reason.split(" ")[0] for r in want.rejections}
    assert {"unknown", "ambiguous", "conflicting", '"value":', '"target_type":'} <= reasons
    assert got.counts == want.counts
    assert list(got.rejections) == want.rejections
    assert list(got.dataset.events) == want.dataset.events
    assert list(got.dataset.follows) == want.dataset.follows


def test_spark_keeps_records_with_a_bad_optional_field_as_the_reader_does(spark, tmp_path: Path):
    """A product, user or post with a bad optional field is kept without it by both builds,
    with the same notes, so the follows and events naming it are accepted by both."""
    from sparkbuild.assemble import SparkAssembler

    data = tmp_path / "data"
    data.mkdir()
    (data / "products.jsonl").write_text(_lines([
        {"id": "p1", "title": "mug", "price": "9.99"}, {"id": "p2", "title": 3},
        {"id": "p3", "title": "cup", "year": "1999"}]))
    (data / "users.jsonl").write_text(_lines([{"id": "u1", "age": "31"}, {"id": "u2"}]))
    (data / "posts.jsonl").write_text(_lines([{"id": "q1", "author": "u1", "ts": "soon"}]))
    (data / "follows.jsonl").write_text(_lines([{"follower": "u2", "followee": "u1"}]))
    (data / "events.jsonl").write_text(_lines([
        {"user": u, "target": t, "kind": "view", "ts": TS}
        for u in ("u1", "u2") for t in ("p1", "p2", "p3", "q1", "product:p1")]))
    window = TimeWindow.until(TS + 86_400)
    want = read_dataset(data, progress=False, window=window)
    (tmp_path / "scratch").mkdir()
    got, _ = SparkAssembler(spark, tmp_path / "scratch", chunk_bytes=4096)(data, window, False)
    assert [(n.file, n.line, n.field) for n in want.dropped] == [
        ("products.jsonl", 1, "price"), ("products.jsonl", 3, "year"), ("users.jsonl", 1, "age"),
        ("posts.jsonl", 1, "ts")]
    events = want.counts["events.jsonl"]
    assert (events.accepted, events.merged, events.rejected) == (8, 2, 2)  # p2: a bad title
    assert want.counts["follows.jsonl"].accepted == 1
    assert got.dropped == want.dropped
    assert got.counts == want.counts
    assert list(got.rejections) == want.rejections
    assert list(got.dataset.events) == want.dataset.events
    assert list(got.dataset.follows) == want.dataset.follows
