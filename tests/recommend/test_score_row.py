"""One user's graph score row (:func:`recommend.paths.score_row.add_paths`): the category
meta-paths' shared last step summed per category and spread once, bit for bit the row of
adding each meta-path in turn (:func:`recommend.paths.last_step.walk_into`); the step
matrices a scorer shares (:func:`recommend.paths.metapaths.shared_steps`)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommend.paths.instances import reach_state
from recommend.paths.last_step import last_term, row_owners, walk_into
from recommend.paths.score_row import add_paths
from recommend.paths.walks import walk_on, walk_start


def _reference(paths, user: int, width: int) -> np.ndarray:
    """The row as score_dense made it before: each meta-path walked and added in turn."""
    row = np.zeros(width)
    for steps, w in paths:
        if len(steps) == 1:
            idx, val, _ = walk_start(steps[0], user)
            row[idx] += w * val
            continue
        state = (reach_state(steps, user) if len(steps) == 3
                 else walk_on(walk_start(steps[0], user), steps[1:-1]))
        walk_into(state, steps[-1], row, w)
    return row


def _categories(rng: np.random.Generator, n_cat: int, n_items: int) -> sp.csr_matrix:
    """category x product, each product in at most one category, row normalised."""
    owner = rng.integers(0, n_cat, n_items)
    has = rng.random(n_items) < 0.9
    m = sp.csr_matrix((np.ones(int(has.sum())), (owner[has], np.flatnonzero(has))),
                      shape=(n_cat, n_items))
    sums = np.asarray(m.sum(axis=1)).ravel()
    return sp.csr_matrix(sp.diags(np.divide(1.0, sums, out=np.zeros_like(sums),
                                            where=sums > 0)) @ m)


def _random(rng: np.random.Generator, rows: int, cols: int, density: float) -> sp.csr_matrix:
    m = sp.random(rows, cols, density=density, random_state=rng, format="csr")
    m.data = rng.random(m.nnz) / rng.integers(1, 9)
    return m


@pytest.mark.parametrize("seed", range(16))
def test_the_floats_of_adding_each_meta_path_in_turn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_users, n_items, n_cat, n_posts = 30, int(rng.integers(300, 3000)), 12, 400
    cat = _categories(rng, n_cat, n_items)
    bought = _random(rng, n_users, n_items, 0.01)
    in_cat = sp.csr_matrix(cat.T)  # product -> its category (one each)
    wrote = _random(rng, n_users, n_posts, 0.05)
    post_cat = _random(rng, n_posts, n_cat, 0.05)
    post_item = _random(rng, n_posts, n_items, 0.003)
    direct = _random(rng, n_users, n_items, 0.003)
    other = _categories(rng, 5, n_items)  # a second one-per-column last step, alone
    seg = _random(rng, n_users, 5, 0.4)
    paths = [([bought, in_cat, cat], 0.3), ([wrote, post_cat, cat], 0.25),
             ([wrote, post_item], 0.1), ([direct], 0.5), ([seg, cat[:5]], 0.2),
             ([wrote, post_cat, cat], 1.7)]
    if seed % 4 == 1:  # a pass over every column of another step, in between
        paths.insert(2, ([seg, other], 0.4))
    if seed % 4 == 2:  # a weight that cannot take the category sums: walked as before
        paths[1] = (paths[1][0], float("inf"))
    if seed % 4 == 3:
        paths = [p for p in paths if len(p[0]) != 2 and len(p[0]) != 1]
    for user in range(n_users):
        row = np.zeros(n_items)
        add_paths(paths, user, row)
        want = _reference(paths, user, n_items)
        assert row.tobytes() == want.tobytes(), user


def test_alone_a_category_step_is_walked_as_before() -> None:
    rng = np.random.default_rng(3)
    cat = _categories(rng, 6, 500)
    bought = _random(rng, 10, 500, 0.05)
    paths = [([bought, sp.csr_matrix(cat.T), cat], 0.5), ([bought], 0.25)]
    for user in range(10):
        row = np.zeros(500)
        add_paths(paths, user, row)
        assert row.tobytes() == _reference(paths, user, 500).tobytes()


def test_row_owners() -> None:
    m = sp.csr_matrix(np.array([[0.5, 0.0, 0.5, 0.0], [0.0, 2.0, 0.0, 0.0], [0, 0, 0, 0.0]]))
    owner, value = row_owners(m)
    assert owner.tolist() == [0, 1, 0, 3] and value.tolist() == [0.5, 2.0, 0.0, 0.0]
    assert row_owners(sp.csr_matrix(np.array([[0.5, 0.25]]))) is None  # two values in a row
    assert row_owners(sp.csr_matrix(np.array([[1.0, 0.0], [1.0, 0.0]]))) is None  # column 0


@pytest.mark.parametrize("seed", range(6))
def test_last_term_is_what_walk_into_adds(seed: int) -> None:
    rng = np.random.default_rng(seed)
    m = _categories(rng, 8, 4000) if seed % 2 else _random(rng, 8, 4000, 0.1)
    state = (np.sort(rng.choice(8, 3, replace=False)), rng.random(3), 8)
    before = rng.random(4000) * (rng.random(4000) < 0.3)
    row = before.copy()
    walk_into(state, m, row, 0.7)
    idx, add = last_term(state, m, 0.7)
    again = before.copy()
    if idx is None:
        again += add
    else:
        again[idx] += add
    assert again.tobytes() == row.tobytes()


def test_a_scorer_shares_a_step_its_meta_paths_take() -> None:
    from kg.graph import KnowledgeGraph
    from recommend.paths.metapaths import MetaPath, Step, shared_steps, step_matrices

    g = KnowledgeGraph()
    for p in "ABCD":
        g.add_node(f"product:{p}", title=p)
    g.add_edges("in_category", [f"product:{p}" for p in "ABCD"], ["category:x"] * 2
                + ["category:y"] * 2)
    g.add_edges("purchased", ["user:1", "user:2"], ["product:A", "product:C"])
    g.add_edges("rated", ["user:1"], ["product:D"])
    last = Step("in_category", "in")
    mps = [MetaPath("b", (Step("purchased", node_type="product"), Step("in_category"), last)),
           MetaPath("r", (Step("rated", node_type="product"), Step("in_category"), last))]
    steps = shared_steps(g, mps, "row")
    assert steps["b"][2] is steps["r"][2] and steps["b"][1] is steps["r"][1]
    assert steps["b"][0] is not steps["r"][0]
    for mp in mps:
        for got, want in zip(steps[mp.name], step_matrices(g, mp), strict=True):
            assert (got != want).nnz == 0


def test_spread_only_where_two_paths_would_pass_over_the_columns() -> None:
    """A user who reaches few categories walks them (cheaper than spreading over every
    product); two passes over the shared step's columns are spread; a pass over another
    step's columns keeps each path walked."""
    from recommend.paths.score_row import _worth_spreading

    rng = np.random.default_rng(2)
    cat = _categories(rng, 4, 30_000)
    other = _categories(rng, 3, 30_000)
    one = (np.array([1]), np.array([0.5]), 4)  # a category of ~7,000 products: by columns
    few = (np.array([1]), np.array([0.5]), 2)
    assert _worth_spreading([([cat, cat], 1.0), ([cat, cat], 2.0)], [one, one], cat)
    assert not _worth_spreading([([cat, cat], 1.0), ([cat, cat], 2.0)], [one, None], cat)
    assert not _worth_spreading([([cat, cat], 1.0), ([cat, cat], 2.0), ([cat, other], 1.0)],
                                [one, one, (np.array([2]), np.array([1.0]), 3)], cat)
    owner = np.zeros(30_000, np.int64)
    owner[:10] = 1  # category 1: ten products, walked (cheaper than a pass over 30,000)
    small = sp.csr_matrix((np.ones(30_000), (owner, np.arange(30_000))), shape=(2, 30_000))
    assert not _worth_spreading([([cat, small], 1.0), ([cat, small], 2.0)], [few, few], small)
    assert _worth_spreading([([cat, small], 1.0), ([cat, small], 2.0)],
                            [(np.array([0]), np.array([1.0]), 2)] * 2, small)
