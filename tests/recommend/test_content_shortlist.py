"""Users' content lists made at load give the exact search's candidates (a near tie at the edge
by the list's float64 order), or nothing."""

from __future__ import annotations

import numpy as np

from recommend.content.index import ContentIndex, normalise_rows
from recommend.hybrid.content_shortlist import Shortlists


def _world(seed: int = 0, n: int = 3000, dim: int = 16, users: int = 40):
    rng = np.random.default_rng(seed)
    index = ContentIndex.build([f"p:{i}" for i in range(n)], rng.normal(size=(n, dim)))
    return rng, index, rng.normal(size=(users, dim)).astype(np.float32)


def test_a_list_answers_what_the_exact_search_finds() -> None:
    rng, index, users = _world()
    lists = Shortlists.build(index, users, np.full(len(users), 120))
    answered = 0
    for u, q in enumerate(users):
        may = rng.random(len(index)) > 0.02  # what the user has seen is ruled out
        found = lists.top(u, q, may, 50)
        exact = index.search(q[None], 50, allowed=may[None]).indices[0]
        if found is not None:
            answered += 1
            assert sorted(found.tolist()) == sorted(exact.tolist())
            assert may[found].all()
    assert answered >= len(users) - 2  # no ties in random vectors: nearly all answered


def test_no_answer_when_the_list_may_miss_one() -> None:
    _, index, users = _world(1)
    lists = Shortlists.build(index, users, np.full(len(users), 60))
    may = np.ones(len(index), bool)
    may[lists.positions[0][:30]] = False  # half the list ruled out: 30 left for 50 asked
    assert lists.top(0, users[0], may, 50) is None
    assert lists.top(0, users[0], np.ones(len(index), bool), 50) is not None


def test_no_answer_for_a_changed_vector_a_grown_index_or_an_unknown_user() -> None:
    rng, index, users = _world(2)
    lists = Shortlists.build(index, users, np.full(len(users), 80))
    may = np.ones(len(index), bool)
    assert lists.top(3, users[3] + 0.5, may, 20) is None  # the vector listed is not this one
    assert lists.top(len(users), users[0], may, 20) is None  # a user added since
    assert lists.top(3, np.zeros_like(users[3]), may, 20) is None  # no profile
    index.add(["p:new"], rng.normal(size=(1, users.shape[1])))
    assert lists.top(3, users[3], np.ones(len(index), bool), 20) is None


def test_a_near_tie_at_the_edge_goes_by_the_lists_float64_order(monkeypatch) -> None:
    rng, _, users = _world(3)
    vectors = rng.normal(size=(3000, 16))
    vectors[1] = vectors[0]  # two products the same: they tie for every user
    vectors[2] = vectors[0] + 1e-6 * rng.normal(size=16)  # and one within rounding of them
    index = ContentIndex.build([f"p:{i}" for i in range(3000)], vectors)
    q = vectors[0].astype(np.float32) + 0.01 * users[0]
    lists = Shortlists.build(index, q[None], np.array([100]))
    unit = normalise_rows(q[None])[0].astype(np.float64)
    exact = index.vectors()[:3].astype(np.float64) @ unit  # the float64 scores of the three
    assert np.abs(exact - exact[0]).max() < 2 * float(lists.margin[0])  # near-tied

    def no_search(*args, **kwargs):  # the near tie is not handed to the search
        raise AssertionError("searched")

    monkeypatch.setattr(index, "search", no_search)
    may = np.ones(3000, bool)
    order = lists.positions[0][:3].tolist()
    assert sorted(order) == [0, 1, 2]
    assert exact[order[0]] >= exact[order[1]] >= exact[order[2]]  # the list's float64 order
    assert lists.top(0, q, may, 1).tolist() == order[:1]
    assert sorted(lists.top(0, q, may, 2).tolist()) == sorted(order[:2])
    may[order[0]] = False  # the first ruled out: the next of the list
    assert lists.top(0, q, may, 1).tolist() == [order[1]]


def test_an_approximate_index_is_not_listed() -> None:
    rng = np.random.default_rng(4)
    index = ContentIndex.build([f"p:{i}" for i in range(400)], rng.normal(size=(400, 8)),
                               kind="ivf")
    assert Shortlists.build(index, rng.normal(size=(3, 8)).astype(np.float32),
                            np.full(3, 20)) is None


