"""Independent-cascade influence on a directed graph: seeded Monte-Carlo, CELF, degree discount.

In the independent-cascade model a newly active node ``a`` gets one chance to activate each
out-neighbour ``b``, with probability ``p(a, b)``. Equivalently (Kempe et al. 2003), sample a
*live-edge world*, each edge kept with its probability, and take what the seeds reach in it.
Everything here is vectorised over ``runs`` worlds at once: the worlds are one block-diagonal
sparse matrix (world ``r``'s node ``a`` is row ``r * n + a``). Worlds never share an
edge, so one breadth-first search from a virtual node pointing at every world's sources
(:func:`_bfs`, scipy's csgraph, in C) and one strongly-connected-component pass cover all
the worlds together.

:func:`celf` picks ``k`` seeds greedily by marginal gain in expected targets reached (the
spread of a set is monotone and submodular, so greedy is within ``1 - 1/e`` of the best set
and lazy re-evaluation, CELF, is exact). One set of sampled worlds serves every candidate
(common random numbers): each candidate's reach in each world is found once
(:func:`reach_sets`, only targets kept: on the condensation of the part of the worlds that
can reach a target, whose nodes in one component reach the same targets), and the marginal
gain of ``v`` after a set ``S`` is the mean over worlds of the targets ``v`` reaches that
``S`` does not: exact in those worlds. Report a chosen set's spread on fresh worlds
(:func:`spread`), not those it was chosen on. :func:`degree_discount` is the heuristic of
Chen et al. (2009).
"""

from __future__ import annotations

import heapq

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

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


def _bfs(adj: sp.csr_matrix, sources: np.ndarray) -> np.ndarray:
    """The nodes reachable from any of ``sources`` along ``adj`` (them included), sorted:
    one breadth-first search in C from a virtual node that points at every source."""
    size = adj.shape[0]
    sources = np.unique(sources)
    indptr = np.r_[adj.indptr, adj.indptr[-1] + len(sources)].astype(np.int32)
    indices = np.r_[adj.indices, sources].astype(np.int32)
    aug = sp.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(size + 1, size + 1))
    aug.has_canonical_format = adj.has_canonical_format  # sorted rows: no sort in csgraph
    order = csgraph.breadth_first_order(aug, size, directed=True, return_predecessors=False)
    return np.sort(order[1:])


def _target_bits(back: sp.csr_matrix, tail: np.ndarray, head: np.ndarray, n: int, runs: int,
                 targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every node of the worlds: the index of its strongly connected component among
    those that reach a target (-1 where it reaches none), and per such component the
    targets of its world it reaches, bit-packed (``np.packbits`` order, target ``t`` of
    ``targets`` is bit ``t``). ``back``: the worlds reversed; ``tail -> head``: their edges.

    Only the part of the worlds that can reach a target is kept (one backward search from
    all of them). All nodes of a component reach the same targets, so reach is found on
    the condensation: a component's targets are its own and its successors', taken sinks
    first, one level of the DAG at a time."""
    n_t, total = len(targets), runs * n
    tnode = (np.arange(runs)[:, None] * n + targets[None, :]).ravel()
    keep = _bfs(back, tnode)
    local = np.full(total, -1, np.int64)
    local[keep] = np.arange(len(keep))
    e = local[head] >= 0  # an edge into a node that reaches a target: its tail does too
    u, v = local[tail[e]], local[head[e]]
    sub = sp.csr_matrix((np.ones(len(u)), (u, v)), shape=(len(keep),) * 2)
    n_comp, label = csgraph.connected_components(sub, directed=True, connection="strong")
    bits = np.zeros((n_comp, (n_t + 7) // 8), np.uint8)
    t = np.arange(len(tnode)) % n_t
    np.bitwise_or.at(bits, (label[local[tnode]], t >> 3), (128 >> (t & 7)).astype(np.uint8))
    cu, cv = label[u].astype(np.int64), label[v].astype(np.int64)
    between = cu != cv
    succ = sp.csr_matrix((np.ones(int(between.sum()), np.int8), (cu[between], cv[between])),
                         shape=(n_comp,) * 2)  # repeated pairs summed into one edge
    pred = succ.T.tocsr()
    left = np.diff(succ.indptr)
    ready = np.flatnonzero(left == 0)
    while len(ready):  # every successor of ``ready`` is final: fold them in
        rows = succ[ready]
        has = np.flatnonzero(np.diff(rows.indptr))
        if len(has):
            bits[ready[has]] |= np.bitwise_or.reduceat(bits[rows.indices], rows.indptr[has],
                                                       axis=0)
        before = pred[ready].indices
        done, count = np.unique(before, return_counts=True)
        left[done] -= count
        ready = done[left[done] == 0]
    comp = np.full(total, -1, np.int64)
    comp[keep] = label
    return comp, bits


def reach_sets(live: sp.csr_matrix, n: int, runs: int, candidates: np.ndarray,
               targets: np.ndarray, *, per_pass: int = 512, chunk: int = 8192
               ) -> sp.csc_matrix:
    """(runs * len(targets)) x len(candidates) 0/1: which targets each candidate reaches
    in each world (row ``r * len(targets) + t``).

    Found from the targets' side (:func:`_target_bits`): a candidate reaches target ``t``
    in a world exactly when it is among the nodes that reach ``t`` there (its
    reverse-reachable set, Borgs et al. 2014). ``per_pass`` targets at a time bound the
    bit sets' memory (``per_pass / 8`` bytes per component); ``chunk`` (candidate, world)
    pairs are unpacked at a time."""
    n_t = len(targets)
    back, edges = live.T.tocsr(), live.tocoo()
    world = np.repeat(np.arange(runs), len(candidates))
    col = np.tile(np.arange(len(candidates)), runs)
    node = world * n + candidates[col]
    rows_all, cols_all = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for s in range(0, n_t, per_pass):
        comp, bits = _target_bits(back, edges.row, edges.col, n, runs, targets[s:s + per_pass])
        which = comp[node]
        has = which >= 0
        w, c, which = world[has], col[has], which[has]
        for a in range(0, len(which), chunk):
            i, byte = np.nonzero(bits[which[a:a + chunk]])  # sparse: unpack set bytes only
            j, bit = np.nonzero(np.unpackbits(bits[which[a + i], byte][:, None], axis=1))
            i, t = i[j], byte[j] * 8 + bit
            rows_all.append(w[a + i] * n_t + s + t)
            cols_all.append(c[a + i])
    rows, cols = np.concatenate(rows_all), np.concatenate(cols_all)
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
    cols = (np.arange(runs)[:, None] * n + np.asarray(seeds, np.int64)[None, :]).ravel()
    world, node = np.divmod(_bfs(live, cols), n)
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
