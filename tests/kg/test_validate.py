"""Field checks (parse_record), reason by reason (the reference and duplicate checks of
Validator: test_validator.py)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.records import Event, Follow, Post, Product, User
from kg.validate import RecordError, parse_record


def reason(kind: type, obj: object) -> str:
    with pytest.raises(RecordError) as caught:
        parse_record(kind, obj)
    return str(caught.value)


# --- ids ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"title": "t"}, 'missing required field "id"'),
        ({"id": None, "title": "t"}, '"id": required, got null'),
        ({"id": 1.5, "title": "t"}, '"id": expected a string or integer id, got number 1.5'),
        ({"id": True, "title": "t"}, '"id": expected a string or integer id, got boolean true'),
        ({"id": ["p1"], "title": "t"}, '"id": expected a string or integer id, got array of 1'),
        ({"id": {}, "title": "t"}, '"id": expected a string or integer id, got object'),
        ({"id": "", "title": "t"}, '"id": id must not be empty or blank'),
        ({"id": " \t", "title": "t"}, '"id": id must not be empty or blank'),
        ({"id": " p1", "title": "t"}, '"id": id " p1" starts or ends with whitespace'),
    ],
)
def test_bad_ids_are_rejected_with_the_field_and_value(obj, expected):
    assert reason(Product, obj) == expected


def test_integer_ids_become_strings():
    assert parse_record(Product, {"id": 42, "title": "Mug"}).id == "42"
    event = parse_record(Event, {"user": 7, "target": 9, "kind": "view"})
    assert (event.user, event.target, event.target_type) == ("7", "9", None)


def test_a_record_must_be_a_json_object():
    assert reason(User, [1, 2]) == "expected a JSON object, got array of 2"
    assert reason(Event, "u1") == 'expected a JSON object, got string "u1"'


# --- products ---------------------------------------------------------------------------


def test_only_id_and_title_are_required_and_nulls_mean_absent():
    nulls = dict.fromkeys(
        ["description", "brand", "categories", "price", "image", "attributes", "year"]
    )
    product = parse_record(Product, {"id": "p1", "title": "Mug", **nulls})
    assert product == Product(id="p1", title="Mug")
    assert parse_record(User, {"id": "u1", "age": None, "name": None}) == User(id="u1")


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"id": "p1"}, 'missing required field "title"'),
        ({"id": "p1", "title": None}, '"title": required, got null'),
        ({"id": "p1", "title": "  "}, '"title": must not be empty or blank'),
        ({"id": "p1", "title": 5}, '"title": expected a string, got integer 5'),
        (
            {"id": "p1", "title": "t", "price": "abc"},
            '"price": expected a number, got string "abc"',
        ),
        (
            {"id": "p1", "title": "t", "price": math.nan},
            '"price": expected a finite number, got NaN',
        ),
        (
            {"id": "p1", "title": "t", "price": math.inf},
            '"price": expected a finite number, got an infinite number',
        ),
        ({"id": "p1", "title": "t", "price": -1}, '"price": must be at least 0, got number -1.0'),
        (
            {"id": "p1", "title": "t", "description": 3},
            '"description": expected a string, got integer 3',
        ),
        (
            {"id": "p1", "title": "t", "brand": False},
            '"brand": expected a string, got boolean false',
        ),
        (
            {"id": "p1", "title": "t", "year": 1999.5},
            '"year": expected an integer, got number 1999.5',
        ),
        (
            {"id": "p1", "title": "t", "categories": ["Home", ""]},
            '"categories"[1]: expected a non-empty string, got string ""',
        ),
        (
            {"id": "p1", "title": "t", "categories": [3]},
            '"categories"[0]: expected a non-empty string, got integer 3',
        ),
        (
            {"id": "p1", "title": "t", "categories": {"a": 1}},
            '"categories": expected an array of strings, got object',
        ),
        (
            {"id": "p1", "title": "t", "attributes": {"size": {"eu": 42}}},
            '"attributes"["size"]: expected a string, number or boolean, got object',
        ),
        (
            {"id": "p1", "title": "t", "attributes": {"w": [1, 2]}},
            '"attributes"["w"]: expected a string, number or boolean, got array of 2',
        ),
        (
            {"id": "p1", "title": "t", "attributes": {"w": math.nan}},
            '"attributes"["w"]: expected a string, number or boolean, got NaN',
        ),
        (
            {"id": "p1", "title": "t", "attributes": ["red"]},
            '"attributes": expected an object, got array of 1',
        ),
    ],
)
def test_bad_product_fields(obj, expected):
    assert reason(Product, obj) == expected


def test_product_fields_are_typed():
    product = parse_record(
        Product,
        {
            "id": "p1",
            "title": "Trail shoe",
            "categories": "Shoes",  # a single string is a one-element list
            "price": 49,
            "attributes": {"colour": "red", "size": 42, "weight": 0.3, "waterproof": True},
            "year": 2020,
            "unknown_key": "ignored",
        },
    )
    assert product.categories == ("Shoes",)
    assert product.price == 49.0 and isinstance(product.price, float)
    assert product.attributes["waterproof"] is True
    assert product.year == 2020


# --- users, follows, posts ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"id": "u1", "age": 151}, '"age": integer 151 is outside 0..150'),
        ({"id": "u1", "age": -1}, '"age": integer -1 is outside 0..150'),
        ({"id": "u1", "age": "30"}, '"age": expected an integer, got string "30"'),
        ({"id": "u1", "age": True}, '"age": expected an integer, got boolean true'),
        ({"id": "u1", "location": ["Oslo"]}, '"location": expected a string, got array of 1'),
    ],
)
def test_bad_user_fields(obj, expected):
    assert reason(User, obj) == expected


def test_bad_follows():
    assert reason(Follow, {"follower": "u1", "followee": "u1"}) == (
        'self-follow: user "u1" follows themself'
    )
    assert reason(Follow, {"follower": "u1"}) == 'missing required field "followee"'
    assert reason(Follow, {"follower": "u1", "followee": "u2", "ts": "soon"}) == (
        '"ts": expected unix seconds or an ISO 8601 date, got string "soon"'
    )


def test_bad_posts():
    assert reason(Post, {"id": "q1"}) == 'missing required field "author"'
    assert reason(Post, {"id": "q1", "author": "u1", "images": "a.jpg"}) == (
        '"images": expected an array of strings, got string "a.jpg"'
    )
    assert reason(Post, {"id": "q1", "author": "u1", "products": ["p1", 2.5]}) == (
        '"products[1]": expected a string or integer id, got number 2.5'
    )
    post = parse_record(Post, {"id": "q1", "author": "u1", "text": None, "products": [7]})
    assert post.text == "" and post.products == ("7",)


# --- events and timestamps -------------------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"user": "u1", "target": "p1"}, 'missing required field "kind"'),
        (
            {"user": "u1", "target": "p1", "kind": "buy"},
            '"kind": expected one of view, click, like, comment, share, cart, purchase, rate, '
            'got string "buy"',
        ),
        (
            {"user": "u1", "target": "p1", "kind": "rate"},
            '"value": a "rate" event needs a finite number, got null',
        ),
        (
            {"user": "u1", "target": "p1", "kind": "rate", "value": math.nan},
            '"value": expected a finite number, got NaN',
        ),
        (
            {"user": "u1", "target": "p1", "kind": "rate", "value": "5"},
            '"value": expected a number, got string "5"',
        ),
        (
            {"user": "u1", "target": "product:", "kind": "view"},
            '"target": id must not be empty or blank',
        ),
        ({"user": "u1", "kind": "view"}, 'missing required field "target"'),
        (
            {"user": "u1", "target": "product:p1", "target_type": "post", "kind": "view"},
            '"target_type": string "post" contradicts "target"',
        ),
        (
            {"user": "u1", "target": "p1", "target_type": "brand", "kind": "view"},
            '"target_type": expected "product" or "post", got string "brand"',
        ),
        (
            {"user": "u1", "target": "p1", "kind": "view", "text": 1},
            '"text": expected a string, got integer 1',
        ),
    ],
)
def test_bad_events(obj, expected):
    assert reason(Event, obj) == expected


def test_event_targets_typed_or_raw():
    typed = parse_record(Event, {"user": "u1", "target": "post:9", "kind": "like"})
    assert (typed.target, typed.target_type) == ("9", "post")
    declared = parse_record(
        Event, {"user": "u1", "target": 9, "target_type": "post", "kind": "like"}
    )
    assert (declared.target, declared.target_type) == ("9", "post")
    rated = parse_record(Event, {"user": "u1", "target": "p1", "kind": "rate", "value": 4})
    assert rated.value == 4.0 and rated.target_type is None


@pytest.mark.parametrize(
    ("ts", "seconds"),
    [
        (1_600_000_000, 1_600_000_000.0),
        (1_600_000_000.5, 1_600_000_000.5),
        ("2020-09-13T12:26:40Z", 1_600_000_000.0),
        ("2020-09-13T14:26:40+02:00", 1_600_000_000.0),
        ("2020-09-13T12:26:40", 1_600_000_000.0),  # naive = UTC
        ("2020-09-13", 1_599_955_200.0),
        (None, None),
    ],
)
def test_timestamps_unix_seconds_or_iso_8601(ts, seconds):
    event = parse_record(Event, {"user": "u1", "target": "p1", "kind": "view", "ts": ts})
    assert event.ts == seconds


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        ("yesterday", 'expected unix seconds or an ISO 8601 date, got string "yesterday"'),
        ("2020-13-45", 'expected unix seconds or an ISO 8601 date, got string "2020-13-45"'),
        (True, "expected unix seconds or an ISO 8601 date, got boolean true"),
        ([2020], "expected unix seconds or an ISO 8601 date, got array of 1"),
        (math.nan, "expected unix seconds or an ISO 8601 date, got NaN"),
        (1_600_000_000_000, "integer 1600000000000 (1.6e+12 s) is in the future: after "),  # ms
        ("1800-01-01", 'string "1800-01-01" (1800-01-01T00:00:00Z) is before 1990-01-01T00:00:00Z'
                       ", the earliest time accepted"),
        (0, "integer 0 (1970-01-01T00:00:00Z) is before 1990-01-01T00:00:00Z, the earliest time "
            "accepted"),
    ],
)
def test_nonsense_timestamps_are_rejected(ts, expected):
    obj = {"user": "u1", "target": "p1", "kind": "view", "ts": ts}
    assert reason(Event, obj).startswith(f'"ts": {expected}')


# --- property: any JSON value is either a record or a RecordError ------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = [
    "id",
    "title",
    "price",
    "categories",
    "attributes",
    "age",
    "follower",
    "followee",
    "author",
    "products",
    "images",
    "user",
    "target",
    "target_type",
    "kind",
    "value",
    "ts",
    "text",
    "year",
]


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from([Product, User, Follow, Post, Event]),
    obj=st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=8) | json_values,
)
def test_any_json_value_parses_or_raises_record_error(kind, obj):
    try:
        record = parse_record(kind, obj)
    except RecordError as error:
        assert str(error)
    else:
        assert isinstance(record, kind)


def test_field_checks_keep_their_kg_validate_import_path():
    import kg.parse
    import kg.validate

    for name in ("RecordError", "parse_record", "event_fields", "new_event", "quote", "describe"):
        assert getattr(kg.validate, name) is getattr(kg.parse, name)