def test_a_request_takes_the_lists_scores_bit_for_bit() -> None:
    """The listed products' scores kept at load are those a request's search computes
    (:meth:`SearchedScores.at` without a list), and a vector not the one listed gets none."""
    from functools import partial

    from recommend.content.search import SearchedScores

    rng, index, users = _world(seed=3, dim=384, users=12)
    lists = Shortlists.build(index, users, np.full(len(users), 90))
    vectors, cols = index.vectors(), np.arange(len(index))
    taken = 0
    for u in range(len(users)):
        may = rng.random(len(index)) > 0.05
        listed = lists.scored(u, users[u], may[None][0], 40)
        if listed is None:
            continue
        taken += 1
        assert listed[1] is not None
        with_list = SearchedScores(index, users[u][None], vectors, cols, cols, True,
                                   partial(lists.scored, u, users[u]))
        without = SearchedScores(index, users[u][None], vectors, cols, cols, True)
        chosen = with_list.top(may[None], 40)
        assert np.array_equal(chosen, without.top(may[None], 40))
        items = np.flatnonzero(chosen[0])
        assert with_list._kept[0][items].all()  # kept from the list, not computed
        rows = np.zeros(len(items), np.int64)
        assert np.array_equal(with_list.at(rows, items), without._dots(rows, items))
        assert lists.scored(u, users[u] * 2, may, 40)[1] is None  # the same unit vector
    assert taken >= len(users) - 2


