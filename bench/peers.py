"""The peers of bench/generalise.py, each fitted in a child process of its own.

Peers: implicit ItemKNN (cosine, K = 200), implicit ALS (a small grid), EASE (lambda grid,
when the catalogue fits the item budget) and popularity, fitted on the same training
interactions (log(1 + summed event weights)) and ranked among the same described, unseen
products as the hybrid; a grid is picked on a random validation cut of train.

Why a child per peer (:func:`in_child`, a *spawned* process): the size-world run died with
SIGSEGV (exit 139) in the peers step, in a process that had loaded torch, FAISS, LightGBM
and implicit, each with its own OpenMP or BLAS runtime (torch's and FAISS's bundled
libgomp, the system libgomp of implicit and LightGBM, three OpenBLAS builds) and had run
the hybrid's fit. It did not happen again with the same libraries loaded in a fresh
process, so no single culprit is known. A spawned child holds only numpy, scipy and the
peer's library; implicit ALS runs there with BLAS on one thread (implicit's own advice:
its OpenMP loop calls BLAS from every thread); ``faulthandler`` prints a native crash's
Python stack to stderr; and a child that dies is reported as that peer's ``error``
(:class:`ChildDied`) while the bench goes on.
"""

from __future__ import annotations

import faulthandler
import math
import multiprocessing as mp
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

import numpy as np
import scipy.sparse as sp

K = 10
T = TypeVar("T")


class ChildDied(RuntimeError):
    """The child process ended without an answer (a native crash, a kill)."""

    def __init__(self, exitcode: int | None) -> None:
        how = (f"signal {-exitcode}" if exitcode is not None and exitcode < 0
               else f"exit code {exitcode}")
        super().__init__(f"child process died without an answer ({how})")
        self.exitcode = exitcode


def _answer(conn: Connection, func: Callable[..., Any], args: tuple[Any, ...]) -> None:
    faulthandler.enable()
    try:
        conn.send((True, func(*args)))
    except BaseException:  # the child's failure, reported to the parent as text
        conn.send((False, traceback.format_exc()))
    finally:
        conn.close()


def in_child(func: Callable[..., T], *args: Any) -> T:
    """``func(*args)`` in a fresh spawned process: its value; a RuntimeError with the
    child's traceback when it raised; :class:`ChildDied` when it died without answering.
    ``func`` must be importable by name (a module-level function), and the caller's main
    script must run its work under ``if __name__ == "__main__"``: the child imports it."""
    ctx = mp.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_answer, args=(send, func, args), daemon=True)
    proc.start()
    send.close()  # the child holds the only writer: EOF when it dies
    try:
        ok, value = receive.recv()
    except EOFError:
        proc.join()
        raise ChildDied(proc.exitcode) from None
    finally:
        receive.close()
    proc.join()
    if not ok:
        raise RuntimeError(f"child process failed:\n{value}")
    return value


def train_matrix(graph: Any, targets: tuple[str, ...] = ()) -> sp.csr_matrix:
    """Users x products: log(1 + summed event weights) (with the post tier among
    ``targets``, of the engagements with posts naming the product too), float32."""
    from kg.interactions import training_matrix

    x = training_matrix(graph, targets)
    x.data = np.log1p(x.data)
    return x.astype(np.float32).tocsr()


def validation_cut(x: sp.csr_matrix, seed: int = 0) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Random 20% (at least one) of each user's train items, for users with >= 3."""
    rng = np.random.default_rng(seed)
    held = np.zeros(x.nnz, bool)
    for u in range(x.shape[0]):
        lo, hi = x.indptr[u], x.indptr[u + 1]
        if hi - lo >= 3:
            held[lo + rng.choice(hi - lo, max(1, math.ceil((hi - lo) / 5)), replace=False)] = True
    coo = x.tocoo()
    keep = sp.csr_matrix((coo.data[~held], (coo.row[~held], coo.col[~held])), shape=x.shape)
    val = sp.csr_matrix((np.ones(held.sum()), (coo.row[held], coo.col[held])), shape=x.shape)
    return keep.astype(np.float32), val


#: dense scores a block of users may hold (float64 cells): 2**23 is 64 MB whatever the
#: catalogue. The whole users x products matrix at once was what killed the peers' children
#: on Amazon Beauty (22k users x 12k products, 2.1 GB a copy, a few copies per peer: SIGKILL)
BLOCK_CELLS = 2**23

Scorer = Callable[[np.ndarray], np.ndarray]


def top_of(scores: np.ndarray, seen: sp.csr_matrix, users: np.ndarray,
           allowed: np.ndarray) -> np.ndarray:
    """Each row's top ``K`` allowed products that ``seen`` lacks for its user."""
    from cf.base import top_k

    s = np.array(scores, np.float64)
    s[:, ~allowed] = -np.inf
    s[seen[users].nonzero()] = -np.inf
    return top_k(s, K)[0]


