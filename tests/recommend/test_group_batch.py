"""Several meta-paths' groups in one pass: each what its own pass (the old code) gave."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recommend.paths.group_batch import (
    _first_latest,
    same_matrix,
    top_groups_batch,
    top_groups_each,
    top_per_each,
)
from recommend.paths.instances import (
    _first_step,
    _into_middle,
    _last_hops,
    _top_per,
    reach_state,
    top_groups_many,
    values_at,
)
from recommend.paths.quality import times_at


def one_pass(steps, u, items, k, prefer):
    """top_groups_many's 3-step pass with ``prefer`` as it was before the batch (65d77ea)."""
    items = np.asarray(items, np.int64)
    first = _first_step(steps[0], u)
    reach = reach_state(steps, u)
    if not len(reach[0]):
        return [([], 0.0) for _ in items]
    owner, node, hop = _last_hops(steps[-1], items)
    sums = values_at(reach, node) * hop
    totals = np.bincount(owner, sums, len(items))
    out = [([], t) for t in totals.tolist()]
    groups = _top_per(owner, sums, k)
    if not len(groups):
        return out
    a, b, count, values = _into_middle(steps[1], first, node[groups], hop[groups])
    group_of = np.repeat(np.arange(len(groups)), count)
    sizes = np.bincount(group_of, values > 0, len(groups)).astype(np.int64)
    best = _first_latest(count, np.where(values > 0, times_at(prefer(), a), -np.inf), values)
    g = group_of[best]
    for o, one, mid, i, s, n in zip(owner[groups[g]].tolist(), a[best].tolist(),
                                    b[g].tolist(), items[owner[groups[g]]].tolist(),
                                    sums[groups[g]].tolist(), sizes[g].tolist(), strict=True):
        out[o][0].append(((u, one, mid, i), s, n))
    return out


def meta_paths(seed: int, users: int = 8, firsts: int = 30, middles: int = 6,
               products: int = 25):
    """Random 3-step meta-paths (user -> a -> entity -> product) with values that tie
    (few distinct ones), sharing a last step (equal copies) or not, and each one's prefer:
    random act times of some of the first step's nodes."""
    rng = np.random.default_rng(seed)

    def step(rows, cols, density):
        m = sp.random(rows, cols, density=density, format="csr", random_state=rng)
        m.data = rng.choice([0.25, 0.5, 1.0, 0.1], m.nnz)
        return m

    last = step(middles, products, 0.3)
    out = []
    for j in range(4):
        mine = last.copy() if j < 3 else step(middles, products, 0.3)  # equal, another object
        steps = [step(users, firsts, 0.15), step(firsts, middles, 0.2), mine]
        idx = np.sort(rng.choice(firsts, 10, replace=False))
        ts = rng.choice([1.0, 2.0, 3.0], 10)
        out.append((steps, lambda idx=idx, ts=ts: (idx, ts)))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_a_batch_gives_each_meta_path_what_its_own_pass_gave(seed: int) -> None:
    batch = meta_paths(seed)
    items = np.random.default_rng(seed).choice(25, 9, replace=False)
    for u in range(8):
        for k in (1, 3, 10):
            found = top_groups_batch(batch, u, items, k)
            assert found == [one_pass(s, u, items, k, p) for s, p in batch]  # bit for bit
            # each alone (top_groups_many's pass with a prefer), and any subset, the same
            assert [top_groups_many(s, u, items, k, prefer=p) for s, p in batch] == found
            assert top_groups_batch(batch[1::2], u, items, k) == found[1::2]


@pytest.mark.parametrize("seed", range(40))
def test_each_meta_path_with_its_own_items_gets_what_its_own_pass_gave(seed: int) -> None:
    """Several scorers' meta-paths in one pass, each explaining its own items (some the
    same list, some another, some empty; equal last steps over other items read apart)."""
    rng = np.random.default_rng(seed)
    batch = meta_paths(seed)
    lists = [rng.choice(25, size, replace=False) for size in rng.integers(0, 12, len(batch))]
    lists[1] = lists[0]  # the same list (one object), as a scorer's meta-paths share
    asked = [(s, p, items) for (s, p), items in zip(batch, lists, strict=True)]
    for u in range(8):
        for k in (1, 3, 10):
            found = top_groups_each(asked, u, k)
            assert found == [one_pass(s, u, items, k, p) for s, p, items in asked]
            assert top_groups_each(asked[::-1], u, k) == found[::-1]


def test_prefer_is_asked_only_of_a_meta_path_with_a_group() -> None:
    batch = meta_paths(3)
    asked = []
    wrapped = [(s, lambda p=p, j=j: asked.append(j) or p()) for j, (s, p) in enumerate(batch)]
    none = np.array([], np.int64)
    assert top_groups_batch(wrapped, 0, none, 3) == [[], [], [], []] and asked == []
    items = np.arange(25)
    found = top_groups_batch(wrapped, 1, items, 3)
    assert sorted(asked) == [j for j, f in enumerate(found) if any(g for g, _ in f)]


@pytest.mark.parametrize("seed", range(20))
def test_top_per_each_is_top_per_of_each_part(seed: int) -> None:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(0, 12, 4)
    part = np.repeat(np.arange(4), sizes)
    owner = rng.integers(0, 5, len(part))
    values = rng.choice([0.0, -1.0, 0.3, 0.3 + 1e-16, 2.0, 5.0], len(part))  # near ties too
    starts = np.concatenate(([0], np.cumsum(sizes)))
    want = np.concatenate([starts[t] + _top_per(owner[starts[t]:starts[t + 1]],
                                                values[starts[t]:starts[t + 1]], 2)
                           for t in range(4)]).astype(np.int64)
    assert top_per_each(part, owner, values, 2, 5).tolist() == want.tolist()


def test_same_matrix_compares_entries_once_and_never_by_a_stale_id() -> None:
    a = sp.csr_matrix(np.array([[0.0, 1.0], [2.0, 0.0]]))
    assert same_matrix(a, a) and same_matrix(a, a.copy())
    b = a.copy()
    b.data[0] = 3.0
    assert not same_matrix(a, b)
    assert not same_matrix(a, sp.csr_matrix(np.array([[0.0, 1.0], [2.0, 0.5]])))
    assert not same_matrix(a, a.astype(np.float32))
    for _ in range(3):  # (a copy made and freed: its id may be another's next time)
        c = a.copy()
        assert same_matrix(a, c)
        del c
        d = sp.csr_matrix(np.array([[9.0, 1.0], [2.0, 0.0]]))
        assert not same_matrix(a, d)
