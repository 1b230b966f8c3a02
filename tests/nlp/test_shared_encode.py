"""ChunkedWork (nlp.shared_encode): one list of texts embedded by several threads."""

from __future__ import annotations

import hashlib
import threading
import time

import numpy as np
import pytest

from nlp.embed import Embedder
from nlp.shared_encode import ChunkedWork, spare_cores, torch_threads


def rows(texts):
    out = np.asarray([np.frombuffer(hashlib.sha256(t.encode()).digest(), np.uint8)[:4]
                      for t in texts], np.float32)
    return out + 1.0


def slow_rows(texts):
    time.sleep(0.01)
    return rows(texts)


def test_rows_come_back_in_the_order_given_whoever_embedded_them():
    texts = [f"text {'x' * (i % 7)} {i}" for i in range(50)]
    work = ChunkedWork(chunk=4)
    helper = threading.Thread(target=lambda: (time.sleep(0.02), work.help()), name="helper")
    helper.start()
    got = work.run(texts, slow_rows)
    helper.join()
    np.testing.assert_array_equal(got, rows(texts))
    assert work.taken_.get("helper", 0) > 0 and sum(work.taken_.values()) == 50
    assert not work.pending()


def test_a_helpers_failure_is_raised_by_the_run_and_a_help_without_a_run_does_nothing():
    work = ChunkedWork(chunk=2)
    work.help()
    assert work.taken_ == {}

    def encode(chunk):
        if threading.current_thread().name == "helper":
            raise RuntimeError("helper broke")
        time.sleep(0.02)
        return rows(chunk)

    helper = threading.Thread(target=lambda: (time.sleep(0.005), work.help()), name="helper")
    helper.start()
    with pytest.raises(RuntimeError, match="helper broke"):
        work.run([str(i) for i in range(20)], encode)
    helper.join()
    with pytest.raises(ValueError, match="chunk"):
        ChunkedWork(chunk=0)


class CappedModel:
    """A stand-in sentence model with a word-piece limit that records the limit it read at."""

    def __init__(self) -> None:
        self.max_seq_length = 256
        self.read_at: set[int] = set()

    def encode(self, texts, **kwargs):
        self.read_at.add(self.max_seq_length)
        time.sleep(0.005)
        out = rows(texts)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_the_embedders_chunked_rows_equal_its_plain_ones_and_keep_the_cap_throughout():
    from nlp.config import NlpConfig

    texts = [f"product {i} " * (1 + i % 5) for i in range(40)]
    model = CappedModel()
    embedder = Embedder(NlpConfig(embed_max_tokens=64), model=model)
    want = embedder.embed(texts)
    work = ChunkedWork(chunk=3)
    helpers = [threading.Thread(target=lambda: (time.sleep(0.01), work.help()), name=f"h{i}")
               for i in range(2)]
    for h in helpers:
        h.start()
    got = embedder.embed(texts, work=work)
    for h in helpers:
        h.join()
    np.testing.assert_array_equal(got, want)
    assert model.read_at == {64} and model.max_seq_length == 256
    assert len(work.taken_) >= 2


def test_torch_threads_hold_for_the_calling_thread_only():
    import torch

    before, seen = torch.get_num_threads(), {}

    def inside():
        with torch_threads(1):
            seen["in"] = torch.get_num_threads()
        seen["after"] = torch.get_num_threads()

    t = threading.Thread(target=inside)
    t.start()
    t.join()
    assert seen["in"] == 1 and seen["after"] == before
    assert torch.get_num_threads() == before
    assert spare_cores() >= 1
