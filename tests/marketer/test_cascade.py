"""Independent cascade: simulated spread against exact values, CELF against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommend.marketer import cascade


def test_a_star_reaches_its_expected_share() -> None:
    """A hub with 10 followers, each reached with p = 0.3: 3 expected, plus the hub."""
    src, dst = np.zeros(10, np.int64), np.arange(1, 11)
    runs = 4000
    live = cascade.live_worlds(src, dst, np.full(10, 0.3), 11, runs, seed=1)
    mean, err = cascade.spread(live, 11, runs, np.array([0]), np.arange(11))
    assert mean == pytest.approx(1 + 3.0, abs=4 * err)
    mean, _ = cascade.spread(live, 11, runs, np.array([0]), np.array([0]))
    assert mean == 1.0


def test_a_chain_multiplies_probabilities() -> None:
    """0 -> 1 -> 2 with p = 0.5 each: node 2 is reached with probability 0.25."""
    runs = 8000
    live = cascade.live_worlds(np.array([0, 1]), np.array([1, 2]), np.full(2, 0.5), 3, runs, 2)
    mean, err = cascade.spread(live, 3, runs, np.array([0]), np.array([2]))
    assert mean == pytest.approx(0.25, abs=4 * err)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_celf_is_the_greedy_choice_in_the_sampled_worlds(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, runs = 12, 30
    src, dst = rng.integers(0, n, 30), rng.integers(0, n, 30)
    prob = rng.uniform(0.1, 0.9, 30)
    live = cascade.live_worlds(src, dst, prob, n, runs, seed)
    cands, targets = np.arange(n), np.sort(rng.choice(n, 6, replace=False))
    reach = cascade.reach_sets(live, n, runs, cands, targets, chunk=5)
    chosen, gains = cascade.celf(reach, runs, 3)

    def value(s: tuple[int, ...]) -> float:
        return cascade.spread(live, n, runs, cands[list(s)], targets)[0] if s else 0.0

    picked: tuple[int, ...] = ()
    for c, g in zip(chosen, gains, strict=True):  # each pick is a best marginal gain
        best = max(value((*picked, v)) for v in range(n) if v not in picked)
        assert value((*picked, c)) == pytest.approx(best)
        assert g == pytest.approx(best - value(picked))
        picked = (*picked, c)
    brute = max(value(s) for s in itertools.combinations(range(n), 3))
    assert value(picked) >= (1 - 1 / np.e) * brute - 1e-9


def _reached(live, n: int, r: int, sources: list[int]) -> set[int]:
    """Plain breadth-first search in world ``r`` (world-local node numbers)."""
    block = live[r * n:(r + 1) * n, r * n:(r + 1) * n].tocsr()
    seen, todo = set(sources), list(sources)
    while todo:
        a = todo.pop()
        for b in block.indices[block.indptr[a]:block.indptr[a + 1]].tolist():
            if b not in seen:
                seen.add(b)
                todo.append(b)
    return seen


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 40), st.integers(1, 6))
def test_reach_sets_and_spread_match_a_plain_search(seed: int, chunk: int, per_pass: int
                                                    ) -> None:
    """Dense random graphs (cycles, so components of several nodes, repeated edges and
    self-loops), targets in passes of any size: every candidate's targets in every world,
    and the spread of a set, as a plain search per world finds them."""
    rng = np.random.default_rng(seed)
    n, runs, m = 15, 6, 45
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    live = cascade.live_worlds(src, dst, rng.uniform(0.2, 0.9, m), n, runs, seed)
    cands = np.sort(rng.choice(n, 9, replace=False))
    targets = np.sort(rng.choice(n, 5, replace=False))
    got = cascade.reach_sets(live, n, runs, cands, targets, per_pass=per_pass,
                             chunk=chunk).toarray()
    want = np.zeros_like(got)
    for r in range(runs):
        for j, c in enumerate(cands.tolist()):
            hit = _reached(live, n, r, [c])
            for t, node in enumerate(targets.tolist()):
                want[r * len(targets) + t, j] = node in hit
    np.testing.assert_array_equal(got, want)
    seeds = cands[:3]
    per = [len(_reached(live, n, r, seeds.tolist()) & set(targets.tolist()))
           for r in range(runs)]
    assert cascade.spread(live, n, runs, seeds, targets) == pytest.approx(
        (np.mean(per), np.std(per, ddof=1) / np.sqrt(runs)))


def test_degree_discount_skips_a_hub_s_followers() -> None:
    """Hub 0 follows-out to 1..4; node 1 also reaches 5, 6, 7. After 0, node 1 is
    discounted (its neighbour 0 is chosen) below node 8 with 3 fresh followers."""
    src = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 8, 8, 8])
    dst = np.array([1, 2, 3, 4, 9, 5, 6, 7, 0, 10, 11, 12])
    got = cascade.degree_discount(src, dst, 0.5, 13, np.arange(13), 2)
    assert got[0] == 0
    src2 = np.r_[src, [0]]
    dst2 = np.r_[dst, [8]]  # now 0 also reaches 8: 8 is discounted instead
    assert cascade.degree_discount(src2, dst2, 0.5, 13, np.arange(13), 2)[1] == 1
    assert got[1] == 8
