"""One user's content search through the index's float16 copy finds the exact search's own
products (:mod:`recommend.content.half`), or says it cannot (None) and the exact search runs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommend.content import ContentIndex
from recommend.content.half import MIN_ITEMS, half_search
from recommend.content.search import SearchedScores


def _index(rng: np.random.Generator, n: int, dim: int, copies: int = 0) -> ContentIndex:
    vectors = rng.normal(size=(n, dim))
    if copies:  # identical products: exact ties
        vectors[rng.choice(n, copies, replace=False)] = vectors[0]
    return ContentIndex.build([f"product:{i}" for i in range(n)], vectors)


def _exact(index: ContentIndex, q: np.ndarray, n: int, allowed: np.ndarray) -> set[int]:
    found = index.search(q[None], n, allowed=allowed[None]).indices[0]
    return set(found[found >= 0].tolist())


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 300), banned=st.integers(0, 500),
       copies=st.integers(0, 400))
def test_same_products_as_the_exact_search(seed: int, n: int, banned: int, copies: int) -> None:
    rng = np.random.default_rng(seed)
    index = _index(rng, 2500, 24, copies)
    allowed = np.ones(len(index), bool)
    allowed[rng.choice(len(index), banned, replace=False)] = False
    q = rng.normal(size=24).astype(np.float32)
    found = half_search(index, q, n, allowed)
    if found is not None:
        assert len(found) == n == len(set(found.tolist()))
        assert set(found.tolist()) == _exact(index, q, n, allowed)


def test_most_users_need_no_exact_search() -> None:
    rng = np.random.default_rng(1)
    index = _index(rng, 4000, 32)
    allowed = np.ones(len(index), bool)
    answered = [half_search(index, rng.normal(size=32).astype(np.float32), 200, allowed)
                for _ in range(40)]
    assert sum(a is not None for a in answered) >= 30


def test_a_tie_at_the_last_place_is_left_to_the_exact_search() -> None:
    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(3000, 8))
    q = rng.normal(size=8).astype(np.float32)
    scores = vectors @ q / np.linalg.norm(vectors, axis=1)
    tenth = np.argsort(-scores)[9]
    vectors[np.argsort(-scores)[10]] = vectors[tenth]  # the 10th and 11th are the same
    index = ContentIndex.build([f"product:{i}" for i in range(3000)], vectors)
    assert half_search(index, q, 10, np.ones(3000, bool)) is None


@pytest.mark.parametrize("size, kind", [(MIN_ITEMS - 1, "flat"), (MIN_ITEMS, "hnsw")])
def test_small_or_approximate_indexes_use_their_own_search(size: int, kind: str) -> None:
    rng = np.random.default_rng(3)
    index = ContentIndex.build([f"product:{i}" for i in range(size)],
                               rng.normal(size=(size, 8)), kind=kind)
    assert half_search(index, rng.normal(size=8).astype(np.float32), 5,
                       np.ones(size, bool)) is None


def test_a_request_proposes_the_same_candidates() -> None:
    rng = np.random.default_rng(4)
    index = _index(rng, 3000, 16, copies=50)
    users = rng.normal(size=(3, 16)).astype(np.float32)
    columns = np.arange(3000)
    allowed = rng.random((3, 3000)) > 0.01
    batch = SearchedScores(index, users, index.vectors(), columns, columns).top(allowed, 100)
    for r in range(3):  # one row: through the float16 copy; the batch: the exact search
        one = SearchedScores(index, users[r:r + 1], index.vectors(), columns, columns)
        assert np.array_equal(one.top(allowed[r:r + 1], 100)[0], batch[r])


def test_a_product_writes_copy_gets_its_float16_copy_from_its_sources(monkeypatch) -> None:
    """The copy a product write grows (ContentIndex.copy, then add) gets its float16 copy
    from the kept copy of the index it was copied from, with the appended rows added: the
    same rows and largest norm as a whole copy, and the same answers."""
    import recommend.content.half as half

    rng = np.random.default_rng(5)
    index = _index(rng, 2500, 24)
    q = rng.normal(size=24).astype(np.float32)
    allowed = np.ones(len(index), bool)
    half_search(index, q, 20, allowed)  # the served index's copy is made and kept
    grown = index.copy()
    grown.add(["product:new", "product:newer"], np.vstack([q, rng.normal(size=24)]) * 3)
    whole, largest = half._float16_copy(grown)

    def no_whole_copy(_index):
        raise AssertionError("a whole float16 copy was made")

    monkeypatch.setattr(half, "_float16_copy", no_whole_copy)
    made, made_largest = half._COPIES.get(grown)
    assert made.ntotal == len(grown) and made_largest == largest
    assert np.array_equal(made.reconstruct_n(0, len(grown)), whole.reconstruct_n(0, len(grown)))
    may = np.ones(len(grown), bool)
    found = half_search(grown, q, 20, may)
    assert found is not None and set(found.tolist()) == _exact(grown, q, 20, may)
    assert len(index) in found  # the appended product most like the query
    index.add(["product:later"], rng.normal(size=(1, 24)))  # grown in place since its copy
    with pytest.raises(AssertionError, match="whole float16 copy"):
        half._COPIES.get(index.copy())  # its kept copy is of fewer rows: made whole
