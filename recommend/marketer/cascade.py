"""Independent-cascade influence on a directed graph: seeded Monte-Carlo, CELF, degree discount.

In the independent-cascade model a newly active node ``a`` gets one chance to activate each
out-neighbour ``b``, with probability ``p(a, b)``. Equivalently (Kempe et al. 2003), sample a
*live-edge world*, each edge kept with its probability, and take what the seeds reach in it.
Everything here is vectorised over ``runs`` worlds at once: the worlds are one block-diagonal
sparse matrix (world ``r``'s node ``a`` is row ``r * n + a``), and a breadth-first search
from many sources is a sparse matrix product per level (:func:`_reach`).

:func:`celf` picks ``k`` seeds greedily by marginal gain in expected targets reached (the
spread of a set is monotone and submodular, so greedy is within ``1 - 1/e`` of the best set
and lazy re-evaluation, CELF, is exact). One set of sampled worlds serves every candidate
(common random numbers): each candidate's reach in each world is found once
(:func:`reach_sets`, only targets kept, searched backwards from them), and the marginal
gain of ``v`` after a set ``S`` is the mean over worlds of the targets ``v`` reaches that
``S`` does not: exact in those worlds. Report a chosen set's spread on fresh worlds
(:func:`spread`), not those it was chosen on. :func:`degree_discount` is the heuristic of
Chen et al. (2009).
"""

from __future__ import annotations

import heapq

import numpy as np
import scipy.sparse as sp

__all__ = ["celf", "degree_discount", "live_worlds", "reach_sets", "spread"]


def live_worlds(src: np.ndarray, dst: np.ndarray, prob: np.ndarray, n: int, runs: int,
                seed: int) -> sp.csr_matrix:
    """``runs`` sampled live-edge worlds of edges ``src -> dst`` kept with ``prob``, as one
    block-diagonal (runs * n) x (runs * n) 0/1 matrix."""
    rng = np.random.default_rng(seed)
    keep = rng.random((runs, len(src))) < prob[None, :]
    world, edge = np.nonzero(keep)
    rows, cols = world * n + src[edge], world * n + dst[edge]
    return sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(runs * n,) * 2)


def _reach(step: sp.csr_matrix, start: sp.csr_matrix) -> sp.csr_matrix:
    """0/1 columns x (runs * n): the nodes each row's start nodes lead to (them included),
    one level being ``frontier @ step`` (``step`` row ``a`` lists the nodes one hop on from
    ``a``: the worlds forward, their transpose backward). Rows are the few searches, so each
    level costs what the frontier touches, not the size of the worlds."""
    visited = start.copy()
    frontier = start
    while frontier.nnz:
        nxt = frontier @ step
        nxt.data[:] = 1.0
        frontier = (nxt - nxt.multiply(visited)).tocsr()
        frontier.eliminate_zeros()
        visited = visited + frontier
    return visited.tocsr()


def _starts(sources: np.ndarray, n: int, runs: int, rows: np.ndarray) -> sp.csr_matrix:
    """Node ``r * n + source`` of every world r, in the source's row."""
    cols = (np.arange(runs)[:, None] * n + sources[None, :]).ravel()
    return sp.csr_matrix((np.ones(len(cols), np.float32), (np.tile(rows, runs), cols)),
                         shape=(int(rows.max(initial=-1)) + 1, runs * n))


def reach_sets(live: sp.csr_matrix, n: int, runs: int, candidates: np.ndarray,
               targets: np.ndarray, *, chunk: int = 256) -> sp.csc_matrix:
    """(runs * len(targets)) x len(candidates) 0/1: which targets each candidate reaches
    in each world (row ``r * len(targets) + t``).

    Found backwards: a candidate reaches target ``t`` in a world exactly when it is among
    the nodes that reach ``t`` there (its reverse-reachable set, Borgs et al. 2014), so the
    search runs from the targets over the reversed worlds. Those sets stay small where
    forward cascades from a thousand candidates would not (in the weighted cascade each
    node keeps about one live in-edge per world).
    """
    pos = np.full(n, -1, np.int64)
    pos[candidates] = np.arange(len(candidates))
    n_t = len(targets)
    back = live.T.tocsr()
    rows_all, cols_all = [], []
    for a in range(0, n_t, chunk):
        part = targets[a:a + chunk]
        reached = _reach(back, _starts(part, n, runs, np.arange(len(part)))).tocoo()
        world, node = np.divmod(reached.col, n)
        keep = pos[node] >= 0
        rows_all.append(world[keep] * n_t + a + reached.row[keep])
        cols_all.append(pos[node[keep]])
    rows = np.concatenate([np.zeros(0, np.int64), *rows_all])
    cols = np.concatenate([np.zeros(0, np.int64), *cols_all])
    return sp.csc_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                         shape=(runs * n_t, len(candidates)))


def celf(reach: sp.csc_matrix, runs: int, k: int) -> tuple[list[int], list[float]]:
    """Greedy with lazy evaluation over :func:`reach_sets`: the chosen candidate columns
    and each one's marginal gain (expected targets newly reached)."""
    covered = np.zeros(reach.shape[0], bool)
    gains = np.diff(reach.indptr) / runs
    heap = [(-float(g), c, 0) for c, g in enumerate(gains)]
    heapq.heapify(heap)
    chosen: list[int] = []
    found: list[float] = []
    while heap and len(chosen) < k:
        neg, c, round_ = heapq.heappop(heap)
        if round_ == len(chosen):  # fresh for this round: by submodularity the best
            chosen.append(c)
            found.append(-neg)
            covered[reach.indices[reach.indptr[c]:reach.indptr[c + 1]]] = True
            continue
        rows = reach.indices[reach.indptr[c]:reach.indptr[c + 1]]
        heapq.heappush(heap, (-float((~covered[rows]).sum()) / runs, c, len(chosen)))
    return chosen, found


def spread(live: sp.csr_matrix, n: int, runs: int, seeds: np.ndarray, targets: np.ndarray
           ) -> tuple[float, float]:
    """Mean and standard error over the worlds of the targets ``seeds`` reach together."""
    if len(seeds) == 0:
        return 0.0, 0.0
    start = _starts(np.asarray(seeds, np.int64), n, runs, np.zeros(len(seeds), np.int64))
    reached = _reach(live, start).tocoo()
    world, node = np.divmod(reached.col, n)
    is_target = np.zeros(n, bool)
    is_target[targets] = True
    per = np.bincount(world[is_target[node]], minlength=runs).astype(np.float64)
    return float(per.mean()), float(per.std(ddof=1) / np.sqrt(runs)) if runs > 1 else 0.0


def degree_discount(src: np.ndarray, dst: np.ndarray, prob: float, n: int,
                    candidates: np.ndarray, k: int) -> list[int]:
    """DegreeDiscountIC (Chen, Wang and Yang 2009) over ``candidates``: out-degree, discounted
    for out-neighbours already chosen (``prob``: one edge probability)."""
    degree = np.bincount(src, minlength=n).astype(np.float64)
    out = sp.csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    t = np.zeros(n)
    score = degree.copy()
    allowed = np.zeros(n, bool)
    allowed[candidates] = True
    chosen: list[int] = []
    for _ in range(min(k, len(candidates))):
        masked = np.where(allowed, score, -np.inf)
        v = int(np.argmax(masked))
        chosen.append(v)
        allowed[v] = False
        nb = out.indices[out.indptr[v]:out.indptr[v + 1]]
        t[nb] += 1
        score[nb] = degree[nb] - 2 * t[nb] - (degree[nb] - t[nb]) * t[nb] * prob
    return chosen
