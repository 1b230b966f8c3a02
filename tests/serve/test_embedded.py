"""A product write is embedded once, by the writer, before it is logged: a reader applying
the entry takes the vector from the state folder's cache and loads no model (each reader
used to import torch and load the model on the first new product: ~8 s of CPU each, so a
niced reader on a busy machine applied it ~50 s after the answer), nor imports torch to key
its lookups (the writer's recorded key: ~2 s of CPU and ~180 MB per reader before)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

import nlp.embed
from nlp.config import NlpConfig
from nlp.embed import Embedder, EmbeddingCache
from recommend.hybrid.config import HybridConfig
from recommend.hybrid.encoders import SentenceEncoder
from recommend.recommender import Recommender
from recommend.serve import served
from recommend.serve.embedded import EMBED_DIR, KEY_FILE, SharedEncoder, record_key
from recommend.serve.reader import ReaderState
from recommend.serve.state import ServedState

ENCODED: list[tuple[str, str]] = []  # (thread name, text) of every text a model encoded
ASKED: list[str] = []  # the thread of every nlp.embed.native_bf16 call (a torch import)
LOADED: list[str] = []  # the thread of every model load


class TinyModel:
    """A stand-in sentence model: deterministic unit rows of the index's width."""

    max_seq_length = 256

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def encode(self, texts, **kwargs):
        ENCODED.extend((threading.current_thread().name, t) for t in texts)
        rows = np.ones((len(texts), self.dim), dtype=np.float32)
        rows[:, 0] += [len(t) for t in texts]
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    def get_embedding_dimension(self) -> int:
        return self.dim


def tiny_encoder(dim: int, cache_dir: Path | None) -> SentenceEncoder:
    embedder = Embedder(NlpConfig(embed_bf16=False), model=TinyModel(dim), cache_dir=cache_dir)
    return SentenceEncoder(embedder=embedder, cache_dir=cache_dir)


@pytest.fixture
def tiny_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Embedders loading a tiny model of the small demo's width, and asking the CPU's
    bfloat16 support (a torch import) of a counter that says no."""
    dim = HybridConfig().content.lsa_dim

    def load(self: Embedder) -> TinyModel:
        if self.model_ is None:
            LOADED.append(threading.current_thread().name)
            self.model_ = TinyModel(dim)
        return self.model_

    monkeypatch.setattr(Embedder, "load", load)
    monkeypatch.setattr(nlp.embed, "native_bf16",
                        lambda: ASKED.append(threading.current_thread().name) or False)
    ENCODED.clear()
    ASKED.clear()
    LOADED.clear()


@pytest.fixture
def sentence_served(monkeypatch: pytest.MonkeyPatch, tiny_model: None) -> None:
    """Served models whose content encoder is a (tiny) sentence encoder, not the demo's LSA."""
    load = Recommender.load

    def loaded(folder, **kwargs):
        rec = load(folder, **kwargs)
        content = rec.model.components["content"]
        content.encoder = tiny_encoder(rec.model.config.content.lsa_dim, None)
        return rec

    monkeypatch.setattr(served.Recommender, "load", loaded)


