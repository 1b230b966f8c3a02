"""Reference and duplicate checks (kg.validate.Validator), reason by reason."""

from __future__ import annotations

import pytest

from kg.records import Dataset, Event, Follow, Post, Product, User
from kg.validate import KnownIds, RecordError, Validator

# --- validator: references -------------------------------------------------------------


@pytest.fixture
def validator() -> Validator:
    v = Validator()
    for record in (
        Product(id="p1", title="Mug"),
        Product(id="x", title="Both"),
        User(id="u1"),
        User(id="u2"),
        Post(id="q1", author="u1"),
        Post(id="x", author="u1"),
    ):
        assert v.check(record) is record
    return v


def check_reason(v: Validator, record) -> str:
    with pytest.raises(RecordError) as caught:
        v.check(record)
    return str(caught.value)


def test_unknown_references_name_the_id_and_the_field(validator):
    v = validator
    assert check_reason(v, Follow("u9", "u1")) == 'unknown user "u9" (follows.follower)'
    assert check_reason(v, Follow("u1", "u9")) == 'unknown user "u9" (follows.followee)'
    assert check_reason(v, Post(id="q2", author="u9")) == 'unknown user "u9" (posts.author)'
    assert check_reason(v, Post(id="q2", author="u1", products=("p1", "p9"))) == (
        'unknown product "p9" (posts.products)'
    )
    assert check_reason(v, Event("u9", "p1", "product", "view")) == (
        'unknown user "u9" (events.user)'
    )
    assert check_reason(v, Event("u1", "p9", "product", "view")) == (
        'unknown product "p9" (events.target)'
    )
    assert check_reason(v, Event("u1", "p1", "post", "view")) == (
        'unknown post "p1" (events.target)'
    )
    assert check_reason(v, Event("u1", "zz", None, "view")) == (  # type: ignore[arg-type]
        'unknown target "zz" (events.target): no product or post has it'
    )


def test_raw_targets_resolve_and_ambiguous_ones_are_rejected(validator):
    v = validator
    assert v.check(Event("u1", "p1", None, "view")).target_type == "product"  # type: ignore[arg-type,union-attr]
    assert v.check(Event("u1", "q1", None, "like")).target_type == "post"  # type: ignore[arg-type,union-attr]
    assert check_reason(v, Event("u1", "x", None, "view")) == (  # type: ignore[arg-type]
        'ambiguous target "x" (events.target): both a product and a post have this id; '
        'write "product:x" or "post:x"'
    )
    assert v.check(Event("u1", "x", "post", "view")) is not None


# --- validator: duplicates -------------------------------------------------------------


def test_identical_duplicates_merge_and_conflicting_ones_are_rejected():
    v = Validator()
    first = Product(id="p1", title="Mug", attributes={"colour": "red"})
    assert v.check(first, where=("products.jsonl", 3)) is first
    assert v.check(Product(id="p1", title="Mug", attributes={"colour": "red"})) is None
    with pytest.raises(
        RecordError,
        match=r"^conflicting duplicate of products.jsonl line 3 "
        r'\(id "p1"\)$',
    ):
        v.check(Product(id="p1", title="Cup"), where=("products.jsonl", 8))
    v.check(User(id="u1"))
    v.check(User(id="u2"))
    assert v.check(Follow("u1", "u2", 5.0), where=("follows.jsonl", 1)) is not None
    assert v.check(Follow("u1", "u2", 5.0)) is None
    with pytest.raises(RecordError) as caught:
        v.check(Follow("u1", "u2", 6.0))
    assert str(caught.value) == (
        'conflicting duplicate of follows.jsonl line 1 (follower "u1", followee "u2")'
    )
    assert v.check(Event("u1", "p1", "product", "view", ts=1.0)) is not None
    assert v.check(Event("u1", "p1", "product", "view", ts=1.0)) is None  # same content
    assert v.check(Event("u1", "p1", "product", "view", ts=2.0)) is not None  # another view


def test_known_ids_from_an_existing_graph():
    ids_only = Validator(KnownIds(users={"u1"}, products={"p1"}))
    assert ids_only.check(Event("u1", "p1", None, "view")) is not None  # type: ignore[arg-type]
    with pytest.raises(RecordError, match=r'^product "p1" already exists in the existing graph$'):
        ids_only.check(Product(id="p1", title="Mug"))

    existing = Dataset(
        products=[Product(id="p1", title="Mug")],
        users=[User(id="u1"), User(id="u2")],
        follows=[Follow("u1", "u2")],
        events=[Event("u1", "p1", "product", "purchase")],
    )
    with_records = Validator(KnownIds.from_dataset(existing))
    assert with_records.check(Product(id="p1", title="Mug")) is None
    assert with_records.check(Follow("u1", "u2")) is None
    assert with_records.check(Event("u1", "p1", "product", "purchase")) is None
    with pytest.raises(RecordError, match=r"^conflicting duplicate of the existing graph"):
        with_records.check(Product(id="p1", title="Cup"))