def test_a_small_catalogues_table_scores_as_a_request_does() -> None:
    """Every user's score of every product, kept at load for a small catalogue, is what a
    request's :meth:`SearchedScores.at` computes, bit for bit; an unlisted vector gets none."""
    from recommend.content.search import SearchedScores
    from recommend.hybrid.content_shortlist import TABLE_CELLS

    rng, index, users = _world(seed=5, n=500, dim=384, users=9)
    lists = Shortlists.build(index, users, np.full(len(users), 60))
    assert lists.table is not None and lists.table.shape == (9, 500)
    vectors, cols = index.vectors(), np.arange(len(index))
    for u in range(len(users)):
        items = np.sort(rng.choice(len(index), 300, replace=False))
        rows = np.zeros(len(items), np.int64)
        with_table = SearchedScores(index, users[u][None], vectors, cols, cols, True,
                                    row=lists.table_row(u, users[u]))
        without = SearchedScores(index, users[u][None], vectors, cols, cols, True)
        assert np.array_equal(with_table.at(rows, items), without.at(rows, items))
        assert with_table.row is not None
    assert lists.table_row(0, users[0] * 2) is None  # the same unit vector, not the same
    big = np.zeros((TABLE_CELLS // len(index) + 1, users.shape[1]), np.float32)
    big[:, 0] = 1.0
    assert Shortlists.build(index, big, np.full(len(big), 10)).table is None
    # too many users for the whole table: the common products' scores only
    common = np.array([7, 3, 499, 3])
    part = Shortlists.build(index, big, np.full(len(big), 10), common)
    assert part.table.shape == (len(big), 3)
    slots, row = part.table_row(5, big[5])
    assert slots[[3, 7, 499]].tolist() == [0, 1, 2] and (slots >= 0).sum() == 3
    items = np.array([0, 3, 7, 100, 499])
    got = SearchedScores(index, big[5][None], vectors, cols, cols, True, row=(slots, row))
    want = SearchedScores(index, big[5][None], vectors, cols, cols, True)
    rows = np.zeros(len(items), np.int64)
    assert np.array_equal(got.at(rows, items), want.at(rows, items))
    assert got._kept[0][[3, 7, 499]].all()


def test_the_listed_vector_and_a_scaled_one_pick_the_same_products() -> None:
    """``scored`` of the very vector listed reads its unit vector from the list (not made
    again); a scaled copy (the same unit vector, not the listed one) is normalised and picks
    the same products, without the listed scores."""
    rng, index, users = _world(4)
    lists = Shortlists.build(index, users, np.full(len(users), 90))
    may = rng.random(len(index)) > 0.05
    for u, q in enumerate(users):
        listed = lists.scored(u, q, may, 30)
        scaled = lists.scored(u, q * np.float32(2.0), may, 30)
        assert (listed is None) == (scaled is None)
        if listed is not None:
            assert listed[0].tolist() == scaled[0].tolist() == lists.top(u, q, may, 30).tolist()
            assert listed[1] is not None and scaled[1] is None
    assert lists.scored(len(users), users[0], may, 30) is None  # a user added since


def test_lists_are_made_on_one_thread_and_equal_the_threaded_search(monkeypatch) -> None:
    """The batched search of every user runs with BLAS and OpenMP on one thread (two threads
    waiting on each other tripled its CPU on a busy machine), even where the caller allows
    more, and finds what the search on the caller's threads finds."""
    from threadpoolctl import threadpool_info, threadpool_limits

    _, index, users = _world(seed=6, n=2000, dim=64, users=60)
    search = index.index.search
    threads: list[list[int]] = []

    def counted(*args, **kwargs):
        threads.append([lib["num_threads"] for lib in threadpool_info()])
        return search(*args, **kwargs)

    with threadpool_limits(limits=2):
        before = [lib["num_threads"] for lib in threadpool_info()]
        found = search(normalise_rows(users), 81)
        monkeypatch.setattr(index.index, "search", counted)
        lists = Shortlists.build(index, users, np.full(len(users), 80))
        assert [lib["num_threads"] for lib in threadpool_info()] == before  # given back
    assert threads and all(n == 1 for call in threads for n in call)
    for u in range(len(users)):
        assert sorted(lists.positions[u].tolist()) == sorted(found[1][u, :80].tolist())
        assert lists.lines[u] == found[0][u, 80]


def test_a_whole_tables_lists_read_their_dots_from_it(monkeypatch) -> None:
    """A table of every product holds each listed product's dot: the lists read it (one
    pair_dots call per user, for the table's row), bit for bit what pair_dots computes."""
    import recommend.hybrid.content_shortlist as shortlist
    from recommend.content.search import pair_dots

    _, index, users = _world(seed=7, n=400, dim=384, users=11)
    calls: list[int] = []

    def counted(user: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        calls.append(len(vectors))
        return pair_dots(user, vectors)

    monkeypatch.setattr(shortlist, "pair_dots", counted)
    lists = Shortlists.build(index, users, np.full(len(users), 70))
    assert lists.table is not None and lists.table.shape == (11, 400)
    assert calls == [400] * 11
    vectors = index.vectors()
    for u in range(len(users)):
        want = pair_dots(users[u], vectors[lists.positions[u]])
        assert lists.dots[u].dtype == want.dtype and np.array_equal(lists.dots[u], want)


def test_lists_grown_with_appended_products_answer_the_grown_index_search() -> None:
    """A product write appends to a copy of the index: the grown lists score the appended
    products on top and answer what the exact search of the grown index finds, with the
    scores a request computes; the table keeps its slots (none for the appended ones)."""
    from recommend.content.search import pair_dots

    rng, index, users = _world(seed=6, n=500, dim=32, users=30)
    lists = Shortlists.build(index, users, np.full(len(users), 60))
    assert lists.table is not None
    grown_index = index.copy()
    near = users[:8] + 0.05 * rng.normal(size=(8, users.shape[1]))  # top products for 8 users
    grown_index.add([f"new:{i}" for i in range(12)],
                    np.vstack([near, rng.normal(size=(4, users.shape[1]))]))
    grown = lists.grown(grown_index)
    assert grown is not None and grown.index is grown_index and lists.index is index
    answered = appended = 0
    for u, q in enumerate(users):
        may = rng.random(len(grown_index)) > 0.02
        found = grown.scored(u, q, may, 25)
        exact = grown_index.search(q[None], 25, allowed=may[None]).indices[0]
        if found is None:
            continue
        answered += 1
        assert sorted(found[0].tolist()) == sorted(exact.tolist())
        assert np.array_equal(found[1], pair_dots(q, grown_index.vectors_at(found[0])))
        appended += int((found[0] >= len(index)).sum())
    assert answered >= len(users) - 2 and appended >= 8
    slots, row = grown.table_row(3, users[3])
    assert len(slots) == len(grown_index) and (slots[len(index):] == -1).all()
    assert np.shares_memory(row, lists.table)  # the same scores, not made again
    assert np.array_equal(slots[: len(index)], lists.table_row(3, users[3])[0])
    again = grown_index.copy()  # a second write grows the grown lists again
    again.add(["new:last"], users[9][None] * 3)
    twice = grown.grown(again)
    assert twice is not None and twice.top(9, users[9], np.ones(len(again), bool), 1).tolist() \
        == [len(again) - 1]
    other = ContentIndex.build([f"q:{i}" for i in range(501)], rng.normal(size=(501, 32)))
    assert lists.grown(other) is None  # not the listed products first
