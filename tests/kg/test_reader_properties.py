"""Reading a dataset folder, as properties: any lines keep the books balanced (read =
accepted + rejected), and records written with :mod:`kg.jsonl` read back equal."""

from __future__ import annotations

import json
import string
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kg.jsonl import write_dataset
from kg.reader import read_dataset
from kg.records import DATASET_FILES, EVENT_KINDS, Dataset, Event, Follow, Post, Product, User
from kg.visible import visible

FILE_NAMES = [name for name, _ in DATASET_FILES]


# --- hypothesis: arbitrary lines keep the books balanced ---------------------------------

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
ids = st.sampled_from(["u1", "u2", "p1", "q1", "x", "", " ", 1, 1.5]) | st.text(max_size=4)
near_records = st.fixed_dictionaries(
    {},
    optional={
        key: ids
        if key in {"id", "user", "follower", "followee", "author", "target"}
        else json_values
        for key in [
            "id",
            "title",
            "user",
            "target",
            "kind",
            "value",
            "ts",
            "follower",
            "followee",
            "author",
            "products",
            "price",
            "age",
            "categories",
            "attributes",
        ]
    },
)
lines = st.one_of(
    st.binary(max_size=40),
    st.text(max_size=40).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),
    near_records.map(lambda v: json.dumps(v).encode()),
    st.sampled_from(
        [
            b"",
            b"   ",
            b"\r",
            b"\xef\xbb\xbf{}",
            b'{"id": "u1"}',
            b'{"id": "p1", "title": "t"}',
            b'{"user": "u1", "target": "p1", "kind": "view"}',
        ]
    ),
)


def expected_lines(data: bytes) -> list[int]:
    """Physical line numbers the reader must account for (not blank)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    pieces = data.split(b"\n")
    if pieces[-1] == b"":
        pieces.pop()
    numbers = []
    for number, piece in enumerate(pieces, 1):
        try:
            blank = (piece.decode("utf-8") + "\n").isspace()
        except UnicodeDecodeError:
            blank = False
        if not blank:
            numbers.append(number)
    return numbers


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files=st.fixed_dictionaries({name: st.lists(lines, max_size=12) for name in FILE_NAMES}))
def test_read_equals_accepted_plus_rejected_for_any_lines(files):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        written = {}
        for name, rows in files.items():
            data = b"\n".join(rows)
            (folder / name).write_bytes(data)
            written[name] = expected_lines(data)
        result = read_dataset(folder, progress=False)
    for name in FILE_NAMES:
        counts = result.counts[name]
        assert counts.read == len(written[name])
        assert counts.read == counts.accepted + counts.rejected
        records = getattr(result.dataset, name.removesuffix(".jsonl"))
        assert len(records) + counts.merged == counts.accepted
        rejected = [r.line for r in result.rejections if r.file == name]
        assert len(rejected) == counts.rejected == len(set(rejected))
        assert set(rejected) <= set(written[name])
    assert all(r.reason for r in result.rejections)


# --- hypothesis: records written with kg.jsonl read back equal ------------------------------

id_text = st.text(string.ascii_letters + string.digits + "-_:é ", min_size=1, max_size=6).filter(
    lambda s: s.strip() == s
)
words = st.text(min_size=1, max_size=10).filter(visible)  # titles, categories, images
finite = st.floats(allow_nan=False, allow_infinity=False)
magnitude = st.floats(min_value=-1e12, max_value=1e12)  # an event value's range
seconds = st.floats(min_value=631_152_000, max_value=1.7e9, allow_nan=False)  # 1990..2023
attributes = st.dictionaries(words, words | st.integers() | st.booleans() | finite, max_size=3)


@st.composite
def datasets(draw) -> Dataset:
    product_ids = draw(st.lists(id_text, unique=True, max_size=5))
    user_ids = draw(st.lists(id_text, unique=True, min_size=1, max_size=5))
    post_ids = draw(st.lists(id_text, unique=True, max_size=4))
    products = [
        Product(
            id=i,
            title=draw(words),
            description=draw(st.none() | st.text(max_size=20)),
            brand=draw(st.none() | words),
            categories=tuple(draw(st.lists(words, max_size=3))),
            price=draw(st.none() | st.floats(min_value=0, max_value=1e6)),
            image=draw(st.none() | words),
            attributes=draw(attributes),
            year=draw(st.none() | st.integers(1900, 2030)),
        )
        for i in product_ids
    ]
    users = [
        User(
            id=i,
            name=draw(st.none() | words),
            age=draw(st.none() | st.integers(0, 150)),
            location=draw(st.none() | words),
            attributes=draw(attributes),
        )
        for i in user_ids
    ]
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(user_ids), st.sampled_from(user_ids)), unique=True, max_size=6
        )
    )
    follows = [Follow(a, b, draw(st.none() | seconds)) for a, b in pairs if a != b]
    posts = [
        Post(
            id=i,
            author=draw(st.sampled_from(user_ids)),
            text=draw(st.text(max_size=20)),
            images=tuple(draw(st.lists(words, max_size=2))),
            ts=draw(st.none() | seconds),
            products=tuple(draw(st.lists(st.sampled_from(product_ids), max_size=2)))
            if product_ids
            else (),
        )
        for i in post_ids
    ]
    targets = [(i, "product") for i in product_ids] + [(i, "post") for i in post_ids]
    events: list[Event] = []
    for _ in range(draw(st.integers(0, 8)) if targets else 0):
        target, target_type = draw(st.sampled_from(targets))
        kind = draw(st.sampled_from(EVENT_KINDS))
        value = draw(magnitude) if kind == "rate" else draw(st.none() | magnitude)
        event = Event(
            draw(st.sampled_from(user_ids)),
            target,
            target_type,
            kind,
            value,
            draw(st.none() | seconds),
            draw(st.none() | st.text(max_size=10)),
        )
        if event not in events:
            events.append(event)
    return Dataset(products, users, follows, posts, events)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dataset=datasets())
def test_written_records_read_back_equal(dataset: Dataset):
    with tempfile.TemporaryDirectory() as tmp:
        write_dataset(dataset, tmp)
        result = read_dataset(tmp, progress=False)
    assert result.rejections == []
    assert result.dataset == dataset
