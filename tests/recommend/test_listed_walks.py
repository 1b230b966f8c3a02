"""Each user's meta-path walks made at load (:mod:`recommend.paths.listed_walks`): the very
arrays a request's walks make, read back by scoring and explaining, dropped with their step
matrices, within the budget."""

from __future__ import annotations

import gc

import numpy as np
import pytest
import scipy.sparse as sp

from recommend.paths import listed_walks
from recommend.paths.instances import reach_state
from recommend.paths.last_step import by_columns, walk_into, walk_last
from recommend.paths.listed_walks import list_walks, listed_last, listed_reach
from recommend.paths.score_row import add_paths
from recommend.paths.walks import walk_on, walk_start


def _random(rng: np.random.Generator, rows: int, cols: int, density: float) -> sp.csr_matrix:
    m = sp.random(rows, cols, density=density, random_state=rng, format="csr")
    m.data = rng.random(m.nnz) / rng.integers(1, 9)
    return m


def _categories(rng: np.random.Generator, n_cat: int, n_items: int) -> sp.csr_matrix:
    owner = rng.integers(0, n_cat, n_items)
    m = sp.csr_matrix((np.ones(n_items), (owner, np.arange(n_items))), shape=(n_cat, n_items))
    return sp.csr_matrix(sp.diags(1.0 / np.maximum(np.asarray(m.sum(axis=1)).ravel(), 1)) @ m)


def _world(seed: int):
    rng = np.random.default_rng(seed)
    n_users, n_items = 40, 900
    follows, posted = _random(rng, n_users, n_users, 0.2), _random(rng, n_users, 300, 0.05)
    post_item, bought = _random(rng, 300, n_items, 0.01), _random(rng, n_users, n_items, 0.01)
    cat = _categories(rng, 9, n_items)
    co = _random(rng, n_items, n_items, 0.02)
    return n_users, [[follows, posted, post_item], [bought, sp.csr_matrix(cat.T), cat],
                     [bought, co], [posted, post_item]]


def _same(a, b) -> bool:
    return (np.array_equal(a[0], b[0]) and a[1].tobytes() == b[1].tobytes() and a[2] == b[2])


@pytest.mark.parametrize("seed", range(4))
def test_listed_walks_are_the_request_walks(seed: int) -> None:
    n_users, paths = _world(seed)
    assert list_walks(paths, n_users) > 0
    for u in range(n_users):
        for steps in paths:
            if len(steps) == 3:
                got = listed_reach(steps, u)
                assert got is not None
                assert _same(got, walk_on(walk_start(steps[0], u), steps[1:2]))
            state = walk_on(walk_start(steps[0], u), steps[1:-1])
            last = listed_last(steps, u)
            if steps[-1].shape[0] == 9:  # the category step goes by its columns: not listed
                assert last is None
            else:
                assert last is not None and _same(last, walk_last(state, steps[-1]))
        weighted = [(s, w) for s, w in zip(paths, (0.3, 0.5, 0.2, 0.1), strict=True)]
        row, want = np.zeros(900), np.zeros(900)
        add_paths(weighted, u, row)
        for steps, w in weighted:
            walk_into(reach_state(steps, u) if len(steps) == 3
                      else walk_on(walk_start(steps[0], u), steps[1:-1]), steps[-1], want, w)
        assert row.tobytes() == want.tobytes()


def test_a_list_goes_with_its_matrices() -> None:
    n_users, paths = _world(7)
    before = set(listed_walks._lists)  # (other tests' lists live while their matrices do)
    list_walks(paths, n_users)
    keys = set(listed_walks._lists) - before
    assert keys
    del paths
    gc.collect()
    assert not keys & set(listed_walks._lists)


def test_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    n_users, paths = _world(9)
    monkeypatch.setattr(listed_walks, "MAX_WALKS", n_users - 1)
    assert list_walks(paths, n_users) == 0 and listed_last(paths[3], 0) is None
    monkeypatch.setattr(listed_walks, "MAX_WALKS", 10**6)
    monkeypatch.setattr(listed_walks, "MAX_ENTRIES", 0)
    list_walks(paths, n_users)
    assert listed_last(paths[3], 0) is None and listed_reach(paths[0], 0) is None


def test_by_columns() -> None:
    rng = np.random.default_rng(0)
    cat = _categories(rng, 4, 5000)
    assert by_columns((np.array([0, 2]), np.array([1.0, 1.0]), 4), cat)
    assert not by_columns((np.zeros(0, np.int64), np.zeros(0), 4), cat)
    assert not by_columns((np.array([0]), np.array([1.0]), 40), _random(rng, 40, 5000, 0.2))


def test_a_loaded_session_component_reads_its_listed_walks(tmp_path) -> None:
    """A served session component's candidate rows: the fitted one's, bit for bit, from the
    walks listed at load (each user's history through the transitions)."""
    from kg.graph import KnowledgeGraph
    from recommend.hybrid.config import HybridConfig
    from recommend.hybrid.session import SessionComponent

    rng = np.random.default_rng(5)
    g = KnowledgeGraph()
    for p in range(30):
        g.add_node(f"product:{p}", title=f"P{p}")
    users = [f"user:{k}" for k in range(25) for _ in range(6)]
    g.add_edges("purchased", users, [f"product:{p}" for p in rng.integers(0, 30, len(users))],
                ts=rng.random(len(users)) * 5000)
    fitted = SessionComponent.fit(g, window=3600.0, max_lag=50, recency_tau=10.0)
    assert fitted is not None
    fitted.save(tmp_path)
    served = SessionComponent.load(tmp_path, g, HybridConfig())
    steps = (served.history_, served.transitions_)
    assert any(listed_last(steps, u) is not None for u in range(25))
    cols = np.arange(30)
    for u in range(25):
        got = served.candidates(np.array([u]), cols)
        assert got.tobytes() == fitted.candidates(np.array([u]), cols).tobytes()