def test_a_reader_applies_a_new_product_without_embedding_it(
        sentence_served: None, small_demo_artifact: Path, tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    writer = ServedState(small_demo_artifact, state_dir, defer_model=True)
    reader = ReaderState(small_demo_artifact, state_dir, tmp_path / "no-writer.sock", worker=1)
    try:
        title = "Stoneware Travel Mug"
        seq = writer.write("products", {"id": "fresh1", "title": title, "brand": "Hearthstone"}).seq
        assert seq is not None
        deadline = time.monotonic() + 30
        while reader.applied_seq < seq:
            assert time.monotonic() < deadline, "the reader did not apply the write"
            time.sleep(0.02)
        assert reader.rec.item_id("fresh1") in reader.rec.model.components["content"].index
        # one text encoded, by the writer (this thread) before it logged the write; the
        # reader's follower took its vector from the state folder's cache
        assert [name for name, _ in ENCODED] == [threading.current_thread().name]
        assert title in ENCODED[0][1] and (state_dir / EMBED_DIR).is_dir()
        # nor did it import torch to key its lookups: the writer asked, once, and recorded it
        assert [threading.current_thread().name] == ASKED
        assert (state_dir / EMBED_DIR / KEY_FILE).is_file()
    finally:
        reader.close()
        writer.close()


def test_a_reader_keys_by_the_writers_record_of_its_own_model_only(
        tiny_model: None, tmp_path: Path) -> None:
    config = HybridConfig()
    writer = SharedEncoder(config, tmp_path, writer=True)
    key = writer._load().model_id
    assert [threading.current_thread().name] == ASKED  # the writer asks torch, and records
    reader = SharedEncoder(config, tmp_path, writer=False)
    assert reader._load().model_id == key and len(ASKED) == 1  # keyed by the record
    record_key(tmp_path, "another-model", True)  # another model's record: not taken
    assert SharedEncoder(config, tmp_path, writer=False)._load().model_id == key
    assert len(ASKED) == 2
    (tmp_path / KEY_FILE).write_text("{not json")  # a damaged record: asked, not taken
    assert SharedEncoder(config, tmp_path, writer=False)._load().model_id == key
    assert len(ASKED) == 3


def test_a_snapshot_merges_the_embedding_shards_into_one_reading_back_the_same(
        sentence_served: None, small_demo_artifact: Path, tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    writer = ServedState(small_demo_artifact, state_dir, defer_model=True)
    reader = ReaderState(small_demo_artifact, state_dir, tmp_path / "no-writer.sock", worker=1)
    try:
        for n in range(12):  # one shard per write
            writer.write("products", {"id": f"mug{n}", "title": f"Stoneware mug {'x' * n}"})
        folder = next(p for p in (state_dir / EMBED_DIR).iterdir() if p.is_dir())
        assert len(list(folder.glob("shard-*.npz"))) == 12
        before = EmbeddingCache(folder)
        assert writer.snapshot()
        shards = list(folder.glob("shard-*.npz"))
        assert len(shards) == 1
        after = EmbeddingCache(folder)
        assert len(after) == len(before) == 12
        for key in before._rows:
            assert np.array_equal(after.get(key), before.get(key))
        # a reader following the log after the merge reads the merged shard: embeds nothing
        writer.write("products", {"id": "mug12", "title": "Stoneware mug " + "x" * 12})
        deadline = time.monotonic() + 30
        while reader.applied_seq < writer.applied_seq:
            assert time.monotonic() < deadline, "the reader did not apply the writes"
            time.sleep(0.02)
        assert {name for name, _ in ENCODED} == {threading.current_thread().name}
    finally:
        reader.close()
        writer.close()


def test_a_merge_keeps_shards_it_has_not_read_and_a_reader_finds_merged_rows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine, other = EmbeddingCache(tmp_path), EmbeddingCache(tmp_path)
    rows = np.eye(4, dtype=np.float32)
    mine.add(["a"], rows[:1])
    mine.add(["b"], rows[1:2])
    monkeypatch.setattr(mine, "refresh", lambda: 0)  # other's shard lands after mine's look
    other.add(["c"], rows[2:3])
    assert mine.compact() == 2  # its two merged; other's shard kept
    assert len(list(tmp_path.glob("shard-*.npz"))) == 2
    monkeypatch.undo()
    # a cache that listed the shards just before a merge removed them lists them again
    load, merged = np.load, []

    def merge_first(path, **kwargs):
        if not merged:  # between this cache's listing and its first read
            merged.append(None)
            merged.append(EmbeddingCache(tmp_path).compact())
        return load(path, **kwargs)

    monkeypatch.setattr(np, "load", merge_first)
    late = EmbeddingCache(tmp_path)
    assert merged == [None, 2] and len(list(tmp_path.glob("shard-*.npz"))) == 1
    assert sorted(late._rows) == ["a", "b", "c"]


@pytest.mark.parametrize("when", ["start", "write", "product"])
def test_the_writer_loads_the_sentence_model_ahead_when_told(
        sentence_served: None, small_demo_artifact: Path, tmp_path: Path, when: str) -> None:
    writer = ServedState(small_demo_artifact, tmp_path / "state", defer_model=True,
                         encoder_load=when)
    try:
        def loads() -> list[str]:
            if writer.loading is not None:
                writer.loading.join(30)
            return LOADED

        assert loads() == (["encoder-load"] if when == "start" else [])
        writer.write("events", {"user": "u0001", "target": "p0002", "kind": "view"})
        assert loads() == ([] if when == "product" else ["encoder-load"])
        writer.write("products", {"id": "ahead1", "title": "Stoneware Travel Mug"})
        main = threading.current_thread().name
        assert loads() == ([main] if when == "product" else ["encoder-load"])  # loaded once
        assert [t for _, t in ENCODED if t != "warm up"] == [ENCODED[-1][1]]
        assert "Stoneware Travel Mug" in ENCODED[-1][1] and ENCODED[-1][0] == main
    finally:
        writer.close()
    with pytest.raises(ValueError, match="encoder_load 'soon': one of start, write, product"):
        ServedState(small_demo_artifact, tmp_path / "other", encoder_load="soon")
