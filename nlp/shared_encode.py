"""One list of texts embedded by several threads at once, each taking the next chunk.

The build embeds its catalogue on a background thread while spaCy parses on the main one
(:meth:`recommend.hybrid.encoders.SentenceEncoder.prefetch`). When the main thread needs the
vectors before they are all made, it takes chunks too (:meth:`ChunkedWork.help`) instead of
waiting on one thread. The texts are chunked longest first, as sentence-transformers orders
a call's batches, so a chunk's batches pad as little as one call's would; a text's vector does
not depend on the texts embedded with it (checked: the same bytes in one call and in chunks of
100, 128, 256 and 333, all-MiniLM-L6-v2, bfloat16).

Each thread runs torch on threads of its own (:func:`torch_threads`; ``torch.set_num_threads``
holds for the calling thread only). On two busy cores, one call on two OpenMP threads spent
2.7x the CPU of one thread for the same bytes (27.4 s and 10.2 s for 1,000 size-world product
texts, load 12): its threads spin at every barrier while the other waits for a core.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence

import numpy as np

#: Texts per chunk: a helper that joins late waits at most one chunk of the other thread.
CHUNK = 256


def spare_cores() -> int:
    """The cores this process may use, less one for the main thread (at least one)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """torch's intra-op threads at ``n`` for the calling thread meanwhile (restored after)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def settle_torch_threads() -> int:
    """Fix the calling thread's torch threads now, at what they would be (returned).

    torch sets a thread's OpenMP thread count when that thread first runs torch, to what
    ``set_num_threads`` last stored from any thread. A thread that first ran torch while a
    background embedding held its own count (one thread) kept that count, and so did FAISS
    in that thread (its ``omp_*`` calls resolve to torch's OpenMP once torch is loaded):
    the build's content neighbours were searched on one thread, not two, and their float32
    similarities differed in the last bit. Called before such a thread starts, it cannot.
    """
    import torch

    return torch.get_num_threads()


class ChunkedWork:
    """Chunks of one :meth:`run` that any thread calling :meth:`help` takes a share of.

    ``taken_`` counts the texts each thread (by name) embedded.
    """

    def __init__(self, chunk: int = CHUNK) -> None:
        if chunk < 1:
            raise ValueError(f"chunk must be at least 1, got {chunk}")
        self.chunk = chunk
        self.taken_: dict[str, int] = {}
        self._cond = threading.Condition()
        self._chunks: list[list[str]] = []
        self._rows: list[np.ndarray | None] = []
        self._next = 0
        self._busy = 0
        self._encode: Callable[[list[str]], np.ndarray] | None = None
        self._error: BaseException | None = None

    def run(self, texts: Sequence[str], encode: Callable[[list[str]], np.ndarray]
            ) -> np.ndarray:
        """``encode`` of every text, chunk by chunk on this thread and on helpers: one row
        per text, in the order given (a helper's failure is raised here)."""
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # stable
        with self._cond:
            if self._encode is not None:
                raise RuntimeError("a chunked run is already in progress")
            self._chunks = [[texts[i] for i in order[s:s + self.chunk]]
                            for s in range(0, len(order), self.chunk)]
            self._rows, self._next, self._error = [None] * len(self._chunks), 0, None
            self._encode = encode
        try:
            self._take()
        finally:
            with self._cond:  # no chunk is handed out after this; wait for those in flight
                self._next = len(self._chunks)
                self._cond.wait_for(lambda: self._busy == 0)
                self._encode = None
        if self._error is not None:
            raise self._error
        rows, self._rows, self._chunks = self._rows, [], []
        if not rows:
            return np.zeros((0, 0), np.float32)
        stacked = np.concatenate(rows)  # type: ignore[arg-type]
        out = np.empty_like(stacked)
        out[np.asarray(order, np.int64)] = stacked
        return out

    def help(self) -> None:
        """Embed chunks of the run in progress, if any, until none is left; a failure is
        kept for :meth:`run` to raise."""
        with contextlib.suppress(Exception):
            self._take()

    def pending(self) -> bool:
        """Whether a run has chunks no thread has taken yet."""
        with self._cond:
            return self._encode is not None and self._next < len(self._chunks)

    def _take(self) -> None:
        name = threading.current_thread().name
        while True:
            with self._cond:
                encode = self._encode
                if encode is None or self._next >= len(self._chunks) or self._error:
                    return
                k, self._next, self._busy = self._next, self._next + 1, self._busy + 1
            try:
                self._rows[k] = encode(self._chunks[k])
                with self._cond:
                    self.taken_[name] = self.taken_.get(name, 0) + len(self._chunks[k])
            except BaseException as err:
                with self._cond:
                    self._error = self._error or err
                raise
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()