def ranked(score: Scorer, seen: sp.csr_matrix, users: np.ndarray, allowed: np.ndarray
           ) -> np.ndarray:
    """:func:`top_of` for ``users``, scored a block of rows at a time (:data:`BLOCK_CELLS`):
    memory grows with the catalogue, not users x products."""
    step = max(1, BLOCK_CELLS // max(seen.shape[1], 1))
    blocks = [top_of(score(users[lo:lo + step]), seen, users[lo:lo + step], allowed)
              for lo in range(0, len(users), step)]
    return np.vstack(blocks) if blocks else np.zeros((0, min(K, seen.shape[1])), np.int64)


def peer_scorer(name: str, params: dict[str, Any], x: sp.csr_matrix) -> Scorer:
    """A peer fitted on ``x``: a function giving the dense scores of a block of users."""
    if name == "popularity":
        pop = np.asarray((x > 0).sum(axis=0)).ravel().astype(np.float64)
        return lambda users: np.broadcast_to(pop, (len(users), x.shape[1]))
    if name == "EASE":
        return _ease_scorer(params["lam"], x)
    if name == "implicit ItemKNN":
        from implicit.nearest_neighbours import CosineRecommender

        knn = CosineRecommender(K=200)
        knn.fit(x, show_progress=False)
        return lambda users: (x[users] @ knn.similarity).toarray()
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    als = AlternatingLeastSquares(random_state=0, iterations=15, **params)
    with threadpool_limits(limits=1, user_api="blas"):
        als.fit(x, show_progress=False)
    return lambda users: als.user_factors[users] @ als.item_factors.T


def active_products(x: sp.csr_matrix) -> np.ndarray:
    """The products that have an interaction in ``x``."""
    return np.flatnonzero(x.getnnz(axis=0) > 0)


def _ease_scorer(lam: float, x: sp.csr_matrix) -> Scorer:
    """EASE fitted on the :func:`active_products` of ``x``: the others' Gram rows and
    columns are 0 off the diagonal, so their weights (and scores) are 0 anyway; a
    catalogue of which half is never touched costs an eighth of the full fit."""
    from cf.data import Interactions
    from cf.ease import EASE

    active = active_products(x)
    sub = x[:, active].tocsr()
    model = EASE(lam=lam, max_items=None).fit(
        Interactions(sub, np.arange(sub.shape[0]), np.arange(sub.shape[1])))

    def score(users: np.ndarray) -> np.ndarray:
        out = np.zeros((len(users), x.shape[1]))
        out[:, active] = model.score_rows(users)
        return out

    return score


def fit_peer(name: str, grid: list[dict[str, Any]], x: sp.csr_matrix, users: np.ndarray,
             allowed: np.ndarray, relevant: sp.csr_matrix) -> dict[str, Any]:
    """One peer's figures on the hold-out ``relevant`` of ``users``: its grid's best on a
    validation cut of ``x``, refitted on all of ``x`` (run by :func:`in_child`); ``per_user``:
    each user's NDCG@k, in the order of ``users`` (its mean is the figure's)."""
    from recommend.evaluate.holdout import ranking_figures
    from recommend.evaluate.metrics import ndcg_at_k, ndcg_per_user

    best = grid[0]
    if len(grid) > 1:
        inner, val = validation_cut(x)
        val_users = np.flatnonzero(np.diff(val.indptr))
        if len(val_users):
            values = [ndcg_at_k(ranked(peer_scorer(name, p, inner), inner, val_users, allowed),
                                val[val_users], K) for p in grid]
            best = grid[int(np.argmax(values))]
    began = time.perf_counter()
    recs = ranked(peer_scorer(name, best, x), x, users, allowed)
    return {**ranking_figures(recs, relevant[users], K), "params": best,
            "seconds": round(time.perf_counter() - began, 2),
            "per_user": ndcg_per_user(recs, relevant[users], K)}


#: EASE's most active products: its fit holds a dense n x n float64 Gram and n x n float32
#: weights, 4.8 GB at 20k (the build's own EASE stops at HybridConfig.ease_max_items)
EASE_BUDGET = 20_000


def peer_grids(n_items: int) -> dict[str, list[dict[str, Any]]]:
    """Each peer's hyper-parameter grid (EASE only up to :data:`EASE_BUDGET` active
    products)."""
    grids: dict[str, list[dict[str, Any]]] = {
        "implicit ItemKNN": [{}],
        "implicit ALS": [{"factors": f, "regularization": r, "alpha": a}
                         for f in (64,) for r in (0.1, 1.0, 10.0) for a in (1.0, 10.0)],
        "popularity": [{}],
    }
    if n_items <= EASE_BUDGET:
        grids["EASE"] = [{"lam": lam} for lam in (10.0, 50.0, 200.0, 1000.0)]
    return grids


def peers(train_graph: Any, relevant: sp.csr_matrix, users: np.ndarray,
          targets: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    """Each peer's figures (module doc; with its per-user NDCG@k, ``per_user``: an array, for
    :func:`bench.paired.compare`), its ``error`` when its child failed, or why it was
    ``skipped``; ``targets``: the hold-out's target relations (the post tier among them: the
    peers learn from it too, :func:`kg.interactions.training_matrix`)."""
    x = train_matrix(train_graph, targets)
    allowed = train_graph.described("product")
    n_active = len(active_products(x))
    grids = peer_grids(n_active)
    out: dict[str, dict[str, Any]] = {}
    if "EASE" not in grids:
        out["EASE"] = {"skipped": f"{n_active} products with interactions, above the "
                                  f"{EASE_BUDGET} of a dense fit's memory budget"}
    for name, grid in grids.items():
        try:
            out[name] = in_child(fit_peer, name, grid, x, users, allowed, relevant)
        except RuntimeError as exc:  # ChildDied included: the other peers still run
            print(f"    peer {name} failed: {exc}", flush=True)
            out[name] = {"error": [line for line in str(exc).splitlines() if line.strip()][-1]}
    return out
