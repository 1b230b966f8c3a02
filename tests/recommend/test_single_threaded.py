"""A request's BLAS runs on one thread (:func:`recommend.recommender.single_threaded`), and
the thread count is given back on return, also after an error."""

from __future__ import annotations

import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from recommend.recommender import single_threaded


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_blas_runs_on_one_thread_inside_and_as_before_after() -> None:
    if not _blas_threads():
        pytest.skip("no BLAS library loaded")
    seen: list[list[int]] = []

    @single_threaded
    def work(x: int) -> int:
        seen.append(_blas_threads())
        if x < 0:
            raise ValueError("bad")
        return 2 * x

    with threadpool_limits(limits=2, user_api="blas"):
        before = _blas_threads()
        assert work(3) == 6
        assert _blas_threads() == before
        with pytest.raises(ValueError, match="bad"):
            work(-1)
        assert _blas_threads() == before
    assert seen == [[1] * len(before)] * 2
