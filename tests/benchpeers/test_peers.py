"""bench/peers.py: each peer in a child process; a child's crash is a peer's error."""

from __future__ import annotations

import ctypes
import operator
import signal

import numpy as np
import pytest
import scipy.sparse as sp

from bench.peers import ChildDied, fit_peer, in_child, peers


def test_child_returns_the_value() -> None:
    assert in_child(operator.add, 2, 3) == 5


def test_child_exception_is_a_runtime_error_with_its_traceback() -> None:
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        in_child(operator.truediv, 1, 0)


def test_child_crash_is_reported_not_fatal() -> None:
    with pytest.raises(ChildDied, match=f"signal {signal.SIGSEGV.value}") as caught:
        in_child(ctypes.string_at, 0)  # reads address 0: SIGSEGV in the child
    assert caught.value.exitcode == -signal.SIGSEGV


def _toy() -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, sp.csr_matrix]:
    rng = np.random.default_rng(0)
    x = sp.random(40, 30, density=0.2, format="csr", random_state=1, dtype=np.float32)
    users = np.arange(40)
    allowed = np.ones(30, bool)
    allowed[-3:] = False
    relevant = sp.csr_matrix((np.ones(40), (users, rng.integers(0, 27, 40))), shape=(40, 30))
    return x, users, allowed, relevant


@pytest.mark.parametrize("name", ["popularity", "EASE"])
def test_peer_in_child_equals_in_process(name: str) -> None:
    x, users, allowed, relevant = _toy()
    grid = [{}] if name == "popularity" else [{"lam": 1.0}, {"lam": 50.0}]
    here = fit_peer(name, grid, x, users, allowed, relevant)
    there = in_child(fit_peer, name, grid, x, users, allowed, relevant)
    here.pop("seconds"), there.pop("seconds")
    np.testing.assert_array_equal(here.pop("per_user"), there.pop("per_user"))
    assert here == there
    assert 0.0 <= here["NDCG@10"] <= 1.0


def test_a_peers_per_user_ndcg_averages_to_its_figure() -> None:
    x, users, allowed, relevant = _toy()
    out = fit_peer("popularity", [{}], x, users, allowed, relevant)
    assert out["per_user"].shape == (len(users),)
    assert float(out["per_user"].mean()) == out["NDCG@10"]


def test_popularity_peer_ranks_the_most_seen_unseen_allowed() -> None:
    x = sp.csr_matrix(np.array([[1, 1, 0, 1], [1, 0, 0, 1], [0, 0, 1, 1]], np.float32))
    relevant = sp.csr_matrix(np.array([[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0]], float))
    allowed = np.array([True, True, True, False])
    out = fit_peer("popularity", [{}], x, np.arange(3), allowed, relevant)
    assert out["HR@10"] == 1.0  # each user's only unseen allowed product is their held-out one


class _Graph:
    """The two things :func:`peers` asks of a training graph."""

    def __init__(self, x: sp.csr_matrix) -> None:
        self.x = x

    def described(self, node_type: str) -> np.ndarray:
        return np.ones(self.x.shape[1], bool)


def test_peers_report_a_failing_peer_and_run_the_others(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    import bench.peers as module

    x, users, _, relevant = _toy()
    monkeypatch.setattr(module, "train_matrix", lambda g, _targets: g.x)
    monkeypatch.setattr(module, "peer_grids", lambda n: {
        "popularity": [{}], "EASE": [{"lam": -1e9}]})  # a negative-definite Gram: no fit
    out = peers(_Graph(x), relevant, users)
    assert "NDCG@10" in out["popularity"]
    assert set(out["EASE"]) == {"error"} and out["EASE"]["error"]  # its last line


def test_ease_on_the_active_products_scores_as_on_all() -> None:
    from bench.peers import peer_scorer
    from cf.data import Interactions
    from cf.ease import EASE

    x, users, _, _ = _toy()
    x = x.tolil()
    x[:, [2, 7, 11]] = 0  # products nobody touched
    x = x.tocsr()
    x.eliminate_zeros()
    full = EASE(lam=5.0, max_items=None).fit(
        Interactions(x, np.arange(x.shape[0]), np.arange(x.shape[1]))).score_rows(users)
    np.testing.assert_allclose(peer_scorer("EASE", {"lam": 5.0}, x)(users), full, atol=1e-5)


@pytest.mark.parametrize("name", ["popularity", "EASE", "implicit ItemKNN"])
def test_ranking_in_blocks_of_users_equals_all_at_once(name: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import bench.peers as module

    if name.startswith("implicit"):
        pytest.importorskip("implicit", reason="implicit (bench peer) absent")
    x, users, allowed, _ = _toy()
    score = module.peer_scorer(name, {"lam": 5.0} if name == "EASE" else {}, x)
    whole = module.top_of(score(users), x, users, allowed)
    monkeypatch.setattr(module, "BLOCK_CELLS", 7 * x.shape[1])  # 7 users a block
    np.testing.assert_array_equal(module.ranked(score, x, users, allowed), whole)


def test_a_catalogue_above_the_ease_budget_skips_ease_and_says_why(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import bench.peers as module

    x, users, _, relevant = _toy()
    monkeypatch.setattr(module, "train_matrix", lambda g, _targets: g.x)
    monkeypatch.setattr(module, "EASE_BUDGET", 5)
    assert "EASE" not in module.peer_grids(6) and "EASE" in module.peer_grids(5)
    monkeypatch.setattr(module, "peer_grids", lambda n: {"popularity": [{}]}
                        if n > module.EASE_BUDGET else {})
    out = peers(_Graph(x), relevant, users)
    assert "30 products with interactions, above the 5" in out["EASE"]["skipped"]
    assert "NDCG@10" in out["popularity"]
